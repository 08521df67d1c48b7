//! The registry on its own, over NATS, against real PostgreSQL and
//! JetStream: it learns regions and providers from identity's events and
//! gates actions on its campaign calendar.

use pd_bus::testing::{context_as, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Role};
use pd_proto::identity::v1 as identity;
use pd_proto::ops::registry as registry_ops;
use pd_proto::registry::v1 as pb;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::time::Duration;
use uuid::Uuid;

fn as_role(env: &TestEnv, role: Role, scope: Uuid) -> CallContext {
    context_as(&env.settings.auth, role, Some(scope)).unwrap()
}

/// Publishes an event on identity's stream, as identity's relay would.
async fn identity_event<M: prost::Message>(bus: &Bus, event: &str, aggregate: &str, payload: &M) {
    identity_event_version(bus, event, aggregate, 0, payload).await;
}

/// The same with the aggregate's version the outbox would have given it.
async fn identity_event_version<M: prost::Message>(
    bus: &Bus,
    event: &str,
    aggregate: &str,
    version: u64,
    payload: &M,
) {
    publish_event(bus, "identity", event, aggregate, version, payload)
        .await
        .unwrap();
}

/// Calls `O` until the registry knows what the request names: a 422 (not
/// learnt from identity's events yet) or a 503 (the service's first
/// moments) is tried again; anything else fails the test.
async fn until_known<O: pd_proto::Operation>(
    bus: &Bus,
    req: &O::Request,
    ctx: &CallContext,
) -> Option<O::Response> {
    for _ in 0..200 {
        match bus.call::<O>(req, ctx).await {
            Ok(r) => return Some(r),
            Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Unavailable) => {
                tokio::time::sleep(Duration::from_millis(25)).await
            }
            Err(e) => panic!("{}: {e:?}", O::NAME),
        }
    }
    None
}

/// The calendar with program submission starting in the given number of
/// days; the survey sits on January 1st of one year for every call, so
/// calendars of one test belong to one campaign year whatever the date.
fn phases(submission_starts_in_days: i64) -> (i32, Vec<pb::Phase>) {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let year = (today - chrono::Duration::days(60)).year();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let s = submission_starts_in_days;
    let mut phases = vec![pb::Phase {
        phase: "needs_survey".into(),
        starts_on: format!("{year}-01-01"),
        ends_on: format!("{year}-01-02"),
    }];
    let spans = [
        (s, s + 5),
        (s + 6, s + 10),
        (s + 11, s + 15),
        (s + 16, s + 20),
        (s + 21, s + 40),
    ];
    for (p, (a, b)) in pd_calendar::PHASES.iter().skip(1).zip(spans) {
        phases.push(pb::Phase {
            phase: (*p).into(),
            starts_on: day(a),
            ends_on: day(b),
        });
    }
    (year, phases)
}

#[tokio::test]
async fn learns_from_identity_and_gates_actions_on_the_calendar() {
    let env = TestEnv::new().unwrap();
    env.database(pd_registry::SERVICE, &pd_registry::MIGRATORS)
        .await
        .unwrap()
        .close()
        .await;
    let shutdown = Shutdown::new();
    let registry = pd_registry::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();
    let region = Uuid::now_v7();
    let provider = Uuid::now_v7();
    let ministry = as_role(&env, Role::Ministry, region);
    let (year, calendar) = phases(5);
    let create = pb::CreateCampaignRequest {
        region_id: region.to_string(),
        year,
        title: "ПК".into(),
        phases: calendar,
    };
    // Before identity's event the region is unknown: a 422 naming it.
    let err = bus
        .call::<registry_ops::CreateCampaign>(&create, &ministry)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.fields[0].field.as_str()),
        (ErrorKind::Invalid, "region_id")
    );

    let r = identity::Region {
        id: region.to_string(),
        time_zone: "Asia/Yekaterinburg".into(),
        ..Default::default()
    };
    identity_event(
        &bus,
        "region_created",
        &r.id,
        &identity::RegionCreated {
            region: Some(r.clone()),
        },
    )
    .await;
    let p = identity::Provider {
        id: provider.to_string(),
        region_id: region.to_string(),
        name: "ИРО".into(),
        licence_number: "Л035".into(),
        ..Default::default()
    };
    identity_event(
        &bus,
        "provider_created",
        &provider.to_string(),
        &identity::ProviderCreated { provider: Some(p) },
    )
    .await;

    let campaign = until_known::<registry_ops::CreateCampaign>(&bus, &create, &ministry).await;
    let campaign = campaign.expect("the registry never learnt of the region");
    assert_eq!(campaign.time_zone, "Asia/Yekaterinburg");
    assert_eq!(campaign.current_phase, "", "no phase is open today");

    // Drafting is always possible; submitting only in the submission phase.
    let admin = as_role(&env, Role::ProviderAdmin, provider);
    let mut program: Option<pb::Program> = None;
    for _ in 0..100 {
        let fields = pb::ProgramFields {
            kind: "ordinary".into(),
            title: "Функциональная грамотность".into(),
            direction: "Предметные компетенции".into(),
            topic: "Математика".into(),
            annotation: "Аннотация".into(),
            hours: 16,
            form: "distance".into(),
            target_positions: vec!["учитель".into()],
            modules: vec![pb::Module {
                name: "Модуль".into(),
                hours: 16,
                assessment_form: "тест".into(),
            }],
            max_group_size: 30,
            ..Default::default()
        };
        let req = pb::CreateProgramRequest {
            campaign_id: campaign.id.clone(),
            provider_id: provider.to_string(),
            fields: Some(fields),
        };
        match bus.call::<registry_ops::CreateProgram>(&req, &admin).await {
            Ok(p) => {
                program = Some(p);
                break;
            }
            Err(e) if e.kind == ErrorKind::Invalid && e.fields[0].field == "provider_id" => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let program = program.expect("the registry never learnt of the provider");
    assert_eq!(program.provider_name, "ИРО");
    // A second draft, left unsubmitted until the phase has closed.
    let late_req = pb::CreateProgramRequest {
        campaign_id: campaign.id.clone(),
        provider_id: provider.to_string(),
        fields: Some(pb::ProgramFields {
            title: "Читательская грамотность".into(),
            ..program.fields.clone().unwrap_or_default()
        }),
    };
    let late: pb::Program = bus
        .call::<registry_ops::CreateProgram>(&late_req, &admin)
        .await
        .unwrap();
    let err = bus
        .call::<registry_ops::SubmitProgram>(
            &pb::ProgramActionRequest {
                id: program.id.clone(),
            },
            &admin,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(
        err.extensions.get("phase").map(String::as_str),
        Some("program_submission")
    );
    assert!(
        err.extensions.contains_key("phase_starts_on")
            && err.extensions.contains_key("phase_ends_on")
    );

    // Opening the phase (a calendar change) lets it through.
    let (_, open_now) = phases(-1);
    let update = pb::UpdateCampaignRequest {
        id: campaign.id.clone(),
        title: None,
        phases: open_now,
    };
    let c: pb::Campaign = bus
        .call::<registry_ops::UpdateCampaign>(&update, &ministry)
        .await
        .unwrap();
    assert_eq!(c.current_phase, "program_submission");
    let submitted: pb::Program = bus
        .call::<registry_ops::SubmitProgram>(&pb::ProgramActionRequest { id: program.id }, &admin)
        .await
        .unwrap();
    assert_eq!(submitted.status, "submitted");

    // The registry judges phases by the service's clock, the one every
    // service is started with: six days on, submission (to day 4) is
    // over and the expert review (days 5 to 9) runs, in the campaign's
    // view, its list and its gates alike.
    env.settings.clock.advance(chrono::Duration::days(6));
    let got: pb::Campaign = bus
        .call::<registry_ops::GetCampaign>(
            &pd_proto::common::v1::IdRequest {
                id: campaign.id.clone(),
            },
            &ministry,
        )
        .await
        .unwrap();
    assert_eq!(got.current_phase, "expert_review");
    let listed: pb::CampaignList = bus
        .call::<registry_ops::ListCampaigns>(
            &pb::ListCampaignsRequest {
                region_id: region.to_string(),
                ..Default::default()
            },
            &ministry,
        )
        .await
        .unwrap();
    let phases_listed: Vec<&str> = listed
        .items
        .iter()
        .map(|c| c.current_phase.as_str())
        .collect();
    assert_eq!(phases_listed, ["expert_review"]);
    let err = bus
        .call::<registry_ops::SubmitProgram>(&pb::ProgramActionRequest { id: late.id }, &admin)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(
        err.extensions.get("phase").map(String::as_str),
        Some("program_submission")
    );

    shutdown.cancel();
    registry.wait().await;
    env.cleanup().await;
}

/// Identity's events reach the registry out of order (a NAK's backoff, two
/// relays): the newer region snapshot and a revocation newer than its
/// grant win, whatever the order of delivery.
#[tokio::test]
async fn read_models_keep_the_newest_version_of_late_events() {
    let env = TestEnv::new().unwrap();
    env.database(pd_registry::SERVICE, &pd_registry::MIGRATORS)
        .await
        .unwrap()
        .close()
        .await;
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();
    bus.ensure_stream("identity").await.unwrap();
    let region = Uuid::now_v7();
    let region_event = |tz: &str| identity::RegionCreated {
        region: Some(identity::Region {
            id: region.to_string(),
            time_zone: tz.into(),
            ..Default::default()
        }),
    };
    let rid = region.to_string();
    // Newer first: version 2 (Omsk), then the late version 1 (Moscow).
    identity_event_version(&bus, "region_updated", &rid, 2, &region_event("Asia/Omsk")).await;
    identity_event_version(
        &bus,
        "region_created",
        &rid,
        1,
        &region_event("Europe/Moscow"),
    )
    .await;
    // One expert's grant was revoked (version 3); the grant (version 2)
    // arrives after the revocation. Another expert keeps a plain grant.
    let (revoked, kept) = (Uuid::now_v7(), Uuid::now_v7());
    let grant = |user: Uuid| identity::RoleGranted {
        user_id: user.to_string(),
        role: "expert".into(),
        scope_id: rid.clone(),
        ..Default::default()
    };
    let revocation = identity::RoleRevoked {
        user_id: revoked.to_string(),
        role: "expert".into(),
        scope_id: rid.clone(),
    };
    identity_event_version(&bus, "role_revoked", &revoked.to_string(), 3, &revocation).await;
    identity_event_version(
        &bus,
        "role_granted",
        &revoked.to_string(),
        2,
        &grant(revoked),
    )
    .await;
    identity_event_version(&bus, "role_granted", &kept.to_string(), 1, &grant(kept)).await;

    let shutdown = Shutdown::new();
    let registry = pd_registry::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let ministry = as_role(&env, Role::Ministry, region);
    let (year, calendar) = phases(5);
    let create = pb::CreateCampaignRequest {
        region_id: rid.clone(),
        year,
        title: "ПК".into(),
        phases: calendar,
    };
    let campaign = until_known::<registry_ops::CreateCampaign>(&bus, &create, &ministry).await;
    let campaign = campaign.expect("the registry never learnt of the region");
    assert_eq!(
        campaign.time_zone, "Asia/Omsk",
        "the late older snapshot won"
    );

    // Events of one stream arrive in order: once the last grant is known,
    // so is everything before it.
    let add = |user: Uuid| pb::AddExpertRequest {
        campaign_id: campaign.id.clone(),
        user_id: user.to_string(),
        affiliated_provider_ids: vec![],
    };
    let added = until_known::<registry_ops::AddExpert>(&bus, &add(kept), &ministry).await;
    assert!(added.is_some(), "the kept expert was never known");
    let err = bus
        .call::<registry_ops::AddExpert>(&add(revoked), &ministry)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.fields[0].field.as_str()),
        (ErrorKind::Invalid, "user_id"),
        "a grant older than its revocation brought the role back"
    );

    shutdown.cancel();
    registry.wait().await;
    env.cleanup().await;
}
