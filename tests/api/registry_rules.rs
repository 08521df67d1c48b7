//! The registry rules a real campaign needs, through the gateway: groups
//! in the campaign's windows (training follows the December window), the
//! council on every reviewed program with a full protocol the ministry may
//! return or trim, the council's criteria, the operator's lists, expert
//! declines and the technical-review history, voucher blocks and the
//! catalog, deletions, group cancellations and the calendar audit.

use super::fixtures::{calendar, chrono_today, day, program, status, until_known, user};
use super::walking_skeleton::count_service_events;
use super::*;

/// A region of the given PD model with two providers and the people of
/// the review (logins prefixed by the region's code).
struct Region {
    id: String,
    providers: Vec<String>,
    ministry: (String, String),
    operator: String,
    /// The admin of each provider.
    prov: Vec<String>,
    experts: Vec<(String, String)>,
    council: Vec<(String, String)>,
}

async fn region(
    p: &Platform,
    admin: &str,
    code: &str,
    model: &str,
    experts: usize,
    council: usize,
) -> Region {
    let (s, r) = call(
        p,
        Method::POST,
        "/api/v1/regions",
        Some(admin),
        Some(json!({"code": code, "name": format!("Регион {code}"), "time_zone": "Europe/Moscow", "pd_model": model})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    let offset = code.bytes().map(u32::from).sum::<u32>() * 10;
    let mut providers = Vec::new();
    for (i, name) in ["ИРО", "Университет"].iter().enumerate() {
        let inn = pd_domain::Inn::from_body(166_100_000 + offset + i as u32).unwrap();
        let (s, pr) = call(
            p,
            Method::POST,
            "/api/v1/providers",
            Some(admin),
            Some(json!({"region_id": id, "name": name, "inn": inn.as_str(), "licence_number": "Л035-01"})),
        )
        .await;
        assert_eq!(s, 201, "{pr}");
        providers.push(pr["id"].as_str().unwrap().to_owned());
    }
    let login = |what: &str| format!("{}.{what}", code.to_lowercase());
    let ministry = user(p, admin, &login("ministry"), "ministry", &id).await;
    let (_, operator) = user(p, admin, &login("operator"), "regional_operator", &id).await;
    let mut prov = Vec::new();
    for (i, provider) in providers.iter().enumerate() {
        let who = login(&format!("provider{i}"));
        prov.push(user(p, admin, &who, "provider_admin", provider).await.1);
    }
    let people = |role: &'static str, n: usize| {
        let login = &login;
        let id = &id;
        async move {
            let mut out = Vec::new();
            for i in 0..n {
                out.push(user(p, admin, &login(&format!("{role}{i}")), role, id).await);
            }
            out
        }
    };
    let experts = people("expert", experts).await;
    let council = people("council_member", council).await;
    Region {
        id,
        providers,
        ministry,
        operator,
        prov,
        experts,
        council,
    }
}

/// A campaign of the region on `phases`, with two criteria and every
/// expert of the region in its pool.
async fn campaign(p: &Platform, r: &Region, (year, phases): (i32, Vec<Value>)) -> String {
    let (s, c) = until_known(
        p,
        Method::POST,
        "/api/v1/campaigns",
        &r.ministry.1,
        json!({"region_id": r.id, "year": year, "title": format!("Кампания {year} года"), "phases": phases}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let (s, b) = call(
        p,
        Method::PUT,
        &format!("/api/v1/campaigns/{id}/criteria"),
        Some(&r.ministry.1),
        Some(json!({
            "criteria": [
                {"code": "relevance", "name": "Актуальность", "max_score": 10},
                {"code": "content", "name": "Содержание", "max_score": 10}
            ],
            "pass_threshold_percent": 60
        })),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    for (expert, _) in &r.experts {
        let (s, b) = until_known(
            p,
            Method::POST,
            &format!("/api/v1/campaigns/{id}/experts"),
            &r.operator,
            json!({"user_id": expert}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    id
}

async fn move_to(p: &Platform, r: &Region, campaign: &str, phases: Vec<Value>) -> Value {
    let (s, c) = call(
        p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&r.ministry.1),
        Some(json!({ "phases": phases })),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    c
}

/// A draft of provider `i`.
async fn draft(p: &Platform, r: &Region, campaign: &str, i: usize, fields: Value) -> String {
    let (s, b) = until_known(
        p,
        Method::POST,
        "/api/v1/programs",
        &r.prov[i],
        json!({"campaign_id": campaign, "provider_id": r.providers[i], "fields": fields}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn post(p: &Platform, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(p, Method::POST, path, Some(token), body).await
}

async fn get(p: &Platform, token: Option<&str>, path: &str) -> (u16, Value) {
    call(p, Method::GET, path, token, None).await
}

/// Submitted by provider `i` and accepted by the technical review.
async fn accepted(p: &Platform, r: &Region, campaign: &str, i: usize, fields: Value) -> String {
    let id = draft(p, r, campaign, i, fields).await;
    let (s, b) = post(
        p,
        &r.prov[i],
        &format!("/api/v1/programs/{id}/submit"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(
        p,
        &r.operator,
        &format!("/api/v1/programs/{id}/technical-review"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    id
}

/// Two experts on every accepted program; the assignments of the campaign.
async fn assign(p: &Platform, r: &Region, campaign: &str) -> Vec<Value> {
    let (s, a) = post(
        p,
        &r.operator,
        &format!("/api/v1/campaigns/{campaign}/expert-assignments"),
        Some(json!({"per_program": 2})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    a["items"].as_array().unwrap().clone()
}

/// The experts on a program now (assigned or reviewed, not declined).
fn experts_on(assignments: &[Value], program: &str) -> Vec<String> {
    assignments
        .iter()
        .filter(|a| {
            a["program_id"] == program
                && ["assigned", "submitted"].contains(&a["state"].as_str().unwrap_or(""))
        })
        .map(|a| a["expert_id"].as_str().unwrap().to_owned())
        .collect()
}

fn token<'a>(people: &'a [(String, String)], id: &str) -> &'a str {
    &people.iter().find(|(i, _)| i == id).unwrap().1
}

/// Every assigned expert of the program reviews it: passing or failing.
async fn review_all(p: &Platform, r: &Region, assignments: &[Value], program: &str, pass: bool) {
    let (score, conclusion) = if pass { (9, "include") } else { (3, "exclude") };
    for e in experts_on(assignments, program) {
        let (s, b) = post(
            p,
            token(&r.experts, &e),
            &format!("/api/v1/programs/{program}/reviews"),
            Some(json!({
                "scores": [{"criterion": "relevance", "score": score}, {"criterion": "content", "score": score}],
                "conclusion": conclusion, "comment": format!("Заключение эксперта: {conclusion}")
            })),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
}

/// A session of the whole council, the first member in the chair and the
/// last keeping the minutes.
async fn session(p: &Platform, r: &Region, campaign: &str) -> Value {
    let members: Vec<&str> = r.council.iter().map(|(id, _)| id.as_str()).collect();
    let (s, b) = until_known(
        p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/council-sessions"),
        &r.operator,
        json!({"held_on": chrono_today().to_string(), "member_ids": members,
               "chair_id": members[0], "secretary_id": members[members.len() - 1]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    b
}

async fn vote(p: &Platform, member: &str, session: &str, program: &str, v: &str) {
    let (s, b) = post(
        p,
        member,
        &format!("/api/v1/council-sessions/{session}/votes"),
        Some(json!({"program_id": program, "vote": v})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

/// Programs accepted in the submission phase, taken through passing expert
/// review and a unanimous council into the published registry.
async fn into_registry(p: &Platform, r: &Region, campaign: &str, programs: &[&str]) {
    move_to(p, r, campaign, calendar("expert_review").1).await;
    let assignments = assign(p, r, campaign).await;
    for program in programs {
        review_all(p, r, &assignments, program, true).await;
    }
    let session = session(p, r, campaign).await;
    let id = session["id"].as_str().unwrap();
    for program in programs {
        for (_, member) in &r.council {
            vote(p, member, id, program, "for").await;
        }
    }
    let (s, b) = post(
        p,
        &r.operator,
        &format!("/api/v1/council-sessions/{id}/close"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(
        p,
        &r.ministry.1,
        &format!("/api/v1/council-sessions/{id}/approve"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

fn cumulative(title: &str) -> Value {
    let mut f = program(title, "Накопительная система");
    f["kind"] = json!("cumulative");
    f
}

fn group(starts_on: &str, ends_on: &str) -> Value {
    json!({"starts_on": starts_on, "ends_on": ends_on, "online": true, "capacity": 20, "min_size": 5})
}

fn date(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn fields_of(b: &Value) -> Vec<&str> {
    b["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn groups_run_in_the_campaign_windows_after_december_not_in_its_year() {
    use chrono::Datelike;
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RW1", "un_quota", 2, 1).await;
    let (year, phases) = calendar("program_submission");
    let c = campaign(&p, &r, (year, phases)).await;
    let ordinary = accepted(&p, &r, &c, 0, program("Цифровая школа", "Цифровизация")).await;
    let route = accepted(&p, &r, &c, 0, cumulative("Маршрут наставника")).await;
    into_registry(&p, &r, &c, &[&ordinary, &route]).await;

    // The schedule open today; applications open on day 7; post-course
    // monitoring runs until the middle of the year after next.
    let (_, mut phases) = calendar("schedule");
    phases[5]["ends_on"] = json!(format!("{}-06-30", year + 2));
    move_to(&p, &r, &c, phases.clone()).await;
    let opens = date(phases[4]["starts_on"].as_str().unwrap());
    let today = chrono_today();
    let groups = |program: &str| format!("/api/v1/programs/{program}/groups");

    // Training in the next calendar year (the campaign's `year` is the
    // year its cycle began).
    let next_year = chrono::NaiveDate::from_ymd_opt(year + 1, 1, 10).unwrap();
    let starts = next_year.max(today + chrono::Duration::days(14));
    assert_eq!(starts.year(), year + 1);
    let ends = starts + chrono::Duration::days(20);
    let (s, g) = post(
        &p,
        &r.prov[0],
        &groups(&ordinary),
        Some(group(&starts.to_string(), &ends.to_string())),
    )
    .await;
    assert_eq!(s, 201, "a group of the next year: {g}");
    // A route across the new year.
    let mut z = (today + chrono::Duration::days(8)).year();
    if chrono::NaiveDate::from_ymd_opt(z, 12, 20).unwrap() < today + chrono::Duration::days(8) {
        z += 1;
    }
    let (s, g) = post(
        &p,
        &r.prov[0],
        &groups(&route),
        Some(group(&format!("{z}-12-20"), &format!("{}-01-25", z + 1))),
    )
    .await;
    assert_eq!(s, 201, "a route across the new year: {g}");

    // Before applications open: 422 naming the field and the date.
    let (s, b) = post(
        &p,
        &r.prov[0],
        &groups(&ordinary),
        Some(group(&day(3), &day(10))),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["starts_on"]), "{b}");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&opens.format("%d.%m.%Y").to_string()),
        "{b}"
    );
    // After post-course monitoring ends.
    let (s, b) = post(
        &p,
        &r.prov[0],
        &groups(&ordinary),
        Some(group(&day(8), &format!("{}-07-10", year + 2))),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["ends_on"]), "{b}");
    // In the past.
    let (s, b) = post(
        &p,
        &r.prov[0],
        &groups(&ordinary),
        Some(group(&day(-2), &day(10))),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["starts_on"]), "{b}");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("прошла"),
        "{b}"
    );
    // A route still lasts six months at most.
    let (s, b) = post(
        &p,
        &r.prov[0],
        &groups(&route),
        Some(group(
            &day(8),
            &(today + chrono::Duration::days(8 + 200)).to_string(),
        )),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["ends_on"]), "{b}");
    // A change into the past is refused too.
    let g = g_id(&p, &r, &ordinary).await;
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/groups/{g}"),
        Some(&r.prov[0]),
        Some(group(&day(-1), &ends.to_string())),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["starts_on"]), "{b}");
    p.stop().await;
}

/// The id of the program's first group.
async fn g_id(p: &Platform, r: &Region, program: &str) -> String {
    let (s, b) = get(
        p,
        Some(&r.prov[0]),
        &format!("/api/v1/programs/{program}/groups"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["items"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_council_considers_rejected_programs_and_the_ministry_returns_or_trims_the_protocol() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RC2", "un_quota", 2, 3).await;
    let c = campaign(&p, &r, calendar("program_submission")).await;
    let passed = accepted(
        &p,
        &r,
        &c,
        0,
        program("Функциональная грамотность", "Предметные"),
    )
    .await;
    let rejected = accepted(
        &p,
        &r,
        &c,
        1,
        program("Воспитательная работа", "Воспитание"),
    )
    .await;
    let third = accepted(&p, &r, &c, 1, program("Цифровая школа", "Цифровизация")).await;
    move_to(&p, &r, &c, calendar("expert_review").1).await;
    let assignments = assign(&p, &r, &c).await;
    review_all(&p, &r, &assignments, &passed, true).await;
    review_all(&p, &r, &assignments, &rejected, false).await;
    review_all(&p, &r, &assignments, &third, true).await;
    let (_, b) = get(
        &p,
        Some(&r.operator),
        &format!("/api/v1/programs/{rejected}"),
    )
    .await;
    assert_eq!(status(&b), "expert_rejected");

    // Every program that finished expert review is on the agenda.
    let s1 = session(&p, &r, &c).await;
    let sid = s1["id"].as_str().unwrap().to_owned();
    let agenda = s1["program_ids"].as_array().unwrap();
    assert_eq!(agenda.len(), 3, "{s1}");
    assert!(agenda.contains(&json!(rejected)));
    // The council reads the experts' conclusions on it.
    let (s, b) = get(
        &p,
        Some(&r.council[2].1),
        &format!("/api/v1/programs/{rejected}/reviews"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{b}");
    assert!(items.iter().all(|i| i["conclusion"] == "exclude"));

    // The council overturns the experts by majority.
    let m = |i: usize| r.council[i].1.as_str();
    for i in 0..3 {
        vote(&p, m(i), &sid, &passed, "for").await;
        vote(
            &p,
            m(i),
            &sid,
            &third,
            if i == 2 { "abstain" } else { "for" },
        )
        .await;
        vote(
            &p,
            m(i),
            &sid,
            &rejected,
            if i == 2 { "against" } else { "for" },
        )
        .await;
    }
    let close = format!("/api/v1/council-sessions/{sid}/close");
    // Someone who voted is present.
    let (s, b) = post(
        &p,
        &r.operator,
        &close,
        Some(json!({"present_member_ids": [r.council[0].0, r.council[1].0]})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["present_member_ids"]), "{b}");
    let (s, b) = post(
        &p,
        &r.operator,
        &close,
        Some(json!({"present_member_ids": [r.experts[0].0]})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(fields_of(&b)[0], "present_member_ids[0]");
    let (s, protocol) = post(&p, &r.operator, &close, None).await;
    assert_eq!(s, 200, "{protocol}");
    assert_eq!(protocol["number"], "1");
    assert_eq!(protocol["dated"], chrono_today().to_string());
    assert_eq!(protocol["chair_id"], r.council[0].0.as_str());
    assert_eq!(protocol["secretary_id"], r.council[2].0.as_str());
    assert_eq!(protocol["present"], 3);
    let roles: Vec<&str> = protocol["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["chair", "secretary", "member"]);
    // Members are named as identity announced them, in the data and the page.
    for m in protocol["attendance"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap_or("");
        assert!(!name.is_empty(), "{m}");
        assert!(
            protocol["html"].as_str().unwrap_or("").contains(name) || protocol["html"] == "",
            "{name}"
        );
    }
    assert_eq!(protocol["criteria"][1]["name"], "Содержание");
    let entries = protocol["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "every program considered is listed");
    let entry = |id: &str| entries.iter().find(|e| e["program_id"] == id).unwrap();
    let e = entry(&rejected);
    assert_eq!(
        (
            &e["expert_outcome"],
            &e["decision"],
            &e["overturned"],
            &e["votes_for"]
        ),
        (
            &json!("rejected"),
            &json!("included"),
            &json!(true),
            &json!(2)
        ),
        "{e}"
    );
    assert_eq!(e["expert_conclusions"].as_array().unwrap().len(), 2);
    assert_eq!(e["expert_conclusions"][0]["conclusion"], "exclude");
    let votes = e["member_votes"].as_array().unwrap();
    assert_eq!(votes.len(), 3);
    assert!(votes.contains(&json!({"member_id": r.council[2].0, "vote": "against"})));
    assert_eq!(e["criterion_means"][0]["name"], "Актуальность");
    assert_eq!(entry(&passed)["overturned"], false);
    let html = p
        .http
        .get(p.url(&format!("/api/v1/council-sessions/{sid}/protocol.html")))
        .bearer_auth(&r.operator)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [
        "Протокол № 1",
        "Актуальность",
        "председатель",
        "вопреки заключению экспертизы",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    let (_, b) = get(
        &p,
        Some(&r.operator),
        &format!("/api/v1/programs/{rejected}"),
    )
    .await;
    assert_eq!(status(&b), "recommended");

    // The ministry returns the protocol, with a reason.
    let back = format!("/api/v1/council-sessions/{sid}/return");
    let (s, _) = post(&p, &r.operator, &back, Some(json!({"reason": "Нет"}))).await;
    assert_eq!(s, 403);
    let (s, b) = post(&p, &r.ministry.1, &back, Some(json!({"reason": " "}))).await;
    assert_eq!((s, fields_of(&b)), (422, vec!["reason"]), "{b}");
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &back,
        Some(json!({"reason": "Пересмотреть решение по программе воспитания"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (status(&b), b["return_reason"].as_str()),
        ("open", Some("Пересмотреть решение по программе воспитания"))
    );
    let (_, b) = get(
        &p,
        Some(&r.operator),
        &format!("/api/v1/programs/{rejected}"),
    )
    .await;
    assert_eq!(
        status(&b),
        "expert_rejected",
        "back where the experts left it"
    );
    let (s, _) = post(
        &p,
        &r.ministry.1,
        &format!("/api/v1/council-sessions/{sid}/approve"),
        None,
    )
    .await;
    assert_eq!(s, 409, "a returned protocol is not approved");
    // The council reconsiders: the rejection stands this time.
    vote(&p, m(1), &sid, &rejected, "against").await;
    let (s, protocol) = post(&p, &r.operator, &close, None).await;
    assert_eq!(s, 200, "{protocol}");
    assert_eq!(protocol["number"], "2");
    let e = protocol["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["program_id"] == rejected.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (&e["decision"], &e["overturned"]),
        (&json!("not_included"), &json!(false))
    );

    // The ministry excludes a program the council included, with a reason.
    let exclude = format!("/api/v1/council-sessions/{sid}/exclusions");
    let (s, _) = post(
        &p,
        &r.operator,
        &exclude,
        Some(json!({"program_id": third, "reason": "Нет"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &exclude,
        Some(json!({"program_id": third})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["reason"]), "{b}");
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &exclude,
        Some(json!({"program_id": uuid::Uuid::now_v7().to_string(), "reason": "Нет"})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["program_id"]), "{b}");
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &exclude,
        Some(json!({"program_id": rejected, "reason": "Нет"})),
    )
    .await;
    assert_eq!(s, 409, "not included by the council: {b}");
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &exclude,
        Some(json!({"program_id": third, "reason": "Дублирует региональную программу"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let e = b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["program_id"] == third.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (&e["excluded"], &e["exclusion_reason"]),
        (&json!(true), &json!("Дублирует региональную программу"))
    );
    let (s, _) = post(
        &p,
        &r.ministry.1,
        &exclude,
        Some(json!({"program_id": third, "reason": "Ещё раз"})),
    )
    .await;
    assert_eq!(s, 409);
    let (s, b) = post(
        &p,
        &r.ministry.1,
        &format!("/api/v1/council-sessions/{sid}/approve"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = get(&p, Some(&r.operator), &format!("/api/v1/programs/{third}")).await;
    assert_eq!(status(&b), "excluded");
    let (_, cat) = get(&p, None, &format!("/api/v1/catalog?campaign_id={c}")).await;
    let listed: Vec<&str> = cat["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["program_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [passed.as_str()], "{cat}");

    // The operator lists the campaign's sessions (an outsider does not).
    let sessions = format!("/api/v1/campaigns/{c}/council-sessions");
    let (s, list) = get(&p, Some(&r.operator), &sessions).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["protocol_number"], "2");
    assert_eq!(list["items"][0]["status"], "approved");
    let (_, list) = get(
        &p,
        Some(&r.council[1].1),
        &format!("{sessions}?status=open"),
    )
    .await;
    assert_eq!(list["total"], 0, "{list}");
    let (s, b) = get(&p, Some(&r.operator), &format!("{sessions}?status=done")).await;
    assert_eq!((s, fields_of(&b)), (422, vec!["status"]), "{b}");
    let (s, _) = get(&p, Some(&r.prov[0]), &sessions).await;
    assert!(s == 403 || s == 404, "{s}");
    let other = region(&p, &admin, "RC3", "un_quota", 0, 0).await;
    let (s, _) = get(&p, Some(&other.operator), &sessions).await;
    assert_eq!(s, 404);
    p.stop().await;
}

#[tokio::test]
async fn the_council_and_the_ministry_set_the_years_criteria() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RK3", "un_quota", 1, 1).await;
    let other = region(&p, &admin, "RK4", "un_quota", 0, 1).await;
    let c = campaign(&p, &r, calendar("program_submission")).await;
    let path = format!("/api/v1/campaigns/{c}/criteria");
    let body = json!({
        "criteria": [{"code": "novelty", "name": "Новизна", "max_score": 5}],
        "pass_threshold_percent": 70
    });
    let put = |token: String| {
        let p = &p;
        let path = path.clone();
        let body = body.clone();
        async move { call(p, Method::PUT, &path, Some(&token), Some(body)).await }
    };
    // Approved annually by the expert council (seeds/002, 2.1).
    let (s, b) = put(r.council[0].1.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["criteria"][0]["name"], "Новизна");
    assert_eq!(b["pass_threshold_percent"], 70.0);
    assert_eq!(
        b["experts"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "the council does not see the expert pool: {b}"
    );
    let (s, b) = put(r.ministry.1.clone()).await;
    assert_eq!(s, 200, "{b}");
    for token in [
        r.operator.clone(),
        r.experts[0].1.clone(),
        r.prov[0].clone(),
        other.council[0].1.clone(),
    ] {
        let (s, b) = put(token).await;
        assert_eq!(s, 403, "{b}");
    }
    // Still a 422 naming the field for the council.
    let (s, b) = call(
        &p,
        Method::PUT,
        &path,
        Some(&r.council[0].1),
        Some(json!({"criteria": [], "pass_threshold_percent": 70})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["criteria"]), "{b}");
    p.stop().await;
}

#[tokio::test]
async fn operators_lists_expert_declines_and_the_technical_review_history() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RL4", "un_quota", 4, 1).await;
    let c = campaign(&p, &r, calendar("program_submission")).await;

    // A returned program keeps its remarks; it comes back only changed.
    let a1 = draft(
        &p,
        &r,
        &c,
        0,
        program("Функциональная грамотность", "Предметные"),
    )
    .await;
    let submit = format!("/api/v1/programs/{a1}/submit");
    let decide = format!("/api/v1/programs/{a1}/technical-review");
    let (s, _) = post(&p, &r.prov[0], &submit, None).await;
    assert_eq!(s, 200);
    let (s, b) = post(
        &p,
        &r.operator,
        &decide,
        Some(json!({"decision": "return", "remarks": "Нет списка литературы"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(&p, &r.prov[0], &submit, None).await;
    assert_eq!(s, 409, "an unchanged resubmission: {b}");
    let mut fixed = program("Функциональная грамотность", "Предметные");
    fixed["annotation"] = json!("Программа со списком литературы");
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{a1}"),
        Some(&r.prov[0]),
        Some(fixed.clone()),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(&p, &r.prov[0], &submit, None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["remarks"], "Нет списка литературы", "not erased: {b}");
    let (s, _) = post(
        &p,
        &r.operator,
        &decide,
        Some(json!({"decision": "return", "remarks": "Нет оценочных материалов"})),
    )
    .await;
    assert_eq!(s, 200);
    fixed["modules"][0]["assessment_form"] = json!("контрольная работа");
    let (s, _) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{a1}"),
        Some(&r.prov[0]),
        Some(fixed),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = post(&p, &r.prov[0], &submit, None).await;
    assert_eq!(s, 200);
    let (s, _) = post(
        &p,
        &r.operator,
        &decide,
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, 200);
    let history = format!("/api/v1/programs/{a1}/technical-reviews");
    let (s, h) = get(&p, Some(&r.prov[0]), &history).await;
    assert_eq!(s, 200, "{h}");
    let steps: Vec<(&str, &str)> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap(),
                i["remarks"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("submitted", ""),
            ("returned", "Нет списка литературы"),
            ("submitted", ""),
            ("returned", "Нет оценочных материалов"),
            ("submitted", ""),
            ("accepted", ""),
        ]
    );
    let (s, _) = get(&p, Some(&r.prov[1]), &history).await;
    assert_eq!(s, 404, "another provider's program");

    let a2 = accepted(&p, &r, &c, 0, program("Наставничество", "Предметные")).await;
    let b1 = accepted(&p, &r, &c, 1, program("Цифровая школа", "Цифровизация")).await;
    move_to(&p, &r, &c, calendar("expert_review").1).await;
    let assignments = assign(&p, &r, &c).await;
    assert_eq!(assignments.len(), 6);

    // The operator's list: progress, and who has not reviewed yet.
    let list = format!("/api/v1/campaigns/{c}/expert-assignments");
    let (s, l) = get(&p, Some(&r.operator), &list).await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(
        (&l["total"], &l["pending"], &l["submitted"]),
        (&json!(6), &json!(6), &json!(0))
    );
    assert!(l["items"][0]["program_title"].is_string(), "{l}");
    let on_a1 = experts_on(&assignments, &a1);
    let (s, b) = post(
        &p,
        token(&r.experts, &on_a1[0]),
        &format!("/api/v1/programs/{a1}/reviews"),
        Some(json!({
            "scores": [{"criterion": "relevance", "score": 8}, {"criterion": "content", "score": 8}],
            "conclusion": "include"
        })),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (_, l) = get(
        &p,
        Some(&r.operator),
        &format!("{list}?program_id={a1}&state=assigned"),
    )
    .await;
    assert_eq!(l["total"], 1, "{l}");
    assert_eq!(l["items"][0]["expert_id"], on_a1[1].as_str());
    assert_eq!((&l["pending"], &l["submitted"]), (&json!(5), &json!(1)));
    let (_, l) = get(&p, Some(&r.operator), &format!("{list}?limit=2&offset=2")).await;
    assert_eq!(
        (l["total"].as_i64(), l["items"].as_array().map(Vec::len)),
        (Some(6), Some(2))
    );
    let (s, b) = get(&p, Some(&r.operator), &format!("{list}?state=late")).await;
    assert_eq!((s, fields_of(&b)), (422, vec!["state"]), "{b}");
    let (s, _) = get(&p, Some(&r.experts[0].1), &list).await;
    assert_eq!(s, 403);
    let other = region(&p, &admin, "RL5", "un_quota", 0, 0).await;
    let (s, _) = get(&p, Some(&other.operator), &list).await;
    assert_eq!(s, 404);

    // An expert declines, with a reason; one who reviewed cannot.
    let decline = |program: &str| format!("/api/v1/programs/{program}/expert-declines");
    let (s, b) = post(
        &p,
        token(&r.experts, &on_a1[1]),
        &decline(&a1),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["reason"]), "{b}");
    let (s, b) = post(
        &p,
        token(&r.experts, &on_a1[1]),
        &decline(&a1),
        Some(json!({"reason": "В отпуске до декабря"})),
    )
    .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("declined")), "{b}");
    let (s, _) = post(
        &p,
        token(&r.experts, &on_a1[0]),
        &decline(&a1),
        Some(json!({"reason": "Передумал"})),
    )
    .await;
    assert_eq!(s, 409, "the review is in");
    let (s, _) = get(
        &p,
        Some(token(&r.experts, &on_a1[1])),
        &format!("/api/v1/programs/{a1}"),
    )
    .await;
    assert_eq!(s, 404, "no longer theirs");
    // Another declares a conflict of interest with provider B.
    let on_b1 = experts_on(&assignments, &b1);
    let (s, b) = post(
        &p,
        token(&r.experts, &on_b1[0]),
        &decline(&b1),
        Some(json!({"reason": "Работаю в этом университете", "conflict_of_interest": true})),
    )
    .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (200, Some("conflict_of_interest")),
        "{b}"
    );
    let (_, l) = get(&p, Some(&r.operator), &format!("{list}?state=declined")).await;
    assert_eq!(l["total"], 1);
    assert_eq!(l["items"][0]["reason"], "В отпуске до декабря");
    assert_eq!((&l["pending"], &l["declined"]), (&json!(3), &json!(2)));

    // Assigning again fills the gaps with someone else.
    let again = assign(&p, &r, &c).await;
    let now_a1 = experts_on(&again, &a1);
    assert_eq!(now_a1.len(), 2, "{again:?}");
    assert!(now_a1.contains(&on_a1[0]) && !now_a1.contains(&on_a1[1]));
    let assigned_b1: Vec<&Value> = again
        .iter()
        .filter(|a| a["program_id"] == b1.as_str() && a["state"] == "assigned")
        .collect();
    assert_eq!(assigned_b1.len(), 2);
    assert!(
        assigned_b1
            .iter()
            .all(|a| a["expert_id"] != on_b1[0].as_str())
    );
    assert_eq!(experts_on(&again, &a2).len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn voucher_regions_take_block_programs_and_the_catalog_shows_and_filters_them() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RV5", "voucher_hours", 2, 1).await;
    let c = campaign(&p, &r, calendar("program_submission")).await;
    // 72 hours are two blocks, not one program.
    let mut long = program("Длинная", "Предметные");
    long["hours"] = json!(72);
    long["modules"][1]["hours"] = json!(56);
    let (s, b) = until_known(
        &p,
        Method::POST,
        "/api/v1/programs",
        &r.prov[0],
        json!({"campaign_id": c, "provider_id": r.providers[0], "fields": long}),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["fields.hours"]), "{b}");
    assert!(b["errors"][0]["message"].as_str().unwrap().contains("36"));
    let block = draft(&p, &r, &c, 0, program("Математика: ОГЭ", "Предметные")).await;
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{block}"),
        Some(&r.prov[0]),
        Some(long),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["hours"]), "{b}");
    let mut internship = program("Стажировка в школе-лидере", "Стажировки");
    internship["kind"] = json!("internship");
    internship["hours"] = json!(54);
    internship["modules"][1]["hours"] = json!(38);
    internship["internship_site"] = json!("МБОУ «Лицей № 1», Самара");
    internship["target_subjects"] = json!(["Физика"]);
    internship["competences"] = json!(["ПК-7 Проектная деятельность"]);
    internship["cost_per_learner"] = json!(8100.0);
    internship["max_group_size"] = json!(12);
    let (s, _) = post(
        &p,
        &r.prov[0],
        &format!("/api/v1/programs/{block}/submit"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = post(
        &p,
        &r.operator,
        &format!("/api/v1/programs/{block}/technical-review"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, 200);
    let site = accepted(&p, &r, &c, 1, internship).await;
    into_registry(&p, &r, &c, &[&block, &site]).await;

    let catalog = |query: &str| {
        let p = &p;
        let path = format!("/api/v1/catalog?campaign_id={c}{query}");
        async move { get(p, None, &path).await }
    };
    let (s, cat) = catalog("").await;
    assert_eq!((s, cat["total"].as_i64()), (200, Some(2)), "{cat}");
    let e = cat["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["program_id"] == site.as_str())
        .unwrap()
        .clone();
    assert_eq!(e["target_subjects"], json!(["Физика"]));
    assert_eq!(e["competences"], json!(["ПК-7 Проектная деятельность"]));
    assert_eq!(e["internship_site"], "МБОУ «Лицей № 1», Самара");
    assert_eq!(e["cost_per_learner"], 8100.0);
    assert_eq!(e["max_group_size"], 12);
    assert_eq!(e["modules"].as_array().unwrap().len(), 2);
    assert_eq!(e["modules"][1]["hours"], 38);
    assert_eq!(e["provider_name"], "Университет");
    // By subject (any case) and by competence.
    let (_, cat) =
        catalog("&subject=%D0%BC%D0%B0%D1%82%D0%B5%D0%BC%D0%B0%D1%82%D0%B8%D0%BA%D0%B0").await;
    assert_eq!(cat["total"], 1, "{cat}");
    assert_eq!(cat["items"][0]["program_id"], block.as_str());
    let (_, cat) = catalog(
        "&competence=%D0%9F%D0%9A-7%20%D0%9F%D1%80%D0%BE%D0%B5%D0%BA%D1%82%D0%BD%D0%B0%D1%8F%20%D0%B4%D0%B5%D1%8F%D1%82%D0%B5%D0%BB%D1%8C%D0%BD%D0%BE%D1%81%D1%82%D1%8C",
    )
    .await;
    assert_eq!(cat["total"], 1, "{cat}");
    assert_eq!(cat["items"][0]["program_id"], site.as_str());
    let (_, cat) = catalog("&subject=%D0%A5%D0%B8%D0%BC%D0%B8%D1%8F").await;
    assert_eq!(cat["total"], 0, "{cat}");
    let (_, cat) = catalog("&limit=1&offset=5").await;
    assert_eq!(
        (cat["total"].as_i64(), cat["items"].as_array().map(Vec::len)),
        (Some(2), Some(0))
    );
    p.stop().await;
}

#[tokio::test]
async fn deletions_group_cancellations_and_the_calendar_audit() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let r = region(&p, &admin, "RD6", "un_quota", 2, 1).await;

    // A calendar changed before anything started is not audited.
    use chrono::Datelike;
    let t = chrono_today() + chrono::Duration::days(2);
    let future = |shift: i64| -> Vec<Value> {
        let d = |n: i64| (t + chrono::Duration::days(n + shift)).to_string();
        [
            "needs_survey",
            "program_submission",
            "expert_review",
            "schedule",
            "applications",
            "post_course",
        ]
        .iter()
        .enumerate()
        .map(|(i, ph)| json!({"phase": ph, "starts_on": d(3 * i as i64), "ends_on": d(3 * i as i64 + 1)}))
        .collect()
    };
    let q = region(&p, &admin, "RD7", "un_quota", 0, 0).await;
    let (s, fresh) = until_known(
        &p,
        Method::POST,
        "/api/v1/campaigns",
        &q.ministry.1,
        json!({"region_id": q.id, "year": t.year(), "title": "Будущая", "phases": future(0)}),
    )
    .await;
    assert_eq!(s, 201, "{fresh}");
    let fresh = fresh["id"].as_str().unwrap().to_owned();
    move_to(&p, &q, &fresh, future(1)).await;
    let (s, changes) = get(
        &p,
        Some(&q.operator),
        &format!("/api/v1/campaigns/{fresh}/calendar-changes"),
    )
    .await;
    assert_eq!(s, 200, "{changes}");
    assert_eq!(changes["items"].as_array().unwrap().len(), 0, "{changes}");

    let c = campaign(&p, &r, calendar("program_submission")).await;
    // Drafts are deleted by their provider; submitted programs are kept.
    let gone = draft(&p, &r, &c, 0, program("Черновик", "Предметные")).await;
    let path = format!("/api/v1/programs/{gone}");
    let (s, _) = call(&p, Method::DELETE, &path, Some(&r.prov[1]), None).await;
    assert_eq!(s, 404, "another provider's draft");
    let (s, b) = call(&p, Method::DELETE, &path, Some(&r.prov[0]), None).await;
    assert_eq!(s, 204, "{b}");
    let (s, _) = get(&p, Some(&r.prov[0]), &path).await;
    assert_eq!(s, 404);
    let a1 = accepted(
        &p,
        &r,
        &c,
        0,
        program("Функциональная грамотность", "Предметные"),
    )
    .await;
    let (s, b) = call(
        &p,
        Method::DELETE,
        &format!("/api/v1/programs/{a1}"),
        Some(&r.prov[0]),
        None,
    )
    .await;
    assert_eq!(
        (s, b["current_status"].as_str()),
        (409, Some("in_review")),
        "{b}"
    );

    // A calendar change once a phase has started: who, when, what.
    into_registry(&p, &r, &c, &[&a1]).await;
    let audit = format!("/api/v1/campaigns/{c}/calendar-changes");
    let (s, changes) = get(&p, Some(&r.ministry.1), &audit).await;
    assert_eq!(s, 200, "{changes}");
    let items = changes["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{changes}");
    assert_eq!(items[0]["changed_by"], r.ministry.0.as_str());
    assert!(items[0]["changed_at"].is_string());
    let moved: Vec<&str> = items[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["phase"].as_str().unwrap())
        .collect();
    assert_eq!(moved.len(), 5, "{changes}");
    assert!(moved.contains(&"program_submission"));
    assert!(
        items[0]["started_phases"]
            .as_array()
            .unwrap()
            .contains(&json!("program_submission"))
    );
    let (s, _) = get(&p, Some(&r.prov[0]), &audit).await;
    assert!(s == 403 || s == 404, "{s}");
    // The registry is out: program submission does not reopen.
    let (s, b) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{c}"),
        Some(&r.ministry.1),
        Some(json!({"phases": calendar("program_submission").1})),
    )
    .await;
    assert_eq!(
        (s, b["phase"].as_str()),
        (409, Some("program_submission")),
        "{b}"
    );

    // Groups: an unpublished one is deleted; a published one is cancelled
    // with a reason and the operator's approval.
    move_to(&p, &r, &c, calendar("schedule").1).await;
    let groups = format!("/api/v1/programs/{a1}/groups");
    let mut ids = Vec::new();
    for _ in 0..4 {
        let (s, g) = post(&p, &r.prov[0], &groups, Some(group(&day(8), &day(12)))).await;
        assert_eq!(s, 201, "{g}");
        ids.push(g["id"].as_str().unwrap().to_owned());
    }
    let (s, _) = call(
        &p,
        Method::DELETE,
        &format!("/api/v1/groups/{}", ids[0]),
        Some(&r.prov[0]),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (_, list) = get(&p, Some(&r.prov[0]), &groups).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (s, b) = post(
        &p,
        &r.operator,
        &format!("/api/v1/campaigns/{c}/schedule/approve"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let g = |i: usize, what: &str| format!("/api/v1/groups/{}{what}", ids[i]);
    let (s, b) = call(&p, Method::DELETE, &g(1, ""), Some(&r.prov[0]), None).await;
    assert_eq!(
        (s, b["current_status"].as_str()),
        (409, Some("published")),
        "{b}"
    );
    let (s, b) = post(&p, &r.prov[0], &g(1, "/cancel"), None).await;
    assert_eq!((s, fields_of(&b)), (422, vec!["reason"]), "{b}");
    let (s, b) = post(
        &p,
        &r.prov[0],
        &g(1, "/cancel"),
        Some(json!({"reason": "Нет преподавателя"})),
    )
    .await;
    assert_eq!(
        (
            s,
            status(&b),
            b["cancellation"].as_str(),
            b["cancel_reason"].as_str()
        ),
        (
            200,
            "published",
            Some("requested"),
            Some("Нет преподавателя")
        ),
        "{b}"
    );
    let (s, _) = post(
        &p,
        &r.prov[0],
        &g(1, "/cancel"),
        Some(json!({"reason": "Ещё раз"})),
    )
    .await;
    assert_eq!(s, 409, "already waiting");
    let (s, _) = post(&p, &r.prov[0], &g(1, "/cancellation/approve"), None).await;
    assert_eq!(s, 403, "the provider does not approve its own cancellation");
    let (s, b) = post(
        &p,
        &r.operator,
        &g(1, "/cancellation/reject"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, fields_of(&b)), (422, vec!["note"]), "{b}");
    let (s, b) = post(
        &p,
        &r.operator,
        &g(1, "/cancellation/reject"),
        Some(json!({"note": "Замените преподавателя"})),
    )
    .await;
    assert_eq!(
        (s, status(&b), b["cancellation"].as_str()),
        (200, "published", Some("rejected")),
        "{b}"
    );
    let (s, _) = post(
        &p,
        &r.prov[0],
        &g(1, "/cancel"),
        Some(json!({"reason": "Замены нет"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = post(&p, &r.operator, &g(1, "/cancellation/approve"), None).await;
    assert_eq!((s, status(&b)), (200, "cancelled"), "{b}");
    assert_eq!(
        count_service_events(&p, "registry", "group_cancelled", 1).await,
        1
    );
    let (s, _) = post(&p, &r.operator, &g(1, "/cancellation/approve"), None).await;
    assert_eq!(s, 409);
    // The operator's own cancellation is approved as made, reason and all.
    let (s, b) = post(&p, &r.operator, &g(2, "/cancel"), Some(json!({}))).await;
    assert_eq!((s, fields_of(&b)), (422, vec!["reason"]), "{b}");
    let (s, b) = post(
        &p,
        &r.operator,
        &g(2, "/cancel"),
        Some(json!({"reason": "Помещение закрыто"})),
    )
    .await;
    assert_eq!((s, status(&b)), (200, "cancelled"), "{b}");
    assert_eq!(
        count_service_events(&p, "registry", "group_cancelled", 2).await,
        2
    );
    // The catalog shows the one group left running.
    let (_, cat) = get(&p, None, &format!("/api/v1/catalog?campaign_id={c}")).await;
    let running = cat["items"][0]["groups"].as_array().unwrap();
    assert_eq!(running.len(), 1, "{cat}");
    assert_eq!(running[0]["id"], ids[3].as_str());
    p.stop().await;
}
