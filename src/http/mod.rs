//! The HTTP surface: the edge around the router, the extractors (the only code that reads
//! credentials), one router per resource, the error enum rendered in each surface's convention,
//! and the OpenAPI document made from the same types the handlers send.

pub mod accounts;
pub mod body;
pub mod edge;
pub mod error;
pub mod extract;
pub mod health;
pub mod lists;
pub mod metrics;
pub mod openapi;
pub mod responses;
pub mod state;
pub mod tasks;
pub mod web;

pub use state::{AppState, HttpService};
