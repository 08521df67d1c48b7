//! The admin port of a service: `/healthz` (the process runs), `/readyz`
//! (its database and NATS answer) and Prometheus `/metrics`.

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use futures::future::BoxFuture;
use std::sync::Arc;

use crate::{Settings, Shutdown};

/// A readiness check: `Err` carries what is not ready.
pub type ReadyCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Serves the admin port of `service` until `shutdown`. Does nothing when
/// admin ports are disabled.
pub async fn serve(
    settings: &Settings,
    service: &'static str,
    admin_offset: u16,
    ready: ReadyCheck,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let Some(port) = settings.admin_port(admin_offset) else {
        return Ok(());
    };
    let addr = format!("{}:{}", settings.admin.host, port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding admin port {addr} of {service}: {e}"))?;
    tracing::info!(service, %addr, "admin port listening");
    let app = router(ready);
    tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = r {
            tracing::error!(service, error = %e, "admin server failed");
        }
    });
    Ok(())
}

pub fn router(ready: ReadyCheck) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|| async {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    crate::metrics::render(),
                )
            }),
        )
        .with_state(ready)
}

async fn readyz(State(ready): State<ReadyCheck>) -> impl IntoResponse {
    match ready().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
    }
}
