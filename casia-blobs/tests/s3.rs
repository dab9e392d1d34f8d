//! The S3 adapter against a real S3 API server (moto, started by the test;
//! skipped visibly without `CASIA_TEST_S3_PYTHON`): the port's contract —
//! content addressing, streamed reads, listing with sizes and times, a put
//! that refreshes a blob the collector would delete, re-hashing.

use bytes::Bytes;
use casia_blobs::s3::S3BlobStore;
use casia_core::blob::{BlobKey, BlobStore, ByteRange, check};
use casia_test_support::s3::S3Server;
use chrono::{TimeDelta, Utc};
use futures_util::StreamExt;

#[tokio::test]
async fn the_s3_adapter_keeps_the_blob_store_contract() {
    let Some(server) = S3Server::start(
        "s3::the_s3_adapter_keeps_the_blob_store_contract",
        "casia-test",
    ) else {
        return;
    };
    let settings: Vec<(&str, String)> = server.env();
    let s = S3BlobStore::from_url_with(&server.url("adjuntos"), &settings).expect("client");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let key = s.put(Bytes::from(big.clone())).await.expect("put");
    assert_eq!(key, BlobKey::of(&big));
    assert_eq!(s.put(Bytes::from(big.clone())).await.expect("again"), key);
    assert!(s.exists(&key).await.expect("exists"));
    assert!(!s.exists(&BlobKey::of(b"absent")).await.expect("exists"));
    assert!(s.get(&BlobKey::of(b"absent")).await.expect("get").is_none());
    let mut stream = s.get(&key).await.expect("get").expect("stored");
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        read.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(read, big);
    let mut part = s
        .get_range(
            &key,
            ByteRange {
                first: 2_999_990,
                last: 2_999_999,
            },
        )
        .await
        .expect("range")
        .expect("stored");
    let mut tail = Vec::new();
    while let Some(chunk) = part.next().await {
        tail.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(tail, big[2_999_990..].to_vec());
    let other = s
        .put(Bytes::from_static(b"%PDF-1.7 otro"))
        .await
        .expect("put");
    let listed = s.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|b| b.key == key && b.size == 3_000_000));
    assert_eq!(
        check(&key, s.get(&key).await.expect("get").expect("some"))
            .await
            .expect("check"),
        None
    );
    // The collector's cutoff: a blob touched after it stays, one before goes.
    let before = Utc::now() - TimeDelta::hours(1);
    assert!(
        !s.delete_if_untouched_since(&other, before)
            .await
            .expect("keep")
    );
    let after = Utc::now() + TimeDelta::hours(1);
    assert!(
        s.delete_if_untouched_since(&other, after)
            .await
            .expect("delete")
    );
    assert!(!s.exists(&other).await.expect("exists"));
    assert_eq!(s.remove_stale_temporaries(after).await.expect("none"), 0);
}

#[tokio::test]
async fn a_staged_upload_goes_up_in_parts_and_reads_back_whole() {
    let Some(server) = S3Server::start(
        "s3::a_staged_upload_goes_up_in_parts_and_reads_back_whole",
        "casia-staged",
    ) else {
        return;
    };
    let settings: Vec<(&str, String)> = server.env();
    let s = S3BlobStore::from_url_with(&server.url("adjuntos"), &settings).expect("client");
    assert_eq!(s.staging_dir(), None, "staged anywhere: the upload copies");
    // Over one 5 MiB part: two parts.
    let bytes: Vec<u8> = (0..6_000_000u32).map(|i| (i % 241) as u8).collect();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("staged.tmp");
    std::fs::write(&path, &bytes).expect("write");
    let key = BlobKey::of(&bytes);
    s.put_file(&path, &key).await.expect("put_file");
    let mut stream = s.get(&key).await.expect("get").expect("stored");
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        read.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(read, bytes);
    // Bytes that do not hash to the key are not stored under it.
    let wrong = BlobKey::of(b"otra cosa");
    assert!(s.put_file(&path, &wrong).await.is_err());
    assert!(!s.exists(&wrong).await.expect("exists"));
    assert_eq!(
        s.list()
            .await
            .expect("list")
            .iter()
            .map(|b| b.size)
            .collect::<Vec<_>>(),
        vec![6_000_000]
    );
}
