//! The platform's message bus on NATS (DESIGN.md, "Messaging"):
//! typed request/reply ([`rpc`]), JetStream events in envelopes
//! ([`events`]), the transactional outbox and its relay ([`outbox`]) and
//! idempotent durable consumers ([`consumer`]).

pub mod consumer;
pub mod dead_letters;
pub mod events;
pub mod idempotency;
pub mod outbox;
pub mod rpc;
pub mod sessions;
pub mod testing;

use anyhow::Context;
use pd_runtime::settings::NatsSettings;
use pd_runtime::tokens::TokenVerifier;
use std::time::Duration;

pub use rpc::{CallContext, RpcContext, RpcServer};

/// Header names used on the bus.
pub mod headers {
    pub const AUTHORIZATION: &str = "Authorization";
    pub const TRACEPARENT: &str = "traceparent";
    pub const REQUEST_ID: &str = "Pd-Request-Id";
    pub const CLIENT_IP: &str = "Pd-Client-Ip";
    pub const STATUS: &str = "Pd-Status";
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const DEAD_LETTER_REASON: &str = "Pd-Dead-Letter-Reason";
    pub const ORIGINAL_SUBJECT: &str = "Pd-Original-Subject";
    pub const CONSUMER: &str = "Pd-Consumer";
    pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
}

/// A connection to NATS with the platform's naming rules.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    settings: NatsSettings,
    verifier: TokenVerifier,
    /// Counts outbox writes made through this connection's
    /// [`outbox::Outbox`]es, so that the [`outbox::Relay`] on the same bus
    /// (each service connects its own) wakes for them.
    outbox_writes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Bus {
    pub async fn connect(settings: &NatsSettings, verifier: TokenVerifier) -> anyhow::Result<Bus> {
        let client = async_nats::ConnectOptions::new()
            .name("pd")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(settings.url.as_str())
            .await
            .with_context(|| format!("connecting to NATS at {}", settings.url))?;
        // The first connect is retried in the background; wait for it briefly
        // so a missing server is reported at start, not at the first request.
        for _ in 0..50 {
            if client.connection_state() == async_nats::connection::State::Connected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::ensure!(
            client.connection_state() == async_nats::connection::State::Connected,
            "NATS at {} is not reachable",
            settings.url
        );
        let jetstream = async_nats::jetstream::new(client.clone());
        Ok(Bus {
            client,
            jetstream,
            settings: settings.clone(),
            verifier,
            outbox_writes: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        })
    }

    /// How many outbox writes this bus's [`outbox::Outbox`]es have made.
    pub(crate) fn outbox_write_count(&self) -> u64 {
        *self.outbox_writes.borrow()
    }

    /// After a handler has committed: if events were written since
    /// `before`, wakes the relays on this bus again. Their wake-up at the
    /// write came before the commit; this one comes after it.
    pub(crate) fn wake_relays_if_written_since(&self, before: u64) {
        if self.outbox_write_count() != before {
            outbox::count_write(&self.outbox_writes);
        }
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.jetstream
    }

    pub fn settings(&self) -> &NatsSettings {
        &self.settings
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The admin port's readiness: NATS connected and, for a service with
    /// a database, the database answering.
    pub fn ready_check(&self, pool: Option<sqlx::PgPool>) -> pd_runtime::admin::ReadyCheck {
        let bus = self.clone();
        std::sync::Arc::new(move || {
            let pool = pool.clone();
            let bus = bus.clone();
            Box::pin(async move {
                if let Some(pool) = pool {
                    sqlx::query("SELECT 1")
                        .execute(&pool)
                        .await
                        .map_err(|e| format!("database: {e}"))?;
                }
                if !bus.is_connected() {
                    return Err("nats: not connected".to_owned());
                }
                Ok(())
            })
        })
    }

    /// `<prefix>.<service>.rpc.<operation>.v1`
    pub fn rpc_subject(&self, service: &str, operation: &str) -> String {
        format!(
            "{}.{service}.rpc.{operation}.v1",
            self.settings.subject_prefix
        )
    }

    /// `<prefix>.<service>.evt.<event>.v1`
    pub fn event_subject(&self, service: &str, event: &str) -> String {
        format!("{}.{service}.evt.{event}.v1", self.settings.subject_prefix)
    }

    /// `<prefix>.ext.provider.<provider>.completion`: where a provider with
    /// NATS credentials (allowed that subject only) pushes completions;
    /// `*` for every provider.
    pub fn provider_completion_subject(&self, provider: &str) -> String {
        format!(
            "{}.ext.provider.{provider}.completion",
            self.settings.subject_prefix
        )
    }

    /// `<stream_prefix>_<SERVICE>`
    pub fn stream_name(&self, service: &str) -> String {
        format!("{}_{}", self.settings.stream_prefix, service.to_uppercase())
    }

    /// Where events that can never be processed by `consumer` go.
    pub fn dead_letter_subject(&self, consumer: &str, source: &str) -> String {
        format!("{}.dlq.{consumer}.{source}", self.settings.subject_prefix)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.request_timeout_ms)
    }
}
