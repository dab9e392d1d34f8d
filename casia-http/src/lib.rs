//! The HTTP adapter of CASIA (HTTP.md): an axum service over the core's
//! [`casia_core::CaseService`], and what the `casia` binary runs.
//!
//! [`app::app`] builds the router from an [`state::AppState`], so tests call
//! it in-process; [`server`] assembles a real one (store, secret, rules) for
//! `casia serve`. Handlers only translate HTTP into core inputs and back:
//! every rule is the core's, every error a problem document whose status is
//! decided in [`problem::ApiError::status`]. [`relay`] delivers the
//! outbox's notifications as e-mail ([`mail`], [`smtp`]).
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod contacts;
pub mod dto;
pub mod extract;
pub mod mail;
pub mod metrics;
pub mod operations;
pub mod problem;
pub mod receipt_pdf;
pub mod receipts;
pub mod relay;
pub mod secret;
pub mod server;
pub mod smtp;
pub mod state;
pub mod store;

pub use app::{app, openapi};
pub use auth::{Authenticator, Claims};
pub use state::AppState;
