//! Enrollment service: the December application window (stage 8 of the
//! cycle in DESIGN.md). An educator applies with their unique number to a
//! group; the seat is taken in the same transaction as the application
//! and its event, so no group is ever over capacity however many
//! instances run; full groups keep a waitlist, served in order when a
//! seat is freed. Operators file and withdraw on behalf of the educators
//! of their scope and see every application of it.

mod applications;
mod db;
pub mod domain;
mod messages;
mod metrics;
mod read_models;
mod reports;
mod rosters;
mod routes;
mod rpc;
mod seats;
mod teams;

use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "enrollment";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/enrollment");
/// Own tables, plus the calendar read-model (the application phase).
pub static MIGRATORS: [&Migrator; 2] = [&MIGRATOR, &pd_calendar::MIGRATOR];

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    pub outbox: Outbox,
    /// The apply requests' reads, batched.
    pub applying: applications::Readers,
    /// When the application phase is open and rosters are due: the system
    /// clock, moved forward by tests instead of sleeping.
    pub clock: pd_runtime::clock::Clock,
}

/// The enrollment service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &MIGRATORS,
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 5`.
const ADMIN_OFFSET: u16 = 5;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects, follows identity's, the registry's and allocation's
/// events and serves requests.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &MIGRATORS).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        applying: applications::readers(pool.clone()),
        clock: settings.clock.clone(),
    };
    let ready = bus.ready_check(Some(pool.clone()));
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;
    let mut consumers = Vec::new();
    for consumer in [
        read_models::identity_consumer(&bus, &pool),
        read_models::registry_consumer(&bus, &pool),
        read_models::allocation_consumer(&bus, &pool),
    ] {
        consumers.push(consumer.start(shutdown.clone()).await?);
    }
    tokio::spawn(metrics::watch_seats(
        pool.clone(),
        std::time::Duration::from_secs(5),
        shutdown.clone(),
    ));
    let forming = state.clone();
    let former = tokio::spawn(pd_runtime::sweeper::every(
        "forming groups",
        std::time::Duration::from_millis(settings.enrollment.sweep_interval_ms.max(50)),
        shutdown.clone(),
        move || {
            let s = forming.clone();
            async move { rosters::form_due(&s, s.clock.now()).await }
        },
    ));
    let relay_stop = Shutdown::new();
    let relay =
        tokio::spawn(Relay::new(bus.clone(), pool.clone(), SERVICE).run(relay_stop.clone()));
    bus.follow_session_revocations(shutdown.clone()).await?;
    let requests = rpc::server(state)
        .with_idempotency(pool.clone())
        .serve(bus.clone(), shutdown)
        .await?;
    let task = tokio::spawn(async move {
        let _ = requests.await;
        for c in consumers {
            let _ = c.await;
        }
        let _ = former.await;
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("enrollment service started");
    Ok(Running::new(SERVICE, task))
}
