//! Crash safety of the December window, tested rather than assumed: a
//! burst of applications (each client retrying with its key, as the
//! portal does) while one enrollment process is killed with SIGKILL, while
//! NATS is killed and restarted, while PostgreSQL crashes and restarts —
//! each in its own run, on the project's own private servers
//! (`deploy/local/test-servers.sh`) so nothing else sees the fault.
//! Afterwards every acknowledged application exists exactly once, no seat
//! is overbooked, every application's event is on the stream exactly once,
//! and the service answered again within 5 s of the fault ending.

use pd_bus::testing::{calendar_open_now, context_with, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Grant, Role};
use pd_proto::allocation::v1 as allocation;
use pd_proto::enrollment::v1 as pb;
use pd_proto::ops::enrollment as ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use prost::Message;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const APPLICANTS: usize = 240;
const SEATS: i32 = 90;
/// Seats of the second group, for those the first turns away.
const MORE_SEATS: i32 = 90;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    KillInstance,
    RestartNats,
    RestartPostgres,
}

/// The project's script for private servers.
fn servers(action: &str, kind: &str, dir: &Path, port: u16) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/test-servers.sh"
    );
    let ok = Command::new(script)
        .args([action, kind, &dir.display().to_string(), &port.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "test-servers.sh {action} {kind}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// What the fault needs: the private servers' directory and ports.
struct Stage {
    env: TestEnv,
    dir: PathBuf,
    pg_port: u16,
    nats_port: u16,
    instances: Vec<Child>,
}

impl Stage {
    fn new(fault: Fault) -> Stage {
        let mut env = TestEnv::new().unwrap();
        let dir = std::env::temp_dir().join(format!("pd-crash-{}", env.id));
        let (pg_port, nats_port) = (free_port(), free_port());
        if fault == Fault::RestartNats {
            servers("start", "nats", &dir, nats_port);
            env.settings.nats.url = format!("nats://127.0.0.1:{nats_port}");
        }
        if fault == Fault::RestartPostgres {
            servers("start", "pg", &dir, pg_port);
            env.settings.database.url = format!("postgres://postgres@127.0.0.1:{pg_port}");
        }
        env.settings.database.max_connections = 8;
        env.settings.nats.request_timeout_ms = 2_000;
        Stage {
            env,
            dir,
            pg_port,
            nats_port,
            instances: Vec::new(),
        }
    }

    fn spawn_instance(&mut self) {
        let exe = std::path::Path::new(env!("CARGO_BIN_EXE_pd"));
        let child = pd::serve_command(exe, &self.env.settings, &["enrollment"])
            .spawn()
            .unwrap();
        self.instances.push(child);
    }

    /// Injects the fault; returns when it has ended.
    fn fault(&mut self, fault: Fault) -> Instant {
        match fault {
            Fault::KillInstance => {
                // SIGKILL: no drain, no flush, whatever was in flight is cut.
                self.instances[0].kill().unwrap();
                self.instances[0].wait().unwrap();
            }
            Fault::RestartNats => {
                servers("stop", "nats", &self.dir, self.nats_port);
                std::thread::sleep(Duration::from_millis(500));
                servers("start", "nats", &self.dir, self.nats_port);
            }
            Fault::RestartPostgres => {
                servers("stop", "pg", &self.dir, self.pg_port);
                std::thread::sleep(Duration::from_millis(500));
                servers("start", "pg", &self.dir, self.pg_port);
            }
        }
        Instant::now()
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        for c in &mut self.instances {
            let _ = c.kill();
            let _ = c.wait();
        }
        servers("stop", "nats", &self.dir, self.nats_port);
        servers("stop", "pg", &self.dir, self.pg_port);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn group(
    id: Uuid,
    program: Uuid,
    campaign: Uuid,
    region: Uuid,
    capacity: i32,
) -> registry::GroupPublished {
    registry::GroupPublished {
        group: Some(registry::GroupSnapshot {
            group: Some(registry::Group {
                id: id.to_string(),
                program_id: program.to_string(),
                capacity,
                min_size: 1,
                status: "published".into(),
                ..Default::default()
            }),
            campaign_id: campaign.to_string(),
            region_id: region.to_string(),
            provider_id: Uuid::now_v7().to_string(),
            program_title: "Функциональная грамотность".into(),
            ..Default::default()
        }),
    }
}

/// The calendar, two groups of one program and the applicants' numbers,
/// on the streams as the registry's and allocation's relays would.
async fn seed(
    bus: &Bus,
    region: Uuid,
    campaign: Uuid,
    groups: [Uuid; 2],
) -> Vec<allocation::UniqueNumber> {
    for s in ["registry", "allocation", "identity", "enrollment"] {
        bus.ensure_stream(s).await.unwrap();
    }
    let cal = calendar_open_now(campaign, region, "applications", 1);
    publish_event(
        bus,
        "registry",
        "campaign_calendar_changed",
        &campaign.to_string(),
        1,
        &cal,
    )
    .await
    .unwrap();
    let program = Uuid::now_v7();
    for (g, seats) in groups.iter().zip([SEATS, MORE_SEATS]) {
        let e = group(*g, program, campaign, region, seats);
        publish_event(bus, "registry", "group_published", &g.to_string(), 1, &e)
            .await
            .unwrap();
    }
    let (org, muni) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let mut numbers = Vec::new();
    for i in 0..APPLICANTS {
        let n = allocation::UniqueNumber {
            id: Uuid::now_v7().to_string(),
            number: pd_domain::unique_number::generate(&mut rand::thread_rng()),
            campaign_id: campaign.to_string(),
            educator_id: Uuid::now_v7().to_string(),
            educator_name: format!("Педагог {i}"),
            organization_id: org.clone(),
            municipality_id: muni.clone(),
            status: "assigned".into(),
            ..Default::default()
        };
        let e = allocation::UniqueNumberAssigned {
            unique_number: Some(n.clone()),
            ..Default::default()
        };
        publish_event(bus, "allocation", "unique_number_assigned", &n.id, 1, &e)
            .await
            .unwrap();
        numbers.push(n);
    }
    numbers
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Applicant → the application ids acknowledged to them.
    acknowledged: HashMap<usize, HashSet<String>>,
    /// Successful answers' instants (to time the recovery).
    answered_at: Vec<Instant>,
    refused: usize,
    /// Answers the fault caused (retried with the same key).
    transient: usize,
}

/// One applicant: the first group, else the second; every transient
/// failure (timeout, unavailable, internal) retried with the same key.
async fn applicant(
    bus: Bus,
    ctx: CallContext,
    i: usize,
    groups: [Uuid; 2],
    number: String,
    seen: Arc<Mutex<Seen>>,
    done: Arc<AtomicUsize>,
) {
    for (k, g) in groups.iter().enumerate() {
        let mut ctx = ctx.clone();
        ctx.idempotency_key = Some(format!("apply-{i}-{k}"));
        let req = pb::ApplyRequest {
            group_id: g.to_string(),
            unique_number: number.clone(),
            ..Default::default()
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let answer = loop {
            match bus.call::<ops::Apply>(&req, &ctx).await {
                // Transient: the fault itself.
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Internal
                    ) && Instant::now() < deadline =>
                {
                    seen.lock().unwrap().transient += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => break other,
            }
        };
        match answer {
            Ok(a) => {
                let mut s = seen.lock().unwrap();
                s.acknowledged.entry(i).or_default().insert(a.id);
                s.answered_at.push(Instant::now());
                break;
            }
            Err(e) if e.extensions.get("reason").map(String::as_str) == Some("group_full") => {
                seen.lock().unwrap().answered_at.push(Instant::now());
                continue;
            }
            Err(e) => panic!("applicant {i}: {e:?}"),
        }
    }
    if !seen.lock().unwrap().acknowledged.contains_key(&i) {
        seen.lock().unwrap().refused += 1;
    }
    done.fetch_add(1, Ordering::Relaxed);
}

/// Every `application_submitted` on the stream, counted per application.
async fn events_per_application(env: &TestEnv) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for bytes in env
        .events("enrollment", "application_submitted")
        .await
        .unwrap()
    {
        let envelope = pd_proto::common::v1::EventEnvelope::decode(bytes.as_slice()).unwrap();
        *counts.entry(envelope.aggregate_id).or_insert(0) += 1;
    }
    counts
}

/// What the outbox knows of an application's events (for a failure's
/// message): when each was sent, its attempts, when parked, the last error.
async fn outbox_rows_of(pool: &PgPool, id: Uuid) -> Vec<String> {
    let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(
        "SELECT envelope, format('created %s, sent %s, attempts %s, parked %s, last error %s',
                                 created_at, sent_at, attempts, parked_at, last_error)
         FROM outbox",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    rows.into_iter()
        .filter(|(envelope, _)| {
            pd_proto::common::v1::EventEnvelope::decode(envelope.as_slice())
                .is_ok_and(|e| e.aggregate_id == id.to_string())
        })
        .map(|(_, row)| row)
        .collect()
}

/// The database's sessions (for a failure's message): a transaction left
/// open holds the rows it locked.
async fn sessions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT format('%s %s for %s, waiting for %s: %s', pid, state, now() - xact_start,
                       wait_event, left(query, 100))
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
}

async fn burst_through(fault: Fault) {
    let mut stage = Stage::new(fault);
    let env = &stage.env;
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
    let (region, campaign) = (Uuid::now_v7(), Uuid::now_v7());
    let groups = [Uuid::now_v7(), Uuid::now_v7()];
    let numbers = seed(&bus, region, campaign, groups).await;
    stage.spawn_instance();
    stage.spawn_instance();
    let env = &stage.env;
    // Both instances caught up: every number known.
    let mut known = 0;
    for _ in 0..600 {
        known = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM unique_numbers")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if known == APPLICANTS as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        known, APPLICANTS as i64,
        "the numbers never reached enrollment"
    );

    let seen = Arc::new(Mutex::new(Seen::default()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for (i, n) in numbers.iter().enumerate() {
        let grant = Grant {
            role: Role::Educator,
            scope: Uuid::parse_str(&n.educator_id).ok(),
            region: Some(region),
        };
        let ctx = context_with(&env.settings.auth, vec![grant]).unwrap();
        clients.push(tokio::spawn(applicant(
            bus.clone(),
            ctx,
            i,
            groups,
            n.number.clone(),
            seen.clone(),
            done.clone(),
        )));
    }
    // The fault strikes once a third of the applicants are through.
    while done.load(Ordering::Relaxed) < APPLICANTS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ended = tokio::task::block_in_place(|| stage.fault(fault));
    for c in clients {
        c.await.unwrap();
    }
    let env = &stage.env;
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    eprintln!(
        "{} acknowledged, {} turned away, {} transient failures retried",
        seen.acknowledged.len(),
        seen.refused,
        seen.transient
    );
    let first_answer_after = seen
        .answered_at
        .iter()
        .filter(|t| **t >= ended)
        .min()
        .map(|t| t.duration_since(ended));
    assert!(
        first_answer_after.is_some_and(|d| d <= Duration::from_secs(5)),
        "answered again {first_answer_after:?} after the fault ended"
    );

    // Every acknowledged application exists, once; each applicant has one.
    assert!(
        seen.acknowledged.values().all(|ids| ids.len() == 1),
        "{:?}",
        seen.acknowledged
    );
    let acknowledged: HashSet<Uuid> = seen
        .acknowledged
        .values()
        .flatten()
        .map(|id| Uuid::parse_str(id).unwrap())
        .collect();
    let mut rows = Vec::new();
    for _ in 0..200 {
        // After a PostgreSQL restart the pool reconnects in its own time.
        if let Ok(r) = sqlx::query_as::<_, (Uuid, Uuid)>("SELECT id, group_id FROM applications")
            .fetch_all(&pool)
            .await
        {
            rows = r;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written: HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    assert!(
        acknowledged.is_subset(&written),
        "acknowledged but missing: {:?}",
        acknowledged.difference(&written).collect::<Vec<_>>()
    );
    assert_eq!(
        acknowledged.len(),
        written.len(),
        "a written application nobody was told of"
    );
    assert_eq!(acknowledged.len() + seen.refused, APPLICANTS);
    assert_eq!(
        acknowledged.len(),
        (SEATS + MORE_SEATS) as usize,
        "every seat taken once"
    );
    // No seat overbooked, the counters exact.
    let groups_state: Vec<(i32, i32, i64)> = sqlx::query_as(
        "SELECT g.taken, g.capacity, (SELECT count(*) FROM applications a WHERE a.group_id = g.id AND a.status = 'enrolled')
         FROM groups g",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for (taken, capacity, enrolled) in groups_state {
        assert!(
            taken <= capacity && i64::from(taken) == enrolled,
            "{taken}/{capacity}, {enrolled} enrolled"
        );
    }
    // Each application's event on the stream, exactly once.
    let mut events = HashMap::new();
    for _ in 0..200 {
        events = events_per_application(env).await;
        if events.len() >= written.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &written {
        if events.get(&id.to_string()) != Some(&1) {
            panic!(
                "events of application {id}: {:?} on the stream; its outbox rows: {:?}; sessions: {:#?}",
                events.get(&id.to_string()),
                outbox_rows_of(&pool, *id).await,
                sessions(&pool).await
            );
        }
    }
    assert_eq!(events.len(), written.len());
    pool.close().await;
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_loses_no_acknowledged_application() {
    burst_through(Fault::KillInstance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_nats_loses_no_acknowledged_application() {
    burst_through(Fault::RestartNats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_postgres_loses_no_acknowledged_application() {
    burst_through(Fault::RestartPostgres).await;
}
