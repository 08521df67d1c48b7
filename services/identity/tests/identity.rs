//! The identity service on its own, over NATS, against real PostgreSQL and
//! JetStream: its requests, its scope checks, its events.

use futures::StreamExt;
use pd_bus::testing::context_as;
use pd_bus::{Bus, CallContext};
use pd_domain::{ErrorKind, Role};
use pd_proto::common::v1::EventEnvelope;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use pd_runtime::Shutdown;
use pd_runtime::tokens::TokenVerifier;
use pd_testkit::TestEnv;
use prost::Message;
use std::time::Duration;
use uuid::Uuid;

fn as_role(env: &TestEnv, role: Role, scope: Option<Uuid>) -> CallContext {
    context_as(&env.settings.auth, role, scope).unwrap()
}

#[tokio::test]
async fn requests_are_scope_checked_and_changes_become_events() {
    let env = TestEnv::new().unwrap();
    env.database(pd_identity::SERVICE, &[&pd_identity::MIGRATOR])
        .await
        .unwrap()
        .close()
        .await;
    let shutdown = Shutdown::new();
    let identity = pd_identity::start(env.settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let bus = Bus::connect(
        &env.settings.nats,
        TokenVerifier::new(&env.settings.auth).unwrap(),
    )
    .await
    .unwrap();

    let create = pb::CreateRegionRequest {
        code: "16".into(),
        name: "Республика Татарстан".into(),
        time_zone: "Europe/Moscow".into(),
        pd_model: "un_quota".into(),
        pd_interval_years: None,
    };
    // Without a token, and with a role that may not: refused in the service.
    let err = bus
        .call::<identity_ops::CreateRegion>(&create, &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    let operator = as_role(&env, Role::OrgOperator, Some(Uuid::now_v7()));
    let err = bus
        .call::<identity_ops::CreateRegion>(&create, &operator)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);

    let admin = as_role(&env, Role::Admin, None);
    let region: pb::Region = bus
        .call::<identity_ops::CreateRegion>(&create, &admin)
        .await
        .unwrap();
    assert_eq!((region.code.as_str(), region.pd_interval_years), ("16", 3));

    // The change reached the stream through the outbox, in its envelope.
    let stream = bus
        .jetstream()
        .get_stream(bus.stream_name("identity"))
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: bus.event_subject("identity", "region_created"),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let envelope = EventEnvelope::decode(msg.payload.clone()).unwrap();
    assert_eq!(envelope.event_type, "region_created");
    assert_eq!(envelope.aggregate_id, region.id);
    assert_eq!(
        Uuid::parse_str(&envelope.event_id)
            .unwrap()
            .get_version_num(),
        7
    );
    let event = pb::RegionCreated::decode(envelope.payload.as_slice()).unwrap();
    assert_eq!(event.region.unwrap().name, "Республика Татарстан");
    assert_eq!(
        msg.headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned()),
        Some(envelope.event_id.clone())
    );

    // Logging in with a wrong password is a 401-kind error.
    let err = bus
        .call::<identity_ops::Login>(
            &pb::LoginRequest {
                login: "nobody".into(),
                password: "wrong".into(),
                ..Default::default()
            },
            &CallContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);

    shutdown.cancel();
    identity.wait().await;
    env.cleanup().await;
}

/// The service with a bus client, for the import tests.
struct Service {
    env: TestEnv,
    shutdown: Shutdown,
    running: pd_runtime::Running,
    bus: Bus,
    admin: CallContext,
}

impl Service {
    async fn start() -> Service {
        let env = TestEnv::new().unwrap();
        env.database(pd_identity::SERVICE, &[&pd_identity::MIGRATOR])
            .await
            .unwrap()
            .close()
            .await;
        let shutdown = Shutdown::new();
        let running = pd_identity::start(env.settings.clone(), shutdown.clone())
            .await
            .unwrap();
        let bus = Bus::connect(
            &env.settings.nats,
            TokenVerifier::new(&env.settings.auth).unwrap(),
        )
        .await
        .unwrap();
        let admin = as_role(&env, Role::Admin, None);
        Service {
            env,
            shutdown,
            running,
            bus,
            admin,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.running.wait().await;
        self.env.cleanup().await;
    }

    /// A region, a municipality and `n` organizations.
    async fn organizations(&self, n: u32) -> Vec<pb::Organization> {
        let region: pb::Region = self
            .bus
            .call::<identity_ops::CreateRegion>(
                &pb::CreateRegionRequest {
                    code: "63".into(),
                    name: "Самарская область".into(),
                    time_zone: "Europe/Samara".into(),
                    pd_model: "voucher_hours".into(),
                    pd_interval_years: None,
                },
                &self.admin,
            )
            .await
            .unwrap();
        let m: pb::Municipality = self
            .bus
            .call::<identity_ops::CreateMunicipality>(
                &pb::CreateMunicipalityRequest {
                    region_id: region.id,
                    name: "г. о. Самара".into(),
                    code: "36701000".into(),
                },
                &self.admin,
            )
            .await
            .unwrap();
        let mut orgs = Vec::new();
        for i in 0..n {
            let inn = pd_domain::Inn::from_body(631_601_230 + i).unwrap();
            let o = self
                .bus
                .call::<identity_ops::CreateOrganization>(
                    &pb::CreateOrganizationRequest {
                        municipality_id: m.id.clone(),
                        name: format!("Школа № {}", i + 1),
                        kind: "school".into(),
                        inn: inn.as_str().into(),
                    },
                    &self.admin,
                )
                .await
                .unwrap();
            orgs.push(o);
        }
        orgs
    }

    /// Uploads a CSV as `ctx` and waits for the job's answer.
    async fn import(
        &self,
        ctx: &CallContext,
        csv: &str,
        dry_run: bool,
        update: bool,
    ) -> pb::ImportJob {
        let begin = pb::ImportBeginRequest {
            dry_run,
            update_existing: update,
            ..Default::default()
        };
        let job = self
            .bus
            .call::<identity_ops::ImportBegin>(&begin, ctx)
            .await
            .unwrap();
        let chunk = pb::ImportChunkRequest {
            import_id: job.id.clone(),
            seq: 0,
            data: csv.as_bytes().to_vec(),
        };
        self.bus
            .call::<identity_ops::ImportChunk>(&chunk, ctx)
            .await
            .unwrap();
        let commit = pb::ImportCommitRequest {
            import_id: job.id.clone(),
            chunks: 1,
        };
        let mut job = self
            .bus
            .call::<identity_ops::ImportCommit>(&commit, ctx)
            .await
            .unwrap();
        for _ in 0..300 {
            if ["completed", "rejected", "failed"].contains(&job.status.as_str()) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let get = pb::GetImportRequest {
                id: job.id.clone(),
                ..Default::default()
            };
            job = self
                .bus
                .call::<identity_ops::GetImport>(&get, ctx)
                .await
                .unwrap();
        }
        panic!("import did not finish: {job:?}");
    }

    /// The next `n` events of this type on the service's stream.
    async fn events(&self, event: &str, n: usize) -> Vec<EventEnvelope> {
        let stream = self
            .bus
            .jetstream()
            .get_stream(self.bus.stream_name("identity"))
            .await
            .unwrap();
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                filter_subject: self.bus.event_subject("identity", event),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut out = Vec::new();
        while out.len() < n {
            let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
                .await
                .unwrap_or_else(|_| panic!("{event}: {} of {n} events", out.len()))
                .unwrap()
                .unwrap();
            out.push(EventEnvelope::decode(msg.payload.clone()).unwrap());
        }
        out
    }
}

fn snils(n: u32) -> String {
    pd_domain::Snils::from_body(300_000_000 + n * 17)
        .unwrap()
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn update_mode_reports_the_difference_and_updates_and_moves_known_educators() {
    let s = Service::start().await;
    let orgs = s.organizations(2).await;
    let (a, b) = (&orgs[0], &orgs[1]);
    // Four educators in A.
    let mut csv =
        String::from("snils;last_name;first_name;middle_name;position;organization_inn\n");
    for i in 1..=4 {
        csv.push_str(&format!(
            "{};Петрова{i};Анна;Ивановна;учитель;{}\n",
            snils(i),
            a.inn
        ));
    }
    let job = s.import(&s.admin, &csv, false, false).await;
    assert_eq!(job.status, "completed", "{job:?}");
    assert_eq!(job.report.len(), 1);
    assert_eq!((job.report[0].new, job.report[0].absent), (4, 0));

    // The yearly reload: 1 gets another position, 2 moves to B, 3 stays
    // as is, 4 is not in the file, 5 is new. No middle name column: kept.
    let reload = format!(
        "snils;last_name;first_name;position;organization_inn;last_pd_completed_on\n\
         {};Петрова1;Анна;заместитель директора;{};2023-06-30\n\
         {};Петрова2;Анна;учитель;{};\n\
         {};Петрова3;Анна;учитель;{};\n\
         {};Сидоров;Олег;учитель;{};\n",
        snils(1),
        a.inn,
        snils(2),
        b.inn,
        snils(3),
        a.inn,
        snils(5),
        a.inn
    );
    // Without update mode a known SNILS is still a bad row.
    let job = s.import(&s.admin, &reload, false, false).await;
    assert_eq!(job.status, "rejected", "{job:?}");
    let bad: Vec<(i32, &str)> = job
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(bad, vec![(2, "snils"), (3, "snils"), (4, "snils")]);

    let dry = s.import(&s.admin, &reload, true, true).await;
    assert_eq!(dry.status, "completed", "{dry:?}");
    assert!(dry.update_existing);
    let diff = |job: &pb::ImportJob, org: &str| {
        let d = job
            .report
            .iter()
            .find(|d| d.organization_id == org)
            .unwrap_or_else(|| panic!("no report for {org}: {job:?}"));
        (d.new, d.changed, d.moved_in, d.unchanged, d.absent)
    };
    assert_eq!(diff(&dry, &a.id), (1, 1, 0, 1, 1));
    assert_eq!(diff(&dry, &b.id), (0, 1, 1, 0, 0));
    assert_eq!(dry.report[0].organization_inn.len(), 10);
    // A dry run changes nothing.
    let listed = |org: &str| pb::ListEducatorsRequest {
        organization_id: org.into(),
        ..Default::default()
    };
    let in_b = s
        .bus
        .call::<identity_ops::ListEducators>(&listed(&b.id), &s.admin)
        .await
        .unwrap();
    assert_eq!(in_b.total, 0);

    // An org operator of B may not take A's educator into B.
    let op_b = as_role(&s.env, Role::OrgOperator, Some(b.id.parse().unwrap()));
    let only_b = format!(
        "snils;last_name;first_name;position\n{};Петрова2;Анна;учитель\n",
        snils(2)
    );
    let begin = pb::ImportBeginRequest {
        organization_id: b.id.clone(),
        update_existing: true,
        ..Default::default()
    };
    let job = s
        .bus
        .call::<identity_ops::ImportBegin>(&begin, &op_b)
        .await
        .unwrap();
    s.bus
        .call::<identity_ops::ImportChunk>(
            &pb::ImportChunkRequest {
                import_id: job.id.clone(),
                seq: 0,
                data: only_b.into_bytes(),
            },
            &op_b,
        )
        .await
        .unwrap();
    let mut job = s
        .bus
        .call::<identity_ops::ImportCommit>(
            &pb::ImportCommitRequest {
                import_id: job.id,
                chunks: 1,
            },
            &op_b,
        )
        .await
        .unwrap();
    while !["completed", "rejected", "failed"].contains(&job.status.as_str()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        job = s
            .bus
            .call::<identity_ops::GetImport>(
                &pb::GetImportRequest {
                    id: job.id.clone(),
                    ..Default::default()
                },
                &op_b,
            )
            .await
            .unwrap();
    }
    assert_eq!(job.status, "rejected", "{job:?}");
    assert_eq!(
        (job.errors[0].row, job.errors[0].column.as_str()),
        (2, "snils")
    );

    let done = s.import(&s.admin, &reload, false, true).await;
    assert_eq!(done.status, "completed", "{done:?}");
    assert_eq!(done.imported_rows, 3);
    assert_eq!(diff(&done, &a.id), (1, 1, 0, 1, 1));
    assert_eq!(diff(&done, &b.id), (0, 1, 1, 0, 0));

    let in_b = s
        .bus
        .call::<identity_ops::ListEducators>(&listed(&b.id), &s.admin)
        .await
        .unwrap();
    assert_eq!(in_b.total, 1);
    let moved = &in_b.items[0];
    assert_eq!(moved.middle_name, "Ивановна");
    let in_a = s
        .bus
        .call::<identity_ops::ListEducators>(&listed(&a.id), &s.admin)
        .await
        .unwrap();
    assert_eq!(in_a.total, 4);
    let first = in_a
        .items
        .iter()
        .find(|e| e.last_name == "Петрова1")
        .unwrap();
    assert_eq!(first.position, "заместитель директора");
    assert_eq!(first.last_pd_completed_on, "2023-06-30");
    assert_eq!(first.middle_name, "Ивановна");

    // The events are those UpdateEducator writes, with the same snapshot.
    let moved_events = s.events("educator_moved", 1).await;
    assert_eq!(moved_events[0].aggregate_id, moved.id);
    let event = pb::EducatorMoved::decode(moved_events[0].payload.as_slice()).unwrap();
    assert_eq!(event.from_organization_id, a.id);
    let snapshot = event.educator.unwrap();
    assert_eq!(
        (
            snapshot.organization_id.as_str(),
            snapshot.municipality_id.as_str()
        ),
        (b.id.as_str(), b.municipality_id.as_str())
    );
    assert_eq!(snapshot.middle_name, "Ивановна");
    let updated = s.events("educator_updated", 1).await;
    assert_eq!(updated[0].aggregate_id, first.id);
    let event = pb::EducatorUpdated::decode(updated[0].payload.as_slice()).unwrap();
    let snapshot = event.educator.unwrap();
    assert_eq!(snapshot.position, "заместитель директора");
    assert_eq!(snapshot.last_pd_completed_on, "2023-06-30");
    assert_eq!(snapshot.region_id, a.region_id);
    // Four created by the first import, one by the reload.
    s.events("educator_created", 5).await;
    // The history says what changed.
    let history = s
        .bus
        .call::<identity_ops::EducatorHistory>(
            &pd_proto::common::v1::IdRequest {
                id: moved.id.clone(),
            },
            &s.admin,
        )
        .await
        .unwrap();
    let last = history.items.last().unwrap();
    assert_eq!(last.change, "moved");
    assert!(last.details.contains("organization_id"), "{last:?}");
    s.stop().await;
}
