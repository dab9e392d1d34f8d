//! The outbox lifecycle (DOMAIN.md §9: notifications are written with the
//! change that caused them and delivered at least once, with retries): the
//! states of a message and the four things that happen to it — a relay
//! claims it (a claim counts as an attempt and holds it for a lease), it is
//! delivered (a dead one too, when its uncertain send did arrive), an
//! attempt fails (backing off, or dead after the last), an operator retries
//! a dead one (attempts reset). Pure functions over [`OutboxMessage`]; the
//! memory store applies them, the SQL stores implement the same in SQL and
//! are checked against them by one shared test (`casia-test-support`).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::notification::Notification;

/// Where a notification stands (DOMAIN.md §9: delivered at least once, with
/// retries): waiting (`pending`), sent (`delivered`), or given up after the
/// relay's last attempt (`dead`, until an operator retries it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// `pending` — waiting to be claimed and sent (held ones too).
    Pending,
    /// `delivered` — sent; final.
    Delivered,
    /// `dead` — given up after the relay's last attempt; an operator may retry it.
    Dead,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Dead,
    ];

    /// The wire (and SQL) code: `pending`, `delivered` or `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// Parses a wire code; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A notification in the outbox, with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Increases in emission order.
    pub id: u64,
    /// The notification to deliver.
    pub notification: Notification,
    /// Where its delivery stands.
    pub state: DeliveryState,
    /// Delivery attempts started since it was written or last retried: a
    /// claim counts one, so a relay that dies mid-send still uses one up.
    pub attempts: u32,
    /// Not claimed before this instant (backoff); `None`: due now.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Held by the relay that claimed it until this instant (its lease).
    pub held_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The address the last attempt was sent to.
    pub recipient: Option<String>,
    /// When it was delivered (UTC instant).
    pub delivered_at: Option<DateTime<Utc>>,
}

impl OutboxMessage {
    /// A message as the case write leaves it: pending, due now.
    pub fn new(id: u64, notification: Notification) -> OutboxMessage {
        OutboxMessage {
            id,
            notification,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: None,
            held_until: None,
            last_error: None,
            recipient: None,
            delivered_at: None,
        }
    }

    /// Whether a relay may claim it at `now`: pending, due, and not held.
    pub fn is_claimable(&self, now: DateTime<Utc>) -> bool {
        self.state == DeliveryState::Pending
            && self.next_attempt_at.is_none_or(|t| t <= now)
            && self.held_until.is_none_or(|t| t <= now)
    }

    /// A relay claims it at `now` for `lease`: held until then, and the
    /// claim counts as an attempt (a relay that dies mid-send still uses
    /// one up). `false`, and nothing changes, when it is not claimable.
    pub fn claim(&mut self, now: DateTime<Utc>, lease: TimeDelta) -> bool {
        if !self.is_claimable(now) {
            return false;
        }
        self.held_until = Some(
            now.checked_add_signed(lease)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        self.attempts = self.attempts.saturating_add(1);
        true
    }

    /// Sent to `recipient` at `at`: delivered, whether it was pending or
    /// dead (a dead message whose uncertain send did arrive settles as
    /// delivered). `false` when it was already delivered.
    pub fn deliver(&mut self, recipient: &str, at: DateTime<Utc>) -> bool {
        if self.state == DeliveryState::Delivered {
            return false;
        }
        self.state = DeliveryState::Delivered;
        self.recipient = Some(recipient.to_owned());
        self.delivered_at = Some(at);
        self.held_until = None;
        self.next_attempt_at = None;
        true
    }

    /// An attempt failed: released, due again at `failure.retry_at`, or
    /// dead when that is `None`. Only a pending message changes.
    pub fn fail(&mut self, failure: &DeliveryFailure) -> bool {
        if self.state != DeliveryState::Pending {
            return false;
        }
        self.recipient.clone_from(&failure.recipient);
        self.last_error = Some(failure.error.clone());
        self.held_until = None;
        self.next_attempt_at = failure.retry_at;
        if failure.retry_at.is_none() {
            self.state = DeliveryState::Dead;
        }
        true
    }

    /// An operator retries a dead message: pending again, due at `now`,
    /// attempts reset (its last error is kept for reference). `false` when
    /// it is not dead.
    pub fn retry(&mut self, now: DateTime<Utc>) -> bool {
        if self.state != DeliveryState::Dead {
            return false;
        }
        self.state = DeliveryState::Pending;
        self.attempts = 0;
        self.next_attempt_at = Some(now);
        self.held_until = None;
        true
    }
}

/// How one delivery attempt failed, as the relay records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The address it was sent to (`None` when there was none to send to).
    pub recipient: Option<String>,
    /// Why it failed, for the operator (kept as `last_error`).
    pub error: String,
    /// When to try again; `None`: never (the message is dead).
    pub retry_at: Option<DateTime<Utc>>,
}
