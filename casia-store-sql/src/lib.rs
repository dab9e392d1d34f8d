//! `casia-store-sql`: the core's ports over SQL — SQLite (feature
//! `sqlite`, the embedded default) and PostgreSQL (feature `postgres`).
//! Adapters translate, the core decides (ARCHITECTURE.md): every filter and
//! order here is [`casia_core::search`]'s, written as SQL.
//!
//! [`SqlStore`] implements the core's `CaseRepository`, `Outbox`,
//! `ContactDirectory` and `AttachmentContentStore`. Each write is
//! all-or-nothing — case row with its version check, history, attachments
//! with their bytes, outbox rows — and case numbers come from a per-year
//! counter row in the writing transaction, so they are gap-free (DOMAIN.md
//! §4, §10). Writes share commits (group commit, `writes.rs`); reads are
//! one statement each (`cases.rs`).
//!
//! With the feature `rows`, the row types (`rows`), the write path
//! (`writes`) and [`SqlStore::write_rows`] are public, for benchmarks and
//! bulk loaders that write exactly what the store writes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Without a backend feature the crate is an empty shell that only reports
// "unsupported"; its unused parts are expected then.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(unused))]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use casia_core::StoreError;

mod cases;
mod columns;
mod contacts;
mod engine;
mod idempotency;
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "rows")]
pub mod rows;
#[cfg(not(feature = "rows"))]
mod rows;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "rows")]
pub mod writes;
#[cfg(not(feature = "rows"))]
mod writes;

#[cfg(feature = "rows")]
pub use columns::{Column, Kind, RowType, Statement, Value, insert};

use engine::Engine;
use writes::WriteQueue;

/// The sqlx this crate is built on, for embedders and tests that reach the
/// pool through [`SqlStore::sqlite_pool`] / [`SqlStore::postgres_pool`].
pub use sqlx;

/// The zero-configuration store: `casia.db` in the working directory,
/// created on first use.
pub const DEFAULT_URL: &str = "sqlite:casia.db?mode=rwc";

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (a file, or `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The name: `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection settings; the defaults suit a single service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlOptions {
    /// PostgreSQL pool size; for SQLite files, the reader pool's size (there
    /// is always one writer connection).
    pub max_connections: u32,
    /// How long a SQLite writer waits for another process's write lock.
    pub busy_timeout: Duration,
    /// How long a command waits for a pooled connection before the store
    /// is `Unavailable` (HTTP 503): 10 s by default, so a database that
    /// went away is answered well within a request's timeout.
    pub acquire_timeout: Duration,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            max_connections: 10,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A SQL-backed store: cheap to clone (clones share the pools and the
/// group commit). It implements the core's ports by topic: `cases.rs`
/// ([`CaseRepository`](casia_core::ports::CaseRepository),
/// [`AttachmentContentStore`](casia_core::ports::AttachmentContentStore)),
/// `outbox.rs` ([`Outbox`](casia_core::ports::Outbox)) and `contacts.rs`
/// ([`ContactDirectory`](casia_core::ports::ContactDirectory)).
#[derive(Debug, Clone)]
pub struct SqlStore {
    engine: Arc<dyn Engine>,
    writes: Arc<WriteQueue>,
    #[cfg(feature = "sqlite")]
    sqlite: Option<sqlx::SqlitePool>,
    #[cfg(feature = "postgres")]
    postgres: Option<sqlx::PgPool>,
}

/// What is left of a driver error once each backend has taken its own
/// codes: failures to reach the database are `Unavailable` (HTTP 503), the
/// rest a backend failure with the driver error as its source.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(e),
        other => StoreError::backend_caused("query failed", other),
    }
}

fn unsupported(url: &str) -> StoreError {
    let scheme = url.split(':').next().unwrap_or_default();
    StoreError::backend(format!(
        "unsupported store URL scheme {scheme:?}: this build supports {}",
        supported_schemes()
    ))
}

fn supported_schemes() -> &'static str {
    match (cfg!(feature = "sqlite"), cfg!(feature = "postgres")) {
        (true, true) => "sqlite: and postgres://",
        (true, false) => "sqlite: only",
        (false, true) => "postgres:// only",
        (false, false) => "no database (enable feature `sqlite` or `postgres`)",
    }
}

#[cfg(feature = "postgres")]
fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The migrations of a backend as a migrator (embedded at build time).
fn migrator(list: &[(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    Migrator::with_migrations(
        list.iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

fn migrate_error(e: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::backend_caused("migration failed", e)
}

impl SqlStore {
    #[cfg(feature = "sqlite")]
    fn of_sqlite(engine: sqlite::SqliteEngine) -> SqlStore {
        SqlStore {
            sqlite: Some(engine.write_pool().clone()),
            #[cfg(feature = "postgres")]
            postgres: None,
            engine: Arc::new(engine),
            writes: Arc::default(),
        }
    }

    #[cfg(feature = "postgres")]
    fn of_postgres(engine: postgres::PgEngine) -> SqlStore {
        SqlStore {
            postgres: Some(engine.pool().clone()),
            #[cfg(feature = "sqlite")]
            sqlite: None,
            engine: Arc::new(engine),
            writes: Arc::default(),
        }
    }

    /// Opens a store: `sqlite:PATH[?mode=rwc]`, `sqlite::memory:` or
    /// `postgres://…`. Does not migrate; call [`SqlStore::migrate`].
    ///
    /// # Errors
    /// An unsupported URL, or the database cannot be reached
    /// (`Unavailable`, naming the cause: refused, unknown host,
    /// authentication, missing database).
    #[allow(unused_variables)]
    pub async fn connect(url: &str, options: &SqlOptions) -> Result<SqlStore, StoreError> {
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            return Ok(SqlStore::of_sqlite(sqlite::connect(url, options).await?));
        }
        #[cfg(feature = "postgres")]
        if is_postgres_url(url) {
            return Ok(SqlStore::of_postgres(
                postgres::connect(url, options).await?,
            ));
        }
        Err(unsupported(url))
    }

    /// An empty, migrated store of its own, for tests and `casia
    /// conformance --store URL`: `sqlite::memory:` gives a new private
    /// in-memory database; a PostgreSQL URL gives a new schema
    /// `casia_test_<unix secs>_<pid>_<n>` on that database. Call
    /// [`SqlStore::drop_fresh`] when done; schemas left behind are dropped by
    /// the first `connect_fresh` of a later process once an hour old.
    ///
    /// # Errors
    /// As [`SqlStore::connect`], or a failed migration.
    pub async fn connect_fresh(url: &str) -> Result<SqlStore, StoreError> {
        let options = SqlOptions {
            max_connections: 4,
            ..SqlOptions::default()
        };
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            if !sqlite::is_memory(url) {
                return Err(StoreError::backend(
                    "connect_fresh takes sqlite::memory: (a file database is not fresh)",
                ));
            }
            let store = SqlStore::connect("sqlite::memory:", &options).await?;
            store.migrate().await?;
            return Ok(store);
        }
        #[cfg(feature = "postgres")]
        if is_postgres_url(url) {
            let store = SqlStore::of_postgres(postgres::connect_fresh(url, &options).await?);
            if let Err(e) = store.migrate().await {
                store.drop_fresh().await;
                return Err(e);
            }
            return Ok(store);
        }
        let _ = options;
        Err(unsupported(url))
    }

    /// Closes the pools and, for a store made by [`SqlStore::connect_fresh`]
    /// on PostgreSQL, drops its schema (best effort).
    pub async fn drop_fresh(self) {
        self.close().await;
        self.engine.drop_fresh().await;
    }

    /// A consistent copy of a live SQLite database into the new file `to`
    /// (`VACUUM INTO`, on a reader connection: writers go on meanwhile, and
    /// the copy holds every transaction committed before it started).
    ///
    /// # Errors
    /// A backend error when `to` exists or cannot be written, or when the
    /// store is PostgreSQL (back it up with `pg_dump`).
    pub async fn backup_to(&self, to: &std::path::Path) -> Result<(), StoreError> {
        self.engine.backup_to(to).await
    }

    /// Closes the store: queued writes are written first (at most 30 s),
    /// then the pools close (pending work finishes, new work is refused).
    pub async fn close(&self) {
        self.writes.drained(Duration::from_secs(30)).await;
        self.engine.close().await;
    }

    /// Applies the backend's migrations (`migrations/sqlite` or
    /// `migrations/postgres`); already-applied ones are skipped.
    ///
    /// # Errors
    /// A backend error naming the migration that failed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.engine.migrate().await
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.engine.backend()
    }

    /// The SQLite pool writes go through (tests, embedders).
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        self.sqlite.as_ref()
    }

    /// The PostgreSQL pool (tests, embedders).
    #[cfg(feature = "postgres")]
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        self.postgres.as_ref()
    }

    /// Writes prepared rows in one transaction, each iff its base still
    /// holds (benchmarks and bulk loaders: the store's own write path
    /// without the core's decisions); per write whether it was written.
    ///
    /// # Errors
    /// Any failure of the transaction (nothing of it is written then).
    #[cfg(feature = "rows")]
    pub async fn write_rows(&self, rows: Vec<writes::WriteRows>) -> Result<Vec<bool>, StoreError> {
        let mut session = self.engine.transaction().await?;
        let written = writes::write_rows(&mut *session, self.engine.backend(), rows).await?;
        session.commit().await?;
        Ok(written)
    }

    /// A write transaction for statements of one's own (benchmarks'
    /// baselines, bulk loaders).
    ///
    /// # Errors
    /// The database cannot be reached.
    #[cfg(feature = "rows")]
    pub async fn raw_transaction(&self) -> Result<RawTransaction, StoreError> {
        Ok(RawTransaction(self.engine.transaction().await?))
    }
}

/// A write transaction running [`Statement`]s as given (feature `rows`);
/// dropped without [`RawTransaction::commit`], it rolls back.
#[cfg(feature = "rows")]
pub struct RawTransaction(Box<dyn engine::Session>);

#[cfg(feature = "rows")]
impl RawTransaction {
    /// Runs a statement; the number of rows it changed.
    ///
    /// # Errors
    /// The statement failed.
    pub async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        self.0.execute(statement).await
    }

    /// Runs a query returning one integer (e.g. `RETURNING last_sequence`).
    ///
    /// # Errors
    /// The statement failed or returned no row.
    pub async fn one_integer(&mut self, statement: Statement) -> Result<i64, StoreError> {
        self.0.one(statement).await
    }

    /// Commits.
    ///
    /// # Errors
    /// The commit failed.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Migrations = &'static [(i64, &'static str, &'static str)];

    #[allow(clippy::vec_init_then_push)]
    fn embedded() -> Vec<(&'static str, Migrations)> {
        #[allow(unused_mut)]
        let mut lists: Vec<(&'static str, Migrations)> = Vec::new();
        #[cfg(feature = "sqlite")]
        lists.push(("sqlite", sqlite::MIGRATIONS));
        #[cfg(feature = "postgres")]
        lists.push(("postgres", postgres::MIGRATIONS));
        lists
    }

    /// Every migration file is embedded, in order, under its version.
    #[test]
    fn every_migration_file_is_embedded() {
        for (backend, embedded) in embedded() {
            let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .expect("migrations folder")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort();
            assert_eq!(files.len(), embedded.len(), "{backend}: {files:?}");
            for (file, (version, _, sql)) in files.iter().zip(embedded) {
                let name = file.file_name().and_then(|n| n.to_str()).expect("name");
                let file_version: i64 = name
                    .split('_')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("version prefix");
                assert_eq!(file_version, *version, "{name}");
                assert_eq!(
                    std::fs::read_to_string(file).expect("read"),
                    *sql,
                    "{name} differs from the embedded text"
                );
            }
        }
    }

    #[test]
    fn options_default_to_a_five_second_busy_timeout() {
        let o = SqlOptions::default();
        assert_eq!(o.busy_timeout, Duration::from_secs(5));
        assert!(o.max_connections >= 1);
    }

    #[test]
    fn backend_names() {
        assert_eq!(Backend::Sqlite.as_str(), "sqlite");
        assert_eq!(Backend::Postgres.as_str(), "postgres");
    }
}
