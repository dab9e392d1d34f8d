//! Attachment bytes out of the database (issue 17), on every store: with a
//! blob store the case store keeps only metadata, bytes written before
//! still read until `migrate_blobs` moves them, `verify_blobs` finds a
//! missing or altered blob, and `collect_blobs` removes orphans (never a
//! referenced blob, never one put within the grace period).

mod support;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use casia_blobs::LocalDirBlobStore;
use casia_core::blob::{BlobFault, BlobKey, BlobStore, DEFAULT_GRACE};
use casia_core::memory::MemoryStore;
use casia_core::ports::{AttachmentContentStore, CaseRepository, FixedClock};
use casia_core::{Actor, Case, CaseService, Command};
use chrono::{TimeDelta, Utc};
use futures_util::StreamExt;
use support::{Target, at, nss_inquiry, pdf, pdf_attachment, postgres_url, service, user};

async fn bytes_of(stream: casia_core::blob::BlobStream) -> Vec<u8> {
    let chunks: Vec<_> = stream.collect().await;
    chunks
        .into_iter()
        .flat_map(|c| c.expect("chunk").to_vec())
        .collect()
}

/// How many attachments' bytes the case store still keeps.
async fn rows_of_bytes(repo: &Arc<dyn CaseRepository>) -> usize {
    repo.stored_contents(None, 10)
        .await
        .expect("contents")
        .len()
}

/// Files an inquiry with one PDF (`seed`) as `who`; the case.
async fn file(svc: &CaseService, who: &Actor, title: &str, seed: u64) -> Case {
    svc.submit(who, &nss_inquiry(title, seed))
        .await
        .expect("submit")
        .case
}

async fn attachments_live_in_the_blob_store(
    repo: Arc<dyn CaseRepository>,
    dir: &Path,
    label: &str,
) {
    let ana = user("A1", "u1", "28");
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    // Before a blob store: the bytes are in the case store.
    let plain = service(repo.clone(), clock.clone());
    let legacy = file(&plain, &ana, "antes", 1).await.number;
    assert_eq!(rows_of_bytes(&repo).await, 1, "{label}");

    let blobs = Arc::new(LocalDirBlobStore::open(dir).expect("blob folder"));
    let svc = service(repo.clone(), clock.clone()).with_blobs(blobs.clone());
    // Old bytes still read, from the case store.
    let (_, old) = svc.attachment(&ana, legacy, 1).await.expect("legacy bytes");
    assert_eq!(old.to_vec(), pdf(1, 200), "{label}");

    // New bytes go to the blob store only.
    let fresh = file(&svc, &ana, "después", 2).await;
    let key = BlobKey::parse(&fresh.attachments[0].sha256).expect("key");
    assert!(blobs.exists(&key).await.expect("exists"), "{label}");
    assert_eq!(
        rows_of_bytes(&repo).await,
        1,
        "{label}: only the legacy row"
    );
    assert_eq!(
        repo.attachment_content(fresh.number, 1)
            .await
            .expect("read"),
        None,
        "{label}"
    );
    let (meta, stream) = svc
        .attachment_stream(&ana, fresh.number, 1)
        .await
        .expect("stream");
    assert_eq!(bytes_of(stream).await, pdf(2, 200), "{label}");
    assert_eq!(meta.size, 200);
    svc.execute(
        &ana,
        fresh.number,
        &Command::AddDocumentation {
            comment: None,
            attachments: vec![pdf_attachment("other", "Otro", 3)],
        },
    )
    .await
    .expect("documentation");
    assert_eq!(rows_of_bytes(&repo).await, 1, "{label}");
    let (_, third) = svc.attachment(&ana, fresh.number, 2).await.expect("bytes");
    assert_eq!(third.to_vec(), pdf(3, 200), "{label}");

    // Verify: the legacy bytes are not a fault while they are in the store.
    let report = svc.verify_blobs().await.expect("verify");
    assert_eq!(report.checked, 3, "{label}");
    assert!(report.faults.is_empty(), "{label}: {:?}", report.faults);

    // Migrate in batches of one: resumable, readable throughout.
    let step = svc.migrate_blobs(None, 1).await.expect("migrate");
    assert_eq!((step.moved, step.last), (1, Some((legacy, 1))), "{label}");
    let done = svc.migrate_blobs(step.last, 1).await.expect("migrate");
    assert_eq!((done.moved, done.last), (0, None), "{label}");
    assert!(rows_of_bytes(&repo).await == 0, "{label}");
    let (_, moved) = svc
        .attachment(&ana, legacy, 1)
        .await
        .expect("migrated bytes");
    assert_eq!(moved.to_vec(), pdf(1, 200), "{label}");
    assert!(
        svc.verify_blobs().await.expect("verify").faults.is_empty(),
        "{label}"
    );

    // An orphan (a command that failed after writing its file) goes once
    // the grace period is over; referenced blobs stay.
    let orphan = blobs.put(Bytes::from(pdf(99, 200))).await.expect("orphan");
    clock.set(Utc::now() + TimeDelta::minutes(30));
    assert_eq!(
        svc.collect_blobs(DEFAULT_GRACE).await.expect("gc").deleted,
        0,
        "{label}: in grace"
    );
    clock.set(Utc::now() + TimeDelta::hours(2));
    let gc = svc.collect_blobs(DEFAULT_GRACE).await.expect("gc");
    assert_eq!((gc.stored, gc.deleted), (4, 1), "{label}");
    assert!(!blobs.exists(&orphan).await.expect("exists"), "{label}");
    for n in [legacy, fresh.number] {
        let case = svc.get(&ana, n).await.expect("case");
        for a in &case.attachments {
            let (_, b) = svc.attachment(&ana, n, a.id).await.expect("still readable");
            assert_eq!(casia_core::attachment::sha256_hex(&b), a.sha256, "{label}");
        }
    }

    // A blob altered on disk, and one deleted, are reported.
    std::fs::write(blobs.path_of(&key), b"%PDF-1.7 altered").expect("alter");
    let third_key =
        BlobKey::parse(&svc.get(&ana, fresh.number).await.expect("case").attachments[1].sha256)
            .expect("key");
    std::fs::remove_file(blobs.path_of(&third_key)).expect("delete");
    let faults = svc.verify_blobs().await.expect("verify").faults;
    assert_eq!(faults.len(), 2, "{label}: {faults:?}");
    assert!(
        faults
            .iter()
            .any(|f| matches!(f, BlobFault::Corrupt { key: k, .. } if *k == key))
    );
    assert!(faults.contains(&BlobFault::Missing(third_key)), "{label}");
}

#[tokio::test]
async fn blobs_on_the_memory_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    attachments_live_in_the_blob_store(Arc::new(MemoryStore::new()), dir.path(), "memory").await;
}

#[tokio::test]
async fn blobs_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target::sqlite_file("blobs").await;
    attachments_live_in_the_blob_store(Arc::new(target.store.clone()), dir.path(), "sqlite").await;
    target.finish().await;
}

#[tokio::test]
async fn blobs_on_postgres() {
    let Some(url) = postgres_url("blobs::blobs_on_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target::postgres(&url).await;
    attachments_live_in_the_blob_store(Arc::new(target.store.clone()), dir.path(), "postgres")
        .await;
    target.finish().await;
}

/// Bytes kept in the database that no longer hash to their record are
/// never moved (the blob would sit under another key and the reference
/// would dangle): they stay, and are reported.
async fn tampered_bytes_stay_in_the_database<S>(store: Arc<S>, dir: &Path, label: &str)
where
    S: CaseRepository + AttachmentContentStore + 'static,
{
    let ana = user("A1", "u1", "28");
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let repo: Arc<dyn CaseRepository> = store.clone();
    let plain = service(repo.clone(), clock.clone());
    let good = file(&plain, &ana, "bien", 1).await.number;
    let bad = file(&plain, &ana, "mal", 2).await.number;
    AttachmentContentStore::put(&*store, bad, 1, Bytes::from_static(b"%PDF-1.7 tampered"))
        .await
        .expect("tamper");
    let blobs = Arc::new(LocalDirBlobStore::open(dir).expect("blob folder"));
    let svc = service(repo.clone(), clock).with_blobs(blobs);
    let step = svc.migrate_blobs(None, 10).await.expect("migrate");
    assert_eq!(step.moved, 1, "{label}");
    assert_eq!(step.mismatched, vec![(bad, 1)], "{label}");
    let done = svc.migrate_blobs(step.last, 10).await.expect("migrate");
    assert_eq!(
        (done.moved, done.last),
        (0, None),
        "{label}: the skipped row is not read again"
    );
    let left = repo.stored_contents(None, 10).await.expect("contents");
    assert_eq!(left.len(), 1, "{label}");
    assert_eq!((left[0].number, left[0].attachment), (bad, 1), "{label}");
    let (_, moved) = svc.attachment(&ana, good, 1).await.expect("moved bytes");
    assert_eq!(moved.to_vec(), pdf(1, 200), "{label}");
}

#[tokio::test]
async fn tampered_bytes_stay_on_memory_and_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    tampered_bytes_stay_in_the_database(Arc::new(MemoryStore::new()), dir.path(), "memory").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target::sqlite_file("blobs-tampered").await;
    tampered_bytes_stay_in_the_database(Arc::new(target.store.clone()), dir.path(), "sqlite").await;
    target.finish().await;
}
