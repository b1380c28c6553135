//! The command line: `serve` (the default), `token`, `migrate`.

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "taskgate", version, about = "A self-hosted, multi-user todo service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print an HS256 access token for a user, signed with BETTER_AUTH_SECRET.
    Token {
        /// The user id the token speaks for (its `sub`).
        #[arg(long)]
        user: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 900)]
        ttl: u64,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
}
