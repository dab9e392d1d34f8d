//! Test builders for attachment contents: ZIP packages entry by entry
//! (stored or deflated, optionally flagged encrypted) and OLE compound
//! files (written with the `cfb` crate).

use std::io::{Cursor, Write};

/// One ZIP entry to build.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// The entry's name (path) in the archive.
    pub name: String,
    /// The uncompressed bytes.
    pub data: Vec<u8>,
    /// Deflated (method 8) rather than stored (method 0).
    pub deflate: bool,
    /// Flagged as encrypted (general-purpose bit 0); the bytes are not.
    pub encrypted: bool,
}

impl ZipEntry {
    /// A stored entry.
    pub fn stored(name: &str, data: &[u8]) -> ZipEntry {
        ZipEntry {
            name: name.into(),
            data: data.to_vec(),
            deflate: false,
            encrypted: false,
        }
    }

    /// A deflated entry.
    pub fn deflated(name: &str, data: &[u8]) -> ZipEntry {
        ZipEntry {
            deflate: true,
            ..ZipEntry::stored(name, data)
        }
    }
}

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

fn le16(v: usize) -> [u8; 2] {
    u16::try_from(v).expect("test sizes fit u16").to_le_bytes()
}

fn le32(v: usize) -> [u8; 4] {
    u32::try_from(v).expect("test sizes fit u32").to_le_bytes()
}

/// A complete ZIP: local headers with data, central directory, end record.
pub fn zip(entries: &[ZipEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len();
        let body = if e.deflate {
            miniz_oxide::deflate::compress_to_vec(&e.data, 6)
        } else {
            e.data.clone()
        };
        let method: u8 = if e.deflate { 8 } else { 0 };
        let flags: u8 = u8::from(e.encrypted);
        let crc = crc32(&e.data).to_le_bytes();
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&[20, 0, flags, 0, method, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc);
        out.extend_from_slice(&le32(body.len()));
        out.extend_from_slice(&le32(e.data.len()));
        out.extend_from_slice(&le16(e.name.len()));
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&body);

        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 0, 20, 0, flags, 0, method, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&crc);
        central.extend_from_slice(&le32(body.len()));
        central.extend_from_slice(&le32(e.data.len()));
        central.extend_from_slice(&le16(e.name.len()));
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        central.extend_from_slice(&le32(offset));
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&le16(entries.len()));
    out.extend_from_slice(&le16(entries.len()));
    out.extend_from_slice(&le32(central.len()));
    out.extend_from_slice(&le32(cd_offset));
    out.extend_from_slice(&[0, 0]);
    out
}

/// The main part type of a DOCX (ECMA-376).
pub const DOCX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
/// The main part type of an XLSX.
pub const XLSX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
/// The main part type of a macro-enabled Word document.
pub const DOCM_MAIN: &str = "application/vnd.ms-word.document.macroEnabled.main+xml";
/// The main part type of a PowerPoint presentation.
pub const PPTX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml";

/// `[Content_Types].xml` with the usual defaults and the given overrides.
pub fn content_types(overrides: &[(&str, &str)]) -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
    );
    for (part, content_type) in overrides {
        xml.push_str(&format!(
            r#"<Override PartName="{part}" ContentType="{content_type}"/>"#
        ));
    }
    xml.push_str("</Types>");
    xml.into_bytes()
}

const RELS: &[u8] = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#;
const PART: &[u8] = br#"<?xml version="1.0"?><x/>"#;

/// A DOCX as Word lays it out, entries deflated.
pub fn docx() -> Vec<u8> {
    zip(&[
        ZipEntry::deflated(
            "[Content_Types].xml",
            &content_types(&[("/word/document.xml", DOCX_MAIN)]),
        ),
        ZipEntry::deflated("_rels/.rels", RELS),
        ZipEntry::deflated("word/_rels/document.xml.rels", RELS),
        ZipEntry::deflated("word/document.xml", PART),
    ])
}

/// An XLSX as Excel lays it out, entries deflated.
pub fn xlsx() -> Vec<u8> {
    zip(&[
        ZipEntry::deflated(
            "[Content_Types].xml",
            &content_types(&[("/xl/workbook.xml", XLSX_MAIN)]),
        ),
        ZipEntry::deflated("_rels/.rels", RELS),
        ZipEntry::deflated("xl/workbook.xml", PART),
        ZipEntry::deflated("xl/worksheets/sheet1.xml", PART),
    ])
}

/// A minimal ODF `META-INF/manifest.xml`.
pub const MANIFEST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>"#;

/// ODF as LibreOffice lays it out: `mimetype` first and stored.
pub fn odf(mimetype: &str) -> Vec<u8> {
    zip(&[
        ZipEntry::stored("mimetype", mimetype.as_bytes()),
        ZipEntry::deflated("content.xml", PART),
        ZipEntry::deflated("META-INF/manifest.xml", MANIFEST),
    ])
}

/// A compound file whose root storage holds these streams (and storages,
/// for names ending in `/`).
pub fn compound_file(entries: &[&str]) -> Vec<u8> {
    let mut file =
        cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("create compound file");
    for name in entries {
        if let Some(storage) = name.strip_suffix('/') {
            file.create_storage(format!("/{storage}")).expect("storage");
        } else {
            let mut stream = file.create_stream(format!("/{name}")).expect("stream");
            stream.write_all(&[1u8; 64]).expect("write stream");
        }
    }
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

/// A DOCX whose first (stored) part is `padding` bytes full of fake
/// end-of-central-directory records: what a reader that scans from the front
/// stumbles on (the format tests and the `detect` bench, issue 12).
pub fn crafted_docx(padding: usize) -> Vec<u8> {
    let mut noise = Vec::with_capacity(padding);
    while noise.len() < padding {
        noise.extend_from_slice(b"PK\x05\x06\xff\xff\xff\xff");
    }
    zip(&[
        ZipEntry::stored("word/media/padding.bin", &noise),
        ZipEntry::deflated(
            "[Content_Types].xml",
            &content_types(&[("/word/document.xml", DOCX_MAIN)]),
        ),
        ZipEntry::deflated("word/document.xml", b"<w/>"),
    ])
}
