//! Idempotent durable consumers. A consumer named after the consuming
//! service reads one producer's stream (one `filter_subject`: NATS 2.9
//! ignores plural filters), acks explicitly, records each processed event
//! id in its own database in the same transaction as the effect, and sends
//! what can never be processed to a dead-letter subject.

use async_nats::jetstream::{AckKind, consumer::pull};
use futures::StreamExt;
use futures::future::BoxFuture;
use pd_proto::common::v1::EventEnvelope;
use pd_runtime::Shutdown;
use pd_runtime::metrics::{ConsumerLabels, ServiceLabels, metrics};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use crate::{Bus, headers};

/// A received event.
#[derive(Debug, Clone)]
pub struct Event {
    pub subject: String,
    pub event_id: Uuid,
    pub envelope: EventEnvelope,
}

impl Event {
    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }

    pub fn decode<M: Message + Default>(&self) -> Result<M, HandleError> {
        M::decode(self.envelope.payload.as_slice())
            .map_err(|e| HandleError::Reject(format!("undecodable {}: {e}", self.event_type())))
    }
}

#[derive(Debug)]
pub enum HandleError {
    /// Worth another try later (database busy, ...).
    Retry(String),
    /// Will never succeed: goes to the dead-letter subject.
    Reject(String),
}

impl From<sqlx::Error> for HandleError {
    fn from(e: sqlx::Error) -> Self {
        HandleError::Retry(e.to_string())
    }
}

/// Applies one event inside the consumer's transaction.
pub type EventHandler = Arc<
    dyn for<'c> Fn(&'c mut PgConnection, Event) -> BoxFuture<'c, Result<(), HandleError>>
        + Send
        + Sync,
>;

pub struct Consumer {
    pub bus: Bus,
    pub pool: PgPool,
    /// The consuming service; also the durable name.
    pub consumer: &'static str,
    /// The producing service whose stream is read.
    pub source: &'static str,
    pub handler: EventHandler,
}

/// What happened to one delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    Retried,
    DeadLettered,
}

impl Consumer {
    /// Starts consuming; the task ends at `shutdown`.
    pub async fn start(self, shutdown: Shutdown) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        self.bus.ensure_stream(self.source).await?;
        self.bus.ensure_dead_letter_stream().await?;
        let stream = self
            .bus
            .jetstream()
            .get_stream(self.bus.stream_name(self.source))
            .await
            .map_err(|e| anyhow::anyhow!("stream of {}: {e}", self.source))?;
        let consumer: async_nats::jetstream::consumer::Consumer<pull::Config> = stream
            .get_or_create_consumer(
                self.consumer,
                pull::Config {
                    durable_name: Some(self.consumer.to_owned()),
                    filter_subject: format!(
                        "{}.{}.evt.>",
                        self.bus.settings().subject_prefix,
                        self.source
                    ),
                    ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    max_deliver: self.bus.settings().max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("consumer {} on {}: {e}", self.consumer, self.source))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("consuming {}: {e}", self.source))?;
        let mut watched = consumer.clone();
        Ok(tokio::spawn(async move {
            // Deliveries report the lag as they come; while nothing comes,
            // the consumer's own figure keeps the gauge current.
            let mut lag_tick = tokio::time::interval(Duration::from_secs(15));
            loop {
                let next = tokio::select! {
                    m = messages.next() => m,
                    _ = lag_tick.tick() => {
                        if let Ok(info) = watched.info().await {
                            self.report_lag(info.num_pending);
                        }
                        continue;
                    }
                    _ = shutdown.cancelled() => break,
                };
                match next {
                    Some(Ok(msg)) => {
                        self.process(msg).await;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(consumer = self.consumer, error = %e, "consumer stream error");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    None => break,
                }
            }
        }))
    }

    fn report_lag(&self, pending: u64) {
        metrics()
            .consumer_lag
            .get_or_create(&ConsumerLabels {
                consumer: self.consumer.to_owned(),
                source: self.source.to_owned(),
            })
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// Handles one delivery and acks, naks or dead-letters it.
    pub async fn process(&self, msg: async_nats::jetstream::Message) -> Outcome {
        let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
        // Every delivery says how many events of the stream still wait.
        if let Ok(info) = msg.info() {
            self.report_lag(info.pending);
        }
        let outcome = match self.apply(&msg).await {
            Ok(true) => Outcome::Applied,
            Ok(false) => Outcome::Duplicate,
            Err(HandleError::Retry(why)) if delivered < self.bus.settings().max_deliver => {
                tracing::warn!(consumer = self.consumer, %why, delivered, "event will be retried");
                let backoff = Duration::from_millis(200 * delivered.max(1) as u64);
                if let Err(e) = msg.ack_with(AckKind::Nak(Some(backoff))).await {
                    tracing::warn!(error = %e, "nak failed");
                }
                return Outcome::Retried;
            }
            Err(HandleError::Retry(why)) | Err(HandleError::Reject(why)) => {
                self.dead_letter(&msg, &why).await;
                if let Err(e) = msg.ack_with(AckKind::Term).await {
                    tracing::warn!(error = %e, "term failed");
                }
                return Outcome::DeadLettered;
            }
        };
        if let Err(e) = msg.ack().await {
            // Not acked: it comes back and is recognised as a duplicate.
            tracing::warn!(error = %e, "ack failed");
        }
        if outcome == Outcome::Applied {
            metrics()
                .events_consumed
                .get_or_create(&ServiceLabels {
                    service: self.consumer.to_owned(),
                })
                .inc();
        }
        outcome
    }

    /// `Ok(false)` when the event was processed before.
    async fn apply(&self, msg: &async_nats::jetstream::Message) -> Result<bool, HandleError> {
        let envelope = EventEnvelope::decode(msg.payload.clone())
            .map_err(|e| HandleError::Reject(format!("undecodable envelope: {e}")))?;
        let event_id = Uuid::parse_str(&envelope.event_id)
            .map_err(|e| HandleError::Reject(format!("bad event id: {e}")))?;
        let event = Event {
            subject: msg.subject.to_string(),
            event_id,
            envelope,
        };
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(self.consumer)
        .bind(event_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Ok(false);
        }
        (self.handler)(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn dead_letter(&self, msg: &async_nats::jetstream::Message, why: &str) {
        tracing::error!(consumer = self.consumer, subject = %msg.subject, %why, "event dead-lettered");
        metrics()
            .events_dead_lettered
            .get_or_create(&ServiceLabels {
                service: self.consumer.to_owned(),
            })
            .inc();
        let mut h = async_nats::HeaderMap::new();
        h.insert(headers::DEAD_LETTER_REASON, why);
        h.insert("Pd-Original-Subject", msg.subject.as_str());
        let subject = self.bus.dead_letter_subject(self.consumer, self.source);
        match self
            .bus
            .jetstream()
            .publish_with_headers(subject, h, msg.payload.clone())
            .await
        {
            Ok(ack) => {
                if let Err(e) = ack.await {
                    tracing::error!(error = %e, "dead letter not stored");
                }
            }
            Err(e) => tracing::error!(error = %e, "dead letter not published"),
        }
    }
}
