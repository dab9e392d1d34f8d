//! Idempotency keys (issue 16): the core's rule
//! ([`casia_core::idempotency::decide`]) applied atomically. A reservation
//! first tries to insert the key (`ON CONFLICT DO NOTHING`): of two
//! attempts on any number of instances, one inserts and the other finds
//! the row; a found row is read with a row lock (PostgreSQL `FOR UPDATE`;
//! SQLite's write transaction holds the database's one write lock) and
//! decided on. The key is completed with its case number in the case's own
//! transaction (`writes.rs`).

use chrono::{DateTime, Utc};

use casia_core::StoreError;
use casia_core::idempotency::{self, IdempotencyClaim, Reservation};

use crate::columns::{RowType, Statement, column_list, insert};
use crate::rows::{IdempotencyRow, micros};
use crate::{Backend, SqlStore};

const KEY_MATCHES: &str = "authorization_id = $1 AND user_id = $2 AND key = $3";

fn key_statement(sql: String, claim: &IdempotencyClaim) -> Statement {
    Statement::new(sql)
        .bind(claim.authorization.as_str().to_owned())
        .bind(claim.user.as_str().to_owned())
        .bind(claim.key.as_str().to_owned())
}

impl SqlStore {
    pub(crate) async fn reserve_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let fresh = IdempotencyRow::of(claim, &idempotency::reserve(&claim.fingerprint, now));
        let mut session = self.engine.transaction().await?;
        let mut first = insert([fresh.clone()]);
        first.push(" ON CONFLICT DO NOTHING");
        if session.execute(first).await? == 1 {
            session.commit().await?;
            return Ok(Reservation::Reserved);
        }
        let lock = match self.engine.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let existing: Vec<IdempotencyRow> = session
            .rows(key_statement(
                format!(
                    "SELECT {} FROM {} WHERE {KEY_MATCHES}{lock}",
                    column_list::<IdempotencyRow>(""),
                    IdempotencyRow::TABLE
                ),
                claim,
            ))
            .await?;
        let record = existing
            .into_iter()
            .next()
            .map(IdempotencyRow::into_record)
            .transpose()?;
        let decision = idempotency::decide(record.as_ref(), &claim.fingerprint, now);
        if decision == Reservation::Reserved {
            // Taking over an expired key or a dead reservation.
            session
                .execute(
                    key_statement(
                        format!(
                            "UPDATE idempotency_keys SET fingerprint = $4, case_number = NULL, \
                             created_at = $5, reserved_until = $6 WHERE {KEY_MATCHES}"
                        ),
                        claim,
                    )
                    .bind(fresh.fingerprint)
                    .bind(fresh.created_at)
                    .bind(fresh.reserved_until),
                )
                .await?;
        }
        session.commit().await?;
        Ok(decision)
    }

    pub(crate) async fn release_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        self.engine
            .writer()
            .await?
            .execute(
                key_statement(
                    format!(
                        "DELETE FROM idempotency_keys WHERE {KEY_MATCHES} \
                         AND case_number IS NULL AND fingerprint = $4"
                    ),
                    claim,
                )
                .bind(claim.fingerprint.clone()),
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn purge_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let day_ago = micros(now - idempotency::KEY_TTL);
        self.engine
            .writer()
            .await?
            .execute(
                Statement::new(
                    "DELETE FROM idempotency_keys WHERE created_at <= $1 \
                     OR (case_number IS NULL AND reserved_until <= $2)",
                )
                .bind(day_ago)
                .bind(micros(now)),
            )
            .await
    }
}

/// The statement completing `claim` with case `number`, in the case's
/// transaction: only the reservation of the same submission is completed.
pub(crate) fn complete(claim: &IdempotencyClaim, number: &str) -> Statement {
    key_statement(
        format!(
            "UPDATE idempotency_keys SET case_number = $4 WHERE {KEY_MATCHES} \
             AND fingerprint = $5 AND case_number IS NULL"
        ),
        claim,
    )
    .bind(number.to_owned())
    .bind(claim.fingerprint.clone())
}
