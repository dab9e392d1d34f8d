//! The `command_sequence` fuzz target: bytes decoded into steps, run on the
//! in-memory store, invariants checked after each one.

use std::sync::Arc;

use casia_core::attachment::NewAttachment;
use casia_core::calendar::madrid_date;
use casia_core::case::{Case, HistoryEvent};
use casia_core::ids::CaseNumber;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::receipt::ReceiptKey;
use casia_core::status::{CaseState, ClosedSubstatus, OpenSubstatus};
use casia_core::{Actor, CaseRules, CaseService, Command, SubmitInput};
use chrono::{DateTime, Duration, Utc};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }
}

/// Parses one of this file's fixed, valid ids.
fn id<T: std::str::FromStr>(s: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| unreachable!("fixed ids are valid"))
}

fn actor(b: u8) -> Actor {
    match b % 7 {
        0 => Actor::User {
            authorization: id("A1"),
            user: id("u1"),
            province: id("28"),
        },
        1 => Actor::User {
            authorization: id("A1"),
            user: id("u2"),
            province: id("28"),
        },
        2 => Actor::User {
            authorization: id("A2"),
            user: id("v1"),
            province: id("08"),
        },
        3 => Actor::Processor {
            processor: id("P1"),
            office: id("28"),
        },
        4 => Actor::Processor {
            processor: id("P2"),
            office: id("28"),
        },
        5 => Actor::Processor {
            processor: id("P7"),
            office: id("08"),
        },
        _ => Actor::System,
    }
}

fn text(b: u8) -> String {
    match b % 4 {
        0 => String::new(),
        1 => "  ".into(),
        2 => "Texto".into(),
        _ => "x".repeat(usize::from(b) * 40),
    }
}

fn command(kind: u8, arg: u8) -> Command {
    match kind % 10 {
        0 => Command::AddDocumentation {
            comment: Some(text(arg)),
            attachments: if arg.is_multiple_of(2) {
                vec![NewAttachment {
                    document_type: if arg.is_multiple_of(8) {
                        "nope".into()
                    } else {
                        "other".into()
                    },
                    title: "Doc".into(),
                    file_name: "d.pdf".into(),
                    content: format!("%PDF-1.7\n{arg}").into_bytes().into(),
                }]
            } else {
                Vec::new()
            },
        },
        1 => Command::Cancel {
            reason: Some(text(arg)),
        },
        2 => Command::Assign {
            processor: [None, Some("P2".to_owned()), Some("bad id!".to_owned())]
                [usize::from(arg % 3)]
            .clone(),
        },
        3 => Command::RequestInformation {
            observation: text(arg),
        },
        4 => Command::Escalate { note: text(arg) },
        5 => Command::Transfer {
            office: ["28", "08", "41", "99"][usize::from(arg % 4)].into(),
            note: None,
        },
        6 => Command::Reclassify {
            materia: "afiliacion".into(),
            category: "altas".into(),
            subcategory: ["plazos", "nope"][usize::from(arg % 2)].into(),
        },
        7 => Command::Resolve {
            resolution: text(arg),
        },
        8 => Command::CloseExOfficio,
        _ => Command::Survey {
            rating: i64::from(arg % 7),
            comment: None,
        },
    }
}

fn submission(arg: u8) -> SubmitInput {
    SubmitInput {
        case_type: "inquiry".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: if arg.is_multiple_of(5) {
            "nope".into()
        } else {
            "plazos".into()
        },
        affects_current_period: arg.is_multiple_of(2),
        title: text(arg.wrapping_add(2)),
        description: "Descripción".into(),
        ..SubmitInput::default()
    }
}

fn all_cases(store: &MemoryStore, numbers: &[CaseNumber]) -> Vec<Case> {
    numbers
        .iter()
        .filter_map(|n| futures_executor::block_on(store.get(*n)).ok().flatten())
        .collect()
}

pub(crate) fn run(data: &[u8]) {
    let store = Arc::new(MemoryStore::new());
    let start: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    let clock = Arc::new(FixedClock::new(start));
    let service = CaseService::new(
        store.clone(),
        clock.clone(),
        Arc::new(CaseRules::with_defaults(ReceiptKey::new("fuzz"))),
    );
    let mut now = start;
    let mut numbers: Vec<CaseNumber> = Vec::new();
    let mut before: Vec<Case> = Vec::new();
    let mut bytes = Bytes(data);
    for _ in 0..64 {
        let (Some(op), Some(who), Some(arg), Some(dt)) =
            (bytes.next(), bytes.next(), bytes.next(), bytes.next())
        else {
            break;
        };
        now += Duration::minutes(i64::from(dt) * i64::from(dt) * 3);
        clock.set(now);
        let who = actor(who);
        let result = match op % 12 {
            0 | 1 => futures_executor::block_on(service.submit(&who, &submission(arg))).map(|o| {
                numbers.push(o.case.number);
            }),
            2 => futures_executor::block_on(service.sweep_as(&who)).map(|_| ()),
            _ => match numbers.get(usize::from(arg) % numbers.len().max(1)) {
                Some(n) => futures_executor::block_on(service.execute(&who, *n, &command(op, arg)))
                    .map(|_| ()),
                None => Ok(()),
            },
        };
        // A store failure never happens in memory; a rule error is fine.
        assert!(
            result.as_ref().err().is_none_or(|e| e.as_rule().is_some()),
            "{result:?}"
        );
        let after = all_cases(&store, &numbers);
        check(&before, &after, now);
        before = after;
    }
}

fn check(before: &[Case], after: &[Case], now: DateTime<Utc>) {
    for (i, case) in after.iter().enumerate() {
        // Cases come in submission order; each Madrid year numbers from 1.
        let same_year_before = after[..i]
            .iter()
            .filter(|c| c.number.year() == case.number.year())
            .count();
        assert_eq!(
            case.number.sequence() as usize,
            same_year_before + 1,
            "numbers are gap-free per year"
        );
        assert_eq!(
            case.history.first().map(|h| h.event),
            Some(HistoryEvent::Submitted)
        );
        assert_eq!(
            case.history.last().map(|h| h.state),
            Some(case.state),
            "the last entry shows the state"
        );
        assert_eq!(
            case.deadline.is_some(),
            matches!(
                case.state,
                CaseState::Open(OpenSubstatus::InformationRequested)
                    | CaseState::Closed(ClosedSubstatus::ClosedExOfficio)
            )
        );
        if case.state == CaseState::Closed(ClosedSubstatus::ClosedExOfficio) {
            let closed = case.closed_at.unwrap_or(now);
            assert!(
                case.deadline.is_some_and(|d| madrid_date(closed) > d),
                "closed ex officio only after the deadline"
            );
        }
        for pair in case.history.windows(2) {
            assert!(pair[0].at <= pair[1].at);
        }
        if let Some(old) = before.get(i) {
            assert!(case.history.starts_with(&old.history), "history only grows");
            let grew = case.version - old.version;
            assert!(grew <= 1, "one write per step at most");
            if old.state.is_closed() {
                assert_eq!(case.state, old.state, "closed stays closed");
            }
            if case.state != old.state {
                assert_eq!(
                    case.history.len(),
                    old.history.len() + 1,
                    "a status change has its entry"
                );
            }
        }
    }
}
