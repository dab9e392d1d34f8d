//! Submitting a case (alta de caso, DOMAIN.md §4): the validation order, and
//! the draft a store completes with the next case number.

use bytes::Bytes;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::attachment::{AcceptedAttachment, NewAttachment, accept_attachments};
use crate::calendar::madrid_month;
use crate::case::{Case, HistoryEntry, HistoryEvent, Visibility};
use crate::catalog::CaseType;
use crate::complementary::ComplementaryData;
use crate::error::CasiaError;
use crate::idempotency::IdempotencyClaim;
use crate::ids::{AuthorizationId, CaseNumber, ProvinceCode, UserId};
use crate::notification::{Notification, NotificationKind};
use crate::receipt::{Labelled, ReceiptAttachment, ReceiptBody, ReceiptKey, madrid_timestamp};
use crate::rules::CaseRules;
use crate::status::{CaseState, OpenSubstatus};
use crate::text::{Description, Title};

/// The submit input of §4, raw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitInput {
    /// Case type code: `inquiry`, `incident` or `procedure`.
    pub case_type: String,
    /// Materia code from the catalog.
    pub materia: String,
    /// Category code from the catalog.
    pub category: String,
    /// Subcategory code from the catalog (not a `not_handled` one).
    pub subcategory: String,
    /// Whether the case affects the filing period in progress.
    pub affects_current_period: bool,
    /// Title, 1–150 characters after trimming.
    pub title: String,
    /// Description, 1–4000 characters after trimming.
    pub description: String,
    /// Datos complementarios: field code → value (`ccc`, `naf`, `nif`, `submission_code`,
    /// `settlement_period`, `reference`); stored normalised.
    pub complementary_data: BTreeMap<String, String>,
    /// Attachments; must include every `required_documents` type of the subcategory.
    pub attachments: Vec<NewAttachment>,
}

/// A validated submission waiting for its number. The store assigns the
/// next number of [`CaseDraft::year`] and calls [`CaseDraft::complete`] in
/// the same transaction that writes the case.
#[derive(Debug, Clone)]
pub struct CaseDraft {
    year: i32,
    actor: Actor,
    authorization: AuthorizationId,
    user: UserId,
    province: ProvinceCode,
    case_type: CaseType,
    /// Case type, materia, category, subcategory: codes and labels.
    labels: [Labelled; 4],
    affects_current_period: bool,
    title: Title,
    description: Description,
    complementary_data: ComplementaryData,
    attachments: Vec<AcceptedAttachment>,
    submitted_at: DateTime<Utc>,
    receipt_key: ReceiptKey,
    /// The `Idempotency-Key` this submission completes, when sent with one.
    idempotency: Option<IdempotencyClaim>,
}

/// A completed draft: the case and what must be written with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// The new case: `open/submitted`, routed, with receipt and first history entry.
    pub case: Case,
    /// The accepted attachments, bytes included, to write with it.
    pub attachments: Vec<AcceptedAttachment>,
    /// The `case_submitted` notification, for the outbox.
    pub notifications: Vec<Notification>,
}

impl CaseDraft {
    /// The draft completing `claim` when written: the store records the
    /// case number against the key in the case's own transaction.
    pub fn with_idempotency(mut self, claim: IdempotencyClaim) -> CaseDraft {
        self.idempotency = Some(claim);
        self
    }

    /// The `Idempotency-Key` the draft completes, if any.
    pub fn idempotency(&self) -> Option<&IdempotencyClaim> {
        self.idempotency.as_ref()
    }

    /// The accepted attachments, bytes included (empty bytes once they
    /// were moved to a blob store: an accepted attachment is never empty,
    /// DOMAIN.md §6, so empty bytes mean "in the blob store").
    pub fn attachments(&self) -> &[AcceptedAttachment] {
        &self.attachments
    }

    /// The accepted attachments, for the service to place their bytes (in
    /// its blob store, or read from their staged files) before the write.
    pub(crate) fn attachments_mut(&mut self) -> &mut [AcceptedAttachment] {
        &mut self.attachments
    }

    /// The Madrid year of submission: the year of the case number.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The case under `number`, with its receipt, first history entry and
    /// `case_submitted` notification.
    pub fn complete(&self, number: CaseNumber) -> NewCase {
        let state = CaseState::Open(OpenSubstatus::Submitted);
        let [case_type, materia, category, subcategory] = self.labels.clone();
        let receipt = self.receipt_key.issue(ReceiptBody {
            number,
            submitted_at: self.submitted_at,
            submitted_at_madrid: madrid_timestamp(self.submitted_at),
            authorization: self.authorization.clone(),
            user: self.user.clone(),
            case_type,
            materia: materia.clone(),
            category: category.clone(),
            subcategory: subcategory.clone(),
            title: self.title.as_str().to_owned(),
            affects_current_period: self.affects_current_period,
            attachments: self
                .attachments
                .iter()
                .map(|a| ReceiptAttachment {
                    title: a.meta.title.as_str().to_owned(),
                    document_type: a.meta.document_type.clone(),
                    file_name: a.meta.file_name.clone(),
                    size: a.meta.size,
                    sha256: a.meta.sha256.clone(),
                })
                .collect(),
        });
        let case = Case {
            number,
            case_type: self.case_type,
            materia: materia.code,
            category: category.code,
            subcategory: subcategory.code,
            state,
            // Routing: the office of the submitting user's province (§1).
            office: self.province,
            assignee: None,
            authorization: self.authorization.clone(),
            submitted_by: self.user.clone(),
            province: self.province,
            affects_current_period: self.affects_current_period,
            title: self.title.clone(),
            description: self.description.clone(),
            complementary_data: self.complementary_data.clone(),
            attachments: self.attachments.iter().map(|a| a.meta.clone()).collect(),
            deadline: None,
            reminder_sent: false,
            submitted_at: self.submitted_at,
            closed_at: None,
            resolution: None,
            survey: None,
            history: vec![HistoryEntry {
                at: self.submitted_at,
                event: HistoryEvent::Submitted,
                state,
                actor: self.actor.reference(),
                observation: None,
                visibility: Visibility::Public,
            }],
            receipt,
            version: 1,
        };
        let notifications = vec![Notification::about(
            &case,
            NotificationKind::CaseSubmitted,
            self.submitted_at,
            None,
        )];
        NewCase {
            case,
            attachments: self.attachments.clone(),
            notifications,
        }
    }
}

/// Validates a submission in the order of §4 — classification, title,
/// description, complementary data (given fields by code, then the required
/// groups), attachments, required documents — after checking the actor is a
/// user (`forbidden` otherwise).
///
/// # Errors
///
/// The first failure: `forbidden` (not a user), `invalid_classification`
/// or `not_handled_by_casia`, `invalid_field` naming `title` or
/// `description`, `invalid_complementary_data` naming the field,
/// `missing_complementary_data` naming the group's codes,
/// `attachment_rejected` or `duplicate_attachment`, then
/// `missing_required_documents` naming the missing types.
pub fn validate_submission(
    actor: &Actor,
    input: &SubmitInput,
    rules: &CaseRules,
    now: DateTime<Utc>,
) -> Result<CaseDraft, CasiaError> {
    let (authorization, user, province): (&AuthorizationId, &UserId, &ProvinceCode) = match actor {
        Actor::User {
            authorization,
            user,
            province,
        } => (authorization, user, province),
        _ => return Err(CasiaError::Forbidden),
    };
    let c = rules.catalog.classify(
        &input.case_type,
        &input.materia,
        &input.category,
        &input.subcategory,
    )?;
    let title = Title::parse(&input.title)
        .ok_or_else(|| CasiaError::invalid_text("title", 1, Title::MAX_CHARS, &input.title))?;
    let description = Description::parse(&input.description).ok_or_else(|| {
        CasiaError::invalid_text("description", 1, Description::MAX_CHARS, &input.description)
    })?;
    let (year, month) = madrid_month(now);
    let data = ComplementaryData::parse(&input.complementary_data, year, month)
        .map_err(|e| CasiaError::InvalidComplementaryData { field: e.field })?;
    if let Some(group) = data.first_missing_group(&c.subcategory.required_data) {
        return Err(CasiaError::MissingComplementaryData {
            fields: group.iter().map(|f| f.as_str().to_owned()).collect(),
        });
    }
    let attachments = accept_attachments(
        &[],
        &input.attachments,
        &rules.catalog,
        &rules.limits,
        now,
        &actor.reference(),
    )?;
    let missing: Vec<String> = c
        .subcategory
        .required_documents
        .iter()
        .filter(|d| !attachments.iter().any(|a| &a.meta.document_type == *d))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(CasiaError::MissingRequiredDocuments { fields: missing });
    }
    let case_type: CaseType = c.case_type.code;
    let labelled = |code: &str, label: &str| Labelled {
        code: code.to_owned(),
        label: label.to_owned(),
    };
    Ok(CaseDraft {
        year,
        actor: actor.clone(),
        authorization: authorization.clone(),
        user: user.clone(),
        province: *province,
        case_type,
        labels: [
            labelled(case_type.as_str(), case_type.label_es()),
            labelled(&c.materia.code, &c.materia.label),
            labelled(&c.category.code, &c.category.label),
            labelled(&c.subcategory.code, &c.subcategory.label),
        ],
        affects_current_period: input.affects_current_period,
        title,
        description,
        complementary_data: data,
        attachments,
        submitted_at: now,
        receipt_key: rules.receipt_key.clone(),
        idempotency: None,
    })
}

/// Content shared by reference, for building inputs.
pub fn content(bytes: impl Into<Vec<u8>>) -> Bytes {
    Bytes::from(bytes.into())
}
