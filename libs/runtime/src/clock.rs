//! The time a service acts on. Production reads the system clock; tests
//! move it forward (a post-course window's ten days pass at once) instead
//! of sleeping. Every clone shares the offset, so the test holding the
//! settings moves the clock of every service started from them.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system clock (0 outside tests).
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let a = Clock::default();
        let b = a.clone();
        a.advance(Duration::days(10));
        let ahead = b.now() - Utc::now();
        assert!(ahead > Duration::days(10) - Duration::seconds(5), "{ahead}");
        assert!(ahead <= Duration::days(10), "{ahead}");
    }
}
