//! The gateway: the public HTTP API under `/api/v1`. It authenticates the
//! caller, turns each HTTP request into a typed NATS request to the owning
//! service (which checks the caller's scope itself) and every error into an
//! RFC 9457 problem+json body.

mod documents;
mod http;
mod openapi;

use anyhow::Context;
use pd_bus::Bus;
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Running, ServiceDef, Settings, Shutdown};
use std::net::SocketAddr;

pub const SERVICE: &str = "gateway";

pub use openapi::openapi_json;

/// The gateway in the workspace's list of services: no database, the
/// public HTTP port.
pub const DEF: ServiceDef = ServiceDef {
    name: SERVICE,
    migrators: &[],
    admin_offset: ADMIN_OFFSET,
    start: |settings, shutdown| Box::pin(start(settings, shutdown)),
};

/// Its admin port is `admin.base_port + 0`.
const ADMIN_OFFSET: u16 = 0;

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Binds the HTTP port and serves until `shutdown`, then stops accepting
/// and finishes the requests in flight.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let verifier = TokenVerifier::new(&settings.auth).context("auth.verifying_key")?;
    let bus = Bus::connect(&settings.nats, verifier.clone()).await?;
    let ready = bus.ready_check(None);
    pd_runtime::admin::serve(&settings, SERVICE, ADMIN_OFFSET, ready, shutdown.clone()).await?;
    // Deactivated accounts, revoked grants, changed passwords: their older
    // tokens are refused from the moment identity publishes the change.
    bus.follow_session_revocations(shutdown.clone()).await?;
    let state = http::AppState::new(bus, verifier, &settings)?;
    let pruned = state.clone();
    let admission = http::Admission::new(&settings);
    let pruned_clients = admission.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    pruned.prune_rate_limits();
                    pruned_clients.prune();
                }
                _ = stop.cancelled() => break,
            }
        }
    });
    let app = http::router(state, admission);
    let listener = tokio::net::TcpListener::bind(&settings.gateway.listen)
        .await
        .with_context(|| format!("binding gateway.listen {}", settings.gateway.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "gateway listening");
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "gateway server failed");
        }
    });
    Ok(Running::new(SERVICE, task).with_http(addr))
}
