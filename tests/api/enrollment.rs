//! The enrollment service through the gateway: applying in the window
//! with the unique number allocation assigned (the phase, the number's
//! owner, one application per number, an idempotent retry), a full group's
//! waitlist served in order when a seat is withdrawn, operators filing and
//! seeing their scope's applications (JSON and CSV), and allocation
//! following the applications' events.

use super::fixtures::{Campaign, calendar, day, eventually, next_event, subscribe_to, user};
use super::*;
use pd_proto::enrollment::v1 as pb;

/// A published registry with groups of program A1 (by default g1: 2
/// seats, g2: 3 seats), five funded educators holding their numbers, and
/// the calendar in the schedule phase (the window opens with `move_to`).
pub(crate) struct Window<'p> {
    pub c: Campaign<'p>,
    pub g1: String,
    pub g2: String,
    /// Every group, g1 and g2 first.
    pub groups: Vec<String>,
    /// (surname, educator id, token, unique number): four of organization
    /// 0, `Демина` of organization 2.
    pub people: Vec<(String, String, String, String)>,
    /// Operators of organizations 0 and 2.
    pub org0: String,
    org2: String,
}

impl<'p> Window<'p> {
    async fn funded(p: &'p Platform) -> Window<'p> {
        Self::funded_with(p, &[(2, 1), (3, 1)]).await
    }

    /// As `funded`, with groups of these (capacity, minimum size).
    pub(crate) async fn funded_with(p: &'p Platform, sizes: &[(u32, u32)]) -> Window<'p> {
        Self::funded_in(p, "un_quota", sizes).await
    }

    /// As `funded_with`, in a region of the PD model `model` (by the hour:
    /// 100 ₽ an hour, so 13 vouchers of 72 hours, or 1,000 plan-order hours).
    async fn funded_in(p: &'p Platform, model: &str, sizes: &[(u32, u32)]) -> Window<'p> {
        let (c, pr) = Campaign::published_in(p, model).await;
        let admin = p.login("root", "root-password-123").await.unwrap();
        c.move_to("schedule").await;
        let groups = format!("/api/v1/programs/{}/groups", pr.a1);
        let mut ids = Vec::new();
        for (capacity, min_size) in sizes {
            let body = json!({"starts_on": day(8), "ends_on": day(12), "online": true, "capacity": capacity, "min_size": min_size});
            let (s, g) = call(p, Method::POST, &groups, Some(&c.prov_a), Some(body)).await;
            assert_eq!(s, 201, "{g}");
            ids.push(g["id"].as_str().unwrap().to_owned());
        }
        let (s, b) = call(
            p,
            Method::POST,
            &c.path("/schedule/approve"),
            Some(&c.operator),
            None,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let mut people = Vec::new();
        for (i, (surname, org)) in [
            ("Андреева", 0),
            ("Белова", 0),
            ("Волкова", 0),
            ("Галкина", 0),
            ("Демина", 2),
        ]
        .into_iter()
        .enumerate()
        {
            let (s, e) = call(p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": snils(900 + i as u32), "last_name": surname, "first_name": "Анна", "position": "учитель", "subjects": ["Математика"], "organization_id": c.world.orgs[org]}))).await;
            assert_eq!(s, 201, "{e}");
            let id = e["id"].as_str().unwrap().to_owned();
            let token = user(p, &admin, &format!("teacher{i}"), "educator", &id)
                .await
                .1;
            people.push((surname.to_owned(), id, token, String::new()));
        }
        // Allocation: every list confirmed (the regional operator stands
        // in), enough money for everyone, the run.
        eventually(p, &c.operator, &c.path("/candidates"), |s, b| {
            s == 200 && b["total"] == 6
        })
        .await;
        for org in &c.world.orgs {
            let (s, b) = call(
                p,
                Method::POST,
                &c.path(&format!("/candidate-lists/{org}/confirmation")),
                Some(&c.operator),
                Some(json!({})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
        }
        // un_quota: 10 places; by the hour (vouchers, plan-order): 1,000 hours.
        let normative = if model == "un_quota" {
            1_000_000
        } else {
            10_000
        };
        let (s, f) = call(p, Method::PUT, &c.path("/funding"), Some(&c.ministry), Some(json!({"budget_kopecks": 10_000_000, "normative_cost_kopecks": normative, "reserve_percent": 0}))).await;
        assert_eq!(s, 200, "{f}");
        let (s, a) = call(
            p,
            Method::POST,
            &c.path("/allocation"),
            Some(&c.ministry),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 201, "{a}");
        for person in &mut people {
            let (s, me) = call(
                p,
                Method::GET,
                &c.path("/allocation/me"),
                Some(&person.2),
                None,
            )
            .await;
            assert_eq!(s, 200, "{me}");
            // cumulative_route funds organizations' hours, not people.
            if model != "cumulative_route" {
                person.3 = me["unique_number"]["number"]
                    .as_str()
                    .expect("funded")
                    .to_owned();
            }
        }
        let org0 = user(p, &admin, "org.op0", "org_operator", &c.world.orgs[0])
            .await
            .1;
        let org2 = user(p, &admin, "org.op2", "org_operator", &c.world.orgs[2])
            .await
            .1;
        let w = Window {
            c,
            g1: ids[0].clone(),
            g2: ids[1].clone(),
            groups: ids.clone(),
            people,
            org0,
            org2,
        };
        // Enrollment learns the groups and the numbers from events.
        let path = format!("/api/v1/groups/{}/availability", w.g1);
        eventually(p, &w.c.operator, &path, |s, b| {
            s == 200
                && b["alternatives"]
                    .as_array()
                    .is_some_and(|a| a.len() == sizes.len() - 1)
        })
        .await;
        w
    }

    pub(crate) fn person(&self, surname: &str) -> &(String, String, String, String) {
        self.people.iter().find(|x| x.0 == surname).unwrap()
    }

    /// `POST /api/v1/applications` with an Idempotency-Key.
    pub(crate) async fn apply(&self, token: &str, key: &str, body: Value) -> (u16, Value) {
        let r = self
            .c
            .p
            .http
            .post(self.c.p.url("/api/v1/applications"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// The educator applies with their own number to `group`.
    pub(crate) async fn apply_as(
        &self,
        surname: &str,
        group: &str,
        waitlist: bool,
    ) -> (u16, Value) {
        let (_, id, token, number) = self.person(surname);
        let key = format!("{id}-{group}-{waitlist}");
        self.apply(
            token,
            &key,
            json!({"group_id": group, "unique_number": number, "join_waitlist": waitlist}),
        )
        .await
    }

    /// The first application after the window opened: enrollment learns
    /// of the calendar from the registry's event, so the first tries may
    /// still find the phase closed (each with its own key: an error answer
    /// is replayed for its key). Returns the key that got the answer.
    pub(crate) async fn apply_once_open(
        &self,
        token: &str,
        key: &str,
        body: Value,
    ) -> (String, u16, Value) {
        for attempt in 0..100 {
            let key = format!("{key}-{attempt}");
            let (s, b) = self.apply(token, &key, body.clone()).await;
            if s != 409 || b["phase"] != "applications" {
                return (key, s, b);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the application phase never opened in enrollment");
    }

    /// Closes the application window yesterday; the groups (days 8–12)
    /// stay within the training period, which runs on to the post-course
    /// monitoring.
    pub(crate) async fn close_window(&self) {
        let (_, mut phases) = calendar("applications");
        for phase in &mut phases {
            if phase["phase"] == "applications" {
                phase["ends_on"] = json!(day(-1));
            }
        }
        let body = json!({"phases": phases});
        let (s, c) = call(
            self.c.p,
            Method::PATCH,
            &self.c.path(""),
            Some(&self.c.ministry),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{c}");
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        call(self.c.p, Method::GET, path, Some(token), None).await
    }
}

/// A GET answered as text (the CSV exports).
async fn call_text(p: &Platform, path: &str, token: &str) -> (u16, String) {
    let r = p
        .http
        .get(p.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn seats_are_taken_in_the_window_a_full_group_waitlists_and_a_withdrawal_promotes_its_head() {
    let p = Platform::start().await.unwrap();
    let w = Window::funded(&p).await;
    let (_, _, andreeva, a_number) = w.person("Андреева").clone();

    // Before the window: a 409 naming the phase.
    let (s, b) = w.apply_as("Андреева", &w.g1, false).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["phase"], "applications");
    w.c.move_to("applications").await;
    let (_, mut promoted) = subscribe_to(&p, "enrollment", "application_promoted").await;

    // The first application, and its retry with the same key and body.
    let body = json!({"group_id": w.g1, "unique_number": a_number});
    let (k1, s, first) = w.apply_once_open(&andreeva, "k-1", body.clone()).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["status"], "enrolled");
    assert_eq!(first["filed_by"], "educator");
    assert_eq!(first["educator_name"], "Андреева Анна");
    let (s, again) = w.apply(&andreeva, &k1, body).await;
    assert_eq!(
        (s, &again["id"]),
        (201, &first["id"]),
        "the retry answered the first application"
    );
    let (s, b) = w
        .apply(
            &andreeva,
            &k1,
            json!({"group_id": w.g2, "unique_number": a_number}),
        )
        .await;
    assert_eq!(s, 422, "the same key with another body: {b}");
    // One active application per number, whatever the key.
    let (s, b) = w
        .apply(
            &andreeva,
            "k-2",
            json!({"group_id": w.g2, "unique_number": a_number}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["reason"], "number_in_use");
    assert_eq!(b["application_id"], first["id"]);
    // Someone else's number, and a mistyped one.
    let (_, _, belova, b_number) = w.person("Белова").clone();
    let (s, b) = w
        .apply(
            &belova,
            "k-3",
            json!({"group_id": w.g1, "unique_number": a_number}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "unique_number");
    let mut typo = b_number.clone().into_bytes();
    typo[0] = if typo[0] == b'7' { b'8' } else { b'7' };
    let (s, b) = w
        .apply(
            &belova,
            "k-4",
            json!({"group_id": w.g1, "unique_number": String::from_utf8(typo).unwrap()}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["reason"], "check_character");
    // Case and dashes do not matter: the last seat.
    let typed = b_number.replace('-', "").to_lowercase();
    let (s, b) = w
        .apply(
            &belova,
            "k-5",
            json!({"group_id": w.g1, "unique_number": typed}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["status"], "enrolled");

    // Full: refused with the program's groups that have seats, or waitlisted.
    let (s, b) = w.apply_as("Волкова", &w.g1, false).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["reason"], "group_full");
    assert_eq!(b["alternative_groups"], w.g2.as_str());
    // Groups may be ranked after a full one; one that is no group of the
    // campaign is named, and nothing is taken.
    let (_, _, volkova_token, v_number) = w.person("Волкова").clone();
    let unknown = uuid::Uuid::now_v7().to_string();
    let (s, b) = w
        .apply(
            &volkova_token,
            "k-7",
            json!({"group_id": w.g1, "unique_number": v_number, "fallback_group_ids": [unknown]}),
        )
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str(), b["group_id"].as_str()),
        (422, Some("fallback_group_ids"), Some(unknown.as_str())),
        "{b}"
    );
    let (s, volkova) = w.apply_as("Волкова", &w.g1, true).await;
    assert_eq!(s, 201, "{volkova}");
    assert_eq!(
        (
            volkova["status"].as_str(),
            volkova["waitlist_position"].as_i64()
        ),
        (Some("waitlisted"), Some(1))
    );
    let (s, galkina) = w.apply_as("Галкина", &w.g1, true).await;
    assert_eq!(s, 201, "{galkina}");
    assert_eq!(galkina["waitlist_position"], 2);
    let (s, seats) = w
        .get(&andreeva, &format!("/api/v1/groups/{}/availability", w.g1))
        .await;
    assert_eq!(s, 200, "{seats}");
    assert_eq!(
        (
            seats["group"]["seats_left"].as_i64(),
            seats["group"]["waitlisted"].as_i64()
        ),
        (Some(0), Some(2))
    );
    // A program screen reads all the program's groups at once, earliest first.
    let program = seats["group"]["program_id"].as_str().unwrap().to_owned();
    let (s, all) = w
        .get(
            &andreeva,
            &format!("/api/v1/programs/{program}/availability"),
        )
        .await;
    assert_eq!(s, 200, "{all}");
    let groups = all["groups"].as_array().unwrap();
    let mut ids: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["group_id"].as_str())
        .collect();
    assert_eq!(ids.len(), w.groups.len(), "{all}");
    let g1 = groups
        .iter()
        .find(|g| g["group_id"] == w.g1.as_str())
        .unwrap();
    assert_eq!(
        (&g1["seats_left"], &g1["waitlisted"]),
        (&json!(0), &json!(2)),
        "{all}"
    );
    // Earliest first; these groups start on one day, so by id.
    let starts: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["starts_on"].as_str())
        .collect();
    assert!(starts.windows(2).all(|d| d[0] == d[1]), "{all}");
    assert!(ids.is_sorted(), "{all}");
    ids.sort_unstable();
    let mut known: Vec<&str> = w.groups.iter().map(String::as_str).collect();
    known.sort_unstable();
    assert_eq!(ids, known);
    let (s, b) = w
        .get(
            &andreeva,
            &format!("/api/v1/programs/{}/availability", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!((s, b["status"].as_i64()), (404, Some(404)), "{b}");

    // Withdrawal needs a known reason; it frees the seat for the head of the waitlist.
    let withdraw = format!(
        "/api/v1/applications/{}/withdrawal",
        first["id"].as_str().unwrap()
    );
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&andreeva),
        Some(json!({"reason": "other"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "note");
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&belova),
        Some(json!({"reason": "illness"})),
    )
    .await;
    assert_eq!(s, 404, "another educator's application: {b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&andreeva),
        Some(json!({"reason": "illness"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["reason"].as_str()),
        (Some("withdrawn"), Some("illness"))
    );
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&andreeva),
        Some(json!({"reason": "illness"})),
    )
    .await;
    assert_eq!((s, b["reason"].as_str()), (409, Some("not_active")), "{b}");
    let event: pb::ApplicationPromoted = next_event(&mut promoted).await;
    let head = event.application.unwrap();
    assert_eq!(
        (head.id.as_str(), head.status.as_str()),
        (volkova["id"].as_str().unwrap(), "enrolled")
    );
    let volkova_token = &w.person("Волкова").2;
    let (s, v) = w
        .get(volkova_token, &format!("/api/v1/applications/{}", head.id))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("enrolled")), "{v}");
    let (s, mine) = w
        .get(&w.person("Галкина").2, "/api/v1/me/applications")
        .await;
    assert_eq!(s, 200, "{mine}");
    assert_eq!(mine["items"][0]["waitlist_position"], 1, "{mine}");
    // The withdrawn number funds again: Андреева applies to g2.
    let (s, b) = w
        .apply(
            &andreeva,
            "k-6",
            json!({"group_id": w.g2, "unique_number": a_number}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // Allocation follows: Белова's number is used by her application.
    let numbers = w.c.path("/unique-numbers");
    eventually(&p, &w.c.operator, &numbers, |s, b| {
        s == 200
            && b["items"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|n| n["number"] == b_number.as_str() && n["status"] == "used")
            })
    })
    .await;

    // While the window runs, the provider may add seats to a published
    // group but not take them away: they may be taken already.
    let group = format!("/api/v1/groups/{}", w.g1);
    let fields = |capacity: u32| json!({"starts_on": day(8), "ends_on": day(12), "online": true, "capacity": capacity, "min_size": 1});
    let (s, b) = call(&p, Method::PUT, &group, Some(&w.c.prov_a), Some(fields(1))).await;
    assert_eq!(
        (s, b["reason"].as_str(), b["capacity"].as_str()),
        (409, Some("capacity_in_use"), Some("2")),
        "{b}"
    );
    let (s, b) = call(&p, Method::PUT, &group, Some(&w.c.prov_a), Some(fields(4))).await;
    assert_eq!((s, b["capacity"].as_i64()), (200, Some(4)), "{b}");
    let seats = format!("/api/v1/groups/{}/availability", w.g1);
    eventually(&p, &andreeva, &seats, |s, b| {
        s == 200 && b["group"]["capacity"] == 4
    })
    .await;
    p.stop().await;
}

#[tokio::test]
async fn operators_file_for_their_educators_and_see_their_scope_as_json_and_csv() {
    let p = Platform::start().await.unwrap();
    let w = Window::funded(&p).await;
    w.c.move_to("applications").await;
    let (_, demina_id, _, demina_number) = w.person("Демина").clone();
    let (_, galkina_id, _, galkina_number) = w.person("Галкина").clone();

    // Another organization's operator may not file for Демина; hers may.
    let on_behalf =
        json!({"group_id": w.g2, "unique_number": demina_number, "educator_id": demina_id});
    let (s, b) = w.apply(&w.org0, "o-1", on_behalf.clone()).await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = w
        .apply(
            &w.org2,
            "o-2",
            json!({"group_id": w.g2, "unique_number": demina_number}),
        )
        .await;
    assert_eq!(s, 422, "an operator names the educator: {b}");
    assert_eq!(b["errors"][0]["field"], "educator_id");
    let (_, s, demina) = w.apply_once_open(&w.org2, "o-3", on_behalf).await;
    assert_eq!(s, 201, "{demina}");
    assert_eq!(demina["filed_by"], "organization");
    let (s, galkina) = w
        .apply(
            &w.c.operator,
            "o-4",
            json!({"group_id": w.g2, "unique_number": galkina_number, "educator_id": galkina_id}),
        )
        .await;
    assert_eq!(s, 201, "{galkina}");
    assert_eq!(galkina["filed_by"], "region");
    let withdraw = format!(
        "/api/v1/applications/{}/withdrawal",
        galkina["id"].as_str().unwrap()
    );
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&w.org2),
        Some(json!({"reason": "work"})),
    )
    .await;
    assert_eq!(s, 404, "outside organization 2: {b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &withdraw,
        Some(&w.org0),
        Some(json!({"reason": "other", "note": "переезд"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // Each operator sees their own scope; the region sees both.
    let list = w.c.path("/applications");
    let (s, b) = w.get(&w.org2, &list).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["total"], 1);
    assert_eq!(b["items"][0]["educator_name"], "Демина Анна");
    let (s, b) = w
        .get(
            &w.org2,
            &format!("{list}?organization_id={}", w.c.world.orgs[0]),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = w
        .get(&w.c.operator, &format!("{list}?status=withdrawn"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["total"].as_i64(), b["items"][0]["note"].as_str()),
        (Some(1), Some("переезд"))
    );
    let r = p
        .http
        .get(p.url(&format!("{list}?format=csv")))
        .bearer_auth(&w.c.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("\u{FEFF}id;educator;"), "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Демина Анна") && l.contains(";enrolled;")),
        "{csv}"
    );
    let (s, sum) = w
        .get(&w.c.operator, &w.c.path("/applications/summary"))
        .await;
    assert_eq!(s, 200, "{sum}");
    let rows = sum["rows"].as_array().unwrap();
    let org0 = rows
        .iter()
        .find(|r| r["unit_id"] == w.c.world.orgs[0].as_str())
        .unwrap();
    assert_eq!(
        (org0["withdrawn"].as_i64(), org0["reasons"][0].as_str()),
        (Some(1), Some("other=1")),
        "{sum}"
    );
    let org2 = rows
        .iter()
        .find(|r| r["unit_id"] == w.c.world.orgs[2].as_str())
        .unwrap();
    assert_eq!(org2["enrolled"], 1, "{sum}");
    // Per day in the region's zone: every application of the scope was
    // filed today.
    let filed: i64 = rows
        .iter()
        .map(|r| {
            ["enrolled", "waitlisted", "withdrawn", "rejected"]
                .iter()
                .map(|k| r[*k].as_i64().unwrap())
                .sum::<i64>()
        })
        .sum();
    assert_eq!(
        sum["days"],
        json!([{"day": crate::fixtures::chrono_today().to_string(), "submitted": filed}]),
        "{sum}"
    );
    let (s, b) = w
        .get(
            &w.c.operator,
            &w.c.path("/applications/summary?time_zone=Mars/Olympus"),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let (s, sum) = w
        .get(
            &w.c.operator,
            &w.c.path("/applications/summary?by=municipality&format=csv"),
        )
        .await;
    assert_eq!(s, 200, "{sum}");
    assert!(
        sum.as_str()
            .unwrap()
            .starts_with("\u{FEFF}unit_id;unit_name;enrolled"),
        "{sum}"
    );
    let (s, b) = w.get(&w.person("Андреева").2, &list).await;
    assert_eq!(s, 403, "educators see only their own: {b}");
    p.stop().await;
}

/// Group formation at the window's close: waitlists end, an under-minimum
/// group is merged into another of its program, a formed one cancelled in
/// the registry rejects its applications, and providers get their rosters
/// as events and as CSV.
#[tokio::test]
async fn the_window_closes_into_fixed_rosters_under_min_groups_merge_or_are_cancelled() {
    let p = Platform::start().await.unwrap();
    // g1: 2 seats, g2 and g3: 3 seats; at least 2 learners each.
    let w = Window::funded_with(&p, &[(2, 2), (3, 2), (3, 2)]).await;
    let g3 = w.groups[2].clone();
    let op = w.c.operator.clone();
    let formation = w.c.path("/formation");
    w.c.move_to("applications").await;
    let (_, _, andreeva, a_number) = w.person("Андреева").clone();
    let body = json!({"group_id": w.g1, "unique_number": a_number});
    let (_, s, b) = w.apply_once_open(&andreeva, "f-0", body).await;
    assert_eq!(s, 201, "{b}");
    for (who, group, waitlist, status) in [
        ("Белова", &w.g1, false, "enrolled"),
        ("Волкова", &w.g1, true, "waitlisted"),
        ("Галкина", &w.g2, false, "enrolled"),
        ("Демина", &g3, false, "enrolled"),
    ] {
        let (s, b) = w.apply_as(who, group, waitlist).await;
        assert_eq!((s, b["status"].as_str()), (201, Some(status)), "{who}: {b}");
    }

    // While the window is open: nothing to form yet.
    let (s, b) = w.get(&op, &formation).await;
    assert_eq!((s, &b["reason"]), (409, &json!("not_formed")), "{b}");
    let (s, b) = call(&p, Method::POST, &formation, Some(&op), None).await;
    assert_eq!((s, &b["reason"]), (409, &json!("phase_not_closed")), "{b}");
    let (s, _) = call(&p, Method::POST, &formation, Some(&w.org0), None).await;
    assert_eq!(s, 403, "an organization's operator does not form groups");

    // The window closes: reading the formation forms the groups.
    let (_, mut fixed) = subscribe_to(&p, "enrollment", "roster_fixed").await;
    let (_, mut moved) = subscribe_to(&p, "enrollment", "application_moved").await;
    w.close_window().await;
    let f = eventually(&p, &op, &formation, |s, _| s == 200).await;
    assert_eq!(
        (
            &f["groups"],
            &f["formed"],
            &f["under_min"],
            &f["waitlist_rejected"]
        ),
        (&json!(3), &json!(1), &json!(2), &json!(1)),
        "{f}"
    );
    let (s, again) = call(&p, Method::POST, &formation, Some(&op), None).await;
    assert_eq!(
        (s, &again["formed_at"]),
        (200, &f["formed_at"]),
        "formed once: {again}"
    );
    let volkova = &w.person("Волкова").2;
    let (_, mine) = w.get(volkova, "/api/v1/me/applications").await;
    assert_eq!(mine["items"][0]["status"], "rejected", "{mine}");
    assert_eq!(mine["items"][0]["reason"], "window_closed", "{mine}");
    let mut rosters = Vec::new();
    for _ in 0..3 {
        rosters.push(
            next_event::<pb::RosterFixed>(&mut fixed)
                .await
                .roster
                .unwrap(),
        );
    }
    let g1_roster = rosters
        .iter()
        .find(|r| r.group.as_ref().unwrap().group_id == w.g1)
        .unwrap();
    assert_eq!(g1_roster.roster, "formed");
    let names: Vec<&str> = g1_roster
        .members
        .iter()
        .map(|m| m.educator_name.as_str())
        .collect();
    assert_eq!(names, ["Андреева Анна", "Белова Анна"]);

    // The regional operator's list of groups to decide on.
    let under = w.c.path("/rosters?roster=under_min");
    let (s, list) = w.get(&op, &under).await;
    assert_eq!((s, &list["total"]), (200, &json!(2)), "{list}");
    let (s, b) = w.get(&w.org0, &under).await;
    assert_eq!(s, 403, "{b}");
    let (s, csv) = call_text(&p, &format!("{under}&format=csv"), &op).await;
    assert_eq!(s, 200);
    assert!(
        csv.starts_with('\u{FEFF}') && csv.lines().count() == 3 && csv.contains(";under_min;"),
        "{csv}"
    );

    // Merging: not into a full group, not a formed one; g2 into g3.
    let merge = |group: String, into: String| {
        let (p, op) = (&p, op.clone());
        async move {
            let path = format!("/api/v1/groups/{group}/merge");
            let body = json!({"into_group_id": into});
            call(p, Method::POST, &path, Some(&op), Some(body)).await
        }
    };
    let (s, b) = merge(w.g2.clone(), w.g1.clone()).await;
    assert_eq!((s, &b["reason"]), (409, &json!("not_enough_seats")), "{b}");
    let (s, b) = merge(w.g1.clone(), w.g2.clone()).await;
    assert_eq!((s, &b["reason"]), (409, &json!("not_under_min")), "{b}");
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/groups/{}/merge", w.g2),
        Some(&w.c.prov_a),
        Some(json!({"into_group_id": g3})),
    )
    .await;
    assert_eq!(s, 403, "providers do not merge: {b}");
    let (s, merged) = merge(w.g2.clone(), g3.clone()).await;
    assert_eq!(s, 200, "{merged}");
    assert_eq!(
        (&merged["roster"], &merged["enrolled"]),
        (&json!("formed"), &json!(2)),
        "{merged}"
    );
    let galkina = merged["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["educator_name"] == "Галкина Анна")
        .expect("Галкина moved");
    assert_eq!(galkina["moved_from_group_id"], w.g2.as_str());
    let note: pb::ApplicationMoved = next_event(&mut moved).await;
    assert_eq!(note.from_group_id, w.g2);
    assert_eq!(note.application.unwrap().group_id, g3);
    let (_, mine) = w
        .get(&w.person("Галкина").2, "/api/v1/me/applications")
        .await;
    assert_eq!(mine["items"][0]["group_id"], g3.as_str(), "{mine}");

    // The provider's final roster of g3, as CSV; nobody else's to read.
    let roster = format!("/api/v1/groups/{g3}/roster");
    let (s, csv) = call_text(&p, &format!("{roster}?format=csv"), &w.c.prov_a).await;
    assert_eq!(s, 200);
    assert!(
        csv.contains("Галкина Анна") && csv.contains("Демина Анна"),
        "{csv}"
    );
    // Each line ends with the ids a completions file names the learner by.
    let demina = &w.person("Демина").1;
    assert!(
        csv.lines()
            .any(|l| l.contains("Демина Анна") && l.ends_with(&format!(";{demina};{g3}"))),
        "{csv}"
    );
    let (s, _) = w.get(&w.org0, &roster).await;
    assert_eq!(s, 404);

    // Cancelling g1 in the registry rejects its applications after formation.
    let cancel = format!("/api/v1/groups/{}/cancel", w.g1);
    let (s, b) = call(
        &p,
        Method::POST,
        &cancel,
        Some(&op),
        Some(json!({"reason": "болезнь преподавателя"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let f = eventually(&p, &op, &formation, |s, b| s == 200 && b["cancelled"] == 1).await;
    assert_eq!(
        (&f["formed"], &f["merged"], &f["under_min"]),
        (&json!(1), &json!(1), &json!(0)),
        "{f}"
    );
    let (_, mine) = w.get(&andreeva, "/api/v1/me/applications").await;
    assert_eq!(
        (&mine["items"][0]["status"], &mine["items"][0]["reason"]),
        (&json!("rejected"), &json!("group_cancelled")),
        "{mine}"
    );
    // Its applications ended, the cancelled group offers no seat.
    let (s, seats) = w
        .get(&andreeva, &format!("/api/v1/groups/{}/availability", w.g1))
        .await;
    assert_eq!(
        (s, &seats["group"]["status"], &seats["group"]["seats_left"]),
        (200, &json!("cancelled"), &json!(0)),
        "{seats}"
    );
}

/// A named voucher through the gateway: allocation issues it with its
/// blocks, enrollment spends the subject block on a program of the
/// educator's subject and the free one on a second group, refuses a third,
/// and allocation's balance follows the applications' events.
#[tokio::test]
async fn a_voucher_is_spent_block_by_block_and_allocation_keeps_the_balance() {
    let p = Platform::start().await.unwrap();
    let w = Window::funded_in(&p, "voucher_hours", &[(2, 1), (3, 1)]).await;
    w.c.move_to("applications").await;
    let (_, _, token, number) = w.person("Андреева").clone();
    let body = |group: &str| json!({"group_id": group, "unique_number": number});
    // Program A1 targets mathematics, which Андреева teaches.
    let (_, s, first) = w.apply_once_open(&token, "v-1", body(&w.g1)).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(
        first["voucher_blocks"],
        json!([1]),
        "the subject block: {first}"
    );
    let (s, second) = w.apply(&token, "v-2", body(&w.g2)).await;
    assert_eq!(s, 201, "{second}");
    assert_eq!(
        second["voucher_blocks"],
        json!([2]),
        "the free block: {second}"
    );
    let (s, b) = w.apply(&token, "v-3", body(&w.g1)).await;
    assert_eq!((s, &b["reason"]), (409, &json!("already_applied")), "{b}");
    // Allocation learns both blocks spent from enrollment's events.
    let me = w.c.path("/allocation/me");
    let v = eventually(&p, &token, &me, |s, b| {
        s == 200 && b["voucher"]["hours_left"] == 0
    })
    .await;
    assert_eq!(v["voucher"]["blocks"][0]["application_id"], first["id"]);
    assert_eq!(v["voucher"]["blocks"][1]["application_id"], second["id"]);
    // A withdrawal opens its block again, in allocation too.
    let path = format!(
        "/api/v1/applications/{}/withdrawal",
        second["id"].as_str().unwrap()
    );
    let (s, b) = call(
        &p,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"reason": "work"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    eventually(&p, &token, &me, |s, b| {
        s == 200
            && b["voucher"]["hours_left"] == 36
            && b["voucher"]["blocks"][1]["status"] == "open"
    })
    .await;
    p.stop().await;
}

/// The cumulative model through the gateway: allocation shares the
/// plan-order hours, an individual route draws its modules' hours, a
/// school team accepted by its provider draws its members', and
/// allocation's quota view follows enrollment's events.
#[tokio::test]
async fn routes_and_a_school_team_draw_the_organizations_plan_order_hours() {
    let p = Platform::start().await.unwrap();
    let w = Window::funded_in(&p, "cumulative_route", &[(2, 1), (3, 1)]).await;
    w.c.move_to("applications").await;
    let org0 = &w.c.world.orgs[0];
    let quotas = w.c.path("/quotas?level=organization");
    let used = |q: &Value| {
        q["items"]
            .as_array()
            .and_then(|items| items.iter().find(|x| x["unit_id"] == org0.as_str()))
            .map(|x| x["hours_used"].clone())
    };
    let (s, q) = w.get(&w.c.operator, &quotas).await;
    assert_eq!((s, used(&q)), (200, Some(json!(0))), "{q}");

    // Андреева's route: one module of the cumulative program (16 h).
    let (_, _, token, _) = w.person("Андреева").clone();
    let route = json!({"group_id": w.g1, "modules": ["Теория"]});
    let mut answer = (0, Value::Null);
    for attempt in 0..100 {
        let r = p
            .http
            .post(p.url("/api/v1/routes"))
            .bearer_auth(&token)
            .header("idempotency-key", format!("route-{attempt}"))
            .json(&route)
            .send()
            .await
            .unwrap();
        answer = (r.status().as_u16(), r.json().await.unwrap());
        if answer.0 != 409 || answer.1["phase"] != "applications" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, a) = answer;
    assert_eq!(s, 201, "{a}");
    assert_eq!(
        (&a["hours"], &a["modules"]),
        (&json!(16), &json!(["Теория"])),
        "{a}"
    );

    // A team of two for the whole program (36 h each), accepted by provider A.
    let members = [w.person("Белова").1.clone(), w.person("Волкова").1.clone()];
    let team = json!({"group_id": w.g2, "member_ids": members, "goals": "Формирующее оценивание",
                      "final_work_format": "проект"});
    let (s, t) = call(
        &p,
        Method::POST,
        "/api/v1/teams",
        Some(&w.org0),
        Some(team.clone()),
    )
    .await;
    assert_eq!(
        (s, &t["status"], &t["hours_total"]),
        (201, &json!("submitted"), &json!(72)),
        "{t}"
    );
    let (s, _) = call(&p, Method::POST, "/api/v1/teams", Some(&w.org2), Some(team)).await;
    assert_eq!(s, 403, "another organization's operator");
    let decision = format!("/api/v1/teams/{}/decision", t["id"].as_str().unwrap());
    let accept = json!({"decision": "accept"});
    let (s, _) = call(
        &p,
        Method::POST,
        &decision,
        Some(&w.c.prov_b),
        Some(accept.clone()),
    )
    .await;
    assert_eq!(s, 404, "provider B sees nothing of provider A's groups");
    let (s, t) = call(&p, Method::POST, &decision, Some(&w.c.prov_a), Some(accept)).await;
    assert_eq!((s, &t["status"]), (200, &json!("accepted")), "{t}");
    assert!(
        t["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["application_id"] != ""),
        "{t}"
    );

    // Allocation's view of the organization's hours follows.
    let q = eventually(&p, &w.c.operator, &quotas, |s, q| {
        s == 200 && used(q) == Some(json!(88))
    })
    .await;
    assert_eq!(used(&q), Some(json!(88)), "16 + 2 × 36: {q}");
    p.stop().await;
}
