//! The bus against real NATS JetStream and PostgreSQL.

use futures::FutureExt;
use pd_bus::consumer::{Consumer, HandleError};
use pd_bus::outbox::{Outbox, Relay};
use pd_bus::{Bus, CallContext, RpcServer};
use pd_domain::{AppError, ErrorKind};
use pd_proto::common::v1::{Empty, IdRequest};
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

async fn setup() -> (TestEnv, Bus, PgPool) {
    let env = TestEnv::new().unwrap();
    let verifier = TokenVerifier::new(&env.settings.auth).unwrap();
    let bus = Bus::connect(&env.settings.nats, verifier).await.unwrap();
    let pool = env.database("bustest", &[]).await.unwrap();
    sqlx::query("CREATE TABLE effects (event_id uuid NOT NULL, aggregate text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    bus.ensure_stream("producer").await.unwrap();
    (env, bus, pool)
}

fn counting_consumer(bus: &Bus, pool: &PgPool, fail_first: Arc<AtomicUsize>) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: "counter",
        source: "producer",
        batch_handler: None,
        handler: Arc::new(move |conn, event| {
            let fail_first = fail_first.clone();
            async move {
                sqlx::query("INSERT INTO effects (event_id, aggregate) VALUES ($1, $2)")
                    .bind(event.event_id)
                    .bind(&event.envelope.aggregate_id)
                    .execute(&mut *conn)
                    .await?;
                // Fail after the effect was written: the rollback must undo it.
                if fail_first.load(Ordering::SeqCst) > 0 {
                    fail_first.fetch_sub(1, Ordering::SeqCst);
                    return Err(HandleError::Retry("simulated transient failure".into()));
                }
                Ok(())
            }
            .boxed()
        }),
    }
}

async fn wait_for_effects(pool: &PgPool, want: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
            .fetch_one(pool)
            .await
            .unwrap();
        if n >= want || Instant::now() > deadline {
            // Give stray duplicates a moment to show up.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return sqlx::query_scalar("SELECT count(*) FROM effects")
                .fetch_one(pool)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes one event through `outbox` and commits.
async fn write_one(pool: &PgPool, outbox: &Outbox, aggregate: &str) {
    let mut tx = pool.begin().await.unwrap();
    let payload = IdRequest {
        id: aggregate.to_owned(),
    };
    outbox
        .write(&mut tx, "thing_happened", aggregate, "tester", &payload)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Waits up to 10 s for the outbox to have no unsent row; whether it did.
async fn outbox_drained(pool: &PgPool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(pool)
            .await
            .unwrap();
        if unsent == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The relay's re-checks after a wake-up, shortened (about 40 ms) so that
/// a test waits only a little past them to see a relay that only a wake-up
/// can bring back before its hour-long poll.
const SHORT_RECHECKS: [Duration; 3] = [
    Duration::from_millis(2),
    Duration::from_millis(8),
    Duration::from_millis(32),
];
/// Longer than all of [`SHORT_RECHECKS`].
const PAST_RECHECKS: Duration = Duration::from_millis(150);

/// No `NOTIFY` in the writers' transactions: the relay is woken by its own
/// process's writes, and by `announce` for another process's. With its
/// poll an hour long, both still go out at once.
#[tokio::test]
async fn the_relay_is_woken_by_its_process_writes_and_by_announce_not_by_its_poll() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    write_one(&pool, &outbox, "before-start").await;
    let mut relay = Relay::new(bus.clone(), pool.clone(), "producer");
    relay.poll_every = Duration::from_secs(3600);
    relay.rechecks = &SHORT_RECHECKS;
    let shutdown = Shutdown::new();
    let task = tokio::spawn(relay.run(shutdown.clone()));
    assert!(outbox_drained(&pool).await, "the first pass publishes");
    // Past the relay's re-checks: only a wake-up brings it back before its
    // hour-long poll.
    tokio::time::sleep(PAST_RECHECKS).await;
    write_one(&pool, &outbox, "woken").await;
    assert!(
        outbox_drained(&pool).await,
        "a write through the process's bus wakes its relay"
    );
    tokio::time::sleep(PAST_RECHECKS).await;
    // Another process (an admin command) has no bus: it announces.
    let elsewhere = Outbox::with_prefix(&bus.settings().subject_prefix, "producer");
    write_one(&pool, &elsewhere, "announced").await;
    pd_bus::outbox::announce(&pool).await;
    assert!(
        outbox_drained(&pool).await,
        "an announced write wakes the relay"
    );
    let notifying: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        notifying, 0,
        "no trigger on the outbox (no NOTIFY in writes)"
    );
    shutdown.cancel();
    task.await.unwrap();
    pool.close().await;
    env.cleanup().await;
}

/// A handler's event is written before its transaction commits, and the
/// wake-up of the write comes too early. The RPC server wakes the relay
/// again when the handler returns: the event goes out however late the
/// handler committed (here after all the relay's re-checks).
#[tokio::test]
async fn a_handler_s_event_goes_out_when_it_returns_however_late_it_committed() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    let mut relay = Relay::new(bus.clone(), pool.clone(), "producer");
    relay.poll_every = Duration::from_secs(3600);
    relay.rechecks = &SHORT_RECHECKS;
    let shutdown = Shutdown::new();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let server = RpcServer::new("latecommit", (pool.clone(), outbox)).route(
        "write",
        |(pool, outbox), _, req: IdRequest| async move {
            let failed = |e: sqlx::Error| pd_bus::rpc::internal("writing", e);
            let mut tx = pool.begin().await.map_err(failed)?;
            outbox
                .write(&mut tx, "thing_happened", &req.id, "tester", &req)
                .await
                .map_err(failed)?;
            // Commits after all of the relay's re-checks.
            tokio::time::sleep(PAST_RECHECKS).await;
            tx.commit().await.map_err(failed)?;
            Ok(req)
        },
    );
    let server_task = server.serve(bus.clone(), shutdown.clone()).await.unwrap();
    let mut nats = env.settings.nats.clone();
    nats.request_timeout_ms = 10_000;
    let caller = Bus::connect(&nats, TokenVerifier::new(&env.settings.auth).unwrap())
        .await
        .unwrap();
    let _: IdRequest = caller
        .request(
            "latecommit",
            "write",
            &IdRequest { id: "late".into() },
            &CallContext::default(),
        )
        .await
        .unwrap();
    assert!(
        outbox_drained(&pool).await,
        "the event of a handler that committed late is published when it returns"
    );
    shutdown.cancel();
    relay_task.await.unwrap();
    server_task.await.unwrap();
    pool.close().await;
    env.cleanup().await;
}

#[tokio::test]
async fn relay_crash_after_publish_then_restart_delivers_each_event_once() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    let mut tx = pool.begin().await.unwrap();
    for i in 0..25 {
        let payload = IdRequest {
            id: format!("agg-{i}"),
        };
        outbox
            .write(
                &mut tx,
                "thing_happened",
                &format!("agg-{i}"),
                "tester",
                &payload,
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    // The first relay publishes everything, then "dies" before marking.
    let mut crashing = Relay::new(bus.clone(), pool.clone(), "producer");
    crashing.fail_after_publish = true;
    assert!(crashing.publish_batch().await.is_err());
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        unsent, 25,
        "nothing may be marked sent by a relay that died"
    );

    // A restarted relay publishes the same rows again and marks them.
    let relay = Relay::new(bus.clone(), pool.clone(), "producer");
    assert_eq!(relay.publish_batch().await.unwrap(), 25);
    assert_eq!(relay.publish_batch().await.unwrap(), 0);

    // JetStream kept one copy of each (Nats-Msg-Id de-duplication).
    let mut stream = bus
        .jetstream()
        .get_stream(bus.stream_name("producer"))
        .await
        .unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 25);

    let shutdown = Shutdown::new();
    let task = counting_consumer(&bus, &pool, Arc::new(AtomicUsize::new(0)))
        .start(shutdown.clone())
        .await
        .unwrap();
    assert_eq!(wait_for_effects(&pool, 25).await, 25);
    // The backlog and the consumer's lag are on /metrics.
    relay.report_backlog().await;
    let page = pd_runtime::metrics::render();
    assert!(
        page.contains("pd_outbox_backlog{service=\"producer\"}"),
        "{page}"
    );
    assert!(
        page.contains("pd_consumer_lag{consumer=\"counter\",source=\"producer\"}"),
        "{page}"
    );
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT aggregate) FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct, 25);
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn redelivered_and_retried_events_have_one_effect() {
    let (env, bus, pool) = setup().await;
    // The same event published twice under different message ids gets past
    // JetStream's de-duplication, as a redelivery after its window would.
    let env_msg = pd_bus::events::envelope("thing_happened", "agg-1", "tester", &Empty {});
    let body = bytes::Bytes::from(prost::Message::encode_to_vec(&env_msg));
    let subject = bus.event_subject("producer", "thing_happened");
    for msg_id in ["first", "second"] {
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-Msg-Id", msg_id);
        bus.jetstream()
            .publish_with_headers(subject.clone(), h, body.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // A second, different event whose first attempt fails transiently.
    let other = pd_bus::events::envelope("thing_happened", "agg-2", "tester", &Empty {});
    bus.jetstream()
        .publish(
            subject.clone(),
            prost::Message::encode_to_vec(&other).into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let shutdown = Shutdown::new();
    let task = counting_consumer(&bus, &pool, Arc::new(AtomicUsize::new(1)))
        .start(shutdown.clone())
        .await
        .unwrap();
    assert_eq!(wait_for_effects(&pool, 2).await, 2);
    let per_aggregate: Vec<(String, i64)> = sqlx::query_as(
        "SELECT aggregate, count(*) FROM effects GROUP BY aggregate ORDER BY aggregate",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        per_aggregate,
        vec![("agg-1".to_owned(), 1), ("agg-2".to_owned(), 1)]
    );
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn typed_replies_errors_and_unreachable_services() {
    let env = TestEnv::new().unwrap();
    let verifier = TokenVerifier::new(&env.settings.auth).unwrap();
    let mut nats = env.settings.nats.clone();
    nats.request_timeout_ms = 700;
    let bus = Bus::connect(&nats, verifier).await.unwrap();
    let shutdown = Shutdown::new();
    let server = RpcServer::new("echo", ())
        .route("echo", |_, _, req: IdRequest| async move {
            if req.id.is_empty() {
                Err(AppError::invalid("id", "обязательное поле"))
            } else {
                Ok(req)
            }
        })
        .route("whoami", |_, ctx, _: Empty| async move {
            ctx.principal()?;
            Ok(Empty {})
        })
        .route("slow", |_, _, _: Empty| async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Ok(Empty {})
        })
        .route("huge", |_, _, _: Empty| async move {
            Ok(IdRequest {
                id: "x".repeat(2 * 1024 * 1024),
            })
        });
    let task = server.serve(bus.clone(), shutdown.clone()).await.unwrap();
    let ctx = CallContext::default();

    let echoed: IdRequest = bus
        .request("echo", "echo", &IdRequest { id: "x".into() }, &ctx)
        .await
        .unwrap();
    assert_eq!(echoed.id, "x");

    let err = bus
        .request::<_, IdRequest>("echo", "echo", &IdRequest::default(), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(err.fields[0].field, "id");

    // No token: 401 from the handler; a forged token: 401 before the handler.
    let err = bus
        .request::<_, Empty>("echo", "whoami", &Empty {}, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    let forged = CallContext {
        authorization: Some("Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln".into()),
        ..Default::default()
    };
    let err = bus
        .request::<_, Empty>("echo", "whoami", &Empty {}, &forged)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);

    // A reply larger than the bus carries: a clear error at once, not a
    // timeout after the deadline.
    let started = Instant::now();
    let err = bus
        .request::<_, IdRequest>("echo", "huge", &Empty {}, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid, "{err:?}");
    assert_eq!(
        err.extensions.get("reason").map(String::as_str),
        Some("reply_too_large")
    );
    assert!(started.elapsed() < Duration::from_millis(600));

    // Deadline: 504-kind error, in about the deadline.
    let started = Instant::now();
    let err = bus
        .request::<_, Empty>("echo", "slow", &Empty {}, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));

    // Nobody serving: 503-kind error at once, not a hang.
    let started = Instant::now();
    let err = bus
        .request::<_, Empty>("nobody", "anything", &Empty {}, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert!(started.elapsed() < Duration::from_millis(600));

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_stopping_relay_publishes_what_is_committed_first() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    let mut tx = pool.begin().await.unwrap();
    for i in 0..7 {
        outbox
            .write(
                &mut tx,
                "thing_happened",
                &format!("agg-{i}"),
                "tester",
                &Empty {},
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Shutdown was requested before the relay even ran: it still flushes.
    let stop = Shutdown::new();
    stop.cancel();
    tokio::time::timeout(
        Duration::from_secs(10),
        Relay::new(bus.clone(), pool.clone(), "producer").run(stop),
    )
    .await
    .unwrap();
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
    let mut stream = bus
        .jetstream()
        .get_stream(bus.stream_name("producer"))
        .await
        .unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 7);
    env.cleanup().await;
}

/// A NATS crash loses the acks of what the relay had just published. Rows
/// whose subject a plain subscriber takes get no ack either: the relay must
/// give up on the whole batch within one ack timeout (acks awaited
/// together), not one timeout per row (minutes for a batch, with its rows
/// locked against every other relay), and keep the rows for the next pass.
#[tokio::test]
async fn a_batch_whose_acks_never_come_fails_in_one_timeout_and_keeps_its_rows() {
    const ROWS: usize = 12;
    const ACK_TIMEOUT: Duration = Duration::from_secs(5);
    let (env, bus, pool) = setup().await;
    let silent = format!(
        "{}.silent.evt.thing_happened.v1",
        env.settings.nats.subject_prefix
    );
    let _listener = bus.client().subscribe(silent.clone()).await.unwrap();
    bus.client().flush().await.unwrap();
    for i in 0..ROWS {
        let e =
            pd_bus::events::envelope("thing_happened", &format!("agg-{i}"), "tester", &Empty {});
        sqlx::query("INSERT INTO outbox (event_id, subject, envelope) VALUES ($1, $2, $3)")
            .bind(uuid::Uuid::parse_str(&e.event_id).unwrap())
            .bind(&silent)
            .bind(prost::Message::encode_to_vec(&e))
            .execute(&pool)
            .await
            .unwrap();
    }
    let relay = Relay::new(bus.clone(), pool.clone(), "producer");
    let started = Instant::now();
    let failed = relay.publish_batch().await.unwrap_err();
    let took = started.elapsed();
    assert!(
        failed.to_string().contains(&format!("{ROWS} of {ROWS}")),
        "{failed}"
    );
    // One after the other, the acks would take ROWS × ACK_TIMEOUT (60 s).
    assert!(took < ACK_TIMEOUT * 3, "the batch took {took:?}");
    let (unsent, parked) = outbox_state(&pool).await;
    assert_eq!(
        (unsent, parked),
        (ROWS as i64, 0),
        "the rows wait for the next pass"
    );
    env.cleanup().await;
}

/// Committed outbox rows not yet sent, parked and not.
async fn outbox_state(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL AND parked_at IS NULL),
                count(*) FILTER (WHERE parked_at IS NOT NULL)
         FROM outbox",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_unpublishable_row_is_parked_and_the_rest_of_the_outbox_flows() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    // The outbox refuses, at write time, an event the bus could not carry.
    let mut tx = pool.begin().await.unwrap();
    let huge = IdRequest {
        id: "x".repeat(pd_bus::outbox::MAX_EVENT_BYTES + 1),
    };
    let refused = outbox
        .write(&mut tx, "thing_happened", "agg-big", "tester", &huge)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("bus limit"), "{refused}");
    tx.rollback().await.unwrap();

    // Rows that got in anyway (an older binary, a hand-made row): one
    // larger than the server's max_payload, one whose subject no stream
    // takes, between ordinary events.
    let mut tx = pool.begin().await.unwrap();
    outbox
        .write(&mut tx, "thing_happened", "agg-1", "tester", &Empty {})
        .await
        .unwrap();
    let big = pd_bus::events::envelope(
        "thing_happened",
        "agg-big",
        "tester",
        &IdRequest {
            id: "x".repeat(2 * 1024 * 1024),
        },
    );
    let stray = pd_bus::events::envelope("thing_happened", "agg-stray", "tester", &Empty {});
    for (env_msg, subject) in [
        (&big, bus.event_subject("producer", "thing_happened")),
        (
            &stray,
            format!(
                "{}.nowhere.evt.thing_happened.v1",
                env.settings.nats.subject_prefix
            ),
        ),
    ] {
        sqlx::query("INSERT INTO outbox (event_id, subject, envelope) VALUES ($1, $2, $3)")
            .bind(uuid::Uuid::parse_str(&env_msg.event_id).unwrap())
            .bind(subject)
            .bind(prost::Message::encode_to_vec(env_msg))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    outbox
        .write(&mut tx, "thing_happened", "agg-2", "tester", &Empty {})
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let relay = Relay::new(bus.clone(), pool.clone(), "producer");
    // The first pass sends both ordinary events and parks the oversized
    // row at once; the stray row is retried.
    assert!(relay.publish_batch().await.is_err());
    assert_eq!(outbox_state(&pool).await, (1, 1));
    let mut stream = bus
        .jetstream()
        .get_stream(bus.stream_name("producer"))
        .await
        .unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 2);
    // The stray row is parked once its attempts run out.
    for _ in 1..pd_bus::outbox::MAX_ATTEMPTS {
        assert!(relay.publish_batch().await.is_err());
    }
    assert_eq!(outbox_state(&pool).await, (0, 2));
    assert_eq!(relay.publish_batch().await.unwrap(), 0);

    // Operators see them, in a metric and in `pd admin outbox parked`.
    relay.report_backlog().await;
    let page = pd_runtime::metrics::render();
    assert!(
        page.contains("pd_outbox_parked{service=\"producer\"} 2"),
        "{page}"
    );
    let parked = pd_bus::outbox::parked(&pool).await.unwrap();
    assert_eq!(parked.len(), 2);
    assert!(
        parked[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("bus limit"),
        "{parked:?}"
    );
    assert_eq!(parked[1].attempts, pd_bus::outbox::MAX_ATTEMPTS);
    // Released, a row goes back to the relay with its attempts reset.
    assert_eq!(
        pd_bus::outbox::release(&pool, Some(parked[1].id))
            .await
            .unwrap(),
        1
    );
    assert_eq!(outbox_state(&pool).await, (1, 1));
    // When JetStream does not answer at all (here: a relay whose own stream
    // is missing), refusals are the outage's, not the row's: nothing is
    // counted, nothing is parked.
    let blind = Relay::new(bus.clone(), pool.clone(), "ghost");
    for _ in 0..pd_bus::outbox::MAX_ATTEMPTS + 2 {
        assert!(blind.publish_batch().await.is_err());
    }
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE id = $1")
        .bind(parked[1].id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((attempts, outbox_state(&pool).await), (0, (1, 1)));
    env.cleanup().await;
}

/// A consumer whose read-model keeps the newest snapshot of each aggregate.
fn snapshot_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: "snapshots",
        source: "producer",
        batch_handler: None,
        handler: Arc::new(move |conn, event| {
            async move {
                if event.is_newest(&mut *conn).await? {
                    let body: IdRequest = event.decode()?;
                    sqlx::query("DELETE FROM effects WHERE aggregate = $1")
                        .bind(&event.envelope.aggregate_id)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("INSERT INTO effects (event_id, aggregate) VALUES ($1, $2)")
                        .bind(event.event_id)
                        .bind(format!("{}={}", event.envelope.aggregate_id, body.id))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }
            .boxed()
        }),
    }
}

#[tokio::test]
async fn versions_follow_commits_per_aggregate_and_late_snapshots_are_skipped() {
    let (env, bus, pool) = setup().await;
    let outbox = Outbox::new(&bus, "producer");
    // Versions count per aggregate, across single writes and batches.
    let mut tx = pool.begin().await.unwrap();
    for (agg, n) in [("a", "1"), ("b", "1"), ("a", "2")] {
        outbox
            .write(
                &mut tx,
                "thing_changed",
                agg,
                "tester",
                &IdRequest { id: n.into() },
            )
            .await
            .unwrap();
    }
    let batch = ["a", "c", "a"]
        .iter()
        .map(|agg| pd_bus::outbox::PendingEvent {
            event_type: "thing_changed",
            aggregate_id: (*agg).to_owned(),
            payload: vec![],
        })
        .collect();
    outbox.write_many(&mut tx, "tester", batch).await.unwrap();
    tx.commit().await.unwrap();
    let envelopes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT envelope FROM outbox ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    let versions: Vec<(String, u64)> = envelopes
        .iter()
        .map(|b| {
            let e = <pd_proto::common::v1::EventEnvelope as prost::Message>::decode(b.as_slice())
                .unwrap();
            (e.aggregate_id, e.version)
        })
        .collect();
    let want: Vec<(String, u64)> = [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("c", 1), ("a", 4)]
        .iter()
        .map(|(a, v)| ((*a).to_owned(), *v))
        .collect();
    assert_eq!(versions, want);

    // Delivered out of order: version 3 of "x", then the late version 2.
    let subject = bus.event_subject("producer", "thing_changed");
    for (version, value) in [(3, "newest"), (2, "stale"), (1, "oldest")] {
        let mut e = pd_bus::events::envelope(
            "thing_changed",
            "x",
            "tester",
            &IdRequest { id: value.into() },
        );
        e.version = version;
        bus.jetstream()
            .publish(subject.clone(), prost::Message::encode_to_vec(&e).into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // A marker after them: once it is applied, so are they.
    let mut marker = pd_bus::events::envelope(
        "thing_changed",
        "y",
        "tester",
        &IdRequest { id: "done".into() },
    );
    marker.version = 1;
    bus.jetstream()
        .publish(subject, prost::Message::encode_to_vec(&marker).into())
        .await
        .unwrap()
        .await
        .unwrap();
    let shutdown = Shutdown::new();
    let task = snapshot_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let held = loop {
        let held: Vec<String> =
            sqlx::query_scalar("SELECT aggregate FROM effects ORDER BY aggregate")
                .fetch_all(&pool)
                .await
                .unwrap();
        if held.iter().any(|a| a == "y=done") || Instant::now() > deadline {
            break held;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(held, vec!["x=newest".to_owned(), "y=done".to_owned()]);
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}

/// A consumer that rejects everything while `broken` is set, and records
/// the trace id it ran under.
fn fragile_consumer(
    bus: &Bus,
    pool: &PgPool,
    broken: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: "fragile",
        source: "producer",
        batch_handler: None,
        handler: Arc::new(move |conn, event| {
            let broken = broken.clone();
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if broken.load(Ordering::SeqCst) > 0 {
                    return Err(HandleError::Reject("the handler has a bug".into()));
                }
                let trace = pd_runtime::telemetry::current_trace_id().unwrap_or_default();
                sqlx::query("INSERT INTO effects (event_id, aggregate) VALUES ($1, $2)")
                    .bind(event.event_id)
                    .bind(trace)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            .boxed()
        }),
    }
}

#[tokio::test]
async fn dead_letters_are_never_lost_and_replay_to_their_effect_in_the_callers_trace() {
    let (env, bus, pool) = setup().await;
    let broken = Arc::new(AtomicUsize::new(1));
    let calls = Arc::new(AtomicUsize::new(0));
    let shutdown = Shutdown::new();
    let task = fragile_consumer(&bus, &pool, broken.clone(), calls.clone())
        .start(shutdown.clone())
        .await
        .unwrap();
    // The dead-letter stream is gone when the event fails: the event must
    // stay in its stream and come back, not be terminated.
    let dlq = format!("{}_DLQ", env.settings.nats.stream_prefix);
    bus.jetstream().delete_stream(&dlq).await.unwrap();
    // The event is caused by a request whose trace it carries.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut e = pd_bus::events::envelope("thing_happened", "agg-1", "tester", &Empty {});
    e.traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    bus.jetstream()
        .publish(
            bus.event_subject("producer", "thing_happened"),
            prost::Message::encode_to_vec(&e).into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while calls.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        calls.load(Ordering::SeqCst) >= 3,
        "the rejected event was not kept"
    );
    // Once the dead-letter stream is back, the event lands there.
    bus.ensure_dead_letter_stream().await.unwrap();
    let letters = loop {
        let letters = bus.dead_letters(Some("fragile")).await.unwrap();
        if !letters.is_empty() || Instant::now() > deadline {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, e.event_id);
    assert_eq!(letters[0].reason, "the handler has a bug");
    assert!(
        bus.dead_letters(Some("someone-else"))
            .await
            .unwrap()
            .is_empty()
    );

    // The bug is fixed; the replay reaches the effect, in the request's trace.
    broken.store(0, Ordering::SeqCst);
    bus.replay_dead_letter(letters[0].sequence).await.unwrap();
    assert_eq!(wait_for_effects(&pool, 1).await, 1);
    let traced: String = sqlx::query_scalar("SELECT aggregate FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(traced, trace_id);
    assert!(bus.dead_letters(None).await.unwrap().is_empty());
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}

mod thing_ops {
    use pd_proto::common::v1::IdRequest;
    pd_proto::operations! {
        service "things";
        CreateThing = "create_thing": IdRequest => IdRequest, creates;
    }
}

/// A creating handler: one effect row per run, committed with its answer.
fn things_server(pool: &PgPool) -> RpcServer<PgPool> {
    things_server_taking(pool, 0.0)
}

/// The same, its transaction open for `seconds` before the commit (a slow
/// run that a retry catches up with).
fn things_server_taking(pool: &PgPool, seconds: f64) -> RpcServer<PgPool> {
    RpcServer::new("things", pool.clone())
        .op(
            thing_ops::CreateThing,
            move |pool: PgPool, ctx, req: IdRequest| async move {
                let mut tx = pool
                    .begin()
                    .await
                    .map_err(|e| pd_bus::rpc::internal("begin", e))?;
                sqlx::query("INSERT INTO effects (event_id, aggregate) VALUES ($1, $2)")
                    .bind(uuid::Uuid::now_v7())
                    .bind(&req.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| pd_bus::rpc::internal("insert", e))?;
                sqlx::query("SELECT pg_sleep($1)")
                    .bind(seconds)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| pd_bus::rpc::internal("sleep", e))?;
                let answer = IdRequest {
                    id: format!("{} #{}", req.id, uuid::Uuid::now_v7()),
                };
                ctx.commit(tx, &answer).await?;
                Ok(answer)
            },
        )
        .with_idempotency(pool.clone())
}

#[tokio::test]
async fn a_crash_after_the_effect_never_lets_a_retry_repeat_it() {
    let (env, bus, pool) = setup().await;
    // The first server "dies" after its handler committed, before it could
    // record the answer the old way.
    let mut dying = things_server(&pool);
    dying.crash_after_handler = true;
    let stop = Shutdown::new();
    let first = dying.serve(bus.clone(), stop.clone()).await.unwrap();
    let ctx = CallContext {
        idempotency_key: Some("order-42".into()),
        ..Default::default()
    };
    let req = IdRequest { id: "thing".into() };
    let lost = bus.call::<thing_ops::CreateThing>(&req, &ctx).await;
    assert!(lost.is_err(), "the caller never got the answer");
    stop.cancel();
    first.await.unwrap();

    // The client retries against a restarted service: the first answer,
    // and still one effect.
    let stop = Shutdown::new();
    let second = things_server(&pool)
        .serve(bus.clone(), stop.clone())
        .await
        .unwrap();
    let replayed = bus
        .call::<thing_ops::CreateThing>(&req, &ctx)
        .await
        .unwrap();
    assert!(replayed.id.starts_with("thing #"), "{replayed:?}");
    let again = bus
        .call::<thing_ops::CreateThing>(&req, &ctx)
        .await
        .unwrap();
    assert_eq!(again, replayed);
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 1);
    // Another key is another request.
    let other = CallContext {
        idempotency_key: Some("order-43".into()),
        ..Default::default()
    };
    let fresh = bus
        .call::<thing_ops::CreateThing>(&req, &other)
        .await
        .unwrap();
    assert_ne!(fresh, replayed);
    stop.cancel();
    second.await.unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn two_runs_of_one_key_at_once_answer_alike_with_one_effect() {
    let (env, bus, pool) = setup().await;
    let stop = Shutdown::new();
    let server = things_server_taking(&pool, 0.3)
        .serve(bus.clone(), stop.clone())
        .await
        .unwrap();
    let ctx = CallContext {
        idempotency_key: Some("order-7".into()),
        ..Default::default()
    };
    let req = IdRequest { id: "thing".into() };
    // The retry arrives while the first run still holds its transaction.
    let (a, b) = tokio::join!(
        bus.call::<thing_ops::CreateThing>(&req, &ctx),
        bus.call::<thing_ops::CreateThing>(&req, &ctx)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b, "both answered the first run's answer");
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 1, "the second run's effect rolled back");
    // The same key with another body is refused by name.
    let other = IdRequest {
        id: "another".into(),
    };
    let e = bus
        .call::<thing_ops::CreateThing>(&other, &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.extensions["reason"], "idempotency_key_reused");
    stop.cancel();
    server.await.unwrap();
    env.cleanup().await;
}

/// Refusals of many keys at once: each run's answer differs (it carries
/// the run's number), so a key answered with another run's refusal, or a
/// run of a key whose answer was recorded, shows.
#[tokio::test]
async fn refusals_of_many_keys_at_once_are_recorded_once_each_and_replayed() {
    let (env, bus, pool) = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let stop = Shutdown::new();
    let server = RpcServer::new("things", pool.clone())
        .op(
            thing_ops::CreateThing,
            move |_: PgPool, _, req: IdRequest| {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    // Long enough for both runs of a key to be running at once.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err::<IdRequest, _>(AppError::conflict(format!("{} refused #{n}", req.id)))
                }
            },
        )
        .with_idempotency(pool.clone())
        .serve(bus.clone(), stop.clone())
        .await
        .unwrap();
    let refusal = |key: usize| {
        let bus = bus.clone();
        async move {
            let ctx = CallContext {
                idempotency_key: Some(format!("key-{key}")),
                ..Default::default()
            };
            let req = IdRequest {
                id: format!("thing {key}"),
            };
            let e = bus
                .call::<thing_ops::CreateThing>(&req, &ctx)
                .await
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Conflict, "{e:?}");
            e.detail
        }
    };
    // Every key twice at once: lookups and records share batches.
    let first = futures::future::join_all((0..60).map(|i| refusal(i % 30))).await;
    for key in 0..30 {
        assert!(
            first[key].starts_with(&format!("thing {key} refused #")),
            "{}",
            first[key]
        );
        assert_eq!(
            first[key],
            first[key + 30],
            "both runs of key-{key} answer alike"
        );
    }
    let ran = runs.load(Ordering::SeqCst);
    assert!(ran > 30, "some keys ran twice at once ({ran} runs)");
    let again = futures::future::join_all((0..30).map(refusal)).await;
    assert_eq!(
        again,
        first[..30],
        "each key replays its own recorded refusal"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        ran,
        "no recorded key ran again"
    );
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE outcome = 'error'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recorded, 30);
    stop.cancel();
    server.await.unwrap();
    env.cleanup().await;
}

/// The same creating operation written as one statement: the effect, its
/// first event (a new aggregate per run) and the recorded answer, with the
/// statement held open for `seconds` before its end.
fn things_server_in_one_statement(pool: &PgPool, bus: &Bus, seconds: f64) -> RpcServer<PgPool> {
    let outbox = Outbox::new(bus, "producer");
    RpcServer::new("things", pool.clone())
        .op(thing_ops::CreateThing, move |pool: PgPool, ctx, req: IdRequest| {
            let outbox = outbox.clone();
            async move {
                let aggregate = uuid::Uuid::now_v7().to_string();
                let answer = IdRequest {
                    id: format!("{} #{aggregate}", req.id),
                };
                let mut q = sqlx::QueryBuilder::new(
                    "WITH eff AS (INSERT INTO effects (event_id, aggregate) SELECT gen_random_uuid(), ",
                );
                q.push_bind(req.id.clone())
                    .push(" FROM (SELECT pg_sleep(")
                    .push_bind(seconds)
                    .push(")) s RETURNING aggregate)");
                outbox
                    .push_first_event(&mut q, "eff", "thing_happened", &aggregate, "tester", &req)
                    .map_err(|e| pd_bus::rpc::internal("event", e))?;
                ctx.push_answer(&mut q, "eff", &answer);
                q.push(" SELECT aggregate FROM eff");
                let written: Option<String> = ctx
                    .settle(q.build_query_scalar().fetch_optional(&pool).await)?
                    .map_err(|e| pd_bus::rpc::internal("statement", e))?;
                written.ok_or_else(|| AppError::conflict("nothing written"))?;
                Ok(answer)
            }
        })
        .with_idempotency(pool.clone())
}

#[tokio::test]
async fn one_statement_writes_effect_event_and_answer_once_per_key() {
    let (env, bus, pool) = setup().await;
    let stop = Shutdown::new();
    let server = things_server_in_one_statement(&pool, &bus, 0.3)
        .serve(bus.clone(), stop.clone())
        .await
        .unwrap();
    let ctx = CallContext {
        idempotency_key: Some("order-9".into()),
        ..Default::default()
    };
    let req = IdRequest { id: "thing".into() };
    // A retry while the first run's statement is still running.
    let (a, b) = tokio::join!(
        bus.call::<thing_ops::CreateThing>(&req, &ctx),
        bus.call::<thing_ops::CreateThing>(&req, &ctx)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b, "both answered the first run's answer");
    let again = bus
        .call::<thing_ops::CreateThing>(&req, &ctx)
        .await
        .unwrap();
    assert_eq!(again, a, "a later retry is answered from the record");
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 1, "the second run's statement rolled back whole");
    // One event, version 1 of its new aggregate, whose counter goes on
    // from there for the aggregate's next event.
    let envelopes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT envelope FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(envelopes.len(), 1);
    let env1 =
        <pd_proto::common::v1::EventEnvelope as prost::Message>::decode(envelopes[0].as_slice())
            .unwrap();
    assert_eq!(env1.version, 1);
    assert_eq!(a.id, format!("thing #{}", env1.aggregate_id));
    let mut tx = pool.begin().await.unwrap();
    Outbox::new(&bus, "producer")
        .write(&mut tx, "thing_changed", &env1.aggregate_id, "tester", &req)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM aggregate_versions WHERE aggregate_id = $1")
            .bind(&env1.aggregate_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(version, 2);
    stop.cancel();
    server.await.unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn a_key_whose_answer_expired_runs_again_in_either_kind_of_write() {
    let (env, bus, pool) = setup().await;
    for (i, server) in [
        things_server(&pool),
        things_server_in_one_statement(&pool, &bus, 0.0),
    ]
    .into_iter()
    .enumerate()
    {
        let stop = Shutdown::new();
        let task = server.serve(bus.clone(), stop.clone()).await.unwrap();
        let ctx = CallContext {
            idempotency_key: Some(format!("old-order-{i}")),
            ..Default::default()
        };
        let req = IdRequest { id: "thing".into() };
        let first = bus
            .call::<thing_ops::CreateThing>(&req, &ctx)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
        )
        .bind(format!("old-order-{i}"))
        .execute(&pool)
        .await
        .unwrap();
        let second = bus
            .call::<thing_ops::CreateThing>(&req, &ctx)
            .await
            .unwrap();
        assert_ne!(
            second, first,
            "server {i}: an expired answer is not replayed"
        );
        let replayed = bus
            .call::<thing_ops::CreateThing>(&req, &ctx)
            .await
            .unwrap();
        assert_eq!(replayed, second, "server {i}: the new answer is");
        stop.cancel();
        task.await.unwrap();
    }
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 4, "two runs for each kind of write");
    env.cleanup().await;
}

/// Keeps one row per aggregate (a snapshot's state); rejects the aggregate
/// "poison". Batches go through `newest_of`, single events through
/// `is_newest`: both must end in the same state.
fn snapshot_batcher(bus: &Bus, pool: &PgPool) -> Consumer {
    async fn keep(
        conn: &mut sqlx::PgConnection,
        e: &pd_bus::consumer::Event,
    ) -> Result<(), HandleError> {
        if e.envelope.aggregate_id == "poison" {
            return Err(HandleError::Reject("poison".into()));
        }
        sqlx::query("DELETE FROM effects WHERE aggregate = $1")
            .bind(&e.envelope.aggregate_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO effects (event_id, aggregate) VALUES ($1, $2)")
            .bind(e.event_id)
            .bind(&e.envelope.aggregate_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: "batcher",
        source: "producer",
        handler: Arc::new(|conn, event| {
            async move {
                if event.is_newest(conn).await? {
                    keep(conn, &event).await?;
                }
                Ok(())
            }
            .boxed()
        }),
        batch_handler: Some(Arc::new(|conn, events| {
            async move {
                for e in pd_bus::consumer::newest_of(conn, events).await? {
                    keep(conn, &e).await?;
                }
                Ok(())
            }
            .boxed()
        })),
    }
}

#[tokio::test]
async fn a_batch_with_a_bad_event_keeps_the_others_and_snapshots_end_newest() {
    let (env, bus, pool) = setup().await;
    let subject = bus.event_subject("producer", "thing_happened");
    let envelope = |aggregate: &str, version: u64| {
        let mut e = pd_bus::events::envelope("thing_happened", aggregate, "tester", &Empty {});
        e.version = version;
        e
    };
    let mut published = Vec::new();
    // Published before the consumer starts: they arrive together.
    for v in [1, 3, 2] {
        published.push(envelope("a", v));
    }
    for i in 0..20 {
        published.push(envelope(&format!("filler-{i}"), 1));
    }
    published.push(envelope("poison", 1));
    // The same event twice (published without a message id, so the stream keeps both).
    published.push(published[3].clone());
    for e in &published {
        bus.jetstream()
            .publish(subject.clone(), prost::Message::encode_to_vec(e).into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let shutdown = Shutdown::new();
    let task = snapshot_batcher(&bus, &pool)
        .start(shutdown.clone())
        .await
        .unwrap();
    // "a" ends at version 3 whatever the order; every filler once; the
    // poison alone goes to the dead letters.
    assert_eq!(wait_for_effects(&pool, 21).await, 21);
    let a: uuid::Uuid = sqlx::query_scalar("SELECT event_id FROM effects WHERE aggregate = 'a'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        a.to_string(),
        published[1].event_id,
        "the newest snapshot of a"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let letters = loop {
        let letters = bus.dead_letters(Some("batcher")).await.unwrap();
        if !letters.is_empty() || Instant::now() > deadline {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, published[23].event_id);

    // A later batch without a bad event: applied together, older copies skipped.
    for e in [envelope("a", 2), envelope("a", 4), envelope("b", 1)] {
        bus.jetstream()
            .publish(subject.clone(), prost::Message::encode_to_vec(&e).into())
            .await
            .unwrap()
            .await
            .unwrap();
        published.push(e);
    }
    assert_eq!(wait_for_effects(&pool, 22).await, 22);
    let a: uuid::Uuid = sqlx::query_scalar("SELECT event_id FROM effects WHERE aggregate = 'a'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(a.to_string(), published[26].event_id, "version 4 of a");
    shutdown.cancel();
    task.await.unwrap();
    env.cleanup().await;
}

/// Operations of a test service: one a user sends, one a screen polls.
mod polled_ops {
    use pd_proto::common::v1::IdRequest;
    pd_proto::operations! {
        service "polled";
        Hold = "hold": IdRequest => IdRequest;
        Poll = "poll": IdRequest => IdRequest, background;
    }
}

#[tokio::test]
async fn polled_reads_leave_a_quarter_of_the_service_to_other_requests() {
    use polled_ops::{Hold, Poll};
    let env = TestEnv::new().unwrap();
    let verifier = TokenVerifier::new(&env.settings.auth).unwrap();
    let mut nats = env.settings.nats.clone();
    nats.max_in_flight = 4;
    nats.max_queued = 0;
    let bus = Bus::connect(&nats, verifier).await.unwrap();
    let shutdown = Shutdown::new();
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let gate = release.clone();
    let server = RpcServer::new("polled", ())
        .op(Hold, move |_, _, req: IdRequest| {
            let gate = gate.clone();
            async move {
                gate.acquire()
                    .await
                    .map_err(|e| AppError::internal(e.to_string()))?
                    .forget();
                Ok(req)
            }
        })
        .op(Poll, |_, _, req: IdRequest| async move { Ok(req) });
    let task = server.serve(bus.clone(), shutdown.clone()).await.unwrap();
    let ctx = CallContext::default();
    let poll = || async {
        bus.call::<Poll>(&IdRequest { id: "poll".into() }, &ctx)
            .await
    };
    // Idle, a poll is answered.
    assert_eq!(poll().await.unwrap().id, "poll");
    let hold = |id: &str| {
        let (bus, ctx, req) = (bus.clone(), ctx.clone(), IdRequest { id: id.into() });
        tokio::spawn(async move { bus.call::<Hold>(&req, &ctx).await })
    };
    let held: Vec<_> = ["a", "b", "c"].into_iter().map(hold).collect();
    let in_flight = |n: usize| format!("pd_requests_in_flight{{service=\"polled\"}} {n}");
    wait_for_metric(&in_flight(3)).await;
    // Three of four slots busy: the last is kept for what users send, so
    // a poll is refused at once, asked to come back in 5 s, and counted.
    let started = Instant::now();
    let err = poll().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert_eq!(
        err.extensions.get("retry_after").map(String::as_str),
        Some("5")
    );
    assert!(started.elapsed() < Duration::from_millis(500), "at once");
    let page = pd_runtime::metrics::render();
    assert!(
        page.contains("pd_requests_shed_total{at=\"polled\",reason=\"background\"} 1"),
        "{page}"
    );
    // A request a user sent still gets the last slot.
    let fourth = hold("d");
    wait_for_metric(&in_flight(4)).await;
    release.add_permits(4);
    assert_eq!(fourth.await.unwrap().unwrap().id, "d");
    for (h, id) in held.into_iter().zip(["a", "b", "c"]) {
        assert_eq!(h.await.unwrap().unwrap().id, id);
    }
    assert_eq!(poll().await.unwrap().id, "poll", "answered again once idle");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

/// Waits until the metrics page shows `line` (requests arrive in their own time).
async fn wait_for_metric(line: &str) {
    for _ in 0..200 {
        if pd_runtime::metrics::render().contains(line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never saw {line}");
}

#[tokio::test]
async fn a_full_service_sheds_requests_at_once_and_keeps_serving_the_admitted() {
    let env = TestEnv::new().unwrap();
    let verifier = TokenVerifier::new(&env.settings.auth).unwrap();
    let mut nats = env.settings.nats.clone();
    nats.max_in_flight = 1;
    nats.max_queued = 1;
    let bus = Bus::connect(&nats, verifier).await.unwrap();
    let shutdown = Shutdown::new();
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let server = RpcServer::new("busy", ()).route("hold", move |_, _, req: IdRequest| {
        let gate = gate.clone();
        async move {
            gate.notified().await;
            Ok(req)
        }
    });
    let task = server.serve(bus.clone(), shutdown.clone()).await.unwrap();
    let ctx = CallContext::default();
    let call = |id: &str| {
        let (bus, ctx, req) = (bus.clone(), ctx.clone(), IdRequest { id: id.into() });
        tokio::spawn(async move {
            bus.request::<_, IdRequest>("busy", "hold", &req, &ctx)
                .await
        })
    };
    // One runs, one waits for its slot: both are admitted.
    let running = call("running");
    wait_for_metric("pd_requests_in_flight{service=\"busy\"} 1").await;
    let queued = call("queued");
    wait_for_metric("pd_requests_queued{service=\"busy\"} 1").await;
    // The third finds both bounds reached: refused at once, with a retry hint.
    let started = Instant::now();
    let err = bus
        .request::<_, IdRequest>("busy", "hold", &IdRequest { id: "shed".into() }, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert_eq!(
        err.extensions.get("retry_after").map(String::as_str),
        Some("1")
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "shed at once"
    );
    let page = pd_runtime::metrics::render();
    assert!(
        page.contains("pd_requests_shed_total{at=\"busy\",reason=\"full\"} 1"),
        "{page}"
    );
    // Released, the admitted two complete with their own answers.
    release.notify_one();
    assert_eq!(running.await.unwrap().unwrap().id, "running");
    release.notify_one();
    assert_eq!(queued.await.unwrap().unwrap().id, "queued");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
