//! The background sweeps of a service (closing survey windows, handing
//! freed places over, forming groups at the window's close): work done now
//! and then on a fixed interval until shutdown, a failure logged and tried
//! again at the next turn.

use std::future::Future;
use std::time::Duration;

use crate::Shutdown;

/// Runs `work` at once, then every `every`, until `shutdown`. `what` names
/// the work in the log when a turn fails.
pub async fn every<F, Fut, E>(what: &'static str, every: Duration, shutdown: Shutdown, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Debug,
{
    loop {
        if let Err(e) = work().await {
            tracing::warn!(error = ?e, "{what} failed; retrying");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
