//! The surveys service through the gateway: the competence catalog, the
//! needs survey in and out of its phase, response rates and demand checked
//! against a hand-computed case, a diagnostic marking deficits, a test with
//! two attempts, coverage gaps and trajectories, and every forbidden actor.

use super::fixtures::{Campaign, chrono_today, eventually, next_event, status, user};
use super::*;

/// Questions of the needs survey: directions, topics, form of study,
/// deficits (catalog codes), problems.
fn needs_survey(campaign: &str) -> Value {
    json!({
        "campaign_id": campaign,
        "kind": "questionnaire",
        "purpose": "needs_survey",
        "title": "Анкета образовательных потребностей 2027",
        "questions": [
            {"id": "direction", "kind": "multiple_choice", "text": "Предпочитаемые направления", "required": true,
             "options": ["Цифровая школа", "Инклюзия", "Воспитание"], "dimension": "direction"},
            {"id": "topic", "kind": "multiple_choice", "text": "Темы",
             "options": ["Функциональная грамотность", "ИИ в школе"], "dimension": "topic"},
            {"id": "form", "kind": "single_choice", "text": "Форма обучения", "required": true,
             "options": ["очная", "дистанционная", "очно-заочная"], "dimension": "form"},
            {"id": "deficit", "kind": "multiple_choice", "text": "Затруднения (компетенции)",
             "options": ["A.1", "B.1"], "dimension": "deficit"},
            {"id": "problem", "kind": "long_text", "text": "Опишите затруднения", "dimension": "problem"}
        ]
    })
}

const CATALOG: &str = "Код;Наименование;Код трудовой функции;Трудовая функция\n\
                       A.1;Проектирование урока;A;Общепедагогическая функция. Обучение\n\
                       A.2;Оценивание результатов;A;Общепедагогическая функция. Обучение\n\
                       B.1;Воспитательная работа;B;Воспитательная деятельность\n";

/// Answers of the needs survey: directions and deficits by option index.
fn answers(directions: &[i32], form: i32, deficits: &[i32]) -> Value {
    json!({"answers": [
        {"question_id": "direction", "choices": directions},
        {"question_id": "form", "choices": [form]},
        {"question_id": "deficit", "choices": deficits},
        {"question_id": "problem", "text": "не хватает времени"}
    ]})
}

/// Phases with the needs survey from `from` to `to` days around today
/// (Moscow), the others after it, ten days each.
fn phases(from: i64, to: i64) -> Vec<Value> {
    let today = chrono_today();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let mut out =
        vec![json!({"phase": "needs_survey", "starts_on": day(from), "ends_on": day(to)})];
    for (i, p) in [
        "program_submission",
        "expert_review",
        "schedule",
        "applications",
        "post_course",
    ]
    .iter()
    .enumerate()
    {
        let start = 10 + 10 * i as i64;
        out.push(json!({"phase": p, "starts_on": day(start), "ends_on": day(start + 8)}));
    }
    out
}

/// A region with four educators who can sign in, its operators, a
/// provider, and a campaign whose needs survey is open today, with the
/// competence catalog loaded and the needs survey created.
struct Survey<'p> {
    p: &'p Platform,
    world: World,
    admin: String,
    ministry: String,
    operator: String,
    /// Operator of organization 0 (municipality 0).
    org_operator: String,
    /// Operator of municipality 1.
    muni_operator: String,
    provider_admin: String,
    /// (educator id, token): two in org 0 (Математика, Физика), one in org 1
    /// (municipality 0), one in org 2 (municipality 1).
    educators: Vec<(String, String)>,
    campaign: String,
    window: String,
}

impl<'p> Survey<'p> {
    async fn open(p: &'p Platform) -> Survey<'p> {
        let admin = p.user_token("root", "admin", None).await.unwrap();
        let world = build_world(p, &admin, "S1").await;
        let region = world.region.clone();
        let (_, ministry) = user(p, &admin, "ministry", "ministry", &region).await;
        let (_, operator) = user(p, &admin, "operator", "regional_operator", &region).await;
        let (_, org_operator) = user(p, &admin, "org.op", "org_operator", &world.orgs[0]).await;
        let (_, muni_operator) = user(
            p,
            &admin,
            "muni.op",
            "municipal_operator",
            &world.municipalities[1],
        )
        .await;
        let inn = pd_domain::Inn::from_body(165_800_001).unwrap();
        let (s, pr) = call(p, Method::POST, "/api/v1/providers", Some(&admin), Some(json!({"region_id": region, "name": "ИРО", "inn": inn.as_str(), "licence_number": "Л035-02"}))).await;
        assert_eq!(s, 201, "{pr}");
        let (_, provider_admin) = user(
            p,
            &admin,
            "provider",
            "provider_admin",
            pr["id"].as_str().unwrap(),
        )
        .await;
        let mut educators = Vec::new();
        let people = [
            ("Алексеева", 0, "Математика"),
            ("Борисова", 0, "Физика"),
            ("Васильева", 1, "Математика"),
            ("Григорьева", 2, "Химия"),
        ];
        for (i, (name, org, subject)) in people.iter().enumerate() {
            let (s, e) = call(p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": snils(300 + i as u32), "last_name": name, "first_name": "Анна", "position": "учитель", "subjects": [subject], "organization_id": world.orgs[*org]}))).await;
            assert_eq!(s, 201, "{e}");
            let id = e["id"].as_str().unwrap().to_owned();
            let (_, token) = user(p, &admin, &format!("teacher{i}"), "educator", &id).await;
            educators.push((id, token));
        }
        let year = {
            use chrono::Datelike;
            (chrono_today() - chrono::Duration::days(3)).year()
        };
        let (s, c) = super::fixtures::until_known(
            p,
            Method::POST,
            "/api/v1/campaigns",
            &ministry,
            json!({"region_id": region, "year": year, "title": "ПК", "phases": phases(-3, 3)}),
        )
        .await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["current_phase"], "needs_survey");
        let campaign = c["id"].as_str().unwrap().to_owned();
        // The surveys service learns of the campaign from the registry's events.
        let catalog = format!("/api/v1/campaigns/{campaign}/competences");
        eventually(p, &ministry, &catalog, |s, _| s == 200).await;
        let (s, b) = import(p, &ministry, &campaign, "", CATALOG.as_bytes().to_vec()).await;
        assert_eq!(s, 200, "{b}");
        let (s, i) = call(
            p,
            Method::POST,
            "/api/v1/instruments",
            Some(&ministry),
            Some(needs_survey(&campaign)),
        )
        .await;
        assert_eq!(s, 201, "{i}");
        let instrument = i["id"].as_str().unwrap().to_owned();
        let (s, w) = call(
            p,
            Method::GET,
            &format!("/api/v1/windows?instrument_id={instrument}"),
            Some(&ministry),
            None,
        )
        .await;
        assert_eq!(s, 200, "{w}");
        assert_eq!(w["items"][0]["status"], "open", "{w}");
        let window = w["items"][0]["id"].as_str().unwrap().to_owned();
        // Every educator must be known to the service before rates count them.
        for (id, _) in &educators {
            let path = format!("/api/v1/campaigns/{campaign}/trajectory?educator_id={id}");
            eventually(p, &operator, &path, |s, _| s == 200).await;
        }
        Survey {
            p,
            world,
            admin,
            ministry,
            operator,
            org_operator,
            muni_operator,
            provider_admin,
            educators,
            campaign,
            window,
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/v1/campaigns/{}{rest}", self.campaign)
    }

    async fn respond(&self, educator: usize, body: Value) -> (u16, Value) {
        let path = format!("/api/v1/windows/{}/response", self.window);
        call(
            self.p,
            Method::PUT,
            &path,
            Some(&self.educators[educator].1),
            Some(body),
        )
        .await
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        call(self.p, Method::GET, path, Some(token), None).await
    }
}

/// A subscription to one of the surveys service's events, taken before the
/// action that emits it (with the client that keeps it alive).
async fn subscribe(p: &Platform, event: &str) -> (async_nats::Client, async_nats::Subscriber) {
    super::fixtures::subscribe_to(p, "surveys", event).await
}

/// Opens a window, retrying while the service has not yet heard of the
/// educators named (a 422 on `educator_ids[..]`).
async fn open_window_once_known(
    p: &Platform,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    for _ in 0..100 {
        let (s, b) = call(p, Method::POST, path, Some(token), Some(body.clone())).await;
        let unknown = s == 422
            && b["errors"][0]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with("educator_ids["));
        if !unknown {
            return (s, b);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: educators never became known");
}

async fn import(
    p: &Platform,
    token: &str,
    campaign: &str,
    query: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let r = p
        .http
        .post(p.url(&format!(
            "/api/v1/campaigns/{campaign}/competences/imports{query}"
        )))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// (value, count) of a demand answer.
fn counts(demand: &Value) -> Vec<(String, i64)> {
    demand["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    v.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect()
}

#[tokio::test]
async fn the_competence_catalog_is_imported_all_or_nothing_and_edited_by_the_region() {
    let p = Platform::start().await.unwrap();
    let s = Survey::open(&p).await;
    let catalog = s.path("/competences");

    // Bad rows: each reported, nothing changed.
    let bad = "code,name\nA.1,Урок\n,Без кода\nA.1,Повтор\nC.1,\nB.1,Воспитание\n";
    let (st, b) = import(&p, &s.ministry, &s.campaign, "", bad.as_bytes().to_vec()).await;
    assert_eq!(st, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["rows[3].code", "rows[4].code", "rows[5].name"],
        "{b}"
    );
    let (_, c) = s.get(&s.educators[0].1, &catalog).await;
    assert_eq!(
        c["items"].as_array().unwrap().len(),
        3,
        "educators read the catalog: {c}"
    );
    assert_eq!(
        c["items"][0]["group_name"],
        "Общепедагогическая функция. Обучение"
    );
    let version = c["version"].as_i64().unwrap();

    // A file that drops a code the needs survey offers is refused.
    let (st, b) = import(
        &p,
        &s.ministry,
        &s.campaign,
        "",
        "code;name\nA.1;Только одна\n".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "codes[B.1]", "{b}");

    // Windows-1251 as Excel saves it, checked first, then imported.
    let text = format!("{CATALOG}C.1;Работа с родителями;C;Взаимодействие\n");
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    let (st, b) = import(
        &p,
        &s.operator,
        &s.campaign,
        "?dry_run=true",
        cp1251.to_vec(),
    )
    .await;
    assert_eq!((st, status(&b)), (200, "checked"), "{b}");
    assert_eq!(b["encoding"], "windows-1251");
    let (_, c) = s.get(&s.ministry, &catalog).await;
    assert_eq!(
        c["items"].as_array().unwrap().len(),
        3,
        "a dry run changes nothing"
    );
    let (st, b) = import(&p, &s.operator, &s.campaign, "", cp1251.to_vec()).await;
    assert_eq!(
        (st, status(&b), b["rows"].as_i64()),
        (200, "imported", Some(4)),
        "{b}"
    );
    assert_eq!(b["version"].as_i64().unwrap(), version + 1);

    // One competence renamed, one removed; a used one cannot be.
    let (st, c) = call(
        &p,
        Method::PUT,
        &s.path("/competences/C.1"),
        Some(&s.ministry),
        Some(json!({"name": "Работа с семьями", "group_code": "C"})),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert!(
        c["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "Работа с семьями")
    );
    let (st, _) = call(
        &p,
        Method::DELETE,
        &s.path("/competences/C.1"),
        Some(&s.ministry),
        None,
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = call(
        &p,
        Method::DELETE,
        &s.path("/competences/A.1"),
        Some(&s.ministry),
        None,
    )
    .await;
    assert_eq!(st, 409, "the needs survey offers A.1: {b}");
    let (st, _) = call(
        &p,
        Method::DELETE,
        &s.path("/competences/Z.9"),
        Some(&s.ministry),
        None,
    )
    .await;
    assert_eq!(st, 404);

    // Educators, organization operators and providers do not edit it; another region does not see it.
    for token in [&s.educators[0].1, &s.org_operator, &s.provider_admin] {
        let (st, b) = import(&p, token, &s.campaign, "", CATALOG.as_bytes().to_vec()).await;
        assert_eq!(st, 403, "{b}");
        let (st, _) = call(
            &p,
            Method::PUT,
            &s.path("/competences/X"),
            Some(token),
            Some(json!({"name": "x"})),
        )
        .await;
        assert_eq!(st, 403);
    }
    let other = build_world(&p, &s.admin, "S9").await;
    let (_, stranger) = user(&p, &s.admin, "other.ministry", "ministry", &other.region).await;
    let (st, _) = s.get(&stranger, &catalog).await;
    assert_eq!(st, 404);
    p.stop().await;
}

#[tokio::test]
async fn the_needs_survey_is_answered_in_its_phase_counted_and_locked_at_close() {
    let p = Platform::start_with(true, |s| s.surveys.sweep_interval_ms = 100)
        .await
        .unwrap();
    let s = Survey::open(&p).await;

    // Before its phase: refused, naming the phase (the calendar moved a day
    // ahead, then back; not across New Year, where the campaign's year would
    // change).
    let year_of = |d: i64| {
        use chrono::Datelike;
        (chrono_today() + chrono::Duration::days(d)).year()
    };
    if year_of(1) == year_of(-3) {
        let (st, c) = call(
            &p,
            Method::PATCH,
            &s.path(""),
            Some(&s.ministry),
            Some(json!({"phases": phases(1, 3)})),
        )
        .await;
        assert_eq!(st, 200, "{c}");
        let b = eventually(
            &p,
            &s.educators[0].1,
            &format!("/api/v1/windows/{}", s.window),
            |_, w| w["status"] == "upcoming",
        )
        .await;
        assert_eq!(b["phase"], "needs_survey");
        let (st, b) = s.respond(0, answers(&[0], 0, &[])).await;
        assert_eq!((st, &b["phase"]), (409, &json!("needs_survey")), "{b}");
        let (st, c) = call(
            &p,
            Method::PATCH,
            &s.path(""),
            Some(&s.ministry),
            Some(json!({"phases": phases(-3, 3)})),
        )
        .await;
        assert_eq!(st, 200, "{c}");
        eventually(
            &p,
            &s.educators[0].1,
            &format!("/api/v1/windows/{}", s.window),
            |_, w| w["status"] == "open",
        )
        .await;
    }

    // Incomplete and malformed answers are refused, naming the question.
    let (st, b) = s
        .respond(
            0,
            json!({"answers": [{"question_id": "direction", "choices": [7]}]}),
        )
        .await;
    assert_eq!(st, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["answers[0].choices", "answers[form]"]);

    // Three of the four educators answer; the first changes her mind.
    let (st, r) = s.respond(0, answers(&[0, 1], 0, &[0])).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["editable"], true);
    assert_eq!(s.respond(1, answers(&[0], 1, &[0, 1])).await.0, 200);
    assert_eq!(s.respond(2, answers(&[1], 0, &[])).await.0, 200);
    let (st, r) = s.respond(0, answers(&[0], 0, &[0])).await;
    assert_eq!(st, 200, "{r}");
    let (_, mine) = s
        .get(
            &s.educators[0].1,
            &format!("/api/v1/windows/{}/response", s.window),
        )
        .await;
    assert_eq!(mine["answers"][0]["choices"], json!([0]), "{mine}");
    let (st, _) = s
        .get(
            &s.educators[3].1,
            &format!("/api/v1/windows/{}/response", s.window),
        )
        .await;
    assert_eq!(st, 404, "not answered yet");
    // The window brings its questions to those who answer it.
    let (st, w) = s
        .get(&s.educators[3].1, &format!("/api/v1/windows/{}", s.window))
        .await;
    assert_eq!(
        (st, w["questions"].as_array().map(Vec::len)),
        (200, Some(5)),
        "{w}"
    );
    assert_eq!(w["questions"][0]["options"][0], "Цифровая школа");

    // Demand for the region, by hand: directions {e0: Ц, e1: Ц, e2: И},
    // forms {e0: очная, e1: дистанционная, e2: очная}, deficits {e0: A.1, e1: A.1 B.1}.
    let demand = |by: &str, scope: &str| s.path(&format!("/needs-survey/demand?by={by}{scope}"));
    let (st, d) = s.get(&s.operator, &demand("direction", "")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["respondents"], 3);
    assert_eq!(counts(&d), pairs(&[("Цифровая школа", 2), ("Инклюзия", 1)]));
    assert!((d["rows"][0]["share"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    let (_, d) = s.get(&s.ministry, &demand("form", "")).await;
    assert_eq!(counts(&d), pairs(&[("очная", 2), ("дистанционная", 1)]));
    let (_, d) = s.get(&s.ministry, &demand("deficit", "")).await;
    assert_eq!(counts(&d), pairs(&[("A.1", 2), ("B.1", 1)]));
    assert_eq!(d["rows"][0]["label"], "Проектирование урока");
    // The organization 0 (e0, e1), the teachers of mathematics (e0, e2).
    let (_, d) = s.get(&s.org_operator, &demand("direction", "")).await;
    assert_eq!(
        (d["respondents"].as_i64(), counts(&d)),
        (Some(2), pairs(&[("Цифровая школа", 2)])),
        "{d}"
    );
    let (_, d) = s
        .get(&s.operator, &demand("form", "&subject=Математика"))
        .await;
    assert_eq!(counts(&d), pairs(&[("очная", 2)]));
    // The same as CSV.
    let r = p
        .http
        .get(p.url(&demand("direction", "&format=csv")))
        .bearer_auth(&s.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let csv = csv.strip_prefix('\u{FEFF}').expect("a BOM for Excel");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "value;label;count;share");
    assert_eq!(lines[1], "Цифровая школа;Цифровая школа;2;0.6667");

    // Response rates: the region by municipality, an organization, a municipality.
    let (st, r) = s.get(&s.operator, &s.path("/needs-survey/rates")).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["educators"].as_i64(), r["responded"].as_i64()),
        (Some(4), Some(3))
    );
    let parts: Vec<(String, i64, i64)> = r["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_owned(),
                x["educators"].as_i64().unwrap(),
                x["responded"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        parts.contains(&(s.world.municipalities[0].clone(), 3, 3)),
        "{r}"
    );
    assert!(
        parts.contains(&(s.world.municipalities[1].clone(), 1, 0)),
        "{r}"
    );
    assert_eq!(r["not_responded"][0]["id"], s.educators[3].0.as_str());
    let (_, r) = s.get(&s.org_operator, &s.path("/needs-survey/rates")).await;
    assert_eq!(
        (r["educators"].as_i64(), r["not_responded_total"].as_i64()),
        (Some(2), Some(0)),
        "{r}"
    );
    let (_, r) = s
        .get(&s.muni_operator, &s.path("/needs-survey/rates"))
        .await;
    assert_eq!(r["not_responded"][0]["name"], "Григорьева Анна", "{r}");

    // Forbidden: another organization, educators, providers.
    let other_org = s.path(&format!(
        "/needs-survey/rates?organization_id={}",
        s.world.orgs[1]
    ));
    assert_eq!(s.get(&s.org_operator, &other_org).await.0, 403);
    assert_eq!(
        s.get(
            &s.muni_operator,
            &demand(
                "form",
                &format!("&municipality_id={}", s.world.municipalities[0])
            )
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.get(&s.educators[0].1, &s.path("/needs-survey/rates"))
            .await
            .0,
        403
    );
    assert_eq!(s.get(&s.provider_admin, &demand("form", "")).await.0, 403);
    assert_eq!(s.get(&s.operator, &demand("colour", "")).await.0, 422);

    // The ministry closes the phase: answers are locked, naming the phase,
    // and the region's list of who did not answer goes out in parts before
    // the summary.
    let (_c1, mut missing) = subscribe(&p, "window_not_responded").await;
    let (_c2, mut closed) = subscribe(&p, "window_closed").await;
    let (st, c) = call(
        &p,
        Method::PATCH,
        &s.path(""),
        Some(&s.ministry),
        Some(json!({"phases": phases(-3, -1)})),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    let window = format!("/api/v1/windows/{}", s.window);
    let w = eventually(&p, &s.ministry, &window, |_, w| {
        w["status"] == "closed" && w["closed_at"] != ""
    })
    .await;
    assert_eq!(w["phase"], "needs_survey");
    let part: pd_proto::surveys::v1::WindowNotResponded = next_event(&mut missing).await;
    assert_eq!(
        (part.educator_ids, part.part, part.parts),
        (vec![s.educators[3].0.clone()], 1, 1)
    );
    let summary: pd_proto::surveys::v1::WindowClosed = next_event(&mut closed).await;
    assert_eq!(
        (
            summary.window_id.as_str(),
            summary.responded,
            summary.not_responded_count
        ),
        (s.window.as_str(), 3, 1)
    );
    let (st, b) = s.respond(0, answers(&[1], 1, &[])).await;
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["phase"], "needs_survey", "{b}");
    let (_, mine) = s
        .get(&s.educators[0].1, &format!("{window}/response"))
        .await;
    assert_eq!(
        (mine["editable"].as_bool(), &mine["answers"][0]["choices"]),
        (Some(false), &json!([0]))
    );
    p.stop().await;
}

/// Test questions: `n` single-choice questions of `competence`, option 1 right.
fn test_questions(prefix: &str, n: usize, competence: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"id": format!("{prefix}{i}"), "kind": "single_choice", "text": format!("Вопрос {prefix}{i}"), "options": ["нет", "да", "не знаю"], "correct": [1], "competence": competence}))
        .collect()
}

/// Answers choosing `choice` for every question of an attempt.
fn all(attempt: &Value, choice: i32) -> Value {
    let answers: Vec<Value> = attempt["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| json!({"question_id": q["id"], "choices": [choice]}))
        .collect();
    json!({"answers": answers})
}

#[tokio::test]
async fn tests_draw_score_keep_the_best_refuse_extra_and_late_attempts_and_diagnostics_mark_deficits()
 {
    let p = Platform::start().await.unwrap();
    let s = Survey::open(&p).await;
    let in_a_week = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();

    // A diagnostic: sections A.1 (threshold 60 %) and B.1 (50 %).
    let mut questions = test_questions("a", 2, "A.1");
    questions.extend(test_questions("b", 2, "B.1"));
    let body = json!({"campaign_id": s.campaign, "kind": "test", "purpose": "diagnostic", "title": "Диагностика", "questions": questions, "pass_percent": 50,
        "sections": [{"competence": "A.1", "threshold_percent": 60}, {"competence": "B.1", "threshold_percent": 50}]});
    let (st, i) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&s.educators[0].1),
        Some(body.clone()),
    )
    .await;
    assert_eq!(st, 403, "educators do not write tests: {i}");
    let (st, i) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&s.operator),
        Some(body),
    )
    .await;
    assert_eq!(st, 201, "{i}");
    let diagnostic = i["id"].as_str().unwrap().to_owned();
    let windows = format!("/api/v1/instruments/{diagnostic}/windows");
    // An organization's operator opens it for her own educators only.
    let (st, b) = call(
        &p,
        Method::POST,
        &windows,
        Some(&s.org_operator),
        Some(json!({"educator_ids": [s.educators[2].0], "closes_at": in_a_week})),
    )
    .await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "educator_ids[0]");
    let (st, w) = call(
        &p,
        Method::POST,
        &windows,
        Some(&s.operator),
        Some(json!({"educator_ids": [s.educators[2].0], "closes_at": in_a_week})),
    )
    .await;
    assert_eq!(st, 201, "{w}");
    let dw = w["id"].as_str().unwrap().to_owned();
    // Only its member sees it; the instrument itself stays hidden from educators.
    assert_eq!(
        s.get(&s.educators[0].1, &format!("/api/v1/windows/{dw}"))
            .await
            .0,
        404
    );
    assert_eq!(
        s.get(
            &s.educators[2].1,
            &format!("/api/v1/instruments/{diagnostic}")
        )
        .await
        .0,
        404
    );
    let (_, mine) = s
        .get(&s.educators[2].1, "/api/v1/windows?status=open")
        .await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == dw.as_str()),
        "{mine}"
    );
    let (st, a) = call(
        &p,
        Method::POST,
        &format!("/api/v1/windows/{dw}/attempts"),
        Some(&s.educators[2].1),
        None,
    )
    .await;
    assert_eq!(st, 201, "{a}");
    assert!(
        a["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["correct"].as_array().is_none_or(|c| c.is_empty())),
        "answers hidden: {a}"
    );
    // A.1 right, B.1 wrong: B.1 is a deficit.
    let answers: Vec<Value> = a["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let right = q["id"].as_str().unwrap().starts_with('a');
            json!({"question_id": q["id"], "choices": [if right { 1 } else { 0 }]})
        })
        .collect();
    let (st, done) = call(
        &p,
        Method::POST,
        &format!("/api/v1/attempts/{}/submit", a["id"].as_str().unwrap()),
        Some(&s.educators[2].1),
        Some(json!({"answers": answers})),
    )
    .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(
        (done["percent"].as_i64(), done["passed"].as_bool()),
        (Some(50), Some(true))
    );
    let deficits: Vec<(&str, bool)> = done["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["competence"].as_str().unwrap(),
                x["deficit"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(deficits, vec![("A.1", false), ("B.1", true)]);
    assert_eq!(
        done["questions"][0]["correct"],
        json!([1]),
        "shown once closed"
    );
    let (_, t) = s.get(&s.educators[2].1, &s.path("/trajectory")).await;
    assert_eq!(t["deficits"], json!(["B.1"]), "{t}");
    let (_, d) = s
        .get(&s.operator, &s.path("/needs-survey/demand?by=deficit"))
        .await;
    assert_eq!(counts(&d), pairs(&[("B.1", 1)]));

    // Others do not see the diagnostic: another organization's operator,
    // a provider (nor may they open windows on it).
    assert_eq!(
        s.get(&s.org_operator, &format!("/api/v1/windows/{dw}"))
            .await
            .0,
        404
    );
    assert_eq!(
        s.get(
            &s.provider_admin,
            &format!("/api/v1/instruments/{diagnostic}")
        )
        .await
        .0,
        404
    );
    let (st, _) = call(
        &p,
        Method::POST,
        &windows,
        Some(&s.provider_admin),
        Some(json!({"educator_ids": [s.educators[2].0], "closes_at": in_a_week})),
    )
    .await;
    assert_eq!(st, 404);

    // Post-course windows open only by monitoring's completions.
    let (st, i) = call(&p, Method::POST, "/api/v1/instruments", Some(&s.operator), Some(json!({"region_id": s.world.region, "kind": "test", "purpose": "post_course_test", "title": "Итоговый тест", "questions": test_questions("q", 5, "")}))).await;
    assert_eq!(st, 201, "{i}");
    let (st, b) = call(&p, Method::POST, &format!("/api/v1/instruments/{}/windows", i["id"].as_str().unwrap()), Some(&s.operator), Some(json!({"educator_ids": [s.educators[0].0], "closes_at": in_a_week, "attempts_limit": 10}))).await;
    assert_eq!(st, 409, "{b}");

    // A test of the region: a bank of 5, 3 drawn, 30 minutes, 2 attempts.
    let (st, i) = call(&p, Method::POST, "/api/v1/instruments", Some(&s.operator), Some(json!({"region_id": s.world.region, "kind": "test", "purpose": "other", "title": "Тест по функциональной грамотности", "questions": test_questions("q", 5, ""), "draw_count": 3, "time_limit_minutes": 30, "pass_percent": 60}))).await;
    assert_eq!(st, 201, "{i}");
    let test = i["id"].as_str().unwrap().to_owned();
    let (st, w) = call(&p, Method::POST, &format!("/api/v1/instruments/{test}/windows"), Some(&s.operator), Some(json!({"educator_ids": [s.educators[0].0, s.educators[1].0], "closes_at": in_a_week, "attempts_limit": 2}))).await;
    assert_eq!(st, 201, "{w}");
    let tw = w["id"].as_str().unwrap().to_owned();
    let start = |who: usize| {
        let path = format!("/api/v1/windows/{tw}/attempts");
        let token = s.educators[who].1.clone();
        let p = &p;
        async move { call(p, Method::POST, &path, Some(&token), None).await }
    };
    let submit = |attempt: &Value, body: Value, who: usize| {
        let path = format!(
            "/api/v1/attempts/{}/submit",
            attempt["id"].as_str().unwrap()
        );
        let token = s.educators[who].1.clone();
        let p = &p;
        async move { call(p, Method::POST, &path, Some(&token), Some(body)).await }
    };
    let (st, first) = start(0).await;
    assert_eq!(st, 201, "{first}");
    assert_eq!(first["questions"].as_array().unwrap().len(), 3);
    assert!(first["deadline"].as_str().is_some_and(|d| !d.is_empty()));
    let (st, again) = start(0).await;
    assert_eq!(
        (st, &again["id"]),
        (201, &first["id"]),
        "a retried start returns the running attempt"
    );
    // The first attempt is the better one: its score is the one kept.
    let (_, r) = submit(&first, all(&first, 1), 0).await;
    assert_eq!(
        (
            r["percent"].as_i64(),
            r["passed"].as_bool(),
            r["attempts_left"].as_i64()
        ),
        (Some(100), Some(true), Some(1)),
        "{r}"
    );
    assert!(
        r["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["correct"] == json!([])),
        "no correct answers while an attempt is left: {r}"
    );
    let (st, _) = submit(&first, all(&first, 0), 0).await;
    assert_eq!(st, 409, "a closed attempt takes no answers");
    let (_, second) = start(0).await;
    assert_eq!(second["number"], 2);
    let (_, r) = submit(&second, all(&second, 0), 0).await;
    assert_eq!(
        (
            r["percent"].as_i64(),
            r["best_percent"].as_i64(),
            r["attempts_left"].as_i64()
        ),
        (Some(0), Some(100), Some(0)),
        "{r}"
    );
    assert_eq!(
        r["questions"][0]["correct"],
        json!([1]),
        "shown once none is left"
    );
    let (st, b) = start(0).await;
    assert_eq!(st, 409, "a third attempt: {b}");
    let (_, list) = s
        .get(&s.educators[0].1, &format!("/api/v1/windows/{tw}/attempts"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        list["items"][1]["best_percent"], 100,
        "the best is kept, not the last"
    );
    // Another educator's attempt is not hers to read.
    let path = format!("/api/v1/attempts/{}", first["id"].as_str().unwrap());
    assert_eq!(s.get(&s.educators[1].1, &path).await.0, 404);

    // Out of time: answers saved along the way are scored as they stand;
    // answers after the deadline are refused.
    let (_, late) = start(1).await;
    let (st, saved) = submit(
        &late,
        json!({"answers": all(&late, 1)["answers"], "save_only": true}),
        1,
    )
    .await;
    assert_eq!(
        (st, saved["closed_at"].as_str()),
        (200, Some("")),
        "{saved}"
    );
    // The test's 30 minutes pass on every service's clock.
    let clock = &p.env.settings.clock;
    clock.advance(chrono::Duration::minutes(31));
    let (st, b) = submit(&late, all(&late, 0), 1).await;
    assert_eq!(st, 409, "{b}");
    let (_, closed) = s
        .get(
            &s.educators[1].1,
            &format!("/api/v1/attempts/{}", late["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        (closed["closed_reason"].as_str(), closed["percent"].as_i64()),
        (Some("time_limit"), Some(100)),
        "{closed}"
    );
    // Once the window is over, a second attempt is refused too.
    clock.advance(chrono::Duration::days(7));
    let (st, b) = start(1).await;
    assert_eq!(st, 409, "{b}");
    assert!(b["closes_at"].is_string(), "{b}");
    p.stop().await;
}

#[tokio::test]
async fn priorities_are_the_ministrys_and_coverage_gaps_close_when_a_covering_program_is_published()
{
    let p = Platform::start().await.unwrap();
    let (c, programs) = Campaign::reviewed(&p).await;
    let path = |rest: &str| c.path(rest);
    eventually(&p, &c.ministry, &path("/competences"), |s, _| s == 200).await;
    let catalog = "code;name\nПК-1;Функциональная грамотность\nПК-2;Цифровая среда\n";
    let (st, b) = import(&p, &c.ministry, &c.id, "", catalog.as_bytes().to_vec()).await;
    assert_eq!(st, 200, "{b}");

    // Priorities: the ministry's; everyone in the region reads them.
    let body = json!({"directions": ["Функциональная грамотность"], "topics": ["Читательская грамотность"]});
    assert_eq!(
        call(
            &p,
            Method::PUT,
            &path("/priorities"),
            Some(&c.operator),
            Some(body.clone())
        )
        .await
        .0,
        403
    );
    let (st, pr) = call(
        &p,
        Method::PUT,
        &path("/priorities"),
        Some(&c.ministry),
        Some(body),
    )
    .await;
    assert_eq!(st, 200, "{pr}");
    let (st, pr) = call(
        &p,
        Method::GET,
        &path("/priorities"),
        Some(&c.educator),
        None,
    )
    .await;
    assert_eq!(
        (st, &pr["directions"][0]),
        (200, &json!("Функциональная грамотность"))
    );
    // The registry shows them with the campaign (the call for programs).
    let campaign = eventually(&p, &c.prov_a, &path(""), |_, b| !b["priorities"].is_null()).await;
    assert_eq!(
        campaign["priorities"]["topics"],
        json!(["Читательская грамотность"])
    );

    // The educator's deficits, from a diagnostic: ПК-1 and ПК-2.
    let (_, me) = call(&p, Method::GET, "/api/v1/me", Some(&c.educator), None).await;
    let educator = me["educator"]["id"].as_str().unwrap().to_owned();
    let mut questions = test_questions("a", 1, "ПК-1");
    questions.extend(test_questions("b", 1, "ПК-2"));
    let (st, i) = call(&p, Method::POST, "/api/v1/instruments", Some(&c.operator), Some(json!({"campaign_id": c.id, "kind": "test", "purpose": "diagnostic", "title": "Диагностика", "questions": questions,
        "sections": [{"competence": "ПК-1", "threshold_percent": 50}, {"competence": "ПК-2", "threshold_percent": 50}]}))).await;
    assert_eq!(st, 201, "{i}");
    let closes = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let windows = format!("/api/v1/instruments/{}/windows", i["id"].as_str().unwrap());
    let (st, w) = open_window_once_known(
        &p,
        &windows,
        &c.operator,
        json!({"educator_ids": [educator], "closes_at": closes}),
    )
    .await;
    assert_eq!(st, 201, "{w}");
    let (_, a) = call(
        &p,
        Method::POST,
        &format!("/api/v1/windows/{}/attempts", w["id"].as_str().unwrap()),
        Some(&c.educator),
        None,
    )
    .await;
    let (st, done) = call(
        &p,
        Method::POST,
        &format!("/api/v1/attempts/{}/submit", a["id"].as_str().unwrap()),
        Some(&c.educator),
        Some(all(&a, 0)),
    )
    .await;
    assert_eq!(st, 200, "{done}");

    // Before the registry: both are gaps.
    let (st, cov) = call(&p, Method::GET, &path("/coverage"), Some(&c.ministry), None).await;
    assert_eq!(st, 200, "{cov}");
    assert_eq!(
        (cov["gaps"].as_i64(), cov["registry_published"].as_bool()),
        (Some(2), Some(false)),
        "{cov}"
    );
    assert_eq!(
        call(&p, Method::GET, &path("/coverage"), Some(&c.educator), None)
            .await
            .0,
        403
    );

    // The council includes A1 (it addresses ПК-1) and the registry is published.
    let session = c.convene().await;
    let session = session["id"].as_str().unwrap();
    for (who, program, v) in super::fixtures::council_votes(&programs) {
        let (s, b) = c.vote(session, &c.council[who].1, program, v).await;
        assert_eq!(s, 200, "{b}");
    }
    assert_eq!(c.session_action(session, "close", &c.operator).await.0, 200);
    assert_eq!(
        c.session_action(session, "approve", &c.ministry).await.0,
        200
    );
    let cov = eventually(&p, &c.ministry, &path("/coverage"), |_, b| b["gaps"] == 1).await;
    let row = |code: &str| {
        cov["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["competence"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (row("ПК-1")["gap"].as_bool(), &row("ПК-1")["program_ids"]),
        (Some(false), &json!([programs.a1]))
    );
    assert_eq!(row("ПК-2")["gap"], true);
    assert_eq!(row("ПК-2")["demand"], 1);
    // Providers keep the post-course test bank of their own programs only.
    let bank = |program: &str| {
        json!({"kind": "test", "purpose": "post_course_test", "program_id": program, "region_id": c.world.region,
        "title": "Итоговый тест по программе", "questions": test_questions("q", 3, ""), "draw_count": 2, "pass_percent": 60})
    };
    let (st, b) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.prov_a),
        Some(bank(&programs.a1)),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["provider_id"], c.providers[0].as_str());
    let (st, _) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.prov_b),
        Some(bank(&programs.a1)),
    )
    .await;
    assert_eq!(st, 403, "another provider's program");
    let (st, b) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.prov_a),
        Some(bank("")),
    )
    .await;
    assert_eq!(
        (st, &b["errors"][0]["field"]),
        (422, &json!("program_id")),
        "the region's default is not a provider's"
    );
    let (st, b) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.prov_a),
        Some(bank(&programs.a1)),
    )
    .await;
    assert_eq!(st, 409, "one bank per program: {b}");
    // The gaps go to providers; the educator's trajectory leads to A1.
    assert_eq!(
        call(
            &p,
            Method::POST,
            &path("/coverage/publish"),
            Some(&c.prov_a),
            None
        )
        .await
        .0,
        403
    );
    let (_c1, mut gap_events) = subscribe(&p, "coverage_gap_published").await;
    let (_c2, mut summaries) = subscribe(&p, "coverage_gaps_published").await;
    let (st, published) = call(
        &p,
        Method::POST,
        &path("/coverage/publish"),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!((st, published["gaps"].as_i64()), (200, Some(1)));
    let gap: pd_proto::surveys::v1::CoverageGapPublished = next_event(&mut gap_events).await;
    let gap = gap.gap.unwrap_or_default();
    assert_eq!((gap.competence.as_str(), gap.demand), ("ПК-2", 1));
    let summary: pd_proto::surveys::v1::CoverageGapsPublished = next_event(&mut summaries).await;
    assert_eq!(
        (summary.campaign_id.as_str(), summary.gap_count),
        (c.id.as_str(), 1)
    );
    let (_, t) = call(
        &p,
        Method::GET,
        &path("/trajectory"),
        Some(&c.educator),
        None,
    )
    .await;
    assert_eq!(t["items"][0]["program_id"], programs.a1.as_str(), "{t}");
    assert_eq!(t["items"][0]["addresses"], json!(["ПК-1"]));
    p.stop().await;
}
