//! What a service is to the rest of the workspace: one [`ServiceDef`] per
//! service crate (`pub const DEF`), listed once in `pd::SERVICES`. `pd
//! serve`, `pd migrate`, the end-to-end test harness and the docs test all
//! read that list, so adding a service is one line there, and a service
//! missing from it fails to start everywhere alike instead of at run time
//! in one place.

use futures::future::BoxFuture;
use sqlx::migrate::Migrator;
use std::net::SocketAddr;

use crate::{Settings, Shutdown};

/// Starts a service: migrates its database, connects, and serves until
/// the shutdown token is cancelled.
pub type StartFn = fn(Settings, Shutdown) -> BoxFuture<'static, anyhow::Result<Running>>;

/// A service of the platform.
pub struct ServiceDef {
    /// Its name: database `<prefix><name>`, subjects `<prefix>.<name>.…`,
    /// stream `<PREFIX>_<NAME>`.
    pub name: &'static str,
    /// Its migrations, applied in order after the bus's own; empty for a
    /// service without a database (the gateway).
    pub migrators: &'static [&'static Migrator],
    /// Its admin port is `admin.base_port + admin_offset`.
    pub admin_offset: u16,
    pub start: StartFn,
}

impl ServiceDef {
    pub fn has_database(&self) -> bool {
        !self.migrators.is_empty()
    }
}

/// A started service.
pub struct Running {
    pub name: &'static str,
    /// Where it serves HTTP, for the one that does (the gateway).
    pub http: Option<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn new(name: &'static str, task: tokio::task::JoinHandle<()>) -> Running {
        Running {
            name,
            http: None,
            task,
        }
    }

    pub fn with_http(mut self, addr: SocketAddr) -> Running {
        self.http = Some(addr);
        self
    }

    /// Resolves once the service has stopped after shutdown.
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(service = self.name, error = %e, "service task failed");
        }
    }
}
