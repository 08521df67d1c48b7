//! Shared builders of the registry's end-to-end tests: calendars, program
//! bodies, users with a role, and [`Campaign`], which brings a fresh
//! platform to the state a scenario of the campaign starts from.

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

/// Today where the test regions are (Europe/Moscow, UTC+3 all year), as
/// the registry dates things: after 21:00 UTC it is already tomorrow.
pub(crate) fn chrono_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(3)).date_naive()
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

/// A field the registry names in a 422 until it has heard of what
/// identity did: a region, a provider (organization), an expert's or a
/// council member's role.
fn learnt_from_identity(field: &str) -> bool {
    matches!(
        field,
        "region_id" | "provider_id" | "user_id" | "to_expert_id"
    ) || field.starts_with("member_ids[")
        || field.starts_with("affiliated_provider_ids[")
}

/// Retries while the registry has not yet heard of what identity just did:
/// a 422 (`code` `invalid`) whose every `errors[].field` is one the
/// registry learns from identity's events. Any other answer is returned.
///
/// The same fields name lasting refusals too (a provider of another
/// region, a user without the role): a call that expects one of those
/// must use [`call`], or it spins here until it panics.
pub(crate) async fn until_known(
    p: &Platform,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (s, b) = call(p, method.clone(), path, Some(token), Some(body.clone())).await;
        let not_yet = s == 422
            && b["code"] == "invalid"
            && b["errors"].as_array().is_some_and(|errors| {
                !errors.is_empty()
                    && errors
                        .iter()
                        .all(|e| e["field"].as_str().is_some_and(learnt_from_identity))
            });
        if !not_yet {
            return (s, b);
        }
        last = b;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: the registry never learnt of identity's change: {last}");
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

/// The experts an assignment list (`items` of `program_id`, `expert_id`)
/// puts on a program.
pub(crate) fn experts_on(assignments: &Value, program: &str) -> Vec<String> {
    assignments["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["program_id"] == program)
        .map(|x| x["expert_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A group's body.
pub(crate) fn group(capacity: i32, starts: String, ends: String) -> Value {
    json!({"starts_on": starts, "ends_on": ends, "online": true, "capacity": capacity, "min_size": 5})
}

/// The four programs of [`Campaign`]: A1 and A2 of provider A, B1 and B2
/// of provider B.
pub(crate) struct Programs {
    /// «Математическая грамотность»: the experts and the council include it.
    pub a1: String,
    /// «Слабая программа» (Воспитание): the experts reject it.
    pub a2: String,
    /// «Цифровая школа»: reviewed, but the council's tie does not include it.
    pub b1: String,
    /// «Отозванная»: withdrawn before review.
    pub b2: String,
}

/// The council's votes at its session, in order: (council member, program,
/// vote). A1: 2 for, 1 against → included. B1: 1 for, 1 against, 1
/// abstain → a tie is not a majority. A2 (rejected by the experts): not
/// overturned.
pub(crate) fn council_votes(programs: &Programs) -> [(usize, &str, &'static str); 8] {
    [
        (0, &programs.a1, "for"),
        (1, &programs.a1, "for"),
        (2, &programs.a1, "against"),
        (0, &programs.a2, "against"),
        (1, &programs.a2, "against"),
        (0, &programs.b1, "for"),
        (1, &programs.b1, "against"),
        (2, &programs.b1, "abstain"),
    ]
}

/// A region (with [`World`]), two providers (ИРО РТ and КФУ), everyone who
/// takes part, and a campaign of the region with program submission open
/// today, the year's criteria set and three experts in its pool (expert 3
/// affiliated with provider A).
///
/// Each constructor brings a fresh platform to the state a scenario starts
/// from: [`Campaign::open`], [`Campaign::with_programs`],
/// [`Campaign::in_expert_review`], [`Campaign::reviewed`],
/// [`Campaign::published`].
pub(crate) struct Campaign<'p> {
    pub p: &'p Platform,
    pub world: World,
    /// Provider A (ИРО РТ) and provider B (КФУ).
    pub providers: Vec<String>,
    pub ministry: String,
    pub operator: String,
    /// Provider A's admin.
    pub prov_a: String,
    /// Provider B's admin.
    pub prov_b: String,
    /// (user id, token) of the three experts.
    pub experts: Vec<(String, String)>,
    /// (user id, token) of the three council members.
    pub council: Vec<(String, String)>,
    /// An educator of the region's first organization.
    pub educator: String,
    /// The campaign's id.
    pub id: String,
    /// The calendar it was created with (program submission open).
    pub phases: Vec<Value>,
    /// The region's PD model: in `cumulative_route` the programs drafted
    /// are cumulative (their modules make routes).
    pub model: String,
}

impl<'p> Campaign<'p> {
    /// The region, its people and the campaign in program submission.
    pub async fn open(p: &'p Platform) -> Campaign<'p> {
        Campaign::open_in(p, "un_quota").await
    }

    /// [`Campaign::open`] in a region of the PD model `model`.
    pub async fn open_in(p: &'p Platform, model: &str) -> Campaign<'p> {
        let admin = p.user_token("root", "admin", None).await.unwrap();
        let world = build_world_with(p, &admin, "R3", model).await;
        let region = world.region.clone();

        // Two providers and everyone who takes part.
        let mut providers = Vec::new();
        for (i, name) in ["ИРО РТ", "КФУ"].iter().enumerate() {
            let inn = pd_domain::Inn::from_body(165_700_000 + i as u32).unwrap();
            let (s, pr) = call(p, Method::POST, "/api/v1/providers", Some(&admin), Some(json!({"region_id": region, "name": name, "inn": inn.as_str(), "licence_number": "Л035-01"}))).await;
            assert_eq!(s, 201, "{pr}");
            providers.push(pr["id"].as_str().unwrap().to_owned());
        }
        let (_, ministry) = user(p, &admin, "ministry", "ministry", &region).await;
        let (_, operator) = user(p, &admin, "operator", "regional_operator", &region).await;
        let (_, prov_a) = user(p, &admin, "provider.a", "provider_admin", &providers[0]).await;
        let (_, prov_b) = user(p, &admin, "provider.b", "provider_admin", &providers[1]).await;
        let mut experts = Vec::new();
        for login in ["expert1", "expert2", "expert3"] {
            experts.push(user(p, &admin, login, "expert", &region).await);
        }
        let mut council = Vec::new();
        for login in ["council1", "council2", "council3"] {
            council.push(user(p, &admin, login, "council_member", &region).await);
        }
        let (s, edu) = call(p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": snils(7), "last_name": "Учителева", "first_name": "Анна", "position": "учитель", "organization_id": world.orgs[0]}))).await;
        assert_eq!(s, 201, "{edu}");
        let (_, educator) = user(
            p,
            &admin,
            "teacher",
            "educator",
            edu["id"].as_str().unwrap(),
        )
        .await;

        // The campaign, with program submission open today.
        let (year, phases) = calendar("program_submission");
        let (s, c) = until_known(
            p,
            Method::POST,
            "/api/v1/campaigns",
            &ministry,
            json!({"region_id": region, "year": year, "title": "ПК 2027", "phases": phases}),
        )
        .await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["current_phase"], "program_submission");
        let id = c["id"].as_str().unwrap().to_owned();

        // The year's criteria: the council's or the ministry's, not the operator's.
        let (s, body) = call(
            p,
            Method::PUT,
            &format!("/api/v1/campaigns/{id}/criteria"),
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
        for (i, (expert, _)) in experts.iter().enumerate() {
            let affiliated: Vec<&str> = if i == 2 {
                vec![providers[0].as_str()]
            } else {
                vec![]
            };
            let (s, body) = until_known(
                p,
                Method::POST,
                &format!("/api/v1/campaigns/{id}/experts"),
                &operator,
                json!({"user_id": expert, "affiliated_provider_ids": affiliated}),
            )
            .await;
            assert_eq!(s, 200, "{body}");
        }

        Campaign {
            p,
            world,
            providers,
            ministry,
            operator,
            prov_a,
            prov_b,
            experts,
            council,
            educator,
            id,
            phases,
            model: model.to_owned(),
        }
    }

    /// [`Campaign::open`] with the four programs drafted and submitted.
    pub async fn with_programs(p: &'p Platform) -> (Campaign<'p>, Programs) {
        Campaign::with_programs_in(p, "un_quota").await
    }

    pub async fn with_programs_in(p: &'p Platform, model: &str) -> (Campaign<'p>, Programs) {
        let c = Campaign::open_in(p, model).await;
        let programs = c.draft_programs().await;
        c.submit_programs(&programs).await;
        (c, programs)
    }

    /// Expert review open: B2 withdrawn, A1, A2 and B1 accepted at the
    /// technical review.
    pub async fn in_expert_review(p: &'p Platform) -> (Campaign<'p>, Programs) {
        Campaign::in_expert_review_in(p, "un_quota").await
    }

    pub async fn in_expert_review_in(p: &'p Platform, model: &str) -> (Campaign<'p>, Programs) {
        let (c, programs) = Campaign::with_programs_in(p, model).await;
        c.withdraw(&c.prov_b, &programs.b2).await;
        for id in [&programs.a1, &programs.a2, &programs.b1] {
            c.accept(id).await;
        }
        c.move_to("expert_review").await;
        (c, programs)
    }

    /// Every assigned expert has reviewed: A1 with 9 and 8 (included, 85 %),
    /// A2 with 3 (excluded by both), B1 with 7 (included).
    pub async fn reviewed(p: &'p Platform) -> (Campaign<'p>, Programs) {
        Campaign::reviewed_in(p, "un_quota").await
    }

    pub async fn reviewed_in(p: &'p Platform, model: &str) -> (Campaign<'p>, Programs) {
        let (c, programs) = Campaign::in_expert_review_in(p, model).await;
        let assignments = c.assign_experts().await;
        for (expert, score) in experts_on(&assignments, &programs.a1).iter().zip([9, 8]) {
            let (s, b) = c.review(&programs.a1, expert, score, "include").await;
            assert_eq!(s, 201, "{b}");
        }
        c.reviewed_by_all(&assignments, &programs.a2, 3, "exclude")
            .await;
        c.reviewed_by_all(&assignments, &programs.b1, 7, "include")
            .await;
        (c, programs)
    }

    /// The registry published: the council included A1 (not A2 nor B1) and
    /// the ministry approved the protocol.
    pub async fn published(p: &'p Platform) -> (Campaign<'p>, Programs) {
        Campaign::published_in(p, "un_quota").await
    }

    /// [`Campaign::published`] in a region of the PD model `model`.
    pub async fn published_in(p: &'p Platform, model: &str) -> (Campaign<'p>, Programs) {
        let (c, programs) = Campaign::reviewed_in(p, model).await;
        let session = c.convene().await;
        let session = session["id"].as_str().unwrap();
        for (who, program, v) in council_votes(&programs) {
            let (s, b) = c.vote(session, &c.council[who].1, program, v).await;
            assert_eq!(s, 200, "{b}");
        }
        let (s, protocol) = c.session_action(session, "close", &c.operator).await;
        assert_eq!(s, 200, "{protocol}");
        let (s, approved) = c.session_action(session, "approve", &c.ministry).await;
        assert_eq!(s, 200, "{approved}");
        assert_eq!(approved["status"], "approved");
        (c, programs)
    }

    /// The campaign's path with `rest` appended.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/campaigns/{}{rest}", self.id)
    }

    /// The ministry moves the calendar so that `open` is open today.
    pub async fn move_to(&self, open: &str) {
        let (_, phases) = calendar(open);
        let (s, c) = call(
            self.p,
            Method::PATCH,
            &self.path(""),
            Some(&self.ministry),
            Some(json!({"phases": phases})),
        )
        .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["current_phase"], open);
    }

    /// A draft of `provider` (0 = A, 1 = B) by its admin `token`.
    pub async fn draft(
        &self,
        token: &str,
        provider: usize,
        title: &str,
        direction: &str,
    ) -> String {
        let (s, b) = until_known(
            self.p,
            Method::POST,
            "/api/v1/programs",
            token,
            json!({"campaign_id": self.id, "provider_id": self.providers[provider], "fields": self.program(title, direction)}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["status"], "draft");
        b["id"].as_str().unwrap().to_owned()
    }

    /// A program's fields as this campaign's region drafts them.
    fn program(&self, title: &str, direction: &str) -> Value {
        let mut fields = program(title, direction);
        if self.model == "cumulative_route" {
            fields["kind"] = json!("cumulative");
        }
        fields
    }

    pub async fn draft_programs(&self) -> Programs {
        Programs {
            a1: self
                .draft(
                    &self.prov_a,
                    0,
                    "Математическая грамотность",
                    "Предметные компетенции",
                )
                .await,
            a2: self
                .draft(&self.prov_a, 0, "Слабая программа", "Воспитание")
                .await,
            b1: self
                .draft(&self.prov_b, 1, "Цифровая школа", "Цифровая трансформация")
                .await,
            b2: self
                .draft(&self.prov_b, 1, "Отозванная", "Цифровая трансформация")
                .await,
        }
    }

    /// Submits a program; every item of its checklist passes.
    pub async fn submit(&self, token: &str, id: &str) {
        let (s, b) = call(
            self.p,
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

    pub async fn submit_programs(&self, programs: &Programs) {
        for (id, token) in [
            (&programs.a1, &self.prov_a),
            (&programs.a2, &self.prov_a),
            (&programs.b1, &self.prov_b),
            (&programs.b2, &self.prov_b),
        ] {
            self.submit(token, id).await;
        }
    }

    /// Withdrawn before review: a draft again.
    pub async fn withdraw(&self, token: &str, id: &str) {
        let (s, b) = call(
            self.p,
            Method::POST,
            &format!("/api/v1/programs/{id}/withdraw"),
            Some(token),
            None,
        )
        .await;
        assert_eq!((s, status(&b)), (200, "draft"));
    }

    /// The operator accepts a program at the technical review.
    pub async fn accept(&self, id: &str) {
        let (s, b) = call(
            self.p,
            Method::POST,
            &format!("/api/v1/programs/{id}/technical-review"),
            Some(&self.operator),
            Some(json!({"decision": "accept"})),
        )
        .await;
        assert_eq!((s, status(&b)), (200, "in_review"), "{b}");
    }

    /// The operator assigns experts; returns the assignments.
    pub async fn assign_experts(&self) -> Value {
        let (s, a) = call(
            self.p,
            Method::POST,
            &self.path("/expert-assignments"),
            Some(&self.operator),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 200, "{a}");
        a
    }

    /// The token of the expert with this user id.
    pub fn expert_token(&self, id: &str) -> &str {
        self.experts
            .iter()
            .find(|(e, _)| e == id)
            .map(|(_, t)| t.as_str())
            .unwrap()
    }

    /// `expert` reviews `program` with `score` on both criteria.
    pub async fn review(
        &self,
        program: &str,
        expert: &str,
        score: i32,
        conclusion: &str,
    ) -> (u16, Value) {
        call(self.p, Method::POST, &format!("/api/v1/programs/{program}/reviews"), Some(self.expert_token(expert)), Some(json!({
            "scores": [{"criterion": "relevance", "score": score}, {"criterion": "content", "score": score}],
            "conclusion": conclusion, "comment": "Заключение"
        }))).await
    }

    /// Every assigned expert of `program` reviews it with `score`.
    pub async fn reviewed_by_all(
        &self,
        assignments: &Value,
        program: &str,
        score: i32,
        conclusion: &str,
    ) {
        for e in experts_on(assignments, program) {
            let (s, b) = self.review(program, &e, score, conclusion).await;
            assert_eq!(s, 201, "{b}");
        }
    }

    /// The council's ids.
    pub fn members(&self) -> Vec<&str> {
        self.council.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// A council session today of the whole council, council 1 in the chair
    /// and council 2 its secretary; returns the session.
    pub async fn convene(&self) -> Value {
        let members = self.members();
        let (s, session) = call(
            self.p,
            Method::POST,
            &self.path("/council-sessions"),
            Some(&self.operator),
            Some(
                json!({"held_on": chrono_today().to_string(), "member_ids": members,
                        "chair_id": members[0], "secretary_id": members[1]}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{session}");
        session
    }

    /// A council member (by `token`) votes on a program of the session.
    pub async fn vote(&self, session: &str, token: &str, program: &str, v: &str) -> (u16, Value) {
        call(
            self.p,
            Method::POST,
            &format!("/api/v1/council-sessions/{session}/votes"),
            Some(token),
            Some(json!({"program_id": program, "vote": v})),
        )
        .await
    }

    /// POST `/council-sessions/{session}/{action}` by `token`.
    pub async fn session_action(&self, session: &str, action: &str, token: &str) -> (u16, Value) {
        call(
            self.p,
            Method::POST,
            &format!("/api/v1/council-sessions/{session}/{action}"),
            Some(token),
            None,
        )
        .await
    }
}

/// A subscription to one of a service's events, taken before the action
/// that emits it (with the client that keeps it alive).
pub(crate) async fn subscribe_to(
    p: &Platform,
    service: &str,
    event: &str,
) -> (async_nats::Client, async_nats::Subscriber) {
    let nats = &p.env.settings.nats;
    let client = async_nats::connect(&nats.url).await.unwrap();
    let subject = format!("{}.{service}.evt.{event}.v1", nats.subject_prefix);
    let sub = client.subscribe(subject).await.unwrap();
    (client, sub)
}

/// The next event of a subscription, decoded (10 s at most).
pub(crate) async fn next_event<M: pd_proto::Message + Default>(
    sub: &mut async_nats::Subscriber,
) -> M {
    use futures::StreamExt;
    use pd_proto::Message;
    let msg = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    let envelope = pd_proto::common::v1::EventEnvelope::decode(msg.payload).unwrap();
    M::decode(envelope.payload.as_slice()).unwrap()
}

/// Polls `path` until `done(status, body)`, for what a service learns
/// from other services' events.
pub(crate) async fn eventually(
    p: &Platform,
    token: &str,
    path: &str,
    done: impl Fn(u16, &Value) -> bool,
) -> Value {
    let mut last = (0, Value::Null);
    for _ in 0..150 {
        let (s, b) = call(p, Method::GET, path, Some(token), None).await;
        if done(s, &b) {
            return b;
        }
        last = (s, b);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never became ready: {} {}", last.0, last.1);
}
