//! The receipt PDF read back by poppler (issue 14): every font embedded
//! (`pdffonts`), and names in Polish, Romanian, Turkish, Greek and Cyrillic
//! come back unchanged as text (`pdftotext`), with the catalog's labels,
//! sizes in KB/MB and the verification URL. Writes the rendered PDF to
//! `$CARGO_TARGET_DIR/tmp/receipt-sample.pdf` for the README's picture
//! (`scripts/receipt-image` turns it into `docs/images/receipt.png`).

use casia_core::catalog::Catalog;
use casia_core::ids::{AuthorizationId, CaseNumber, UserId};
use casia_core::receipt::{Labelled, ReceiptAttachment, ReceiptBody, ReceiptKey, madrid_timestamp};
use casia_test_support::env::poppler;

const NAMES: [&str; 6] = [
    "Łukasz Żółć",
    "Ștefan Țăranu",
    "Ağaoğlu Işık",
    "Ελένη Παπαδοπούλου",
    "Наталья Смирнова",
    "Begoña Muñoz Ibáñez",
];

fn labelled(code: &str, label: &str) -> Labelled {
    Labelled {
        code: code.into(),
        label: label.into(),
    }
}

fn receipt() -> casia_core::receipt::Receipt {
    let at = "2026-11-05T09:00:00Z".parse().expect("instant");
    let body = ReceiptBody {
        number: CaseNumber::new(2026, 42).expect("number"),
        submitted_at: at,
        submitted_at_madrid: madrid_timestamp(at),
        authorization: AuthorizationId::parse("A1").expect("id"),
        user: UserId::parse("u1").expect("id"),
        case_type: labelled("procedure", "Trámite"),
        materia: labelled("afiliacion", "Afiliación, altas y bajas"),
        category: labelled("altas", "Alta de trabajadores por cuenta ajena"),
        subcategory: labelled("nss", "Solicitud de número de Seguridad Social"),
        title: format!("Alta de {}", NAMES.join(", ")),
        affects_current_period: true,
        attachments: NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| ReceiptAttachment {
                title: format!("Documento de {name}"),
                document_type: if i == 0 {
                    "identity".into()
                } else {
                    "other".into()
                },
                file_name: format!("{}.pdf", name.to_lowercase().replace(' ', "-")),
                size: [87_722, 512, 3_500_000, 1024, 10 * 1024 * 1024, 2048][i],
                sha256: format!("{:064x}", i + 1),
            })
            .collect(),
    };
    ReceiptKey::new("receipt-pdf-tests").issue(body)
}

#[test]
fn every_font_is_embedded_and_every_name_reads_back() {
    let r = receipt();
    let pdf =
        casia_receipt_pdf::render(&r, &Catalog::default_catalog(), "https://casia.example.es")
            .expect("render");
    assert!(pdf.starts_with(b"%PDF-"));
    let sample = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("receipt-sample.pdf");
    let _ = std::fs::write(&sample, &pdf);

    let test = "every_font_is_embedded_and_every_name_reads_back";
    if let Some(fonts) = poppler(test, "pdffonts", &pdf) {
        let rows: Vec<&str> = fonts
            .lines()
            .skip(2)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(!rows.is_empty(), "{fonts}");
        for row in rows {
            // name type encoding emb sub uni object ID
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert!(n >= 6, "{row}");
            assert_eq!(cols[n - 5], "yes", "embedded: {row}");
            assert_eq!(cols[n - 4], "yes", "subset: {row}");
            assert_eq!(cols[n - 3], "yes", "ToUnicode map: {row}");
        }
    }
    if let Some(text) = poppler(test, "pdftotext", &pdf) {
        // pdftotext may break a long line where the PDF wraps it; compare
        // with white space folded.
        let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for name in NAMES {
            assert!(folded.contains(name), "{name} in {folded}");
        }
        for expected in [
            "2026-00000042",
            "Trámite",
            "Afiliación, altas y bajas › Alta de trabajadores por cuenta ajena › Solicitud de número de Seguridad Social",
            "Tipo de documento: Documento de identidad",
            "Tipo de documento: Otros",
            "85,7 KB",
            "512 bytes",
            "3,3 MB",
            "10,0 MB",
            &r.verification_code,
            &format!(
                "https://casia.example.es/verificar?codigo={}",
                r.verification_code
            ),
        ] {
            assert!(folded.contains(expected), "{expected} in {folded}");
        }
        assert!(
            !folded.contains("(procedure)") && !folded.contains("Tipo: other"),
            "codes are not shown: {folded}"
        );
    }
}
