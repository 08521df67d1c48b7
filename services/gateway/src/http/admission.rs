//! Load shedding at the front door: at most `gateway.max_in_flight`
//! requests run at once and `gateway.max_queued` more wait; beyond both a
//! request is answered 503 with Retry-After at once, so the requests
//! accepted keep their latency instead of everyone timing out together.
//! One signed-in client (one bearer token) may send
//! `client_requests_per_second` on average with `client_burst` at once;
//! beyond, 429 with Retry-After. Anonymous requests (login, the public
//! catalog) have their own limits per login and per address. Reads that
//! screens poll are refused first (see [`polled`]).

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pd_domain::{AppError, ErrorKind};
use pd_proto::Operation;
use pd_proto::ops::enrollment as ops;
use pd_runtime::Settings;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::ApiError;

pub struct Admission {
    bounds: Arc<pd_runtime::admission::Admission>,
    per_client: DefaultKeyedRateLimiter<String>,
}

impl Admission {
    pub fn new(settings: &Settings) -> Arc<Admission> {
        let g = &settings.gateway;
        let rate = NonZeroU32::new(g.client_requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(g.client_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        // A request queued longer than the services answer is not worth running.
        let max_wait = Duration::from_millis(settings.nats.request_timeout_ms.max(1));
        Arc::new(Admission {
            bounds: pd_runtime::admission::Admission::new(
                "gateway",
                g.max_in_flight,
                g.max_queued,
                max_wait,
            ),
            per_client: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
        })
    }

    /// Forgets clients that have recovered, so memory stays bounded.
    pub fn prune(&self) {
        self.per_client.retain_recent();
    }
}

/// Who a signed-in client is for its share: its token's last characters
/// (the signature identifies it; the key stays short whatever is sent).
fn client_key(req: &Request) -> Option<String> {
    let auth = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(auth.chars().rev().take(48).collect())
}

/// A request refused before it runs, with when to come back (seconds).
fn refused(kind: ErrorKind, detail: &str, retry_after: &str) -> Response {
    ApiError(AppError::new(kind, detail).with("retry_after", retry_after)).into_response()
}

fn overloaded() -> Response {
    refused(
        ErrorKind::Unavailable,
        "платформа перегружена; повторите запрос через секунду",
        "1",
    )
}

/// A polled read refused: asked to come back later than a request the
/// user sent, so that the screens open at the window's opening do not all
/// return at the next second.
fn busy_for_polls() -> Response {
    refused(
        ErrorKind::Unavailable,
        "платформа занята заявлениями; данные о местах обновятся позже",
        "5",
    )
}

pub async fn admit(State(a): State<Arc<Admission>>, req: Request, next: Next) -> Response {
    if client_key(&req).is_some_and(|k| a.per_client.check_key(&k).is_err()) {
        a.bounds.shed("client");
        return refused(
            ErrorKind::RateLimited,
            "слишком много запросов; повторите через секунду",
            "1",
        );
    }
    let polled = polled(&req);
    let Some(ticket) = a.bounds.admit_as(polled) else {
        return match polled {
            true => busy_for_polls(),
            false => overloaded(),
        };
    };
    let Some(_slot) = ticket.wait().await else {
        return overloaded();
    };
    next.run(req).await
}

/// A read that open screens repeat on a timer (the seats left of a
/// program's groups, or of one group, every few seconds while the window
/// is open; the services declare these operations `background`): at
/// the window's opening thousands of them would crowd out the
/// applications, so they run only with slots to spare
/// (`Admission::admit_as`) and are refused first.
fn polled(req: &Request) -> bool {
    let path = req.uri().path();
    matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && POLLED
        .iter()
        .any(|(start, end, _)| path.starts_with(start) && path.ends_with(end))
}

/// The polled reads: where a path starts and ends, and the operation it
/// calls (declared `background`, so the service gives way to others too).
const POLLED: &[(&str, &str, &str)] = &[
    ("/api/v1/groups/", "/availability", ops::Availability::NAME),
    (
        "/api/v1/programs/",
        "/availability",
        ops::ProgramAvailability::NAME,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: &str, path: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("a request")
    }

    #[test]
    fn only_the_polled_seat_reads_wait_for_spare_slots() {
        let id = "0190c3a4-0000-7000-8000-000000000001";
        assert!(polled(&request(
            "GET",
            &format!("/api/v1/groups/{id}/availability")
        )));
        assert!(polled(&request(
            "HEAD",
            &format!("/api/v1/programs/{id}/availability")
        )));
        // Applying, withdrawing and every other read take their turn.
        assert!(!polled(&request("POST", "/api/v1/applications")));
        assert!(!polled(&request("GET", &format!("/api/v1/groups/{id}"))));
        assert!(!polled(&request("GET", "/api/v1/me/applications")));
        assert!(!polled(&request("GET", &format!("/api/v1/programs/{id}"))));
    }

    /// The gateway and the services class the same reads as polled: every
    /// operation declared `background` has its route here, and no other.
    /// (Every background operation is enrollment's today; another
    /// service's would need its routes here and its list below.)
    #[test]
    fn the_polled_routes_are_the_background_operations() {
        use pd_proto::ops;
        let background: Vec<&str> = ops::enrollment::BACKGROUND
            .iter()
            .filter(|(_, b)| *b)
            .map(|(name, _)| *name)
            .collect();
        let routed: Vec<&str> = POLLED.iter().map(|(_, _, op)| *op).collect();
        assert_eq!(routed, background);
        for others in [
            ops::allocation::BACKGROUND,
            ops::identity::BACKGROUND,
            ops::monitoring::BACKGROUND,
            ops::registry::BACKGROUND,
            ops::surveys::BACKGROUND,
        ] {
            assert!(others.iter().all(|(_, b)| !b), "{others:?}");
        }
    }
}
