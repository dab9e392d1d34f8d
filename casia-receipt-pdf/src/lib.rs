//! The receipt (Justificante de Apertura, DOMAIN.md §8) as a PDF document.
//!
//! Why a hand-written PDF 1.4 writer instead of printpdf (ARCHITECTURE.md
//! names printpdf or krilla): the receipt is a page or two of text in one
//! of the 14 standard fonts, which PDF readers carry, so nothing needs
//! embedding, shaping or compressing. printpdf and krilla pull in font
//! parsing, image and compression crates that would dominate the build of
//! this crate on 2-core machines for no visible difference. This writer
//! emits Helvetica and Helvetica-Bold with `WinAnsiEncoding` (so Spanish
//! accents render), wraps text by the fonts' metrics, breaks pages, and
//! writes a correct cross-reference table.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt::Write as _;

use casia_core::receipt::Receipt;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BOTTOM: f32 = 72.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// Helvetica advance widths (1/1000 em) for ASCII 32–126, from the
/// standard AFM files.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// The byte of a character in WinAnsiEncoding (Windows-1252); `?` when it
/// has none, a space for control characters.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        c if c.is_control() => b' ',
        _ => b'?',
    }
}

/// The ASCII letter whose width approximates an accented Latin-1 letter.
fn base_letter(b: u8) -> u8 {
    match b {
        0xc0..=0xc5 => b'A',
        0xc7 => b'C',
        0xc8..=0xcb => b'E',
        0xcc..=0xcf => b'I',
        0xd1 => b'N',
        0xd2..=0xd6 | 0xd8 => b'O',
        0xd9..=0xdc => b'U',
        0xdd => b'Y',
        0xe0..=0xe5 => b'a',
        0xe7 => b'c',
        0xe8..=0xeb => b'e',
        0xec..=0xef => b'i',
        0xf1 => b'n',
        0xf2..=0xf6 | 0xf8 => b'o',
        0xf9..=0xfc => b'u',
        0xfd | 0xff => b'y',
        0x97 | 0x85 | 0x89 => b'W',
        _ => b'n',
    }
}

/// Width of an encoded byte in points at `size`.
fn byte_width(font: Font, b: u8, size: f32) -> f32 {
    let table = match font {
        Font::Regular => &HELVETICA,
        Font::Bold => &HELVETICA_BOLD,
    };
    let ascii = if (32..=126).contains(&b) {
        b
    } else {
        base_letter(b)
    };
    f32::from(table[usize::from(ascii - 32)]) * size / 1000.0
}

fn encode(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi).collect()
}

fn text_width(font: Font, bytes: &[u8], size: f32) -> f32 {
    bytes.iter().map(|&b| byte_width(font, b, size)).sum()
}

/// A PDF string literal: `( ) \` escaped, bytes outside printable ASCII as
/// octal escapes, so content streams stay 7-bit.
fn literal(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            32..=126 => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\{b:03o}");
            }
        }
    }
    s.push(')');
    s
}

/// Breaks `text` into lines no wider than `max` points: at spaces, and
/// inside a word only when the word alone is wider than a line.
fn wrap(font: Font, size: f32, max: f32, text: &str) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line: Vec<u8> = Vec::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word = encode(word);
            let mut candidate = line.clone();
            if !candidate.is_empty() {
                candidate.push(b' ');
            }
            candidate.extend_from_slice(&word);
            if text_width(font, &candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for &b in &word {
                if !line.is_empty()
                    && text_width(font, &line, size) + byte_width(font, b, size) > max
                {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(b);
            }
        }
        lines.push(line);
    }
    lines
}

/// Lays text out top to bottom, starting a new page when one is full.
struct Layout {
    pages: Vec<String>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![String::new()],
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn page(&mut self) -> &mut String {
        if self.pages.is_empty() {
            self.pages.push(String::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` points, breaking the page if needed.
    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.pages.push(String::new());
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn line_at(&mut self, font: Font, size: f32, x: f32, bytes: &[u8]) {
        let leading = size * 1.35;
        self.ensure(leading);
        self.y -= size;
        let y = self.y;
        let op = format!(
            "BT /{} {size} Tf {x:.2} {y:.2} Td {} Tj ET\n",
            font.resource(),
            literal(bytes)
        );
        self.page().push_str(&op);
        self.y -= leading - size;
    }

    /// A paragraph wrapped to the text width, indented by `indent`.
    fn paragraph(&mut self, font: Font, size: f32, indent: f32, text: &str) {
        let x = MARGIN + indent;
        for line in wrap(font, size, PAGE_WIDTH - MARGIN - x, text) {
            self.line_at(font, size, x, &line);
        }
    }

    /// `label` in bold, then the value wrapped below it.
    fn field(&mut self, label: &str, value: &str) {
        self.ensure(30.0);
        self.paragraph(Font::Bold, 9.0, 0.0, label);
        self.paragraph(Font::Regular, 10.5, 0.0, value);
        self.gap(4.0);
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn rule(&mut self) {
        self.ensure(8.0);
        self.y -= 4.0;
        let y = self.y;
        let op = format!(
            "0.6 w {MARGIN:.2} {y:.2} m {:.2} {y:.2} l S\n",
            PAGE_WIDTH - MARGIN
        );
        self.page().push_str(&op);
        self.y -= 8.0;
    }
}

fn labelled(label: &str, code: &str) -> String {
    format!("{label} ({code})")
}

/// Renders the receipt as a PDF 1.4 document.
pub fn render(receipt: &Receipt) -> Vec<u8> {
    let b = &receipt.body;
    let mut l = Layout::new();
    l.paragraph(
        Font::Bold,
        10.0,
        0.0,
        "TESORERÍA GENERAL DE LA SEGURIDAD SOCIAL",
    );
    l.paragraph(
        Font::Regular,
        9.0,
        0.0,
        "CASIA — Coordinación, Atención y Soporte Integral al Autorizado RED",
    );
    l.gap(10.0);
    l.paragraph(Font::Bold, 17.0, 0.0, "Justificante de Apertura de Caso");
    l.rule();
    l.field("Número de caso", &b.number.to_string());
    l.field(
        "Fecha y hora de presentación (hora de Madrid)",
        &b.submitted_at_madrid,
    );
    l.field(
        "Autorización y usuario",
        &format!("Autorización {} — usuario {}", b.authorization, b.user),
    );
    l.field(
        "Tipo de caso",
        &labelled(&b.case_type.label, &b.case_type.code),
    );
    l.field("Materia", &labelled(&b.materia.label, &b.materia.code));
    l.field("Categoría", &labelled(&b.category.label, &b.category.code));
    l.field(
        "Subcategoría",
        &labelled(&b.subcategory.label, &b.subcategory.code),
    );
    l.field("Título", &b.title);
    l.field(
        "Afecta al periodo de liquidación en curso",
        if b.affects_current_period {
            "Sí"
        } else {
            "No"
        },
    );
    l.rule();
    l.paragraph(
        Font::Bold,
        11.0,
        0.0,
        &format!("Documentos anexos ({})", b.attachments.len()),
    );
    l.gap(2.0);
    if b.attachments.is_empty() {
        l.paragraph(Font::Regular, 10.0, 0.0, "Ninguno.");
    }
    for (i, a) in b.attachments.iter().enumerate() {
        l.ensure(48.0);
        l.paragraph(Font::Bold, 10.0, 0.0, &format!("{}. {}", i + 1, a.title));
        l.paragraph(
            Font::Regular,
            9.0,
            12.0,
            &format!(
                "Tipo: {} · Fichero: {} · Tamaño: {} bytes",
                a.document_type, a.file_name, a.size
            ),
        );
        l.paragraph(Font::Regular, 8.0, 12.0, &format!("SHA-256: {}", a.sha256));
        l.gap(4.0);
    }
    l.rule();
    l.ensure(60.0);
    l.paragraph(Font::Bold, 9.0, 0.0, "Código de verificación");
    l.paragraph(Font::Bold, 15.0, 0.0, &receipt.verification_code);
    l.gap(4.0);
    l.paragraph(
        Font::Regular,
        8.0,
        0.0,
        "Código seguro de verificación (Ley 40/2015, art. 42). Cualquier persona que lo conozca \
         puede comprobar la autenticidad de este justificante en el servicio CASIA: \
         GET /v1/receipts/{código}.",
    );
    let total = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        let footer = encode(&format!(
            "Caso {} · Página {} de {}",
            b.number,
            i + 1,
            total
        ));
        let _ = writeln!(
            page,
            "BT /F1 8 Tf {MARGIN:.2} {:.2} Td {} Tj ET",
            BOTTOM - 30.0,
            literal(&footer)
        );
    }
    let created = b.submitted_at.format("D:%Y%m%d%H%M%SZ").to_string();
    let title = format!("Justificante de Apertura {}", b.number);
    write_document(&l.pages, &title, &created)
}

/// Serialises pages (content streams) into a PDF file with its xref table.
fn write_document(pages: &[String], title: &str, created: &str) -> Vec<u8> {
    // 1 catalog, 2 pages, 3–4 fonts, 5 info, then a page and its content per page.
    let page_id = |i: usize| 6 + 2 * i;
    let mut objects: Vec<Vec<u8>> = Vec::with_capacity(5 + 2 * pages.len());
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", page_id(i)))
        .collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        format!(
            "<< /Title {} /Producer (casia) /CreationDate ({created}) >>",
            literal(&encode(title))
        )
        .into_bytes(),
    );
    for (i, content) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                page_id(i) + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use casia_core::receipt::{Labelled, ReceiptAttachment, ReceiptBody, ReceiptKey};
    use casia_core::{AuthorizationId, CaseNumber, UserId};

    fn receipt(attachments: usize) -> Receipt {
        let l = |code: &str, label: &str| Labelled {
            code: code.into(),
            label: label.into(),
        };
        ReceiptKey::new("k").issue(ReceiptBody {
            number: CaseNumber::new(2026, 42).expect("number"),
            submitted_at: "2026-11-05T08:00:00Z".parse().expect("instant"),
            submitted_at_madrid: "2026-11-05 09:00:00 CET".into(),
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: UserId::parse("u1").expect("id"),
            case_type: l("procedure", "Trámite"),
            materia: l("afiliacion", "Afiliación, altas y bajas"),
            category: l("altas", "Alta de trabajadores por cuenta ajena"),
            subcategory: l("nss", "Solicitud de número de Seguridad Social"),
            title: "Solicitud de NSS para un trabajador (año 2026) \\ prueba".into(),
            affects_current_period: true,
            attachments: (0..attachments)
                .map(|i| ReceiptAttachment {
                    title: format!("Documento {i} — DNI"),
                    document_type: "identity".into(),
                    file_name: format!("dni-{i}.pdf"),
                    size: 1000 + i as u64,
                    sha256: format!("{:064x}", i + 0xabc),
                })
                .collect(),
        })
    }

    /// The content streams of a document, concatenated.
    fn contents(pdf: &[u8]) -> String {
        let text = String::from_utf8_lossy(pdf);
        let mut out = String::new();
        let mut rest = text.as_ref();
        while let Some(start) = rest.find(">>\nstream\n") {
            let after = &rest[start + 10..];
            let end = after.find("\nendstream").expect("endstream");
            out.push_str(&after[..end]);
            rest = &after[end..];
        }
        out
    }

    fn check_xref(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.trim().parse().ok())
            .expect("startxref");
        assert!(pdf[startxref..].starts_with(b"xref\n"));
        let table = String::from_utf8_lossy(&pdf[startxref..]).into_owned();
        let mut lines = table.lines().skip(1);
        let header = lines.next().expect("subsection");
        let count: usize = header
            .split(' ')
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("count");
        assert_eq!(lines.next(), Some("0000000000 65535 f "));
        for id in 1..count {
            let entry = lines.next().expect("entry");
            assert_eq!(entry.len(), 19, "entries are 20 bytes with the newline");
            let offset: usize = entry[..10].parse().expect("offset");
            let expected = format!("{id} 0 obj\n");
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {id} is not at {offset}"
            );
        }
        assert!(text.contains(&format!("/Size {count}")));
        count - 1
    }

    #[test]
    fn a_receipt_is_a_well_formed_pdf_with_what_it_certifies() {
        let r = receipt(2);
        let pdf = render(&r);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        assert_eq!(check_xref(&pdf), 7);
        let content = contents(&pdf);
        assert!(content.contains("(2026-00000042)"));
        assert!(content.contains(&r.verification_code));
        assert!(content.contains("2026-11-05 09:00:00 CET"));
        for a in &r.body.attachments {
            assert!(content.contains(&format!("SHA-256: {}", a.sha256)));
        }
        // Accents in WinAnsiEncoding, parentheses and backslashes escaped.
        assert!(content.contains("(Tr\\341mite \\(procedure\\))"));
        assert!(content.contains("(S\\355)"));
        assert!(content.contains("\\(a\\361o 2026\\) \\\\ prueba"));
        assert!(content.contains("/F1 8 Tf"));
        assert!(
            String::from_utf8_lossy(&pdf)
                .contains("/BaseFont /Helvetica /Encoding /WinAnsiEncoding")
        );
    }

    #[test]
    fn many_attachments_flow_onto_more_pages() {
        let r = receipt(20);
        let pdf = render(&r);
        let objects = check_xref(&pdf);
        let pages = (objects - 5) / 2;
        assert!(pages >= 2, "{pages} page(s)");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains(&format!("/Count {pages}")));
        let content = contents(&pdf);
        for a in &r.body.attachments {
            assert!(content.contains(&a.sha256));
        }
        assert!(content.contains(&format!("de {pages})")));
    }

    #[test]
    fn wrapping_respects_the_width_and_keeps_every_character() {
        let text = "palabra ".repeat(60) + &"x".repeat(300);
        let lines = wrap(Font::Regular, 10.0, 200.0, &text);
        assert!(lines.len() > 5);
        for line in &lines {
            assert!(text_width(Font::Regular, line, 10.0) <= 200.0 + 0.01);
        }
        let joined: usize = lines.iter().map(Vec::len).sum();
        assert!(joined >= 60 * 7 + 300);
        assert_eq!(win_ansi('€'), 0x80);
        assert_eq!(win_ansi('ñ'), 0xf1);
        assert_eq!(win_ansi('漢'), b'?');
    }
}
