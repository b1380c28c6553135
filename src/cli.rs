//! The command line: `serve` (the default), `token`, `migrate`, `keys rotate`.

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::services::token;

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
        /// The user id the token speaks for (its `sub`): 1 to 255 bytes.
        #[arg(long, value_parser = token::parse_user)]
        user: String,
        /// Lifetime in seconds, from 1 to 31536000 (one year).
        #[arg(long, value_name = "SECONDS", default_value_t = 900, value_parser = token::parse_ttl)]
        ttl: u64,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage the signing keys of the accounts' access tokens.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key: running instances sign with it within 30 s; the old key stays
    /// published until its tokens have expired, then is deleted by the next rotation.
    Rotate,
}
