//! The case service: runs a command for an actor at the clock's instant and
//! returns the case or the typed error; retries on `version_conflict` while
//! the command is still allowed (DOMAIN.md §10); runs the sweep (§5).

use bytes::Bytes;
use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::TimeDelta;

use crate::actor::Actor;
use crate::attachment::AcceptedAttachment;
use crate::blob::{
    BlobFault, BlobKey, BlobStore, BlobStream, ByteRange, check, collectable, slice,
};
use crate::case::{Attachment, Case, HistoryEntry};
use crate::case_lock::CaseLocks;
use crate::command::{Change, Command, decide, decide_reminder};
use crate::deadline::is_overdue;
use crate::error::{CasiaError, ServiceError, StoreError};
use crate::idempotency::{self, IdempotencyClaim, IdempotencyKey, Reservation};
use crate::ids::CaseNumber;
use crate::notification::Notification;
use crate::ports::{CaseRepository, Clock};
use crate::receipt::{Receipt, normalise_code};
use crate::rules::CaseRules;
use crate::search::{Page, SearchFilter, SearchInput};
use crate::submission::{SubmitInput, validate_submission};

/// How many overdue cases the sweep hands to one
/// [`CaseRepository::update_many`] (stores may split it further).
pub const SWEEP_CHUNK: usize = 2_000;

/// How often a command is re-read and re-decided after a version conflict.
pub const MAX_CONFLICT_RETRIES: usize = 64;

/// A command's result: the case as the actor may see it, and the
/// notifications the command emitted (already in the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The case after the command, as the actor may see it (internal notes removed for users).
    pub case: Case,
    /// The notifications the command emitted, already written to the outbox.
    pub notifications: Vec<Notification>,
}

/// A submission's result with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The case (and, when new, its notifications).
    pub outcome: Outcome,
    /// Whether the case was written by an earlier attempt with the key.
    pub replayed: bool,
}

/// What a blob collection did (`casia blobs gc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobCollection {
    /// Blobs stored before it ran.
    pub stored: usize,
    /// Orphans it deleted.
    pub deleted: usize,
    /// Temporaries of interrupted writes it removed.
    pub temporaries: usize,
}

/// One batch of `casia blobs migrate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobMigration {
    /// Attachments whose bytes moved to the blob store.
    pub moved: usize,
    /// Attachments whose stored bytes do not hash to their record: left
    /// in the database, for a person to look at.
    pub mismatched: Vec<(CaseNumber, u32)>,
    /// The last attachment read; `None` when nothing was left.
    pub last: Option<(CaseNumber, u32)>,
}

/// What `casia blobs verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobVerification {
    /// Referenced blobs checked.
    pub checked: usize,
    /// Missing or corrupt ones.
    pub faults: Vec<BlobFault>,
}

/// What one sweep did, in the order it did it (§5: closures, then reminders,
/// each by ascending case number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// The cases closed `closed_ex_officio`, ascending.
    pub closed: Vec<CaseNumber>,
    /// The cases sent a `deadline_approaching` reminder, ascending.
    pub reminded: Vec<CaseNumber>,
    /// The notifications emitted: closures' first, then reminders'.
    pub notifications: Vec<Notification>,
    /// How many expired idempotency keys the store forgot.
    pub purged_keys: u64,
}

/// The case service (DOMAIN.md §4–§10): every command, search and the
/// sweep, for an actor, at the clock's instant, over a repository. Cheap to
/// clone (shared state); clones see the same rules.
///
/// # Examples
///
/// A user of autorizado `A1` (Madrid) submits an inquiry on the in-memory
/// store and reads it back; a user of another authorization cannot tell the
/// case exists (DOMAIN.md §1).
///
/// ```rust
/// use std::sync::Arc;
///
/// use casia_core::memory::MemoryStore;
/// use casia_core::ports::FixedClock;
/// use casia_core::receipt::ReceiptKey;
/// use casia_core::{Actor, CaseRules, CaseService, ErrorCode, SubmitInput};
/// use futures_executor::block_on;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(MemoryStore::new());
/// let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00+01:00".parse()?));
/// let rules = Arc::new(CaseRules::with_defaults(ReceiptKey::new("example secret")));
/// let service = CaseService::new(store, clock, rules);
///
/// let user = Actor::User {
///     authorization: "A1".parse()?,
///     user: "u1".parse()?,
///     province: "28".parse()?,
/// };
/// let input = SubmitInput {
///     case_type: "inquiry".into(),
///     materia: "afiliacion".into(),
///     category: "altas".into(),
///     subcategory: "plazos".into(),
///     title: "Plazo de alta".into(),
///     description: "¿Con cuánta antelación debe presentarse el alta?".into(),
///     ..SubmitInput::default()
/// };
/// let submitted = block_on(service.submit(&user, &input))?;
/// let number = submitted.case.number;
/// assert_eq!(number.to_string(), "2026-00000001");
/// assert_eq!(submitted.case.office.code(), "28"); // routed to the user's province
///
/// let case = block_on(service.get(&user, number))?;
/// assert_eq!(case.state.substatus_code(), "submitted");
/// assert_eq!(case.receipt.verification_code.len(), 24); // XXXX-XXXX-XXXX-XXXX-XXXX
///
/// let stranger = Actor::User {
///     authorization: "B2".parse()?,
///     user: "u9".parse()?,
///     province: "28".parse()?,
/// };
/// let err = block_on(service.get(&stranger, number)).expect_err("not visible");
/// assert_eq!(err.as_rule().map(|e| e.code()), Some(ErrorCode::NotFound));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CaseService {
    repo: Arc<dyn CaseRepository>,
    clock: Arc<dyn Clock>,
    rules: Arc<RwLock<Arc<CaseRules>>>,
    /// Commands on one case run one at a time in this process.
    turns: Arc<CaseLocks>,
    /// Where attachment bytes go, when not in the case store (issue 17).
    blobs: Option<Arc<dyn BlobStore>>,
}

impl CaseService {
    /// A service over `repo`, reading time from `clock`, deciding with `rules`.
    pub fn new(
        repo: Arc<dyn CaseRepository>,
        clock: Arc<dyn Clock>,
        rules: Arc<CaseRules>,
    ) -> CaseService {
        CaseService {
            repo,
            clock,
            rules: Arc::new(RwLock::new(rules)),
            turns: Arc::default(),
            blobs: None,
        }
    }

    /// The service keeping attachment bytes in `blobs` (issue 17): each
    /// file is made durable there, under its SHA-256, before the case row
    /// that references it commits; the case store keeps only metadata.
    /// Bytes a store kept before still read (from the store) until `casia
    /// blobs migrate` moves them.
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> CaseService {
        self.blobs = Some(blobs);
        self
    }

    /// The blob store, when one is configured.
    pub fn blobs(&self) -> Option<&Arc<dyn BlobStore>> {
        self.blobs.as_ref()
    }

    /// Places every accepted attachment's bytes before the case write:
    /// with a blob store, makes them durable there (a staged file is moved
    /// in, [`BlobStore::put_file`]) and leaves them out of the write (empty
    /// `content`); without one, reads a staged file into `content` for the
    /// case store.
    async fn place_contents(
        &self,
        attachments: &mut [AcceptedAttachment],
    ) -> Result<(), StoreError> {
        for a in attachments {
            let staged = a.staged.take();
            let Some(blobs) = &self.blobs else {
                if let Some(path) = staged {
                    a.content = std::fs::read(&path)
                        .map_err(|e| {
                            StoreError::backend(format!("staged file {}: {e}", path.display()))
                        })?
                        .into();
                }
                continue;
            };
            let key = BlobKey::parse(&a.meta.sha256)
                .ok_or_else(|| StoreError::backend(format!("not a SHA-256: {}", a.meta.sha256)))?;
            // Either way `content` ends empty: the bytes are in the blob store.
            match &staged {
                Some(path) => blobs.put_file(path, &key).await?,
                None => {
                    let stored = blobs.put(std::mem::take(&mut a.content)).await?;
                    if stored != key {
                        return Err(StoreError::backend(format!(
                            "the blob store keyed {key} as {stored}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The rules in force now. A command decides on one snapshot from start
    /// to end, so a reload never mixes two calendars in one deadline.
    pub fn rules(&self) -> Arc<CaseRules> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts new rules in force for every clone of this service (a reloaded
    /// catalog or calendar, `serve` on SIGHUP) and returns the old ones.
    /// Commands already deciding finish on the old rules; a deadline set on
    /// a case is stored and never recomputed.
    pub fn replace_rules(&self, rules: CaseRules) -> Arc<CaseRules> {
        let mut current = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *current, Arc::new(rules))
    }

    /// The repository the service writes to (readiness probes, metrics).
    pub fn repository(&self) -> &Arc<dyn CaseRepository> {
        &self.repo
    }

    /// Submits a case (§4): validates it, numbers it `YYYY-NNNNNNNN`, routes
    /// it to the user's province, issues the receipt and emits
    /// `case_submitted`. See [`CaseService`] for an example.
    ///
    /// # Errors
    ///
    /// The first validation failure of
    /// [`validate_submission`]
    /// (`forbidden` for non-users, `invalid_classification`,
    /// `not_handled_by_casia`, `invalid_field` `title`/`description`,
    /// `invalid_complementary_data`, `missing_complementary_data`,
    /// `attachment_rejected`, `duplicate_attachment`,
    /// `missing_required_documents`), or [`ServiceError::Store`].
    pub async fn submit(
        &self,
        actor: &Actor,
        input: &SubmitInput,
    ) -> Result<Outcome, ServiceError> {
        let now = self.clock.now();
        let mut draft = validate_submission(actor, input, &self.rules(), now)?;
        self.place_contents(draft.attachments_mut()).await?;
        let created = self.repo.create(&draft).await?;
        Ok(Outcome {
            case: created.case.redacted_for(actor),
            notifications: created.notifications,
        })
    }

    /// Submits as [`CaseService::submit`], retry-safe with an
    /// `Idempotency-Key` ([`crate::idempotency`]): the same submission sent
    /// again with the same key within 24 h gets the first one's case (as
    /// the actor may see it now) and `replayed: true`; nothing new is
    /// written and no second notification goes out.
    ///
    /// # Errors
    ///
    /// As [`CaseService::submit`] (the submission is validated first, so a
    /// rejected one never touches the key); [`ServiceError::Idempotency`]
    /// with `InFlight` while the first attempt is still being written, or
    /// `Mismatch` when the key belongs to a different submission.
    pub async fn submit_idempotent(
        &self,
        actor: &Actor,
        input: &SubmitInput,
        key: &IdempotencyKey,
    ) -> Result<Submitted, ServiceError> {
        let now = self.clock.now();
        let mut draft = validate_submission(actor, input, &self.rules(), now)?;
        let Actor::User {
            authorization,
            user,
            ..
        } = actor
        else {
            return Err(CasiaError::Forbidden.into());
        };
        let claim = IdempotencyClaim {
            authorization: authorization.clone(),
            user: user.clone(),
            key: key.clone(),
            fingerprint: idempotency::fingerprint(input),
        };
        match self.repo.reserve_idempotency_key(&claim, now).await? {
            Reservation::Reserved => {}
            Reservation::Completed(number) => {
                let case = self.visible(actor, number).await?;
                return Ok(Submitted {
                    outcome: Outcome {
                        case,
                        notifications: Vec::new(),
                    },
                    replayed: true,
                });
            }
            refused => return Err(ServiceError::Idempotency(refused)),
        }
        if let Err(e) = self.place_contents(draft.attachments_mut()).await {
            let _ = self.repo.release_idempotency_key(&claim).await;
            return Err(e.into());
        }
        match self
            .repo
            .create(&draft.with_idempotency(claim.clone()))
            .await
        {
            Ok(created) => Ok(Submitted {
                outcome: Outcome {
                    case: created.case.redacted_for(actor),
                    notifications: created.notifications,
                },
                replayed: false,
            }),
            Err(e) => {
                // The key goes back; a failure to release it only delays a
                // retry until the reservation's lease ends.
                let _ = self.repo.release_idempotency_key(&claim).await;
                Err(e.into())
            }
        }
    }

    /// Runs a command on a case, re-deciding on version conflicts (up to
    /// [`MAX_CONFLICT_RETRIES`] times) while it is still allowed (§10).
    ///
    /// # Errors
    ///
    /// What [`decide`] says, in §5's order (`not_found`, `forbidden`,
    /// `case_closed`, `transition_not_allowed`, the survey codes,
    /// `deadline_not_reached`, the input's validation codes);
    /// `version_conflict` once the retries are used up; or
    /// [`ServiceError::Store`].
    pub async fn execute(
        &self,
        actor: &Actor,
        number: CaseNumber,
        command: &Command,
    ) -> Result<Outcome, ServiceError> {
        self.run(actor, number, command, None).await
    }

    /// Runs a command only if the case is still at `version` (HTTP
    /// `If-Match`): a stale version is `version_conflict`, never retried.
    ///
    /// # Errors
    ///
    /// As [`CaseService::execute`], and `version_conflict` when the case is
    /// no longer at `version`: compared after visibility (`not_found` for a
    /// case the actor cannot see) and before the rules, as RFC 9110
    /// §13.2.1 orders a precondition before the method.
    pub async fn execute_at_version(
        &self,
        actor: &Actor,
        number: CaseNumber,
        command: &Command,
        version: u64,
    ) -> Result<Outcome, ServiceError> {
        self.run(actor, number, command, Some(version)).await
    }

    async fn run(
        &self,
        actor: &Actor,
        number: CaseNumber,
        command: &Command,
        expected: Option<u64>,
    ) -> Result<Outcome, ServiceError> {
        // One command per case at a time in this process: it decides on the
        // version its predecessor wrote instead of racing it.
        let _turn = self.turns.turn(number).await;
        let mut attempts = 0;
        loop {
            let now = self.clock.now();
            let case = self.visible(actor, number).await?;
            // A precondition is evaluated before the method (RFC 9110 §13.2.1),
            // but after visibility: a stale `If-Match` on a case the actor
            // cannot see is still `not_found`.
            if expected.is_some_and(|v| v != case.version) {
                return Err(CasiaError::VersionConflict.into());
            }
            let mut change = decide(&case, actor, command, &self.rules(), now)?;
            self.place_contents(&mut change.new_attachments).await?;
            match self.repo.update(&change).await {
                Ok(()) => {
                    return Ok(Outcome {
                        case: change.case.redacted_for(actor),
                        notifications: change.notifications,
                    });
                }
                Err(StoreError::VersionConflict)
                    if expected.is_none() && attempts < MAX_CONFLICT_RETRIES =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn visible(&self, actor: &Actor, number: CaseNumber) -> Result<Case, ServiceError> {
        match self.repo.get(number).await? {
            Some(c) if c.is_visible_to(actor) => Ok(c),
            _ => Err(CasiaError::NotFound.into()),
        }
    }

    /// Search option 1: the case's detail, as the actor may see it.
    ///
    /// # Errors
    ///
    /// `not_found` when there is no such case or the actor may not see it;
    /// [`ServiceError::Store`].
    pub async fn get(&self, actor: &Actor, number: CaseNumber) -> Result<Case, ServiceError> {
        Ok(self.visible(actor, number).await?.redacted_for(actor))
    }

    /// The history as the actor may read it (§7): oldest first; users get
    /// internal entries without their note.
    ///
    /// # Errors
    ///
    /// `not_found` (no such case, or not visible); [`ServiceError::Store`].
    pub async fn history(
        &self,
        actor: &Actor,
        number: CaseNumber,
    ) -> Result<Vec<HistoryEntry>, ServiceError> {
        Ok(self.visible(actor, number).await?.history_for(actor))
    }

    /// The receipt, for whoever sees the case (§8).
    ///
    /// # Errors
    ///
    /// `not_found` (no such case, or not visible); [`ServiceError::Store`].
    pub async fn receipt(
        &self,
        actor: &Actor,
        number: CaseNumber,
    ) -> Result<Receipt, ServiceError> {
        Ok(self.visible(actor, number).await?.receipt)
    }

    /// Verifies a code for anyone holding it: the receipt when it verifies.
    /// The code may be typed in any case, with or without dashes and spaces;
    /// `None` for a malformed, unknown or tampered code.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Store`] only.
    pub async fn verify_receipt(&self, code: &str) -> Result<Option<Receipt>, ServiceError> {
        let Some(code) = normalise_code(code) else {
            return Ok(None);
        };
        let found = self.repo.find_by_receipt_code(&code).await?;
        Ok(found
            .map(|c| c.receipt)
            .filter(|r| r.verification_code == code && self.rules().receipt_key.verify(r)))
    }

    /// One attachment's metadata and bytes; `id` is its 1-based id.
    ///
    /// # Errors
    ///
    /// `not_found` when the case is not visible or has no such attachment
    /// (or its bytes are missing); [`ServiceError::Store`].
    pub async fn attachment(
        &self,
        actor: &Actor,
        number: CaseNumber,
        id: u32,
    ) -> Result<(Attachment, Bytes), ServiceError> {
        use futures_util::StreamExt;
        let (meta, mut stream) = self.attachment_part(actor, number, id, |_| None).await?;
        let mut out = bytes::BytesMut::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok((meta, out.freeze()))
    }

    /// One attachment's metadata and its bytes as a stream of chunks (from
    /// the blob store when one is configured and holds them, else from the
    /// case store), so a large file is never held whole.
    ///
    /// # Errors
    ///
    /// As [`CaseService::attachment`].
    pub async fn attachment_stream(
        &self,
        actor: &Actor,
        number: CaseNumber,
        id: u32,
    ) -> Result<(Attachment, BlobStream), ServiceError> {
        self.attachment_part(actor, number, id, |_| None).await
    }

    /// As [`CaseService::attachment_stream`], reading only the range
    /// `pick` chooses from the attachment's metadata (an HTTP `Range`
    /// resolved against its size), or everything when it chooses none.
    ///
    /// # Errors
    ///
    /// As [`CaseService::attachment`].
    pub async fn attachment_part(
        &self,
        actor: &Actor,
        number: CaseNumber,
        id: u32,
        pick: impl FnOnce(&Attachment) -> Option<ByteRange> + Send,
    ) -> Result<(Attachment, BlobStream), ServiceError> {
        let meta = self.visible_attachment(actor, number, id).await?;
        let range = pick(&meta);
        let stream = self
            .open(&meta, number, range)
            .await?
            .ok_or(CasiaError::NotFound)?;
        Ok((meta, stream))
    }

    /// Attachment `id` of a case the actor sees; `not_found` otherwise.
    async fn visible_attachment(
        &self,
        actor: &Actor,
        number: CaseNumber,
        id: u32,
    ) -> Result<Attachment, ServiceError> {
        let case = self.visible(actor, number).await?;
        Ok(case
            .attachments
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(CasiaError::NotFound)?)
    }

    /// The bytes of `meta` as a stream: from the blob store, else from the
    /// case store (bytes written before a blob store was configured), else
    /// from the blob store once more (`migrate_blobs` may have moved them
    /// between the two reads).
    async fn open(
        &self,
        meta: &Attachment,
        number: CaseNumber,
        range: Option<ByteRange>,
    ) -> Result<Option<BlobStream>, StoreError> {
        let blob = || async {
            match (&self.blobs, BlobKey::parse(&meta.sha256), range) {
                (Some(blobs), Some(key), None) => blobs.get(&key).await,
                (Some(blobs), Some(key), Some(r)) => blobs.get_range(&key, r).await,
                _ => Ok(None),
            }
        };
        if let Some(stream) = blob().await? {
            return Ok(Some(stream));
        }
        if let Some(bytes) = self.repo.attachment_content(number, meta.id).await? {
            let whole: BlobStream = Box::pin(futures_util::stream::iter([Ok(bytes)]));
            return Ok(Some(match range {
                Some(r) => slice(whole, r),
                None => whole,
            }));
        }
        blob().await
    }

    /// Deletes the blobs no case references that were not put within
    /// `grace` (issue 17 "Consistency"): the orphans of commands that wrote
    /// their files and then failed. Temporaries are the adapter's concern.
    ///
    /// # Errors
    ///
    /// [`StoreError`] of either store; nothing is deleted when the
    /// references cannot be read.
    pub async fn collect_blobs(&self, grace: TimeDelta) -> Result<BlobCollection, StoreError> {
        let Some(blobs) = &self.blobs else {
            return Ok(BlobCollection::default());
        };
        // The listing first, the references second: a blob put and
        // referenced in between is younger than the cutoff and kept.
        let listing = blobs.list().await?;
        let referenced: HashSet<BlobKey> = self
            .repo
            .attachment_hashes()
            .await?
            .iter()
            .filter_map(|h| BlobKey::parse(h))
            .collect();
        let (candidates, cutoff) = collectable(&listing, &referenced, self.clock.now(), grace);
        let mut report = BlobCollection {
            stored: listing.len(),
            ..BlobCollection::default()
        };
        for key in candidates {
            if blobs.delete_if_untouched_since(&key, cutoff).await? {
                report.deleted += 1;
            }
        }
        report.temporaries = blobs.remove_stale_temporaries(cutoff).await?;
        Ok(report)
    }

    /// Checks every blob the database references: stored, and its bytes
    /// still hashing to its key (`casia blobs verify`). Attachments whose
    /// bytes are still in the case store are checked there.
    ///
    /// # Errors
    ///
    /// [`StoreError`] of either store.
    pub async fn verify_blobs(&self) -> Result<BlobVerification, StoreError> {
        let mut report = BlobVerification::default();
        let Some(blobs) = &self.blobs else {
            return Ok(report);
        };
        for hash in self.repo.attachment_hashes().await? {
            let Some(key) = BlobKey::parse(&hash) else {
                continue;
            };
            report.checked += 1;
            // A blob that cannot be read now is a fault of its own; the
            // run goes on with the next one.
            let read = match blobs.get(&key).await {
                Ok(Some(stream)) => check(&key, stream).await,
                Ok(None) => Ok(Some(BlobFault::Missing(key.clone()))),
                Err(e) => Err(e),
            };
            match read {
                Ok(Some(fault)) => report.faults.push(fault),
                Ok(None) => {}
                Err(e) => report.faults.push(BlobFault::Unreadable {
                    key,
                    error: crate::error::report(&e),
                }),
            }
        }
        // Attachments written before the blob store are not faults: their
        // bytes are still in the case store until `casia blobs migrate`.
        let legacy: HashSet<String> = self
            .repo
            .stored_content_hashes()
            .await?
            .into_iter()
            .collect();
        report.faults.retain(|f| match f {
            BlobFault::Missing(k) => !legacy.contains(k.as_str()),
            BlobFault::Corrupt { .. } | BlobFault::Unreadable { .. } => true,
        });
        Ok(report)
    }

    /// Moves up to `batch` attachments' bytes from the case store to the
    /// blob store (`casia blobs migrate`), those after `after` in key
    /// order: each blob is made durable, and its key checked against the
    /// hash the attachment records, before the database copy is dropped, so
    /// a reader finds the bytes in one place or the other at every moment.
    /// Bytes that no longer hash to their record are left where they are
    /// and reported. Call again with the returned `last` until it is
    /// `None`; an interrupted run starts again from the beginning and finds
    /// only what is left.
    ///
    /// # Errors
    ///
    /// [`StoreError`] of either store; `Backend` when no blob store is
    /// configured.
    pub async fn migrate_blobs(
        &self,
        after: Option<(CaseNumber, u32)>,
        batch: usize,
    ) -> Result<BlobMigration, StoreError> {
        let Some(blobs) = &self.blobs else {
            return Err(StoreError::backend("no blob store is configured"));
        };
        let rows = self.repo.stored_contents(after, batch.max(1)).await?;
        let mut report = BlobMigration {
            last: rows.last().map(|r| (r.number, r.attachment)),
            ..BlobMigration::default()
        };
        for row in rows {
            if crate::attachment::sha256_hex(&row.bytes) != row.sha256 {
                report.mismatched.push((row.number, row.attachment));
                continue;
            }
            blobs.put(row.bytes).await?;
            self.repo
                .drop_stored_content(row.number, row.attachment)
                .await?;
            report.moved += 1;
        }
        Ok(report)
    }

    /// Search option 2 (§7): one page of the visible cases matching
    /// `input`, newest submission first.
    ///
    /// # Errors
    ///
    /// `invalid_query` naming the parameter ([`SearchFilter::parse`]);
    /// [`ServiceError::Store`].
    pub async fn search(&self, actor: &Actor, input: &SearchInput) -> Result<Page, ServiceError> {
        let filter = SearchFilter::parse(actor, input, self.clock.now())?;
        let results = self.repo.search(&filter).await?;
        let items = results.into_iter().map(|c| c.redacted_for(actor)).collect();
        Ok(Page::from_results(items, filter.limit))
    }

    /// The processor's office work queue (§7); other roles are `forbidden`.
    ///
    /// # Errors
    ///
    /// `forbidden` for users and the system; [`ServiceError::Store`].
    pub async fn queue(&self, actor: &Actor) -> Result<Vec<Case>, ServiceError> {
        match actor {
            Actor::Processor { office, .. } => Ok(self.repo.queue(*office).await?),
            _ => Err(CasiaError::Forbidden.into()),
        }
    }

    /// The deadline sweep as the system actor (§5).
    ///
    /// # Errors
    ///
    /// [`ServiceError::Store`], or `version_conflict` when a reminder keeps
    /// losing races.
    pub async fn sweep(&self) -> Result<SweepReport, ServiceError> {
        self.sweep_as(&Actor::System).await
    }

    /// The sweep for a given actor: only the system may run it. Closes every
    /// overdue case, then sends due reminders; each case once, also when
    /// several sweeps race (a lost race re-reads the case and decides again).
    ///
    /// # Errors
    ///
    /// `forbidden` for any actor but the system; otherwise as
    /// [`CaseService::sweep`].
    pub async fn sweep_as(&self, actor: &Actor) -> Result<SweepReport, ServiceError> {
        if *actor != Actor::System {
            return Err(CasiaError::Forbidden.into());
        }
        let now = self.clock.now();
        let rules = self.rules();
        let mut report = SweepReport::default();
        // A set beside the ordered list: the reminder pass asks it once per case.
        let mut closed = std::collections::HashSet::new();
        let waiting = self.repo.awaiting_information().await?;
        // Decided on the cases as loaded (no second read) a chunk at a time,
        // so only one chunk of changed cases is held beside the loaded ones;
        // a case someone changed meanwhile goes the ordinary
        // re-read-and-decide way, so the report stays in ascending order.
        let overdue: Vec<&Case> = waiting
            .iter()
            .filter(|c| c.deadline.is_some_and(|d| is_overdue(d, now)))
            .collect();
        for cases in overdue.chunks(SWEEP_CHUNK) {
            let changes: Vec<Change> = cases
                .iter()
                .filter_map(|c| decide(c, actor, &Command::CloseExOfficio, &rules, now).ok())
                .collect();
            let written = self.repo.update_many(&changes).await?;
            if written.len() != changes.len() {
                return Err(StoreError::backend(format!(
                    "update_many answered {} of {} changes",
                    written.len(),
                    changes.len()
                ))
                .into());
            }
            for (change, won) in changes.iter().zip(written) {
                let number = change.case.number;
                let notifications = if won {
                    change.notifications.clone()
                } else {
                    match self
                        .run(actor, number, &Command::CloseExOfficio, None)
                        .await
                    {
                        Ok(outcome) => outcome.notifications,
                        // Closed, answered or changed by someone else meanwhile.
                        Err(ServiceError::Rule(_)) => continue,
                        Err(e) => return Err(e),
                    }
                };
                report.closed.push(number);
                closed.insert(number);
                report.notifications.extend(notifications);
            }
        }
        for case in &waiting {
            if closed.contains(&case.number) {
                continue;
            }
            // Decided on the case as loaded; only a due reminder touches the
            // store, and a lost race re-reads it.
            let Some(change) = decide_reminder(case, &rules, now) else {
                continue;
            };
            let sent = match self.repo.update(&change).await {
                Ok(()) => Some(change.notifications),
                Err(StoreError::VersionConflict) => self.remind(case.number).await?,
                Err(e) => return Err(e.into()),
            };
            if let Some(notifications) = sent {
                report.reminded.push(case.number);
                report.notifications.extend(notifications);
            }
        }
        // Idempotency keys past their 24 hours, and reservations whose
        // request died (issue 16).
        report.purged_keys = self.repo.purge_idempotency_keys(now).await?;
        Ok(report)
    }

    async fn remind(&self, number: CaseNumber) -> Result<Option<Vec<Notification>>, ServiceError> {
        for _ in 0..=MAX_CONFLICT_RETRIES {
            let now = self.clock.now();
            let Some(case) = self.repo.get(number).await? else {
                return Ok(None);
            };
            let Some(change) = decide_reminder(&case, &self.rules(), now) else {
                return Ok(None);
            };
            match self.repo.update(&change).await {
                Ok(()) => return Ok(Some(change.notifications)),
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CasiaError::VersionConflict.into())
    }
}
