//! What a backend supplies (issue 15): connections and transactions that
//! run a [`Statement`] and fetch rows of given [`Kind`]s. Everything else —
//! the statements, the write path, the group commit, reading rows back
//! into cases — is written once over these two traits (`cases.rs`,
//! `writes.rs`, `outbox.rs`, `contacts.rs`).

use std::fmt::Debug;
use std::path::Path;

use async_trait::async_trait;

use casia_core::StoreError;

use crate::Backend;
use crate::columns::{Column, Kind, RowType, Statement, Value, rows_from};

/// A fetched sqlx row's first `kinds.len()` columns as values: how both
/// sqlx backends implement [`Session::fetch`].
pub(crate) fn decode_row<'r, R>(row: &'r R, kinds: &[Kind]) -> Result<Vec<Value>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Text => Value::Text(Some(row.try_get(i)?)),
                Kind::OptText => Value::Text(row.try_get(i)?),
                Kind::Int => Value::Int(Some(row.try_get(i)?)),
                Kind::OptInt => Value::Int(row.try_get(i)?),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(Some(row.try_get(i)?)),
            })
        })
        .collect()
}

/// A connection (each statement its own transaction) or a transaction.
#[async_trait]
pub(crate) trait Session: Send {
    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError>;

    /// Runs a query; each row's first `kinds.len()` columns as values.
    async fn fetch(
        &mut self,
        statement: Statement,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError>;

    /// Commits a transaction (nothing to do for a connection).
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// One database: its pools, its migrations and what only it can do.
#[async_trait]
pub(crate) trait Engine: Send + Sync + Debug {
    /// Which database this is (for the SQL that differs).
    fn backend(&self) -> Backend;

    /// A connection for reads of bounded size (a case, a page, a count):
    /// each statement reads one snapshot. SQLite files run these in the
    /// calling thread (`sqlite/reader.rs`).
    async fn reader(&self) -> Result<Box<dyn Session>, StoreError>;

    /// A connection for reads of any size (the queue, the sweep, the
    /// outbox, attachment bytes), which never block the runtime.
    async fn bulk_reader(&self) -> Result<Box<dyn Session>, StoreError> {
        self.reader().await
    }

    /// A connection of the write pool, without a transaction.
    async fn writer(&self) -> Result<Box<dyn Session>, StoreError>;

    /// A write transaction (SQLite: the write lock taken up front).
    async fn transaction(&self) -> Result<Box<dyn Session>, StoreError>;

    /// Closes the pools: pending work finishes, new work is refused.
    async fn close(&self);

    /// Applies the backend's migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A consistent copy of the database into the new file `to`.
    async fn backup_to(&self, to: &Path) -> Result<(), StoreError>;

    /// Drops what [`crate::SqlStore::connect_fresh`] made (best effort).
    async fn drop_fresh(&self) {}
}

/// Typed reads over a [`Session`].
impl dyn Session + '_ {
    /// Every row of `T` a query returns (its columns: all of `T`'s, in order).
    pub(crate) async fn rows<T: RowType>(
        &mut self,
        statement: Statement,
    ) -> Result<Vec<T>, StoreError> {
        rows_from(self.fetch(statement, T::KINDS).await?)
    }

    /// The first column of every row.
    pub(crate) async fn column<T: Column>(
        &mut self,
        statement: Statement,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(statement, &[T::KIND])
            .await?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .next()
                    .and_then(T::from_value)
                    .ok_or_else(|| StoreError::backend("a column of unexpected type"))
            })
            .collect()
    }

    /// The first column of the first row, if there is one.
    pub(crate) async fn optional<T: Column>(
        &mut self,
        statement: Statement,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.column(statement).await?.into_iter().next())
    }

    /// The first column of the one row a query returns.
    pub(crate) async fn one<T: Column>(&mut self, statement: Statement) -> Result<T, StoreError> {
        self.optional(statement)
            .await?
            .ok_or_else(|| StoreError::backend("a query returned no row"))
    }
}
