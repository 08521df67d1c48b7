//! Revoked sessions: identity publishes `sessions_revoked` when an account
//! is deactivated, loses a grant or has its password changed or reset.
//! Every process that verifies access tokens follows these events into its
//! verifier's [`Revocations`](pd_runtime::tokens::Revocations), so the
//! account's tokens stop working at once rather than at expiry.
//!
//! An ordered ephemeral consumer per process reads from "now minus the
//! access-token lifetime": older revocations concern only expired tokens.

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use pd_proto::common::v1::EventEnvelope;
use pd_proto::identity::v1::SessionsRevoked;
use pd_runtime::Shutdown;
use prost::Message;
use std::time::Duration;
use uuid::Uuid;

use crate::Bus;

/// The event identity publishes; its subject is `<prefix>.identity.evt.sessions_revoked.v1`.
pub const EVENT: &str = "sessions_revoked";

impl Bus {
    /// Applies one revocation to this process's verifier.
    pub fn apply_session_revocation(&self, ev: &SessionsRevoked) {
        if let Ok(user) = Uuid::parse_str(&ev.user_id) {
            self.verifier().revocations().revoke(user, ev.not_before_ms);
        }
    }

    /// Follows identity's revocations until `shutdown`; returns once the
    /// consumer exists, so tokens revoked before are already refused.
    pub async fn follow_session_revocations(
        &self,
        shutdown: Shutdown,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        self.ensure_stream("identity").await?;
        let stream = self
            .jetstream()
            .get_stream(self.stream_name("identity"))
            .await
            .map_err(|e| anyhow::anyhow!("identity stream: {e}"))?;
        let ttl = self.verifier().access_ttl_secs().max(1);
        let start = chrono::Utc::now() - chrono::Duration::seconds(ttl + 60);
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: self.event_subject("identity", EVENT),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("revocation consumer: {e}"))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("revocation messages: {e}"))?;
        let bus = self.clone();
        Ok(tokio::spawn(async move {
            let mut prune = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = prune.tick() => {
                        let horizon = chrono::Utc::now().timestamp_millis() - (ttl + 60) * 1000;
                        bus.verifier().revocations().prune(horizon);
                    }
                    m = messages.next() => match m {
                        Some(Ok(msg)) => {
                            let ev = EventEnvelope::decode(msg.payload.clone())
                                .ok()
                                .and_then(|env| SessionsRevoked::decode(env.payload.as_slice()).ok());
                            match ev {
                                Some(ev) => bus.apply_session_revocation(&ev),
                                None => tracing::warn!(subject = %msg.subject, "undecodable sessions_revoked event"),
                            }
                        }
                        // The ordered consumer recreates itself after gaps;
                        // an error here is logged and reading goes on.
                        Some(Err(e)) => tracing::warn!(error = %e, "reading session revocations"),
                        None => break,
                    }
                }
            }
        }))
    }
}
