//! The surveys service on its own, over NATS, against real PostgreSQL and
//! JetStream: monitoring's completion events open post-course windows (the
//! region's default questionnaire when the program has none), and the
//! educator's response goes out as an event carrying the completion.

use futures::StreamExt;
use pd_bus::{Bus, CallContext};
use pd_domain::{Grant, Principal, Role};
use pd_proto::monitoring::v1 as monitoring;
use pd_proto::ops::surveys as ops;
use pd_proto::surveys::v1 as pb;
use pd_runtime::Shutdown;
use pd_runtime::tokens::{TokenIssuer, TokenVerifier};
use pd_testkit::TestEnv;
use std::time::Duration;
use uuid::Uuid;

fn as_role(env: &TestEnv, role: Role, scope: Uuid) -> CallContext {
    let principal = Principal {
        user_id: Uuid::now_v7(),
        login: "test".into(),
        grants: vec![Grant::new(role, Some(scope))],
    };
    let token = TokenIssuer::new(&env.settings.auth)
        .unwrap()
        .issue(&principal)
        .unwrap();
    CallContext {
        authorization: Some(format!("Bearer {token}")),
        ..Default::default()
    }
}

/// Publishes an event on monitoring's stream, as its relay would.
async fn monitoring_event<M: prost::Message>(bus: &Bus, event: &str, aggregate: &str, payload: &M) {
    let envelope = pd_bus::events::envelope(event, aggregate, "test", payload);
    let mut h = async_nats::HeaderMap::new();
    h.insert("Nats-Msg-Id", envelope.event_id.as_str());
    bus.jetstream()
        .publish_with_headers(
            bus.event_subject("monitoring", event),
            h,
            bytes::Bytes::from(prost::Message::encode_to_vec(&envelope)),
        )
        .await
        .unwrap()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_completion_opens_the_post_course_window_once_and_the_response_names_it() {
    let env = TestEnv::new().unwrap();
    env.database(pd_surveys::SERVICE, &pd_surveys::MIGRATORS)
        .await
        .unwrap()
        .close()
        .await;
    let shutdown = Shutdown::new();
    let surveys = pd_surveys::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();
    let mut submitted = bus
        .client()
        .subscribe(bus.event_subject("surveys", "response_submitted"))
        .await
        .unwrap();
    let (region, educator, completion) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let teacher = as_role(&env, Role::Educator, educator);
    let now = chrono::Utc::now();
    let opened = monitoring::PostCourseWindowOpened {
        completion_id: completion.to_string(),
        region_id: region.to_string(),
        program_id: Uuid::now_v7().to_string(),
        educator_id: educator.to_string(),
        opens_at: now.to_rfc3339(),
        closes_at: (now + chrono::Duration::days(10)).to_rfc3339(),
        attempts_limit: 2,
    };
    // Delivered twice (a replay): one window all the same. A second
    // completion after them shows when both deliveries were handled
    // (one consumer, in stream order).
    for _ in 0..2 {
        monitoring_event(
            &bus,
            "post_course_window_opened",
            &completion.to_string(),
            &opened,
        )
        .await;
    }
    let later = monitoring::PostCourseWindowOpened {
        completion_id: Uuid::now_v7().to_string(),
        ..opened.clone()
    };
    monitoring_event(
        &bus,
        "post_course_window_opened",
        &later.completion_id,
        &later,
    )
    .await;
    let list = pb::ListWindowsRequest::default();
    let mut windows = pb::WindowList::default();
    for _ in 0..400 {
        windows = bus.call::<ops::ListWindows>(&list, &teacher).await.unwrap();
        if windows.items.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(windows.items.len(), 2, "{windows:?}");
    let w = windows
        .items
        .iter()
        .find(|w| w.reference == completion.to_string())
        .expect("the first completion's window");
    assert_eq!(
        (w.purpose.as_str(), w.source.as_str(), w.status.as_str()),
        ("post_course_survey", "monitoring", "open")
    );
    // No test bank for the program or the region: only the questionnaire,
    // the region's five-question default.
    let answers = (1..=5)
        .map(|i| pb::Answer {
            question_id: format!("q{i}"),
            scale: 4,
            ..Default::default()
        })
        .collect();
    let req = pb::SubmitResponseRequest {
        window_id: w.id.clone(),
        answers,
    };
    let r = bus
        .call::<ops::SubmitResponse>(&req, &teacher)
        .await
        .unwrap();
    assert!(r.editable);
    let msg = tokio::time::timeout(Duration::from_secs(10), submitted.next())
        .await
        .expect("response_submitted")
        .unwrap();
    let env_: pd_proto::common::v1::EventEnvelope = prost::Message::decode(msg.payload).unwrap();
    let e: pb::ResponseSubmitted = prost::Message::decode(env_.payload.as_slice()).unwrap();
    assert_eq!(
        (e.reference.as_str(), e.purpose.as_str(), e.first),
        (completion.to_string().as_str(), "post_course_survey", true)
    );
    // Someone else's educator does not see the window.
    let other = as_role(&env, Role::Educator, Uuid::now_v7());
    let err = bus
        .call::<ops::GetWindow>(
            &pb::WindowRequest {
                window_id: w.id.clone(),
            },
            &other,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, pd_domain::ErrorKind::NotFound);
    shutdown.cancel();
    surveys.wait().await;
    env.cleanup().await;
}
