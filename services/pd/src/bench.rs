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

mod allocation;
mod completions;
mod cpu;
mod december;
mod december_polls;
mod needs_survey;

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
    /// Anonymous reads of the public catalog (`GET /api/v1/catalog`) at
    /// Samara scale: 915 approved programs and 3,000 published groups in
    /// one campaign, each kind of query alone and then a portal's mix.
    Catalog {
        /// Requests of the mixed run.
        #[arg(long, default_value_t = 4000)]
        requests: u32,
        /// Requests of each kind of query run alone before the mix (0: none).
        #[arg(long, default_value_t = 400)]
        per_kind: u32,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: u32,
        /// Keep the platform and its databases after the figures until
        /// Ctrl-C (to EXPLAIN the queries against the seeded database).
        #[arg(long)]
        hold: bool,
    },
    /// The needs survey at Samara's scale: 45,651 educators answer through
    /// the gateway, then the region's demand and response rates.
    NeedsSurvey {
        #[arg(long, default_value_t = 45_651)]
        educators: u32,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: u32,
    },
    /// Eligibility, quotas and unique numbers at Samara's scale: identity's
    /// and the registry's events on the streams, then the allocation
    /// service builds its candidates, every list is confirmed, the ministry
    /// funds the places and one run assigns every number.
    Allocation {
        #[arg(long, default_value_t = 45_651)]
        educators: u32,
        #[arg(long, default_value_t = 2_146)]
        organizations: u32,
        /// Funded places (a number each).
        #[arg(long, default_value_t = 20_000)]
        places: u32,
    },
    /// The December application window at Samara's scale: 45,651 funded
    /// educators apply through the gateway to ~3,000 groups, against the
    /// same transaction run directly in PostgreSQL.
    December(december::Args),
    /// Providers push completions through the webhook (API key): 20,000
    /// learners in batches of 500, every post-course window opened.
    Completions(completions::Args),
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
        Scenario::Catalog {
            requests,
            per_kind,
            concurrency,
            hold,
        } => catalog::run(requests, per_kind, concurrency.max(1), hold).await,
        Scenario::NeedsSurvey {
            educators,
            concurrency,
        } => needs_survey::run(educators, concurrency.max(1)).await,
        Scenario::Allocation {
            educators,
            organizations,
            places,
        } => allocation::run(educators, organizations, places).await,
        Scenario::December(args) => december::run(args).await,
        Scenario::Completions(args) => completions::run(args).await,
    }
}

/// Latencies of one run.
struct Run {
    elapsed: Duration,
    /// Of the requests that succeeded, ...
    latencies: Vec<Duration>,
    /// ... and which request each one was.
    requests: Vec<u32>,
    /// The requests that failed.
    failed: Vec<u32>,
}

impl Run {
    /// The requests `keep` selects, over the same elapsed time.
    fn only(&self, keep: impl Fn(u32) -> bool) -> Run {
        let (requests, latencies) = self
            .requests
            .iter()
            .zip(&self.latencies)
            .filter(|(i, _)| keep(**i))
            .unzip();
        Run {
            elapsed: self.elapsed,
            latencies,
            requests,
            failed: self.failed.iter().copied().filter(|i| keep(*i)).collect(),
        }
    }
    fn max_ms(&self) -> f64 {
        self.latencies
            .iter()
            .max()
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
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
            self.failed.len()
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
            let mut requests = Vec::new();
            let mut failed = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                if f(i).await {
                    latencies.push(t.elapsed());
                    requests.push(i);
                } else {
                    failed.push(i);
                }
            }
            (latencies, requests, failed)
        })
    });
    let mut run = Run {
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(total as usize),
        requests: Vec::with_capacity(total as usize),
        failed: Vec::new(),
    };
    for r in join_all(workers).await {
        let (l, i, e) = r.unwrap_or_default();
        run.latencies.extend(l);
        run.requests.extend(i);
        run.failed.extend(e);
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

/// `pd bench catalog`: the public catalog at Samara scale, read by
/// anonymous clients as a portal would.
mod catalog {
    use super::{Run, drive};
    use anyhow::Context;
    use chrono::NaiveDate;
    use pd_runtime::Shutdown;
    use pd_testkit::TestEnv;
    use serde_json::{Value, json};
    use sqlx::PgPool;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use uuid::Uuid;

    const APPROVED: usize = 915;
    /// Programs of the campaign that were not approved: the catalog skips them.
    const NOT_APPROVED: usize = 185;
    /// Approved programs with a fourth group: 915 × 3 + 255 = 3,000.
    const FOURTH_GROUP: usize = 255;
    const PUBLISHED_GROUPS: usize = APPROVED * 3 + FOURTH_GROUP;
    /// Draft and cancelled groups: the catalog skips them too.
    const OTHER_GROUPS: usize = 300;
    const PROVIDERS: usize = 60;
    /// In the topic of every 20th approved program: a search finding 5 %.
    const RARE_WORD: &str = "робототехника";
    /// In no program.
    const ABSENT_WORD: &str = "палеонтология";

    /// The kinds of query a portal sends.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Kind {
        First,
        Page400,
        Page900,
        Direction,
        Subject,
        TextHit,
        TextMiss,
        Municipality,
    }

    const KINDS: [Kind; 8] = [
        Kind::First,
        Kind::Page400,
        Kind::Page900,
        Kind::Direction,
        Kind::Subject,
        Kind::TextHit,
        Kind::TextMiss,
        Kind::Municipality,
    ];

    /// A portal's mix, 20 requests at a time: mostly first pages and
    /// filters, a few deep pages and searches.
    const MIX: [Kind; 20] = [
        Kind::First,
        Kind::Municipality,
        Kind::Direction,
        Kind::Subject,
        Kind::First,
        Kind::TextHit,
        Kind::Municipality,
        Kind::First,
        Kind::Direction,
        Kind::Page400,
        Kind::Subject,
        Kind::First,
        Kind::Municipality,
        Kind::TextMiss,
        Kind::Direction,
        Kind::First,
        Kind::Subject,
        Kind::Municipality,
        Kind::TextHit,
        Kind::Page900,
    ];

    fn mixed(i: u32) -> Kind {
        MIX[i as usize % MIX.len()]
    }

    impl Kind {
        fn name(self) -> &'static str {
            match self {
                Kind::First => "first page",
                Kind::Page400 => "offset 400",
                Kind::Page900 => "offset 900",
                Kind::Direction => "direction",
                Kind::Subject => "subject",
                Kind::TextHit => "text, 5 %",
                Kind::TextMiss => "text, none",
                Kind::Municipality => "municipality",
            }
        }
    }

    struct Direction {
        name: &'static str,
        heads: [&'static str; 3],
        aspects: [&'static str; 3],
    }

    const DIRECTIONS: [Direction; 8] = [
        Direction {
            name: "Функциональная грамотность",
            heads: [
                "Формирование функциональной грамотности обучающихся",
                "Читательская и естественно-научная грамотность",
                "Контекстные задачи в основной школе",
            ],
            aspects: [
                "оценка и развитие",
                "межпредметные задания",
                "работа с текстом",
            ],
        },
        Direction {
            name: "Цифровая образовательная среда",
            heads: [
                "Цифровые инструменты учителя",
                "Электронное обучение и дистанционные образовательные технологии",
                "Искусственный интеллект в работе педагога",
            ],
            aspects: [
                "ФГИС «Моя школа»",
                "сетевое взаимодействие",
                "безопасность в сети",
            ],
        },
        Direction {
            name: "Предметная подготовка и методика преподавания",
            heads: [
                "Актуальные вопросы методики преподавания",
                "Подготовка обучающихся к государственной итоговой аттестации",
                "Обновлённые ФГОС: содержание и планируемые результаты",
            ],
            aspects: [
                "проектирование урока",
                "формирующее оценивание",
                "работа с одарёнными детьми",
            ],
        },
        Direction {
            name: "Воспитание и социализация",
            heads: [
                "Классное руководство в современной школе",
                "Рабочая программа воспитания образовательной организации",
                "Профилактика деструктивного поведения подростков",
            ],
            aspects: [
                "взаимодействие с родителями",
                "детские общественные объединения",
                "школьная служба медиации",
            ],
        },
        Direction {
            name: "Инклюзивное образование",
            heads: [
                "Обучение детей с ОВЗ в общеобразовательном классе",
                "Адаптированные основные общеобразовательные программы",
                "Тьюторское сопровождение обучающихся",
            ],
            aspects: [
                "специальные образовательные условия",
                "психолого-педагогический консилиум",
                "индивидуальный образовательный маршрут",
            ],
        },
        Direction {
            name: "Управление образовательной организацией",
            heads: [
                "Управление качеством образования",
                "Внутренняя система оценки качества образования",
                "Финансово-хозяйственная деятельность школы",
            ],
            aspects: [
                "кадровая политика",
                "мониторинг образовательных результатов",
                "нормативное регулирование",
            ],
        },
        Direction {
            name: "Дошкольное образование",
            heads: [
                "Федеральная образовательная программа дошкольного образования",
                "Развивающая предметно-пространственная среда",
                "Ранняя профориентация дошкольников",
            ],
            aspects: [
                "игровые технологии",
                "речевое развитие",
                "преемственность с начальной школой",
            ],
        },
        Direction {
            name: "Психолого-педагогическое сопровождение",
            heads: [
                "Психологическая безопасность образовательной среды",
                "Профилактика профессионального выгорания педагогов",
                "Медиация в образовании",
            ],
            aspects: [
                "конфликтология",
                "кризисные ситуации",
                "эмоциональный интеллект",
            ],
        },
    ];

    /// Subjects and how a title names their teachers' lessons.
    const SUBJECTS: [(&str, &str); 16] = [
        ("Математика", "математики"),
        ("Русский язык", "русского языка"),
        ("Литература", "литературы"),
        ("Физика", "физики"),
        ("Химия", "химии"),
        ("Биология", "биологии"),
        ("География", "географии"),
        ("История", "истории"),
        ("Обществознание", "обществознания"),
        ("Информатика", "информатики"),
        ("Английский язык", "английского языка"),
        ("Физическая культура", "физической культуры"),
        ("Технология", "технологии"),
        ("Музыка", "музыки"),
        ("Изобразительное искусство", "изобразительного искусства"),
        ("Начальные классы", "начальных классов"),
    ];

    const COMPETENCES: [&str; 10] = [
        "Проектирование учебного занятия",
        "Формирующее оценивание",
        "Работа с цифровыми образовательными ресурсами",
        "Организация проектной деятельности",
        "Индивидуализация обучения",
        "Воспитательная работа",
        "Работа с родителями",
        "Анализ образовательных результатов",
        "Сопровождение обучающихся с ОВЗ",
        "Профессиональная рефлексия",
    ];

    /// Sentences of annotations; `{s}` is the subject's name in a title.
    const SENTENCES: [&str; 12] = [
        "Программа адресована учителям {s} общеобразовательных организаций Самарской области и построена на материалах региональных диагностик последних лет.",
        "Слушатели разбирают типичные затруднения обучающихся, проектируют учебные занятия и получают обратную связь от преподавателей курса.",
        "Особое внимание уделено требованиям обновлённых федеральных государственных образовательных стандартов и федеральных рабочих программ.",
        "Итоговая аттестация проводится в форме защиты методической разработки, которую слушатель применяет в своей практике.",
        "В ходе курса участники знакомятся с опытом школ региона, вошедших в число лидеров по результатам оценочных процедур.",
        "Занятия проходят в формате практикумов и мастер-классов с разбором реальных случаев из практики педагогов.",
        "Отдельный модуль посвящён цифровым ресурсам, которые помогают учителю {s} организовать самостоятельную работу класса.",
        "По итогам обучения выдаётся удостоверение о повышении квалификации установленного образца.",
        "Курс разработан с учётом профессионального стандарта педагога и дефицитов, выявленных при диагностике профессиональных компетенций.",
        "Слушатели выполняют стажировочные задания на базе образовательных организаций Самары и Тольятти.",
        "Материалы курса остаются доступны слушателям в течение всего учебного года.",
        "Программа включает консультации по подготовке к аттестации на квалификационную категорию.",
    ];

    /// The municipalities of the Samara region and their share of groups (%).
    const MUNICIPALITIES: [(&str, u64); 37] = [
        ("г. Самара", 30),
        ("г. Тольятти", 20),
        ("г. Сызрань", 6),
        ("г. Новокуйбышевск", 4),
        ("г. Чапаевск", 3),
        ("г. Жигулёвск", 3),
        ("г. Отрадный", 2),
        ("г. Кинель", 2),
        ("г. Похвистнево", 2),
        ("г. Октябрьск", 1),
        ("Алексеевский район", 1),
        ("Безенчукский район", 1),
        ("Богатовский район", 1),
        ("Большеглушицкий район", 1),
        ("Большечерниговский район", 1),
        ("Борский район", 1),
        ("Волжский район", 1),
        ("Елховский район", 1),
        ("Исаклинский район", 1),
        ("Камышлинский район", 1),
        ("Кинельский район", 1),
        ("Кинель-Черкасский район", 1),
        ("Клявлинский район", 1),
        ("Кошкинский район", 1),
        ("Красноармейский район", 1),
        ("Красноярский район", 1),
        ("Нефтегорский район", 1),
        ("Пестравский район", 1),
        ("Похвистневский район", 1),
        ("Приволжский район", 1),
        ("Сергиевский район", 1),
        ("Ставропольский район", 1),
        ("Сызранский район", 1),
        ("Хворостянский район", 1),
        ("Челно-Вершинский район", 1),
        ("Шенталинский район", 1),
        ("Шигонский район", 1),
    ];

    const PROVIDER_NAMES: [&str; 8] = [
        "ГАУ ДПО Самарской области «Самарский областной институт повышения квалификации и переподготовки работников образования»",
        "ФГБОУ ВО «Самарский государственный социально-педагогический университет»",
        "ФГАОУ ВО «Самарский национальный исследовательский университет имени академика С. П. Королёва»",
        "ФГБОУ ВО «Тольяттинский государственный университет»",
        "ГБОУ ДПО ЦПК «Самарский областной центр развития образования»",
        "ГБУ ДПО «Региональный социопсихологический центр»",
        "ГБОУ ДПО ЦПК «Ресурсный центр» г. о. Сызрань",
        "ГБОУ ДПО ЦПК «Тольяттинский ресурсный центр»",
    ];

    const STREETS: [&str; 8] = [
        "Молодогвардейская",
        "Ленинградская",
        "Победы",
        "Советская",
        "Мира",
        "Школьная",
        "Гагарина",
        "Куйбышева",
    ];

    /// A fixed pseudo-random number for (a, b): the same dataset every run.
    fn hash(a: u64, b: u64) -> u64 {
        let mut z = a
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(b)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(items: &[T], h: u64) -> T {
        items[(h % items.len() as u64) as usize]
    }

    /// What the seeded campaign holds, for the queries.
    struct Seeded {
        campaign: Uuid,
        municipalities: Vec<Uuid>,
    }

    impl Seeded {
        /// The query string of request `n` of `kind` (`n` rotates filters).
        fn query(&self, kind: Kind, n: u32) -> Vec<(&'static str, String)> {
            let n = n as usize;
            let mut q = vec![
                ("campaign_id", self.campaign.to_string()),
                ("limit", "20".to_owned()),
            ];
            match kind {
                Kind::First => {}
                Kind::Page400 => q.push(("offset", "400".to_owned())),
                Kind::Page900 => q.push(("offset", "900".to_owned())),
                Kind::Direction => q.push((
                    "direction",
                    DIRECTIONS[n % DIRECTIONS.len()].name.to_owned(),
                )),
                Kind::Subject => q.push(("subject", SUBJECTS[n % SUBJECTS.len()].0.to_owned())),
                Kind::TextHit => q.push(("text", RARE_WORD.to_owned())),
                Kind::TextMiss => q.push(("text", ABSENT_WORD.to_owned())),
                Kind::Municipality => q.push((
                    "municipality_id",
                    self.municipalities[n % self.municipalities.len()].to_string(),
                )),
            }
            q
        }
    }

    /// Every service of `pd::SERVICES` on its own databases and subjects.
    struct Platform {
        env: TestEnv,
        shutdown: Shutdown,
        services: Vec<pd_runtime::Running>,
        registry: Option<PgPool>,
        base: String,
    }

    impl Platform {
        fn new() -> anyhow::Result<Platform> {
            let mut env = TestEnv::new()?;
            env.settings.database.max_connections = 16;
            // Every request of the benchmark comes from 127.0.0.1.
            env.settings.gateway.public_requests_per_minute = 1_000_000_000;
            Ok(Platform {
                env,
                shutdown: Shutdown::new(),
                services: Vec::new(),
                registry: None,
                base: String::new(),
            })
        }

        /// The databases of every service; the registry's pool is kept.
        async fn create_databases(&mut self) -> anyhow::Result<PgPool> {
            for def in pd::SERVICES.iter().filter(|d| d.has_database()) {
                let pool = self.env.database(def.name, def.migrators).await?;
                if def.name == pd_registry::SERVICE {
                    self.registry = Some(pool);
                } else {
                    pool.close().await;
                }
            }
            self.registry.clone().context("no registry in pd::SERVICES")
        }

        async fn start_services(&mut self) -> anyhow::Result<()> {
            for def in pd::SERVICES {
                let running = (def.start)(self.env.settings.clone(), self.shutdown.clone())
                    .await
                    .with_context(|| format!("starting {}", def.name))?;
                if let Some(addr) = running.http {
                    self.base = format!("http://{addr}");
                }
                self.services.push(running);
            }
            anyhow::ensure!(!self.base.is_empty(), "no service serves HTTP");
            Ok(())
        }

        async fn stop(self) {
            self.shutdown.cancel();
            for s in self.services {
                let _ = tokio::time::timeout(Duration::from_secs(10), s.wait()).await;
            }
            if let Some(pool) = self.registry {
                pool.close().await;
            }
            self.env.cleanup().await;
        }
    }

    pub(super) async fn run(
        requests: u32,
        per_kind: u32,
        concurrency: u32,
        hold: bool,
    ) -> anyhow::Result<()> {
        let mut platform = Platform::new()?;
        let result = measure(&mut platform, requests, per_kind, concurrency).await;
        if result.is_ok() && hold {
            let settings = &platform.env.settings;
            println!(
                "holding the platform: registry database {} at {} (Ctrl-C stops and drops it)",
                settings.database_name(pd_registry::SERVICE),
                settings.database.url
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
        }
        platform.stop().await;
        result
    }

    async fn measure(
        platform: &mut Platform,
        requests: u32,
        per_kind: u32,
        concurrency: u32,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let pool = &platform.create_databases().await?;
        let seeded = Arc::new(seed(pool).await?);
        let (programs, groups): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM programs WHERE status = 'approved'),
                    (SELECT count(*) FROM groups WHERE status = 'published')",
        )
        .fetch_one(pool)
        .await?;
        anyhow::ensure!(
            (programs, groups) == (APPROVED as i64, PUBLISHED_GROUPS as i64),
            "seeded {programs} programs and {groups} groups"
        );
        println!(
            "catalog: {programs} approved programs (+{NOT_APPROVED} not approved), {groups} published groups \
             (+{OTHER_GROUPS} draft or cancelled), {PROVIDERS} providers, {} municipalities, one campaign; \
             seeded in {:.1} s; {} cores",
            MUNICIPALITIES.len(),
            started.elapsed().as_secs_f64(),
            cores()
        );
        platform.start_services().await?;
        let url = format!("{}/api/v1/catalog", platform.base);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency as usize)
            .timeout(Duration::from_secs(30))
            .build()?;

        // One of each, to see that the answers are what the data holds.
        for kind in KINDS {
            let r = http.get(&url).query(&seeded.query(kind, 0)).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            anyhow::ensure!(status == 200, "{}: {status}", kind.name());
            let v: Value = serde_json::from_slice(&body).context("catalog JSON")?;
            println!(
                "  {:<13} total {:>4}   items {:>2}   {:>5.1} KB",
                kind.name(),
                v["total"].to_string().trim_matches('"'),
                v["items"].as_array().map_or(0, Vec::len),
                body.len() as f64 / 1e3
            );
        }

        let statuses = Arc::new(Mutex::new(BTreeMap::new()));
        let client = |kind| requester(&http, &url, &seeded, kind, &statuses);
        // Warm-up: connections, plans, caches.
        drive(200.min(requests), concurrency, client(None)).await;
        if let Ok(mut s) = statuses.lock() {
            s.clear();
        }

        if per_kind > 0 {
            println!("each kind alone: {per_kind} requests, concurrency {concurrency}");
            for kind in KINDS {
                let run = drive(per_kind, concurrency, client(Some(kind))).await;
                print(kind.name(), &run);
            }
        }
        println!(
            "portal mix: {requests} requests, concurrency {concurrency} (per kind: its share of the rate)"
        );
        let db = platform.env.settings.database_name(pd_registry::SERVICE);
        let before = (
            cpu_seconds(),
            backends_cpu_seconds(pool, &db).await?,
            machine_cpu_seconds(),
        );
        let run = drive(requests, concurrency, client(None)).await;
        let cpu = (
            cpu_seconds() - before.0,
            backends_cpu_seconds(pool, &db).await? - before.1,
            machine_cpu_seconds() - before.2,
        );
        for kind in KINDS {
            print(kind.name(), &run.only(|i| mixed(i) == kind));
        }
        print("all", &run);
        println!(
            "cpu during the mix, of {:.1} s available: PostgreSQL (the registry's backends) {:.1} s, \
             this process (client, gateway, registry) {:.1} s, anything else {:.1} s",
            run.elapsed.as_secs_f64() * cores() as f64,
            cpu.1,
            cpu.0,
            cpu.2 - cpu.1 - cpu.0
        );

        let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
        if statuses.is_empty() {
            println!("non-200 answers, alone and mixed: none");
        }
        for ((kind, status), count) in statuses {
            let status = if status == 0 {
                "no answer".to_owned()
            } else {
                status.to_string()
            };
            println!(
                "non-200 answers, alone and mixed: {} {status} × {count}",
                kind.name()
            );
        }
        Ok(())
    }

    fn cores() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// CPU time of this process so far (user and system; /proc counts in
    /// hundredths of a second).
    fn cpu_seconds() -> f64 {
        process_cpu_seconds("/proc/self/stat")
    }

    fn process_cpu_seconds(stat: &str) -> f64 {
        std::fs::read_to_string(stat)
            .ok()
            .and_then(|s| {
                // Fields after the command name, which may hold spaces.
                let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
                let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
                Some(ticks(11)? + ticks(12)?)
            })
            .map_or(0.0, |t| t / 100.0)
    }

    /// CPU time so far of the PostgreSQL backends serving database `db`.
    async fn backends_cpu_seconds(pool: &PgPool, db: &str) -> anyhow::Result<f64> {
        let pids: Vec<i32> =
            sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                .bind(db)
                .fetch_all(pool)
                .await?;
        Ok(pids
            .into_iter()
            .map(|pid| process_cpu_seconds(&format!("/proc/{pid}/stat")))
            .sum())
    }

    /// Busy CPU time of the whole machine so far, every core.
    fn machine_cpu_seconds() -> f64 {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let line = s.lines().next()?;
                // user nice system idle iowait irq softirq steal
                let t: Vec<f64> = line
                    .split_whitespace()
                    .skip(1)
                    .take(8)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (t.len() == 8).then(|| t[0] + t[1] + t[2] + t[5] + t[6] + t[7])
            })
            .map_or(0.0, |t| t / 100.0)
    }

    fn print(name: &str, run: &Run) {
        println!(
            "  {name:<13} {:>7.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   non-200 {}",
            run.rate(),
            run.percentile(0.50),
            run.percentile(0.99),
            run.max_ms(),
            run.failed.len()
        );
    }

    type Statuses = Arc<Mutex<BTreeMap<(Kind, u16), u32>>>;

    /// Anonymous catalog reads: `kind` alone, or the portal's mix (None).
    /// A request succeeds on a 200 whose body arrived; any other answer is
    /// counted by kind and status (0: no answer).
    fn requester(
        http: &reqwest::Client,
        url: &str,
        seeded: &Arc<Seeded>,
        kind: Option<Kind>,
        statuses: &Statuses,
    ) -> impl Fn(u32) -> futures::future::BoxFuture<'static, bool> + Send + Sync + 'static {
        let (http, url, seeded, statuses) = (
            http.clone(),
            url.to_owned(),
            seeded.clone(),
            statuses.clone(),
        );
        move |i| {
            // Filters rotate over their values, in the mix too.
            let (kind, n) = match kind {
                Some(k) => (k, i),
                None => (mixed(i), i / MIX.len() as u32),
            };
            let req = http.get(&url).query(&seeded.query(kind, n));
            let statuses = statuses.clone();
            Box::pin(async move {
                let status = match req.send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        if r.bytes().await.is_ok() { status } else { 0 }
                    }
                    Err(_) => 0,
                };
                if status != 200
                    && let Ok(mut s) = statuses.lock()
                {
                    *s.entry((kind, status)).or_insert(0) += 1;
                }
                status == 200
            })
        }
    }

    /// One region, its municipalities and providers, one campaign, its
    /// programs and groups, written straight into the registry's tables.
    async fn seed(pool: &PgPool) -> anyhow::Result<Seeded> {
        let mut tx = pool.begin().await?;
        let region = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO known_regions (id, time_zone, pd_model) VALUES ($1, 'Europe/Samara', 'un_quota')",
        )
        .bind(region)
        .execute(&mut *tx)
        .await
        .context("seeding the region")?;
        let mut municipalities = Vec::new();
        for _ in MUNICIPALITIES {
            let id = Uuid::now_v7();
            sqlx::query("INSERT INTO known_municipalities (id, region_id) VALUES ($1, $2)")
                .bind(id)
                .bind(region)
                .execute(&mut *tx)
                .await?;
            municipalities.push(id);
        }
        let mut providers = Vec::new();
        for p in 0..PROVIDERS {
            let id = Uuid::now_v7();
            let name = match PROVIDER_NAMES.get(p) {
                Some(name) => (*name).to_owned(),
                None => {
                    format!(
                        "ООО «Учебный центр „{}“»",
                        ["Развитие", "Перспектива", "Эрудит", "Педагог+", "Горизонт"][p % 5]
                    ) + &format!(" № {}", p + 1)
                }
            };
            sqlx::query(
                "INSERT INTO known_providers (id, region_id, name, licence_number) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(region)
            .bind(name)
            .bind(format!("63Л01 {:07}", 4_000 + p))
            .execute(&mut *tx)
            .await?;
            providers.push(id);
        }
        let campaign = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO campaigns (id, region_id, year, title, time_zone)
             VALUES ($1, $2, 2027, 'Повышение квалификации педагогических работников Самарской области, 2027', 'Europe/Samara')",
        )
        .bind(campaign)
        .bind(region)
        .execute(&mut *tx)
        .await
        .context("seeding the campaign")?;

        let mut approved = Vec::new();
        for n in 0..APPROVED + NOT_APPROVED {
            let id = Uuid::now_v7();
            let p = program(n);
            // The big regional providers hold a third of the programs.
            let h = hash(n as u64, 10);
            let provider = if h.is_multiple_of(3) {
                providers[(h / 3 % 8) as usize]
            } else {
                pick(&providers, h / 3)
            };
            let status = if n < APPROVED {
                "approved"
            } else {
                pick(&["not_recommended", "excluded", "expert_rejected"], h)
            };
            sqlx::query(
                "INSERT INTO programs (id, campaign_id, provider_id, kind, title, direction, topic, annotation,
                     hours, form, target_positions, target_subjects, modules, competences, max_group_size,
                     cost_per_learner, status, mean_score_percent)
                 VALUES ($1, $2, $3, 'ordinary', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(id)
            .bind(campaign)
            .bind(provider)
            .bind(&p.title)
            .bind(p.direction)
            .bind(&p.topic)
            .bind(&p.annotation)
            .bind(p.hours)
            .bind(p.form)
            .bind(&p.positions)
            .bind(&p.subjects)
            .bind(sqlx::types::Json(&p.modules))
            .bind(&p.competences)
            .bind(p.max_group_size)
            .bind(p.cost)
            .bind(status)
            .bind(60.0 + (h % 350) as f64 / 10.0)
            .execute(&mut *tx)
            .await
            .context("seeding programs")?;
            if n < APPROVED {
                approved.push((id, p.form, p.max_group_size));
            }
        }

        let weights: u64 = MUNICIPALITIES.iter().map(|m| m.1).sum();
        let first_day = NaiveDate::from_ymd_opt(2027, 1, 18).context("date")?;
        let groups = (0..APPROVED)
            .flat_map(|n| {
                let count = if n * 7 % APPROVED < FOURTH_GROUP {
                    4
                } else {
                    3
                };
                (0..count).map(move |g| (n, g, "published"))
            })
            .chain((0..OTHER_GROUPS).map(|k| {
                let n = (hash(k as u64, 20) % APPROVED as u64) as usize;
                (
                    n,
                    9,
                    if k.is_multiple_of(2) {
                        "draft"
                    } else {
                        "cancelled"
                    },
                )
            }));
        for (k, (n, g, status)) in groups.enumerate() {
            let (program, form, capacity) = approved[n];
            let h = hash(k as u64, 30);
            let mut w = h % weights;
            let mut m = 0;
            while w >= MUNICIPALITIES[m].1 {
                w -= MUNICIPALITIES[m].1;
                m += 1;
            }
            let online = form == "distance";
            let address = if online {
                String::new()
            } else {
                format!(
                    "{}, ул. {}, д. {}",
                    MUNICIPALITIES[m].0,
                    pick(&STREETS, h >> 8),
                    1 + (h >> 16) % 120
                )
            };
            let starts_on = first_day + chrono::Days::new(7 * (h >> 24) % 300 + 7 * g);
            sqlx::query(
                "INSERT INTO groups (id, program_id, starts_on, ends_on, online, address, municipality_id,
                     capacity, min_size, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 10, $9)",
            )
            .bind(Uuid::now_v7())
            .bind(program)
            .bind(starts_on)
            .bind(starts_on + chrono::Days::new(4 + (h >> 40) % 24))
            .bind(online)
            .bind(address)
            .bind(municipalities[m])
            .bind(capacity)
            .bind(status)
            .execute(&mut *tx)
            .await
            .context("seeding groups")?;
        }
        tx.commit().await?;
        // VACUUM too: the rows just written sit in the GIN pending list of
        // the trigram index until a vacuum moves them into the index, and
        // until then the planner (rightly) reads every program instead.
        // Autovacuum does it within a minute in service; here it would do
        // it in the middle of the measurement.
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(pool)
            .await
            .context("VACUUM ANALYZE")?;
        Ok(Seeded {
            campaign,
            municipalities,
        })
    }

    struct Program {
        title: String,
        direction: &'static str,
        topic: String,
        annotation: String,
        hours: i32,
        form: &'static str,
        positions: Vec<String>,
        subjects: Vec<String>,
        modules: Value,
        competences: Vec<String>,
        max_group_size: i32,
        cost: f64,
    }

    /// Program `n`: the same every run.
    fn program(n: usize) -> Program {
        let h = |salt| hash(n as u64, salt);
        let d = &DIRECTIONS[n % DIRECTIONS.len()];
        let head = pick(&d.heads, h(1));
        let aspect = pick(&d.aspects, h(2));
        let (subject, lessons) = pick(&SUBJECTS, h(3));
        let title = match h(4) % 3 {
            0 => format!("{head} на уроках {lessons}"),
            1 => format!("{head}: практикум для учителей {lessons}"),
            _ => format!("{head}: {aspect}"),
        };
        let topic = if n % 20 == 3 {
            format!("Образовательная {RARE_WORD} и {aspect}")
        } else {
            let mut chars = aspect.chars();
            let aspect: String = chars
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(chars)
                .collect();
            format!("{aspect} ({})", d.name.to_lowercase())
        };
        let mut annotation = String::new();
        for k in 0..4 {
            let s = SENTENCES[(h(5) as usize + k * 5) % SENTENCES.len()];
            if !annotation.is_empty() {
                annotation.push(' ');
            }
            annotation.push_str(&s.replace("{s}", lessons));
        }
        let hours = pick(&[16, 18, 24, 36, 36, 48, 72, 108], h(6));
        let mut subjects = vec![subject.to_owned()];
        if h(7).is_multiple_of(3) {
            let (other, _) = pick(&SUBJECTS, h(8));
            if other != subject {
                subjects.push(other.to_owned());
            }
        }
        let positions = match d.name {
            "Дошкольное образование" => {
                vec!["воспитатель", "старший воспитатель"]
            }
            "Управление образовательной организацией" => {
                vec!["директор", "заместитель директора"]
            }
            _ => vec!["учитель"],
        };
        let c = h(9) as usize;
        let competences = vec![
            COMPETENCES[c % COMPETENCES.len()].to_owned(),
            // Another one: 1 to 9 places further.
            COMPETENCES[(c + 1 + c / 16 % 9) % COMPETENCES.len()].to_owned(),
        ];
        let practice = hours - hours / 4 - 2;
        Program {
            title,
            direction: d.name,
            topic,
            annotation,
            hours,
            form: pick(
                &["full_time", "full_time", "blended", "blended", "distance"],
                h(11),
            ),
            positions: positions.into_iter().map(str::to_owned).collect(),
            subjects,
            modules: json!([
                {"name": "Нормативные основы", "hours": hours / 4, "assessment_form": "тест"},
                {"name": format!("Практикум: {aspect}"), "hours": practice, "assessment_form": "зачёт"},
                {"name": "Итоговая аттестация", "hours": 2, "assessment_form": "проект"},
            ]),
            competences,
            max_group_size: pick(&[20, 25, 25, 30], h(12)),
            cost: 2_000.0 + (h(13) % 40) as f64 * 250.0,
        }
    }
}
