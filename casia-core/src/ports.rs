//! The ports (async traits) the service needs from the outside world:
//! storage, attachment bytes, time, contacts, the outbox. Small, and shaped
//! by what the service does (ARCHITECTURE.md).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::command::Change;
use crate::error::StoreError;
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode};
use crate::notification::Notification;
use crate::search::SearchFilter;
use crate::status::CaseState;
use crate::submission::{CaseDraft, NewCase};

/// Cases and everything written with them. Each write is atomic: case,
/// history, attachments (with their bytes) and notifications, or nothing
/// (DOMAIN.md §10).
#[async_trait]
pub trait CaseRepository: Send + Sync {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError>;

    /// Assigns the next number of `draft.year()` — gap-free per year, also
    /// under concurrency — completes the draft with it and writes it.
    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError>;

    /// Writes a decided change iff the stored version is still
    /// `change.expected_version`; otherwise `StoreError::VersionConflict`
    /// and nothing changes.
    async fn update(&self, change: &Change) -> Result<(), StoreError>;

    /// The cases matching `filter`, in [`crate::search::search_order`],
    /// at most `filter.limit + 1` (the extra one tells there is a next page).
    async fn search(&self, filter: &SearchFilter) -> Result<Vec<Case>, StoreError>;

    /// The office's work queue, in [`crate::search::queue_order`].
    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError>;

    /// Cases in `information_requested`, ascending case number: what the
    /// sweep looks at.
    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError>;

    /// The case whose receipt carries this (normalised) verification code.
    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError>;

    /// The bytes of one attachment.
    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError>;

    /// How many cases are in each state (metrics).
    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError>;

    /// Whether the store answers (readiness probes).
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Where attachment bytes live, for stores that keep them outside the case
/// tables (object storage, files).
#[async_trait]
pub trait AttachmentContentStore: Send + Sync {
    async fn put(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Arc<[u8]>,
    ) -> Result<(), StoreError>;
    async fn get(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError>;
}

/// The time every rule reads: one instant per command.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The e-mail address of each authorization (its principal user's
/// registered address), for notifications (DOMAIN.md §9).
#[async_trait]
pub trait ContactDirectory: Send + Sync {
    async fn contact(&self, authorization: &AuthorizationId) -> Result<Option<String>, StoreError>;
    async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError>;
}

/// A notification waiting in the outbox, with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Increases in emission order.
    pub id: u64,
    pub notification: Notification,
    pub delivered: bool,
    pub attempts: u32,
}

/// The outbox side a relay uses: notifications are written by the case
/// writes themselves; a relay claims and marks them.
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;
    async fn mark_delivered(&self, id: u64) -> Result<(), StoreError>;
    async fn record_failure(&self, id: u64) -> Result<(), StoreError>;
    /// How many notifications wait for delivery (metrics).
    async fn backlog(&self) -> Result<u64, StoreError>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Truncated to microseconds: what every store keeps, so a case reads
    /// back exactly as it was written.
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// A clock that reads whatever it was last set to (tests, scenarios).
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
