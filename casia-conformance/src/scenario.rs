//! The scenario file format of CONFORMANCE.md, parsed strictly: unknown keys
//! and malformed values are errors naming the file and the step, so a typo
//! never passes silently.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::Value;

use casia_core::actor::Actor;
use casia_core::attachment::AttachmentLimits;
use casia_core::calendar::HolidayCalendar;
use casia_core::catalog::Catalog;
use casia_core::ids::{AuthorizationId, ProcessorId, ProvinceCode, UserId};

/// A parsed scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's `name`, printed in the report.
    pub name: String,
    /// Free text, not checked.
    pub description: Option<String>,
    /// The scenario's catalog, checked as DOMAIN.md §2 says; `None`: the default catalog.
    pub catalog: Option<Catalog>,
    /// The scenario's holidays, replacing the default ones entirely; `None`: the default calendar.
    pub calendar: Option<HolidayCalendar>,
    /// The attachment limits, defaults overridden by the file's `limits`.
    pub limits: AttachmentLimits,
    /// The steps, at least one, in non-decreasing time order.
    pub steps: Vec<Step>,
}

/// Why a scenario file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ScenarioError {
    /// `file`, `file: catalog`, `file: step 3`, …
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// The verbs of CONFORMANCE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// `submit` (alta de caso).
    Submit,
    /// `get`: search option 1, the case's detail.
    Get,
    /// `search`: search option 2, over all pages.
    Search,
    /// `queue`: the processor's work queue.
    Queue,
    /// `history`: the events the actor can see.
    History,
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
    /// `sweep`: the deadline sweep.
    Sweep,
    /// `survey`.
    Survey,
    /// `receipt`: the Justificante de Apertura.
    Receipt,
}

impl Verb {
    /// Verbs that act on one case and so need `case` or `case_number`.
    pub fn needs_case(self) -> bool {
        !matches!(
            self,
            Verb::Submit | Verb::Search | Verb::Queue | Verb::Sweep
        )
    }
}

/// Which case a step names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRef {
    /// `case`: the `save_as` alias of an earlier `submit`.
    Alias(String),
    /// `case_number`: a case number given directly, e.g. `2026-00000099`.
    Number(String),
}

/// One step: at an instant, as an actor, do a verb, expect an outcome.
#[derive(Debug, Clone)]
pub struct Step {
    /// `at`: the instant the service's clock reads during the step (RFC 3339).
    pub at: DateTime<FixedOffset>,
    /// `as`: who runs the step.
    pub actor: Actor,
    /// `do`: what the step does.
    pub verb: Verb,
    /// `case` or `case_number`: the case a one-case verb acts on.
    pub case: Option<CaseRef>,
    /// `with`: the verb's input.
    pub input: StepInput,
    /// `save_as` (submit only): the alias later steps name the new case by.
    pub save_as: Option<String>,
    /// `expect`: what must hold after the step.
    pub expect: Expect,
}

/// `with`, by verb.
#[derive(Debug, Clone)]
pub enum StepInput {
    /// No input (`get`, `queue`, `history`, `close_ex_officio`, `sweep`, `receipt`).
    None,
    /// `submit`'s input.
    Submit(SubmitWith),
    /// `add_documentation`'s input.
    AddDocumentation(AddDocumentationWith),
    /// `cancel`'s input.
    Cancel(CancelWith),
    /// `assign`'s input.
    Assign(AssignWith),
    /// `request_information`'s input.
    RequestInformation(RequestInformationWith),
    /// `escalate`'s input.
    Escalate(EscalateWith),
    /// `transfer`'s input.
    Transfer(TransferWith),
    /// `reclassify`'s input.
    Reclassify(ReclassifyWith),
    /// `resolve`'s input.
    Resolve(ResolveWith),
    /// `survey`'s input.
    Survey(SurveyWith),
    /// `search`'s query.
    Search(SearchWith),
}

/// `with` of `submit`; an absent key is an empty (or `false`) value, for the core to judge.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitWith {
    /// `inquiry`, `incident` or `procedure`.
    pub case_type: Option<String>,
    /// Materia code.
    pub materia: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Subcategory code.
    pub subcategory: Option<String>,
    /// Whether the case affects the filing period in progress.
    pub affects_current_period: Option<bool>,
    /// The title.
    pub title: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Field code → value.
    pub complementary_data: Option<BTreeMap<String, String>>,
    /// The attachments.
    pub attachments: Option<Vec<AttachmentSpec>>,
}

/// `with` of `add_documentation`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDocumentationWith {
    /// The comment.
    pub comment: Option<String>,
    /// The attachments.
    pub attachments: Option<Vec<AttachmentSpec>>,
}

/// `with` of `cancel`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelWith {
    /// The reason.
    pub reason: Option<String>,
}

/// `with` of `assign`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignWith {
    /// The processor to assign; absent: the actor.
    pub processor: Option<String>,
}

/// `with` of `request_information`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInformationWith {
    /// The observation.
    pub observation: Option<String>,
}

/// `with` of `escalate`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateWith {
    /// The internal note.
    pub note: Option<String>,
}

/// `with` of `transfer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferWith {
    /// The target office code.
    pub office: Option<String>,
    /// The internal note.
    pub note: Option<String>,
}

/// `with` of `reclassify`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyWith {
    /// New materia code.
    pub materia: Option<String>,
    /// New category code.
    pub category: Option<String>,
    /// New subcategory code.
    pub subcategory: Option<String>,
}

/// `with` of `resolve`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveWith {
    /// The resolution.
    pub resolution: Option<String>,
}

/// `with` of `survey`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyWith {
    /// Any JSON value: a non-integer is out of range, as a rating of 0 is.
    pub rating: Option<Value>,
    /// The survey comment.
    pub comment: Option<String>,
}

/// `with` of `search`; DOMAIN.md §7 decides what an absent key means.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchWith {
    /// `open`, `closed` or `all`.
    pub status: Option<String>,
    /// First Madrid date, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last Madrid date, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// A substatus code.
    pub substatus: Option<String>,
    /// A case type code.
    pub case_type: Option<String>,
    /// A materia code.
    pub materia: Option<String>,
    /// The submitting user's id.
    pub created_by: Option<String>,
}

/// An attachment of a step, with its bytes given one of three ways.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    /// Document-type code.
    pub document_type: String,
    /// Attachment title.
    pub title: String,
    /// File name as a client would send it.
    pub filename: String,
    /// The bytes as UTF-8 text.
    pub content_text: Option<String>,
    /// The bytes in standard base64.
    pub content_base64: Option<String>,
    /// Generated bytes.
    pub synthetic: Option<Synthetic>,
}

/// The formats a `synthetic` attachment can imitate (CONFORMANCE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticFormat {
    /// `pdf`: starts `%PDF-1.7\n`.
    Pdf,
    /// `png`: starts with the PNG signature.
    Png,
    /// `jpeg`: starts `FF D8 FF E0`.
    Jpeg,
    /// `txt`: lower-case ASCII letters, spaces and line feeds.
    Txt,
    /// `exe`: starts `MZ`.
    Exe,
    /// `zip`: starts `PK\x03\x04`, followed by bytes that make no office document.
    Zip,
}

/// `synthetic`: `size` bytes that begin with `format`'s signature, the rest deterministic from
/// `seed`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synthetic {
    /// Which signature the bytes begin with.
    pub format: SyntheticFormat,
    /// How many bytes.
    pub size: usize,
    /// The filling's seed (default 0): same format, size and seed, same bytes.
    #[serde(default)]
    pub seed: u64,
}

/// `expect`: every key present must hold. `Option<Option<_>>` keeps "absent"
/// apart from `null` for `deadline` and `assignee`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The error code the step must fail with; absent: it must succeed.
    pub error: Option<String>,
    /// The field the error names (for `missing_*`: one of the codes it names).
    pub field: Option<String>,
    /// The `attachment_rejected` reason.
    pub reason: Option<String>,
    /// The case's status after the step.
    pub status: Option<String>,
    /// The case's substatus after the step.
    pub substatus: Option<String>,
    /// The case number.
    pub number: Option<String>,
    /// The deadline `YYYY-MM-DD`; `Some(None)` (JSON `null`): none.
    #[serde(default, deserialize_with = "present")]
    pub deadline: Option<Option<String>>,
    /// The assignee; `Some(None)` (JSON `null`): none.
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<String>>,
    /// The case's office after the step.
    pub office: Option<String>,
    /// How many attachments the case holds.
    pub attachments: Option<usize>,
    /// The events the actor can see, in order.
    pub history: Option<Vec<String>>,
    /// `search`/`queue`: the aliases (or numbers) returned, in order, over all pages.
    pub results: Option<Vec<String>>,
    /// `search`/`queue`: how many were returned, over all pages.
    pub count: Option<usize>,
    /// `sweep`: the aliases closed ex officio, any order.
    pub closed: Option<Vec<String>>,
    /// `sweep`: the aliases reminded, any order.
    pub reminded: Option<Vec<String>>,
    /// The notification kinds the step emitted, in order.
    pub notifications: Option<Vec<String>>,
}

fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    catalog: Option<Value>,
    #[serde(default)]
    calendar: Option<Value>,
    #[serde(default)]
    limits: Option<AttachmentLimits>,
    steps: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: String,
    #[serde(rename = "as")]
    actor: RawActor,
    #[serde(rename = "do")]
    verb: Verb,
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    case_number: Option<String>,
    #[serde(default)]
    with: Option<Value>,
    #[serde(default)]
    save_as: Option<String>,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
enum RawActor {
    User {
        authorization: String,
        user: String,
        province: String,
    },
    Processor {
        processor: String,
        office: String,
    },
    System,
}

impl RawActor {
    fn into_actor(self) -> Result<Actor, String> {
        Ok(match self {
            RawActor::User {
                authorization,
                user,
                province,
            } => Actor::User {
                authorization: AuthorizationId::parse(&authorization).map_err(|e| e.to_string())?,
                user: UserId::parse(&user).map_err(|e| e.to_string())?,
                province: ProvinceCode::parse(&province).map_err(|e| e.to_string())?,
            },
            RawActor::Processor { processor, office } => Actor::Processor {
                processor: ProcessorId::parse(&processor).map_err(|e| e.to_string())?,
                office: ProvinceCode::parse(&office).map_err(|e| e.to_string())?,
            },
            RawActor::System => Actor::System,
        })
    }
}

impl Scenario {
    /// Parses one scenario file's text; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] at `file` (not JSON, an unknown key, no step),
    /// `file: catalog` or `file: calendar` (their load faults), or
    /// `file: step K` (a malformed step, an unknown error code in `expect`,
    /// a step earlier than the one before).
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let err = |location: String, message: String| ScenarioError { location, message };
        let raw: RawScenario =
            serde_json::from_str(text).map_err(|e| err(file.to_owned(), e.to_string()))?;
        let catalog = match raw.catalog {
            None => None,
            Some(v) => Some(Catalog::from_value(&v).map_err(|faults| {
                let list: Vec<String> = faults.iter().map(ToString::to_string).collect();
                err(format!("{file}: catalog"), list.join("; "))
            })?),
        };
        let calendar = match raw.calendar {
            None => None,
            Some(v) => Some(
                HolidayCalendar::from_value(&v)
                    .map_err(|e| err(format!("{file}: calendar"), e.to_string()))?,
            ),
        };
        if raw.steps.is_empty() {
            return Err(err(
                file.to_owned(),
                "a scenario needs at least one step".into(),
            ));
        }
        let mut steps = Vec::with_capacity(raw.steps.len());
        let mut previous: Option<DateTime<FixedOffset>> = None;
        for (i, v) in raw.steps.into_iter().enumerate() {
            let location = format!("{file}: step {}", i + 1);
            let step = parse_step(v).map_err(|m| err(location.clone(), m))?;
            if previous.is_some_and(|p| step.at < p) {
                return Err(err(
                    location,
                    "steps must be in non-decreasing time order".into(),
                ));
            }
            previous = Some(step.at);
            steps.push(step);
        }
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            catalog,
            calendar,
            limits: raw.limits.unwrap_or_default(),
            steps,
        })
    }
}

fn with_as<T: serde::de::DeserializeOwned + Default>(with: Option<Value>) -> Result<T, String> {
    match with {
        None => Ok(T::default()),
        Some(v) => serde_json::from_value(v).map_err(|e| format!("with: {e}")),
    }
}

fn parse_step(v: Value) -> Result<Step, String> {
    let raw: RawStep = serde_json::from_value(v).map_err(|e| e.to_string())?;
    let at = DateTime::parse_from_rfc3339(&raw.at).map_err(|e| format!("at: {e}"))?;
    let actor = raw.actor.into_actor().map_err(|e| format!("as: {e}"))?;
    let case = match (raw.case, raw.case_number) {
        (Some(_), Some(_)) => return Err("give `case` or `case_number`, not both".into()),
        (Some(a), None) => Some(CaseRef::Alias(a)),
        (None, Some(n)) => Some(CaseRef::Number(n)),
        (None, None) => None,
    };
    if raw.verb.needs_case() && case.is_none() {
        return Err(format!("`{:?}` needs `case` or `case_number`", raw.verb).to_lowercase());
    }
    if raw.save_as.is_some() && raw.verb != Verb::Submit {
        return Err("`save_as` belongs to a `submit` step".into());
    }
    let with = raw.with;
    let input = match raw.verb {
        Verb::Submit => StepInput::Submit(with_as(with)?),
        Verb::AddDocumentation => StepInput::AddDocumentation(with_as(with)?),
        Verb::Cancel => StepInput::Cancel(with_as(with)?),
        Verb::Assign => StepInput::Assign(with_as(with)?),
        Verb::RequestInformation => StepInput::RequestInformation(with_as(with)?),
        Verb::Escalate => StepInput::Escalate(with_as(with)?),
        Verb::Transfer => StepInput::Transfer(with_as(with)?),
        Verb::Reclassify => StepInput::Reclassify(with_as(with)?),
        Verb::Resolve => StepInput::Resolve(with_as(with)?),
        Verb::Survey => StepInput::Survey(with_as(with)?),
        Verb::Search => StepInput::Search(with_as(with)?),
        Verb::Get
        | Verb::Queue
        | Verb::History
        | Verb::CloseExOfficio
        | Verb::Sweep
        | Verb::Receipt => match with {
            None => StepInput::None,
            Some(Value::Object(m)) if m.is_empty() => StepInput::None,
            Some(_) => return Err("this verb takes no `with` input".into()),
        },
    };
    let expect = raw.expect.unwrap_or_default();
    if let Some(code) = &expect.error
        && casia_core::ErrorCode::ALL
            .iter()
            .all(|c| c.as_str() != code)
    {
        return Err(format!("expect.error: unknown error code {code:?}"));
    }
    Ok(Step {
        at,
        actor,
        verb: raw.verb,
        case,
        input,
        save_as: raw.save_as,
        expect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(steps: &str) -> String {
        format!(r#"{{"name": "t", "steps": [{steps}]}}"#)
    }

    const STEP: &str = r#"{"at": "2026-11-02T09:30:00+01:00", "as": {"role": "system"}, "do": "sweep", "expect": {}}"#;

    #[test]
    fn a_minimal_scenario_parses() {
        let s = Scenario::parse("f.json", &scenario(STEP)).expect("parses");
        assert_eq!(s.steps.len(), 1);
        assert_eq!(s.steps[0].verb, Verb::Sweep);
    }

    #[test]
    fn typos_are_errors_naming_file_and_step() {
        let bad_expect = STEP.replace(r#""expect": {}"#, r#""expect": {"reminder": []}"#);
        let e = Scenario::parse("f.json", &scenario(&format!("{STEP}, {bad_expect}")))
            .expect_err("typo");
        assert_eq!(e.location, "f.json: step 2");
        assert!(e.message.contains("reminder"), "{}", e.message);

        let bad_key = STEP.replace(r#""do""#, r#""verb""#);
        assert_eq!(
            Scenario::parse("f.json", &scenario(&bad_key))
                .expect_err("typo")
                .location,
            "f.json: step 1"
        );

        let bad_with = r#"{"at": "2026-11-02T09:30:00+01:00", "as": {"role": "system"}, "do": "cancel", "case": "c1", "with": {"reasn": "x"}}"#;
        assert!(
            Scenario::parse("f.json", &scenario(bad_with))
                .expect_err("typo")
                .message
                .contains("reasn")
        );

        let bad_top = r#"{"name": "t", "stpes": []}"#;
        assert_eq!(
            Scenario::parse("f.json", bad_top)
                .expect_err("typo")
                .location,
            "f.json"
        );

        let bad_code = STEP.replace(r#""expect": {}"#, r#""expect": {"error": "not_fund"}"#);
        assert!(Scenario::parse("f.json", &scenario(&bad_code)).is_err());

        let bad_actor = STEP.replace(
            r#"{"role": "system"}"#,
            r#"{"role": "user", "authorization": "A1", "user": "u1", "province": "99"}"#,
        );
        assert!(
            Scenario::parse("f.json", &scenario(&bad_actor))
                .expect_err("province")
                .message
                .contains("as:")
        );

        let out_of_order = STEP.replace("09:30", "08:30");
        assert_eq!(
            Scenario::parse("f.json", &scenario(&format!("{STEP}, {out_of_order}")))
                .expect_err("order")
                .location,
            "f.json: step 2"
        );

        let no_case =
            r#"{"at": "2026-11-02T09:30:00+01:00", "as": {"role": "system"}, "do": "get"}"#;
        assert!(Scenario::parse("f.json", &scenario(no_case)).is_err());

        let bad_catalog = r#"{"name": "t", "catalog": {"document_types": [], "case_types": [{"code": "x", "materias": []}]}, "steps": [STEP]}"#.replace("STEP", STEP);
        let e = Scenario::parse("f.json", &bad_catalog).expect_err("catalog");
        assert_eq!(e.location, "f.json: catalog");
        assert!(e.message.contains("$.case_types[0].code"), "{}", e.message);

        let bad_limits =
            r#"{"name": "t", "limits": {"max_bytes": 1}, "steps": [STEP]}"#.replace("STEP", STEP);
        assert!(Scenario::parse("f.json", &bad_limits).is_err());
    }

    #[test]
    fn null_and_absent_expectations_differ() {
        let with_null = STEP.replace(r#""expect": {}"#, r#""expect": {"deadline": null}"#);
        let s = Scenario::parse("f.json", &scenario(&with_null)).expect("parses");
        assert_eq!(s.steps[0].expect.deadline, Some(None));
        let s = Scenario::parse("f.json", &scenario(STEP)).expect("parses");
        assert_eq!(s.steps[0].expect.deadline, None);
    }
}
