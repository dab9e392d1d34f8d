//! Attachment format detection (DOMAIN.md §6).
//!
//! The format of an attachment is decided from its **content** only, never
//! from its file name or a declared media type, and by its **structure**,
//! not by its first bytes alone:
//!
//! 1. PDF by `%PDF-` at its start (it is only ever served as a download, so
//!    it is not parsed further); JPEG, PNG and TIFF by their signatures;
//!    RTF by `{\rtf`;
//! 2. a ZIP or an OLE compound file is judged by its structure
//!    (`office`): DOCX/XLSX/ODT/ODS or DOC/XLS, else
//!    unsupported — a ZIP signature (4 bytes) only counts when the content
//!    is not valid text;
//! 3. everything else must be text (`text`): valid UTF-8,
//!    no NUL byte, not HTML or SVG. A signature shorter than 8 bytes (`BM`,
//!    `MZ`, `ID3`, `GIF87a`) never outvotes valid text — and content that
//!    is not valid text has no accepted format left, so every executable,
//!    archive, image or audio file not listed above is unsupported.

use std::fmt;

use super::source::{ContentSource, Reader};
use super::{office, text};

/// The formats CASIA accepts (DOMAIN.md §6), decided from content only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentFormat {
    /// PDF (`%PDF-`).
    Pdf,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// TIFF, classic or BigTIFF, little- or big-endian.
    Tiff,
    /// Office Open XML word processing document (not macro-enabled).
    Docx,
    /// Office Open XML spreadsheet (not macro-enabled).
    Xlsx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// Word 97–2003 (compound file with a `WordDocument` stream).
    Doc,
    /// Excel 97–2003 (compound file with a `Workbook` or `Book` stream).
    Xls,
    /// Rich Text Format (`{\rtf`).
    Rtf,
    /// Plain UTF-8 text (TXT, CSV, …).
    Text,
    /// UTF-8 text whose first significant character is `<` (XML).
    Xml,
}

impl AttachmentFormat {
    /// Every accepted format, in declaration order.
    pub const ALL: [AttachmentFormat; 13] = [
        AttachmentFormat::Pdf,
        AttachmentFormat::Jpeg,
        AttachmentFormat::Png,
        AttachmentFormat::Tiff,
        AttachmentFormat::Docx,
        AttachmentFormat::Xlsx,
        AttachmentFormat::Odt,
        AttachmentFormat::Ods,
        AttachmentFormat::Doc,
        AttachmentFormat::Xls,
        AttachmentFormat::Rtf,
        AttachmentFormat::Text,
        AttachmentFormat::Xml,
    ];

    /// The media type recorded with the attachment (DOMAIN.md §6: "detected
    /// media type"). Text is always UTF-8, because detection demands it.
    pub fn media_type(self) -> &'static str {
        match self {
            AttachmentFormat::Pdf => "application/pdf",
            AttachmentFormat::Jpeg => "image/jpeg",
            AttachmentFormat::Png => "image/png",
            AttachmentFormat::Tiff => "image/tiff",
            AttachmentFormat::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            AttachmentFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            AttachmentFormat::Odt => "application/vnd.oasis.opendocument.text",
            AttachmentFormat::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            AttachmentFormat::Doc => "application/msword",
            AttachmentFormat::Xls => "application/vnd.ms-excel",
            AttachmentFormat::Rtf => "application/rtf",
            AttachmentFormat::Text => "text/plain; charset=utf-8",
            AttachmentFormat::Xml => "application/xml",
        }
    }

    /// The file-name extensions that fit the format (DOMAIN.md §6),
    /// lower-case; the first is the one appended to a name that fits none.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            AttachmentFormat::Pdf => &["pdf"],
            AttachmentFormat::Jpeg => &["jpg", "jpeg"],
            AttachmentFormat::Png => &["png"],
            AttachmentFormat::Tiff => &["tif", "tiff"],
            AttachmentFormat::Docx => &["docx"],
            AttachmentFormat::Xlsx => &["xlsx"],
            AttachmentFormat::Odt => &["odt"],
            AttachmentFormat::Ods => &["ods"],
            AttachmentFormat::Doc => &["doc"],
            AttachmentFormat::Xls => &["xls"],
            AttachmentFormat::Rtf => &["rtf"],
            AttachmentFormat::Text => &["txt", "csv", "xml"],
            AttachmentFormat::Xml => &["xml", "txt", "csv"],
        }
    }

    /// The inverse of [`media_type`](Self::media_type), for reading stored
    /// rows. Type and subtype compare ASCII case-insensitively and spaces
    /// around `;` are ignored; `text/plain` is accepted without a charset or
    /// with `charset=utf-8` (any other charset is not a CASIA text), and the
    /// common aliases `text/xml` and `text/rtf` are understood.
    pub fn from_media_type(media_type: &str) -> Option<AttachmentFormat> {
        let mut parts = media_type.split(';');
        let essence = parts.next()?.trim().to_ascii_lowercase();
        let params: Vec<&str> = parts.map(str::trim).filter(|p| !p.is_empty()).collect();
        let format = match essence.as_str() {
            "application/pdf" => AttachmentFormat::Pdf,
            "image/jpeg" => AttachmentFormat::Jpeg,
            "image/png" => AttachmentFormat::Png,
            "image/tiff" => AttachmentFormat::Tiff,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                AttachmentFormat::Docx
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                AttachmentFormat::Xlsx
            }
            "application/vnd.oasis.opendocument.text" => AttachmentFormat::Odt,
            "application/vnd.oasis.opendocument.spreadsheet" => AttachmentFormat::Ods,
            "application/msword" => AttachmentFormat::Doc,
            "application/vnd.ms-excel" => AttachmentFormat::Xls,
            "application/rtf" | "text/rtf" => AttachmentFormat::Rtf,
            "text/plain" => {
                let utf8_or_none = params.iter().all(|p| match p.split_once('=') {
                    Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                        let value = value.trim().trim_matches('"');
                        value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
                    }
                    _ => true,
                });
                return utf8_or_none.then_some(AttachmentFormat::Text);
            }
            "application/xml" | "text/xml" => AttachmentFormat::Xml,
            _ => return None,
        };
        Some(format)
    }
}

/// The content is not in an accepted format (reason `unsupported_format`,
/// DOMAIN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedFormat;

impl fmt::Display for UnsupportedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported_format")
    }
}

impl std::error::Error for UnsupportedFormat {}

pub(super) const ZIP_LOCAL_HEADER: &[u8] = b"PK\x03\x04";
pub(super) const OLE_SIGNATURE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Decides the format from the bytes (never the name), DOMAIN.md §6.
///
/// Reads are bounded: a ZIP's central directory is found from its end, at
/// most two small entries are inflated (with a cap), a compound file's
/// directory is read; nothing else is decompressed or scanned. Empty input
/// is the caller's concern (it reports `empty` first); here it is simply
/// unsupported, never a panic.
///
/// # Errors
///
/// [`UnsupportedFormat`] for anything that is none of the accepted formats.
///
/// # Examples
///
/// ```rust
/// use casia_core::attachment::format::{AttachmentFormat, UnsupportedFormat, detect};
///
/// assert_eq!(detect(b"%PDF-1.7\n%%EOF\n"), Ok(AttachmentFormat::Pdf));
/// // Valid UTF-8 without NUL is text, whatever the file name says.
/// assert_eq!(detect("naf;importe\n281234567840;125,50\n".as_bytes()), Ok(AttachmentFormat::Text));
/// assert_eq!(detect(b"<?xml version=\"1.0\"?><fichero/>"), Ok(AttachmentFormat::Xml));
/// // A page a browser would render is refused, as is an executable.
/// assert_eq!(detect(b"<html><body>hola</body></html>"), Err(UnsupportedFormat));
/// assert_eq!(detect(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"), Err(UnsupportedFormat));
/// ```
pub fn detect(content: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
    // Reading a slice cannot fail.
    detect_in(&content).unwrap_or(Err(UnsupportedFormat))
}

/// [`detect`] reading through `source` (issue 17, "Streaming"): an upload
/// spooled to a file is judged from the file, in bounded reads — the
/// signatures from its first 16 bytes, a ZIP's directory from its end, a
/// compound file's sectors, text in 64 KiB windows — never whole in
/// memory. The verdict is the one [`detect`] gives for the same bytes.
///
/// # Errors
///
/// The source's read error (`Err`): a file that cannot be read is not
/// called unsupported. Otherwise `Ok` with the verdict.
pub fn detect_in(
    source: &dyn ContentSource,
) -> std::io::Result<Result<AttachmentFormat, UnsupportedFormat>> {
    let reader = Reader::new(source);
    let verdict = judge(&reader);
    match reader.take_failure() {
        Some(e) => Err(e),
        None => Ok(verdict),
    }
}

fn judge(content: &Reader<'_>) -> Result<AttachmentFormat, UnsupportedFormat> {
    let mut first = [0u8; 16];
    let n = content
        .read_full_at(0, &mut first)
        .map_err(|_| UnsupportedFormat)?;
    let head = &first[..n];
    if head.is_empty() {
        return Err(UnsupportedFormat);
    }
    if head.starts_with(b"%PDF-") {
        return Ok(AttachmentFormat::Pdf);
    }
    if head.starts_with(b"\xFF\xD8\xFF") {
        return Ok(AttachmentFormat::Jpeg);
    }
    if head.starts_with(PNG_SIGNATURE) {
        return Ok(AttachmentFormat::Png);
    }
    if is_tiff(head) {
        return Ok(AttachmentFormat::Tiff);
    }
    if head.starts_with(b"{\\rtf") {
        return Ok(AttachmentFormat::Rtf);
    }
    if head.starts_with(OLE_SIGNATURE) {
        return office::compound_file(content);
    }
    if head.starts_with(ZIP_LOCAL_HEADER) && !text::is_valid_text(content) {
        return office::zip_package(content);
    }
    text::detect_text(content)
}

/// TIFF by its header (the first 16 bytes): `II*\0` / `MM\0*` (classic)
/// or `II+\0` / `MM\0+` (BigTIFF). Canon CR2 raw files (TIFF-based, `CR`
/// at offset 8, a different format) stay unsupported.
fn is_tiff(content: &[u8]) -> bool {
    const HEADERS: [&[u8]; 4] = [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"];
    content.len() >= 8
        && HEADERS.iter().any(|h| content.starts_with(h))
        && content.get(8..10) != Some(b"CR")
}

#[cfg(test)]
mod tests {
    use super::*;
    use casia_test_support::samples::{compound_file, docx};
    use proptest::prelude::*;

    /// Bytes that are no text (0xFF is never UTF-8) and match no signature.
    const NOISE: &[u8] = b"\xff\x00\x13\x37\xfe\xed\xfa\xce\x00\x01\x02\x03";

    fn with_prefix(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
        [prefix, rest].concat()
    }

    fn minimal_tiff(header: &[u8; 4]) -> Vec<u8> {
        let little = header[0] == b'I';
        let mut t = header.to_vec();
        // IFD right after the header, with zero entries and no next IFD.
        t.extend_from_slice(&if little {
            8u32.to_le_bytes()
        } else {
            8u32.to_be_bytes()
        });
        t.extend_from_slice(&[0; 6]);
        t
    }

    #[test]
    fn signatures_decide_pdf_jpeg_png_tiff_and_rtf() {
        assert_eq!(
            detect(&with_prefix(b"%PDF-1.7\n", NOISE)),
            Ok(AttachmentFormat::Pdf)
        );
        assert_eq!(
            detect(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"),
            Ok(AttachmentFormat::Pdf)
        );
        assert_eq!(
            detect(&with_prefix(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", NOISE)),
            Ok(AttachmentFormat::Jpeg)
        );
        assert_eq!(
            detect(&with_prefix(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", NOISE)),
            Ok(AttachmentFormat::Png)
        );
        for header in [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"] {
            assert_eq!(
                detect(&minimal_tiff(header)),
                Ok(AttachmentFormat::Tiff),
                "{header:?}"
            );
        }
        let mut cr2 = minimal_tiff(b"II*\0");
        cr2.extend_from_slice(&[0; 8]);
        cr2[8..11].copy_from_slice(b"CR\x02");
        assert_eq!(
            detect(&cr2),
            Err(UnsupportedFormat),
            "Canon raw is not TIFF"
        );
        assert_eq!(
            detect(br"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}}\f0 Hola}"),
            Ok(AttachmentFormat::Rtf)
        );
    }

    #[test]
    fn binaries_of_other_formats_are_unsupported() {
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        for (what, bytes) in [
            ("PE", with_prefix(b"MZ\x90\0\x03\0\0\0", NOISE)),
            ("ELF", elf),
            ("GIF", b"GIF89a\x01\0\x01\0\0\0\0;".to_vec()),
            ("gzip", with_prefix(b"\x1f\x8b\x08\0", NOISE)),
            ("7z", with_prefix(b"7z\xBC\xAF\x27\x1C", NOISE)),
            ("BMP", with_prefix(b"BM\x36\0\0\0", NOISE)),
            ("MP3", with_prefix(b"ID3\x04\0\0", NOISE)),
            (
                "a ZIP that is no package",
                with_prefix(b"PK\x03\x04", NOISE),
            ),
        ] {
            assert_eq!(detect(&bytes), Err(UnsupportedFormat), "{what}");
        }
        assert_eq!(detect(b""), Err(UnsupportedFormat), "empty: never a panic");
    }

    #[test]
    fn truncated_structures_do_not_panic() {
        let docx = docx();
        for len in 0..docx.len() {
            let _ = detect(&docx[..len]);
        }
        let doc = compound_file(&["WordDocument"]);
        for len in (0..doc.len()).step_by(7) {
            let _ = detect(&doc[..len]);
        }
        assert_eq!(detect(&docx), Ok(AttachmentFormat::Docx));
        assert_eq!(detect(&doc), Ok(AttachmentFormat::Doc));
    }

    #[test]
    fn media_types_round_trip_and_extensions_are_listed() {
        for format in AttachmentFormat::ALL {
            assert_eq!(
                AttachmentFormat::from_media_type(format.media_type()),
                Some(format)
            );
            assert!(!format.extensions().is_empty());
        }
        use AttachmentFormat as F;
        assert_eq!(F::from_media_type("Application/PDF"), Some(F::Pdf));
        assert_eq!(F::from_media_type("text/plain"), Some(F::Text));
        assert_eq!(
            F::from_media_type("text/plain;charset=UTF-8"),
            Some(F::Text)
        );
        assert_eq!(
            F::from_media_type("text/plain; charset=\"utf-8\""),
            Some(F::Text)
        );
        assert_eq!(F::from_media_type("text/plain; charset=iso-8859-1"), None);
        assert_eq!(F::from_media_type("text/xml"), Some(F::Xml));
        assert_eq!(F::from_media_type("text/html"), None);
        assert_eq!(F::from_media_type(""), None);
    }

    #[test]
    fn serde_names_are_snake_case() {
        // The names are the wire/storage form; a rename must fail here.
        let json = serde_json::to_string(&AttachmentFormat::ALL).expect("serialises");
        assert_eq!(
            json,
            r#"["pdf","jpeg","png","tiff","docx","xlsx","odt","ods","doc","xls","rtf","text","xml"]"#
        );
        let back: Vec<AttachmentFormat> = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, AttachmentFormat::ALL);
    }

    fn printable_ascii(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(0x20u8..=0x7E, min..max)
    }

    proptest! {
        #[test]
        fn detect_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = detect(&bytes);
        }

        #[test]
        fn detect_never_panics_on_signature_prefixed_noise(
            prefix in prop::sample::select(vec![
                b"PK\x03\x04".to_vec(),
                OLE_SIGNATURE.to_vec(),
                b"II*\0".to_vec(),
                b"<?xml".to_vec(),
                b"<!DOCTYPE".to_vec(),
                b"{\\rtf".to_vec(),
            ]),
            rest in prop::collection::vec(any::<u8>(), 0..2048),
        ) {
            let _ = detect(&with_prefix(&prefix, &rest));
        }

        /// A signature shorter than 8 bytes never outvotes valid text.
        #[test]
        fn printable_ascii_not_starting_with_markup_or_a_kept_signature_is_text(
            bytes in printable_ascii(1, 512),
        ) {
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            prop_assume!(first.is_some_and(|b| *b != b'<' && *b != b'{'));
            prop_assume!(!bytes.starts_with(b"%PDF-") && !bytes.starts_with(b"!<arch>\n"));
            prop_assert_eq!(detect(&bytes), Ok(AttachmentFormat::Text));
        }

        #[test]
        fn xml_like_printable_text_is_xml_or_rejected_never_text(rest in printable_ascii(0, 256)) {
            prop_assert_ne!(detect(&with_prefix(b"<", &rest)), Ok(AttachmentFormat::Text));
        }

        #[test]
        fn pdf_png_and_jpeg_signatures_then_anything(rest in prop::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(detect(&with_prefix(b"%PDF-1.7\n", &rest)), Ok(AttachmentFormat::Pdf));
            prop_assert_eq!(detect(&with_prefix(b"\x89PNG\r\n\x1a\n", &rest)), Ok(AttachmentFormat::Png));
            prop_assert_eq!(detect(&with_prefix(b"\xFF\xD8\xFF\xE0", &rest)), Ok(AttachmentFormat::Jpeg));
        }

        #[test]
        fn non_text_after_a_short_signature_is_unsupported(
            prefix in prop::sample::select(vec![&b"MZ"[..], b"BM", b"ID3", b"GIF87a", b"PK\x03\x04"]),
            rest in prop::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = with_prefix(prefix, &rest);
            bytes.push(0xFF); // never UTF-8
            prop_assert_eq!(detect(&bytes), Err(UnsupportedFormat));
        }
    }
}
