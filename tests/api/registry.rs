//! Issue 3: from a campaign to a published registry and schedule, through
//! the gateway, with every forbidden actor and out-of-phase action refused.
//! One scenario per stage of the campaign, each on a fresh platform that
//! [`Campaign`] brings to the state the stage starts from.

use super::fixtures;
use super::fixtures::{
    Campaign, chrono_today, council_votes, day, experts_on, group, program, status, until_known,
};
use super::walking_skeleton::count_service_events;
use super::*;

#[tokio::test]
async fn the_ministry_alone_edits_a_campaign_whose_phases_go_in_order_and_gate_actions() {
    let p = Platform::start().await.unwrap();
    let c = Campaign::open(&p).await;
    assert_eq!(
        count_service_events(&p, "registry", "campaign_calendar_changed", 1).await,
        1
    );
    // Phases out of order are refused, naming the field.
    let mut bad = c.phases.clone();
    bad.swap(1, 2);
    let (s, body) = call(
        &p,
        Method::PATCH,
        &c.path(""),
        Some(&c.ministry),
        Some(json!({"phases": bad})),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "phases[1].phase");
    // Only the ministry creates and edits campaigns.
    let (s, _) = call(
        &p,
        Method::PATCH,
        &c.path(""),
        Some(&c.operator),
        Some(json!({"title": "X"})),
    )
    .await;
    assert_eq!(s, 403);

    // Out of phase: a council session during submission is a 409 naming the phase.
    let (s, body) = call(
        &p,
        Method::POST,
        &c.path("/council-sessions"),
        Some(&c.operator),
        Some(json!({"held_on": "2026-11-30", "member_ids": [c.council[0].0]})),
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
    p.stop().await;
}

#[tokio::test]
async fn providers_submit_only_their_own_programs_and_only_while_submission_is_open() {
    let p = Platform::start().await.unwrap();
    let c = Campaign::open(&p).await;

    // Module hours that do not add up: 422 naming the field.
    let mut broken = program("Неполная", "Предметные компетенции");
    broken["modules"][1]["hours"] = json!(10);
    let (s, body) = until_known(
        &p,
        Method::POST,
        "/api/v1/programs",
        &c.prov_a,
        json!({"campaign_id": c.id, "provider_id": c.providers[0], "fields": broken}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    // The body nests the program under `fields`, and so do its errors.
    assert_eq!(body["errors"][0]["field"], "fields.modules");
    // Provider B may not draft for provider A.
    let (s, _) = call(&p, Method::POST, "/api/v1/programs", Some(&c.prov_b), Some(json!({"campaign_id": c.id, "provider_id": c.providers[0], "fields": program("X", "Y")}))).await;
    assert_eq!(s, 403);

    let pr = c.draft_programs().await;
    // Provider B cannot see, let alone edit, provider A's program.
    let (s, _) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{}", pr.a1),
        Some(&c.prov_b),
        Some(program("Чужая", "X")),
    )
    .await;
    assert_eq!(s, 404);

    c.submit_programs(&pr).await;
    assert_eq!(
        count_service_events(&p, "registry", "program_submitted", 4).await,
        4
    );
    // Withdrawn before review: a draft again.
    c.withdraw(&c.prov_b, &pr.b2).await;

    // Expert review opens; submission has closed.
    c.move_to("expert_review").await;
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/submit", pr.b2),
        Some(&c.prov_b),
        None,
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["phase"], "program_submission");
    p.stop().await;
}

#[tokio::test]
async fn programs_pass_technical_review_or_are_returned_with_remarks() {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::with_programs(&p).await;
    let review = format!("/api/v1/programs/{}/technical-review", pr.b1);

    // Only the operator reviews.
    let (s, _) = call(
        &p,
        Method::POST,
        &review,
        Some(&c.prov_b),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, 403);
    // B1 returned with remarks (none: 422), fixed and resubmitted.
    let (s, b) = call(
        &p,
        Method::POST,
        &review,
        Some(&c.operator),
        Some(json!({"decision": "return"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &review,
        Some(&c.operator),
        Some(json!({"decision": "return", "remarks": "Уточните аннотацию"})),
    )
    .await;
    assert_eq!((s, status(&b)), (200, "returned"), "{b}");
    let mut fixed = program("Цифровая школа", "Цифровая трансформация");
    fixed["annotation"] = json!("Уточнённая аннотация программы");
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/programs/{}", pr.b1),
        Some(&c.prov_b),
        Some(fixed),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/submit", pr.b1),
        Some(&c.prov_b),
        None,
    )
    .await;
    assert_eq!((s, status(&b)), (200, "submitted"));
    // Accepted: on to the experts.
    for id in [&pr.a1, &pr.a2, &pr.b1] {
        c.accept(id).await;
    }
    p.stop().await;
}

#[tokio::test]
async fn experts_are_assigned_without_conflict_of_interest_and_reassigned_by_the_operator_only() {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::in_expert_review(&p).await;
    let a = c.assign_experts().await;

    // Reassignment: never to an affiliated expert; otherwise the operator's call.
    let a1_experts = experts_on(&a, &pr.a1);
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/expert-reassignment", pr.a1),
        Some(&c.operator),
        Some(json!({"from_expert_id": a1_experts[0], "to_expert_id": c.experts[2].0})),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "to_expert_id");
    let b1_experts = experts_on(&a, &pr.b1);
    let free = c
        .experts
        .iter()
        .find(|(e, _)| !b1_experts.contains(e))
        .unwrap()
        .0
        .clone();
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/expert-reassignment", pr.b1),
        Some(&c.operator),
        Some(json!({"from_expert_id": b1_experts[0], "to_expert_id": free})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let now_on_b1 = experts_on(&body, &pr.b1);
    assert!(now_on_b1.contains(&free) && !now_on_b1.contains(&b1_experts[0]));
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/expert-reassignment", pr.b1),
        Some(&c.prov_b),
        Some(json!({"from_expert_id": free, "to_expert_id": b1_experts[0]})),
    )
    .await;
    assert_eq!(s, 403, "providers do not choose their experts");
    let a = body;
    // The provider does not learn who reviews its program.
    let (_, seen) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{}", pr.b1),
        Some(&c.prov_b),
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
    // Never the affiliated expert on provider A's programs; loads balanced.
    for id in [&pr.a1, &pr.a2] {
        assert!(
            !experts_on(&a, id).contains(&c.experts[2].0),
            "conflict of interest on {id}"
        );
    }
    let load = |e: &str| assignments.iter().filter(|x| x["expert_id"] == e).count();
    assert!(c.experts.iter().all(|(e, _)| (1..=3).contains(&load(e))));
    p.stop().await;
}

#[tokio::test]
async fn experts_review_blind_and_their_conclusions_decide_a_programs_status() {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::in_expert_review(&p).await;
    let a = c.assign_experts().await;
    let e_a1 = experts_on(&a, &pr.a1);
    let reviews = format!("/api/v1/programs/{}/reviews", pr.a1);

    // An expert not on A1 may not review it.
    let outsider = c.experts.iter().find(|(e, _)| !e_a1.contains(e)).unwrap();
    let (s, _) = call(
        &p,
        Method::POST,
        &reviews,
        Some(&outsider.1),
        Some(json!({"scores": [], "conclusion": "include"})),
    )
    .await;
    assert!(s == 403 || s == 404, "{s}");
    // Scores out of range: 422 naming the criterion.
    let (s, b) = c.review(&pr.a1, &e_a1[0], 11, "include").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "scores[relevance]");
    let (s, b) = c.review(&pr.a1, &e_a1[0], 9, "include").await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["score_percent"], 90.0);
    // Blind review: the second expert sees the program's content, not
    // whose it is, nor who else reviews it, nor their scores before their own.
    let second = c.expert_token(&e_a1[1]);
    let (s, program) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{}", pr.a1),
        Some(second),
        None,
    )
    .await;
    assert_eq!(s, 200, "{program}");
    assert_eq!(program["fields"]["title"], "Математическая грамотность");
    assert_eq!(
        (&program["provider_id"], &program["provider_name"]),
        (&json!(""), &json!("")),
        "{program}"
    );
    assert_eq!(program["expert_ids"], json!([]), "{program}");
    let path = format!("/api/v1/programs?campaign_id={}", c.id);
    let (_, listed) = call(&p, Method::GET, &path, Some(second), None).await;
    let names: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["provider_name"])
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| *n == ""),
        "{listed}"
    );
    // The provider still sees its own program as its own.
    let (_, own) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{}", pr.a1),
        Some(&c.prov_a),
        None,
    )
    .await;
    assert_eq!(own["provider_id"], c.providers[0].as_str(), "{own}");
    let (s, seen) = call(&p, Method::GET, &reviews, Some(second), None).await;
    assert_eq!(s, 200);
    assert_eq!(seen["items"].as_array().unwrap().len(), 0);
    let (s, _) = c.review(&pr.a1, &e_a1[1], 8, "include").await;
    assert_eq!(s, 201);
    let (_, seen) = call(&p, Method::GET, &reviews, Some(second), None).await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 2);
    let (s, _) = c.review(&pr.a1, &e_a1[1], 8, "include").await;
    assert_eq!(s, 409, "a second review by the same expert");
    c.reviewed_by_all(&a, &pr.a2, 3, "exclude").await;
    c.reviewed_by_all(&a, &pr.b1, 7, "include").await;

    let (_, b) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{}", pr.a2),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(status(&b), "expert_rejected");
    let (_, b) = call(
        &p,
        Method::GET,
        &format!("/api/v1/programs/{}", pr.a1),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(
        (status(&b), b["mean_score_percent"].as_f64()),
        ("reviewed", Some(85.0))
    );
    p.stop().await;
}

#[tokio::test]
async fn the_council_decides_by_majority_with_a_quorum_and_the_ministry_approval_publishes_the_registry()
 {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::reviewed(&p).await;

    // The regional operator finds the region's council members to seat.
    let (s, listed) = call(
        &p,
        Method::GET,
        "/api/v1/users?role=council_member",
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{listed}");
    let mut seen: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    seen.sort();
    let mut members = c.members();
    members.sort();
    assert_eq!(seen, members, "{listed}");
    // … and reads each one's account, as the list promised.
    let (s, one) = call(
        &p,
        Method::GET,
        &format!("/api/v1/users/{}", members[0]),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{one}");
    // The council: an expert without a seat is not a member.
    let members = c.members();
    let (s, b) = call(&p, Method::POST, &c.path("/council-sessions"), Some(&c.operator), Some(json!({"held_on": chrono_today().to_string(), "member_ids": [members[0], c.experts[0].0]}))).await;
    assert_eq!(s, 422, "{b}");
    // A session that cannot go ahead is cancelled; its programs return to the agenda.
    let (s, first) = call(
        &p,
        Method::POST,
        &c.path("/council-sessions"),
        Some(&c.operator),
        Some(json!({"held_on": chrono_today().to_string(), "member_ids": members})),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    let (s, cancelled) = c
        .session_action(first["id"].as_str().unwrap(), "cancel", &c.operator)
        .await;
    assert_eq!((s, status(&cancelled)), (200, "cancelled"), "{cancelled}");
    let session = c.convene().await;
    let session_id = session["id"].as_str().unwrap();
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
    assert!(agenda.contains(&pr.a1.as_str()) && agenda.contains(&pr.b1.as_str()));
    assert_eq!(session["quorum"], 2);

    // An expert voting without a seat on the council: 403.
    let (s, _) = c.vote(session_id, &c.experts[0].1, &pr.a1, "for").await;
    assert_eq!(s, 403);
    // Closing before a quorum: 409.
    let votes = council_votes(&pr);
    let (who, program, v) = votes[0];
    let (s, _) = c.vote(session_id, &c.council[who].1, program, v).await;
    assert_eq!(s, 200);
    let (s, b) = c.session_action(session_id, "close", &c.operator).await;
    assert_eq!(s, 409, "{b}");
    // A1: 2 for, 1 against → included. B1: 1 for, 1 against, 1 abstain → a
    // tie is not a majority. A2 (rejected by the experts): not overturned.
    for (who, program, v) in &votes[1..] {
        let (s, b) = c.vote(session_id, &c.council[*who].1, program, v).await;
        assert_eq!(s, 200, "{b}");
    }
    // The live tally while the session is open: the votes cast so far on
    // each program of the agenda, and the reader's own vote.
    let (s, live) = call(
        &p,
        Method::GET,
        &format!("/api/v1/council-sessions/{session_id}"),
        Some(&c.council[0].1),
        None,
    )
    .await;
    assert_eq!(s, 200, "{live}");
    let item = |id: &str| program_entry(&live["agenda"], id);
    let counted = |id: &str| {
        let mut tally = [0; 3];
        for (_, program, v) in &votes {
            if *program == id {
                let k = ["for", "against", "abstain"]
                    .iter()
                    .position(|x| x == v)
                    .unwrap();
                tally[k] += 1;
            }
        }
        tally
    };
    for id in [&pr.a1, &pr.b1, &pr.a2] {
        let e = item(id);
        let shown = [&e["votes_for"], &e["votes_against"], &e["votes_abstain"]]
            .map(|x| x.as_i64().unwrap());
        assert_eq!(shown, counted(id), "{e}");
        let mine = votes
            .iter()
            .find(|(who, program, _)| *who == 0 && *program == id.as_str());
        assert_eq!(e["my_vote"], mine.map(|m| m.2).unwrap_or(""), "{e}");
    }
    assert_eq!(item(&pr.a1)["title"], "Математическая грамотность");
    let (s, protocol) = c.session_action(session_id, "close", &c.operator).await;
    assert_eq!(s, 200, "{protocol}");
    let decision = |id: &str| program_entry(&protocol["entries"], id);
    assert_eq!(decision(&pr.a1)["decision"], "included");
    assert_eq!(decision(&pr.a1)["votes_for"], 2);
    // Scores by criterion: relevance 9 and 8 from the two experts.
    assert_eq!(
        decision(&pr.a1)["criterion_means"][0]["criterion"],
        "relevance"
    );
    assert_eq!(decision(&pr.a1)["criterion_means"][0]["mean"], 8.5);
    assert_eq!(decision(&pr.b1)["decision"], "not_included");
    assert_eq!(protocol["status"], "awaiting_approval");
    let page = p
        .http
        .get(p.url(&format!(
            "/api/v1/council-sessions/{session_id}/protocol.html"
        )))
        .bearer_auth(&c.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Протокол") && html.contains("Математическая грамотность"));

    // The presidium: an educator or the operator may not approve; the ministry does.
    // For an educator the session is outside their scope altogether: 404.
    let (s, _) = c.session_action(session_id, "approve", &c.educator).await;
    assert_eq!(s, 404);
    let (s, _) = c.session_action(session_id, "approve", &c.operator).await;
    assert_eq!(s, 403);
    let (s, approved) = c.session_action(session_id, "approve", &c.ministry).await;
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
    p.stop().await;
}

#[tokio::test]
async fn the_public_catalog_lists_the_published_registry_and_filters_it() {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::published(&p).await;

    // No sign-in, filters; NUL in a parameter is a 400, not a 500.
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
        &format!("/api/v1/catalog?campaign_id={}", c.id),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{cat}");
    assert_eq!(cat["total"], 1);
    assert_eq!(cat["items"][0]["program_id"], pr.a1.as_str());
    assert_eq!(cat["items"][0]["provider_name"], "ИРО РТ");
    let (_, page2) = call(
        &p,
        Method::GET,
        &format!("/api/v1/catalog?campaign_id={}&limit=1&offset=1", c.id),
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
        &format!("/api/v1/catalog?provider_id={}", c.providers[1]),
        None,
        None,
    )
    .await;
    assert_eq!(cat["total"], 0);
    let (_, cat) = call(&p, Method::GET, "/api/v1/catalog?text=%D0%B3%D1%80%D0%B0%D0%BC%D0%BE%D1%82%D0%BD%D0%BE%D1%81%D1%82%D1%8C&form=blended&kind=ordinary", None, None).await;
    assert_eq!(cat["total"], 1, "{cat}");
    p.stop().await;
}

#[tokio::test]
async fn providers_schedule_groups_of_registry_programs_and_every_published_change_is_an_event() {
    let p = Platform::start().await.unwrap();
    let (c, pr) = Campaign::published(&p).await;
    let a1_groups = format!("/api/v1/programs/{}/groups", pr.a1);

    // Groups only during the schedule's phase, within the program's limits.
    let (s, body) = call(
        &p,
        Method::POST,
        &a1_groups,
        Some(&c.prov_a),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["phase"], "schedule");
    c.move_to("schedule").await;
    let (s, body) = call(
        &p,
        Method::POST,
        &a1_groups,
        Some(&c.prov_a),
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
        &a1_groups,
        Some(&c.prov_b),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 404, "another provider's program");
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/programs/{}/groups", pr.b1),
        Some(&c.prov_b),
        Some(group(20, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 409, "not in the registry: {body}");
    let (s, g1) = call(
        &p,
        Method::POST,
        &a1_groups,
        Some(&c.prov_a),
        Some(group(25, day(8), day(12))),
    )
    .await;
    assert_eq!(s, 201, "{g1}");
    let (s, g2) = call(&p, Method::POST, &a1_groups, Some(&c.prov_a), Some(json!({
        "starts_on": day(9), "ends_on": day(11), "online": false,
        "address": "Казань, ул. Баумана, 1", "municipality_id": c.world.municipalities[0], "capacity": 20, "min_size": 8
    }))).await;
    assert_eq!(s, 201, "{g2}");
    let (s, _) = call(
        &p,
        Method::POST,
        &c.path("/schedule/approve"),
        Some(&c.prov_a),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, published) = call(
        &p,
        Method::POST,
        &c.path("/schedule/approve"),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{published}");
    assert_eq!(published["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        count_service_events(&p, "registry", "group_published", 2).await,
        2
    );

    // A calendar that would strand a scheduled group is refused: here
    // post-course monitoring would end before g2 (days 9–11) ends.
    let (_, mut phases) = fixtures::calendar("schedule");
    phases[5]["ends_on"] = json!(day(10));
    phases[5]["starts_on"] = json!(day(10));
    phases[4]["ends_on"] = json!(day(9));
    let (s, body) = call(
        &p,
        Method::PATCH,
        &c.path(""),
        Some(&c.ministry),
        Some(json!({"phases": phases})),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["reason"], "groups_outside_window");
    assert_eq!(body["groups"], "2");

    // Later changes are events too.
    let g1_id = g1["id"].as_str().unwrap();
    let (s, changed) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/groups/{g1_id}"),
        Some(&c.prov_a),
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
        Some(&c.prov_a),
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
        Some(&c.operator),
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
        &format!(
            "/api/v1/catalog?municipality_id={}",
            c.world.municipalities[0]
        ),
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
        &format!(
            "/api/v1/catalog?municipality_id={}",
            c.world.municipalities[1]
        ),
        None,
        None,
    )
    .await;
    assert_eq!(cat["total"], 0);
    p.stop().await;
}

/// Lists are pages with a total, past the last page too, and carry what
/// each row needs (provider, experts for those who run the review).
#[tokio::test]
async fn program_and_campaign_lists_are_pages_with_totals() {
    let p = Platform::start().await.unwrap();
    let (c, _) = Campaign::with_programs(&p).await;
    let list = |path: String| {
        let token = c.ministry.clone();
        let p = &p;
        async move { call(p, Method::GET, &path, Some(&token), None).await }
    };
    let (s, all) = list(format!("/api/v1/programs?campaign_id={}", c.id)).await;
    assert_eq!(s, 200, "{all}");
    let total = all["total"].as_i64().unwrap();
    assert_eq!(total, all["items"].as_array().unwrap().len() as i64);
    assert!(total >= 3, "{all}");
    let (_, first) = list(format!("/api/v1/programs?campaign_id={}&limit=1", c.id)).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["total"], total);
    assert!(
        !first["items"][0]["provider_name"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{first}"
    );
    let (_, past) = list(format!("/api/v1/programs?campaign_id={}&offset=1000", c.id)).await;
    assert_eq!(past["items"].as_array().unwrap().len(), 0);
    assert_eq!(past["total"], total, "the total past the last page");

    let (s, campaigns) = list("/api/v1/campaigns?limit=1".to_owned()).await;
    assert_eq!(s, 200, "{campaigns}");
    assert_eq!(campaigns["total"], 1);
    let listed = &campaigns["items"][0];
    assert_eq!(listed["id"], c.id.as_str());
    assert_eq!(listed["current_phase"], "program_submission");
    assert!(
        listed["criteria"].as_array().is_some_and(|a| !a.is_empty()),
        "{listed}"
    );
    assert!(
        listed["experts"].as_array().is_some_and(|a| a.len() == 3),
        "{listed}"
    );
    assert_eq!(listed["phases"].as_array().unwrap().len(), 6);
    let (_, past) = list("/api/v1/campaigns?offset=5".to_owned()).await;
    assert_eq!(
        (past["items"].as_array().unwrap().len(), &past["total"]),
        (0, &json!(1))
    );
    p.stop().await;
}

/// The entry of `list` (an agenda, a protocol's entries) for a program.
fn program_entry(list: &Value, id: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["program_id"] == id)
        .unwrap()
        .clone()
}
