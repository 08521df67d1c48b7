//! `pd bench completions`: a provider's system pushes the completions of
//! 20,000 learners through the gateway's webhook with its API key, in
//! batches of 500 (each covering 20 groups of 25), from a few clients at
//! once. identity (the key), monitoring and the gateway run as separate
//! `pd serve` processes; the registry's groups and enrollment's fixed
//! rosters go on their streams as their relays would. Afterwards: every
//! learner's completion, PD record and post-course window written once,
//! one `post_course_window_opened` per window on the stream, and a batch
//! sent again changes nothing.

use anyhow::Context;
use pd_bus::{Bus, CallContext};
use pd_domain::{Grant, Principal, Role};
use pd_proto::enrollment::v1 as enrollment;
use pd_proto::identity::v1 as identity;
use pd_proto::ops::identity as identity_ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::tokens::{TokenIssuer, TokenVerifier};
use pd_testkit::TestEnv;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::allocation::{Ack, event, settle};
use super::december::{child_peak_rss_mb, free_port, percentile, spawn, wait_until};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Learners whose completions are pushed.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    learners: u32,
    /// Learners per webhook call.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    /// Learners per group (each group's roster).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..))]
    group_size: u32,
    /// Webhook calls in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
}

/// A learner as seeded: their group and themselves.
#[derive(Clone)]
struct Learner {
    group: Uuid,
    educator: Uuid,
}

pub(super) async fn run(args: Args) -> anyhow::Result<()> {
    let mut env = TestEnv::new()?;
    env.settings.database.max_connections = 16;
    let monitoring_db = env
        .database(pd_monitoring::SERVICE, &pd_monitoring::MIGRATORS)
        .await?;
    let identity_db = env
        .database(pd_identity::SERVICE, pd_identity::DEF.migrators)
        .await?;
    let mut children = Vec::new();
    let result = measure(&env, &args, &monitoring_db, &mut children).await;
    for (_, c) in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    monitoring_db.close().await;
    identity_db.close().await;
    env.cleanup().await;
    result
}

/// A region, a provider and its API key, through identity.
async fn provider(env: &TestEnv, bus: &Bus) -> anyhow::Result<(Uuid, Uuid, String)> {
    let admin = Principal {
        user_id: Uuid::now_v7(),
        login: "bench".into(),
        grants: vec![Grant::new(Role::Admin, None)],
    };
    let token = TokenIssuer::new(&env.settings.auth)?.issue(&admin)?;
    let ctx = CallContext {
        authorization: Some(format!("Bearer {token}")),
        ..Default::default()
    };
    let region_req = identity::CreateRegionRequest {
        code: "63".into(),
        name: "Самарская область".into(),
        time_zone: "Europe/Samara".into(),
        pd_model: "voucher_hours".into(),
        pd_interval_years: None,
    };
    // identity answers once it has started.
    let mut region = None;
    for _ in 0..600 {
        match bus
            .call::<identity_ops::CreateRegion>(&region_req, &ctx)
            .await
        {
            Ok(r) => {
                region = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let region = region.context("identity did not start")?;
    let inn = pd_domain::Inn::from_body(631_500_001).context("INN")?;
    let p = bus
        .call::<identity_ops::CreateProvider>(
            &identity::CreateProviderRequest {
                region_id: region.id.clone(),
                name: "СИПКРО".into(),
                inn: inn.as_str().into(),
                licence_number: "Л035-01".into(),
            },
            &ctx,
        )
        .await?;
    let key = bus
        .call::<identity_ops::IssueProviderKey>(
            &identity::IssueProviderKeyRequest {
                provider_id: p.id.clone(),
                label: "СДО".into(),
            },
            &ctx,
        )
        .await?;
    Ok((
        Uuid::parse_str(&region.id)?,
        Uuid::parse_str(&p.id)?,
        key.secret,
    ))
}

/// The provider's groups (registry) and their fixed rosters (enrollment).
async fn publish(
    bus: &Bus,
    region: Uuid,
    provider: Uuid,
    args: &Args,
) -> anyhow::Result<Vec<Learner>> {
    let size = args.group_size.max(1);
    let groups = args.learners.div_ceil(size);
    let mut pending: Vec<Ack> = Vec::new();
    let mut learners = Vec::new();
    for g in 0..groups {
        let id = Uuid::now_v7();
        let snapshot = registry::GroupSnapshot {
            group: Some(registry::Group {
                id: id.to_string(),
                program_id: Uuid::now_v7().to_string(),
                starts_on: "2026-10-01".into(),
                ends_on: "2026-10-12".into(),
                capacity: size as i32,
                min_size: 1,
                status: "published".into(),
                ..Default::default()
            }),
            campaign_id: Uuid::now_v7().to_string(),
            region_id: region.to_string(),
            provider_id: provider.to_string(),
            program_title: format!("Программа {}", g % 915),
            program_kind: "ordinary".into(),
            program_hours: 36,
            provider_name: "СИПКРО".into(),
            form: "blended".into(),
            ..Default::default()
        };
        let published = registry::GroupPublished {
            group: Some(snapshot),
        };
        pending.push(event(bus, "registry", "group_published", id, &published).await?);
        let members: Vec<enrollment::RosterMember> = (0..size)
            .take_while(|i| g * size + i < args.learners)
            .map(|_| {
                let educator = Uuid::now_v7();
                learners.push(Learner {
                    group: id,
                    educator,
                });
                enrollment::RosterMember {
                    application_id: Uuid::now_v7().to_string(),
                    educator_id: educator.to_string(),
                    ..Default::default()
                }
            })
            .collect();
        let roster = enrollment::RosterFixed {
            roster: Some(enrollment::GroupRoster {
                group: Some(enrollment::GroupSeats {
                    group_id: id.to_string(),
                    ..Default::default()
                }),
                roster: "formed".into(),
                members,
                ..Default::default()
            }),
        };
        pending.push(event(bus, "enrollment", "roster_fixed", id, &roster).await?);
        settle(&mut pending, 2_000).await?;
    }
    settle(&mut pending, 0).await?;
    Ok(learners)
}

fn batch_body(learners: &[Learner], issued_on: &str, first_number: usize) -> Value {
    let items: Vec<Value> = learners
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({"group_id": l.group, "educator_id": l.educator, "status": "completed",
                   "document_type": "pk_certificate", "document_series": "63",
                   "document_number": format!("{:06}", first_number + i), "issued_on": issued_on,
                   "registration_number": format!("РН-{}", first_number + i), "hours": 36})
        })
        .collect();
    json!({"learners": items})
}

async fn measure(
    env: &TestEnv,
    args: &Args,
    db: &PgPool,
    children: &mut Vec<(String, Child)>,
) -> anyhow::Result<()> {
    println!(
        "Completions: {} learners in batches of {} ({} per group), {} clients",
        args.learners, args.batch, args.group_size, args.clients
    );
    let bus = Bus::connect(&env.settings.nats, TokenVerifier::new(&env.settings.auth)?).await?;
    for s in [
        "registry",
        "identity",
        "enrollment",
        "surveys",
        "monitoring",
    ] {
        bus.ensure_stream(s).await?;
    }
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    children.push(("identity".into(), spawn(env, "identity", port)?));
    let (region, provider, key) = provider(env, &bus).await?;
    let started = Instant::now();
    let learners = publish(&bus, region, provider, args).await?;
    println!(
        "seeded on the streams: {} groups with fixed rosters, {} learners in {:.1} s",
        learners.len().div_ceil(args.group_size.max(1) as usize),
        learners.len(),
        started.elapsed().as_secs_f64()
    );
    children.push(("monitoring".into(), spawn(env, "monitoring", port)?));
    children.push(("gateway".into(), spawn(env, "gateway", port)?));
    let caught_up = Instant::now();
    wait_until("monitoring's read-models", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM roster_members r JOIN known_groups g ON g.id = r.group_id",
        )
        .fetch_one(db)
        .await
        .unwrap_or(0);
        n == learners.len() as i64
    })
    .await?;
    println!(
        "monitoring caught up from the streams in {:.1} s",
        caught_up.elapsed().as_secs_f64()
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    wait_until("the gateway", || async {
        http.get(format!("{base}/api/v1/openapi.json"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await?;

    let issued_on = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let url = format!("{base}/api/v1/providers/{provider}/completions");
    let batches: Vec<Value> = learners
        .chunks(args.batch.max(1) as usize)
        .enumerate()
        .map(|(i, chunk)| batch_body(chunk, &issued_on, i * args.batch as usize))
        .collect();
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicU32::new(0));
    let window = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients.max(1) {
        let (http, url, key, batches, next) = (
            http.clone(),
            url.clone(),
            key.clone(),
            batches.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(body) = batches.get(i) else {
                    break;
                };
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("x-api-key", &key)
                    .json(body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        latencies.push(t.elapsed());
                    }
                    Ok(r) => errors.push(format!(
                        "{} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors.extend(e);
    }
    let took = window.elapsed().as_secs_f64();
    println!(
        "pushed: {} batches ({} learners) in {took:.1} s: {:.0} learners/s, {:.1} batches/s; batch latency p50 / p95 / p99 {:.0} / {:.0} / {:.0} ms; errors {}",
        latencies.len(),
        latencies.len() * args.batch as usize,
        learners.len() as f64 / took,
        latencies.len() as f64 / took,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        errors.len()
    );
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }

    // A batch sent again: nothing new.
    let t = Instant::now();
    let again: Value = http
        .post(&url)
        .header("x-api-key", &key)
        .json(&batches[0])
        .send()
        .await?
        .json()
        .await?;
    println!(
        "the first batch sent again: {} unchanged, {} recorded, in {:.0} ms",
        again["unchanged"],
        again["recorded"],
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Everything written once, every window's event published.
    let drained = Instant::now();
    wait_until("the outbox", || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(db)
            .await
            .unwrap_or(1);
        n == 0
    })
    .await?;
    let (completions, windows, records): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM completions), (SELECT count(*) FROM post_course_windows),
                (SELECT count(*) FROM pd_records)",
    )
    .fetch_one(db)
    .await?;
    let opened = env
        .event_count("monitoring", "post_course_window_opened")
        .await?;
    println!(
        "after (outbox drained in {:.1} s): completions {completions}, windows {windows}, PD records {records}; post_course_window_opened events {opened}",
        drained.elapsed().as_secs_f64()
    );
    let rss: Vec<String> = children
        .iter()
        .map(|(name, c)| format!("{name} {:.0} MB", child_peak_rss_mb(c.id())))
        .collect();
    println!("peak RSS: {}", rss.join(", "));
    Ok(())
}
