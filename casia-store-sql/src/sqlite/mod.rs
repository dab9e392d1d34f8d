//! SQLite, the embedded default (`casia.db`): WAL, a busy timeout and
//! foreign keys on every connection; writes take the write lock up front
//! (`BEGIN IMMEDIATE`) and go through one writer connection, since SQLite
//! has one writer.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use casia_core::StoreError;

use crate::SqlOptions;

pub(crate) type Db = sqlx::Sqlite;
pub(crate) type DbRow = sqlx::sqlite::SqliteRow;

/// A deferred transaction would upgrade to a write lock at its first write
/// and could fail with `SQLITE_BUSY` then; taking it up front makes writers
/// queue on the busy timeout instead.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// One snapshot for a case and its rows (WAL readers never block).
pub(crate) const BEGIN_READ: &str = "BEGIN";
/// A relay's claim runs in a `BEGIN IMMEDIATE` write transaction: SQLite's
/// one writer serialises claims, so no row needs a lock of its own.
pub(crate) const OUTBOX_CLAIM: &str = crate::sql::OUTBOX_CLAIM_SQLITE;

// The same repository code, compiled for this backend's types.
#[allow(clippy::duplicate_mod)]
#[path = "backend.rs"]
mod backend;

pub(crate) use backend::Repo;

/// The version-checked multi-row update of `rows` (case row, expected
/// version), a `VALUES` list of bound values; the numbers of the cases it
/// wrote.
async fn update_cases(
    conn: &mut sqlx::SqliteConnection,
    rows: Vec<(crate::rows::CaseRow, i64)>,
) -> Result<Vec<String>, StoreError> {
    let mut qb = sqlx::QueryBuilder::<Db>::new(crate::sql::UPDATE_CASES_SQLITE_HEAD);
    qb.push_values(rows, |mut b, (row, expected)| {
        backend::push_case(&mut b, row);
        b.push_bind(expected);
    });
    qb.push(crate::sql::UPDATE_CASES_SQLITE_TAIL);
    qb.build_query_scalar()
        .fetch_all(conn)
        .await
        .map_err(db_error)
}

/// The migrations, in order (`migrations/sqlite`).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/sqlite/0001_schema.sql"),
    ),
    (
        2,
        "outbox delivery",
        include_str!("../migrations/sqlite/0002_outbox_delivery.sql"),
    ),
];

/// `SQLITE_BUSY_SNAPSHOT`: a read snapshot went stale under a writer — a
/// lost race, retried by the service like a version conflict.
const SQLITE_BUSY_SNAPSHOT: &str = "517";

/// `SQLITE_BUSY`: the busy timeout ran out under other writers, the
/// database cannot serve now. (`SQLITE_CANTOPEN` is a wrong path, not a
/// passing outage: a backend error.)
const UNAVAILABLE: [&str; 1] = ["5"];

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        match d.code().as_deref() {
            Some(SQLITE_BUSY_SNAPSHOT) => return StoreError::VersionConflict,
            Some(code) if UNAVAILABLE.contains(&code) => return StoreError::unavailable(e),
            _ => {}
        }
    }
    crate::classify(e)
}

/// Whether the URL names an in-memory database.
pub(crate) fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

pub(crate) async fn connect(url: &str, options: &SqlOptions) -> Result<Repo, StoreError> {
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
        return Ok(Repo::new(pool.clone(), pool));
    }
    let base = base.journal_mode(SqliteJournalMode::Wal);
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
    Ok(Repo::new(read, write))
}
