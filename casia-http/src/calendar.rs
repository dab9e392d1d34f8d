//! `GET /v1/calendar/deadline` (HTTP.md): a deadline on the calendar in
//! force, with every non-business day it skipped and why (DOMAIN.md §5).
//! Parsing and the rule are the core's ([`casia_core::deadline::DeadlineQuery`]).

use axum::Json;
use axum::extract::{RawQuery, State};
use casia_core::calendar::NonBusinessReason;
use casia_core::deadline::{DeadlineExplanation, DeadlineQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::Caller;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The parameters of `GET /v1/calendar/deadline`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// The Madrid date of the request, `YYYY-MM-DD`.
    #[param(required = true)]
    pub from: Option<String>,
    /// 1–365.
    #[param(required = true)]
    pub days: Option<String>,
    /// `business` or `calendar`.
    #[param(required = true)]
    pub unit: Option<String>,
    /// The authorization's province, `01`–`52`.
    #[param(required = true)]
    pub province: Option<String>,
    /// The office (its province code), `01`–`52`.
    #[param(required = true)]
    pub office: Option<String>,
}

/// Why one day is not a business day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    /// `weekend`, `national`, `regional`, `local` or `unmovable` (an RD
    /// 2001/1983 art. 45.1 day in a year the calendar does not cover).
    pub kind: String,
    /// The holiday's name, when the calendar gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ISO 3166-2 code of the community (`regional`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    /// Province code (`local`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
}

impl From<&NonBusinessReason> for ReasonView {
    fn from(r: &NonBusinessReason) -> ReasonView {
        let view = |kind: &str, name: Option<&String>| ReasonView {
            kind: kind.into(),
            name: name.cloned(),
            community: None,
            province: None,
        };
        match r {
            NonBusinessReason::Weekend => view("weekend", None),
            NonBusinessReason::National { name } => view("national", name.as_ref()),
            NonBusinessReason::Regional { community, name } => ReasonView {
                community: Some(community.iso_code().into()),
                ..view("regional", name.as_ref())
            },
            NonBusinessReason::Local { province, name } => ReasonView {
                province: Some(province.code()),
                ..view("local", name.as_ref())
            },
            NonBusinessReason::Unmovable { name } => view("unmovable", Some(name)),
        }
    }
}

/// A skipped day and its reasons.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedDayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Every reason it is not a business day.
    pub reasons: Vec<ReasonView>,
}

/// A deadline and why it falls where it does.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineExplanationView {
    /// The request's Madrid date.
    pub from: String,
    /// How many days were counted (1–365).
    pub days: u16,
    /// `business` or `calendar`.
    pub unit: String,
    /// The deadline date, `YYYY-MM-DD` (in time until 23:59:59 Madrid).
    pub deadline: String,
    /// `business`: every non-business day after `from` up to the deadline;
    /// `calendar`: those from `from + days` up to the deadline.
    pub skipped: Vec<SkippedDayView>,
    /// Years the calendar does not cover (only weekends and the unmovable
    /// national days counted there).
    pub uncovered_years: Vec<i32>,
}

impl From<&DeadlineExplanation> for DeadlineExplanationView {
    fn from(e: &DeadlineExplanation) -> DeadlineExplanationView {
        DeadlineExplanationView {
            from: e.from.to_string(),
            days: e.policy.days,
            unit: e.policy.unit.as_str().into(),
            deadline: e.deadline.to_string(),
            skipped: e
                .skipped
                .iter()
                .map(|s| SkippedDayView {
                    date: s.date.to_string(),
                    reasons: s.reasons.iter().map(ReasonView::from).collect(),
                })
                .collect(),
            uncovered_years: e.uncovered_years.clone(),
        }
    }
}

/// A deadline on the calendar in force, with every non-business day it
/// skipped and why (DOMAIN.md §5; any authenticated role).
#[utoipa::path(
    get, path = "/v1/calendar/deadline", tag = "service",
    security(("bearer" = [])),
    params(DeadlineParams),
    responses(
        (status = 200, description = "The deadline and the skipped days", body = DeadlineExplanationView),
        (status = 422, description = "`invalid_query` naming the parameter (`from`, `days`, `unit`, `province`, `office`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deadline(
    State(state): State<AppState>,
    Caller(_): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<DeadlineExplanationView>, ApiError> {
    let p: DeadlineParams = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::Malformed(format!("malformed query: {e}")))?;
    let arg = |v: &Option<String>| v.clone().unwrap_or_default();
    let q = DeadlineQuery::parse(
        &arg(&p.from),
        &arg(&p.days),
        &arg(&p.unit),
        &arg(&p.province),
        &arg(&p.office),
    )?;
    let explanation = q.explain(&state.service().rules().calendar);
    Ok(Json(DeadlineExplanationView::from(&explanation)))
}
