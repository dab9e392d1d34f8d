//! The rows `casia-store-sql` writes for a case, computed from the core's
//! types exactly as its `rows.rs` does (that module is private to the
//! crate). The raw baselines and the bulk loaders insert these; the bench
//! reads some back through the store and compares them with the cases they
//! came from, so a drift from the store's mapping fails loudly.

use casia::notification::Notification;
use casia::{Case, HistoryEntry, Visibility};
use chrono::{DateTime, NaiveDate, Utc};

/// One `cases` row, in the column order of `CASE_COLUMNS`.
#[derive(Debug, Clone)]
pub struct CaseCols {
    pub number: String,
    pub case_type: String,
    pub materia: String,
    pub category: String,
    pub subcategory: String,
    pub substatus: String,
    pub office: String,
    pub assignee: Option<String>,
    pub authorization_id: String,
    pub submitted_by: String,
    pub province: String,
    pub affects_current_period: bool,
    pub title: String,
    pub description: String,
    pub complementary_data: String,
    pub deadline: Option<String>,
    pub reminder_sent: bool,
    pub submitted_at: i64,
    pub closed_at: Option<i64>,
    pub resolution: Option<String>,
    pub receipt: String,
    pub verification_code: String,
    pub version: i64,
}

/// One `history` row.
#[derive(Debug, Clone)]
pub struct HistoryCols {
    pub case_number: String,
    pub seq: i64,
    pub at: i64,
    pub event: String,
    pub substatus: String,
    pub actor_role: String,
    pub actor_id: Option<String>,
    pub observation: Option<String>,
    pub visibility: String,
}

/// One `outbox` row (the id is the table's). A delivered one carries what
/// the relay records (`recipient`, `delivered_at`); a new one is pending.
#[derive(Debug, Clone)]
pub struct OutboxCols {
    pub kind: String,
    pub case_number: String,
    pub authorization_id: String,
    pub at: i64,
    pub deadline: Option<String>,
    pub message_text: Option<String>,
    pub delivered: bool,
    pub recipient: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Everything one case puts in the database.
#[derive(Debug, Clone)]
pub struct CaseRows {
    pub case: CaseCols,
    pub history: Vec<HistoryCols>,
    pub outbox: Vec<OutboxCols>,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn json(value: Result<String, serde_json::Error>) -> String {
    value.unwrap_or_else(|e| panic!("encode: {e}"))
}

impl CaseRows {
    /// The rows of `case` and of the notifications written with it
    /// (`delivered` as a relay would have left them).
    pub fn of(case: &Case, notifications: &[Notification], delivered: bool) -> CaseRows {
        CaseRows {
            case: case_cols(case),
            history: case
                .history
                .iter()
                .enumerate()
                .map(|(seq, e)| history_cols(case, seq, e))
                .collect(),
            outbox: notifications
                .iter()
                .map(|n| outbox_cols(n, delivered))
                .collect(),
        }
    }
}

fn case_cols(case: &Case) -> CaseCols {
    CaseCols {
        number: case.number.to_string(),
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
        complementary_data: json(serde_json::to_string(&case.complementary_data)),
        deadline: case.deadline.map(iso_date),
        reminder_sent: case.reminder_sent,
        submitted_at: micros(case.submitted_at),
        closed_at: case.closed_at.map(micros),
        resolution: case.resolution.as_ref().map(|r| r.as_str().to_owned()),
        receipt: json(serde_json::to_string(&case.receipt)),
        verification_code: case.receipt.verification_code.clone(),
        version: i64::try_from(case.version).unwrap_or(i64::MAX),
    }
}

fn history_cols(case: &Case, seq: usize, e: &HistoryEntry) -> HistoryCols {
    HistoryCols {
        case_number: case.number.to_string(),
        seq: i64::try_from(seq).unwrap_or(i64::MAX),
        at: micros(e.at),
        event: e.event.as_str().to_owned(),
        substatus: e.state.substatus_code().to_owned(),
        actor_role: e.actor.role.as_str().to_owned(),
        actor_id: e.actor.id.clone(),
        observation: e.observation.clone(),
        visibility: match e.visibility {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
        .to_owned(),
    }
}

fn outbox_cols(n: &Notification, delivered: bool) -> OutboxCols {
    let at = micros(n.at);
    OutboxCols {
        kind: n.kind.as_str().to_owned(),
        case_number: n.case_number.to_string(),
        authorization_id: n.authorization.as_str().to_owned(),
        at,
        deadline: n.deadline.map(iso_date),
        message_text: n.text.clone(),
        delivered,
        recipient: delivered.then(|| {
            format!(
                "{}@autorizados.example",
                n.authorization.as_str().to_lowercase()
            )
        }),
        // Sent a minute after it was written.
        delivered_at: delivered.then_some(at + 60_000_000),
    }
}
