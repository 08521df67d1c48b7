//! What every service needs to run: configuration, telemetry, its own
//! database with migrations, an admin port, tokens, graceful shutdown.

pub mod admin;
pub mod admission;
pub mod batch;
pub mod clock;
pub mod db;
pub mod memory;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod sweeper;
pub mod telemetry;
pub mod tokens;

pub use service::{Running, ServiceDef};
pub use settings::Settings;
pub use tokio_util::sync::CancellationToken as Shutdown;

/// Resolves when SIGTERM or SIGINT arrives, then cancels `shutdown`.
pub async fn cancel_on_signal(shutdown: Shutdown) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
        _ = shutdown.cancelled() => {}
    }
    tracing::info!("shutdown requested");
    shutdown.cancel();
}
