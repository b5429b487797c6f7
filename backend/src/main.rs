//! The `orderflow` binary: parses the command line and hands over to [`orderflow::cli`].

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = orderflow::cli::Cli::parse();
    match orderflow::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Logging may not be up yet (bad configuration), so also say it on stderr.
            eprintln!("orderflow: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
