//! SQLite reads of bounded size — a case, a search page, a receipt code,
//! a count — on rusqlite, in the calling thread (issue 15).
//!
//! sqlx-sqlite runs each connection on a worker thread of its own and
//! hands every statement and every row across threads; under load a search
//! page spent more CPU waking threads than in SQLite (profile in
//! docs/PERFORMANCE.md). A read that touches a handful of rows takes tens
//! of microseconds, less than two thread hand-offs, so it runs right where
//! it is asked for, on a connection from a small idle list. Reads of
//! unbounded size (the work queue, the sweep, the outbox, attachment bytes)
//! stay on sqlx's reader pool, which never blocks the runtime.
//!
//! WAL mode lets these readers run beside the one writer; each statement
//! reads one snapshot. The connections are `query_only`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};

use casia_core::StoreError;

use crate::columns::{Kind, Statement, Value, sqlite_text};
use crate::engine::Session;

/// Idle connections kept for reuse; more are opened when all are busy (at
/// most one per thread reading at once) and closed when returned beyond this.
const MAX_IDLE: usize = 8;

/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

/// The read connections of one SQLite file.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

fn read_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::unavailable(e)
        }
        _ => StoreError::backend_caused("query failed", e),
    }
}

impl Readers {
    /// Readers of the file at `path`; one connection is opened now, so a
    /// file that cannot be read fails here.
    pub(crate) fn open(path: PathBuf, busy_timeout: Duration) -> Result<Readers, StoreError> {
        let readers = Readers {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
        };
        let first = readers.connect()?;
        readers.give(first);
        Ok(readers)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(read_error)?;
        c.busy_timeout(self.busy_timeout).map_err(read_error)?;
        c.pragma_update(None, "query_only", true)
            .map_err(read_error)?;
        // Plans that do not depend on bound values: otherwise SQLite
        // re-prepares a statement whenever a value it peeked at while
        // planning (a `LIMIT`, a term compared with a partial index's
        // predicate) is bound again — on every search (issue 15).
        c.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(read_error)?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(c)
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn give(&self, c: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(c);
        }
    }

    /// Closes the idle connections (the store is closing).
    pub(crate) fn close(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// A session on an idle connection.
    pub(crate) fn session(self: &Arc<Self>) -> Result<ReaderSession, StoreError> {
        Ok(ReaderSession {
            readers: Arc::clone(self),
            conn: Some(self.take()?),
        })
    }
}

/// One read connection, returned to the idle list when dropped.
pub(crate) struct ReaderSession {
    readers: Arc<Readers>,
    conn: Option<Connection>,
}

impl Drop for ReaderSession {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.readers.give(c);
        }
    }
}

fn to_sql(v: &Value) -> Result<ToSqlOutput<'_>, StoreError> {
    Ok(match v {
        Value::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        Value::Int(Some(i)) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
        Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
        Value::Bytes(Some(b)) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Text(None) | Value::Int(None) | Value::Bytes(None) => {
            ToSqlOutput::Owned(SqlValue::Null)
        }
        Value::Texts(_) | Value::Ints(_) | Value::Bools(_) => {
            return Err(StoreError::backend("SQLite has no array parameters"));
        }
    })
}

fn decode(row: &rusqlite::Row<'_>, kinds: &[Kind]) -> rusqlite::Result<Vec<Value>> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Text => Value::Text(Some(row.get(i)?)),
                Kind::OptText => Value::Text(row.get(i)?),
                Kind::Int => Value::Int(Some(row.get(i)?)),
                Kind::OptInt => Value::Int(row.get(i)?),
                Kind::Bool => Value::Bool(row.get(i)?),
                Kind::Bytes => Value::Bytes(Some(row.get(i)?)),
            })
        })
        .collect()
}

impl ReaderSession {
    fn connection(&self) -> Result<&Connection, StoreError> {
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::backend("a read session used after its end"))
    }

    /// A prepared statement with its values bound: by position when the
    /// placeholders became `?` (`sqlite_text`), else each `$N` by name
    /// (SQLite numbers named parameters in order of first appearance, not
    /// by `N`).
    fn prepare<'c>(
        conn: &'c Connection,
        s: &Statement,
    ) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
        let text = sqlite_text(&s.sql);
        let positional = matches!(text, std::borrow::Cow::Owned(_));
        let mut stmt = conn.prepare_cached(&text).map_err(read_error)?;
        for (n, v) in s.values.iter().enumerate() {
            let index = if positional {
                n + 1
            } else {
                let name = format!("${}", n + 1);
                stmt.parameter_index(&name)
                    .map_err(read_error)?
                    .ok_or_else(|| StoreError::backend(format!("no parameter {name}")))?
            };
            stmt.raw_bind_parameter(index, to_sql(v)?)
                .map_err(read_error)?;
        }
        Ok(stmt)
    }
}

#[async_trait]
impl Session for ReaderSession {
    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        let conn = self.connection()?;
        let mut stmt = ReaderSession::prepare(conn, &statement)?;
        let mut rows = stmt.raw_query();
        while rows.next().map_err(read_error)?.is_some() {}
        Ok(0)
    }

    async fn fetch(
        &mut self,
        statement: Statement,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let conn = self.connection()?;
        let mut stmt = ReaderSession::prepare(conn, &statement)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(read_error)? {
            out.push(decode(row, kinds).map_err(read_error)?);
        }
        Ok(out)
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}
