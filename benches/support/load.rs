//! Raw SQL over one backend, written once and compiled for each
//! (`#[path]`-included by `sqlite.rs` and `postgres.rs`, which supply `Db`,
//! `BEGIN_WRITE` and `MAX_BINDS`): the raw-INSERT baseline of the
//! submission benchmark and the bulk loader of the big datasets. The
//! statements are `casia-store-sql`'s (`src/sql.rs`), word for word.

use casia::store_sql::sqlx::{self, Database, Pool, QueryBuilder};

use super::{BEGIN_WRITE, Db, MAX_BINDS};
use crate::support::rows::{CaseCols, CaseRows, HistoryCols, OutboxCols};

type Conn = <Db as Database>::Connection;

const NEXT_SEQUENCE: &str = "INSERT INTO counters (year, last_sequence) VALUES ($1, 1) \
     ON CONFLICT (year) DO UPDATE SET last_sequence = counters.last_sequence + 1 \
     RETURNING last_sequence";

const INSERT_CASE: &str = "INSERT INTO cases (number, case_type, materia, category, \
     subcategory, substatus, office, assignee, authorization_id, submitted_by, province, \
     affects_current_period, title, description, complementary_data, deadline, reminder_sent, \
     submitted_at, closed_at, resolution, receipt, verification_code, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22, $23)";

const INSERT_HISTORY: &str = "INSERT INTO history (case_number, seq, at, event, \
     substatus, actor_role, actor_id, observation, visibility) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const INSERT_OUTBOX: &str = "INSERT INTO outbox (kind, case_number, \
     authorization_id, at, deadline, message_text, delivered, attempts) \
     VALUES ($1, $2, $3, $4, $5, $6, FALSE, 0)";

const CASE_INSERT_HEAD: &str = "INSERT INTO cases (number, case_type, materia, category, \
     subcategory, substatus, office, assignee, authorization_id, submitted_by, province, \
     affects_current_period, title, description, complementary_data, deadline, reminder_sent, \
     submitted_at, closed_at, resolution, receipt, verification_code, version) ";

const HISTORY_INSERT_HEAD: &str = "INSERT INTO history (case_number, seq, at, event, \
     substatus, actor_role, actor_id, observation, visibility) ";

const OUTBOX_INSERT_HEAD: &str = "INSERT INTO outbox (kind, case_number, authorization_id, \
     at, deadline, message_text, delivered, attempts, recipient, delivered_at) ";

/// One submission the way the store writes it, as plain statements: take
/// the year's next number from the counter row, then the case row, its
/// history row and its outbox row, in one transaction. `rows[n - 1]` holds
/// the rows of case number `n`. Returns the number taken.
pub async fn raw_submit(pool: &Pool<Db>, year: i32, rows: &[CaseRows]) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let seq: i64 = sqlx::query_scalar(NEXT_SEQUENCE)
        .bind(i64::from(year))
        .fetch_one(&mut *tx)
        .await?;
    let r = usize::try_from(seq - 1)
        .ok()
        .and_then(|k| rows.get(k))
        .unwrap_or_else(|| panic!("no precomputed rows for case {seq}"));
    let c = &r.case;
    sqlx::query(INSERT_CASE)
        .bind(c.number.as_str())
        .bind(c.case_type.as_str())
        .bind(c.materia.as_str())
        .bind(c.category.as_str())
        .bind(c.subcategory.as_str())
        .bind(c.substatus.as_str())
        .bind(c.office.as_str())
        .bind(c.assignee.as_deref())
        .bind(c.authorization_id.as_str())
        .bind(c.submitted_by.as_str())
        .bind(c.province.as_str())
        .bind(c.affects_current_period)
        .bind(c.title.as_str())
        .bind(c.description.as_str())
        .bind(c.complementary_data.as_str())
        .bind(c.deadline.as_deref())
        .bind(c.reminder_sent)
        .bind(c.submitted_at)
        .bind(c.closed_at)
        .bind(c.resolution.as_deref())
        .bind(c.receipt.as_str())
        .bind(c.verification_code.as_str())
        .bind(c.version)
        .execute(&mut *tx)
        .await?;
    for h in &r.history {
        sqlx::query(INSERT_HISTORY)
            .bind(h.case_number.as_str())
            .bind(h.seq)
            .bind(h.at)
            .bind(h.event.as_str())
            .bind(h.substatus.as_str())
            .bind(h.actor_role.as_str())
            .bind(h.actor_id.as_deref())
            .bind(h.observation.as_deref())
            .bind(h.visibility.as_str())
            .execute(&mut *tx)
            .await?;
    }
    for o in &r.outbox {
        sqlx::query(INSERT_OUTBOX)
            .bind(o.kind.as_str())
            .bind(o.case_number.as_str())
            .bind(o.authorization_id.as_str())
            .bind(o.at)
            .bind(o.deadline.as_deref())
            .bind(o.message_text.as_deref())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(seq)
}

/// Inserts many cases with multi-row `INSERT`s (as many rows per statement
/// as the backend's bound-parameter limit allows), in the caller's
/// transaction.
pub async fn bulk_insert(conn: &mut Conn, batch: &[CaseRows]) -> Result<(), sqlx::Error> {
    let cases: Vec<&CaseCols> = batch.iter().map(|r| &r.case).collect();
    let history: Vec<&HistoryCols> = batch.iter().flat_map(|r| &r.history).collect();
    let outbox: Vec<&OutboxCols> = batch.iter().flat_map(|r| &r.outbox).collect();
    for chunk in cases.chunks(MAX_BINDS / 23) {
        let mut qb = QueryBuilder::<Db>::new(CASE_INSERT_HEAD);
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(c.number.as_str())
                .push_bind(c.case_type.as_str())
                .push_bind(c.materia.as_str())
                .push_bind(c.category.as_str())
                .push_bind(c.subcategory.as_str())
                .push_bind(c.substatus.as_str())
                .push_bind(c.office.as_str())
                .push_bind(c.assignee.as_deref())
                .push_bind(c.authorization_id.as_str())
                .push_bind(c.submitted_by.as_str())
                .push_bind(c.province.as_str())
                .push_bind(c.affects_current_period)
                .push_bind(c.title.as_str())
                .push_bind(c.description.as_str())
                .push_bind(c.complementary_data.as_str())
                .push_bind(c.deadline.as_deref())
                .push_bind(c.reminder_sent)
                .push_bind(c.submitted_at)
                .push_bind(c.closed_at)
                .push_bind(c.resolution.as_deref())
                .push_bind(c.receipt.as_str())
                .push_bind(c.verification_code.as_str())
                .push_bind(c.version);
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in history.chunks(MAX_BINDS / 9) {
        let mut qb = QueryBuilder::<Db>::new(HISTORY_INSERT_HEAD);
        qb.push_values(chunk, |mut b, h| {
            b.push_bind(h.case_number.as_str())
                .push_bind(h.seq)
                .push_bind(h.at)
                .push_bind(h.event.as_str())
                .push_bind(h.substatus.as_str())
                .push_bind(h.actor_role.as_str())
                .push_bind(h.actor_id.as_deref())
                .push_bind(h.observation.as_deref())
                .push_bind(h.visibility.as_str());
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in outbox.chunks(MAX_BINDS / 10) {
        let mut qb = QueryBuilder::<Db>::new(OUTBOX_INSERT_HEAD);
        qb.push_values(chunk, |mut b, o| {
            b.push_bind(o.kind.as_str())
                .push_bind(o.case_number.as_str())
                .push_bind(o.authorization_id.as_str())
                .push_bind(o.at)
                .push_bind(o.deadline.as_deref())
                .push_bind(o.message_text.as_deref())
                .push_bind(o.delivered)
                .push_bind(i64::from(o.delivered))
                .push_bind(o.recipient.as_deref())
                .push_bind(o.delivered_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets the year's counter to the last number loaded, as the store's own
/// submissions would have left it.
pub async fn set_counter(pool: &Pool<Db>, year: i32, last: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO counters (year, last_sequence) VALUES ($1, $2) \
         ON CONFLICT (year) DO UPDATE SET last_sequence = excluded.last_sequence",
    )
    .bind(i64::from(year))
    .bind(last)
    .execute(pool)
    .await?;
    Ok(())
}

/// Loads the batches `next` hands out (each inserted in one multi-row
/// pass) until it returns `None`, committing every `per_transaction` cases.
/// Returns how many cases were loaded.
pub async fn load_batches(
    pool: &Pool<Db>,
    mut next: impl FnMut() -> Option<Vec<CaseRows>>,
    per_transaction: usize,
) -> Result<u64, sqlx::Error> {
    let mut loaded = 0u64;
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let mut in_tx = 0usize;
    while let Some(batch) = next() {
        bulk_insert(&mut tx, &batch).await?;
        loaded += batch.len() as u64;
        in_tx += batch.len();
        if in_tx >= per_transaction {
            tx.commit().await?;
            tx = pool.begin_with(BEGIN_WRITE).await?;
            in_tx = 0;
        }
    }
    tx.commit().await?;
    Ok(loaded)
}
