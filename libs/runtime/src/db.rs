//! One PostgreSQL database per service: created when missing, migrated at
//! start with the migrations embedded in the service.

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::str::FromStr;

use crate::Settings;

/// The bus tables (outbox, processed events) every service shares the shape of.
pub static BUS_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/bus");

fn options(server_url: &str, database: &str) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(server_url)
        .context("database.url is not a PostgreSQL URL")?
        .database(database)
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// Creates `database` if it does not exist (tolerating a concurrent creator).
pub async fn ensure_database(server_url: &str, database: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&options(server_url, "postgres")?)
        .await
        .context("connecting to PostgreSQL (database.url)")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", database.replace('"', ""));
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(database, "database created"),
            // 42P04 duplicate_database, 23505: a concurrent creator won.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e).context("creating the service database"),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Connects to a database of the server.
pub async fn pool(server_url: &str, database: &str, max: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options(server_url, database)?)
        .await
        .with_context(|| format!("connecting to database {database}"))
}

/// Applies the bus migrations, then each of `migrators` (the service's own
/// and those of shared read-models it keeps).
pub async fn migrate(pool: &PgPool, migrators: &[&'static Migrator]) -> anyhow::Result<()> {
    // The migrators share _sqlx_migrations; each ignores the others' rows.
    for m in std::iter::once(&BUS_MIGRATOR).chain(migrators.iter().copied()) {
        let mut own = Migrator::with_migrations(m.iter().cloned().collect());
        own.set_ignore_missing(true);
        own.run(pool).await.context("applying migrations")?;
    }
    Ok(())
}

/// Creates, connects to and migrates the database of `service`.
pub async fn open_service_db(
    settings: &Settings,
    service: &str,
    migrators: &[&'static Migrator],
) -> anyhow::Result<PgPool> {
    let name = settings.database_name(service);
    ensure_database(&settings.database.url, &name).await?;
    let pool = pool(
        &settings.database.url,
        &name,
        settings.database.max_connections,
    )
    .await?;
    migrate(&pool, migrators).await?;
    crate::metrics::watch_pool(service, &pool);
    Ok(pool)
}
