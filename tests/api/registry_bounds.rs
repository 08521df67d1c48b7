//! Every input of the registry has bounds, enforced by the service: a
//! value outside them is a 422 naming the field (never a 500, a NaN in a
//! reply or a silently ignored filter), and a caller who may not act at
//! all hears 403 before any 422.

use super::fixtures::{calendar, chrono_today, day, program, status, until_known, user};
use super::*;

/// The fields a problem body names, in order.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A 422 naming exactly `expected`.
#[track_caller]
fn assert_invalid(s: u16, body: &Value, expected: &[&str]) {
    // A reply may echo a 600 KB field: show only its beginning.
    let shown: String = body.to_string().chars().take(2000).collect();
    assert_eq!(s, 422, "{shown}");
    assert_eq!(fields(body), expected, "{shown}");
}

/// A region with two providers, its ministry, operator and the first
/// provider's admin.
struct Region {
    admin: String,
    region: String,
    providers: Vec<String>,
    ministry: String,
    operator: String,
    provider_admin: String,
    municipality: String,
}

async fn region(p: &Platform, code: &str) -> Region {
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(p, &admin, code).await;
    let mut providers = Vec::new();
    for (i, name) in ["ИРО", "Университет"].iter().enumerate() {
        let inn = pd_domain::Inn::from_body(165_800_000 + i as u32).unwrap();
        let (s, pr) = call(
            p,
            Method::POST,
            "/api/v1/providers",
            Some(&admin),
            Some(json!({"region_id": w.region, "name": name, "inn": inn.as_str(), "licence_number": "Л035-01"})),
        )
        .await;
        assert_eq!(s, 201, "{pr}");
        providers.push(pr["id"].as_str().unwrap().to_owned());
    }
    let (_, ministry) = user(p, &admin, "ministry", "ministry", &w.region).await;
    let (_, operator) = user(p, &admin, "operator", "regional_operator", &w.region).await;
    let (_, provider_admin) = user(p, &admin, "provider", "provider_admin", &providers[0]).await;
    Region {
        admin,
        region: w.region,
        providers,
        ministry,
        operator,
        provider_admin,
        municipality: w.municipalities[0].clone(),
    }
}

/// A campaign of the region with `open` the phase open today.
async fn campaign(p: &Platform, r: &Region, open: &str) -> (i32, String) {
    let (year, phases) = calendar(open);
    let (s, c) = until_known(
        p,
        Method::POST,
        "/api/v1/campaigns",
        &r.ministry,
        json!({"region_id": r.region, "year": year, "title": "Кампания", "phases": phases}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    (year, c["id"].as_str().unwrap().to_owned())
}

async fn move_to(p: &Platform, r: &Region, campaign: &str, open: &str) {
    let (_, phases) = calendar(open);
    let (s, c) = call(
        p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&r.ministry),
        Some(json!({"phases": phases})),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["current_phase"], open);
}

#[tokio::test]
async fn program_fields_are_bounded_and_named_as_the_body_has_them() {
    let p = Platform::start().await.unwrap();
    let r = region(&p, "B1").await;
    let (_, campaign) = campaign(&p, &r, "program_submission").await;
    let post = |fields: Value| {
        let p = &p;
        let body =
            json!({"campaign_id": campaign, "provider_id": r.providers[0], "fields": fields});
        let token = r.provider_admin.clone();
        async move { until_known(p, Method::POST, "/api/v1/programs", &token, body).await }
    };

    // A 600 KB annotation.
    let mut f = program("Программа", "Направление");
    f["annotation"] = json!("a".repeat(600_000));
    let (s, b) = post(f.clone()).await;
    assert_invalid(s, &b, &["fields.annotation"]);
    // Another provider's admin sending the same is refused before anything is checked.
    let (_, other) = user(&p, &r.admin, "other", "provider_admin", &r.providers[1]).await;
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/programs",
        Some(&other),
        Some(json!({"campaign_id": campaign, "provider_id": r.providers[0], "fields": f})),
    )
    .await;
    assert_eq!(s, 403, "{b}");

    // Every text field.
    let mut f = program(&"т".repeat(501), &"н".repeat(501));
    f["topic"] = json!("т".repeat(501));
    f["modules"][0]["name"] = json!("м".repeat(301));
    f["modules"][1]["assessment_form"] = json!("ф".repeat(301));
    f["target_positions"] = json!(vec!["учитель"; 101]);
    f["target_subjects"] = json!(["Математика", "п".repeat(301)]);
    f["competences"] = json!(["к".repeat(301)]);
    let (s, b) = post(f).await;
    assert_invalid(
        s,
        &b,
        &[
            "fields.title",
            "fields.direction",
            "fields.topic",
            "fields.modules[0].name",
            "fields.modules[1].assessment_form",
            "fields.target_positions",
            "fields.target_subjects[1]",
            "fields.competences[0]",
        ],
    );
    let mut f = program("Стажировка", "Направление");
    f["kind"] = json!("internship");
    f["hours"] = json!(54);
    f["modules"][1]["hours"] = json!(38);
    f["internship_site"] = json!("с".repeat(501));
    let (s, b) = post(f).await;
    assert_invalid(s, &b, &["fields.internship_site"]);

    // Numbers: hours, module hours, group size, cost.
    let mut f = program("Программа", "Направление");
    f["hours"] = json!(2_147_483_647);
    f["modules"] = json!([{"name": "Всё", "hours": 2_147_483_647, "assessment_form": "тест"}]);
    f["max_group_size"] = json!(100_000);
    f["cost_per_learner"] = json!(1e308);
    let (s, b) = post(f).await;
    assert_invalid(
        s,
        &b,
        &[
            "fields.hours",
            "fields.modules[0].hours",
            "fields.max_group_size",
            "fields.cost_per_learner",
        ],
    );
    let mut f = program("Программа", "Направление");
    f["cost_per_learner"] = json!(-1.0);
    let (s, b) = post(f).await;
    assert_invalid(s, &b, &["fields.cost_per_learner"]);

    // Modules: at most a hundred; a cumulative program needs two.
    let mut f = program("Программа", "Направление");
    f["hours"] = json!(101);
    f["modules"] = json!(vec![
        json!({"name": "М", "hours": 1, "assessment_form": "тест"});
        101
    ]);
    let (s, b) = post(f).await;
    assert_invalid(s, &b, &["fields.modules"]);
    let mut f = program("Накопительная", "Направление");
    f["kind"] = json!("cumulative");
    f["modules"] = json!([{"name": "Единственный", "hours": 36, "assessment_form": "тест"}]);
    let (s, b) = post(f).await;
    assert_invalid(s, &b, &["fields.modules"]);

    // At the limits, everything is accepted.
    let mut f = program(&"т".repeat(500), "Направление");
    f["annotation"] = json!("а".repeat(10_000));
    f["max_group_size"] = json!(500);
    f["cost_per_learner"] = json!(10_000_000.0);
    let (s, created) = post(f).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // PUT sends the fields themselves: its errors are not nested.
    let mut f = program("Программа", "Направление");
    f["hours"] = json!(2_147_483_647);
    f["annotation"] = json!("a".repeat(10_001));
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{id}"),
        Some(&r.provider_admin),
        Some(f),
    )
    .await;
    assert_invalid(s, &b, &["annotation", "hours"]);

    // The technical review's remarks are bounded too.
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{id}/submit"),
        Some(&r.provider_admin),
        None,
    )
    .await;
    assert_eq!((s, status(&b)), (200, "submitted"), "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{id}/technical-review"),
        Some(&r.operator),
        Some(json!({"decision": "return", "remarks": "з".repeat(10_001)})),
    )
    .await;
    assert_invalid(s, &b, &["remarks"]);

    // Unknown values of enumerated filters are refused, not ignored.
    let (s, b) = call(
        &p,
        Method::GET,
        "/api/v1/programs?status=bogus",
        Some(&r.operator),
        None,
    )
    .await;
    assert_invalid(s, &b, &["status"]);
    let (s, b) = call(
        &p,
        Method::GET,
        "/api/v1/programs?status=submitted",
        Some(&r.operator),
        None,
    )
    .await;
    assert_eq!((s, b["total"].as_i64()), (200, Some(1)), "{b}");
    let (s, b) = call(&p, Method::GET, "/api/v1/catalog?form=evening", None, None).await;
    assert_invalid(s, &b, &["form"]);
    let (s, b) = call(&p, Method::GET, "/api/v1/catalog?kind=any", None, None).await;
    assert_invalid(s, &b, &["kind"]);
    p.stop().await;
}

#[tokio::test]
async fn campaigns_criteria_experts_and_council_are_bounded() {
    let p = Platform::start().await.unwrap();
    let r = region(&p, "B2").await;

    // The campaign: title, year, and each phase date named by its own field.
    let (year, mut phases) = calendar("expert_review");
    let (s, b) = until_known(
        &p,
        Method::POST,
        "/api/v1/campaigns",
        &r.ministry,
        json!({"region_id": r.region, "year": 1999, "title": "к".repeat(501), "phases": phases}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(fields(&b)[..2], ["year", "title"], "{b}");
    phases[0]["ends_on"] = json!(format!("{year}-02-30"));
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/campaigns",
        Some(&r.ministry),
        Some(json!({"region_id": r.region, "year": year, "title": "Кампания", "phases": phases})),
    )
    .await;
    assert_invalid(s, &b, &["phases[0].ends_on"]);
    let (_, campaign) = campaign(&p, &r, "expert_review").await;
    let path = format!("/api/v1/campaigns/{campaign}");
    let (s, b) = call(
        &p,
        Method::PATCH,
        &path,
        Some(&r.ministry),
        Some(json!({"title": "к".repeat(501)})),
    )
    .await;
    assert_invalid(s, &b, &["title"]);

    // Criteria.
    let criteria = |criteria: Value, threshold: f64| {
        let p = &p;
        let path = format!("{path}/criteria");
        let token = r.ministry.clone();
        async move {
            call(
                p,
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"criteria": criteria, "pass_threshold_percent": threshold})),
            )
            .await
        }
    };
    // A ~3,000-character code used to break the database's index (a 500).
    let (s, b) = criteria(
        json!([{"code": "c".repeat(3000), "name": "Актуальность", "max_score": 10}]),
        60.0,
    )
    .await;
    assert_invalid(s, &b, &["criteria[0].code"]);
    // A weight of 1e308 and a maximum of 2^31-1 used to make scores NaN.
    let (s, b) = criteria(
        json!([
            {"code": "a", "name": "н".repeat(301), "max_score": 2_147_483_647, "weight": 1e308},
            {"code": "b", "name": "Б", "max_score": 10, "weight": -1, "min_score": 11}
        ]),
        100.5,
    )
    .await;
    assert_invalid(
        s,
        &b,
        &[
            "criteria[0].name",
            "criteria[0].max_score",
            "criteria[0].weight",
            "criteria[1].min_score",
            "criteria[1].weight",
            "pass_threshold_percent",
        ],
    );
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"code": format!("c{i}"), "name": "К", "max_score": 10}))
        .collect();
    let (s, b) = criteria(json!(many), 60.0).await;
    assert_invalid(s, &b, &["criteria"]);
    // Who may not set criteria hears 403 whatever they send.
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("{path}/criteria"),
        Some(&r.provider_admin),
        Some(json!({"criteria": [{"code": "c".repeat(3000)}], "pass_threshold_percent": 500})),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = criteria(
        json!([{"code": "c".repeat(64), "name": "К", "max_score": 100, "weight": 100, "min_score": 100}]),
        100.0,
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // The expert pool: an affiliation only to a provider the registry knows.
    // The expert is created before the council member (ids are ordered by time).
    let (expert, _) = user(&p, &r.admin, "expert", "expert", &r.region).await;
    let (member, _) = user(&p, &r.admin, "member", "council_member", &r.region).await;
    let experts = format!("{path}/experts");
    let (s, b) = until_known(
        &p,
        Method::POST,
        &experts,
        &r.operator,
        json!({"user_id": expert, "affiliated_provider_ids": [r.providers[0]]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let unknown = uuid::Uuid::now_v7().to_string();
    let (s, b) = call(
        &p,
        Method::POST,
        &experts,
        Some(&r.operator),
        Some(json!({"user_id": expert, "affiliated_provider_ids": [r.providers[0], unknown]})),
    )
    .await;
    assert_invalid(s, &b, &["affiliated_provider_ids[1]"]);
    let (s, b) = call(
        &p,
        Method::POST,
        &experts,
        Some(&r.provider_admin),
        Some(json!({"user_id": "not-an-id", "affiliated_provider_ids": ["nor-this"]})),
    )
    .await;
    assert_eq!(s, 403, "{b}");

    // The council: the bad second member is named as the second.
    let sessions = format!("{path}/council-sessions");
    let today = chrono_today().to_string();
    // Once the registry knows the member, only the empty agenda is left.
    let (s, b) = until_known(
        &p,
        Method::POST,
        &sessions,
        &r.operator,
        json!({"held_on": today, "member_ids": [member]}),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &sessions,
        Some(&r.operator),
        Some(json!({"held_on": today, "member_ids": [member, expert]})),
    )
    .await;
    assert_invalid(s, &b, &["member_ids[1]"]);
    let crowd: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let (s, b) = call(
        &p,
        Method::POST,
        &sessions,
        Some(&r.operator),
        Some(json!({"held_on": today, "member_ids": crowd})),
    )
    .await;
    assert_invalid(s, &b, &["member_ids"]);
    let (s, b) = call(
        &p,
        Method::POST,
        &sessions,
        Some(&r.provider_admin),
        Some(json!({"held_on": "someday", "member_ids": ["x"]})),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    // Experts: a provider may not assign them, whatever it sends.
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("{path}/expert-assignments"),
        Some(&r.provider_admin),
        Some(json!({"per_program": 1})),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("{path}/expert-assignments"),
        Some(&r.operator),
        Some(json!({"per_program": 1_000_000})),
    )
    .await;
    assert_invalid(s, &b, &["per_program"]);
    p.stop().await;
}

/// Criteria at their largest weight and score: every score and mean in a
/// reply is a number, a unanimously included program passes, and the
/// remaining inputs (comments, groups) are bounded on the way.
#[tokio::test]
async fn scores_stay_numbers_and_groups_are_bounded() {
    let p = Platform::start().await.unwrap();
    let r = region(&p, "B3").await;
    let (_, campaign) = campaign(&p, &r, "program_submission").await;
    let path = format!("/api/v1/campaigns/{campaign}");
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("{path}/criteria"),
        Some(&r.ministry),
        Some(json!({
            "criteria": [
                {"code": "relevance", "name": "Актуальность", "max_score": 100, "weight": 100},
                {"code": "content", "name": "Содержание", "max_score": 100, "weight": 100}
            ],
            "pass_threshold_percent": 100
        })),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mut experts = Vec::new();
    for login in ["expert1", "expert2"] {
        let (id, token) = user(&p, &r.admin, login, "expert", &r.region).await;
        let (s, b) = until_known(
            &p,
            Method::POST,
            &format!("{path}/experts"),
            &r.operator,
            json!({"user_id": id, "affiliated_provider_ids": []}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        experts.push((id, token));
    }
    let (member, member_token) = user(&p, &r.admin, "member", "council_member", &r.region).await;
    let (s, b) = until_known(&p, Method::POST, "/api/v1/programs", &r.provider_admin, json!({"campaign_id": campaign, "provider_id": r.providers[0], "fields": program("Программа", "Направление")})).await;
    assert_eq!(s, 201, "{b}");
    let program = b["id"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{program}/submit"),
        Some(&r.provider_admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{program}/technical-review"),
        Some(&r.operator),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!((s, status(&b)), (200, "in_review"), "{b}");

    move_to(&p, &r, &campaign, "expert_review").await;
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("{path}/expert-assignments"),
        Some(&r.operator),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // A provider may not reassign experts, whatever ids it sends.
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{program}/expert-reassignment"),
        Some(&r.provider_admin),
        Some(json!({"from_expert_id": "x", "to_expert_id": "y"})),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let reviews = format!("/api/v1/programs/{program}/reviews");
    let full =
        json!([{"criterion": "relevance", "score": 100}, {"criterion": "content", "score": 100}]);
    let (s, b) = call(
        &p,
        Method::POST,
        &reviews,
        Some(&experts[0].1),
        Some(json!({"scores": full, "conclusion": "include", "comment": "к".repeat(10_001)})),
    )
    .await;
    assert_invalid(s, &b, &["comment"]);
    let (s, b) = call(
        &p,
        Method::POST,
        &reviews,
        Some(&experts[0].1),
        Some(json!({"scores": [{"criterion": "relevance", "score": 101}, {"criterion": "content", "score": 100}], "conclusion": "include"})),
    )
    .await;
    assert_invalid(s, &b, &["scores[relevance]"]);
    for (_, token) in &experts {
        let (s, b) = call(
            &p,
            Method::POST,
            &reviews,
            Some(token),
            Some(json!({"scores": full, "conclusion": "include", "comment": "к".repeat(10_000)})),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["score_percent"].as_f64(), Some(100.0), "{b}");
    }
    let (s, b) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{program}"),
        Some(&r.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (status(&b), b["mean_score_percent"].as_f64()),
        ("reviewed", Some(100.0)),
        "a unanimously included program passes: {b}"
    );
    let (_, b) = call(&p, Method::GET, &reviews, Some(&r.operator), None).await;
    for review in b["items"].as_array().unwrap() {
        assert!(review["score_percent"].is_number(), "{review}");
    }

    // The council includes it; the protocol's numbers are numbers.
    let (s, session) = until_known(
        &p,
        Method::POST,
        &format!("{path}/council-sessions"),
        &r.operator,
        json!({"held_on": chrono_today().to_string(), "member_ids": [member],
               "chair_id": member, "secretary_id": member}),
    )
    .await;
    assert_eq!(s, 201, "{session}");
    let session = session["id"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session}/votes"),
        Some(&member_token),
        Some(json!({"program_id": program, "vote": "for"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, protocol) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session}/close"),
        Some(&r.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{protocol}");
    let entry = &protocol["entries"][0];
    assert_eq!(entry["mean_score_percent"].as_f64(), Some(100.0), "{entry}");
    assert!(
        entry["criterion_means"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["mean"].as_f64() == Some(100.0)),
        "{entry}"
    );
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session}/approve"),
        Some(&r.ministry),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // Groups: a language from the list, a bounded address.
    move_to(&p, &r, &campaign, "schedule").await;
    let groups = format!("/api/v1/programs/{program}/groups");
    let group = |language: &str, address: String| {
        json!({
            "starts_on": day(8), "ends_on": day(12),
            "online": false, "address": address, "municipality_id": r.municipality,
            "capacity": 20, "min_size": 5, "language": language
        })
    };
    let (s, b) = call(
        &p,
        Method::POST,
        &groups,
        Some(&r.provider_admin),
        Some(group("klingon", "Казань".into())),
    )
    .await;
    assert_invalid(s, &b, &["language"]);
    let (s, b) = call(
        &p,
        Method::POST,
        &groups,
        Some(&r.provider_admin),
        Some(group("tt", "а".repeat(501))),
    )
    .await;
    assert_invalid(s, &b, &["address"]);
    let (s, b) = call(
        &p,
        Method::POST,
        &groups,
        Some(&r.provider_admin),
        Some(group("tt", "Казань, ул. Баумана, 1".into())),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["language"], "tt");
    p.stop().await;
}
