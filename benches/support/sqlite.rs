//! SQLite files for the benchmarks: a temporary folder removed when done.

use std::path::PathBuf;

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
