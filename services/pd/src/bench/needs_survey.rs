//! `pd bench needs-survey`: a region of Samara's size (45,651 educators in
//! 2,146 organizations) answers the needs survey through the gateway, then
//! the region's demand and response rates are asked for. The surveys
//! service and the gateway run on their own databases and subjects; the
//! educators' read-model is written straight into the surveys database
//! (identity's import is measured by `pd bench import`) and their access
//! tokens are signed here, as identity would at sign-in.

use super::{Run, drive};
use anyhow::Context;
use pd_domain::{Grant, Principal, Role};
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenIssuer;
use pd_testkit::TestEnv;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

const MUNICIPALITIES: usize = 47;
const ORGANIZATIONS: usize = 2_146;
const DIRECTIONS: [&str; 8] = [
    "Функциональная грамотность",
    "Цифровая образовательная среда",
    "Инклюзивное образование",
    "Воспитание и социализация",
    "Предметное содержание",
    "Оценка образовательных результатов",
    "Работа с одарёнными детьми",
    "Управление образовательной организацией",
];
const FORMS: [&str; 3] = ["очная", "дистанционная", "очно-заочная"];
const SUBJECTS: [&str; 8] = [
    "Математика",
    "Русский язык",
    "Физика",
    "История",
    "Биология",
    "Начальные классы",
    "Английский язык",
    "Химия",
];
const TOPICS: usize = 12;
const COMPETENCES: usize = 30;

/// A deterministic spread of answers: educator `i`'s choices.
fn hash(i: u32, salt: u64) -> u64 {
    let mut x = u64::from(i) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Option indexes of `n` chosen by the bits of `h` (at least one when `min1`).
fn chosen(h: u64, n: usize, min1: bool) -> Vec<i32> {
    let mut out: Vec<i32> = (0..n)
        .filter(|k| h >> k & 0b111 == 0)
        .map(|k| k as i32)
        .collect();
    if out.is_empty() && min1 {
        out.push((h % n as u64) as i32);
    }
    out
}

fn answers(i: u32) -> Value {
    json!({"answers": [
        {"question_id": "direction", "choices": chosen(hash(i, 1), DIRECTIONS.len(), true)},
        {"question_id": "topic", "choices": chosen(hash(i, 2), TOPICS, false)},
        {"question_id": "form", "choices": [(hash(i, 3) % FORMS.len() as u64) as i32]},
        {"question_id": "deficit", "choices": chosen(hash(i, 4), COMPETENCES, false)},
        {"question_id": "problem", "text": "не хватает времени на подготовку"}
    ]})
}

fn code(k: usize) -> String {
    format!("ПК-{}.{}", k / 10 + 1, k % 10 + 1)
}

pub(super) async fn run(educators: u32, concurrency: u32) -> anyhow::Result<()> {
    let mut env = TestEnv::new()?;
    env.settings.database.max_connections = 16;
    let shutdown = Shutdown::new();
    let pool = env
        .database(pd_surveys::SERVICE, &pd_surveys::MIGRATORS)
        .await?;
    let result = measure(&env, &pool, &shutdown, educators, concurrency).await;
    shutdown.cancel();
    pool.close().await;
    env.cleanup().await;
    result
}

async fn measure(
    env: &TestEnv,
    pool: &PgPool,
    shutdown: &Shutdown,
    educators: u32,
    concurrency: u32,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let (region, campaign, ids) = seed(pool, educators).await?;
    let surveys = pd_surveys::start(env.settings.clone(), shutdown.clone()).await?;
    let gateway = pd_gateway::start(env.settings.clone(), shutdown.clone()).await?;
    let base = format!(
        "http://{}",
        gateway.http.context("the gateway serves HTTP")?
    );
    let issuer = TokenIssuer::new(&env.settings.auth)?;
    let token = |role: Role, scope: Uuid| {
        issuer.issue(&Principal {
            user_id: Uuid::now_v7(),
            login: format!("bench.{}", role.as_str()),
            grants: vec![Grant {
                role,
                scope: Some(scope),
                region: Some(region),
            }],
        })
    };
    let ministry = token(Role::Ministry, region)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    let window = setup_survey(&http, &base, &ministry, campaign).await?;
    let tokens: Vec<String> = ids
        .iter()
        .map(|e| token(Role::Educator, *e))
        .collect::<anyhow::Result<_>>()?;
    println!(
        "needs survey: {educators} educators, {ORGANIZATIONS} organizations, {MUNICIPALITIES} municipalities; \
         seeded and signed in {:.1} s; {} cores; {concurrency} in flight",
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let url = format!("{base}/api/v1/windows/{window}/response");
    let tokens = Arc::new(tokens);
    let submit = {
        let (http, url, tokens) = (http.clone(), url.clone(), tokens.clone());
        move |i: u32| {
            let req = http
                .put(&url)
                .bearer_auth(&tokens[i as usize])
                .json(&answers(i));
            async move { matches!(req.send().await, Ok(r) if r.status() == 200) }
        }
    };
    let run = drive(educators, concurrency, submit).await;
    print("PUT response", &run);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM responses")
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(
        stored == i64::from(educators),
        "{stored} responses stored of {educators}"
    );

    // The region's figures, each asked 10 times one after another.
    println!("aggregation over {stored} responses (10 requests each, one at a time):");
    let org = sqlx::query_scalar::<_, Uuid>("SELECT id FROM known_organizations LIMIT 1")
        .fetch_one(pool)
        .await?;
    let queries = [
        ("demand by direction", "demand?by=direction".to_owned()),
        ("demand by topic", "demand?by=topic".to_owned()),
        ("demand by form", "demand?by=form".to_owned()),
        ("demand by deficit", "demand?by=deficit".to_owned()),
        (
            "demand, one subject",
            format!("demand?by=direction&subject={}", SUBJECTS[0]),
        ),
        ("demand as CSV", "demand?by=deficit&format=csv".to_owned()),
        ("rates, region", "rates".to_owned()),
        (
            "rates, organization",
            format!("rates?organization_id={org}"),
        ),
    ];
    for (name, q) in &queries {
        let url = format!("{base}/api/v1/campaigns/{campaign}/needs-survey/{q}");
        let (http, ministry) = (http.clone(), ministry.clone());
        let run = drive(10, 1, move |_| {
            let req = http.get(&url).bearer_auth(&ministry);
            async move {
                match req.send().await {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await;
        println!(
            "  {name:<22} p50 {:>8.1} ms   max {:>8.1} ms   errors {}",
            run.percentile(0.5),
            run.max_ms(),
            run.failed.len()
        );
    }
    check_directions(&http, &base, &ministry, campaign, educators).await?;
    drop(surveys);
    drop(gateway);
    Ok(())
}

fn print(name: &str, run: &Run) {
    println!(
        "  {name:<22} {:>7.0} req/s   p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   errors {}   {:.1} s",
        run.rate(),
        run.percentile(0.50),
        run.percentile(0.95),
        run.percentile(0.99),
        run.max_ms(),
        run.failed.len(),
        run.elapsed.as_secs_f64()
    );
}

/// The demand the service reports equals the count of what was sent.
async fn check_directions(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    campaign: Uuid,
    educators: u32,
) -> anyhow::Result<()> {
    let mut expected: BTreeMap<&str, i64> = BTreeMap::new();
    for i in 0..educators {
        for k in chosen(hash(i, 1), DIRECTIONS.len(), true) {
            *expected.entry(DIRECTIONS[k as usize]).or_default() += 1;
        }
    }
    let d: Value = http
        .get(format!(
            "{base}/api/v1/campaigns/{campaign}/needs-survey/demand?by=direction"
        ))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let got: BTreeMap<&str, i64> = d["rows"]
        .as_array()
        .context("rows")?
        .iter()
        .filter_map(|r| Some((r["value"].as_str()?, r["count"].as_i64()?)))
        .collect();
    anyhow::ensure!(
        got == expected,
        "demand differs from what was sent: {got:?} vs {expected:?}"
    );
    anyhow::ensure!(
        d["respondents"] == i64::from(educators),
        "respondents {}",
        d["respondents"]
    );
    println!(
        "  demand by direction matches the answers sent ({} respondents)",
        d["respondents"]
    );
    Ok(())
}

/// Municipalities, organizations and educators as identity's events would
/// leave them, and a campaign whose needs survey is open now.
async fn seed(pool: &PgPool, educators: u32) -> anyhow::Result<(Uuid, Uuid, Vec<Uuid>)> {
    let region = Uuid::now_v7();
    let campaign = Uuid::now_v7();
    let municipalities: Vec<Uuid> = (0..MUNICIPALITIES).map(|_| Uuid::now_v7()).collect();
    let orgs: Vec<Uuid> = (0..ORGANIZATIONS).map(|_| Uuid::now_v7()).collect();
    let ids: Vec<Uuid> = (0..educators).map(|_| Uuid::now_v7()).collect();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO known_municipalities (id, region_id, name)
         SELECT m, $1, 'Муниципалитет ' || n FROM unnest($2::uuid[]) WITH ORDINALITY AS t(m, n)",
    )
    .bind(region)
    .bind(&municipalities)
    .execute(&mut *tx)
    .await?;
    let org_munis: Vec<Uuid> = (0..ORGANIZATIONS)
        .map(|k| municipalities[k % MUNICIPALITIES])
        .collect();
    sqlx::query(
        "INSERT INTO known_organizations (id, region_id, municipality_id, name)
         SELECT o, $1, m, 'Школа № ' || n FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(o, m, n)",
    )
    .bind(region)
    .bind(&orgs)
    .bind(&org_munis)
    .execute(&mut *tx)
    .await?;
    let edu_orgs: Vec<Uuid> = (0..ids.len()).map(|k| orgs[k % ORGANIZATIONS]).collect();
    let edu_munis: Vec<Uuid> = (0..ids.len())
        .map(|k| org_munis[k % ORGANIZATIONS])
        .collect();
    let subjects: Vec<String> = (0..ids.len())
        .map(|k| SUBJECTS[k % SUBJECTS.len()].to_owned())
        .collect();
    sqlx::query(
        "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, name, subjects)
         SELECT e, $1, m, o, 'Педагог ' || n, ARRAY[s] FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[])
             WITH ORDINALITY AS t(e, m, o, s, n)",
    )
    .bind(region)
    .bind(&ids)
    .bind(&edu_munis)
    .bind(&edu_orgs)
    .bind(&subjects)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_calendar (campaign_id, region_id, phase, starts_on, ends_on, opens_at, closes_at)
         VALUES ($1, $2, 'needs_survey', current_date - 1, current_date + 7, now() - interval '1 day', now() + interval '7 days')",
    )
    .bind(campaign)
    .bind(region)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok((region, campaign, ids))
}

/// The catalog (by CSV) and the needs survey, through the API; its window.
async fn setup_survey(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    campaign: Uuid,
) -> anyhow::Result<String> {
    let mut csv = String::from("code;name;group_code;group_name\n");
    for k in 0..COMPETENCES {
        csv.push_str(&format!(
            "{};Компетенция {k};{};Трудовая функция {}\n",
            code(k),
            k / 10,
            k / 10
        ));
    }
    let r = http
        .post(format!(
            "{base}/api/v1/campaigns/{campaign}/competences/imports"
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    anyhow::ensure!(r.status() == 200, "catalog import: {}", r.text().await?);
    let topics: Vec<String> = (1..=TOPICS).map(|k| format!("Тема {k}")).collect();
    let codes: Vec<String> = (0..COMPETENCES).map(code).collect();
    let body = json!({
        "campaign_id": campaign, "kind": "questionnaire", "purpose": "needs_survey", "title": "Анкета потребностей",
        "questions": [
            {"id": "direction", "kind": "multiple_choice", "text": "Направления", "required": true, "options": DIRECTIONS, "dimension": "direction"},
            {"id": "topic", "kind": "multiple_choice", "text": "Темы", "options": topics, "dimension": "topic"},
            {"id": "form", "kind": "single_choice", "text": "Форма", "required": true, "options": FORMS, "dimension": "form"},
            {"id": "deficit", "kind": "multiple_choice", "text": "Дефициты", "options": codes, "dimension": "deficit"},
            {"id": "problem", "kind": "long_text", "text": "Затруднения", "dimension": "problem"}
        ]
    });
    let r = http
        .post(format!("{base}/api/v1/instruments"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "needs survey: {}", r.text().await?);
    let instrument: Value = r.json().await?;
    let windows: Value = http
        .get(format!(
            "{base}/api/v1/windows?instrument_id={}",
            instrument["id"].as_str().unwrap_or("")
        ))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    windows["items"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the needs survey's window")
}
