//! The receipt (Justificante de Apertura, DOMAIN.md §8) and its verification
//! code, in the manner of the código seguro de verificación (Ley 40/2015
//! art. 42): HMAC-SHA-256 with a server secret over a canonical encoding,
//! shown as 20 base32 characters in groups of four.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Madrid;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::{AuthorizationId, CaseNumber, UserId};

/// A code and its label, as printed on the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labelled {
    /// The code, e.g. `procedure` or `afiliacion`.
    pub code: String,
    /// The Spanish label, e.g. "Trámite" or "Afiliación, altas y bajas".
    pub label: String,
}

/// One attachment as the receipt lists it (DOMAIN.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptAttachment {
    /// The attachment's title.
    pub title: String,
    /// The document-type code.
    pub document_type: String,
    /// The stored (sanitised) file name.
    pub file_name: String,
    /// The size, bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
}

/// What the receipt certifies, fixed at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBody {
    /// The case number `YYYY-NNNNNNNN`.
    pub number: CaseNumber,
    /// The submission instant (UTC).
    pub submitted_at: DateTime<Utc>,
    /// The submission instant in Madrid time, e.g. `2026-11-05 09:00:00 CET`.
    pub submitted_at_madrid: String,
    /// The autorizado RED.
    pub authorization: AuthorizationId,
    /// The user who submitted.
    pub user: UserId,
    /// The case type with its label.
    pub case_type: Labelled,
    /// The materia with its label.
    pub materia: Labelled,
    /// The category with its label.
    pub category: Labelled,
    /// The subcategory with its label.
    pub subcategory: Labelled,
    /// The case title.
    pub title: String,
    /// Whether the case affects the filing period in progress.
    pub affects_current_period: bool,
    /// The attachments given at submission, in order.
    pub attachments: Vec<ReceiptAttachment>,
}

/// The receipt with its verification code. In JSON the body's fields and
/// `verification_code` are one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReceiptWire")]
pub struct Receipt {
    /// What the receipt certifies (flattened into the JSON).
    #[serde(flatten)]
    pub body: ReceiptBody,
    /// The verification code: 20 base32 characters in groups of four, `XXXX-XXXX-XXXX-XXXX-XXXX`.
    pub verification_code: String,
}

/// The JSON object of a [`Receipt`], read without `#[serde(flatten)]`
/// (which buffers every field into an intermediate tree: a fifth of a
/// search page's decoding, issue 15). Same fields, same names.
#[derive(Deserialize)]
struct ReceiptWire {
    number: CaseNumber,
    submitted_at: DateTime<Utc>,
    submitted_at_madrid: String,
    authorization: AuthorizationId,
    user: UserId,
    case_type: Labelled,
    materia: Labelled,
    category: Labelled,
    subcategory: Labelled,
    title: String,
    affects_current_period: bool,
    attachments: Vec<ReceiptAttachment>,
    verification_code: String,
}

impl From<ReceiptWire> for Receipt {
    fn from(w: ReceiptWire) -> Receipt {
        Receipt {
            body: ReceiptBody {
                number: w.number,
                submitted_at: w.submitted_at,
                submitted_at_madrid: w.submitted_at_madrid,
                authorization: w.authorization,
                user: w.user,
                case_type: w.case_type,
                materia: w.materia,
                category: w.category,
                subcategory: w.subcategory,
                title: w.title,
                affects_current_period: w.affects_current_period,
                attachments: w.attachments,
            },
            verification_code: w.verification_code,
        }
    }
}

/// The server secret the codes are derived with. Never printed.
#[derive(Clone)]
pub struct ReceiptKey(Vec<u8>);

impl ReceiptKey {
    /// A key from the server secret's bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> ReceiptKey {
        ReceiptKey(secret.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// Issues the receipt for a body.
    pub fn issue(&self, body: ReceiptBody) -> Receipt {
        let code = self.code_for(&body);
        Receipt {
            body,
            verification_code: code,
        }
    }

    /// The verification code of a body.
    pub fn code_for(&self, body: &ReceiptBody) -> String {
        let mut mac = self.mac();
        mac.update(&canonical_encoding(body));
        let digest = mac.finalize().into_bytes();
        format_code(&base32_prefix(&digest))
    }

    /// True iff `receipt`'s code is the one this key derives for its body.
    pub fn verify(&self, receipt: &Receipt) -> bool {
        let expected = self.code_for(&receipt.body);
        constant_time_eq(expected.as_bytes(), receipt.verification_code.as_bytes())
    }
}

impl fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReceiptKey(<redacted>)")
    }
}

/// Normalises what a person typed: upper-case, no spaces or dashes, then
/// grouped. `None` when it cannot be a code.
pub fn normalise_code(input: &str) -> Option<String> {
    let raw: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (raw.len() == 20 && raw.bytes().all(|b| BASE32.contains(&b))).then(|| format_code(&raw))
}

/// The Madrid rendering printed on receipts.
pub fn madrid_timestamp(at: DateTime<Utc>) -> String {
    at.with_timezone(&Madrid)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The first 100 bits of the digest as 20 RFC 4648 base32 characters.
fn base32_prefix(digest: &[u8]) -> String {
    let mut out = String::with_capacity(20);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &byte in digest {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 && out.len() < 20 {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
        if out.len() == 20 {
            break;
        }
    }
    out
}

fn format_code(raw: &str) -> String {
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Length-prefixed fields in a fixed order: no two bodies share an encoding.
fn canonical_encoding(body: &ReceiptBody) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::with_capacity(512);
    put(&mut out, "casia-receipt-v1");
    put(&mut out, &body.number.to_string());
    put(
        &mut out,
        &body
            .submitted_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    );
    put(&mut out, body.authorization.as_str());
    put(&mut out, body.user.as_str());
    for l in [
        &body.case_type,
        &body.materia,
        &body.category,
        &body.subcategory,
    ] {
        put(&mut out, &l.code);
        put(&mut out, &l.label);
    }
    put(&mut out, &body.title);
    put(
        &mut out,
        if body.affects_current_period {
            "1"
        } else {
            "0"
        },
    );
    put(&mut out, &body.attachments.len().to_string());
    for a in &body.attachments {
        put(&mut out, &a.title);
        put(&mut out, &a.document_type);
        put(&mut out, &a.file_name);
        put(&mut out, &a.size.to_string());
        put(&mut out, &a.sha256);
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn body() -> ReceiptBody {
        let l = |c: &str| Labelled {
            code: c.into(),
            label: c.to_uppercase(),
        };
        ReceiptBody {
            number: CaseNumber::new(2026, 1).expect("number"),
            submitted_at: "2026-11-05T08:00:00Z".parse().expect("instant"),
            submitted_at_madrid: "2026-11-05 09:00:00 CET".into(),
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: UserId::parse("u1").expect("id"),
            case_type: l("inquiry"),
            materia: l("afiliacion"),
            category: l("altas"),
            subcategory: l("plazos"),
            title: "Consulta".into(),
            affects_current_period: false,
            attachments: vec![ReceiptAttachment {
                title: "DNI".into(),
                document_type: "identity".into(),
                file_name: "dni.pdf".into(),
                size: 10,
                sha256: "ab".repeat(32),
            }],
        }
    }

    /// The JSON of a receipt is one flat object (the body's fields beside
    /// `verification_code`), and it reads back to the same receipt.
    #[test]
    fn a_receipt_is_one_flat_json_object_and_reads_back() {
        let r = ReceiptKey::new("secret").issue(body());
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["number"], "2026-00000001");
        assert_eq!(json["case_type"]["label"], "INQUIRY");
        assert_eq!(json["verification_code"], r.verification_code.as_str());
        assert!(json.get("body").is_none());
        let back: Receipt = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, r);
        let mut missing = serde_json::to_value(&r).expect("json");
        missing.as_object_mut().map(|o| o.remove("title"));
        assert!(serde_json::from_value::<Receipt>(missing).is_err());
    }

    #[test]
    fn codes_are_20_base32_characters_in_groups_of_four() {
        let r = ReceiptKey::new("secret").issue(body());
        let parts: Vec<&str> = r.verification_code.split('-').collect();
        assert_eq!(parts.len(), 5);
        assert!(
            parts
                .iter()
                .all(|p| p.len() == 4 && p.bytes().all(|b| BASE32.contains(&b)))
        );
        assert!(ReceiptKey::new("secret").verify(&r));
        assert_eq!(
            madrid_timestamp(r.body.submitted_at),
            "2026-11-05 09:00:00 CET"
        );
    }

    #[test]
    fn a_tampered_receipt_or_another_key_does_not_verify() {
        let key = ReceiptKey::new("secret");
        let r = key.issue(body());
        let mut tampered = r.clone();
        tampered.body.attachments[0].sha256 = "cd".repeat(32);
        assert!(!key.verify(&tampered));
        let mut flag = r.clone();
        flag.body.affects_current_period = true;
        assert!(!key.verify(&flag));
        assert!(!ReceiptKey::new("other").verify(&r));
        assert_eq!(format!("{key:?}"), "ReceiptKey(<redacted>)");
    }

    #[test]
    fn typed_codes_are_normalised() {
        let r = ReceiptKey::new("k").issue(body());
        let typed = r.verification_code.replace('-', " ").to_lowercase();
        assert_eq!(normalise_code(&typed), Some(r.verification_code.clone()));
        assert_eq!(normalise_code("ABC"), None);
        assert_eq!(normalise_code("AAAA-AAAA-AAAA-AAAA-AAA1"), None);
    }

    proptest! {
        #[test]
        fn any_change_of_title_changes_the_code(title in "\\PC{1,40}") {
            let key = ReceiptKey::new("k");
            let a = key.issue(body());
            let mut b = body();
            b.title = title.clone();
            let b = key.issue(b);
            prop_assert_eq!(title == "Consulta", a.verification_code == b.verification_code);
        }
    }
}
