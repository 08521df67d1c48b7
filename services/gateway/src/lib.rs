//! The gateway: the public HTTP API under `/api/v1`. It authenticates the
//! caller, turns each HTTP request into a typed NATS request to the owning
//! service (which checks the caller's scope itself) and every error into an
//! RFC 9457 problem+json body.

mod http;
mod openapi;

use anyhow::Context;
use pd_bus::Bus;
use pd_runtime::tokens::TokenVerifier;
use pd_runtime::{Settings, Shutdown};
use std::net::SocketAddr;
use std::sync::Arc;

pub const SERVICE: &str = "gateway";

pub use openapi::openapi_json;

/// A started gateway.
pub struct Running {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "gateway task failed");
        }
    }
}

pub async fn run(settings: Settings, shutdown: Shutdown) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await;
    Ok(())
}

/// Binds the HTTP port and serves until `shutdown`, then stops accepting
/// and finishes the requests in flight.
pub async fn start(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let verifier = TokenVerifier::new(&settings.auth).context("auth.verifying_key")?;
    let bus = Bus::connect(&settings.nats, verifier.clone()).await?;
    let ready_bus = bus.clone();
    let ready: pd_runtime::admin::ReadyCheck = Arc::new(move || {
        let bus = ready_bus.clone();
        Box::pin(async move {
            if bus.is_connected() {
                Ok(())
            } else {
                Err("nats: not connected".to_owned())
            }
        })
    });
    pd_runtime::admin::serve(&settings, SERVICE, ready, shutdown.clone()).await?;
    // Deactivated accounts, revoked grants, changed passwords: their older
    // tokens are refused from the moment identity publishes the change.
    bus.follow_session_revocations(shutdown.clone()).await?;
    let state = http::AppState::new(bus, verifier, &settings);
    let pruned = state.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => pruned.prune_rate_limits(),
                _ = stop.cancelled() => break,
            }
        }
    });
    let app = http::router(state);
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
    Ok(Running { addr, task })
}
