//! `pd`: the one binary. It serves any subset of the services (`pd serve
//! all` on a laptop, `pd serve identity` × N in production), migrates,
//! seeds the demo region, administers users and runs the benchmarks.

mod bench;
mod demo;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pd::SERVICES;
use pd_runtime::{Settings, Shutdown};
use std::io::Read;

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
    /// Run services: `all`, or any of them by name (see `pd::SERVICES`).
    Serve {
        #[arg(required = true)]
        services: Vec<String>,
    },
    /// Create each service's role and database (with database.admin_url)
    /// and apply the migrations.
    Migrate,
    /// Print the names of the services that have a database, one a line
    /// (the setup scripts make a role password for each).
    Services,
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
    /// A throw-away platform for the portal's browser tests: every
    /// service and the gateway (serving `--portal-dir`) on databases and
    /// subjects of its own, the demo region seeded; writes the gateway's
    /// address and the demo logins to `--info-file`, serves until Ctrl-C
    /// or SIGTERM, then drops its databases and streams.
    Sandbox {
        #[arg(long)]
        info_file: String,
        #[arg(long, default_value = "portal/dist")]
        portal_dir: String,
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
    /// Print a fresh Ed25519 key pair as PD__AUTH__* environment lines, with
    /// its key id (README, "Rotating the signing key").
    GenKeys,
    /// Events a consumer could not apply (the dead-letter stream).
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Publish a service's snapshots again (regions, municipalities,
    /// providers, role grants of identity), for consumers whose read-models
    /// predate a field or the stream's retention; the running service's
    /// relay publishes them.
    Republish {
        /// The service whose snapshots to publish: identity.
        service: String,
    },
    /// Outbox rows the relay set aside as unpublishable.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List dead letters, oldest first.
    List {
        /// Only those of this consumer (a service name).
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Publish dead letters to their original subjects again (once their
    /// cause is fixed) and remove them: the consumer that failed applies
    /// them, the others recognise them as applied.
    Replay {
        /// Sequence numbers from `pd admin dlq list`.
        sequences: Vec<u64>,
        /// Every dead letter (of `--consumer`, if given).
        #[arg(long, conflicts_with = "sequences")]
        all: bool,
        #[arg(long)]
        consumer: Option<String>,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List the parked rows of a service's outbox.
    Parked {
        #[arg(long)]
        service: String,
    },
    /// Give parked rows back to the relay (attempts reset).
    Release {
        #[arg(long)]
        service: String,
        /// One row; all parked rows when absent.
        #[arg(long)]
        id: Option<i64>,
    },
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
            let kid = pd_runtime::tokens::public_key_id(&verifying)?;
            println!("# key id {kid}; to rotate, see README \"Rotating the signing key\"");
            println!("PD__AUTH__SIGNING_KEY={signing}");
            println!("PD__AUTH__VERIFYING_KEY={verifying}");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", pd_gateway::openapi_json());
            Ok(())
        }
        Command::Serve { services } => serve(services).await,
        Command::Services => {
            for def in SERVICES.iter().filter(|d| d.has_database()) {
                println!("{}", def.name);
            }
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load()?;
            let _t = pd_runtime::telemetry::init(&settings, "pd")?;
            let mut migrated = Vec::new();
            for def in SERVICES.iter().filter(|d| d.has_database()) {
                pd_runtime::db::open_service_db(&settings, def.name, def.migrators)
                    .await?
                    .close()
                    .await;
                migrated.push(def.name);
            }
            println!("migrated: {}", migrated.join(", "));
            Ok(())
        }
        Command::Demo {
            command: DemoCommand::Seed { logins_file },
        } => {
            let settings = Settings::load()?;
            let _t = pd_runtime::telemetry::init(&settings, "pd")?;
            demo::seed(settings, &logins_file).await
        }
        Command::Demo {
            command:
                DemoCommand::Sandbox {
                    info_file,
                    portal_dir,
                },
        } => demo::sandbox(&info_file, &portal_dir).await,
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
        Command::Admin {
            command: AdminCommand::Dlq { command },
        } => dead_letters(command).await,
        Command::Admin {
            command: AdminCommand::Outbox { command },
        } => outbox(command).await,
        Command::Admin {
            command: AdminCommand::Republish { service },
        } => {
            anyhow::ensure!(
                service == pd_identity::SERVICE,
                "only identity republishes its snapshots so far"
            );
            let settings = Settings::load()?;
            let pool = pd_runtime::db::open_service_db(
                &settings,
                pd_identity::SERVICE,
                &[&pd_identity::MIGRATOR],
            )
            .await?;
            let done = pd_identity::republish(&pool, &settings.nats.subject_prefix).await?;
            println!(
                "written to identity's outbox: {} regions, {} municipalities, {} providers, {} role grants",
                done.regions, done.municipalities, done.providers, done.grants
            );
            pool.close().await;
            Ok(())
        }
    }
}

async fn dead_letters(command: DlqCommand) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let verifier = pd_runtime::tokens::TokenVerifier::new(&settings.auth)?;
    let bus = pd_bus::Bus::connect(&settings.nats, verifier).await?;
    match command {
        DlqCommand::List { consumer } => {
            let letters = bus.dead_letters(consumer.as_deref()).await?;
            for l in &letters {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    l.sequence,
                    l.dead_lettered_at.to_rfc3339(),
                    l.consumer,
                    l.event_type,
                    l.event_id,
                    l.aggregate_id,
                    l.reason
                );
            }
            println!("{} dead letter(s)", letters.len());
        }
        DlqCommand::Replay {
            sequences,
            all,
            consumer,
        } => {
            let sequences = if all {
                let letters = bus.dead_letters(consumer.as_deref()).await?;
                letters.iter().map(|l| l.sequence).collect()
            } else {
                sequences
            };
            anyhow::ensure!(
                !sequences.is_empty(),
                "nothing to replay: give sequence numbers or --all"
            );
            for seq in &sequences {
                let l = bus.replay_dead_letter(*seq).await?;
                println!(
                    "replayed {seq}: {} {} to {}",
                    l.event_type, l.event_id, l.consumer
                );
            }
        }
    }
    Ok(())
}

async fn outbox(command: OutboxCommand) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let (OutboxCommand::Parked { service } | OutboxCommand::Release { service, .. }) = &command;
    let def = pd::service(service)
        .filter(|d| d.has_database())
        .with_context(|| {
            format!(
                "no service {service} with an outbox; known: {}",
                pd::names()
            )
        })?;
    let pool = pd_runtime::db::open_service_db(&settings, def.name, def.migrators).await?;
    match command {
        OutboxCommand::Parked { .. } => {
            let rows = pd_bus::outbox::parked(&pool).await?;
            for r in &rows {
                println!(
                    "{}\t{}\t{}\t{} bytes\t{} attempts\t{}\t{}",
                    r.id,
                    r.parked_at.to_rfc3339(),
                    r.subject,
                    r.size,
                    r.attempts,
                    r.event_id,
                    r.last_error.as_deref().unwrap_or("")
                );
            }
            println!("{} parked row(s)", rows.len());
        }
        OutboxCommand::Release { id, .. } => {
            let n = pd_bus::outbox::release(&pool, id).await?;
            println!("released {n} row(s)");
        }
    }
    pool.close().await;
    Ok(())
}

async fn serve(requested: Vec<String>) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let telemetry = pd_runtime::telemetry::init(&settings, "pd")?;
    for s in &requested {
        anyhow::ensure!(
            s == "all" || pd::service(s).is_some(),
            "unknown service {s}; known: all, {}",
            pd::names()
        );
    }
    let all = requested.iter().any(|s| s == "all");
    let shutdown = Shutdown::new();
    tokio::spawn(pd_runtime::cancel_on_signal(shutdown.clone()));
    let mut running = Vec::new();
    for def in SERVICES
        .iter()
        .filter(|d| all || requested.iter().any(|r| r == d.name))
    {
        let r = (def.start)(settings.clone(), shutdown.clone())
            .await
            .with_context(|| format!("starting {}", def.name))?;
        if let Some(addr) = r.http {
            println!(
                "{}: http://{addr}/api/v1  (docs: http://{addr}/api/v1/docs)",
                def.name
            );
        }
        running.push(tokio::spawn(r.wait()));
    }
    tracing::info!("all requested services are running");
    for t in running {
        let _ = t.await;
    }
    telemetry.shutdown();
    Ok(())
}
