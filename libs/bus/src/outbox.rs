//! Transactional outbox. [`Outbox::write`] adds event rows in the caller's
//! transaction; the [`Relay`] publishes committed rows with
//! `Nats-Msg-Id` = event id, awaits JetStream's acks, then marks them sent.
//! If the relay dies between publishing and marking, the next run publishes
//! the same ids again and JetStream drops them as duplicates; consumers
//! de-duplicate by event id as well.
//!
//! How the relay learns of new rows. A write through an [`Outbox`] made
//! with the service's [`Bus`] wakes the relay on that bus at once. The
//! write's transaction may not have committed by then: the RPC server and
//! the consumers wake the relay again once their handler has committed,
//! and other writers (timers, bulk jobs) are covered by the relay looking
//! again a few times over the next ~680 ms ([`RECHECKS`]). Rows written by
//! another process (another instance of the service, an admin command) are
//! found by the relay's poll once a second, or at once after [`announce`].
//!
//! There is no `NOTIFY` in the writers' transactions: PostgreSQL
//! serializes every committing transaction that has notified, across the
//! whole cluster, for the duration of its commit (its WAL flush included),
//! so a trigger on the outbox made every event-writing commit of every
//! service wait in one queue, without group commit. In the December window
//! a sample of the enrollment database's active backends found about half
//! of them waiting on that lock (`Lock/object`); see BENCHMARKS.md.

use async_nats::HeaderMap;
use bytes::Bytes;
use pd_runtime::Shutdown;
use pd_runtime::metrics::{ServiceLabels, metrics};
use prost::Message;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::{Bus, events::envelope, headers};

/// Writes a service's events into its outbox table.
#[derive(Clone)]
pub struct Outbox {
    service: &'static str,
    subject_prefix: String,
    /// The bus's count of writes, which wakes its relay (none for writers
    /// without a bus).
    writes: Option<Arc<watch::Sender<u64>>>,
}

/// One event to write, for batches.
pub struct PendingEvent {
    pub event_type: &'static str,
    pub aggregate_id: String,
    pub payload: Vec<u8>,
}

/// The largest event envelope the outbox accepts. NATS refuses messages
/// above its `max_payload` (1 MiB by default); staying well below leaves
/// room for headers and bounds every consumer's memory. A list goes out as
/// one event per entry (see the registry's `registry_entry_published`).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

impl Outbox {
    pub fn new(bus: &Bus, service: &'static str) -> Self {
        Outbox {
            writes: Some(bus.outbox_writes.clone()),
            ..Self::with_prefix(&bus.settings().subject_prefix, service)
        }
    }

    /// For writers without a bus connection (admin commands): the relay of
    /// the running service publishes what they write, at its next poll or
    /// at once after [`announce`].
    pub fn with_prefix(subject_prefix: &str, service: &'static str) -> Self {
        Outbox {
            service,
            subject_prefix: subject_prefix.to_owned(),
            writes: None,
        }
    }

    /// Wakes the bus's relay for a row just written (not committed yet:
    /// the relay looks again shortly, see [`RECHECKS`]).
    fn wake_relays(&self) {
        if let Some(w) = &self.writes {
            count_write(w);
        }
    }

    fn subject(&self, event_type: &str) -> String {
        format!(
            "{}.{}.evt.{event_type}.v1",
            self.subject_prefix, self.service
        )
    }

    /// Adds one event in the caller's transaction; returns its id. The
    /// aggregate's version counter stays locked until the transaction ends,
    /// so versions follow commit order.
    pub async fn write<M: Message>(
        &self,
        tx: &mut PgConnection,
        event_type: &str,
        aggregate_id: &str,
        actor: &str,
        payload: &M,
    ) -> Result<Uuid, sqlx::Error> {
        let mut env = envelope(event_type, aggregate_id, actor, payload);
        env.version = next_versions(tx, &[(aggregate_id.to_owned(), 1)])
            .await?
            .first()
            .map(|v| v.1)
            .unwrap_or(1);
        let (id, body) = sealed(env)?;
        sqlx::query("INSERT INTO outbox (event_id, subject, envelope) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(self.subject(event_type))
            .bind(body)
            .execute(tx)
            .await?;
        self.wake_relays();
        Ok(id)
    }

    /// Appends to a one-statement write (a `WITH` list) the first event of
    /// a new aggregate (version 1), written when the CTE `after` yields a
    /// row: CTEs `pd_event` and `pd_event_version`. The aggregate must be
    /// new (an id made for this write): its version counter starts here,
    /// and an existing one fails the statement. Returns the event's id.
    pub fn push_first_event<M: Message>(
        &self,
        q: &mut sqlx::QueryBuilder<sqlx::Postgres>,
        after: &str,
        event_type: &str,
        aggregate_id: &str,
        actor: &str,
        payload: &M,
    ) -> Result<Uuid, sqlx::Error> {
        let mut env = envelope(event_type, aggregate_id, actor, payload);
        env.version = 1;
        let (id, body) = sealed(env)?;
        q.push(", pd_event AS (INSERT INTO outbox (event_id, subject, envelope) SELECT ")
            .push_bind(id)
            .push(", ")
            .push_bind(self.subject(event_type))
            .push(", ")
            .push_bind(body)
            .push(format_args!(" WHERE EXISTS (SELECT 1 FROM {after}))"))
            .push(", pd_event_version AS (INSERT INTO aggregate_versions (aggregate_id, version) SELECT ")
            .push_bind(aggregate_id.to_owned())
            .push(format_args!(", 1 WHERE EXISTS (SELECT 1 FROM {after}))"));
        // Before the statement runs: the relays' re-checks cover the gap.
        self.wake_relays();
        Ok(id)
    }

    /// Adds many events in one statement (bulk imports).
    pub async fn write_many(
        &self,
        tx: &mut PgConnection,
        actor: &str,
        events: Vec<PendingEvent>,
    ) -> Result<(), sqlx::Error> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for e in &events {
            *counts.entry(e.aggregate_id.clone()).or_default() += 1;
        }
        // The first version each aggregate gets in this batch.
        let mut next: HashMap<String, u64> =
            next_versions(tx, &counts.into_iter().collect::<Vec<_>>())
                .await?
                .into_iter()
                .map(|(aggregate, last, count)| (aggregate, last + 1 - count))
                .collect();
        let mut ids = Vec::with_capacity(events.len());
        let mut subjects = Vec::with_capacity(events.len());
        let mut bodies = Vec::with_capacity(events.len());
        let traceparent = pd_runtime::telemetry::current_traceparent().unwrap_or_default();
        let now = chrono::Utc::now().to_rfc3339();
        for e in events {
            let id = Uuid::now_v7();
            let version = next.get_mut(&e.aggregate_id).map_or(1, |v| {
                *v += 1;
                *v - 1
            });
            let env = pd_proto::common::v1::EventEnvelope {
                event_id: id.to_string(),
                event_type: e.event_type.to_owned(),
                occurred_at: now.clone(),
                actor: actor.to_owned(),
                traceparent: traceparent.clone(),
                aggregate_id: e.aggregate_id,
                payload: e.payload,
                version,
            };
            ids.push(id);
            subjects.push(self.subject(e.event_type));
            bodies.push(bounded(env)?);
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
        self.wake_relays();
        Ok(())
    }
}

/// Wakes the relays of the running services (every process) for rows a
/// process without a bus connection has committed. Not for a writer's
/// own transaction: see the module's note on `NOTIFY`. Called after a
/// commit, so a failure only delays the rows to the relays' next poll: it
/// is logged, not returned.
pub async fn announce(pool: &PgPool) {
    if let Err(e) = sqlx::query("SELECT pg_notify('pd_outbox', '')")
        .execute(pool)
        .await
    {
        tracing::warn!(error = %e, "outbox rows wait for the relay's next poll");
    }
}

/// Counts one more outbox write on a bus: wakes the relay that follows it.
pub(crate) fn count_write(writes: &watch::Sender<u64>) {
    writes.send_modify(|n| *n = n.wrapping_add(1));
}

/// Advances the version counters of `aggregates` (id, number of events),
/// in id order so that two writers never wait for each other crosswise.
/// Returns (id, last version now, number of events).
async fn next_versions(
    tx: &mut PgConnection,
    aggregates: &[(String, i64)],
) -> Result<Vec<(String, u64, u64)>, sqlx::Error> {
    let mut sorted = aggregates.to_vec();
    sorted.sort();
    let (ids, counts): (Vec<String>, Vec<i64>) = sorted.iter().cloned().unzip();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO aggregate_versions (aggregate_id, version)
         SELECT * FROM UNNEST($1::text[], $2::bigint[])
         ON CONFLICT (aggregate_id) DO UPDATE SET version = aggregate_versions.version + EXCLUDED.version
         RETURNING aggregate_id, version",
    )
    .bind(&ids)
    .bind(&counts)
    .fetch_all(tx)
    .await?;
    let count_of: HashMap<&str, i64> = sorted.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    Ok(rows
        .into_iter()
        .map(|(a, v)| {
            let n = count_of.get(a.as_str()).copied().unwrap_or(1);
            (a, v.max(0) as u64, n.max(0) as u64)
        })
        .collect())
}

/// An envelope ready for its outbox row: its event id and its bytes.
fn sealed(env: pd_proto::common::v1::EventEnvelope) -> Result<(Uuid, Vec<u8>), sqlx::Error> {
    let id = Uuid::parse_str(&env.event_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok((id, bounded(env)?))
}

/// Encodes an envelope, refusing one the bus could not carry: the writer
/// learns at once, instead of the relay failing on it for ever.
fn bounded(env: pd_proto::common::v1::EventEnvelope) -> Result<Vec<u8>, sqlx::Error> {
    let body = env.encode_to_vec();
    if body.len() > MAX_EVENT_BYTES {
        return Err(sqlx::Error::Encode(
            format!(
                "event {} of {} is {} bytes, above the bus limit of {MAX_EVENT_BYTES}; publish one event per entry instead",
                env.event_type,
                env.aggregate_id,
                body.len()
            )
            .into(),
        ));
    }
    Ok(body)
}

/// Refusals of one row before the relay sets it aside.
pub const MAX_ATTEMPTS: i32 = 10;

/// Errors that another attempt will not cure.
fn permanent(kind: async_nats::jetstream::context::PublishErrorKind) -> bool {
    use async_nats::jetstream::context::PublishErrorKind as K;
    matches!(kind, K::MaxPayloadExceeded)
}

/// Publishes committed outbox rows to JetStream.
pub struct Relay {
    bus: Bus,
    pool: PgPool,
    service: &'static str,
    /// The outbox writes made on the relay's bus (see the module's note).
    writes: watch::Receiver<u64>,
    batch_size: i64,
    #[doc(hidden)]
    pub fail_after_publish: bool,
    /// [`POLL_EVERY`]; tests lengthen it to see that wake-ups alone
    /// suffice.
    #[doc(hidden)]
    pub poll_every: Duration,
    /// [`RECHECKS`]; tests that need the relay asleep at once set none.
    #[doc(hidden)]
    pub rechecks: &'static [Duration],
}

/// How often the relay counts its backlog for the `outbox_backlog` gauge.
const BACKLOG_REPORT_EVERY: Duration = Duration::from_secs(1);

/// After a write on its bus wakes the relay, or a pass finds rows, the
/// relay looks again after each of these pauses in turn (unless woken
/// before): the write's transaction commits a moment after the wake-up,
/// usually within a few milliseconds. Then it polls every [`POLL_EVERY`].
pub const RECHECKS: [Duration; 5] = [
    Duration::from_millis(2),
    Duration::from_millis(8),
    Duration::from_millis(32),
    Duration::from_millis(128),
    Duration::from_millis(512),
];

/// The relay's poll when nothing wakes it: rows written by other
/// processes without [`announce`], and transactions that committed long
/// after their write.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// What ended the relay's wait.
enum Wake {
    /// A write on the relay's bus.
    Written,
    /// A pause ran out.
    Timer,
    /// A notification from another process, or shutdown.
    Other,
}

/// Listens for `announce` (writes of other processes) in a task of its
/// own, so that the relay's waits never cut a `recv` (and with it a
/// reconnect) short. `None` when listening is not possible: the relay
/// then polls.
async fn listen(pool: &PgPool, shutdown: Shutdown) -> Option<Arc<Notify>> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "outbox relay falls back to polling");
            return None;
        }
    };
    if let Err(e) = listener.listen("pd_outbox").await {
        tracing::warn!(error = %e, "outbox relay falls back to polling");
        return None;
    }
    let announced = Arc::new(Notify::new());
    let wake = announced.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = listener.recv() => match r {
                    // Several at once leave one wake-up (`notify_one`).
                    Ok(_) => wake.notify_one(),
                    // The connection is re-made by the next `recv`.
                    Err(e) => {
                        tracing::debug!(error = %e, "outbox listener lost its connection");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = shutdown.cancelled() => break,
                        }
                    }
                },
                _ = shutdown.cancelled() => break,
            }
        }
    });
    Some(announced)
}

impl Relay {
    pub fn new(bus: Bus, pool: PgPool, service: &'static str) -> Self {
        Relay {
            writes: bus.outbox_writes.subscribe(),
            bus,
            pool,
            service,
            batch_size: 500,
            fail_after_publish: false,
            poll_every: POLL_EVERY,
            rechecks: &RECHECKS,
        }
    }

    /// Runs until `shutdown`, then publishes what is left and returns.
    pub async fn run(mut self, shutdown: Shutdown) {
        let announced = listen(&self.pool, shutdown.clone()).await;
        let mut last_cleanup = std::time::Instant::now();
        let mut last_report: Option<std::time::Instant> = None;
        // Doubles while batches keep failing (an outage), up to 30 s.
        let mut backoff = Duration::from_millis(500);
        // The next of RECHECKS to wait (none left: the poll). Writes made
        // before the relay started woke nobody: look again from the start.
        let mut recheck = 0;
        loop {
            // Drain everything that is committed now.
            let mut published = 0;
            loop {
                match self.publish_batch().await {
                    Ok(n) if n as i64 == self.batch_size => published += n,
                    Ok(n) => {
                        if published + n > 0 {
                            // More may be committing behind these.
                            recheck = 0;
                        }
                        backoff = Duration::from_millis(500);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(service = self.service, error = %e, retry_in = ?backoff, "outbox relay batch failed; will retry");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = shutdown.cancelled() => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        break;
                    }
                }
            }
            // The gauge is for operators: once a second is plenty, and a
            // count per pass would be a round trip per committed write.
            if last_report.is_none_or(|t| t.elapsed() >= BACKLOG_REPORT_EVERY) {
                self.report_backlog().await;
                last_report = Some(std::time::Instant::now());
            }
            if last_cleanup.elapsed() > Duration::from_secs(600) {
                self.cleanup().await;
                last_cleanup = std::time::Instant::now();
            }
            if shutdown.is_cancelled() {
                break;
            }
            let pause = self
                .rechecks
                .get(recheck)
                .copied()
                .unwrap_or(self.poll_every);
            match self.wait(announced.as_deref(), pause, &shutdown).await {
                Wake::Written => recheck = 0,
                Wake::Timer => recheck = (recheck + 1).min(self.rechecks.len()),
                Wake::Other => {}
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

    /// Waits for a write on the relay's bus, an announcement from another
    /// process, `pause`, or shutdown.
    async fn wait(
        &mut self,
        announced: Option<&Notify>,
        pause: Duration,
        shutdown: &Shutdown,
    ) -> Wake {
        let announced = async {
            match announced {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = self.writes.changed() => match changed {
                Ok(()) => Wake::Written,
                // The bus is gone (cannot happen while the relay holds
                // it): poll.
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    Wake::Timer
                }
            },
            _ = announced => Wake::Other,
            _ = tokio::time::sleep(pause) => Wake::Timer,
            _ = shutdown.cancelled() => Wake::Other,
        }
    }

    /// Sets the `outbox_backlog` gauge (rows committed but not yet
    /// published) and `outbox_parked` (rows set aside, waiting for an
    /// operator).
    pub async fn report_backlog(&self) {
        // Each count's condition is its partial index's, so only the
        // unsent rows are read. (One scan `WHERE sent_at IS NULL` with two
        // FILTERs matches neither index and reads every row the outbox keeps
        // for a day: 19 ms a pass, a fifth of the machine in the December
        // window, BENCHMARKS.md.)
        let counts: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL),
                    (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await;
        if let Ok((backlog, parked)) = counts {
            let labels = ServiceLabels {
                service: self.service.to_owned(),
            };
            metrics().outbox_backlog.get_or_create(&labels).set(backlog);
            metrics().outbox_parked.get_or_create(&labels).set(parked);
        }
    }

    /// Publishes one batch of unsent rows; returns how many were sent. A
    /// row that fails is counted and set aside after [`MAX_ATTEMPTS`]
    /// refusals (at once when it can never fit the bus); the rows after it
    /// are published all the same, since consumers order by version.
    pub async fn publish_batch(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED lets several relay instances share the work.
        let rows: Vec<(i64, Uuid, String, Vec<u8>, i32)> = sqlx::query_as(
            "SELECT id, event_id, subject, envelope, attempts FROM outbox
             WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Unknown (0) before the server's INFO: nothing is judged too big.
        let max_payload = match self.bus.client().server_info().max_payload {
            0 => usize::MAX,
            n => n,
        };
        let mut failures: Vec<(i64, String, bool)> = Vec::new();
        // Publish in order, then await every ack.
        let mut acks = Vec::with_capacity(rows.len());
        for (id, event_id, subject, body, _) in &rows {
            // Headers take a few hundred bytes; such a row can never go out.
            if body.len().saturating_add(512) > max_payload {
                let why = format!(
                    "{} bytes do not fit the bus limit of {max_payload}",
                    body.len()
                );
                failures.push((*id, why, true));
                continue;
            }
            let mut h = HeaderMap::new();
            h.insert(headers::MSG_ID, event_id.to_string().as_str());
            let published = self
                .bus
                .jetstream()
                .publish_with_headers(subject.clone(), h, Bytes::from(body.clone()))
                .await;
            match published {
                Ok(ack) => acks.push((*id, ack)),
                Err(e) => failures.push((
                    *id,
                    format!("publishing {subject}: {e}"),
                    permanent(e.kind()),
                )),
            }
        }
        // All acks at once: each waits up to the JetStream timeout, and
        // one after the other a batch whose acks a NATS crash lost took
        // that timeout times its rows (minutes), holding the rows' locks
        // so that no other relay could publish them either.
        let acked = futures::future::join_all(
            acks.into_iter()
                .map(|(id, ack)| async move { (id, ack.await) }),
        )
        .await;
        let mut sent = Vec::with_capacity(acked.len());
        for (id, ack) in acked {
            match ack {
                Ok(_) => sent.push(id),
                Err(e) => failures.push((id, format!("JetStream ack: {e}"), permanent(e.kind()))),
            }
        }
        if self.fail_after_publish {
            // Test hook: the process "dies" after publishing, before marking.
            anyhow::bail!("simulated crash after publish");
        }
        sqlx::query("UPDATE outbox SET sent_at = now() WHERE id = ANY($1)")
            .bind(&sent)
            .execute(&mut *tx)
            .await?;
        // Whether JetStream answers is asked once per batch, not per row:
        // while NATS is down each question waits for its timeout.
        let counts = failures.iter().any(|(_, _, never)| !never) && self.jetstream_answers().await;
        for (id, why, never) in &failures {
            self.record_failure(&mut tx, *id, why, *never || counts, *never)
                .await?;
        }
        tx.commit().await?;
        metrics()
            .outbox_published
            .get_or_create(&ServiceLabels {
                service: self.service.to_owned(),
            })
            .inc_by(sent.len() as u64);
        if let Some((_, why, _)) = failures.first() {
            // The relay backs off; the rows that went out stay sent.
            anyhow::bail!(
                "{} of {} events not published: {why}",
                failures.len(),
                rows.len()
            );
        }
        Ok(rows.len())
    }

    /// Whether JetStream itself is up: when it answers, a refusal is the
    /// row's own; when it does not (a restart, an election, a full disk),
    /// nothing is counted against the rows.
    async fn jetstream_answers(&self) -> bool {
        if !self.bus.is_connected() {
            return false;
        }
        // The service's own stream: a request JetStream 2.9 answers.
        let stream = self.bus.stream_name(self.service);
        self.bus.jetstream().get_stream(stream).await.is_ok()
    }

    /// Records a failed attempt, counted when `counts` (JetStream answered,
    /// so the refusal was the row's own); parks the row when it can never
    /// succeed or has been refused [`MAX_ATTEMPTS`] times. Attempts that
    /// failed for the connection's sake are not counted: an outage of NATS
    /// must not park the whole outbox.
    async fn record_failure(
        &self,
        tx: &mut PgConnection,
        id: i64,
        why: &str,
        counts: bool,
        never: bool,
    ) -> Result<(), sqlx::Error> {
        let parked: Option<(Uuid, String, i32)> = sqlx::query_as(
            "UPDATE outbox SET attempts = attempts + $2::int, last_error = $3,
                    parked_at = CASE WHEN $4 OR attempts + $2::int >= $5 THEN now() END
             WHERE id = $1
             RETURNING event_id, subject, attempts",
        )
        .bind(id)
        .bind(i32::from(counts))
        .bind(why)
        .bind(never)
        .bind(MAX_ATTEMPTS)
        .fetch_optional(&mut *tx)
        .await?
        .filter(|(_, _, attempts)| never || *attempts >= MAX_ATTEMPTS);
        if let Some((event_id, subject, attempts)) = parked {
            // `outbox_parked` shows it within a second (report_backlog).
            tracing::error!(service = self.service, %event_id, %subject, attempts, %why,
                "outbox row parked: it is not published until `pd admin outbox release`");
        }
        Ok(())
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

/// A row the relay set aside.
#[derive(Debug, sqlx::FromRow)]
pub struct ParkedRow {
    pub id: i64,
    pub event_id: Uuid,
    pub subject: String,
    pub size: i32,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub parked_at: chrono::DateTime<chrono::Utc>,
}

/// The parked rows of a service's outbox, oldest first.
pub async fn parked(pool: &PgPool) -> Result<Vec<ParkedRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_id, subject, octet_length(envelope) AS size, attempts, last_error, parked_at
         FROM outbox WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY id",
    )
    .fetch_all(pool)
    .await
}

/// Gives parked rows (one, or all with `None`) back to the relay with
/// their attempts reset, once the cause is fixed; returns how many.
pub async fn release(pool: &PgPool, id: Option<i64>) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET parked_at = NULL, attempts = 0
         WHERE sent_at IS NULL AND parked_at IS NOT NULL AND ($1::bigint IS NULL OR id = $1)",
    )
    .bind(id)
    .execute(pool)
    .await?;
    // Wake the relay now rather than at its next poll.
    announce(pool).await;
    Ok(r.rows_affected())
}
