//! Load shedding, the same for every service's requests and the gateway's
//! HTTP requests: at most `max_in_flight` run at once, up to `max_queued`
//! more wait for a slot (never longer than `max_wait`, when their caller
//! has given up), and the rest are refused at once, so that the requests
//! accepted keep their latency. The gauges `pd_requests_in_flight` and
//! `pd_requests_queued` follow both; `shed` counts the refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::{ServiceLabels, ShedLabels, metrics};

pub struct Admission {
    slots: Arc<Semaphore>,
    queued: AtomicUsize,
    max_in_flight: usize,
    max_queued: usize,
    max_wait: Duration,
    labels: ServiceLabels,
}

/// A request let in: it runs once it holds a slot.
pub struct Ticket {
    admission: Arc<Admission>,
    slot: Option<OwnedSemaphorePermit>,
}

/// A slot held by a running request; the gauge follows when it ends.
pub struct Slot {
    admission: Arc<Admission>,
    _permit: OwnedSemaphorePermit,
}

impl Admission {
    /// Bounds for `name` (a service, or `gateway`).
    pub fn new(
        name: &str,
        max_in_flight: usize,
        max_queued: usize,
        max_wait: Duration,
    ) -> Arc<Admission> {
        let max_in_flight = max_in_flight.max(1);
        Arc::new(Admission {
            slots: Arc::new(Semaphore::new(max_in_flight)),
            queued: AtomicUsize::new(0),
            max_in_flight,
            max_queued,
            max_wait,
            labels: ServiceLabels {
                service: name.to_owned(),
            },
        })
    }

    /// A ticket for a request, or `None` (counted as shed) when both
    /// bounds are reached.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
                    self.queued.fetch_sub(1, Ordering::AcqRel);
                    self.shed("full");
                    return None;
                }
                None
            }
        };
        self.report(0);
        Some(Ticket {
            admission: self.clone(),
            slot,
        })
    }

    /// [`Admission::admit`], or for a `background` request (a screen
    /// polling seats left) a ticket whose slot is already held, or `None`
    /// (counted as shed, `background`): such a request runs only while a
    /// quarter of the slots stay free for the others, and never queues.
    /// Under a storm of such reads the writes they would crowd out
    /// (applications at the window's opening) keep their slots.
    pub fn admit_as(self: &Arc<Self>, background: bool) -> Option<Ticket> {
        if !background {
            return self.admit();
        }
        let permit = self.background_permit()?;
        self.report(0);
        Some(Ticket {
            admission: self.clone(),
            slot: Some(permit),
        })
    }

    fn background_permit(&self) -> Option<OwnedSemaphorePermit> {
        // A quarter, rounded down: with one to three slots nothing is kept
        // back, so a small deployment still answers these reads when idle.
        let reserve = self.max_in_flight / 4;
        // The slot first, then the check: concurrent calls that each saw
        // enough free slots could together take the reserve otherwise.
        let permit = self.slots.clone().try_acquire_owned().ok();
        let permit = permit.filter(|_| self.slots.available_permits() >= reserve);
        if permit.is_none() {
            self.shed("background");
        }
        permit
    }

    /// Counts a request refused here (`full`, `background` for a read that
    /// waits for spare slots, or `client` for one client's excess).
    pub fn shed(&self, reason: &str) {
        let labels = ShedLabels {
            at: self.labels.service.clone(),
            reason: reason.to_owned(),
        };
        metrics().requests_shed.get_or_create(&labels).inc();
    }

    /// Sets the gauges; `releasing` slots are about to be given back.
    fn report(&self, releasing: usize) {
        let busy = self.max_in_flight - self.slots.available_permits() - releasing;
        let m = metrics();
        m.requests_in_flight
            .get_or_create(&self.labels)
            .set(busy as i64);
        m.requests_queued
            .get_or_create(&self.labels)
            .set(self.queued.load(Ordering::Acquire) as i64);
    }
}

impl Ticket {
    /// The slot, once free; `None` when the request waited longer than
    /// its caller does.
    pub async fn wait(self) -> Option<Slot> {
        let a = self.admission;
        let permit = match self.slot {
            Some(p) => Some(p),
            None => {
                let p = tokio::time::timeout(a.max_wait, a.slots.clone().acquire_owned()).await;
                a.queued.fetch_sub(1, Ordering::AcqRel);
                p.ok().and_then(Result::ok)
            }
        };
        a.report(0);
        permit.map(|p| Slot {
            admission: a,
            _permit: p,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.report(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(in_flight: usize, queued: usize) -> Arc<Admission> {
        Admission::new("test", in_flight, queued, Duration::from_millis(10))
    }

    #[tokio::test]
    async fn background_requests_leave_a_quarter_of_the_slots_to_the_others() {
        let a = bounds(8, 4);
        // Six background reads run (two slots, a quarter, stay free) ...
        let polls: Vec<Ticket> = (0..6).filter_map(|_| a.admit_as(true)).collect();
        assert_eq!(polls.len(), 6);
        assert!(a.admit_as(true).is_none());
        // ... and the others still find those two slots at once.
        let first = a.admit().expect("admitted").wait().await;
        let second = a.admit().expect("admitted").wait().await;
        assert!(first.is_some() && second.is_some());
    }

    #[tokio::test]
    async fn a_small_gateway_keeps_nothing_back() {
        let a = bounds(1, 0);
        let poll = a.admit_as(true);
        assert!(
            poll.is_some(),
            "an idle single slot serves a background read"
        );
        assert!(a.admit_as(true).is_none(), "and only one");
        drop(poll);
        assert!(a.admit().is_some());
    }

    #[tokio::test]
    async fn background_requests_never_queue_behind_a_full_house() {
        let a = bounds(4, 4);
        let running = take_slots(&a, 4).await;
        assert_eq!(running.len(), 4);
        assert!(a.admit_as(true).is_none());
        drop(running);
        assert!(a.admit_as(true).is_some());
    }

    async fn take_slots(a: &Arc<Admission>, n: usize) -> Vec<Slot> {
        let mut out = Vec::new();
        for _ in 0..n {
            if let Some(slot) = a.admit().expect("admitted").wait().await {
                out.push(slot);
            }
        }
        out
    }
}
