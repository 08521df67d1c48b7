//! Test environments on the real PostgreSQL and NATS of the machine, isolated
//! per test: own databases (cloned from a migrated template, which is fast),
//! own subject prefix and stream names, own signing keys.

use anyhow::Context;
use pd_runtime::Settings;
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

/// Installs the test subscriber once (`RUST_LOG` to see more): logs in
/// the test's output, spans with OpenTelemetry trace contexts.
pub fn init_tracing() {
    pd_runtime::telemetry::init_for_tests();
}

/// One test's isolated slice of PostgreSQL and NATS.
pub struct TestEnv {
    pub settings: Settings,
    /// Short random id used in every name of this environment.
    pub id: String,
}

impl TestEnv {
    pub fn new() -> anyhow::Result<TestEnv> {
        init_tracing();
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let mut settings = Settings::defaults()?;
        // Tests sign in as one administrator (set by deploy/local/test.sh;
        // trust authentication on 127.0.0.1 needs no password).
        settings.database.url = std::env::var("PD_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        settings.database.service_roles = false;
        if let Ok(url) = std::env::var("PD_TEST_NATS_URL") {
            settings.nats.url = url;
        }
        settings.database.name_prefix = format!("pd_t_{id}_");
        settings.database.max_connections = 8;
        settings.nats.subject_prefix = format!("t{id}");
        settings.nats.stream_prefix = format!("T{}", id.to_uppercase());
        settings.nats.request_timeout_ms = 5000;
        // Failed events come back within milliseconds, dead-lettered at the 5th.
        settings.nats.max_deliver = 5;
        settings.nats.retry_base_ms = 20;
        settings.nats.retry_max_ms = 200;
        settings.admin.base_port = 0;
        settings.gateway.listen = "127.0.0.1:0".to_owned();
        let (signing, verifying) = pd_runtime::tokens::generate_keypair();
        settings.auth.signing_key = signing;
        settings.auth.verifying_key = verifying;
        Ok(TestEnv { settings, id })
    }

    /// Creates the database of `service` from a template migrated once per
    /// set of migrations, and returns a pool on it.
    pub async fn database(
        &self,
        service: &str,
        migrators: &[&'static Migrator],
    ) -> anyhow::Result<PgPool> {
        let template = ensure_template(&self.settings.database.url, service, migrators).await?;
        let name = self.settings.database_name(service);
        let mut conn = admin_connection(&self.settings.database.url).await?;
        let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        // Cloning fails while another session touches the template; retry.
        let mut attempt = 0;
        loop {
            match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some("55006") && attempt < 50 =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("cloning {template}")),
            }
        }
        conn.close().await.ok();
        pd_runtime::db::pool(&self.settings.database.url, &name, 8).await
    }

    /// A fresh consumer of `service`'s stream filtered to `event`.
    async fn event_consumer(
        &self,
        service: &str,
        event: &str,
    ) -> anyhow::Result<(
        async_nats::jetstream::stream::Stream,
        async_nats::jetstream::consumer::PullConsumer,
    )> {
        let client = async_nats::connect(self.settings.nats.url.as_str()).await?;
        let js = async_nats::jetstream::new(client);
        let stream = js
            .get_stream(format!(
                "{}_{}",
                self.settings.nats.stream_prefix,
                service.to_uppercase()
            ))
            .await?;
        let subject = format!(
            "{}.{service}.evt.{event}.v1",
            self.settings.nats.subject_prefix
        );
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                filter_subject: subject,
                ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await?;
        Ok((stream, consumer))
    }

    /// How many `event`s of `service` its stream holds.
    pub async fn event_count(&self, service: &str, event: &str) -> anyhow::Result<u64> {
        let (stream, mut consumer) = self.event_consumer(service, event).await?;
        let pending = consumer.info().await?.num_pending;
        let name = consumer.cached_info().name.clone();
        let _ = stream.delete_consumer(&name).await;
        Ok(pending)
    }

    /// Every `event` of `service` on its stream (the envelopes' bytes), in order.
    pub async fn events(&self, service: &str, event: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        use futures::StreamExt;
        let (stream, consumer) = self.event_consumer(service, event).await?;
        let mut out = Vec::new();
        loop {
            let mut batch = consumer
                .fetch()
                .max_messages(10_000)
                .expires(Duration::from_millis(500))
                .messages()
                .await?;
            let before = out.len();
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| anyhow::anyhow!("reading {event}: {e}"))?;
                out.push(m.payload.to_vec());
            }
            if out.len() == before {
                break;
            }
        }
        let name = consumer.cached_info().name.clone();
        let _ = stream.delete_consumer(&name).await;
        Ok(out)
    }

    /// Drops this environment's databases and JetStream streams (best effort).
    pub async fn cleanup(&self) {
        self.delete_streams().await;
        self.drop_databases().await;
    }

    async fn delete_streams(&self) {
        use futures::StreamExt;
        let Ok(client) = async_nats::connect(self.settings.nats.url.as_str()).await else {
            return;
        };
        let js = async_nats::jetstream::new(client);
        let prefix = format!("{}_", self.settings.nats.stream_prefix);
        let names: Vec<String> = js
            .stream_names()
            .filter_map(|n| async move { n.ok() })
            .collect()
            .await;
        for name in names.into_iter().filter(|n| n.starts_with(&prefix)) {
            let _ = js.delete_stream(&name).await;
        }
    }

    /// Drops this environment's databases (best effort).
    pub async fn drop_databases(&self) {
        let Ok(mut conn) = admin_connection(&self.settings.database.url).await else {
            return;
        };
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
                .bind(format!("{}%", self.settings.database.name_prefix))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
        for n in names {
            let sql = format!("DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
        // Service roles, for the tests that turn them on.
        let roles: Vec<String> =
            sqlx::query_scalar("SELECT rolname FROM pg_roles WHERE rolname LIKE $1")
                .bind(format!("{}%", self.settings.database.name_prefix))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
        for r in roles {
            let sql = format!("DROP ROLE IF EXISTS \"{r}\"");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
    }
}

async fn admin_connection(url: &str) -> anyhow::Result<PgConnection> {
    use std::str::FromStr;
    let opts = sqlx::postgres::PgConnectOptions::from_str(url)?.database("postgres");
    PgConnection::connect_with(&opts)
        .await
        .context("connecting to PostgreSQL for tests (is it running? see deploy/local/test.sh)")
}

/// `pd_tpl_<service>_<hash of the migrations>`, created once.
async fn ensure_template(
    url: &str,
    service: &str,
    migrators: &[&'static Migrator],
) -> anyhow::Result<String> {
    let mut hash: u64 = 1469598103934665603;
    for m in pd_runtime::db::BUS_MIGRATOR
        .iter()
        .chain(migrators.iter().flat_map(|m| m.iter()))
    {
        for b in m.checksum.iter().chain(m.version.to_le_bytes().iter()) {
            hash = (hash ^ u64::from(*b)).wrapping_mul(1099511628211);
        }
    }
    let name = format!("pd_tpl_{service}_{:012x}", hash & 0xffff_ffff_ffff);
    let mut conn = admin_connection(url).await?;
    // One test process migrates the template; the others wait for it.
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(&name)
        .execute(&mut conn)
        .await?;
    let result = async {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let building = format!("{name}_building");
            let drop = format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)");
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await?;
            pd_runtime::db::ensure_database(url, &building).await?;
            let pool = pd_runtime::db::pool(url, &building, 2).await?;
            pd_runtime::db::migrate(&pool, migrators).await?;
            pool.close().await;
            let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"");
            sqlx::query(sqlx::AssertSqlSafe(rename))
                .execute(&mut conn)
                .await?;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&name)
        .execute(&mut conn)
        .await;
    result?;
    Ok(name)
}
