//! Transactional outbox. [`Outbox::write`] adds event rows in the caller's
//! transaction; the [`Relay`] publishes committed rows with
//! `Nats-Msg-Id` = event id, awaits JetStream's acks, then marks them sent.
//! If the relay dies between publishing and marking, the next run publishes
//! the same ids again and JetStream drops them as duplicates; consumers
//! de-duplicate by event id as well.

use async_nats::HeaderMap;
use bytes::Bytes;
use pd_runtime::Shutdown;
use pd_runtime::metrics::{ServiceLabels, metrics};
use prost::Message;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

use crate::{Bus, events::envelope, headers};

/// Writes a service's events into its outbox table.
#[derive(Clone)]
pub struct Outbox {
    service: &'static str,
    subject_prefix: String,
}

/// One event to write, for batches.
pub struct PendingEvent {
    pub event_type: &'static str,
    pub aggregate_id: String,
    pub payload: Vec<u8>,
}

impl Outbox {
    pub fn new(bus: &Bus, service: &'static str) -> Self {
        Self::with_prefix(&bus.settings().subject_prefix, service)
    }

    /// For writers without a bus connection (admin commands): the relay of
    /// the running service publishes what they write.
    pub fn with_prefix(subject_prefix: &str, service: &'static str) -> Self {
        Outbox {
            service,
            subject_prefix: subject_prefix.to_owned(),
        }
    }

    fn subject(&self, event_type: &str) -> String {
        format!(
            "{}.{}.evt.{event_type}.v1",
            self.subject_prefix, self.service
        )
    }

    /// Adds one event in the caller's transaction; returns its id.
    pub async fn write<M: Message>(
        &self,
        tx: &mut PgConnection,
        event_type: &str,
        aggregate_id: &str,
        actor: &str,
        payload: &M,
    ) -> Result<Uuid, sqlx::Error> {
        let env = envelope(event_type, aggregate_id, actor, payload);
        let id = Uuid::parse_str(&env.event_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        sqlx::query("INSERT INTO outbox (event_id, subject, envelope) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(self.subject(event_type))
            .bind(env.encode_to_vec())
            .execute(tx)
            .await?;
        Ok(id)
    }

    /// Adds many events in one statement (bulk imports).
    pub async fn write_many(
        &self,
        tx: &mut PgConnection,
        actor: &str,
        events: Vec<PendingEvent>,
    ) -> Result<(), sqlx::Error> {
        let mut ids = Vec::with_capacity(events.len());
        let mut subjects = Vec::with_capacity(events.len());
        let mut bodies = Vec::with_capacity(events.len());
        let traceparent = pd_runtime::telemetry::current_traceparent().unwrap_or_default();
        let now = chrono::Utc::now().to_rfc3339();
        for e in events {
            let id = Uuid::now_v7();
            let env = pd_proto::common::v1::EventEnvelope {
                event_id: id.to_string(),
                event_type: e.event_type.to_owned(),
                occurred_at: now.clone(),
                actor: actor.to_owned(),
                traceparent: traceparent.clone(),
                aggregate_id: e.aggregate_id,
                payload: e.payload,
            };
            ids.push(id);
            subjects.push(self.subject(e.event_type));
            bodies.push(env.encode_to_vec());
        }
        sqlx::query(
            "INSERT INTO outbox (event_id, subject, envelope)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bytea[])",
        )
        .bind(ids)
        .bind(subjects)
        .bind(bodies)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// Publishes committed outbox rows to JetStream.
pub struct Relay {
    bus: Bus,
    pool: PgPool,
    service: &'static str,
    batch_size: i64,
    #[doc(hidden)]
    pub fail_after_publish: bool,
}

impl Relay {
    pub fn new(bus: Bus, pool: PgPool, service: &'static str) -> Self {
        Relay {
            bus,
            pool,
            service,
            batch_size: 500,
            fail_after_publish: false,
        }
    }

    /// Runs until `shutdown`, then publishes what is left and returns.
    pub async fn run(self, shutdown: Shutdown) {
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(mut l) => match l.listen("pd_outbox").await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay falls back to polling");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay falls back to polling");
                None
            }
        };
        let mut last_cleanup = std::time::Instant::now();
        loop {
            // Drain everything that is committed now.
            loop {
                match self.publish_batch().await {
                    Ok(n) if n as i64 == self.batch_size => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(service = self.service, error = %e, "outbox relay batch failed; will retry");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        break;
                    }
                }
            }
            self.report_backlog().await;
            if last_cleanup.elapsed() > Duration::from_secs(600) {
                self.cleanup().await;
                last_cleanup = std::time::Instant::now();
            }
            if shutdown.is_cancelled() {
                break;
            }
            // Wait for a notification, polling once a second as a fallback.
            let wait = async {
                match listener.as_mut() {
                    Some(l) => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), l.recv()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = shutdown.cancelled() => {}
            }
        }
        // Flush the outbox before the process exits.
        while let Ok(n) = self.publish_batch().await {
            if n == 0 {
                break;
            }
        }
        tracing::info!(service = self.service, "outbox relay stopped");
    }

    /// Sets the `outbox_backlog` gauge: rows committed but not yet published.
    pub async fn report_backlog(&self) {
        let backlog: Result<i64, _> =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await;
        if let Ok(n) = backlog {
            metrics()
                .outbox_backlog
                .get_or_create(&ServiceLabels {
                    service: self.service.to_owned(),
                })
                .set(n);
        }
    }

    /// Publishes one batch of unsent rows; returns how many were sent.
    pub async fn publish_batch(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED lets several relay instances share the work.
        let rows: Vec<(i64, Uuid, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, event_id, subject, envelope FROM outbox
             WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Publish in order, then await every ack.
        let mut acks = Vec::with_capacity(rows.len());
        for (_, event_id, subject, body) in &rows {
            let mut h = HeaderMap::new();
            h.insert(headers::MSG_ID, event_id.to_string().as_str());
            let ack = self
                .bus
                .jetstream()
                .publish_with_headers(subject.clone(), h, Bytes::from(body.clone()))
                .await
                .map_err(|e| anyhow::anyhow!("publishing {subject}: {e}"))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| anyhow::anyhow!("JetStream ack: {e}"))?;
        }
        if self.fail_after_publish {
            // Test hook: the process "dies" after publishing, before marking.
            anyhow::bail!("simulated crash after publish");
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        sqlx::query("UPDATE outbox SET sent_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        metrics()
            .outbox_published
            .get_or_create(&ServiceLabels {
                service: self.service.to_owned(),
            })
            .inc_by(rows.len() as u64);
        Ok(rows.len())
    }

    async fn cleanup(&self) {
        let r = sqlx::query("DELETE FROM outbox WHERE sent_at < now() - interval '1 day'")
            .execute(&self.pool)
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "outbox cleanup");
        }
    }
}
