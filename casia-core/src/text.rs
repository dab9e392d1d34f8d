//! Bounded free texts (DOMAIN.md §4, §5 "Free text"): every free-text input
//! is trimmed before its length (in characters) is checked, and
//! whitespace-only counts as empty.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Trims and checks `1..=max` characters; `None` when out of range.
fn bounded(raw: &str, max: usize) -> Option<String> {
    let t = raw.trim();
    let n = t.chars().count();
    (1..=max).contains(&n).then(|| t.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        ///
        /// Deserialising parses too, so a stored or sent text out of range
        /// is an error, never a value ("parse, don't validate").
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw).ok_or_else(|| {
                    format!(
                        "{}: 1–{} characters after trimming, got {}",
                        stringify!($name),
                        $max,
                        raw.trim().chars().count()
                    )
                })
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }

        impl $name {
            /// The longest text accepted, in characters after trimming.
            pub const MAX_CHARS: usize = $max;

            /// Trims, then accepts 1..=MAX_CHARS characters.
            pub fn parse(raw: &str) -> Option<Self> {
                bounded(raw, $max).map(Self)
            }

            /// Optional input: absent or whitespace-only is `Ok(None)`; too
            /// long is `Err(())`.
            #[allow(clippy::result_unit_err)]
            pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, ()> {
                match raw.map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(t) => Self::parse(t).map(Some).ok_or(()),
                }
            }

            /// The trimmed text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// Case title: 1–150 characters (DOMAIN.md §4).
    Title, 150
);
bounded_text!(
    /// Case description: 1–4000 characters (DOMAIN.md §4).
    Description, 4000
);
bounded_text!(
    /// `add_documentation` comment: 1–4000 characters (DOMAIN.md §5).
    Comment, 4000
);
bounded_text!(
    /// `cancel` reason: at most 1000 characters (DOMAIN.md §5).
    Reason, 1000
);
bounded_text!(
    /// `request_information` observation: 1–4000 characters, public (DOMAIN.md §5).
    Observation, 4000
);
bounded_text!(
    /// `escalate`/`transfer` note: 1–4000 characters, internal (DOMAIN.md §5).
    Note, 4000
);
bounded_text!(
    /// `resolve` resolution: 1–8000 characters, public (DOMAIN.md §5).
    Resolution, 8000
);
bounded_text!(
    /// Attachment title: 1–100 characters (DOMAIN.md §6).
    AttachmentTitle, 100
);
bounded_text!(
    /// Survey comment: at most 1000 characters (DOMAIN.md §5).
    SurveyComment, 1000
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_are_counted_in_characters_after_trimming() {
        assert!(Title::parse(&"ñ".repeat(150)).is_some());
        assert!(Title::parse(&"ñ".repeat(151)).is_none());
        assert_eq!(Title::parse("  hola  ").map(|t| t.0), Some("hola".into()));
        assert!(Title::parse(&format!("  {}  ", "a".repeat(150))).is_some());
        assert!(Description::parse(&"d".repeat(4000)).is_some());
        assert!(Description::parse(&"d".repeat(4001)).is_none());
        assert!(Resolution::parse(&"r".repeat(8000)).is_some());
        assert!(Resolution::parse(&"r".repeat(8001)).is_none());
        assert!(AttachmentTitle::parse(&"t".repeat(100)).is_some());
        assert!(AttachmentTitle::parse(&"t".repeat(101)).is_none());
    }

    #[test]
    fn whitespace_only_is_empty() {
        for t in ["", " ", "\t\n ", "\u{3000}"] {
            assert!(Title::parse(t).is_none(), "{t:?}");
            assert!(Observation::parse(t).is_none(), "{t:?}");
        }
    }

    #[test]
    fn optional_texts_accept_absence_and_reject_overflow() {
        assert_eq!(Reason::parse_optional(None), Ok(None));
        assert_eq!(Reason::parse_optional(Some("   ")), Ok(None));
        assert!(Reason::parse_optional(Some(&"r".repeat(1000))).is_ok_and(|r| r.is_some()));
        assert_eq!(Reason::parse_optional(Some(&"r".repeat(1001))), Err(()));
        assert_eq!(
            SurveyComment::parse_optional(Some(&"c".repeat(1001))),
            Err(())
        );
    }

    proptest! {
        #[test]
        fn accepted_text_is_trimmed_and_within_bounds(s in "\\PC{0,200}") {
            if let Some(t) = Title::parse(&s) {
                prop_assert_eq!(t.as_str(), s.trim());
                let n = t.as_str().chars().count();
                prop_assert!((1..=150).contains(&n));
            } else {
                let n = s.trim().chars().count();
                prop_assert!(n == 0 || n > 150);
            }
        }
    }
}
