//! Layered configuration: the embedded `deploy/config/default.toml`, then
//! the file named by `PD_CONFIG` if any, then `PD__SECTION__KEY` variables.

use anyhow::Context;
use serde::Deserialize;
use std::fmt;

const DEFAULTS: &str = include_str!("../../../deploy/config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub gateway: GatewaySettings,
    pub admin: AdminSettings,
    pub auth: AuthSettings,
    pub registry: RegistrySettings,
    pub surveys: SurveysSettings,
    pub allocation: AllocationSettings,
    pub enrollment: EnrollmentSettings,
    pub monitoring: MonitoringSettings,
    pub log: LogSettings,
    pub telemetry: TelemetrySettings,
    /// The time services act on (the system's; tests move it).
    #[serde(skip)]
    pub clock: crate::clock::Clock,
}

#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    /// The server (`postgres://host:port`): each service signs in to it as
    /// its own role, unless `service_roles` is off.
    pub url: String,
    pub name_prefix: String,
    pub max_connections: u32,
    /// A superuser URL, used only to create each service's role and
    /// database (`pd migrate`, the setup scripts). Empty where services run.
    pub admin_url: String,
    /// Each service signs in as role `<name_prefix><service>`, which can
    /// reach its own database only. Off: `url`'s own user (tests).
    pub service_roles: bool,
    /// The password of each service's role, by service name
    /// (`PD__DATABASE__PASSWORDS__IDENTITY`); never compiled in.
    #[serde(default)]
    pub passwords: std::collections::HashMap<String, String>,
}

// The URL may carry a password.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("name_prefix", &self.name_prefix)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct NatsSettings {
    pub url: String,
    pub subject_prefix: String,
    pub stream_prefix: String,
    pub request_timeout_ms: u64,
    pub duplicate_window_secs: u64,
    /// Attempts at one event before its consumer dead-letters it.
    pub max_deliver: i64,
    /// A failed event is retried after `retry_base_ms` × 2^(attempt − 1),
    /// at most `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// How long events stay in the services' streams: a campaign cycle and
    /// a margin, so a new consumer can catch up within the year.
    pub event_retention_days: u64,
    /// How long dead letters wait for `pd admin dlq replay`.
    pub dead_letter_retention_days: u64,
    /// Requests one service process handles at once; beyond that up to
    /// `max_queued` wait for a handler, and any more are answered
    /// `unavailable` (503 with Retry-After) at once instead of timing out.
    pub max_in_flight: usize,
    pub max_queued: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewaySettings {
    pub listen: String,
    pub cors_origins: Vec<String>,
    pub body_limit_bytes: usize,
    pub import_limit_bytes: usize,
    pub login_attempts_per_minute: u32,
    /// Public catalog requests per minute and client address.
    pub public_requests_per_minute: u32,
    /// Addresses (or CIDR ranges) of proxies in front of the gateway whose
    /// `X-Forwarded-For` names the real client; empty: none is trusted.
    pub trusted_proxies: Vec<String>,
    /// HTTP requests handled at once / allowed to wait (then 503).
    pub max_in_flight: usize,
    pub max_queued: usize,
    /// One client's average rate and burst (then 429).
    pub client_requests_per_second: u32,
    pub client_burst: u32,
    /// The built portal (`portal/dist`), served at `/`; empty,
    /// or a directory that does not exist: the API alone.
    pub portal_dir: String,
    /// The platform's public address (`https://pd.example.ru`), printed in
    /// certificates' verification links and QR codes; empty: the address
    /// the request came to.
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    pub host: String,
    pub base_port: u16,
}

#[derive(Clone, Deserialize)]
pub struct AuthSettings {
    pub issuer: String,
    /// The `aud` every token carries and every verifier requires.
    pub audience: String,
    pub signing_key: String,
    /// The public key of `signing_key`.
    pub verifying_key: String,
    /// Other public keys still (or already) accepted while keys rotate.
    pub verifying_keys: Vec<String>,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub bootstrap_admin_login: String,
    pub bootstrap_admin_password: String,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("issuer", &self.issuer)
            .field("signing_key", &"<redacted>")
            .field("audience", &self.audience)
            .field("verifying_key", &self.verifying_key)
            .field("verifying_keys", &self.verifying_keys)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RegistrySettings {
    pub council_quorum_fraction: f64,
    pub experts_per_program: i32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SurveysSettings {
    /// How often (milliseconds) the service closes windows and attempts
    /// whose time is up, emitting their events.
    pub sweep_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AllocationSettings {
    /// Days a freed funded place stays with its organization's operator
    /// before the municipal operator may reassign it.
    pub organization_days: u32,
    /// Further days with the municipal operator before the regional
    /// operator may reassign it anywhere in the region.
    pub municipality_days: u32,
    /// How often (ms) the handovers of freed places whose window ended
    /// are recorded and published (also done whenever places are read).
    pub sweep_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnrollmentSettings {
    /// How often (ms) campaigns whose application phase has closed get
    /// their groups formed (also done whenever rosters are read).
    pub sweep_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MonitoringSettings {
    /// How often (ms) post-course windows whose time is up are closed
    /// (and once at start, so a window due while the service was down
    /// closes when it comes back).
    pub sweep_interval_ms: u64,
    /// Days a post-course window stays open, where the region set none.
    pub window_days: u32,
    /// Test attempts in a post-course window, where the region set none.
    pub test_attempts: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub otlp_endpoint: String,
}

/// Seconds in a day.
const DAY: u64 = 86_400;

impl Settings {
    /// Defaults, then `PD_CONFIG`, then the environment.
    pub fn load() -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Ok(path) = std::env::var("PD_CONFIG") {
            builder = builder.add_source(config::File::with_name(&path).required(true));
        }
        builder
            .add_source(
                config::Environment::with_prefix("PD")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("gateway.cors_origins")
                    .with_list_parse_key("gateway.trusted_proxies")
                    .with_list_parse_key("auth.verifying_keys")
                    .try_parsing(true),
            )
            .build()
            .context("reading configuration")?
            .try_deserialize::<Settings>()
            .context("configuration has a wrong or missing key")
            .and_then(Settings::checked)
    }

    /// The settings, or an error naming every key out of its range: a
    /// mistyped lifetime or window fails the start with the key's name,
    /// rather than overflowing a date later or silently deciding otherwise
    /// (a quorum of `nan` would let one vote decide).
    pub fn checked(self) -> anyhow::Result<Settings> {
        let mut wrong = Vec::new();
        let mut within = |key: &str, value: u64, min: u64, max: u64| {
            if !(min..=max).contains(&value) {
                wrong.push(format!("{key} = {value} (expected {min}..={max})"));
            }
        };
        within("auth.access_ttl_secs", self.auth.access_ttl_secs, 60, DAY);
        within(
            "auth.refresh_ttl_secs",
            self.auth.refresh_ttl_secs,
            60,
            366 * DAY,
        );
        within(
            "allocation.organization_days",
            self.allocation.organization_days.into(),
            0,
            366,
        );
        within(
            "allocation.municipality_days",
            self.allocation.municipality_days.into(),
            0,
            366,
        );
        // The same bounds as a region's own settings in the API.
        within(
            "monitoring.window_days",
            self.monitoring.window_days.into(),
            1,
            90,
        );
        within(
            "monitoring.test_attempts",
            self.monitoring.test_attempts.into(),
            1,
            10,
        );
        let experts = u64::try_from(self.registry.experts_per_program).unwrap_or(0);
        within("registry.experts_per_program", experts, 2, 100);
        let quorum = self.registry.council_quorum_fraction;
        if !(0.0..1.0).contains(&quorum) {
            wrong.push(format!(
                "registry.council_quorum_fraction = {quorum} (expected at least 0 and below 1)"
            ));
        }
        match wrong.is_empty() {
            true => Ok(self),
            false => anyhow::bail!("configuration out of range: {}", wrong.join("; ")),
        }
    }

    /// The built-in defaults alone (tests start from these).
    pub fn defaults() -> anyhow::Result<Settings> {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?
            .try_deserialize()
            .context("default configuration")
    }

    /// The database a service owns.
    pub fn database_name(&self, service: &str) -> String {
        format!("{}{}", self.database.name_prefix, service)
    }

    /// The admin port of the service at `admin_offset` (its
    /// `ServiceDef`), `None` when admin ports are disabled.
    pub fn admin_port(&self, admin_offset: u16) -> Option<u16> {
        if self.admin.base_port == 0 {
            return None;
        }
        Some(self.admin.base_port + admin_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_in_range() {
        assert!(Settings::defaults().unwrap().checked().is_ok());
    }

    #[test]
    fn keys_out_of_range_are_named_together() {
        let mut s = Settings::defaults().unwrap();
        s.auth.access_ttl_secs = u64::MAX;
        s.registry.council_quorum_fraction = f64::NAN;
        s.allocation.municipality_days = 100_000_000;
        let err = s.checked().unwrap_err().to_string();
        for key in [
            "auth.access_ttl_secs",
            "registry.council_quorum_fraction",
            "allocation.municipality_days",
        ] {
            assert!(err.contains(key), "{key}: {err}");
        }
        assert!(!err.contains("auth.refresh_ttl_secs"), "{err}");
    }
}
