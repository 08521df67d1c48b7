//! Load shedding at the front door: at most `gateway.max_in_flight`
//! requests run at once and `gateway.max_queued` more wait; beyond both a
//! request is answered 503 with Retry-After at once, so the requests
//! accepted keep their latency instead of everyone timing out together.
//! One signed-in client (one bearer token) may send
//! `client_requests_per_second` on average with `client_burst` at once;
//! beyond, 429 with Retry-After. Anonymous requests (login, the public
//! catalog) have their own limits per login and per address.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pd_domain::{AppError, ErrorKind};
use pd_runtime::Settings;
use pd_runtime::metrics::{ServiceLabels, ShedLabels, metrics};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

use super::ApiError;

pub struct Admission {
    slots: Arc<Semaphore>,
    queued: AtomicUsize,
    max_in_flight: usize,
    max_queued: usize,
    per_client: DefaultKeyedRateLimiter<String>,
    labels: ServiceLabels,
}

impl Admission {
    pub fn new(settings: &Settings) -> Arc<Admission> {
        let g = &settings.gateway;
        let rate = NonZeroU32::new(g.client_requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(g.client_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let max_in_flight = g.max_in_flight.max(1);
        Arc::new(Admission {
            slots: Arc::new(Semaphore::new(max_in_flight)),
            queued: AtomicUsize::new(0),
            max_in_flight,
            max_queued: g.max_queued,
            per_client: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            labels: ServiceLabels {
                service: "gateway".to_owned(),
            },
        })
    }

    /// Forgets clients that have recovered, so memory stays bounded.
    pub fn prune(&self) {
        self.per_client.retain_recent();
    }

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

    fn shed(reason: &str) {
        let labels = ShedLabels {
            at: "gateway".to_owned(),
            reason: reason.to_owned(),
        };
        metrics().requests_shed.get_or_create(&labels).inc();
    }
}

/// Who a signed-in client is for its share: its token's last characters
/// (the signature identifies it; the key stays short whatever is sent).
fn client_key(req: &Request) -> Option<String> {
    let auth = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(auth.chars().rev().take(48).collect())
}

pub async fn admit(State(a): State<Arc<Admission>>, req: Request, next: Next) -> Response {
    if client_key(&req).is_some_and(|k| a.per_client.check_key(&k).is_err()) {
        Admission::shed("client");
        return ApiError(
            AppError::new(
                ErrorKind::RateLimited,
                "слишком много запросов; повторите через секунду",
            )
            .with("retry_after", "1"),
        )
        .into_response();
    }
    let permit = match a.slots.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            if a.queued.fetch_add(1, Ordering::AcqRel) >= a.max_queued {
                a.queued.fetch_sub(1, Ordering::AcqRel);
                Admission::shed("full");
                return ApiError(
                    AppError::new(
                        ErrorKind::Unavailable,
                        "платформа перегружена; повторите запрос через секунду",
                    )
                    .with("retry_after", "1"),
                )
                .into_response();
            }
            a.report(0);
            let p = a.slots.clone().acquire_owned().await;
            a.queued.fetch_sub(1, Ordering::AcqRel);
            match p {
                Ok(p) => p,
                Err(_) => {
                    return ApiError(AppError::new(ErrorKind::Unavailable, "остановка"))
                        .into_response();
                }
            }
        }
    };
    a.report(0);
    let response = next.run(req).await;
    a.report(1);
    drop(permit);
    response
}
