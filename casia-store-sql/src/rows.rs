//! Row types in plain column types, and their mapping to and from the
//! core's types. The domain types stay free of sqlx; reading a row parses
//! every field with the core's own parsers, so a row the code cannot
//! understand is `StoreError::Corrupt` naming its case, never a panic.

use bytes::Bytes;

use chrono::{DateTime, NaiveDate, Utc};

use casia_core::actor::{ActorRef, Role};
use casia_core::attachment::AcceptedAttachment;
use casia_core::attachment::format::AttachmentFormat;
use casia_core::case::Survey;
use casia_core::catalog::CaseType;
use casia_core::complementary::ComplementaryData;
use casia_core::ids::{AuthorizationId, CaseNumber, ProcessorId, ProvinceCode, UserId};
use casia_core::notification::{Notification, NotificationKind};
use casia_core::ports::{DeliveryState, OutboxMessage};
use casia_core::receipt::Receipt;
use casia_core::status::CaseState;
use casia_core::text::{AttachmentTitle, Description, Resolution, SurveyComment, Title};
use casia_core::{Attachment, Case, HistoryEntry, HistoryEvent, StoreError, Visibility};

use crate::columns::row_type;

row_type! {
    /// One `cases` row.
    pub struct CaseRow in "cases" {
        number: String,
        case_type: String,
        materia: String,
        category: String,
        subcategory: String,
        substatus: String,
        office: String,
        assignee: Option<String>,
        authorization_id: String,
        submitted_by: String,
        province: String,
        affects_current_period: bool,
        title: String,
        description: String,
        complementary_data: String,
        deadline: Option<String>,
        reminder_sent: bool,
        submitted_at: i64,
        closed_at: Option<i64>,
        resolution: Option<String>,
        receipt: String,
        verification_code: String,
        version: i64,
    }
}

row_type! {
    /// One `history` row; `seq` is the entry's 0-based position.
    pub struct HistoryRow in "history" {
        case_number: String,
        seq: i64,
        at: i64,
        event: String,
        substatus: String,
        actor_role: String,
        actor_id: Option<String>,
        observation: Option<String>,
        visibility: String,
    }
}

row_type! {
    /// One `attachments` row (metadata only).
    pub struct AttachmentRow in "attachments" {
        case_number: String,
        id: i64,
        document_type: String,
        title: String,
        file_name: String,
        media_type: String,
        size: i64,
        sha256: String,
        added_at: i64,
        added_by_role: String,
        added_by_id: Option<String>,
    }
}

row_type! {
    /// One `attachment_contents` row: the bytes of an attachment.
    pub struct ContentRow in "attachment_contents" {
        case_number: String,
        attachment_id: i64,
        content: Vec<u8>,
    }
}

row_type! {
    /// One `surveys` row.
    pub struct SurveyRow in "surveys" {
        case_number: String,
        rating: i64,
        comment: Option<String>,
        at: i64,
        by_user: String,
    }
}

row_type! {
    /// One `outbox` row.
    pub struct OutboxRow in "outbox" {
        id: i64,
        kind: String,
        case_number: String,
        authorization_id: String,
        at: i64,
        deadline: Option<String>,
        message_text: Option<String>,
        delivered: bool,
        attempts: i64,
        dead: bool,
        next_attempt_at: Option<i64>,
        held_until: Option<i64>,
        last_error: Option<String>,
        recipient: Option<String>,
        delivered_at: Option<i64>,
    }
}

row_type! {
    /// A notification as the columns of an `outbox` insert (pending, no
    /// attempt yet: the other columns take their defaults).
    pub struct NewOutboxRow in "outbox" {
        kind: String,
        case_number: String,
        authorization_id: String,
        at: i64,
        deadline: Option<String>,
        message_text: Option<String>,
    }
}

row_type! {
    /// One `idempotency_keys` row (issue 16).
    pub struct IdempotencyRow in "idempotency_keys" {
        authorization_id: String,
        user_id: String,
        key: String,
        fingerprint: String,
        case_number: Option<String>,
        created_at: i64,
        reserved_until: i64,
    }
}

row_type! {
    /// One `contacts` row.
    pub struct ContactRow in "contacts" {
        authorization_id: String,
        email: String,
    }
}

// ---------------------------------------------------------------- writing

/// Instants are stored as microseconds since the epoch: exact and ordered.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Dates are stored as ISO `YYYY-MM-DD` text: readable and ordered.
pub fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn to_i64(value: u64, what: &str, case: &CaseNumber) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::backend(format!("{what} of case {case} exceeds the SQL range")))
}

fn json<T: serde::Serialize>(
    value: &T,
    what: &str,
    case: &CaseNumber,
) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::backend_caused(format!("cannot encode {what} of case {case}"), e))
}

impl CaseRow {
    /// The row of `case`.
    ///
    /// # Errors
    /// A backend error when the version exceeds the SQL range or a JSON
    /// column cannot be encoded.
    pub fn from_case(case: &Case) -> Result<CaseRow, StoreError> {
        let n = &case.number;
        Ok(CaseRow {
            number: n.to_string(),
            case_type: case.case_type.as_str().to_owned(),
            materia: case.materia.clone(),
            category: case.category.clone(),
            subcategory: case.subcategory.clone(),
            substatus: case.state.substatus_code().to_owned(),
            office: case.office.code(),
            assignee: case.assignee.as_ref().map(|p| p.as_str().to_owned()),
            authorization_id: case.authorization.as_str().to_owned(),
            submitted_by: case.submitted_by.as_str().to_owned(),
            province: case.province.code(),
            affects_current_period: case.affects_current_period,
            title: case.title.as_str().to_owned(),
            description: case.description.as_str().to_owned(),
            complementary_data: json(&case.complementary_data, "complementary data", n)?,
            deadline: case.deadline.map(iso_date),
            reminder_sent: case.reminder_sent,
            submitted_at: micros(case.submitted_at),
            closed_at: case.closed_at.map(micros),
            resolution: case.resolution.as_ref().map(|r| r.as_str().to_owned()),
            receipt: json(&case.receipt, "receipt", n)?,
            verification_code: case.receipt.verification_code.clone(),
            version: to_i64(case.version, "version", n)?,
        })
    }
}

impl HistoryRow {
    /// The entry at 0-based position `seq` of `case`'s history.
    pub fn from_entry(case: &CaseNumber, seq: usize, e: &HistoryEntry) -> HistoryRow {
        HistoryRow {
            case_number: case.to_string(),
            seq: i64::try_from(seq).unwrap_or(i64::MAX),
            at: micros(e.at),
            event: e.event.as_str().to_owned(),
            substatus: e.state.substatus_code().to_owned(),
            actor_role: e.actor.role.as_str().to_owned(),
            actor_id: e.actor.id.clone(),
            observation: e.observation.clone(),
            visibility: visibility_code(e.visibility).to_owned(),
        }
    }
}

impl AttachmentRow {
    /// The row of attachment `a` of case `case`.
    ///
    /// # Errors
    /// A backend error when the size exceeds the SQL range.
    pub fn from_meta(case: &CaseNumber, a: &Attachment) -> Result<AttachmentRow, StoreError> {
        Ok(AttachmentRow {
            case_number: case.to_string(),
            id: i64::from(a.id),
            document_type: a.document_type.clone(),
            title: a.title.as_str().to_owned(),
            file_name: a.file_name.clone(),
            media_type: a.format.media_type().to_owned(),
            size: to_i64(a.size, "attachment size", case)?,
            sha256: a.sha256.clone(),
            added_at: micros(a.added_at),
            added_by_role: a.added_by.role.as_str().to_owned(),
            added_by_id: a.added_by.id.clone(),
        })
    }
}

impl SurveyRow {
    /// The row of the survey `s` of case `case`.
    pub fn from_survey(case: &CaseNumber, s: &Survey) -> SurveyRow {
        SurveyRow {
            case_number: case.to_string(),
            rating: i64::from(s.rating),
            comment: s.comment.as_ref().map(|c| c.as_str().to_owned()),
            at: micros(s.at),
            by_user: s.by.as_str().to_owned(),
        }
    }
}

impl NewOutboxRow {
    /// The pending outbox row of a notification.
    pub fn from_notification(n: &Notification) -> NewOutboxRow {
        NewOutboxRow {
            kind: n.kind.as_str().to_owned(),
            case_number: n.case_number.to_string(),
            authorization_id: n.authorization.as_str().to_owned(),
            at: micros(n.at),
            deadline: n.deadline.map(iso_date),
            message_text: n.text.clone(),
        }
    }
}

/// An attachment row and its bytes.
pub(crate) type RowWithContent = (AttachmentRow, Bytes);

/// The attachments of a write, with their bytes.
pub(crate) fn attachment_rows(
    case: &CaseNumber,
    accepted: &[AcceptedAttachment],
) -> Result<Vec<RowWithContent>, StoreError> {
    accepted
        .iter()
        .map(|a| Ok((AttachmentRow::from_meta(case, &a.meta)?, a.content.clone())))
        .collect()
}

fn visibility_code(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Internal => "internal",
    }
}

// ---------------------------------------------------------------- reading

/// Builds `StoreError::Corrupt` for the case `case`.
pub(crate) fn corrupt(case: &str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        case: case.to_owned(),
        detail: detail.into(),
    }
}

/// Parses one column, naming the case and the column on failure.
fn field<T>(case: &str, column: &str, raw: &str, parsed: Option<T>) -> Result<T, StoreError> {
    parsed.ok_or_else(|| corrupt(case, format!("unreadable {column} {raw:?}")))
}

fn instant(case: &str, column: &str, micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| corrupt(case, format!("unreadable {column} {micros}")))
}

fn date(case: &str, column: &str, raw: &str) -> Result<NaiveDate, StoreError> {
    field(
        case,
        column,
        raw,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok(),
    )
}

fn role(case: &str, column: &str, raw: &str) -> Result<Role, StoreError> {
    let parsed = [Role::User, Role::Processor, Role::System]
        .into_iter()
        .find(|r| r.as_str() == raw);
    field(case, column, raw, parsed)
}

fn actor(
    case: &str,
    column: &str,
    raw_role: &str,
    id: Option<String>,
) -> Result<ActorRef, StoreError> {
    Ok(ActorRef {
        role: role(case, column, raw_role)?,
        id,
    })
}

fn visibility(case: &str, raw: &str) -> Result<Visibility, StoreError> {
    let parsed = [Visibility::Public, Visibility::Internal]
        .into_iter()
        .find(|v| visibility_code(*v) == raw);
    field(case, "visibility", raw, parsed)
}

fn state(case: &str, raw: &str) -> Result<CaseState, StoreError> {
    field(case, "substatus", raw, CaseState::from_substatus_code(raw))
}

fn unsigned<T: TryFrom<i64>>(case: &str, column: &str, value: i64) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| corrupt(case, format!("unreadable {column} {value}")))
}

impl HistoryRow {
    fn into_entry(self) -> Result<HistoryEntry, StoreError> {
        let c = self.case_number.as_str();
        Ok(HistoryEntry {
            at: instant(c, "history instant", self.at)?,
            event: field(
                c,
                "history event",
                &self.event,
                HistoryEvent::parse(&self.event),
            )?,
            state: state(c, &self.substatus)?,
            actor: actor(c, "history actor", &self.actor_role, self.actor_id)?,
            observation: self.observation,
            visibility: visibility(c, &self.visibility)?,
        })
    }
}

impl AttachmentRow {
    fn into_attachment(self) -> Result<Attachment, StoreError> {
        let c = self.case_number.as_str();
        Ok(Attachment {
            id: unsigned(c, "attachment id", self.id)?,
            title: field(
                c,
                "attachment title",
                &self.title,
                AttachmentTitle::parse(&self.title),
            )?,
            format: field(
                c,
                "attachment media type",
                &self.media_type,
                AttachmentFormat::from_media_type(&self.media_type),
            )?,
            size: unsigned(c, "attachment size", self.size)?,
            added_at: instant(c, "attachment instant", self.added_at)?,
            added_by: actor(c, "attachment actor", &self.added_by_role, self.added_by_id)?,
            document_type: self.document_type,
            file_name: self.file_name,
            sha256: self.sha256,
        })
    }
}

impl SurveyRow {
    fn into_survey(self) -> Result<Survey, StoreError> {
        let c = self.case_number.as_str();
        let comment = match self.comment {
            None => None,
            Some(text) => Some(field(
                c,
                "survey comment",
                &text,
                SurveyComment::parse(&text),
            )?),
        };
        Ok(Survey {
            rating: unsigned(c, "survey rating", self.rating)?,
            comment,
            at: instant(c, "survey instant", self.at)?,
            by: field(
                c,
                "survey user",
                &self.by_user,
                UserId::parse(&self.by_user).ok(),
            )?,
        })
    }
}

/// Assembles a case from its row and its rows in the other tables (each
/// ordered by position). Every field is parsed; the first failure names
/// the case.
pub(crate) fn assemble(
    row: CaseRow,
    history: Vec<HistoryRow>,
    attachments: Vec<AttachmentRow>,
    survey: Option<SurveyRow>,
) -> Result<Case, StoreError> {
    let c = row.number.clone();
    let c = c.as_str();
    let number = field(c, "number", c, CaseNumber::parse(c).ok())?;
    let complementary_data: ComplementaryData = serde_json::from_str(&row.complementary_data)
        .map_err(|e| corrupt(c, format!("unreadable complementary data: {e}")))?;
    let receipt: Receipt = serde_json::from_str(&row.receipt)
        .map_err(|e| corrupt(c, format!("unreadable receipt: {e}")))?;
    let resolution = match &row.resolution {
        None => None,
        Some(text) => Some(field(c, "resolution", text, Resolution::parse(text))?),
    };
    let deadline = match &row.deadline {
        None => None,
        Some(raw) => Some(date(c, "deadline", raw)?),
    };
    let assignee = match &row.assignee {
        None => None,
        Some(raw) => Some(field(c, "assignee", raw, ProcessorId::parse(raw).ok())?),
    };
    let closed_at = match row.closed_at {
        None => None,
        Some(m) => Some(instant(c, "closed_at", m)?),
    };
    Ok(Case {
        number,
        case_type: field(
            c,
            "case_type",
            &row.case_type,
            CaseType::parse(&row.case_type),
        )?,
        state: state(c, &row.substatus)?,
        office: field(
            c,
            "office",
            &row.office,
            ProvinceCode::parse(&row.office).ok(),
        )?,
        assignee,
        authorization: field(
            c,
            "authorization",
            &row.authorization_id,
            AuthorizationId::parse(&row.authorization_id).ok(),
        )?,
        submitted_by: field(
            c,
            "submitted_by",
            &row.submitted_by,
            UserId::parse(&row.submitted_by).ok(),
        )?,
        province: field(
            c,
            "province",
            &row.province,
            ProvinceCode::parse(&row.province).ok(),
        )?,
        affects_current_period: row.affects_current_period,
        title: field(c, "title", &row.title, Title::parse(&row.title))?,
        description: field(
            c,
            "description",
            &row.description,
            Description::parse(&row.description),
        )?,
        complementary_data,
        attachments: attachments
            .into_iter()
            .map(AttachmentRow::into_attachment)
            .collect::<Result<_, _>>()?,
        deadline,
        reminder_sent: row.reminder_sent,
        submitted_at: instant(c, "submitted_at", row.submitted_at)?,
        closed_at,
        resolution,
        survey: survey.map(SurveyRow::into_survey).transpose()?,
        history: history
            .into_iter()
            .map(HistoryRow::into_entry)
            .collect::<Result<_, _>>()?,
        receipt,
        version: unsigned(c, "version", row.version)?,
        materia: row.materia,
        category: row.category,
        subcategory: row.subcategory,
    })
}

impl OutboxRow {
    /// The message of this row.
    ///
    /// # Errors
    /// `Corrupt` naming the case when a column cannot be read.
    pub fn into_message(self) -> Result<OutboxMessage, StoreError> {
        let c = self.case_number.as_str();
        let deadline = match &self.deadline {
            None => None,
            Some(raw) => Some(date(c, "outbox deadline", raw)?),
        };
        let state = match (self.delivered, self.dead) {
            (false, false) => DeliveryState::Pending,
            (true, false) => DeliveryState::Delivered,
            (false, true) => DeliveryState::Dead,
            (true, true) => return Err(corrupt(c, "outbox message both delivered and dead")),
        };
        let optional_instant = |what: &str, raw: Option<i64>| -> Result<_, StoreError> {
            raw.map(|v| instant(c, what, v)).transpose()
        };
        Ok(OutboxMessage {
            id: unsigned(c, "outbox id", self.id)?,
            notification: Notification {
                kind: field(
                    c,
                    "outbox kind",
                    &self.kind,
                    NotificationKind::parse(&self.kind),
                )?,
                case_number: field(c, "outbox case", c, CaseNumber::parse(c).ok())?,
                authorization: field(
                    c,
                    "outbox authorization",
                    &self.authorization_id,
                    AuthorizationId::parse(&self.authorization_id).ok(),
                )?,
                at: instant(c, "outbox instant", self.at)?,
                deadline,
                text: self.message_text,
            },
            state,
            attempts: unsigned(c, "outbox attempts", self.attempts)?,
            next_attempt_at: optional_instant("outbox next attempt", self.next_attempt_at)?,
            held_until: optional_instant("outbox lease", self.held_until)?,
            last_error: self.last_error,
            recipient: self.recipient,
            delivered_at: optional_instant("outbox delivery instant", self.delivered_at)?,
        })
    }
}

impl IdempotencyRow {
    /// The row of `claim` holding `record`.
    pub fn of(
        claim: &casia_core::idempotency::IdempotencyClaim,
        record: &casia_core::idempotency::KeyRecord,
    ) -> IdempotencyRow {
        IdempotencyRow {
            authorization_id: claim.authorization.as_str().to_owned(),
            user_id: claim.user.as_str().to_owned(),
            key: claim.key.as_str().to_owned(),
            fingerprint: record.fingerprint.clone(),
            case_number: record.case.map(|n| n.to_string()),
            created_at: micros(record.created_at),
            reserved_until: micros(record.reserved_until),
        }
    }

    /// The record this row holds.
    ///
    /// # Errors
    /// `Corrupt` naming the key's case (or the key) when a column cannot be
    /// read.
    pub fn into_record(self) -> Result<casia_core::idempotency::KeyRecord, StoreError> {
        let case = self.case_number.clone().unwrap_or_else(|| self.key.clone());
        Ok(casia_core::idempotency::KeyRecord {
            case: match &self.case_number {
                None => None,
                Some(raw) => Some(field(
                    &case,
                    "idempotency case",
                    raw,
                    CaseNumber::parse(raw).ok(),
                )?),
            },
            created_at: instant(&case, "idempotency instant", self.created_at)?,
            reserved_until: instant(&case, "idempotency lease", self.reserved_until)?,
            fingerprint: self.fingerprint,
        })
    }
}
