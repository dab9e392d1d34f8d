//! `casia`: the facade. With no features it is the pure core
//! ([`casia_core`]); the features add the adapters (ARCHITECTURE.md):
//! `sqlite` and `postgres` the SQL stores ([`store_sql`]), `http` the JSON
//! router ([`http`]), `mail` the outbox relay over SMTP ([`mail`]), `web`
//! the web pages in Spanish ([`web`]), `blobs` the blob stores for
//! attachment bytes ([`blobs`]; `s3` adds S3-compatible storage).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use casia_core::*;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use casia_store_sql as store_sql;

#[cfg(feature = "http")]
pub use casia_http as http;

#[cfg(feature = "mail")]
pub use casia_mail as mail;

#[cfg(feature = "web")]
pub use casia_web as web;

#[cfg(feature = "blobs")]
pub use casia_blobs as blobs;
