//! The allocation service on its own, over NATS, against real PostgreSQL
//! and JetStream: a fresh database builds its read-models from the
//! streams alone (events published before the service ever ran), and
//! candidates follow the region's interval, the educators' changes and
//! monitoring's PD records.

use pd_bus::testing::{context_with, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{Grant, Role};
use pd_proto::allocation::v1 as pb;
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as monitoring;
use pd_proto::ops::allocation as ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::time::Duration;
use uuid::Uuid;

struct Ids {
    region: Uuid,
    municipality: Uuid,
    organization: Uuid,
}

fn educator(ids: &Ids, surname: &str, last_pd: &str) -> identity::EducatorSnapshot {
    identity::EducatorSnapshot {
        id: Uuid::now_v7().to_string(),
        last_name: surname.into(),
        first_name: "Анна".into(),
        position: "учитель".into(),
        organization_id: ids.organization.to_string(),
        municipality_id: ids.municipality.to_string(),
        region_id: ids.region.to_string(),
        last_pd_completed_on: last_pd.into(),
        ..Default::default()
    }
}

fn region(ids: &Ids, interval: i32) -> identity::Region {
    identity::Region {
        id: ids.region.to_string(),
        code: "T".into(),
        name: "Тест".into(),
        time_zone: "Europe/Moscow".into(),
        pd_model: "un_quota".into(),
        pd_interval_years: interval,
        ..Default::default()
    }
}

/// The candidates' surnames once `ready` holds of them (they follow
/// events); what they are after 10 s otherwise.
async fn candidates_once(
    bus: &Bus,
    ctx: &CallContext,
    campaign: Uuid,
    ready: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let req = pb::ListCandidatesRequest {
        campaign_id: campaign.to_string(),
        ..Default::default()
    };
    let mut names = Vec::new();
    let mut last_error = None;
    for _ in 0..400 {
        match bus.call::<ops::ListCandidates>(&req, ctx).await {
            Ok(list) => {
                names = list
                    .items
                    .iter()
                    .map(|c| c.name.split(' ').next().unwrap_or_default().to_owned())
                    .collect();
                if ready(&names) {
                    return names;
                }
            }
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eprintln!("not ready after 10 s; last error: {last_error:?}");
    names
}

#[tokio::test]
async fn a_fresh_database_catches_up_from_the_streams_and_follows_changes() {
    let env = TestEnv::new().unwrap();
    env.database(pd_allocation::SERVICE, &pd_allocation::MIGRATORS)
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
    bus.ensure_stream("registry").await.unwrap();
    let ids = Ids {
        region: Uuid::now_v7(),
        municipality: Uuid::now_v7(),
        organization: Uuid::now_v7(),
    };
    let (r, org) = (ids.region.to_string(), ids.organization.to_string());
    // Everything happens before the allocation service ever runs.
    let created = identity::RegionCreated {
        region: Some(region(&ids, 2)),
    };
    publish_event(&bus, "identity", "region_created", &r, 1, &created)
        .await
        .unwrap();
    let o = identity::OrganizationCreated {
        organization: Some(identity::Organization {
            id: org.clone(),
            region_id: r.clone(),
            municipality_id: ids.municipality.to_string(),
            name: "Школа № 1".into(),
            ..Default::default()
        }),
    };
    publish_event(&bus, "identity", "organization_created", &org, 1, &o)
        .await
        .unwrap();
    // Campaign year 2030 (training in 2031), interval 2: PD before 2029-01-01 makes one due.
    let people = [
        educator(&ids, "Архипова", ""),
        educator(&ids, "Белова", "2028-12-31"),
        educator(&ids, "Волкова", "2029-01-01"),
        educator(&ids, "Гусева", "2026-05-05"),
    ];
    for e in &people {
        let event = identity::EducatorCreated {
            educator: Some(e.clone()),
        };
        publish_event(&bus, "identity", "educator_created", &e.id, 1, &event)
            .await
            .unwrap();
    }
    let campaign = Uuid::now_v7();
    let calendar = registry::CampaignCalendarChanged {
        campaign_id: campaign.to_string(),
        region_id: r.clone(),
        year: 2030,
        time_zone: "Europe/Moscow".into(),
        phases: vec![],
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

    let shutdown = Shutdown::new();
    let service = pd_allocation::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let operator = context_with(
        &env.settings.auth,
        vec![Grant {
            role: Role::RegionalOperator,
            scope: Some(ids.region),
            region: Some(ids.region),
        }],
    )
    .unwrap();
    let names = candidates_once(&bus, &operator, campaign, |n| n.len() == 3).await;
    assert_eq!(
        names,
        ["Архипова", "Гусева", "Белова"],
        "never trained, then the earliest PD"
    );

    // The region's interval becomes 1 year: PD before 2030 makes one due
    // (the 2030 campaign trains in 2031).
    let updated = identity::RegionUpdated {
        region: Some(region(&ids, 1)),
    };
    publish_event(&bus, "identity", "region_updated", &r, 2, &updated)
        .await
        .unwrap();
    let names = candidates_once(&bus, &operator, campaign, |n| n.len() == 4).await;
    assert_eq!(names.len(), 4, "{names:?}");

    // A late, older snapshot of the region changes nothing; an educator
    // who left is no longer a candidate; a newer PD date removes another.
    publish_event(&bus, "identity", "region_updated", &r, 1, &created)
        .await
        .unwrap();
    let left = identity::EducatorLeft {
        educator: Some(people[0].clone()),
        ..Default::default()
    };
    publish_event(&bus, "identity", "educator_left", &people[0].id, 2, &left)
        .await
        .unwrap();
    let trained = identity::EducatorUpdated {
        educator: Some(identity::EducatorSnapshot {
            last_pd_completed_on: "2030-06-01".into(),
            ..people[3].clone()
        }),
    };
    publish_event(
        &bus,
        "identity",
        "educator_updated",
        &people[3].id,
        2,
        &trained,
    )
    .await
    .unwrap();
    let names = candidates_once(&bus, &operator, campaign, |n| n.len() == 2).await;
    assert_eq!(names, ["Белова", "Волкова"]);

    // Monitoring's PD record that counts is later than identity's date:
    // no longer due; once it no longer counts, due again.
    let record = Uuid::now_v7().to_string();
    let mut changed = monitoring::PdRecordChanged {
        record_id: record.clone(),
        educator_id: people[2].id.clone(),
        region_id: r.clone(),
        ended_on: "2030-03-01".into(),
        counts: true,
    };
    publish_event(
        &bus,
        "monitoring",
        "pd_record_changed",
        &record,
        1,
        &changed,
    )
    .await
    .unwrap();
    let names = candidates_once(&bus, &operator, campaign, |n| n.len() == 1).await;
    assert_eq!(names, ["Белова"]);
    changed.counts = false;
    publish_event(
        &bus,
        "monitoring",
        "pd_record_changed",
        &record,
        2,
        &changed,
    )
    .await
    .unwrap();
    let names = candidates_once(&bus, &operator, campaign, |n| n.len() == 2).await;
    assert_eq!(names, ["Белова", "Волкова"]);

    shutdown.cancel();
    service.wait().await;
    env.cleanup().await;
}
