//! The case (caso) and what it accumulates: history (DOMAIN.md §7),
//! attachments (§6), survey (§5), receipt (§8), version (§10).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, ActorRef, Role};
pub use crate::attachment::Attachment;
use crate::catalog::CaseType;
use crate::complementary::ComplementaryData;
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode, ProcessorId, ProvinceCode, UserId};
use crate::receipt::Receipt;
use crate::status::CaseState;
use crate::text::{Description, Resolution, SurveyComment, Title};

/// The event of a history entry (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryEvent {
    /// `submitted` — the case was filed (always the first entry).
    Submitted,
    /// `documentation_added` — the user added documents or a comment.
    DocumentationAdded,
    /// `cancelled` — the user cancelled the case (Anulado).
    Cancelled,
    /// `assigned` — a processor took the case or was given it.
    Assigned,
    /// `information_requested` — the assigned processor asked for information; a deadline runs.
    InformationRequested,
    /// `escalated` — internal TGSS handling; the note is internal.
    Escalated,
    /// `transferred` — moved to another office; the note is internal.
    Transferred,
    /// `reclassified` — new materia/category/subcategory within the same case type.
    Reclassified,
    /// `resolved` — the assigned processor answered (Resuelto).
    Resolved,
    /// `closed_ex_officio` — closed because the information deadline passed (De oficio).
    ClosedExOfficio,
    /// `survey_submitted` — the user rated the resolved case.
    SurveySubmitted,
}

impl HistoryEvent {
    /// Every event, in the order DOMAIN.md §7 lists them.
    pub const ALL: [HistoryEvent; 11] = [
        HistoryEvent::Submitted,
        HistoryEvent::DocumentationAdded,
        HistoryEvent::Cancelled,
        HistoryEvent::Assigned,
        HistoryEvent::InformationRequested,
        HistoryEvent::Escalated,
        HistoryEvent::Transferred,
        HistoryEvent::Reclassified,
        HistoryEvent::Resolved,
        HistoryEvent::ClosedExOfficio,
        HistoryEvent::SurveySubmitted,
    ];

    /// The wire code, e.g. `documentation_added`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryEvent::Submitted => "submitted",
            HistoryEvent::DocumentationAdded => "documentation_added",
            HistoryEvent::Cancelled => "cancelled",
            HistoryEvent::Assigned => "assigned",
            HistoryEvent::InformationRequested => "information_requested",
            HistoryEvent::Escalated => "escalated",
            HistoryEvent::Transferred => "transferred",
            HistoryEvent::Reclassified => "reclassified",
            HistoryEvent::Resolved => "resolved",
            HistoryEvent::ClosedExOfficio => "closed_ex_officio",
            HistoryEvent::SurveySubmitted => "survey_submitted",
        }
    }

    /// Parses a wire code; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<HistoryEvent> {
        HistoryEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Who may read an entry's observation: escalation and transfer notes are
/// internal (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// `public` — every party that sees the case reads the observation.
    Public,
    /// `internal` — users see the entry without its observation (escalation and transfer notes).
    Internal,
}

/// One history entry; entries are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the event happened (UTC instant).
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: HistoryEvent,
    /// The case's state after the event.
    #[serde(rename = "substatus")]
    pub state: CaseState,
    /// Who ran the command (the system for a sweep's closure).
    pub actor: ActorRef,
    /// The entry's text (comment, reason, observation, note, resolution), when the command carried
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<String>,
    /// Whether users may read the observation.
    pub visibility: Visibility,
}

/// The user's rating of a resolved case (DOMAIN.md §5 survey rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    /// The rating, 1–5.
    pub rating: u8,
    /// The optional comment, at most 1000 characters after trimming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<SurveyComment>,
    /// When the survey was recorded (UTC instant).
    pub at: DateTime<Utc>,
    /// The user who rated.
    pub by: UserId,
}

/// A case and everything recorded on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The case number `YYYY-NNNNNNNN`.
    pub number: CaseNumber,
    /// The case type (tipo de caso); never changes, not even on `reclassify`.
    pub case_type: CaseType,
    /// The materia code of the classification (DOMAIN.md §2).
    pub materia: String,
    /// The category code of the classification.
    pub category: String,
    /// The subcategory code of the classification.
    pub subcategory: String,
    /// The status and substatus (DOMAIN.md §3); serialised as the substatus code.
    #[serde(rename = "substatus")]
    pub state: CaseState,
    /// The office the case is routed to (DOMAIN.md §1 routing).
    pub office: OfficeCode,
    /// The assigned processor, if any; cleared by `transfer`.
    pub assignee: Option<ProcessorId>,
    /// The autorizado RED the case belongs to; every user of it sees the case.
    pub authorization: AuthorizationId,
    /// The user who submitted the case.
    pub submitted_by: UserId,
    /// The submitting user's province: its community's holidays count.
    pub province: ProvinceCode,
    /// Whether the case affects the filing period in progress; such cases go first in the work
    /// queue (DOMAIN.md §7).
    pub affects_current_period: bool,
    /// The title, 1–150 characters after trimming.
    pub title: Title,
    /// The description, 1–4000 characters after trimming.
    pub description: Description,
    /// The datos complementarios, stored normalised (DOMAIN.md §4).
    pub complementary_data: ComplementaryData,
    /// The attachments' metadata, in the order they were added (the bytes are
    /// read with [`crate::ports::CaseRepository::attachment_content`]).
    pub attachments: Vec<Attachment>,
    /// Set while `information_requested`; kept when closed ex officio.
    pub deadline: Option<NaiveDate>,
    /// Whether this information request's reminder went out.
    pub reminder_sent: bool,
    /// The submission instant (UTC); its Madrid date is what searches compare.
    pub submitted_at: DateTime<Utc>,
    /// When the case was closed (UTC); `None` while open.
    pub closed_at: Option<DateTime<Utc>>,
    /// The processor's public answer, once resolved.
    pub resolution: Option<Resolution>,
    /// The user's survey, once recorded on a resolved case.
    pub survey: Option<Survey>,
    /// Every history entry, oldest first; the first is `submitted`.
    pub history: Vec<HistoryEntry>,
    /// The Justificante de Apertura issued at submission (DOMAIN.md §8).
    pub receipt: Receipt,
    /// Grows by one with every write (DOMAIN.md §10).
    pub version: u64,
}

impl Case {
    /// DOMAIN.md §1 visibility: users see their authorization's cases,
    /// processors their office's, the system every case.
    pub fn is_visible_to(&self, actor: &Actor) -> bool {
        match actor {
            Actor::User { authorization, .. } => *authorization == self.authorization,
            Actor::Processor { office, .. } => *office == self.office,
            Actor::System => true,
        }
    }

    /// The history as `actor` may read it: users get internal entries
    /// without their note.
    pub fn history_for(&self, actor: &Actor) -> Vec<HistoryEntry> {
        self.history
            .iter()
            .map(|e| redact(e, actor.role()))
            .collect()
    }

    /// The case as `actor` may read it (internal notes removed for users).
    pub fn redacted_for(mut self, actor: &Actor) -> Case {
        if actor.role() == Role::User {
            for e in &mut self.history {
                if e.visibility == Visibility::Internal {
                    e.observation = None;
                }
            }
        }
        self
    }

    /// The total size of the case's attachments, in bytes (for the `total_too_large` limit,
    /// DOMAIN.md §6).
    pub fn total_attachment_bytes(&self) -> u64 {
        self.attachments.iter().map(|a| a.size).sum()
    }
}

fn redact(entry: &HistoryEntry, role: Role) -> HistoryEntry {
    let mut e = entry.clone();
    if role == Role::User && e.visibility == Visibility::Internal {
        e.observation = None;
    }
    e
}
