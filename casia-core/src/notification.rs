//! Notification intents (DOMAIN.md §9): what the domain asks to be told to
//! the autorizado. They are written with the change that caused them (outbox)
//! and delivered by an adapter.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::ids::{AuthorizationId, CaseNumber};

/// What a notification tells the autorizado (DOMAIN.md §9); one per notifying command or sweep
/// event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `case_submitted` — a case was filed (alta de caso).
    CaseSubmitted,
    /// `information_requested` — the processor asks for information; carries the deadline and
    /// observation.
    InformationRequested,
    /// `deadline_approaching` — the sweep's one reminder, from the last business day before the
    /// deadline.
    DeadlineApproaching,
    /// `case_resolved` — the case was resolved; carries the resolution.
    CaseResolved,
    /// `case_closed_ex_officio` — the case was closed because the deadline passed; carries the
    /// missed deadline.
    CaseClosedExOfficio,
}

impl NotificationKind {
    /// Every kind, in DOMAIN.md §9 order.
    pub const ALL: [NotificationKind; 5] = [
        NotificationKind::CaseSubmitted,
        NotificationKind::InformationRequested,
        NotificationKind::DeadlineApproaching,
        NotificationKind::CaseResolved,
        NotificationKind::CaseClosedExOfficio,
    ];

    /// The wire code, e.g. `case_submitted`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::CaseSubmitted => "case_submitted",
            NotificationKind::InformationRequested => "information_requested",
            NotificationKind::DeadlineApproaching => "deadline_approaching",
            NotificationKind::CaseResolved => "case_resolved",
            NotificationKind::CaseClosedExOfficio => "case_closed_ex_officio",
        }
    }

    /// Parses a wire code; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One intent: which case, whom (the authorization's contact), what
/// happened and the details the message needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// The case it is about.
    pub case_number: CaseNumber,
    /// Whose contact address receives it.
    pub authorization: AuthorizationId,
    /// When the change that caused it happened (UTC instant).
    pub at: DateTime<Utc>,
    /// The documentation deadline (information requests, reminders and
    /// ex-officio closures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    /// The public observation or resolution text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Notification {
    /// The notification of `kind` about `case` as it stands after the
    /// change (DOMAIN.md §9): the deadline for information requests,
    /// reminders and ex-officio closures; `text` is the public observation
    /// or resolution.
    pub fn about(
        case: &Case,
        kind: NotificationKind,
        at: DateTime<Utc>,
        text: Option<&str>,
    ) -> Notification {
        Notification {
            kind,
            case_number: case.number,
            authorization: case.authorization.clone(),
            at,
            deadline: match kind {
                NotificationKind::InformationRequested
                | NotificationKind::DeadlineApproaching
                | NotificationKind::CaseClosedExOfficio => case.deadline,
                NotificationKind::CaseSubmitted | NotificationKind::CaseResolved => None,
            },
            text: text.map(str::to_owned),
        }
    }
}
