//! Providers with NATS credentials push completions to
//! `<prefix>.ext.provider.<provider_id>.completion` (DESIGN.md, "External").
//! Their credentials allow that one subject, so the subject proves who
//! sent it: the batch is handled as a request of that provider. The body
//! is the webhook's JSON; a request gets a JSON answer: `{"status": 200,
//! "result": …}`, or the problem (`status`, `detail`, `errors` naming each
//! learner) when the batch is refused.

use futures::StreamExt;
use pd_bus::{Bus, RpcContext};
use pd_domain::{AppError, Grant, Principal, Role};
use pd_proto::monitoring::v1 as pb;
use pd_runtime::Shutdown;
use serde_json::json;
use uuid::Uuid;

use crate::messages as msg;
use crate::{State, completions};

/// Completion batches from providers' subjects handled at once.
const IN_FLIGHT: usize = 8;

/// Subscribes (queue group `monitoring`, so instances share the work).
pub(crate) async fn serve(
    state: State,
    bus: Bus,
    shutdown: Shutdown,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let subject = bus.provider_completion_subject("*");
    let mut sub = bus
        .client()
        .queue_subscribe(subject, crate::SERVICE.to_owned())
        .await?;
    // Batches handled at once: beyond, messages wait in the subscription
    // (and a provider's request times out) instead of taking every
    // database connection.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    Ok(tokio::spawn(async move {
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let msg = tokio::select! {
                _ = shutdown.cancelled() => break,
                m = sub.next() => match m { Some(m) => m, None => break },
            };
            let s = state.clone();
            let client = bus.client().clone();
            tokio::spawn(async move {
                let _slot = slot;
                let answer = handle(s, &msg.subject, &msg.payload).await;
                if let Some(reply) = msg.reply {
                    let body = serde_json::to_vec(&answer).unwrap_or_default();
                    if let Err(e) = client.publish(reply, body.into()).await {
                        tracing::warn!(error = %e, "answering a provider's completions");
                    }
                }
            });
        }
        let _ = sub.unsubscribe().await;
    }))
}

/// The provider named by the subject's `<provider_id>` token.
fn provider(subject: &str) -> Option<Uuid> {
    let parts: Vec<&str> = subject.split('.').collect();
    let n = parts.len();
    (n >= 4 && parts[n - 1] == "completion" && parts[n - 3] == "provider")
        .then(|| Uuid::parse_str(parts[n - 2]).ok())
        .flatten()
}

async fn handle(state: State, subject: &str, payload: &[u8]) -> serde_json::Value {
    match run(state, subject, payload).await {
        Ok(result) => json!({"status": 200, "result": result}),
        Err(e) => json!({
            "status": e.kind.http_status(),
            "detail": e.detail,
            "errors": e.fields,
        }),
    }
}

async fn run(
    state: State,
    subject: &str,
    payload: &[u8],
) -> Result<pb::CompletionBatchResult, AppError> {
    let Some(provider) = provider(subject) else {
        return Err(AppError::not_found(msg::PROVIDER_NOT_FOUND));
    };
    let mut batch: pb::CompletionBatch = serde_json::from_slice(payload)
        .map_err(|e| AppError::bad_request(format!("{}: {e}", msg::JSON_INVALID)))?;
    if !batch.provider_id.is_empty() && batch.provider_id != provider.to_string() {
        return Err(AppError::forbidden(msg::PROVIDER_MISMATCH));
    }
    batch.provider_id = provider.to_string();
    let principal = Principal {
        user_id: provider,
        login: format!("nats-provider:{provider}"),
        grants: vec![Grant {
            role: Role::ProviderAdmin,
            scope: Some(provider),
            region: None,
        }],
    };
    let ctx = RpcContext::internal(principal, Uuid::now_v7().to_string());
    completions::push(state, ctx, batch).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_names_the_provider() {
        let id = Uuid::now_v7();
        assert_eq!(
            provider(&format!("pd.ext.provider.{id}.completion")),
            Some(id)
        );
        assert_eq!(provider(&format!("t1.ext.provider.{id}.other")), None);
        assert_eq!(provider("pd.ext.provider.x.completion"), None);
    }
}
