//! The `taskgate` binary: parse the command line, start logging, run the command.

use clap::Parser;
use secrecy::ExposeSecret;
use std::process::ExitCode;

use taskgate::app::Application;
use taskgate::cli::{Cli, Command};
use taskgate::store::sqlite::SqliteStore;
use taskgate::{telemetry, token};

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("taskgate: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("taskgate: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await.map_err(|e| e.to_string())?;
            tracing::info!(address = %app.local_addr(), "taskgate listening");
            app.run_until_stopped(shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::Token { user, ttl } => {
            settings.validate().map_err(|e| e.to_string())?;
            let secret =
                settings.better_auth_secret.as_ref().ok_or("BETTER_AUTH_SECRET is not set")?;
            let token = token::mint_hs256(
                secret.expose_secret().as_bytes(),
                &user,
                ttl,
                settings.jwt_issuer.as_deref(),
                settings.jwt_audience.as_deref(),
            )
            .map_err(|e| e.to_string())?;
            println!("{token}");
            Ok(())
        }
        Command::Migrate => {
            let options = settings.sqlite_options().map_err(|e| e.to_string())?;
            let store = SqliteStore::open(options).map_err(|e| e.to_string())?;
            println!("taskgate: {} is up to date", store.path().display());
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
