//! `casia`: the facade. With no features it is the pure core
//! ([`casia_core`]); the features `sqlite`, `postgres` and `http` add the
//! adapters (ARCHITECTURE.md).
#![forbid(unsafe_code)]

pub use casia_core::*;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use casia_store_sql as store_sql;

#[cfg(feature = "http")]
pub use casia_http as http;
