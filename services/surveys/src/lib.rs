//! Surveys service: the competence catalog, the one questionnaire-and-test
//! engine (instruments, windows, responses, attempts, scores) behind the
//! needs survey, diagnostics and the post-course survey and test, and what
//! the needs survey yields: response rates, demand, priorities, coverage
//! gaps, each educator's trajectory (stages 2–3 of the cycle in DESIGN.md;
//! seeds 000–003).

mod attempts;
mod catalog;
mod db;
pub mod domain;
mod instruments;
mod messages;
mod needs;
mod priorities;
mod read_models;
mod responses;
mod rpc;
mod windows;

use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use std::time::Duration;

pub const SERVICE: &str = "surveys";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/surveys");
/// Own tables, plus the calendar read-model: the needs survey follows its phase.
pub static MIGRATORS: [&Migrator; 2] = [&MIGRATOR, &pd_calendar::MIGRATOR];

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    pub outbox: Outbox,
    /// When windows open and close and attempts run out of time: the
    /// system clock, moved forward by tests instead of sleeping.
    pub clock: pd_runtime::clock::Clock,
}

/// The surveys service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &MIGRATORS,
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 2`.
const ADMIN_OFFSET: u16 = 2;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects, follows identity's and the registry's events,
/// closes windows on time and serves requests.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &MIGRATORS).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        clock: settings.clock.clone(),
    };
    let ready = bus.ready_check(Some(pool.clone()));
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;
    let identity = read_models::identity_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let registry = read_models::registry_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let monitoring = read_models::monitoring_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let relay_stop = Shutdown::new();
    let relay =
        tokio::spawn(Relay::new(bus.clone(), pool.clone(), SERVICE).run(relay_stop.clone()));
    let sweeping = state.clone();
    let sweeper = tokio::spawn(pd_runtime::sweeper::every(
        "closing windows and attempts",
        Duration::from_millis(settings.surveys.sweep_interval_ms.max(50)),
        shutdown.clone(),
        move || {
            let s = sweeping.clone();
            async move { windows::sweep(&s).await }
        },
    ));
    bus.follow_session_revocations(shutdown.clone()).await?;
    let requests = rpc::server(state)
        .with_idempotency(pool.clone())
        .serve(bus.clone(), shutdown)
        .await?;
    let task = tokio::spawn(async move {
        let _ = requests.await;
        let _ = identity.await;
        let _ = registry.await;
        let _ = monitoring.await;
        let _ = sweeper.await;
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("surveys service started");
    Ok(Running::new(SERVICE, task))
}
