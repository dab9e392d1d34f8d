//! Attachment format detection (DOMAIN.md §6).
//!
//! The format of an attachment is decided from its **content** only, never
//! from its file name or a declared media type, so that a renamed executable
//! cannot slip in as a PDF. Detection runs in three steps:
//!
//! 1. the signatures of the accepted binary formats (PDF, JPEG, PNG, TIFF,
//!    RTF, DOCX, XLSX, ODT, ODS, DOC, XLS) decide first;
//! 2. any other signature that `infer` recognises (executables, other ZIP or
//!    OLE compound files, archives, other images, audio, video, fonts, …)
//!    makes the content unsupported — `infer`'s *text* matchers (HTML, XML,
//!    shell script) are not binary signatures and are ignored here;
//! 3. only content without a recognised binary signature is tested as text:
//!    valid UTF-8, no NUL byte, not HTML and not SVG.

use std::fmt;

/// The formats CASIA accepts (DOMAIN.md §6), decided from content only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentFormat {
    /// PDF (`%PDF`).
    Pdf,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47`).
    Png,
    /// TIFF, classic or BigTIFF, little- or big-endian.
    Tiff,
    /// Office Open XML word processing document.
    Docx,
    /// Office Open XML spreadsheet.
    Xlsx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// Word 97–2003 (OLE compound file).
    Doc,
    /// Excel 97–2003 (OLE compound file).
    Xls,
    /// Rich Text Format (`{\rtf`).
    Rtf,
    /// Plain UTF-8 text (TXT, CSV, …).
    Text,
    /// UTF-8 text whose first non-white character is `<` (XML).
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

/// Decides the format from the bytes (never the name), DOMAIN.md §6.
///
/// Empty input is the caller's concern (it reports `empty` first); here it is
/// simply unsupported, never a panic.
pub fn detect(content: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
    if content.is_empty() {
        return Err(UnsupportedFormat);
    }
    if let Some(format) = accepted_binary(content)? {
        return Ok(format);
    }
    match infer::get(content) {
        // A signature of a format that is not accepted: "content that starts
        // with the signature of a format that is not accepted … is
        // unsupported_format".
        Some(kind) if kind.matcher_type() != infer::MatcherType::Text => Err(UnsupportedFormat),
        // No signature, or only `infer`'s textual guesses (html, xml,
        // shellscript): the text rules below decide, not infer's heuristics.
        _ => detect_text(content),
    }
}

const ZIP_LOCAL_HEADER: &[u8] = b"PK\x03\x04";
const OLE_SIGNATURE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Step 1: the accepted binary formats. `Ok(None)` means "no accepted
/// signature, keep looking"; `Err` means the content is a ZIP or an OLE
/// compound file that is none of the accepted office formats.
fn accepted_binary(content: &[u8]) -> Result<Option<AttachmentFormat>, UnsupportedFormat> {
    use infer::{archive, doc, image, odf};

    let format = if archive::is_pdf(content) {
        AttachmentFormat::Pdf
    } else if image::is_jpeg(content) {
        AttachmentFormat::Jpeg
    } else if image::is_png(content) {
        AttachmentFormat::Png
    } else if is_tiff(content) {
        AttachmentFormat::Tiff
    } else if archive::is_rtf(content) {
        // `{\rtf` is ASCII, and infer files RTF under "archive": it must be
        // accepted here, before the other-signature rule and the text test.
        AttachmentFormat::Rtf
    } else if content.starts_with(ZIP_LOCAL_HEADER) {
        // A ZIP is accepted only as DOCX/XLSX/ODT/ODS; PPTX, EPUB, ODP, JAR
        // and plain archives are not.
        if doc::is_docx(content) {
            AttachmentFormat::Docx
        } else if doc::is_xlsx(content) {
            AttachmentFormat::Xlsx
        } else if odf::is_odt(content) {
            AttachmentFormat::Odt
        } else if odf::is_ods(content) {
            AttachmentFormat::Ods
        } else {
            return ooxml_from_central_directory(content)
                .map(Some)
                .ok_or(UnsupportedFormat);
        }
    } else if content.starts_with(OLE_SIGNATURE) {
        // OLE compound files: only those infer identifies as Word or Excel
        // (by the root CLSID); PowerPoint, MSI and unknown ones are not.
        if doc::is_doc(content) {
            AttachmentFormat::Doc
        } else if doc::is_xls(content) {
            AttachmentFormat::Xls
        } else {
            return Err(UnsupportedFormat);
        }
    } else {
        return Ok(None);
    };
    Ok(Some(format))
}

/// TIFF by its header: `II*\0` / `MM\0*` (classic) or `II+\0` / `MM\0+`
/// (BigTIFF). infer 0.19's own `is_tiff` also demands `buf[8] != 'C' &&
/// buf[9] != 'R'`, which rejects valid TIFFs, so it is not used; Canon CR2
/// raw files (TIFF-based, but a different format) stay unsupported.
fn is_tiff(content: &[u8]) -> bool {
    const HEADERS: [&[u8]; 4] = [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"];
    content.len() >= 8
        && HEADERS.iter().any(|h| content.starts_with(h))
        && !infer::image::is_cr2(content)
}

/// Fallback for OOXML packages whose entry order infer 0.19's heuristic does
/// not follow (it only looks at the 1st, 3rd and 4th local headers): read the
/// ZIP central directory and require `[Content_Types].xml` plus parts of
/// exactly one of `word/` (DOCX) or `xl/` (XLSX). A package with `ppt/`
/// parts is a presentation and stays unsupported.
fn ooxml_from_central_directory(zip: &[u8]) -> Option<AttachmentFormat> {
    let mut content_types = false;
    let (mut word, mut xl, mut ppt) = (false, false, false);
    for name in central_directory_names(zip)? {
        content_types |= name == b"[Content_Types].xml";
        word |= name.starts_with(b"word/");
        xl |= name.starts_with(b"xl/");
        ppt |= name.starts_with(b"ppt/");
    }
    match (content_types, word, xl, ppt) {
        (true, true, false, false) => Some(AttachmentFormat::Docx),
        (true, false, true, false) => Some(AttachmentFormat::Xlsx),
        _ => None,
    }
}

/// The entry names of a ZIP's central directory, or `None` if there is no
/// well-formed one (bounds-checked throughout: the input is untrusted).
fn central_directory_names(zip: &[u8]) -> Option<Vec<&[u8]>> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    const CDH: &[u8] = b"PK\x01\x02";
    const CDH_LEN: usize = 46;

    // The end-of-central-directory record is the last 22 bytes plus a
    // comment of at most 65 535 bytes.
    let last = zip.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    let eocd = (first..=last)
        .rev()
        .find(|&at| zip.get(at..at + EOCD.len()) == Some(EOCD))?;
    let entries = read_u16(zip, eocd + 10)?;
    let size = usize::try_from(read_u32(zip, eocd + 12)?).ok()?;
    let offset = usize::try_from(read_u32(zip, eocd + 16)?).ok()?;
    let end = offset.checked_add(size)?;
    if end > eocd {
        return None;
    }

    let mut names = Vec::with_capacity(usize::from(entries).min(1024));
    let mut at = offset;
    for _ in 0..entries {
        if zip.get(at..at + CDH.len())? != CDH {
            return None;
        }
        let name_len = usize::from(read_u16(zip, at + 28)?);
        let extra_len = usize::from(read_u16(zip, at + 30)?);
        let comment_len = usize::from(read_u16(zip, at + 32)?);
        let name_start = at + CDH_LEN;
        let next = name_start + name_len + extra_len + comment_len;
        if next > end {
            return None;
        }
        names.push(zip.get(name_start..name_start + name_len)?);
        at = next;
    }
    Some(names)
}

fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_le_bytes(bytes))
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Step 3, the text rules of DOMAIN.md §6: valid UTF-8, no NUL byte, not
/// HTML/SVG; `Xml` when the first non-white character is `<`.
fn detect_text(content: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
    if content.contains(&0) {
        return Err(UnsupportedFormat);
    }
    let text = std::str::from_utf8(content).map_err(|_| UnsupportedFormat)?;
    let body = skip_bom_and_white_space(text);
    if starts_with_forbidden_tag(body) {
        return Err(UnsupportedFormat);
    }
    if body.starts_with('<') {
        if xml_root_is_svg(body) {
            return Err(UnsupportedFormat);
        }
        return Ok(AttachmentFormat::Xml);
    }
    Ok(AttachmentFormat::Text)
}

/// Skips the optional UTF-8 BOM and white space (Unicode `White_Space`).
/// Repeated BOMs are skipped too, so they cannot hide an `<html` prefix.
fn skip_bom_and_white_space(text: &str) -> &str {
    text.trim_start_matches(|c: char| c == '\u{FEFF}' || c.is_whitespace())
}

/// `<!doctype html`, `<html`, `<svg`, `<script`, ASCII case-insensitive —
/// content a browser would render as a page, hence unsupported.
fn starts_with_forbidden_tag(body: &str) -> bool {
    const FORBIDDEN: [&str; 4] = ["<!doctype html", "<html", "<svg", "<script"];
    FORBIDDEN
        .iter()
        .any(|prefix| starts_with_ignore_ascii_case(body, prefix))
}

fn starts_with_ignore_ascii_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether an XML document's root element is `svg` (or `prefix:svg`),
/// compared case-sensitively as XML names are. The XML declaration,
/// processing instructions, comments and a DOCTYPE before the root are
/// skipped; if the prolog never ends there is no root, hence no SVG.
fn xml_root_is_svg(document: &str) -> bool {
    let mut rest = document;
    loop {
        rest = rest.trim_start();
        let skip = if let Some(after) = rest.strip_prefix("<?") {
            after.find("?>").map(|end| 2 + end + 2)
        } else if let Some(after) = rest.strip_prefix("<!--") {
            after.find("-->").map(|end| 4 + end + 3)
        } else if starts_with_ignore_ascii_case(rest, "<!doctype") {
            doctype_len(rest)
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after
                .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .unwrap_or(after.len());
            let name = after.get(..end).unwrap_or(after);
            let local = name.rsplit(':').next().unwrap_or(name);
            return local == "svg";
        } else {
            return false;
        };
        match skip.and_then(|len| rest.get(len..)) {
            Some(after) => rest = after,
            None => return false,
        }
    }
}

/// Length of a `<!DOCTYPE …>` declaration at the start of `text`, honouring
/// quoted literals, the internal subset `[…]` and comments/PIs inside it.
fn doctype_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut in_subset = false;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if let Some(q) = quote {
            if byte == q {
                quote = None;
            }
        } else if in_subset && bytes.get(at..).is_some_and(|r| r.starts_with(b"<!--")) {
            let rest = bytes.get(at + 4..)?;
            at += 4 + find(rest, b"-->")? + 3;
            continue;
        } else if in_subset && bytes.get(at..).is_some_and(|r| r.starts_with(b"<?")) {
            let rest = bytes.get(at + 2..)?;
            at += 2 + find(rest, b"?>")? + 2;
            continue;
        } else {
            match byte {
                b'"' | b'\'' => quote = Some(byte),
                b'[' => in_subset = true,
                b']' => in_subset = false,
                b'>' if !in_subset => return Some(at + 1),
                _ => {}
            }
        }
        at += 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- sample builders -------------------------------------------------

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        !crc
    }

    fn u16le(v: usize) -> [u8; 2] {
        u16::try_from(v).expect("test sizes fit u16").to_le_bytes()
    }

    fn u32le(v: usize) -> [u8; 4] {
        u32::try_from(v).expect("test sizes fit u32").to_le_bytes()
    }

    /// A complete, valid ZIP with stored (uncompressed) entries in the given
    /// order: local headers, central directory, end record.
    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = out.len();
            let crc = crc32(data).to_le_bytes();
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]); // version, flags, stored, time, date
            out.extend_from_slice(&crc);
            out.extend_from_slice(&u32le(data.len()));
            out.extend_from_slice(&u32le(data.len()));
            out.extend_from_slice(&u16le(name.len()));
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);

            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
            central.extend_from_slice(&crc);
            central.extend_from_slice(&u32le(data.len()));
            central.extend_from_slice(&u32le(data.len()));
            central.extend_from_slice(&u16le(name.len()));
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attrs
            central.extend_from_slice(&u32le(offset));
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len();
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&u16le(entries.len()));
        out.extend_from_slice(&u16le(entries.len()));
        out.extend_from_slice(&u32le(central.len()));
        out.extend_from_slice(&u32le(cd_offset));
        out.extend_from_slice(&[0, 0]);
        out
    }

    const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    const RELS: &[u8] = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#;
    const PART: &[u8] = br#"<?xml version="1.0"?><x/>"#;

    /// Word's own entry order: content types, package rels, then `word/`.
    fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/_rels/document.xml.rels", RELS),
            ("word/document.xml", PART),
        ])
    }

    fn xlsx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", PART),
            ("xl/_rels/workbook.xml.rels", RELS),
            ("xl/worksheets/sheet1.xml", PART),
        ])
    }

    fn pptx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("ppt/presentation.xml", PART),
            ("ppt/_rels/presentation.xml.rels", RELS),
        ])
    }

    /// ODF: a stored `mimetype` entry first, as the ODF spec requires.
    fn odf(mimetype: &str) -> Vec<u8> {
        zip(&[
            ("mimetype", mimetype.as_bytes()),
            ("META-INF/manifest.xml", PART),
            ("content.xml", PART),
        ])
    }

    const WORD_CLSID: [u8; 16] = clsid(0x0002_0906);
    const EXCEL_CLSID: [u8; 16] = clsid(0x0002_0820);
    const EXCEL5_CLSID: [u8; 16] = clsid(0x0002_0810);
    /// {64818D10-4F9B-11CF-86EA-00AA00B929E8}, PowerPoint 97–2003.
    const POWERPOINT_CLSID: [u8; 16] = [
        0x10, 0x8D, 0x81, 0x64, 0x9B, 0x4F, 0xCF, 0x11, 0x86, 0xEA, 0x00, 0xAA, 0x00, 0xB9, 0x29,
        0xE8,
    ];

    /// `{d1-0000-0000-C000-000000000046}` in on-disk (mixed-endian) order.
    const fn clsid(d1: u32) -> [u8; 16] {
        let d = d1.to_le_bytes();
        [
            d[0], d[1], d[2], d[3], 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
        ]
    }

    /// A minimal version-3 OLE compound file: header, one FAT sector, one
    /// directory sector with the root entry (carrying `root_clsid`, which is
    /// what identifies Word/Excel/PowerPoint) and an empty `stream` child.
    fn compound_file(root_clsid: [u8; 16], stream: &str) -> Vec<u8> {
        const FREE: [u8; 4] = [0xFF; 4];
        const END_OF_CHAIN: [u8; 4] = 0xFFFF_FFFEu32.to_le_bytes();
        const FAT_SECTOR: [u8; 4] = 0xFFFF_FFFDu32.to_le_bytes();

        let mut f = Vec::with_capacity(1536);
        f.extend_from_slice(OLE_SIGNATURE);
        f.extend_from_slice(&[0; 16]); // header CLSID
        f.extend_from_slice(&[0x3E, 0, 3, 0, 0xFE, 0xFF, 9, 0, 6, 0]); // minor, major 3, BOM, shifts
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&0u32.to_le_bytes()); // directory sectors (0 in v3)
        f.extend_from_slice(&1u32.to_le_bytes()); // FAT sectors
        f.extend_from_slice(&1u32.to_le_bytes()); // first directory sector
        f.extend_from_slice(&0u32.to_le_bytes()); // transaction signature
        f.extend_from_slice(&4096u32.to_le_bytes()); // mini stream cutoff
        f.extend_from_slice(&END_OF_CHAIN); // first mini FAT sector
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&END_OF_CHAIN); // first DIFAT sector
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes()); // DIFAT[0]: the FAT is sector 0
        while f.len() < 512 {
            f.extend_from_slice(&FREE);
        }
        // Sector 0: the FAT.
        f.extend_from_slice(&FAT_SECTOR);
        f.extend_from_slice(&END_OF_CHAIN); // sector 1: the directory
        while f.len() < 1024 {
            f.extend_from_slice(&FREE);
        }
        // Sector 1: the directory.
        f.extend_from_slice(&dir_entry("Root Entry", 5, 1, root_clsid));
        f.extend_from_slice(&dir_entry(stream, 2, u32::MAX, [0; 16]));
        f.extend_from_slice(&[0; 256]); // two unused entries
        f
    }

    fn dir_entry(name: &str, object_type: u8, child: u32, clsid: [u8; 16]) -> [u8; 128] {
        let mut e = [0u8; 128];
        let utf16: Vec<u16> = name.encode_utf16().collect();
        for (i, unit) in utf16.iter().enumerate() {
            e[2 * i..2 * i + 2].copy_from_slice(&unit.to_le_bytes());
        }
        e[64..66].copy_from_slice(&u16le(2 * (utf16.len() + 1)));
        e[66] = object_type;
        e[67] = 1; // black
        e[68..72].copy_from_slice(&u32::MAX.to_le_bytes()); // left sibling
        e[72..76].copy_from_slice(&u32::MAX.to_le_bytes()); // right sibling
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[80..96].copy_from_slice(&clsid);
        e[116..120].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no data
        e
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

    /// PDF signature + arbitrary bytes, as the conformance `synthetic` data.
    fn with_prefix(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
        [prefix, rest].concat()
    }

    const NOISE: &[u8] = &[0x00, 0xFF, 0x13, 0x80, 0x7F, 0xC3, 0x28, 0x0A, 0x41, 0xFE];

    // ---- accepted formats ------------------------------------------------

    #[test]
    fn pdf_is_detected() {
        assert_eq!(
            detect(&with_prefix(b"%PDF-1.7\n", NOISE)),
            Ok(AttachmentFormat::Pdf)
        );
        assert_eq!(
            detect(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"),
            Ok(AttachmentFormat::Pdf)
        );
    }

    #[test]
    fn png_is_detected() {
        assert_eq!(
            detect(&with_prefix(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", NOISE)),
            Ok(AttachmentFormat::Png)
        );
    }

    #[test]
    fn jpeg_is_detected() {
        assert_eq!(
            detect(&with_prefix(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", NOISE)),
            Ok(AttachmentFormat::Jpeg)
        );
        assert_eq!(
            detect(b"\xFF\xD8\xFF\xE1\0\x10Exif"),
            Ok(AttachmentFormat::Jpeg)
        );
    }

    #[test]
    fn tiff_is_detected_in_both_byte_orders_and_bigtiff() {
        for header in [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"] {
            assert_eq!(
                detect(&minimal_tiff(header)),
                Ok(AttachmentFormat::Tiff),
                "{header:?}"
            );
        }
    }

    #[test]
    fn tiff_that_infer_misses_is_still_tiff() {
        // infer 0.19's is_tiff rejects any TIFF whose 9th byte is 'C'.
        let mut t = minimal_tiff(b"II*\0");
        t[8] = b'C';
        assert!(!infer::image::is_tiff(&t));
        assert_eq!(detect(&t), Ok(AttachmentFormat::Tiff));
    }

    #[test]
    fn canon_raw_is_not_tiff() {
        let mut cr2 = minimal_tiff(b"II*\0");
        cr2.extend_from_slice(&[0; 8]);
        cr2[8..11].copy_from_slice(b"CR\x02");
        assert_eq!(detect(&cr2), Err(UnsupportedFormat));
    }

    #[test]
    fn docx_is_detected() {
        assert!(
            infer::doc::is_docx(&docx()),
            "the sample must be what infer knows"
        );
        assert_eq!(detect(&docx()), Ok(AttachmentFormat::Docx));
        // `word/` as the very first entry is also DOCX for infer.
        let first_word = zip(&[
            ("word/document.xml", PART),
            ("[Content_Types].xml", CONTENT_TYPES),
        ]);
        assert_eq!(detect(&first_word), Ok(AttachmentFormat::Docx));
    }

    #[test]
    fn xlsx_is_detected() {
        assert!(
            infer::doc::is_xlsx(&xlsx()),
            "the sample must be what infer knows"
        );
        assert_eq!(detect(&xlsx()), Ok(AttachmentFormat::Xlsx));
    }

    #[test]
    fn ooxml_in_an_order_infer_misses_is_found_by_the_central_directory() {
        // Third entry `docProps/…`: infer 0.19 gives up on this order.
        let docx = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("docProps/app.xml", PART),
            ("word/document.xml", PART),
        ]);
        assert!(!infer::doc::is_docx(&docx));
        assert_eq!(detect(&docx), Ok(AttachmentFormat::Docx));
        let xlsx = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("docProps/core.xml", PART),
            ("xl/workbook.xml", PART),
        ]);
        assert!(!infer::doc::is_xlsx(&xlsx));
        assert_eq!(detect(&xlsx), Ok(AttachmentFormat::Xlsx));
    }

    #[test]
    fn odt_and_ods_are_detected() {
        assert!(infer::odf::is_odt(&odf(
            "application/vnd.oasis.opendocument.text"
        )));
        assert_eq!(
            detect(&odf("application/vnd.oasis.opendocument.text")),
            Ok(AttachmentFormat::Odt)
        );
        assert_eq!(
            detect(&odf("application/vnd.oasis.opendocument.spreadsheet")),
            Ok(AttachmentFormat::Ods)
        );
    }

    #[test]
    fn doc_and_xls_are_detected_by_root_clsid() {
        // The samples must parse as compound files (infer uses `cfb`).
        assert!(infer::doc::is_doc(&compound_file(
            WORD_CLSID,
            "WordDocument"
        )));
        assert!(infer::doc::is_ppt(&compound_file(
            POWERPOINT_CLSID,
            "PowerPoint Document"
        )));
        assert_eq!(
            detect(&compound_file(WORD_CLSID, "WordDocument")),
            Ok(AttachmentFormat::Doc)
        );
        assert_eq!(
            detect(&compound_file(EXCEL_CLSID, "Workbook")),
            Ok(AttachmentFormat::Xls)
        );
        assert_eq!(
            detect(&compound_file(EXCEL5_CLSID, "Book")),
            Ok(AttachmentFormat::Xls)
        );
    }

    #[test]
    fn rtf_is_rtf_not_text() {
        assert_eq!(
            detect(br"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}}\f0 Hola}"),
            Ok(AttachmentFormat::Rtf)
        );
    }

    #[test]
    fn plain_text_and_csv_are_text() {
        assert_eq!(detect(b"Hello, world.\n"), Ok(AttachmentFormat::Text));
        assert_eq!(
            detect("ccc;naf;importe\n28123456789;281234567840;12,50 \u{20ac}\n".as_bytes()),
            Ok(AttachmentFormat::Text)
        );
        assert_eq!(
            detect("\u{FEFF}a,b\n1,2\n".as_bytes()),
            Ok(AttachmentFormat::Text)
        );
    }

    #[test]
    fn shell_script_is_just_text() {
        // infer calls `#!` text/x-shellscript; it is no binary signature.
        assert_eq!(
            infer::get(b"#!/bin/sh\necho hi\n").map(|k| k.matcher_type()),
            Some(infer::MatcherType::Text)
        );
        assert_eq!(detect(b"#!/bin/sh\necho hi\n"), Ok(AttachmentFormat::Text));
    }

    #[test]
    fn xml_that_is_not_svg_is_xml() {
        assert_eq!(
            detect(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<factura><importe>10</importe></factura>"),
            Ok(AttachmentFormat::Xml)
        );
        assert_eq!(detect(b"  <datos/>"), Ok(AttachmentFormat::Xml));
        // infer calls a leading comment HTML; the DOMAIN.md rules do not.
        let commented = b"<!-- exported --><datos><svg/></datos>";
        assert_eq!(
            infer::get(commented).map(|k| k.mime_type()),
            Some("text/html")
        );
        assert_eq!(detect(commented), Ok(AttachmentFormat::Xml));
        // A non-svg root with a DOCTYPE whose internal subset contains '>'.
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><!DOCTYPE doc [<!ENTITY e \"a>b\"><!-- > -->]><doc/>"),
            Ok(AttachmentFormat::Xml)
        );
        // Behind a prolog only a root named exactly `svg` (or `p:svg`)
        // counts: the name compares case-sensitively and as a whole name.
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><SVG/>"),
            Ok(AttachmentFormat::Xml)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><svgx/>"),
            Ok(AttachmentFormat::Xml)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><svg:g/>"),
            Ok(AttachmentFormat::Xml)
        );
        // Without a prolog the plain `<svg` prefix rule applies (any case).
        assert_eq!(detect(b"<svgdata/>"), Err(UnsupportedFormat));
    }

    // ---- rejected --------------------------------------------------------

    #[test]
    fn executables_are_unsupported() {
        assert_eq!(detect(&with_prefix(b"MZ", NOISE)), Err(UnsupportedFormat));
        assert_eq!(detect(b"MZ"), Err(UnsupportedFormat));
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        assert_eq!(detect(&elf), Err(UnsupportedFormat));
    }

    #[test]
    fn a_zip_that_is_no_office_document_is_unsupported() {
        assert_eq!(
            detect(&with_prefix(b"PK\x03\x04", NOISE)),
            Err(UnsupportedFormat)
        );
        assert_eq!(
            detect(&zip(&[("readme.txt", b"hola"), ("data.csv", b"a,b")])),
            Err(UnsupportedFormat)
        );
        // Content types but no word/ or xl/ parts.
        assert_eq!(
            detect(&zip(&[
                ("[Content_Types].xml", CONTENT_TYPES),
                ("a.xml", PART)
            ])),
            Err(UnsupportedFormat)
        );
        // An EPUB and an ODF presentation are ZIPs, too.
        assert_eq!(
            detect(&zip(&[
                ("mimetype", b"application/epub+zip"),
                ("content.opf", PART)
            ])),
            Err(UnsupportedFormat)
        );
        assert_eq!(
            detect(&odf("application/vnd.oasis.opendocument.presentation")),
            Err(UnsupportedFormat)
        );
    }

    #[test]
    fn powerpoint_is_unsupported() {
        assert_eq!(detect(&pptx()), Err(UnsupportedFormat));
        assert_eq!(
            detect(&compound_file(POWERPOINT_CLSID, "PowerPoint Document")),
            Err(UnsupportedFormat)
        );
    }

    #[test]
    fn other_compound_files_are_unsupported() {
        // MSI, or any compound file whose root CLSID is not Word/Excel.
        assert_eq!(
            detect(&compound_file([0; 16], "Contents")),
            Err(UnsupportedFormat)
        );
        assert_eq!(
            detect(&with_prefix(OLE_SIGNATURE, NOISE)),
            Err(UnsupportedFormat)
        );
    }

    #[test]
    fn gif_gzip_and_others_are_unsupported() {
        assert_eq!(detect(b"GIF89a\x01\0\x01\0\0\0\0;"), Err(UnsupportedFormat));
        assert_eq!(
            detect(&with_prefix(b"\x1f\x8b\x08\0", NOISE)),
            Err(UnsupportedFormat)
        );
        assert_eq!(
            detect(&with_prefix(b"7z\xBC\xAF\x27\x1C", NOISE)),
            Err(UnsupportedFormat)
        );
        assert_eq!(detect(b"%!PS-Adobe-3.0\n"), Err(UnsupportedFormat));
    }

    #[test]
    fn html_is_unsupported_in_any_case_after_bom_and_white_space() {
        for html in [
            "<!DOCTYPE html><p>x</p>",
            "<!doctype HTML>",
            "<!DocType Html>",
            "<html><body>x</body></html>",
            "<HTML>",
            "<HtMl lang=\"es\">",
            "\u{FEFF}<html>",
            "\u{FEFF} \t\r\n <!DOCTYPE html>",
            "\n\n   <HTML>",
            "\u{FEFF}\u{FEFF}<html>",
        ] {
            assert_eq!(detect(html.as_bytes()), Err(UnsupportedFormat), "{html:?}");
        }
    }

    #[test]
    fn script_and_svg_prefixes_are_unsupported() {
        for text in [
            "<script>alert(1)</script>",
            "  <SCRIPT src=x>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "\u{FEFF}\n<SvG onload=alert(1)>",
        ] {
            assert_eq!(detect(text.as_bytes()), Err(UnsupportedFormat), "{text:?}");
        }
    }

    #[test]
    fn svg_xml_document_is_unsupported() {
        let svg = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
            <!-- Generator: editor -->\n\
            <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n\
            <?xml-stylesheet href=\"a.css\"?>\n\
            <svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(detect(svg), Err(UnsupportedFormat));
        let prefixed =
            b"<?xml version=\"1.0\"?><svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"/>";
        assert_eq!(detect(prefixed), Err(UnsupportedFormat));
        let with_bom = "\u{FEFF}<?xml version=\"1.0\"?>\n<svg>\n</svg>";
        assert_eq!(detect(with_bom.as_bytes()), Err(UnsupportedFormat));
    }

    #[test]
    fn text_with_nul_or_invalid_utf8_is_unsupported() {
        assert_eq!(detect(b"hola\0mundo"), Err(UnsupportedFormat));
        assert_eq!(detect(b"caf\xE9 con leche"), Err(UnsupportedFormat)); // Latin-1
        assert_eq!(detect(b"\xC3\x28"), Err(UnsupportedFormat));
        assert_eq!(detect("café".as_bytes()), Ok(AttachmentFormat::Text));
    }

    #[test]
    fn empty_is_unsupported_not_a_panic() {
        assert_eq!(detect(b""), Err(UnsupportedFormat));
    }

    #[test]
    fn truncated_structures_do_not_panic() {
        let docx = docx();
        for len in 0..docx.len() {
            let _ = detect(&docx[..len]);
        }
        let doc = compound_file(WORD_CLSID, "WordDocument");
        for len in (0..doc.len()).step_by(7) {
            let _ = detect(&doc[..len]);
        }
        assert_eq!(detect(&docx), Ok(AttachmentFormat::Docx));
    }

    // ---- media types -----------------------------------------------------

    #[test]
    fn media_types_round_trip() {
        for format in AttachmentFormat::ALL {
            assert_eq!(
                AttachmentFormat::from_media_type(format.media_type()),
                Some(format)
            );
        }
        assert_eq!(AttachmentFormat::Pdf.media_type(), "application/pdf");
        assert_eq!(
            AttachmentFormat::Text.media_type(),
            "text/plain; charset=utf-8"
        );
        assert_eq!(AttachmentFormat::Xml.media_type(), "application/xml");
        assert_eq!(AttachmentFormat::Doc.media_type(), "application/msword");
    }

    #[test]
    fn from_media_type_is_lenient_only_where_harmless() {
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
        assert_eq!(F::from_media_type("image/gif"), None);
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

    // ---- properties ------------------------------------------------------

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

        #[test]
        fn mutated_office_files_never_panic(
            which in 0usize..3,
            // Biased towards the structural fields: the OLE header, the FAT
            // and the directory entries (offsets past a ZIP's end wrap).
            edits in prop::collection::vec(
                (prop_oneof![0usize..76, 512usize..524, 1024usize..1200, 0usize..1536], any::<u8>()),
                1..16,
            ),
        ) {
            let mut bytes = match which {
                0 => compound_file(WORD_CLSID, "WordDocument"),
                1 => compound_file(EXCEL_CLSID, "Workbook"),
                _ => docx(),
            };
            let len = bytes.len();
            for (at, byte) in edits {
                bytes[at % len] = byte;
            }
            let _ = detect(&bytes);
        }

        #[test]
        fn printable_ascii_not_starting_with_lt_or_brace_is_text(
            bytes in printable_ascii(1, 512),
        ) {
            // The text rules skip leading white space before looking for `<`.
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            prop_assume!(first.is_some_and(|b| *b != b'<' && *b != b'{'));
            // Printable ASCII can begin with a short ASCII signature that
            // infer knows (`MZ`, `BM`, `GIF8`, `%PDF`, `070701`, …); such
            // content is classified by that signature, per §6.
            prop_assume!(infer::get(&bytes).is_none_or(|k| k.matcher_type() == infer::MatcherType::Text));
            prop_assert_eq!(detect(&bytes), Ok(AttachmentFormat::Text));
        }

        #[test]
        fn lowercase_led_printable_ascii_is_text(
            first in b'a'..=b'z',
            rest in printable_ascii(0, 512),
        ) {
            // No infer signature starts with a lowercase letter and a space
            // (`dex`, `fLaC` and `wOFF` need another second byte), so every
            // sample must be Text, with no filtering through infer.
            let bytes = with_prefix(&[first, b' '], &rest);
            prop_assert_eq!(detect(&bytes), Ok(AttachmentFormat::Text));
        }

        #[test]
        fn xml_like_printable_text_is_xml_or_rejected_never_text(
            rest in printable_ascii(0, 256),
        ) {
            let bytes = with_prefix(b"<", &rest);
            prop_assert_ne!(detect(&bytes), Ok(AttachmentFormat::Text));
        }

        #[test]
        fn pdf_signature_then_anything_is_pdf(rest in prop::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(detect(&with_prefix(b"%PDF-1.7\n", &rest)), Ok(AttachmentFormat::Pdf));
        }

        #[test]
        fn png_signature_then_anything_is_png(rest in prop::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(
                detect(&with_prefix(b"\x89PNG\r\n\x1a\n", &rest)),
                Ok(AttachmentFormat::Png)
            );
        }

        #[test]
        fn jpeg_signature_then_anything_is_jpeg(rest in prop::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(
                detect(&with_prefix(b"\xFF\xD8\xFF\xE0", &rest)),
                Ok(AttachmentFormat::Jpeg)
            );
        }

        #[test]
        fn exe_and_zip_signatures_then_anything_are_unsupported(
            rest in prop::collection::vec(any::<u8>(), 0..2048),
        ) {
            prop_assert_eq!(detect(&with_prefix(b"MZ", &rest)), Err(UnsupportedFormat));
            prop_assert_eq!(detect(&with_prefix(b"PK\x03\x04", &rest)), Err(UnsupportedFormat));
        }
    }
}
