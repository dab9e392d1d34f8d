//! PostgreSQL: one pool of configurable size. Writes run at READ
//! COMMITTED: the counter row's lock serialises numbering and the
//! version-checked `UPDATE` re-checks the version after waiting for a
//! concurrent writer, so a lost race is a `VersionConflict`.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};

use casia_core::StoreError;

use crate::SqlOptions;

pub(crate) type Db = sqlx::Postgres;
pub(crate) type DbRow = sqlx::postgres::PgRow;

pub(crate) const BEGIN_WRITE: &str = "BEGIN";
/// One snapshot for a case and its rows.
pub(crate) const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/// A relay's claim in one statement: rows another relay is claiming right
/// now are skipped (`FOR UPDATE SKIP LOCKED`), not waited for.
pub(crate) const OUTBOX_CLAIM: &str = crate::sql::OUTBOX_CLAIM_POSTGRES;

// The same repository code, compiled for this backend's types.
#[allow(clippy::duplicate_mod)]
#[path = "backend.rs"]
mod backend;

pub(crate) use backend::Repo;

/// The version-checked multi-row update of `rows` (case row, expected
/// version); the numbers of the cases it wrote. One array per column, so
/// binding and planning cost the same for 1 or 500 rows.
async fn update_cases(
    conn: &mut PgConnection,
    rows: Vec<(crate::rows::CaseRow, i64)>,
) -> Result<Vec<String>, StoreError> {
    let n = rows.len();
    let mut text: [Vec<String>; 15] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut optional_text: [Vec<Option<String>>; 3] =
        std::array::from_fn(|_| Vec::with_capacity(n));
    let mut flags: [Vec<bool>; 2] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut integers: [Vec<i64>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut closed_at: Vec<Option<i64>> = Vec::with_capacity(n);
    for (r, expected) in rows {
        for (column, value) in text.iter_mut().zip([
            r.number,
            r.case_type,
            r.materia,
            r.category,
            r.subcategory,
            r.substatus,
            r.office,
            r.authorization_id,
            r.submitted_by,
            r.province,
            r.title,
            r.description,
            r.complementary_data,
            r.receipt,
            r.verification_code,
        ]) {
            column.push(value);
        }
        for (column, value) in optional_text
            .iter_mut()
            .zip([r.assignee, r.deadline, r.resolution])
        {
            column.push(value);
        }
        for (column, value) in flags
            .iter_mut()
            .zip([r.affects_current_period, r.reminder_sent])
        {
            column.push(value);
        }
        for (column, value) in integers
            .iter_mut()
            .zip([r.submitted_at, r.version, expected])
        {
            column.push(value);
        }
        closed_at.push(r.closed_at);
    }
    let [
        number,
        case_type,
        materia,
        category,
        subcategory,
        substatus,
        office,
        authorization_id,
        submitted_by,
        province,
        title,
        description,
        complementary_data,
        receipt,
        verification_code,
    ] = text;
    let [assignee, deadline, resolution] = optional_text;
    let [affects_current_period, reminder_sent] = flags;
    let [submitted_at, version, expected] = integers;
    // `$1`..`$24`, in `CASE_COLUMNS` order, then the expected versions.
    sqlx::query_scalar(crate::sql::UPDATE_CASES_POSTGRES)
        .bind(number)
        .bind(case_type)
        .bind(materia)
        .bind(category)
        .bind(subcategory)
        .bind(substatus)
        .bind(office)
        .bind(assignee)
        .bind(authorization_id)
        .bind(submitted_by)
        .bind(province)
        .bind(affects_current_period)
        .bind(title)
        .bind(description)
        .bind(complementary_data)
        .bind(deadline)
        .bind(reminder_sent)
        .bind(submitted_at)
        .bind(closed_at)
        .bind(resolution)
        .bind(receipt)
        .bind(verification_code)
        .bind(version)
        .bind(expected)
        .fetch_all(conn)
        .await
        .map_err(db_error)
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

async fn pool(opts: PgConnectOptions, options: &SqlOptions) -> Result<Repo, StoreError> {
    probe(&opts).await?;
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(opts)
        .await
        .map_err(db_error)?;
    Ok(Repo::new(pool.clone(), pool))
}

pub(crate) async fn connect(url: &str, options: &SqlOptions) -> Result<Repo, StoreError> {
    pool(parse_url(url)?, options).await
}

/// A schema made for one fresh store, dropped by [`drop_schema`].
#[derive(Debug, Clone)]
pub(crate) struct FreshSchema {
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
pub(crate) async fn connect_fresh(
    url: &str,
    options: &SqlOptions,
) -> Result<(Repo, FreshSchema), StoreError> {
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
    let repo = pool(opts, options).await?;
    Ok((repo, FreshSchema { admin, name }))
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

pub(crate) async fn drop_schema(fresh: &FreshSchema) -> Result<(), StoreError> {
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
