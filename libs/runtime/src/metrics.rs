//! Prometheus metrics of the process, served at `/metrics` on admin ports.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShedLabels {
    /// gateway | <service>
    pub at: String,
    /// full (503: in-flight and queue bounds reached) | client (429)
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
    pub source: String,
}

/// A gauge of whole numbers.
pub type IntGauge = Gauge<i64, std::sync::atomic::AtomicI64>;
/// A gauge of fractions (seconds).
pub type FloatGauge = Gauge<f64, AtomicU64>;

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
    /// Read from /proc/self at each scrape.
    pub process_resident_bytes: IntGauge,
    pub process_cpu_seconds: FloatGauge,
    pub process_open_fds: IntGauge,
    /// Set at each scrape from the pools the services registered.
    pub db_pool_connections: Family<ServiceLabels, IntGauge>,
    pub db_pool_idle: Family<ServiceLabels, IntGauge>,
    /// Set by the outbox relay, at most once a second.
    pub outbox_backlog: Family<ServiceLabels, IntGauge>,
    /// Rows the relay set aside as unpublishable, per service.
    pub outbox_parked: Family<ServiceLabels, IntGauge>,
    /// Set by each consumer from its JetStream consumer's pending count.
    pub consumer_lag: Family<ConsumerLabels, IntGauge>,
    /// Requests being handled / waiting for a handler, per service
    /// (`gateway` for the HTTP front).
    pub requests_in_flight: Family<ServiceLabels, IntGauge>,
    pub requests_queued: Family<ServiceLabels, IntGauge>,
    /// Requests refused at once because the bounds were reached.
    pub requests_shed: Family<ShedLabels, Counter>,
    /// Enrollment: applications by the status they got or ended with
    /// (enrolled, waitlisted, promoted, withdrawn_seat, withdrawn_waitlist).
    pub applications: Family<StatusLabels, Counter>,
    /// Enrollment: free seats of published groups, refreshed every few seconds.
    pub seats_left: IntGauge,
    pools: Mutex<Vec<(String, sqlx::PgPool)>>,
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
            process_resident_bytes: IntGauge::default(),
            process_cpu_seconds: FloatGauge::default(),
            process_open_fds: IntGauge::default(),
            db_pool_connections: Family::default(),
            db_pool_idle: Family::default(),
            outbox_backlog: Family::default(),
            outbox_parked: Family::default(),
            consumer_lag: Family::default(),
            requests_in_flight: Family::default(),
            requests_queued: Family::default(),
            requests_shed: Family::default(),
            applications: Family::default(),
            seats_left: IntGauge::default(),
            pools: Mutex::new(Vec::new()),
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
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            m.process_resident_bytes.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "CPU time used by the process (user + system)",
            m.process_cpu_seconds.clone(),
        );
        registry.register(
            "process_open_fds",
            "Open file descriptors of the process",
            m.process_open_fds.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open, per service",
            m.db_pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Idle database connections, per service",
            m.db_pool_idle.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Outbox rows not yet published, per service",
            m.outbox_backlog.clone(),
        );
        registry.register(
            "outbox_parked",
            "Outbox rows set aside as unpublishable, per service (pd admin outbox)",
            m.outbox_parked.clone(),
        );
        registry.register(
            "consumer_lag",
            "Events of the source stream not yet delivered to the consumer",
            m.consumer_lag.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests being handled, per service (gateway: HTTP)",
            m.requests_in_flight.clone(),
        );
        registry.register(
            "requests_queued",
            "Requests waiting for a free handler, per service (gateway: HTTP)",
            m.requests_queued.clone(),
        );
        registry.register(
            "requests_shed",
            "Requests refused at once with 503 (bounds reached) or 429 (one client's share)",
            m.requests_shed.clone(),
        );
        registry.register(
            "applications",
            "Enrollment applications by status taken or ended with",
            m.applications.clone(),
        );
        registry.register(
            "seats_left",
            "Free seats of published groups (enrollment)",
            m.seats_left.clone(),
        );
        if let Ok(mut r) = m.registry.lock() {
            *r = registry;
        }
        m
    })
}

/// Reports the pool of `service` on `/metrics` (connections open, idle).
pub fn watch_pool(service: &str, pool: &sqlx::PgPool) {
    if let Ok(mut pools) = metrics().pools.lock() {
        pools.push((service.to_owned(), pool.clone()));
    }
}

/// Process figures from /proc/self (Linux): resident memory, CPU time,
/// open files. Elsewhere they stay zero.
fn sample_process(m: &Metrics) {
    let page = 4096i64;
    if let Ok(statm) = std::fs::read_to_string("/proc/self/statm")
        && let Some(rss) = statm
            .split_whitespace()
            .nth(1)
            .and_then(|x| x.parse::<i64>().ok())
    {
        m.process_resident_bytes.set(rss * page);
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some(after) = stat.rsplit_once(") ").map(|(_, rest)| rest)
    {
        // Fields 14 and 15 (utime, stime) in clock ticks; 3rd after the name is field 3.
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|x| x.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        m.process_cpu_seconds.set((ticks(11) + ticks(12)) / 100.0);
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        m.process_open_fds.set(dir.count() as i64);
    }
    if let Ok(pools) = m.pools.lock() {
        for (service, pool) in pools.iter() {
            let labels = ServiceLabels {
                service: service.clone(),
            };
            m.db_pool_connections
                .get_or_create(&labels)
                .set(i64::from(pool.size()));
            m.db_pool_idle
                .get_or_create(&labels)
                .set(pool.num_idle() as i64);
        }
    }
}

/// The text exposition format.
pub fn render() -> String {
    sample_process(metrics());
    let mut out = String::new();
    if let Ok(r) = metrics().registry.lock() {
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn process_figures_are_on_the_page() {
        let page = super::render();
        let rss: i64 = page
            .lines()
            .find(|l| l.starts_with("pd_process_resident_memory_bytes "))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(rss > 1_000_000, "{page}");
        assert!(page.contains("pd_process_open_fds "), "{page}");
        assert!(page.contains("pd_process_cpu_seconds "), "{page}");
    }
}
