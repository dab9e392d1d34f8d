//! Stored file names (DOMAIN.md §6).
//!
//! The name a user gives an attachment is only a label: it never decides the
//! format, and it must be safe to store and to hand back (in a listing or a
//! download) without leaking or honouring a client path, and without
//! deceiving whoever downloads it: no bidi override can make `fdp.bat` read
//! `tab.pdf`, and the extension always fits the format that was checked.

use unicode_normalization::UnicodeNormalization;

use super::format::AttachmentFormat;

/// The name stored when nothing usable is left of the given one.
pub const FALLBACK_FILE_NAME: &str = "attachment";

/// The most bytes (UTF-8) a stored file name may have (DOMAIN.md §6).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Unicode format and bidi controls (DOMAIN.md §6: U+200B–U+200F,
/// U+202A–U+202E, U+2066–U+2069, U+FEFF), and the other invisible format
/// characters of category Cf that could hide or reorder a name (soft
/// hyphen, Arabic letter mark, Mongolian vowel separator, word joiner and
/// invisible operators, deprecated format characters, interlinear
/// annotation).
fn is_format_control(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{00AD}'
        | '\u{061C}'
        | '\u{180E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FFF9}'..='\u{FFFB}')
}

/// The stored file name (DOMAIN.md §6) before the extension rule: path
/// components, control characters and format/bidi controls removed, NFC,
/// at most 255 bytes (cut on a char boundary), never empty.
///
/// In order:
/// 1. control characters (`char::is_control`) and format/bidi controls
///    are removed, and the rest is put in Unicode Normalization Form C;
/// 2. only the part after the last `/` or `\` is kept (client paths of any
///    OS);
/// 3. a Windows drive prefix such as `C:` is dropped (repeatedly, so
///    `C:D:x` cannot leave a new prefix behind) and surrounding white space
///    is trimmed;
/// 4. the result is cut to 255 bytes on a char boundary and trimmed again;
/// 5. a name that is then empty, or only dots and white space (`.`, `..`),
///    becomes [`FALLBACK_FILE_NAME`].
///
/// The result is idempotent: sanitising a sanitised name changes nothing.
pub fn sanitize_file_name(raw: &str) -> String {
    let visible: String = raw
        .chars()
        .filter(|c| !c.is_control() && !is_format_control(*c))
        .nfc()
        .collect();
    let last_component = visible.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = strip_drive_prefixes(last_component);
    fit(name, MAX_FILE_NAME_BYTES)
}

/// The name to store for an attachment detected as `format`: the
/// sanitised name, with the format's extension appended when its own does
/// not fit (`factura.bat` holding text → `factura.bat.txt`), so what a user
/// downloads opens as what was checked. Still at most 255 bytes: the name
/// is cut before the appended extension.
pub fn stored_file_name(raw: &str, format: AttachmentFormat) -> String {
    let name = sanitize_file_name(raw);
    if fits(&name, format) {
        return name;
    }
    let extension = format.extensions()[0];
    let stem = fit(&name, MAX_FILE_NAME_BYTES - extension.len() - 1);
    format!("{stem}.{extension}")
}

/// Whether `name`'s extension (after its last dot, not a leading one) is
/// one that fits `format`, compared case-insensitively.
pub fn fits(name: &str, format: AttachmentFormat) -> bool {
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format
            .extensions()
            .iter()
            .any(|e| e.eq_ignore_ascii_case(extension)),
        _ => false,
    }
}

/// Cut to `max` bytes on a char boundary, trimmed; the fallback when only
/// dots and white space are left.
fn fit(name: &str, max: usize) -> String {
    let name = truncate_to_bytes(name, max).trim_end();
    if name.chars().all(|c| c == '.' || c.is_whitespace()) {
        truncate_to_bytes(FALLBACK_FILE_NAME, max).to_owned()
    } else {
        name.to_owned()
    }
}

/// Trims white space and drops leading `X:` drive prefixes until neither is
/// left (`"C: D:informe.pdf"` → `"informe.pdf"`).
fn strip_drive_prefixes(mut name: &str) -> &str {
    loop {
        name = name.trim();
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(drive), Some(':')) if drive.is_ascii_alphabetic() => name = chars.as_str(),
            _ => return name,
        }
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char
/// boundary.
fn truncate_to_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(sanitize_file_name("informe.pdf"), "informe.pdf");
        assert_eq!(
            sanitize_file_name("Nómina marzo 2026.xlsx"),
            "Nómina marzo 2026.xlsx"
        );
        assert_eq!(sanitize_file_name(".bashrc"), ".bashrc");
        assert_eq!(sanitize_file_name("a..b"), "a..b");
        assert_eq!(sanitize_file_name("informe: v2.pdf"), "informe: v2.pdf");
    }

    #[test]
    fn path_components_are_removed() {
        assert_eq!(sanitize_file_name("/etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("../../secret.txt"), "secret.txt");
        assert_eq!(
            sanitize_file_name(r"C:\Users\ana\Desktop\nif.pdf"),
            "nif.pdf"
        );
        assert_eq!(sanitize_file_name(r"\\server\share\doc.docx"), "doc.docx");
        assert_eq!(sanitize_file_name(r"mixed/dir\file.csv"), "file.csv");
    }

    #[test]
    fn windows_drive_prefix_is_removed() {
        assert_eq!(sanitize_file_name("C:informe.pdf"), "informe.pdf");
        assert_eq!(sanitize_file_name("c: D:informe.pdf"), "informe.pdf");
        assert_eq!(sanitize_file_name("C:"), FALLBACK_FILE_NAME);
    }

    #[test]
    fn control_characters_are_removed_and_white_space_trimmed() {
        assert_eq!(
            sanitize_file_name("  in\u{0}for\nme\t.pdf \r\n"),
            "informe.pdf"
        );
        assert_eq!(sanitize_file_name("a\u{7f}b\u{9b}c.txt"), "abc.txt");
        // Controls cannot hide a separator: the path is still cut.
        assert_eq!(sanitize_file_name("dir/\u{1b}[31mx.txt"), "[31mx.txt");
    }

    #[test]
    fn dot_and_empty_names_fall_back() {
        for raw in [
            "", " ", ".", "..", "...", " . . ", "/", "dir/", "a/..", r"C:\", "\u{0}\n", "\u{3000}",
        ] {
            assert_eq!(sanitize_file_name(raw), FALLBACK_FILE_NAME, "{raw:?}");
        }
    }

    #[test]
    fn long_names_are_cut_on_a_char_boundary() {
        let ascii = "a".repeat(300);
        assert_eq!(sanitize_file_name(&ascii), "a".repeat(255));
        // 'ñ' is 2 bytes: 255 bytes would split the 128th one.
        let two_byte = "ñ".repeat(200);
        let cut = sanitize_file_name(&two_byte);
        assert_eq!(cut, "ñ".repeat(127));
        assert_eq!(cut.len(), 254);
        // '€' is 3 bytes: 85 of them are exactly 255 bytes.
        assert_eq!(sanitize_file_name(&"€".repeat(100)), "€".repeat(85));
        // A cut that leaves trailing white space is trimmed.
        let spaced = format!("{} {}", "a".repeat(254), "b".repeat(10));
        assert_eq!(sanitize_file_name(&spaced), "a".repeat(254));
    }

    #[test]
    fn a_cut_that_leaves_only_dots_falls_back() {
        let dots = format!("{}x", ".".repeat(300));
        assert_eq!(sanitize_file_name(&dots), FALLBACK_FILE_NAME);
    }

    #[test]
    fn bidi_and_format_controls_are_removed_and_names_normalised() {
        assert_eq!(
            sanitize_file_name("factura\u{202E}fdp.bat"),
            "facturafdp.bat"
        );
        assert_eq!(
            sanitize_file_name("\u{FEFF}in\u{200B}for\u{2066}me\u{2069}.pdf"),
            "informe.pdf"
        );
        // NFC: `n` + combining tilde becomes `ñ` (one char).
        assert_eq!(sanitize_file_name("Espan\u{303}a.pdf"), "España.pdf");
        // A control cannot hide a separator; nor can a format character.
        assert_eq!(sanitize_file_name("dir\u{200B}/x.txt"), "x.txt");
    }

    #[test]
    fn the_extension_always_fits_the_detected_format() {
        use AttachmentFormat as F;
        assert_eq!(stored_file_name("factura.bat", F::Text), "factura.bat.txt");
        assert_eq!(
            stored_file_name("factura\u{202E}fdp.bat", F::Pdf),
            "facturafdp.bat.pdf"
        );
        assert_eq!(stored_file_name("informe.PDF", F::Pdf), "informe.PDF");
        assert_eq!(stored_file_name("foto.jpeg", F::Jpeg), "foto.jpeg");
        assert_eq!(stored_file_name("foto.jpg", F::Png), "foto.jpg.png");
        assert_eq!(stored_file_name("datos.csv", F::Text), "datos.csv");
        assert_eq!(stored_file_name("datos.xml", F::Text), "datos.xml");
        assert_eq!(stored_file_name("nomina.txt", F::Xml), "nomina.txt");
        assert_eq!(stored_file_name("hoja.xls", F::Xlsx), "hoja.xls.xlsx");
        assert_eq!(stored_file_name("escaneo.tiff", F::Tiff), "escaneo.tiff");
        assert_eq!(
            stored_file_name("sin extension", F::Docx),
            "sin extension.docx"
        );
        assert_eq!(stored_file_name(".pdf", F::Pdf), ".pdf.pdf");
        assert_eq!(stored_file_name("", F::Odt), "attachment.odt");
        let long = stored_file_name(&"a".repeat(300), F::Rtf);
        assert_eq!(long, format!("{}.rtf", "a".repeat(251)));
    }

    fn any_name() -> impl Strategy<Value = String> {
        // Biased towards the characters the rules are about.
        let interesting = prop::sample::select(vec![
            '/', '\\', ':', '.', ' ', '\t', '\n', '\u{0}', '\u{7f}', '\u{85}', '\u{3000}', 'C',
            'ñ', '€', '😀', '\u{202E}', '\u{200B}', '\u{FEFF}', '\u{0303}', '\u{2066}',
        ]);
        let ch = prop_oneof![interesting, any::<char>()];
        prop::collection::vec(ch, 0..400).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn sanitised_names_obey_the_rules(raw in any_name()) {
            let name = sanitize_file_name(&raw);
            prop_assert!(!name.is_empty());
            prop_assert!(name.len() <= MAX_FILE_NAME_BYTES);
            prop_assert!(!name.contains(['/', '\\']));
            prop_assert!(!name.chars().any(|c| c.is_control() || is_format_control(c)));
            prop_assert!(unicode_normalization::is_nfc(&name));
            prop_assert!(name.trim() == name);
            prop_assert!(name != "." && name != "..");
            prop_assert_eq!(sanitize_file_name(&name), name);
        }

        #[test]
        fn stored_names_fit_their_format_and_the_byte_limit(
            raw in any_name(),
            format in prop::sample::select(AttachmentFormat::ALL.to_vec()),
        ) {
            let name = stored_file_name(&raw, format);
            prop_assert!(!name.is_empty() && name.len() <= MAX_FILE_NAME_BYTES);
            prop_assert!(fits(&name, format), "{name:?} for {format:?}");
            prop_assert_eq!(stored_file_name(&name, format), name.clone());
            prop_assert_eq!(sanitize_file_name(&name), name);
        }

        #[test]
        fn safe_names_are_kept_verbatim(
            name in prop::collection::vec(
                prop_oneof![b'a'..=b'z', b'0'..=b'9', Just(b'-'), Just(b'_'), Just(b'.')],
                1..200,
            ),
            stem in b'a'..=b'z',
        ) {
            let name = String::from_utf8([&[stem][..], &name].concat()).expect("ASCII");
            prop_assert_eq!(sanitize_file_name(&name), name);
        }

        #[test]
        fn only_the_last_path_component_survives(
            dirs in prop::collection::vec("[a-z]{1,8}", 0..5),
            sep in prop::sample::select(vec!["/", "\\"]),
            file in "[a-z]{1,12}\\.pdf",
        ) {
            let mut raw = dirs.join(sep);
            raw.push_str(sep);
            raw.push_str(&file);
            prop_assert_eq!(sanitize_file_name(&raw), file);
        }
    }
}
