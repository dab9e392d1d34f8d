//! The repository over one backend, written once and compiled for each
//! (`#[path]`-included by `sqlite.rs` and `postgres.rs`, which supply `Db`,
//! `DbRow`, `BEGIN_READ`, `BEGIN_WRITE` and `db_error`). Every write is one
//! transaction (DOMAIN.md §10); reads run in one snapshot so a case and its
//! history are never torn.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::query_builder::Separated;
use sqlx::{Database, FromRow, Pool, QueryBuilder, Row, Transaction};
use tokio::sync::oneshot;

use casia_core::attachment::AcceptedAttachment;
use casia_core::command::Change;
use casia_core::ids::{AuthorizationId, CaseNumber, OfficeCode};
use casia_core::ports::{DeliveryFailure, OutboxMessage};
use casia_core::search::{QUEUE_SUBSTATES, Scope, SearchFilter};
use casia_core::status::{CaseState, OpenSubstatus};
use casia_core::submission::{CaseDraft, NewCase};
use casia_core::{Case, Notification, StoreError};

use super::{BEGIN_READ, BEGIN_WRITE, Db, DbRow, OUTBOX_CLAIM, db_error, update_cases};
use crate::rows::{
    ATTACHMENT_COLUMNS, AttachmentRow, CASE_COLUMNS, CaseRow, HISTORY_COLUMNS, HistoryRow,
    NewOutboxRow, OutboxRow, SURVEY_COLUMNS, SurveyRow, assemble, attachment_rows, corrupt, micros,
};
use crate::sql;

type Conn = <Db as Database>::Connection;
type Query<'q> = sqlx::query::Query<'q, Db, <Db as Database>::Arguments>;

/// Most bound values in one `IN (…)` list.
const IN_LIST_CHUNK: usize = 500;

/// Most submissions written in one transaction by the submission writer:
/// 23 bound values each stays far below both backends' parameter limits.
const MAX_SUBMISSION_BATCH: usize = 128;

/// Most cases in one version-checked multi-row `UPDATE` (24 bound values
/// each).
const UPDATE_CHUNK: usize = 500;

/// Most rows in one multi-row `INSERT` of history or outbox rows (9 bound
/// values each).
const INSERT_ROWS_CHUNK: usize = 1_000;

impl<'r> FromRow<'r, DbRow> for CaseRow {
    fn from_row(r: &'r DbRow) -> Result<Self, sqlx::Error> {
        Ok(CaseRow {
            number: r.try_get("number")?,
            case_type: r.try_get("case_type")?,
            materia: r.try_get("materia")?,
            category: r.try_get("category")?,
            subcategory: r.try_get("subcategory")?,
            substatus: r.try_get("substatus")?,
            office: r.try_get("office")?,
            assignee: r.try_get("assignee")?,
            authorization_id: r.try_get("authorization_id")?,
            submitted_by: r.try_get("submitted_by")?,
            province: r.try_get("province")?,
            affects_current_period: r.try_get("affects_current_period")?,
            title: r.try_get("title")?,
            description: r.try_get("description")?,
            complementary_data: r.try_get("complementary_data")?,
            deadline: r.try_get("deadline")?,
            reminder_sent: r.try_get("reminder_sent")?,
            submitted_at: r.try_get("submitted_at")?,
            closed_at: r.try_get("closed_at")?,
            resolution: r.try_get("resolution")?,
            receipt: r.try_get("receipt")?,
            verification_code: r.try_get("verification_code")?,
            version: r.try_get("version")?,
        })
    }
}

impl<'r> FromRow<'r, DbRow> for HistoryRow {
    fn from_row(r: &'r DbRow) -> Result<Self, sqlx::Error> {
        Ok(HistoryRow {
            case_number: r.try_get("case_number")?,
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            event: r.try_get("event")?,
            substatus: r.try_get("substatus")?,
            actor_role: r.try_get("actor_role")?,
            actor_id: r.try_get("actor_id")?,
            observation: r.try_get("observation")?,
            visibility: r.try_get("visibility")?,
        })
    }
}

impl<'r> FromRow<'r, DbRow> for AttachmentRow {
    fn from_row(r: &'r DbRow) -> Result<Self, sqlx::Error> {
        Ok(AttachmentRow {
            case_number: r.try_get("case_number")?,
            id: r.try_get("id")?,
            document_type: r.try_get("document_type")?,
            title: r.try_get("title")?,
            file_name: r.try_get("file_name")?,
            media_type: r.try_get("media_type")?,
            size: r.try_get("size")?,
            sha256: r.try_get("sha256")?,
            added_at: r.try_get("added_at")?,
            added_by_role: r.try_get("added_by_role")?,
            added_by_id: r.try_get("added_by_id")?,
        })
    }
}

impl<'r> FromRow<'r, DbRow> for SurveyRow {
    fn from_row(r: &'r DbRow) -> Result<Self, sqlx::Error> {
        Ok(SurveyRow {
            case_number: r.try_get("case_number")?,
            rating: r.try_get("rating")?,
            comment: r.try_get("comment")?,
            at: r.try_get("at")?,
            by_user: r.try_get("by_user")?,
        })
    }
}

impl<'r> FromRow<'r, DbRow> for OutboxRow {
    fn from_row(r: &'r DbRow) -> Result<Self, sqlx::Error> {
        Ok(OutboxRow {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            case_number: r.try_get("case_number")?,
            authorization_id: r.try_get("authorization_id")?,
            at: r.try_get("at")?,
            deadline: r.try_get("deadline")?,
            message_text: r.try_get("message_text")?,
            delivered: r.try_get("delivered")?,
            attempts: r.try_get("attempts")?,
            dead: r.try_get("dead")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            held_until: r.try_get("held_until")?,
            last_error: r.try_get("last_error")?,
            recipient: r.try_get("recipient")?,
            delivered_at: r.try_get("delivered_at")?,
        })
    }
}

/// Binds a case row in [`CASE_COLUMNS`] order (`$1`..`$23`).
fn bind_case<'q>(q: Query<'q>, r: &CaseRow) -> Query<'q> {
    q.bind(r.number.clone())
        .bind(r.case_type.clone())
        .bind(r.materia.clone())
        .bind(r.category.clone())
        .bind(r.subcategory.clone())
        .bind(r.substatus.clone())
        .bind(r.office.clone())
        .bind(r.assignee.clone())
        .bind(r.authorization_id.clone())
        .bind(r.submitted_by.clone())
        .bind(r.province.clone())
        .bind(r.affects_current_period)
        .bind(r.title.clone())
        .bind(r.description.clone())
        .bind(r.complementary_data.clone())
        .bind(r.deadline.clone())
        .bind(r.reminder_sent)
        .bind(r.submitted_at)
        .bind(r.closed_at)
        .bind(r.resolution.clone())
        .bind(r.receipt.clone())
        .bind(r.verification_code.clone())
        .bind(r.version)
}

/// Pushes a case row's values in [`CASE_COLUMNS`] order into a `VALUES` tuple.
pub(super) fn push_case(b: &mut Separated<'_, Db, &'static str>, r: CaseRow) {
    b.push_bind(r.number)
        .push_bind(r.case_type)
        .push_bind(r.materia)
        .push_bind(r.category)
        .push_bind(r.subcategory)
        .push_bind(r.substatus)
        .push_bind(r.office)
        .push_bind(r.assignee)
        .push_bind(r.authorization_id)
        .push_bind(r.submitted_by)
        .push_bind(r.province)
        .push_bind(r.affects_current_period)
        .push_bind(r.title)
        .push_bind(r.description)
        .push_bind(r.complementary_data)
        .push_bind(r.deadline)
        .push_bind(r.reminder_sent)
        .push_bind(r.submitted_at)
        .push_bind(r.closed_at)
        .push_bind(r.resolution)
        .push_bind(r.receipt)
        .push_bind(r.verification_code)
        .push_bind(r.version);
}

/// A submission waiting for the writer, and where its result goes.
struct PendingSubmission {
    draft: CaseDraft,
    reply: oneshot::Sender<Result<NewCase, StoreError>>,
}

#[derive(Default)]
struct SubmissionQueueState {
    waiting: Vec<PendingSubmission>,
    /// Whether a writer task is running; it drains `waiting` before it ends.
    writing: bool,
}

/// Group commit of submissions (DOMAIN.md §4, §10): callers queue their
/// drafts and one writer task at a time takes everything queued, numbers it
/// with one counter update and commits it in one transaction. Numbers stay
/// gap-free (a failed transaction gives them all back) and each submission
/// is still all-or-nothing: a failed batch is written again one draft per
/// transaction, so one bad draft fails alone. The writer is a spawned task,
/// so a caller that goes away (a dropped HTTP request) never cancels the
/// others' transaction.
#[derive(Default)]
struct SubmissionQueue {
    state: Mutex<SubmissionQueueState>,
}

impl SubmissionQueue {
    fn lock(&self) -> MutexGuard<'_, SubmissionQueueState> {
        // The state is a list and a flag, consistent after any panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for SubmissionQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("SubmissionQueue")
            .field("waiting", &state.waiting.len())
            .field("writing", &state.writing)
            .finish()
    }
}

/// Cleans up after a writer that ended without draining the queue (it
/// panicked, or its runtime shut down): the drafts still queued are
/// answered with an error (their senders are dropped) instead of waiting
/// forever, and the next submission starts a new writer.
struct WriterGuard {
    queue: Arc<SubmissionQueue>,
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

/// The two pools of a store: readers, and the writer(s). SQLite files get
/// one writer connection (SQLite has one writer; queuing in the pool beats
/// spinning on `SQLITE_BUSY`); PostgreSQL and in-memory SQLite use one pool
/// for both.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    read: Pool<Db>,
    write: Pool<Db>,
    submissions: Arc<SubmissionQueue>,
}

impl Repo {
    pub(crate) fn new(read: Pool<Db>, write: Pool<Db>) -> Repo {
        Repo {
            read,
            write,
            submissions: Arc::default(),
        }
    }

    /// The pool writes go through (migrations, tests, embedders).
    pub(crate) fn write_pool(&self) -> &Pool<Db> {
        &self.write
    }

    /// The pool reads go through (a backup reads without holding the writer).
    #[allow(dead_code)] // compiled per backend; only SQLite backs up this way
    pub(crate) fn read_pool(&self) -> &Pool<Db> {
        &self.read
    }

    pub(crate) async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn read_tx(&self) -> Result<Transaction<'static, Db>, StoreError> {
        self.read.begin_with(BEGIN_READ).await.map_err(db_error)
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Db>, StoreError> {
        self.write.begin_with(BEGIN_WRITE).await.map_err(db_error)
    }

    // ------------------------------------------------------------ writes

    /// Queues the draft for the submission writer and waits for its case.
    pub(crate) async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        let (reply, result) = oneshot::channel();
        let start_writer = {
            let mut state = self.submissions.lock();
            state.waiting.push(PendingSubmission {
                draft: draft.clone(),
                reply,
            });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            tokio::spawn(self.clone().write_submissions());
        }
        result.await.unwrap_or_else(|_| {
            Err(StoreError::backend(
                "the submission writer stopped before answering",
            ))
        })
    }

    /// The writer task: takes what is queued, a batch at a time, until the
    /// queue is empty (checked under the lock that callers queue under, so
    /// no draft is left behind without a writer).
    async fn write_submissions(self) {
        let mut guard = WriterGuard {
            queue: Arc::clone(&self.submissions),
            drained: false,
        };
        loop {
            let batch: Vec<PendingSubmission> = {
                let mut state = self.submissions.lock();
                if state.waiting.is_empty() {
                    state.writing = false;
                    guard.drained = true;
                    return;
                }
                let n = state.waiting.len().min(MAX_SUBMISSION_BATCH);
                state.waiting.drain(..n).collect()
            };
            let drafts: Vec<&CaseDraft> = batch.iter().map(|p| &p.draft).collect();
            match self.create_batch(&drafts).await {
                Ok(created) => {
                    for (pending, case) in batch.into_iter().zip(created) {
                        // The caller may have gone; its case is written anyway.
                        let _ = pending.reply.send(Ok(case));
                    }
                }
                Err(e) if batch.len() == 1 => {
                    if let Some(pending) = batch.into_iter().next() {
                        let _ = pending.reply.send(Err(e));
                    }
                }
                Err(_) => {
                    for pending in batch {
                        let alone =
                            self.create_batch(&[&pending.draft])
                                .await
                                .and_then(|created| {
                                    created.into_iter().next().ok_or_else(|| {
                                        StoreError::backend("a submission was not written")
                                    })
                                });
                        let _ = pending.reply.send(alone);
                    }
                }
            }
        }
    }

    /// Numbers the drafts (per year, in queue order) and writes them in one
    /// transaction; the cases come back in the drafts' order.
    async fn create_batch(&self, drafts: &[&CaseDraft]) -> Result<Vec<NewCase>, StoreError> {
        let mut per_year: Vec<(i32, u32)> = Vec::new();
        for d in drafts {
            match per_year.iter_mut().find(|(y, _)| *y == d.year()) {
                Some((_, n)) => *n += 1,
                None => per_year.push((d.year(), 1)),
            }
        }
        let mut tx = self.write_tx().await?;
        let mut next_of_year: Vec<(i32, u32)> = Vec::with_capacity(per_year.len());
        for (year, n) in per_year {
            let last: i64 = sqlx::query_scalar(sql::TAKE_SEQUENCES)
                .bind(i64::from(year))
                .bind(i64::from(n))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            let first = last - i64::from(n) + 1;
            let first = u32::try_from(first)
                .ok()
                .filter(|f| f.checked_add(n - 1).is_some())
                .ok_or_else(|| exhausted(year))?;
            next_of_year.push((year, first));
        }
        let mut created = Vec::with_capacity(drafts.len());
        for d in drafts {
            let year = d.year();
            let slot = next_of_year
                .iter_mut()
                .find(|(y, _)| *y == year)
                .ok_or_else(|| StoreError::backend(format!("no numbers taken for {year}")))?;
            let number = CaseNumber::new(year, slot.1).ok_or_else(|| exhausted(year))?;
            slot.1 += 1;
            created.push(d.complete(number));
        }
        let rows = created
            .iter()
            .map(|c| CaseRow::from_case(&c.case))
            .collect::<Result<Vec<_>, _>>()?;
        let mut qb = QueryBuilder::<Db>::new(sql::INSERT_CASES_HEAD);
        qb.push_values(rows, |mut b, r| push_case(&mut b, r));
        qb.build().execute(&mut *tx).await.map_err(db_error)?;
        let history: Vec<HistoryRow> = created
            .iter()
            .flat_map(|c| {
                c.case
                    .history
                    .iter()
                    .enumerate()
                    .map(|(seq, e)| HistoryRow::from_entry(&c.case.number, seq, e))
            })
            .collect();
        insert_history_rows(&mut tx, history).await?;
        for c in &created {
            insert_attachments(&mut tx, &c.case.number, &c.attachments).await?;
            if let Some(survey) = &c.case.survey {
                upsert_survey(&mut tx, SurveyRow::from_survey(&c.case.number, survey)).await?;
            }
        }
        insert_outbox(
            &mut tx,
            outbox_rows(created.iter().map(|c| &c.notifications)),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    pub(crate) async fn update(&self, change: &Change) -> Result<(), StoreError> {
        let case = &change.case;
        let number = case.number;
        let row = CaseRow::from_case(case)?;
        let expected = expected_version(change)?;
        let mut tx = self.write_tx().await?;
        let updated = bind_case(sqlx::query(sql::UPDATE_CASE), &row)
            .bind(expected)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            let exists: i64 = sqlx::query_scalar(sql::CASE_EXISTS)
                .bind(number.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            return Err(if exists > 0 {
                StoreError::VersionConflict
            } else {
                corrupt(&number.to_string(), "update of a case that does not exist")
            });
        }
        write_change_rows(&mut tx, std::slice::from_ref(change)).await?;
        tx.commit().await.map_err(db_error)
    }

    /// Several changes in one transaction: one version-checked multi-row
    /// `UPDATE` (the rows whose version still matches are updated and
    /// returned), then the new rows of the winners. Losers write nothing.
    pub(crate) async fn update_many(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError> {
        let mut numbers = HashSet::with_capacity(changes.len());
        if !changes.iter().all(|c| numbers.insert(c.case.number)) {
            return Err(StoreError::backend(
                "update_many takes each case at most once",
            ));
        }
        // Chunks go to separate connections at once (PostgreSQL works them
        // in parallel; SQLite's one writer takes them in turn); each chunk
        // is its own transaction, which keeps every change all-or-nothing.
        let writers: Vec<_> = changes
            .chunks(UPDATE_CHUNK)
            .map(|chunk| tokio::spawn(self.clone().update_chunk(chunk.to_vec())))
            .collect();
        let mut written = Vec::with_capacity(changes.len());
        let mut failure = None;
        for writer in writers {
            match writer.await {
                Ok(Ok(chunk)) => written.extend(chunk),
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(e) => {
                    failure = failure.or(Some(StoreError::backend(format!(
                        "a sweep writer stopped: {e}"
                    ))))
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }

    /// One transaction of [`Repo::update_many`].
    async fn update_chunk(self, chunk: Vec<Change>) -> Result<Vec<bool>, StoreError> {
        let mut rows = Vec::with_capacity(chunk.len());
        for change in &chunk {
            rows.push((CaseRow::from_case(&change.case)?, expected_version(change)?));
        }
        let mut tx = self.write_tx().await?;
        let won: HashSet<String> = update_cases(&mut tx, rows).await?.into_iter().collect();
        let written: Vec<bool> = chunk
            .iter()
            .map(|c| won.contains(&c.case.number.to_string()))
            .collect();
        let winners: Vec<Change> = chunk
            .into_iter()
            .zip(&written)
            .filter_map(|(c, won)| won.then_some(c))
            .collect();
        write_change_rows(&mut tx, &winners).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(written)
    }

    // ------------------------------------------------------------- reads

    pub(crate) async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        let mut qb = select_cases();
        qb.push(" WHERE number = ").push_bind(number.to_string());
        Ok(self.query_cases(qb).await?.into_iter().next())
    }

    pub(crate) async fn find_by_receipt_code(
        &self,
        code: &str,
    ) -> Result<Option<Case>, StoreError> {
        let mut qb = select_cases();
        qb.push(" WHERE verification_code = ")
            .push_bind(code.to_owned())
            .push(" ORDER BY number DESC LIMIT 1");
        Ok(self.query_cases(qb).await?.into_iter().next())
    }

    /// Search option 2 (DOMAIN.md §7), filtered and ordered as
    /// [`SearchFilter::matches`] and `search_order` say.
    pub(crate) async fn search(&self, f: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        let (start, end) = f.submitted_range();
        let mut qb = select_cases();
        qb.push(" WHERE submitted_at >= ")
            .push_bind(micros(start))
            .push(" AND submitted_at < ")
            .push_bind(micros(end));
        match &f.scope {
            Scope::Authorization(a) => {
                qb.push(" AND authorization_id = ")
                    .push_bind(a.as_str().to_owned());
            }
            Scope::Office(o) => {
                qb.push(" AND office = ").push_bind(o.code());
            }
            Scope::Everything => {}
        }
        if let Some(status) = f.status {
            let states = CaseState::ALL.into_iter().filter(|s| s.status() == status);
            push_substatus_in(&mut qb, states);
        }
        if let Some(s) = f.substatus {
            qb.push(" AND substatus = ")
                .push_bind(s.substatus_code().to_owned());
        }
        if let Some(t) = f.case_type {
            qb.push(" AND case_type = ")
                .push_bind(t.as_str().to_owned());
        }
        if let Some(m) = &f.materia {
            qb.push(" AND materia = ").push_bind(m.clone());
        }
        if let Some(u) = &f.created_by {
            qb.push(" AND submitted_by = ")
                .push_bind(u.as_str().to_owned());
        }
        if let Some(c) = f.after {
            let at = micros(c.submitted_at);
            qb.push(" AND (submitted_at < ")
                .push_bind(at)
                .push(" OR (submitted_at = ")
                .push_bind(at)
                .push(" AND number < ")
                .push_bind(c.number.to_string())
                .push("))");
        }
        let limit = i64::try_from(f.limit.saturating_add(1)).unwrap_or(i64::MAX);
        qb.push(" ORDER BY submitted_at DESC, number DESC LIMIT ")
            .push_bind(limit);
        self.query_cases(qb).await
    }

    /// The office's work queue (DOMAIN.md §7), in `queue_order`.
    pub(crate) async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        let mut qb = select_cases();
        qb.push(" WHERE office = ").push_bind(office.code());
        push_substatus_in(&mut qb, QUEUE_SUBSTATES.into_iter().map(CaseState::Open));
        qb.push(" ORDER BY affects_current_period DESC, submitted_at ASC, number ASC");
        self.query_cases(qb).await
    }

    /// The sweep's read: the waiting cases and, in one query per table
    /// (a sub-select, not `IN` lists of numbers), their other rows; all
    /// in one snapshot.
    pub(crate) async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        let waiting = CaseState::Open(OpenSubstatus::InformationRequested)
            .substatus_code()
            .to_owned();
        let select = |head: &str, order_by: &str| {
            let mut qb = QueryBuilder::<Db>::new(head);
            qb.push(" WHERE case_number IN (SELECT number FROM cases WHERE substatus = ")
                .push_bind(waiting.clone())
                .push(") ORDER BY case_number, ")
                .push(order_by);
            qb
        };
        let mut tx = self.read_tx().await?;
        let mut cases = select_cases();
        cases
            .push(" WHERE substatus = ")
            .push_bind(waiting.clone())
            .push(" ORDER BY number ASC");
        let rows: Vec<CaseRow> = fetch_rows(&mut tx, cases).await?;
        let history: Vec<HistoryRow> = fetch_rows(
            &mut tx,
            select(&format!("SELECT {HISTORY_COLUMNS} FROM history"), "seq"),
        )
        .await?;
        let attachments: Vec<AttachmentRow> = fetch_rows(
            &mut tx,
            select(
                &format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments"),
                "id",
            ),
        )
        .await?;
        let surveys: Vec<SurveyRow> = fetch_rows(
            &mut tx,
            select(
                &format!("SELECT {SURVEY_COLUMNS} FROM surveys"),
                "case_number",
            ),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        assemble_all(rows, history, attachments, surveys)
    }

    pub(crate) async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError> {
        let bytes: Option<Vec<u8>> = sqlx::query_scalar(sql::GET_CONTENT)
            .bind(number.to_string())
            .bind(i64::from(attachment))
            .fetch_optional(&self.read)
            .await
            .map_err(db_error)?;
        Ok(bytes.map(Arc::from))
    }

    pub(crate) async fn put_content(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Arc<[u8]>,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::PUT_CONTENT)
            .bind(number.to_string())
            .bind(i64::from(attachment))
            .bind(content.to_vec())
            .execute(&self.write)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub(crate) async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql::COUNT_BY_SUBSTATUS)
            .fetch_all(&self.read)
            .await
            .map_err(db_error)?;
        let mut counts: HashMap<CaseState, u64> = HashMap::new();
        for (code, n) in rows {
            let Some(state) = CaseState::from_substatus_code(&code) else {
                let case: Option<String> = sqlx::query_scalar(sql::ANY_CASE_WITH_SUBSTATUS)
                    .bind(code.clone())
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db_error)?;
                return Err(corrupt(
                    &case.unwrap_or_default(),
                    format!("unreadable substatus {code:?}"),
                ));
            };
            counts.insert(state, u64::try_from(n).unwrap_or(0));
        }
        Ok(CaseState::ALL
            .into_iter()
            .map(|s| (s, counts.get(&s).copied().unwrap_or(0)))
            .collect())
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING)
            .execute(&self.read)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    // ------------------------------------------------------------ outbox

    /// Claims due messages in one statement inside a write transaction
    /// (SQLite: the one writer serialises claims; PostgreSQL: `FOR UPDATE
    /// SKIP LOCKED` lets concurrent relays take disjoint batches).
    pub(crate) async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut tx = self.write_tx().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(OUTBOX_CLAIM)
            .bind(micros(now))
            .bind(micros(until))
            .bind(sql_limit(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let mut claimed = rows
            .into_iter()
            .map(OutboxRow::into_message)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order.
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    pub(crate) async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_list(sql::OUTBOX_PENDING, limit).await
    }

    pub(crate) async fn list_dead(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_list(sql::OUTBOX_DEAD, limit).await
    }

    async fn outbox_list(
        &self,
        statement: &'static str,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(statement)
            .bind(sql_limit(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(OutboxRow::into_message).collect()
    }

    /// Every notification ever written, in emission order (tests, audits).
    pub(crate) async fn outbox_snapshot(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(sql::OUTBOX_ALL)
            .fetch_all(&self.read)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(OutboxRow::into_message).collect()
    }

    pub(crate) async fn mark_delivered(
        &self,
        id: u64,
        recipient: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // An id beyond the SQL range names no message: nothing to do, as in
        // the in-memory outbox.
        let Ok(id) = i64::try_from(id) else {
            return Ok(());
        };
        sqlx::query(sql::OUTBOX_DELIVERED)
            .bind(id)
            .bind(recipient.to_owned())
            .bind(micros(at))
            .execute(&self.write)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub(crate) async fn record_failure(
        &self,
        id: u64,
        failure: &DeliveryFailure,
    ) -> Result<(), StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(());
        };
        sqlx::query(sql::OUTBOX_FAILED)
            .bind(id)
            .bind(failure.recipient.clone())
            .bind(failure.error.clone())
            .bind(failure.retry_at.map(micros))
            .bind(failure.retry_at.is_none())
            .execute(&self.write)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub(crate) async fn retry(&self, id: u64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let done = sqlx::query(sql::OUTBOX_RETRY)
            .bind(id)
            .bind(micros(now))
            .execute(&self.write)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn backlog(&self) -> Result<u64, StoreError> {
        self.count(sql::OUTBOX_BACKLOG).await
    }

    pub(crate) async fn dead_count(&self) -> Result<u64, StoreError> {
        self.count(sql::OUTBOX_DEAD_COUNT).await
    }

    async fn count(&self, statement: &'static str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(statement)
            .fetch_one(&self.read)
            .await
            .map_err(db_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    // ---------------------------------------------------------- contacts

    pub(crate) async fn contact(
        &self,
        authorization: &AuthorizationId,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(sql::GET_CONTACT)
            .bind(authorization.as_str().to_owned())
            .fetch_optional(&self.read)
            .await
            .map_err(db_error)
    }

    pub(crate) async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::SET_CONTACT)
            .bind(authorization.as_str().to_owned())
            .bind(email.to_owned())
            .execute(&self.write)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    // ----------------------------------------------------------- loading

    /// Runs a `cases` query and loads each case's history, attachments and
    /// survey, all in one read snapshot.
    async fn query_cases(&self, mut qb: QueryBuilder<Db>) -> Result<Vec<Case>, StoreError> {
        let mut tx = self.read_tx().await?;
        let rows: Vec<CaseRow> = qb
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let cases = load(&mut tx, rows).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(cases)
    }
}

/// A row limit as SQL binds it.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn select_cases() -> QueryBuilder<Db> {
    QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases"))
}

fn push_substatus_in(qb: &mut QueryBuilder<Db>, states: impl Iterator<Item = CaseState>) {
    qb.push(" AND substatus IN (");
    let mut list = qb.separated(", ");
    for s in states {
        list.push_bind(s.substatus_code().to_owned());
    }
    qb.push(")");
}

/// Completes case rows with their other rows, keeping the rows' order.
async fn load(conn: &mut Conn, rows: Vec<CaseRow>) -> Result<Vec<Case>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<String> = rows.iter().map(|r| r.number.clone()).collect();
    let mut history: Vec<HistoryRow> = Vec::new();
    let mut attachments: Vec<AttachmentRow> = Vec::new();
    let mut surveys: Vec<SurveyRow> = Vec::new();
    for chunk in numbers.chunks(IN_LIST_CHUNK) {
        history.extend(
            fetch_in::<HistoryRow>(
                conn,
                &format!("SELECT {HISTORY_COLUMNS} FROM history"),
                chunk,
                "seq",
            )
            .await?,
        );
        attachments.extend(
            fetch_in::<AttachmentRow>(
                conn,
                &format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments"),
                chunk,
                "id",
            )
            .await?,
        );
        surveys.extend(
            fetch_in::<SurveyRow>(
                conn,
                &format!("SELECT {SURVEY_COLUMNS} FROM surveys"),
                chunk,
                "case_number",
            )
            .await?,
        );
    }
    assemble_all(rows, history, attachments, surveys)
}

/// Case rows with their other rows (each list in its table's order per
/// case), in the case rows' order.
fn assemble_all(
    rows: Vec<CaseRow>,
    history: Vec<HistoryRow>,
    attachments: Vec<AttachmentRow>,
    surveys: Vec<SurveyRow>,
) -> Result<Vec<Case>, StoreError> {
    let mut history_of: HashMap<String, Vec<HistoryRow>> = HashMap::new();
    for h in history {
        history_of.entry(h.case_number.clone()).or_default().push(h);
    }
    let mut attachments_of: HashMap<String, Vec<AttachmentRow>> = HashMap::new();
    for a in attachments {
        attachments_of
            .entry(a.case_number.clone())
            .or_default()
            .push(a);
    }
    let mut survey_of: HashMap<String, SurveyRow> = surveys
        .into_iter()
        .map(|s| (s.case_number.clone(), s))
        .collect();
    rows.into_iter()
        .map(|r| {
            let n = r.number.clone();
            assemble(
                r,
                history_of.remove(&n).unwrap_or_default(),
                attachments_of.remove(&n).unwrap_or_default(),
                survey_of.remove(&n),
            )
        })
        .collect()
}

/// Every row a built query returns.
async fn fetch_rows<T>(conn: &mut Conn, mut qb: QueryBuilder<Db>) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, DbRow> + Send + Unpin,
{
    qb.build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)
}

/// `head WHERE case_number IN (…) ORDER BY case_number, order_by`.
async fn fetch_in<T>(
    conn: &mut Conn,
    head: &str,
    numbers: &[String],
    order_by: &str,
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, DbRow> + Send + Unpin,
{
    let mut qb = QueryBuilder::<Db>::new(head);
    qb.push(" WHERE case_number IN (");
    let mut list = qb.separated(", ");
    for n in numbers {
        list.push_bind(n.clone());
    }
    qb.push(") ORDER BY case_number, ").push(order_by);
    fetch_rows(conn, qb).await
}

/// The error of a year whose numbers ran out (DOMAIN.md §4: eight digits).
fn exhausted(year: i32) -> StoreError {
    StoreError::backend(format!("case numbers of {year} exhausted"))
}

fn expected_version(change: &Change) -> Result<i64, StoreError> {
    i64::try_from(change.expected_version).map_err(|_| {
        StoreError::backend(format!(
            "expected version of case {} exceeds the SQL range",
            change.case.number
        ))
    })
}

/// What a written change adds beside its case row: new history entries,
/// attachments with their bytes, the survey, notifications (in order).
async fn write_change_rows(conn: &mut Conn, changes: &[Change]) -> Result<(), StoreError> {
    let history: Vec<HistoryRow> = changes
        .iter()
        .flat_map(|change| {
            let case = &change.case;
            let first_new = case.history.len().saturating_sub(change.new_history);
            case.history[first_new..]
                .iter()
                .enumerate()
                .map(move |(i, e)| HistoryRow::from_entry(&case.number, first_new + i, e))
        })
        .collect();
    insert_history_rows(conn, history).await?;
    for change in changes {
        let number = change.case.number;
        insert_attachments(conn, &number, &change.new_attachments).await?;
        // The core only ever adds a survey (DOMAIN.md §5: once, on a resolved
        // case) and never removes one, so a case without a survey has no row
        // to delete: one statement less on every write.
        if let Some(survey) = &change.case.survey {
            upsert_survey(conn, SurveyRow::from_survey(&number, survey)).await?;
        }
    }
    insert_outbox(conn, outbox_rows(changes.iter().map(|c| &c.notifications))).await
}

/// Rows in multi-row `INSERT`s of at most [`INSERT_ROWS_CHUNK`] rows:
/// `head` names the columns, `push` binds one row's values in their order.
async fn insert_rows<T: Send>(
    conn: &mut Conn,
    head: &'static str,
    rows: Vec<T>,
    push: fn(&mut Separated<'_, Db, &'static str>, T),
) -> Result<(), StoreError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut qb = QueryBuilder::<Db>::new(head);
        qb.push_values(rows.by_ref().take(INSERT_ROWS_CHUNK), |mut b, row| {
            push(&mut b, row)
        });
        qb.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// History rows, in their order.
async fn insert_history_rows(conn: &mut Conn, rows: Vec<HistoryRow>) -> Result<(), StoreError> {
    insert_rows(conn, sql::INSERT_HISTORIES_HEAD, rows, |b, h| {
        b.push_bind(h.case_number)
            .push_bind(h.seq)
            .push_bind(h.at)
            .push_bind(h.event)
            .push_bind(h.substatus)
            .push_bind(h.actor_role)
            .push_bind(h.actor_id)
            .push_bind(h.observation)
            .push_bind(h.visibility);
    })
    .await
}

async fn insert_attachments(
    conn: &mut Conn,
    number: &CaseNumber,
    accepted: &[AcceptedAttachment],
) -> Result<(), StoreError> {
    for (a, content) in attachment_rows(number, accepted)? {
        let id = a.id;
        sqlx::query(sql::INSERT_ATTACHMENT)
            .bind(a.case_number.clone())
            .bind(a.id)
            .bind(a.document_type)
            .bind(a.title)
            .bind(a.file_name)
            .bind(a.media_type)
            .bind(a.size)
            .bind(a.sha256)
            .bind(a.added_at)
            .bind(a.added_by_role)
            .bind(a.added_by_id)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        sqlx::query(sql::INSERT_CONTENT)
            .bind(a.case_number)
            .bind(id)
            .bind(content.to_vec())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn upsert_survey(conn: &mut Conn, s: SurveyRow) -> Result<(), StoreError> {
    sqlx::query(sql::UPSERT_SURVEY)
        .bind(s.case_number)
        .bind(s.rating)
        .bind(s.comment)
        .bind(s.at)
        .bind(s.by_user)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The outbox rows of some writes' notifications, in emission order.
fn outbox_rows<'a>(lists: impl Iterator<Item = &'a Vec<Notification>>) -> Vec<NewOutboxRow> {
    lists
        .flatten()
        .map(NewOutboxRow::from_notification)
        .collect()
}

/// Notifications as pending outbox rows, in emission order (ids ascend in
/// `VALUES` order).
async fn insert_outbox(conn: &mut Conn, rows: Vec<NewOutboxRow>) -> Result<(), StoreError> {
    insert_rows(conn, sql::INSERT_OUTBOXES_HEAD, rows, |b, o| {
        b.push_bind(o.kind)
            .push_bind(o.case_number)
            .push_bind(o.authorization_id)
            .push_bind(o.at)
            .push_bind(o.deadline)
            .push_bind(o.message_text)
            .push_bind(false)
            .push_bind(0_i64);
    })
    .await
}
