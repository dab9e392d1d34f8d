//! The text rules of DOMAIN.md §6: valid UTF-8 with no NUL byte, and not a
//! page a browser would render — no HTML pattern of the WHATWG MIME
//! Sniffing standard (§7.1) after a BOM, white space and zero-width
//! characters, and no XML document whose root is `svg` or `html` or lies in
//! the SVG or XHTML namespace.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

use super::format::{AttachmentFormat, UnsupportedFormat};

/// The WHATWG "HTML" patterns (MIME Sniffing §7.1, "identifying a resource
/// with an unknown MIME type"), matched ASCII case-insensitively and each
/// followed by a tag-terminating byte.
const HTML_PATTERNS: [&str; 17] = [
    "<!DOCTYPE HTML",
    "<HTML",
    "<HEAD",
    "<SCRIPT",
    "<IFRAME",
    "<H1",
    "<DIV",
    "<FONT",
    "<TABLE",
    "<A",
    "<STYLE",
    "<TITLE",
    "<B",
    "<BODY",
    "<BR",
    "<P",
    "<!--",
];

const SVG_NAMESPACE: &[u8] = b"http://www.w3.org/2000/svg";
const XHTML_NAMESPACE: &[u8] = b"http://www.w3.org/1999/xhtml";

/// The one signature of 8 bytes or more that is itself plain text: `ar`
/// archives and Debian packages. Shorter signatures (`BM`, `MZ`, `ID3`,
/// `GIF87a`, `PK\3\4`) never outvote valid text (DOMAIN.md §6).
const AR_SIGNATURE: &[u8] = b"!<arch>\n";

/// `Text`, `Xml` (text whose first significant character is `<`), or
/// unsupported.
pub(super) fn detect_text(content: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
    if content.contains(&0) || content.starts_with(AR_SIGNATURE) {
        return Err(UnsupportedFormat);
    }
    let text = std::str::from_utf8(content).map_err(|_| UnsupportedFormat)?;
    let mut body = skip_insignificant(text);
    loop {
        if starts_with_html_pattern(body) {
            return Err(UnsupportedFormat);
        }
        // A comment the WHATWG patterns do not catch (`<!--x-->`) cannot
        // hide a page behind it: look again after it.
        match body
            .strip_prefix("<!--")
            .and_then(|rest| rest.split_once("-->"))
        {
            Some((_, after)) => body = skip_insignificant(after),
            None => break,
        }
    }
    if !body.starts_with('<') {
        return Ok(AttachmentFormat::Text);
    }
    if xml_root_is_a_page(body) {
        return Err(UnsupportedFormat);
    }
    Ok(AttachmentFormat::Xml)
}

/// Skips BOMs, white space and the zero-width characters a browser ignores
/// before markup (U+200B–U+200D, U+2060, U+FEFF).
fn skip_insignificant(text: &str) -> &str {
    text.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    })
}

fn starts_with_html_pattern(body: &str) -> bool {
    let bytes = body.as_bytes();
    HTML_PATTERNS.iter().any(|pattern| {
        let p = pattern.as_bytes();
        bytes
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
            // The tag-terminating byte (space or `>`; other white space
            // and the end of the text too, which only rejects more).
            && bytes
                .get(p.len())
                .is_none_or(|b| matches!(b, b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'\x0C'))
    })
}

/// Whether the XML document's root element is `svg` or `html` (any case)
/// or is in the SVG or XHTML namespace. The prolog (declaration, comments,
/// processing instructions, DOCTYPE with internal subset) is read by
/// quick-xml; a document too broken to reach its root is judged by whether
/// it mentions `<svg` or `<html` at all.
fn xml_root_is_a_page(document: &str) -> bool {
    let mut reader = NsReader::from_str(document);
    loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let local = e.local_name();
                let local = local.as_ref();
                let page_name =
                    local.eq_ignore_ascii_case(b"svg") || local.eq_ignore_ascii_case(b"html");
                let page_namespace = matches!(
                    ns,
                    ResolveResult::Bound(Namespace(uri)) if uri == SVG_NAMESPACE || uri == XHTML_NAMESPACE
                );
                return page_name || page_namespace;
            }
            Ok((_, Event::Eof)) => return false,
            Ok(_) => {}
            Err(_) => return mentions_a_page(document),
        }
    }
}

fn mentions_a_page(document: &str) -> bool {
    let lower = document.to_ascii_lowercase();
    lower.contains("<svg") || lower.contains("<html") || lower.contains(":svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(s: &str) -> Result<AttachmentFormat, UnsupportedFormat> {
        detect_text(s.as_bytes())
    }

    #[test]
    fn every_whatwg_html_pattern_is_refused_in_any_case_behind_bom_space_and_zero_width() {
        for pattern in HTML_PATTERNS {
            for terminator in [" ", ">"] {
                let tag = format!("{pattern}{terminator}x");
                for prefix in [
                    "",
                    "\u{FEFF}",
                    "  \n\t",
                    "\u{200B}",
                    "\u{FEFF}\u{200D} \u{2060}",
                ] {
                    let lower = format!("{prefix}{}", tag.to_ascii_lowercase());
                    assert_eq!(verdict(&lower), Err(UnsupportedFormat), "{lower:?}");
                    let upper = format!("{prefix}{tag}");
                    assert_eq!(verdict(&upper), Err(UnsupportedFormat), "{upper:?}");
                }
            }
        }
    }

    #[test]
    fn a_pattern_needs_its_terminator() {
        assert_eq!(verdict("<abbr>x</abbr>"), Ok(AttachmentFormat::Xml));
        assert_eq!(verdict("<bank/>"), Ok(AttachmentFormat::Xml));
        assert_eq!(verdict("<pago importe=\"3\"/>"), Ok(AttachmentFormat::Xml));
        assert_eq!(verdict("<a"), Err(UnsupportedFormat), "end of text counts");
    }

    #[test]
    fn a_comment_cannot_hide_a_page() {
        assert_eq!(
            verdict("<!-- informe -->\n<html><body><script>alert(1)</script></body></html>"),
            Err(UnsupportedFormat)
        );
        assert_eq!(verdict("<!--x--><html>"), Err(UnsupportedFormat));
        assert_eq!(
            verdict("<!--x--><!--y-->\u{200B}<script>"),
            Err(UnsupportedFormat)
        );
        assert_eq!(verdict("<!--x--><factura/>"), Ok(AttachmentFormat::Xml));
        assert_eq!(
            verdict("<!-- generado -->\n<factura/>"),
            Err(UnsupportedFormat),
            "`<!--` followed by a space is itself a WHATWG HTML pattern"
        );
    }

    #[test]
    fn xml_is_refused_when_its_root_is_a_page() {
        for doc in [
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "<?xml version=\"1.0\"?><s:svg xmlns:s=\"http://www.w3.org/2000/svg\"><s:script/></s:svg>",
            "<?xml version=\"1.0\"?><dibujo xmlns=\"http://www.w3.org/2000/svg\"/>",
            "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
            "<?xml version=\"1.0\"?><x:page xmlns:x=\"http://www.w3.org/1999/xhtml\"/>",
            "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"]>\">]><!-- c --><svg/>",
            "<?xml version=\"1.0\"?><HTML/>",
            "<?xml version=\"1.0\"?><?pi x?><svg",
        ] {
            assert_eq!(verdict(doc), Err(UnsupportedFormat), "{doc}");
        }
        for doc in [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<factura><importe>10</importe></factura>",
            "<?xml version=\"1.0\"?><doc xmlns:svg=\"http://www.w3.org/2000/svg\"><texto/></doc>",
            "<?xml version=\"1.0\"?><!DOCTYPE nomina SYSTEM \"n.dtd\"><nomina/>",
            "<svgx/>",
        ] {
            assert_eq!(verdict(doc), Ok(AttachmentFormat::Xml), "{doc}");
        }
    }

    #[test]
    fn short_signatures_do_not_outvote_valid_text() {
        for text in [
            "BMW;Serie 3;2024\n",
            "MZ;Mazda;2024\n",
            "ID3 etiquetas\n",
            "GIF87a es un formato\n",
            "PK\u{3}\u{4} no es un zip\n",
            "%!PS no es PostScript\n",
        ] {
            assert_eq!(verdict(text), Ok(AttachmentFormat::Text), "{text:?}");
        }
        assert_eq!(verdict("!<arch>\ndebian-binary"), Err(UnsupportedFormat));
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_are_not_text() {
        assert_eq!(detect_text(b"hola\0mundo"), Err(UnsupportedFormat));
        assert_eq!(detect_text(b"Espa\xf1a"), Err(UnsupportedFormat));
        assert_eq!(
            verdict("Señor Muñoz, ¿qué tal?"),
            Ok(AttachmentFormat::Text)
        );
    }
}
