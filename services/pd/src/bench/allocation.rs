//! `pd bench allocation`: eligibility, quotas and unique numbers for a
//! region of Samara's size (45,651 educators in 2,146 organizations of 47
//! municipalities), from identity's and the registry's events arriving to
//! every number assigned. The events are published on the streams as
//! identity's and the registry's relays would, before the allocation
//! service starts: it builds its read-models from the streams alone. Then
//! every organization's list is confirmed over the bus, the ministry sets
//! the funding, and one allocation run shares the places and assigns the
//! numbers.

use pd_bus::testing::context_with;
use pd_bus::{Bus, CallContext};
use pd_domain::{Grant, Role};
use pd_proto::allocation::v1 as pb;
use pd_proto::identity::v1 as identity;
use pd_proto::ops::allocation as ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use prost::Message;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

const MUNICIPALITIES: usize = 47;
const CAMPAIGN_YEAR: i32 = 2027;
/// Events published before their acks are awaited.
const PIPELINE: usize = 2_000;

/// Educator `i`'s last PD: none for one in four, otherwise a date between
/// 2014 and 2025 (due when before 2025-01-01 for the 2027 campaign, which
/// trains in 2028: `pd_allocation::domain::eligibility`).
fn last_pd(i: u32) -> Option<chrono::NaiveDate> {
    let h = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    if h % 4 == 0 {
        return None;
    }
    let days = (h % 4_380) as i64; // 12 years
    chrono::NaiveDate::from_ymd_opt(2014, 1, 1).map(|d| d + chrono::Duration::days(days))
}

pub(super) async fn run(educators: u32, organizations: u32, places: u32) -> anyhow::Result<()> {
    let mut env = TestEnv::new()?;
    env.settings.database.max_connections = 16;
    let pool = env
        .database(pd_allocation::SERVICE, &pd_allocation::MIGRATORS)
        .await?;
    let shutdown = Shutdown::new();
    let result = measure(
        &env,
        &pool,
        &shutdown,
        educators,
        organizations.max(1),
        places,
    )
    .await;
    shutdown.cancel();
    pool.close().await;
    env.cleanup().await;
    result
}

struct Region {
    id: Uuid,
    organizations: Vec<(Uuid, Uuid)>,
    campaign: Uuid,
    educators: i64,
    due: i64,
}

async fn measure(
    env: &TestEnv,
    pool: &PgPool,
    shutdown: &Shutdown,
    educators: u32,
    organizations: u32,
    places: u32,
) -> anyhow::Result<()> {
    let bus = Bus::connect(&env.settings.nats, TokenVerifier::new(&env.settings.auth)?).await?;
    bus.ensure_stream("identity").await?;
    bus.ensure_stream("registry").await?;
    let started = Instant::now();
    let region = publish(&bus, educators, organizations).await?;
    let published = started.elapsed();
    println!(
        "allocation: {educators} educators ({} due), {organizations} organizations, {MUNICIPALITIES} municipalities; \
         {} cores; events published in {:.2} s",
        region.due,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        published.as_secs_f64()
    );

    let service = pd_allocation::start(env.settings.clone(), shutdown.clone()).await?;
    let caught_up = wait_for_candidates(pool, &region).await?;
    println!(
        "  read-models and candidates from the streams: {:.2} s ({:.0} events/s); rss {:.0} MB",
        caught_up.as_secs_f64(),
        (f64::from(educators) + f64::from(organizations)) / caught_up.as_secs_f64(),
        super::rss_mb()
    );

    let ministry = context_with(
        &env.settings.auth,
        vec![Grant {
            role: Role::Ministry,
            scope: Some(region.id),
            region: Some(region.id),
        }],
    )?;
    let t = Instant::now();
    confirm_all(&bus, &region, &ministry).await?;
    let confirmed = t.elapsed();
    println!(
        "  {organizations} lists confirmed over the bus, 32 at a time: {:.2} s",
        confirmed.as_secs_f64()
    );

    let t = Instant::now();
    let funding = pb::SetFundingRequest {
        campaign_id: region.campaign.to_string(),
        budget_kopecks: i64::from(places) * 3_000_000,
        normative_cost_kopecks: 3_000_000,
        reserve_percent: 5,
    };
    bus.call::<ops::SetFunding>(&funding, &ministry).await?;
    let req = pb::CampaignRequest {
        campaign_id: region.campaign.to_string(),
    };
    let allocation: pb::Allocation = bus
        .call_with_deadline::<ops::Allocate>(&req, &ministry, Duration::from_secs(120))
        .await?;
    let allocated = t.elapsed();
    let numbers: i64 = sqlx::query_scalar("SELECT count(*) FROM unique_numbers")
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(
        numbers == i64::from(allocation.numbers_assigned),
        "{numbers} numbers stored, {} reported",
        allocation.numbers_assigned
    );
    println!(
        "  funding and the allocation run: {:.2} s — {} places, {} reserve, {} numbers to {} organizations",
        allocated.as_secs_f64(),
        allocation.funded_places,
        allocation.reserve_places,
        allocation.numbers_assigned,
        allocation.organizations
    );
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(pool)
        .await?;
    let total = started.elapsed();
    println!(
        "  from the first event to every number assigned: {:.2} s (events → candidates {:.2} s + confirmations {:.2} s + run {:.2} s); \
         {outbox} events in the outbox; peak rss {:.0} MB",
        total.as_secs_f64(),
        (published + caught_up).as_secs_f64(),
        confirmed.as_secs_f64(),
        allocated.as_secs_f64(),
        peak_rss_mb()
    );
    // What consumers downstream (enrollment) wait for: every event on the stream.
    let t = Instant::now();
    loop {
        let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(pool)
            .await?;
        if unsent == 0 {
            break;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(300),
            "{unsent} events unsent after 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "  the relay published the run's {outbox} events to JetStream {:.2} s after it",
        t.elapsed().as_secs_f64()
    );
    shutdown.cancel();
    service.wait().await;
    Ok(())
}

/// Publishes the region, its municipalities, organizations and educators on
/// identity's stream, then the campaign on the registry's, with acks
/// awaited in pipelines of [`PIPELINE`].
async fn publish(bus: &Bus, educators: u32, organizations: u32) -> anyhow::Result<Region> {
    let region = Uuid::now_v7();
    let mut pending = Vec::new();
    let r = identity::RegionCreated {
        region: Some(identity::Region {
            id: region.to_string(),
            code: "63".into(),
            name: "Самарская область".into(),
            time_zone: "Europe/Samara".into(),
            pd_model: "un_quota".into(),
            pd_interval_years: 3,
            ..Default::default()
        }),
    };
    pending.push(event(bus, "identity", "region_created", region, &r).await?);
    let municipalities: Vec<Uuid> = (0..MUNICIPALITIES).map(|_| Uuid::now_v7()).collect();
    for (i, m) in municipalities.iter().enumerate() {
        let e = identity::MunicipalityCreated {
            municipality: Some(identity::Municipality {
                id: m.to_string(),
                region_id: region.to_string(),
                name: format!("Муниципальный район {i}"),
                ..Default::default()
            }),
        };
        pending.push(event(bus, "identity", "municipality_created", *m, &e).await?);
    }
    let orgs: Vec<(Uuid, Uuid)> = (0..organizations as usize)
        .map(|i| (Uuid::now_v7(), municipalities[i % MUNICIPALITIES]))
        .collect();
    for (i, (o, m)) in orgs.iter().enumerate() {
        let e = identity::OrganizationCreated {
            organization: Some(identity::Organization {
                id: o.to_string(),
                region_id: region.to_string(),
                municipality_id: m.to_string(),
                name: format!("Школа № {i}"),
                ..Default::default()
            }),
        };
        pending.push(event(bus, "identity", "organization_created", *o, &e).await?);
        settle(&mut pending, PIPELINE).await?;
    }
    let mut due = 0;
    for i in 0..educators {
        // Organizations of different sizes: a spread of 1 to 40 educators.
        let (org, muni) = orgs[(i as usize * 7 + (i as usize % 13)) % orgs.len()];
        let pd = last_pd(i);
        // The service's own rule, so the bench waits for what it will learn.
        if pd_allocation::domain::eligibility::is_due(pd, CAMPAIGN_YEAR, 3) {
            due += 1;
        }
        let id = Uuid::now_v7();
        let e = identity::EducatorCreated {
            educator: Some(identity::EducatorSnapshot {
                id: id.to_string(),
                last_name: format!("Педагог{i}"),
                first_name: "Анна".into(),
                position: "учитель".into(),
                subjects: vec!["Математика".into()],
                organization_id: org.to_string(),
                municipality_id: muni.to_string(),
                region_id: region.to_string(),
                last_pd_completed_on: pd.map(|d| d.to_string()).unwrap_or_default(),
                ..Default::default()
            }),
        };
        pending.push(event(bus, "identity", "educator_created", id, &e).await?);
        settle(&mut pending, PIPELINE).await?;
    }
    let campaign = Uuid::now_v7();
    let c = registry::CampaignCalendarChanged {
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        year: CAMPAIGN_YEAR,
        time_zone: "Europe/Samara".into(),
        phases: vec![],
    };
    pending.push(event(bus, "registry", "campaign_calendar_changed", campaign, &c).await?);
    settle(&mut pending, 0).await?;
    Ok(Region {
        id: region,
        organizations: orgs,
        campaign,
        educators: i64::from(educators),
        due,
    })
}

pub(super) type Ack = async_nats::jetstream::context::PublishAckFuture;

/// Publishes one event (version 1 of its aggregate) without awaiting its ack.
pub(super) async fn event<M: Message>(
    bus: &Bus,
    source: &str,
    event: &str,
    aggregate: Uuid,
    payload: &M,
) -> anyhow::Result<Ack> {
    let mut envelope = pd_bus::events::envelope(event, &aggregate.to_string(), "bench", payload);
    envelope.version = 1;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", envelope.event_id.as_str());
    Ok(bus
        .jetstream()
        .publish_with_headers(
            bus.event_subject(source, event),
            headers,
            bytes::Bytes::from(envelope.encode_to_vec()),
        )
        .await?)
}

/// Awaits the acks once more than `keep` are pending.
pub(super) async fn settle(pending: &mut Vec<Ack>, keep: usize) -> anyhow::Result<()> {
    if pending.len() > keep {
        for ack in pending.drain(..) {
            ack.await?;
        }
    }
    Ok(())
}

/// Waits until the service holds every due educator as a candidate;
/// prints when the last educator arrived in its read-model.
async fn wait_for_candidates(pool: &PgPool, region: &Region) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let mut educators_at = None;
    loop {
        if educators_at.is_none() {
            let known: i64 = sqlx::query_scalar("SELECT count(*) FROM known_educators")
                .fetch_one(pool)
                .await?;
            if known == region.educators {
                educators_at = Some(t.elapsed());
                println!(
                    "  every educator in the read-model after {:.2} s",
                    t.elapsed().as_secs_f64()
                );
            }
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM candidates WHERE campaign_id = $1 AND eligible",
        )
        .bind(region.campaign)
        .fetch_one(pool)
        .await?;
        if n == region.due {
            return Ok(t.elapsed());
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(600),
            "{n} of {} candidates after 10 minutes",
            region.due
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every organization's list confirmed, 32 requests in flight.
async fn confirm_all(bus: &Bus, region: &Region, ctx: &CallContext) -> anyhow::Result<()> {
    use futures::StreamExt;
    let results: Vec<anyhow::Result<pb::ListState>> =
        futures::stream::iter(region.organizations.iter())
            .map(|(org, _)| {
                let req = pb::OrganizationListRequest {
                    campaign_id: region.campaign.to_string(),
                    organization_id: org.to_string(),
                };
                async move { Ok(bus.call::<ops::ConfirmList>(&req, ctx).await?) }
            })
            .buffer_unordered(32)
            .collect()
            .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// The most resident memory this process had (every service of the bench runs in it).
pub(super) fn peak_rss_mb() -> f64 {
    peak_rss_of("self")
}

/// The most resident memory (`VmHWM`) of a process: `self` or a pid.
pub(super) fn peak_rss_of(process: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1e3)
}
