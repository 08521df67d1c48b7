//! `pd`: the one binary. It serves any subset of the services (`pd serve
//! all` on a laptop, `pd serve identity` × N in production), migrates,
//! seeds the demo region, administers users and runs the benchmarks.

mod bench;
mod demo;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pd_runtime::{Settings, Shutdown};
use std::io::Read;

/// Every service this binary can run, in start order.
const SERVICES: [&str; 3] = ["identity", "registry", "gateway"];

#[derive(Parser)]
#[command(
    name = "pd",
    version,
    about = "PD Platform: personalized professional development of educators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run services: `all`, or any of: identity, registry, gateway.
    Serve {
        #[arg(required = true)]
        services: Vec<String>,
    },
    /// Create the services' databases and apply their migrations.
    Migrate,
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Benchmarks (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Create the demo region once (a Tatarstan-like region, its
    /// organizations, educators, providers and one login per role), and
    /// print the logins. Running it again only prints them.
    Seed {
        /// Where the demo logins are kept between runs.
        #[arg(long, default_value = "deploy/local/.state/demo-logins.txt")]
        logins_file: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user with one role; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        login: String,
        /// educator, org_operator, municipal_operator, regional_operator,
        /// ministry, expert, council_member, provider_admin, admin
        #[arg(long)]
        role: String,
        /// The id the role applies to (organization, municipality, region,
        /// provider or educator); none for admin.
        #[arg(long)]
        scope: Option<uuid::Uuid>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Print a fresh Ed25519 key pair as PD__AUTH__* environment lines.
    GenKeys,
}

fn main() -> anyhow::Result<()> {
    pd_runtime::memory::tune_allocator();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Admin {
            command: AdminCommand::GenKeys,
        } => {
            let (signing, verifying) = pd_runtime::tokens::generate_keypair();
            println!("PD__AUTH__SIGNING_KEY={signing}");
            println!("PD__AUTH__VERIFYING_KEY={verifying}");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", pd_gateway::openapi_json());
            Ok(())
        }
        Command::Serve { services } => serve(services).await,
        Command::Migrate => {
            let settings = Settings::load()?;
            let _t = pd_runtime::telemetry::init(&settings, "pd")?;
            pd_runtime::db::open_service_db(
                &settings,
                pd_identity::SERVICE,
                &[&pd_identity::MIGRATOR],
            )
            .await?;
            pd_runtime::db::open_service_db(
                &settings,
                pd_registry::SERVICE,
                &pd_registry::MIGRATORS,
            )
            .await?;
            println!("migrated: identity, registry");
            Ok(())
        }
        Command::Demo {
            command: DemoCommand::Seed { logins_file },
        } => {
            let settings = Settings::load()?;
            let _t = pd_runtime::telemetry::init(&settings, "pd")?;
            demo::seed(settings, &logins_file).await
        }
        Command::Admin {
            command: AdminCommand::CreateUser {
                login, role, scope, ..
            },
        } => {
            let settings = Settings::load()?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let pool = pd_runtime::db::open_service_db(
                &settings,
                pd_identity::SERVICE,
                &[&pd_identity::MIGRATOR],
            )
            .await?;
            let id = pd_identity::create_user_direct(
                &pool,
                &settings.nats.subject_prefix,
                &login,
                password,
                &role,
                scope,
            )
            .await?;
            println!("created user {login} ({id}) with role {role}");
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
    }
}

async fn serve(requested: Vec<String>) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let telemetry = pd_runtime::telemetry::init(&settings, "pd")?;
    let wanted: Vec<&str> = if requested.iter().any(|s| s == "all") {
        SERVICES.to_vec()
    } else {
        for s in &requested {
            anyhow::ensure!(
                SERVICES.contains(&s.as_str()),
                "unknown service {s}; known: all, {}",
                SERVICES.join(", ")
            );
        }
        SERVICES
            .iter()
            .copied()
            .filter(|s| requested.iter().any(|r| r == s))
            .collect()
    };
    let shutdown = Shutdown::new();
    tokio::spawn(pd_runtime::cancel_on_signal(shutdown.clone()));
    let mut running = Vec::new();
    for service in wanted {
        let s = settings.clone();
        let stop = shutdown.clone();
        let task: tokio::task::JoinHandle<()> = match service {
            "identity" => {
                let r = pd_identity::start(s, stop)
                    .await
                    .context("starting identity")?;
                tokio::spawn(r.wait())
            }
            "registry" => {
                let r = pd_registry::start(s, stop)
                    .await
                    .context("starting registry")?;
                tokio::spawn(r.wait())
            }
            "gateway" => {
                let r = pd_gateway::start(s, stop)
                    .await
                    .context("starting gateway")?;
                println!(
                    "gateway: http://{}/api/v1  (docs: http://{}/api/v1/docs)",
                    r.addr, r.addr
                );
                tokio::spawn(r.wait())
            }
            other => anyhow::bail!("unknown service {other}"),
        };
        running.push(task);
    }
    tracing::info!("all requested services are running");
    for t in running {
        let _ = t.await;
    }
    telemetry.shutdown();
    Ok(())
}
