//! The core's one error type, carrying the stable codes of DOMAIN.md
//! ("Error codes"). Adapters map [`ErrorCode`] to their own statuses in one
//! place; nothing else about an error is needed to answer a client.

use serde::{Deserialize, Serialize};

/// The stable, snake_case error codes of DOMAIN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// `not_found` — no such case, or not visible to the actor (never `forbidden`, DOMAIN.md §1).
    NotFound,
    /// `forbidden` — the actor's role may not run the command, or it is not the assigned processor.
    Forbidden,
    /// `case_closed` — the case is closed (terminal, DOMAIN.md §3).
    CaseClosed,
    /// `transition_not_allowed` — the case is open but not in a substatus the command starts from.
    TransitionNotAllowed,
    /// `invalid_field` — a free-text or other input out of range; names the field.
    InvalidField,
    /// `invalid_classification` — the classification path is not in the catalog.
    InvalidClassification,
    /// `not_handled_by_casia` — a `not_handled` subcategory; carries its message.
    NotHandledByCasia,
    /// `invalid_complementary_data` — an unknown field code or an invalid value; names the field.
    InvalidComplementaryData,
    /// `missing_complementary_data` — a `required_data` group with no field given; names the
    /// group's codes.
    MissingComplementaryData,
    /// `missing_required_documents` — required document types not attached; names them.
    MissingRequiredDocuments,
    /// `attachment_rejected` — an attachment was refused, with a [`RejectionReason`].
    AttachmentRejected,
    /// `duplicate_attachment` — the same bytes (SHA-256) twice on one case.
    DuplicateAttachment,
    /// `invalid_query` — a search or calendar query parameter is invalid; names it.
    InvalidQuery,
    /// `deadline_not_reached` — `close_ex_officio` on a case that is not yet overdue.
    DeadlineNotReached,
    /// `survey_not_allowed` — a survey on a case that is not `resolved`.
    SurveyNotAllowed,
    /// `survey_already_submitted` — the case already has a survey.
    SurveyAlreadySubmitted,
    /// `survey_window_closed` — more than 30 Madrid days since the resolution.
    SurveyWindowClosed,
    /// `version_conflict` — a write based on a stale version (DOMAIN.md §10).
    VersionConflict,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::CaseClosed,
        ErrorCode::TransitionNotAllowed,
        ErrorCode::InvalidField,
        ErrorCode::InvalidClassification,
        ErrorCode::NotHandledByCasia,
        ErrorCode::InvalidComplementaryData,
        ErrorCode::MissingComplementaryData,
        ErrorCode::MissingRequiredDocuments,
        ErrorCode::AttachmentRejected,
        ErrorCode::DuplicateAttachment,
        ErrorCode::InvalidQuery,
        ErrorCode::DeadlineNotReached,
        ErrorCode::SurveyNotAllowed,
        ErrorCode::SurveyAlreadySubmitted,
        ErrorCode::SurveyWindowClosed,
        ErrorCode::VersionConflict,
    ];

    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CaseClosed => "case_closed",
            ErrorCode::TransitionNotAllowed => "transition_not_allowed",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidClassification => "invalid_classification",
            ErrorCode::NotHandledByCasia => "not_handled_by_casia",
            ErrorCode::InvalidComplementaryData => "invalid_complementary_data",
            ErrorCode::MissingComplementaryData => "missing_complementary_data",
            ErrorCode::MissingRequiredDocuments => "missing_required_documents",
            ErrorCode::AttachmentRejected => "attachment_rejected",
            ErrorCode::DuplicateAttachment => "duplicate_attachment",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::DeadlineNotReached => "deadline_not_reached",
            ErrorCode::SurveyNotAllowed => "survey_not_allowed",
            ErrorCode::SurveyAlreadySubmitted => "survey_already_submitted",
            ErrorCode::SurveyWindowClosed => "survey_window_closed",
            ErrorCode::VersionConflict => "version_conflict",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an attachment was refused (DOMAIN.md §6), in check order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// `unknown_document_type` — the document type is not in the catalog.
    UnknownDocumentType,
    /// `invalid_title` — the title is not 1–100 characters after trimming.
    InvalidTitle,
    /// `empty` — the file has no bytes.
    Empty,
    /// `too_large` — the file is over the per-file limit (10 MiB by default).
    TooLarge,
    /// `unsupported_format` — the content is not one of the accepted formats.
    UnsupportedFormat,
    /// `too_many` — the case would hold more than the attachment count limit (20 by default).
    TooMany,
    /// `total_too_large` — the case's attachments would exceed the total limit (50 MiB by default).
    TotalTooLarge,
}

impl RejectionReason {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::UnknownDocumentType => "unknown_document_type",
            RejectionReason::InvalidTitle => "invalid_title",
            RejectionReason::Empty => "empty",
            RejectionReason::TooLarge => "too_large",
            RejectionReason::UnsupportedFormat => "unsupported_format",
            RejectionReason::TooMany => "too_many",
            RejectionReason::TotalTooLarge => "total_too_large",
        }
    }
}

/// A failed command or query. Each variant is one stable code; validation
/// variants name the offending `field` (DOMAIN.md "Validation errors name the
/// `field`").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CasiaError {
    /// `not_found` — no such case, or not visible to the actor.
    #[error("not found")]
    NotFound,
    /// `forbidden` — the actor may not run this command on this case.
    #[error("forbidden: the actor may not run this command on this case")]
    Forbidden,
    /// `case_closed` — the case is closed.
    #[error("the case is closed")]
    CaseClosed,
    /// `transition_not_allowed` — not allowed from the case's substatus.
    #[error("the command is not allowed from the case's substatus")]
    TransitionNotAllowed,
    /// `invalid_field` naming `field` (e.g. `title`, `comment`, `office`,
    /// `rating`), with the rule it broke in words.
    #[error("invalid field `{field}`: {rule}")]
    InvalidField {
        /// The field, e.g. `title`, `description`, `comment`, `office`.
        field: String,
        /// What the field must be, and what it was when that helps, e.g.
        /// `1–150 characters after trimming, got 151` (shown as the
        /// problem's `detail`; not part of the stable code).
        rule: String,
    },
    /// `invalid_classification` naming the first missing level: `case_type`, `materia`, `category`
    /// or `subcategory`.
    #[error("invalid classification: no such {field} in the catalog")]
    InvalidClassification {
        /// The first level not found: `case_type`, `materia`, `category` or `subcategory`.
        field: String,
    },
    /// `not_handled_by_casia` with the subcategory's message for the user.
    #[error("not handled by CASIA: {message}")]
    NotHandledByCasia {
        /// The catalog's message for whoever picked the subcategory.
        message: String,
    },
    /// `invalid_complementary_data` naming the field code.
    #[error("invalid complementary data `{field}`")]
    InvalidComplementaryData {
        /// The complementary-data field code, e.g. `nif`.
        field: String,
    },
    /// `missing_complementary_data` naming the codes of the first unmet `required_data` group.
    #[error("missing complementary data: one of {fields:?}")]
    MissingComplementaryData {
        /// The codes of the unmet group, in catalog order.
        fields: Vec<String>,
    },
    /// `missing_required_documents` naming the missing document-type codes.
    #[error("missing required documents: {fields:?}")]
    MissingRequiredDocuments {
        /// The missing document-type codes.
        fields: Vec<String>,
    },
    /// `attachment_rejected` with its `reason`.
    #[error("attachment {index} rejected: {}", reason.as_str())]
    AttachmentRejected {
        /// Which check failed (DOMAIN.md §6 order).
        reason: RejectionReason,
        /// Position of the attachment in the command's list (0-based).
        index: usize,
    },
    /// `duplicate_attachment`: the same SHA-256 as an attachment already on the case or earlier in
    /// the command.
    #[error(
        "attachment {index} has the same content (SHA-256) as one already on the case or earlier in this command"
    )]
    DuplicateAttachment {
        /// Position of the duplicate in the command's list (0-based).
        index: usize,
    },
    /// `invalid_query` naming the parameter (`status`, `from`, `to`, `substatus`, `limit`,
    /// `cursor`, `days`, …).
    #[error("invalid query: {field}")]
    InvalidQuery {
        /// The offending parameter.
        field: String,
    },
    /// `deadline_not_reached` — the case is not overdue yet.
    #[error("the documentation deadline has not passed yet")]
    DeadlineNotReached,
    /// `survey_not_allowed` — the case is not `resolved`.
    #[error("a survey can only be recorded on a resolved case")]
    SurveyNotAllowed,
    /// `survey_already_submitted`.
    #[error("a survey was already recorded")]
    SurveyAlreadySubmitted,
    /// `survey_window_closed` — past the resolution's Madrid date + 30 days.
    #[error("the survey window has closed")]
    SurveyWindowClosed,
    /// `version_conflict` — the case changed since it was read.
    #[error("the case changed since it was read (version conflict)")]
    VersionConflict,
}

impl CasiaError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            CasiaError::NotFound => ErrorCode::NotFound,
            CasiaError::Forbidden => ErrorCode::Forbidden,
            CasiaError::CaseClosed => ErrorCode::CaseClosed,
            CasiaError::TransitionNotAllowed => ErrorCode::TransitionNotAllowed,
            CasiaError::InvalidField { .. } => ErrorCode::InvalidField,
            CasiaError::InvalidClassification { .. } => ErrorCode::InvalidClassification,
            CasiaError::NotHandledByCasia { .. } => ErrorCode::NotHandledByCasia,
            CasiaError::InvalidComplementaryData { .. } => ErrorCode::InvalidComplementaryData,
            CasiaError::MissingComplementaryData { .. } => ErrorCode::MissingComplementaryData,
            CasiaError::MissingRequiredDocuments { .. } => ErrorCode::MissingRequiredDocuments,
            CasiaError::AttachmentRejected { .. } => ErrorCode::AttachmentRejected,
            CasiaError::DuplicateAttachment { .. } => ErrorCode::DuplicateAttachment,
            CasiaError::InvalidQuery { .. } => ErrorCode::InvalidQuery,
            CasiaError::DeadlineNotReached => ErrorCode::DeadlineNotReached,
            CasiaError::SurveyNotAllowed => ErrorCode::SurveyNotAllowed,
            CasiaError::SurveyAlreadySubmitted => ErrorCode::SurveyAlreadySubmitted,
            CasiaError::SurveyWindowClosed => ErrorCode::SurveyWindowClosed,
            CasiaError::VersionConflict => ErrorCode::VersionConflict,
        }
    }

    /// The single field an error names, when it names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            CasiaError::InvalidField { field, .. }
            | CasiaError::InvalidClassification { field }
            | CasiaError::InvalidComplementaryData { field }
            | CasiaError::InvalidQuery { field } => Some(field),
            CasiaError::MissingComplementaryData { fields }
            | CasiaError::MissingRequiredDocuments { fields } => fields.first().map(String::as_str),
            _ => None,
        }
    }

    /// All the codes an error names (`missing_*` name a list).
    pub fn fields(&self) -> Vec<&str> {
        match self {
            CasiaError::MissingComplementaryData { fields }
            | CasiaError::MissingRequiredDocuments { fields } => {
                fields.iter().map(String::as_str).collect()
            }
            other => other.field().into_iter().collect(),
        }
    }

    /// The `attachment_rejected` reason.
    pub fn reason(&self) -> Option<RejectionReason> {
        match self {
            CasiaError::AttachmentRejected { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// `invalid_field` naming `field`, with the field's rule (DOMAIN.md §4,
    /// §5) in words.
    pub(crate) fn invalid_field(field: &str) -> CasiaError {
        let rule = match field {
            "processor" => "a processor id: 1–64 characters of [A-Za-z0-9._-]",
            "office" => "a province code 01–52 other than the case's current office",
            "rating" => "an integer from 1 to 5",
            "email" => "an address local@domain of at most 254 bytes",
            "comment" => {
                "a comment of 1–4000 characters after trimming, or at least one attachment"
            }
            _ => "out of range",
        };
        CasiaError::InvalidField {
            field: field.to_owned(),
            rule: rule.to_owned(),
        }
    }

    /// `invalid_field` for a free text out of its length range (DOMAIN.md §5
    /// "Free text"): `min`–`max` characters after trimming (`min` 0: at
    /// most `max`), and the length `raw` had.
    pub(crate) fn invalid_text(field: &str, min: usize, max: usize, raw: &str) -> CasiaError {
        let got = raw.trim().chars().count();
        let rule = if min == 0 {
            format!("at most {max} characters after trimming, got {got}")
        } else {
            format!("{min}–{max} characters after trimming, got {got}")
        };
        CasiaError::InvalidField {
            field: field.to_owned(),
            rule,
        }
    }

    pub(crate) fn invalid_query(field: &str) -> CasiaError {
        CasiaError::InvalidQuery {
            field: field.to_owned(),
        }
    }
}

/// An error with its whole chain of causes, `outer: cause: root cause` —
/// what logs and command-line messages print, so a cause kept as
/// [`std::error::Error::source`] is never lost.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let line = c.to_string();
        // Some errors repeat their cause in their own message.
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}

/// The cause of a port failure, kept for the error chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of a port (storage, content store): not a rule violation, so it
/// carries no stable code of its own beyond `version_conflict`. The cause is
/// kept as [`std::error::Error::source`], so logs print the whole chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write was based on a stale version (DOMAIN.md §10).
    #[error("version conflict")]
    VersionConflict,
    /// A stored row the code cannot understand, naming the case.
    #[error("corrupt record for case {case}: {detail}")]
    Corrupt {
        /// The case number.
        case: String,
        /// What could not be understood.
        detail: String,
    },
    /// The store cannot be reached now — connection refused, unknown host,
    /// authentication, the pool exhausted, a database not accepting
    /// connections. Nothing was written; a later retry may succeed (HTTP
    /// answers 503 with `Retry-After`).
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Any other failure of the backend: `message` says what was being
    /// done, `source` (when there is one) why it failed.
    #[error("store backend failure: {message}")]
    Backend {
        /// What was being done, e.g. `insert case 2026-00000001`.
        message: String,
        /// Why it failed, when known.
        #[source]
        source: Option<BoxError>,
    },
}

impl StoreError {
    /// A backend failure described by `message` alone.
    pub fn backend(message: impl Into<String>) -> StoreError {
        StoreError::Backend {
            message: message.into(),
            source: None,
        }
    }

    /// A backend failure while doing `message`, caused by `source`.
    pub fn backend_caused(message: impl Into<String>, source: impl Into<BoxError>) -> StoreError {
        StoreError::Backend {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The store could not be reached, because of `source`.
    pub fn unavailable(source: impl Into<BoxError>) -> StoreError {
        StoreError::Unavailable(source.into())
    }

    /// Whether this is a passing unavailability (retry later).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_carries_the_whole_chain_once() {
        let io = std::io::Error::other("connection refused");
        let e = StoreError::backend_caused("insert case 2026-00000001", io);
        assert_eq!(
            report(&e),
            "store backend failure: insert case 2026-00000001: connection refused"
        );
        let down = StoreError::unavailable(std::io::Error::other("connection refused"));
        assert_eq!(
            report(&down),
            "the store is unavailable: connection refused"
        );
        assert!(down.is_unavailable() && !e.is_unavailable());
        let service = ServiceError::from(e);
        assert!(report(&service).ends_with("connection refused"));
    }
}

/// What the service returns: a rule's verdict or a store failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A rule of DOMAIN.md said no; carries the stable code (a store's version conflict arrives
    /// here as `version_conflict`).
    #[error(transparent)]
    Rule(#[from] CasiaError),
    /// The store failed (anything but a version conflict).
    #[error(transparent)]
    Store(StoreError),
    /// The `Idempotency-Key` cannot be used now (issue 16): its submission
    /// is still in flight (`InFlight`) or it belongs to another one
    /// (`Mismatch`).
    #[error("the idempotency key cannot be used: {0:?}")]
    Idempotency(crate::idempotency::Reservation),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict => ServiceError::Rule(CasiaError::VersionConflict),
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    /// The rule error, if this is one.
    pub fn as_rule(&self) -> Option<&CasiaError> {
        match self {
            ServiceError::Rule(e) => Some(e),
            ServiceError::Store(_) | ServiceError::Idempotency(_) => None,
        }
    }
}
