//! Monitoring service: stages 10–12 of the cycle (DESIGN.md). Providers
//! push completions (webhook through the gateway, or their own NATS
//! subject); each completed learner gets a post-course window, which this
//! service opens (`post_course_window_opened`, run by surveys) and closes
//! on time; the questionnaire answered makes the certificate (or, on a
//! cumulative route left incomplete, the transcript) available, publicly
//! verifiable by its code; every completion is a PD record, and records
//! declared by educators wait for an operator's verification.

mod completions;
mod db;
mod documents;
pub mod domain;
mod frdo;
mod messages;
mod provider_channel;
mod quality;
mod read_models;
mod records;
mod rpc;
mod windows;

use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::clock::Clock;
use pd_runtime::settings::MonitoringSettings;
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "monitoring";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/monitoring");
pub static MIGRATORS: [&Migrator; 1] = [&MIGRATOR];

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    /// For asks of other services on a caller's behalf (identity's
    /// personal data for the ФИС ФРДО export).
    pub bus: Bus,
    pub outbox: Outbox,
    pub clock: Clock,
    pub settings: MonitoringSettings,
}

/// The monitoring service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &MIGRATORS,
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 6`.
const ADMIN_OFFSET: u16 = 6;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects, follows identity's, the registry's, enrollment's
/// and surveys' events, closes windows on time and serves requests.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &MIGRATORS).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let state = State {
        pool: pool.clone(),
        bus: bus.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        clock: settings.clock.clone(),
        settings: settings.monitoring.clone(),
    };
    let ready = bus.ready_check(Some(pool.clone()));
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;
    let mut tasks = Vec::new();
    for consumer in [
        read_models::identity_consumer(&bus, &pool),
        read_models::registry_consumer(&bus, &pool),
        read_models::enrollment_consumer(&bus, &pool),
        read_models::surveys_consumer(&state, &bus),
    ] {
        tasks.push(consumer.start(shutdown.clone()).await?);
    }
    // A window due while the service was down closes at this first turn.
    let closing = state.clone();
    tasks.push(tokio::spawn(pd_runtime::sweeper::every(
        "closing post-course windows",
        std::time::Duration::from_millis(settings.monitoring.sweep_interval_ms.max(20)),
        shutdown.clone(),
        move || {
            let s = closing.clone();
            async move { windows::close_due(&s).await }
        },
    )));
    tasks.push(provider_channel::serve(state.clone(), bus.clone(), shutdown.clone()).await?);
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
        for t in tasks {
            let _ = t.await;
        }
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("monitoring service started");
    Ok(Running::new(SERVICE, task))
}
