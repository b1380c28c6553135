//! taskgate: a self-hosted, multi-user todo service.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod edge;
pub mod error;
pub mod fence;
pub mod health;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod serve;
pub mod slots;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod token;
pub mod web;
