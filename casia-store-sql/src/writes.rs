//! The one write path (issue 15). A new case is a write from nothing, a
//! command a write from the version it was decided on; both become
//! [`WriteRows`] — the case row and the rows the write adds — and
//! `write_rows` puts any number of them in the database inside one
//! transaction: new case rows inserted, the others rewritten by one
//! version-checked multi-row `UPDATE` (DOMAIN.md §10), then the history,
//! attachment, content, survey and outbox rows of every write that won,
//! each table in multi-row `INSERT`s.
//!
//! `WriteQueue` is the group commit in front of it: submissions and
//! commands queue, and one writer task at a time takes everything queued,
//! numbers the new cases with one counter update per year and commits all
//! of it at once — one fsync for many writes. Each write stays
//! all-or-nothing and version-checked: a lost race fails alone
//! (`VersionConflict`, retried by the service), and a batch that fails as a
//! whole is written again one write per transaction, so one bad write
//! fails alone. Answers come after the commit.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use casia_core::StoreError;
use casia_core::command::Change;
use casia_core::ids::CaseNumber;
use casia_core::submission::{CaseDraft, NewCase};

use crate::Backend;
use crate::columns::{RowType, Statement, insert};
use crate::engine::{Engine, Session};
use crate::rows::{
    AttachmentRow, CaseRow, ContentRow, HistoryRow, NewOutboxRow, SurveyRow, attachment_rows,
    corrupt,
};
use crate::sql;

/// Most writes the writer commits in one transaction.
const MAX_BATCH: usize = 128;

/// Most cases in one version-checked multi-row `UPDATE` (24 values each)
/// or one multi-row `INSERT` of case rows (23 each): far below SQLite's
/// 32,766 and PostgreSQL's 65,535 parameters.
pub(crate) const CASE_CHUNK: usize = 500;

/// Most attachment contents in one `INSERT`: they carry the bytes.
const CONTENT_CHUNK: usize = 16;

/// Where a write starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// A new case: its row is inserted.
    New,
    /// The version the change was decided on: the row is rewritten only
    /// if it is still the stored one.
    Version(i64),
}

/// Everything one write puts in the database.
#[derive(Debug, Clone)]
pub struct WriteRows {
    /// Where the write starts from.
    pub base: Base,
    /// The case row after the write.
    pub case: CaseRow,
    /// The new history rows.
    pub history: Vec<HistoryRow>,
    /// The new attachments' metadata.
    pub attachments: Vec<AttachmentRow>,
    /// The new attachments' bytes.
    pub contents: Vec<ContentRow>,
    /// The survey, when the case has one (written again with each write
    /// of a surveyed case: the core only ever adds it).
    pub survey: Option<SurveyRow>,
    /// The notifications, in emission order.
    pub outbox: Vec<NewOutboxRow>,
    /// The `Idempotency-Key` a new case completes (issue 16).
    pub idempotency: Option<casia_core::idempotency::IdempotencyClaim>,
}

impl WriteRows {
    /// The rows of a decided command: the case at its new version, the
    /// history entries it added, its attachments and notifications.
    ///
    /// # Errors
    /// A backend error when a number exceeds the SQL range.
    pub fn of_change(change: &Change) -> Result<WriteRows, StoreError> {
        let expected = i64::try_from(change.expected_version).map_err(|_| {
            StoreError::backend(format!(
                "expected version of case {} exceeds the SQL range",
                change.case.number
            ))
        })?;
        let first_new = change.case.history.len().saturating_sub(change.new_history);
        WriteRows::of(
            Base::Version(expected),
            &change.case,
            first_new,
            &change.new_attachments,
            &change.notifications,
        )
    }

    /// The rows of a new case: all of it.
    ///
    /// # Errors
    /// A backend error when a number exceeds the SQL range.
    pub fn of_new_case(new: &NewCase) -> Result<WriteRows, StoreError> {
        WriteRows::of(
            Base::New,
            &new.case,
            0,
            &new.attachments,
            &new.notifications,
        )
    }

    fn of(
        base: Base,
        case: &casia_core::Case,
        first_new_history: usize,
        attachments: &[casia_core::attachment::AcceptedAttachment],
        notifications: &[casia_core::Notification],
    ) -> Result<WriteRows, StoreError> {
        let number = case.number;
        // Empty bytes are in the service's blob store (issue 17): only
        // the metadata row is written.
        let (attachments, contents): (Vec<_>, Vec<Option<ContentRow>>) =
            attachment_rows(&number, attachments)?
                .into_iter()
                .map(|(row, bytes)| {
                    let content = (!bytes.is_empty()).then(|| ContentRow {
                        case_number: row.case_number.clone(),
                        attachment_id: row.id,
                        content: bytes.to_vec(),
                    });
                    (row, content)
                })
                .unzip();
        let contents: Vec<ContentRow> = contents.into_iter().flatten().collect();
        Ok(WriteRows {
            base,
            case: CaseRow::from_case(case)?,
            history: case
                .history
                .iter()
                .enumerate()
                .skip(first_new_history)
                .map(|(seq, e)| HistoryRow::from_entry(&number, seq, e))
                .collect(),
            attachments,
            contents,
            survey: case
                .survey
                .as_ref()
                .map(|s| SurveyRow::from_survey(&number, s)),
            outbox: notifications
                .iter()
                .map(NewOutboxRow::from_notification)
                .collect(),
            idempotency: None,
        })
    }
}

/// `INSERT`s of `rows`, at most `chunk` rows per statement, with `tail`
/// after each (e.g. an `ON CONFLICT` clause).
async fn insert_all<T: RowType>(
    session: &mut dyn Session,
    rows: Vec<T>,
    chunk: usize,
    tail: &str,
) -> Result<(), StoreError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut s = insert(rows.by_ref().take(chunk));
        s.push(tail);
        session.execute(s).await?;
    }
    Ok(())
}

/// Most rows of `T` in one `INSERT`: about 10,000 values.
fn chunk_of<T: RowType>() -> usize {
    (10_000 / T::COLUMNS.len()).max(1)
}

/// Writes `writes` (of distinct cases) in the session's transaction; per
/// write whether it was written — `false`: its version was no longer the
/// stored one, and nothing of it was written. The caller commits.
pub(crate) async fn write_rows(
    session: &mut dyn Session,
    backend: Backend,
    writes: Vec<WriteRows>,
) -> Result<Vec<bool>, StoreError> {
    let mut new_rows = Vec::new();
    let mut changed_rows = Vec::new();
    for w in &writes {
        match w.base {
            Base::New => new_rows.push(w.case.clone()),
            Base::Version(expected) => changed_rows.push((w.case.clone(), expected)),
        }
    }
    insert_all(session, new_rows, CASE_CHUNK, "").await?;
    let mut won: HashSet<String> = HashSet::with_capacity(changed_rows.len());
    let mut changed_rows = changed_rows.into_iter().peekable();
    while changed_rows.peek().is_some() {
        let chunk: Vec<_> = changed_rows.by_ref().take(CASE_CHUNK).collect();
        won.extend(
            session
                .column::<String>(sql::update_cases(backend, chunk))
                .await?,
        );
    }
    let written: Vec<bool> = writes
        .iter()
        .map(|w| w.base == Base::New || won.contains(&w.case.number))
        .collect();
    let (mut history, mut attachments, mut contents, mut surveys, mut outbox) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (w, written) in writes.into_iter().zip(&written) {
        if let Some(claim) = &w.idempotency {
            session
                .execute(crate::idempotency::complete(claim, &w.case.number))
                .await?;
        }
        if *written {
            history.extend(w.history);
            attachments.extend(w.attachments);
            contents.extend(w.contents);
            surveys.extend(w.survey);
            outbox.extend(w.outbox);
        }
    }
    insert_all(session, history, chunk_of::<HistoryRow>(), "").await?;
    insert_all(session, attachments, chunk_of::<AttachmentRow>(), "").await?;
    // Content written with its case: a row already there is an
    // inconsistency and fails the whole write.
    insert_all(session, contents, CONTENT_CHUNK, "").await?;
    insert_all(
        session,
        surveys,
        chunk_of::<SurveyRow>(),
        sql::UPSERT_SURVEY_TAIL,
    )
    .await?;
    // Ids ascend in `VALUES` order: the outbox keeps emission order.
    insert_all(session, outbox, chunk_of::<NewOutboxRow>(), "").await?;
    Ok(written)
}

/// A write waiting for the writer, and where its answer goes.
enum Pending {
    Create {
        draft: Box<CaseDraft>,
        reply: oneshot::Sender<Result<NewCase, StoreError>>,
    },
    Change {
        change: Box<Change>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

impl Pending {
    /// The case a change writes (new cases have no number yet).
    fn case(&self) -> Option<CaseNumber> {
        match self {
            Pending::Create { .. } => None,
            Pending::Change { change, .. } => Some(change.case.number),
        }
    }
}

/// What a write came to, before it is sent to its caller.
enum Outcome {
    Created(Box<NewCase>),
    Changed(Result<(), StoreError>),
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<Pending>,
    /// Whether a writer task is running; it drains `waiting` before it ends.
    writing: bool,
}

/// The group commit of every write (DOMAIN.md §4, §10): see the module
/// documentation.
#[derive(Default)]
pub(crate) struct WriteQueue {
    state: Mutex<QueueState>,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("WriteQueue")
            .field("waiting", &state.waiting.len())
            .field("writing", &state.writing)
            .finish()
    }
}

/// Cleans up after a writer that ended without draining the queue (it
/// panicked, or its runtime shut down): the writes still queued are
/// answered with an error (their senders are dropped) instead of waiting
/// forever, and the next write starts a new writer.
struct WriterGuard {
    queue: Arc<WriteQueue>,
    drained: bool,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        if !self.drained {
            let mut state = self.queue.lock();
            state.writing = false;
            state.waiting.clear();
        }
    }
}

fn writer_stopped() -> StoreError {
    StoreError::backend("the writer stopped before answering")
}

impl WriteQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // The state is a queue and a flag, consistent after any panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a write; starts the writer when none runs.
    fn enqueue(self: &Arc<Self>, engine: &Arc<dyn Engine>, pending: Pending) {
        let start = {
            let mut state = self.lock();
            state.waiting.push_back(pending);
            !std::mem::replace(&mut state.writing, true)
        };
        if start {
            // Spawned: a caller that goes away (a dropped HTTP request)
            // never cancels the others' transaction.
            tokio::spawn(Arc::clone(self).write(Arc::clone(engine)));
        }
    }

    /// Waits until no write is queued or being written (at most `limit`):
    /// what closing the store does first, so a shutdown never cuts a
    /// batch short.
    pub(crate) async fn drained(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            {
                let state = self.lock();
                if !state.writing && state.waiting.is_empty() {
                    return;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Numbers and writes a new case; answers after the commit.
    pub(crate) async fn create(
        self: &Arc<Self>,
        engine: &Arc<dyn Engine>,
        draft: &CaseDraft,
    ) -> Result<NewCase, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.enqueue(
            engine,
            Pending::Create {
                draft: Box::new(draft.clone()),
                reply,
            },
        );
        answer.await.unwrap_or_else(|_| Err(writer_stopped()))
    }

    /// Writes a decided change iff its version is still the stored one;
    /// answers after the commit.
    pub(crate) async fn change(
        self: &Arc<Self>,
        engine: &Arc<dyn Engine>,
        change: &Change,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.enqueue(
            engine,
            Pending::Change {
                change: Box::new(change.clone()),
                reply,
            },
        );
        answer.await.unwrap_or_else(|_| Err(writer_stopped()))
    }

    /// The next batch: up to [`MAX_BATCH`] writes in queue order, at most
    /// one per case (a second change of a case waits for the next batch, so
    /// it is checked against the first one's version).
    fn take_batch(&self) -> Option<Vec<Pending>> {
        let mut state = self.lock();
        if state.waiting.is_empty() {
            state.writing = false;
            return None;
        }
        let mut cases = HashSet::new();
        let mut batch = Vec::new();
        let mut later = VecDeque::new();
        while batch.len() < MAX_BATCH {
            let Some(p) = state.waiting.pop_front() else {
                break;
            };
            match p.case() {
                Some(n) if !cases.insert(n) => later.push_back(p),
                _ => batch.push(p),
            }
        }
        later.append(&mut state.waiting);
        state.waiting = later;
        Some(batch)
    }

    /// The writer task: takes batches until the queue is empty (checked
    /// under the lock writes are queued under, so none is left behind).
    async fn write(self: Arc<Self>, engine: Arc<dyn Engine>) {
        let mut guard = WriterGuard {
            queue: Arc::clone(&self),
            drained: false,
        };
        loop {
            let Some(batch) = self.take_batch() else {
                guard.drained = true;
                return;
            };
            match write_batch(&*engine, &batch).await {
                Ok(outcomes) => answer(batch, outcomes),
                Err(e) if batch.len() == 1 => fail(batch, e),
                Err(_) => {
                    for pending in batch {
                        let alone = std::slice::from_ref(&pending);
                        match write_batch(&*engine, alone).await {
                            Ok(outcomes) => answer(vec![pending], outcomes),
                            Err(e) => fail(vec![pending], e),
                        }
                    }
                }
            }
        }
    }
}

/// Sends each write its outcome. A caller may have gone; its write stands.
fn answer(batch: Vec<Pending>, outcomes: Vec<Outcome>) {
    for (pending, outcome) in batch.into_iter().zip(outcomes) {
        match (pending, outcome) {
            (Pending::Create { reply, .. }, Outcome::Created(case)) => {
                let _ = reply.send(Ok(*case));
            }
            (Pending::Change { reply, .. }, Outcome::Changed(result)) => {
                let _ = reply.send(result);
            }
            (Pending::Create { reply, .. }, Outcome::Changed(_)) => {
                let _ = reply.send(Err(writer_stopped()));
            }
            (Pending::Change { reply, .. }, Outcome::Created(_)) => {
                let _ = reply.send(Err(writer_stopped()));
            }
        }
    }
}

/// Sends every write of a failed batch the error.
fn fail(batch: Vec<Pending>, e: StoreError) {
    let message = e.to_string();
    let mut first = Some(e);
    for pending in batch {
        let e = first
            .take()
            .unwrap_or_else(|| StoreError::backend(message.clone()));
        match pending {
            Pending::Create { reply, .. } => {
                let _ = reply.send(Err(e));
            }
            Pending::Change { reply, .. } => {
                let _ = reply.send(Err(e));
            }
        }
    }
}

/// One transaction: numbers the new cases (per year, in queue order, one
/// counter update per year), writes everything, commits.
async fn write_batch(engine: &dyn Engine, batch: &[Pending]) -> Result<Vec<Outcome>, StoreError> {
    let mut session = engine.transaction().await?;
    let mut per_year: Vec<(i32, u32)> = Vec::new();
    for p in batch {
        if let Pending::Create { draft, .. } = p {
            match per_year.iter_mut().find(|(y, _)| *y == draft.year()) {
                Some((_, n)) => *n += 1,
                None => per_year.push((draft.year(), 1)),
            }
        }
    }
    let mut next_of_year: Vec<(i32, u32)> = Vec::with_capacity(per_year.len());
    for (year, n) in per_year {
        let last: i64 = session
            .one(
                Statement::new(sql::TAKE_SEQUENCES)
                    .bind(i64::from(year))
                    .bind(i64::from(n)),
            )
            .await?;
        let first = u32::try_from(last - i64::from(n) + 1)
            .ok()
            .filter(|f| f.checked_add(n - 1).is_some())
            .ok_or_else(|| exhausted(year))?;
        next_of_year.push((year, first));
    }
    let mut created: Vec<Option<NewCase>> = Vec::with_capacity(batch.len());
    let mut writes = Vec::with_capacity(batch.len());
    for p in batch {
        match p {
            Pending::Create { draft, .. } => {
                let year = draft.year();
                let slot = next_of_year
                    .iter_mut()
                    .find(|(y, _)| *y == year)
                    .ok_or_else(|| StoreError::backend(format!("no numbers taken for {year}")))?;
                let number = CaseNumber::new(year, slot.1).ok_or_else(|| exhausted(year))?;
                slot.1 += 1;
                let new = draft.complete(number);
                let mut rows = WriteRows::of_new_case(&new)?;
                rows.idempotency = draft.idempotency().cloned();
                writes.push(rows);
                created.push(Some(new));
            }
            Pending::Change { change, .. } => {
                writes.push(WriteRows::of_change(change)?);
                created.push(None);
            }
        }
    }
    let written = write_rows(&mut *session, engine.backend(), writes).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for ((p, new), written) in batch.iter().zip(created).zip(written) {
        outcomes.push(match (p, new) {
            (_, Some(new)) => Outcome::Created(Box::new(new)),
            (Pending::Change { change, .. }, None) if !written => {
                Outcome::Changed(Err(lost_race(&mut *session, change.case.number).await?))
            }
            _ => Outcome::Changed(Ok(())),
        });
    }
    session.commit().await?;
    Ok(outcomes)
}

/// Why a version-checked write found no row to rewrite: another write won
/// (`VersionConflict`), or the case is not there (`Corrupt`: the service
/// only changes cases it read).
async fn lost_race(
    session: &mut dyn Session,
    number: CaseNumber,
) -> Result<StoreError, StoreError> {
    let exists: Option<String> = session
        .optional(Statement::new(sql::CASE_EXISTS).bind(number.to_string()))
        .await?;
    Ok(match exists {
        Some(_) => StoreError::VersionConflict,
        None => corrupt(&number.to_string(), "update of a case that does not exist"),
    })
}

/// The error of a year whose numbers ran out (DOMAIN.md §4: eight digits).
fn exhausted(year: i32) -> StoreError {
    StoreError::backend(format!("case numbers of {year} exhausted"))
}
