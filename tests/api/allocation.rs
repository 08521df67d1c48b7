//! The allocation service through the gateway: candidates from historical
//! PD dates (the boundary of exactly N years), exclusion and confirmation,
//! largest-remainder quotas that add up, the numbers' order and check
//! character, refusal and reassignment up the cascade as its windows end
//! (time moved on the services' clock, never slept), vouchers' blocks, and the
//! actors each step refuses.

use super::fixtures::{chrono_today, eventually, next_event, subscribe_to, user};
use super::*;
use pd_proto::allocation::v1 as pb;
use pd_proto::enrollment::v1 as enrollment;

/// Publishes an application's snapshot as enrollment's relay would
/// (enrollment itself is issue 10): `event` is application_submitted or
/// application_withdrawn, `version` the application's outbox version.
async fn application_event(
    p: &Platform,
    event: &str,
    version: u64,
    a: &enrollment::ApplicationSnapshot,
) {
    let verifier = pd_runtime::tokens::TokenVerifier::new(&p.env.settings.auth).unwrap();
    let bus = pd_bus::Bus::connect(&p.env.settings.nats, verifier)
        .await
        .unwrap();
    bus.ensure_stream("enrollment").await.unwrap();
    let payload = enrollment::ApplicationSubmitted {
        application: Some(a.clone()),
    };
    pd_bus::testing::publish_event(&bus, "enrollment", event, &a.id, version, &payload)
        .await
        .unwrap();
}

/// A region (with the given PD model), its operators at every level, and
/// a campaign of this year whose candidates the allocation service knows.
struct Region<'p> {
    p: &'p Platform,
    world: World,
    admin: String,
    ministry: String,
    operator: String,
    /// Operators of organizations 0 and 1 (municipality 0) and 2 (municipality 1).
    org_operators: Vec<String>,
    /// Operators of municipalities 0 and 1.
    muni_operators: Vec<String>,
    campaign: String,
    /// The campaign's year (its training runs in the next).
    year: i32,
    /// Educator ids by surname.
    educators: std::collections::HashMap<String, String>,
}

/// (surname, organization, position, last PD) of the un_quota scenario:
/// the campaign year is this year, the interval 3 years, so PD that ended
/// before 1 January three years ago makes one due.
fn people(year: i32) -> Vec<(&'static str, usize, &'static str, String)> {
    // The campaign of `year` trains in `year + 1`: due when the last PD
    // ended before 1 January three years before that.
    let cutoff = year + 1 - 3;
    vec![
        ("Алексеева", 0, "учитель", String::new()),
        ("Борисова", 0, "учитель", format!("{}-03-01", cutoff - 4)),
        ("Васильева", 0, "учитель", format!("{}-12-31", cutoff - 1)),
        // Exactly three years before the training year: not due.
        ("Громова", 0, "учитель", format!("{cutoff}-01-01")),
        ("Дмитриева", 0, "учитель", format!("{}-06-01", cutoff - 2)),
        ("Егорова", 0, "учитель", String::new()),
        ("Жукова", 1, "учитель", String::new()),
        ("Зайцева", 1, "учитель", String::new()),
        ("Иванова", 1, "учитель", String::new()),
        ("Козлова", 2, "учитель", String::new()),
        (
            "Лебедева",
            2,
            "Мастер производственного обучения",
            String::new(),
        ),
    ]
}

impl<'p> Region<'p> {
    async fn open(p: &'p Platform, code: &str, model: &str) -> Region<'p> {
        let admin = p.user_token("root", "admin", None).await.unwrap();
        let world = build_world_with(p, &admin, code, model).await;
        let region = world.region.clone();
        let (_, ministry) = user(p, &admin, "ministry", "ministry", &region).await;
        let (_, operator) = user(p, &admin, "operator", "regional_operator", &region).await;
        let mut org_operators = Vec::new();
        for (i, org) in world.orgs.iter().enumerate() {
            org_operators.push(
                user(p, &admin, &format!("org{i}"), "org_operator", org)
                    .await
                    .1,
            );
        }
        let mut muni_operators = Vec::new();
        for (i, m) in world.municipalities.iter().enumerate() {
            muni_operators.push(
                user(p, &admin, &format!("muni{i}"), "municipal_operator", m)
                    .await
                    .1,
            );
        }
        // The campaign's year, which the PD dates below are relative to.
        let (year, phases) = super::fixtures::calendar("schedule");
        let mut educators = std::collections::HashMap::new();
        for (i, (name, org, position, last_pd)) in people(year).into_iter().enumerate() {
            let (s, e) = call(p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": snils(500 + i as u32), "last_name": name, "first_name": "Анна", "position": position, "subjects": ["Математика"], "organization_id": world.orgs[org], "last_pd_completed_on": last_pd}))).await;
            assert_eq!(s, 201, "{e}");
            educators.insert(name.to_owned(), e["id"].as_str().unwrap().to_owned());
        }
        let (s, c) = super::fixtures::until_known(
            p,
            Method::POST,
            "/api/v1/campaigns",
            &ministry,
            json!({"region_id": region, "year": year, "title": "ПК", "phases": phases}),
        )
        .await;
        assert_eq!(s, 201, "{c}");
        let campaign = c["id"].as_str().unwrap().to_owned();
        let r = Region {
            p,
            world,
            admin,
            ministry,
            operator,
            org_operators,
            muni_operators,
            campaign,
            year,
            educators,
        };
        // The service learns of the campaign and every educator from events.
        eventually(p, &r.operator, &r.path("/candidates"), |s, b| {
            s == 200 && b["total"] == 10
        })
        .await;
        r
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/v1/campaigns/{}{rest}", self.campaign)
    }

    fn id(&self, surname: &str) -> &str {
        &self.educators[surname]
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        call(self.p, Method::GET, path, Some(token), None).await
    }

    async fn send(&self, method: Method, token: &str, path: &str, body: Value) -> (u16, Value) {
        call(self.p, method, path, Some(token), Some(body)).await
    }

    /// An educator's token (a login with the educator's role).
    async fn educator(&self, surname: &str) -> String {
        let login = format!("t-{}", self.id(surname));
        user(self.p, &self.admin, &login, "educator", self.id(surname))
            .await
            .1
    }

    /// Confirms the three organizations' lists, organization 0 without `Дмитриева`.
    async fn confirm_all(&self) {
        let (s, b) = self
            .send(
                Method::PUT,
                &self.org_operators[0],
                &self.path(&format!("/candidates/{}/exclusion", self.id("Дмитриева"))),
                json!({"reason": "leave"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        for (i, org) in self.world.orgs.iter().enumerate() {
            let path = self.path(&format!("/candidate-lists/{org}/confirmation"));
            let (s, b) = self
                .send(Method::POST, &self.org_operators[i], &path, json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["confirmed"], true);
        }
    }

    /// Funds `places` places with a reserve share, and runs the allocation.
    async fn fund_and_allocate(&self, budget: i64, normative: i64, reserve: i32) -> Value {
        let (s, f) = self
            .send(Method::PUT, &self.ministry, &self.path("/funding"), json!({"budget_kopecks": budget, "normative_cost_kopecks": normative, "reserve_percent": reserve}))
            .await;
        assert_eq!(s, 200, "{f}");
        let (s, a) = self
            .send(
                Method::POST,
                &self.ministry,
                &self.path("/allocation"),
                json!({}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        a
    }

    /// The numbers of a scope by holder's surname.
    async fn numbers(&self, token: &str, query: &str) -> Vec<(String, String, String)> {
        let (s, b) = self
            .get(token, &self.path(&format!("/unique-numbers{query}")))
            .await;
        assert_eq!(s, 200, "{b}");
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let surname = n["educator_name"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_owned();
                (
                    surname,
                    n["number"].as_str().unwrap().to_owned(),
                    n["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Moves every service's clock `days` (and a minute) on: the places
    /// freed until now are that much older.
    fn age_free_places(&self, days: i64) {
        let by = chrono::Duration::days(days) + chrono::Duration::minutes(1);
        self.p.env.settings.clock.advance(by);
    }

    /// The educator's approved refusal; returns the freed place's id.
    async fn refuse(&self, surname: &str, org_operator: &str) -> String {
        let token = self.educator(surname).await;
        let (s, r) = self
            .send(
                Method::POST,
                &token,
                &self.path("/refusals"),
                json!({"reason": "болезнь"}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        let (s, d) = self
            .send(
                Method::POST,
                org_operator,
                &format!("/api/v1/refusals/{}/decision", r["id"].as_str().unwrap()),
                json!({"approve": true}),
            )
            .await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["status"], "approved");
        let (s, places) = self
            .get(&self.operator, &self.path("/free-places?status=open"))
            .await;
        assert_eq!(s, 200, "{places}");
        places["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["freed_number"] == r["number"])
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .expect("the refused number's place is open")
    }
}

#[tokio::test]
async fn candidates_are_due_by_date_confirmed_with_exclusions_and_seen_by_scope() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "A1", "un_quota").await;
    let org0 = &r.org_operators[0];

    // Organization 0: five due; the one whose PD ended exactly three years
    // before the campaign year is not, the one a day earlier is.
    let (s, b) = r.get(org0, &r.path("/candidates")).await;
    assert_eq!(s, 200, "{b}");
    let names: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(b["total"], 5, "{b}");
    assert!(!names.iter().any(|n| n.starts_with("Громова")), "{names:?}");
    // The published order: no PD first (by name), then the earliest.
    let order: Vec<&str> = names.iter().map(|n| n.split(' ').next().unwrap()).collect();
    assert_eq!(
        order,
        ["Алексеева", "Егорова", "Борисова", "Дмитриева", "Васильева"]
    );
    assert_eq!(b["items"][2]["rank"], 3);

    // Exclusions need a known reason; "other" needs a note.
    let excl = r.path(&format!("/candidates/{}/exclusion", r.id("Дмитриева")));
    let (s, b) = r
        .send(Method::PUT, org0, &excl, json!({"reason": "bored"}))
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("reason")),
        "{b}"
    );
    let (s, b) = r
        .send(Method::PUT, org0, &excl, json!({"reason": "other"}))
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("note")),
        "{b}"
    );

    // Forbidden actors: another organization's operator, a municipal
    // operator (sees but does not decide), an educator, another region.
    let (s, _) = r
        .send(
            Method::PUT,
            &r.org_operators[2],
            &excl,
            json!({"reason": "leave"}),
        )
        .await;
    assert_eq!(
        s, 404,
        "another organization's candidate is not even visible"
    );
    let (s, _) = r
        .send(
            Method::PUT,
            &r.muni_operators[0],
            &excl,
            json!({"reason": "leave"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = r
        .get(
            &r.org_operators[2],
            &r.path(&format!("/candidates?organization_id={}", r.world.orgs[0])),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = r
        .get(
            &r.muni_operators[1],
            &r.path(&format!("/candidates?organization_id={}", r.world.orgs[0])),
        )
        .await;
    assert_eq!(s, 403);
    let teacher = r.educator("Алексеева").await;
    let (s, _) = r.get(&teacher, &r.path("/candidates")).await;
    assert_eq!(s, 403);
    let admin = r.admin.clone();
    let other = build_world(&p, &admin, "A2").await;
    let (_, stranger) = user(&p, &admin, "stranger", "regional_operator", &other.region).await;
    let (s, _) = r.get(&stranger, &r.path("/candidates")).await;
    assert_eq!(
        s, 404,
        "another region's campaign is unknown to its operators"
    );

    let (s, b) = r
        .send(
            Method::PUT,
            org0,
            &excl,
            json!({"reason": "leave", "note": "отпуск по уходу за ребёнком"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["exclusion_reason"].as_str()),
        (Some("excluded"), Some("leave"))
    );
    // Put back and taken off again: an exclusion is undone before confirmation.
    let (s, b) = call(&p, Method::DELETE, &excl, Some(org0), None).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("included")), "{b}");
    let (s, _) = r
        .send(Method::PUT, org0, &excl, json!({"reason": "leave"}))
        .await;
    assert_eq!(s, 200);

    // Confirmation: once, by the organization's operator; then the list is fixed.
    let (_client, mut confirmed) = subscribe_to(&p, "allocation", "candidate_list_confirmed").await;
    let confirm = r.path(&format!(
        "/candidate-lists/{}/confirmation",
        r.world.orgs[0]
    ));
    let (s, _) = r
        .send(Method::POST, &r.muni_operators[0], &confirm, json!({}))
        .await;
    assert_eq!(s, 403);
    let (s, b) = r.send(Method::POST, org0, &confirm, json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["included"].as_i64(),
            b["excluded"].as_i64(),
            b["confirmed_count"].as_i64()
        ),
        (Some(4), Some(1), Some(4)),
        "{b}"
    );
    let event: pb::CandidateListConfirmed = next_event(&mut confirmed).await;
    assert_eq!(event.list.unwrap().confirmed_count, 4);
    let (s, _) = r.send(Method::POST, org0, &confirm, json!({})).await;
    assert_eq!(s, 409);
    let (s, b) = call(&p, Method::DELETE, &excl, Some(org0), None).await;
    assert_eq!(s, 409, "{b}");

    // The municipal operator sees the state of every list of the municipality.
    let (s, b) = r
        .get(&r.muni_operators[0], &r.path("/candidate-lists"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["organizations"].as_i64(),
            b["confirmed_organizations"].as_i64()
        ),
        (Some(2), Some(1)),
        "{b}"
    );
    assert_eq!(
        (b["candidates"].as_i64(), b["excluded"].as_i64()),
        (Some(8), Some(1))
    );
    let org0_state = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organization_id"] == r.world.orgs[0].as_str())
        .unwrap();
    assert_eq!(org0_state["reasons"]["leave"], 1, "{org0_state}");
    let (s, b) = r
        .get(&r.operator, &r.path("/candidate-lists?state=unconfirmed"))
        .await;
    assert_eq!((s, b["total"].as_i64()), (200, Some(2)), "{b}");

    // A changed PD date makes a candidate not due (recomputed from identity's events).
    let (s, e) = r
        .send(
            Method::PATCH,
            &admin,
            &format!("/api/v1/educators/{}", r.id("Иванова")),
            json!({"last_pd_completed_on": chrono_today().to_string()}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    eventually(
        &p,
        &r.operator,
        &r.path(&format!("/candidates?organization_id={}", r.world.orgs[1])),
        |s, b| s == 200 && b["total"] == 2,
    )
    .await;
    p.stop().await;
}

#[tokio::test]
async fn quotas_add_up_numbers_go_in_order_and_catch_typos() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "B1", "un_quota").await;
    r.confirm_all().await;

    // Forbidden: funding is the ministry's, the run the region's managers'.
    let (s, _) = r
        .send(
            Method::PUT,
            &r.operator,
            &r.path("/funding"),
            json!({"budget_kopecks": 1, "normative_cost_kopecks": 1}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &r.path("/allocation"),
            json!({}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = r
        .send(Method::POST, &r.ministry, &r.path("/allocation"), json!({}))
        .await;
    assert_eq!(s, 409, "no funding yet: {b}");
    let (s, b) = r
        .send(
            Method::PUT,
            &r.ministry,
            &r.path("/funding"),
            json!({"budget_kopecks": 100, "normative_cost_kopecks": 0, "reserve_percent": 60}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"].as_array().unwrap().len(), 2, "{b}");
    let huge =
        json!({"budget_kopecks": i64::MAX, "normative_cost_kopecks": 1, "reserve_percent": 50});
    let (s, b) = r
        .send(Method::PUT, &r.ministry, &r.path("/funding"), huge)
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("budget_kopecks")),
        "{b}"
    );

    // 165,000 ₽ at 30,000 ₽ a place: 5 places, 20 % reserve → 1, 4 to share
    // over 9 confirmed candidates (municipality 0: 4 + 3, municipality 1: 2).
    let (_client, mut assigned) = subscribe_to(&p, "allocation", "unique_number_assigned").await;
    let a = r.fund_and_allocate(16_500_000, 3_000_000, 20).await;
    assert_eq!(
        (
            a["funded_places"].as_i64(),
            a["reserve_places"].as_i64(),
            a["numbers_assigned"].as_i64()
        ),
        (Some(5), Some(1), Some(4)),
        "{a}"
    );
    let first: pb::UniqueNumberAssigned = next_event(&mut assigned).await;
    assert_eq!(first.unique_number.unwrap().status, "assigned");
    let (s, f) = r.get(&r.org_operators[0], &r.path("/funding")).await;
    assert_eq!((s, f["funded_places"].as_i64()), (200, Some(5)), "{f}");
    assert!(f["explanation"].as_str().unwrap().contains("= 5"), "{f}");

    // Municipalities: exact 4×7/9 = 3.11 and 4×2/9 = 0.88; floors 3 + 0, the
    // one place left goes to the larger remainder (municipality 1).
    let (s, q) = r
        .get(&r.muni_operators[0], &r.path("/quotas?level=municipality"))
        .await;
    assert_eq!(s, 200, "{q}");
    let by_unit = |q: &Value, id: &str| {
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["unit_id"] == id)
            .cloned()
            .unwrap()
    };
    let m0 = by_unit(&q, &r.world.municipalities[0]);
    let m1 = by_unit(&q, &r.world.municipalities[1]);
    assert_eq!(
        (
            m0["quota"].as_i64(),
            m0["exact_share"].as_str(),
            m0["extra_place"].as_bool()
        ),
        (Some(3), Some("3.11"), Some(false)),
        "{m0}"
    );
    assert_eq!(
        (
            m1["quota"].as_i64(),
            m1["exact_share"].as_str(),
            m1["remainder_rank"].as_i64()
        ),
        (Some(1), Some("0.88"), Some(1)),
        "{m1}"
    );
    assert!(q["rule"].as_str().unwrap().contains("наибольшего остатка"));
    // Organizations of municipality 0: 3 places over 4 and 3 → 1.71 and 1.28 → 2 and 1.
    let (s, q) = r
        .get(&r.operator, &r.path("/quotas?level=organization"))
        .await;
    assert_eq!(s, 200, "{q}");
    let quotas: Vec<i64> = r
        .world
        .orgs
        .iter()
        .map(|o| by_unit(&q, o)["quota"].as_i64().unwrap())
        .collect();
    assert_eq!(quotas, [2, 1, 1]);
    assert_eq!(
        quotas.iter().sum::<i64>(),
        4,
        "the parts add up to the places shared"
    );
    let (s, _) = r
        .get(
            &r.org_operators[0],
            &r.path(&format!(
                "/quotas?level=organization&municipality_id={}",
                r.world.municipalities[1]
            )),
        )
        .await;
    assert_eq!(s, 403);

    // Numbers follow the order: never trained first, then by name.
    let org0 = r.numbers(&r.org_operators[0], "").await;
    let holders: Vec<&str> = org0.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(holders, ["Алексеева", "Егорова"]);
    let everyone = r.numbers(&r.operator, "").await;
    assert_eq!(everyone.len(), 4);
    assert!(everyone.iter().any(|n| n.0 == "Жукова") && everyone.iter().any(|n| n.0 == "Козлова"));
    let (s, b) = r
        .get(
            &r.muni_operators[1],
            &r.path(&format!(
                "/unique-numbers?organization_id={}",
                r.world.orgs[0]
            )),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = r
        .send(Method::POST, &r.ministry, &r.path("/allocation"), json!({}))
        .await;
    assert_eq!(s, 409, "allocated once: {b}");

    // The educator sees their number; one mistyped character is caught.
    let alekseeva = r.educator("Алексеева").await;
    let (s, me) = r.get(&alekseeva, &r.path("/allocation/me")).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(
        (
            me["status"].as_str(),
            me["unique_number"]["number"].as_str()
        ),
        (Some("funded"), Some(org0[0].1.as_str())),
        "{me}"
    );
    let number = org0[0].1.clone();
    let (s, b) = r
        .get(
            &alekseeva,
            &format!(
                "/api/v1/unique-numbers/{}",
                number.to_lowercase().replace('-', "")
            ),
        )
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("assigned")), "{b}");
    let typo = {
        let mut chars: Vec<char> = number.chars().collect();
        chars[5] = if chars[5] == '7' { '8' } else { '7' };
        chars.into_iter().collect::<String>()
    };
    let (s, b) = r
        .get(&alekseeva, &format!("/api/v1/unique-numbers/{typo}"))
        .await;
    assert_eq!(
        (s, b["reason"].as_str()),
        (422, Some("check_character")),
        "{b}"
    );
    let (s, _) = r.get(&alekseeva, "/api/v1/unique-numbers/ABC").await;
    assert_eq!(s, 422);
    // An application using the number marks it used; a used number cannot be refused.
    let egorova = r.educator("Егорова").await;
    let (s, n) = r
        .get(&egorova, &format!("/api/v1/unique-numbers/{}", org0[1].1))
        .await;
    assert_eq!(s, 200, "{n}");
    let application = enrollment::ApplicationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: r.campaign.clone(),
        educator_id: r.id("Егорова").to_owned(),
        organization_id: r.world.orgs[0].clone(),
        unique_number_id: n["id"].as_str().unwrap().to_owned(),
        status: "submitted".into(),
        ..Default::default()
    };
    application_event(&p, "application_submitted", 1, &application).await;
    let path = format!("/api/v1/unique-numbers/{}", org0[1].1);
    eventually(&p, &egorova, &path, |s, b| {
        s == 200 && b["status"] == "used"
    })
    .await;
    let (s, b) = r
        .send(
            Method::POST,
            &egorova,
            &r.path("/refusals"),
            json!({"reason": "болезнь"}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let kozlova = everyone.iter().find(|n| n.0 == "Козлова").unwrap();
    let (s, _) = r
        .get(&alekseeva, &format!("/api/v1/unique-numbers/{}", kozlova.1))
        .await;
    assert_eq!(s, 404, "someone else's number is not shown");

    // Not funded this year: the place in the order, the quota and why.
    let borisova = r.educator("Борисова").await;
    let (s, me) = r.get(&borisova, &r.path("/allocation/me")).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(
        (
            me["status"].as_str(),
            me["rank"].as_i64(),
            me["organization_quota"].as_i64(),
            me["organization_candidates"].as_i64()
        ),
        (Some("waiting"), Some(3), Some(2), Some(4)),
        "{me}"
    );
    assert!(
        me["explanation"].as_str().unwrap().contains("01.03."),
        "{me}"
    );
    let gromova = r.educator("Громова").await;
    let (s, me) = r.get(&gromova, &r.path("/allocation/me")).await;
    assert_eq!((s, me["status"].as_str()), (200, Some("not_due")), "{me}");
    // It names the year of training (the campaign's next) and the date
    // her PD would have had to end before.
    let year = r.year;
    let explanation = me["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.contains(&format!("в {} году", year + 1))
            && explanation.contains(&format!("до 01.01.{}", year - 2)),
        "{me}"
    );

    // The reserve waits for the regional operator.
    let (s, places) = r.get(&r.operator, &r.path("/free-places")).await;
    assert_eq!(s, 200, "{places}");
    assert_eq!(places["total"], 1);
    assert_eq!(places["items"][0]["level"], "region");
    let reserve = format!(
        "/api/v1/free-places/{}/assignment",
        places["items"][0]["id"].as_str().unwrap()
    );
    let to_borisova = json!({"educator_id": r.id("Борисова")});
    let (s, _) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &reserve,
            to_borisova.clone(),
        )
        .await;
    assert_eq!(
        s, 404,
        "the reserve is the region's: not even visible to an organization"
    );
    let (s, n) = r
        .send(Method::POST, &r.operator, &reserve, to_borisova)
        .await;
    assert_eq!(
        (s, n["assigned_by_level"].as_str()),
        (201, Some("region")),
        "{n}"
    );
    let (s, me) = r.get(&borisova, &r.path("/allocation/me")).await;
    assert_eq!((s, me["status"].as_str()), (200, Some("funded")), "{me}");

    // Forbidden actors: educators and providers see no lists, funding or
    // quotas; nobody but the ministry and the region's operator runs anything.
    let admin = r.admin.clone();
    let inn = pd_domain::Inn::from_body(165_900_001).unwrap();
    let (s, pr) = call(&p, Method::POST, "/api/v1/providers", Some(&admin), Some(json!({"region_id": r.world.region, "name": "ИРО", "inn": inn.as_str(), "licence_number": "Л035-03"}))).await;
    assert_eq!(s, 201, "{pr}");
    let (_, provider) = user(
        &p,
        &admin,
        "provider",
        "provider_admin",
        pr["id"].as_str().unwrap(),
    )
    .await;
    for token in [&alekseeva, &provider] {
        for path in [
            "/candidates",
            "/candidate-lists",
            "/funding",
            "/quotas",
            "/unique-numbers",
            "/refusals",
            "/free-places",
        ] {
            let (s, b) = r.get(token, &r.path(path)).await;
            assert_eq!(s, 403, "{path}: {b}");
        }
        let (s, _) = r
            .send(Method::POST, token, &r.path("/allocation"), json!({}))
            .await;
        assert_eq!(s, 403);
    }
    let (s, _) = r.get(&provider, &r.path("/allocation/me")).await;
    assert_eq!(s, 403, "only educators have an allocation of their own");

    // Once the application phase is over (it ends on day 13 of this
    // calendar), an unused number shows as expired.
    p.env.settings.clock.advance(chrono::Duration::days(15));
    let expired = r.numbers(&r.operator, "?status=expired").await;
    let mut holders: Vec<&str> = expired.iter().map(|n| n.0.as_str()).collect();
    holders.sort();
    assert_eq!(
        holders,
        ["Алексеева", "Борисова", "Жукова", "Козлова"],
        "Егорова's number is used"
    );
    // Nor can it be refused and handed on any more.
    let zhukova = r.educator("Жукова").await;
    let (s, b) = r
        .send(
            Method::POST,
            &zhukova,
            &r.path("/refusals"),
            json!({"reason": "болезнь"}),
        )
        .await;
    assert_eq!(
        (s, b["reason"].as_str(), b["phase"].as_str()),
        (409, Some("phase_over"), Some("applications")),
        "{b}"
    );
    p.stop().await;
}

#[tokio::test]
async fn a_refused_number_is_reassigned_by_the_org_then_the_municipality_then_the_region() {
    // Two days for the organization and two for the municipality, so the
    // whole cascade runs before the application phase (days 7 to 13) ends.
    let p = Platform::start_with(true, |s| {
        s.allocation.organization_days = 2;
        s.allocation.municipality_days = 2;
    })
    .await
    .unwrap();
    let r = Region::open(&p, "C1", "un_quota").await;
    r.confirm_all().await;
    // 6 places, no reserve: municipality 0 gets 5 (O0 3, O1 2), municipality 1 one.
    r.fund_and_allocate(18_000_000, 3_000_000, 0).await;
    let holders: Vec<String> = r
        .numbers(&r.operator, "")
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(holders.len(), 6, "{holders:?}");

    // A refusal needs a number and a reason; the org's operator decides.
    let vasilieva = r.educator("Васильева").await;
    let (s, b) = r
        .send(
            Method::POST,
            &vasilieva,
            &r.path("/refusals"),
            json!({"reason": "отпуск"}),
        )
        .await;
    assert_eq!(s, 409, "no number, nothing to refuse: {b}");
    let alekseeva = r.educator("Алексеева").await;
    let (s, b) = r
        .send(
            Method::POST,
            &alekseeva,
            &r.path("/refusals"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let (s, refusal) = r
        .send(
            Method::POST,
            &alekseeva,
            &r.path("/refusals"),
            json!({"reason": "болезнь"}),
        )
        .await;
    assert_eq!(s, 201, "{refusal}");
    let (s, _) = r
        .send(
            Method::POST,
            &alekseeva,
            &r.path("/refusals"),
            json!({"reason": "болезнь"}),
        )
        .await;
    assert_eq!(s, 409, "one open request at a time");
    let decision = format!(
        "/api/v1/refusals/{}/decision",
        refusal["id"].as_str().unwrap()
    );
    let (s, _) = r
        .send(
            Method::POST,
            &r.muni_operators[0],
            &decision,
            json!({"approve": true}),
        )
        .await;
    assert_eq!(s, 403, "the organization's operator decides");
    let (s, _) = r
        .send(
            Method::POST,
            &r.org_operators[2],
            &decision,
            json!({"approve": true}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &decision,
            json!({"approve": false}),
        )
        .await;
    assert_eq!(s, 422, "a rejection needs a note: {b}");
    let (_client, mut freed) = subscribe_to(&p, "allocation", "place_freed").await;
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &decision,
            json!({"approve": true}),
        )
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("approved")), "{b}");
    let event: pb::PlaceFreed = next_event(&mut freed).await;
    let place = event.place.unwrap();
    assert_eq!(place.level, "organization");
    let (s, me) = r.get(&alekseeva, &r.path("/allocation/me")).await;
    assert_eq!(
        (
            s,
            me["status"].as_str(),
            me["unique_number"]["status"].as_str()
        ),
        (200, Some("refused"), Some("refused")),
        "{me}"
    );

    // The organization's turn: only its operator, only its own candidates.
    let assign = format!("/api/v1/free-places/{}/assignment", place.id);
    let (s, b) = r
        .send(
            Method::POST,
            &r.muni_operators[0],
            &assign,
            json!({"educator_id": r.id("Васильева")}),
        )
        .await;
    assert_eq!((s, b["level"].as_str()), (403, Some("organization")), "{b}");
    let (s, _) = r
        .send(
            Method::POST,
            &r.operator,
            &assign,
            json!({"educator_id": r.id("Васильева")}),
        )
        .await;
    assert_eq!(s, 403, "the region waits for its turn");
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Иванова")}),
        )
        .await;
    assert_eq!(s, 422, "another organization's candidate: {b}");
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Егорова")}),
        )
        .await;
    assert_eq!(s, 409, "already funded: {b}");
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Дмитриева")}),
        )
        .await;
    assert_eq!(s, 422, "excluded from the list: {b}");
    let refused = json!({"educator_id": r.id("Алексеева")});
    let (s, b) = r
        .send(Method::POST, &r.org_operators[0], &assign, refused)
        .await;
    assert_eq!(s, 409, "refused for the year: {b}");
    let (s, b) = r
        .get(
            &r.org_operators[0],
            &r.path("/candidates?status=included&unfunded_only=true"),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let waiting: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        waiting,
        ["Васильева"],
        "neither the funded nor the one who refused"
    );
    let (s, n) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Васильева")}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    assert_eq!(
        (
            n["assigned_by_level"].as_str(),
            n["replaces_number"].as_str()
        ),
        (Some("organization"), Some(place.freed_number.as_str())),
        "{n}"
    );
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Борисова")}),
        )
        .await;
    assert_eq!(s, 409, "taken: {b}");
    let statuses = r.numbers(&r.operator, "?status=reassigned").await;
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].0, "Алексеева");

    // Left alone past the organization's window: the municipality's turn,
    // within the municipality.
    let place = r.refuse("Егорова", &r.org_operators[0]).await;
    let (_client, mut escalated) = subscribe_to(&p, "allocation", "place_escalated").await;
    r.age_free_places(2);
    let assign = format!("/api/v1/free-places/{place}/assignment");
    let (s, _) = r
        .send(
            Method::POST,
            &r.org_operators[0],
            &assign,
            json!({"educator_id": r.id("Борисова")}),
        )
        .await;
    assert_eq!(s, 403, "the organization's window is over");
    // The handover is recorded and published once.
    let handover: pb::PlaceEscalated = next_event(&mut escalated).await;
    let moved = handover.place.unwrap();
    assert_eq!(
        (
            handover.from_level.as_str(),
            moved.level.as_str(),
            moved.id.as_str()
        ),
        ("organization", "municipality", place.as_str())
    );
    let (s, b) = r
        .send(
            Method::POST,
            &r.muni_operators[0],
            &assign,
            json!({"educator_id": r.id("Лебедева")}),
        )
        .await;
    assert_eq!(s, 422, "another municipality's candidate: {b}");
    let (s, n) = r
        .send(
            Method::POST,
            &r.muni_operators[0],
            &assign,
            json!({"educator_id": r.id("Иванова")}),
        )
        .await;
    assert_eq!(
        (s, n["assigned_by_level"].as_str()),
        (201, Some("municipality")),
        "{n}"
    );

    // Past the municipality's window too: the region's turn, anywhere.
    let place = r.refuse("Жукова", &r.org_operators[1]).await;
    // Freed by the moved clock, the place starts at the organization's turn.
    let (s, open) = r
        .get(&r.operator, &r.path("/free-places?status=open"))
        .await;
    let fresh = open["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == place.as_str()));
    assert_eq!(
        (s, fresh.and_then(|f| f["level"].as_str())),
        (200, Some("organization")),
        "{open}"
    );
    r.age_free_places(4);
    let assign = format!("/api/v1/free-places/{place}/assignment");
    let (s, _) = r
        .send(
            Method::POST,
            &r.muni_operators[0],
            &assign,
            json!({"educator_id": r.id("Борисова")}),
        )
        .await;
    assert_eq!(s, 403, "the municipality's window is over");
    let (_client, mut reassigned) = subscribe_to(&p, "allocation", "place_reassigned").await;
    let (s, n) = r
        .send(
            Method::POST,
            &r.operator,
            &assign,
            json!({"educator_id": r.id("Лебедева")}),
        )
        .await;
    assert_eq!(
        (s, n["assigned_by_level"].as_str()),
        (201, Some("region")),
        "{n}"
    );
    let event: pb::PlaceReassigned = next_event(&mut reassigned).await;
    assert_eq!(
        event.unique_number.unwrap().number,
        n["number"].as_str().unwrap()
    );
    assert_eq!(event.place.unwrap().status, "taken");

    let (s, b) = r
        .get(&r.muni_operators[0], &r.path("/refusals?status=approved"))
        .await;
    assert_eq!((s, b["total"].as_i64()), (200, Some(3)), "{b}");

    // A refusal asked for, then an application uses the number: approving
    // it now would fund the place twice.
    let kozlova = r.educator("Козлова").await;
    let (s, refusal) = r
        .send(
            Method::POST,
            &kozlova,
            &r.path("/refusals"),
            json!({"reason": "переезд"}),
        )
        .await;
    assert_eq!(s, 201, "{refusal}");
    let (s, mine) = r.get(&kozlova, &r.path("/allocation/me")).await;
    assert_eq!(s, 200, "{mine}");
    let number = mine["unique_number"]["number"].as_str().unwrap().to_owned();
    let application = enrollment::ApplicationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: r.campaign.clone(),
        educator_id: r.id("Козлова").to_owned(),
        organization_id: r.world.orgs[2].clone(),
        unique_number_id: mine["unique_number"]["id"].as_str().unwrap().to_owned(),
        status: "submitted".into(),
        ..Default::default()
    };
    application_event(&p, "application_submitted", 1, &application).await;
    eventually(
        &p,
        &kozlova,
        &format!("/api/v1/unique-numbers/{number}"),
        |s, b| s == 200 && b["status"] == "used",
    )
    .await;
    let decision = format!(
        "/api/v1/refusals/{}/decision",
        refusal["id"].as_str().unwrap()
    );
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[2],
            &decision,
            json!({"approve": true}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = r
        .get(&r.operator, &r.path("/free-places?status=open"))
        .await;
    assert_eq!(
        (s, b["total"].as_i64()),
        (200, Some(0)),
        "nothing freed: {b}"
    );

    // After the application phase a number is neither freed nor handed on:
    // a refusal asked for in the window is not approved after it, and a
    // place still open is not assigned.
    let with_login = ["Васильева", "Алексеева", "Егорова", "Жукова", "Козлова"];
    let unused: Vec<String> = r
        .numbers(&r.operator, "?status=assigned")
        .await
        .into_iter()
        .map(|n| n.0)
        .filter(|n| !with_login.contains(&n.as_str()))
        .collect();
    assert!(unused.len() >= 2, "{unused:?}");
    // An operator records an educator's refusal on their behalf (seed 002),
    // approved as recorded: the place is freed at once. The municipal
    // operator sees the educator but does not decide for the organization
    // (403); another municipality's does not see them (404).
    let org = people(r.year)
        .into_iter()
        .find(|person| person.0 == unused[0])
        .map(|person| person.1)
        .expect("one of the people");
    let muni = usize::from(org == 2);
    // The educator moves to another organization after the number was
    // given: the number stays the first organization's, and so does the
    // refusal (its list, its decision, its freed place). The new
    // organization's operator, once allocation knows of the move, cannot
    // record it.
    let moved_to = if org == 1 { 0 } else { 1 };
    let (s, e) = r
        .send(
            Method::PATCH,
            &r.admin,
            &format!("/api/v1/educators/{}", r.id(&unused[0])),
            json!({"organization_id": r.world.orgs[moved_to]}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    let moved = r.path(&format!(
        "/candidates?organization_id={}",
        r.world.orgs[moved_to]
    ));
    let id0 = r.id(&unused[0]).to_owned();
    eventually(r.p, &r.operator, &moved, |s, b| {
        s == 200
            && b["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|c| c["educator_id"] == id0.as_str()))
    })
    .await;
    let body = json!({"reason": "по заявлению педагога", "educator_id": r.id(&unused[0])});
    let (s, b) = r
        .send(
            Method::POST,
            &r.org_operators[moved_to],
            &r.path("/refusals"),
            body.clone(),
        )
        .await;
    assert_eq!(s, 404, "the number is not the new organization's: {b}");
    for (token, status) in [
        (&r.muni_operators[1 - muni], 404),
        (&r.muni_operators[muni], 403),
    ] {
        let (s, b) = r
            .send(Method::POST, token, &r.path("/refusals"), body.clone())
            .await;
        assert_eq!(s, status, "{b}");
    }
    // Sent under a key, and again when the answer is lost: one refusal.
    let record = || async {
        let r =
            r.p.http
                .post(r.p.url(&r.path("/refusals")))
                .bearer_auth(&r.org_operators[org])
                .header("idempotency-key", "record-refusal-1")
                .json(&body)
                .send()
                .await
                .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    };
    let (s, recorded) = record().await;
    assert_eq!(
        (
            s,
            recorded["status"].as_str(),
            recorded["educator_id"].as_str()
        ),
        (201, Some("approved"), Some(r.id(&unused[0]))),
        "{recorded}"
    );
    let (s, again) = record().await;
    assert_eq!((s, &again["id"]), (201, &recorded["id"]), "{again}");
    let (s, open) = r
        .get(&r.operator, &r.path("/free-places?status=open"))
        .await;
    assert_eq!(s, 200, "{open}");
    let open_place = open["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["freed_number"] == recorded["number"])
        })
        .and_then(|i| i["id"].as_str())
        .expect("the recorded refusal frees its place")
        .to_owned();
    let freed = open["items"].as_array().map_or(0, |items| {
        let of_number = |i: &&Value| i["freed_number"] == recorded["number"];
        items.iter().filter(of_number).count()
    });
    assert_eq!(freed, 1, "the retry freed no second place: {open}");
    let token = r.educator(&unused[1]).await;
    let (s, pending) = r
        .send(
            Method::POST,
            &token,
            &r.path("/refusals"),
            json!({"reason": "переезд"}),
        )
        .await;
    assert_eq!(s, 201, "{pending}");
    p.env.settings.clock.advance(chrono::Duration::days(10));
    let decision = format!(
        "/api/v1/refusals/{}/decision",
        pending["id"].as_str().unwrap()
    );
    let (s, b) = r
        .send(
            Method::POST,
            &r.operator,
            &decision,
            json!({"approve": true}),
        )
        .await;
    assert_eq!((s, b["reason"].as_str()), (409, Some("phase_over")), "{b}");
    let (s, b) = r
        .send(
            Method::POST,
            &r.operator,
            &format!("/api/v1/free-places/{open_place}/assignment"),
            json!({"educator_id": r.id("Дмитриева")}),
        )
        .await;
    assert_eq!((s, b["reason"].as_str()), (409, Some("phase_over")), "{b}");
    p.stop().await;
}

#[tokio::test]
async fn vouchers_have_a_subject_block_or_an_internship_and_cost_by_the_hour() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "D1", "voucher_hours").await;
    r.confirm_all().await;
    // 100 ₽ an hour: a place is a 72-hour voucher (7,200 ₽); 10 places
    // (720 h) pay for eight 72-hour vouchers and a 90-hour one.
    let (s, f) = r
        .send(
            Method::PUT,
            &r.ministry,
            &r.path("/funding"),
            json!({"budget_kopecks": 7_200_000, "normative_cost_kopecks": 10_000}),
        )
        .await;
    assert_eq!((s, f["funded_places"].as_i64()), (200, Some(10)), "{f}");
    let (s, a) = r
        .send(Method::POST, &r.ministry, &r.path("/allocation"), json!({}))
        .await;
    assert_eq!(
        (s, a["numbers_assigned"].as_i64()),
        (201, Some(9)),
        "everyone confirmed is funded: {a}"
    );
    assert_eq!(a["unused_places"], 1);

    let teacher = r.educator("Козлова").await;
    let (s, me) = r.get(&teacher, &r.path("/allocation/me")).await;
    assert_eq!(s, 200, "{me}");
    let v = &me["voucher"];
    assert_eq!(
        (
            v["hours"].as_i64(),
            v["hours_left"].as_i64(),
            v["cost_kopecks"].as_i64()
        ),
        (Some(72), Some(72), Some(720_000)),
        "{me}"
    );
    let kinds: Vec<(&str, i64)> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["kind"].as_str().unwrap(), b["hours"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("subject", 36), ("free", 36)]);

    // Spending a block and withdrawing give exact balances, whatever the replays.
    let spend = enrollment::ApplicationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: r.campaign.clone(),
        educator_id: r.id("Козлова").to_owned(),
        organization_id: r.world.orgs[2].clone(),
        unique_number_id: v["id"].as_str().unwrap().to_owned(),
        voucher_blocks: vec![1],
        status: "submitted".into(),
        ..Default::default()
    };
    let me_path = r.path("/allocation/me");
    application_event(&p, "application_submitted", 1, &spend).await;
    application_event(&p, "application_submitted", 1, &spend).await;
    let me = eventually(&p, &teacher, &me_path, |s, b| {
        s == 200 && b["voucher"]["hours_left"] == 36
    })
    .await;
    assert_eq!(me["voucher"]["blocks"][0]["status"], "spent", "{me}");
    assert_eq!(
        me["voucher"]["blocks"][0]["application_id"],
        spend.id.as_str()
    );
    // A voucher being spent is used: it can no longer be refused.
    assert_eq!(me["unique_number"]["status"], "used", "{me}");
    let (s, b) = r
        .send(
            Method::POST,
            &teacher,
            &r.path("/refusals"),
            json!({"reason": "болезнь"}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let withdrawn = enrollment::ApplicationSnapshot {
        status: "withdrawn".into(),
        ..spend.clone()
    };
    application_event(&p, "application_withdrawn", 2, &withdrawn).await;
    // A late copy of the submission (an older version) changes nothing.
    application_event(&p, "application_submitted", 1, &spend).await;
    let marker = enrollment::ApplicationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        voucher_blocks: vec![2],
        ..spend.clone()
    };
    application_event(&p, "application_submitted", 1, &marker).await;
    let me = eventually(&p, &teacher, &me_path, |s, b| {
        s == 200 && b["voucher"]["blocks"][1]["status"] == "spent"
    })
    .await;
    assert_eq!(
        me["voucher"]["hours_left"], 36,
        "block 1 given back, block 2 spent: {me}"
    );
    assert_eq!(me["voucher"]["blocks"][0]["status"], "open");

    let master = r.educator("Лебедева").await;
    let (s, me) = r.get(&master, &r.path("/allocation/me")).await;
    assert_eq!(s, 200, "{me}");
    let v = &me["voucher"];
    assert_eq!(
        (v["hours"].as_i64(), v["cost_kopecks"].as_i64()),
        (Some(90), Some(900_000)),
        "{me}"
    );
    let kinds: Vec<(&str, i64)> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["kind"].as_str().unwrap(), b["hours"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("free", 36), ("internship", 54)]);
    // Enrollment learns the blocks from the assignment events.
    let assigned = p
        .env
        .events("allocation", "unique_number_assigned")
        .await
        .unwrap();
    let master_id = v["id"].as_str().unwrap();
    let event = assigned
        .iter()
        .map(|bytes| {
            use pd_proto::Message;
            let env = pd_proto::common::v1::EventEnvelope::decode(bytes.as_slice()).unwrap();
            pb::UniqueNumberAssigned::decode(env.payload.as_slice()).unwrap()
        })
        .find(|e| e.unique_number.as_ref().is_some_and(|n| n.id == master_id))
        .expect("the master's voucher was announced");
    let kinds: Vec<(&str, i32)> = event
        .voucher_blocks
        .iter()
        .map(|b| (b.kind.as_str(), b.hours))
        .collect();
    assert_eq!(kinds, [("free", 36), ("internship", 54)]);
    p.stop().await;
}

/// Places are counted as 72-hour vouchers; when a 90-hour voucher would
/// take the cost past the budget, the last in its organization's order
/// goes without, and is told why.
#[tokio::test]
async fn ninety_hour_vouchers_never_take_the_cost_past_the_budget() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "D2", "voucher_hours").await;
    r.confirm_all().await;
    // 9 places = 648 h for nine candidates, one of them a master (90 h):
    // 8 × 72 + 90 = 666 h would be 1,800 ₽ over.
    let a = r.fund_and_allocate(6_480_000, 10_000, 0).await;
    assert_eq!(a["funded_places"], 9, "{a}");
    assert_eq!(a["numbers_assigned"], 8, "{a}");
    let (s, list) = r
        .get(&r.operator, &r.path("/unique-numbers?limit=100"))
        .await;
    assert_eq!(s, 200, "{list}");
    let mut hours = 0;
    let mut holders = Vec::new();
    for n in list["items"].as_array().unwrap() {
        let holder = n["educator_name"]
            .as_str()
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        holders.push(holder.to_owned());
        let (s, me) = r
            .get(&r.educator(holder).await, &r.path("/allocation/me"))
            .await;
        assert_eq!(s, 200, "{me}");
        hours += me["voucher"]["hours"].as_i64().unwrap();
    }
    assert!(
        hours * 10_000 <= 6_480_000,
        "{hours} h cost more than the budget"
    );
    assert_eq!(
        hours,
        7 * 72 + 90,
        "the master and seven teachers: {holders:?}"
    );
    assert!(holders.iter().any(|h| h == "Лебедева"), "{holders:?}");
    p.stop().await;
}

/// A freed 72-hour voucher cannot go to a master when their 90 hours
/// would take the campaign past its budget.
#[tokio::test]
async fn a_freed_voucher_goes_to_a_master_only_within_the_budget() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "D3", "voucher_hours").await;
    r.confirm_all().await;
    // 5 places (360 h): municipality 1's one place goes to Козлова, ahead
    // of Лебедева (a master) in organization 2; five 72-hour vouchers
    // spend the whole budget.
    let a = r.fund_and_allocate(3_600_000, 10_000, 0).await;
    assert_eq!(a["numbers_assigned"], 5, "{a}");
    let kozlova = r.educator("Козлова").await;
    let (s, refusal) = r
        .send(
            Method::POST,
            &kozlova,
            &r.path("/refusals"),
            json!({"reason": "переезд"}),
        )
        .await;
    assert_eq!(s, 201, "{refusal}");
    let decision = format!(
        "/api/v1/refusals/{}/decision",
        refusal["id"].as_str().unwrap()
    );
    let org2 = &r.org_operators[2];
    let (s, b) = r
        .send(Method::POST, org2, &decision, json!({"approve": true}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, places) = r.get(org2, &r.path("/free-places?status=open")).await;
    assert_eq!(s, 200, "{places}");
    let place = places["items"][0]["id"].as_str().unwrap().to_owned();
    let assign = format!("/api/v1/free-places/{place}/assignment");
    let master = json!({"educator_id": r.id("Лебедева")});
    let (s, b) = r.send(Method::POST, org2, &assign, master).await;
    assert_eq!((s, &b["reason"]), (409, &json!("over_budget")), "{b}");
    assert_eq!(b["budget_kopecks"], "3600000", "{b}");
    // Nothing changed: the place is still free.
    let (_, places) = r.get(org2, &r.path("/free-places?status=open")).await;
    assert_eq!(places["items"][0]["id"], place.as_str(), "{places}");
    p.stop().await;
}

#[tokio::test]
async fn plan_order_hours_are_shared_by_the_largest_remainder_and_drawn_by_team_applications() {
    let p = Platform::start().await.unwrap();
    let r = Region::open(&p, "E1", "cumulative_route").await;
    r.confirm_all().await;
    // 10,000 ₽ at 100 ₽ an hour: 100 hours of the plan-order, no numbers.
    let a = r.fund_and_allocate(1_000_000, 10_000, 0).await;
    assert_eq!(
        (a["funded_places"].as_i64(), a["numbers_assigned"].as_i64()),
        (Some(100), Some(0)),
        "{a}"
    );
    // Municipalities 100×7/9 = 77.77 and 22.22 → 78 and 22; organizations of
    // municipality 0: 78×4/7 = 44.57 and 33.42 → 45 and 33.
    let (s, q) = r
        .get(&r.operator, &r.path("/quotas?level=organization"))
        .await;
    assert_eq!(s, 200, "{q}");
    let quota = |q: &Value, org: &str, field: &str| {
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["unit_id"] == org)
            .unwrap()[field]
            .as_i64()
            .unwrap()
    };
    let quotas: Vec<i64> = r.world.orgs.iter().map(|o| quota(&q, o, "quota")).collect();
    assert_eq!(quotas, [45, 33, 22]);
    // Enrollment learns each organization's hours from the run's events.
    let mut announced: Vec<(String, i32)> = p
        .env
        .events("allocation", "hour_quota_set")
        .await
        .unwrap()
        .iter()
        .map(|bytes| {
            use pd_proto::Message;
            let env = pd_proto::common::v1::EventEnvelope::decode(bytes.as_slice()).unwrap();
            let q = pb::HourQuotaSet::decode(env.payload.as_slice()).unwrap();
            (q.organization_id, q.hours)
        })
        .collect();
    announced.sort();
    let mut expected: Vec<(String, i32)> = r.world.orgs.iter().cloned().zip([45, 33, 22]).collect();
    expected.sort();
    assert_eq!(announced, expected);

    let team = enrollment::ApplicationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: r.campaign.clone(),
        educator_id: r.id("Алексеева").to_owned(),
        organization_id: r.world.orgs[0].clone(),
        hours: 36,
        status: "submitted".into(),
        ..Default::default()
    };
    application_event(&p, "application_submitted", 1, &team).await;
    let path = r.path(&format!(
        "/quotas?level=organization&municipality_id={}",
        r.world.municipalities[0]
    ));
    let q = eventually(&p, &r.muni_operators[0], &path, |s, b| {
        s == 200
            && b["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["hours_used"] == 36)
    })
    .await;
    assert_eq!(quota(&q, &r.world.orgs[0], "hours_left"), 9, "{q}");
    let withdrawn = enrollment::ApplicationSnapshot {
        status: "rejected".into(),
        ..team.clone()
    };
    application_event(&p, "application_withdrawn", 2, &withdrawn).await;
    let q = eventually(&p, &r.muni_operators[0], &path, |s, b| {
        s == 200
            && b["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["hours_used"] == 0)
    })
    .await;
    assert_eq!(quota(&q, &r.world.orgs[0], "hours_left"), 45, "{q}");
    p.stop().await;
}
