//! The surveys service on its own, over NATS, against real PostgreSQL and
//! JetStream: monitoring's completion events open post-course windows (the
//! region's default questionnaire when the program has none), and the
//! educator's response goes out as an event carrying the completion.

use futures::StreamExt;
use pd_bus::testing::{context_as, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::Role;
use pd_proto::monitoring::v1 as monitoring;
use pd_proto::ops::surveys as ops;
use pd_proto::surveys::v1 as pb;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::time::Duration;
use uuid::Uuid;

fn as_role(env: &TestEnv, role: Role, scope: Uuid) -> CallContext {
    context_as(&env.settings.auth, role, Some(scope)).unwrap()
}

/// Publishes an event on monitoring's stream, as its relay would.
async fn monitoring_event<M: prost::Message>(bus: &Bus, event: &str, aggregate: &str, payload: &M) {
    publish_event(bus, "monitoring", event, aggregate, 0, payload)
        .await
        .unwrap();
}

/// The caller's windows once `ready` holds of them (they follow events);
/// what they are after 10 s otherwise.
async fn windows_once(
    bus: &Bus,
    ctx: &CallContext,
    ready: impl Fn(&pb::WindowList) -> bool,
) -> pb::WindowList {
    let list = pb::ListWindowsRequest::default();
    let mut windows = pb::WindowList::default();
    for _ in 0..400 {
        windows = bus.call::<ops::ListWindows>(&list, ctx).await.unwrap();
        if ready(&windows) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    windows
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
    // The later completion's window shows both deliveries were handled.
    let windows = windows_once(&bus, &teacher, |w| {
        w.items.iter().any(|w| w.reference == later.completion_id)
    })
    .await;
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

/// The next event of `subject` within 10 s, decoded.
async fn next_event<M: prost::Message + Default>(sub: &mut async_nats::Subscriber) -> M {
    let msg = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    let envelope: pd_proto::common::v1::EventEnvelope =
        prost::Message::decode(msg.payload).unwrap();
    M::decode(envelope.payload.as_slice()).unwrap()
}

#[tokio::test]
async fn attempts_and_windows_out_of_time_are_closed_scored_and_reported() {
    let mut env = TestEnv::new().unwrap();
    // The sweeper runs often; instants are moved in the database, not waited for.
    env.settings.surveys.sweep_interval_ms = 50;
    let db = env
        .database(pd_surveys::SERVICE, &pd_surveys::MIGRATORS)
        .await
        .unwrap();
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
    let mut scored = bus
        .client()
        .subscribe(bus.event_subject("surveys", "test_attempt_scored"))
        .await
        .unwrap();
    let mut closed = bus
        .client()
        .subscribe(bus.event_subject("surveys", "window_closed"))
        .await
        .unwrap();
    let (region, educator, completion) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let operator = as_role(&env, Role::RegionalOperator, region);
    let teacher = as_role(&env, Role::Educator, educator);

    // The region's post-course test: two questions, 20 minutes.
    let question = |id: &str| pb::Question {
        id: id.into(),
        kind: "single_choice".into(),
        text: "Верно ли?".into(),
        options: vec!["нет".into(), "да".into()],
        correct: vec![1],
        ..Default::default()
    };
    let test = pb::SaveInstrumentRequest {
        region_id: region.to_string(),
        kind: "test".into(),
        purpose: "post_course_test".into(),
        title: "Итоговый тест".into(),
        questions: vec![question("q1"), question("q2")],
        time_limit_minutes: 20,
        pass_percent: 50,
        ..Default::default()
    };
    bus.call::<ops::CreateInstrument>(&test, &operator)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let opened = monitoring::PostCourseWindowOpened {
        completion_id: completion.to_string(),
        region_id: region.to_string(),
        program_id: String::new(),
        educator_id: educator.to_string(),
        opens_at: now.to_rfc3339(),
        closes_at: (now + chrono::Duration::days(10)).to_rfc3339(),
        attempts_limit: 2,
    };
    monitoring_event(
        &bus,
        "post_course_window_opened",
        &completion.to_string(),
        &opened,
    )
    .await;
    let windows = windows_once(&bus, &teacher, |w| w.items.len() >= 2).await;
    let test_window = windows
        .items
        .iter()
        .find(|w| w.purpose == "post_course_test")
        .expect("the test's window");
    assert_eq!(test_window.attempts_limit, 2);
    let survey_window = windows
        .items
        .iter()
        .find(|w| w.purpose == "post_course_survey")
        .expect("the questionnaire's window");

    // Answers saved, then the time limit passes: the sweeper scores them.
    let attempt = bus
        .call::<ops::StartAttempt>(
            &pb::WindowRequest {
                window_id: test_window.id.clone(),
            },
            &teacher,
        )
        .await
        .unwrap();
    let save = pb::SubmitAttemptRequest {
        attempt_id: attempt.id.clone(),
        answers: attempt
            .questions
            .iter()
            .map(|q| pb::Answer {
                question_id: q.id.clone(),
                choices: vec![1],
                ..Default::default()
            })
            .collect(),
        save_only: true,
    };
    bus.call::<ops::SubmitAttempt>(&save, &teacher)
        .await
        .unwrap();
    sqlx::query("UPDATE attempts SET deadline = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&attempt.id)
        .execute(&db)
        .await
        .unwrap();
    let e: pb::TestAttemptScored = next_event(&mut scored).await;
    assert_eq!(
        (
            e.closed_reason.as_str(),
            e.percent,
            e.best_percent,
            e.best_passed,
            e.attempts_used
        ),
        ("time_limit", 100, 100, true, 1)
    );
    assert_eq!(e.reference, completion.to_string());

    // Both windows end: who responded (the attempt counts) and who did not.
    sqlx::query(
        "UPDATE windows SET opens_at = now() - interval '2 seconds', closes_at = now() - interval '1 second'",
    )
    .execute(&db)
    .await
    .unwrap();
    let mut events: Vec<pb::WindowClosed> =
        vec![next_event(&mut closed).await, next_event(&mut closed).await];
    events.sort_by(|a, b| a.purpose.cmp(&b.purpose));
    assert_eq!(
        (
            events[0].purpose.as_str(),
            events[0].not_responded.clone(),
            events[0].responded
        ),
        ("post_course_survey", vec![educator.to_string()], 0)
    );
    assert_eq!(
        (
            events[1].purpose.as_str(),
            events[1].not_responded.len(),
            events[1].responded
        ),
        ("post_course_test", 0, 1)
    );
    let late = pb::SubmitResponseRequest {
        window_id: survey_window.id.clone(),
        answers: vec![],
    };
    let err = bus
        .call::<ops::SubmitResponse>(&late, &teacher)
        .await
        .unwrap_err();
    assert_eq!(err.kind, pd_domain::ErrorKind::Conflict);
    shutdown.cancel();
    surveys.wait().await;
    db.close().await;
    env.cleanup().await;
}
