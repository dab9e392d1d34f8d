//! The one place that knows the kinds of store a `--database` URL can name
//! (HTTP.md "Command line"): it opens them, migrates them, and says where
//! the development secret lives beside them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use casia_core::StoreError;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, ContactDirectory, Outbox};
use casia_store_sql::{SqlOptions, SqlStore};

/// A parsed `--database` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `memory`: everything in this process, lost on exit.
    Memory,
    /// `sqlite:PATH[?options]`, with the file path.
    Sqlite { url: String, path: PathBuf },
    /// `postgres://…` or `postgresql://…`.
    Postgres { url: String },
}

/// Why a store could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error(
        "unsupported database URL {0:?}: use `memory`, `sqlite:FILE?mode=rwc` or `postgres://…`"
    )]
    Unsupported(String),
    #[error(
        "no database at {}: run `casia serve` or `casia migrate` there first, or pass --database",
        .0.display()
    )]
    Missing(PathBuf),
    #[error("cannot open {database}")]
    Open {
        database: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot migrate {database}")]
    Migrate {
        database: String,
        #[source]
        source: StoreError,
    },
}

/// Pool settings from the environment: `CASIA_DB_MAX_CONNECTIONS` sizes the
/// pool (PostgreSQL; SQLite keeps one writer and a few readers);
/// `CASIA_DB_ACQUIRE_TIMEOUT` is how many seconds a request waits for a
/// connection before it is answered 503 (default 10).
fn sql_options() -> SqlOptions {
    let mut options = SqlOptions::default();
    let number = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
    };
    if let Some(n) = number("CASIA_DB_MAX_CONNECTIONS") {
        options.max_connections = n;
    }
    if let Some(secs) = number("CASIA_DB_ACQUIRE_TIMEOUT") {
        options.acquire_timeout = Duration::from_secs(u64::from(secs));
    }
    options
}

async fn open_sql(db: &Database, url: &str) -> Result<SqlStore, StoreOpenError> {
    let store = SqlStore::connect(url, &sql_options())
        .await
        .map_err(|source| StoreOpenError::Open {
            database: db.display_name(),
            source,
        })?;
    store
        .migrate()
        .await
        .map_err(|source| StoreOpenError::Migrate {
            database: db.display_name(),
            source,
        })?;
    Ok(store)
}

impl Database {
    /// Parses a `--database` URL.
    pub fn parse(url: &str) -> Result<Database, StoreOpenError> {
        let url = url.trim();
        if url == "memory" || url == "memory:" {
            return Ok(Database::Memory);
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or("");
            if path.is_empty() || path == ":memory:" {
                return Err(StoreOpenError::Unsupported(url.to_owned()));
            }
            return Ok(Database::Sqlite {
                url: url.to_owned(),
                path: PathBuf::from(path),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres {
                url: url.to_owned(),
            });
        }
        Err(StoreOpenError::Unsupported(redact(url)))
    }

    /// Where the development signing secret is kept (HTTP.md: "beside the
    /// database"): `FILE.secret` for SQLite; for stores without a local
    /// file, a file in the working directory.
    pub fn secret_path(&self) -> PathBuf {
        match self {
            Database::Memory => PathBuf::from("casia-memory.secret"),
            Database::Sqlite { path, .. } => {
                let mut name = path.as_os_str().to_owned();
                name.push(".secret");
                PathBuf::from(name)
            }
            Database::Postgres { .. } => PathBuf::from("casia-postgres.secret"),
        }
    }

    /// Where attachment blobs go by default (HTTP.md, issue 17): a folder
    /// beside the SQLite file (`casia.db.blobs`), `casia-blobs` in the
    /// working directory for PostgreSQL; `None` for the memory store (its
    /// blobs stay in memory too).
    pub fn default_blobs(&self) -> Option<PathBuf> {
        match self {
            Database::Memory => None,
            Database::Sqlite { path, .. } => {
                let mut name = path.as_os_str().to_owned();
                name.push(".blobs");
                Some(PathBuf::from(name))
            }
            Database::Postgres { .. } => Some(PathBuf::from("casia-blobs")),
        }
    }

    /// A name for logs that never shows a password.
    pub fn display_name(&self) -> String {
        match self {
            Database::Memory => "memory".into(),
            Database::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
            Database::Postgres { url } => redact(url),
        }
    }
}

/// Hides the user-info part of a URL (`user:password@`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The ports a running service needs, behind trait objects, and the SQL
/// store to close when done.
#[derive(Clone)]
pub struct Stores {
    pub repository: Arc<dyn CaseRepository>,
    pub outbox: Arc<dyn Outbox>,
    pub contacts: Arc<dyn ContactDirectory>,
    sql: Option<Arc<SqlStore>>,
}

impl Stores {
    /// Closes the SQL pools (SQLite checkpoints its WAL into the database
    /// file, so the file alone is a complete copy after a clean stop).
    pub async fn close(&self) {
        if let Some(store) = &self.sql {
            store.close().await;
        }
    }

    /// The SQL store, for what only it does (`casia backup`).
    pub fn sql(&self) -> Option<&SqlStore> {
        self.sql.as_deref()
    }
}

/// Opens the stores of a database, applying migrations first where the
/// store has them (HTTP.md: `serve` migrates on start).
pub async fn open(db: &Database) -> Result<Stores, StoreOpenError> {
    match db {
        Database::Memory => {
            let store = Arc::new(MemoryStore::new());
            Ok(Stores {
                repository: store.clone(),
                outbox: store.clone(),
                contacts: store,
                sql: None,
            })
        }
        Database::Sqlite { url, .. } | Database::Postgres { url } => {
            let store = Arc::new(open_sql(db, url).await?);
            Ok(Stores {
                repository: store.clone(),
                outbox: store.clone(),
                contacts: store.clone(),
                sql: Some(store),
            })
        }
    }
}

/// Opens the stores of a database that must exist already: what the
/// operator commands use (`sweep`, `contact`, `outbox`, `backup`), so a
/// command run in the wrong directory never creates an empty `casia.db`.
pub async fn open_existing(db: &Database) -> Result<Stores, StoreOpenError> {
    if let Database::Sqlite { path, .. } = db
        && !path.exists()
    {
        return Err(StoreOpenError::Missing(path.clone()));
    }
    open(db).await
}

/// What `casia migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migrated {
    /// The store keeps no schema.
    NothingToDo,
    /// The SQL schema is at the latest migration.
    UpToDate,
}

/// Brings a database's schema up to date.
pub async fn migrate(db: &Database) -> Result<Migrated, StoreOpenError> {
    match db {
        Database::Memory => Ok(Migrated::NothingToDo),
        Database::Sqlite { url, .. } | Database::Postgres { url } => {
            let store = open_sql(db, url).await?;
            store.close().await;
            Ok(Migrated::UpToDate)
        }
    }
}

/// A fresh, empty, migrated store per scenario for `casia conformance
/// --store URL` (CONFORMANCE.md "Each scenario starts from an empty store"):
/// `sqlite::memory:` gives a private in-memory database each time,
/// `postgres://…` a new schema, dropped when the next scenario starts and
/// after the last one ([`FreshSqlStores::finish`]).
pub struct FreshSqlStores {
    url: String,
    last: std::sync::Mutex<Option<SqlStore>>,
}

impl FreshSqlStores {
    pub fn new(url: &str) -> FreshSqlStores {
        FreshSqlStores {
            url: url.to_owned(),
            last: std::sync::Mutex::new(None),
        }
    }

    /// Drops the last scenario's schema (PostgreSQL) or database.
    pub async fn finish(&self) {
        let last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(store) = last {
            store.drop_fresh().await;
        }
    }
}

#[async_trait::async_trait]
impl casia_conformance::StoreFactory for FreshSqlStores {
    async fn fresh_store(&self) -> Result<Arc<dyn CaseRepository>, String> {
        self.finish().await;
        let store = SqlStore::connect_fresh(&self.url)
            .await
            .map_err(|e| format!("{}: {e}", redact(&self.url)))?;
        *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(store.clone());
        Ok(Arc::new(store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_kinds_and_secret_paths() {
        assert_eq!(Database::parse("memory").ok(), Some(Database::Memory));
        let sqlite = Database::parse("sqlite:casia.db?mode=rwc").expect("sqlite");
        assert_eq!(sqlite.secret_path(), PathBuf::from("casia.db.secret"));
        let nested = Database::parse("sqlite:///var/lib/casia/c.db").expect("sqlite");
        assert_eq!(
            nested.secret_path(),
            PathBuf::from("/var/lib/casia/c.db.secret")
        );
        let pg = Database::parse("postgres://casia:hunter2@db:5432/casia").expect("pg");
        assert_eq!(pg.display_name(), "postgres://***@db:5432/casia");
        assert!(Database::parse("mysql://x").is_err());
        assert!(Database::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn memory_and_sqlite_open_and_migrate() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        assert!(rt.block_on(open(&Database::Memory)).is_ok());
        assert_eq!(
            rt.block_on(migrate(&Database::Memory)).ok(),
            Some(Migrated::NothingToDo)
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("c.db").display());
        let db = Database::parse(&url).expect("url");
        assert_eq!(rt.block_on(migrate(&db)).ok(), Some(Migrated::UpToDate));
        let stores = rt.block_on(open(&db)).expect("opens");
        assert!(rt.block_on(stores.repository.ping()).is_ok());
        let missing = Database::parse("sqlite:/nonexistent-dir/x.db").expect("url");
        let err = rt.block_on(open(&missing)).err().expect("cannot open");
        assert!(
            err.to_string()
                .contains("cannot open sqlite:/nonexistent-dir/x.db"),
            "{err}"
        );
    }
}
