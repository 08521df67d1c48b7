//! `pd bench`: reproducible benchmarks against the real PostgreSQL and NATS
//! of this machine, on their own databases and subjects (nothing of a
//! running platform is touched). Figures go to BENCHMARKS.md.

use anyhow::Context;
use futures::future::join_all;
use pd_domain::{Inn, Snils};
use pd_runtime::Shutdown;
use pd_testkit::TestEnv;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(clap::Subcommand)]
enum Scenario {
    /// Authenticated writes (create an educator) through gateway → NATS →
    /// identity → PostgreSQL + outbox, against the same writes done
    /// directly in PostgreSQL from this process.
    IdentityWrites {
        /// Requests per run.
        #[arg(long, default_value_t = 4000)]
        requests: u32,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: u32,
    },
    /// Bulk import of educators from one CSV file through the gateway:
    /// upload, validation and the all-or-nothing write, with progress.
    Import {
        #[arg(long, default_value_t = 50_000)]
        rows: u32,
        /// Only check the file (the operator's first step with a big list).
        #[arg(long)]
        dry_run: bool,
        /// Sign-ins fired at once before the import (memory under a burst).
        #[arg(long, default_value_t = 0)]
        logins: u32,
    },
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.scenario {
        Scenario::IdentityWrites {
            requests,
            concurrency,
        } => identity_writes(requests, concurrency.max(1)).await,
        Scenario::Import {
            rows,
            dry_run,
            logins,
        } => import(rows, dry_run, logins).await,
    }
}

/// Latencies of one run.
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: u32,
}

impl Run {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> f64 {
        let mut v = self.latencies.clone();
        v.sort();
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v[i].as_secs_f64() * 1000.0
    }
    fn print(&self, name: &str) {
        println!(
            "{name:<34} {:>9.0} req/s   p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
            self.rate(),
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99),
            self.errors
        );
    }
}

/// Runs `total` calls of `f` with `concurrency` workers.
async fn drive<F, Fut>(total: u32, concurrency: u32, f: F) -> Run
where
    F: Fn(u32) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let f = f.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                if f(i).await {
                    latencies.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        })
    });
    let mut run = Run {
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(total as usize),
        errors: 0,
    };
    for r in join_all(workers).await {
        let (l, e) = r.unwrap_or_default();
        run.latencies.extend(l);
        run.errors += e;
    }
    run.elapsed = started.elapsed();
    run
}

/// Identity and gateway on their own databases and subjects.
struct Bench {
    env: TestEnv,
    shutdown: Shutdown,
    pool: PgPool,
    identity: pd_runtime::Running,
    gateway: pd_runtime::Running,
    base: String,
}

impl Bench {
    async fn start() -> anyhow::Result<Bench> {
        let mut env = TestEnv::new()?;
        env.settings.database.max_connections = 16;
        // Bursts of sign-ins are part of what is measured.
        env.settings.gateway.login_attempts_per_minute = 1_000_000;
        let shutdown = Shutdown::new();
        let pool = env
            .database(pd_identity::SERVICE, &[&pd_identity::MIGRATOR])
            .await?;
        let identity = pd_identity::start(env.settings.clone(), shutdown.clone()).await?;
        let gateway = pd_gateway::start(env.settings.clone(), shutdown.clone()).await?;
        let base = format!(
            "http://{}",
            gateway.http.context("the gateway serves HTTP")?
        );
        Ok(Bench {
            env,
            shutdown,
            pool,
            identity,
            gateway,
            base,
        })
    }

    /// An admin's access token.
    async fn admin(&self, http: &reqwest::Client) -> anyhow::Result<String> {
        pd_identity::create_user_direct(
            &self.pool,
            &self.env.settings.nats.subject_prefix,
            "bench.admin",
            "bench-password-1",
            "admin",
            None,
        )
        .await?;
        let login: Value = http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"login": "bench.admin", "password": "bench-password-1"}))
            .send()
            .await?
            .json()
            .await?;
        login["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("login failed")
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.identity.wait().await;
        self.gateway.wait().await;
        self.pool.close().await;
        self.env.cleanup().await;
    }
}

/// Resident memory of this process (every service of the bench runs in it).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / 1e6)
}

async fn import(rows: u32, dry_run: bool, logins: u32) -> anyhow::Result<()> {
    let bench = Bench::start().await?;
    let result = async {
        let http = reqwest::Client::new();
        let token = bench.admin(&http).await?;
        let base = &bench.base;
        let org = setup_org(&http, base, &token).await?;
        println!("rss at start: {:.0} MB", rss_mb());
        if logins > 0 {
            let started = Instant::now();
            let tries = (0..logins).map(|i| {
                http.post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"login": format!("nobody{i}"), "password": "wrong-password-1"}))
                    .send()
            });
            let answered = futures::future::join_all(tries)
                .await
                .into_iter()
                .filter(|r| r.as_ref().is_ok_and(|r| r.status() == 401))
                .count();
            println!(
                "{logins} sign-ins at once: {answered} answered 401 in {:.2} s; rss {:.0} MB",
                started.elapsed().as_secs_f64(),
                rss_mb()
            );
        }
        let mut csv = String::from("snils;last_name;first_name;middle_name;position;subjects\n");
        for i in 0..rows {
            csv.push_str(&format!(
                "{};Иванова{i};Мария;Петровна;учитель;Математика|Физика\n",
                educator_snils(0, i)
            ));
        }
        println!("import: {rows} rows, {:.1} MB", csv.len() as f64 / 1e6);
        let started = Instant::now();
        let r = http
            .post(format!(
                "{base}/api/v1/educators/imports?organization_id={org}&dry_run={dry_run}"
            ))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 202, "import refused: {}", r.status());
        let uploaded = started.elapsed();
        let job: Value = r.json().await?;
        let id = job["id"].as_str().context("job id")?.to_owned();
        let mut last_progress = -1;
        let job = loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let job: Value = http
                .get(format!("{base}/api/v1/educators/imports/{id}"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let progress = job["processed_rows"].as_i64().unwrap_or(0);
            if progress != last_progress {
                println!(
                    "  {:>6.2} s  {:<10} {progress}/{}",
                    started.elapsed().as_secs_f64(),
                    job["status"].as_str().unwrap_or(""),
                    job["total_rows"]
                );
                last_progress = progress;
            }
            if ["completed", "rejected", "failed"].contains(&job["status"].as_str().unwrap_or("")) {
                break job;
            }
        };
        let total = started.elapsed();
        anyhow::ensure!(job["status"] == "completed", "import ended {}", job);
        println!(
            "{} of {rows} rows: upload {:.2} s, total {:.2} s ({:.0} rows/s); rss {:.0} MB",
            if dry_run { "dry run" } else { "import" },
            uploaded.as_secs_f64(),
            total.as_secs_f64(),
            f64::from(rows) / total.as_secs_f64(),
            rss_mb()
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        println!("rss 5 s later, at rest: {:.0} MB", rss_mb());
        anyhow::Ok(())
    }
    .await;
    bench.stop().await;
    result
}

async fn identity_writes(requests: u32, concurrency: u32) -> anyhow::Result<()> {
    let bench = Bench::start().await?;
    let base = bench.base.clone();
    let result = async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency as usize)
            .build()?;
        let token = bench.admin(&http).await?;
        let org = setup_org(&http, &base, &token).await?;
        println!(
            "identity-writes: {requests} requests, concurrency {concurrency}, {} cores",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );

        // Warm-up: connections, caches, the JIT-less but cold PostgreSQL plans.
        let warm = make_http_writer(
            http.clone(),
            base.clone(),
            token.clone(),
            org.clone(),
            900_000_000,
        );
        drive(200.min(requests), concurrency, warm).await;

        let writer = make_http_writer(http.clone(), base.clone(), token.clone(), org.clone(), 0);
        let platform = drive(requests, concurrency, writer).await;
        platform.print("gateway → NATS → identity → PG");

        // The same pool size as the identity service's.
        let settings = &bench.env.settings;
        let direct_pool = pd_runtime::db::pool(
            &settings.database.url,
            &settings.database_name(pd_identity::SERVICE),
            settings.database.max_connections,
        )
        .await?;
        let direct = drive(
            requests,
            concurrency,
            make_direct_writer(direct_pool.clone(), org.parse()?, 500_000_000),
        )
        .await;
        direct_pool.close().await;
        direct.print("direct PostgreSQL (same writes)");
        println!(
            "ratio: platform throughput = {:.2} × direct; p50 latency = {:.1} × direct",
            platform.rate() / direct.rate(),
            platform.percentile(0.5) / direct.percentile(0.5).max(0.001)
        );
        anyhow::Ok(())
    }
    .await;
    bench.stop().await;
    result
}

async fn setup_org(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let region: Value = post("/api/v1/regions", json!({"code": "BENCH", "name": "Bench", "time_zone": "Europe/Moscow", "pd_model": "un_quota"}))
        .await?
        .json()
        .await?;
    let region = region["id"].as_str().context("region")?;
    let m: Value = post(
        &format!("/api/v1/regions/{region}/municipalities"),
        json!({"name": "Bench"}),
    )
    .await?
    .json()
    .await?;
    let inn = Inn::from_body(165_999_001).context("inn")?;
    let org: Value = post(
        "/api/v1/organizations",
        json!({"municipality_id": m["id"], "name": "Bench school", "kind": "school", "inn": inn.as_str()}),
    )
    .await?
    .json()
    .await?;
    org["id"]
        .as_str()
        .map(str::to_owned)
        .context("organization")
}

fn educator_snils(offset: u32, i: u32) -> String {
    Snils::from_body(100_000_000 + offset + i)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

fn make_http_writer(
    http: reqwest::Client,
    base: String,
    token: String,
    org: String,
    offset: u32,
) -> impl Fn(u32) -> futures::future::BoxFuture<'static, bool> + Send + Sync + 'static {
    move |i| {
        let req = http
            .post(format!("{base}/api/v1/educators"))
            .bearer_auth(&token)
            .json(&json!({
                "snils": educator_snils(offset, i),
                "last_name": "Иванова",
                "first_name": "Мария",
                "middle_name": "Петровна",
                "position": "учитель",
                "subjects": ["Математика"],
                "organization_id": org,
            }));
        Box::pin(async move { matches!(req.send().await, Ok(r) if r.status() == 201) })
    }
}

/// The writes identity does for one educator, without the platform: the
/// row and its outbox event in one transaction.
fn make_direct_writer(
    pool: PgPool,
    org: Uuid,
    offset: u32,
) -> impl Fn(u32) -> futures::future::BoxFuture<'static, bool> + Send + Sync + 'static {
    move |i| {
        let pool = pool.clone();
        Box::pin(async move {
            let r: Result<(), sqlx::Error> = async {
                let mut tx = pool.begin().await?;
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO educators (id, snils, last_name, first_name, middle_name, position, subjects, organization_id)
                     VALUES ($1, $2, 'Иванова', 'Мария', 'Петровна', 'учитель', ARRAY['Математика'], $3)",
                )
                .bind(id)
                .bind(educator_snils(offset, i))
                .bind(org)
                .execute(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO outbox (event_id, subject, envelope, sent_at) VALUES ($1, 'bench.direct', $2, now())")
                    .bind(Uuid::now_v7())
                    .bind(vec![0u8; 200])
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await;
            r.is_ok()
        })
    }
}
