//! The command line: `serve` (default), `migrate`, `user create`, `openapi`, `purge`, `backup`,
//! `restore`, `bench seed`.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use uuid::Uuid;

use crate::app::startup::{Application, open_state_for_command};
use crate::context::config::Settings;
use crate::domain::Role;

#[derive(Parser)]
#[command(name = "outreach", version, about = "Field outreach backend for bank account managers")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve {
        /// Seed a demo branch into an empty database and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document (what `api-spec/openapi.json` holds).
    Openapi,
    /// Erase event attendees' personal data past retention (the server also does it hourly).
    Purge,
    /// Copy the embedded database and the media into a new directory, while the server runs.
    Backup {
        /// A new or empty directory.
        dir: std::path::PathBuf,
    },
    /// Bring a backup back into the data directory (the server must be stopped).
    Restore {
        dir: std::path::PathBuf,
        /// Move the database in place aside (kept as `….before-restore-<time>`) and restore over it.
        #[arg(long)]
        replace: bool,
    },
    /// Benchmark tools.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Seed a whole branch network into an empty database (see docs/PERFORMANCE.md).
    Seed {
        /// Share of the default size: 1 = 500 account managers, 100k partners, 1M visits.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The same seed gives the same network.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to write the manifest the load driver reads (default: in the data directory).
        #[arg(long)]
        manifest: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Required for every role but admin.
        #[arg(long)]
        org_unit: Option<Uuid>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", crate::http::openapi_json());
        return Ok(());
    }
    crate::app::telemetry::init();
    let settings = Settings::from_env()?;
    actix_web::rt::System::new().block_on(run(cli.command.unwrap_or(Command::Serve { demo: false }), settings))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            // Opening the store migrates it.
            open_state_for_command(settings).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User { command: UserCommand::Create { phone, name, role, org_unit } } => {
            let password = read_password()?;
            let state = open_state_for_command(settings).await?;
            let user = crate::context::bootstrap::create_user(&state, &phone, &name, password, role, org_unit).await?;
            println!("created {} {} ({})", user.role.as_str(), user.id, user.name);
            Ok(())
        }
        Command::Purge => {
            let state = open_state_for_command(settings).await?;
            let erased = crate::app::startup::purge(&state).await?;
            println!("erased the personal data of {erased} attendees past retention");
            Ok(())
        }
        Command::Backup { dir } => {
            let manifest = tokio::task::spawn_blocking(move || crate::backup::backup(&settings, &dir)).await??;
            match &manifest.database {
                Some(db) => {
                    println!("database: {} bytes, schema {}", db.bytes, db.schema_version.as_deref().unwrap_or("-"))
                }
                None => println!(
                    "database: not included (PostgreSQL: back it up with pg_dump or base backups, see docs/BACKUP.md)"
                ),
            }
            println!("media: {} files, {} bytes; backup complete", manifest.media.files, manifest.media.bytes);
            Ok(())
        }
        Command::Restore { dir, replace } => {
            let restored =
                tokio::task::spawn_blocking(move || crate::backup::restore(&settings, &dir, replace)).await??;
            if let Some(aside) = &restored.moved_aside {
                println!("the database that was in place is kept at {}", aside.display());
            }
            println!(
                "restored the backup of {} ({} media files)",
                restored.manifest.created_at.to_rfc3339(),
                restored.manifest.media.files
            );
            Ok(())
        }
        Command::Bench { command: BenchCommand::Seed { scale, seed, manifest } } => {
            let path = manifest.unwrap_or_else(|| settings.data_dir.join("bench-manifest.json"));
            let state = open_state_for_command(settings).await?;
            let seeded = crate::fixtures::seed::run(&state, crate::fixtures::seed::Options { scale, seed }).await?;
            let json = serde_json::to_string_pretty(&seeded)?;
            std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
            let c = &seeded.counts;
            println!(
                "seeded in {:.0} s: {} account managers, {} partners, {} visits, {} events, {} registrations, {} leads, {} projects; manifest {}",
                c.seconds,
                c.account_managers,
                c.partners,
                c.visits,
                c.events,
                c.registrations,
                c.leads,
                c.projects,
                path.display()
            );
            Ok(())
        }
        Command::Openapi => Ok(()),
    }
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let public_url = settings.public_url.clone();
    let _owner = crate::backup::DataDirLock::acquire(&settings.data_dir)?;
    let app = Application::build(settings).await?;
    if demo {
        crate::fixtures::demo::seed(app.state()).await?;
        println!("{}", crate::fixtures::demo::banner(&public_url));
    }
    tracing::info!(port = app.port(), "serving");
    app.run_until_stopped().await.context("server")?;
    tracing::info!("stopped");
    Ok(())
}

fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "give the password on standard input, e.g. `echo '…' | outreach user create …`"
    );
    Ok(SecretString::from(password))
}
