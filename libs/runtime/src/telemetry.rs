//! Logs (pretty or JSON) and traces. Spans always carry an OpenTelemetry
//! context, so trace ids exist for responses and for W3C `traceparent`
//! headers on NATS; they are exported over OTLP only when an endpoint is set.

use anyhow::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::Settings;

/// Flushes spans on drop of the process (call `shutdown`).
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            // No collector answering is not a reason to fail a shutdown.
            tracing::warn!(error = %e, "trace exporter shutdown");
        }
    }
}

/// Installs the global subscriber (logs on stderr, so that commands' own
/// output on stdout stays clean). Fails if one is installed already.
pub fn init(settings: &Settings, service_name: &str) -> anyhow::Result<TelemetryGuard> {
    let mut builder = SdkTracerProvider::builder();
    if !settings.telemetry.otlp_endpoint.is_empty() {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(settings.telemetry.otlp_endpoint.clone())
            .build()
            .context("building the OTLP exporter")?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build();
    let tracer = provider.tracer("pd");
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .context("log.level is not a valid filter")?;
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    if settings.log.format == "json" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
            .context("installing the log subscriber")?;
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_writer(std::io::stderr),
            )
            .try_init()
            .context("installing the log subscriber")?;
    }
    Ok(TelemetryGuard { provider })
}

/// For tests: spans carry OpenTelemetry contexts as in a service (so a
/// test can follow a trace id across the bus), nothing is exported, and
/// logs go to the test's captured output at `RUST_LOG` (default `warn`).
/// Installs once per process; later calls do nothing.
pub fn init_for_tests() {
    use tracing_subscriber::Layer;
    let provider = SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    let logs = tracing_subscriber::fmt::layer()
        .with_test_writer()
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")));
    let _ = tracing_subscriber::registry()
        .with(otel)
        .with(logs)
        .try_init();
}

/// The W3C `traceparent` of the current span, if it has a valid context.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// The trace id of the current span (32 hex digits), if any.
pub fn current_trace_id() -> Option<String> {
    let cx = tracing::Span::current().context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// Makes `span` a child of the remote context in `traceparent`.
pub fn set_remote_parent(span: &tracing::Span, traceparent: &str) {
    let mut carrier = HashMap::new();
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}
