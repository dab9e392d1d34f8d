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
    Submitted,
    DocumentationAdded,
    Cancelled,
    Assigned,
    InformationRequested,
    Escalated,
    Transferred,
    Reclassified,
    Resolved,
    ClosedExOfficio,
    SurveySubmitted,
}

impl HistoryEvent {
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

    pub fn parse(s: &str) -> Option<HistoryEvent> {
        HistoryEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Who may read an entry's observation: escalation and transfer notes are
/// internal (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

/// One history entry; entries are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub event: HistoryEvent,
    /// The case's state after the event.
    #[serde(rename = "substatus")]
    pub state: CaseState,
    pub actor: ActorRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<String>,
    pub visibility: Visibility,
}

/// The user's rating of a resolved case (DOMAIN.md §5 survey rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<SurveyComment>,
    pub at: DateTime<Utc>,
    pub by: UserId,
}

/// A case and everything recorded on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub number: CaseNumber,
    pub case_type: CaseType,
    pub materia: String,
    pub category: String,
    pub subcategory: String,
    #[serde(rename = "substatus")]
    pub state: CaseState,
    /// The office the case is routed to (DOMAIN.md §1 routing).
    pub office: OfficeCode,
    pub assignee: Option<ProcessorId>,
    pub authorization: AuthorizationId,
    pub submitted_by: UserId,
    /// The submitting user's province: its community's holidays count.
    pub province: ProvinceCode,
    pub affects_current_period: bool,
    pub title: Title,
    pub description: Description,
    pub complementary_data: ComplementaryData,
    pub attachments: Vec<Attachment>,
    /// Set while `information_requested`; kept when closed ex officio.
    pub deadline: Option<NaiveDate>,
    /// Whether this information request's reminder went out.
    pub reminder_sent: bool,
    pub submitted_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    pub survey: Option<Survey>,
    pub history: Vec<HistoryEntry>,
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
