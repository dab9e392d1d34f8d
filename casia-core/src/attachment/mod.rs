//! Attachments (anexar información, DOMAIN.md §6): the limits, the check
//! order, and the metadata recorded for each accepted file.

pub mod file_name;
pub mod format;
mod office;
pub mod source;
mod text;

use bytes::Bytes;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actor::ActorRef;
use crate::catalog::Catalog;
use crate::error::{CasiaError, RejectionReason};
use crate::text::AttachmentTitle;
use format::AttachmentFormat;

/// The attachment limits; configuration, not rules (DOMAIN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentLimits {
    /// Largest single file, bytes (default 10 MiB).
    pub max_attachment_bytes: u64,
    /// Most attachments one case may hold (default 20).
    pub max_attachments: usize,
    /// Largest total of one case's attachments, bytes (default 50 MiB).
    pub max_total_bytes: u64,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_attachment_bytes: 10 * 1024 * 1024,
            max_attachments: 20,
            max_total_bytes: 50 * 1024 * 1024,
        }
    }
}

/// A stored attachment's metadata; the bytes live in the content store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// 1-based, in the order added to the case.
    pub id: u32,
    /// The document-type code from the catalog, e.g. `identity`.
    pub document_type: String,
    /// The title, 1–100 characters after trimming.
    pub title: AttachmentTitle,
    /// The sanitised stored file name ([`file_name::stored_file_name`]), at most 255 bytes.
    pub file_name: String,
    /// The format detected from the content; gives the media type.
    pub format: AttachmentFormat,
    /// The size, bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// When it was added (UTC instant).
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub added_by: ActorRef,
}

/// An attachment as given to a command: nothing checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The document-type code as given (checked against the catalog).
    pub document_type: String,
    /// The title as given (trimmed and checked: 1–100 characters).
    pub title: String,
    /// The file name as given by the client; only a label, sanitised before it is stored.
    pub file_name: String,
    /// The bytes, in memory or staged in a file.
    pub content: AttachmentContent,
}

/// An attachment's bytes as a command receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentContent {
    /// The bytes, in memory.
    Bytes(Bytes),
    /// Bytes an upload wrote to a file as they arrived, judged from the
    /// file (issue 17, "Streaming"): never whole in memory.
    Staged(StagedContent),
}

impl From<Bytes> for AttachmentContent {
    fn from(bytes: Bytes) -> AttachmentContent {
        AttachmentContent::Bytes(bytes)
    }
}

impl From<Vec<u8>> for AttachmentContent {
    fn from(bytes: Vec<u8>) -> AttachmentContent {
        AttachmentContent::Bytes(bytes.into())
    }
}

impl From<&'static [u8]> for AttachmentContent {
    fn from(bytes: &'static [u8]) -> AttachmentContent {
        AttachmentContent::Bytes(Bytes::from_static(bytes))
    }
}

impl AttachmentContent {
    /// The size, bytes.
    pub fn size(&self) -> u64 {
        match self {
            AttachmentContent::Bytes(b) => b.len() as u64,
            AttachmentContent::Staged(s) => s.size,
        }
    }

    /// Lower-case hex SHA-256 of the bytes.
    pub fn sha256(&self) -> String {
        match self {
            AttachmentContent::Bytes(b) => sha256_hex(b),
            AttachmentContent::Staged(s) => s.sha256.clone(),
        }
    }

    fn format(&self) -> Result<AttachmentFormat, format::UnsupportedFormat> {
        match self {
            AttachmentContent::Bytes(b) => format::detect(b),
            AttachmentContent::Staged(s) => s.format,
        }
    }
}

/// An upload staged in a file, judged (issue 17, "Streaming"): the HTTP
/// layer writes each file part to a temporary file as it arrives, hashing
/// it on the way and stopping at the size limit + 1 byte, then judges it
/// here by DOMAIN.md §6 from the file in bounded reads
/// ([`format::detect_in`]). The command checks it in §6's order like bytes
/// in memory; the service then moves the file into the blob store
/// ([`crate::blob::BlobStore::put_file`]). The file belongs to whoever
/// staged it: they delete it when the command is over (it is gone when the
/// blob store moved it in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedContent {
    path: std::path::PathBuf,
    size: u64,
    sha256: String,
    format: Result<AttachmentFormat, format::UnsupportedFormat>,
}

impl StagedContent {
    /// Judges the file at `path`, whose key `key` was computed while it
    /// was written ([`crate::blob::KeyHasher`]). The size is the file's.
    ///
    /// # Errors
    ///
    /// The file's open or read error (never an `unsupported_format`
    /// verdict for a file that could not be read).
    pub fn judge(
        path: std::path::PathBuf,
        key: crate::blob::BlobKey,
    ) -> std::io::Result<StagedContent> {
        let file = source::FileSource::open(&path)?;
        let format = format::detect_in(&file)?;
        Ok(StagedContent {
            size: source::ContentSource::size(&file),
            path,
            sha256: key.as_str().to_owned(),
            format,
        })
    }

    /// The file holding the bytes.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The size, bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// An accepted attachment: its metadata and its bytes, to be written with
/// the case in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedAttachment {
    /// The metadata to record on the case.
    pub meta: Attachment,
    /// The bytes, to write with the case; empty when they are already in
    /// the service's blob store (issue 17: an accepted attachment is never
    /// empty, DOMAIN.md §6, so the stores write no content for it) or
    /// still in the staged file of [`AcceptedAttachment::staged`].
    pub content: Bytes,
    /// The file the bytes were staged in, until the service moves them to
    /// its blob store (or, without one, reads them into `content`).
    pub staged: Option<std::path::PathBuf>,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes` (a digest).
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// Checks `new` one at a time in the order given, each in DOMAIN.md §6 order:
/// `unknown_document_type`, `invalid_title`, `empty`, `too_large`,
/// `unsupported_format`, then `too_many` and `total_too_large` (counting
/// `existing`, those earlier in the command and this one), then duplicates.
/// The first failure rejects the whole command.
///
/// Accepted attachments get ids after the largest existing one, a sanitised
/// file name, their detected format, SHA-256 and size.
///
/// # Errors
///
/// - [`CasiaError::AttachmentRejected`] with the first failing
///   [`RejectionReason`] and the attachment's 0-based index;
/// - [`CasiaError::DuplicateAttachment`] when its SHA-256 matches an
///   existing attachment or one earlier in `new`.
pub fn accept_attachments(
    existing: &[Attachment],
    new: &[NewAttachment],
    catalog: &Catalog,
    limits: &AttachmentLimits,
    added_at: DateTime<Utc>,
    added_by: &ActorRef,
) -> Result<Vec<AcceptedAttachment>, CasiaError> {
    let mut count = existing.len();
    let mut total: u64 = existing.iter().map(|a| a.size).sum();
    let mut seen: HashSet<String> = existing.iter().map(|a| a.sha256.clone()).collect();
    let first_id = existing.iter().map(|a| a.id).max().unwrap_or(0) + 1;
    let mut accepted = Vec::with_capacity(new.len());
    for (next_id, (index, a)) in (first_id..).zip(new.iter().enumerate()) {
        let reject = |reason| CasiaError::AttachmentRejected { reason, index };
        if catalog.document_type(&a.document_type).is_none() {
            return Err(reject(RejectionReason::UnknownDocumentType));
        }
        let title =
            AttachmentTitle::parse(&a.title).ok_or(reject(RejectionReason::InvalidTitle))?;
        let size = a.content.size();
        if size == 0 {
            return Err(reject(RejectionReason::Empty));
        }
        if size > limits.max_attachment_bytes {
            return Err(reject(RejectionReason::TooLarge));
        }
        let format = a
            .content
            .format()
            .map_err(|_| reject(RejectionReason::UnsupportedFormat))?;
        count += 1;
        total = total.saturating_add(size);
        if count > limits.max_attachments {
            return Err(reject(RejectionReason::TooMany));
        }
        if total > limits.max_total_bytes {
            return Err(reject(RejectionReason::TotalTooLarge));
        }
        let sha256 = a.content.sha256();
        if !seen.insert(sha256.clone()) {
            return Err(CasiaError::DuplicateAttachment { index });
        }
        accepted.push(AcceptedAttachment {
            meta: Attachment {
                id: next_id,
                document_type: a.document_type.clone(),
                title,
                file_name: file_name::stored_file_name(&a.file_name, format),
                format,
                size,
                sha256,
                added_at,
                added_by: added_by.clone(),
            },
            content: match &a.content {
                AttachmentContent::Bytes(b) => b.clone(),
                AttachmentContent::Staged(_) => Bytes::new(),
            },
            staged: match &a.content {
                AttachmentContent::Bytes(_) => None,
                AttachmentContent::Staged(s) => Some(s.path.clone()),
            },
        });
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;

    fn catalog() -> Catalog {
        Catalog::from_json(
            r#"{"document_types": [{"code": "other", "label": "Otros"}],
                "case_types": [{"code": "inquiry", "materias": [{"code": "m", "label": "M",
                  "categories": [{"code": "c", "label": "C", "subcategories": [{"code": "s", "label": "S"}]}]}]}]}"#,
        )
        .expect("catalog")
    }

    fn pdf(seed: u8, size: usize) -> Bytes {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.resize(size.max(9), seed);
        v.into()
    }

    fn att(doc: &str, title: &str, content: Bytes) -> NewAttachment {
        NewAttachment {
            document_type: doc.into(),
            title: title.into(),
            file_name: "../../etc/x.pdf".into(),
            content: content.into(),
        }
    }

    /// One `check(existing, new, limits) → outcome` helper.
    fn check(
        existing: usize,
        new: Vec<NewAttachment>,
        limits: AttachmentLimits,
    ) -> Result<usize, (String, usize)> {
        let who = ActorRef {
            role: Role::User,
            id: Some("u1".into()),
        };
        let at = "2026-01-01T00:00:00Z".parse().expect("instant");
        let prior: Vec<Attachment> = if existing == 0 {
            Vec::new()
        } else {
            let seeded: Vec<NewAttachment> = (0..existing)
                .map(|i| att("other", "t", pdf(200 - i as u8, 100)))
                .collect();
            accept_attachments(
                &[],
                &seeded,
                &catalog(),
                &AttachmentLimits::default(),
                at,
                &who,
            )
            .expect("seed")
            .into_iter()
            .map(|a| a.meta)
            .collect()
        };
        accept_attachments(&prior, &new, &catalog(), &limits, at, &who)
            .map(|v| v.len())
            .map_err(|e| {
                let index = match &e {
                    CasiaError::AttachmentRejected { index, .. }
                    | CasiaError::DuplicateAttachment { index } => *index,
                    _ => usize::MAX,
                };
                (
                    e.reason()
                        .map_or(e.code().as_str(), |r| r.as_str())
                        .to_owned(),
                    index,
                )
            })
    }

    #[test]
    fn each_reason_in_check_order() {
        let d = AttachmentLimits::default();
        let empty: Bytes = Bytes::new();
        assert_eq!(
            check(0, vec![att("nope", "", empty.clone())], d),
            Err(("unknown_document_type".into(), 0))
        );
        assert_eq!(
            check(0, vec![att("other", " ", empty.clone())], d),
            Err(("invalid_title".into(), 0))
        );
        assert_eq!(
            check(0, vec![att("other", &"t".repeat(101), pdf(1, 10))], d),
            Err(("invalid_title".into(), 0))
        );
        assert_eq!(
            check(0, vec![att("other", "t", empty)], d),
            Err(("empty".into(), 0))
        );
        let small = AttachmentLimits {
            max_attachment_bytes: 1000,
            ..d
        };
        assert_eq!(
            check(
                0,
                vec![att("other", "t", Bytes::from(vec![b'M'; 1001]))],
                small
            ),
            Err(("too_large".into(), 0))
        );
        assert_eq!(
            check(0, vec![att("other", "t", pdf(1, 1000))], small),
            Ok(1)
        );
        assert_eq!(
            check(
                0,
                vec![att("other", "t", Bytes::from(b"MZ\x90\x00".to_vec()))],
                d
            ),
            Err(("unsupported_format".into(), 0))
        );
    }

    #[test]
    fn count_and_total_include_existing_and_earlier_ones() {
        let two = AttachmentLimits {
            max_attachments: 2,
            ..AttachmentLimits::default()
        };
        assert_eq!(check(1, vec![att("other", "a", pdf(1, 50))], two), Ok(1));
        assert_eq!(
            check(
                1,
                vec![att("other", "a", pdf(1, 50)), att("other", "b", pdf(2, 50))],
                two
            ),
            Err(("too_many".into(), 1))
        );
        let total = AttachmentLimits {
            max_total_bytes: 250,
            ..AttachmentLimits::default()
        };
        assert_eq!(check(1, vec![att("other", "a", pdf(1, 150))], total), Ok(1));
        assert_eq!(
            check(1, vec![att("other", "a", pdf(1, 151))], total),
            Err(("total_too_large".into(), 0))
        );
    }

    #[test]
    fn duplicates_are_found_against_existing_and_earlier_ones() {
        let d = AttachmentLimits::default();
        assert_eq!(
            check(
                0,
                vec![att("other", "a", pdf(7, 99)), att("other", "b", pdf(7, 99))],
                d
            ),
            Err(("duplicate_attachment".into(), 1))
        );
        assert_eq!(
            check(1, vec![att("other", "a", pdf(200, 100))], d),
            Err(("duplicate_attachment".into(), 0))
        );
    }

    fn staged(dir: &std::path::Path, name: &str, bytes: &[u8]) -> AttachmentContent {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        AttachmentContent::Staged(
            StagedContent::judge(path, crate::blob::BlobKey::of(bytes)).expect("judged"),
        )
    }

    #[test]
    fn staged_files_are_judged_from_disk_like_bytes_in_memory() {
        let dir = tempfile::tempdir().expect("dir");
        let docx = casia_test_support::samples::docx();
        let samples: Vec<(&str, Vec<u8>)> = vec![
            ("a.pdf", pdf(1, 5000).to_vec()),
            ("a.docx", docx.clone()),
            (
                "a.doc",
                casia_test_support::samples::compound_file(&["WordDocument"]),
            ),
            ("a.txt", "Señor Muñoz\n".repeat(9000).into_bytes()),
            ("a.html", b"<!--x--><html>".to_vec()),
            ("a.zip", casia_test_support::samples::zip(&[])),
            ("a.exe", b"MZ\x90\x00\x03\x00".to_vec()),
        ];
        for (name, bytes) in &samples {
            let AttachmentContent::Staged(s) = staged(dir.path(), name, bytes) else {
                unreachable!()
            };
            assert_eq!(s.format, format::detect(bytes), "{name}");
            assert_eq!(s.size(), bytes.len() as u64);
        }
        let who = ActorRef {
            role: Role::User,
            id: Some("u1".into()),
        };
        let at = "2026-01-01T00:00:00Z".parse().expect("instant");
        let new = vec![
            NewAttachment {
                content: staged(dir.path(), "d.docx", &docx),
                ..att("other", "Contrato", Bytes::new())
            },
            att("other", "Nota", Bytes::from_static(b"nota")),
        ];
        let out = accept_attachments(
            &[],
            &new,
            &catalog(),
            &AttachmentLimits::default(),
            at,
            &who,
        )
        .expect("accepted");
        assert_eq!(out[0].meta.format, format::AttachmentFormat::Docx);
        assert_eq!(out[0].meta.sha256, sha256_hex(&docx));
        assert_eq!(out[0].meta.size, docx.len() as u64);
        assert!(out[0].content.is_empty(), "the bytes stay in the file");
        assert_eq!(
            out[0].staged.as_deref(),
            Some(dir.path().join("d.docx").as_path())
        );
        assert_eq!(out[1].staged, None);
        // A staged file cut at limit + 1 is too large before its format
        // (a cut PDF is still a PDF; a cut executable still refused as too large).
        let small = AttachmentLimits {
            max_attachment_bytes: 10,
            ..AttachmentLimits::default()
        };
        for bytes in [
            &b"%PDF-1.7\nxx"[..],
            &b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00"[..],
        ] {
            let cut = vec![NewAttachment {
                content: staged(dir.path(), "cut", bytes),
                ..att("other", "t", Bytes::new())
            }];
            assert!(matches!(
                accept_attachments(&[], &cut, &catalog(), &small, at, &who),
                Err(CasiaError::AttachmentRejected {
                    reason: RejectionReason::TooLarge,
                    index: 0
                })
            ));
        }
        // Staged and in-memory copies of the same bytes are duplicates.
        let dup = vec![
            NewAttachment {
                content: staged(dir.path(), "p.pdf", &pdf(3, 99)),
                ..att("other", "a", Bytes::new())
            },
            att("other", "b", pdf(3, 99)),
        ];
        assert!(matches!(
            accept_attachments(
                &[],
                &dup,
                &catalog(),
                &AttachmentLimits::default(),
                at,
                &who
            ),
            Err(CasiaError::DuplicateAttachment { index: 1 })
        ));
        assert!(
            StagedContent::judge(dir.path().join("missing"), crate::blob::BlobKey::of(b""))
                .is_err()
        );
    }

    #[test]
    fn accepted_metadata_is_sanitised_hashed_and_numbered() {
        let who = ActorRef {
            role: Role::User,
            id: Some("u1".into()),
        };
        let at = "2026-01-01T00:00:00Z".parse().expect("instant");
        let out = accept_attachments(
            &[],
            &[
                att("other", " DNI ", pdf(1, 20)),
                att("other", "x", pdf(2, 20)),
            ],
            &catalog(),
            &AttachmentLimits::default(),
            at,
            &who,
        )
        .expect("accepted");
        assert_eq!(out[0].meta.id, 1);
        assert_eq!(out[1].meta.id, 2);
        assert_eq!(out[0].meta.title.as_str(), "DNI");
        assert_eq!(out[0].meta.file_name, "x.pdf");
        assert_eq!(out[0].meta.sha256, sha256_hex(&out[0].content));
        assert_eq!(out[0].meta.format, format::AttachmentFormat::Pdf);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
