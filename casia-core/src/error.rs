//! The core's one error type, carrying the stable codes of DOMAIN.md
//! ("Error codes"). Adapters map [`ErrorCode`] to their own statuses in one
//! place; nothing else about an error is needed to answer a client.

use serde::{Deserialize, Serialize};

/// The stable, snake_case error codes of DOMAIN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Forbidden,
    CaseClosed,
    TransitionNotAllowed,
    InvalidField,
    InvalidClassification,
    NotHandledByCasia,
    InvalidComplementaryData,
    MissingComplementaryData,
    MissingRequiredDocuments,
    AttachmentRejected,
    DuplicateAttachment,
    InvalidQuery,
    DeadlineNotReached,
    SurveyNotAllowed,
    SurveyAlreadySubmitted,
    SurveyWindowClosed,
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
    UnknownDocumentType,
    InvalidTitle,
    Empty,
    TooLarge,
    UnsupportedFormat,
    TooMany,
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
    #[error("not found")]
    NotFound,
    #[error("forbidden: the actor may not run this command on this case")]
    Forbidden,
    #[error("the case is closed")]
    CaseClosed,
    #[error("the command is not allowed from the case's substatus")]
    TransitionNotAllowed,
    #[error("invalid field `{field}`")]
    InvalidField { field: String },
    #[error("invalid classification")]
    InvalidClassification { field: String },
    #[error("not handled by CASIA: {message}")]
    NotHandledByCasia { message: String },
    #[error("invalid complementary data `{field}`")]
    InvalidComplementaryData { field: String },
    #[error("missing complementary data: one of {fields:?}")]
    MissingComplementaryData { fields: Vec<String> },
    #[error("missing required documents: {fields:?}")]
    MissingRequiredDocuments { fields: Vec<String> },
    #[error("attachment {index} rejected: {}", reason.as_str())]
    AttachmentRejected {
        reason: RejectionReason,
        /// Position of the attachment in the command's list (0-based).
        index: usize,
    },
    #[error("attachment {index} duplicates one already on the case")]
    DuplicateAttachment { index: usize },
    #[error("invalid query: {field}")]
    InvalidQuery { field: String },
    #[error("the documentation deadline has not passed yet")]
    DeadlineNotReached,
    #[error("a survey can only be recorded on a resolved case")]
    SurveyNotAllowed,
    #[error("a survey was already recorded")]
    SurveyAlreadySubmitted,
    #[error("the survey window has closed")]
    SurveyWindowClosed,
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
            CasiaError::InvalidField { field }
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

    pub(crate) fn invalid_field(field: &str) -> CasiaError {
        CasiaError::InvalidField {
            field: field.to_owned(),
        }
    }

    pub(crate) fn invalid_query(field: &str) -> CasiaError {
        CasiaError::InvalidQuery {
            field: field.to_owned(),
        }
    }
}

/// A failure of a port (storage, content store): not a rule violation, so it
/// carries no stable code of its own beyond `version_conflict`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write was based on a stale version (DOMAIN.md §10).
    #[error("version conflict")]
    VersionConflict,
    /// A stored row the code cannot understand, naming the case.
    #[error("corrupt record for case {case}: {detail}")]
    Corrupt { case: String, detail: String },
    /// The backend failed (connection, I/O, …).
    #[error("store backend failure: {0}")]
    Backend(String),
}

/// What the service returns: a rule's verdict or a store failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Rule(#[from] CasiaError),
    #[error(transparent)]
    Store(StoreError),
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
            ServiceError::Store(_) => None,
        }
    }
}
