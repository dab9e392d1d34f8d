//! Writing the benchmarks' datasets and baselines through the store's own
//! row types and write path (`casia-store-sql`, feature `rows`): the rows
//! are exactly the store's, with no copy of its column lists here.

use casia::Case;
use casia::StoreError;
use casia::notification::Notification;
use casia::store_sql::SqlStore;
use casia::submission::NewCase;
use casia_store_sql::writes::WriteRows;
use casia_store_sql::{Statement, insert};

/// The rows the store writes for a new case and its notifications.
pub fn rows_of(case: &Case, notifications: &[Notification]) -> WriteRows {
    WriteRows::of_new_case(&NewCase {
        case: case.clone(),
        attachments: Vec::new(),
        notifications: notifications.to_vec(),
    })
    .unwrap_or_else(|e| panic!("rows of {}: {e}", case.number))
}

const NEXT_SEQUENCE: &str = "INSERT INTO counters (year, last_sequence) VALUES ($1, 1) \
     ON CONFLICT (year) DO UPDATE SET last_sequence = counters.last_sequence + 1 \
     RETURNING last_sequence";

/// The raw baseline of the submission benchmark: one submission the way
/// the store writes it, one plain statement per row, in one transaction —
/// take the year's next number from the counter row, then the case row,
/// its history rows and its outbox rows. `rows[n - 1]` holds the rows of
/// case number `n`. Returns the number taken.
pub async fn raw_submit(
    store: &SqlStore,
    year: i32,
    rows: &[WriteRows],
) -> Result<i64, StoreError> {
    let mut tx = store.raw_transaction().await?;
    let seq = tx
        .one_integer(Statement::new(NEXT_SEQUENCE).bind(i64::from(year)))
        .await?;
    let r = usize::try_from(seq - 1)
        .ok()
        .and_then(|k| rows.get(k))
        .unwrap_or_else(|| panic!("no precomputed rows for case {seq}"))
        .clone();
    tx.execute(insert([r.case])).await?;
    for h in r.history {
        tx.execute(insert([h])).await?;
    }
    for o in r.outbox {
        tx.execute(insert([o])).await?;
    }
    tx.commit().await?;
    Ok(seq)
}

/// Loads the batches `next` hands out, each in one transaction of the
/// store's write path (multi-row `INSERT`s), until it returns `None`; then
/// sets the year's counter as the store's own submissions would have left
/// it and, with `delivered`, marks every notification delivered a minute
/// after it was written (as a relay would have). Returns how many cases
/// were loaded.
pub async fn load_batches(
    store: &SqlStore,
    year: i32,
    mut next: impl FnMut() -> Option<Vec<WriteRows>>,
    delivered: bool,
) -> Result<u64, StoreError> {
    let mut loaded = 0u64;
    while let Some(batch) = next() {
        loaded += batch.len() as u64;
        store.write_rows(batch).await?;
    }
    let mut tx = store.raw_transaction().await?;
    tx.execute(
        Statement::new(
            "INSERT INTO counters (year, last_sequence) VALUES ($1, $2) \
             ON CONFLICT (year) DO UPDATE SET last_sequence = excluded.last_sequence",
        )
        .bind(i64::from(year))
        .bind(i64::try_from(loaded).unwrap_or(i64::MAX)),
    )
    .await?;
    if delivered {
        tx.execute(Statement::new(
            "UPDATE outbox SET delivered = TRUE, attempts = 1, \
             recipient = lower(authorization_id) || '@autorizados.example', \
             delivered_at = at + 60000000 WHERE delivered = FALSE",
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(loaded)
}
