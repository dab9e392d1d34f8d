//! Retry-safe submission (issue 16), after the IETF draft "The
//! Idempotency-Key HTTP Header Field": a client that did not get an answer
//! to a submission sends it again with the same key, and gets the first
//! one's case instead of a second case with a second number and a second
//! e-mail.
//!
//! The rule, decided here and applied atomically by each store:
//! - a key is scoped to the authorization and the user who send it;
//! - the first submission with a key *reserves* it (for
//!   [`RESERVATION_LEASE`]) and completes it with its case number in the
//!   case's own transaction;
//! - the same submission again within [`KEY_TTL`] of the first gets that
//!   case ([`Reservation::Completed`]); while the first is still in flight,
//!   [`Reservation::InFlight`] (HTTP 409); a different submission with the
//!   key, [`Reservation::Mismatch`] (HTTP 422);
//! - "the same" compares the parsed submission, attachments by SHA-256
//!   ([`fingerprint`]), not the request's bytes (a multipart retry has a new
//!   boundary);
//! - a reservation whose request died (its lease ran out without a case)
//!   is taken over by the next attempt; keys older than [`KEY_TTL`] are
//!   forgotten and purged by the sweep.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::ids::{AuthorizationId, CaseNumber, UserId};
use crate::submission::SubmitInput;

/// How long a completed key answers with its case: 24 hours.
pub const KEY_TTL: TimeDelta = TimeDelta::hours(24);

/// How long a reservation holds while its submission is written; a
/// reservation older than this without a case belongs to a request that
/// died and is taken over.
pub const RESERVATION_LEASE: TimeDelta = TimeDelta::seconds(60);

/// The longest key, characters.
pub const MAX_KEY_CHARS: usize = 255;

/// An `Idempotency-Key`: 1–255 visible ASCII characters. The header's
/// structured-field form (`"…"`) is unquoted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a header value; `None` when it is empty, longer than 255
    /// characters, or holds anything but visible ASCII.
    pub fn parse(value: &str) -> Option<IdempotencyKey> {
        let v = value.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(v);
        let visible = v.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
        (visible && (1..=MAX_KEY_CHARS).contains(&v.len())).then(|| IdempotencyKey(v.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key as a store keeps it: whose it is, the key and the fingerprint of
/// the submission that reserved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The autorizado the key belongs to.
    pub authorization: AuthorizationId,
    /// The user who sent it.
    pub user: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// [`fingerprint`] of the submission, 64 lower-case hex characters.
    pub fingerprint: String,
}

/// What a store holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The fingerprint of the submission that reserved it.
    pub fingerprint: String,
    /// The case it was completed with; `None` while in flight.
    pub case: Option<CaseNumber>,
    /// When it was reserved.
    pub created_at: DateTime<Utc>,
    /// Until when the reservation holds without a case.
    pub reserved_until: DateTime<Utc>,
}

/// What an attempt with a key comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The key is this attempt's: write the case and complete the key.
    Reserved,
    /// The same submission is still being written (HTTP 409).
    InFlight,
    /// The key belongs to a different submission (HTTP 422).
    Mismatch,
    /// The same submission was written as this case: answer with it.
    Completed(CaseNumber),
}

/// The rule: what an attempt with `fingerprint` at `now` comes to, given
/// the record the store holds for its key.
pub fn decide(existing: Option<&KeyRecord>, fingerprint: &str, now: DateTime<Utc>) -> Reservation {
    let Some(record) = existing else {
        return Reservation::Reserved;
    };
    if now - record.created_at >= KEY_TTL {
        return Reservation::Reserved;
    }
    match record.case {
        Some(case) if record.fingerprint == fingerprint => Reservation::Completed(case),
        Some(_) => Reservation::Mismatch,
        None if record.reserved_until <= now => Reservation::Reserved,
        None if record.fingerprint == fingerprint => Reservation::InFlight,
        None => Reservation::Mismatch,
    }
}

/// The record of a fresh reservation at `now`.
pub fn reserve(fingerprint: &str, now: DateTime<Utc>) -> KeyRecord {
    KeyRecord {
        fingerprint: fingerprint.to_owned(),
        case: None,
        created_at: now,
        reserved_until: now + RESERVATION_LEASE,
    }
}

/// Whether the store may forget a record at `now`: older than
/// [`KEY_TTL`], or a reservation whose lease ran out without a case.
pub fn purgeable(record: &KeyRecord, now: DateTime<Utc>) -> bool {
    now - record.created_at >= KEY_TTL || (record.case.is_none() && record.reserved_until <= now)
}

#[derive(Serialize)]
struct Canonical<'a> {
    case_type: &'a str,
    materia: &'a str,
    category: &'a str,
    subcategory: &'a str,
    affects_current_period: bool,
    title: &'a str,
    description: &'a str,
    complementary_data: &'a std::collections::BTreeMap<String, String>,
    attachments: Vec<CanonicalAttachment<'a>>,
}

#[derive(Serialize)]
struct CanonicalAttachment<'a> {
    document_type: &'a str,
    title: &'a str,
    file_name: &'a str,
    sha256: String,
}

/// The fingerprint of a submission: SHA-256 (hex) of its fields in a fixed
/// order, attachments by the SHA-256 of their bytes — equal for the same
/// submission sent as JSON or as multipart, with any boundary.
pub fn fingerprint(input: &SubmitInput) -> String {
    let canonical = Canonical {
        case_type: &input.case_type,
        materia: &input.materia,
        category: &input.category,
        subcategory: &input.subcategory,
        affects_current_period: input.affects_current_period,
        title: &input.title,
        description: &input.description,
        complementary_data: &input.complementary_data,
        attachments: input
            .attachments
            .iter()
            .map(|a| CanonicalAttachment {
                document_type: &a.document_type,
                title: &a.title,
                file_name: &a.file_name,
                sha256: a.content.sha256(),
            })
            .collect(),
    };
    // Serialising plain strings, booleans and a BTreeMap cannot fail.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    crate::attachment::sha256_hex(&bytes)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::attachment::NewAttachment;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn number(n: u32) -> CaseNumber {
        CaseNumber::new(2026, n).expect("number")
    }

    #[test]
    fn keys_are_1_to_255_visible_characters_quoted_or_not() {
        assert_eq!(
            IdempotencyKey::parse("\"8e03978e-40d5\"").map(|k| k.0),
            Some("8e03978e-40d5".into())
        );
        assert!(IdempotencyKey::parse("abc").is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        for bad in ["", "\"\"", "a b", "ñ", &"k".repeat(256), "a\"b"] {
            assert!(IdempotencyKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_rule_of_a_key() {
        let now = at("2026-11-30T10:00:00Z");
        assert_eq!(decide(None, "f", now), Reservation::Reserved);
        let flying = reserve("f", now);
        assert_eq!(decide(Some(&flying), "f", now), Reservation::InFlight);
        assert_eq!(decide(Some(&flying), "g", now), Reservation::Mismatch);
        // The request died: the next attempt takes the key over.
        let later = now + RESERVATION_LEASE;
        assert_eq!(decide(Some(&flying), "f", later), Reservation::Reserved);
        assert_eq!(decide(Some(&flying), "g", later), Reservation::Reserved);
        let done = KeyRecord {
            case: Some(number(7)),
            ..flying.clone()
        };
        let hour = now + TimeDelta::hours(1);
        assert_eq!(
            decide(Some(&done), "f", hour),
            Reservation::Completed(number(7))
        );
        assert_eq!(decide(Some(&done), "g", hour), Reservation::Mismatch);
        // After 24 h the key is new again.
        let day = now + KEY_TTL;
        assert_eq!(decide(Some(&done), "g", day), Reservation::Reserved);
        assert!(purgeable(&done, day));
        assert!(!purgeable(&done, hour));
        assert!(purgeable(&flying, later));
        assert!(!purgeable(&flying, now));
    }

    #[test]
    fn the_fingerprint_is_of_the_parsed_submission() {
        let attachment = |bytes: &[u8]| NewAttachment {
            document_type: "identity".into(),
            title: "DNI".into(),
            file_name: "dni.pdf".into(),
            content: Bytes::from(bytes.to_vec()).into(),
        };
        let mut input = SubmitInput {
            case_type: "inquiry".into(),
            title: "Plazo".into(),
            attachments: vec![attachment(b"%PDF-1.4 a")],
            ..SubmitInput::default()
        };
        let first = fingerprint(&input);
        assert_eq!(first.len(), 64);
        assert_eq!(fingerprint(&input.clone()), first);
        input.attachments = vec![attachment(b"%PDF-1.4 b")];
        assert_ne!(fingerprint(&input), first, "other bytes, other submission");
        input.attachments = vec![attachment(b"%PDF-1.4 a")];
        input.title = "Plazo de alta".into();
        assert_ne!(fingerprint(&input), first);
    }
}
