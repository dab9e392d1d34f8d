//! Attachment bytes in the database or in the blob store (issue 17): the
//! database size of N cases with one PDF each, before (bytes in SQLite) and
//! after (bytes in a local blob folder), and the rate of submitting a
//! 10 MiB PDF through the service either way.
//!
//!     cargo bench --bench blobs     # 10,000 cases × 1 MiB, 20 × 10 MiB
//!     cargo test --bench blobs      # smoke run: 50 × 64 KiB, 3 × 1 MiB
//!
//! Sizes are of the files on disk after the store is closed (SQLite
//! checkpoints its WAL on close).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use casia::attachment::{AttachmentLimits, NewAttachment};
use casia::ports::{Clock, SystemClock};
use casia::receipt::ReceiptKey;
use casia::store_sql::{SqlOptions, SqlStore};
use casia::{CaseRules, CaseService};
use casia_blobs::LocalDirBlobStore;
use casia_test_support::fixtures::{catalog, inquiry, user};

fn pdf(seed: usize, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% seed {seed}\n").into_bytes();
    let mut x = seed as u64 | 1;
    while v.len() < len {
        // xorshift: incompressible, distinct per seed.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn size_of(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => std::fs::read_dir(path)
            .map(|d| d.flatten().map(|e| size_of(&e.path())).sum())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn service(dir: &Path, blobs: bool) -> (CaseService, SqlStore) {
    let url = format!("sqlite:{}?mode=rwc", dir.join("casia.db").display());
    let store = SqlStore::connect(&url, &SqlOptions::default())
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let mut rules = CaseRules::with_defaults(ReceiptKey::new("bench"));
    rules.catalog = catalog();
    rules.limits = AttachmentLimits {
        max_attachment_bytes: 20 * 1024 * 1024,
        max_attachments: 20,
        max_total_bytes: 50 * 1024 * 1024,
    };
    let mut service = CaseService::new(
        Arc::new(store.clone()),
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(rules),
    );
    if blobs {
        service = service.with_blobs(Arc::new(
            LocalDirBlobStore::open(dir.join("casia.db.blobs")).expect("blobs"),
        ));
    }
    (service, store)
}

async fn submit(service: &CaseService, seed: usize, len: usize) {
    let mut input = inquiry(&format!("Caso {seed}"));
    input.attachments = vec![NewAttachment {
        document_type: "other".into(),
        title: "Documento".into(),
        file_name: "documento.pdf".into(),
        content: pdf(seed, len).into(),
    }];
    service
        .submit(&user("A1", "u1", "28"), &input)
        .await
        .expect("submit");
}

async fn run(full: bool) {
    let (cases, case_bytes, big_runs, big_bytes) = if full {
        (10_000, 1024 * 1024, 20, 10 * 1024 * 1024)
    } else {
        (50, 64 * 1024, 3, 1024 * 1024)
    };
    for blobs in [false, true] {
        let label = if blobs { "blob store" } else { "database" };
        let dir = tempfile::tempdir().expect("tempdir");
        let (svc, store) = service(dir.path(), blobs).await;
        let start = Instant::now();
        for seed in 0..cases {
            submit(&svc, seed, case_bytes).await;
        }
        let fill = start.elapsed();
        let started = Instant::now();
        for seed in 0..big_runs {
            submit(&svc, 1_000_000 + seed, big_bytes).await;
        }
        let big = started.elapsed();
        store.close().await;
        let db = size_of(&dir.path().join("casia.db")) + size_of(&dir.path().join("casia.db-wal"));
        let folder = size_of(&dir.path().join("casia.db.blobs"));
        let rate = (big_runs * big_bytes) as f64 / big.as_secs_f64() / (1024.0 * 1024.0);
        println!(
            "bytes in the {label}: {cases} cases × {} in {:.1} s; database {}, blob folder {}; {big_runs} × {} PDFs at {rate:.0} MiB/s ({:.1} ms each)",
            mib(case_bytes as u64),
            fill.as_secs_f64(),
            mib(db),
            mib(folder),
            mib(big_bytes as u64),
            big.as_secs_f64() * 1e3 / big_runs as f64,
        );
        let expected_bytes = (cases * case_bytes + big_runs * big_bytes) as u64;
        if blobs {
            assert!(
                db < expected_bytes / 10,
                "the database keeps no bytes: {db}"
            );
            assert!(folder >= expected_bytes, "the folder holds them: {folder}");
        } else {
            assert!(db >= expected_bytes, "the database holds the bytes: {db}");
            assert_eq!(folder, 0);
        }
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(full));
}
