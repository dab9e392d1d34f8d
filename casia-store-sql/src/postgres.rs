//! PostgreSQL: one pool of configurable size. Writes run at READ
//! COMMITTED: the counter row's lock serialises numbering and the
//! version-checked `UPDATE` re-checks the version after waiting for a
//! concurrent writer, so a lost race is a `VersionConflict`. This module
//! binds values (arrays included), decodes kinds and owns the pool; the
//! statements are shared.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions};
use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction,
};

use casia_core::StoreError;

use crate::columns::{Kind, Statement, Value};
use crate::engine::{Engine, Session, decode_row};
use crate::{Backend, SqlOptions};

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind(q: Query<'_>, v: Value) -> Query<'_> {
    match v {
        Value::Text(t) => q.bind(t),
        Value::Int(i) => q.bind(i),
        Value::Bool(b) => q.bind(b),
        Value::Bytes(b) => q.bind(b),
        Value::Texts(t) => q.bind(t),
        Value::Ints(i) => q.bind(i),
        Value::Bools(b) => q.bind(b),
    }
}

fn query(s: Statement) -> Query<'static> {
    let mut q = sqlx::query(AssertSqlSafe(s.sql));
    for v in s.values {
        q = bind(q, v);
    }
    q
}

/// A pooled connection, or a transaction on one.
enum PgSession {
    Connection(PoolConnection<Postgres>),
    Transaction(Transaction<'static, Postgres>),
}

impl PgSession {
    fn connection(&mut self) -> &mut PgConnection {
        match self {
            PgSession::Connection(c) => c,
            PgSession::Transaction(t) => t,
        }
    }
}

#[async_trait]
impl Session for PgSession {
    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        Ok(query(statement)
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
        let rows = query(statement)
            .fetch_all(self.connection())
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| decode_row(r, kinds).map_err(db_error))
            .collect()
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        match *self {
            PgSession::Connection(_) => Ok(()),
            PgSession::Transaction(t) => t.commit().await.map_err(db_error),
        }
    }
}

/// A PostgreSQL store's pool, and the schema it was made in when it is a
/// fresh one.
#[derive(Debug)]
pub(crate) struct PgEngine {
    pool: PgPool,
    fresh: Option<FreshSchema>,
}

impl PgEngine {
    /// The pool (tests, embedders).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Engine for PgEngine {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn reader(&self) -> Result<Box<dyn Session>, StoreError> {
        let c = self.pool.acquire().await.map_err(db_error)?;
        Ok(Box::new(PgSession::Connection(c)))
    }

    async fn writer(&self) -> Result<Box<dyn Session>, StoreError> {
        self.reader().await
    }

    async fn transaction(&self) -> Result<Box<dyn Session>, StoreError> {
        let t = self.pool.begin().await.map_err(db_error)?;
        Ok(Box::new(PgSession::Transaction(t)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrator(MIGRATIONS)
            .run(&self.pool)
            .await
            .map_err(crate::migrate_error)
    }

    async fn backup_to(&self, _to: &Path) -> Result<(), StoreError> {
        Err(StoreError::backend(
            "casia backup copies SQLite databases; back up PostgreSQL with pg_dump (README, \"Backups\")",
        ))
    }

    async fn drop_fresh(&self) {
        if let Some(fresh) = &self.fresh {
            let _ = drop_schema(fresh).await;
        }
    }
}

/// The migrations, in order (`migrations/postgres`).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        "outbox delivery",
        include_str!("../migrations/postgres/0002_outbox_delivery.sql"),
    ),
    (
        3,
        "partial indexes",
        include_str!("../migrations/postgres/0003_partial_indexes.sql"),
    ),
    (
        4,
        "idempotency keys",
        include_str!("../migrations/postgres/0004_idempotency_keys.sql"),
    ),
];

/// Serialization failure and deadlock: the transaction lost a race and
/// did nothing; the service re-reads and decides again.
const RETRYABLE: [&str; 2] = ["40001", "40P01"];

/// SQLSTATEs that mean "the database cannot serve this session now": the
/// connection-exception class (08…), the server shutting down or starting
/// (57P01–57P03), too many connections (53300), authentication (28000,
/// 28P01), a database that does not exist (3D000).
fn unavailable(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "28000" | "28P01" | "3D000"
        )
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && let Some(code) = d.code()
    {
        if RETRYABLE.contains(&code.as_ref()) {
            return StoreError::VersionConflict;
        }
        if unavailable(&code) {
            return StoreError::unavailable(e);
        }
    }
    crate::classify(e)
}

fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::backend_caused("invalid PostgreSQL URL", e))
}

/// How long the first connection may take before the store says why it
/// cannot connect (issue 14: within 5 s, naming the cause).
const FIRST_CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One direct connection before the pool, so that a wrong host, port,
/// password or database name is reported as itself (refused, unknown host,
/// authentication, missing database) at once — a pool only says "timed
/// out" after its acquire timeout.
async fn probe(opts: &PgConnectOptions) -> Result<(), StoreError> {
    match tokio::time::timeout(FIRST_CONNECTION_TIMEOUT, opts.connect()).await {
        Ok(Ok(conn)) => conn.close().await.map_err(db_error),
        Ok(Err(e)) => Err(connect_error(e)),
        Err(_) => Err(StoreError::unavailable(format!(
            "no answer from the database within {} s",
            FIRST_CONNECTION_TIMEOUT.as_secs()
        ))),
    }
}

/// A failed first connection in words: the server's own message for what
/// it refused (authentication, a missing database or role), without the
/// server source line sqlx appends, and the I/O error otherwise.
fn connect_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) => {
            let cause = match d.code().as_deref() {
                Some("28P01" | "28000") => "authentication failed",
                Some("3D000") => "missing database",
                _ => "refused by the server",
            };
            StoreError::unavailable(format!("{cause}: {}", d.message()))
        }
        _ => db_error(e),
    }
}

async fn pool(opts: PgConnectOptions, options: &SqlOptions) -> Result<PgPool, StoreError> {
    probe(&opts).await?;
    PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(opts)
        .await
        .map_err(db_error)
}

pub(crate) async fn connect(url: &str, options: &SqlOptions) -> Result<PgEngine, StoreError> {
    Ok(PgEngine {
        pool: pool(parse_url(url)?, options).await?,
        fresh: None,
    })
}

/// A schema made for one fresh store, dropped by [`drop_schema`].
#[derive(Debug, Clone)]
struct FreshSchema {
    admin: PgConnectOptions,
    name: String,
}

/// Prefix of the schemas [`connect_fresh`] makes.
const FRESH_PREFIX: &str = "casia_test_";
/// Fresh schemas older than this are left over from an earlier run.
const STALE_AFTER_SECS: u64 = 3600;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A new schema `casia_test_<unix secs>_<pid>_<n>` on the database of `url`,
/// with `search_path` set to it on every pooled connection.
pub(crate) async fn connect_fresh(url: &str, options: &SqlOptions) -> Result<PgEngine, StoreError> {
    let admin = parse_url(url)?;
    let mut conn = admin.connect().await.map_err(db_error)?;
    if !SWEPT.swap(true, Ordering::SeqCst) {
        drop_stale_schemas(&mut conn).await;
    }
    let name = format!(
        "{FRESH_PREFIX}{}_{}_{}",
        now_secs(),
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
    conn.close().await.map_err(db_error)?;
    let opts = admin.clone().options([("search_path", name.as_str())]);
    let pool = pool(opts, options).await?;
    Ok(PgEngine {
        pool,
        fresh: Some(FreshSchema { admin, name }),
    })
}

/// Drops the schemas of earlier runs (best effort: another process may be
/// dropping them too).
async fn drop_stale_schemas(conn: &mut PgConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT nspname::TEXT FROM pg_namespace WHERE starts_with(nspname, $1)",
    )
    .bind(FRESH_PREFIX)
    .fetch_all(&mut *conn)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    let cutoff = now_secs().saturating_sub(STALE_AFTER_SECS);
    for name in names {
        let created = name
            .strip_prefix(FRESH_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        let safe = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if safe && created.is_some_and(|c| c < cutoff) {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

async fn drop_schema(fresh: &FreshSchema) -> Result<(), StoreError> {
    let mut conn = fresh.admin.connect().await.map_err(db_error)?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
        fresh.name
    )))
    .execute(&mut conn)
    .await
    .map_err(db_error)?;
    conn.close().await.map_err(db_error)
}
