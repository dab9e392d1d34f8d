//! The ports (async traits) the service needs from the outside world:
//! storage, attachment bytes, time, contacts, the outbox. Small, and shaped
//! by what the service does (ARCHITECTURE.md).

use bytes::Bytes;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::case::Case;
use crate::command::Change;
use crate::error::StoreError;
use crate::idempotency::{IdempotencyClaim, Reservation};
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode};
pub use crate::outbox::{DeliveryFailure, DeliveryState, OutboxMessage};
use crate::search::SearchFilter;
use crate::status::CaseState;
use crate::submission::{CaseDraft, NewCase};

/// Cases and everything written with them. Each write is atomic: case,
/// history, attachments (with their bytes) and notifications, or nothing
/// (DOMAIN.md §10).
#[async_trait]
pub trait CaseRepository: Send + Sync {
    /// The case with this number, whoever may see it (visibility is the service's concern); `None`
    /// when there is none.
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError>;

    /// Assigns the next number of `draft.year()` — gap-free per year, also
    /// under concurrency — completes the draft with it and writes it.
    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError>;

    /// Writes a decided change iff the stored version is still
    /// `change.expected_version`; otherwise `StoreError::VersionConflict`
    /// and nothing changes.
    async fn update(&self, change: &Change) -> Result<(), StoreError>;

    /// Writes several decided changes of distinct cases, each iff its stored
    /// version is still its `expected_version`; says per change whether it
    /// was written (`false`: a lost race, nothing of it written). Stores may
    /// write them in fewer transactions (the sweep's closures, DOMAIN.md §5);
    /// each change stays all-or-nothing. The default writes one at a time.
    async fn update_many(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError> {
        let mut written = Vec::with_capacity(changes.len());
        for change in changes {
            match self.update(change).await {
                Ok(()) => written.push(true),
                Err(StoreError::VersionConflict) => written.push(false),
                Err(e) => return Err(e),
            }
        }
        Ok(written)
    }

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
    ) -> Result<Option<Bytes>, StoreError>;

    /// The SHA-256 of every attachment on every case: the blobs the
    /// database references (issue 17: the collector keeps them, the
    /// verifier checks them). Each hash once.
    async fn attachment_hashes(&self) -> Result<Vec<String>, StoreError> {
        Err(StoreError::backend(
            "this store does not list attachment hashes",
        ))
    }

    /// Up to `limit` attachments whose bytes are still kept in the
    /// database (written before a blob store was configured), in (case,
    /// attachment id) order after `after` (keyset paging: a row that is
    /// skipped is not read again). `casia blobs migrate` moves them.
    async fn stored_contents(
        &self,
        _after: Option<(CaseNumber, u32)>,
        _limit: usize,
    ) -> Result<Vec<StoredContent>, StoreError> {
        Ok(Vec::new())
    }

    /// The SHA-256 of every attachment whose bytes are still kept in the
    /// database (not yet migrated to a blob store).
    async fn stored_content_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// Removes the bytes of one attachment from the database, once they
    /// are durable in the blob store.
    async fn drop_stored_content(
        &self,
        _number: CaseNumber,
        _attachment: u32,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    /// How many cases are in each state (metrics).
    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError>;

    /// Whether the store answers (readiness probes).
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Applies [`crate::idempotency::decide`] to `claim`'s key at `now`,
    /// atomically (two attempts with one key, on any instance, never both
    /// get [`Reservation::Reserved`]); on `Reserved` the key is held for
    /// `claim` until [`CaseRepository::create`] completes it with the case
    /// or [`CaseRepository::release_idempotency_key`] lets it go.
    async fn reserve_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let _ = (claim, now);
        Err(StoreError::backend(
            "this store does not keep idempotency keys",
        ))
    }

    /// Lets a reserved, not completed key go (its submission failed).
    async fn release_idempotency_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        let _ = claim;
        Ok(())
    }

    /// Forgets the keys [`crate::idempotency::purgeable`] at `now`; how
    /// many.
    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let _ = now;
        Ok(0)
    }
}

/// An attachment whose bytes are still kept in the case store (written
/// before a blob store was configured, issue 17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContent {
    /// The case.
    pub number: CaseNumber,
    /// The attachment's 1-based id.
    pub attachment: u32,
    /// The SHA-256 the attachment's metadata records.
    pub sha256: String,
    /// The bytes as stored.
    pub bytes: Bytes,
}

/// Where attachment bytes live, for stores that keep them outside the case
/// tables (object storage, files).
#[async_trait]
pub trait AttachmentContentStore: Send + Sync {
    /// Stores the bytes of attachment `attachment` (its 1-based id) of case `number`.
    async fn put(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Bytes,
    ) -> Result<(), StoreError>;
    /// The bytes of one attachment; `None` when none were stored under that key.
    async fn get(&self, number: CaseNumber, attachment: u32) -> Result<Option<Bytes>, StoreError>;
}

/// The time every rule reads: one instant per command.
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc>;
}

/// The e-mail address of each authorization (its principal user's
/// registered address), for notifications (DOMAIN.md §9).
#[async_trait]
pub trait ContactDirectory: Send + Sync {
    /// The authorization's contact address, if one is registered.
    async fn contact(&self, authorization: &AuthorizationId) -> Result<Option<String>, StoreError>;
    /// Registers (or replaces) the authorization's contact address; the caller has checked it
    /// ([`crate::contact::ContactAddress`]).
    async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError>;
}

/// The outbox side a relay uses: notifications are written by the case
/// writes themselves (DOMAIN.md §9); relays claim them, deliver them and
/// record the outcome. Several relays may share one outbox: a claimed
/// message is held by its relay until the lease ends.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Takes up to `limit` messages, oldest first, that are pending, due at
    /// `now` and held by no relay; holds them until `now + lease` and counts
    /// an attempt on each. Two concurrent claims never take one message.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Records a successful delivery (also of a dead message whose uncertain
    /// send did arrive). An unknown id is no error.
    async fn mark_delivered(
        &self,
        id: u64,
        recipient: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records a failed attempt on a pending message and releases it: due
    /// again at `failure.retry_at`, or dead when that is `None`. A message
    /// already delivered or dead is left as it is.
    async fn record_failure(&self, id: u64, failure: &DeliveryFailure) -> Result<(), StoreError>;

    /// Pending messages, oldest first (held ones too).
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Dead messages, oldest first.
    async fn list_dead(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Makes a dead message pending again, due at `now`, with its attempts
    /// reset; `false` when `id` names no dead message.
    async fn retry(&self, id: u64, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// How many notifications wait for delivery (pending; metrics).
    async fn backlog(&self) -> Result<u64, StoreError>;

    /// How many notifications are dead (metrics).
    async fn dead_count(&self) -> Result<u64, StoreError>;
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
    /// A clock that reads `at` until [`FixedClock::set`] moves it.
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(std::sync::Mutex::new(at))
    }

    /// Moves the clock to `at` (forwards or backwards).
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
