//! CASIA notifications by e-mail (DOMAIN.md §9): the notifications the
//! core writes to the outbox with each change are claimed by a [`relay`],
//! rendered as Spanish e-mail ([`message`]) and sent through a
//! [`transport`] — SMTP with lettre in production ([`smtp`]). A service
//! that embeds the JSON router alone (`casia-http`) never compiles this
//! crate; the `casia` binary runs the relay in `serve` when `--smtp` is set.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod message;
pub mod relay;
pub mod smtp;
pub mod transport;

pub use message::{DEFAULT_FROM, MailIdentity};
pub use relay::{Relay, RelayConfig};
