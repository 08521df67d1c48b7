//! The platform's services, listed once. `pd serve` and `pd migrate`, the
//! end-to-end test harness (`tests/`) and the docs test read this list;
//! a new service is one line here plus its own crate (CONTRIBUTING.md).

use pd_runtime::ServiceDef;

/// Every service, in start order: the gateway last, once the services it
/// calls take requests.
pub static SERVICES: &[ServiceDef] = &[
    pd_identity::DEF,
    pd_registry::DEF,
    pd_surveys::DEF,
    pd_allocation::DEF,
    pd_enrollment::DEF,
    pd_monitoring::DEF,
    pd_gateway::DEF,
];

/// The service called `name`.
pub fn service(name: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.name == name)
}

/// The names of every service, for messages.
pub fn names() -> String {
    SERVICES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pd serve <services>` as a child process with `settings`' databases,
/// subjects and keys (benchmarks and crash tests run services as separate
/// processes: their own memory, and a SIGKILL that kills only them).
pub fn serve_command(
    exe: &std::path::Path,
    settings: &pd_runtime::Settings,
    services: &[&str],
) -> std::process::Command {
    let mut c = std::process::Command::new(exe);
    c.arg("serve")
        .args(services)
        .env("PD__DATABASE__URL", &settings.database.url)
        .env("PD__DATABASE__NAME_PREFIX", &settings.database.name_prefix)
        .env(
            "PD__DATABASE__SERVICE_ROLES",
            settings.database.service_roles.to_string(),
        )
        .env(
            "PD__DATABASE__MAX_CONNECTIONS",
            settings.database.max_connections.to_string(),
        )
        .env("PD__NATS__URL", &settings.nats.url)
        .env("PD__NATS__SUBJECT_PREFIX", &settings.nats.subject_prefix)
        .env("PD__NATS__STREAM_PREFIX", &settings.nats.stream_prefix)
        .env(
            "PD__NATS__REQUEST_TIMEOUT_MS",
            settings.nats.request_timeout_ms.to_string(),
        )
        .env(
            "PD__NATS__RETRY_BASE_MS",
            settings.nats.retry_base_ms.to_string(),
        )
        .env(
            "PD__NATS__RETRY_MAX_MS",
            settings.nats.retry_max_ms.to_string(),
        )
        .env("PD__AUTH__SIGNING_KEY", &settings.auth.signing_key)
        .env("PD__AUTH__VERIFYING_KEY", &settings.auth.verifying_key)
        .env("PD__ADMIN__BASE_PORT", settings.admin.base_port.to_string())
        .env("PD__GATEWAY__LISTEN", &settings.gateway.listen)
        .env(
            "PD__GATEWAY__LOGIN_ATTEMPTS_PER_MINUTE",
            settings.gateway.login_attempts_per_minute.to_string(),
        )
        .env(
            "PD__LOG__LEVEL",
            std::env::var("PD__LOG__LEVEL").unwrap_or_else(|_| "warn".into()),
        );
    c
}
