//! The cases the storage benchmarks write and search: real submissions run
//! through the core (`validate_submission`, `CaseDraft::complete`,
//! `command::decide`), so every row is one the service could have written.

use std::collections::BTreeMap;
use std::sync::Arc;

use casia::calendar::madrid_month;
use casia::command::decide;
use casia::notification::Notification;
use casia::receipt::ReceiptKey;
use casia::submission::validate_submission;
use casia::{
    Actor, AuthorizationId, Case, CaseNumber, CaseRules, Command, ProcessorId, ProvinceCode,
    SubmitInput, UserId,
};
use chrono::{DateTime, Duration, Utc};

use casia_store_sql::writes::WriteRows;

use super::load::rows_of;

/// The year every generated case is numbered in.
pub const YEAR: i32 = 2026;

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The default catalog and calendar; receipts signed with a bench key.
pub fn rules() -> Arc<CaseRules> {
    Arc::new(CaseRules::with_defaults(ReceiptKey::new(
        b"casia-bench".to_vec(),
    )))
}

/// The province (and so the office) of authorization `a`.
pub fn province(a: u32) -> ProvinceCode {
    let code = format!("{:02}", a % 52 + 1);
    ProvinceCode::parse(&code).unwrap_or_else(|e| panic!("{e}"))
}

pub fn authorization(a: u32) -> AuthorizationId {
    AuthorizationId::parse(&format!("A{a:05}")).unwrap_or_else(|e| panic!("{e}"))
}

/// A user of authorization `a` (three users per authorization).
pub fn user(a: u32, i: u64) -> Actor {
    Actor::User {
        authorization: authorization(a),
        user: UserId::parse(&format!("u{a}-{}", i % 3)).unwrap_or_else(|e| panic!("{e}")),
        province: province(a),
    }
}

/// The processor of the office of authorization `a`.
pub fn processor(a: u32) -> Actor {
    let office = province(a);
    Actor::Processor {
        processor: ProcessorId::parse(&format!("P{}", office.code()))
            .unwrap_or_else(|e| panic!("{e}")),
        office,
    }
}

/// The processor of `office`.
pub fn office_processor(office: ProvinceCode) -> Actor {
    Actor::Processor {
        processor: ProcessorId::parse(&format!("P{}", office.code()))
            .unwrap_or_else(|e| panic!("{e}")),
        office,
    }
}

/// Submission `i`: an `inquiry › afiliacion › altas › altas` with a NAF
/// and a reference, no attachments (the issue's "one case, no
/// attachments").
pub fn submission(i: u64) -> SubmitInput {
    SubmitInput {
        case_type: "inquiry".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: "altas".into(),
        affects_current_period: i.is_multiple_of(4),
        title: format!("Alta con efectos retroactivos {i}"),
        description: "Alta de un trabajador comunicada fuera de plazo; solicitamos \
                      confirmación de la fecha de efectos y de las cuotas afectadas."
            .into(),
        complementary_data: BTreeMap::from([
            ("naf".to_owned(), "281234567840".to_owned()),
            ("reference".to_owned(), format!("REF-{i}")),
        ]),
        attachments: Vec::new(),
    }
}

/// How far a generated case got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Submitted,
    Assigned,
    InformationRequested,
    Resolved,
}

/// A case as the service would have left it, and every notification it
/// emitted on the way.
#[derive(Debug, Clone)]
pub struct Lived {
    pub case: Case,
    pub notifications: Vec<Notification>,
}

impl Lived {
    /// The rows the store writes for this case (notifications pending).
    pub fn rows(&self) -> WriteRows {
        rows_of(&self.case, &self.notifications)
    }
}

fn apply(
    lived: &mut Lived,
    actor: &Actor,
    command: &Command,
    rules: &CaseRules,
    now: DateTime<Utc>,
) {
    let change = decide(&lived.case, actor, command, rules, now)
        .unwrap_or_else(|e| panic!("{command:?} on {}: {e}", lived.case.number));
    lived.case = change.case;
    lived.notifications.extend(change.notifications);
}

/// Submission `i` by a user of authorization `a` at `submitted_at`, numbered
/// `sequence`, then taken to `fate` by the office's processor.
pub fn live(
    rules: &CaseRules,
    a: u32,
    i: u64,
    submitted_at: DateTime<Utc>,
    sequence: u32,
    fate: Fate,
) -> Lived {
    let actor = user(a, i);
    let draft = validate_submission(&actor, &submission(i), rules, submitted_at)
        .unwrap_or_else(|e| panic!("submission {i}: {e}"));
    let number = CaseNumber::new(draft.year(), sequence).unwrap_or_else(|| panic!("number"));
    let created = draft.complete(number);
    let mut lived = Lived {
        case: created.case,
        notifications: created.notifications,
    };
    let clerk = processor(a);
    if fate != Fate::Submitted {
        let assign = Command::Assign { processor: None };
        apply(
            &mut lived,
            &clerk,
            &assign,
            rules,
            submitted_at + Duration::hours(1),
        );
    }
    match fate {
        Fate::Submitted | Fate::Assigned => {}
        Fate::InformationRequested => {
            let request = Command::RequestInformation {
                observation: "Aporte el informe de vida laboral del trabajador.".into(),
            };
            apply(
                &mut lived,
                &clerk,
                &request,
                rules,
                submitted_at + Duration::hours(3),
            );
        }
        Fate::Resolved => {
            let resolve = Command::Resolve {
                resolution: "Se confirma la fecha de efectos; las cuotas se han recalculado."
                    .into(),
            };
            apply(
                &mut lived,
                &clerk,
                &resolve,
                rules,
                submitted_at + Duration::days(2),
            );
        }
    }
    lived
}

/// splitmix64: a fixed, dependency-free pseudo-random sequence.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The 1,000,000-case search dataset: case `i` belongs to authorization
/// `i % authorizations`, cases are submitted evenly over 2026 in number
/// order, 60 % resolved, 15 % submitted, 15 % assigned, 10 % waiting for
/// information.
#[derive(Debug, Clone, Copy)]
pub struct SearchSet {
    pub cases: u64,
    pub authorizations: u32,
}

impl SearchSet {
    pub fn authorization_of(&self, i: u64) -> u32 {
        u32::try_from(i % u64::from(self.authorizations)).unwrap_or(0)
    }

    pub fn submitted_at(&self, i: u64) -> DateTime<Utc> {
        // 2026-01-01T00:00Z .. 2026-12-31T00:00Z: Madrid dates stay in 2026.
        let span_micros: i64 = 364 * 24 * 3600 * 1_000_000;
        let step = span_micros / i64::try_from(self.cases.max(1)).unwrap_or(1);
        at("2026-01-01T00:00:00Z") + Duration::microseconds(step * i64::try_from(i).unwrap_or(0))
    }

    pub fn fate(&self, i: u64) -> Fate {
        match mix(i) % 100 {
            0..60 => Fate::Resolved,
            60..75 => Fate::Submitted,
            75..90 => Fate::Assigned,
            _ => Fate::InformationRequested,
        }
    }

    /// The Madrid month (1–12) case `i` is found under.
    pub fn month(&self, i: u64) -> u32 {
        madrid_month(self.submitted_at(i)).1
    }

    pub fn case(&self, rules: &CaseRules, i: u64) -> Lived {
        let sequence = u32::try_from(i + 1).unwrap_or(u32::MAX);
        live(
            rules,
            self.authorization_of(i),
            i,
            self.submitted_at(i),
            sequence,
            self.fate(i),
        )
    }
}

/// The sweep dataset: `cases` cases submitted over October 2026, each asked
/// for information three hours later (20 calendar days to answer), none
/// answered.
#[derive(Debug, Clone, Copy)]
pub struct OverdueSet {
    pub cases: u64,
    pub authorizations: u32,
}

impl OverdueSet {
    pub fn case(&self, rules: &CaseRules, i: u64) -> Lived {
        let span_micros: i64 = 30 * 24 * 3600 * 1_000_000;
        let step = span_micros / i64::try_from(self.cases.max(1)).unwrap_or(1);
        let submitted_at = at("2026-10-01T08:00:00Z")
            + Duration::microseconds(step * i64::try_from(i).unwrap_or(0));
        let a = u32::try_from(i % u64::from(self.authorizations)).unwrap_or(0);
        let sequence = u32::try_from(i + 1).unwrap_or(u32::MAX);
        live(
            rules,
            a,
            i,
            submitted_at,
            sequence,
            Fate::InformationRequested,
        )
    }

    /// An instant after every deadline of the set.
    pub fn sweep_at(&self) -> DateTime<Utc> {
        at("2027-01-15T09:00:00Z")
    }
}
