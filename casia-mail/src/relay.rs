//! The outbox relay (DOMAIN.md §9; HTTP.md: `serve` runs it in the
//! background): claims due notifications in batches, renders each as an
//! e-mail to its authorization's contact address, sends it, and records the
//! outcome. A failure is retried with exponential backoff up to
//! `max_attempts`, then the message is dead until an operator retries it.
//! Case changes never wait for mail: the notification was written with the
//! change, and only this loop talks to the mail server.
//!
//! Several relays may share one outbox (several `casia serve` on one
//! PostgreSQL): a claim holds its messages for a lease, so each message is
//! sent by one relay at a time. A relay that dies mid-send leaves its
//! messages to be claimed again when the lease ends; the copy sent then has
//! the same Message-ID ([`crate::message::MailIdentity::message_id`]).

use std::sync::Arc;
use std::time::Duration;

use casia_core::ports::{Clock, ContactDirectory, DeliveryFailure, Outbox, OutboxMessage};
use casia_core::{CaseService, StoreError};
use chrono::{DateTime, TimeDelta, Utc};

use crate::message::{self as mail, CaseSummary, MailIdentity};
use crate::transport::Mailer;

/// The relay's policy (flags of `casia serve`, README "Sending e-mail").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Messages claimed at once.
    pub batch_size: usize,
    /// How long a claim holds its messages: longer than a batch takes.
    pub lease: Duration,
    /// Attempts before a message is dead.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with each next one.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_cap: Duration,
    /// The pause after a claim that found less than a full batch.
    pub poll_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            batch_size: 20,
            lease: Duration::from_secs(900),
            max_attempts: 8,
            backoff_base: Duration::from_secs(60),
            backoff_cap: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(5),
        }
    }
}

impl RelayConfig {
    /// The wait after the `attempt`-th failed attempt (1-based):
    /// `backoff_base · 2^(attempt−1)`, at most `backoff_cap`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2_u32.checked_pow(attempt.saturating_sub(1));
        factor
            .and_then(|f| self.backoff_base.checked_mul(f))
            .map_or(self.backoff_cap, |d| d.min(self.backoff_cap))
    }

    /// Checks the policy against the transport's per-message timeout: a
    /// batch is sent one message after another, and must finish within its
    /// lease, or another relay would send its last messages a second time.
    ///
    /// # Errors
    ///
    /// A message naming the flag at fault: a zero batch or attempt count, a
    /// backoff cap below the base, or a lease not longer than
    /// batch × send timeout.
    pub fn check(&self, send_timeout: Duration) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("--relay-batch must be at least 1".into());
        }
        if self.max_attempts == 0 {
            return Err("--relay-max-attempts must be at least 1".into());
        }
        if self.backoff_cap < self.backoff_base {
            return Err("--relay-backoff-cap must not be shorter than --relay-backoff".into());
        }
        let batch_time = u32::try_from(self.batch_size)
            .ok()
            .and_then(|n| send_timeout.checked_mul(n));
        match batch_time {
            Some(t) if t < self.lease => Ok(()),
            _ => Err(format!(
                "--relay-lease ({} s) must be longer than --relay-batch ({}) × --smtp-timeout ({} s)",
                self.lease.as_secs(),
                self.batch_size,
                send_timeout.as_secs()
            )),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Messages claimed from the outbox.
    pub claimed: usize,
    /// Messages the mailer accepted.
    pub delivered: usize,
    /// Failed, to be tried again later.
    pub retrying: usize,
    /// Failed for the last time (or undeliverable): dead.
    pub dead: usize,
    /// Claimed but left for a later claim: the lease ran out first.
    pub left: usize,
}

impl RelayReport {
    fn add(&mut self, other: RelayReport) {
        self.claimed += other.claimed;
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.dead += other.dead;
        self.left += other.left;
    }
}

/// What became of one message.
enum Fate {
    Delivered,
    Retrying,
    Dead,
}

/// Whether a failure may be retried.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Worth another attempt, while attempts remain.
    Passing,
    /// No attempt can succeed until an operator acts (no contact address):
    /// dead at once.
    Undeliverable,
}

/// The relay: the outbox, the contact directory, the case service (for the
/// case's classification and the catalog), a mailer, and its policy.
pub struct Relay {
    outbox: Arc<dyn Outbox>,
    contacts: Arc<dyn ContactDirectory>,
    service: CaseService,
    mailer: Arc<dyn Mailer>,
    identity: MailIdentity,
    clock: Arc<dyn Clock>,
    config: RelayConfig,
}

impl Relay {
    /// A relay over `outbox`, sending through `mailer` to each authorization's address in
    /// `contacts`, as `identity`, at `clock`'s time, with `config`'s policy.
    pub fn new(
        outbox: Arc<dyn Outbox>,
        contacts: Arc<dyn ContactDirectory>,
        service: CaseService,
        mailer: Arc<dyn Mailer>,
        identity: MailIdentity,
        clock: Arc<dyn Clock>,
        config: RelayConfig,
    ) -> Relay {
        Relay {
            outbox,
            contacts,
            service,
            mailer,
            identity,
            clock,
            config,
        }
    }

    /// The relay's policy.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// Claims one batch and delivers it.
    ///
    /// # Errors
    ///
    /// The outbox's [`StoreError`]; a failed send is recorded on its
    /// message, not returned.
    pub async fn run_once(&self) -> Result<RelayReport, StoreError> {
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::MAX);
        let batch = self
            .outbox
            .claim_due(self.clock.now(), self.config.batch_size, lease)
            .await?;
        let mut report = RelayReport {
            claimed: batch.len(),
            ..RelayReport::default()
        };
        for (i, m) in batch.iter().enumerate() {
            if m.held_until.is_some_and(|until| self.clock.now() >= until) {
                // Another relay may hold these now: leave them to it.
                report.left = batch.len() - i;
                tracing::warn!(
                    left = report.left,
                    "outbox lease ran out before the batch was sent; raise --relay-lease"
                );
                break;
            }
            match self.deliver(m).await {
                Fate::Delivered => report.delivered += 1,
                Fate::Retrying => report.retrying += 1,
                Fate::Dead => report.dead += 1,
            }
        }
        Ok(report)
    }

    /// Runs passes until one claims nothing (tests, one-off runs).
    pub async fn run_until_idle(&self) -> Result<RelayReport, StoreError> {
        let mut total = RelayReport::default();
        loop {
            let report = self.run_once().await?;
            if report.claimed == 0 {
                return Ok(total);
            }
            total.add(report);
        }
    }

    /// The background loop of `casia serve`: a pass, then a pause unless
    /// the pass found a full batch. Store errors are logged and retried
    /// after the pause.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(r) if r.claimed >= self.config.batch_size && r.left == 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox relay: cannot claim notifications"),
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    async fn deliver(&self, m: &OutboxMessage) -> Fate {
        let n = &m.notification;
        let contact = match self.contacts.contact(&n.authorization).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                let error = format!("no contact address for authorization {}", n.authorization);
                return self.failed(m, None, error, Failure::Undeliverable).await;
            }
            Err(e) => {
                let error = format!("cannot read the contact address: {e}");
                return self.failed(m, None, error, Failure::Passing).await;
            }
        };
        let to = match mail::parse_address(&contact) {
            Ok(a) => a,
            Err(e) => {
                let error = format!("contact address of authorization {}: {e}", n.authorization);
                return self
                    .failed(m, Some(contact), error, Failure::Undeliverable)
                    .await;
            }
        };
        let recipient = to.to_string();
        let summary = match self.service.repository().get(n.case_number).await {
            Ok(case) => case.map(|c| CaseSummary::of(&c, &self.service.rules().catalog)),
            Err(e) => {
                let error = format!("cannot read case {}: {e}", n.case_number);
                return self
                    .failed(m, Some(recipient), error, Failure::Passing)
                    .await;
            }
        };
        let rendered = mail::render(n, summary.as_ref());
        let message = match mail::message(&self.identity, m.id, &to, n, &rendered, self.clock.now())
        {
            Ok(message) => message,
            Err(e) => {
                return self
                    .failed(m, Some(recipient), e, Failure::Undeliverable)
                    .await;
            }
        };
        match self.mailer.send(&message).await {
            Ok(()) => {
                if let Err(e) = self
                    .outbox
                    .mark_delivered(m.id, &recipient, self.clock.now())
                    .await
                {
                    // Sent but not recorded: sent again, with the same
                    // Message-ID, once the lease ends.
                    tracing::error!(id = m.id, error = %e, "notification sent but not marked delivered");
                }
                tracing::info!(
                    id = m.id,
                    case = %n.case_number,
                    kind = n.kind.as_str(),
                    attempt = m.attempts,
                    "notification delivered"
                );
                Fate::Delivered
            }
            Err(e) => {
                self.failed(m, Some(recipient), e.detail, Failure::Passing)
                    .await
            }
        }
    }

    /// Records a failed attempt: retried after the backoff while attempts
    /// remain, else dead.
    async fn failed(
        &self,
        m: &OutboxMessage,
        recipient: Option<String>,
        error: String,
        failure: Failure,
    ) -> Fate {
        let now = self.clock.now();
        let wait = TimeDelta::from_std(self.config.backoff(m.attempts)).unwrap_or(TimeDelta::MAX);
        let retry_at =
            (failure == Failure::Passing && m.attempts < self.config.max_attempts).then(|| {
                now.checked_add_signed(wait)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            });
        let n = &m.notification;
        match retry_at {
            Some(at) => tracing::warn!(
                id = m.id,
                case = %n.case_number,
                attempt = m.attempts,
                retry_at = %at,
                error = %error,
                "notification not delivered; will retry"
            ),
            None => tracing::error!(
                id = m.id,
                case = %n.case_number,
                attempt = m.attempts,
                error = %error,
                "notification dead: `casia outbox retry {}` once the cause is fixed",
                m.id
            ),
        }
        let record = DeliveryFailure {
            recipient,
            error,
            retry_at,
        };
        if let Err(e) = self.outbox.record_failure(m.id, &record).await {
            // Unrecorded: claimed again when the lease ends.
            tracing::error!(id = m.id, error = %e, "cannot record the failed attempt");
        }
        if retry_at.is_some() {
            Fate::Retrying
        } else {
            Fate::Dead
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let c = RelayConfig {
            backoff_base: Duration::from_secs(60),
            backoff_cap: Duration::from_secs(600),
            ..RelayConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| c.backoff(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(c.backoff(0).as_secs(), 60);
        assert_eq!(c.backoff(u32::MAX).as_secs(), 600);
    }

    #[test]
    fn a_batch_must_fit_in_its_lease() {
        let c = RelayConfig::default();
        assert_eq!(c.check(Duration::from_secs(30)), Ok(()));
        let e = c
            .check(Duration::from_secs(60))
            .expect_err("20 × 60 s > 900 s");
        assert!(e.contains("--relay-lease (900 s)"), "{e}");
        let none = RelayConfig {
            batch_size: 0,
            ..RelayConfig::default()
        };
        assert!(none.check(Duration::from_secs(1)).is_err());
        let zero = RelayConfig {
            max_attempts: 0,
            ..RelayConfig::default()
        };
        assert!(zero.check(Duration::from_secs(1)).is_err());
    }
}
