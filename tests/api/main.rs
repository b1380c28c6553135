//! The integration suite: one binary, every test through real HTTP on port 0.

mod helpers;

mod auth;
mod errors;
mod isolation;
mod jwks;
mod keys;
mod startup;
mod tasks;
