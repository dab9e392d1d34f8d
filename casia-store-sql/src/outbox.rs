//! The outbox port (DOMAIN.md §9): notifications are written with the
//! change that caused them (`writes.rs`); here relays claim, settle and
//! list them.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use casia_core::StoreError;
use casia_core::ports::{DeliveryFailure, Outbox, OutboxMessage};

use crate::SqlStore;
use crate::cases::sql_limit;
use crate::columns::Statement;
use crate::rows::{OutboxRow, micros};
use crate::sql;

fn messages(rows: Vec<OutboxRow>) -> Result<Vec<OutboxMessage>, StoreError> {
    rows.into_iter().map(OutboxRow::into_message).collect()
}

impl SqlStore {
    /// Every notification ever written, in emission order, delivered or
    /// not (tests, audits).
    pub async fn outbox_snapshot(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        messages(
            session
                .rows(Statement::new(sql::outbox_select("TRUE", false)))
                .await?,
        )
    }

    async fn outbox_list(
        &self,
        condition: &str,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut session = self.engine.bulk_reader().await?;
        messages(
            session
                .rows(Statement::new(sql::outbox_select(condition, true)).bind(sql_limit(limit)))
                .await?,
        )
    }

    async fn outbox_write(&self, statement: Statement) -> Result<u64, StoreError> {
        self.engine.writer().await?.execute(statement).await
    }

    async fn outbox_count(&self, statement: &'static str) -> Result<u64, StoreError> {
        let n: i64 = self
            .engine
            .reader()
            .await?
            .one(Statement::new(statement))
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl Outbox for SqlStore {
    /// Claims due messages in one statement inside a write transaction
    /// (SQLite: the one writer serialises claims; PostgreSQL: `FOR UPDATE
    /// SKIP LOCKED` lets concurrent relays take disjoint batches).
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut session = self.engine.transaction().await?;
        let rows: Vec<OutboxRow> = session
            .rows(
                Statement::new(sql::outbox_claim(self.engine.backend()))
                    .bind(micros(now))
                    .bind(micros(until))
                    .bind(sql_limit(limit)),
            )
            .await?;
        session.commit().await?;
        let mut claimed = messages(rows)?;
        // RETURNING promises no order.
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        id: u64,
        recipient: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // An id beyond the SQL range names no message: nothing to do, as in
        // the in-memory outbox.
        let Ok(id) = i64::try_from(id) else {
            return Ok(());
        };
        self.outbox_write(
            Statement::new(sql::OUTBOX_DELIVERED)
                .bind(id)
                .bind(recipient.to_owned())
                .bind(micros(at)),
        )
        .await?;
        Ok(())
    }

    async fn record_failure(&self, id: u64, failure: &DeliveryFailure) -> Result<(), StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(());
        };
        self.outbox_write(
            Statement::new(sql::OUTBOX_FAILED)
                .bind(id)
                .bind(failure.recipient.clone())
                .bind(failure.error.clone())
                .bind(failure.retry_at.map(micros))
                .bind(failure.retry_at.is_none()),
        )
        .await?;
        Ok(())
    }

    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_list(sql::OUTBOX_PENDING, limit).await
    }

    async fn list_dead(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_list(sql::OUTBOX_DEAD, limit).await
    }

    async fn retry(&self, id: u64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let changed = self
            .outbox_write(Statement::new(sql::OUTBOX_RETRY).bind(id).bind(micros(now)))
            .await?;
        Ok(changed > 0)
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        self.outbox_count(sql::OUTBOX_BACKLOG).await
    }

    async fn dead_count(&self) -> Result<u64, StoreError> {
        self.outbox_count(sql::OUTBOX_DEAD_COUNT).await
    }
}
