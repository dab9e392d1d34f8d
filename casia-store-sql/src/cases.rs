//! The case repository: reads and the writes of the core's
//! [`CaseRepository`] port. Every read is one statement: each case comes
//! as one JSON record — its row with its history, attachments and survey
//! aggregated (`sql::case_record`) — and a page (a case by number, a search
//! page) as one JSON document of records, so it costs one round trip, one
//! value handed over by the driver, and is read in one snapshot (a single
//! statement sees one, on both databases). Writes go through the group
//! commit (`writes.rs`); the sweep's closures are written in chunks of
//! their own.

use bytes::Bytes;
use std::collections::HashMap;

use async_trait::async_trait;

use casia_core::command::Change;
use casia_core::idempotency::{IdempotencyClaim, Reservation};
use casia_core::ids::{CaseNumber, OfficeCode};
use casia_core::ports::{AttachmentContentStore, CaseRepository, StoredContent};
use casia_core::search::{QUEUE_SUBSTATES, Scope, SearchFilter};
use casia_core::status::{CaseState, OpenSubstatus};
use casia_core::submission::{CaseDraft, NewCase};
use casia_core::{Case, StoreError};
use chrono::{DateTime, Utc};

use crate::SqlStore;
use crate::columns::{Column, Kind, RowType, Statement};
use crate::rows::{AttachmentRow, CaseRow, HistoryRow, SurveyRow, assemble, corrupt, micros};
use crate::sql;
use crate::writes::{CASE_CHUNK, WriteRows, write_rows};

/// One case as a read returns it: the `cases` row, then its history,
/// attachments and survey (`sql::case_record`).
struct CaseRecord {
    row: CaseRow,
    history: Vec<HistoryRow>,
    attachments: Vec<AttachmentRow>,
    survey: Vec<SurveyRow>,
}

impl<'de> serde::Deserialize<'de> for CaseRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CaseRecord;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a case record as an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<CaseRecord, A::Error> {
                use serde::de::Error;
                let row = CaseRow::from_json_seq(&mut seq)?;
                let missing = |what: &str| A::Error::custom(format!("no {what}"));
                Ok(CaseRecord {
                    row,
                    history: seq.next_element()?.ok_or_else(|| missing("history"))?,
                    attachments: seq.next_element()?.ok_or_else(|| missing("attachments"))?,
                    survey: seq.next_element()?.ok_or_else(|| missing("survey"))?,
                })
            }
        }
        d.deserialize_seq(V)
    }
}

impl CaseRecord {
    fn into_case(mut self) -> Result<Case, StoreError> {
        // The aggregates come in no particular order (`sql::json_rows`).
        self.history.sort_unstable_by_key(|h| h.seq);
        self.attachments.sort_unstable_by_key(|a| a.id);
        assemble(
            self.row,
            self.history,
            self.attachments,
            self.survey.into_iter().next(),
        )
    }
}

/// The case number at the start of a record, to name a record that cannot
/// be read.
fn record_case(json: &str) -> String {
    json.get(2..15).unwrap_or_default().to_owned()
}

/// A case from one record's JSON.
fn case_of(json: &str) -> Result<Case, StoreError> {
    serde_json::from_str::<CaseRecord>(json)
        .map_err(|e| corrupt(&record_case(json), format!("unreadable case record: {e}")))?
        .into_case()
}

/// A row limit as SQL binds it.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// `AND substatus IN ('a', 'b')`, as literals: SQLite matches bound
/// values against the partial indexes' predicates (`substatus IN …`) and
/// then re-prepares the statement whenever they are bound again — every
/// search (issue 15, docs/PERFORMANCE.md).
fn push_substatus_in(s: &mut Statement, states: impl Iterator<Item = CaseState>) {
    let literals: Vec<String> = states.map(substatus_literal).collect();
    s.push(" AND substatus IN (")
        .push(&literals.join(", "))
        .push(")");
}

/// `'code'`: a substatus as an SQL literal, for the queries the partial
/// indexes serve (a bound parameter would not match their predicates, and
/// costs SQLite a re-prepare on each binding). The codes are the core's
/// constants, `[a-z_]` only (a unit test).
fn substatus_literal(state: CaseState) -> String {
    format!("'{}'", state.substatus_code())
}

impl SqlStore {
    /// Runs a read of case records (`sql::case_records`), one per row, of
    /// any number of rows.
    async fn read_records(&self, statement: Statement) -> Result<Vec<Case>, StoreError> {
        let rows: Vec<String> = self.engine.bulk_reader().await?.column(statement).await?;
        rows.iter().map(|json| case_of(json)).collect()
    }

    /// Runs a read of one case document (`sql::case_document`), closing it.
    async fn read_document(&self, mut statement: Statement) -> Result<Vec<Case>, StoreError> {
        statement.push(sql::END_CASE_DOCUMENT);
        let json: String = self.engine.reader().await?.one(statement).await?;
        let records: Vec<CaseRecord> = match serde_json::from_str(&json) {
            Ok(records) => records,
            // Find the record that cannot be read, to name its case.
            Err(e) => {
                let raw: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&json)
                    .map_err(|_| StoreError::backend(format!("unreadable case records: {e}")))?;
                for record in &raw {
                    case_of(record.get())?;
                }
                return Err(StoreError::backend(format!("unreadable case records: {e}")));
            }
        };
        records.into_iter().map(CaseRecord::into_case).collect()
    }

    /// One transaction of the sweep's writes (see [`CaseRepository::update_many`]).
    async fn write_chunk(&self, chunk: Vec<Change>) -> Result<Vec<bool>, StoreError> {
        let writes = chunk
            .iter()
            .map(WriteRows::of_change)
            .collect::<Result<Vec<_>, _>>()?;
        let mut session = self.engine.transaction().await?;
        let written = write_rows(&mut *session, self.engine.backend(), writes).await?;
        session.commit().await?;
        Ok(written)
    }
}

#[async_trait]
impl CaseRepository for SqlStore {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        let mut s = sql::case_document(self.engine.backend());
        s.push(" WHERE number = ").push_bind(number.to_string());
        Ok(self.read_document(s).await?.into_iter().next())
    }

    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        self.writes.create(&self.engine, draft).await
    }

    async fn update(&self, change: &Change) -> Result<(), StoreError> {
        self.writes.change(&self.engine, change).await
    }

    /// The sweep's closures: chunks of 500 changes (`CASE_CHUNK`), each its own
    /// transaction on its own connection, all at once (PostgreSQL works
    /// them in parallel; SQLite's one writer takes them in turn). Losers
    /// write nothing.
    async fn update_many(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError> {
        let mut numbers = std::collections::HashSet::with_capacity(changes.len());
        if !changes.iter().all(|c| numbers.insert(c.case.number)) {
            return Err(StoreError::backend(
                "update_many takes each case at most once",
            ));
        }
        let writers: Vec<_> = changes
            .chunks(CASE_CHUNK)
            .map(|chunk| {
                let store = self.clone();
                let chunk = chunk.to_vec();
                tokio::spawn(async move { store.write_chunk(chunk).await })
            })
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

    /// Search option 2 (DOMAIN.md §7), filtered and ordered as
    /// [`SearchFilter::matches`] and `search_order` say.
    async fn search(&self, f: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        let (start, end) = f.submitted_range();
        let mut s = sql::case_document(self.engine.backend());
        s.push(" WHERE submitted_at >= ")
            .push_bind(micros(start))
            .push(" AND submitted_at < ")
            .push_bind(micros(end));
        match &f.scope {
            Scope::Authorization(a) => {
                s.push(" AND authorization_id = ")
                    .push_bind(a.as_str().to_owned());
            }
            Scope::Office(o) => {
                s.push(" AND office = ").push_bind(o.code());
            }
            Scope::Everything => {}
        }
        if let Some(status) = f.status {
            let states = CaseState::ALL.into_iter().filter(|s| s.status() == status);
            push_substatus_in(&mut s, states);
        }
        if let Some(state) = f.substatus {
            s.push(" AND substatus = ").push(&substatus_literal(state));
        }
        if let Some(t) = f.case_type {
            s.push(" AND case_type = ").push_bind(t.as_str().to_owned());
        }
        if let Some(m) = &f.materia {
            s.push(" AND materia = ").push_bind(m.clone());
        }
        if let Some(u) = &f.created_by {
            s.push(" AND submitted_by = ")
                .push_bind(u.as_str().to_owned());
        }
        if let Some(c) = f.after {
            let at = micros(c.submitted_at);
            s.push(" AND (submitted_at < ")
                .push_bind(at)
                .push(" OR (submitted_at = ")
                .push_bind(at)
                .push(" AND number < ")
                .push_bind(c.number.to_string())
                .push("))");
        }
        // The limit as a literal: a bound one makes SQLite re-plan on each
        // new value (the page sizes are few).
        s.push(" ORDER BY submitted_at DESC, number DESC LIMIT ")
            .push(&sql_limit(f.limit.saturating_add(1)).to_string());
        // The document's order is not the query's: put it back.
        let mut page = self.read_document(s).await?;
        page.sort_by_key(|c| std::cmp::Reverse((c.submitted_at, c.number)));
        Ok(page)
    }

    /// The office's work queue (DOMAIN.md §7), in `queue_order`.
    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        let mut s = sql::case_records(self.engine.backend());
        s.push(" WHERE office = ").push_bind(office.code());
        push_substatus_in(&mut s, QUEUE_SUBSTATES.into_iter().map(CaseState::Open));
        s.push(" ORDER BY affects_current_period DESC, submitted_at ASC, number ASC");
        self.read_records(s).await
    }

    /// The sweep's read: every case waiting for information, with its rows,
    /// in one statement.
    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        let mut s = sql::case_records(self.engine.backend());
        s.push(" WHERE substatus = ")
            .push(&substatus_literal(CaseState::Open(
                OpenSubstatus::InformationRequested,
            )))
            .push(" ORDER BY number ASC");
        self.read_records(s).await
    }

    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError> {
        let mut s = sql::case_document(self.engine.backend());
        s.push(" WHERE verification_code = ")
            .push_bind(code.to_owned())
            .push(" ORDER BY number DESC LIMIT 1");
        Ok(self.read_document(s).await?.into_iter().next())
    }

    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Bytes>, StoreError> {
        AttachmentContentStore::get(self, number, attachment).await
    }

    async fn attachment_hashes(&self) -> Result<Vec<String>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        session.column(Statement::new(sql::ATTACHMENT_HASHES)).await
    }

    async fn stored_contents(
        &self,
        after: Option<(CaseNumber, u32)>,
        limit: usize,
    ) -> Result<Vec<StoredContent>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (after_case, after_id) =
            after.map_or((String::new(), 0), |(n, id)| (n.to_string(), i64::from(id)));
        let rows = session
            .fetch(
                Statement::new(sql::STORED_CONTENTS)
                    .bind(after_case)
                    .bind(after_id)
                    .bind(limit),
                &[Kind::Text, Kind::Int, Kind::Text, Kind::Bytes],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let (Some(number), Some(id), Some(sha256), Some(bytes)) = (
                    row.next().and_then(String::from_value),
                    row.next().and_then(i64::from_value),
                    row.next().and_then(String::from_value),
                    row.next().and_then(Vec::<u8>::from_value),
                ) else {
                    return Err(StoreError::backend("a content row of unexpected shape"));
                };
                let parsed = CaseNumber::parse(&number)
                    .map_err(|e| corrupt(&number, format!("content row: {e}")))?;
                let attachment = u32::try_from(id)
                    .map_err(|_| corrupt(&number, format!("attachment id {id}")))?;
                Ok(StoredContent {
                    number: parsed,
                    attachment,
                    sha256,
                    bytes: Bytes::from(bytes),
                })
            })
            .collect()
    }

    async fn stored_content_hashes(&self) -> Result<Vec<String>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        session
            .column(Statement::new(sql::STORED_CONTENT_HASHES))
            .await
    }

    async fn drop_stored_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<(), StoreError> {
        let mut session = self.engine.writer().await?;
        session
            .execute(
                Statement::new(sql::DROP_CONTENT)
                    .bind(number.to_string())
                    .bind(i64::from(attachment)),
            )
            .await?;
        Ok(())
    }

    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        let mut session = self.engine.reader().await?;
        let rows = session
            .fetch(
                Statement::new(sql::COUNT_BY_SUBSTATUS),
                &[Kind::Text, Kind::Int],
            )
            .await?;
        let mut counts: HashMap<CaseState, u64> = HashMap::new();
        for row in rows {
            let mut row = row.into_iter();
            let (Some(code), Some(n)) = (
                row.next().and_then(String::from_value),
                row.next().and_then(i64::from_value),
            ) else {
                return Err(StoreError::backend("a count row of unexpected shape"));
            };
            let Some(state) = CaseState::from_substatus_code(&code) else {
                let case: Option<String> = session
                    .optional(Statement::new(sql::ANY_CASE_WITH_SUBSTATUS).bind(code.clone()))
                    .await?;
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

    async fn ping(&self) -> Result<(), StoreError> {
        let mut session = self.engine.reader().await?;
        session.execute(Statement::new(sql::PING)).await?;
        Ok(())
    }

    async fn reserve_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        self.reserve_key(claim, now).await
    }

    async fn release_idempotency_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        self.release_key(claim).await
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.purge_keys(now).await
    }
}

#[async_trait]
impl AttachmentContentStore for SqlStore {
    async fn put(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Bytes,
    ) -> Result<(), StoreError> {
        let mut session = self.engine.writer().await?;
        session
            .execute(
                Statement::new(sql::PUT_CONTENT)
                    .bind(number.to_string())
                    .bind(i64::from(attachment))
                    .bind(content.to_vec()),
            )
            .await?;
        Ok(())
    }

    async fn get(&self, number: CaseNumber, attachment: u32) -> Result<Option<Bytes>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        let bytes: Option<Vec<u8>> = session
            .optional(
                Statement::new(sql::GET_CONTENT)
                    .bind(number.to_string())
                    .bind(i64::from(attachment)),
            )
            .await?;
        Ok(bytes.map(Bytes::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substatus_literals_are_plain_codes() {
        for state in CaseState::ALL {
            let literal = substatus_literal(state);
            let code = &literal[1..literal.len() - 1];
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{literal}"
            );
        }
    }

    /// The partial indexes' predicates (migration 0003) name the same
    /// codes as the queries that use them.
    #[test]
    fn the_partial_indexes_name_the_queue_and_sweep_substatuses() {
        let migration = include_str!("../migrations/sqlite/0003_partial_indexes.sql");
        let queue: Vec<String> = QUEUE_SUBSTATES
            .into_iter()
            .map(|q| substatus_literal(CaseState::Open(q)))
            .collect();
        assert!(migration.contains(&format!("substatus IN ({})", queue.join(", "))));
        let waiting = substatus_literal(CaseState::Open(OpenSubstatus::InformationRequested));
        assert!(migration.contains(&format!("substatus = {waiting}")));
        assert_eq!(
            migration,
            include_str!("../migrations/postgres/0003_partial_indexes.sql")
        );
    }
}
