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
    /// Import products or stock from a CSV file (see README for the columns).
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// Create a demo tenant with an owner and a shop, print how to log in, then serve while a
    /// stream of orders goes through every stage.
    Demo {
        /// Only create the demo tenant and its shop; do not start serving.
        #[arg(long)]
        no_serve: bool,
        /// Serve without streaming orders.
        #[arg(long)]
        no_stream: bool,
        /// Seconds between orders once the first burst (one a second) is in.
        #[arg(long, default_value_t = 12)]
        every: u64,
        /// Orders in the first burst.
        #[arg(long, default_value_t = 40)]
        burst: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum Import {
    /// Products and variants: columns product, sku, price (required), cost, barcode,
    /// variant_title, option1_name, option1_value … option3_value, weight_grams, length_mm,
    /// width_mm, height_mm, vendor, product_type, tags, status.
    Products {
        file: std::path::PathBuf,
        /// The tenant's slug (or id).
        #[arg(long)]
        tenant: String,
    },
    /// Stock levels: columns sku, warehouse (its code), quantity (required), bin_location,
    /// reason.
    Stock {
        file: std::path::PathBuf,
        /// The tenant's slug (or id).
        #[arg(long)]
        tenant: String,
        /// `set`: the quantity is a count and on hand is adjusted to it; `add`: a receipt.
        #[arg(long, value_enum, default_value = "set")]
        mode: crate::bulk::import::StockMode,
    },
}

async fn import(config: Config, what: Import) -> anyhow::Result<()> {
    use crate::bulk::import;
    let state = AppState::build(config).await?;
    let (kind, file, report) = match what {
        Import::Products { file, tenant } => {
            let tenant = import::find_tenant(&state, &tenant).await?;
            let report = import::products(&state, tenant, &file).await?;
            ("products", file, report)
        }
        Import::Stock { file, tenant, mode } => {
            let tenant = import::find_tenant(&state, &tenant).await?;
            let report = import::stock(&state, tenant, &file, mode).await?;
            ("stock", file, report)
        }
    };
    println!(
        "{kind}: {} rows — {} created, {} updated, {} unchanged, {} refused",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.errors.len()
    );
    if report.errors.is_empty() {
        return Ok(());
    }
    for e in report.errors.iter().take(20) {
        eprintln!("  line {}, {}: {}", e.line, e.column, e.message);
    }
    if report.errors.len() > 20 {
        eprintln!("  … and {} more", report.errors.len() - 20);
    }
    let path = import::write_error_report(&file, &report.errors)?;
    anyhow::bail!(
        "{} rows were not imported; every one is listed in {}",
        report.errors.len(),
        path.display()
    )
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
        Command::Import { what } => import(config, what).await,
        Command::Demo {
            no_serve,
            no_stream,
            every,
            burst,
        } => {
            let state = AppState::build(config).await?;
            crate::demo::ensure_demo_tenant(&state).await?;
            let options = crate::demo::stream::Options {
                burst,
                every: std::time::Duration::from_secs(every.max(1)),
                ..Default::default()
            };
            // The shop is set up when the stream starts; a failure there is logged, and
            // Orderflow serves all the same.
            let stream = async {
                let api = crate::demo::stream::api_for_demo(&state).await?;
                crate::demo::stream::Stream::new(state.clone(), api, options).await
            };
            if no_serve {
                return stream.await.map(|_| ());
            }
            let (stop, stopped) = tokio::sync::watch::channel(false);
            match stream.await {
                Ok(s) if !no_stream => {
                    tokio::spawn(s.run(stopped));
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "the demo shop could not be set up"),
            }
            let served = app::serve(state).await;
            stop.send_replace(true);
            served
        }
    }
}
