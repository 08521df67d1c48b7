//! The window's figures on `/metrics`: applications by outcome (a rate in
//! Prometheus gives applications/s) and the seats left.

use pd_runtime::Shutdown;
use pd_runtime::metrics::{StatusLabels, metrics};
use sqlx::PgPool;
use std::time::Duration;

use crate::seats::Seat;

fn count(status: &str, n: u64) {
    metrics()
        .applications
        .get_or_create(&StatusLabels {
            status: status.to_owned(),
        })
        .inc_by(n);
}

pub(crate) fn applied(seat: Seat) {
    count(seat.status(), 1);
}

pub(crate) fn ended(held: Seat) {
    count(
        match held {
            Seat::Taken => "withdrawn_seat",
            Seat::Waitlisted => "withdrawn_waitlist",
        },
        1,
    );
}

/// Waitlisted applications rejected when the window closed.
pub(crate) fn closed_waitlist(n: usize) {
    count("rejected_window_closed", n as u64);
}

pub(crate) fn promoted(n: usize) {
    count("promoted", n as u64);
}

/// Refreshes `pd_seats_left` every `every` until `shutdown`.
pub(crate) async fn watch_seats(pool: PgPool, every: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let left: Result<Option<i64>, _> = sqlx::query_scalar(
            "SELECT sum(greatest(capacity - taken, 0))::bigint FROM groups WHERE status = 'published'",
        )
        .fetch_one(&pool)
        .await;
        match left {
            Ok(n) => {
                metrics().seats_left.set(n.unwrap_or(0));
            }
            Err(e) => tracing::debug!(error = %e, "counting seats left"),
        }
    }
}
