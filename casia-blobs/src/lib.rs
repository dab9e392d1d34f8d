//! Blob store adapters (issue 17) for the core's
//! [`BlobStore`] port.
//!
//! [`LocalDirBlobStore`] keeps each blob in a file named by its SHA-256
//! under a two-level fan-out (`sha256/ab/cd/abcd…`, so no directory holds
//! more than a few thousand files at a million blobs). A blob is written to
//! `tmp/` first, synced, renamed into place and its directory synced: a
//! crash leaves either the whole blob or a temporary that
//! [`BlobStore::remove_stale_temporaries`] collects — never a
//! partial blob under a key. A file's modification time is the blob's
//! "touched" time; a put of bytes already stored refreshes it.
//!
//! With the `s3` feature, [`s3::S3BlobStore`] keeps them in S3-compatible
//! object storage, shared by several instances.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "s3")]
pub mod s3;

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use casia_core::StoreError;
use casia_core::blob::{BlobInfo, BlobKey, BlobStore, BlobStream, ByteRange};

/// The chunk size of a blob's stream: 64 KiB.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Blobs in a local directory (the default for `serve`: beside the SQLite
/// file).
#[derive(Debug, Clone)]
pub struct LocalDirBlobStore {
    root: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::backend_caused(format!("{what} {}", path.display()), e)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::backend_caused("blob store task", e))?
}

impl LocalDirBlobStore {
    /// A store in `root`, created (with `tmp/` and `sha256/`) if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] naming the folder that cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> Result<LocalDirBlobStore, StoreError> {
        let root = root.into();
        for dir in [root.join("tmp"), root.join("sha256")] {
            fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        }
        Ok(LocalDirBlobStore { root })
    }

    /// The folder the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `key` is kept: `sha256/ab/cd/<key>`.
    pub fn path_of(&self, key: &BlobKey) -> PathBuf {
        let k = key.as_str();
        self.root
            .join("sha256")
            .join(&k[..2])
            .join(&k[2..4])
            .join(k)
    }
}

impl LocalDirBlobStore {
    /// Up to `len` bytes of blob `key` from byte `first`, in chunks of at
    /// most [`CHUNK_BYTES`]; `None` when it is not stored.
    async fn read(
        &self,
        key: &BlobKey,
        first: u64,
        len: u64,
    ) -> Result<Option<BlobStream>, StoreError> {
        let path = self.path_of(key);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("open", &path, e)),
        };
        if first > 0 {
            file.seek(std::io::SeekFrom::Start(first))
                .await
                .map_err(|e| io("seek", &path, e))?;
        }
        let chunks = stream::try_unfold((file, path, len), |(mut file, path, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let want = usize::try_from(left).map_or(CHUNK_BYTES, |l| l.min(CHUNK_BYTES));
            let mut buf = BytesMut::zeroed(want);
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| io("read", &path, e))?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            Ok(Some((buf.freeze(), (file, path, left - n as u64))))
        });
        Ok(Some(Box::pin(chunks)))
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("sync", dir, e))
}

fn touch(path: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

/// Creates the fan-out folders of `dir` below `root` that are missing,
/// syncing each new one's parent so the new entry survives a crash.
fn create_dirs(root: &Path, dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() || dir == root {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(root);
    create_dirs(root, parent)?;
    match fs::create_dir(dir) {
        Ok(()) => sync_dir(parent),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("create", dir, e)),
    }
}

fn nonce() -> Result<String, StoreError> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| StoreError::backend(format!("random: {e}")))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_new(root: &Path, key: &BlobKey, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = target.parent().unwrap_or(root);
    create_dirs(root, dir)?;
    let nonce = nonce()?;
    let tmp = root.join("tmp").join(format!("{key}.{nonce}.tmp"));
    let result = (|| {
        // Attachments are personal data: the service's user only, as a
        // staged upload is.
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(|e| io("create", &tmp, e))?;
        file.write_all(bytes).map_err(|e| io("write", &tmp, e))?;
        file.sync_all().map_err(|e| io("sync", &tmp, e))?;
        fs::rename(&tmp, target).map_err(|e| io("rename into", target, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[async_trait]
impl BlobStore for LocalDirBlobStore {
    async fn put(&self, bytes: Bytes) -> Result<BlobKey, StoreError> {
        let root = self.root.clone();
        let store = self.clone();
        blocking(move || {
            let key = BlobKey::of(&bytes);
            let target = store.path_of(&key);
            match touch(&target) {
                // Another writer may have renamed it in without syncing the
                // folder yet: sync it before calling these bytes durable.
                Ok(()) => {
                    sync_dir(target.parent().unwrap_or(&root))?;
                    return Ok(key);
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io("refresh", &target, e)),
            }
            write_new(&root, &key, &target, &bytes)?;
            Ok(key)
        })
        .await
    }

    /// Moves a staged upload into place: the file is synced and renamed to
    /// its blob path (it was staged in this store's `tmp/`, the same file
    /// system), then the folder is synced. Bytes already stored are only
    /// refreshed, and the staged file is removed.
    async fn put_file(&self, path: &Path, key: &BlobKey) -> Result<(), StoreError> {
        let root = self.root.clone();
        let target = self.path_of(key);
        let staged = path.to_owned();
        blocking(move || {
            let dir = target.parent().unwrap_or(&root).to_owned();
            match touch(&target) {
                Ok(()) => {
                    sync_dir(&dir)?;
                    let _ = fs::remove_file(&staged);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io("refresh", &target, e)),
            }
            create_dirs(&root, &dir)?;
            // The blob's "last put" is now, as for `put` (the collector's
            // grace counts from it), set before it becomes visible.
            touch(&staged).map_err(|e| io("refresh", &staged, e))?;
            File::open(&staged)
                .and_then(|f| f.sync_all())
                .map_err(|e| io("sync", &staged, e))?;
            if let Err(e) = fs::rename(&staged, &target) {
                // Staged on another file system: copy through a temporary.
                if e.kind() != ErrorKind::CrossesDevices {
                    return Err(io("rename into", &target, e));
                }
                let tmp = root.join("tmp").join(format!("copy-{}.tmp", nonce()?));
                let copied = fs::copy(&staged, &tmp)
                    .and_then(|_| File::open(&tmp)?.sync_all())
                    .and_then(|()| fs::rename(&tmp, &target));
                if let Err(e) = copied {
                    let _ = fs::remove_file(&tmp);
                    return Err(io("copy into", &target, e));
                }
                let _ = fs::remove_file(&staged);
            }
            sync_dir(&dir)
        })
        .await
    }

    fn staging_dir(&self) -> Option<PathBuf> {
        Some(self.root.join("tmp"))
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<BlobStream>, StoreError> {
        self.read(key, 0, u64::MAX).await
    }

    async fn get_range(
        &self,
        key: &BlobKey,
        range: ByteRange,
    ) -> Result<Option<BlobStream>, StoreError> {
        self.read(key, range.first, range.len()).await
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let path = self.path_of(key);
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| io("stat", &path, e))
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, StoreError> {
        let base = self.root.join("sha256");
        blocking(move || {
            let mut out = Vec::new();
            let read = |dir: &Path| fs::read_dir(dir).map_err(|e| io("read", dir, e));
            for a in read(&base)? {
                let a = a.map_err(|e| io("read", &base, e))?.path();
                if !a.is_dir() {
                    continue;
                }
                for b in read(&a)? {
                    let b = b.map_err(|e| io("read", &a, e))?.path();
                    if !b.is_dir() {
                        continue;
                    }
                    for f in read(&b)? {
                        let f = f.map_err(|e| io("read", &b, e))?;
                        let Some(key) = f.file_name().to_str().and_then(BlobKey::parse) else {
                            continue;
                        };
                        let meta = f.metadata().map_err(|e| io("stat", &f.path(), e))?;
                        let touched = meta.modified().map_err(|e| io("stat", &f.path(), e))?;
                        out.push(BlobInfo {
                            key,
                            size: meta.len(),
                            touched_at: touched.into(),
                        });
                    }
                }
            }
            out.sort_by(|x, y| x.key.cmp(&y.key));
            Ok(out)
        })
        .await
    }

    /// Removes temporaries older than `cutoff` (left by a crash between
    /// writing a blob and renaming it); returns how many.
    async fn remove_stale_temporaries(&self, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
        let tmp = self.root.join("tmp");
        blocking(move || {
            let mut removed = 0;
            for entry in fs::read_dir(&tmp).map_err(|e| io("read", &tmp, e))? {
                let entry = entry.map_err(|e| io("read", &tmp, e))?;
                let touched = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .map(DateTime::<Utc>::from);
                if touched.is_ok_and(|t| t < cutoff) && fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }

    async fn delete_if_untouched_since(
        &self,
        key: &BlobKey,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path_of(key);
        let aside = self.root.join("tmp").join(format!("gc-{key}.{}", nonce()?));
        blocking(move || {
            let touched = |p: &Path| {
                fs::metadata(p)
                    .and_then(|m| m.modified())
                    .map(DateTime::<Utc>::from)
            };
            match touched(&path) {
                Ok(t) if t >= cutoff => return Ok(false),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io("stat", &path, e)),
            }
            // Moved aside first, then its time read again: a put that
            // refreshed it before the move is seen (and the blob goes
            // back); a put after the move finds no file and writes a new
            // one. A stat-then-unlink would delete a just-refreshed blob.
            match fs::rename(&path, &aside) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io("move aside", &path, e)),
            }
            let refreshed = touched(&aside).map_or(true, |t| t >= cutoff);
            if refreshed {
                // Back in place, unless a put wrote it anew meanwhile.
                if path.exists() {
                    let _ = fs::remove_file(&aside);
                } else {
                    match fs::rename(&aside, &path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(io("put back", &path, e)),
                    }
                }
                return Ok(false);
            }
            fs::remove_file(&aside).map_err(|e| io("remove", &aside, e))?;
            Ok(true)
        })
        .await
    }
}
