//! Holidays and business days (DOMAIN.md §5; Ley 39/2015 art. 30.6), and the
//! Europe/Madrid civil dates every rule is counted in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Madrid;
use serde::{Deserialize, Serialize};

use crate::ids::Community;

/// The Madrid civil date of an instant.
pub fn madrid_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Madrid).date_naive()
}

/// The instant 00:00 Europe/Madrid starts the given date. Madrid changes
/// offset at 02:00/03:00, so midnight always exists exactly once.
pub fn madrid_start_of_day(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    match Madrid.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Unreachable for Madrid's rules; UTC+1 is the standard offset.
        None => Utc.from_utc_datetime(&midnight) - chrono::Duration::hours(1),
    }
}

/// The (year, month) of the Madrid date of an instant.
pub fn madrid_month(at: DateTime<Utc>) -> (i32, u32) {
    let d = madrid_date(at);
    (d.year(), d.month())
}

/// Whether a date is a business day: the question every deadline asks.
pub trait BusinessDays {
    fn is_business_day(&self, date: NaiveDate) -> bool;
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A plain set of holidays besides weekends (used by tests and vectors).
impl BusinessDays for BTreeSet<NaiveDate> {
    fn is_business_day(&self, date: NaiveDate) -> bool {
        !is_weekend(date) && !self.contains(&date)
    }
}

/// A holiday calendar: national days and each community's days, keyed by
/// ISO 3166-2 code, with the years it covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HolidayCalendar {
    national: BTreeSet<NaiveDate>,
    regional: BTreeMap<Community, BTreeSet<NaiveDate>>,
    covered_years: BTreeSet<i32>,
}

/// The wire form `{"national": [...], "regional": {"ES-MD": [...]}}`, with
/// an optional `years` list declaring coverage explicitly.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    #[serde(default)]
    pub national: Vec<NaiveDate>,
    #[serde(default)]
    pub regional: BTreeMap<String, Vec<NaiveDate>>,
    /// Years the file covers; absent → the years of its national days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<Vec<i32>>,
}

/// Why a calendar file did not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CalendarError {
    pub path: String,
    pub message: String,
}

const DEFAULT_CALENDAR_JSON: &str = include_str!("../data/default_calendar.json");

impl HolidayCalendar {
    /// The shipped calendar: the published national holidays of 2025 and 2026.
    pub fn default_calendar() -> HolidayCalendar {
        match HolidayCalendar::from_json(DEFAULT_CALENDAR_JSON) {
            Ok(c) => c,
            Err(e) => panic!("the shipped default calendar is invalid: {e}"),
        }
    }

    pub fn from_json(json: &str) -> Result<HolidayCalendar, CalendarError> {
        let file: CalendarFile = serde_json::from_str(json).map_err(|e| CalendarError {
            path: "$".into(),
            message: e.to_string(),
        })?;
        HolidayCalendar::from_file(file)
    }

    pub fn from_file(file: CalendarFile) -> Result<HolidayCalendar, CalendarError> {
        let mut regional = BTreeMap::new();
        for (code, days) in file.regional {
            let community = Community::from_iso_code(&code).ok_or_else(|| CalendarError {
                path: format!("$.regional.{code}"),
                message: "unknown ISO 3166-2 community code".into(),
            })?;
            regional.insert(community, days.into_iter().collect::<BTreeSet<_>>());
        }
        let national: BTreeSet<NaiveDate> = file.national.into_iter().collect();
        let covered_years = match file.years {
            Some(years) => years.into_iter().collect(),
            None => national.iter().map(Datelike::year).collect(),
        };
        Ok(HolidayCalendar {
            national,
            regional,
            covered_years,
        })
    }

    /// The wire form of this calendar.
    pub fn to_file(&self) -> CalendarFile {
        CalendarFile {
            national: self.national.iter().copied().collect(),
            regional: self
                .regional
                .iter()
                .map(|(c, d)| (c.iso_code().to_owned(), d.iter().copied().collect()))
                .collect(),
            years: Some(self.covered_years.iter().copied().collect()),
        }
    }

    pub fn covers_year(&self, year: i32) -> bool {
        self.covered_years.contains(&year)
    }

    /// The business days of one case: national ∪ the two communities'
    /// holidays (art. 30.6), weekends always off.
    pub fn for_case(&self, communities: [Community; 2]) -> CaseCalendar<'_> {
        CaseCalendar {
            calendar: self,
            communities,
        }
    }

    fn is_holiday(&self, date: NaiveDate, communities: &[Community; 2]) -> bool {
        self.national.contains(&date)
            || communities
                .iter()
                .any(|c| self.regional.get(c).is_some_and(|s| s.contains(&date)))
    }
}

/// A calendar seen from one case: the authorization's community and the
/// office's community.
#[derive(Debug, Clone, Copy)]
pub struct CaseCalendar<'c> {
    calendar: &'c HolidayCalendar,
    communities: [Community; 2],
}

impl CaseCalendar<'_> {
    /// Logs once per call when a date lies outside the calendar's years, so
    /// the operator loads that year (DOMAIN.md §5).
    pub fn warn_if_uncovered(&self, from: NaiveDate, to: NaiveDate) {
        for year in from.year()..=to.year() {
            if !self.calendar.covers_year(year) {
                tracing::warn!(
                    year,
                    "holiday calendar does not cover {year}: only weekends count as non-business days"
                );
            }
        }
    }
}

impl BusinessDays for CaseCalendar<'_> {
    fn is_business_day(&self, date: NaiveDate) -> bool {
        !is_weekend(date) && !self.calendar.is_holiday(date, &self.communities)
    }
}

/// The next date, saturating at the end of chrono's range.
pub(crate) fn next_day(d: NaiveDate) -> NaiveDate {
    d.checked_add_days(Days::new(1)).unwrap_or(d)
}

/// The previous date, saturating at the start of chrono's range.
pub(crate) fn previous_day(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(1)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn madrid_dates_follow_the_offset_in_force() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        // Winter: UTC+1.
        assert_eq!(madrid_date(at("2026-12-31T22:59:59Z")), date("2026-12-31"));
        assert_eq!(madrid_date(at("2026-12-31T23:00:00Z")), date("2027-01-01"));
        // Summer: UTC+2.
        assert_eq!(madrid_date(at("2026-07-01T21:59:59Z")), date("2026-07-01"));
        assert_eq!(madrid_date(at("2026-07-01T22:00:00Z")), date("2026-07-02"));
        // The night of the October change (03:00 CEST → 02:00 CET on 25 Oct).
        assert_eq!(madrid_date(at("2026-10-24T22:30:00Z")), date("2026-10-25"));
        assert_eq!(
            madrid_start_of_day(date("2026-10-25")),
            at("2026-10-24T22:00:00Z")
        );
        assert_eq!(
            madrid_start_of_day(date("2026-10-26")),
            at("2026-10-25T23:00:00Z")
        );
        assert_eq!(
            madrid_start_of_day(date("2026-03-29")),
            at("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            madrid_start_of_day(date("2026-03-30")),
            at("2026-03-29T22:00:00Z")
        );
    }

    #[test]
    fn business_days_are_weekdays_outside_national_and_both_communities() {
        let cal = HolidayCalendar::from_json(
            r#"{"national": ["2026-12-08"], "regional": {"ES-MD": ["2026-12-07"], "ES-CT": ["2026-12-26"], "ES-AN": ["2026-12-09"]}}"#,
        )
        .expect("valid");
        let madrid_and_catalonia = cal.for_case([Community::Madrid, Community::Cataluna]);
        assert!(
            !madrid_and_catalonia.is_business_day(date("2026-12-07")),
            "ES-MD holiday"
        );
        assert!(
            !madrid_and_catalonia.is_business_day(date("2026-12-08")),
            "national"
        );
        assert!(
            madrid_and_catalonia.is_business_day(date("2026-12-09")),
            "ES-AN does not count"
        );
        assert!(
            !madrid_and_catalonia.is_business_day(date("2026-12-05")),
            "Saturday"
        );
        assert!(
            !madrid_and_catalonia.is_business_day(date("2026-12-06")),
            "Sunday"
        );
        let madrid_only = cal.for_case([Community::Madrid, Community::Madrid]);
        assert!(madrid_only.is_business_day(date("2026-12-10")));
    }

    #[test]
    fn the_default_calendar_ships_the_2025_and_2026_national_holidays() {
        let vectors: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/deadlines.json"
        )))
        .expect("vectors");
        let cal = HolidayCalendar::default_calendar();
        let mut expected = BTreeSet::new();
        for year in ["2025", "2026"] {
            for d in vectors["national_holidays"][year].as_array().expect("list") {
                expected.insert(date(d.as_str().expect("date")));
            }
        }
        assert_eq!(cal.national, expected);
        assert!(cal.covers_year(2025) && cal.covers_year(2026) && !cal.covers_year(2027));
    }

    #[test]
    fn unknown_communities_and_keys_are_load_errors() {
        let e = HolidayCalendar::from_json(r#"{"national": [], "regional": {"ES-XX": []}}"#);
        assert_eq!(e.map_err(|e| e.path), Err("$.regional.ES-XX".to_owned()));
        assert!(HolidayCalendar::from_json(r#"{"nacional": []}"#).is_err());
        assert!(HolidayCalendar::from_json(r#"{"national": ["2026-02-30"]}"#).is_err());
    }
}
