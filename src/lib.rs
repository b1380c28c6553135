//! taskgate: a self-hosted, multi-user todo service.
//!
//! Layers, each importing only from itself and the layers below it (ARCHITECTURE.md):
//! `app`, `serve`, `cli`, `config` on top; [`http`]; [`services`]; [`store`]; [`domain`];
//! [`ground`].

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod ground;
pub mod http;
pub mod serve;
pub mod services;
pub mod store;
