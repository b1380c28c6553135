//! The integration suite: one binary, every test through real HTTP on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod helpers;

mod account_limits;
pub mod account_sessions;
mod account_tokens;
mod accounts;
mod auth;
mod edge;
mod errors;
mod expiry;
mod finding;
mod idempotency;
mod instances;
mod isolation;
mod jwks;
mod keys;
mod lists;
mod logs;
mod openapi;
pub mod operator;
pub mod organising;
mod outage;
mod slow_clients;
mod startup;
mod tasks;
mod titles;
mod token_command;
mod upgrade;
mod web;
