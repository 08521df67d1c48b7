//! The enrollment service on its own, over NATS, against real PostgreSQL
//! and JetStream: three instances in one queue group take a burst of
//! applications (some retried with the same key) for the last seats of a
//! group, and not one seat is overbooked, no acknowledged application is
//! lost or doubled, and each has exactly one event.

use pd_bus::testing::{calendar_open_now, context_with, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Grant, Role};
use pd_proto::allocation::v1 as allocation;
use pd_proto::enrollment::v1 as pb;
use pd_proto::ops::enrollment as ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The numbers of `n` educators, as allocation assigns them.
fn numbers(campaign: Uuid, n: usize) -> Vec<allocation::UniqueNumber> {
    let (org, muni) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    (0..n)
        .map(|_| allocation::UniqueNumber {
            id: Uuid::now_v7().to_string(),
            number: pd_domain::unique_number::generate(&mut rand::thread_rng()),
            campaign_id: campaign.to_string(),
            educator_id: Uuid::now_v7().to_string(),
            educator_name: "Иванова Анна".into(),
            organization_id: org.clone(),
            municipality_id: muni.clone(),
            status: "assigned".into(),
            ..Default::default()
        })
        .collect()
}

#[tokio::test]
async fn three_instances_never_overbook_the_last_seats_nor_lose_an_acknowledged_application() {
    let env = TestEnv::new().unwrap();
    let pool = env
        .database(pd_enrollment::SERVICE, &pd_enrollment::MIGRATORS)
        .await
        .unwrap();
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();
    for s in ["registry", "allocation", "identity"] {
        bus.ensure_stream(s).await.unwrap();
    }
    let (region, campaign, group) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let cal = calendar_open_now(campaign, region, "applications", 1);
    publish_event(
        &bus,
        "registry",
        "campaign_calendar_changed",
        &campaign.to_string(),
        1,
        &cal,
    )
    .await
    .unwrap();
    let snapshot = registry::GroupSnapshot {
        group: Some(registry::Group {
            id: group.to_string(),
            program_id: Uuid::now_v7().to_string(),
            starts_on: "2027-02-01".into(),
            ends_on: "2027-02-05".into(),
            capacity: 5,
            min_size: 1,
            status: "published".into(),
            ..Default::default()
        }),
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        provider_id: Uuid::now_v7().to_string(),
        program_title: "Финансовая грамотность".into(),
        ..Default::default()
    };
    let published = registry::GroupPublished {
        group: Some(snapshot),
    };
    publish_event(
        &bus,
        "registry",
        "group_published",
        &group.to_string(),
        1,
        &published,
    )
    .await
    .unwrap();
    let people = numbers(campaign, 40);
    for n in &people {
        let e = allocation::UniqueNumberAssigned {
            unique_number: Some(n.clone()),
        };
        publish_event(&bus, "allocation", "unique_number_assigned", &n.id, 1, &e)
            .await
            .unwrap();
    }

    // Three instances of the service in one queue group.
    let shutdown = Shutdown::new();
    let mut instances = Vec::new();
    for _ in 0..3 {
        let running = pd_enrollment::start(env.settings.clone(), shutdown.clone())
            .await
            .unwrap();
        instances.push(tokio::spawn(running.wait()));
    }
    let operator = context_with(
        &env.settings.auth,
        vec![Grant {
            role: Role::RegionalOperator,
            scope: Some(region),
            region: Some(region),
        }],
    )
    .unwrap();
    // The read-models catch up: every number known before the burst.
    let known = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM unique_numbers")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };
    for _ in 0..500 {
        let seats = bus
            .call::<ops::Availability>(
                &pb::GroupRequest {
                    id: group.to_string(),
                },
                &operator,
            )
            .await;
        if seats.is_ok() && known().await == 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(known().await, 40, "the numbers never arrived");

    // 40 educators at once, a quarter of them sending their request twice
    // with the same key (a client retrying after a lost answer).
    let mut calls = Vec::new();
    for (i, n) in people.iter().enumerate() {
        let educator = Uuid::parse_str(&n.educator_id).unwrap();
        let grant = Grant {
            role: Role::Educator,
            scope: Some(educator),
            region: Some(region),
        };
        let mut ctx: CallContext = context_with(&env.settings.auth, vec![grant]).unwrap();
        ctx.idempotency_key = Some(format!("apply-{i}"));
        let req = pb::ApplyRequest {
            group_id: group.to_string(),
            unique_number: n.number.clone(),
            ..Default::default()
        };
        let tries = if i % 4 == 0 { 2 } else { 1 };
        for _ in 0..tries {
            let (bus, ctx, req) = (bus.clone(), ctx.clone(), req.clone());
            calls.push(tokio::spawn(async move {
                (i, bus.call::<ops::Apply>(&req, &ctx).await)
            }));
        }
    }
    let mut acknowledged: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut full = 0;
    for c in calls {
        match c.await.unwrap() {
            (i, Ok(a)) => {
                assert_eq!(a.status, "enrolled");
                acknowledged.entry(i).or_default().insert(a.id);
            }
            (_, Err(e)) if e.extensions.get("reason").map(String::as_str) == Some("group_full") => {
                full += 1
            }
            // A retry that arrived while its twin still ran.
            (_, Err(e)) if e.kind == ErrorKind::Conflict => {}
            (_, Err(e)) => panic!("unexpected answer: {e:?}"),
        }
    }
    assert!(
        full >= 35,
        "the others were told the group is full ({full})"
    );
    // A retried request answered twice answered the same application.
    assert!(
        acknowledged.values().all(|ids| ids.len() == 1),
        "{acknowledged:?}"
    );
    let ids: HashSet<Uuid> = acknowledged
        .values()
        .flatten()
        .map(|id| Uuid::parse_str(id).unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "exactly the five seats were acknowledged");

    // The database agrees: five rows, each acknowledged, the seat count exact.
    let rows: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM applications WHERE status = 'enrolled'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.into_iter().collect::<HashSet<_>>(), ids);
    let (taken, capacity): (i32, i32) =
        sqlx::query_as("SELECT taken, capacity FROM groups WHERE id = $1")
            .bind(group)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((taken, capacity), (5, 5));
    // Each acknowledged application's event, once.
    let mut events = 0;
    for _ in 0..250 {
        events = env
            .event_count("enrollment", "application_submitted")
            .await
            .unwrap();
        if events >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(events, 5);

    shutdown.cancel();
    for i in instances {
        tokio::time::timeout(Duration::from_secs(10), i)
            .await
            .unwrap()
            .unwrap();
    }
    pool.close().await;
    env.cleanup().await;
}
