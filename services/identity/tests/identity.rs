//! The identity service on its own, over NATS, against real PostgreSQL and
//! JetStream: its requests, its scope checks, its events.

use futures::StreamExt;
use pd_bus::testing::context_as;
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Role};
use pd_proto::common::v1::EventEnvelope;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use prost::Message;
use std::time::Duration;
use uuid::Uuid;

fn as_role(env: &TestEnv, role: Role, scope: Option<Uuid>) -> CallContext {
    context_as(&env.settings.auth, role, scope).unwrap()
}

#[tokio::test]
async fn requests_are_scope_checked_and_changes_become_events() {
    let env = TestEnv::new().unwrap();
    env.database(pd_identity::SERVICE, &[&pd_identity::MIGRATOR])
        .await
        .unwrap()
        .close()
        .await;
    let shutdown = Shutdown::new();
    let identity = pd_identity::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();

    let create = pb::CreateRegionRequest {
        code: "16".into(),
        name: "Республика Татарстан".into(),
        time_zone: "Europe/Moscow".into(),
        pd_model: "un_quota".into(),
        pd_interval_years: None,
    };
    // Without a token, and with a role that may not: refused in the service.
    let err = bus
        .call::<identity_ops::CreateRegion>(&create, &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    let operator = as_role(&env, Role::OrgOperator, Some(Uuid::now_v7()));
    let err = bus
        .call::<identity_ops::CreateRegion>(&create, &operator)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);

    let admin = as_role(&env, Role::Admin, None);
    let region: pb::Region = bus
        .call::<identity_ops::CreateRegion>(&create, &admin)
        .await
        .unwrap();
    assert_eq!((region.code.as_str(), region.pd_interval_years), ("16", 3));

    // The change reached the stream through the outbox, in its envelope.
    let stream = bus
        .jetstream()
        .get_stream(bus.stream_name("identity"))
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: bus.event_subject("identity", "region_created"),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let envelope = EventEnvelope::decode(msg.payload.clone()).unwrap();
    assert_eq!(envelope.event_type, "region_created");
    assert_eq!(envelope.aggregate_id, region.id);
    assert_eq!(
        Uuid::parse_str(&envelope.event_id)
            .unwrap()
            .get_version_num(),
        7
    );
    let event = pb::RegionCreated::decode(envelope.payload.as_slice()).unwrap();
    assert_eq!(event.region.unwrap().name, "Республика Татарстан");
    assert_eq!(
        msg.headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned()),
        Some(envelope.event_id.clone())
    );

    // Logging in with a wrong password is a 401-kind error.
    let err = bus
        .call::<identity_ops::Login>(
            &pb::LoginRequest {
                login: "nobody".into(),
                password: "wrong".into(),
                ..Default::default()
            },
            &CallContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);

    shutdown.cancel();
    identity.wait().await;
    env.cleanup().await;
}
