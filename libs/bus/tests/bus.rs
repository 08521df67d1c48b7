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
