//! Office documents judged by their structure (DOMAIN.md §6), never by
//! their first bytes or entry names alone.
//!
//! - **ZIP packages.** The central directory is found from the end (the
//!   end record lies in the last 64 KiB + 22 bytes, so nothing is scanned
//!   from the front; `rawzip`) and walked once. At most two small entries
//!   are read, each inflated with a size cap (`miniz_oxide`); nothing else
//!   is decompressed.
//!   - DOCX/XLSX (OOXML, ECMA-376 Part 2): `[Content_Types].xml` gives
//!     `/word/document.xml` the wordprocessingml main type (DOCX) or
//!     `/xl/workbook.xml` the spreadsheetml main type (XLSX), and the
//!     package holds that part. Macro-enabled (`…macroEnabled…` types, a
//!     `vbaProject.bin`), templates and any other main part (PPTX) are not
//!     DOCX/XLSX.
//!   - ODT/ODS (ODF 1.2 Part 3 §3.3): the first entry is `mimetype`,
//!     stored, at offset 0, holding exactly the ODT or ODS type; the
//!     package holds `content.xml` and `META-INF/manifest.xml`, and the
//!     manifest declares no encrypted part. Packages with Basic or script
//!     macros are refused.
//!   - Any entry encrypted at ZIP level, and every other ZIP (EPUB, JAR,
//!     APK, plain archives), is unsupported.
//! - **Compound files** (DOC/XLS, [MS-CFB]): the root storage holds a
//!   `WordDocument` stream (Word) or a `Workbook`/`Book` stream (Excel),
//!   not both, and no VBA storage (`Macros`, `_VBA_PROJECT_CUR`). MSI,
//!   Outlook `.msg`, PowerPoint and encrypted OOXML (`EncryptedPackage`)
//!   are compound files too, and unsupported. Read with the `cfb` crate.

use std::io::Read;

use quick_xml::events::Event;
use rawzip::{CompressionMethod, RECOMMENDED_BUFFER_SIZE, ZipArchive, ZipArchiveEntryWayfinder};

use super::format::{AttachmentFormat, UnsupportedFormat};
use super::source::Reader;

/// A ZIP package read at offsets from the attachment's source.
type Package<'r, 'a> = ZipArchive<&'r Reader<'a>>;

/// Where the end-of-central-directory record can be: its 22 bytes plus a
/// comment of at most 65 535 bytes (APPNOTE 4.3.16).
const EOCD_SEARCH: u64 = 22 + 65_535;
/// More entries than any office document a case carries; beyond it the
/// walk stops and the file is refused.
const MAX_ENTRIES: usize = 10_000;
/// The most bytes an inflated `[Content_Types].xml` or `manifest.xml` may
/// have (real ones are a few KiB).
const MAX_PART_BYTES: usize = 1024 * 1024;
/// The most compressed bytes read for one such part.
const MAX_COMPRESSED_BYTES: u64 = 2 * MAX_PART_BYTES as u64;

const DOCX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const XLSX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
const ODT_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.text";
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// What one walk of the central directory learns.
#[derive(Default)]
struct Directory {
    /// The first entry is `mimetype`, stored, with its local header at 0.
    first_is_stored_mimetype: Option<ZipArchiveEntryWayfinder>,
    content_types: Option<Entry>,
    manifest: Option<Entry>,
    has_content_xml: bool,
    has_word_document: bool,
    has_workbook: bool,
    /// `vbaProject.bin`, or ODF `Basic/` or `Scripts/` parts.
    has_macros: bool,
}

#[derive(Clone, Copy)]
struct Entry {
    wayfinder: ZipArchiveEntryWayfinder,
    method: CompressionMethod,
}

/// DOCX, XLSX, ODT or ODS — or unsupported — for content that starts with
/// a ZIP local file header.
pub(super) fn zip_package(content: &Reader<'_>) -> Result<AttachmentFormat, UnsupportedFormat> {
    let mut buffer = vec![0u8; RECOMMENDED_BUFFER_SIZE];
    let archive = ZipArchive::with_max_search_space(EOCD_SEARCH)
        .locate_in_reader(content, &mut buffer, content.size())
        .map_err(|_| UnsupportedFormat)?;
    let dir = walk(&archive)?;
    if let Some(mimetype) = dir.first_is_stored_mimetype {
        return odf(&archive, &dir, mimetype);
    }
    ooxml(&archive, &dir)
}

fn walk(archive: &Package<'_, '_>) -> Result<Directory, UnsupportedFormat> {
    let mut dir = Directory::default();
    let mut buffer = vec![0u8; RECOMMENDED_BUFFER_SIZE];
    let mut entries = archive.entries(&mut buffer);
    let mut index = 0;
    while let Some(e) = entries.next_entry().map_err(|_| UnsupportedFormat)? {
        if index == MAX_ENTRIES || e.flags().is_encrypted() || e.flags().has_strong_encryption() {
            return Err(UnsupportedFormat);
        }
        let path = e.file_path();
        let name = path.as_bytes();
        let entry = Entry {
            wayfinder: e.wayfinder(),
            method: e.compression_method(),
        };
        if index == 0
            && name == b"mimetype"
            && entry.method == CompressionMethod::STORE
            && e.local_header_offset() == 0
        {
            dir.first_is_stored_mimetype = Some(entry.wayfinder);
        }
        // OPC part names compare case-insensitively (ECMA-376-2 §9.1.1.1).
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        if is(b"[Content_Types].xml") {
            dir.content_types = Some(entry);
        }
        if name == b"META-INF/manifest.xml" {
            dir.manifest = Some(entry);
        }
        dir.has_content_xml |= name == b"content.xml";
        dir.has_word_document |= is(b"word/document.xml");
        dir.has_workbook |= is(b"xl/workbook.xml");
        let lower = name.to_ascii_lowercase();
        dir.has_macros |= lower.ends_with(b"vbaproject.bin")
            || name.starts_with(b"Basic/")
            || name.starts_with(b"Scripts/");
        index += 1;
    }
    Ok(dir)
}

/// One entry's bytes, stored or deflated, at most [`MAX_PART_BYTES`].
fn read_entry(archive: &Package<'_, '_>, entry: Entry) -> Result<Vec<u8>, UnsupportedFormat> {
    if entry.wayfinder.uncompressed_size_hint() > MAX_PART_BYTES as u64 {
        return Err(UnsupportedFormat);
    }
    // The compressed bytes, whole or refused: data that runs past the end
    // of the file is a broken package (as the slice reader said), and more
    // than MAX_COMPRESSED_BYTES for at most MAX_PART_BYTES of content is no
    // real office part (deflate expands incompressible data by a few bytes
    // per 64 KiB block).
    let declared = entry.wayfinder.compressed_size_hint();
    let cap = if entry.method == CompressionMethod::STORE {
        MAX_PART_BYTES as u64
    } else {
        MAX_COMPRESSED_BYTES
    };
    if declared > cap {
        return Err(UnsupportedFormat);
    }
    let mut data = Vec::new();
    archive
        .get_entry(entry.wayfinder)
        .map_err(|_| UnsupportedFormat)?
        .reader()
        .take(declared)
        .read_to_end(&mut data)
        .map_err(|_| UnsupportedFormat)?;
    if data.len() as u64 != declared {
        return Err(UnsupportedFormat);
    }
    match entry.method {
        CompressionMethod::STORE => Ok(data),
        CompressionMethod::DEFLATE => {
            miniz_oxide::inflate::decompress_to_vec_with_limit(&data, MAX_PART_BYTES)
                .map_err(|_| UnsupportedFormat)
        }
        _ => Err(UnsupportedFormat),
    }
}

fn odf(
    archive: &Package<'_, '_>,
    dir: &Directory,
    mimetype: ZipArchiveEntryWayfinder,
) -> Result<AttachmentFormat, UnsupportedFormat> {
    let format = match read_entry(
        archive,
        Entry {
            wayfinder: mimetype,
            method: CompressionMethod::STORE,
        },
    )?
    .as_slice()
    {
        ODT_MIMETYPE => AttachmentFormat::Odt,
        ODS_MIMETYPE => AttachmentFormat::Ods,
        _ => return Err(UnsupportedFormat),
    };
    let manifest = dir.manifest.ok_or(UnsupportedFormat)?;
    if !dir.has_content_xml || dir.has_macros {
        return Err(UnsupportedFormat);
    }
    // A password-protected ODF document encrypts its parts and says so in
    // the manifest (ODF 1.2 Part 3 §4.8); no one could read it.
    let manifest = read_entry(archive, manifest)?;
    if memchr_find(&manifest, b"encryption-data") {
        return Err(UnsupportedFormat);
    }
    Ok(format)
}

fn ooxml(
    archive: &Package<'_, '_>,
    dir: &Directory,
) -> Result<AttachmentFormat, UnsupportedFormat> {
    let entry = dir.content_types.ok_or(UnsupportedFormat)?;
    if dir.has_macros {
        return Err(UnsupportedFormat);
    }
    let xml = read_entry(archive, entry)?;
    let types = ContentTypes::parse(&xml)?;
    if types.mentions_macros {
        return Err(UnsupportedFormat);
    }
    let docx =
        dir.has_word_document && types.of_part("/word/document.xml", "xml") == Some(DOCX_MAIN);
    let xlsx = dir.has_workbook && types.of_part("/xl/workbook.xml", "xml") == Some(XLSX_MAIN);
    // Exactly one main document, and it is one of the two accepted.
    let mains = types.main_overrides;
    match (docx, xlsx) {
        (true, false) if mains <= 1 => Ok(AttachmentFormat::Docx),
        (false, true) if mains <= 1 => Ok(AttachmentFormat::Xlsx),
        _ => Err(UnsupportedFormat),
    }
}

/// `[Content_Types].xml`: the `Default` (by extension) and `Override` (by
/// part name) content types (ECMA-376-2 §10.1.2).
#[derive(Default)]
struct ContentTypes {
    defaults: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
    /// Overrides whose type is some main document (`…main+xml`).
    main_overrides: usize,
    /// A macro-enabled or VBA content type anywhere.
    mentions_macros: bool,
}

impl ContentTypes {
    fn parse(xml: &[u8]) -> Result<ContentTypes, UnsupportedFormat> {
        let text = std::str::from_utf8(xml).map_err(|_| UnsupportedFormat)?;
        let mut reader = quick_xml::Reader::from_str(text.trim_start_matches('\u{FEFF}'));
        let mut types = ContentTypes::default();
        loop {
            match reader.read_event().map_err(|_| UnsupportedFormat)? {
                Event::Start(e) | Event::Empty(e) => {
                    let local = e.local_name();
                    let (key_attr, is_override) = match local.as_ref() {
                        b"Default" => (&b"Extension"[..], false),
                        b"Override" => (&b"PartName"[..], true),
                        _ => continue,
                    };
                    let mut key = None;
                    let mut content_type = None;
                    for attr in e.attributes() {
                        let attr = attr.map_err(|_| UnsupportedFormat)?;
                        let value = attr.unescape_value().map_err(|_| UnsupportedFormat)?;
                        if attr.key.as_ref() == key_attr {
                            key = Some(value.to_ascii_lowercase());
                        } else if attr.key.as_ref() == b"ContentType" {
                            content_type = Some(value.trim().to_ascii_lowercase());
                        }
                    }
                    let (Some(key), Some(content_type)) = (key, content_type) else {
                        return Err(UnsupportedFormat);
                    };
                    types.mentions_macros |= content_type.contains("macroenabled")
                        || content_type.contains("vbaproject");
                    if is_override {
                        types.main_overrides += usize::from(content_type.ends_with("main+xml"));
                        types.overrides.push((key, content_type));
                    } else {
                        types.defaults.push((key, content_type));
                    }
                }
                Event::Eof => return Ok(types),
                _ => {}
            }
        }
    }

    /// The content type of a part: its override, else the default of its
    /// extension (names compared case-insensitively).
    fn of_part(&self, part: &str, extension: &str) -> Option<&str> {
        fn find<'l>(list: &'l [(String, String)], key: &str) -> Option<&'l str> {
            list.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, t)| t.as_str())
        }
        find(&self.overrides, part).or_else(|| find(&self.defaults, extension))
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// DOC or XLS — or unsupported — for content that starts with the compound
/// file signature.
pub(super) fn compound_file(content: &Reader<'_>) -> Result<AttachmentFormat, UnsupportedFormat> {
    // cfb reads a few bytes at a time: buffer them.
    let file = cfb::CompoundFile::open(std::io::BufReader::new(content.stream_from(0)))
        .map_err(|_| UnsupportedFormat)?;
    let (mut word, mut excel, mut other) = (false, false, false);
    for entry in file.read_root_storage() {
        match (entry.name(), entry.is_stream()) {
            ("WordDocument", true) => word = true,
            ("Workbook" | "Book", true) => excel = true,
            // VBA macros (Word keeps them in `Macros`, Excel in
            // `_VBA_PROJECT_CUR`), an encrypted OOXML package, PowerPoint.
            ("Macros" | "_VBA_PROJECT_CUR" | "_VBA_PROJECT", _)
            | ("EncryptedPackage" | "PowerPoint Document", _) => other = true,
            _ => {}
        }
    }
    match (word, excel, other) {
        (true, false, false) => Ok(AttachmentFormat::Doc),
        (false, true, false) => Ok(AttachmentFormat::Xls),
        _ => Err(UnsupportedFormat),
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::detect;
    use super::{AttachmentFormat, MAX_PART_BYTES, UnsupportedFormat};
    use casia_test_support::samples::*;
    use proptest::prelude::*;

    fn docx_with(content_type: &str, extra: &[ZipEntry]) -> Vec<u8> {
        let mut entries = vec![
            ZipEntry::deflated(
                "[Content_Types].xml",
                &content_types(&[("/word/document.xml", content_type)]),
            ),
            ZipEntry::deflated("word/document.xml", b"<w/>"),
        ];
        entries.extend_from_slice(extra);
        zip(&entries)
    }

    #[test]
    fn office_packages_are_recognised_by_their_main_part() {
        assert_eq!(detect(&docx()), Ok(AttachmentFormat::Docx));
        assert_eq!(detect(&xlsx()), Ok(AttachmentFormat::Xlsx));
        assert_eq!(
            detect(&odf("application/vnd.oasis.opendocument.text")),
            Ok(AttachmentFormat::Odt)
        );
        assert_eq!(
            detect(&odf("application/vnd.oasis.opendocument.spreadsheet")),
            Ok(AttachmentFormat::Ods)
        );
        // Entry order does not matter for OOXML; part names compare
        // case-insensitively; a Default for `xml` can give the main type.
        let reordered = zip(&[
            ZipEntry::stored("word/document.xml", b"<w/>"),
            ZipEntry::stored(
                "[Content_Types].xml",
                &content_types(&[("/WORD/document.xml", DOCX_MAIN)]),
            ),
        ]);
        assert_eq!(detect(&reordered), Ok(AttachmentFormat::Docx));
        let by_default = zip(&[
            ZipEntry::stored(
                "[Content_Types].xml",
                format!(r#"<Types><Default Extension="xml" ContentType="{DOCX_MAIN}"/></Types>"#)
                    .as_bytes(),
            ),
            ZipEntry::stored("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(detect(&by_default), Ok(AttachmentFormat::Docx));
    }

    #[test]
    fn a_zip_dressed_as_an_office_document_is_unsupported() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("first entry word/, no content types", zip(&[
                ZipEntry::deflated("word/payload.exe", b"MZ\x90\0"),
                ZipEntry::deflated("word/other.bin", b"\0\0"),
            ])),
            ("ODT mimetype then an executable", zip(&[
                ZipEntry::stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("payload.exe", b"MZ\x90\0"),
            ])),
            ("content types naming a part that is absent", zip(&[
                ZipEntry::deflated("[Content_Types].xml", &content_types(&[("/word/document.xml", DOCX_MAIN)])),
                ZipEntry::deflated("word/payload.exe", b"MZ"),
            ])),
            ("main part present but not named", zip(&[
                ZipEntry::deflated("[Content_Types].xml", &content_types(&[])),
                ZipEntry::deflated("word/document.xml", b"<w/>"),
            ])),
            ("macro-enabled DOCM", docx_with(DOCM_MAIN, &[ZipEntry::deflated("word/vbaProject.bin", b"\xd0\xcf")])),
            ("DOCX type with a vbaProject.bin", docx_with(DOCX_MAIN, &[ZipEntry::deflated("word/vbaProject.bin", b"\xd0\xcf")])),
            ("template DOTX", docx_with("application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml", &[])),
            ("DOCX and a second main part (PPTX)", zip(&[
                ZipEntry::deflated("[Content_Types].xml", &content_types(&[("/word/document.xml", DOCX_MAIN), ("/ppt/presentation.xml", PPTX_MAIN)])),
                ZipEntry::deflated("word/document.xml", b"<w/>"),
                ZipEntry::deflated("ppt/presentation.xml", b"<p/>"),
            ])),
            ("both DOCX and XLSX", zip(&[
                ZipEntry::deflated("[Content_Types].xml", &content_types(&[("/word/document.xml", DOCX_MAIN), ("/xl/workbook.xml", XLSX_MAIN)])),
                ZipEntry::deflated("word/document.xml", b"<w/>"),
                ZipEntry::deflated("xl/workbook.xml", b"<x/>"),
            ])),
            ("encrypted entries", {
                let mut entries = vec![
                    ZipEntry::deflated("[Content_Types].xml", &content_types(&[("/word/document.xml", DOCX_MAIN)])),
                    ZipEntry::deflated("word/document.xml", b"<w/>"),
                ];
                entries[1].encrypted = true;
                zip(&entries)
            }),
            ("ODT with a deflated mimetype", zip(&[
                ZipEntry::deflated("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("content.xml", b"<x/>"),
                ZipEntry::deflated("META-INF/manifest.xml", MANIFEST),
            ])),
            ("ODT without a manifest", zip(&[
                ZipEntry::stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("content.xml", b"<x/>"),
            ])),
            ("ODT without content.xml", zip(&[
                ZipEntry::stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("META-INF/manifest.xml", MANIFEST),
            ])),
            ("ODT template", odf("application/vnd.oasis.opendocument.text-template")),
            ("ODP presentation", odf("application/vnd.oasis.opendocument.presentation")),
            ("EPUB", odf("application/epub+zip")),
            ("password-protected ODT", zip(&[
                ZipEntry::stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("content.xml", b"\x12\x34"),
                ZipEntry::deflated("META-INF/manifest.xml", br#"<manifest:manifest><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>"#),
            ])),
            ("ODT with Basic macros", zip(&[
                ZipEntry::stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                ZipEntry::deflated("content.xml", b"<x/>"),
                ZipEntry::deflated("Basic/Standard/Module1.xml", b"<script/>"),
                ZipEntry::deflated("META-INF/manifest.xml", MANIFEST),
            ])),
            ("JAR", zip(&[
                ZipEntry::deflated("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                ZipEntry::deflated("a/Main.class", b"\xca\xfe\xba\xbe"),
            ])),
            ("APK", zip(&[
                ZipEntry::deflated("AndroidManifest.xml", b"\x03\0\x08\0"),
                ZipEntry::deflated("classes.dex", b"dex\n035\0"),
            ])),
            ("empty archive", zip(&[])),
            ("content types too large", zip(&[
                ZipEntry::deflated("[Content_Types].xml", &vec![b' '; MAX_PART_BYTES + 1]),
                ZipEntry::deflated("word/document.xml", b"<w/>"),
            ])),
        ];
        for (what, bytes) in cases {
            assert_eq!(detect(&bytes), Err(UnsupportedFormat), "{what}");
        }
    }

    #[test]
    fn compound_files_need_a_word_or_excel_stream_and_no_macros() {
        assert_eq!(
            detect(&compound_file(&["WordDocument", "1Table"])),
            Ok(AttachmentFormat::Doc)
        );
        assert_eq!(
            detect(&compound_file(&["Workbook"])),
            Ok(AttachmentFormat::Xls)
        );
        assert_eq!(detect(&compound_file(&["Book"])), Ok(AttachmentFormat::Xls));
        for (what, streams) in [
            ("PowerPoint", &["PowerPoint Document", "Current User"][..]),
            (
                "MSI installer",
                &[
                    "\u{4840}\u{3b3f}\u{4577}\u{446c}\u{3b6a}\u{45e4}\u{4824}",
                    "SummaryInformation",
                ][..],
            ),
            (
                "Outlook message",
                &["__substg1.0_0037001F", "__properties_version1.0"][..],
            ),
            ("Word with macros", &["WordDocument", "Macros/"][..]),
            ("Excel with macros", &["Workbook", "_VBA_PROJECT_CUR/"][..]),
            (
                "encrypted OOXML",
                &["EncryptedPackage", "EncryptionInfo"][..],
            ),
            ("Word and Excel at once", &["WordDocument", "Workbook"][..]),
            ("a storage named like the stream", &["WordDocument/"][..]),
            ("nothing", &[][..]),
        ] {
            assert_eq!(
                detect(&compound_file(streams)),
                Err(UnsupportedFormat),
                "{what}"
            );
        }
    }

    fn crafted_ten_mib_docx() -> Vec<u8> {
        crafted_docx(10 << 20)
    }

    #[test]
    fn a_large_crafted_zip_is_judged_from_its_end() {
        assert_eq!(detect(&crafted_ten_mib_docx()), Ok(AttachmentFormat::Docx));
        // Without its end record (and no comment room to find one), refused.
        let mut no_end = crafted_ten_mib_docx();
        no_end.truncate(no_end.len() - 22);
        assert_eq!(detect(&no_end), Err(UnsupportedFormat));
    }

    /// One ZIP built from a random choice of parts and content types.
    #[derive(Debug, Clone)]
    struct Package {
        entries: Vec<ZipEntry>,
    }

    fn package() -> impl Strategy<Value = Package> {
        let names = prop::sample::subsequence(
            vec![
                "word/document.xml",
                "xl/workbook.xml",
                "ppt/presentation.xml",
                "content.xml",
                "META-INF/manifest.xml",
                "word/vbaProject.bin",
                "payload.exe",
                "_rels/.rels",
            ],
            0..=8,
        );
        let types = prop::collection::vec(
            (
                prop::sample::select(vec![
                    "/word/document.xml",
                    "/xl/workbook.xml",
                    "/ppt/presentation.xml",
                    "/word/other.xml",
                ]),
                prop::sample::select(vec![
                    DOCX_MAIN,
                    XLSX_MAIN,
                    DOCM_MAIN,
                    PPTX_MAIN,
                    "application/xml",
                ]),
            ),
            0..4,
        );
        let first = prop::sample::select(vec![
            None,
            Some("application/vnd.oasis.opendocument.text"),
            Some("application/vnd.oasis.opendocument.spreadsheet"),
            Some("application/epub+zip"),
        ]);
        (
            names,
            types,
            first,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(names, types, first, with_types, deflate, shuffle)| {
                let mut entries: Vec<ZipEntry> = names
                    .iter()
                    .map(|n| {
                        if deflate {
                            ZipEntry::deflated(n, b"<x/>")
                        } else {
                            ZipEntry::stored(n, b"<x/>")
                        }
                    })
                    .collect();
                if with_types {
                    entries.push(ZipEntry::deflated(
                        "[Content_Types].xml",
                        &content_types(&types),
                    ));
                }
                if shuffle {
                    entries.reverse();
                }
                if let Some(m) = first {
                    entries.insert(0, ZipEntry::stored("mimetype", m.as_bytes()));
                }
                Package { entries }
            })
    }

    fn has(p: &Package, name: &str) -> bool {
        p.entries.iter().any(|e| e.name == name)
    }

    proptest! {
        #[test]
        fn every_accepted_zip_has_its_main_part(p in package()) {
            let bytes = zip(&p.entries);
            let types = p.entries.iter().find(|e| e.name == "[Content_Types].xml")
                .map(|e| String::from_utf8_lossy(&e.data).into_owned())
                .unwrap_or_default();
            match detect(&bytes) {
                Ok(AttachmentFormat::Docx) => {
                    prop_assert!(has(&p, "word/document.xml"));
                    let named = types.contains(&format!(r#"PartName="/word/document.xml" ContentType="{DOCX_MAIN}""#));
                    prop_assert!(named);
                    prop_assert!(!has(&p, "word/vbaProject.bin") && !types.contains("macroEnabled"));
                }
                Ok(AttachmentFormat::Xlsx) => {
                    prop_assert!(has(&p, "xl/workbook.xml"));
                    let named = types.contains(&format!(r#"PartName="/xl/workbook.xml" ContentType="{XLSX_MAIN}""#));
                    prop_assert!(named);
                    prop_assert!(!has(&p, "word/vbaProject.bin") && !types.contains("macroEnabled"));
                }
                Ok(AttachmentFormat::Odt | AttachmentFormat::Ods) => {
                    prop_assert_eq!(&p.entries[0].name, "mimetype");
                    prop_assert!(has(&p, "content.xml") && has(&p, "META-INF/manifest.xml"));
                }
                Ok(other) => prop_assert!(false, "a ZIP accepted as {other:?}"),
                Err(UnsupportedFormat) => {}
            }
        }

        #[test]
        fn mutated_packages_never_panic(
            which in 0usize..4,
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        ) {
            let mut bytes = match which {
                0 => docx(),
                1 => xlsx(),
                2 => odf("application/vnd.oasis.opendocument.text"),
                _ => compound_file(&["WordDocument", "1Table", "Macros/"]),
            };
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = detect(&bytes);
        }
    }
}
