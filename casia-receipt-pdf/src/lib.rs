//! The receipt (Justificante de Apertura, DOMAIN.md §8) as a PDF document.
//!
//! Written with krilla, with DejaVu Sans embedded and subset (only the
//! glyphs used travel in the file; `fonts/LICENSE` gives its licence), so
//! every name prints as given — Polish `Ł`, Romanian `ș`/`ț`, Turkish `ğ`,
//! Greek, Cyrillic — and comes back as text when the PDF is searched or
//! copied (a ToUnicode map is written for every glyph). Codes are shown as
//! the catalog's labels, sizes in KB/MB, and the verification code with the
//! public URL that checks it and a QR code of that URL (qrcode).
//!
//! Text is laid out here: lines are wrapped by the font's advance widths
//! (skrifa, which krilla already uses) — no shaping engine is needed for
//! the left-to-right scripts the receipt carries.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::{Arc, OnceLock};

use casia_core::catalog::Catalog;
use casia_core::receipt::Receipt;
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BOTTOM: f32 = 790.0;
const QR_SIZE: f32 = 96.0;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Why a receipt could not be rendered: the PDF writer failed (it does not
/// with the shipped fonts; the error is kept rather than hidden).
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The embedded font did not load.
    #[error("the receipt font did not load")]
    Font,
    /// krilla could not write the document.
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// One of the two faces: krilla's font to draw with, and the bytes skrifa
/// reads glyph ids and advance widths from.
struct Face {
    font: Font,
    data: &'static [u8],
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Face, PdfError> {
        let font = Font::new(Arc::new(data.to_vec()).into(), 0).ok_or(PdfError::Font)?;
        FontRef::new(data).map_err(|_| PdfError::Font)?;
        Ok(Face { font, data })
    }

    fn skrifa(&self) -> Option<FontRef<'static>> {
        FontRef::new(self.data).ok()
    }

    /// The glyphs of `text` with advances in em (a char the font lacks
    /// becomes glyph 0, `.notdef`, and keeps its place in the text).
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        let Some(font) = self.skrifa() else {
            return Vec::new();
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        )
        .max(1.0);
        text.char_indices()
            .map(|(at, ch)| {
                let gid = charmap.map(ch).unwrap_or_default();
                let advance = metrics.advance_width(gid).unwrap_or(0.0) / upem;
                KrillaGlyph::new(
                    GlyphId::new(gid.to_u32()),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    at..at + ch.len_utf8(),
                    None,
                )
            })
            .collect()
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        self.glyphs(text).iter().map(|g| g.x_advance).sum::<f32>() * size
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

fn faces() -> Result<&'static Faces, PdfError> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some(Faces {
                regular: Face::load(REGULAR).ok()?,
                bold: Face::load(BOLD).ok()?,
            })
        })
        .as_ref()
        .ok_or(PdfError::Font)
}

/// A line of text placed on a page.
struct Line {
    text: String,
    bold: bool,
    size: f32,
    x: f32,
    y: f32,
}

/// Pages of placed lines and QR codes, built top to bottom.
struct Layout<'f> {
    faces: &'f Faces,
    pages: Vec<Page>,
    y: f32,
}

#[derive(Default)]
struct Page {
    lines: Vec<Line>,
    rules: Vec<f32>,
    qr: Option<(qrcode::QrCode, f32, f32)>,
}

impl<'f> Layout<'f> {
    fn new(faces: &'f Faces) -> Layout<'f> {
        Layout {
            faces,
            pages: vec![Page::default()],
            y: MARGIN,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page unless `height` points still fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Page::default());
            self.y = MARGIN;
        }
    }

    /// A paragraph wrapped to the text width, indented by `indent`.
    fn paragraph(&mut self, bold: bool, size: f32, indent: f32, text: &str) {
        let face = if bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        };
        let width = PAGE_WIDTH - 2.0 * MARGIN - indent;
        for line in wrap(face, text, size, width) {
            self.ensure(size * 1.35);
            self.y += size * 1.35;
            let y = self.y;
            self.page().lines.push(Line {
                text: line,
                bold,
                size,
                x: MARGIN + indent,
                y,
            });
        }
    }

    /// A label in bold and its value below it.
    fn field(&mut self, label: &str, value: &str) {
        self.ensure(30.0);
        self.paragraph(true, 8.5, 0.0, label);
        self.paragraph(false, 10.5, 0.0, value);
        self.gap(4.0);
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn rule(&mut self) {
        self.ensure(12.0);
        self.y += 6.0;
        let y = self.y;
        self.page().rules.push(y);
        self.y += 6.0;
    }

    fn qr(&mut self, code: qrcode::QrCode) {
        self.ensure(QR_SIZE + 8.0);
        self.y += 4.0;
        let y = self.y;
        self.page().qr = Some((code, MARGIN, y));
        self.y += QR_SIZE + 4.0;
    }
}

/// Greedy word wrap by advance widths; a word longer than the line (a
/// hash, a URL) is cut where it no longer fits.
fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate, size) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word alone: cut it if it is wider than the line.
        let mut piece = String::new();
        for ch in word.chars() {
            piece.push(ch);
            if face.width(&piece, size) > width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(ch);
            }
        }
        current = piece;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// A size for people: `512 bytes`, `85,7 KB`, `9,5 MB` (1 KB = 1024 bytes,
/// decimal comma as written in Spain).
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    let text = if b < KB {
        return format!("{bytes} bytes");
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    };
    text.replace('.', ",")
}

/// The URL that verifies a receipt code: `{public_url}/verificar?codigo=CODE`
/// (the public verification page, HTTP.md).
pub fn verification_url(public_url: &str, code: &str) -> String {
    format!(
        "{}/verificar?codigo={code}",
        public_url.trim_end_matches('/')
    )
}

/// The receipt as a PDF: case number, Madrid submission instant,
/// authorization and user, the classification with the catalog's labels,
/// title, whether it affects the current period, every attachment (title,
/// document type label, file name, size, SHA-256), and the verification
/// code with its URL under `public_url` and a QR code of that URL.
///
/// # Errors
/// [`PdfError`] if the embedded font does not load or the writer fails;
/// neither happens with the shipped fonts.
pub fn render(receipt: &Receipt, catalog: &Catalog, public_url: &str) -> Result<Vec<u8>, PdfError> {
    let faces = faces()?;
    let b = &receipt.body;
    let mut l = Layout::new(faces);
    l.paragraph(true, 10.0, 0.0, "TESORERÍA GENERAL DE LA SEGURIDAD SOCIAL");
    l.paragraph(
        false,
        9.0,
        0.0,
        "CASIA — Coordinación, Atención y Soporte Integral al Autorizado RED",
    );
    l.gap(8.0);
    l.paragraph(true, 17.0, 0.0, "Justificante de Apertura de Caso");
    l.rule();
    l.field("Número de caso", &b.number.to_string());
    l.field(
        "Fecha y hora de presentación (hora de Madrid)",
        &b.submitted_at_madrid,
    );
    l.field("Autorización", b.authorization.as_str());
    l.field("Usuario", b.user.as_str());
    l.field("Tipo de caso", &b.case_type.label);
    l.field(
        "Clasificación",
        &format!(
            "{} › {} › {}",
            b.materia.label, b.category.label, b.subcategory.label
        ),
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
        true,
        11.0,
        0.0,
        &format!("Documentos anexados ({})", b.attachments.len()),
    );
    l.gap(2.0);
    if b.attachments.is_empty() {
        l.paragraph(false, 10.0, 0.0, "Ninguno.");
    }
    for (i, a) in b.attachments.iter().enumerate() {
        l.ensure(52.0);
        l.paragraph(true, 10.0, 0.0, &format!("{}. {}", i + 1, a.title));
        let kind = catalog
            .document_type(&a.document_type)
            .map_or(a.document_type.as_str(), |d| d.label.as_str());
        l.paragraph(false, 9.0, 12.0, &format!("Tipo de documento: {kind}"));
        l.paragraph(
            false,
            9.0,
            12.0,
            &format!("Fichero: {} · Tamaño: {}", a.file_name, human_size(a.size)),
        );
        l.paragraph(false, 7.5, 12.0, &format!("SHA-256: {}", a.sha256));
        l.gap(4.0);
    }
    l.rule();
    let url = verification_url(public_url, &receipt.verification_code);
    l.ensure(80.0 + QR_SIZE);
    l.paragraph(true, 9.0, 0.0, "Código seguro de verificación");
    l.paragraph(true, 15.0, 0.0, &receipt.verification_code);
    l.gap(2.0);
    l.paragraph(
        false,
        8.5,
        0.0,
        "Cualquier persona que conozca este código puede comprobar la autenticidad del justificante (Ley 40/2015, art. 42) en:",
    );
    l.paragraph(false, 8.5, 0.0, &url);
    if let Ok(code) = qrcode::QrCode::new(url.as_bytes()) {
        l.qr(code);
    }
    let total = l.pages.len();
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("Justificante de Apertura {}", b.number))
            .creator("casia".to_owned())
            .language("es-ES".to_owned()),
    );
    for (index, page) in l.pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PdfError::Write("page size".into()))?;
        let mut p = document.start_page_with(settings);
        let mut surface = p.surface();
        let footer = Line {
            text: format!("Caso {} · Página {} de {}", b.number, index + 1, total),
            bold: false,
            size: 8.0,
            x: MARGIN,
            y: PAGE_HEIGHT - 30.0,
        };
        for line in page.lines.iter().chain(std::iter::once(&footer)) {
            let face = if line.bold {
                &faces.bold
            } else {
                &faces.regular
            };
            let glyphs = face.glyphs(&line.text);
            surface.draw_glyphs(
                Point::from_xy(line.x, line.y),
                &glyphs,
                face.font.clone(),
                &line.text,
                line.size,
                false,
            );
        }
        let mut rules = PathBuilder::new();
        for y in &page.rules {
            if let Some(r) = Rect::from_xywh(MARGIN, *y, PAGE_WIDTH - 2.0 * MARGIN, 0.6) {
                rules.push_rect(r);
            }
        }
        if let Some((code, x, y)) = &page.qr {
            let modules = code.width();
            let cell = QR_SIZE / modules as f32;
            for (i, color) in code.to_colors().iter().enumerate() {
                if *color == qrcode::Color::Dark {
                    let (cx, cy) = ((i % modules) as f32, (i / modules) as f32);
                    if let Some(r) = Rect::from_xywh(x + cx * cell, y + cy * cell, cell, cell) {
                        rules.push_rect(r);
                    }
                }
            }
        }
        if let Some(path) = rules.finish() {
            surface.draw_path(&path);
        }
        surface.finish();
        p.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1,0 KB");
        assert_eq!(human_size(87_722), "85,7 KB");
        assert_eq!(human_size(10 * 1024 * 1024 - 1), "10,0 MB");
        assert_eq!(human_size(3_500_000), "3,3 MB");
    }

    #[test]
    fn the_verification_url_is_built_from_the_public_base() {
        assert_eq!(
            verification_url("https://casia.example.es/", "ABCD-EFGH-JKLM-NPQR-STUV"),
            "https://casia.example.es/verificar?codigo=ABCD-EFGH-JKLM-NPQR-STUV"
        );
    }

    #[test]
    fn long_words_are_cut_and_text_wraps_within_the_width() {
        let f = faces().expect("fonts");
        let width = 200.0;
        let lines = wrap(&f.regular, &"a".repeat(200), 10.0, width);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(f.regular.width(line, 10.0) <= width, "{line}");
        }
        let words = wrap(
            &f.regular,
            "uno dos tres cuatro cinco seis siete ocho",
            10.0,
            60.0,
        );
        assert_eq!(words.join(" "), "uno dos tres cuatro cinco seis siete ocho");
    }

    #[test]
    fn every_char_of_the_supported_scripts_has_a_glyph() {
        let f = faces().expect("fonts");
        for name in [
            "Łukasz Żółć",
            "Ștefan Țăran",
            "Ağaoğlu Işık",
            "Ελένη Παπαδοπούλου",
            "Наталья Смирнова",
            "Begoña Muñoz",
        ] {
            for face in [&f.regular, &f.bold] {
                let glyphs = face.glyphs(name);
                assert_eq!(glyphs.len(), name.chars().count());
                assert!(
                    glyphs.iter().all(|g| g.glyph_id.to_u32() != 0),
                    "{name}: a char without a glyph"
                );
            }
        }
    }
}
