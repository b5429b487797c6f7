//! The `orderflow` command line.

use clap::{Parser, Subcommand};

use crate::app::{self, AppState};
use crate::config::{Config, Settings};
use crate::infra::{db::Db, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "orderflow",
    version,
    about = "Orderflow: order management for online merchants",
    long_about = "Orderflow captures orders from every sales channel and moves each through \
payment, fraud, inventory, routing, picking, shipping, tracking, returns and reconciliation.\n\n\
Every setting below can also be given by its environment variable; all have working defaults \
(SQLite under ./data, no Redis, mail written to ./data/outbox)."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API, the admin UI and the background workers.
    Serve,
    /// Run only the background workers (scale these separately from `serve`).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a demo tenant with an owner, print how to log in, then serve.
    Demo {
        /// Only create the demo tenant; do not start serving.
        #[arg(long)]
        no_serve: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::resolve(cli.settings)?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Migrate => {
            Db::migrate(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => app::serve(AppState::build(config).await?).await,
        Command::Worker => app::work(AppState::build(config).await?).await,
        Command::Demo { no_serve } => {
            let state = AppState::build(config).await?;
            crate::demo::ensure_demo_tenant(&state).await?;
            if no_serve {
                Ok(())
            } else {
                app::serve(state).await
            }
        }
    }
}
