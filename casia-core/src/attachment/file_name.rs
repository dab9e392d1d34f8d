//! Stored file names (DOMAIN.md §6).
//!
//! The name a user gives an attachment is only a label: it never decides the
//! format, and it must be safe to store and to hand back (in a listing or a
//! download) without leaking or honouring a client path.

/// The name stored when nothing usable is left of the given one.
pub const FALLBACK_FILE_NAME: &str = "attachment";

/// The most bytes (UTF-8) a stored file name may have (DOMAIN.md §6).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The stored file name (DOMAIN.md §6): path components and control
/// characters removed, at most 255 bytes (cut on a char boundary), never
/// empty.
///
/// In order:
/// 1. control characters (`char::is_control`) are removed;
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
    let without_controls: String = raw.chars().filter(|c| !c.is_control()).collect();
    let last_component = without_controls
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let name = strip_drive_prefixes(last_component);
    let name = truncate_to_bytes(name, MAX_FILE_NAME_BYTES).trim_end();
    if name.chars().all(|c| c == '.' || c.is_whitespace()) {
        FALLBACK_FILE_NAME.to_owned()
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

    fn any_name() -> impl Strategy<Value = String> {
        // Biased towards the characters the rules are about.
        let interesting = prop::sample::select(vec![
            '/', '\\', ':', '.', ' ', '\t', '\n', '\u{0}', '\u{7f}', '\u{85}', '\u{3000}', 'C',
            'ñ', '€', '😀',
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
            prop_assert!(!name.chars().any(char::is_control));
            prop_assert!(name.trim() == name);
            prop_assert!(name != "." && name != "..");
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
