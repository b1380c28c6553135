//! The `taskgate` binary: parse the command line, start logging, run the command.

use clap::Parser;
use secrecy::ExposeSecret;
use std::process::ExitCode;

use taskgate::app::Application;
use taskgate::cli::{Cli, Command, KeysCommand};
use taskgate::config;
use taskgate::ground::telemetry;
use taskgate::services::token;

/// glibc's allocator takes a lock whenever memory allocated on one runtime thread is freed on
/// another (tasks move between threads); mimalloc frees across threads without one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(problem) = config::load_dotenv() {
        eprintln!("taskgate: {problem}");
    }
    let cli = Cli::parse();
    let target = match cli.command {
        None | Some(Command::Serve) => telemetry::LogTarget::Stdout,
        Some(_) => telemetry::LogTarget::Stderr,
    };
    let _log_writer = telemetry::init(cli.settings.log_format, target);
    for name in config::unknown_taskgate_variables(&known_variables()) {
        tracing::warn!(variable = name, "unknown TASKGATE_ variable ignored: is it misspelt?");
    }
    // `token` refuses what it cannot mint as a usage error, like its argument checks.
    let refusal = match cli.command {
        Some(Command::Token { .. }) => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("taskgate: {message}");
            refusal
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let summary = settings.summary();
            let settings_public_url = settings.public_url.clone();
            let app = Application::build(settings).await.map_err(|e| e.to_string())?;
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                address = %app.local_addr(),
                url = %browser_url(settings_public_url.as_deref(), app.local_addr()),
                database = summary.database,
                key_sources = summary.key_sources,
                issuer_enforced = summary.issuer_enforced,
                audience_enforced = summary.audience_enforced,
                max_connections = app.max_connections(),
                metrics = app.metrics_addr().map(tracing::field::display),
                "taskgate listening"
            );
            app.run_until_stopped(shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::Token { user, ttl } => {
            settings.validate().map_err(|e| e.to_string())?;
            let config = settings.store_config().map_err(|e| e.to_string())?;
            // The secret the server uses with these settings.
            let secret = settings.server_secret(&config).map_err(|e| e.to_string())?;
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
        Command::Keys { action: KeysCommand::Rotate } => {
            settings.validate().map_err(|e| e.to_string())?;
            let config = settings.store_config().map_err(|e| e.to_string())?;
            let secret = settings.server_secret(&config).map_err(|e| e.to_string())?;
            let stores = taskgate::store::connect(&config).await.map_err(|e| e.to_string())?;
            let kid = taskgate::services::keys::rotate(&stores.keys(), &secret)
                .await
                .map_err(|e| e.to_string())?;
            println!("taskgate: signing key {kid} added; instances sign with it within 30 s");
            Ok(())
        }
        Command::Migrate => {
            let config = settings.store_config().map_err(|e| e.to_string())?;
            let (database, change) =
                taskgate::store::migrate(&config).await.map_err(|e| e.to_string())?;
            println!("taskgate: {database} {change}");
            Ok(())
        }
    }
}

/// Where a person opens the service: the public URL, else the listening address, with a
/// loopback address for "every address" (a browser cannot open `0.0.0.0`).
fn browser_url(public_url: Option<&str>, listening: std::net::SocketAddr) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if let Some(url) = public_url {
        return format!("{}/", url.trim_end_matches('/'));
    }
    let mut address = listening;
    match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => address.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(ip) if ip.is_unspecified() => address.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => {}
    }
    format!("http://{address}/")
}

/// Every environment variable the command line reads.
fn known_variables() -> Vec<&'static str> {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut names = Vec::new();
    for command in std::iter::once(&command).chain(command.get_subcommands()) {
        for arg in command.get_arguments() {
            if let Some(name) = arg.get_env().and_then(|name| name.to_str()) {
                // Leaked once per name at start: a handful of short strings.
                names.push(&*Box::leak(name.to_owned().into_boxed_str()));
            }
        }
    }
    // Not a setting: the binary the repository's test and benchmark scripts run.
    names.push("TASKGATE_BIN");
    names
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
