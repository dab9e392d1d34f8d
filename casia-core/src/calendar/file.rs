//! The calendar file (DOMAIN.md §5): its JSON form, read strictly so that a
//! fault names its JSON path, and written back in the same form.
//!
//! ```json
//! {"years": [2026],
//!  "national": ["2026-01-01", {"date": "2026-04-03", "name": "Viernes Santo"}],
//!  "regional": {"ES-MD": [{"date": "2026-05-02", "name": "Fiesta de la Comunidad de Madrid"}]},
//!  "local": {"28": [{"date": "2026-05-15", "name": "San Isidro"}]},
//!  "sources": {"2026": {"status": "final", "reference": "BOE-A-2025-…"}},
//!  "about": "free text"}
//! ```

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{CalendarError, Coverage, DaySet, HolidayCalendar, YearSource, YearStatus};
use crate::ids::{Community, ProvinceCode};

const KEYS: [&str; 6] = ["about", "years", "sources", "national", "regional", "local"];

fn fault(path: impl Into<String>, message: impl Into<String>) -> CalendarError {
    CalendarError {
        path: path.into(),
        message: message.into(),
    }
}

pub(super) fn parse(value: &Value) -> Result<HolidayCalendar, CalendarError> {
    let obj = value
        .as_object()
        .ok_or_else(|| fault("$", "a calendar is a JSON object"))?;
    if let Some(key) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(fault(
            format!("$.{key}"),
            format!("unknown key (expected one of {})", KEYS.join(", ")),
        ));
    }
    if obj.get("about").is_some_and(|about| !about.is_string()) {
        return Err(fault("$.about", "a string"));
    }
    let national = match obj.get("national") {
        None => DaySet::default(),
        Some(v) => days(v, "$.national")?,
    };
    let mut regional = BTreeMap::new();
    for (code, v) in object(obj.get("regional"), "$.regional")? {
        let path = format!("$.regional.{code}");
        let community = Community::from_iso_code(code)
            .ok_or_else(|| fault(&path, "unknown ISO 3166-2 community code"))?;
        regional.insert(community, days(v, &path)?);
    }
    let mut local = BTreeMap::new();
    for (code, v) in object(obj.get("local"), "$.local")? {
        let path = format!("$.local.{code}");
        let province =
            ProvinceCode::parse(code).map_err(|_| fault(&path, "not a province code 01–52"))?;
        local.insert(province, days(v, &path)?);
    }
    let mut sources = BTreeMap::new();
    for (year, v) in object(obj.get("sources"), "$.sources")? {
        let path = format!("$.sources.{year}");
        let year: i32 = year
            .parse()
            .map_err(|_| fault(&path, "the key is a year, e.g. \"2026\""))?;
        sources.insert(year, source(v, &path)?);
    }
    let coverage = match obj.get("years") {
        Some(v) => {
            let list = v
                .as_array()
                .ok_or_else(|| fault("$.years", "a list of years"))?;
            let mut years = BTreeSet::new();
            for (i, y) in list.iter().enumerate() {
                let year = y
                    .as_i64()
                    .and_then(|y| i32::try_from(y).ok())
                    .filter(|y| (1583..=9999).contains(y))
                    .ok_or_else(|| fault(format!("$.years[{i}]"), "a year 1583–9999"))?;
                years.insert(year);
            }
            Coverage::Years(years)
        }
        None => {
            let years: BTreeSet<i32> = national
                .years()
                .chain(regional.values().flat_map(DaySet::years))
                .chain(local.values().flat_map(DaySet::years))
                .collect();
            if years.is_empty() {
                Coverage::Every
            } else {
                Coverage::Years(years)
            }
        }
    };
    Ok(HolidayCalendar {
        national,
        regional,
        local,
        coverage,
        sources,
    })
}

fn object<'v>(v: Option<&'v Value>, path: &str) -> Result<&'v Map<String, Value>, CalendarError> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match v {
        None => Ok(EMPTY.get_or_init(Map::new)),
        Some(v) => v
            .as_object()
            .ok_or_else(|| fault(path, "a JSON object keyed by code")),
    }
}

fn days(v: &Value, path: &str) -> Result<DaySet, CalendarError> {
    let list = v.as_array().ok_or_else(|| fault(path, "a list of dates"))?;
    let mut set = DaySet::default();
    for (i, entry) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let (date, name) = match entry {
            Value::String(s) => (date(s, &at)?, None),
            Value::Object(o) => {
                if let Some(key) = o.keys().find(|k| *k != "date" && *k != "name") {
                    return Err(fault(format!("{at}.{key}"), "unknown key (date, name)"));
                }
                let d = o
                    .get("date")
                    .and_then(Value::as_str)
                    .ok_or_else(|| fault(format!("{at}.date"), "a date YYYY-MM-DD is required"))?;
                let name = match o.get("name") {
                    None => None,
                    Some(Value::String(n)) if !n.trim().is_empty() => Some(n.trim().to_owned()),
                    Some(_) => return Err(fault(format!("{at}.name"), "a non-empty string")),
                };
                (date(d, &format!("{at}.date"))?, name)
            }
            _ => {
                return Err(fault(
                    at,
                    "a date \"YYYY-MM-DD\" or {\"date\": …, \"name\": …}",
                ));
            }
        };
        set.insert(date, name);
    }
    Ok(set)
}

fn date(s: &str, path: &str) -> Result<NaiveDate, CalendarError> {
    super::parse_iso_date(s).ok_or_else(|| fault(path, format!("not a date YYYY-MM-DD: {s:?}")))
}

fn source(v: &Value, path: &str) -> Result<YearSource, CalendarError> {
    let o = v
        .as_object()
        .ok_or_else(|| fault(path, "an object {\"status\", \"reference\"}"))?;
    if let Some(key) = o.keys().find(|k| *k != "status" && *k != "reference") {
        return Err(fault(
            format!("{path}.{key}"),
            "unknown key (status, reference)",
        ));
    }
    let status = match o.get("status").and_then(Value::as_str) {
        Some("final") => YearStatus::Final,
        Some("provisional") => YearStatus::Provisional,
        _ => {
            return Err(fault(
                format!("{path}.status"),
                "\"final\" or \"provisional\"",
            ));
        }
    };
    let reference = match o.get("reference") {
        None => String::new(),
        Some(Value::String(r)) => r.clone(),
        Some(_) => return Err(fault(format!("{path}.reference"), "a string")),
    };
    Ok(YearSource { status, reference })
}

fn entries(set: &DaySet) -> Value {
    Value::Array(
        set.iter()
            .map(|(date, name)| match name {
                Some(n) => serde_json::json!({"date": date.to_string(), "name": n}),
                None => Value::String(date.to_string()),
            })
            .collect(),
    )
}

pub(super) fn to_value(calendar: &HolidayCalendar) -> Value {
    let mut out = Map::new();
    if let Coverage::Years(years) = &calendar.coverage {
        out.insert("years".into(), serde_json::json!(years));
    }
    if !calendar.sources.is_empty() {
        let sources: Map<String, Value> = calendar
            .sources
            .iter()
            .map(|(y, s)| {
                (
                    y.to_string(),
                    serde_json::json!({"status": s.status.as_str(), "reference": s.reference}),
                )
            })
            .collect();
        out.insert("sources".into(), Value::Object(sources));
    }
    out.insert("national".into(), entries(&calendar.national));
    let regional: Map<String, Value> = calendar
        .regional
        .iter()
        .map(|(c, d)| (c.iso_code().to_owned(), entries(d)))
        .collect();
    out.insert("regional".into(), Value::Object(regional));
    if !calendar.local.is_empty() {
        let local: Map<String, Value> = calendar
            .local
            .iter()
            .map(|(p, d)| (p.code(), entries(d)))
            .collect();
        out.insert("local".into(), Value::Object(local));
    }
    Value::Object(out)
}
