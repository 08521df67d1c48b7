//! Prometheus metrics of the process, served at `/metrics` on admin ports.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::{Mutex, OnceLock};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    pub service: String,
    pub operation: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    pub service: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub rpc_handled: Family<RpcLabels, Counter>,
    pub rpc_seconds: HistogramFamily<RpcLabels>,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_seconds: HistogramFamily<HttpLabels>,
    pub outbox_published: Family<ServiceLabels, Counter>,
    pub events_consumed: Family<ServiceLabels, Counter>,
    pub events_dead_lettered: Family<ServiceLabels, Counter>,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

pub fn metrics() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("pd");
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            rpc_handled: Family::default(),
            rpc_seconds: Family::new_with_constructor(latency_histogram),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(latency_histogram),
            outbox_published: Family::default(),
            events_consumed: Family::default(),
            events_dead_lettered: Family::default(),
        };
        registry.register(
            "rpc_handled",
            "Requests handled by services",
            m.rpc_handled.clone(),
        );
        registry.register(
            "rpc_seconds",
            "Request handling time",
            m.rpc_seconds.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered by the gateway",
            m.http_requests.clone(),
        );
        registry.register(
            "http_seconds",
            "HTTP request time at the gateway",
            m.http_seconds.clone(),
        );
        registry.register(
            "outbox_published",
            "Events published by the outbox relay",
            m.outbox_published.clone(),
        );
        registry.register(
            "events_consumed",
            "Events applied by consumers",
            m.events_consumed.clone(),
        );
        registry.register(
            "events_dead_lettered",
            "Events sent to a dead-letter subject",
            m.events_dead_lettered.clone(),
        );
        if let Ok(mut r) = m.registry.lock() {
            *r = registry;
        }
        m
    })
}

/// The text exposition format.
pub fn render() -> String {
    let mut out = String::new();
    if let Ok(r) = metrics().registry.lock() {
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
    }
    out
}
