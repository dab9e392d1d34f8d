//! Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage)
//! through the `object_store` crate (issue 17): one bucket shared by every
//! instance of the service.
//!
//! `s3://bucket/prefix` names the place; the endpoint, region and
//! credentials come from the usual `AWS_*` variables (`AWS_ENDPOINT`,
//! `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_ALLOW_HTTP=true` for a plain-HTTP test server). Objects are
//! `prefix/sha256/ab/cd/<key>`. A PUT is atomic and durable once answered,
//! so there are no temporaries; a put of bytes already stored writes them
//! again, which refreshes the object's `Last-Modified` (the collector's
//! clock). TLS is rustls on ring, the provider the service already uses.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload};

use casia_core::StoreError;
use casia_core::blob::{BlobInfo, BlobKey, BlobStore, BlobStream, ByteRange};

/// Blobs in one bucket under one prefix.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    root: ObjectPath,
    url: String,
}

/// Why an `s3://` location cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum S3ConfigError {
    /// Not `s3://bucket[/prefix]`.
    #[error("expected s3://bucket/prefix, got {0}")]
    Url(String),
    /// The client could not be built from the URL and the `AWS_*` variables.
    #[error("cannot configure the S3 client")]
    Client(#[source] object_store::Error),
}

fn failure(what: String, e: object_store::Error) -> StoreError {
    match e {
        // Transport errors: the store cannot be reached now (503).
        object_store::Error::Generic { .. } => StoreError::unavailable(e),
        other => StoreError::backend_caused(what, other),
    }
}

impl S3BlobStore {
    /// The store `s3://bucket/prefix` names, configured from `AWS_*`.
    ///
    /// # Errors
    ///
    /// [`S3ConfigError`] for a malformed URL or client configuration.
    pub fn from_url(url: &str) -> Result<S3BlobStore, S3ConfigError> {
        S3BlobStore::from_url_with(url, &[])
    }

    /// As [`S3BlobStore::from_url`], with `AWS_*` settings given here
    /// taking precedence over the environment's (tests, embedders).
    ///
    /// # Errors
    ///
    /// [`S3ConfigError`] for a malformed URL, an unknown setting or a
    /// client configuration that does not build.
    pub fn from_url_with(
        url: &str,
        settings: &[(&str, String)],
    ) -> Result<S3BlobStore, S3ConfigError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| S3ConfigError::Url(url.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3ConfigError::Url(url.to_owned()));
        }
        // reqwest is built without a crypto provider: ring is the process's
        // (a second install fails harmlessly).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (name, value) in settings {
            if name.eq_ignore_ascii_case("AWS_ALLOW_HTTP") {
                builder = builder.with_allow_http(value == "true");
                continue;
            }
            let key = name
                .to_ascii_lowercase()
                .parse::<object_store::aws::AmazonS3ConfigKey>()
                .map_err(S3ConfigError::Client)?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build().map_err(S3ConfigError::Client)?;
        Ok(S3BlobStore {
            store: Arc::new(store),
            root: ObjectPath::from(prefix.trim_matches('/')),
            url: url.to_owned(),
        })
    }

    fn folder(&self) -> ObjectPath {
        self.root.clone().join("sha256")
    }

    /// The blob's object (or the part `options` ask for) as a stream;
    /// `None` when it is not stored.
    async fn fetch(
        &self,
        key: &BlobKey,
        options: GetOptions,
    ) -> Result<Option<BlobStream>, StoreError> {
        let path = self.path_of(key);
        match self.store.get_opts(&path, options).await {
            Ok(found) => {
                let what = format!("read {}/{path}", self.url);
                let stream = found
                    .into_stream()
                    .map_err(move |e| failure(what.clone(), e));
                Ok(Some(Box::pin(stream)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failure(format!("get {}/{path}", self.url), e)),
        }
    }

    /// The object a blob is kept in: `prefix/sha256/ab/cd/<key>`.
    pub fn path_of(&self, key: &BlobKey) -> ObjectPath {
        let k = key.as_str();
        self.folder().join(&k[..2]).join(&k[2..4]).join(k)
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, bytes: Bytes) -> Result<BlobKey, StoreError> {
        let key = BlobKey::of(&bytes);
        let path = self.path_of(&key);
        self.store
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| failure(format!("put {}/{path}", self.url), e))?;
        Ok(key)
    }

    /// Uploads a staged file in 5 MiB parts (S3's smallest non-final
    /// part; a multipart upload appears whole or not at all), with a part
    /// in flight while the next fills, so a large file never sits in
    /// memory whole (up to about 15 MiB per upload). The bytes are hashed on the way and
    /// the upload is completed only when they hash to `key`; on any error
    /// it is aborted. (An upload whose future is dropped — the request
    /// timed out — stays incomplete until the bucket's
    /// `AbortIncompleteMultipartUpload` lifecycle rule removes it; it is
    /// never visible as an object.)
    async fn put_file(&self, file: &std::path::Path, key: &BlobKey) -> Result<(), StoreError> {
        use tokio::io::AsyncReadExt as _;
        const PART: usize = 5 * 1024 * 1024;
        let path = self.path_of(key);
        let what = |verb: &str| format!("{verb} {}/{path}", self.url);
        let unreadable =
            |e: std::io::Error| StoreError::backend(format!("read {}: {e}", file.display()));
        let mut source = tokio::fs::File::open(file).await.map_err(unreadable)?;
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|e| failure(what("start upload"), e))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let mut hasher = casia_core::blob::KeyHasher::new();
        let mut buf = vec![0u8; 256 * 1024];
        let failed = loop {
            let n = match source.read(&mut buf).await {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) => break Some(unreadable(e)),
            };
            if let Err(e) = writer.wait_for_capacity(1).await {
                break Some(failure(what("upload"), e));
            }
            hasher.update(&buf[..n]);
            writer.write(&buf[..n]);
        };
        let got = hasher.finish();
        let failed = failed.or_else(|| {
            (&got != key)
                .then(|| StoreError::backend(format!("{} holds {got}, not {key}", file.display())))
        });
        if let Some(e) = failed {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer
            .finish()
            .await
            .map_err(|e| failure(what("finish upload"), e))?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<BlobStream>, StoreError> {
        self.fetch(key, GetOptions::default()).await
    }

    async fn get_range(
        &self,
        key: &BlobKey,
        range: ByteRange,
    ) -> Result<Option<BlobStream>, StoreError> {
        let options = GetOptions {
            range: Some((range.first..range.last + 1).into()),
            ..GetOptions::default()
        };
        self.fetch(key, options).await
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let path = self.path_of(key);
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failure(format!("head {}/{path}", self.url), e)),
        }
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, StoreError> {
        let folder = self.folder();
        let mut objects = self.store.list(Some(&folder));
        let mut out = Vec::new();
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(|e| failure(format!("list {}", self.url), e))?;
            let Some(key) = meta.location.filename().and_then(BlobKey::parse) else {
                continue;
            };
            out.push(BlobInfo {
                key,
                size: meta.size,
                touched_at: meta.last_modified,
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete_if_untouched_since(
        &self,
        key: &BlobKey,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path_of(key);
        let meta = match self.store.head(&path).await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(failure(format!("head {}/{path}", self.url), e)),
        };
        if meta.last_modified >= cutoff {
            return Ok(false);
        }
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(failure(format!("delete {}/{path}", self.url), e)),
        }
    }
}
