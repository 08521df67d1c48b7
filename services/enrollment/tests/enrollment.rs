//! The enrollment service on its own, over NATS, against real PostgreSQL
//! and JetStream: three instances in one queue group take a burst of
//! applications (some retried with the same key) for the last seats of a
//! group, and not one seat is overbooked, no acknowledged application is
//! lost or doubled, and each has exactly one event.

use pd_bus::testing::{calendar_open_now, context_with, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Grant, Role};
use pd_proto::allocation::v1 as allocation;
use pd_proto::enrollment::v1 as pb;
use pd_proto::identity::v1 as identity;
use pd_proto::ops::enrollment as ops;
use pd_proto::registry::v1 as registry;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The numbers of `n` educators, as allocation assigns them.
fn numbers(campaign: Uuid, n: usize) -> Vec<allocation::UniqueNumber> {
    let (org, muni) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    (0..n)
        .map(|_| allocation::UniqueNumber {
            id: Uuid::now_v7().to_string(),
            number: pd_domain::unique_number::generate(&mut rand::thread_rng()),
            campaign_id: campaign.to_string(),
            educator_id: Uuid::now_v7().to_string(),
            educator_name: "Иванова Анна".into(),
            organization_id: org.clone(),
            municipality_id: muni.clone(),
            status: "assigned".into(),
            ..Default::default()
        })
        .collect()
}

/// A signed-in caller's context for one request under `key`.
fn with_key(ctx: &CallContext, key: &str) -> CallContext {
    let mut ctx = ctx.clone();
    ctx.idempotency_key = Some(key.to_owned());
    ctx
}

/// A refusal's kind and its reason (else the field it names).
fn refusal<T: std::fmt::Debug>(r: Result<T, pd_domain::AppError>) -> (ErrorKind, String) {
    let e = r.expect_err("refused");
    let field = e
        .fields
        .first()
        .map(|f| f.field.clone())
        .unwrap_or_default();
    (e.kind, e.extensions.get("reason").cloned().unwrap_or(field))
}

/// A region with a campaign whose application phase is open, as the
/// registry announces it, and the streams enrollment follows.
struct Window {
    env: TestEnv,
    pool: sqlx::PgPool,
    bus: Bus,
    region: Uuid,
    campaign: Uuid,
}

impl Window {
    async fn open() -> Window {
        let env = TestEnv::new().unwrap();
        let pool = env
            .database(pd_enrollment::SERVICE, &pd_enrollment::MIGRATORS)
            .await
            .unwrap();
        let bus = Bus::connect(
            &env.settings.nats,
            TokenVerifier::new(&env.settings.auth).unwrap(),
        )
        .await
        .unwrap();
        for s in ["registry", "allocation", "identity"] {
            bus.ensure_stream(s).await.unwrap();
        }
        let (region, campaign) = (Uuid::now_v7(), Uuid::now_v7());
        let cal = calendar_open_now(campaign, region, "applications", 1);
        let aggregate = campaign.to_string();
        publish_event(
            &bus,
            "registry",
            "campaign_calendar_changed",
            &aggregate,
            1,
            &cal,
        )
        .await
        .unwrap();
        Window {
            env,
            pool,
            bus,
            region,
            campaign,
        }
    }

    /// A published group of a new program: (kind, hours, target subjects).
    fn snapshot(&self, capacity: i32, program: (&str, i32, &[&str])) -> registry::GroupSnapshot {
        registry::GroupSnapshot {
            group: Some(registry::Group {
                id: Uuid::now_v7().to_string(),
                program_id: Uuid::now_v7().to_string(),
                starts_on: "2027-02-01".into(),
                ends_on: "2027-02-05".into(),
                capacity,
                min_size: 1,
                status: "published".into(),
                ..Default::default()
            }),
            campaign_id: self.campaign.to_string(),
            region_id: self.region.to_string(),
            provider_id: Uuid::now_v7().to_string(),
            program_title: "Финансовая грамотность".into(),
            program_kind: program.0.into(),
            program_hours: program.1,
            target_subjects: program.2.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }
    }

    /// Announces the group as the registry does; its id.
    async fn publish(&self, snapshot: registry::GroupSnapshot) -> Uuid {
        let id = snapshot.group.as_ref().unwrap().id.clone();
        let published = registry::GroupPublished {
            group: Some(snapshot),
        };
        publish_event(&self.bus, "registry", "group_published", &id, 1, &published)
            .await
            .unwrap();
        Uuid::parse_str(&id).unwrap()
    }

    async fn group(&self, capacity: i32, program: (&str, i32, &[&str])) -> Uuid {
        self.publish(self.snapshot(capacity, program)).await
    }

    /// A call context with one grant, and an idempotency key if any.
    fn as_role(&self, role: Role, scope: Uuid, key: Option<&str>) -> CallContext {
        let grant = Grant {
            role,
            scope: Some(scope),
            region: Some(self.region),
        };
        let mut ctx = context_with(&self.env.settings.auth, vec![grant]).unwrap();
        ctx.idempotency_key = key.map(str::to_owned);
        ctx
    }

    /// A call context of the educator, with an idempotency key.
    fn educator(&self, educator: &str, key: &str) -> CallContext {
        let educator = Uuid::parse_str(educator).unwrap();
        self.as_role(Role::Educator, educator, Some(key))
    }

    /// Each person signed in once: a key is its caller's, so a replay
    /// must come from the same sign-in.
    fn signed_in(&self, people: &[allocation::UniqueNumber]) -> Vec<CallContext> {
        people
            .iter()
            .map(|p| self.educator(&p.educator_id, ""))
            .collect()
    }

    /// Announces an educator of `organization` as identity does.
    async fn educator_known(&self, id: Uuid, organization: Uuid, subjects: Vec<String>) {
        let e = identity::EducatorCreated {
            educator: Some(identity::EducatorSnapshot {
                id: id.to_string(),
                last_name: "Петрова".into(),
                first_name: "Анна".into(),
                subjects,
                organization_id: organization.to_string(),
                municipality_id: organization.to_string(),
                region_id: self.region.to_string(),
                ..Default::default()
            }),
        };
        let aggregate = id.to_string();
        publish_event(&self.bus, "identity", "educator_created", &aggregate, 1, &e)
            .await
            .unwrap();
    }

    /// `n` educators' numbers, assigned as allocation announces them.
    async fn assigned(&self, n: usize) -> Vec<allocation::UniqueNumber> {
        let people = numbers(self.campaign, n);
        for p in &people {
            let e = allocation::UniqueNumberAssigned {
                unique_number: Some(p.clone()),
                ..Default::default()
            };
            publish_event(
                &self.bus,
                "allocation",
                "unique_number_assigned",
                &p.id,
                1,
                &e,
            )
            .await
            .unwrap();
        }
        people
    }

    /// Polls the application until its (status, reason) are `expected`.
    async fn until_status(&self, id: &str, expected: (&str, &str)) {
        let id = Uuid::parse_str(id).unwrap();
        let mut last = (String::new(), String::new());
        for _ in 0..500 {
            last = sqlx::query_as("SELECT status, reason FROM applications WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if (last.0.as_str(), last.1.as_str()) == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{id} stayed {last:?}, not {expected:?}");
    }

    /// Polls `sql` (a count) until it reaches `n`: the read-models caught up.
    async fn until_count(&self, sql: &str, n: i64) {
        for _ in 0..500 {
            let got: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if got >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never reached {n}: {sql}");
    }
}

#[tokio::test]
async fn three_instances_never_overbook_the_last_seats_nor_lose_an_acknowledged_application() {
    let w = Window::open().await;
    let (region, group) = (w.region, w.group(5, ("ordinary", 36, &[])).await);
    let (env, pool, bus) = (&w.env, w.pool.clone(), &w.bus);
    let people = w.assigned(40).await;

    // Three instances of the service in one queue group.
    let shutdown = Shutdown::new();
    let mut instances = Vec::new();
    for _ in 0..3 {
        let running = pd_enrollment::start(env.settings.clone(), shutdown.clone())
            .await
            .unwrap();
        instances.push(tokio::spawn(running.wait()));
    }
    let operator = context_with(
        &env.settings.auth,
        vec![Grant {
            role: Role::RegionalOperator,
            scope: Some(region),
            region: Some(region),
        }],
    )
    .unwrap();
    // The read-models catch up: every number known before the burst.
    let known = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM unique_numbers")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };
    for _ in 0..500 {
        let seats = bus
            .call::<ops::Availability>(
                &pb::GroupRequest {
                    id: group.to_string(),
                },
                &operator,
            )
            .await;
        if seats.is_ok() && known().await == 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(known().await, 40, "the numbers never arrived");

    // 40 educators at once, a quarter of them sending their request twice
    // with the same key (a client retrying after a lost answer).
    let mut calls = Vec::new();
    for (i, n) in people.iter().enumerate() {
        let ctx = w.educator(&n.educator_id, &format!("apply-{i}"));
        let req = pb::ApplyRequest {
            group_id: group.to_string(),
            unique_number: n.number.clone(),
            ..Default::default()
        };
        let tries = if i % 4 == 0 { 2 } else { 1 };
        for _ in 0..tries {
            let (bus, ctx, req) = (bus.clone(), ctx.clone(), req.clone());
            calls.push(tokio::spawn(async move {
                (i, bus.call::<ops::Apply>(&req, &ctx).await)
            }));
        }
    }
    let mut acknowledged: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut full = 0;
    for c in calls {
        match c.await.unwrap() {
            (i, Ok(a)) => {
                assert_eq!(a.status, "enrolled");
                acknowledged.entry(i).or_default().insert(a.id);
            }
            (_, Err(e)) if e.extensions.get("reason").map(String::as_str) == Some("group_full") => {
                full += 1
            }
            // A retry that arrived while its twin still ran.
            (_, Err(e)) if e.kind == ErrorKind::Conflict => {}
            (_, Err(e)) => panic!("unexpected answer: {e:?}"),
        }
    }
    assert!(
        full >= 35,
        "the others were told the group is full ({full})"
    );
    // A retried request answered twice answered the same application.
    assert!(
        acknowledged.values().all(|ids| ids.len() == 1),
        "{acknowledged:?}"
    );
    let ids: HashSet<Uuid> = acknowledged
        .values()
        .flatten()
        .map(|id| Uuid::parse_str(id).unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "exactly the five seats were acknowledged");

    // The database agrees: five rows, each acknowledged, the seat count exact.
    let rows: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM applications WHERE status = 'enrolled'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.into_iter().collect::<HashSet<_>>(), ids);
    let (taken, capacity): (i32, i32) =
        sqlx::query_as("SELECT taken, capacity FROM groups WHERE id = $1")
            .bind(group)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((taken, capacity), (5, 5));
    // Each acknowledged application's event, once.
    let mut events = 0;
    for _ in 0..250 {
        events = env
            .event_count("enrollment", "application_submitted")
            .await
            .unwrap();
        if events >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(events, 5);

    shutdown.cancel();
    for i in instances {
        tokio::time::timeout(Duration::from_secs(10), i)
            .await
            .unwrap()
            .unwrap();
    }
    pool.close().await;
    env.cleanup().await;
}

/// A named voucher (voucher_hours) pays block by block: the subject block
/// only for a program of a subject taught, the internship block only for
/// an internship, a withdrawal opens its block again, and each
/// application's event names the blocks it spent.
#[tokio::test]
async fn a_voucher_spends_its_blocks_by_the_subject_and_internship_rules() {
    let w = Window::open().await;
    let maths = w.group(5, ("ordinary", 36, &["Математика"])).await;
    let long_maths = w.group(5, ("ordinary", 72, &["Математика"])).await;
    let history = w.group(5, ("ordinary", 36, &["История"])).await;
    let history2 = w.group(5, ("ordinary", 36, &["История"])).await;
    let internship = w.group(5, ("internship", 54, &[])).await;
    let internship_full = w.group(0, ("internship", 54, &[])).await;
    // A teacher of mathematics (36 h subject + 36 h free) and a vocational
    // master (36 h free + 54 h internship), as identity and allocation tell.
    let mut people = numbers(w.campaign, 2);
    let blocks = [
        [("subject", 36), ("free", 36)],
        [("free", 36), ("internship", 54)],
    ];
    for (n, (kinds, subjects)) in people.iter_mut().zip([
        (blocks[0], vec!["математика".to_owned()]),
        (blocks[1], vec![]),
    ]) {
        let (id, org) = (&n.educator_id, &n.organization_id);
        let (id, org) = (Uuid::parse_str(id).unwrap(), Uuid::parse_str(org).unwrap());
        w.educator_known(id, org, subjects).await;
        let voucher = allocation::UniqueNumberAssigned {
            unique_number: Some(n.clone()),
            voucher_blocks: kinds
                .iter()
                .map(|(kind, hours)| allocation::VoucherBlock {
                    kind: (*kind).into(),
                    hours: *hours,
                    status: "open".into(),
                    ..Default::default()
                })
                .collect(),
        };
        publish_event(
            &w.bus,
            "allocation",
            "unique_number_assigned",
            &n.id,
            1,
            &voucher,
        )
        .await
        .unwrap();
    }
    let shutdown = Shutdown::new();
    let running = pd_enrollment::start(w.env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    w.until_count("SELECT count(*) FROM groups", 6).await;
    w.until_count("SELECT count(*) FROM voucher_blocks", 4)
        .await;
    w.until_count("SELECT count(*) FROM known_educators", 2)
        .await;

    let apply = |who: usize, group: Uuid, key: &str| {
        let n = &people[who];
        let ctx = w.educator(&n.educator_id, key);
        let req = pb::ApplyRequest {
            group_id: group.to_string(),
            unique_number: n.number.clone(),
            ..Default::default()
        };
        let bus = w.bus.clone();
        async move { bus.call::<ops::Apply>(&req, &ctx).await }
    };
    let reason = |r| refusal(r).1;
    // The teacher: history takes the free block; the subject block pays
    // for mathematics only, and is not enough for 72 hours alone.
    let hist = apply(0, history, "t-1").await.unwrap();
    assert_eq!(
        (hist.status.as_str(), hist.voucher_blocks.as_slice()),
        ("enrolled", &[2][..])
    );
    assert_eq!(reason(apply(0, history2, "t-2").await), "subject_mismatch");
    assert_eq!(reason(apply(0, history, "t-3").await), "already_applied");
    assert_eq!(reason(apply(0, long_maths, "t-4").await), "voucher_hours");
    let m = apply(0, maths, "t-5").await.unwrap();
    assert_eq!(m.voucher_blocks, [1]);
    // Withdrawing the history course opens its block again.
    let educator = Uuid::parse_str(&people[0].educator_id).unwrap();
    let ctx = w.as_role(Role::Educator, educator, None);
    let withdraw = pb::WithdrawRequest {
        id: hist.id.clone(),
        reason: "schedule".into(),
        ..Default::default()
    };
    w.bus.call::<ops::Withdraw>(&withdraw, &ctx).await.unwrap();
    let again = apply(0, history2, "t-7").await.unwrap();
    assert_eq!(again.voucher_blocks, [2]);
    // The master: a course takes the free block, then only an internship fits.
    assert_eq!(apply(1, maths, "m-1").await.unwrap().voucher_blocks, [1]);
    assert_eq!(reason(apply(1, history, "m-2").await), "internship_only");
    // Ranked after a full internship: the course the voucher cannot pay
    // for is passed over like a full group, the open internship taken.
    let ctx = w.educator(&people[1].educator_id, "m-3");
    let ranked = pb::ApplyRequest {
        group_id: internship_full.to_string(),
        unique_number: people[1].number.clone(),
        fallback_group_ids: vec![history.to_string(), internship.to_string()],
        ..Default::default()
    };
    let got = w.bus.call::<ops::Apply>(&ranked, &ctx).await.unwrap();
    assert_eq!(
        (got.group_id, got.voucher_blocks),
        (internship.to_string(), vec![2])
    );

    // Every block spent by exactly the application that says so.
    let spent: Vec<(Uuid, i32, Option<Uuid>)> = sqlx::query_as(
        "SELECT number_id, position, application_id FROM voucher_blocks ORDER BY number_id, position",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    let by_app: Vec<Option<String>> = spent.iter().map(|r| r.2.map(|a| a.to_string())).collect();
    assert_eq!(by_app[0].as_deref(), Some(m.id.as_str()));
    assert_eq!(by_app[1].as_deref(), Some(again.id.as_str()));
    assert!(by_app[2].is_some() && by_app[3].is_some(), "{spent:?}");
    // The events carry the blocks: allocation keeps its balances from them.
    let mut submitted = Vec::new();
    for _ in 0..250 {
        submitted = w
            .env
            .events("enrollment", "application_submitted")
            .await
            .unwrap();
        if submitted.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let blocks: Vec<Vec<i32>> = submitted
        .iter()
        .map(|bytes| {
            use prost::Message;
            let env = pd_proto::common::v1::EventEnvelope::decode(bytes.as_slice()).unwrap();
            let e = pb::ApplicationSubmitted::decode(env.payload.as_slice()).unwrap();
            e.application.unwrap().voucher_blocks
        })
        .collect();
    assert_eq!(blocks, [vec![2], vec![1], vec![2], vec![1], vec![2]]);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .unwrap();
    w.pool.close().await;
    w.env.cleanup().await;
}

/// The cumulative model: individual routes draw their modules' hours from
/// the organization's plan-order with the seat; a school team is accepted
/// by its provider only when the plan-order has the hours for every
/// member (or rejected with a reason), and a withdrawal gives hours back.
#[tokio::test]
async fn routes_and_school_teams_draw_the_plan_order_hours() {
    let w = Window::open().await;
    let provider = Uuid::now_v7();
    let cumulative = |starts: &str, ends: &str| {
        let mut g = w.snapshot(5, ("cumulative", 72, &[]));
        let group = g.group.as_mut().unwrap();
        (group.starts_on, group.ends_on) = (starts.into(), ends.into());
        g.provider_id = provider.to_string();
        g.modules = [("Теория", 16), ("Практика", 20), ("Проект", 36)]
            .iter()
            .map(|(name, hours)| registry::Module {
                name: (*name).into(),
                hours: *hours,
                ..Default::default()
            })
            .collect();
        g
    };
    let group = w.publish(cumulative("2027-02-01", "2027-06-30")).await;
    let too_long = w.publish(cumulative("2027-01-10", "2027-08-01")).await;
    let ordinary = w.group(5, ("ordinary", 36, &[])).await;
    // Organization `school` has 100 plan-order hours; `other` none.
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let quota = allocation::HourQuotaSet {
        campaign_id: w.campaign.to_string(),
        organization_id: school.to_string(),
        hours: 100,
    };
    let aggregate = format!("{}/{school}", w.campaign);
    publish_event(
        &w.bus,
        "allocation",
        "hour_quota_set",
        &aggregate,
        1,
        &quota,
    )
    .await
    .unwrap();
    let people: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for (i, id) in people.iter().enumerate() {
        let org = if i < 3 { school } else { other };
        w.educator_known(*id, org, Vec::new()).await;
    }
    let shutdown = Shutdown::new();
    let running = pd_enrollment::start(w.env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    w.until_count("SELECT count(*) FROM groups", 3).await;
    w.until_count("SELECT count(*) FROM hour_quotas", 1).await;
    w.until_count("SELECT count(*) FROM known_educators", 4)
        .await;
    let used = || async {
        let n: i32 = sqlx::query_scalar("SELECT used FROM hour_quotas")
            .fetch_one(&w.pool)
            .await
            .unwrap();
        n
    };

    let route = |who: usize, group: Uuid, modules: &[&str], key: &str| {
        let ctx = w.educator(&people[who].to_string(), key);
        let req = pb::RouteRequest {
            group_id: group.to_string(),
            modules: modules.iter().map(|m| (*m).to_owned()).collect(),
            ..Default::default()
        };
        let bus = w.bus.clone();
        async move { bus.call::<ops::ApplyRoute>(&req, &ctx).await }
    };
    let a = route(0, group, &["Теория", "Практика"], "r-1")
        .await
        .unwrap();
    assert_eq!((a.status.as_str(), a.hours), ("enrolled", 36));
    assert_eq!(a.modules, ["Теория", "Практика"]);
    assert_eq!(used().await, 36);
    let invalid = ErrorKind::Invalid;
    assert_eq!(
        refusal(route(1, ordinary, &["Теория"], "r-2").await),
        (invalid, "group_id".into())
    );
    assert_eq!(
        refusal(route(1, too_long, &["Теория"], "r-3").await),
        (invalid, "group_id".into())
    );
    assert_eq!(
        refusal(route(1, group, &["Иное"], "r-4").await),
        (invalid, "modules".into())
    );
    assert_eq!(
        refusal(route(1, group, &["Теория", "Теория"], "r-5").await),
        (invalid, "modules".into())
    );
    let conflict = ErrorKind::Conflict;
    assert_eq!(
        refusal(route(0, group, &["Проект"], "r-6").await),
        (conflict, "already_applied".into())
    );
    assert_eq!(
        refusal(route(3, group, &["Теория"], "r-7").await),
        (conflict, "hours_exhausted".into())
    );

    // A team of two for the whole program (72 h each): 144 h > 64 h left.
    let operator = w.as_role(Role::OrgOperator, school, None);
    let provider_admin = w.as_role(Role::ProviderAdmin, provider, None);
    let submit = |modules: &[&str]| {
        let req = pb::TeamRequest {
            group_id: group.to_string(),
            member_ids: vec![people[1].to_string(), people[2].to_string()],
            goals: "Формирующее оценивание в основной школе".into(),
            final_work_format: "проект".into(),
            modules: modules.iter().map(|m| (*m).to_owned()).collect(),
        };
        let (bus, ctx) = (w.bus.clone(), operator.clone());
        async move { bus.call::<ops::SubmitTeam>(&req, &ctx).await }
    };
    let decide = |team: &str, decision: &str, reason: &str, ctx: &CallContext| {
        let req = pb::TeamDecisionRequest {
            id: team.to_owned(),
            decision: decision.into(),
            reason: reason.into(),
            ..Default::default()
        };
        let (bus, ctx) = (w.bus.clone(), ctx.clone());
        async move { bus.call::<ops::DecideTeam>(&req, &ctx).await }
    };
    let team = submit(&[]).await.unwrap();
    assert_eq!(
        (
            team.status.as_str(),
            team.hours_per_member,
            team.hours_total
        ),
        ("submitted", 72, 144)
    );
    assert_eq!(
        refusal(decide(&team.id, "accept", "", &operator).await).0,
        ErrorKind::Forbidden
    );
    assert_eq!(
        refusal(decide(&team.id, "accept", "", &provider_admin).await),
        (conflict, "hours_exhausted".into())
    );
    let rejected = decide(&team.id, "reject", "hours_exhausted", &provider_admin)
        .await
        .unwrap();
    assert_eq!(
        (rejected.status.as_str(), rejected.reason.as_str()),
        ("rejected", "hours_exhausted")
    );
    assert_eq!(
        refusal(decide(&team.id, "reject", "unclear_goals", &provider_admin).await),
        (conflict, "already_decided".into())
    );

    // The route withdrawn gives its hours back; a smaller team fits.
    let withdraw = pb::WithdrawRequest {
        id: a.id.clone(),
        reason: "work".into(),
        ..Default::default()
    };
    let own = w.as_role(Role::Educator, people[0], None);
    w.bus.call::<ops::Withdraw>(&withdraw, &own).await.unwrap();
    assert_eq!(used().await, 0);
    let team = submit(&["Проект"]).await.unwrap();
    let accepted = decide(&team.id, "accept", "", &provider_admin)
        .await
        .unwrap();
    assert_eq!(accepted.status, "accepted");
    assert!(
        accepted
            .members
            .iter()
            .all(|m| !m.application_id.is_empty()),
        "{accepted:?}"
    );
    assert_eq!(used().await, 72);
    let list = pb::ListTeamsRequest {
        campaign_id: w.campaign.to_string(),
        ..Default::default()
    };
    let seen = w
        .bus
        .call::<ops::ListTeams>(&list, &provider_admin)
        .await
        .unwrap();
    assert_eq!(seen.total, 2);
    let stranger = w.as_role(Role::OrgOperator, other, None);
    let seen = w
        .bus
        .call::<ops::ListTeams>(&list, &stranger)
        .await
        .unwrap();
    assert_eq!(seen.total, 0, "another organization's operator sees none");

    // Allocation learns each application's hours from its event.
    let mut submitted = Vec::new();
    for _ in 0..250 {
        submitted = w
            .env
            .events("enrollment", "application_submitted")
            .await
            .unwrap();
        if submitted.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hours: Vec<(i32, bool)> = submitted
        .iter()
        .map(|bytes| {
            use prost::Message;
            let env = pd_proto::common::v1::EventEnvelope::decode(bytes.as_slice()).unwrap();
            let a = pb::ApplicationSubmitted::decode(env.payload.as_slice())
                .unwrap()
                .application
                .unwrap();
            (a.hours, a.unique_number_id.is_empty())
        })
        .collect();
    assert_eq!(hours, [(36, true), (36, true), (36, true)]);

    // A team still waiting when the window closes is rejected at formation.
    let pending = submit(&["Теория"]).await.unwrap();
    // The window's day passes on the service's clock (no calendar change).
    w.env.settings.clock.advance(chrono::Duration::days(2));
    let regional = w.as_role(Role::RegionalOperator, w.region, None);
    let form = pb::FormationRequest {
        campaign_id: w.campaign.to_string(),
    };
    let mut formed = None;
    for _ in 0..250 {
        match w.bus.call::<ops::FormGroups>(&form, &regional).await {
            Ok(f) => {
                formed = Some(f);
                break;
            }
            Err(e)
                if e.extensions.get("reason").map(String::as_str) == Some("phase_not_closed") =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(
        formed.is_some(),
        "the closed phase never reached enrollment"
    );
    let id = pb::TeamIdRequest { id: pending.id };
    let team = w.bus.call::<ops::GetTeam>(&id, &operator).await.unwrap();
    assert_eq!(
        (team.status.as_str(), team.reason.as_str()),
        ("rejected", "window_closed")
    );
    let ministry = w.as_role(Role::Ministry, w.region, None);
    assert_eq!(
        refusal(w.bus.call::<ops::FormGroups>(&form, &ministry).await).0,
        ErrorKind::Forbidden,
        "the regional operator forms groups, not the ministry"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .unwrap();
    w.pool.close().await;
    w.env.cleanup().await;
}

/// What other services change reaches applications: a group the registry
/// enlarges serves its waitlist, a number allocation releases rejects the
/// application that used it (its seat goes back).
#[tokio::test]
async fn a_larger_group_serves_its_waitlist_and_a_released_number_rejects_its_application() {
    let w = Window::open().await;
    let snapshot = w.snapshot(1, ("ordinary", 36, &[]));
    let group = w.publish(snapshot.clone()).await;
    let people = w.assigned(2).await;
    let shutdown = Shutdown::new();
    let running = pd_enrollment::start(w.env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    w.until_count("SELECT count(*) FROM unique_numbers", 2)
        .await;
    w.until_count("SELECT count(*) FROM groups", 1).await;
    let mut answers = Vec::new();
    for (i, n) in people.iter().enumerate() {
        let req = pb::ApplyRequest {
            group_id: group.to_string(),
            unique_number: n.number.clone(),
            join_waitlist: true,
            ..Default::default()
        };
        let ctx = w.educator(&n.educator_id, &format!("k-{i}"));
        answers.push(w.bus.call::<ops::Apply>(&req, &ctx).await.unwrap());
    }
    let statuses: Vec<&str> = answers.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(statuses, ["enrolled", "waitlisted"]);
    // The registry makes room for two: the waitlist's head gets the seat.
    let mut larger = snapshot.clone();
    larger.group.as_mut().unwrap().capacity = 2;
    let changed = registry::GroupChanged {
        group: Some(larger),
    };
    let aggregate = group.to_string();
    publish_event(&w.bus, "registry", "group_changed", &aggregate, 2, &changed)
        .await
        .unwrap();
    w.until_status(&answers[1].id, ("enrolled", "")).await;

    // Allocation releases the first number (a refusal crossed the application).
    let released = allocation::UniqueNumberReleased {
        unique_number: Some(allocation::UniqueNumber {
            status: "refused".into(),
            ..people[0].clone()
        }),
    };
    publish_event(
        &w.bus,
        "allocation",
        "unique_number_released",
        &people[0].id,
        2,
        &released,
    )
    .await
    .unwrap();
    w.until_status(&answers[0].id, ("rejected", "number_released"))
        .await;
    let taken: i32 = sqlx::query_scalar("SELECT taken FROM groups WHERE id = $1")
        .bind(group)
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(taken, 1, "the released number's seat went back");
    // The counters an ops team scales on: applications by outcome.
    let metrics = pd_runtime::metrics::render();
    assert!(
        metrics.contains("pd_applications_total{status=\"waitlisted\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pd_applications_total{status=\"promoted\"}"),
        "{metrics}"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .unwrap();
    w.pool.close().await;
    w.env.cleanup().await;
}

/// The seat read free is taken by another instance before this request's
/// write: the request is answered as if the group had been full when read
/// (a 409 naming the same alternatives, in the same order, as the read
/// would have: earliest start first, undated last, full groups left out),
/// or put on the waitlist when it asked to be; nothing else is written.
#[tokio::test]
async fn a_seat_lost_between_the_read_and_the_write_answers_as_a_full_group() {
    let w = Window::open().await;
    // One program: the group applied to, and its other groups.
    let program = Uuid::now_v7().to_string();
    let group_of = |capacity: i32, starts_on: &str| {
        let mut s = w.snapshot(capacity, ("ordinary", 36, &[]));
        let g = s.group.as_mut().unwrap();
        g.program_id = program.clone();
        g.starts_on = starts_on.into();
        s
    };
    let wanted = w.publish(group_of(2, "2027-02-01")).await;
    let late = w.publish(group_of(5, "2027-03-01")).await;
    let undated = w.publish(group_of(5, "")).await;
    let early = w.publish(group_of(5, "2027-02-10")).await;
    let soon_full = w.publish(group_of(1, "2027-01-15")).await;
    let people = w.assigned(5).await;
    let shutdown = Shutdown::new();
    let running = pd_enrollment::start(w.env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let service = tokio::spawn(running.wait());
    w.until_count("SELECT count(*) FROM groups", 5).await;
    w.until_count("SELECT count(*) FROM unique_numbers", 5)
        .await;
    let signed_in = w.signed_in(&people);
    let apply = |i: usize, group: Uuid, key: &str, waitlist: bool| {
        let (bus, ctx) = (w.bus.clone(), with_key(&signed_in[i], key));
        let req = pb::ApplyRequest {
            group_id: group.to_string(),
            unique_number: people[i].number.clone(),
            join_waitlist: waitlist,
            ..Default::default()
        };
        async move { bus.call::<ops::Apply>(&req, &ctx).await }
    };
    assert_eq!(
        apply(0, soon_full, "a0", false).await.unwrap().status,
        "enrolled"
    );
    assert_eq!(
        apply(1, wanted, "a1", false).await.unwrap().status,
        "enrolled"
    );

    // Another instance holds the group's row while two requests that read
    // its last seat free come to write.
    let mut other = w.pool.begin().await.unwrap();
    let holder: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *other)
        .await
        .unwrap();
    sqlx::query("SELECT 1 FROM groups WHERE id = $1 FOR UPDATE")
        .bind(wanted)
        .execute(&mut *other)
        .await
        .unwrap();
    let refused = tokio::spawn(apply(2, wanted, "a2", false));
    let waiting = tokio::spawn(apply(3, wanted, "a3", true));
    // The backends waiting for this transaction, directly or queued behind
    // another waiter for the same row: exactly the two requests.
    let blocked = || async {
        sqlx::query_scalar::<_, i64>(
            "WITH RECURSIVE w(pid) AS (
                 SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
                 UNION
                 SELECT a.pid FROM pg_stat_activity a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid)))
             SELECT count(*) FROM w",
        )
        .bind(holder)
        .fetch_one(&w.pool)
        .await
        .unwrap()
    };
    for _ in 0..500 {
        if blocked().await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(blocked().await, 2, "both requests wait for the group's row");
    // ... and takes the last seat.
    sqlx::query("UPDATE groups SET taken = taken + 1 WHERE id = $1")
        .bind(wanted)
        .execute(&mut *other)
        .await
        .unwrap();
    other.commit().await.unwrap();

    let alternatives = |e: &pd_domain::AppError| e.extensions.get("alternative_groups").cloned();
    let in_order = [early, late, undated].map(|g| g.to_string()).join(",");
    let lost = refused.await.unwrap().unwrap_err();
    assert_eq!(
        refusal(Err::<(), _>(lost.clone())),
        (ErrorKind::Conflict, "group_full".into())
    );
    assert_eq!(alternatives(&lost).as_deref(), Some(in_order.as_str()));
    let queued = waiting.await.unwrap().unwrap();
    assert_eq!(
        (queued.status.as_str(), queued.waitlist_position),
        ("waitlisted", 1)
    );
    // Full when read: the same alternatives, from the read itself.
    let read_full = apply(4, wanted, "a4", false).await.unwrap_err();
    assert_eq!(alternatives(&read_full).as_deref(), Some(in_order.as_str()));
    // The lost request's key replays its answer; no row was written for it.
    let recorded: String =
        sqlx::query_scalar("SELECT outcome FROM idempotency_keys WHERE key = 'a2'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(recorded, "error", "the 409 is recorded for the key");
    let again = apply(2, wanted, "a2", false).await.unwrap_err();
    assert_eq!(
        (again.kind, alternatives(&again)),
        (lost.kind, alternatives(&lost))
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applications WHERE unique_number_id = $1")
            .bind(Uuid::parse_str(&people[2].id).unwrap())
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(rows, 0);
    let (taken, waitlisted): (i32, i32) =
        sqlx::query_as("SELECT taken, waitlisted FROM groups WHERE id = $1")
            .bind(wanted)
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!((taken, waitlisted), (2, 1));

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), service)
        .await
        .unwrap()
        .unwrap();
    w.pool.close().await;
    w.env.cleanup().await;
}

/// An educator ranks groups: a full first group is followed by the first
/// fallback with a seat, passing over full and cancelled ones, in one
/// request; with every group full the answer is the first group's (its
/// 409 or its waitlist); a fallback the request gets wrong is named.
#[tokio::test]
async fn fallback_groups_are_tried_in_the_educators_order() {
    let w = Window::open().await;
    let wanted = w.group(1, ("ordinary", 36, &[])).await;
    let also_full = w.group(1, ("ordinary", 36, &[])).await;
    let mut cancelled = w.snapshot(5, ("ordinary", 36, &[]));
    cancelled.group.as_mut().unwrap().status = "cancelled".into();
    let cancelled = w.publish(cancelled).await;
    let free = w.group(5, ("ordinary", 72, &[])).await;
    let later = w.group(5, ("ordinary", 36, &[])).await;
    let mut elsewhere = w.snapshot(5, ("ordinary", 36, &[]));
    elsewhere.campaign_id = Uuid::now_v7().to_string();
    let elsewhere = w.publish(elsewhere).await;
    let people = w.assigned(7).await;
    let shutdown = Shutdown::new();
    let running = pd_enrollment::start(w.env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let service = tokio::spawn(running.wait());
    w.until_count("SELECT count(*) FROM groups", 6).await;
    w.until_count("SELECT count(*) FROM unique_numbers", 7)
        .await;
    let signed_in = w.signed_in(&people);
    let apply = |i: usize, key: &str, fallbacks: &[Uuid], waitlist: bool| {
        let (bus, ctx) = (w.bus.clone(), with_key(&signed_in[i], key));
        let req = pb::ApplyRequest {
            group_id: wanted.to_string(),
            unique_number: people[i].number.clone(),
            join_waitlist: waitlist,
            fallback_group_ids: fallbacks.iter().map(Uuid::to_string).collect(),
            ..Default::default()
        };
        async move { bus.call::<ops::Apply>(&req, &ctx).await }
    };
    // The first group's seat, then the other full group's.
    assert_eq!(
        apply(0, "a0", &[free], false).await.unwrap().group_id,
        wanted.to_string()
    );
    let req = pb::ApplyRequest {
        group_id: also_full.to_string(),
        unique_number: people[1].number.clone(),
        ..Default::default()
    };
    let ctx = w.educator(&people[1].educator_id, "a1");
    w.bus.call::<ops::Apply>(&req, &ctx).await.unwrap();

    // Full, full, cancelled: the seat is the next group's, not the last's.
    let order = [also_full, cancelled, free, later];
    let got = apply(2, "a2", &order, false).await.unwrap();
    assert_eq!(
        (got.group_id.as_str(), got.status.as_str()),
        (free.to_string().as_str(), "enrolled")
    );
    // The same key and body: the same application, no second one.
    assert_eq!(apply(2, "a2", &order, false).await.unwrap().id, got.id);

    // Every group full: the first group's 409 and its alternatives...
    let e = apply(3, "a3", &[also_full, cancelled], false)
        .await
        .unwrap_err();
    assert_eq!(
        e.extensions.get("reason").map(String::as_str),
        Some("group_full")
    );
    assert!(e.extensions.contains_key("alternative_groups"), "{e:?}");
    assert!(
        !e.extensions.contains_key("group_id"),
        "the first group's: {e:?}"
    );
    // ... or, asked for, the first group's waitlist.
    let queued = apply(4, "a4", &[also_full, cancelled], true).await.unwrap();
    assert_eq!(
        (
            queued.group_id.as_str(),
            queued.status.as_str(),
            queued.waitlist_position
        ),
        (wanted.to_string().as_str(), "waitlisted", 1)
    );

    // Asked for the waitlist, a fallback's seat still comes first.
    let seated = apply(6, "a6", &[also_full, later], true).await.unwrap();
    assert_eq!(
        (seated.group_id.as_str(), seated.status.as_str()),
        (later.to_string().as_str(), "enrolled")
    );

    // A fallback that is no group of the campaign is named, whether or
    // not the groups before it have seats; nothing is tried.
    for (key, bad) in [("a5", Uuid::now_v7()), ("a5b", elsewhere)] {
        let e = apply(5, key, &[also_full, bad, free], false)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.fields.first().map(|f| f.field.as_str())),
            (ErrorKind::Invalid, Some("fallback_group_ids"))
        );
        assert_eq!(e.extensions.get("group_id"), Some(&bad.to_string()));
    }
    // More than nine, or a group twice: 422 on the field, nothing tried.
    let ten: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    assert_eq!(
        refusal(apply(5, "a8", &ten, false).await),
        (ErrorKind::Invalid, "fallback_group_ids".into())
    );
    assert_eq!(
        refusal(apply(5, "a7", &[free, wanted], false).await),
        (ErrorKind::Invalid, "fallback_group_ids".into())
    );
    let counts: Vec<(Uuid, i32, i32)> =
        sqlx::query_as("SELECT id, taken, waitlisted FROM groups WHERE id = ANY($1) ORDER BY id")
            .bind([wanted, also_full, free, later])
            .fetch_all(&w.pool)
            .await
            .unwrap();
    let mut expected = vec![
        (wanted, 1, 1),
        (also_full, 1, 0),
        (free, 1, 0),
        (later, 1, 0),
    ];
    expected.sort();
    assert_eq!(counts, expected);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), service)
        .await
        .unwrap()
        .unwrap();
    w.pool.close().await;
    w.env.cleanup().await;
}
