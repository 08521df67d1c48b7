//! `pd bench december`: the December application window at Samara's
//! scale. Registry's groups and calendar and allocation's numbers are put
//! on their streams as their relays would; identity, enrollment (× N) and
//! the gateway run as separate `pd serve` processes (so each one's peak
//! memory is its own); enrollment builds its read-models from the streams.
//! A sample of sign-ins is timed through the gateway, the rest of the
//! tokens are minted before the window opens. Then K clients apply
//! through the gateway as the educators (popular groups first; a full
//! group sends them to the program's other groups, then to a waitlist or
//! to any program with seats), some retrying with the same key, some
//! withdrawing. Afterwards the database and the stream are checked: no
//! seat overbooked, no acknowledged application missing, one event per
//! row. The same seat take + insert transaction run directly in
//! PostgreSQL gives the ratio.

use anyhow::Context;
use pd_bus::Bus;
use pd_domain::{Grant, Principal, Role};
use pd_proto::allocation::v1 as allocation;
use pd_proto::registry::v1 as registry;
use pd_runtime::tokens::{TokenIssuer, TokenVerifier};
use pd_testkit::TestEnv;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::allocation::{Ack, event, peak_rss_mb, peak_rss_of, settle};
use super::{cpu, december_polls};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Funded educators: each holds a number and applies once.
    #[arg(long, default_value_t = 45_651, value_parser = clap::value_parser!(u32).range(1..))]
    educators: u32,
    #[arg(long, default_value_t = 2_146, value_parser = clap::value_parser!(u32).range(1..))]
    organizations: u32,
    #[arg(long, default_value_t = 915, value_parser = clap::value_parser!(u32).range(1..))]
    programs: u32,
    /// Groups of 15–30 seats over the programs.
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u32).range(1..))]
    groups: u32,
    /// Concurrent clients applying through the gateway.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// `pd serve enrollment` processes in the queue group.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    instances: u32,
    /// Per cent of applicants who send their application again with the
    /// same Idempotency-Key (a lost answer).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    retry_percent: u32,
    /// Per cent of applicants who withdraw afterwards.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    withdraw_percent: u32,
    /// Sign-ins timed through the gateway before the window.
    #[arg(long, default_value_t = 200)]
    logins: u32,
    /// Clients of the direct PostgreSQL run.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    baseline_clients: u32,
    /// Transactions of the direct PostgreSQL run.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    baseline_transactions: u32,
    /// Database connections of each service process (its pool's size).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    connections: u32,
    /// What one apply request names: `group` (one group; a full group's
    /// 409 sends the client to the group it names; the model of every
    /// figure before 2026-11-25's ranking), `program` (the group
    /// and its program's other groups as fallbacks, as the portal's
    /// "another group of this program" sends), or `choices` (the three
    /// choices' groups and their programs' other groups ranked in one
    /// request: the fullest list the portal's list of groups can send).
    #[arg(long, value_enum, default_value_t = Ranking::Group)]
    ranking: Ranking,
    /// Reads of a program's seats left sent each second during the window,
    /// as the open program screens of waiting educators poll them (one
    /// `GET /programs/{id}/availability` per screen every 5 s: 1,000 a
    /// second are 5,000 open screens); 0 for none.
    #[arg(long, default_value_t = 0)]
    polls_per_second: u32,
}

/// See [`Args::ranking`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum Ranking {
    Group,
    Program,
    Choices,
}

/// The programs of `groups`, each once.
fn programs_of(groups: &[Group]) -> Vec<Uuid> {
    let mut programs: Vec<Uuid> = groups.iter().map(|g| g.program_id).collect();
    programs.sort_unstable();
    programs.dedup();
    programs
}

/// A group as seeded: its program and seats.
struct Group {
    id: Uuid,
    program: usize,
    program_id: Uuid,
    capacity: i32,
}

/// What each applicant holds.
struct Applicant {
    token: String,
    number: String,
}

pub(super) async fn run(args: Args) -> anyhow::Result<()> {
    let mut env = TestEnv::new()?;
    env.settings.database.max_connections = args.connections;
    let enrollment_db = env
        .database(pd_enrollment::SERVICE, &pd_enrollment::MIGRATORS)
        .await?;
    let identity_db = env
        .database(pd_identity::SERVICE, pd_identity::DEF.migrators)
        .await?;
    let baseline_db = env.database("pgbaseline", &[]).await?;
    let mut children = Vec::new();
    let result = measure(
        &env,
        &args,
        &enrollment_db,
        &identity_db,
        &baseline_db,
        &mut children,
    )
    .await;
    for (_, c) in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    enrollment_db.close().await;
    identity_db.close().await;
    baseline_db.close().await;
    env.cleanup().await;
    result
}

async fn measure(
    env: &TestEnv,
    args: &Args,
    enrollment_db: &PgPool,
    identity_db: &PgPool,
    baseline_db: &PgPool,
    children: &mut Vec<(String, Child)>,
) -> anyhow::Result<()> {
    println!(
        "December window: {} educators, {} organizations, {} programs, {} groups, {} clients, {} enrollment instance(s)",
        args.educators,
        args.organizations,
        args.programs,
        args.groups,
        args.clients,
        args.instances
    );
    let bus = Bus::connect(&env.settings.nats, TokenVerifier::new(&env.settings.auth)?).await?;
    for s in ["registry", "allocation", "identity", "enrollment"] {
        bus.ensure_stream(s).await?;
    }
    let region = Uuid::now_v7();
    let campaign = Uuid::now_v7();
    let started = Instant::now();
    let groups = publish_groups(&bus, region, campaign, args).await?;
    let seats: i64 = groups.iter().map(|g| i64::from(g.capacity)).sum();
    let numbers = publish_numbers(&bus, campaign, args).await?;
    println!(
        "seeded on the streams: {} groups ({seats} seats), {} numbers in {:.1} s",
        groups.len(),
        numbers.len(),
        started.elapsed().as_secs_f64()
    );

    // The platform's processes.
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    children.push(("identity".into(), spawn(env, "identity", port)?));
    for i in 0..args.instances {
        children.push((format!("enrollment-{i}"), spawn(env, "enrollment", port)?));
    }
    children.push(("gateway".into(), spawn(env, "gateway", port)?));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(30))
        .build()?;
    wait_until("the gateway", || async {
        http.get(format!("{base}/api/v1/openapi.json"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await?;
    let caught_up = Instant::now();
    wait_until("enrollment's read-models", || async {
        let (g, n): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM groups), (SELECT count(*) FROM unique_numbers)",
        )
        .fetch_one(enrollment_db)
        .await
        .unwrap_or((0, 0));
        g == groups.len() as i64 && n == numbers.len() as i64
    })
    .await?;
    println!(
        "enrollment caught up from the streams in {:.1} s",
        caught_up.elapsed().as_secs_f64()
    );

    logins(env, identity_db, &http, &base, args.logins).await?;
    let issuer = TokenIssuer::new(&env.settings.auth)?;
    let minted = Instant::now();
    let applicants: Vec<Applicant> = numbers
        .iter()
        .map(|n| {
            let principal = Principal {
                user_id: Uuid::now_v7(),
                login: "bench".into(),
                grants: vec![Grant {
                    role: Role::Educator,
                    scope: Uuid::parse_str(&n.educator_id).ok(),
                    region: Some(region),
                }],
            };
            issuer.issue(&principal).map(|token| Applicant {
                token,
                number: n.number.clone(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    println!(
        "the other {} tokens minted before the window in {:.1} s",
        applicants.len(),
        minted.elapsed().as_secs_f64()
    );

    let baseline = baseline(baseline_db, &groups, args).await?;
    let pids: Vec<(String, u32)> = children.iter().map(|(n, c)| (n.clone(), c.id())).collect();
    let stop_polls = Arc::new(AtomicBool::new(false));
    let poller = (args.polls_per_second > 0).then(|| {
        december_polls::start(
            http.clone(),
            base.clone(),
            programs_of(&groups),
            applicants
                .iter()
                .take(4096)
                .map(|a| a.token.clone())
                .collect(),
            args.polls_per_second,
            stop_polls.clone(),
        )
    });
    let cpu_before = cpu::take(&pids);
    let window = window(&http, &base, &groups, applicants, args).await?;
    let cpu_after = cpu::take(&pids);
    stop_polls.store(true, Ordering::Relaxed);
    let polls = match poller {
        Some(p) => Some(p.await.context("the poller")?),
        None => None,
    };
    window.print(baseline);
    if let Some(p) = polls {
        p.print(window.elapsed.as_secs_f64());
    }
    let spent = cpu::per_item(&cpu_before, &cpu_after, window.acknowledged.len());
    let spent: Vec<String> = spent.iter().map(|(n, ms)| format!("{n} {ms:.3}")).collect();
    println!("  CPU ms per application: {}", spent.join(", "));
    verify(env, enrollment_db, &window).await?;
    println!("peak RSS (MB):");
    for (name, child) in children.iter() {
        println!("  {name:<14} {:>7.1}", child_peak_rss_mb(child.id()));
    }
    println!("  {:<14} {:>7.1}", "bench client", peak_rss_mb());
    Ok(())
}

/// The campaign's calendar (applications open now) and the groups:
/// 15–30 seats, programs of 1 to 6 groups; a program's popularity falls
/// with its rank (a few are wanted by many more than they can seat).
async fn publish_groups(
    bus: &Bus,
    region: Uuid,
    campaign: Uuid,
    args: &Args,
) -> anyhow::Result<Vec<Group>> {
    let cal = pd_bus::testing::calendar_open_now(campaign, region, "applications", 18);
    let mut pending: Vec<Ack> =
        vec![event(bus, "registry", "campaign_calendar_changed", campaign, &cal).await?];
    let programs: Vec<Uuid> = (0..args.programs.max(1)).map(|_| Uuid::now_v7()).collect();
    let provider = Uuid::now_v7();
    let mut groups = Vec::new();
    for i in 0..args.groups {
        let program = (i as usize) % programs.len();
        let capacity = 15 + (mix(u64::from(i)) % 16) as i32;
        let id = Uuid::now_v7();
        let snapshot = registry::GroupSnapshot {
            group: Some(registry::Group {
                id: id.to_string(),
                program_id: programs[program].to_string(),
                starts_on: "2027-02-01".into(),
                ends_on: "2027-02-12".into(),
                online: i % 3 == 0,
                capacity,
                min_size: 10,
                status: "published".into(),
                ..Default::default()
            }),
            campaign_id: campaign.to_string(),
            region_id: region.to_string(),
            provider_id: provider.to_string(),
            program_title: format!("Программа {program}"),
            program_hours: 36,
            provider_name: "СИПКРО".into(),
            ..Default::default()
        };
        let e = registry::GroupPublished {
            group: Some(snapshot),
        };
        pending.push(event(bus, "registry", "group_published", id, &e).await?);
        settle(&mut pending, 2_000).await?;
        groups.push(Group {
            id,
            program,
            program_id: programs[program],
            capacity,
        });
    }
    settle(&mut pending, 0).await?;
    Ok(groups)
}

pub(super) fn mix(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

async fn publish_numbers(
    bus: &Bus,
    campaign: Uuid,
    args: &Args,
) -> anyhow::Result<Vec<allocation::UniqueNumber>> {
    let orgs: Vec<(String, String)> = (0..args.organizations.max(1))
        .map(|i| (Uuid::now_v7().to_string(), format!("{i}")))
        .collect();
    let munis: Vec<String> = (0..47).map(|_| Uuid::now_v7().to_string()).collect();
    let mut rng = rand::thread_rng();
    let mut pending = Vec::new();
    let mut numbers = Vec::new();
    for i in 0..args.educators {
        let (org, _) = &orgs[i as usize % orgs.len()];
        let n = allocation::UniqueNumber {
            id: Uuid::now_v7().to_string(),
            number: pd_domain::unique_number::generate(&mut rng),
            campaign_id: campaign.to_string(),
            educator_id: Uuid::now_v7().to_string(),
            educator_name: format!("Педагог {i}"),
            organization_id: org.clone(),
            municipality_id: munis[i as usize % munis.len()].clone(),
            status: "assigned".into(),
            assigned_by_level: "organization".into(),
            ..Default::default()
        };
        let id = Uuid::parse_str(&n.id)?;
        let e = allocation::UniqueNumberAssigned {
            unique_number: Some(n.clone()),
            ..Default::default()
        };
        pending.push(event(bus, "allocation", "unique_number_assigned", id, &e).await?);
        settle(&mut pending, 2_000).await?;
        numbers.push(n);
    }
    settle(&mut pending, 0).await?;
    Ok(numbers)
}

pub(super) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `pd serve <service>` with this environment's databases, subjects,
/// keys and pool size, the gateway on `port`.
pub(super) fn spawn(env: &TestEnv, service: &str, port: u16) -> anyhow::Result<Child> {
    let mut settings = env.settings.clone();
    settings.gateway.listen = format!("127.0.0.1:{port}");
    settings.gateway.login_attempts_per_minute = 1_000_000;
    let exe = std::env::current_exe().context("the pd binary")?;
    pd::serve_command(&exe, &settings, &[service])
        .spawn()
        .with_context(|| format!("starting pd serve {service}"))
}

pub(super) async fn wait_until<F, Fut>(what: &str, done: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) {
        if done().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what}: not ready after 10 minutes")
}

/// Sign-ins through the gateway (argon2 verification in identity), 16 at once.
async fn logins(
    env: &TestEnv,
    identity_db: &PgPool,
    http: &reqwest::Client,
    base: &str,
    n: u32,
) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    for i in 0..n {
        pd_identity::create_user_direct(
            identity_db,
            &env.settings.nats.subject_prefix,
            &format!("teacher{i}"),
            "december-password-1",
            "admin",
            None,
        )
        .await?;
    }
    let next = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (http, url, next, failed) = (
                http.clone(),
                format!("{base}/api/v1/auth/login"),
                next.clone(),
                failed.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let body =
                        json!({"login": format!("teacher{i}"), "password": "december-password-1"});
                    let ok = http
                        .post(&url)
                        .json(&body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sign-ins through the gateway: {n} in {secs:.2} s = {:.0} logins/s ({} failed)",
        f64::from(n) / secs,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Which group applicant `i` wants first: a program drawn with weight
/// 1/(rank+1) (a few programs are wanted far beyond their seats), then
/// one of its groups.
fn first_choice(i: u32, by_program: &HashMap<usize, Vec<usize>>, programs: usize) -> usize {
    let h = mix(u64::from(i) ^ 0xD1CE);
    // Inverse of the harmonic weights, approximated: rank = programs^u - 1.
    let u = (h % 1_000_000) as f64 / 1_000_000.0;
    let rank = ((programs as f64 + 1.0).powf(u) - 1.0) as usize % programs;
    let candidates = &by_program[&rank];
    candidates[(h >> 32) as usize % candidates.len()]
}

/// A group of a program drawn with equal weights: where an educator whose
/// choices are all full looks next (the catalog shows seats left).
fn any_group(draw: u64, by_program: &HashMap<usize, Vec<usize>>, programs: usize) -> usize {
    let h = mix(draw ^ 0xFA11);
    let candidates = &by_program[&((h % programs as u64) as usize)];
    candidates[(h >> 32) as usize % candidates.len()]
}

/// The groups one educator tries, in order (indices of the seeded groups).
struct Picks {
    /// Three programs' groups, drawn by popularity.
    choices: [usize; 3],
    /// When all of those are full and the educator does not wait: groups
    /// of programs drawn with equal weights.
    fallbacks: [usize; 6],
}

/// What one apply request asks for.
#[derive(Clone)]
struct Ask {
    group: Uuid,
    /// The groups to take a seat in when `group` is full, in order.
    fallbacks: Vec<Uuid>,
    join_waitlist: bool,
}

/// The seeded groups as the clients see them in the catalog.
struct Catalog {
    ids: Vec<Uuid>,
    programs: Vec<usize>,
    by_program: HashMap<usize, Vec<usize>>,
}

/// The request for the groups `gs` in this order, each followed by its
/// program's other groups unless `alone`; the first is applied to, the
/// others (at most nine, as the service takes) are its fallbacks.
fn ask(c: &Catalog, gs: &[usize], alone: bool) -> Ask {
    let mut ranked: Vec<Uuid> = Vec::new();
    for &g in gs {
        let siblings = c.by_program[&c.programs[g]].iter().filter(|&&o| o != g);
        let wanted = std::iter::once(&g).chain(siblings.take(if alone { 0 } else { usize::MAX }));
        for &o in wanted {
            // Two choices may be one program: each group once.
            if !ranked.contains(&c.ids[o]) {
                ranked.push(c.ids[o]);
            }
        }
    }
    ranked.truncate(10);
    Ask {
        group: ranked[0],
        fallbacks: ranked.split_off(1),
        join_waitlist: false,
    }
}

/// The same seat take + insert, directly in PostgreSQL, `baseline_clients`
/// at once over the same groups (seats never run out, so each one is a write).
async fn baseline(db: &PgPool, groups: &[Group], args: &Args) -> anyhow::Result<f64> {
    sqlx::query("CREATE TABLE groups (id uuid PRIMARY KEY, seats_left int NOT NULL)")
        .execute(db)
        .await?;
    sqlx::query(
        "CREATE TABLE applications (id uuid PRIMARY KEY, group_id uuid NOT NULL, educator_id uuid NOT NULL,
                                    created_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(db)
    .await?;
    sqlx::query("INSERT INTO groups SELECT unnest($1::uuid[]), 1000000000")
        .bind(groups.iter().map(|g| g.id).collect::<Vec<_>>())
        .execute(db)
        .await?;
    let by_program = by_program(groups);
    let programs = by_program.len();
    let ids: Arc<Vec<Uuid>> = Arc::new(groups.iter().map(|g| g.id).collect());
    let picks: Arc<Vec<usize>> = Arc::new(
        (0..args.baseline_transactions)
            .map(|i| first_choice(i, &by_program, programs))
            .collect(),
    );
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let total = args.baseline_transactions;
    let workers: Vec<_> = (0..args.baseline_clients.max(1))
        .map(|_| {
            let (db, ids, picks, next) = (db.clone(), ids.clone(), picks.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let group = ids[picks[i as usize]];
                    let Ok(mut tx) = db.begin().await else { continue };
                    let _ = sqlx::query("UPDATE groups SET seats_left = seats_left - 1 WHERE id = $1 AND seats_left > 0")
                        .bind(group)
                        .execute(&mut *tx)
                        .await;
                    let _ = sqlx::query("INSERT INTO applications (id, group_id, educator_id) VALUES ($1, $2, $3)")
                        .bind(Uuid::now_v7())
                        .bind(group)
                        .bind(Uuid::now_v7())
                        .execute(&mut *tx)
                        .await;
                    let _ = tx.commit().await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let rate = f64::from(total) / started.elapsed().as_secs_f64();
    println!(
        "direct PostgreSQL, the same seat take + insert: {total} transactions, {} clients: {rate:.0} tx/s",
        args.baseline_clients
    );
    Ok(rate)
}

fn by_program(groups: &[Group]) -> HashMap<usize, Vec<usize>> {
    let mut m: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        m.entry(g.program).or_default().push(i);
    }
    m
}

/// What the window's clients saw.
#[derive(Default)]
struct Window {
    elapsed: Duration,
    /// Every apply request's time to its answer, for those run ...
    latencies: Vec<Duration>,
    /// ... and those refused at once (503, 429).
    shed_latencies: Vec<Duration>,
    /// Answers by HTTP status (and `reason` for 409s).
    answers: HashMap<String, u64>,
    /// Application ids acknowledged (201), once each.
    acknowledged: Vec<Uuid>,
    /// Ids withdrawn by the clients.
    withdrawn: Vec<Uuid>,
    /// Withdrawal answers by HTTP status (or transport error).
    withdrawal_answers: HashMap<String, u64>,
    /// A retry with the same key that answered another application.
    retry_mismatches: u64,
    /// Retries still shed after every Retry-After the client waited.
    retries_not_through: u64,
    enrolled: u64,
    waitlisted: u64,
    shed_retries: u64,
    /// Educators who found nothing open among all they tried.
    without_application: u64,
}

/// "201: 5, 409 group_full: 3": counts by answer, in order.
pub(super) fn by_status(answers: &HashMap<String, u64>) -> String {
    let mut answers: Vec<_> = answers.iter().collect();
    answers.sort();
    let answers: Vec<String> = answers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    answers.join(", ")
}

pub(super) fn percentile(latencies: &[Duration], p: f64) -> f64 {
    let mut v = latencies.to_vec();
    v.sort();
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

impl Window {
    fn percentile(&self, p: f64) -> f64 {
        percentile(&self.latencies, p)
    }

    fn print(&self, baseline: f64) {
        let secs = self.elapsed.as_secs_f64();
        let rate = self.acknowledged.len() as f64 / secs;
        let requests = self.latencies.len() as f64 / secs;
        println!(
            "window: {} applications acknowledged in {secs:.1} s = {rate:.0} applications/s ({requests:.0} apply requests/s)",
            self.acknowledged.len()
        );
        println!(
            "  enrolled {}, waitlisted {}, without an application {}, withdrawn {}; retries with the same key answering another application: {} (not through after 60 sheds: {})",
            self.enrolled,
            self.waitlisted,
            self.without_application,
            self.withdrawn.len(),
            self.retry_mismatches,
            self.retries_not_through
        );
        println!(
            "  apply latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99),
            self.percentile(1.0)
        );
        println!(
            "  answers: {} (shed and retried after Retry-After: {})",
            by_status(&self.answers),
            self.shed_retries
        );
        println!(
            "  withdrawal answers: {}",
            by_status(&self.withdrawal_answers)
        );
        if !self.shed_latencies.is_empty() {
            println!(
                "  shed answers (503/429) took p50 {:.1} ms, p99 {:.1} ms; the latencies above are of the requests run",
                percentile(&self.shed_latencies, 0.50),
                percentile(&self.shed_latencies, 0.99)
            );
        }
        println!(
            "  ratio to direct PostgreSQL: {:.2} ({rate:.0} / {baseline:.0})",
            rate / baseline.max(1.0)
        );
    }
}

/// One client of the window: its connection and what it records.
struct Client<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    catalog: &'a Catalog,
    ranking: Ranking,
    w: &'a Mutex<Window>,
}

impl Client<'_> {
    /// One apply request; the answer's status (with the 409's reason) and body.
    async fn apply(&self, a: &Applicant, key: &str, ask: &Ask) -> (String, Value) {
        let (http, base, w) = (self.http, self.base, self.w);
        let mut body = json!({"group_id": ask.group, "unique_number": a.number, "join_waitlist": ask.join_waitlist});
        if !ask.fallbacks.is_empty() {
            body["fallback_group_ids"] = json!(ask.fallbacks);
        }
        let mut shed = 0;
        loop {
            let started = Instant::now();
            let r = http
                .post(format!("{base}/api/v1/applications"))
                .bearer_auth(&a.token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await;
            let took = started.elapsed();
            let (status, retry_after, v) = match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    (
                        status,
                        retry,
                        r.json::<Value>().await.unwrap_or(Value::Null),
                    )
                }
                Err(e) => (0, None, json!({"reason": e.to_string()})),
            };
            let kind = match status {
                409 | 422 => format!(
                    "{status} {}",
                    v["reason"]
                        .as_str()
                        .unwrap_or(v["code"].as_str().unwrap_or(""))
                ),
                0 => "transport error".to_owned(),
                s => s.to_string(),
            };
            if let Ok(mut w) = w.lock() {
                *w.answers.entry(kind.clone()).or_default() += 1;
                if matches!(status, 503 | 429) {
                    w.shed_retries += 1;
                    w.shed_latencies.push(took);
                } else {
                    w.latencies.push(took);
                }
            }
            match (status, retry_after) {
                // Shed: come back when told, with the same key.
                (503 | 429, Some(secs)) if shed < 60 => {
                    shed += 1;
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                }
                _ => return (kind, v),
            }
        }
    }

    /// An educator's December: the first choice; when it is full, the other
    /// groups of its program (ranked in the request, or the one the 409
    /// names), then up to two more programs; when everything tried is full,
    /// one in three joins the first choice's waitlist and the others look for
    /// any program with seats (their number funds them only if they apply).
    /// Some retry with the same key, some withdraw.
    async fn one_applicant(&self, a: &Applicant, i: u32, picks: &Picks, retry: u32, withdraw: u32) {
        let (http, base, w) = (self.http, self.base, self.w);
        let h = mix(u64::from(i) ^ 0xA11CE);
        let mut attempt = 0;
        let mut next_key = || {
            attempt += 1;
            format!("apply-{i}-{attempt}")
        };
        // (key, request) of the one acknowledged, and its answer.
        let mut outcome = None;
        let waits = h.is_multiple_of(3);
        let extras: &[usize] = if waits { &[] } else { &picks.fallbacks };
        let c = self.catalog;
        let plan: Vec<Ask> = match self.ranking {
            Ranking::Group | Ranking::Program => {
                let alone = self.ranking == Ranking::Group;
                let tries = picks.choices.iter().chain(extras);
                tries.map(|&g| ask(c, &[g], alone)).collect()
            }
            Ranking::Choices => std::iter::once(&picks.choices[..])
                .chain(extras.chunks(3))
                .map(|gs| ask(c, gs, false))
                .collect(),
        };
        for ask in &plan {
            let key = next_key();
            let (kind, body) = self.apply(a, &key, ask).await;
            if kind == "201" {
                outcome = Some((key, ask.clone(), body));
                break;
            }
            if kind != "409 group_full" {
                break;
            }
            if !ask.fallbacks.is_empty() {
                continue;
            }
            let alternative = body["alternative_groups"]
                .as_str()
                .and_then(|s| s.split(',').next())
                .and_then(|s| Uuid::parse_str(s).ok());
            if let Some(group) = alternative {
                let key = next_key();
                let ask = Ask {
                    group,
                    fallbacks: Vec::new(),
                    join_waitlist: false,
                };
                let (kind, body) = self.apply(a, &key, &ask).await;
                if kind == "201" {
                    outcome = Some((key, ask, body));
                    break;
                }
            }
        }
        if outcome.is_none() && waits {
            let key = next_key();
            let ask = Ask {
                group: c.ids[picks.choices[0]],
                fallbacks: Vec::new(),
                join_waitlist: true,
            };
            let (kind, body) = self.apply(a, &key, &ask).await;
            if kind == "201" {
                outcome = Some((key, ask, body));
            }
        }
        let Some((key, ask, body)) = outcome else {
            if let Ok(mut w) = w.lock() {
                w.without_application += 1;
            }
            return;
        };
        let Some(id) = body["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()) else {
            return;
        };
        let waitlisted = body["status"] == "waitlisted";
        if let Ok(mut w) = w.lock() {
            w.acknowledged.push(id);
            if waitlisted {
                w.waitlisted += 1;
            } else {
                w.enrolled += 1;
            }
        }
        if (h % 100) < u64::from(retry) {
            // The very same request again: the same key and body.
            let (kind, again) = self.apply(a, &key, &ask).await;
            if let Ok(mut w) = w.lock() {
                if kind != "201" {
                    w.retries_not_through += 1;
                } else if again["id"] != body["id"] {
                    w.retry_mismatches += 1;
                }
            }
        }
        if ((h >> 8) % 100) < u64::from(withdraw) {
            let r = http
                .post(format!("{base}/api/v1/applications/{id}/withdrawal"))
                .bearer_auth(&a.token)
                .json(&json!({"reason": "illness"}))
                .send()
                .await;
            let status = match &r {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "no answer".to_owned(),
            };
            if let Ok(mut w) = w.lock() {
                if status == "200" {
                    w.withdrawn.push(id);
                }
                *w.withdrawal_answers.entry(status).or_default() += 1;
            }
        }
    }
}
/// K clients, each taking the next applicant until all have applied.
async fn window(
    http: &reqwest::Client,
    base: &str,
    groups: &[Group],
    applicants: Vec<Applicant>,
    args: &Args,
) -> anyhow::Result<Window> {
    let by_program = Arc::new(by_program(groups));
    let programs = by_program.len();
    // Three choices each, of different draws, and the programs an
    // educator turns to when all three are full.
    let picks: Vec<Picks> = (0..applicants.len() as u32)
        .map(|i| Picks {
            choices: [0u32, 1, 2].map(|k| {
                let draw = i.wrapping_add(k.wrapping_mul(0x9E37_79B9));
                first_choice(draw, &by_program, programs)
            }),
            fallbacks: [0u64, 1, 2, 3, 4, 5]
                .map(|k| any_group(u64::from(i) << 3 | k, &by_program, programs)),
        })
        .collect();
    let catalog = Arc::new(Catalog {
        ids: groups.iter().map(|g| g.id).collect(),
        programs: groups.iter().map(|g| g.program).collect(),
        by_program: (*by_program).clone(),
    });
    let ranking = args.ranking;
    let picks = Arc::new(picks);
    let applicants = Arc::new(applicants);
    let w = Arc::new(Mutex::new(Window::default()));
    let next = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.clients.max(1))
        .map(|_| {
            let (http, base, w, next, done) = (
                http.clone(),
                base.to_owned(),
                w.clone(),
                next.clone(),
                done.clone(),
            );
            let (applicants, picks, catalog) = (applicants.clone(), picks.clone(), catalog.clone());
            let (retry, withdraw) = (args.retry_percent, args.withdraw_percent);
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(a) = applicants.get(i as usize) else {
                        break;
                    };
                    let client = Client {
                        http: &http,
                        base: &base,
                        catalog: &catalog,
                        ranking,
                        w: &w,
                    };
                    client
                        .one_applicant(a, i, &picks[i as usize], retry, withdraw)
                        .await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let mut w = Arc::try_unwrap(w)
        .map_err(|_| anyhow::anyhow!("clients still running"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a client panicked"))?;
    w.elapsed = started.elapsed();
    Ok(w)
}

/// After the window: the relay's backlog drained, then the checks a region
/// would ask for.
async fn verify(env: &TestEnv, db: &PgPool, w: &Window) -> anyhow::Result<()> {
    wait_until("the outbox relay", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(db)
            .await
            .is_ok_and(|n| n == 0)
    })
    .await?;
    // One pass over the rows: a count per group in a subquery was planned
    // on statistics from before the window (a scan of every row per group,
    // seconds).
    let (overbooked, miscounted): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE g.taken > g.capacity OR coalesce(e.n, 0) > g.capacity),
                count(*) FILTER (WHERE g.taken <> coalesce(e.n, 0))
         FROM groups g LEFT JOIN (SELECT group_id, count(*) AS n FROM applications
                                  WHERE status = 'enrolled' GROUP BY group_id) e ON e.group_id = g.id",
    )
    .fetch_one(db)
    .await?;
    let found: i64 = sqlx::query_scalar("SELECT count(*) FROM applications WHERE id = ANY($1)")
        .bind(&w.acknowledged)
        .fetch_one(db)
        .await?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM applications")
        .fetch_one(db)
        .await?;
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM applications WHERE status IN ('withdrawn', 'rejected')",
    )
    .fetch_one(db)
    .await?;
    let free_with_waitlist: i64 =
        sqlx::query_scalar("SELECT count(*) FROM groups WHERE taken < capacity AND waitlisted > 0")
            .fetch_one(db)
            .await?;
    println!("checks after the window:");
    println!(
        "  seats overbooked: {overbooked} groups (seat counters off: {miscounted}; free seats beside a waitlist: {free_with_waitlist})"
    );
    println!(
        "  applications acknowledged but missing: {}",
        w.acknowledged.len() as i64 - found
    );
    let submitted = env
        .event_count("enrollment", "application_submitted")
        .await?;
    let withdrawn = env
        .event_count("enrollment", "application_withdrawn")
        .await?;
    let promoted = env
        .event_count("enrollment", "application_promoted")
        .await?;
    println!(
        "  events published vs rows written: application_submitted {submitted} / {rows} applications; application_withdrawn {withdrawn} / {ended} ended; application_promoted {promoted}"
    );
    Ok(())
}

pub(super) fn child_peak_rss_mb(pid: u32) -> f64 {
    peak_rss_of(&pid.to_string())
}
