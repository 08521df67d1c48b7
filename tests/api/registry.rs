//! Issue 3: from a campaign to a published registry and schedule, through
//! the gateway, with every forbidden actor and out-of-phase action refused.

use super::walking_skeleton::count_service_events;
use super::*;

/// The six phases with the given one open today. The needs survey sits at
/// the start of a fixed year, so that every calendar of one test run
/// belongs to the same campaign year whatever the date.
pub(crate) fn calendar(open: &str) -> (i32, Vec<Value>) {
    use chrono::Datelike;
    let today = chrono_today();
    let year = (today - chrono::Duration::days(60)).year();
    let order = [
        "needs_survey",
        "program_submission",
        "expert_review",
        "schedule",
        "applications",
        "post_course",
    ];
    let k = order.iter().position(|p| *p == open).unwrap() as i64;
    let mut phases = vec![
        json!({"phase": "needs_survey", "starts_on": format!("{year}-01-01"), "ends_on": format!("{year}-01-02")}),
    ];
    // Phase i (1..=5) covers the days [10*(i-k) - 3, 10*(i-k) + 3] around today.
    for (i, p) in order.iter().enumerate().skip(1) {
        let mid = today + chrono::Duration::days(10 * (i as i64 - k));
        phases.push(json!({
            "phase": p,
            "starts_on": (mid - chrono::Duration::days(3)).to_string(),
            "ends_on": (mid + chrono::Duration::days(3)).to_string(),
        }));
    }
    (year, phases)
}

pub(crate) fn chrono_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The day `n` days from today, as the API writes dates. With the
/// schedule open today ([`calendar`]), groups may run on days 7 to 23.
pub(crate) fn day(n: i64) -> String {
    (chrono_today() + chrono::Duration::days(n)).to_string()
}

pub(crate) fn program(title: &str, direction: &str) -> Value {
    json!({
        "kind": "ordinary",
        "title": title,
        "direction": direction,
        "topic": "Функциональная грамотность",
        "annotation": "Программа повышения квалификации учителей",
        "hours": 36,
        "form": "blended",
        "target_positions": ["учитель"],
        "target_subjects": ["Математика"],
        "modules": [
            {"name": "Теория", "hours": 16, "assessment_form": "тест"},
            {"name": "Практика", "hours": 20, "assessment_form": "проект"}
        ],
        "competences": ["ПК-1"],
        "max_group_size": 25,
        "cost_per_learner": 5400.0
    })
}

/// Retries while the registry has not yet heard of what identity just did.
pub(crate) async fn until_known(
    p: &Platform,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    for _ in 0..100 {
        let (s, b) = call(p, method.clone(), path, Some(token), Some(body.clone())).await;
        let not_yet = s == 422
            && b["detail"]
                .as_str()
                .is_some_and(|d| d.contains("ещё не") || d.contains("нет роли"));
        if !not_yet {
            return (s, b);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: the registry never learnt of identity's change");
}

pub(crate) async fn user(
    p: &Platform,
    admin: &str,
    login: &str,
    role: &str,
    scope: &str,
) -> (String, String) {
    let (s, u) = call(
        p,
        Method::POST,
        "/api/v1/users",
        Some(admin),
        Some(json!({"login": login, "password": "password-12345"})),
    )
    .await;
    assert_eq!(s, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    let (s, u) = call(
        p,
        Method::POST,
        &format!("/api/v1/users/{id}/roles"),
        Some(admin),
        Some(json!({"role": role, "scope_id": scope})),
    )
    .await;
    assert_eq!(s, 200, "{u}");
    (id, p.login(login, "password-12345").await.unwrap())
}

pub(crate) fn status(b: &Value) -> &str {
    b["status"].as_str().unwrap_or("")
}

#[tokio::test]
async fn from_campaign_to_published_registry_and_schedule() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "R3").await;
    let region = w.region.clone();

    // Two providers and everyone who takes part.
    let mut providers = Vec::new();
    for (i, name) in ["ИРО РТ", "КФУ"].iter().enumerate() {
        let inn = pd_domain::Inn::from_body(165_700_000 + i as u32).unwrap();
        let (s, pr) = call(&p, Method::POST, "/api/v1/providers", Some(&admin), Some(json!({"region_id": region, "name": name, "inn": inn.as_str(), "licence_number": "Л035-01"}))).await;
        assert_eq!(s, 201, "{pr}");
        providers.push(pr["id"].as_str().unwrap().to_owned());
    }
    let (_, ministry) = user(&p, &admin, "ministry", "ministry", &region).await;
    let (_, operator) = user(&p, &admin, "operator", "regional_operator", &region).await;
    let (_, prov_a) = user(&p, &admin, "provider.a", "provider_admin", &providers[0]).await;
    let (_, prov_b) = user(&p, &admin, "provider.b", "provider_admin", &providers[1]).await;
    let mut experts = Vec::new();
    for login in ["expert1", "expert2", "expert3"] {
        experts.push(user(&p, &admin, login, "expert", &region).await);
    }
    let mut council = Vec::new();
    for login in ["council1", "council2", "council3"] {
        council.push(user(&p, &admin, login, "council_member", &region).await);
    }
    let (_, edu) = call(&p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": snils(7), "last_name": "Учителева", "first_name": "Анна", "position": "учитель", "organization_id": w.orgs[0]}))).await;
    let (_, educator) = user(
        &p,
        &admin,
        "teacher",
        "educator",
        edu["id"].as_str().unwrap(),
    )
    .await;

    // The campaign, with program submission open today.
    let (year, phases) = calendar("program_submission");
    let (s, c) = until_known(
        &p,
        Method::POST,
        "/api/v1/campaigns",
        &ministry,
        json!({"region_id": region, "year": year, "title": "ПК 2027", "phases": phases}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["current_phase"], "program_submission");
    let campaign = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        count_service_events(&p, "registry", "campaign_calendar_changed", 1).await,
        1
    );
    // Phases out of order are refused, naming the field.
    let mut bad = phases.clone();
    bad.swap(1, 2);
    let (s, body) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&ministry),
        Some(json!({"phases": bad})),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "phases[1].phase");
    // Only the ministry creates and edits campaigns.
    let (s, _) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&operator),
        Some(json!({"title": "X"})),
    )
    .await;
    assert_eq!(s, 403);

    // The year's criteria: the council's or the ministry's, not the operator's.
    let (s, body) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/campaigns/{campaign}/criteria"),
        Some(&ministry),
        Some(json!({
            "criteria": [
                {"code": "relevance", "name": "Актуальность", "max_score": 10, "weight": 2},
                {"code": "content", "name": "Содержание", "max_score": 10, "min_score": 5}
            ],
            "pass_threshold_percent": 60
        })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // Expert 3 is affiliated with provider A.
    for (i, (id, _)) in experts.iter().enumerate() {
        let affiliated: Vec<&str> = if i == 2 {
            vec![providers[0].as_str()]
        } else {
            vec![]
        };
        let (s, body) = until_known(
            &p,
            Method::POST,
            &format!("/api/v1/campaigns/{campaign}/experts"),
            &operator,
            json!({"user_id": id, "affiliated_provider_ids": affiliated}),
        )
        .await;
        assert_eq!(s, 200, "{body}");
    }

    // Out of phase: a council session during submission is a 409 naming the phase.
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/council-sessions"),
        Some(&operator),
        Some(json!({"held_on": "2026-11-30", "member_ids": [council[0].0]})),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["phase"], "expert_review");
    assert!(
        body["phase_starts_on"].is_string() && body["phase_ends_on"].is_string(),
        "{body}"
    );
    assert_eq!(
        body["status"], 409,
        "the problem's own status is never overwritten"
    );

    // Programs. Module hours that do not add up: 422 naming the field.
    let mut broken = program("Неполная", "Предметные компетенции");
    broken["modules"][1]["hours"] = json!(10);
    let (s, body) = until_known(
        &p,
        Method::POST,
        "/api/v1/programs",
        &prov_a,
        json!({"campaign_id": campaign, "provider_id": providers[0], "fields": broken}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    // The body nests the program under `fields`, and so do its errors.
    assert_eq!(body["errors"][0]["field"], "fields.modules");
    // Provider B may not draft for provider A.
    let (s, _) = call(&p, Method::POST, "/api/v1/programs", Some(&prov_b), Some(json!({"campaign_id": campaign, "provider_id": providers[0], "fields": program("X", "Y")}))).await;
    assert_eq!(s, 403);

    let create = |token: String, provider: String, title: &'static str, direction: &'static str| {
        let p = &p;
        let campaign = campaign.clone();
        async move {
            let (s, b) = until_known(p, Method::POST, "/api/v1/programs", &token, json!({"campaign_id": campaign, "provider_id": provider, "fields": program(title, direction)})).await;
            assert_eq!(s, 201, "{b}");
            assert_eq!(b["status"], "draft");
            b["id"].as_str().unwrap().to_owned()
        }
    };
    let a1 = create(
        prov_a.clone(),
        providers[0].clone(),
        "Математическая грамотность",
        "Предметные компетенции",
    )
    .await;
    let a2 = create(
        prov_a.clone(),
        providers[0].clone(),
        "Слабая программа",
        "Воспитание",
    )
    .await;
    let b1 = create(
        prov_b.clone(),
        providers[1].clone(),
        "Цифровая школа",
        "Цифровая трансформация",
    )
    .await;
    let b2 = create(
        prov_b.clone(),
        providers[1].clone(),
        "Отозванная",
        "Цифровая трансформация",
    )
    .await;

    // Provider B cannot see, let alone edit, provider A's program.
    let (s, _) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{a1}"),
        Some(&prov_b),
        Some(program("Чужая", "X")),
    )
    .await;
    assert_eq!(s, 404);

    for (id, token) in [
        (&a1, &prov_a),
        (&a2, &prov_a),
        (&b1, &prov_b),
        (&b2, &prov_b),
    ] {
        let (s, b) = call(
            &p,
            Method::POST,
            &format!("/api/v1/programs/{id}/submit"),
            Some(token),
            None,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["status"], "submitted");
        assert!(
            b["checklist"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["passed"] == true),
            "{b}"
        );
    }
    assert_eq!(
        count_service_events(&p, "registry", "program_submitted", 4).await,
        4
    );
    // Withdrawn before review: a draft again.
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b2}/withdraw"),
        Some(&prov_b),
        None,
    )
    .await;
    assert_eq!((s, status(&b)), (200, "draft"));

    // Technical review: B1 returned with remarks, fixed and resubmitted.
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/technical-review"),
        Some(&prov_b),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/technical-review"),
        Some(&operator),
        Some(json!({"decision": "return"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/technical-review"),
        Some(&operator),
        Some(json!({"decision": "return", "remarks": "Уточните аннотацию"})),
    )
    .await;
    assert_eq!((s, status(&b)), (200, "returned"), "{b}");
    let mut fixed = program("Цифровая школа", "Цифровая трансформация");
    fixed["annotation"] = json!("Уточнённая аннотация программы");
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{b1}"),
        Some(&prov_b),
        Some(fixed),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/submit"),
        Some(&prov_b),
        None,
    )
    .await;
    assert_eq!((s, status(&b)), (200, "submitted"));
    for id in [&a1, &a2, &b1] {
        let (s, b) = call(
            &p,
            Method::POST,
            &format!("/api/v1/programs/{id}/technical-review"),
            Some(&operator),
            Some(json!({"decision": "accept"})),
        )
        .await;
        assert_eq!((s, status(&b)), (200, "in_review"), "{b}");
    }

    // Expert review opens; submission has closed.
    let (_, phases) = calendar("expert_review");
    let (s, c) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&ministry),
        Some(json!({"phases": phases})),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["current_phase"], "expert_review");
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b2}/submit"),
        Some(&prov_b),
        None,
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["phase"], "program_submission");

    let (s, a) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/expert-assignments"),
        Some(&operator),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    // Reassignment: never to an affiliated expert; otherwise the operator's call.
    let on = |a: &Value, program: &str| -> Vec<String> {
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["program_id"] == program)
            .map(|x| x["expert_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let a1_experts = on(&a, &a1);
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/expert-reassignment"),
        Some(&operator),
        Some(json!({"from_expert_id": a1_experts[0], "to_expert_id": experts[2].0})),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "to_expert_id");
    let b1_experts = on(&a, &b1);
    let free = experts
        .iter()
        .find(|(e, _)| !b1_experts.contains(e))
        .unwrap()
        .0
        .clone();
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/expert-reassignment"),
        Some(&operator),
        Some(json!({"from_expert_id": b1_experts[0], "to_expert_id": free})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(on(&body, &b1).contains(&free) && !on(&body, &b1).contains(&b1_experts[0]));
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/expert-reassignment"),
        Some(&prov_b),
        Some(json!({"from_expert_id": free, "to_expert_id": b1_experts[0]})),
    )
    .await;
    assert_eq!(s, 403, "providers do not choose their experts");
    let a = body;
    // The provider does not learn who reviews its program.
    let (_, seen) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{b1}"),
        Some(&prov_b),
        None,
    )
    .await;
    assert_eq!(
        seen["expert_ids"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{seen}"
    );
    let assignments = a["items"].as_array().unwrap();
    assert_eq!(assignments.len(), 6);
    let experts_of = |program: &str| -> Vec<String> {
        assignments
            .iter()
            .filter(|x| x["program_id"] == program)
            .map(|x| x["expert_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Never the affiliated expert on provider A's programs; loads balanced.
    for id in [&a1, &a2] {
        assert!(
            !experts_of(id).contains(&experts[2].0),
            "conflict of interest on {id}"
        );
    }
    let load = |e: &str| assignments.iter().filter(|x| x["expert_id"] == e).count();
    assert!(experts.iter().all(|(e, _)| (1..=3).contains(&load(e))));

    let token_of = |id: &str| {
        experts
            .iter()
            .find(|(e, _)| e == id)
            .map(|(_, t)| t.clone())
            .unwrap()
    };
    let review = |program: String, expert: String, score: i32, conclusion: &'static str| {
        let p = &p;
        let token = token_of(&expert);
        async move {
            call(p, Method::POST, &format!("/api/v1/programs/{program}/reviews"), Some(&token), Some(json!({
                "scores": [{"criterion": "relevance", "score": score}, {"criterion": "content", "score": score}],
                "conclusion": conclusion, "comment": "Заключение"
            }))).await
        }
    };
    // An expert not on A1 may not review it.
    let outsider = experts
        .iter()
        .find(|(e, _)| !experts_of(&a1).contains(e))
        .unwrap();
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/reviews"),
        Some(&outsider.1),
        Some(json!({"scores": [], "conclusion": "include"})),
    )
    .await;
    assert!(s == 403 || s == 404, "{s}");
    // Scores out of range: 422 naming the criterion.
    let e_a1 = experts_of(&a1);
    let (s, b) = review(a1.clone(), e_a1[0].clone(), 11, "include").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "scores[relevance]");
    let (s, b) = review(a1.clone(), e_a1[0].clone(), 9, "include").await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["score_percent"], 90.0);
    // Blind review: the second expert sees nobody's scores before their own.
    let second = token_of(&e_a1[1]);
    let (s, seen) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{a1}/reviews"),
        Some(&second),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(seen["items"].as_array().unwrap().len(), 0);
    let (s, _) = review(a1.clone(), e_a1[1].clone(), 8, "include").await;
    assert_eq!(s, 201);
    let (_, seen) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{a1}/reviews"),
        Some(&second),
        None,
    )
    .await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 2);
    let (s, _) = review(a1.clone(), e_a1[1].clone(), 8, "include").await;
    assert_eq!(s, 409, "a second review by the same expert");
    for e in experts_of(&a2) {
        let (s, _) = review(a2.clone(), e, 3, "exclude").await;
        assert_eq!(s, 201);
    }
    for e in experts_of(&b1) {
        let (s, _) = review(b1.clone(), e, 7, "include").await;
        assert_eq!(s, 201);
    }
    let (_, b) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{a2}"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status(&b), "expert_rejected");
    let (_, b) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{a1}"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(
        (status(&b), b["mean_score_percent"].as_f64()),
        ("reviewed", Some(85.0))
    );

    // The council: an expert without a seat is not a member.
    let members: Vec<&str> = council.iter().map(|(id, _)| id.as_str()).collect();
    let (s, b) = call(&p, Method::POST, &format!("/api/v1/campaigns/{campaign}/council-sessions"), Some(&operator), Some(json!({"held_on": chrono_today().to_string(), "member_ids": [members[0], experts[0].0]}))).await;
    assert_eq!(s, 422, "{b}");
    // A session that cannot go ahead is cancelled; its programs return to the agenda.
    let (s, first) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/council-sessions"),
        Some(&operator),
        Some(json!({"held_on": chrono_today().to_string(), "member_ids": members})),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    let first_id = first["id"].as_str().unwrap();
    let (s, cancelled) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{first_id}/cancel"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!((s, status(&cancelled)), (200, "cancelled"), "{cancelled}");
    let (s, session) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/council-sessions"),
        Some(&operator),
        Some(
            json!({"held_on": chrono_today().to_string(), "member_ids": members,
                    "chair_id": members[0], "secretary_id": members[1]}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{session}");
    let session_id = session["id"].as_str().unwrap().to_owned();
    let agenda: Vec<&str> = session["program_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        agenda.len(),
        3,
        "A2, rejected by the experts, is considered too"
    );
    assert!(agenda.contains(&a1.as_str()) && agenda.contains(&b1.as_str()));
    assert_eq!(session["quorum"], 2);

    let vote = |token: String, program: String, v: &'static str| {
        let p = &p;
        let session_id = session_id.clone();
        async move {
            call(
                p,
                Method::POST,
                &format!("/api/v1/council-sessions/{session_id}/votes"),
                Some(&token),
                Some(json!({"program_id": program, "vote": v})),
            )
            .await
        }
    };
    // An expert voting without a seat on the council: 403.
    let (s, _) = vote(experts[0].1.clone(), a1.clone(), "for").await;
    assert_eq!(s, 403);
    // Closing before a quorum: 409.
    let (s, _) = vote(council[0].1.clone(), a1.clone(), "for").await;
    assert_eq!(s, 200);
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session_id}/close"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    // A1: 2 for, 1 against → included. B1: 1 for, 1 against, 1 abstain → a
    // tie is not a majority. A2 (rejected by the experts): not overturned.
    for (who, program, v) in [
        (1, &a1, "for"),
        (2, &a1, "against"),
        (0, &a2, "against"),
        (1, &a2, "against"),
        (0, &b1, "for"),
        (1, &b1, "against"),
        (2, &b1, "abstain"),
    ] {
        let (s, b) = vote(council[who].1.clone(), program.clone(), v).await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, protocol) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session_id}/close"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{protocol}");
    let decision = |id: &str| {
        protocol["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["program_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(decision(&a1)["decision"], "included");
    assert_eq!(decision(&a1)["votes_for"], 2);
    // Scores by criterion: relevance 9 and 8 from the two experts.
    assert_eq!(
        decision(&a1)["criterion_means"][0]["criterion"],
        "relevance"
    );
    assert_eq!(decision(&a1)["criterion_means"][0]["mean"], 8.5);
    assert_eq!(decision(&b1)["decision"], "not_included");
    assert_eq!(protocol["status"], "awaiting_approval");
    let page = p
        .http
        .get(p.url(&format!(
            "/api/v1/council-sessions/{session_id}/protocol.html"
        )))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Протокол") && html.contains("Математическая грамотность"));

    // The presidium: an educator or the operator may not approve; the ministry does.
    // For an educator the session is outside their scope altogether: 404.
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session_id}/approve"),
        Some(&educator),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session_id}/approve"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, approved) = call(
        &p,
        Method::POST,
        &format!("/api/v1/council-sessions/{session_id}/approve"),
        Some(&ministry),
        None,
    )
    .await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        count_service_events(&p, "registry", "registry_published", 1).await,
        1
    );
    // One small event per entry of the registry (here one program), never
    // the whole registry in one message.
    assert_eq!(
        count_service_events(&p, "registry", "registry_entry_published", 1).await,
        1
    );

    // The public catalog: no sign-in, filters; NUL in a parameter is a 400, not a 500.
    let (s, _) = call(&p, Method::GET, "/api/v1/catalog?text=%00", None, None).await;
    assert_eq!(s, 400);
    let (_, cat) = call(
        &p,
        Method::GET,
        &format!(
            "/api/v1/catalog?direction={}",
            "%D0%92%D0%BE%D1%81%D0%BF%D0%B8%D1%82%D0%B0%D0%BD%D0%B8%D0%B5"
        ),
        None,
        None,
    )
    .await;
    assert_eq!(
        cat["total"], 0,
        "A2 (Воспитание) was rejected by the experts"
    );
    let (s, cat) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?campaign_id={campaign}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{cat}");
    assert_eq!(cat["total"], 1);
    assert_eq!(cat["items"][0]["program_id"], a1.as_str());
    assert_eq!(cat["items"][0]["provider_name"], "ИРО РТ");
    let (_, page2) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?campaign_id={campaign}&limit=1&offset=1"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (
            page2["total"].as_i64(),
            page2["items"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
    let (_, cat) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?provider_id={}", providers[1]),
        None,
        None,
    )
    .await;
    assert_eq!(cat["total"], 0);
    let (_, cat) = call(&p, Method::GET, "/api/v1/catalog?text=%D0%B3%D1%80%D0%B0%D0%BC%D0%BE%D1%82%D0%BD%D0%BE%D1%81%D1%82%D1%8C&form=blended&kind=ordinary", None, None).await;
    assert_eq!(cat["total"], 1, "{cat}");

    // The schedule: groups only during its phase, within the program's limits.
    let group = |capacity: i32, starts: String, ends: String| json!({"starts_on": starts, "ends_on": ends, "online": true, "capacity": capacity, "min_size": 5});
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/groups"),
        Some(&prov_a),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["phase"], "schedule");
    let (_, phases) = calendar("schedule");
    let (s, _) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        Some(&ministry),
        Some(json!({"phases": phases})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/groups"),
        Some(&prov_a),
        Some(group(30, day(8), day(40))),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["ends_on", "capacity"]);
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/groups"),
        Some(&prov_b),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 404, "another provider's program");
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{b1}/groups"),
        Some(&prov_b),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 409, "not in the registry: {body}");
    let (s, g1) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{a1}/groups"),
        Some(&prov_a),
        Some(group(25, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 201, "{g1}");
    let (s, g2) = call(&p, Method::POST, &format!("/api/v1/programs/{a1}/groups"), Some(&prov_a), Some(json!({
        "starts_on": day(9), "ends_on": day(11), "online": false,
        "address": "Казань, ул. Баумана, 1", "municipality_id": w.municipalities[0], "capacity": 20, "min_size": 8
    }))).await;
    assert_eq!(s, 201, "{g2}");
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/schedule/approve"),
        Some(&prov_a),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, published) = call(
        &p,
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/schedule/approve"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{published}");
    assert_eq!(published["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        count_service_events(&p, "registry", "group_published", 2).await,
        2
    );

    // Later changes are events too.
    let g1_id = g1["id"].as_str().unwrap();
    let (s, changed) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/groups/{g1_id}"),
        Some(&prov_a),
        Some(group(15, day(9), day(13))),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["capacity"], 15);
    assert_eq!(
        count_service_events(&p, "registry", "group_changed", 1).await,
        1
    );
    // A published group is cancelled with a reason and the operator's approval.
    let (s, requested) = call(
        &p,
        Method::POST,
        &format!("/api/v1/groups/{g1_id}/cancel"),
        Some(&prov_a),
        Some(json!({"reason": "Преподаватель заболел"})),
    )
    .await;
    assert_eq!(
        (s, status(&requested), requested["cancellation"].as_str()),
        (200, "published", Some("requested")),
        "{requested}"
    );
    let (s, cancelled) = call(
        &p,
        Method::POST,
        &format!("/api/v1/groups/{g1_id}/cancellation/approve"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!((s, status(&cancelled)), (200, "cancelled"), "{cancelled}");
    assert_eq!(
        count_service_events(&p, "registry", "group_cancelled", 1).await,
        1
    );

    // The catalog shows the published group and filters by its municipality.
    let (_, cat) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?municipality_id={}", w.municipalities[0]),
        None,
        None,
    )
    .await;
    assert_eq!(cat["total"], 1, "{cat}");
    let groups = cat["items"][0]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["address"], "Казань, ул. Баумана, 1");
    let (_, cat) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?municipality_id={}", w.municipalities[1]),
        None,
        None,
    )
    .await;
    assert_eq!(cat["total"], 0);

    p.stop().await;
}
