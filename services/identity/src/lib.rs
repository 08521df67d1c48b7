//! Identity service: regions (and their PD model), municipalities,
//! organizations, providers, educators, users, credentials, role grants and
//! the bulk imports of educators and organizations. Every read and write is
//! checked against the caller's role scope here, in the service that owns
//! the data.

mod accounts;
mod audit;
mod auth;
mod db;
pub mod domain;
mod educators;
mod imports;
mod messages;
mod organization_imports;
mod organizations;
mod provider_keys;
mod regions;
mod republish;
mod rpc;
mod users;

use anyhow::Context;
use pd_bus::Bus;
use pd_bus::outbox::{Outbox, Relay};
use pd_runtime::tokens::{TokenIssuer, TokenVerifier};
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "identity";
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/identity");

pub use republish::{Republished, republish};
pub use users::create_user_direct;

#[derive(Clone)]
pub(crate) struct State {
    pub pool: PgPool,
    pub outbox: Outbox,
    pub tokens: TokenIssuer,
    pub refresh_ttl_secs: i64,
    /// The time dates are judged by ("not in the future"): the system
    /// clock, moved forward by tests, as every service's.
    pub clock: pd_runtime::clock::Clock,
}

/// The identity service in the workspace's list of services.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &[&MIGRATOR],
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 1`.
const ADMIN_OFFSET: u16 = 1;

/// Runs the service until `shutdown`.
pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Migrates, connects and starts serving; returns once requests are taken.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let pool = pd_runtime::db::open_service_db(&settings, SERVICE, &[&MIGRATOR]).await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    bus.ensure_stream(SERVICE).await?;
    let tokens =
        TokenIssuer::new(&settings.auth).context("identity signs tokens: set auth.signing_key")?;
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new(&bus, SERVICE),
        tokens,
        refresh_ttl_secs: settings.auth.refresh_ttl_secs as i64,
        clock: settings.clock.clone(),
    };
    users::bootstrap_admin(&state.pool, &settings.nats.subject_prefix, &settings.auth).await?;
    imports::resume_unfinished(&state).await;

    let ready = bus.ready_check(Some(pool.clone()));
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;

    // The relay outlives request handling so that it flushes what the last
    // requests wrote.
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
        relay_stop.cancel();
        let _ = relay.await;
        pool.close().await;
    });
    tracing::info!("identity service started");
    Ok(Running::new(SERVICE, task))
}
