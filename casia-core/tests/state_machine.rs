//! Model-based test of the case life cycle (DOMAIN.md §1, §3, §5, §7, §10).
//!
//! Arbitrary sequences of submissions, commands by arbitrary actors, and
//! sweeps, at increasing instants (seconds to 40 days apart), run against
//! `CaseService` over `MemoryStore` with a `FixedClock`. The reference model
//! below is written from DOMAIN.md alone — visibility, the check order, the
//! transition table, the survey rule, the deadline bookkeeping — and only
//! borrows `deadline::deadline_date` for the date arithmetic (which has its
//! own property tests). After every step the service's verdict must equal the
//! model's, and every stored case must satisfy the invariants.
//!
//! Default: 256 sequences of up to 40 steps (well under a second). For a
//! longer run (20 000 sequences take about 30 s in a debug build):
//! `PROPTEST_CASES=20000 cargo test -p casia-core --all-features --test state_machine`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use casia_core::attachment::{AttachmentLimits, NewAttachment};
use casia_core::catalog::{DeadlinePolicy, DeadlineUnit};
use casia_core::deadline::deadline_date;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::{Actor, Case, CaseNumber, CaseService, Command, ServiceError, SubmitInput};
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Madrid;
use futures_executor::block_on;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

// ---------------------------------------------------------------------------
// The world the test runs in.

/// Users (authorization, user, province): two authorizations, 28 and 08.
const USERS: [(&str, &str, &str); 4] = [
    ("A1", "u1", "28"),
    ("A1", "u2", "28"),
    ("A2", "u3", "08"),
    ("A2", "u4", "08"),
];
const PROCESSORS: [&str; 3] = ["P1", "P2", "P3"];
const OFFICES: [&str; 3] = ["28", "08", "41"];

/// Small limits so that `too_large`, `too_many` and `total_too_large` occur.
const MAX_ATTACHMENT_BYTES: usize = 64;
const MAX_ATTACHMENTS: usize = 4;
const MAX_TOTAL_BYTES: usize = 120;

fn limits() -> AttachmentLimits {
    AttachmentLimits {
        max_attachment_bytes: MAX_ATTACHMENT_BYTES as u64,
        max_attachments: MAX_ATTACHMENTS,
        max_total_bytes: MAX_TOTAL_BYTES as u64,
    }
}

/// The catalog paths the model knows (the same tree as `support::CATALOG_JSON`).
struct PathDef {
    case_type: &'static str,
    triple: (&'static str, &'static str, &'static str),
    handled: bool,
    needs_nif_or_naf: bool,
    needs_document: Option<&'static str>,
}

const PATHS: [PathDef; 7] = [
    PathDef {
        case_type: "inquiry",
        triple: ("afiliacion", "altas", "general"),
        handled: true,
        needs_nif_or_naf: false,
        needs_document: None,
    },
    PathDef {
        case_type: "inquiry",
        triple: ("afiliacion", "altas", "nss"),
        handled: true,
        needs_nif_or_naf: true,
        needs_document: Some("identity"),
    },
    PathDef {
        case_type: "inquiry",
        triple: ("cotizacion", "aplazamientos", "solicitud"),
        handled: false,
        needs_nif_or_naf: false,
        needs_document: None,
    },
    PathDef {
        case_type: "inquiry",
        triple: ("cotizacion", "aplazamientos", "consulta"),
        handled: true,
        needs_nif_or_naf: false,
        needs_document: None,
    },
    PathDef {
        case_type: "procedure",
        triple: ("inscripcion", "empresas", "alta"),
        handled: true,
        needs_nif_or_naf: false,
        needs_document: Some("other"),
    },
    PathDef {
        case_type: "procedure",
        triple: ("inscripcion", "empresas", "baja"),
        handled: true,
        needs_nif_or_naf: false,
        needs_document: None,
    },
    PathDef {
        case_type: "procedure",
        triple: ("afiliacion", "altas", "nss"),
        handled: true,
        needs_nif_or_naf: true,
        needs_document: Some("identity"),
    },
];

/// Triples offered to submit/reclassify: every catalog path (valid for one
/// type or both) and two that exist nowhere.
const TRIPLES: [(&str, &str, &str); 8] = [
    ("afiliacion", "altas", "general"),
    ("afiliacion", "altas", "nss"),
    ("cotizacion", "aplazamientos", "solicitud"),
    ("cotizacion", "aplazamientos", "consulta"),
    ("inscripcion", "empresas", "alta"),
    ("inscripcion", "empresas", "baja"),
    ("afiliacion", "altas", "inexistente"),
    ("nada", "x", "y"),
];

fn lookup(case_type: &str, triple: (&str, &str, &str)) -> Option<&'static PathDef> {
    PATHS
        .iter()
        .find(|p| p.case_type == case_type && p.triple == triple)
}

/// The deadline policy each type has in the inline catalog (DOMAIN.md §5).
fn policy(case_type: &str) -> DeadlinePolicy {
    match case_type {
        "inquiry" => DeadlinePolicy {
            days: 20,
            unit: DeadlineUnit::Calendar,
        },
        _ => DeadlinePolicy {
            days: 10,
            unit: DeadlineUnit::Business,
        },
    }
}

fn madrid(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Madrid).date_naive()
}

fn is_business_day(d: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d)
}

/// The last business day strictly before the deadline: the reminder day.
fn reminder_day(deadline: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> NaiveDate {
    let mut d = deadline - Days::new(1);
    while !is_business_day(d, holidays) {
        d = d - Days::new(1);
    }
    d
}

// ---------------------------------------------------------------------------
// Transitions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    User(usize),
    Processor { id: usize, office: usize },
    System,
}

impl Who {
    fn actor(self) -> Actor {
        match self {
            Who::User(i) => support::user(USERS[i].0, USERS[i].1, USERS[i].2),
            Who::Processor { id, office } => support::processor(PROCESSORS[id], OFFICES[office]),
            Who::System => Actor::System,
        }
    }
}

/// A free text: valid (with surrounding blanks), exactly the maximum (in
/// multi-byte characters), whitespace only, or one character too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    Valid,
    Max,
    Blank,
    TooLong,
}

impl Text {
    fn render(self, max: usize) -> String {
        match self {
            Text::Valid => "  Texto de prueba con acentos: información \n".to_owned(),
            Text::Max => "ñ".repeat(max),
            Text::Blank => " \t\n ".to_owned(),
            Text::TooLong => "x".repeat(max + 1),
        }
    }

    /// A required text (1..=max after trimming).
    fn required_ok(self) -> bool {
        matches!(self, Text::Valid | Text::Max)
    }
}

/// An optional text: absent and blank are "no text", too long is invalid.
fn optional_ok(t: Option<Text>) -> bool {
    t != Some(Text::TooLong)
}

fn optional_present(t: Option<Text>) -> bool {
    matches!(t, Some(Text::Valid | Text::Max))
}

fn render_optional(t: Option<Text>, max: usize) -> Option<String> {
    t.map(|t| t.render(max))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttKind {
    Pdf,
    PlainText,
    /// A PDF over the single-file limit.
    Big,
    /// HTML: text that is not accepted (DOMAIN.md §6).
    Html,
    Empty,
    UnknownType,
    BlankTitle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Att {
    kind: AttKind,
    seed: u8,
    identity: bool,
}

impl Att {
    fn bytes(self) -> Vec<u8> {
        let seed = u32::from(self.seed);
        match self.kind {
            AttKind::Pdf | AttKind::UnknownType | AttKind::BlankTitle => {
                support::pdf(u64::from(seed), 20 + 4 * self.seed as usize)
            }
            AttKind::PlainText => format!("nota {seed}\n").into_bytes(),
            AttKind::Big => support::pdf(
                u64::from(seed),
                MAX_ATTACHMENT_BYTES + 1 + self.seed as usize,
            ),
            AttKind::Html => format!("<!DOCTYPE html><p>{seed}</p>").into_bytes(),
            AttKind::Empty => Vec::new(),
        }
    }

    fn document_type(self) -> &'static str {
        match (self.kind, self.identity) {
            (AttKind::UnknownType, _) => "pasaporte",
            (_, true) => "identity",
            (_, false) => "other",
        }
    }

    fn new_attachment(self) -> NewAttachment {
        NewAttachment {
            document_type: self.document_type().to_owned(),
            title: if self.kind == AttKind::BlankTitle {
                "   ".to_owned()
            } else {
                format!("Documento {}", self.seed)
            },
            file_name: "../anexo.pdf".to_owned(),
            content: self.bytes().into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SubmitSpec {
    case_type: &'static str,
    triple: usize,
    title: Text,
    description: Text,
    /// `Some(true)`: a valid NIF; `Some(false)`: an invalid one.
    nif: Option<bool>,
    attachments: Vec<Att>,
    affects_current_period: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Submit(SubmitSpec),
    AddDocumentation {
        comment: Option<Text>,
        attachments: Vec<Att>,
    },
    Cancel {
        reason: Option<Text>,
    },
    Assign {
        target: Option<&'static str>,
    },
    RequestInformation {
        observation: Text,
    },
    Escalate {
        note: Text,
    },
    Transfer {
        office: &'static str,
        note: Option<Text>,
    },
    Reclassify {
        triple: usize,
    },
    Resolve {
        resolution: Text,
    },
    CloseExOfficio,
    Survey {
        rating: i64,
        comment: Option<Text>,
    },
    Sweep,
}

impl Op {
    fn command(&self) -> Option<Command> {
        Some(match self {
            Op::Submit(_) | Op::Sweep => return None,
            Op::AddDocumentation {
                comment,
                attachments,
            } => Command::AddDocumentation {
                comment: render_optional(*comment, 4000),
                attachments: attachments.iter().map(|a| a.new_attachment()).collect(),
            },
            Op::Cancel { reason } => Command::Cancel {
                reason: render_optional(*reason, 1000),
            },
            Op::Assign { target } => Command::Assign {
                processor: target.map(str::to_owned),
            },
            Op::RequestInformation { observation } => Command::RequestInformation {
                observation: observation.render(4000),
            },
            Op::Escalate { note } => Command::Escalate {
                note: note.render(4000),
            },
            Op::Transfer { office, note } => Command::Transfer {
                office: (*office).to_owned(),
                note: render_optional(*note, 4000),
            },
            Op::Reclassify { triple } => {
                let (m, c, s) = TRIPLES[*triple];
                Command::Reclassify {
                    materia: m.to_owned(),
                    category: c.to_owned(),
                    subcategory: s.to_owned(),
                }
            }
            Op::Resolve { resolution } => Command::Resolve {
                resolution: resolution.render(8000),
            },
            Op::CloseExOfficio => Command::CloseExOfficio,
            Op::Survey { rating, comment } => Command::Survey {
                rating: *rating,
                comment: render_optional(*comment, 1000),
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// Seconds the clock moves forward before the step.
    advance: i64,
    who: Who,
    /// Index of a model case; `None` or out of range: a number that does not exist.
    target: Option<usize>,
    op: Op,
}

// ---------------------------------------------------------------------------
// The reference model.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    Submitted,
    Assigned,
    InformationRequested,
    Escalated,
    Transferred,
    Cancelled,
    Resolved,
    ClosedExOfficio,
}

impl Sub {
    fn code(self) -> &'static str {
        match self {
            Sub::Submitted => "submitted",
            Sub::Assigned => "assigned",
            Sub::InformationRequested => "information_requested",
            Sub::Escalated => "escalated",
            Sub::Transferred => "transferred",
            Sub::Cancelled => "cancelled",
            Sub::Resolved => "resolved",
            Sub::ClosedExOfficio => "closed_ex_officio",
        }
    }

    fn is_closed(self) -> bool {
        matches!(self, Sub::Cancelled | Sub::Resolved | Sub::ClosedExOfficio)
    }
}

#[derive(Debug, Clone)]
struct MCase {
    number: CaseNumber,
    authorization: &'static str,
    province: &'static str,
    office: &'static str,
    case_type: &'static str,
    triple: (&'static str, &'static str, &'static str),
    state: Sub,
    assignee: Option<&'static str>,
    deadline: Option<NaiveDate>,
    reminded: bool,
    resolved_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    surveyed: bool,
    attachments: Vec<Vec<u8>>,
    version: u64,
    history: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Verdict {
    #[default]
    Ok,
    /// The error code and, when the model is sure of it, the field or
    /// rejection reason.
    Err(&'static str, Option<&'static str>),
}

fn err(code: &'static str) -> Verdict {
    Verdict::Err(code, None)
}

fn invalid(field: &'static str) -> Verdict {
    Verdict::Err("invalid_field", Some(field))
}

/// What the last step must have done.
#[derive(Debug, Clone, Default)]
struct Expect {
    verdict: Verdict,
    /// (kind, case) of every notification, in order.
    notifications: Vec<(&'static str, CaseNumber)>,
    created: Option<CaseNumber>,
    closed: Vec<CaseNumber>,
    reminded: Vec<CaseNumber>,
}

#[derive(Debug, Clone)]
struct Model {
    now: DateTime<Utc>,
    cases: Vec<MCase>,
    sequences: BTreeMap<i32, u32>,
    expect: Expect,
}

/// Checks attachments in the order of DOMAIN.md §6 against the case's
/// existing ones; the accepted bytes, or the verdict.
fn check_attachments(existing: &[Vec<u8>], new: &[Att]) -> Result<Vec<Vec<u8>>, Verdict> {
    let rejected = |reason| Err(Verdict::Err("attachment_rejected", Some(reason)));
    let mut count = existing.len();
    let mut total: usize = existing.iter().map(Vec::len).sum();
    let mut seen: BTreeSet<Vec<u8>> = existing.iter().cloned().collect();
    let mut accepted = Vec::new();
    for a in new {
        let bytes = a.bytes();
        if a.kind == AttKind::UnknownType {
            return rejected("unknown_document_type");
        }
        if a.kind == AttKind::BlankTitle {
            return rejected("invalid_title");
        }
        if bytes.is_empty() {
            return rejected("empty");
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return rejected("too_large");
        }
        if a.kind == AttKind::Html {
            return rejected("unsupported_format");
        }
        count += 1;
        total += bytes.len();
        if count > MAX_ATTACHMENTS {
            return rejected("too_many");
        }
        if total > MAX_TOTAL_BYTES {
            return rejected("total_too_large");
        }
        if !seen.insert(bytes.clone()) {
            return Err(err("duplicate_attachment"));
        }
        accepted.push(bytes);
    }
    Ok(accepted)
}

impl Model {
    fn submit(&mut self, who: Who, spec: &SubmitSpec) -> Verdict {
        let Who::User(u) = who else {
            return err("forbidden");
        };
        let Some(path) = lookup(spec.case_type, TRIPLES[spec.triple]) else {
            return err("invalid_classification");
        };
        if !path.handled {
            return err("not_handled_by_casia");
        }
        if !spec.title.required_ok() {
            return invalid("title");
        }
        if !spec.description.required_ok() {
            return invalid("description");
        }
        if spec.nif == Some(false) {
            return Verdict::Err("invalid_complementary_data", Some("nif"));
        }
        if path.needs_nif_or_naf && spec.nif.is_none() {
            return Verdict::Err("missing_complementary_data", Some("naf"));
        }
        let accepted = match check_attachments(&[], &spec.attachments) {
            Ok(a) => a,
            Err(v) => return v,
        };
        if let Some(doc) = path.needs_document
            && !spec.attachments.iter().any(|a| a.document_type() == doc)
        {
            return Verdict::Err("missing_required_documents", Some(doc));
        }
        let year = madrid(self.now).year();
        let sequence = self.sequences.entry(year).or_insert(0);
        *sequence += 1;
        let number = CaseNumber::new(year, *sequence).expect("case number");
        let (authorization, _, province) = USERS[u];
        self.cases.push(MCase {
            number,
            authorization,
            province,
            office: province,
            case_type: path.case_type,
            triple: path.triple,
            state: Sub::Submitted,
            assignee: None,
            deadline: None,
            reminded: false,
            resolved_on: None,
            closed_on: None,
            surveyed: false,
            attachments: accepted,
            version: 1,
            history: 1,
        });
        self.expect.created = Some(number);
        self.expect.notifications.push(("case_submitted", number));
        Verdict::Ok
    }

    fn sweep(&mut self, who: Who) -> Verdict {
        if who != Who::System {
            return err("forbidden");
        }
        let today = madrid(self.now);
        let mut order: Vec<usize> = (0..self.cases.len()).collect();
        order.sort_by_key(|&i| self.cases[i].number);
        for &i in &order {
            let c = &mut self.cases[i];
            if c.state == Sub::InformationRequested && c.deadline.is_some_and(|d| today > d) {
                c.state = Sub::ClosedExOfficio;
                c.closed_on = Some(today);
                c.version += 1;
                c.history += 1;
                self.expect.closed.push(c.number);
                self.expect
                    .notifications
                    .push(("case_closed_ex_officio", c.number));
            }
        }
        for &i in &order {
            let c = &mut self.cases[i];
            let Some(deadline) = c.deadline else { continue };
            if c.state == Sub::InformationRequested
                && !c.reminded
                && today >= reminder_day(deadline, &support::holidays_for(c.province, c.office))
            {
                c.reminded = true;
                c.version += 1;
                self.expect.reminded.push(c.number);
                self.expect
                    .notifications
                    .push(("deadline_approaching", c.number));
            }
        }
        Verdict::Ok
    }

    /// A command on an existing case: DOMAIN.md §5 check order, then effect.
    fn command(&mut self, who: Who, target: Option<usize>, op: &Op) -> Verdict {
        let now = self.now;
        let today = madrid(now);
        let Some(c) = target.and_then(|i| self.cases.get_mut(i)) else {
            return err("not_found");
        };
        // Visibility (§1).
        let visible = match who {
            Who::User(u) => USERS[u].0 == c.authorization,
            Who::Processor { office, .. } => OFFICES[office] == c.office,
            Who::System => true,
        };
        if !visible {
            return err("not_found");
        }
        // Role, or the assigned processor (§5 "actor" column).
        let allowed = match op {
            Op::AddDocumentation { .. } | Op::Cancel { .. } | Op::Survey { .. } => {
                matches!(who, Who::User(_))
            }
            Op::Assign { .. } | Op::Transfer { .. } | Op::Reclassify { .. } => {
                matches!(who, Who::Processor { .. })
            }
            Op::RequestInformation { .. } | Op::Escalate { .. } | Op::Resolve { .. } => match who {
                Who::Processor { id, .. } => c.assignee == Some(PROCESSORS[id]),
                _ => false,
            },
            Op::CloseExOfficio => who == Who::System,
            Op::Submit(_) | Op::Sweep => unreachable!("not a case command"),
        };
        if !allowed {
            return err("forbidden");
        }
        if let Op::Survey { rating, comment } = op {
            // The survey rule (§5).
            if c.state != Sub::Resolved {
                return err("survey_not_allowed");
            }
            if c.surveyed {
                return err("survey_already_submitted");
            }
            let resolved_on = c.resolved_on.expect("a resolved case has a date");
            if today > resolved_on + Days::new(30) {
                return err("survey_window_closed");
            }
            let rating_ok = (1..=5).contains(rating);
            match (rating_ok, optional_ok(*comment)) {
                (true, true) => {}
                (false, true) => return invalid("rating"),
                (true, false) => return invalid("comment"),
                (false, false) => return err("invalid_field"),
            }
            c.surveyed = true;
            c.version += 1;
            c.history += 1;
            return Verdict::Ok;
        }
        if c.state.is_closed() {
            return err("case_closed");
        }
        use Sub::*;
        let from: &[Sub] = match op {
            Op::AddDocumentation { .. } | Op::Cancel { .. } | Op::Reclassify { .. } => &[
                Submitted,
                Assigned,
                InformationRequested,
                Escalated,
                Transferred,
            ],
            Op::Assign { .. } => &[Submitted, Assigned, Escalated, Transferred],
            Op::RequestInformation { .. } | Op::Escalate { .. } => &[Assigned],
            Op::Transfer { .. } => &[Submitted, Assigned, Escalated],
            Op::Resolve { .. } => &[Assigned, InformationRequested],
            Op::CloseExOfficio => &[InformationRequested],
            Op::Survey { .. } | Op::Submit(_) | Op::Sweep => unreachable!(),
        };
        if !from.contains(&c.state) {
            return err("transition_not_allowed");
        }
        let mut notification = None;
        match op {
            Op::AddDocumentation {
                comment,
                attachments,
            } => {
                if !optional_ok(*comment) {
                    return invalid("comment");
                }
                let accepted = match check_attachments(&c.attachments, attachments) {
                    Ok(a) => a,
                    Err(v) => return v,
                };
                if accepted.is_empty() && !optional_present(*comment) {
                    return invalid("comment");
                }
                c.attachments.extend(accepted);
                if c.state == InformationRequested {
                    c.state = Assigned;
                    c.deadline = None;
                }
            }
            Op::Cancel { reason } => {
                if !optional_ok(*reason) {
                    return invalid("reason");
                }
                c.state = Cancelled;
                c.deadline = None;
                c.closed_on = Some(today);
            }
            Op::Assign { target } => {
                let assignee = match (target, who) {
                    (Some(t), _) if PROCESSORS.contains(t) || *t == "P9" => *t,
                    (Some(_), _) => return invalid("processor"),
                    (None, Who::Processor { id, .. }) => PROCESSORS[id],
                    (None, _) => unreachable!("only processors get here"),
                };
                c.state = Assigned;
                c.assignee = Some(assignee);
            }
            Op::RequestInformation { observation } => {
                if !observation.required_ok() {
                    return invalid("observation");
                }
                let holidays = support::holidays_for(c.province, c.office);
                c.deadline = Some(deadline_date(today, policy(c.case_type), &holidays));
                c.reminded = false;
                c.state = InformationRequested;
                notification = Some("information_requested");
            }
            Op::Escalate { note } => {
                if !note.required_ok() {
                    return invalid("note");
                }
                c.state = Escalated;
            }
            Op::Transfer { office, note } => {
                let office_ok = OFFICES.contains(office) && *office != c.office;
                match (office_ok, optional_ok(*note)) {
                    (true, true) => {}
                    (false, true) => return invalid("office"),
                    (true, false) => return invalid("note"),
                    (false, false) => return err("invalid_field"),
                }
                c.office = OFFICES
                    .iter()
                    .copied()
                    .find(|o| o == office)
                    .expect("known office");
                c.assignee = None;
                c.state = Transferred;
            }
            Op::Reclassify { triple } => {
                let Some(path) = lookup(c.case_type, TRIPLES[*triple]) else {
                    return err("invalid_classification");
                };
                if !path.handled {
                    return err("not_handled_by_casia");
                }
                c.triple = path.triple;
            }
            Op::Resolve { resolution } => {
                if !resolution.required_ok() {
                    return invalid("resolution");
                }
                c.state = Resolved;
                c.deadline = None;
                c.resolved_on = Some(today);
                c.closed_on = Some(today);
                notification = Some("case_resolved");
            }
            Op::CloseExOfficio => {
                // Overdue from 00:00 Madrid of the day after the deadline.
                if c.deadline.is_none_or(|d| today <= d) {
                    return err("deadline_not_reached");
                }
                c.state = ClosedExOfficio;
                c.closed_on = Some(today);
                notification = Some("case_closed_ex_officio");
            }
            Op::Survey { .. } | Op::Submit(_) | Op::Sweep => unreachable!(),
        }
        c.version += 1;
        c.history += 1;
        let number = c.number;
        if let Some(kind) = notification {
            self.expect.notifications.push((kind, number));
        }
        Verdict::Ok
    }
}

// --- strategies ------------------------------------------------------------

fn any_who() -> BoxedStrategy<Who> {
    prop_oneof![
        (0..USERS.len()).prop_map(Who::User),
        (0..PROCESSORS.len(), 0..OFFICES.len())
            .prop_map(|(id, office)| Who::Processor { id, office }),
        Just(Who::System),
    ]
    .boxed()
}

/// What the generator knows of a case to pick plausible actors.
#[derive(Debug, Clone)]
struct CaseInfo {
    users: [usize; 2],
    office: usize,
    assignee: Option<usize>,
    state: Sub,
}

#[derive(Debug, Clone, Copy)]
enum Role {
    CaseUser,
    OfficeProcessor,
    Assignee,
    System,
}

fn role_of(op: &Op) -> Role {
    match op {
        Op::AddDocumentation { .. } | Op::Cancel { .. } | Op::Survey { .. } | Op::Submit(_) => {
            Role::CaseUser
        }
        Op::Assign { .. } | Op::Transfer { .. } | Op::Reclassify { .. } => Role::OfficeProcessor,
        Op::RequestInformation { .. } | Op::Escalate { .. } | Op::Resolve { .. } => Role::Assignee,
        Op::CloseExOfficio | Op::Sweep => Role::System,
    }
}

/// Mostly an actor who may run the command on the case, sometimes anyone.
fn who_for(info: Option<CaseInfo>, role: Role) -> BoxedStrategy<Who> {
    let Some(info) = info else {
        return any_who();
    };
    let office = info.office;
    let office_processor = (0..PROCESSORS.len())
        .prop_map(move |id| Who::Processor { id, office })
        .boxed();
    match role {
        Role::CaseUser => prop_oneof![
            4 => proptest::sample::select(info.users.to_vec()).prop_map(Who::User),
            1 => any_who(),
        ]
        .boxed(),
        Role::OfficeProcessor => prop_oneof![4 => office_processor, 1 => any_who()].boxed(),
        Role::Assignee => match info.assignee {
            Some(id) => prop_oneof![
                8 => Just(Who::Processor { id, office }),
                1 => office_processor,
                1 => any_who(),
            ]
            .boxed(),
            None => prop_oneof![3 => office_processor, 1 => any_who()].boxed(),
        },
        Role::System => prop_oneof![6 => Just(Who::System), 1 => any_who()].boxed(),
    }
}

/// 00:00 Europe/Madrid of a date, as an instant.
fn madrid_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(Madrid).earliest())
        .expect("Madrid midnight exists")
        .with_timezone(&Utc)
}

/// Seconds to move the clock: from seconds to 40 days, and sometimes to
/// just before or at a boundary of the model (the first overdue instant,
/// the reminder day, the end of a survey window).
fn advance(state: &Model, weight_random: u32) -> BoxedStrategy<i64> {
    let mut boundaries = Vec::new();
    for c in &state.cases {
        if let (Sub::InformationRequested, Some(d)) = (c.state, c.deadline) {
            let holidays = support::holidays_for(c.province, c.office);
            boundaries.push(madrid_midnight(d + Days::new(1)));
            boundaries.push(madrid_midnight(reminder_day(d, &holidays)));
        }
        if let (Sub::Resolved, Some(d), false) = (c.state, c.resolved_on, c.surveyed) {
            boundaries.push(madrid_midnight(d + Days::new(31)));
        }
    }
    let seconds: Vec<i64> = boundaries
        .iter()
        .flat_map(|b| [*b - Duration::seconds(1), *b])
        .map(|b| (b - state.now).num_seconds())
        .filter(|s| *s > 0)
        .collect();
    let random = prop_oneof![
        5 => 1i64..7_200,
        3 => 7_200i64..432_000,
        2 => 432_000i64..=3_456_000,
    ];
    if seconds.is_empty() {
        random.boxed()
    } else {
        prop_oneof![weight_random => random, 3 => proptest::sample::select(seconds)].boxed()
    }
}

fn text() -> BoxedStrategy<Text> {
    prop_oneof![
        8 => Just(Text::Valid),
        1 => Just(Text::Max),
        1 => Just(Text::Blank),
        1 => Just(Text::TooLong),
    ]
    .boxed()
}

fn optional_text() -> BoxedStrategy<Option<Text>> {
    prop_oneof![3 => Just(None), 4 => text().prop_map(Some)].boxed()
}

fn att() -> BoxedStrategy<Att> {
    let kind = prop_oneof![
        12 => Just(AttKind::Pdf),
        6 => Just(AttKind::PlainText),
        1 => Just(AttKind::Big),
        1 => Just(AttKind::Html),
        1 => Just(AttKind::Empty),
        1 => Just(AttKind::UnknownType),
        1 => Just(AttKind::BlankTitle),
    ];
    (kind, 0u8..8, any::<bool>())
        .prop_map(|(kind, seed, identity)| Att {
            kind,
            seed,
            identity,
        })
        .boxed()
}

/// Mostly a valid submission (with the data and documents its subcategory
/// requires), sometimes an arbitrary one.
fn submit_spec() -> BoxedStrategy<SubmitSpec> {
    // (type, triple, needs a NIF, required document type)
    const GOOD: [(&str, usize, bool, Option<bool>); 6] = [
        ("inquiry", 0, false, None),
        ("inquiry", 3, false, None),
        ("procedure", 5, false, None),
        ("inquiry", 1, true, Some(true)),
        ("procedure", 1, true, Some(true)),
        ("procedure", 4, false, Some(false)),
    ];
    let good = (
        proptest::sample::select(GOOD.to_vec()),
        0u8..8,
        proptest::collection::vec(att(), 0..2),
        any::<bool>(),
    )
        .prop_map(
            |((case_type, triple, nif, document), seed, extra, affects)| {
                let mut attachments: Vec<Att> = document
                    .map(|identity| Att {
                        kind: AttKind::Pdf,
                        seed,
                        identity,
                    })
                    .into_iter()
                    .collect();
                attachments.extend(extra);
                SubmitSpec {
                    case_type,
                    triple,
                    title: Text::Valid,
                    description: Text::Valid,
                    nif: nif.then_some(true),
                    attachments,
                    affects_current_period: affects,
                }
            },
        );
    let case_type = prop_oneof![
        6 => Just("inquiry"),
        4 => Just("procedure"),
        1 => Just("incident"),
    ];
    let rare_bad =
        || prop_oneof![12 => Just(Text::Valid), 1 => Just(Text::Max), 1 => Just(Text::Blank)];
    let nif = prop_oneof![4 => Just(None), 3 => Just(Some(true)), 1 => Just(Some(false))];
    let arbitrary = (
        case_type,
        0..TRIPLES.len(),
        rare_bad(),
        rare_bad(),
        nif,
        proptest::collection::vec(att(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(case_type, triple, title, description, nif, attachments, affects)| SubmitSpec {
                case_type,
                triple,
                title,
                description,
                nif,
                attachments,
                affects_current_period: affects,
            },
        );
    prop_oneof![3 => good, 1 => arbitrary].boxed()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AddDocumentation,
    Cancel,
    Assign,
    RequestInformation,
    Escalate,
    Transfer,
    Reclassify,
    Resolve,
    CloseExOfficio,
    Survey,
}

fn op_of(kind: Kind) -> BoxedStrategy<Op> {
    match kind {
        Kind::AddDocumentation => (
            prop_oneof![
                2 => Just(None),
                1 => Just(Some(Text::Blank)),
                4 => Just(Some(Text::Valid)),
                1 => Just(Some(Text::Max)),
                1 => Just(Some(Text::TooLong)),
            ],
            proptest::collection::vec(att(), 0..3),
        )
            .prop_map(|(comment, attachments)| Op::AddDocumentation {
                comment,
                // A too long comment and a bad attachment would make the order
                // of the two input checks matter, which DOMAIN.md leaves open.
                attachments: if comment == Some(Text::TooLong) {
                    Vec::new()
                } else {
                    attachments
                },
            })
            .boxed(),
        Kind::Cancel => optional_text()
            .prop_map(|reason| Op::Cancel { reason })
            .boxed(),
        Kind::Assign => prop_oneof![
            3 => Just(None),
            3 => proptest::sample::select(PROCESSORS.to_vec()).prop_map(Some),
            1 => Just(Some("P9")),
            1 => Just(Some("no válido")),
        ]
        .prop_map(|target| Op::Assign { target })
        .boxed(),
        Kind::RequestInformation => text()
            .prop_map(|observation| Op::RequestInformation { observation })
            .boxed(),
        Kind::Escalate => text().prop_map(|note| Op::Escalate { note }).boxed(),
        Kind::Transfer => (
            prop_oneof![
                6 => proptest::sample::select(OFFICES.to_vec()),
                1 => Just("99"),
                1 => Just("8"),
            ],
            optional_text(),
        )
            .prop_map(|(office, note)| Op::Transfer { office, note })
            .boxed(),
        Kind::Reclassify => (0..TRIPLES.len())
            .prop_map(|triple| Op::Reclassify { triple })
            .boxed(),
        Kind::Resolve => text()
            .prop_map(|resolution| Op::Resolve { resolution })
            .boxed(),
        Kind::CloseExOfficio => Just(Op::CloseExOfficio).boxed(),
        Kind::Survey => (
            prop_oneof![8 => 1i64..=5, 1 => Just(0i64), 1 => Just(6i64)],
            optional_text(),
        )
            .prop_map(|(rating, comment)| Op::Survey { rating, comment })
            .boxed(),
    }
}

/// Any command, whatever the case's state.
fn case_op() -> BoxedStrategy<Op> {
    use Kind::*;
    weighted_kinds(&[
        (AddDocumentation, 4),
        (Cancel, 1),
        (Assign, 4),
        (RequestInformation, 4),
        (Escalate, 2),
        (Transfer, 2),
        (Reclassify, 1),
        (Resolve, 3),
        (CloseExOfficio, 1),
        (Survey, 3),
    ])
}

/// Mostly the commands that make progress from the case's substatus.
fn fitting_op(state: Sub) -> BoxedStrategy<Op> {
    use Kind::*;
    let kinds: &[(Kind, usize)] = match state {
        Sub::Submitted => &[
            (Assign, 4),
            (Transfer, 1),
            (AddDocumentation, 1),
            (Reclassify, 1),
            (Cancel, 1),
        ],
        Sub::Assigned => &[
            (RequestInformation, 4),
            (Resolve, 3),
            (Escalate, 1),
            (Transfer, 1),
            (AddDocumentation, 1),
            (Assign, 1),
        ],
        Sub::InformationRequested => &[
            (AddDocumentation, 1),
            (Resolve, 1),
            (CloseExOfficio, 2),
            (Cancel, 1),
        ],
        Sub::Escalated => &[
            (Assign, 2),
            (Transfer, 1),
            (AddDocumentation, 1),
            (Resolve, 1),
        ],
        Sub::Transferred => &[(Assign, 4), (AddDocumentation, 1), (Cancel, 1)],
        Sub::Resolved => &[(Survey, 5), (AddDocumentation, 1)],
        Sub::Cancelled | Sub::ClosedExOfficio => &[
            (Survey, 1),
            (AddDocumentation, 1),
            (Assign, 1),
            (CloseExOfficio, 1),
        ],
    };
    weighted_kinds(kinds)
}

fn weighted_kinds(kinds: &[(Kind, usize)]) -> BoxedStrategy<Op> {
    let pool: Vec<Kind> = kinds
        .iter()
        .flat_map(|&(k, w)| std::iter::repeat_n(k, w))
        .collect();
    proptest::sample::select(pool).prop_flat_map(op_of).boxed()
}

fn start() -> DateTime<Utc> {
    support::at("2025-01-01T00:00:00Z")
}

struct CaseMachine;

impl ReferenceStateMachine for CaseMachine {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        // Anywhere in 2025–2026: DST changes, year ends and holidays included.
        (0i64..2 * 365 * 86_400)
            .prop_map(|s| Model {
                now: start() + Duration::seconds(s),
                cases: Vec::new(),
                sequences: BTreeMap::new(),
                expect: Expect::default(),
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let infos: Arc<Vec<CaseInfo>> = Arc::new(
            state
                .cases
                .iter()
                .map(|c| {
                    let first = USERS
                        .iter()
                        .position(|u| u.0 == c.authorization)
                        .expect("known authorization");
                    CaseInfo {
                        users: [first, first + 1],
                        office: OFFICES
                            .iter()
                            .position(|o| *o == c.office)
                            .expect("known office"),
                        assignee: c
                            .assignee
                            .and_then(|a| PROCESSORS.iter().position(|p| *p == a)),
                        state: c.state,
                    }
                })
                .collect(),
        );
        let n = infos.len();
        let submit =
            (advance(state, 12), 0..USERS.len(), submit_spec()).prop_map(|(advance, u, spec)| {
                Step {
                    advance,
                    who: Who::User(u),
                    target: None,
                    op: Op::Submit(spec),
                }
            });
        let sweep = (
            advance(state, 1),
            prop_oneof![9 => Just(Who::System), 1 => any_who()],
        )
            .prop_map(|(advance, who)| Step {
                advance,
                who,
                target: None,
                op: Op::Sweep,
            });
        let open: Vec<usize> = (0..n)
            .filter(|&i| !state.cases[i].state.is_closed())
            .collect();
        let target = match (n, open.is_empty()) {
            (0, _) => Just(None).boxed(),
            (_, true) => prop_oneof![12 => (0..n).prop_map(Some), 1 => Just(None)].boxed(),
            (_, false) => prop_oneof![
                8 => proptest::sample::select(open).prop_map(Some),
                4 => (0..n).prop_map(Some),
                1 => Just(None),
            ]
            .boxed(),
        };
        let for_ops = Arc::clone(&infos);
        let on_case = (advance(state, 12), target)
            .prop_flat_map(move |(advance, target)| {
                let op = match target.and_then(|i| for_ops.get(i)) {
                    Some(info) => prop_oneof![3 => fitting_op(info.state), 2 => case_op()].boxed(),
                    None => case_op(),
                };
                (Just(advance), Just(target), op)
            })
            .prop_flat_map(move |(advance, target, op)| {
                let info = target.and_then(|i| infos.get(i).cloned());
                let role = role_of(&op);
                (Just(advance), Just(target), Just(op), who_for(info, role))
            })
            .prop_map(|(advance, target, op, who)| Step {
                advance,
                who,
                target,
                op,
            });
        let submit_weight = if n == 0 { 40 } else { 3 };
        prop_oneof![
            submit_weight => submit,
            5 => sweep,
            28 => on_case,
        ]
        .boxed()
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        state.now += Duration::seconds(step.advance);
        state.expect = Expect::default();
        state.expect.verdict = match &step.op {
            Op::Submit(spec) => state.submit(step.who, spec),
            Op::Sweep => state.sweep(step.who),
            op => state.command(step.who, step.target, op),
        };
        state
    }
}

// ---------------------------------------------------------------------------
// The system under test.

struct Sut {
    service: CaseService,
    clock: Arc<FixedClock>,
    store: Arc<MemoryStore>,
    /// Every case as stored after the previous step.
    previous: BTreeMap<CaseNumber, Case>,
}

fn code_of(e: &ServiceError) -> (&'static str, Option<String>) {
    let rule = e
        .as_rule()
        .unwrap_or_else(|| panic!("a store failure in the memory store: {e}"));
    let detail = rule
        .reason()
        .map(|r| r.as_str().to_owned())
        .or_else(|| rule.field().map(str::to_owned));
    (rule.code().as_str(), detail)
}

fn check_verdict<T>(expected: &Verdict, got: &Result<T, ServiceError>, step: &Step) {
    match (expected, got) {
        (Verdict::Ok, Ok(_)) => {}
        (Verdict::Ok, Err(e)) => panic!("expected ok, got {:?} for {step:?}", code_of(e)),
        (Verdict::Err(code, _), Ok(_)) => panic!("expected {code}, got ok for {step:?}"),
        (Verdict::Err(code, detail), Err(e)) => {
            let (got_code, got_detail) = code_of(e);
            assert_eq!(*code, got_code, "error code for {step:?}");
            if let Some(d) = detail {
                assert_eq!(Some(*d), got_detail.as_deref(), "field/reason for {step:?}");
            }
        }
    }
}

fn submit_input(spec: &SubmitSpec) -> SubmitInput {
    let (materia, category, subcategory) = TRIPLES[spec.triple];
    let mut data = BTreeMap::new();
    match spec.nif {
        Some(true) => {
            data.insert("nif".to_owned(), "12345678-z".to_owned());
        }
        Some(false) => {
            data.insert("nif".to_owned(), "12345678A".to_owned());
        }
        None => {}
    }
    SubmitInput {
        case_type: spec.case_type.to_owned(),
        materia: materia.to_owned(),
        category: category.to_owned(),
        subcategory: subcategory.to_owned(),
        affects_current_period: spec.affects_current_period,
        title: spec.title.render(150),
        description: spec.description.render(4000),
        complementary_data: data,
        attachments: spec
            .attachments
            .iter()
            .map(|a| a.new_attachment())
            .collect(),
    }
}

/// A number no case has: the current year's last possible sequence.
fn missing_number(now: DateTime<Utc>) -> CaseNumber {
    CaseNumber::new(madrid(now).year(), CaseNumber::MAX_SEQUENCE).expect("case number")
}

fn all_cases(sut: &Sut, model: &Model) -> BTreeMap<CaseNumber, Case> {
    model
        .cases
        .iter()
        .map(|m| {
            let case = block_on(sut.service.get(&Actor::System, m.number))
                .unwrap_or_else(|e| panic!("{} must be readable by the system: {e}", m.number));
            (m.number, case)
        })
        .collect()
}

impl StateMachineTest for CaseMachine {
    type SystemUnderTest = Sut;
    type Reference = CaseMachine;

    fn init_test(model: &Model) -> Sut {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(FixedClock::new(model.now));
        let service = support::service_over(store.clone(), clock.clone(), limits());
        Sut {
            service,
            clock,
            store,
            previous: BTreeMap::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, step: Step) -> Sut {
        sut.clock.set(model.now);
        let expect = &model.expect;
        let outbox_before = sut.store.outbox_snapshot().len();
        let actor = step.who.actor();
        let emitted: Vec<(&'static str, CaseNumber)> = match &step.op {
            Op::Submit(spec) => {
                let got = block_on(sut.service.submit(&actor, &submit_input(spec)));
                check_verdict(&expect.verdict, &got, &step);
                match got {
                    Ok(outcome) => {
                        assert_eq!(Some(outcome.case.number), expect.created, "case number");
                        kinds(&outcome.notifications)
                    }
                    Err(_) => Vec::new(),
                }
            }
            Op::Sweep => {
                let got = block_on(sut.service.sweep_as(&actor));
                check_verdict(&expect.verdict, &got, &step);
                match got {
                    Ok(report) => {
                        assert_eq!(report.closed, expect.closed, "closed by the sweep");
                        assert_eq!(report.reminded, expect.reminded, "reminded by the sweep");
                        kinds(&report.notifications)
                    }
                    Err(_) => Vec::new(),
                }
            }
            op => {
                let number = step
                    .target
                    .and_then(|i| model.cases.get(i))
                    .map_or_else(|| missing_number(model.now), |c| c.number);
                let command = op.command().expect("a case command");
                let got = block_on(sut.service.execute(&actor, number, &command));
                check_verdict(&expect.verdict, &got, &step);
                match got {
                    Ok(outcome) => {
                        assert_eq!(outcome.case.number, number);
                        let m = model
                            .cases
                            .iter()
                            .find(|c| c.number == number)
                            .expect("modelled");
                        assert_eq!(outcome.case.version, m.version, "returned version");
                        kinds(&outcome.notifications)
                    }
                    Err(_) => Vec::new(),
                }
            }
        };
        // Notifications per command (§5) and the outbox written with them (§9).
        assert_eq!(emitted, expect.notifications, "notifications of {step:?}");
        let outbox = sut.store.outbox_snapshot();
        assert_eq!(
            kinds(
                &outbox[outbox_before..]
                    .iter()
                    .map(|m| m.notification.clone())
                    .collect::<Vec<_>>()
            ),
            expect.notifications,
            "outbox after {step:?}"
        );

        // Relations between the previous and the current store.
        let now = all_cases(&sut, model);
        for (number, before) in &sut.previous {
            let after = &now[number];
            assert!(
                after.history.starts_with(&before.history),
                "{number}: history was rewritten by {step:?}"
            );
            if before.state.is_closed() {
                assert_eq!(after.state, before.state, "{number}: a closed case changed");
            }
            let delta = after.version - before.version;
            assert!(delta <= 1, "{number}: version jumped by {delta}");
            if after.history.len() > before.history.len() {
                assert_eq!(delta, 1, "{number}: a history entry without a write");
            }
            if after.state != before.state {
                assert!(
                    after.history[before.history.len()..]
                        .iter()
                        .any(|e| e.state == after.state),
                    "{number}: substatus changed without a history entry"
                );
            }
            if expect.verdict != Verdict::Ok {
                assert_eq!(after, before, "{number}: a failed command changed the case");
            }
        }
        sut.previous = now;
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        assert_eq!(sut.store.len(), model.cases.len(), "number of stored cases");
        // Case numbers are 1..n per year, without gaps.
        for (year, last) in &model.sequences {
            let next = CaseNumber::new(*year, last + 1).expect("case number");
            assert!(
                block_on(sut.store.get(next)).expect("get").is_none(),
                "{next} exists"
            );
            for seq in 1..=*last {
                let n = CaseNumber::new(*year, seq).expect("case number");
                assert!(
                    model.cases.iter().any(|c| c.number == n),
                    "{n} missing from the model"
                );
            }
        }
        let stored = all_cases(sut, model);
        for m in &model.cases {
            let c = &stored[&m.number];
            let n = m.number;
            let open = [
                "submitted",
                "assigned",
                "information_requested",
                "escalated",
                "transferred",
            ];
            let code = c.state.substatus_code();
            assert_eq!(code, m.state.code(), "{n}: substatus");
            assert_eq!(
                c.state.status().as_str(),
                if open.contains(&code) {
                    "open"
                } else {
                    "closed"
                },
                "{n}: status/substatus"
            );
            assert_eq!(
                c.assignee.as_ref().map(|p| p.as_str()),
                m.assignee,
                "{n}: assignee"
            );
            assert_eq!(c.office.code(), m.office, "{n}: office");
            assert_eq!(c.province.code(), m.province, "{n}: province");
            assert_eq!(
                c.authorization.as_str(),
                m.authorization,
                "{n}: authorization"
            );
            assert_eq!(c.case_type.as_str(), m.case_type, "{n}: case type");
            assert_eq!(
                (
                    c.materia.as_str(),
                    c.category.as_str(),
                    c.subcategory.as_str()
                ),
                m.triple,
                "{n}: classification"
            );
            assert_eq!(c.deadline, m.deadline, "{n}: deadline");
            assert_eq!(
                c.deadline.is_some(),
                matches!(code, "information_requested" | "closed_ex_officio"),
                "{n}: deadline set iff information_requested or closed_ex_officio"
            );
            assert_eq!(c.survey.is_some(), m.surveyed, "{n}: survey");
            assert_eq!(c.version, m.version, "{n}: version");
            assert_eq!(c.history.len(), m.history, "{n}: history length");
            assert_eq!(c.history[0].event.as_str(), "submitted", "{n}: first entry");
            assert_eq!(
                c.history.last().map(|e| e.state),
                Some(c.state),
                "{n}: the last entry carries the substatus"
            );
            assert_eq!(c.closed_at.map(madrid), m.closed_on, "{n}: closure date");
            if code == "closed_ex_officio" {
                let closed_on = madrid(c.closed_at.expect("closed_at"));
                let deadline = c.deadline.expect("deadline kept");
                assert!(closed_on > deadline, "{n}: closed ex officio in time");
            }
            assert_eq!(c.attachments.len(), m.attachments.len(), "{n}: attachments");
            for (meta, bytes) in c.attachments.iter().zip(&m.attachments) {
                let stored = block_on(sut.store.attachment_content(n, meta.id))
                    .expect("content")
                    .expect("stored bytes");
                assert_eq!(&stored[..], &bytes[..], "{n}: attachment {}", meta.id);
                assert_eq!(meta.size, bytes.len() as u64);
            }
        }
    }
}

fn kinds(notifications: &[casia_core::Notification]) -> Vec<(&'static str, CaseNumber)> {
    notifications
        .iter()
        .map(|n| (n.kind.as_str(), n.case_number))
        .collect()
}

/// 256 sequences unless `PROPTEST_CASES` says otherwise; no regression files
/// are written (the failing sequence is printed).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn the_service_behaves_as_the_model(sequential 1..=40 => CaseMachine);
}

/// The generator reaches the interesting states and verdicts: without this,
/// a model that never leaves `submitted` would pass vacuously.
#[test]
fn the_generator_reaches_every_substatus_and_verdict() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut substatuses = BTreeSet::new();
    let mut verdicts = BTreeSet::new();
    let mut oks = BTreeSet::new();
    let (mut swept, mut reminded) = (0, 0);
    for _ in 0..200 {
        let tree = CaseMachine::sequential_strategy(1..=40)
            .new_tree(&mut runner)
            .expect("tree");
        let (mut model, steps, _) = tree.current();
        for step in &steps {
            model = <CaseMachine as ReferenceStateMachine>::apply(model, step);
            match model.expect.verdict {
                Verdict::Ok => {
                    let op = format!("{:?}", step.op);
                    oks.insert(op.split([' ', '(']).next().unwrap_or_default().to_owned());
                }
                Verdict::Err(code, detail) => {
                    verdicts.insert(detail.unwrap_or(code));
                }
            }
            swept += model.expect.closed.len();
            reminded += model.expect.reminded.len();
            substatuses.extend(model.cases.iter().map(|c| c.state.code()));
        }
    }
    for code in [
        "submitted",
        "assigned",
        "information_requested",
        "escalated",
        "transferred",
        "cancelled",
        "resolved",
        "closed_ex_officio",
    ] {
        assert!(substatuses.contains(code), "never reached {code}");
    }
    for op in [
        "Submit",
        "AddDocumentation",
        "Cancel",
        "Assign",
        "RequestInformation",
        "Escalate",
        "Transfer",
        "Reclassify",
        "Resolve",
        "CloseExOfficio",
        "Survey",
        "Sweep",
    ] {
        assert!(oks.contains(op), "{op} never succeeded");
    }
    for verdict in [
        "not_found",
        "forbidden",
        "case_closed",
        "transition_not_allowed",
        "comment",
        "processor",
        "office",
        "observation",
        "rating",
        "invalid_classification",
        "not_handled_by_casia",
        "nif",
        "naf",
        "identity",
        "empty",
        "too_large",
        "too_many",
        "total_too_large",
        "unsupported_format",
        "unknown_document_type",
        "invalid_title",
        "duplicate_attachment",
        "deadline_not_reached",
        "survey_not_allowed",
        "survey_already_submitted",
        "survey_window_closed",
    ] {
        assert!(verdicts.contains(verdict), "{verdict} never expected");
    }
    assert!(swept > 0, "the sweep never closed a case");
    assert!(reminded > 0, "the sweep never reminded");
}
