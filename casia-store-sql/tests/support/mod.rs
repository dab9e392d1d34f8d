//! The SQL store's integration tests: the shared fixtures
//! (`casia-test-support`) on the shipped calendar, the backends to run on
//! (SQLite always, PostgreSQL when `CASIA_TEST_POSTGRES_URL` is set) and
//! temporary SQLite files.
// Each test crate uses a different subset of these fixtures.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use casia_core::attachment::AttachmentLimits;
use casia_core::calendar::HolidayCalendar;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::{CaseRules, CaseService};
use casia_store_sql::{SqlOptions, SqlStore};

pub use casia_test_support::env::postgres_url;
pub use casia_test_support::fixtures::*;

/// The test catalog on the shipped calendar with `limits`.
pub fn rules(limits: AttachmentLimits) -> CaseRules {
    rules_with(limits, HolidayCalendar::default_calendar())
}

pub fn service(repo: Arc<dyn CaseRepository>, clock: Arc<FixedClock>) -> CaseService {
    service_with(
        repo,
        clock,
        generous_limits(),
        HolidayCalendar::default_calendar(),
    )
}

/// A SQLite file in a folder of its own, removed with the value.
pub struct TempDb {
    pub dir: PathBuf,
    pub url: String,
}

impl TempDb {
    pub fn new(name: &str) -> TempDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "casia-store-sql-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite:{}?mode=rwc", dir.join("casia.db").display());
        TempDb { dir, url }
    }

    /// A migrated store on this file.
    pub async fn open(&self) -> SqlStore {
        let store = SqlStore::connect(&self.url, &SqlOptions::default())
            .await
            .expect("open SQLite file");
        store.migrate().await.expect("migrate");
        store
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a test runs: a SQLite file (kept alive by `_file`) or a fresh
/// PostgreSQL schema.
pub struct Target {
    pub store: SqlStore,
    pub label: &'static str,
    _file: Option<TempDb>,
}

impl Target {
    pub async fn sqlite_file(name: &str) -> Target {
        let file = TempDb::new(name);
        Target {
            store: file.open().await,
            label: "sqlite",
            _file: Some(file),
        }
    }

    pub async fn postgres(url: &str) -> Target {
        Target {
            store: SqlStore::connect_fresh(url)
                .await
                .expect("fresh PostgreSQL schema"),
            label: "postgres",
            _file: None,
        }
    }

    /// Another instance of the same store, as a second service process
    /// would have: a SQLite file opened again (its own writer connection,
    /// so the two contend through SQLite's locks), or the same PostgreSQL
    /// pool (whose connections already contend through PostgreSQL's).
    pub async fn second_instance(&self) -> SqlStore {
        match &self._file {
            Some(file) => file.open().await,
            None => self.store.clone(),
        }
    }

    pub async fn finish(self) {
        self.store.drop_fresh().await;
    }
}
