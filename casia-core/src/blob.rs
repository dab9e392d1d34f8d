//! Content-addressed attachment bytes (issue 17): the [`BlobStore`] port,
//! its key, the garbage-collection and verification rules, and an
//! in-memory adapter.
//!
//! A blob is keyed by the SHA-256 of its bytes, so the same bytes are kept
//! once across cases (the per-case duplicate rule of DOMAIN.md §6 is
//! unchanged: it compares hashes within one case). A blob is written —
//! durably — before the database row that references it commits, so a
//! failed command leaves an orphan blob, never a row pointing at nothing.
//! Orphans are collected by [`collectable`]: unreferenced and not put
//! again for a grace period (a put of bytes already stored refreshes their
//! time, so a blob reused while the collector runs is kept).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::stream::{self, BoxStream};

use crate::attachment::sha256_hex;
use crate::error::StoreError;

/// A blob's key: the lower-case hex SHA-256 of its bytes (64 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// The key of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobKey {
        BlobKey(sha256_hex(bytes))
    }

    /// Parses 64 lower-case hex characters (how attachments record their
    /// `sha256`); `None` for anything else.
    pub fn parse(s: &str) -> Option<BlobKey> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| BlobKey(s.to_owned()))
    }

    /// The 64 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A [`BlobKey`] computed as the bytes go by (a streamed upload, a blob
/// read back to be checked): the same key [`BlobKey::of`] gives for the
/// bytes as one slice.
#[derive(Debug, Clone, Default)]
pub struct KeyHasher(sha2::Sha256);

impl KeyHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> KeyHasher {
        KeyHasher::default()
    }

    /// Takes the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }

    /// The key of every byte seen.
    pub fn finish(self) -> BlobKey {
        BlobKey(crate::attachment::lower_hex(&sha2::Digest::finalize(
            self.0,
        )))
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored blob as a listing gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its key.
    pub key: BlobKey,
    /// Its size, bytes.
    pub size: u64,
    /// When it was last put (written, or found already stored).
    pub touched_at: DateTime<Utc>,
}

/// A blob's bytes as a stream of chunks, so a large file never has to be
/// held whole.
pub type BlobStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// Bytes `first..=last` of a blob (both inclusive, `first <= last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub first: u64,
    /// The last byte (inclusive).
    pub last: u64,
}

impl ByteRange {
    /// How many bytes the range holds.
    pub fn len(self) -> u64 {
        self.last - self.first + 1
    }

    /// Never: a range holds at least one byte.
    pub fn is_empty(self) -> bool {
        false
    }
}

/// The bytes of `stream` within `range`: chunks before it are skipped and
/// the stream is not read past it (what a store that cannot seek does).
pub fn slice(stream: BlobStream, range: ByteRange) -> BlobStream {
    use futures_util::StreamExt;
    use futures_util::future::ready;
    let sliced = stream
        .scan(0u64, move |pos, chunk| {
            if *pos > range.last {
                return ready(None);
            }
            let item = chunk.map(|c| {
                let start = *pos;
                let len = c.len() as u64;
                *pos += len;
                let from = range.first.max(start);
                let to = (range.last + 1).min(start + len);
                (from < to).then(|| {
                    // Offsets within one chunk: they fit in usize.
                    c.slice(
                        usize::try_from(from - start).unwrap_or(0)
                            ..usize::try_from(to - start).unwrap_or(0),
                    )
                })
            });
            ready(Some(item))
        })
        .filter_map(|item| ready(item.transpose()));
    Box::pin(sliced)
}

/// Where attachment bytes live, by content (issue 17).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under [`BlobKey::of`] them and returns the key once
    /// they are durable (a crash after the return loses nothing). Bytes
    /// already stored are not written again; their time is refreshed.
    async fn put(&self, bytes: Bytes) -> Result<BlobKey, StoreError>;

    /// Stores the bytes of the file at `path`, whose SHA-256 is `key` (an
    /// upload staged as it arrived, [`crate::attachment::StagedContent`]),
    /// and returns once they are durable, as [`BlobStore::put`] does. The
    /// store may move the file (a local folder renames it into place), so
    /// the caller must not count on it afterwards; when the blob is
    /// already stored its time is refreshed and the file is not needed.
    ///
    /// The default reads the file into memory and calls `put`: right for
    /// stores that hold bytes in memory anyway.
    ///
    /// `key` is what the caller hashed while writing the file: the
    /// default and S3 check it before the blob appears, a local folder
    /// trusts its own staging folder (`casia blobs verify` re-hashes).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be read, its bytes do not hash
    /// to `key` (where checked), or the store fails.
    async fn put_file(&self, path: &Path, key: &BlobKey) -> Result<(), StoreError> {
        let bytes = std::fs::read(path)
            .map_err(|e| StoreError::backend(format!("read {}: {e}", path.display())))?;
        let stored = self.put(bytes.into()).await?;
        if &stored != key {
            return Err(StoreError::backend(format!(
                "{} holds {stored}, not {key}",
                path.display()
            )));
        }
        Ok(())
    }

    /// The folder uploads should be staged in so that
    /// [`BlobStore::put_file`] can move them in without a copy (a local
    /// folder's temporaries); `None`: anywhere (the system's temporary
    /// folder).
    fn staging_dir(&self) -> Option<PathBuf> {
        None
    }

    /// The blob's bytes as a stream; `None` when it is not stored.
    async fn get(&self, key: &BlobKey) -> Result<Option<BlobStream>, StoreError>;

    /// Bytes `range` of the blob as a stream; `None` when it is not
    /// stored. Stores that can seek override this (a download resumed
    /// near the end of a large file reads only what it asks for); the
    /// default reads from the start and skips.
    async fn get_range(
        &self,
        key: &BlobKey,
        range: ByteRange,
    ) -> Result<Option<BlobStream>, StoreError> {
        Ok(self.get(key).await?.map(|s| slice(s, range)))
    }

    /// Whether the blob is stored.
    async fn exists(&self, key: &BlobKey) -> Result<bool, StoreError>;

    /// Every stored blob, for the collector and the verifier.
    async fn list(&self) -> Result<Vec<BlobInfo>, StoreError>;

    /// Deletes the blob if it was last put before `cutoff`; says whether
    /// it did. The collector passes the cutoff it chose the blob with, so a
    /// put since then keeps it.
    async fn delete_if_untouched_since(
        &self,
        key: &BlobKey,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Removes what interrupted writes left behind (a local folder's
    /// temporaries) older than `cutoff`; how many. Stores whose writes are
    /// atomic have nothing to remove.
    async fn remove_stale_temporaries(&self, _cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(0)
    }
}

/// How long an unreferenced blob is kept: longer than any command takes
/// between writing its blob and committing its row (the request timeout is
/// 30 s), so only true orphans go.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(1);

/// The blobs the collector may delete at `now`: not in `referenced` and
/// not put since `now - grace` (issue 17 "Consistency"). The cutoff to
/// delete them with is returned too.
pub fn collectable(
    blobs: &[BlobInfo],
    referenced: &HashSet<BlobKey>,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> (Vec<BlobKey>, DateTime<Utc>) {
    let cutoff = now - grace;
    let keys = blobs
        .iter()
        .filter(|b| b.touched_at < cutoff && !referenced.contains(&b.key))
        .map(|b| b.key.clone())
        .collect();
    (keys, cutoff)
}

/// What `casia blobs verify` finds wrong: a referenced blob that is not
/// stored, or one whose bytes no longer hash to its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobFault {
    /// Referenced by the database, not in the store.
    Missing(BlobKey),
    /// Stored, but its bytes hash to something else.
    Corrupt {
        /// The key it is stored under.
        key: BlobKey,
        /// The SHA-256 its bytes have now.
        actual: String,
    },
    /// The store failed to read it (the run went on with the next one).
    Unreadable {
        /// Its key.
        key: BlobKey,
        /// Why, with its causes.
        error: String,
    },
}

/// Re-hashes a blob's stream; `Ok(None)` when it matches its key.
///
/// # Errors
///
/// The stream's own error.
pub async fn check(key: &BlobKey, mut bytes: BlobStream) -> Result<Option<BlobFault>, StoreError> {
    use futures_util::StreamExt;
    let mut hasher = KeyHasher::new();
    while let Some(chunk) = bytes.next().await {
        hasher.update(&chunk?);
    }
    let actual = hasher.finish();
    Ok((&actual != key).then(|| BlobFault::Corrupt {
        key: key.clone(),
        actual: actual.as_str().to_owned(),
    }))
}

/// The in-memory blob store (tests, embedders, examples). Its clock is the
/// caller's: `put_at` takes the instant, `put` reads the system clock.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    blobs: Mutex<BTreeMap<BlobKey, (Bytes, DateTime<Utc>)>>,
}

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> MemoryBlobStore {
        MemoryBlobStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<BlobKey, (Bytes, DateTime<Utc>)>> {
        self.blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`BlobStore::put`] at a given instant.
    pub fn put_at(&self, bytes: Bytes, at: DateTime<Utc>) -> BlobKey {
        let key = BlobKey::of(&bytes);
        let mut blobs = self.lock();
        let entry = blobs.entry(key.clone()).or_insert((bytes, at));
        entry.1 = entry.1.max(at);
        key
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(&self, bytes: Bytes) -> Result<BlobKey, StoreError> {
        Ok(self.put_at(bytes, Utc::now()))
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<BlobStream>, StoreError> {
        let found = self.lock().get(key).map(|(b, _)| b.clone());
        Ok(found.map(|b| Box::pin(stream::iter([Ok(b)])) as BlobStream))
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, StoreError> {
        Ok(self.lock().contains_key(key))
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, StoreError> {
        Ok(self
            .lock()
            .iter()
            .map(|(key, (bytes, at))| BlobInfo {
                key: key.clone(),
                size: bytes.len() as u64,
                touched_at: *at,
            })
            .collect())
    }

    async fn delete_if_untouched_since(
        &self,
        key: &BlobKey,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut blobs = self.lock();
        match blobs.get(key) {
            Some((_, at)) if *at < cutoff => {
                blobs.remove(key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use futures_util::StreamExt;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    async fn read(store: &dyn BlobStore, key: &BlobKey) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = store.get(key).await.expect("get").expect("stored");
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.expect("chunk"));
        }
        out
    }

    #[test]
    fn the_same_bytes_are_stored_once_under_their_sha256() {
        block_on(async {
            let s = MemoryBlobStore::new();
            let a = s.put(Bytes::from_static(b"%PDF-1.7 a")).await.expect("put");
            let b = s.put(Bytes::from_static(b"%PDF-1.7 a")).await.expect("put");
            assert_eq!(a, b);
            assert_eq!(a.as_str(), sha256_hex(b"%PDF-1.7 a"));
            assert_eq!(s.list().await.expect("list").len(), 1);
            assert_eq!(read(&s, &a).await, b"%PDF-1.7 a");
            assert!(
                check(&a, s.get(&a).await.expect("get").expect("some"))
                    .await
                    .expect("check")
                    .is_none()
            );
            let wrong = BlobKey::of(b"other");
            assert!(!s.exists(&wrong).await.expect("exists"));
            assert!(s.get(&wrong).await.expect("get").is_none());
        });
    }

    #[test]
    fn a_put_while_collecting_keeps_the_blob() {
        let s = MemoryBlobStore::new();
        let key = s.put_at(Bytes::from_static(b"orphan?"), at("2026-11-30T08:00:00Z"));
        let now = at("2026-11-30T10:00:00Z");
        let (doomed, cutoff) = collectable(
            &block_on(s.list()).expect("list"),
            &HashSet::new(),
            now,
            DEFAULT_GRACE,
        );
        assert_eq!(doomed, vec![key.clone()]);
        // A command reuses the bytes between the listing and the delete.
        s.put_at(Bytes::from_static(b"orphan?"), now);
        assert!(!block_on(s.delete_if_untouched_since(&key, cutoff)).expect("delete"));
        assert!(block_on(s.exists(&key)).expect("exists"));
    }

    #[test]
    fn check_finds_bytes_that_no_longer_match_their_key() {
        let key = BlobKey::of(b"original");
        let changed: BlobStream = Box::pin(stream::iter([Ok(Bytes::from_static(b"altered"))]));
        let fault = block_on(check(&key, changed)).expect("check");
        assert!(matches!(fault, Some(BlobFault::Corrupt { .. })));
        assert!(BlobKey::parse(key.as_str()).is_some());
        assert!(BlobKey::parse("ABC").is_none());
        assert!(
            BlobKey::parse(&"A".repeat(64)).is_none(),
            "upper case is not a key"
        );
    }

    #[test]
    fn a_slice_crosses_chunks_and_stops_at_its_end() {
        let chunks: Vec<Result<Bytes, StoreError>> = vec![
            Ok(Bytes::from_static(b"0123")),
            Ok(Bytes::from_static(b"4567")),
            Ok(Bytes::from_static(b"89ab")),
            Err(StoreError::backend("never read")),
        ];
        let stream: BlobStream = Box::pin(stream::iter(chunks));
        let out: Vec<_> =
            block_on(slice(stream, ByteRange { first: 3, last: 9 }).collect::<Vec<_>>());
        let bytes: Vec<u8> = out
            .into_iter()
            .flat_map(|c| {
                c.expect("no error: the stream stops at the range's end")
                    .to_vec()
            })
            .collect();
        assert_eq!(bytes, b"3456789");
        let s = MemoryBlobStore::new();
        let key = s.put_at(
            Bytes::from_static(b"0123456789"),
            at("2026-11-30T08:00:00Z"),
        );
        let part = block_on(s.get_range(&key, ByteRange { first: 8, last: 9 }))
            .expect("range")
            .expect("stored");
        let got: Vec<u8> = block_on(part.collect::<Vec<_>>())
            .into_iter()
            .flat_map(|c| c.expect("chunk").to_vec())
            .collect();
        assert_eq!(got, b"89");
    }

    proptest! {
        /// For all listings: the collector never picks a referenced blob or
        /// one put within the grace period, and picks every other one.
        #[test]
        fn collectable_spares_referenced_and_recent_blobs(
            blobs in proptest::collection::vec((0u8..20, 0i64..7200, any::<bool>()), 0..40)
        ) {
            let now = at("2026-11-30T12:00:00Z");
            let mut infos = Vec::new();
            let mut referenced = HashSet::new();
            for (i, (seed, age, is_referenced)) in blobs.iter().enumerate() {
                let key = BlobKey::of(&[*seed, i as u8]);
                if *is_referenced {
                    referenced.insert(key.clone());
                }
                infos.push(BlobInfo { key, size: 1, touched_at: now - TimeDelta::seconds(*age) });
            }
            let (picked, cutoff) = collectable(&infos, &referenced, now, DEFAULT_GRACE);
            prop_assert_eq!(cutoff, now - DEFAULT_GRACE);
            for b in &infos {
                let old_orphan = !referenced.contains(&b.key) && b.touched_at < cutoff;
                prop_assert_eq!(picked.contains(&b.key), old_orphan);
            }
        }
    }
}
