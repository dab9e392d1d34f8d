//! The conformance suite (CONFORMANCE.md) on the SQL stores: the public
//! scenarios of ../shared/conformance and the project's own, each on a
//! fresh store — `sqlite::memory:` and a new SQLite file (WAL, separate
//! reader and writer pools) always, PostgreSQL when
//! `CASIA_TEST_POSTGRES_URL` is set (a fresh schema per scenario).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use casia_conformance::{StoreFactory, run_paths};
use casia_core::ports::CaseRepository;
use casia_store_sql::SqlStore;

mod support;

/// Fresh stores from `SqlStore::connect_fresh`; each scenario's store is
/// dropped (schema and all) when the next one is asked for, or at the end.
struct FreshSql {
    url: String,
    last: Mutex<Option<SqlStore>>,
}

impl FreshSql {
    fn new(url: &str) -> FreshSql {
        FreshSql {
            url: url.to_owned(),
            last: Mutex::new(None),
        }
    }

    fn take_last(&self) -> Option<SqlStore> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    async fn finish(&self) {
        if let Some(store) = self.take_last() {
            store.drop_fresh().await;
        }
    }
}

#[async_trait]
impl StoreFactory for FreshSql {
    async fn fresh_store(&self) -> Result<Arc<dyn CaseRepository>, String> {
        self.finish().await;
        let store = SqlStore::connect_fresh(&self.url)
            .await
            .map_err(|e| e.to_string())?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(store.clone());
        Ok(Arc::new(store))
    }
}

/// A new SQLite file per scenario, removed at the end.
#[derive(Default)]
struct FreshFiles {
    files: Mutex<Vec<support::TempDb>>,
}

#[async_trait]
impl StoreFactory for FreshFiles {
    async fn fresh_store(&self) -> Result<Arc<dyn CaseRepository>, String> {
        let file = support::TempDb::new("conformance");
        let store = file.open().await;
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(file);
        Ok(Arc::new(store))
    }
}

fn scenario_folders() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    vec![
        root.join("../../shared/conformance"),
        root.join("../casia-conformance/scenarios"),
    ]
}

/// Runs every scenario on fresh stores of `url` and asserts all pass.
async fn all_scenarios_pass(url: &str, label: &str) {
    let factory = FreshSql::new(url);
    let summary = run_paths(&scenario_folders(), &factory, |r| {
        eprintln!("[{label}] {}", r.line());
    })
    .await
    .expect("scenario folders readable");
    factory.finish().await;
    check(summary, label);
}

fn check(summary: casia_conformance::Summary, label: &str) {
    eprintln!("[{label}] {}", summary.closing_line());
    assert!(
        summary.reports.len() >= 30,
        "expected the 5 public and 25 project scenarios, found {}",
        summary.reports.len()
    );
    assert!(summary.all_passed(), "[{label}] {}", summary.closing_line());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_passes_on_sqlite_memory() {
    all_scenarios_pass("sqlite::memory:", "sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_passes_on_sqlite_files() {
    let factory = FreshFiles::default();
    let summary = run_paths(&scenario_folders(), &factory, |r| {
        eprintln!("[sqlite file] {}", r.line());
    })
    .await
    .expect("scenario folders readable");
    check(summary, "sqlite file");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_passes_on_postgres() {
    let Some(url) = support::postgres_url("every_scenario_passes_on_postgres") else {
        return;
    };
    all_scenarios_pass(&url, "postgres").await;
}
