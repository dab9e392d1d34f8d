//! Commands on an existing case (DOMAIN.md §5): who may run each, from which
//! substates, and what each does. [`TRANSITIONS`] is the table of §5 as data;
//! [`decide`] applies the checks in the order of §5 and computes the change.

use chrono::{DateTime, Days, Utc};

use crate::actor::Actor;
use crate::attachment::{AcceptedAttachment, NewAttachment, accept_attachments};
use crate::calendar::madrid_date;
use crate::case::{Case, HistoryEntry, HistoryEvent, Survey, Visibility};
use crate::deadline::{deadline_date, is_overdue, is_reminder_due};
use crate::error::CasiaError;
use crate::ids::{ProcessorId, ProvinceCode};
use crate::notification::{Notification, NotificationKind};
use crate::rules::CaseRules;
use crate::status::{CaseState, ClosedSubstatus, OpenSubstatus};
use crate::text::{Comment, Note, Observation, Reason, Resolution, SurveyComment};

/// A command on an existing case, with its raw input (validated last, as §5
/// orders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `add_documentation` (user of the case's authorization, any open substatus): adds attachments
    /// and/or a comment; answers an information request.
    AddDocumentation {
        /// Optional comment, 1–4000 characters after trimming (public).
        comment: Option<String>,
        /// Files to attach, checked as DOMAIN.md §6 orders; at least one of these or a comment.
        attachments: Vec<NewAttachment>,
    },
    /// `cancel` (user of the case's authorization, any open substatus) → `cancelled` (Anulado).
    Cancel {
        /// Optional reason, at most 1000 characters after trimming.
        reason: Option<String>,
    },
    /// `assign` (processor of the case's office; from `submitted`, `assigned`, `escalated`,
    /// `transferred`) → `assigned`.
    Assign {
        /// Target processor; `None` → the actor.
        processor: Option<String>,
    },
    /// `request_information` (the assigned processor; from `assigned`) → `information_requested`;
    /// sets the deadline.
    RequestInformation {
        /// What is asked for, 1–4000 characters after trimming; public and sent in the
        /// notification.
        observation: String,
    },
    /// `escalate` (the assigned processor; from `assigned`) → `escalated`; the assignee stays.
    Escalate {
        /// Internal note, 1–4000 characters after trimming; users never see it.
        note: String,
    },
    /// `transfer` (processor of the case's office; from `submitted`, `assigned`, `escalated`) →
    /// `transferred`; clears the assignee.
    Transfer {
        /// Target office, a two-digit province code other than the current one.
        office: String,
        /// Optional internal note, at most 4000 characters after trimming.
        note: Option<String>,
    },
    /// `reclassify` (processor of the case's office, any open substatus): new
    /// materia/category/subcategory of the same case type; required data and documents are not
    /// demanded.
    Reclassify {
        /// New materia code.
        materia: String,
        /// New category code.
        category: String,
        /// New subcategory code; must exist and be handled.
        subcategory: String,
    },
    /// `resolve` (the assigned processor; from `assigned`, `information_requested`) → `resolved`
    /// (Resuelto).
    Resolve {
        /// The answer, 1–8000 characters after trimming; public.
        resolution: String,
    },
    /// `close_ex_officio` (system; from an overdue `information_requested`) → `closed_ex_officio`
    /// (De oficio).
    CloseExOfficio,
    /// `survey` (user of the case's authorization; `resolved` only, within 30 Madrid days of the
    /// resolution).
    Survey {
        /// Rating 1–5; anything else is `invalid_field` naming `rating`.
        rating: i64,
        /// Optional comment, at most 1000 characters after trimming.
        comment: Option<String>,
    },
}

/// The command names of §5, for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// `add_documentation`.
    AddDocumentation,
    /// `cancel`.
    Cancel,
    /// `assign`.
    Assign,
    /// `request_information`.
    RequestInformation,
    /// `escalate`.
    Escalate,
    /// `transfer`.
    Transfer,
    /// `reclassify`.
    Reclassify,
    /// `resolve`.
    Resolve,
    /// `close_ex_officio`.
    CloseExOfficio,
    /// `survey`.
    Survey,
}

impl CommandKind {
    /// Every command, in the order of §5's table (and of [`TRANSITIONS`]).
    pub const ALL: [CommandKind; 10] = [
        CommandKind::AddDocumentation,
        CommandKind::Cancel,
        CommandKind::Assign,
        CommandKind::RequestInformation,
        CommandKind::Escalate,
        CommandKind::Transfer,
        CommandKind::Reclassify,
        CommandKind::Resolve,
        CommandKind::CloseExOfficio,
        CommandKind::Survey,
    ];

    /// The wire name (`add_documentation`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::AddDocumentation => "add_documentation",
            CommandKind::Cancel => "cancel",
            CommandKind::Assign => "assign",
            CommandKind::RequestInformation => "request_information",
            CommandKind::Escalate => "escalate",
            CommandKind::Transfer => "transfer",
            CommandKind::Reclassify => "reclassify",
            CommandKind::Resolve => "resolve",
            CommandKind::CloseExOfficio => "close_ex_officio",
            CommandKind::Survey => "survey",
        }
    }
}

impl Command {
    /// Which row of [`TRANSITIONS`] this command follows.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::AddDocumentation { .. } => CommandKind::AddDocumentation,
            Command::Cancel { .. } => CommandKind::Cancel,
            Command::Assign { .. } => CommandKind::Assign,
            Command::RequestInformation { .. } => CommandKind::RequestInformation,
            Command::Escalate { .. } => CommandKind::Escalate,
            Command::Transfer { .. } => CommandKind::Transfer,
            Command::Reclassify { .. } => CommandKind::Reclassify,
            Command::Resolve { .. } => CommandKind::Resolve,
            Command::CloseExOfficio => CommandKind::CloseExOfficio,
            Command::Survey { .. } => CommandKind::Survey,
        }
    }
}

/// Who may run a command (the "actor" column of §5). Visibility has already
/// restricted users to the case's authorization and processors to its office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A user of the case's authorization.
    CaseUser,
    /// A processor of the case's office.
    OfficeProcessor,
    /// The processor the case is assigned to (none when unassigned).
    AssignedProcessor,
    /// The service itself (the deadline sweep).
    System,
}

/// The substates a command starts from (the "from" column of §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Any open substate.
    AnyOpen,
    /// These open substates only.
    Only(&'static [OpenSubstatus]),
    /// Survey: resolved cases only (the survey rule of §5).
    Resolved,
}

/// Where a command leaves the case (the "to" column of §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The substate it was in.
    Same,
    /// add_documentation: the same substate, but `information_requested` →
    /// `assigned`.
    SameOrAssignedAfterRequest,
    /// This open substatus.
    Open(OpenSubstatus),
    /// This closed substatus.
    Closed(ClosedSubstatus),
}

/// What a command does to the documentation deadline (DOMAIN.md §5:
/// "set while the case is `information_requested`, kept on a case closed
/// `closed_ex_officio`, and `null` otherwise"). Setting or clearing it also
/// resets the reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineEffect {
    /// Computed from the request's Madrid date, the case type's policy and
    /// the case's calendar (§5 "The documentation deadline rule").
    Set,
    /// Removed.
    Clear,
    /// Left as it is (a reclassified information request keeps its
    /// deadline; a case closed ex officio keeps the one it missed).
    Keep,
}

/// One row of DOMAIN.md §5's table, with the effects the row has beyond
/// moving the case: the history entry (§7), its visibility, the
/// notification (§5 "Notifications per command") and the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The command of the row.
    pub command: CommandKind,
    /// Who may run it (else `forbidden`).
    pub who: Who,
    /// The substates it starts from (else `transition_not_allowed`).
    pub from: Origin,
    /// Where it leaves the case.
    pub to: Destination,
    /// The history event it appends.
    pub event: HistoryEvent,
    /// Escalation and transfer notes are internal; everything else public.
    pub visibility: Visibility,
    /// The notification it emits, if any (DOMAIN.md §5 "Notifications per command").
    pub notification: Option<NotificationKind>,
    /// What it does to the documentation deadline.
    pub deadline: DeadlineEffect,
}

use HistoryEvent as E;
use OpenSubstatus::{Assigned, Escalated, InformationRequested, Submitted, Transferred};
use Visibility::{Internal, Public};

/// DOMAIN.md §5, line by line, in [`CommandKind::ALL`] order: a row
/// missing, extra or out of place does not compile.
pub const TRANSITIONS: [Transition; CommandKind::ALL.len()] = [
    Transition {
        command: CommandKind::AddDocumentation,
        who: Who::CaseUser,
        from: Origin::AnyOpen,
        to: Destination::SameOrAssignedAfterRequest,
        event: E::DocumentationAdded,
        visibility: Public,
        notification: None,
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::Cancel,
        who: Who::CaseUser,
        from: Origin::AnyOpen,
        to: Destination::Closed(ClosedSubstatus::Cancelled),
        event: E::Cancelled,
        visibility: Public,
        notification: None,
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::Assign,
        who: Who::OfficeProcessor,
        from: Origin::Only(&[Submitted, Assigned, Escalated, Transferred]),
        to: Destination::Open(Assigned),
        event: E::Assigned,
        visibility: Public,
        notification: None,
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::RequestInformation,
        who: Who::AssignedProcessor,
        from: Origin::Only(&[Assigned]),
        to: Destination::Open(InformationRequested),
        event: E::InformationRequested,
        visibility: Public,
        notification: Some(NotificationKind::InformationRequested),
        deadline: DeadlineEffect::Set,
    },
    Transition {
        command: CommandKind::Escalate,
        who: Who::AssignedProcessor,
        from: Origin::Only(&[Assigned]),
        to: Destination::Open(Escalated),
        event: E::Escalated,
        visibility: Internal,
        notification: None,
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::Transfer,
        who: Who::OfficeProcessor,
        from: Origin::Only(&[Submitted, Assigned, Escalated]),
        to: Destination::Open(Transferred),
        event: E::Transferred,
        visibility: Internal,
        notification: None,
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::Reclassify,
        who: Who::OfficeProcessor,
        from: Origin::AnyOpen,
        to: Destination::Same,
        event: E::Reclassified,
        visibility: Public,
        notification: None,
        deadline: DeadlineEffect::Keep,
    },
    Transition {
        command: CommandKind::Resolve,
        who: Who::AssignedProcessor,
        from: Origin::Only(&[Assigned, InformationRequested]),
        to: Destination::Closed(ClosedSubstatus::Resolved),
        event: E::Resolved,
        visibility: Public,
        notification: Some(NotificationKind::CaseResolved),
        deadline: DeadlineEffect::Clear,
    },
    Transition {
        command: CommandKind::CloseExOfficio,
        who: Who::System,
        from: Origin::Only(&[InformationRequested]),
        to: Destination::Closed(ClosedSubstatus::ClosedExOfficio),
        event: E::ClosedExOfficio,
        visibility: Public,
        notification: Some(NotificationKind::CaseClosedExOfficio),
        deadline: DeadlineEffect::Keep,
    },
    Transition {
        command: CommandKind::Survey,
        who: Who::CaseUser,
        from: Origin::Resolved,
        to: Destination::Same,
        event: E::SurveySubmitted,
        visibility: Public,
        notification: None,
        deadline: DeadlineEffect::Keep,
    },
];

// Each row sits at its command's position, so the lookup is an index.
const _: () = {
    let mut i = 0;
    while i < TRANSITIONS.len() {
        assert!(
            TRANSITIONS[i].command as usize == i,
            "TRANSITIONS must list the commands in CommandKind order"
        );
        i += 1;
    }
};

/// The row of the table for a command.
///
/// # Examples
///
/// ```rust
/// use casia_core::command::{CommandKind, DeadlineEffect, Who, transition};
/// use casia_core::status::{CaseState, ClosedSubstatus, OpenSubstatus};
/// use casia_core::NotificationKind;
///
/// let row = transition(CommandKind::RequestInformation);
/// assert_eq!(row.who, Who::AssignedProcessor);
/// assert!(row.from.admits(CaseState::Open(OpenSubstatus::Assigned)));
/// assert!(!row.from.admits(CaseState::Open(OpenSubstatus::Submitted)));
/// assert_eq!(
///     row.to.after(CaseState::Open(OpenSubstatus::Assigned)),
///     CaseState::Open(OpenSubstatus::InformationRequested)
/// );
/// assert_eq!(row.notification, Some(NotificationKind::InformationRequested));
/// assert_eq!(row.deadline, DeadlineEffect::Set);
///
/// // A survey is the one command a closed (resolved) case accepts.
/// let survey = transition(CommandKind::Survey);
/// assert!(survey.from.admits(CaseState::Closed(ClosedSubstatus::Resolved)));
/// assert!(!survey.from.admits(CaseState::Closed(ClosedSubstatus::Cancelled)));
/// ```
pub fn transition(kind: CommandKind) -> &'static Transition {
    &TRANSITIONS[kind as usize]
}

impl Who {
    /// Whether `actor` fills this role on `case` (after visibility).
    pub fn admits(self, actor: &Actor, case: &Case) -> bool {
        match (self, actor) {
            (Who::CaseUser, Actor::User { .. }) => true,
            (Who::OfficeProcessor, Actor::Processor { .. }) => true,
            (Who::AssignedProcessor, Actor::Processor { processor, .. }) => {
                case.assignee.as_ref() == Some(processor)
            }
            (Who::System, Actor::System) => true,
            _ => false,
        }
    }
}

impl Origin {
    /// Whether a command may start from `state`.
    pub fn admits(self, state: CaseState) -> bool {
        match (self, state) {
            (Origin::AnyOpen, CaseState::Open(_)) => true,
            (Origin::Only(list), CaseState::Open(s)) => list.contains(&s),
            (Origin::Resolved, CaseState::Closed(ClosedSubstatus::Resolved)) => true,
            _ => false,
        }
    }
}

impl Destination {
    /// The state after the command, from the state before.
    pub fn after(self, current: CaseState) -> CaseState {
        match self {
            Destination::Same => current,
            Destination::SameOrAssignedAfterRequest => match current {
                CaseState::Open(InformationRequested) => CaseState::Open(Assigned),
                other => other,
            },
            Destination::Open(s) => CaseState::Open(s),
            Destination::Closed(s) => CaseState::Closed(s),
        }
    }
}

/// A decided change: the case after the command and what the store must
/// write with it, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The case after the command, with its new version.
    pub case: Case,
    /// The version the change was decided on (the store checks it).
    pub expected_version: u64,
    /// How many entries at the end of `case.history` are new.
    pub new_history: usize,
    /// Attachments to write with the case, bytes included.
    pub new_attachments: Vec<AcceptedAttachment>,
    /// Notifications to write to the outbox in the same transaction (DOMAIN.md §9).
    pub notifications: Vec<Notification>,
}

/// Runs the checks of §5 in order — `not_found` → `forbidden` →
/// `case_closed` → `transition_not_allowed` → input validation (the survey
/// rule for `survey`) — and computes the change: the command's own input
/// (`apply_input`), then the row's effects (state, deadline, history
/// entry, notification).
///
/// # Errors
///
/// The first check that fails, with its DOMAIN.md code: `not_found`,
/// `forbidden`, `case_closed`, `transition_not_allowed`, the survey codes,
/// `deadline_not_reached` (close_ex_officio), or a validation code of the
/// command's input (`invalid_field`, `invalid_classification`,
/// `not_handled_by_casia`, `attachment_rejected`, `duplicate_attachment`).
pub fn decide(
    case: &Case,
    actor: &Actor,
    command: &Command,
    rules: &CaseRules,
    now: DateTime<Utc>,
) -> Result<Change, CasiaError> {
    if !case.is_visible_to(actor) {
        return Err(CasiaError::NotFound);
    }
    let row = transition(command.kind());
    if !row.who.admits(actor, case) {
        return Err(CasiaError::Forbidden);
    }
    if row.from == Origin::Resolved {
        check_survey_allowed(case, now)?;
    } else {
        if case.state.is_closed() {
            return Err(CasiaError::CaseClosed);
        }
        if !row.from.admits(case.state) {
            return Err(CasiaError::TransitionNotAllowed);
        }
    }
    let mut after = case.clone();
    let input = apply_input(&mut after, actor, command, rules, now)?;
    Ok(apply_effects(case, after, row, input, actor, rules, now))
}

/// The survey rule of §5: resolved → not yet surveyed → within 30 days of
/// the resolution's Madrid date.
fn check_survey_allowed(case: &Case, now: DateTime<Utc>) -> Result<(), CasiaError> {
    if case.state != CaseState::Closed(ClosedSubstatus::Resolved) {
        return Err(CasiaError::SurveyNotAllowed);
    }
    if case.survey.is_some() {
        return Err(CasiaError::SurveyAlreadySubmitted);
    }
    let resolved_on = madrid_date(case.closed_at.unwrap_or(now));
    let last_day = resolved_on
        .checked_add_days(Days::new(30))
        .unwrap_or(resolved_on);
    if madrid_date(now) > last_day {
        return Err(CasiaError::SurveyWindowClosed);
    }
    Ok(())
}

fn invalid(field: &str) -> CasiaError {
    CasiaError::invalid_field(field)
}

/// What a command's own input contributes once it is valid.
#[derive(Default)]
struct Input {
    /// The history entry's observation (and, for the notifying commands,
    /// the notification's text).
    observation: Option<String>,
    new_attachments: Vec<AcceptedAttachment>,
}

/// Validates the command's own input and makes the changes only it
/// decides (assignee, office, classification, resolution, survey,
/// attachments). State, deadline, history and notifications are the row's.
fn apply_input(
    case: &mut Case,
    actor: &Actor,
    command: &Command,
    rules: &CaseRules,
    now: DateTime<Utc>,
) -> Result<Input, CasiaError> {
    let mut input = Input::default();
    match command {
        Command::AddDocumentation {
            comment,
            attachments,
        } => {
            let comment = Comment::parse_optional(comment.as_deref()).map_err(|()| {
                CasiaError::invalid_text(
                    "comment",
                    1,
                    Comment::MAX_CHARS,
                    comment.as_deref().unwrap_or_default(),
                )
            })?;
            input.new_attachments = accept_attachments(
                &case.attachments,
                attachments,
                &rules.catalog,
                &rules.limits,
                now,
                &actor.reference(),
            )?;
            if comment.is_none() && input.new_attachments.is_empty() {
                return Err(invalid("comment"));
            }
            input.observation = comment.map(|c| c.as_str().to_owned());
            case.attachments
                .extend(input.new_attachments.iter().map(|a| a.meta.clone()));
        }
        Command::Cancel { reason } => {
            let reason = Reason::parse_optional(reason.as_deref()).map_err(|()| {
                CasiaError::invalid_text(
                    "reason",
                    0,
                    Reason::MAX_CHARS,
                    reason.as_deref().unwrap_or_default(),
                )
            })?;
            input.observation = reason.map(|r| r.as_str().to_owned());
        }
        Command::Assign { processor } => {
            case.assignee = Some(match (processor.as_deref(), actor) {
                (Some(p), _) => ProcessorId::parse(p).map_err(|_| invalid("processor"))?,
                (None, Actor::Processor { processor, .. }) => processor.clone(),
                (None, _) => return Err(invalid("processor")),
            });
        }
        Command::RequestInformation { observation } => {
            let text = Observation::parse(observation).ok_or_else(|| {
                CasiaError::invalid_text("observation", 1, Observation::MAX_CHARS, observation)
            })?;
            input.observation = Some(text.as_str().to_owned());
        }
        Command::Escalate { note } => {
            let note = Note::parse(note)
                .ok_or_else(|| CasiaError::invalid_text("note", 1, Note::MAX_CHARS, note))?;
            input.observation = Some(note.as_str().to_owned());
        }
        Command::Transfer { office, note } => {
            let office = ProvinceCode::parse(office).map_err(|_| invalid("office"))?;
            if office == case.office {
                return Err(invalid("office"));
            }
            let note = Note::parse_optional(note.as_deref()).map_err(|()| {
                CasiaError::invalid_text(
                    "note",
                    0,
                    Note::MAX_CHARS,
                    note.as_deref().unwrap_or_default(),
                )
            })?;
            case.office = office;
            case.assignee = None;
            input.observation = note.map(|n| n.as_str().to_owned());
        }
        Command::Reclassify {
            materia,
            category,
            subcategory,
        } => {
            let c =
                rules
                    .catalog
                    .classify(case.case_type.as_str(), materia, category, subcategory)?;
            case.materia = c.materia.code.clone();
            case.category = c.category.code.clone();
            case.subcategory = c.subcategory.code.clone();
            input.observation = Some(format!(
                "{} › {} › {}",
                c.materia.label, c.category.label, c.subcategory.label
            ));
        }
        Command::Resolve { resolution } => {
            let resolution = Resolution::parse(resolution).ok_or_else(|| {
                CasiaError::invalid_text("resolution", 1, Resolution::MAX_CHARS, resolution)
            })?;
            input.observation = Some(resolution.as_str().to_owned());
            case.resolution = Some(resolution);
        }
        Command::CloseExOfficio => {
            if !case.deadline.is_some_and(|d| is_overdue(d, now)) {
                return Err(CasiaError::DeadlineNotReached);
            }
        }
        Command::Survey { rating, comment } => {
            let rating = u8::try_from(*rating)
                .ok()
                .filter(|r| (1..=5).contains(r))
                .ok_or_else(|| invalid("rating"))?;
            let comment = SurveyComment::parse_optional(comment.as_deref()).map_err(|()| {
                CasiaError::invalid_text(
                    "comment",
                    0,
                    SurveyComment::MAX_CHARS,
                    comment.as_deref().unwrap_or_default(),
                )
            })?;
            let Actor::User { user, .. } = actor else {
                return Err(CasiaError::Forbidden);
            };
            case.survey = Some(Survey {
                rating,
                comment,
                at: now,
                by: user.clone(),
            });
        }
    }
    Ok(input)
}

/// The row's effects on a case whose input was applied: the next state,
/// the deadline, `closed_at`, the history entry, the notification and the
/// version.
fn apply_effects(
    before: &Case,
    mut case: Case,
    row: &Transition,
    input: Input,
    actor: &Actor,
    rules: &CaseRules,
    now: DateTime<Utc>,
) -> Change {
    case.state = row.to.after(before.state);
    match row.deadline {
        DeadlineEffect::Set => {
            let d0 = madrid_date(now);
            let policy = rules.catalog.deadline_policy(case.case_type);
            let days = rules.calendar.for_case(case.province, case.office);
            let deadline = deadline_date(d0, policy, &days);
            days.warn_if_uncovered(d0, deadline);
            case.deadline = Some(deadline);
            case.reminder_sent = false;
        }
        DeadlineEffect::Clear => {
            case.deadline = None;
            case.reminder_sent = false;
        }
        DeadlineEffect::Keep => {}
    }
    if case.state.is_closed() && !before.state.is_closed() {
        case.closed_at = Some(now);
    }
    let notifications = row
        .notification
        .map(|kind| Notification::about(&case, kind, now, input.observation.as_deref()))
        .into_iter()
        .collect();
    case.history.push(HistoryEntry {
        at: now,
        event: row.event,
        state: case.state,
        actor: actor.reference(),
        observation: input.observation,
        visibility: row.visibility,
    });
    case.version = before.version + 1;
    Change {
        case,
        expected_version: before.version,
        new_history: 1,
        new_attachments: input.new_attachments,
        notifications,
    }
}

/// The sweep's reminder for one case (§5): due once the Madrid date of `now`
/// reaches the last business day before the deadline, once per request, and
/// never for an overdue case (the sweep closes those instead).
pub fn decide_reminder(case: &Case, rules: &CaseRules, now: DateTime<Utc>) -> Option<Change> {
    let deadline = case.deadline?;
    if case.state != CaseState::Open(InformationRequested)
        || case.reminder_sent
        || is_overdue(deadline, now)
    {
        return None;
    }
    let days = rules.calendar.for_case(case.province, case.office);
    if !is_reminder_due(deadline, now, &days) {
        return None;
    }
    let mut after = case.clone();
    after.reminder_sent = true;
    after.version = case.version + 1;
    Some(Change {
        notifications: vec![Notification::about(
            &after,
            NotificationKind::DeadlineApproaching,
            now,
            None,
        )],
        case: after,
        expected_version: case.version,
        new_history: 0,
        new_attachments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_exactly_one_row() {
        for k in CommandKind::ALL {
            assert_eq!(
                TRANSITIONS.iter().filter(|t| t.command == k).count(),
                1,
                "{}",
                k.as_str()
            );
            assert_eq!(transition(k).command, k);
        }
    }

    #[test]
    fn the_table_reads_as_domain_md_section_5() {
        let row = |k| transition(k);
        let all_open = [
            Submitted,
            Assigned,
            InformationRequested,
            Escalated,
            Transferred,
        ];
        let from = |k: CommandKind| -> Vec<OpenSubstatus> {
            all_open
                .iter()
                .copied()
                .filter(|s| row(k).from.admits(CaseState::Open(*s)))
                .collect()
        };
        assert_eq!(from(CommandKind::AddDocumentation), all_open);
        assert_eq!(from(CommandKind::Cancel), all_open);
        assert_eq!(from(CommandKind::Reclassify), all_open);
        assert_eq!(
            from(CommandKind::Assign),
            vec![Submitted, Assigned, Escalated, Transferred]
        );
        assert_eq!(from(CommandKind::RequestInformation), vec![Assigned]);
        assert_eq!(from(CommandKind::Escalate), vec![Assigned]);
        assert_eq!(
            from(CommandKind::Transfer),
            vec![Submitted, Assigned, Escalated]
        );
        assert_eq!(
            from(CommandKind::Resolve),
            vec![Assigned, InformationRequested]
        );
        assert_eq!(
            from(CommandKind::CloseExOfficio),
            vec![InformationRequested]
        );
        assert_eq!(from(CommandKind::Survey), Vec::<OpenSubstatus>::new());
        assert!(
            row(CommandKind::Survey)
                .from
                .admits(CaseState::Closed(ClosedSubstatus::Resolved))
        );
        for s in [ClosedSubstatus::Cancelled, ClosedSubstatus::ClosedExOfficio] {
            assert!(!row(CommandKind::Survey).from.admits(CaseState::Closed(s)));
        }
        assert_eq!(row(CommandKind::Resolve).who, Who::AssignedProcessor);
        assert_eq!(
            row(CommandKind::RequestInformation).who,
            Who::AssignedProcessor
        );
        assert_eq!(row(CommandKind::Escalate).who, Who::AssignedProcessor);
        assert_eq!(row(CommandKind::Assign).who, Who::OfficeProcessor);
        assert_eq!(row(CommandKind::Transfer).who, Who::OfficeProcessor);
        assert_eq!(row(CommandKind::Reclassify).who, Who::OfficeProcessor);
        assert_eq!(row(CommandKind::Cancel).who, Who::CaseUser);
        assert_eq!(row(CommandKind::AddDocumentation).who, Who::CaseUser);
        assert_eq!(row(CommandKind::Survey).who, Who::CaseUser);
        assert_eq!(row(CommandKind::CloseExOfficio).who, Who::System);
        assert_eq!(
            row(CommandKind::AddDocumentation)
                .to
                .after(CaseState::Open(InformationRequested)),
            CaseState::Open(Assigned)
        );
        assert_eq!(
            row(CommandKind::AddDocumentation)
                .to
                .after(CaseState::Open(Escalated)),
            CaseState::Open(Escalated)
        );
        // Effects: §7 (events, internal notes), §5 (notifications per
        // command), the deadline rule.
        for k in CommandKind::ALL {
            let r = row(k);
            let event = match k {
                CommandKind::AddDocumentation => "documentation_added",
                CommandKind::Cancel => "cancelled",
                CommandKind::Assign => "assigned",
                CommandKind::RequestInformation => "information_requested",
                CommandKind::Escalate => "escalated",
                CommandKind::Transfer => "transferred",
                CommandKind::Reclassify => "reclassified",
                CommandKind::Resolve => "resolved",
                CommandKind::CloseExOfficio => "closed_ex_officio",
                CommandKind::Survey => "survey_submitted",
            };
            assert_eq!(r.event.as_str(), event, "{}", k.as_str());
            let internal = matches!(k, CommandKind::Escalate | CommandKind::Transfer);
            assert_eq!(
                r.visibility == Visibility::Internal,
                internal,
                "{}",
                k.as_str()
            );
            let notification = match k {
                CommandKind::RequestInformation => Some(NotificationKind::InformationRequested),
                CommandKind::Resolve => Some(NotificationKind::CaseResolved),
                CommandKind::CloseExOfficio => Some(NotificationKind::CaseClosedExOfficio),
                _ => None,
            };
            assert_eq!(r.notification, notification, "{}", k.as_str());
            let deadline = match k {
                CommandKind::RequestInformation => DeadlineEffect::Set,
                CommandKind::Reclassify | CommandKind::CloseExOfficio | CommandKind::Survey => {
                    DeadlineEffect::Keep
                }
                _ => DeadlineEffect::Clear,
            };
            assert_eq!(r.deadline, deadline, "{}", k.as_str());
        }
    }

    use crate::calendar::HolidayCalendar;
    use crate::catalog::Catalog;
    use crate::ids::{AuthorizationId, CaseNumber, UserId};
    use crate::receipt::ReceiptKey;
    use crate::submission::{SubmitInput, validate_submission};

    fn rules() -> CaseRules {
        CaseRules {
            catalog: Catalog::from_json(
                r#"{"document_types": [{"code": "other", "label": "Otros"}],
                    "case_types": [{"code": "inquiry", "deadline": {"days": 20, "unit": "calendar"},
                      "materias": [{"code": "m", "label": "M", "categories": [{"code": "c", "label": "C",
                        "subcategories": [{"code": "s", "label": "S"}, {"code": "t", "label": "T"},
                                          {"code": "x", "label": "X", "not_handled": "Use la Sede."}]}]}]}]}"#,
            )
            .expect("catalog"),
            calendar: HolidayCalendar::default(),
            limits: crate::attachment::AttachmentLimits::default(),
            receipt_key: ReceiptKey::new("k"),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn user(authorization: &str) -> Actor {
        Actor::User {
            authorization: AuthorizationId::parse(authorization).expect("id"),
            user: UserId::parse("u1").expect("id"),
            province: ProvinceCode::parse("28").expect("code"),
        }
    }

    fn processor(id: &str, office: &str) -> Actor {
        Actor::Processor {
            processor: ProcessorId::parse(id).expect("id"),
            office: ProvinceCode::parse(office).expect("code"),
        }
    }

    /// A case of A1 at office 28 in `state`, assigned to P1 when open past submission.
    fn case_in(state: CaseState) -> Case {
        let input = SubmitInput {
            case_type: "inquiry".into(),
            materia: "m".into(),
            category: "c".into(),
            subcategory: "s".into(),
            title: "T".into(),
            description: "D".into(),
            ..SubmitInput::default()
        };
        let draft = validate_submission(&user("A1"), &input, &rules(), at("2026-11-02T09:00:00Z"))
            .expect("valid");
        let mut case = draft.complete(CaseNumber::new(2026, 1).expect("n")).case;
        case.state = state;
        if !matches!(
            state,
            CaseState::Open(Submitted) | CaseState::Open(Transferred)
        ) {
            case.assignee = Some(ProcessorId::parse("P1").expect("id"));
        }
        if state == CaseState::Open(InformationRequested) {
            case.deadline = Some("2026-11-23".parse().expect("date"));
        }
        if state.is_closed() {
            case.closed_at = Some(at("2026-11-03T09:00:00Z"));
        }
        case
    }

    /// One `check(state, actor, command) → outcome code` helper.
    fn check(state: CaseState, actor: &Actor, command: Command, now: &str) -> &'static str {
        match decide(&case_in(state), actor, &command, &rules(), at(now)) {
            Ok(_) => "ok",
            Err(e) => e.code().as_str(),
        }
    }

    const NOW: &str = "2026-11-05T10:00:00Z";
    const OPEN_SUBMITTED: CaseState = CaseState::Open(Submitted);
    const RESOLVED: CaseState = CaseState::Closed(ClosedSubstatus::Resolved);
    const CANCELLED: CaseState = CaseState::Closed(ClosedSubstatus::Cancelled);

    #[test]
    fn not_found_comes_before_everything() {
        assert_eq!(
            check(RESOLVED, &user("A2"), Command::Cancel { reason: None }, NOW),
            "not_found"
        );
        assert_eq!(
            check(
                OPEN_SUBMITTED,
                &processor("P1", "08"),
                Command::Assign { processor: None },
                NOW
            ),
            "not_found"
        );
    }

    #[test]
    fn forbidden_comes_before_closed_and_transition_checks() {
        assert_eq!(
            check(
                RESOLVED,
                &user("A1"),
                Command::Assign { processor: None },
                NOW
            ),
            "forbidden"
        );
        assert_eq!(
            check(
                CaseState::Open(Assigned),
                &processor("P2", "28"),
                Command::Resolve {
                    resolution: "x".into()
                },
                NOW
            ),
            "forbidden"
        );
        assert_eq!(
            check(
                OPEN_SUBMITTED,
                &processor("P1", "28"),
                Command::Resolve {
                    resolution: "x".into()
                },
                NOW
            ),
            "forbidden",
            "no assignee"
        );
        assert_eq!(
            check(
                OPEN_SUBMITTED,
                &processor("P1", "28"),
                Command::Cancel { reason: None },
                NOW
            ),
            "forbidden"
        );
        assert_eq!(
            check(
                OPEN_SUBMITTED,
                &Actor::System,
                Command::Cancel { reason: None },
                NOW
            ),
            "forbidden"
        );
        assert_eq!(
            check(
                CaseState::Open(InformationRequested),
                &processor("P1", "28"),
                Command::CloseExOfficio,
                "2026-12-01T00:00:00Z"
            ),
            "forbidden"
        );
    }

    #[test]
    fn case_closed_before_transition_and_validation() {
        assert_eq!(
            check(
                RESOLVED,
                &processor("P1", "28"),
                Command::RequestInformation {
                    observation: "".into()
                },
                NOW
            ),
            "case_closed"
        );
        assert_eq!(
            check(
                CANCELLED,
                &user("A1"),
                Command::AddDocumentation {
                    comment: None,
                    attachments: vec![]
                },
                NOW
            ),
            "case_closed"
        );
        assert_eq!(
            check(RESOLVED, &Actor::System, Command::CloseExOfficio, NOW),
            "case_closed"
        );
    }

    #[test]
    fn transition_before_validation() {
        assert_eq!(
            check(
                CaseState::Open(InformationRequested),
                &processor("P1", "28"),
                Command::Transfer {
                    office: "99".into(),
                    note: None
                },
                NOW
            ),
            "transition_not_allowed"
        );
        assert_eq!(
            check(
                CaseState::Open(Escalated),
                &processor("P1", "28"),
                Command::Resolve {
                    resolution: "".into()
                },
                NOW
            ),
            "transition_not_allowed"
        );
        assert_eq!(
            check(
                CaseState::Open(Assigned),
                &Actor::System,
                Command::CloseExOfficio,
                NOW
            ),
            "transition_not_allowed"
        );
    }

    #[test]
    fn input_validation_names_the_field() {
        let field = |state, actor: &Actor, command| {
            decide(&case_in(state), actor, &command, &rules(), at(NOW))
                .err()
                .and_then(|e| e.field().map(str::to_owned))
        };
        let p1 = processor("P1", "28");
        assert_eq!(
            field(
                CaseState::Open(Assigned),
                &p1,
                Command::Transfer {
                    office: "28".into(),
                    note: None
                }
            )
            .as_deref(),
            Some("office")
        );
        assert_eq!(
            field(
                CaseState::Open(Assigned),
                &p1,
                Command::Transfer {
                    office: "2".into(),
                    note: None
                }
            )
            .as_deref(),
            Some("office")
        );
        assert_eq!(
            field(
                CaseState::Open(Assigned),
                &p1,
                Command::Escalate { note: " ".into() }
            )
            .as_deref(),
            Some("note")
        );
        assert_eq!(
            field(
                CaseState::Open(Assigned),
                &p1,
                Command::Assign {
                    processor: Some("bad id!".into())
                }
            )
            .as_deref(),
            Some("processor")
        );
        assert_eq!(
            field(
                OPEN_SUBMITTED,
                &user("A1"),
                Command::AddDocumentation {
                    comment: Some("  ".into()),
                    attachments: vec![]
                }
            )
            .as_deref(),
            Some("comment")
        );
        assert_eq!(
            field(
                OPEN_SUBMITTED,
                &user("A1"),
                Command::Cancel {
                    reason: Some("r".repeat(1001))
                }
            )
            .as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(
                RESOLVED,
                &user("A1"),
                Command::Survey {
                    rating: 6,
                    comment: None
                }
            )
            .as_deref(),
            Some("rating")
        );
        assert_eq!(
            field(
                RESOLVED,
                &user("A1"),
                Command::Survey {
                    rating: 0,
                    comment: None
                }
            )
            .as_deref(),
            Some("rating")
        );
        assert_eq!(
            field(
                OPEN_SUBMITTED,
                &p1,
                Command::Reclassify {
                    materia: "m".into(),
                    category: "c".into(),
                    subcategory: "nope".into()
                }
            )
            .as_deref(),
            Some("subcategory")
        );
        assert_eq!(
            check(
                OPEN_SUBMITTED,
                &p1,
                Command::Reclassify {
                    materia: "m".into(),
                    category: "c".into(),
                    subcategory: "x".into()
                },
                NOW
            ),
            "not_handled_by_casia"
        );
    }

    #[test]
    fn the_survey_rule_order_and_window() {
        let u = user("A1");
        let survey = || Command::Survey {
            rating: 9,
            comment: None,
        };
        assert_eq!(
            check(OPEN_SUBMITTED, &u, survey(), NOW),
            "survey_not_allowed"
        );
        assert_eq!(check(CANCELLED, &u, survey(), NOW), "survey_not_allowed");
        // Resolved 2026-11-03 (Madrid): the window ends with 2026-12-03 Madrid.
        assert_eq!(
            check(
                RESOLVED,
                &u,
                Command::Survey {
                    rating: 3,
                    comment: None
                },
                "2026-12-03T22:59:59Z"
            ),
            "ok"
        );
        assert_eq!(
            check(
                RESOLVED,
                &u,
                Command::Survey {
                    rating: 3,
                    comment: None
                },
                "2026-12-03T23:00:00Z"
            ),
            "survey_window_closed"
        );
        assert_eq!(
            check(RESOLVED, &u, survey(), "2026-12-03T23:00:00Z"),
            "survey_window_closed",
            "window before input"
        );
        let mut surveyed = case_in(RESOLVED);
        surveyed.survey = Some(Survey {
            rating: 5,
            comment: None,
            at: at(NOW),
            by: UserId::parse("u1").expect("id"),
        });
        let e = decide(
            &surveyed,
            &u,
            &survey(),
            &rules(),
            at("2027-06-01T00:00:00Z"),
        )
        .err()
        .map(|e| e.code().as_str());
        assert_eq!(
            e,
            Some("survey_already_submitted"),
            "already submitted before the window"
        );
    }

    #[test]
    fn close_ex_officio_waits_for_madrid_midnight_after_the_deadline() {
        let ir = CaseState::Open(InformationRequested);
        assert_eq!(
            check(
                ir,
                &Actor::System,
                Command::CloseExOfficio,
                "2026-11-23T22:59:59Z"
            ),
            "deadline_not_reached"
        );
        assert_eq!(
            check(
                ir,
                &Actor::System,
                Command::CloseExOfficio,
                "2026-11-23T23:00:00Z"
            ),
            "ok"
        );
    }

    #[test]
    fn effects_of_each_command() {
        let p1 = processor("P1", "28");
        let apply = |state, actor: &Actor, command: Command| {
            decide(&case_in(state), actor, &command, &rules(), at(NOW)).expect("allowed")
        };
        let c = apply(
            CaseState::Open(Assigned),
            &p1,
            Command::RequestInformation {
                observation: "Aporte".into(),
            },
        );
        // 2026-11-05 + 20 calendar days = 2026-11-25 (Wednesday).
        assert_eq!(c.case.deadline, Some("2026-11-25".parse().expect("date")));
        assert_eq!(c.notifications.len(), 1);
        assert_eq!(c.case.version, c.expected_version + 1);
        let c = apply(
            CaseState::Open(InformationRequested),
            &user("A1"),
            Command::AddDocumentation {
                comment: Some("ok".into()),
                attachments: vec![],
            },
        );
        assert_eq!(
            (c.case.state, c.case.deadline),
            (CaseState::Open(Assigned), None)
        );
        assert!(c.notifications.is_empty());
        let c = apply(
            CaseState::Open(Escalated),
            &p1,
            Command::Transfer {
                office: "08".into(),
                note: Some("n".into()),
            },
        );
        assert_eq!(
            (
                c.case.state,
                c.case.assignee.clone(),
                c.case.office.to_string()
            ),
            (CaseState::Open(Transferred), None, "08".to_owned())
        );
        assert_eq!(
            c.case.history.last().map(|h| h.visibility),
            Some(Visibility::Internal)
        );
        let c = apply(
            CaseState::Open(Assigned),
            &p1,
            Command::Escalate { note: "n".into() },
        );
        assert_eq!(
            c.case.assignee.as_ref().map(ProcessorId::as_str),
            Some("P1"),
            "the assignee stays"
        );
        let c = apply(
            CaseState::Open(Transferred),
            &processor("P7", "28"),
            Command::Assign { processor: None },
        );
        assert_eq!(
            c.case.assignee.as_ref().map(ProcessorId::as_str),
            Some("P7")
        );
        let c = apply(
            CaseState::Open(InformationRequested),
            &p1,
            Command::Resolve {
                resolution: "Hecho".into(),
            },
        );
        assert_eq!(
            (c.case.state, c.case.deadline, c.case.closed_at),
            (RESOLVED, None, Some(at(NOW)))
        );
        assert_eq!(c.notifications[0].kind, NotificationKind::CaseResolved);
        let c = decide(
            &case_in(CaseState::Open(InformationRequested)),
            &Actor::System,
            &Command::CloseExOfficio,
            &rules(),
            at("2026-12-01T00:00:00Z"),
        )
        .expect("overdue");
        assert_eq!(
            c.case.deadline,
            Some("2026-11-23".parse().expect("date")),
            "the missed deadline is kept"
        );
        assert_eq!(
            c.case.history.last().map(|h| h.event),
            Some(HistoryEvent::ClosedExOfficio)
        );
    }
}
