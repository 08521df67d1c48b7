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

/// A connection idle longer than this is checked (a round trip) before
/// it is handed out again.
const CHECK_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// Every service pool's options. sqlx checks each connection with a round
/// trip when it is handed out (and again when it comes back): on the
/// busiest requests of the December window that doubled the round trips
/// to PostgreSQL. Here only a connection idle for a while is checked (one
/// that may have outlived a server restart). A busy one that broke fails
/// its statement (a 503 to retry, `pd_bus::rpc::database_error`; no
/// idempotent answer is recorded for it), and sqlx drops it when it comes
/// back to the pool, whose check on return stays.
fn pool_options(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Connects to a database of the server.
pub async fn pool(server_url: &str, database: &str, max: u32) -> anyhow::Result<PgPool> {
    pool_options(max)
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

/// Creates (when `database.admin_url` is set), connects to and migrates
/// the database of `service`, signed in as the service's own role.
pub async fn open_service_db(
    settings: &Settings,
    service: &str,
    migrators: &[&'static Migrator],
) -> anyhow::Result<PgPool> {
    let db = &settings.database;
    let name = settings.database_name(service);
    let pool = if db.service_roles {
        let password = db.passwords.get(service).map(String::as_str).unwrap_or("");
        if !db.admin_url.is_empty() {
            provision(&db.admin_url, &name, password).await?;
        }
        let options = options(&db.url, &name)?.username(&name).password(password);
        pool_options(db.max_connections)
            .connect_with(options)
            .await
            .with_context(|| {
                format!(
                    "signing in to database {name} as role {name}: create both with `pd migrate` \
                     and database.admin_url set (deploy/local/up.sh does), and give the role's \
                     password in PD__DATABASE__PASSWORDS__{}",
                    service.to_uppercase()
                )
            })?
    } else {
        ensure_database(&db.url, &name).await?;
        pool(&db.url, &name, db.max_connections).await?
    };
    migrate(&pool, migrators).await?;
    crate::metrics::watch_pool(service, &pool);
    Ok(pool)
}

/// As the superuser: role `name` (signing in with `password`) owning
/// database `name`, which no other role may connect to. Idempotent; a
/// database made by an earlier version, owned by the superuser, is handed
/// over with its tables.
pub async fn provision(admin_url: &str, name: &str, password: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "database name {name:?}: letters, digits and _ only"
    );
    // Statements here carry a password: neither sqlx nor the server logs them.
    let admin = options(admin_url, "postgres")?.disable_statement_logging();
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .context("connecting to PostgreSQL as its administrator (database.admin_url)")?;
    sqlx::query("SET log_statement = 'none'")
        .execute(&mut conn)
        .await
        .context("keeping the role's password out of the server's log")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("CREATE ROLE \"{name}\" LOGIN");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            // A concurrent creator won (duplicate_object).
            if !matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42710")) {
                return Err(e).context("creating the service role");
            }
        }
    }
    // Without a configured password the role's is left as it is (a run
    // without the secrets must not lock running services out). ALTER ROLE
    // takes no parameters: the server quotes the literal itself.
    if !password.is_empty() {
        let sql: String = sqlx::query_scalar(
            "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
        )
        .bind(name)
        .bind(password)
        .fetch_one(&mut conn)
        .await
        .context("quoting the service role's password")?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .context("setting the service role's password")?;
    }
    ensure_database(admin_url, name).await?;
    for sql in [
        format!("ALTER DATABASE \"{name}\" OWNER TO \"{name}\""),
        format!("REVOKE ALL ON DATABASE \"{name}\" FROM PUBLIC"),
        format!("GRANT CONNECT, TEMPORARY ON DATABASE \"{name}\" TO \"{name}\""),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .context("securing the service database")?;
    }
    conn.close().await.ok();
    hand_over_objects(admin_url, name).await
}

/// Tables and functions an earlier version created as the superuser pass
/// to the service role, so its migrations can alter them.
async fn hand_over_objects(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&options(admin_url, name)?)
        .await
        .with_context(|| format!("connecting to {name} as its administrator"))?;
    let sql = format!(
        "DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
                      AND pg_get_userbyid(c.relowner) <> '{name}' LOOP
             EXECUTE format('ALTER TABLE %s OWNER TO %I', r.rel, '{name}');
           END LOOP;
           FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{name}' LOOP
             EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.fn, '{name}');
           END LOOP;
         END $$"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .context("handing the service's tables to its role")?;
    conn.close().await.ok();
    Ok(())
}
