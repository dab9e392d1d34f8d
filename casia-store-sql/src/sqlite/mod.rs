//! SQLite, the embedded default (`casia.db`): WAL, a busy timeout and
//! foreign keys on every connection; writes take the write lock up front
//! (`BEGIN IMMEDIATE`) and go through one writer connection, since SQLite
//! has one writer. This module binds values, decodes kinds and owns the
//! pools; the statements are shared.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection, SqlitePool, Transaction};

use casia_core::StoreError;

mod reader;

use crate::columns::{Kind, Statement, Value, sqlite_text};
use crate::engine::{Engine, Session, decode_row};
use crate::{Backend, SqlOptions};

/// The migrations, in order (`migrations/sqlite`).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../../migrations/sqlite/0001_schema.sql"),
    ),
    (
        2,
        "outbox delivery",
        include_str!("../../migrations/sqlite/0002_outbox_delivery.sql"),
    ),
    (
        3,
        "partial indexes",
        include_str!("../../migrations/sqlite/0003_partial_indexes.sql"),
    ),
    (
        4,
        "idempotency keys",
        include_str!("../../migrations/sqlite/0004_idempotency_keys.sql"),
    ),
];

/// A deferred transaction would upgrade to a write lock at its first write
/// and could fail with `SQLITE_BUSY` then; taking it up front makes writers
/// queue on the busy timeout instead.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// `SQLITE_BUSY_SNAPSHOT`: a read snapshot went stale under a writer — a
/// lost race, retried by the service like a version conflict.
const SQLITE_BUSY_SNAPSHOT: &str = "517";

/// `SQLITE_BUSY`: the busy timeout ran out under other writers, the
/// database cannot serve now. (`SQLITE_CANTOPEN` is a wrong path, not a
/// passing outage: a backend error.)
const SQLITE_BUSY: &str = "5";

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        match d.code().as_deref() {
            Some(SQLITE_BUSY_SNAPSHOT) => return StoreError::VersionConflict,
            Some(SQLITE_BUSY) => return StoreError::unavailable(e),
            _ => {}
        }
    }
    crate::classify(e)
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

fn bind(q: Query<'_>, v: Value) -> Result<Query<'_>, StoreError> {
    Ok(match v {
        Value::Text(t) => q.bind(t),
        Value::Int(i) => q.bind(i),
        Value::Bool(b) => q.bind(b),
        Value::Bytes(b) => q.bind(b),
        Value::Texts(_) | Value::Ints(_) | Value::Bools(_) => {
            return Err(StoreError::backend("SQLite has no array parameters"));
        }
    })
}

fn query(s: Statement) -> Result<Query<'static>, StoreError> {
    let sql = match sqlite_text(&s.sql) {
        std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text),
        std::borrow::Cow::Borrowed(_) => s.sql,
    };
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for v in s.values {
        q = bind(q, v)?;
    }
    Ok(q)
}

/// A pooled connection, or a transaction on one.
enum SqliteSession {
    Connection(PoolConnection<Sqlite>),
    Transaction(Transaction<'static, Sqlite>),
}

impl SqliteSession {
    fn connection(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteSession::Connection(c) => c,
            SqliteSession::Transaction(t) => t,
        }
    }
}

#[async_trait]
impl Session for SqliteSession {
    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        Ok(query(statement)?
            .execute(self.connection())
            .await
            .map_err(db_error)?
            .rows_affected())
    }

    async fn fetch(
        &mut self,
        statement: Statement,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let rows = query(statement)?
            .fetch_all(self.connection())
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| decode_row(r, kinds).map_err(db_error))
            .collect()
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        match *self {
            SqliteSession::Connection(_) => Ok(()),
            SqliteSession::Transaction(t) => t.commit().await.map_err(db_error),
        }
    }
}

/// The pools of a SQLite store: readers, and the one writer (SQLite has
/// one writer; queuing in the pool beats spinning on `SQLITE_BUSY`); for a
/// file, also the in-thread readers of bounded reads (`reader.rs`). An
/// in-memory database uses one connection for everything.
#[derive(Debug)]
pub(crate) struct SqliteEngine {
    read: SqlitePool,
    write: SqlitePool,
    readers: Option<Arc<reader::Readers>>,
}

impl SqliteEngine {
    /// The pool writes go through (tests, embedders).
    pub(crate) fn write_pool(&self) -> &SqlitePool {
        &self.write
    }
}

#[async_trait]
impl Engine for SqliteEngine {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn reader(&self) -> Result<Box<dyn Session>, StoreError> {
        match &self.readers {
            Some(readers) => Ok(Box::new(readers.session()?)),
            None => self.bulk_reader().await,
        }
    }

    async fn bulk_reader(&self) -> Result<Box<dyn Session>, StoreError> {
        let c = self.read.acquire().await.map_err(db_error)?;
        Ok(Box::new(SqliteSession::Connection(c)))
    }

    async fn writer(&self) -> Result<Box<dyn Session>, StoreError> {
        let c = self.write.acquire().await.map_err(db_error)?;
        Ok(Box::new(SqliteSession::Connection(c)))
    }

    async fn transaction(&self) -> Result<Box<dyn Session>, StoreError> {
        let t = self.write.begin_with(BEGIN_WRITE).await.map_err(db_error)?;
        Ok(Box::new(SqliteSession::Transaction(t)))
    }

    async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers.close();
        }
        self.read.close().await;
        self.write.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrator(MIGRATIONS)
            .run(&self.write)
            .await
            .map_err(crate::migrate_error)
    }

    /// `VACUUM INTO` on a reader connection: writers go on meanwhile, and
    /// the copy holds every transaction committed before it started.
    async fn backup_to(&self, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::backend(format!(
                "{} exists: a backup goes to a new file",
                to.display()
            )));
        }
        sqlx::query("VACUUM INTO ?")
            .bind(to.to_string_lossy().into_owned())
            .execute(&self.read)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// Whether the URL names an in-memory database.
pub(crate) fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

pub(crate) async fn connect(url: &str, options: &SqlOptions) -> Result<SqliteEngine, StoreError> {
    let base = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::backend_caused(format!("invalid SQLite URL {url:?}"), e))?
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout);
    if is_memory(url) {
        // An in-memory database lives as long as a connection to it, and
        // each one is private to its connections: one connection, kept.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base)
            .await
            .map_err(db_error)?;
        return Ok(SqliteEngine {
            read: pool.clone(),
            write: pool,
            readers: None,
        });
    }
    let base = base.journal_mode(SqliteJournalMode::Wal);
    let path = base.get_filename().to_owned();
    // The writer first: it creates the file and switches it to WAL.
    // A connection to a local file does not go stale: no liveness ping
    // before each use (one driver round trip less per transaction).
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(base.clone())
        .await
        .map_err(db_error)?;
    let read = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .test_before_acquire(false)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(base)
        .await
        .map_err(db_error)?;
    let readers = reader::Readers::open(path, options.busy_timeout)?;
    Ok(SqliteEngine {
        read,
        write,
        readers: Some(Arc::new(readers)),
    })
}
