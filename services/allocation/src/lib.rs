//! Allocation service: who is due for PD in a campaign (candidates) and the
//! organizations' confirmation of their lists, the ministry's funding and
//! the quotas it yields, unique numbers (UN) and vouchers assigned longest
//! without PD first, refusals, and the redistribution of freed places from
//! the organization up to the region (stages 1 and 7 of the cycle in
//! DESIGN.md; seed 002, fifth and sixth stages; seed 003).

mod balances;
mod candidates;
mod db;
pub mod domain;
mod funding;
mod messages;
mod numbers;
mod read_models;
mod refusals;
mod rpc;

use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use std::time::Duration;

use crate::domain::cascade::Windows;

pub const SERVICE: &str = "allocation";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/allocation");
/// Own tables, plus the calendar read-model (a campaign's year and region).
pub static MIGRATORS: [&Migrator; 2] = [&MIGRATOR, &pd_calendar::MIGRATOR];

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    pub outbox: Outbox,
    /// How long each level has to reassign a freed place.
    pub windows: Windows,
    /// The time handovers and expiry are judged by: the system clock,
    /// moved forward by tests instead of sleeping (every service's clock).
    pub clock: pd_runtime::clock::Clock,
}

/// The allocation service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &MIGRATORS,
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 4`.
const ADMIN_OFFSET: u16 = 4;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects, follows identity's, the registry's, enrollment's and
/// monitoring's events and serves requests.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &MIGRATORS).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        windows: Windows {
            organization_days: settings.allocation.organization_days,
            municipality_days: settings.allocation.municipality_days,
        },
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
    let enrollment = read_models::enrollment_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let monitoring = read_models::monitoring_consumer(&bus, &pool)
        .start(shutdown.clone())
        .await?;
    let relay_stop = Shutdown::new();
    let relay =
        tokio::spawn(Relay::new(bus.clone(), pool.clone(), SERVICE).run(relay_stop.clone()));
    let escalating = state.clone();
    let sweeper = tokio::spawn(pd_runtime::sweeper::every(
        "handing freed places over",
        Duration::from_millis(settings.allocation.sweep_interval_ms.max(50)),
        shutdown.clone(),
        move || {
            let s = escalating.clone();
            async move { refusals::escalate(&s, s.clock.now()).await }
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
        let _ = enrollment.await;
        let _ = monitoring.await;
        let _ = sweeper.await;
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("allocation service started");
    Ok(Running::new(SERVICE, task))
}
