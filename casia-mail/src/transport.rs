//! What the relay needs from a mail transport: send one message, or say
//! whether the failure is permanent. SMTP in production
//! ([`crate::smtp::SmtpMailer`]); tests use their own.

use async_trait::async_trait;
use lettre::message::Message;

/// A mail transport: SMTP in production ([`crate::smtp::SmtpMailer`]).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message; `Ok` once the server accepted it.
    async fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SendError {
    /// The server refused it for good (5xx); the relay still retries up to
    /// its attempts, since a relay's 5xx is sometimes a passing fault.
    pub permanent: bool,
    /// What the server or the connection said, for the outbox's `last_error`.
    pub detail: String,
}
