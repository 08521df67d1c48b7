//! Starts the platform in-process for end-to-end tests: its services on
//! their own databases and NATS subjects, the gateway on a free port.

use anyhow::Context;
use pd_runtime::Shutdown;
use pd_testkit::TestEnv;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

pub struct Platform {
    pub env: TestEnv,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub http: reqwest::Client,
    /// The identity service's database, when the services run.
    pub identity_db: Option<PgPool>,
    /// Every other service's database, by service name, for what a test
    /// checks or sets up behind the API. Time is moved on the services'
    /// shared clock (`env.settings.clock`), not in these databases.
    pub dbs: std::collections::HashMap<&'static str, PgPool>,
    shutdown: Shutdown,
    services: Vec<tokio::task::JoinHandle<()>>,
}

impl Platform {
    /// Every service and the gateway.
    pub async fn start() -> anyhow::Result<Platform> {
        Self::start_with(true, |_| {}).await
    }

    /// The gateway alone: every service with a database is down.
    pub async fn start_gateway_only() -> anyhow::Result<Platform> {
        Self::start_with(false, |_| {}).await
    }

    pub async fn start_with(
        with_services: bool,
        tweak: impl FnOnce(&mut pd_runtime::Settings),
    ) -> anyhow::Result<Platform> {
        let mut env = TestEnv::new()?;
        tweak(&mut env.settings);
        let shutdown = Shutdown::new();
        let mut services = Vec::new();
        let mut identity_db = None;
        let mut dbs = std::collections::HashMap::new();
        let mut base = String::new();
        // Every service of the workspace's list, on its own database.
        for def in pd::SERVICES {
            if def.has_database() {
                if !with_services {
                    continue;
                }
                let pool = env.database(def.name, def.migrators).await?;
                if def.name == pd_identity::SERVICE {
                    identity_db = Some(pool);
                } else {
                    dbs.insert(def.name, pool);
                }
            }
            let running = (def.start)(env.settings.clone(), shutdown.clone()).await?;
            if let Some(addr) = running.http {
                base = format!("http://{addr}");
            }
            services.push(tokio::spawn(running.wait()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Platform {
            env,
            base,
            http,
            identity_db,
            dbs,
            shutdown,
            services,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user directly (as `pd admin create-user` does) and logs in
    /// through the API; returns the access token.
    pub async fn user_token(
        &self,
        login: &str,
        role: &str,
        scope: Option<uuid::Uuid>,
    ) -> anyhow::Result<String> {
        let pool = self
            .identity_db
            .as_ref()
            .context("identity is not running")?;
        let password = format!("{login}-password-123");
        pd_identity::create_user_direct(
            pool,
            &self.env.settings.nats.subject_prefix,
            login,
            &password,
            role,
            scope,
        )
        .await?;
        self.login(login, &password).await
    }

    pub async fn login(&self, login: &str, password: &str) -> anyhow::Result<String> {
        let r = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "login of {login}: {}", r.status());
        let body: Value = r.json().await?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("no access_token")
    }

    /// Stops every service and drops the test databases.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for s in self.services {
            let _ = tokio::time::timeout(Duration::from_secs(10), s).await;
        }
        if let Some(pool) = self.identity_db {
            pool.close().await;
        }
        for pool in self.dbs.into_values() {
            pool.close().await;
        }
        self.env.cleanup().await;
    }
}

/// A JSON API call: status and body (problem bodies included).
pub async fn call(
    p: &Platform,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = p.http.request(method, p.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = match req.send().await {
        Ok(r) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
