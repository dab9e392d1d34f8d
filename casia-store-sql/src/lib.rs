//! `casia-store-sql`: the core's ports over SQL — SQLite (feature
//! `sqlite`, the embedded default) and PostgreSQL (feature `postgres`).
//! Adapters translate, the core decides (ARCHITECTURE.md): every filter and
//! order here is [`casia_core::search`]'s, written as SQL.
//!
//! [`SqlStore`] implements [`CaseRepository`], [`Outbox`],
//! [`ContactDirectory`] and [`AttachmentContentStore`]. Each write is one
//! transaction — case row with its version check, history, attachments with
//! their bytes, outbox rows — and case numbers come from a per-year counter
//! row in that transaction, so they are gap-free (DOMAIN.md §4, §10).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Without a backend feature the crate is an empty shell that only reports
// "unsupported"; its unused parts are expected then.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(unused))]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use casia_core::command::Change;
use casia_core::ids::{AuthorizationId, CaseNumber, OfficeCode};
use casia_core::ports::{
    AttachmentContentStore, CaseRepository, ContactDirectory, DeliveryFailure, Outbox,
    OutboxMessage,
};
use casia_core::search::SearchFilter;
use casia_core::status::CaseState;
use casia_core::submission::{CaseDraft, NewCase};
use casia_core::{Case, StoreError};

#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

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
    /// How long a command waits for a pooled connection.
    pub acquire_timeout: Duration,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            max_connections: 10,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone)]
enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::Repo),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Repo, Option<Arc<postgres::FreshSchema>>),
}

/// Runs `$body` with `$repo` bound to the backend's repository.
macro_rules! dispatch {
    ($self:expr, $repo:ident => $body:expr) => {
        match $self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(ref $repo) => $body,
            #[cfg(feature = "postgres")]
            Inner::Postgres(ref $repo, _) => $body,
        }
    };
}

/// A SQL-backed store: cheap to clone (clones share the pools).
#[derive(Debug, Clone)]
pub struct SqlStore {
    inner: Inner,
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
    /// Opens a store: `sqlite:PATH[?mode=rwc]`, `sqlite::memory:` or
    /// `postgres://…`. Does not migrate; call [`SqlStore::migrate`].
    #[allow(unused_variables)]
    pub async fn connect(url: &str, options: &SqlOptions) -> Result<SqlStore, StoreError> {
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            let repo = sqlite::connect(url, options).await?;
            return Ok(SqlStore {
                inner: Inner::Sqlite(repo),
            });
        }
        #[cfg(feature = "postgres")]
        if is_postgres_url(url) {
            let repo = postgres::connect(url, options).await?;
            return Ok(SqlStore {
                inner: Inner::Postgres(repo, None),
            });
        }
        Err(unsupported(url))
    }

    /// An empty, migrated store of its own, for tests and `casia
    /// conformance --store URL`: `sqlite::memory:` gives a new private
    /// in-memory database; a PostgreSQL URL gives a new schema
    /// `casia_test_<unix secs>_<pid>_<n>` on that database. Call
    /// [`SqlStore::drop_fresh`] when done; schemas left behind are dropped by
    /// the first `connect_fresh` of a later process once an hour old.
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
            let (repo, fresh) = postgres::connect_fresh(url, &options).await?;
            let store = SqlStore {
                inner: Inner::Postgres(repo, Some(Arc::new(fresh))),
            };
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
        #[cfg(feature = "postgres")]
        if let Inner::Postgres(_, Some(fresh)) = &self.inner {
            let _ = postgres::drop_schema(fresh).await;
        }
    }

    /// A consistent copy of a live SQLite database into the new file `to`
    /// (`VACUUM INTO`, on a reader connection: writers go on meanwhile, and
    /// the copy holds every transaction committed before it started).
    ///
    /// # Errors
    /// A backend error when `to` exists or cannot be written, or when the
    /// store is PostgreSQL (back it up with `pg_dump`).
    pub async fn backup_to(&self, to: &std::path::Path) -> Result<(), StoreError> {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(ref repo) => {
                if to.exists() {
                    return Err(StoreError::backend(format!(
                        "{} exists: a backup goes to a new file",
                        to.display()
                    )));
                }
                sqlx::query("VACUUM INTO ?")
                    .bind(to.to_string_lossy().into_owned())
                    .execute(repo.read_pool())
                    .await
                    .map_err(sqlite::db_error)?;
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Inner::Postgres(..) => Err(StoreError::backend(
                "casia backup copies SQLite databases; back up PostgreSQL with pg_dump (README, \"Backups\")",
            )),
        }
    }

    /// Closes the pools: pending work finishes, new work is refused.
    pub async fn close(&self) {
        dispatch!(self, repo => repo.close().await)
    }

    /// Applies the backend's migrations (`migrations/sqlite` or
    /// `migrations/postgres`); already-applied ones are skipped.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(ref repo) => migrator(sqlite::MIGRATIONS)
                .run(repo.write_pool())
                .await
                .map_err(migrate_error),
            #[cfg(feature = "postgres")]
            Inner::Postgres(ref repo, _) => migrator(postgres::MIGRATIONS)
                .run(repo.write_pool())
                .await
                .map_err(migrate_error),
        }
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Inner::Postgres(..) => Backend::Postgres,
        }
    }

    /// The SQLite pool writes go through (tests, embedders).
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match self.inner {
            Inner::Sqlite(ref repo) => Some(repo.write_pool()),
            #[cfg(feature = "postgres")]
            Inner::Postgres(..) => None,
        }
    }

    /// The PostgreSQL pool (tests, embedders).
    #[cfg(feature = "postgres")]
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match self.inner {
            Inner::Postgres(ref repo, _) => Some(repo.write_pool()),
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => None,
        }
    }

    /// Every notification ever written, in emission order, delivered or
    /// not (tests, audits).
    pub async fn outbox_snapshot(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(self, repo => repo.outbox_snapshot().await)
    }
}

#[async_trait]
impl CaseRepository for SqlStore {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        dispatch!(self, repo => repo.get(number).await)
    }

    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        dispatch!(self, repo => repo.create(draft).await)
    }

    async fn update(&self, change: &Change) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.update(change).await)
    }

    async fn update_many(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError> {
        dispatch!(self, repo => repo.update_many(changes).await)
    }

    async fn search(&self, filter: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        dispatch!(self, repo => repo.search(filter).await)
    }

    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        dispatch!(self, repo => repo.queue(office).await)
    }

    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        dispatch!(self, repo => repo.awaiting_information().await)
    }

    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError> {
        dispatch!(self, repo => repo.find_by_receipt_code(code).await)
    }

    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError> {
        dispatch!(self, repo => repo.attachment_content(number, attachment).await)
    }

    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        dispatch!(self, repo => repo.count_by_state().await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.ping().await)
    }
}

#[async_trait]
impl AttachmentContentStore for SqlStore {
    async fn put(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Arc<[u8]>,
    ) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.put_content(number, attachment, content).await)
    }

    async fn get(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError> {
        dispatch!(self, repo => repo.attachment_content(number, attachment).await)
    }
}

#[async_trait]
impl ContactDirectory for SqlStore {
    async fn contact(&self, authorization: &AuthorizationId) -> Result<Option<String>, StoreError> {
        dispatch!(self, repo => repo.contact(authorization).await)
    }

    async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.set_contact(authorization, email).await)
    }
}

#[async_trait]
impl Outbox for SqlStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(self, repo => repo.claim_due(now, limit, lease).await)
    }

    async fn mark_delivered(
        &self,
        id: u64,
        recipient: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.mark_delivered(id, recipient, at).await)
    }

    async fn record_failure(&self, id: u64, failure: &DeliveryFailure) -> Result<(), StoreError> {
        dispatch!(self, repo => repo.record_failure(id, failure).await)
    }

    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(self, repo => repo.pending(limit).await)
    }

    async fn list_dead(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(self, repo => repo.list_dead(limit).await)
    }

    async fn retry(&self, id: u64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        dispatch!(self, repo => repo.retry(id, now).await)
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        dispatch!(self, repo => repo.backlog().await)
    }

    async fn dead_count(&self) -> Result<u64, StoreError> {
        dispatch!(self, repo => repo.dead_count().await)
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
