//! Fixtures shared by the workspace's test binaries (a dev-dependency, never
//! published): one place for what every test needs, so no test binary
//! carries its own copy.
//!
//! - [`fixtures`]: the test catalog, actors, instants, submissions and
//!   PDF-signed attachments;
//! - [`test_calendar`]: a small holiday calendar and the model's own view of
//!   it (the model-based test counts business days independently);
//! - [`env`](mod@env): the services a test needs from its environment (PostgreSQL,
//!   a Python with aiosmtpd), read from `CASIA_TEST_*` variables;
//! - [`s3`]: an S3 API server (moto) for the blob-store tests;
//! - [`smtp`]: the SMTP test server and a reader for what it received;
//! - [`binary`]: the real `casia` binary, `serve` on a free port, and a few
//!   lines of HTTP/1.1 to talk to it;
//! - [`samples`]: attachment contents built entry by entry (ZIP packages,
//!   compound files) for the format tests and benches;
//! - [`outbox`]: the outbox lifecycle (DOMAIN.md §9) checked against any
//!   store, step by step, with the core's pure functions as the model.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod binary;
pub mod env;
pub mod fixtures;
pub mod outbox;
pub mod s3;
pub mod samples;
pub mod smtp;
pub mod test_calendar;
