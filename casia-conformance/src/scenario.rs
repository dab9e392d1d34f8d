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
    pub name: String,
    pub description: Option<String>,
    pub catalog: Option<Catalog>,
    pub calendar: Option<HolidayCalendar>,
    pub limits: AttachmentLimits,
    pub steps: Vec<Step>,
}

/// Why a scenario file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ScenarioError {
    /// `file`, `file: catalog`, `file: step 3`, …
    pub location: String,
    pub message: String,
}

/// The verbs of CONFORMANCE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Submit,
    Get,
    Search,
    Queue,
    History,
    AddDocumentation,
    Cancel,
    Assign,
    RequestInformation,
    Escalate,
    Transfer,
    Reclassify,
    Resolve,
    CloseExOfficio,
    Sweep,
    Survey,
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
    Alias(String),
    Number(String),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub at: DateTime<FixedOffset>,
    pub actor: Actor,
    pub verb: Verb,
    pub case: Option<CaseRef>,
    pub input: StepInput,
    pub save_as: Option<String>,
    pub expect: Expect,
}

/// `with`, by verb.
#[derive(Debug, Clone)]
pub enum StepInput {
    None,
    Submit(SubmitWith),
    AddDocumentation(AddDocumentationWith),
    Cancel(CancelWith),
    Assign(AssignWith),
    RequestInformation(RequestInformationWith),
    Escalate(EscalateWith),
    Transfer(TransferWith),
    Reclassify(ReclassifyWith),
    Resolve(ResolveWith),
    Survey(SurveyWith),
    Search(SearchWith),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitWith {
    pub case_type: Option<String>,
    pub materia: Option<String>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub affects_current_period: Option<bool>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub complementary_data: Option<BTreeMap<String, String>>,
    pub attachments: Option<Vec<AttachmentSpec>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDocumentationWith {
    pub comment: Option<String>,
    pub attachments: Option<Vec<AttachmentSpec>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelWith {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignWith {
    pub processor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInformationWith {
    pub observation: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateWith {
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferWith {
    pub office: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyWith {
    pub materia: Option<String>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveWith {
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyWith {
    /// Any JSON value: a non-integer is out of range, as a rating of 0 is.
    pub rating: Option<Value>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchWith {
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub substatus: Option<String>,
    pub case_type: Option<String>,
    pub materia: Option<String>,
    pub created_by: Option<String>,
}

/// An attachment of a step, with its bytes given one of three ways.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    pub document_type: String,
    pub title: String,
    pub filename: String,
    pub content_text: Option<String>,
    pub content_base64: Option<String>,
    pub synthetic: Option<Synthetic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticFormat {
    Pdf,
    Png,
    Jpeg,
    Txt,
    Exe,
    Zip,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synthetic {
    pub format: SyntheticFormat,
    pub size: usize,
    #[serde(default)]
    pub seed: u64,
}

/// `expect`: every key present must hold. `Option<Option<_>>` keeps "absent"
/// apart from `null` for `deadline` and `assignee`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub error: Option<String>,
    pub field: Option<String>,
    pub reason: Option<String>,
    pub status: Option<String>,
    pub substatus: Option<String>,
    pub number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub deadline: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<String>>,
    pub office: Option<String>,
    pub attachments: Option<usize>,
    pub history: Option<Vec<String>>,
    pub results: Option<Vec<String>>,
    pub count: Option<usize>,
    pub closed: Option<Vec<String>>,
    pub reminded: Option<Vec<String>>,
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
