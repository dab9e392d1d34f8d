//! The wire shapes of HTTP.md: request bodies and explicit response DTOs
//! built from the core's types. The core stays plain serde; the OpenAPI
//! schemas live here, on the types that are actually sent.

use std::borrow::Cow;
use std::collections::BTreeMap;

use casia_core::actor::ActorRef;
use casia_core::case::{Attachment, Case, HistoryEntry, Survey};
use casia_core::catalog::{
    CaseTypeEntry, Catalog, Category, DeadlineUnit, DocumentType, Materia, Subcategory,
};
use casia_core::receipt::{Labelled, Receipt, ReceiptAttachment};
use casia_core::{SweepReport, Visibility};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

// ---- request bodies -------------------------------------------------------

/// One attachment of a multipart request: which file part holds its bytes,
/// and its document type and title (HTTP.md `POST /v1/cases`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AttachmentRef {
    /// Name of the file part carrying the bytes.
    pub part: String,
    /// A document-type code of the catalog.
    pub document_type: String,
    /// Attachment title, 1–100 characters after trimming.
    pub title: String,
}

/// The submit input (DOMAIN.md §4). As `application/json` it carries no
/// attachments; as the `case` part of `multipart/form-data` its
/// `attachments` name the file parts.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SubmitCase {
    /// `inquiry`, `incident` or `procedure`.
    pub case_type: String,
    /// Materia code from the catalog.
    pub materia: String,
    /// Category code from the catalog.
    pub category: String,
    /// Subcategory code from the catalog.
    pub subcategory: String,
    /// Whether the case affects the filing period in progress (default `false`).
    #[serde(default)]
    pub affects_current_period: bool,
    /// 1–150 characters after trimming.
    pub title: String,
    /// 1–4000 characters after trimming.
    pub description: String,
    /// Field code (`ccc`, `naf`, `nif`, `submission_code`, `settlement_period`, `reference`) → value.
    #[serde(default)]
    pub complementary_data: BTreeMap<String, String>,
    /// Multipart only: one entry per file part; must cover the subcategory's required document
    /// types.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

/// `POST /v1/cases/{number}/documentation`: the `meta` part (or a JSON body
/// when there are no files).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct DocumentationMeta {
    /// 1–4000 characters after trimming; required when no file is attached.
    #[serde(default)]
    pub comment: Option<String>,
    /// One entry per file part.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

/// `POST /v1/cases/{number}/cancel`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct CancelBody {
    /// Optional, at most 1000 characters after trimming.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /v1/cases/{number}/survey` (resolved cases, within 30 days of the resolution).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SurveyBody {
    /// 1–5.
    pub rating: i64,
    /// Optional, at most 1000 characters after trimming.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /v1/cases/{number}/assign`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct AssignBody {
    /// The processor to assign; absent → the caller.
    #[serde(default)]
    pub processor: Option<String>,
}

/// `POST /v1/cases/{number}/request-information`; sets the documentation deadline.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RequestInformationBody {
    /// Public: the user reads it.
    pub observation: String,
}

/// `POST /v1/cases/{number}/escalate`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct EscalateBody {
    /// Internal: users never read it.
    pub note: String,
}

/// `POST /v1/cases/{number}/transfer`; clears the assignee.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TransferBody {
    /// Two-digit office (province) code.
    pub office: String,
    /// Optional internal note, at most 4000 characters after trimming.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/cases/{number}/reclassify`: a new path within the case's type.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ReclassifyBody {
    /// Materia code.
    pub materia: String,
    /// Category code.
    pub category: String,
    /// Subcategory code; must exist and be handled by CASIA.
    pub subcategory: String,
}

/// `POST /v1/cases/{number}/resolve`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ResolveBody {
    /// The answer, 1–8000 characters after trimming; public.
    pub resolution: String,
}

/// A body of bytes (a PDF, an attachment): `{type: string, format: binary}`
/// in OpenAPI, so client generators produce a byte stream.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .build(),
        ))
    }
}

impl ToSchema for Binary {}

/// The `multipart/form-data` form of a submission: a `case` part (JSON of
/// [`SubmitCase`]) and one file part per attachment, named by its `part`.
pub struct SubmitMultipart;

/// The `multipart/form-data` form of documentation: a `meta` part (JSON of
/// [`DocumentationMeta`]) and one file part per attachment.
pub struct DocumentationMultipart;

fn multipart_schema(json_part: &str, json_schema: &str, required: bool) -> RefOr<Schema> {
    let file = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(json_part, RefOr::Ref(utoipa::openapi::Ref::from_schema_name(json_schema)))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
            file.build(),
        )))))
        .description(Some(format!(
            "`{json_part}`: JSON of {json_schema}; every other part is a file named by an attachment's `part`."
        )));
    if required {
        b = b.required(json_part);
    }
    RefOr::T(Schema::Object(b.build()))
}

impl PartialSchema for SubmitMultipart {
    fn schema() -> RefOr<Schema> {
        multipart_schema("case", "SubmitCase", true)
    }
}

impl ToSchema for SubmitMultipart {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SubmitMultipart")
    }
}

impl PartialSchema for DocumentationMultipart {
    fn schema() -> RefOr<Schema> {
        multipart_schema("meta", "DocumentationMeta", true)
    }
}

impl ToSchema for DocumentationMultipart {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DocumentationMultipart")
    }
}

// ---- responses ------------------------------------------------------------

/// Who did something: role and id (none for the system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActorView {
    /// `user`, `processor` or `system`.
    pub role: String,
    /// The user or processor id; absent for the system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl From<&ActorRef> for ActorView {
    fn from(a: &ActorRef) -> ActorView {
        ActorView {
            role: a.role.as_str().to_owned(),
            id: a.id.clone(),
        }
    }
}

/// An attachment's metadata; the bytes are at
/// `/v1/cases/{number}/attachments/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    /// 1-based, in the order added to the case.
    pub id: u32,
    /// Document-type code.
    pub document_type: String,
    /// The attachment's title.
    pub title: String,
    /// The sanitised file name.
    pub filename: String,
    /// Detected from the content (DOMAIN.md §6).
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub added_by: ActorView,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> AttachmentView {
        AttachmentView {
            id: a.id,
            document_type: a.document_type.clone(),
            title: a.title.as_str().to_owned(),
            filename: a.file_name.clone(),
            media_type: a.format.media_type().to_owned(),
            size: a.size,
            sha256: a.sha256.clone(),
            added_at: a.added_at,
            added_by: (&a.added_by).into(),
        }
    }
}

/// The user's survey of a resolved case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SurveyView {
    /// 1–5.
    pub rating: u8,
    /// The survey comment, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The id of the user who rated.
    pub by: String,
}

impl From<&Survey> for SurveyView {
    fn from(s: &Survey) -> SurveyView {
        SurveyView {
            rating: s.rating,
            comment: s.comment.as_ref().map(|c| c.as_str().to_owned()),
            at: s.at,
            by: s.by.as_str().to_owned(),
        }
    }
}

/// A case as HTTP.md "Case JSON" lists it: never attachment bytes, no
/// history (that is `/history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// `YYYY-NNNNNNNN`.
    pub number: String,
    /// `inquiry`, `incident` or `procedure`.
    pub case_type: String,
    /// Materia code.
    pub materia: String,
    /// Category code.
    pub category: String,
    /// Subcategory code.
    pub subcategory: String,
    /// `open` or `closed`.
    pub status: String,
    /// DOMAIN.md §3 substatus code.
    pub substatus: String,
    /// Two-digit office code the case is routed to.
    pub office: String,
    /// The assigned processor's id; `null` when unassigned.
    pub assignee: Option<String>,
    /// Whether the case affects the filing period in progress.
    pub affects_current_period: bool,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// Normalised values by field code.
    pub complementary_data: BTreeMap<String, String>,
    /// Attachment metadata, in the order added.
    pub attachments: Vec<AttachmentView>,
    /// Documentation deadline (Madrid date) while information is requested.
    pub deadline: Option<NaiveDate>,
    /// The submission instant.
    pub submitted_at: DateTime<Utc>,
    /// The id of the user who submitted it.
    pub submitted_by: String,
    /// When it was closed; `null` while open.
    pub closed_at: Option<DateTime<Utc>>,
    /// The processor's public answer, once resolved.
    pub resolution: Option<String>,
    /// The user's survey, once recorded.
    pub survey: Option<SurveyView>,
    /// Grows by one with every change; send it back in `If-Match`.
    pub version: u64,
}

impl From<&Case> for CaseView {
    fn from(c: &Case) -> CaseView {
        CaseView {
            number: c.number.to_string(),
            case_type: c.case_type.as_str().to_owned(),
            materia: c.materia.clone(),
            category: c.category.clone(),
            subcategory: c.subcategory.clone(),
            status: c.state.status().as_str().to_owned(),
            substatus: c.state.substatus_code().to_owned(),
            office: c.office.to_string(),
            assignee: c.assignee.as_ref().map(|p| p.as_str().to_owned()),
            affects_current_period: c.affects_current_period,
            title: c.title.as_str().to_owned(),
            description: c.description.as_str().to_owned(),
            complementary_data: c
                .complementary_data
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_owned()))
                .collect(),
            attachments: c.attachments.iter().map(AttachmentView::from).collect(),
            deadline: c.deadline,
            submitted_at: c.submitted_at,
            submitted_by: c.submitted_by.as_str().to_owned(),
            closed_at: c.closed_at,
            resolution: c.resolution.as_ref().map(|r| r.as_str().to_owned()),
            survey: c.survey.as_ref().map(SurveyView::from),
            version: c.version,
        }
    }
}

/// A code and its Spanish label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LabelledView {
    /// The code.
    pub code: String,
    /// The Spanish label.
    pub label: String,
}

impl From<&Labelled> for LabelledView {
    fn from(l: &Labelled) -> LabelledView {
        LabelledView {
            code: l.code.clone(),
            label: l.label.clone(),
        }
    }
}

/// One attachment as the receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptAttachmentView {
    /// The attachment's title.
    pub title: String,
    /// Document-type code.
    pub document_type: String,
    /// The stored file name.
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
}

impl From<&ReceiptAttachment> for ReceiptAttachmentView {
    fn from(a: &ReceiptAttachment) -> ReceiptAttachmentView {
        ReceiptAttachmentView {
            title: a.title.clone(),
            document_type: a.document_type.clone(),
            file_name: a.file_name.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
        }
    }
}

/// The Justificante de Apertura (DOMAIN.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// The case number, `YYYY-NNNNNNNN`.
    pub number: String,
    /// The submission instant (UTC).
    pub submitted_at: DateTime<Utc>,
    /// The submission instant in Madrid time, e.g. `2026-11-05 09:00:00 CET`.
    pub submitted_at_madrid: String,
    /// The autorizado RED's id.
    pub authorization: String,
    /// The id of the user who submitted it.
    pub user: String,
    /// Case type with its label.
    pub case_type: LabelledView,
    /// Materia with its label.
    pub materia: LabelledView,
    /// Category with its label.
    pub category: LabelledView,
    /// Subcategory with its label.
    pub subcategory: LabelledView,
    /// The case title.
    pub title: String,
    /// Whether the case affects the filing period in progress.
    pub affects_current_period: bool,
    /// The attachments given at submission.
    pub attachments: Vec<ReceiptAttachmentView>,
    /// 20 base32 characters in groups of four.
    pub verification_code: String,
}

impl From<&Receipt> for ReceiptView {
    fn from(r: &Receipt) -> ReceiptView {
        let b = &r.body;
        ReceiptView {
            number: b.number.to_string(),
            submitted_at: b.submitted_at,
            submitted_at_madrid: b.submitted_at_madrid.clone(),
            authorization: b.authorization.as_str().to_owned(),
            user: b.user.as_str().to_owned(),
            case_type: (&b.case_type).into(),
            materia: (&b.materia).into(),
            category: (&b.category).into(),
            subcategory: (&b.subcategory).into(),
            title: b.title.clone(),
            affects_current_period: b.affects_current_period,
            attachments: b.attachments.iter().map(Into::into).collect(),
            verification_code: r.verification_code.clone(),
        }
    }
}

/// `201 Created`: the new case and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmittedCase {
    /// The case (its fields sit at the top level).
    #[serde(flatten)]
    pub case: CaseView,
    /// The receipt (Justificante de Apertura).
    pub receipt: ReceiptView,
}

/// One history entry as the caller may read it (DOMAIN.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntryView {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// DOMAIN.md §7 event code, e.g. `documentation_added`.
    pub event: String,
    /// `open` or `closed` after the event.
    pub status: String,
    /// Substatus code after the event.
    pub substatus: String,
    /// Who ran the command.
    pub actor: ActorView,
    /// The entry's text; absent for users on internal entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<String>,
    /// `public` or `internal`.
    pub visibility: String,
}

impl From<&HistoryEntry> for HistoryEntryView {
    fn from(e: &HistoryEntry) -> HistoryEntryView {
        HistoryEntryView {
            at: e.at,
            event: e.event.as_str().to_owned(),
            status: e.state.status().as_str().to_owned(),
            substatus: e.state.substatus_code().to_owned(),
            actor: (&e.actor).into(),
            observation: e.observation.clone(),
            visibility: match e.visibility {
                Visibility::Public => "public",
                Visibility::Internal => "internal",
            }
            .to_owned(),
        }
    }
}

/// A case's history as the caller may read it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryList {
    /// The entries.
    pub items: Vec<HistoryEntryView>,
}

/// The work queue (DOMAIN.md §7), in queue order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    /// The open cases of the office in `submitted`, `assigned`, `escalated` or `transferred`.
    pub items: Vec<CaseView>,
}

/// One page of search option 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// The cases of this page, newest submission first.
    pub items: Vec<CaseView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What one sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SweepView {
    /// Case numbers closed `closed_ex_officio`, ascending.
    pub closed: Vec<String>,
    /// Case numbers sent a `deadline_approaching` reminder, ascending.
    pub reminded: Vec<String>,
}

impl From<&SweepReport> for SweepView {
    fn from(r: &SweepReport) -> SweepView {
        SweepView {
            closed: r.closed.iter().map(ToString::to_string).collect(),
            reminded: r.reminded.iter().map(ToString::to_string).collect(),
        }
    }
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    pub status: String,
}

// ---- catalog --------------------------------------------------------------

/// A document type of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentTypeView {
    /// The code, e.g. `identity`.
    pub code: String,
    /// The Spanish label.
    pub label: String,
}

/// A subcategory of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubcategoryView {
    /// The code.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// Groups of complementary-data codes; at least one of each group is required.
    pub required_data: Vec<Vec<String>>,
    /// Document-type codes required at submission.
    pub required_documents: Vec<String>,
    /// When present, CASIA does not process this topic: the message says where to go.
    pub not_handled: Option<String>,
}

/// A category of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CategoryView {
    /// The code.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// Its subcategories.
    pub subcategories: Vec<SubcategoryView>,
}

/// A materia of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MateriaView {
    /// The code.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// Its categories.
    pub categories: Vec<CategoryView>,
}

/// A case type's documentation deadline policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    /// 1–365.
    pub days: u16,
    /// `calendar` or `business`.
    pub unit: String,
}

/// A case type of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseTypeView {
    /// `inquiry`, `incident` or `procedure`.
    pub code: String,
    /// Consulta, Error/Incidencia or Trámite.
    pub label: String,
    /// Its documentation deadline policy.
    pub deadline: DeadlineView,
    /// Its materias.
    pub materias: Vec<MateriaView>,
}

/// The catalog in use (DOMAIN.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogView {
    /// The document types attachments may have.
    pub document_types: Vec<DocumentTypeView>,
    /// The case types offered.
    pub case_types: Vec<CaseTypeView>,
}

fn subcategory(s: &Subcategory) -> SubcategoryView {
    SubcategoryView {
        code: s.code.clone(),
        label: s.label.clone(),
        required_data: s
            .required_data
            .iter()
            .map(|g| g.iter().map(|f| f.as_str().to_owned()).collect())
            .collect(),
        required_documents: s.required_documents.clone(),
        not_handled: s.not_handled.clone(),
    }
}

fn category(c: &Category) -> CategoryView {
    CategoryView {
        code: c.code.clone(),
        label: c.label.clone(),
        subcategories: c.subcategories.iter().map(subcategory).collect(),
    }
}

fn materia(m: &Materia) -> MateriaView {
    MateriaView {
        code: m.code.clone(),
        label: m.label.clone(),
        categories: m.categories.iter().map(category).collect(),
    }
}

fn case_type(t: &CaseTypeEntry) -> CaseTypeView {
    CaseTypeView {
        code: t.code.as_str().to_owned(),
        label: t.code.label_es().to_owned(),
        deadline: DeadlineView {
            days: t.deadline.days,
            unit: match t.deadline.unit {
                DeadlineUnit::Calendar => "calendar",
                DeadlineUnit::Business => "business",
            }
            .to_owned(),
        },
        materias: t.materias.iter().map(materia).collect(),
    }
}

impl From<&Catalog> for CatalogView {
    fn from(c: &Catalog) -> CatalogView {
        CatalogView {
            document_types: c
                .document_types
                .iter()
                .map(|d: &DocumentType| DocumentTypeView {
                    code: d.code.clone(),
                    label: d.label.clone(),
                })
                .collect(),
            case_types: c.case_types.iter().map(case_type).collect(),
        }
    }
}
