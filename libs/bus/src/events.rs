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
        let days = self.settings().event_retention_days;
        self.ensure_stream_named(&name, subjects, days).await
    }

    /// The stream that keeps dead letters of every consumer.
    pub async fn ensure_dead_letter_stream(&self) -> anyhow::Result<()> {
        let name = format!("{}_DLQ", self.settings().stream_prefix);
        let subjects = vec![format!("{}.dlq.>", self.settings().subject_prefix)];
        let days = self.settings().dead_letter_retention_days;
        self.ensure_stream_named(&name, subjects, days).await
    }

    /// Creates the stream, or brings an existing one's retention up to
    /// the settings (events carry personal data: they are not kept for
    /// ever, 152-FZ).
    async fn ensure_stream_named(
        &self,
        name: &str,
        subjects: Vec<String>,
        retention_days: u64,
    ) -> anyhow::Result<()> {
        let config = stream::Config {
            name: name.to_owned(),
            subjects,
            duplicate_window: Duration::from_secs(self.settings().duplicate_window_secs),
            max_age: Duration::from_secs(retention_days * 86_400),
            storage: stream::StorageType::File,
            ..Default::default()
        };
        let mut stream = self
            .jetstream()
            .get_or_create_stream(config.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("creating JetStream stream {name}"))?;
        let current = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("reading JetStream stream {name}"))?
            .config
            .max_age;
        if current != config.max_age {
            self.jetstream()
                .update_stream(config)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("setting the retention of {name}"))?;
        }
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
