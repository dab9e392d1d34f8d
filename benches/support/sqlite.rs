//! SQLite files for the benchmarks: a temporary folder removed when done,
//! and the raw SQL of `load.rs` compiled for SQLite.

use std::path::PathBuf;

use casia::store_sql::sqlx;

pub type Db = sqlx::Sqlite;

/// As the store: the write lock up front.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// SQLite's bound-parameter limit (`SQLITE_MAX_VARIABLE_NUMBER`, 3.32+).
pub const MAX_BINDS: usize = 32_766;

#[allow(clippy::duplicate_mod)]
#[path = "load.rs"]
mod load;

pub use load::{load_batches, raw_submit, set_counter};

/// A folder of SQLite files under `CASIA_BENCH_DIR` (default: the system
/// temp dir), removed with the value.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        let base = std::env::var_os("CASIA_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = base.join(format!("casia-bench-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TempDir { path }
    }

    /// The URL of database file `name` in this folder (created on first use).
    pub fn url(&self, name: &str) -> String {
        format!(
            "sqlite:{}?mode=rwc",
            self.path.join(format!("{name}.db")).display()
        )
    }

    /// Bytes of the database file `name` and its WAL.
    pub fn size(&self, name: &str) -> u64 {
        ["db", "db-wal"]
            .iter()
            .filter_map(|ext| std::fs::metadata(self.path.join(format!("{name}.{ext}"))).ok())
            .map(|m| m.len())
            .sum()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
