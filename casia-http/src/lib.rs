//! The CASIA JSON API over HTTP (HTTP.md): an axum router over the core's
//! [`casia_core::CaseService`].
//!
//! [`app::app`] builds the router from an [`state::AppState`], so tests and
//! embedders call it in-process; the `casia` binary (`casia-cli`) assembles
//! a real one (store, secret, rules) for `casia serve`. Handlers only
//! translate HTTP into core inputs and back: every rule is the core's, every
//! error a problem document whose status is decided in
//! [`problem::ApiError::status`]. The document of every route is
//! [`openapi::openapi`]. Mail is not here (`casia-mail`), nor the PDF
//! writer (`casia-receipt-pdf`, used for `Accept: application/pdf`).
//! [`server::serve`] serves the router on a listener with the connection
//! limits of issue 16 (header-read timeout, connection cap, bounded
//! graceful shutdown).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod contacts;
pub mod docs;
pub mod download;
pub mod dto;
pub mod extract;
mod fetch;
pub mod jwks;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod operations;
pub mod problem;
pub mod receipts;
pub mod server;
pub mod staging;
pub mod state;

pub use app::{app, app_with};
pub use auth::{Authenticator, Claims};
pub use openapi::openapi;
pub use state::AppState;
