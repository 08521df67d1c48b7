//! The monitoring service on its own, over NATS, against real PostgreSQL
//! and JetStream: the registry's groups, identity's educators and
//! enrollment's rosters arrive as events; providers push completions over
//! the bus and over their own subject; surveys' answers and scores arrive
//! as events; time moves by the service's clock, not by sleeping.

use pd_bus::testing::{context_with, publish_event};
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Grant, Role};
use pd_proto::enrollment::v1 as enrollment;
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as pb;
use pd_proto::ops::monitoring as ops;
use pd_proto::registry::v1 as registry;
use pd_proto::surveys::v1 as surveys;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use std::time::Duration;
use uuid::Uuid;

struct Region {
    env: TestEnv,
    pool: sqlx::PgPool,
    bus: Bus,
    region: Uuid,
    organization: Uuid,
    municipality: Uuid,
    provider: Uuid,
    shutdown: Shutdown,
    service: Option<tokio::task::JoinHandle<()>>,
}

/// Two days ago: documents are issued in the past.
fn issued_on() -> String {
    (chrono::Utc::now() - chrono::Duration::days(2))
        .date_naive()
        .to_string()
}

fn learner(educator: Uuid, number: &str) -> pb::LearnerCompletion {
    pb::LearnerCompletion {
        educator_id: educator.to_string(),
        status: "completed".into(),
        document_type: "pk_certificate".into(),
        document_series: "63".into(),
        document_number: number.into(),
        issued_on: issued_on(),
        registration_number: format!("R-{number}"),
        hours: 36,
        ..Default::default()
    }
}

impl Region {
    async fn new() -> Region {
        let mut env = TestEnv::new().unwrap();
        env.settings.monitoring.sweep_interval_ms = 20;
        let pool = env
            .database(pd_monitoring::SERVICE, &pd_monitoring::MIGRATORS)
            .await
            .unwrap();
        let bus = Bus::connect(
            &env.settings.nats,
            TokenVerifier::new(&env.settings.auth).unwrap(),
        )
        .await
        .unwrap();
        for s in [
            "registry",
            "identity",
            "enrollment",
            "surveys",
            "monitoring",
        ] {
            bus.ensure_stream(s).await.unwrap();
        }
        let mut r = Region {
            env,
            pool,
            bus,
            region: Uuid::now_v7(),
            organization: Uuid::now_v7(),
            municipality: Uuid::now_v7(),
            provider: Uuid::now_v7(),
            shutdown: Shutdown::new(),
            service: None,
        };
        r.start().await;
        r
    }

    async fn start(&mut self) {
        self.shutdown = Shutdown::new();
        let running = pd_monitoring::start(self.env.settings.clone(), self.shutdown.clone())
            .await
            .unwrap();
        self.service = Some(tokio::spawn(running.wait()));
    }

    async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(s) = self.service.take() {
            s.await.unwrap();
        }
    }

    fn as_role(&self, role: Role, scope: Uuid) -> CallContext {
        context_with(
            &self.env.settings.auth,
            vec![Grant {
                role,
                scope: Some(scope),
                region: Some(self.region),
            }],
        )
        .unwrap()
    }

    fn provider(&self) -> CallContext {
        self.as_role(Role::ProviderAdmin, self.provider)
    }

    fn regional(&self) -> CallContext {
        self.as_role(Role::RegionalOperator, self.region)
    }

    async fn educator(&self) -> Uuid {
        let id = Uuid::now_v7();
        let e = identity::EducatorCreated {
            educator: Some(identity::EducatorSnapshot {
                id: id.to_string(),
                last_name: "Петрова".into(),
                first_name: "Анна".into(),
                middle_name: "Ивановна".into(),
                organization_id: self.organization.to_string(),
                municipality_id: self.municipality.to_string(),
                region_id: self.region.to_string(),
                ..Default::default()
            }),
        };
        publish_event(
            &self.bus,
            "identity",
            "educator_created",
            &id.to_string(),
            1,
            &e,
        )
        .await
        .unwrap();
        id
    }

    /// A published group of `provider` with (kind, modules), its roster
    /// fixed with `members` (educator, route modules).
    async fn group(
        &self,
        provider: Uuid,
        kind: &str,
        modules: &[&str],
        members: &[(Uuid, Vec<String>)],
    ) -> Uuid {
        let id = Uuid::now_v7();
        let snapshot = registry::GroupSnapshot {
            group: Some(registry::Group {
                id: id.to_string(),
                program_id: Uuid::now_v7().to_string(),
                starts_on: "2027-02-01".into(),
                ends_on: "2027-02-05".into(),
                capacity: 30,
                min_size: 1,
                status: "published".into(),
                ..Default::default()
            }),
            campaign_id: Uuid::now_v7().to_string(),
            region_id: self.region.to_string(),
            provider_id: provider.to_string(),
            provider_name: "ЦПК «Развитие»".into(),
            program_title: "Функциональная грамотность".into(),
            program_kind: kind.into(),
            program_hours: 36,
            modules: modules
                .iter()
                .map(|m| registry::Module {
                    name: (*m).into(),
                    hours: 18,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let published = registry::GroupPublished {
            group: Some(snapshot),
        };
        publish_event(
            &self.bus,
            "registry",
            "group_published",
            &id.to_string(),
            1,
            &published,
        )
        .await
        .unwrap();
        let roster = enrollment::RosterFixed {
            roster: Some(enrollment::GroupRoster {
                group: Some(enrollment::GroupSeats {
                    group_id: id.to_string(),
                    ..Default::default()
                }),
                roster: "formed".into(),
                members: members
                    .iter()
                    .map(|(e, m)| enrollment::RosterMember {
                        application_id: Uuid::now_v7().to_string(),
                        educator_id: e.to_string(),
                        modules: m.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
        };
        publish_event(
            &self.bus,
            "enrollment",
            "roster_fixed",
            &id.to_string(),
            1,
            &roster,
        )
        .await
        .unwrap();
        // The read-models caught up.
        self.until("SELECT count(*) FROM rosters r JOIN known_groups g ON g.id = r.group_id WHERE r.group_id = $1", id, 1)
            .await;
        id
    }

    /// Polls a count with one uuid parameter until it reaches `n`.
    async fn until(&self, sql: &str, id: Uuid, n: i64) {
        let mut got = 0;
        for _ in 0..500 {
            got = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(id)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if got >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{sql}: {got}, never {n}");
    }

    async fn push(
        &self,
        ctx: &CallContext,
        group: Uuid,
        learners: Vec<pb::LearnerCompletion>,
    ) -> Result<pb::CompletionBatchResult, pd_domain::AppError> {
        let req = pb::CompletionBatch {
            provider_id: self.provider.to_string(),
            group_id: group.to_string(),
            learners,
        };
        self.bus.call::<ops::PushCompletions>(&req, ctx).await
    }

    /// The window of a completion. Right after a restart the service may
    /// not answer yet (503 to a caller): asked again, as a caller would.
    async fn window(&self, completion: &str) -> pb::PostCourseWindow {
        let req = pb::CompletionRequest {
            completion_id: completion.to_owned(),
        };
        for _ in 0..100 {
            match self
                .bus
                .call::<ops::GetWindow>(&req, &self.regional())
                .await
            {
                Err(e) if e.kind == pd_domain::ErrorKind::Unavailable => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other.unwrap(),
            }
        }
        panic!("monitoring did not answer after its restart");
    }

    /// Polls the window until `done` holds.
    async fn window_until(
        &self,
        completion: &str,
        done: impl Fn(&pb::PostCourseWindow) -> bool,
    ) -> pb::PostCourseWindow {
        let mut w = self.window(completion).await;
        for _ in 0..500 {
            if done(&w) {
                return w;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            w = self.window(completion).await;
        }
        panic!("window never got there: {w:?}");
    }

    /// Surveys' events of the completion's post-course window.
    async fn answered(&self, completion: &str, educator: Uuid) {
        let e = surveys::ResponseSubmitted {
            response_id: Uuid::now_v7().to_string(),
            purpose: "post_course_survey".into(),
            educator_id: educator.to_string(),
            reference: completion.to_owned(),
            submitted_at: self.env.settings.clock.now().to_rfc3339(),
            first: true,
            ..Default::default()
        };
        let id = Uuid::now_v7().to_string();
        publish_event(&self.bus, "surveys", "response_submitted", &id, 0, &e)
            .await
            .unwrap();
    }

    async fn scored(&self, completion: &str, number: i32, percent: i32, best: i32) {
        let e = surveys::TestAttemptScored {
            attempt_id: Uuid::now_v7().to_string(),
            purpose: "post_course_test".into(),
            reference: completion.to_owned(),
            number,
            percent,
            best_percent: best,
            best_passed: best >= 60,
            attempts_used: number,
            attempts_limit: 2,
            ..Default::default()
        };
        let id = Uuid::now_v7().to_string();
        publish_event(&self.bus, "surveys", "test_attempt_scored", &id, 0, &e)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_batch_is_refused_whole_naming_the_learner_and_another_providers_group_is_forbidden() {
    let mut r = Region::new().await;
    let (a, b) = (r.educator().await, r.educator().await);
    let group = r
        .group(r.provider, "ordinary", &[], &[(a, vec![]), (b, vec![])])
        .await;

    // One learner not on the roster: nothing is recorded, and that learner is named.
    let stranger = Uuid::now_v7();
    let e = r
        .push(
            &r.provider(),
            group,
            vec![learner(a, "1"), learner(stranger, "2")],
        )
        .await
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.fields.len(), 1, "{e:?}");
    assert_eq!(e.fields[0].field, "learners[1].educator_id");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM completions")
        .fetch_one(&r.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 0);

    // Another provider's token, and another provider's group.
    let other = r.as_role(Role::ProviderAdmin, Uuid::now_v7());
    let e = r
        .push(&other, group, vec![learner(a, "1")])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    let theirs = r
        .group(Uuid::now_v7(), "ordinary", &[], &[(a, vec![])])
        .await;
    let e = r
        .push(&r.provider(), theirs, vec![learner(a, "1")])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);

    // Not completed needs a reason; a document with other data is refused.
    let mut not = learner(b, "");
    not.status = "not_completed".into();
    let e = r
        .push(&r.provider(), group, vec![not.clone()])
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "learners[0].reason");
    not.reason = "не защитил итоговую работу".into();
    let ok = r
        .push(&r.provider(), group, vec![learner(a, "1"), not])
        .await
        .unwrap();
    assert_eq!((ok.recorded, ok.unchanged), (2, 0));
    let mut changed = learner(a, "1");
    changed.hours = 72;
    let e = r
        .push(&r.provider(), group, vec![changed])
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "learners[0].document_number");

    // The regional operator sees who did not complete, and why.
    let req = pb::ListCompletionsRequest {
        region_id: r.region.to_string(),
        status: "not_completed".into(),
        ..Default::default()
    };
    let list = r
        .bus
        .call::<ops::ListCompletions>(&req, &r.regional())
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].educator_id, b.to_string());
    assert_eq!(list.items[0].reason, "не защитил итоговую работу");
    assert_eq!(list.items[0].educator_name, "Петрова Анна Ивановна");
    r.stop().await;
    r.env.cleanup().await;
}

#[tokio::test]
async fn a_completion_opens_a_window_whose_questionnaire_makes_the_certificate_verifiable() {
    let mut r = Region::new().await;
    let a = r.educator().await;
    let group = r.group(r.provider, "ordinary", &[], &[(a, vec![])]).await;
    let mut opened = r
        .bus
        .client()
        .subscribe(
            r.bus
                .event_subject("monitoring", "post_course_window_opened"),
        )
        .await
        .unwrap();
    let mut records = r
        .bus
        .client()
        .subscribe(r.bus.event_subject("monitoring", "pd_record_changed"))
        .await
        .unwrap();

    let out = r
        .push(&r.provider(), group, vec![learner(a, "632400001")])
        .await
        .unwrap();
    assert_eq!((out.recorded, out.unchanged), (1, 0));
    let completion = out.learners[0].completion_id.clone();

    // Surveys is told to open the window: 10 days, 2 attempts.
    let msg = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut opened),
    )
    .await
    .unwrap()
    .unwrap();
    let env: pd_proto::common::v1::EventEnvelope = prost::Message::decode(msg.payload).unwrap();
    let e: pb::PostCourseWindowOpened = prost::Message::decode(env.payload.as_slice()).unwrap();
    assert_eq!(
        (e.completion_id.as_str(), e.attempts_limit),
        (completion.as_str(), 2)
    );
    let opens = chrono::DateTime::parse_from_rfc3339(&e.opens_at).unwrap();
    let closes = chrono::DateTime::parse_from_rfc3339(&e.closes_at).unwrap();
    assert_eq!(closes - opens, chrono::Duration::days(10));
    // The completion is a PD record that counts (allocation's eligibility).
    let msg = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut records),
    )
    .await
    .unwrap()
    .unwrap();
    let env: pd_proto::common::v1::EventEnvelope = prost::Message::decode(msg.payload).unwrap();
    let rec: pb::PdRecordChanged = prost::Message::decode(env.payload.as_slice()).unwrap();
    assert_eq!(
        (rec.educator_id, rec.ended_on, rec.counts),
        (a.to_string(), issued_on(), true)
    );

    // Sent again (the provider's retry), over its own NATS subject: unchanged.
    let body = serde_json::json!({
        "group_id": group.to_string(),
        "learners": [serde_json::to_value(learner(a, "632400001")).unwrap()],
    });
    let reply = r
        .bus
        .client()
        .request(
            r.bus.provider_completion_subject(&r.provider.to_string()),
            serde_json::to_vec(&body).unwrap().into(),
        )
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(answer["result"]["unchanged"], 1, "{answer}");
    assert_eq!(
        answer["result"]["learners"][0]["completion_id"],
        completion.as_str()
    );
    // The subject names the provider: another provider's subject is refused.
    let reply = r
        .bus
        .client()
        .request(
            r.bus
                .provider_completion_subject(&Uuid::now_v7().to_string()),
            serde_json::to_vec(&body).unwrap().into(),
        )
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(answer["status"], 403, "{answer}");

    // Two test attempts: the best is kept. No document before the questionnaire.
    r.scored(&completion, 1, 80, 80).await;
    r.scored(&completion, 2, 50, 80).await;
    let w = r.window_until(&completion, |w| w.attempts_used == 2).await;
    assert_eq!(
        (w.best_percent, w.best_passed, w.status.as_str()),
        (80, true, "open")
    );
    assert!(w.document_id.is_empty());
    // The educator sees their window and its score.
    let own = r
        .bus
        .call::<ops::ListWindows>(
            &pb::ListWindowsRequest::default(),
            &r.as_role(Role::Educator, a),
        )
        .await
        .unwrap();
    assert_eq!(own.items.len(), 1);
    assert_eq!(own.items[0].best_percent, 80);
    // Another organization's operator does not.
    let e = r
        .bus
        .call::<ops::GetWindow>(
            &pb::CompletionRequest {
                completion_id: completion.clone(),
            },
            &r.as_role(Role::OrgOperator, Uuid::now_v7()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);

    r.answered(&completion, a).await;
    let w = r
        .window_until(&completion, |w| !w.document_id.is_empty())
        .await;
    assert!(!w.survey_done_at.is_empty());
    let doc = r
        .bus
        .call::<ops::GetDocument>(
            &pb::DocumentRequest {
                id: w.document_id.clone(),
            },
            &r.as_role(Role::Educator, a),
        )
        .await
        .unwrap();
    assert_eq!(doc.kind, "certificate");
    assert_eq!((doc.hours, doc.document_number.as_str()), (36, "632400001"));
    assert_eq!(doc.holder_name, "Петрова Анна Ивановна");

    // Anyone verifies the code (typed in lower case, without dashes).
    let anonymous = CallContext::default();
    let typed = doc.code.to_lowercase().replace('-', "");
    let v = r
        .bus
        .call::<ops::Verify>(&pb::VerifyRequest { code: typed }, &anonymous)
        .await
        .unwrap();
    assert_eq!(v.status, "valid");
    assert_eq!(v.holder, "П****** А. И.");
    assert_eq!(
        (v.program_title.as_str(), v.hours),
        ("Функциональная грамотность", 36)
    );
    let v = r
        .bus
        .call::<ops::Verify>(
            &pb::VerifyRequest {
                code: "2222-2222-2222".into(),
            },
            &anonymous,
        )
        .await
        .unwrap();
    assert_eq!(v.status, "unknown");

    // Revoked by its provider: the public check says so.
    let revoke = pb::RevokeDocumentRequest {
        id: doc.id.clone(),
        reason: "ошибка в номере".into(),
    };
    let e = r
        .bus
        .call::<ops::RevokeDocument>(&revoke, &r.as_role(Role::Educator, a))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    r.bus
        .call::<ops::RevokeDocument>(&revoke, &r.provider())
        .await
        .unwrap();
    let v = r
        .bus
        .call::<ops::Verify>(
            &pb::VerifyRequest {
                code: doc.code.clone(),
            },
            &anonymous,
        )
        .await
        .unwrap();
    assert_eq!(
        (v.status.as_str(), v.revoke_reason.as_str()),
        ("revoked", "ошибка в номере")
    );
    r.stop().await;
    r.env.cleanup().await;
}

#[tokio::test]
async fn windows_close_on_time_by_the_clock_and_one_due_while_down_closes_after_a_restart() {
    let mut r = Region::new().await;
    let (a, b, c) = (r.educator().await, r.educator().await, r.educator().await);
    let group = r
        .group(
            r.provider,
            "ordinary",
            &[],
            &[(a, vec![]), (b, vec![]), (c, vec![])],
        )
        .await;
    let out = r
        .push(&r.provider(), group, vec![learner(a, "1"), learner(b, "2")])
        .await
        .unwrap();
    let (wa, wb) = (
        out.learners[0].completion_id.clone(),
        out.learners[1].completion_id.clone(),
    );
    r.answered(&wa, a).await;
    r.window_until(&wa, |w| !w.document_id.is_empty()).await;

    // Nine days on: still open. Eleven: closed; b never answered (missed).
    r.env.settings.clock.advance(chrono::Duration::days(9));
    r.push(&r.provider(), group, vec![learner(a, "1")])
        .await
        .unwrap();
    assert_eq!(r.window(&wb).await.status, "open");
    r.env.settings.clock.advance(chrono::Duration::days(2));
    let w = r.window_until(&wb, |w| w.status == "closed").await;
    // The sweep records it (reads show a due window closed before that).
    let recorded = "SELECT count(*) FROM post_course_windows WHERE completion_id = $1 AND closed_at IS NOT NULL AND missed";
    r.until(recorded, Uuid::parse_str(&wb).unwrap(), 1).await;
    assert!(w.missed);
    let w = r.window_until(&wa, |w| w.status == "closed").await;
    assert!(!w.missed);
    let missed = r
        .bus
        .call::<ops::ListWindows>(
            &pb::ListWindowsRequest {
                region_id: r.region.to_string(),
                status: "missed".into(),
                ..Default::default()
            },
            &r.regional(),
        )
        .await
        .unwrap();
    assert_eq!(missed.total, 1);
    assert_eq!(missed.items[0].educator_id, b.to_string());

    // c's window falls due while the service is down: closed when it is back.
    let out = r
        .push(&r.provider(), group, vec![learner(c, "3")])
        .await
        .unwrap();
    let wc = out.learners[0].completion_id.clone();
    r.stop().await;
    r.env.settings.clock.advance(chrono::Duration::days(11));
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM post_course_windows WHERE closed_at IS NULL")
            .fetch_one(&r.pool)
            .await
            .unwrap();
    assert_eq!(open, 1);
    r.start().await;
    let w = r.window_until(&wc, |w| w.status == "closed").await;
    r.until(recorded, Uuid::parse_str(&wc).unwrap(), 1).await;
    assert!(w.missed);
    r.stop().await;
    r.env.cleanup().await;
}

#[tokio::test]
async fn a_cumulative_route_earns_a_certificate_when_complete_in_six_months_else_a_transcript() {
    let mut r = Region::new().await;
    let (a, b) = (r.educator().await, r.educator().await);
    let route = vec!["Модуль 1".to_owned(), "Модуль 2".to_owned()];
    let group = r
        .group(
            r.provider,
            "cumulative",
            &["Модуль 1", "Модуль 2", "Модуль 3"],
            &[(a, route.clone()), (b, route)],
        )
        .await;
    let credit = |name: &str, on: &str| pb::ModuleCredit {
        name: name.into(),
        hours: 18,
        credited_on: on.into(),
    };
    let mut full = learner(a, "10");
    full.modules = vec![
        credit("Модуль 1", "2027-01-15"),
        credit("Модуль 2", "2027-02-05"),
    ];
    let mut part = learner(b, "11");
    part.hours = 18;
    part.modules = vec![credit("Модуль 1", "2027-01-15")];
    let out = r
        .push(&r.provider(), group, vec![full, part])
        .await
        .unwrap();
    for (i, who) in [a, b].into_iter().enumerate() {
        r.answered(&out.learners[i].completion_id, who).await;
    }
    let document = async |completion: &str| {
        let w = r
            .window_until(completion, |w| !w.document_id.is_empty())
            .await;
        r.bus
            .call::<ops::GetDocument>(&pb::DocumentRequest { id: w.document_id }, &r.regional())
            .await
            .unwrap()
    };
    let certificate = document(&out.learners[0].completion_id).await;
    assert_eq!(
        (certificate.kind.as_str(), certificate.hours),
        ("certificate", 36)
    );
    let transcript = document(&out.learners[1].completion_id).await;
    assert_eq!(
        (transcript.kind.as_str(), transcript.hours),
        ("transcript", 18)
    );
    assert_eq!(transcript.modules.len(), 1);
    assert_eq!(transcript.modules[0].name, "Модуль 1");
    r.stop().await;
    r.env.cleanup().await;
}

#[tokio::test]
async fn declared_pd_waits_for_an_operators_verification_and_then_counts() {
    let mut r = Region::new().await;
    let a = r.educator().await;
    r.until("SELECT count(*) FROM known_educators WHERE id = $1", a, 1)
        .await;
    let me = r.as_role(Role::Educator, a);
    let mut events = r
        .bus
        .client()
        .subscribe(r.bus.event_subject("monitoring", "pd_record_changed"))
        .await
        .unwrap();
    let mut req = pb::DeclareRecordRequest {
        started_on: "2026-03-01".into(),
        ended_on: "2026-02-01".into(),
        document_type: "Удостоверение о повышении квалификации".into(),
        document_number: "7701-55".into(),
        program_title: "Цифровая образовательная среда".into(),
        hours: 16,
        provider_name: "Университет Иннополис".into(),
        ..Default::default()
    };
    let mut ctx = me.clone();
    ctx.idempotency_key = Some(Uuid::now_v7().to_string());
    let e = r
        .bus
        .call::<ops::DeclareRecord>(&req, &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "ended_on");
    req.ended_on = "2026-03-20".into();
    ctx.idempotency_key = Some(Uuid::now_v7().to_string());
    let rec = r.bus.call::<ops::DeclareRecord>(&req, &ctx).await.unwrap();
    assert_eq!(
        (rec.status.as_str(), rec.funded, rec.source.as_str()),
        ("pending", false, "declared")
    );

    // Another organization's operator cannot see it; the educator's can.
    let decide = |decision: &str| pb::DecideRecordRequest {
        id: rec.id.clone(),
        decision: decision.into(),
        reason: String::new(),
    };
    let e = r
        .bus
        .call::<ops::DecideRecord>(
            &decide("verify"),
            &r.as_role(Role::OrgOperator, Uuid::now_v7()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let org = r.as_role(Role::OrgOperator, r.organization);
    let pending = r
        .bus
        .call::<ops::ListRecords>(
            &pb::ListRecordsRequest {
                region_id: r.region.to_string(),
                status: "pending".into(),
                ..Default::default()
            },
            &org,
        )
        .await
        .unwrap();
    assert_eq!(pending.total, 1);
    let e = r
        .bus
        .call::<ops::DecideRecord>(&decide("reject"), &org)
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "reason");
    let done = r
        .bus
        .call::<ops::DecideRecord>(&decide("verify"), &org)
        .await
        .unwrap();
    assert_eq!(done.status, "verified");
    let e = r
        .bus
        .call::<ops::DecideRecord>(&decide("verify"), &org)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    let msg = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut events),
    )
    .await
    .unwrap()
    .unwrap();
    let env: pd_proto::common::v1::EventEnvelope = prost::Message::decode(msg.payload).unwrap();
    let changed: pb::PdRecordChanged = prost::Message::decode(env.payload.as_slice()).unwrap();
    assert_eq!(
        (changed.ended_on.as_str(), changed.counts),
        ("2026-03-20", true)
    );
    // The educator's history shows it.
    let mine = r
        .bus
        .call::<ops::ListRecords>(&pb::ListRecordsRequest::default(), &me)
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].status, "verified");

    // A municipal operator declares PD for the educator; they do not
    // verify it themselves, the organization's operator does.
    let muni = r.as_role(Role::MunicipalOperator, r.municipality);
    let mut by_operator = muni.clone();
    by_operator.idempotency_key = Some(Uuid::now_v7().to_string());
    req.educator_id = a.to_string();
    req.document_number = "7701-56".into();
    let rec = r
        .bus
        .call::<ops::DeclareRecord>(&req, &by_operator)
        .await
        .unwrap();
    let verify = pb::DecideRecordRequest {
        id: rec.id.clone(),
        decision: "verify".into(),
        reason: String::new(),
    };
    let e = r
        .bus
        .call::<ops::DecideRecord>(&verify, &muni)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden, "{e:?}");
    let done = r
        .bus
        .call::<ops::DecideRecord>(&verify, &org)
        .await
        .unwrap();
    assert_eq!(done.status, "verified");
    r.stop().await;
    r.env.cleanup().await;
}

#[tokio::test]
async fn one_batch_may_cover_several_groups_each_learner_naming_its_own() {
    let mut r = Region::new().await;
    let (a, b) = (r.educator().await, r.educator().await);
    let g1 = r.group(r.provider, "ordinary", &[], &[(a, vec![])]).await;
    let g2 = r.group(r.provider, "ordinary", &[], &[(b, vec![])]).await;
    let in_group = |educator: Uuid, group: Uuid, number: &str| {
        let mut l = learner(educator, number);
        l.group_id = group.to_string();
        l
    };
    let req = |learners| pb::CompletionBatch {
        provider_id: r.provider.to_string(),
        group_id: String::new(),
        learners,
    };
    // b is on g2's roster, not g1's; an unknown group is named too.
    let e = r
        .bus
        .call::<ops::PushCompletions>(
            &req(vec![
                in_group(a, g1, "1"),
                in_group(b, g1, "2"),
                in_group(b, Uuid::now_v7(), "3"),
            ]),
            &r.provider(),
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["learners[2].group_id"], "{e:?}");
    let e = r
        .bus
        .call::<ops::PushCompletions>(
            &req(vec![in_group(a, g1, "1"), in_group(b, g1, "2")]),
            &r.provider(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "learners[1].educator_id", "{e:?}");
    let out = r
        .bus
        .call::<ops::PushCompletions>(
            &req(vec![in_group(a, g1, "1"), in_group(b, g2, "2")]),
            &r.provider(),
        )
        .await
        .unwrap();
    assert_eq!(out.recorded, 2);
    let groups: Vec<&str> = out.learners.iter().map(|l| l.group_id.as_str()).collect();
    assert_eq!(groups, [g1.to_string(), g2.to_string()]);
    // Over the provider's own NATS subject: a first recording, in full.
    let c = r.educator().await;
    let g3 = r.group(r.provider, "ordinary", &[], &[(c, vec![])]).await;
    let mut not = in_group(c, g3, "");
    not.status = "not_completed".into();
    not.reason = "болезнь".into();
    not.document_type.clear();
    let body = serde_json::json!({"learners": [serde_json::to_value(&not).unwrap()]});
    let reply = r
        .bus
        .client()
        .request(
            r.bus.provider_completion_subject(&r.provider.to_string()),
            serde_json::to_vec(&body).unwrap().into(),
        )
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(
        (&answer["status"], &answer["result"]["recorded"]),
        (&serde_json::json!(200), &serde_json::json!(1)),
        "{answer}"
    );
    // Completed later: the completion supersedes "not completed"; the
    // other way round is refused.
    let done = r
        .bus
        .call::<ops::PushCompletions>(&req(vec![in_group(c, g3, "7")]), &r.provider())
        .await
        .unwrap();
    assert_eq!(done.recorded, 1);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM completions WHERE educator_id = $1")
            .bind(c)
            .fetch_all(&r.pool)
            .await
            .unwrap();
    assert_eq!(statuses, ["completed"]);
    let e = r
        .bus
        .call::<ops::PushCompletions>(&req(vec![not]), &r.provider())
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "learners[0].status", "{e:?}");
    // Without a group anywhere, the learner is told to name one.
    let e = r
        .bus
        .call::<ops::PushCompletions>(&req(vec![learner(a, "1")]), &r.provider())
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "learners[0].group_id");
    r.stop().await;
    r.env.cleanup().await;
}
