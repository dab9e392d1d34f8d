//! The text rules of DOMAIN.md §6: valid UTF-8 with no NUL byte, and not a
//! page a browser would render — no HTML pattern of the WHATWG MIME
//! Sniffing standard (§7.1) after a BOM, white space and zero-width
//! characters, and no XML document whose root is `svg` or `html` or lies in
//! the SVG or XHTML namespace.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

use super::format::{AttachmentFormat, UnsupportedFormat};
use super::source::{Reader, WINDOW};

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

/// Valid UTF-8 without a NUL byte, read in windows: what a short
/// signature cannot outvote.
pub(super) fn is_valid_text(content: &Reader<'_>) -> bool {
    let mut valid = true;
    // The bytes of a character cut by a window's end, carried over.
    let mut carry: Vec<u8> = Vec::with_capacity(4);
    let read = content.windows(0, |window| {
        if window.contains(&0) {
            valid = false;
            return false;
        }
        let joined;
        let bytes = if carry.is_empty() {
            window
        } else {
            joined = [carry.as_slice(), window].concat();
            joined.as_slice()
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => carry.clear(),
            // Only the last character is incomplete: keep it for the next window.
            Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
                carry = bytes[e.valid_up_to()..].to_vec();
            }
            Err(_) => valid = false,
        }
        valid
    });
    read.is_ok() && valid && carry.is_empty()
}

/// `Text`, `Xml` (text whose first significant character is `<`), or
/// unsupported. The content is read in windows: validity over all of it,
/// then only as far as the first significant character and, for XML, the
/// root element.
pub(super) fn detect_text(content: &Reader<'_>) -> Result<AttachmentFormat, UnsupportedFormat> {
    let mut head = [0u8; AR_SIGNATURE.len()];
    let n = content
        .read_full_at(0, &mut head)
        .map_err(|_| UnsupportedFormat)?;
    if head[..n].starts_with(AR_SIGNATURE) || !is_valid_text(content) {
        return Err(UnsupportedFormat);
    }
    let mut text = Text::new(content);
    let mut body = text.skip_insignificant(0)?;
    loop {
        if starts_with_html_pattern(text.peek(body, HTML_LOOKAHEAD)?) {
            return Err(UnsupportedFormat);
        }
        // A comment the WHATWG patterns do not catch (`<!--x-->`) cannot
        // hide a page behind it: look again after it.
        if text.peek(body, 4)? != b"<!--" {
            break;
        }
        match text.find(body + 4, b"-->")? {
            Some(end) => body = text.skip_insignificant(end + 3)?,
            None => break,
        }
    }
    if text.peek(body, 1)? != b"<" {
        return Ok(AttachmentFormat::Text);
    }
    if xml_root_is_a_page(content, body) {
        return Err(UnsupportedFormat);
    }
    Ok(AttachmentFormat::Xml)
}

/// The longest HTML pattern and its terminating byte.
const HTML_LOOKAHEAD: usize = 15;

/// Valid UTF-8 content read forwards through one buffer (validity was
/// checked first, so a character boundary found from a lead byte is one).
/// Offsets only move forwards and each byte is read and looked at a
/// bounded number of times, so the comment loop stays linear however
/// many comments a file chains (`<!----><!---->…`).
struct Text<'r, 'a> {
    content: &'r Reader<'a>,
    /// Bytes from `base` on.
    buf: Vec<u8>,
    base: u64,
}

impl<'r, 'a> Text<'r, 'a> {
    fn new(content: &'r Reader<'a>) -> Text<'r, 'a> {
        Text {
            content,
            buf: Vec::with_capacity(2 * WINDOW),
            base: 0,
        }
    }

    /// The buffered bytes from `at` on: at least `n` of them unless the
    /// content ends first. Reading more drops what lies before `at`.
    fn from(&mut self, at: u64, n: usize) -> Result<&[u8], UnsupportedFormat> {
        let end = self.base + self.buf.len() as u64;
        if at < self.base || at > end {
            self.buf.clear();
            self.base = at;
        }
        let mut offset = usize::try_from(at - self.base).map_err(|_| UnsupportedFormat)?;
        if self.buf.len() - offset < n {
            self.buf.drain(..offset);
            self.base = at;
            offset = 0;
            while self.buf.len() < n {
                let old = self.buf.len();
                self.buf.resize(old + WINDOW, 0);
                let got = self
                    .content
                    .read_full_at(self.base + old as u64, &mut self.buf[old..])
                    .map_err(|_| UnsupportedFormat)?;
                self.buf.truncate(old + got);
                if got == 0 {
                    break;
                }
            }
        }
        Ok(&self.buf[offset..])
    }

    /// Up to `n` bytes at `at` (fewer at the end).
    fn peek(&mut self, at: u64, n: usize) -> Result<&[u8], UnsupportedFormat> {
        let bytes = self.from(at, n)?;
        Ok(&bytes[..bytes.len().min(n)])
    }

    /// Skips BOMs, white space and the zero-width characters a browser
    /// ignores before markup (U+200B–U+200D, U+2060, U+FEFF); the offset
    /// of the first other character (or the end).
    fn skip_insignificant(&mut self, mut at: u64) -> Result<u64, UnsupportedFormat> {
        loop {
            // At least one whole character (at most 4 bytes); judged 256
            // bytes at a time, so a significant character found at once
            // costs little however much is buffered after it.
            let bytes = self.from(at, 4)?;
            if bytes.is_empty() {
                return Ok(at);
            }
            let bytes = &bytes[..bytes.len().min(256)];
            // The buffer may end inside a character: judge only whole ones.
            let whole = match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
            };
            let rest = whole.trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
            });
            let skipped = (whole.len() - rest.len()) as u64;
            if !rest.is_empty() || skipped == 0 {
                return Ok(at + skipped);
            }
            at += skipped;
        }
    }

    /// The offset of the first `needle` at or after `from`.
    fn find(&mut self, mut at: u64, needle: &[u8]) -> Result<Option<u64>, UnsupportedFormat> {
        loop {
            let bytes = self.from(at, needle.len())?;
            if bytes.len() < needle.len() {
                return Ok(None);
            }
            if let Some(i) = bytes.windows(needle.len()).position(|w| w == needle) {
                return Ok(Some(at + i as u64));
            }
            // Keep the last needle.len() - 1 bytes: a match may straddle.
            at += (bytes.len() - (needle.len() - 1)) as u64;
        }
    }
}

fn starts_with_html_pattern(bytes: &[u8]) -> bool {
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

/// Whether the XML document starting at `body` has a root element `svg` or
/// `html` (any case) or one in the SVG or XHTML namespace. The prolog
/// (declaration, comments, processing instructions, DOCTYPE with internal
/// subset) is read by quick-xml, one event at a time; a document too broken
/// to reach its root is judged by whether it mentions `<svg` or `<html` at
/// all.
fn xml_root_is_a_page(content: &Reader<'_>, body: u64) -> bool {
    let input = std::io::BufReader::with_capacity(WINDOW, content.stream_from(body));
    let mut reader = NsReader::from_reader(input);
    let mut event = Vec::new();
    loop {
        event.clear();
        match reader.read_resolved_event_into(&mut event) {
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
            Err(_) => return mentions_a_page(content, body),
        }
    }
}

/// `<svg`, `<html` or `:svg` anywhere from `body` on, in any case.
fn mentions_a_page(content: &Reader<'_>, body: u64) -> bool {
    const NEEDLES: [&[u8]; 3] = [b"<svg", b"<html", b":svg"];
    let mut found = false;
    let mut tail: Vec<u8> = Vec::new();
    let read = content.windows(body, |window| {
        let mut joined = tail.clone();
        joined.extend(window.iter().map(u8::to_ascii_lowercase));
        found = NEEDLES
            .iter()
            .any(|n| joined.windows(n.len()).any(|w| w == *n));
        tail = joined[joined.len().saturating_sub(4)..].to_vec();
        !found
    });
    // Unreadable: the caller reports the read failure, not this verdict.
    found || read.is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The judgement on the whole text at once (how it was decided before
    /// uploads were streamed): the windowed reads must agree with it.
    fn whole_text_oracle(content: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
        fn skip(text: &str) -> &str {
            text.trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
            })
        }
        if content.contains(&0) || content.starts_with(AR_SIGNATURE) {
            return Err(UnsupportedFormat);
        }
        let text = std::str::from_utf8(content).map_err(|_| UnsupportedFormat)?;
        let mut body = skip(text);
        loop {
            if starts_with_html_pattern(body.as_bytes()) {
                return Err(UnsupportedFormat);
            }
            match body.strip_prefix("<!--").and_then(|r| r.split_once("-->")) {
                Some((_, after)) => body = skip(after),
                None => break,
            }
        }
        if !body.starts_with('<') {
            return Ok(AttachmentFormat::Text);
        }
        let mut reader = NsReader::from_str(body);
        loop {
            match reader.read_resolved_event() {
                Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                    let local = e.local_name();
                    let page = local.as_ref().eq_ignore_ascii_case(b"svg")
                        || local.as_ref().eq_ignore_ascii_case(b"html")
                        || matches!(ns, ResolveResult::Bound(Namespace(uri))
                            if uri == SVG_NAMESPACE || uri == XHTML_NAMESPACE);
                    return if page {
                        Err(UnsupportedFormat)
                    } else {
                        Ok(AttachmentFormat::Xml)
                    };
                }
                Ok((_, Event::Eof)) => return Ok(AttachmentFormat::Xml),
                Ok(_) => {}
                Err(_) => {
                    let lower = body.to_ascii_lowercase();
                    let page =
                        lower.contains("<svg") || lower.contains("<html") || lower.contains(":svg");
                    return if page {
                        Err(UnsupportedFormat)
                    } else {
                        Ok(AttachmentFormat::Xml)
                    };
                }
            }
        }
    }

    /// Pieces that matter to the text rules, put around the 64 KiB window
    /// boundaries.
    fn piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            " ",
            "\n",
            "\u{FEFF}",
            "\u{200B}",
            "ñ",
            "€",
            "😀",
            "<!--",
            "-->",
            "<!--x-->",
            "<html>",
            "<svg/>",
            "<p ",
            "<factura/>",
            "<?xml version=\"1.0\"?>",
            "texto",
            "<",
            ">",
            "\u{0}",
            "<svg",
            ":svg",
            "<a",
        ])
        .prop_map(str::to_owned)
    }

    /// A source that counts the bytes read from it.
    struct Counting<'b> {
        bytes: &'b [u8],
        read: std::cell::Cell<u64>,
    }

    impl crate::attachment::source::ContentSource for Counting<'_> {
        fn size(&self) -> u64 {
            self.bytes.len() as u64
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = crate::attachment::source::ContentSource::read_at(&self.bytes, offset, buf)?;
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }

    #[test]
    fn chained_comments_and_long_blank_runs_are_read_a_bounded_number_of_times() {
        for (what, text, verdict) in [
            (
                "comments",
                "<!---->".repeat(150_000) + "<html>",
                Err(UnsupportedFormat),
            ),
            (
                "comments then text",
                "<!---->".repeat(150_000) + "hola",
                Ok(AttachmentFormat::Text),
            ),
            (
                "blanks",
                " \u{200B}".repeat(200_000) + "<p>",
                Err(UnsupportedFormat),
            ),
        ] {
            let source = Counting {
                bytes: text.as_bytes(),
                read: std::cell::Cell::new(0),
            };
            assert_eq!(super::detect_text(&Reader::new(&source)), verdict, "{what}");
            // Validity once, the significant start once, and the head.
            let read = source.read.get();
            assert!(
                read <= 3 * text.len() as u64,
                "{what}: {read} bytes read for {}",
                text.len()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// For all texts whose significant start, comments or cut
        /// characters straddle a read window, the windowed judgement is
        /// the whole-text judgement.
        #[test]
        fn windowed_reads_judge_as_the_whole_text(
            lead in prop::sample::select(vec![0usize, 1, WINDOW - 8, WINDOW - 3, WINDOW - 1, 2 * WINDOW - 5]),
            filler in prop::sample::select(vec![" ", "\u{200B}", "a", "\u{FEFF}", "<!--"]),
            pieces in prop::collection::vec(piece(), 0..12),
            invalid_at_end in any::<bool>(),
        ) {
            let mut text = filler.repeat(lead / filler.len());
            for p in &pieces {
                text.push_str(p);
            }
            let mut bytes = text.into_bytes();
            if invalid_at_end {
                bytes.push(0xC3); // a cut two-byte character: not UTF-8
            }
            prop_assert_eq!(detect_text(&bytes), whole_text_oracle(&bytes));
        }
    }

    fn detect_text(bytes: &[u8]) -> Result<AttachmentFormat, UnsupportedFormat> {
        super::detect_text(&Reader::new(&bytes))
    }

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
