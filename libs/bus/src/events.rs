//! Events: one JetStream stream per producing service capturing only its
//! `<prefix>.<service>.evt.>` subjects, messages in an `EventEnvelope`.

use anyhow::Context;
use async_nats::jetstream::stream;
use pd_proto::common::v1::EventEnvelope;
use prost::Message;
use std::time::Duration;
use uuid::Uuid;

use crate::Bus;

impl Bus {
    /// Creates the stream of `service` if missing (idempotent).
    pub async fn ensure_stream(&self, service: &str) -> anyhow::Result<()> {
        let name = self.stream_name(service);
        let subjects = vec![format!(
            "{}.{service}.evt.>",
            self.settings().subject_prefix
        )];
        self.ensure_stream_named(&name, subjects).await
    }

    /// The stream that keeps dead letters of every consumer.
    pub async fn ensure_dead_letter_stream(&self) -> anyhow::Result<()> {
        let name = format!("{}_DLQ", self.settings().stream_prefix);
        let subjects = vec![format!("{}.dlq.>", self.settings().subject_prefix)];
        self.ensure_stream_named(&name, subjects).await
    }

    async fn ensure_stream_named(&self, name: &str, subjects: Vec<String>) -> anyhow::Result<()> {
        self.jetstream()
            .get_or_create_stream(stream::Config {
                name: name.to_owned(),
                subjects,
                duplicate_window: Duration::from_secs(self.settings().duplicate_window_secs),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("creating JetStream stream {name}"))?;
        Ok(())
    }
}

/// Wraps an event message in its envelope with a fresh UUIDv7 id.
pub fn envelope<M: Message>(
    event_type: &str,
    aggregate_id: &str,
    actor: &str,
    payload: &M,
) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        event_type: event_type.to_owned(),
        occurred_at: chrono::Utc::now().to_rfc3339(),
        actor: actor.to_owned(),
        traceparent: pd_runtime::telemetry::current_traceparent().unwrap_or_default(),
        aggregate_id: aggregate_id.to_owned(),
        payload: payload.encode_to_vec(),
        // Set by the outbox, which holds the aggregate's counter.
        version: 0,
    }
}
