//! The local-directory blob store against the port's contract (issue 17):
//! content addressing with one copy per content, the fan-out layout,
//! durable writes that leave no partial blob, a put that refreshes a blob
//! the collector is about to delete, concurrent puts of the same bytes,
//! streamed reads in chunks, and corruption found by re-hashing.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use casia_blobs::{CHUNK_BYTES, LocalDirBlobStore};
use casia_core::blob::{
    BlobFault, BlobKey, BlobStore, ByteRange, DEFAULT_GRACE, check, collectable,
};
use chrono::{TimeDelta, Utc};
use futures_util::StreamExt;

async fn read(store: &LocalDirBlobStore, key: &BlobKey) -> (Vec<u8>, usize) {
    let mut s = store.get(key).await.expect("get").expect("stored");
    let (mut out, mut chunks) = (Vec::new(), 0);
    while let Some(c) = s.next().await {
        let c = c.expect("chunk");
        assert!(c.len() <= CHUNK_BYTES);
        out.extend_from_slice(&c);
        chunks += 1;
    }
    (out, chunks)
}

#[tokio::test]
async fn blobs_are_kept_once_by_content_under_a_fan_out_and_streamed_in_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = LocalDirBlobStore::open(dir.path().join("blobs")).expect("open");
    let big: Vec<u8> = (0..(3 * CHUNK_BYTES + 17))
        .map(|i| (i % 251) as u8)
        .collect();
    let key = s.put(Bytes::from(big.clone())).await.expect("put");
    let again = s.put(Bytes::from(big.clone())).await.expect("put");
    assert_eq!(key, again);
    let path = s.path_of(&key);
    let k = key.as_str();
    assert!(path.ends_with(format!("sha256/{}/{}/{k}", &k[..2], &k[2..4])));
    assert_eq!(std::fs::read(&path).expect("file"), big);
    let (bytes, chunks) = read(&s, &key).await;
    assert_eq!(bytes, big);
    assert_eq!(chunks, 4, "64 KiB chunks, never the whole file at once");
    let listed = s.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, big.len() as u64);
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs/tmp"))
            .expect("tmp")
            .count(),
        0,
        "no temporary left behind"
    );
    assert!(s.exists(&key).await.expect("exists"));
    assert!(s.get(&BlobKey::of(b"absent")).await.expect("get").is_none());
    // A range near the end is read from there (seek), in chunks.
    let first = (2 * CHUNK_BYTES + 100) as u64;
    let range = ByteRange {
        first,
        last: big.len() as u64 - 1,
    };
    let mut part = s
        .get_range(&key, range)
        .await
        .expect("range")
        .expect("stored");
    let mut got = Vec::new();
    while let Some(c) = part.next().await {
        got.extend_from_slice(&c.expect("chunk"));
    }
    assert_eq!(got, big[first as usize..].to_vec());
    assert!(
        s.get_range(&BlobKey::of(b"absent"), range)
            .await
            .expect("range")
            .is_none()
    );
}

#[tokio::test]
async fn a_put_refreshes_a_blob_so_the_collector_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = LocalDirBlobStore::open(dir.path()).expect("open");
    let orphan = s.put(Bytes::from_static(b"orphan")).await.expect("put");
    let reused = s.put(Bytes::from_static(b"reused")).await.expect("put");
    let referenced = s.put(Bytes::from_static(b"referenced")).await.expect("put");
    // Two hours later (the grace period is one hour), the collector lists.
    let later = Utc::now() + TimeDelta::hours(2);
    let listing = s.list().await.expect("list");
    let refs: HashSet<BlobKey> = [referenced.clone()].into();
    let (doomed, cutoff) = collectable(&listing, &refs, later, DEFAULT_GRACE);
    assert_eq!(doomed.len(), 2, "both unreferenced blobs are candidates");
    // A command reuses one of them before the delete: its time moves on
    // past the cutoff the collector deletes with.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let cutoff_now = Utc::now();
    assert!(cutoff_now < cutoff);
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.put(Bytes::from_static(b"reused"))
        .await
        .expect("put again");
    assert!(
        s.delete_if_untouched_since(&orphan, cutoff_now)
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_if_untouched_since(&reused, cutoff_now)
            .await
            .expect("delete")
    );
    assert!(!s.exists(&orphan).await.expect("exists"));
    assert!(
        s.exists(&reused).await.expect("exists") && s.exists(&referenced).await.expect("exists")
    );
}

#[tokio::test]
async fn concurrent_puts_of_the_same_bytes_leave_one_whole_blob() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Arc::new(LocalDirBlobStore::open(dir.path()).expect("open"));
    let content = Bytes::from(vec![7u8; 300_000]);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (s, c) = (Arc::clone(&s), content.clone());
            tokio::spawn(async move { s.put(c).await })
        })
        .collect();
    let mut keys = HashSet::new();
    for t in tasks {
        keys.insert(t.await.expect("task").expect("put"));
    }
    assert_eq!(keys.len(), 1);
    let key = keys.into_iter().next().expect("key");
    assert_eq!(read(&s, &key).await.0, content.to_vec());
    assert_eq!(s.list().await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_crash_before_the_rename_leaves_only_a_temporary_that_is_collected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = LocalDirBlobStore::open(dir.path()).expect("open");
    // What a crash between write and rename leaves: a partial temporary.
    let key = BlobKey::of(b"whole content");
    std::fs::write(dir.path().join(format!("tmp/{key}.dead.tmp")), b"whole con").expect("tmp");
    assert!(
        !s.exists(&key).await.expect("exists"),
        "no partial blob under the key"
    );
    assert!(s.list().await.expect("list").is_empty());
    assert_eq!(
        s.remove_stale_temporaries(Utc::now() - DEFAULT_GRACE)
            .await
            .expect("gc"),
        0
    );
    assert_eq!(
        s.remove_stale_temporaries(Utc::now() + TimeDelta::seconds(1))
            .await
            .expect("gc"),
        1
    );
    // The retried command writes it whole.
    assert_eq!(
        s.put(Bytes::from_static(b"whole content"))
            .await
            .expect("put"),
        key
    );
}

#[tokio::test]
async fn re_hashing_finds_a_blob_whose_file_was_altered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = LocalDirBlobStore::open(dir.path()).expect("open");
    let key = s
        .put(Bytes::from_static(b"%PDF-1.7 original"))
        .await
        .expect("put");
    let stream = s.get(&key).await.expect("get").expect("stored");
    assert_eq!(check(&key, stream).await.expect("check"), None);
    std::fs::write(s.path_of(&key), b"%PDF-1.7 tampered").expect("tamper");
    let stream = s.get(&key).await.expect("get").expect("stored");
    assert!(matches!(
        check(&key, stream).await.expect("check"),
        Some(BlobFault::Corrupt { .. })
    ));
}

#[tokio::test]
async fn a_staged_upload_is_moved_in_by_rename_and_a_known_one_only_refreshed() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalDirBlobStore::open(dir.path()).expect("open");
    let staging = store.staging_dir().expect("stages in its own folder");
    assert_eq!(staging, dir.path().join("tmp"));
    let bytes = b"%PDF-1.7\nsubido por partes\n".to_vec();
    let key = BlobKey::of(&bytes);
    let staged = staging.join("staged-1.tmp");
    std::fs::write(&staged, &bytes).expect("write");
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&staged).expect("stat"));
    store.put_file(&staged, &key).await.expect("put_file");
    assert!(!staged.exists(), "moved, not copied");
    let blob = store.path_of(&key);
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&blob).expect("stat")),
        inode,
        "the same file, renamed into place"
    );
    assert_eq!(read(&store, &key).await.0, bytes);
    // The same bytes staged again: the blob is refreshed, the staged file removed.
    let old = Utc::now() - TimeDelta::hours(2);
    std::fs::File::options()
        .write(true)
        .open(&blob)
        .and_then(|f| f.set_modified(old.into()))
        .expect("age the blob");
    let again = staging.join("staged-2.tmp");
    std::fs::write(&again, &bytes).expect("write");
    store.put_file(&again, &key).await.expect("put_file");
    assert!(!again.exists());
    let listed = store.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].touched_at > Utc::now() - TimeDelta::minutes(1),
        "refreshed"
    );
    assert_eq!(
        std::fs::read_dir(&staging).expect("tmp").count(),
        0,
        "nothing left in tmp/"
    );
}
