//! Idempotent durable consumers. A consumer named after the consuming
//! service reads one producer's stream (one `filter_subject`: NATS 2.9
//! ignores plural filters), acks explicitly, records each processed event
//! id in its own database in the same transaction as the effect, and sends
//! what can never be processed to a dead-letter subject.
//!
//! Failures are retried with exponential backoff (1 s, 2 s, 4 s, ... up to
//! `retry_max_ms`), so a database restart of a few minutes costs latency,
//! not events. NATS itself never gives up on a message (`max_deliver =
//! -1`): after `max_deliver` attempts the consumer dead-letters it, and if
//! the dead-letter stream cannot take it either, the message is kept and
//! tried again. `pd admin dlq list|replay` reads and replays dead letters.

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
use tracing::Instrument;
use uuid::Uuid;

use crate::{Bus, headers};

/// Events handled in one transaction at most, when that many have arrived.
const BATCH: usize = 512;

/// A received event.
#[derive(Debug, Clone)]
pub struct Event {
    pub subject: String,
    pub event_id: Uuid,
    pub envelope: EventEnvelope,
    /// The consumer receiving it (the key of its applied versions).
    pub consumer: &'static str,
}

impl Event {
    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }

    /// Whose versions this event's are: the consumer, per source service.
    /// Two services may number events of the same id (the registry's
    /// group and enrollment's roster of that group): each counts apart.
    fn version_scope(&self) -> String {
        let parts: Vec<&str> = self.subject.split('.').collect();
        let source = parts
            .iter()
            .position(|p| *p == "evt")
            .and_then(|i| i.checked_sub(1))
            .map_or("", |i| parts[i]);
        format!("{}:{source}", self.consumer)
    }

    /// The aggregate's version after this event (0: written before
    /// versions existed).
    pub fn version(&self) -> u64 {
        self.envelope.version
    }

    /// Records this event's version as the newest applied for its
    /// aggregate, in the handler's transaction. `false` means a newer
    /// version was applied already: a snapshot handler skips the event, so
    /// a late delivery never overwrites newer state. Events without a
    /// version always apply.
    pub async fn is_newest(&self, conn: &mut PgConnection) -> Result<bool, HandleError> {
        if self.version() == 0 {
            return Ok(true);
        }
        let version = i64::try_from(self.version())
            .map_err(|_| HandleError::Reject(format!("version {} out of range", self.version())))?;
        let newer = sqlx::query(
            "INSERT INTO applied_versions (consumer, aggregate_id, version) VALUES ($1, $2, $3)
             ON CONFLICT (consumer, aggregate_id) DO UPDATE SET version = EXCLUDED.version
             WHERE applied_versions.version < EXCLUDED.version",
        )
        .bind(self.version_scope())
        .bind(&self.envelope.aggregate_id)
        .bind(version)
        .execute(conn)
        .await?
        .rows_affected()
            == 1;
        Ok(newer)
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

/// Applies the fresh events of a batch at once, in order, inside the
/// consumer's transaction: for a stream of many small snapshots (a region's
/// educators) set-based statements instead of a few per event.
pub type BatchHandler = Arc<
    dyn for<'c> Fn(&'c mut PgConnection, Vec<Event>) -> BoxFuture<'c, Result<(), HandleError>>
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
    /// Used instead of `handler` for batches, when given; a batch that
    /// fails is retried one event at a time with `handler`.
    pub batch_handler: Option<BatchHandler>,
}

/// Of snapshot events, the newest of each aggregate that is newer than
/// what was applied, in their order, with their versions recorded in the
/// transaction ([`Event::is_newest`] for many events in one statement).
/// Events without a version always count.
pub async fn newest_of(
    conn: &mut PgConnection,
    events: Vec<Event>,
) -> Result<Vec<Event>, HandleError> {
    // A consumer reads one source: every event has the same scope.
    let Some(consumer) = events.first().map(Event::version_scope) else {
        return Ok(events);
    };
    // The last snapshot of each aggregate in the batch is the one that counts.
    let mut last: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.version() > 0 {
            let slot = last.entry(e.envelope.aggregate_id.clone()).or_insert(i);
            if events[*slot].version() <= e.version() {
                *slot = i;
            }
        }
    }
    let mut aggregates = Vec::with_capacity(last.len());
    let mut versions = Vec::with_capacity(last.len());
    for (aggregate, &i) in &last {
        aggregates.push(aggregate.clone());
        versions.push(i64::try_from(events[i].version()).map_err(|_| {
            HandleError::Reject(format!("version {} out of range", events[i].version()))
        })?);
    }
    let newer: std::collections::HashSet<String> = sqlx::query_scalar(
        "INSERT INTO applied_versions (consumer, aggregate_id, version)
         SELECT $1, a, v FROM unnest($2::text[], $3::bigint[]) AS t(a, v)
         ON CONFLICT (consumer, aggregate_id) DO UPDATE SET version = EXCLUDED.version
         WHERE applied_versions.version < EXCLUDED.version
         RETURNING aggregate_id",
    )
    .bind(&consumer)
    .bind(&aggregates)
    .bind(&versions)
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect();
    Ok(events
        .into_iter()
        .enumerate()
        .filter(|(i, e)| {
            e.version() == 0
                || (newer.contains(&e.envelope.aggregate_id)
                    && last.get(&e.envelope.aggregate_id) == Some(i))
        })
        .map(|(_, e)| e)
        .collect())
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
        let config = pull::Config {
            durable_name: Some(self.consumer.to_owned()),
            filter_subject: format!(
                "{}.{}.evt.>",
                self.bus.settings().subject_prefix,
                self.source
            ),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            // Never dropped by NATS: `process` dead-letters, or keeps
            // the message when even that fails.
            max_deliver: -1,
            ..Default::default()
        };
        let mut consumer: async_nats::jetstream::consumer::Consumer<pull::Config> = stream
            .get_or_create_consumer(self.consumer, config.clone())
            .await
            .map_err(|e| anyhow::anyhow!("consumer {} on {}: {e}", self.consumer, self.source))?;
        // Consumers created by earlier versions had a delivery limit.
        if consumer.cached_info().config.max_deliver != -1 {
            consumer = stream
                .update_consumer(config)
                .await
                .map_err(|e| anyhow::anyhow!("updating consumer {}: {e}", self.consumer))?;
        }
        // What has arrived is handled together (one transaction for up to
        // BATCH events): a stream that is catching up costs one commit per
        // batch, not one per event.
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(BATCH)
            // What `Consumer::messages()` sets and `stream()` does not: the
            // server's idle heartbeats tell a lost pull request from a quiet
            // stream, so a lost one is renewed at once instead of after its
            // 30 s expiry (seen as a consumer silent for 10 s and more).
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("consuming {}: {e}", self.source))?
            .ready_chunks(BATCH);
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
                let Some(chunk) = next else { break };
                let mut batch = Vec::with_capacity(chunk.len());
                let mut failed = false;
                for m in chunk {
                    match m {
                        Ok(msg) => batch.push(msg),
                        Err(e) => {
                            tracing::warn!(consumer = self.consumer, error = %e, "consumer stream error");
                            failed = true;
                        }
                    }
                }
                self.process_batch(batch).await;
                if failed {
                    tokio::time::sleep(Duration::from_millis(200)).await;
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

    /// Handles deliveries that arrived together in one transaction and acks
    /// them after the commit. If any of them fails, nothing of the batch is
    /// kept and each is handled on its own ([`Consumer::process`]), so a
    /// bad event is retried or dead-lettered alone.
    pub async fn process_batch(&self, batch: Vec<async_nats::jetstream::Message>) -> Vec<Outcome> {
        if batch.len() > 1 {
            match self.apply_batch(&batch).await {
                Ok(outcomes) => {
                    for (msg, outcome) in batch.iter().zip(&outcomes) {
                        self.settled(msg, outcome).await;
                    }
                    return outcomes;
                }
                Err(e) => {
                    tracing::debug!(consumer = self.consumer, error = ?e, size = batch.len(), "batch failed; one event at a time");
                }
            }
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for msg in batch {
            outcomes.push(self.process(msg).await);
        }
        outcomes
    }

    /// Every event of the batch applied in one transaction, or none.
    async fn apply_batch(
        &self,
        batch: &[async_nats::jetstream::Message],
    ) -> Result<Vec<Outcome>, HandleError> {
        let writes_before = self.bus.outbox_write_count();
        let mut tx = self.pool.begin().await?;
        let events = batch
            .iter()
            .map(|m| self.event(m))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let fresh: std::collections::HashSet<Uuid> = sqlx::query_scalar(
            "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(self.consumer)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        // The same event twice in a batch counts once.
        let mut seen = std::collections::HashSet::new();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut todo = Vec::with_capacity(events.len());
        for event in events {
            if fresh.contains(&event.event_id) && seen.insert(event.event_id) {
                outcomes.push(Outcome::Applied);
                todo.push(event);
            } else {
                outcomes.push(Outcome::Duplicate);
            }
        }
        match &self.batch_handler {
            Some(handler) => handler(&mut tx, todo).await?,
            None => {
                for event in todo {
                    let span = tracing::info_span!("event", consumer = self.consumer, subject = %event.subject, event_id = %event.event_id);
                    pd_runtime::telemetry::set_remote_parent(&span, &event.envelope.traceparent);
                    (self.handler)(&mut tx, event).instrument(span).await?;
                }
            }
        }
        tx.commit().await?;
        self.bus.wake_relays_if_written_since(writes_before);
        Ok(outcomes)
    }

    /// Acks a delivery whose effect is committed, and counts it.
    async fn settled(&self, msg: &async_nats::jetstream::Message, outcome: &Outcome) {
        if let Ok(info) = msg.info() {
            self.report_lag(info.pending);
        }
        if let Err(e) = msg.ack().await {
            // Not acked: it comes back and is recognised as a duplicate.
            tracing::warn!(error = %e, "ack failed");
        }
        if *outcome == Outcome::Applied {
            metrics()
                .events_consumed
                .get_or_create(&ServiceLabels {
                    service: self.consumer.to_owned(),
                })
                .inc();
        }
    }

    /// Handles one delivery and acks, naks or dead-letters it, in a span
    /// that continues the trace of the request that caused the event.
    pub async fn process(&self, msg: async_nats::jetstream::Message) -> Outcome {
        let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
        // Every delivery says how many events of the stream still wait.
        if let Ok(info) = msg.info() {
            self.report_lag(info.pending);
        }
        let event = self.event(&msg);
        let span = tracing::info_span!("event", consumer = self.consumer, subject = %msg.subject, event_id = tracing::field::Empty);
        if let Ok(e) = &event {
            pd_runtime::telemetry::set_remote_parent(&span, &e.envelope.traceparent);
            span.record("event_id", tracing::field::display(e.event_id));
        }
        let applied = match event {
            Ok(event) => self.apply(event).instrument(span.clone()).await,
            Err(e) => Err(e),
        };
        let max = self.bus.settings().max_deliver;
        let outcome = match applied {
            Ok(true) => Outcome::Applied,
            Ok(false) => Outcome::Duplicate,
            // max_deliver ≤ 0: retried for ever, never dead-lettered.
            Err(HandleError::Retry(why)) if max <= 0 || delivered < max => {
                span.in_scope(|| tracing::warn!(%why, delivered, "event will be retried"));
                self.nak(&msg, self.backoff(delivered.max(1) as u64)).await;
                return Outcome::Retried;
            }
            Err(HandleError::Retry(why)) | Err(HandleError::Reject(why)) => {
                if let Err(e) = self.dead_letter(&msg, &why).instrument(span.clone()).await {
                    // Never lost: it stays in the stream and comes back.
                    span.in_scope(|| tracing::error!(error = %e, %why, "dead letter not stored; the event is kept and retried"));
                    self.nak(&msg, self.backoff(u64::MAX)).await;
                    return Outcome::Retried;
                }
                if let Err(e) = msg.ack_with(AckKind::Term).await {
                    tracing::warn!(error = %e, "term failed");
                }
                return Outcome::DeadLettered;
            }
        };
        self.settled(&msg, &outcome).await;
        outcome
    }

    /// `retry_base_ms` × 2^(delivered − 1), at most `retry_max_ms`.
    fn backoff(&self, delivered: u64) -> Duration {
        let s = self.bus.settings();
        let exp = delivered.saturating_sub(1).min(30) as u32;
        let ms = s.retry_base_ms.saturating_mul(1u64 << exp);
        Duration::from_millis(ms.min(s.retry_max_ms))
    }

    async fn nak(&self, msg: &async_nats::jetstream::Message, delay: Duration) {
        if let Err(e) = msg.ack_with(AckKind::Nak(Some(delay))).await {
            tracing::warn!(error = %e, "nak failed");
        }
    }

    fn event(&self, msg: &async_nats::jetstream::Message) -> Result<Event, HandleError> {
        let envelope = EventEnvelope::decode(msg.payload.clone())
            .map_err(|e| HandleError::Reject(format!("undecodable envelope: {e}")))?;
        let event_id = Uuid::parse_str(&envelope.event_id)
            .map_err(|e| HandleError::Reject(format!("bad event id: {e}")))?;
        Ok(Event {
            subject: msg.subject.to_string(),
            event_id,
            envelope,
            consumer: self.consumer,
        })
    }

    /// `Ok(false)` when the event was processed before.
    async fn apply(&self, event: Event) -> Result<bool, HandleError> {
        let writes_before = self.bus.outbox_write_count();
        let mut tx = self.pool.begin().await?;
        let fresh = self.handle(&mut tx, event).await?;
        if fresh {
            tx.commit().await?;
            self.bus.wake_relays_if_written_since(writes_before);
        }
        Ok(fresh)
    }

    /// Records the event as processed and applies it, in the caller's
    /// transaction; `Ok(false)` when it was processed before.
    async fn handle(&self, tx: &mut PgConnection, event: Event) -> Result<bool, HandleError> {
        let fresh = sqlx::query(
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(self.consumer)
        .bind(event.event_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Ok(false);
        }
        (self.handler)(tx, event).await?;
        Ok(true)
    }

    /// Stores the message in the dead-letter stream; `Err` when it was not
    /// stored (the caller keeps the message).
    async fn dead_letter(
        &self,
        msg: &async_nats::jetstream::Message,
        why: &str,
    ) -> anyhow::Result<()> {
        tracing::error!(consumer = self.consumer, subject = %msg.subject, %why, "event dead-lettered");
        let mut h = async_nats::HeaderMap::new();
        h.insert(headers::DEAD_LETTER_REASON, why);
        h.insert(headers::ORIGINAL_SUBJECT, msg.subject.as_str());
        h.insert(headers::CONSUMER, self.consumer);
        // A second attempt after a lost ack is recognised as the same letter.
        if let Ok(info) = msg.info() {
            let id = format!("{}-{}-{}", self.consumer, info.stream, info.stream_sequence);
            h.insert(headers::MSG_ID, id.as_str());
        }
        let subject = self.bus.dead_letter_subject(self.consumer, self.source);
        self.bus
            .jetstream()
            .publish_with_headers(subject, h, msg.payload.clone())
            .await
            .map_err(|e| anyhow::anyhow!("publishing the dead letter: {e}"))?
            .await
            .map_err(|e| anyhow::anyhow!("storing the dead letter: {e}"))?;
        metrics()
            .events_dead_lettered
            .get_or_create(&ServiceLabels {
                service: self.consumer.to_owned(),
            })
            .inc();
        Ok(())
    }
}
