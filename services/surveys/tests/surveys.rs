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
    // The sweeper runs often; the service's clock is moved, not waited for.
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
    env.settings.clock.advance(chrono::Duration::minutes(21));
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
    // Stamped by the same clock that ran it out: closed at its deadline or after.
    let closed_attempt = bus
        .call::<ops::GetAttempt>(
            &pb::AttemptRequest {
                attempt_id: attempt.id.clone(),
            },
            &teacher,
        )
        .await
        .unwrap();
    let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert!(
        instant(&closed_attempt.closed_at) >= instant(&closed_attempt.deadline),
        "{closed_attempt:?}"
    );

    // Both windows end: who responded (the attempt counts) and who did not.
    env.settings.clock.advance(chrono::Duration::days(10));
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

/// Calls `O` until the service has learnt what the request names from
/// other services' events (a 404 or 422 meanwhile).
async fn once_known<O: pd_proto::Operation>(
    bus: &Bus,
    req: &O::Request,
    ctx: &CallContext,
) -> O::Response {
    for _ in 0..400 {
        match bus.call::<O>(req, ctx).await {
            Ok(r) => return r,
            Err(e)
                if matches!(
                    e.kind,
                    pd_domain::ErrorKind::NotFound | pd_domain::ErrorKind::Invalid
                ) =>
            {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => panic!("{}: {e:?}", O::NAME),
        }
    }
    panic!("{}: never known", O::NAME)
}

#[tokio::test]
async fn the_trajectory_ranks_published_programs_by_the_deficits_they_address() {
    use pd_domain::Grant;
    use pd_proto::identity::v1 as identity;
    use pd_proto::registry::v1 as registry;
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
    let (region, campaign, educator, provider) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let now = chrono::Utc::now();
    // The registry's calendar and identity's educator, as their relays send them.
    let calendar = registry::CampaignCalendarChanged {
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        year: 2026,
        time_zone: "Europe/Samara".into(),
        phases: vec![registry::PhaseWindow {
            phase: "needs_survey".into(),
            starts_on: (now - chrono::Duration::days(1)).date_naive().to_string(),
            ends_on: (now + chrono::Duration::days(7)).date_naive().to_string(),
            opens_at: (now - chrono::Duration::days(1)).to_rfc3339(),
            closes_at: (now + chrono::Duration::days(7)).to_rfc3339(),
        }],
    };
    publish_event(
        &bus,
        "registry",
        "campaign_calendar_changed",
        &campaign.to_string(),
        0,
        &calendar,
    )
    .await
    .unwrap();
    let snapshot = identity::EducatorSnapshot {
        id: educator.to_string(),
        last_name: "Иванова".into(),
        first_name: "Мария".into(),
        region_id: region.to_string(),
        municipality_id: Uuid::now_v7().to_string(),
        organization_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let created = identity::EducatorCreated {
        educator: Some(snapshot),
    };
    publish_event(
        &bus,
        "identity",
        "educator_created",
        &educator.to_string(),
        1,
        &created,
    )
    .await
    .unwrap();
    // Three published programs: P2 addresses two of her deficits, P1 one, P3 none.
    for (title, competences) in [
        ("P1", vec!["K1"]),
        ("P2", vec!["K1", "K2"]),
        ("P3", vec!["K3"]),
    ] {
        let entry = registry::RegistryEntryPublished {
            campaign_id: campaign.to_string(),
            region_id: region.to_string(),
            entry: Some(registry::CatalogEntry {
                program_id: Uuid::now_v7().to_string(),
                provider_id: provider.to_string(),
                title: title.into(),
                competences: competences.into_iter().map(str::to_owned).collect(),
                ..Default::default()
            }),
        };
        let id = entry
            .entry
            .as_ref()
            .map(|e| e.program_id.clone())
            .unwrap_or_default();
        publish_event(&bus, "registry", "registry_entry_published", &id, 1, &entry)
            .await
            .unwrap();
    }

    // A diagnostic finds K1 and K2 (answered wrong), not K3.
    let operator = context_as(&env.settings.auth, Role::RegionalOperator, Some(region)).unwrap();
    let catalog = pb::ImportCompetencesRequest {
        campaign_id: campaign.to_string(),
        data: "code;name\nK1;Урок\nK2;Оценивание\nK3;Воспитание\n"
            .as_bytes()
            .to_vec(),
        dry_run: false,
    };
    once_known::<ops::ImportCompetences>(&bus, &catalog, &operator).await;
    let question = |code: &str| pb::Question {
        id: code.to_lowercase(),
        kind: "single_choice".into(),
        text: "Верно ли?".into(),
        options: vec!["нет".into(), "да".into()],
        correct: vec![1],
        competence: code.into(),
        ..Default::default()
    };
    let diagnostic = pb::SaveInstrumentRequest {
        campaign_id: campaign.to_string(),
        kind: "test".into(),
        purpose: "diagnostic".into(),
        title: "Диагностика".into(),
        questions: ["K1", "K2", "K3"].map(question).to_vec(),
        sections: ["K1", "K2", "K3"]
            .map(|c| pb::Section {
                competence: c.into(),
                threshold_percent: 50,
            })
            .to_vec(),
        ..Default::default()
    };
    let i = bus
        .call::<ops::CreateInstrument>(&diagnostic, &operator)
        .await
        .unwrap();
    let open = pb::OpenWindowRequest {
        instrument_id: i.id,
        educator_ids: vec![educator.to_string()],
        closes_at: (now + chrono::Duration::days(1)).to_rfc3339(),
        ..Default::default()
    };
    let w = once_known::<ops::OpenWindow>(&bus, &open, &operator).await;
    let teacher = pd_bus::testing::context_with(
        &env.settings.auth,
        vec![Grant {
            role: Role::Educator,
            scope: Some(educator),
            region: Some(region),
        }],
    )
    .unwrap();
    let a = bus
        .call::<ops::StartAttempt>(&pb::WindowRequest { window_id: w.id }, &teacher)
        .await
        .unwrap();
    let answers = a
        .questions
        .iter()
        .map(|q| pb::Answer {
            question_id: q.id.clone(),
            choices: vec![if q.competence == "K3" { 1 } else { 0 }],
            ..Default::default()
        })
        .collect();
    let submit = pb::SubmitAttemptRequest {
        attempt_id: a.id,
        answers,
        save_only: false,
    };
    bus.call::<ops::SubmitAttempt>(&submit, &teacher)
        .await
        .unwrap();

    let ask = pb::TrajectoryRequest {
        campaign_id: campaign.to_string(),
        ..Default::default()
    };
    let mut t = pb::Trajectory::default();
    for _ in 0..400 {
        t = bus.call::<ops::Trajectory>(&ask, &teacher).await.unwrap();
        if t.items.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(t.deficits, vec!["K1", "K2"]);
    let ranked: Vec<(&str, Vec<String>)> = t
        .items
        .iter()
        .map(|i| (i.title.as_str(), i.addresses.clone()))
        .collect();
    assert_eq!(
        ranked,
        vec![
            ("P2", vec!["K1".to_owned(), "K2".to_owned()]),
            ("P1", vec!["K1".to_owned()])
        ]
    );
    shutdown.cancel();
    surveys.wait().await;
    env.cleanup().await;
}
