//! Registry service: the yearly campaign and its phases, program
//! submission, the two-stage expert review, the council vote and protocol,
//! the published registry and the schedule of groups (stages 2–6 of the
//! cycle in DESIGN.md; the Tatarstan ministry order, seeds/002, is the
//! normative text).

mod campaigns;
mod catalog;
mod council;
mod db;
pub mod domain;
mod messages;
mod programs;
mod read_models;
mod reviews;
mod rpc;
mod schedule;

use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::settings::RegistrySettings;
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use std::sync::Arc;

pub const SERVICE: &str = "registry";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/registry");
/// The registry's own tables and the shared calendar read-model.
pub static MIGRATORS: [&Migrator; 2] = [&MIGRATOR, &pd_calendar::MIGRATOR];

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    pub outbox: Outbox,
    pub settings: Arc<RegistrySettings>,
    /// The time phases are judged by: the system clock, moved forward by
    /// tests instead of sleeping (the same clock as every other service's).
    pub clock: pd_runtime::clock::Clock,
}

/// The registry service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &MIGRATORS,
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 3`.
const ADMIN_OFFSET: u16 = 3;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects, starts consuming identity's events and serving.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &MIGRATORS).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        settings: Arc::new(settings.registry.clone()),
        clock: settings.clock.clone(),
    };
    let ready = bus.ready_check(Some(pool.clone()));
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;
    let consumer = read_models::consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let priorities = read_models::surveys_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let relay_stop = Shutdown::new();
    let relay =
        tokio::spawn(Relay::new(bus.clone(), pool.clone(), SERVICE).run(relay_stop.clone()));
    // Tokens of deactivated accounts are refused here too, not only at the gateway.
    bus.follow_session_revocations(shutdown.clone()).await?;
    let requests = rpc::server(state)
        .with_idempotency(pool.clone())
        .serve(bus.clone(), shutdown)
        .await?;
    let task = tokio::spawn(async move {
        let _ = requests.await;
        let _ = consumer.await;
        let _ = priorities.await;
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("registry service started");
    Ok(Running::new(SERVICE, task))
}
