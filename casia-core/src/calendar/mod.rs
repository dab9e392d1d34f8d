//! Holidays and business days (DOMAIN.md §5; Ley 39/2015 art. 30.6–30.7),
//! and the Europe/Madrid civil dates every rule is counted in.
//!
//! [`HolidayCalendar`] is operator data (a JSON file, [`file`](mod@file)); a case sees
//! it through [`CaseCalendar`], which answers [`BusinessDays`] and says why
//! a day is not one ([`NonBusinessReason`]). Years the file does not cover
//! still skip the days no community can move ([`fixed`]).

use std::collections::{BTreeMap, BTreeSet};

pub mod file;
pub mod fixed;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Madrid;
use serde::Serialize;

use crate::ids::{Community, ProvinceCode};

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

/// Parses a date written exactly `YYYY-MM-DD` (ISO 8601 calendar date, four
/// digit year). Stricter than chrono's parser, which also takes `+2026-11-01`
/// or `2026-1-5`; every date the service reads from outside comes through here.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let well_formed = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The (year, month) of the Madrid date of an instant.
pub fn madrid_month(at: DateTime<Utc>) -> (i32, u32) {
    let d = madrid_date(at);
    (d.year(), d.month())
}

/// Whether a date is a business day: the question every deadline asks.
pub trait BusinessDays {
    /// `true` for Monday–Friday dates that are no holiday here.
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

/// One bit per day of a year, by ordinal (0–365).
type YearMask = [u64; 6];

/// A set of holidays with their names, and a bit mask per year kept densely
/// from the first year listed, so that a business-day question costs an
/// index and a bit test (the deadline bench: ≤ 1 µs with the whole shipped
/// calendar).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DaySet {
    names: BTreeMap<NaiveDate, Option<String>>,
    first_year: i32,
    masks: Vec<YearMask>,
}

impl DaySet {
    fn insert(&mut self, date: NaiveDate, name: Option<String>) {
        let year = date.year();
        if self.masks.is_empty() {
            self.first_year = year;
        }
        if year < self.first_year {
            let grow = usize::try_from(self.first_year - year).unwrap_or(0);
            self.masks.splice(0..0, std::iter::repeat_n([0; 6], grow));
            self.first_year = year;
        }
        let index = usize::try_from(year - self.first_year).unwrap_or(0);
        if index >= self.masks.len() {
            self.masks.resize(index + 1, [0; 6]);
        }
        let bit = date.ordinal0() as usize;
        self.masks[index][bit / 64] |= 1 << (bit % 64);
        // A repeated date keeps the first name it was given.
        let entry = self.names.entry(date).or_insert(None);
        if entry.is_none() {
            *entry = name;
        }
    }

    fn contains(&self, date: NaiveDate) -> bool {
        let bit = date.ordinal0() as usize;
        usize::try_from(date.year() - self.first_year)
            .ok()
            .and_then(|i| self.masks.get(i))
            .is_some_and(|m| m[bit / 64] & (1 << (bit % 64)) != 0)
    }

    fn name(&self, date: NaiveDate) -> Option<String> {
        self.names.get(&date).cloned().flatten()
    }

    fn years(&self) -> impl Iterator<Item = i32> + '_ {
        let mut years: Vec<i32> = self.names.keys().map(Datelike::year).collect();
        years.dedup();
        years.into_iter()
    }

    fn iter(&self) -> impl Iterator<Item = (NaiveDate, &Option<String>)> + '_ {
        self.names.iter().map(|(d, n)| (*d, n))
    }

    fn count_in(&self, year: i32) -> usize {
        self.names.keys().filter(|d| d.year() == year).count()
    }
}

/// Which years a calendar speaks for (DOMAIN.md §5): its `years` list, else
/// the years of the dates it lists; a calendar with no date at all says
/// there are no holidays, in every year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// No date listed and no `years`: weekends are the only non-business days.
    Every,
    /// These years; for any other year the unmovable national days of RD
    /// 2001/1983 art. 45.1 still count ([`fixed`]).
    Years(BTreeSet<i32>),
}

/// Whether a year's list is the published one (`final`: the BOE resolution)
/// or a forecast (`provisional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearStatus {
    /// `final` — the published BOE list.
    Final,
    /// `provisional` — a forecast, to be replaced when the BOE publishes.
    Provisional,
}

impl YearStatus {
    /// `final` or `provisional` (the file's wire form).
    pub fn as_str(self) -> &'static str {
        match self {
            YearStatus::Final => "final",
            YearStatus::Provisional => "provisional",
        }
    }
}

/// Where one year of the calendar comes from (the file's `sources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSource {
    /// Whether the year's list is final or provisional.
    pub status: YearStatus,
    /// E.g. the BOE identifier of the year's *relación de fiestas laborales*.
    pub reference: String,
}

/// A holiday calendar (DOMAIN.md §5; Ley 39/2015 art. 30.6–30.7): national
/// days, each community's days keyed by ISO 3166-2 code, the local days of
/// the city where each province's office sits, and the years it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    national: DaySet,
    regional: BTreeMap<Community, DaySet>,
    local: BTreeMap<ProvinceCode, DaySet>,
    coverage: Coverage,
    sources: BTreeMap<i32, YearSource>,
}

/// The empty calendar: no holidays, covering every year (what a scenario's
/// `"calendar": {"national": [], "regional": {}}` says).
impl Default for HolidayCalendar {
    fn default() -> Self {
        HolidayCalendar {
            national: DaySet::default(),
            regional: BTreeMap::new(),
            local: BTreeMap::new(),
            coverage: Coverage::Every,
            sources: BTreeMap::new(),
        }
    }
}

/// Why a calendar file did not load: the JSON path of the first fault
/// (`$.regional.ES-XX`, `$.national[3]`) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CalendarError {
    /// The JSON path of the fault, e.g. `$.national[3]`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

const DEFAULT_CALENDAR_JSON: &str = include_str!("../../data/default_calendar.json");

impl HolidayCalendar {
    /// The shipped calendar: national and regional holidays of every
    /// community and of Ceuta and Melilla as the BOE publishes them
    /// (`data/default_calendar.json`; `data/README.md` says where each year
    /// comes from).
    pub fn default_calendar() -> HolidayCalendar {
        match HolidayCalendar::from_json(DEFAULT_CALENDAR_JSON) {
            Ok(c) => c,
            Err(e) => panic!("the shipped default calendar is invalid: {e}"),
        }
    }

    /// Reads a calendar file's text (format: [`file`](mod@file)).
    ///
    /// # Errors
    ///
    /// [`CalendarError`] naming the JSON path of the first fault: not JSON,
    /// an unknown key, a malformed date, an unknown community or province.
    ///
    /// # Examples
    ///
    /// A Barcelona autorizado (province `08`, Cataluña) whose case sits at
    /// the Madrid office (`28`): Catalan, Madrid and Madrid-city days all
    /// count (Ley 39/2015 art. 30.6–30.7).
    ///
    /// ```rust
    /// use casia_core::calendar::{BusinessDays, HolidayCalendar, NonBusinessReason};
    /// use chrono::NaiveDate;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let calendar = HolidayCalendar::from_json(r#"{
    ///   "national": ["2026-01-01", {"date": "2026-01-06", "name": "Epifanía del Señor"}],
    ///   "regional": {"ES-CT": [{"date": "2026-06-24", "name": "Sant Joan"}]},
    ///   "local": {"28": [{"date": "2026-05-15", "name": "San Isidro"}]}
    /// }"#)?;
    /// assert!(calendar.covers_year(2026) && !calendar.covers_year(2027));
    ///
    /// let case = calendar.for_case("08".parse()?, "28".parse()?);
    /// let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    /// assert!(!case.is_business_day(day("2026-06-24")?)); // Sant Joan (ES-CT)
    /// assert!(!case.is_business_day(day("2026-05-15")?)); // San Isidro (office's city)
    /// // For a Madrid autorizado at the Madrid office, Sant Joan is a business day.
    /// let madrid = calendar.for_case("28".parse()?, "28".parse()?);
    /// assert!(madrid.is_business_day(day("2026-06-24")?));
    /// assert_eq!(
    ///     case.reasons(day("2026-05-15")?),
    ///     [NonBusinessReason::Local { province: "28".parse()?, name: Some("San Isidro".into()) }]
    /// );
    /// // 2027 is not covered: only weekends and the unmovable national days count.
    /// assert!(!case.is_business_day(day("2027-01-01")?));
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_json(json: &str) -> Result<HolidayCalendar, CalendarError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| CalendarError {
            path: "$".into(),
            message: e.to_string(),
        })?;
        HolidayCalendar::from_value(&value)
    }

    /// Reads an already parsed calendar file (a scenario's `calendar` key).
    ///
    /// # Errors
    ///
    /// As [`HolidayCalendar::from_json`].
    pub fn from_value(value: &serde_json::Value) -> Result<HolidayCalendar, CalendarError> {
        file::parse(value)
    }

    /// The file form of this calendar (names kept, `years` explicit).
    pub fn to_value(&self) -> serde_json::Value {
        file::to_value(self)
    }

    /// Whether the calendar speaks for `year` (DOMAIN.md §5).
    pub fn covers_year(&self, year: i32) -> bool {
        match &self.coverage {
            Coverage::Every => true,
            Coverage::Years(years) => years.contains(&year),
        }
    }

    /// The years covered.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// The last year covered; `None` when the calendar covers every year.
    pub fn last_covered_year(&self) -> Option<i32> {
        match &self.coverage {
            Coverage::Every => None,
            Coverage::Years(years) => years.last().copied(),
        }
    }

    /// What an operator must be told on `today` (a Madrid date) about the
    /// calendar running out: the current year uncovered, or — from 1
    /// October, when the BOE has usually published next year's list — next
    /// year uncovered. `None` when nothing is missing. `serve` logs it at
    /// start and once a day.
    pub fn coverage_warning(&self, today: NaiveDate) -> Option<String> {
        let year = today.year();
        if !self.covers_year(year) {
            return Some(format!(
                "the holiday calendar does not cover {year}: deadlines count only weekends and the national days no community can move (RD 2001/1983 art. 45.1); load {year}'s holidays (casia-core/data/README.md)"
            ));
        }
        if today.month() >= 10 && !self.covers_year(year + 1) {
            return Some(format!(
                "the holiday calendar does not cover {next}: deadlines that run into {next} will count only weekends and the unmovable national days; load {next}'s holidays before 1 January (casia-core/data/README.md)",
                next = year + 1
            ));
        }
        None
    }

    /// Where each year's data comes from, as the file says.
    pub fn sources(&self) -> &BTreeMap<i32, YearSource> {
        &self.sources
    }

    /// How many national days the calendar lists in `year`.
    pub fn national_count(&self, year: i32) -> usize {
        self.national.count_in(year)
    }

    /// How many days of `community` (besides the national ones) it lists in `year`.
    pub fn regional_count(&self, community: Community, year: i32) -> usize {
        self.regional
            .get(&community)
            .map_or(0, |d| d.count_in(year))
    }

    /// The provinces with local days, and how many in `year`.
    pub fn local_counts(&self, year: i32) -> Vec<(ProvinceCode, usize)> {
        self.local
            .iter()
            .map(|(p, d)| (*p, d.count_in(year)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// What differs from `before`, one line per added or removed day or
    /// changed coverage (logged when `serve` reloads the calendar).
    pub fn changes_since(&self, before: &HolidayCalendar) -> Vec<String> {
        let mut lines = Vec::new();
        if self.coverage != before.coverage {
            lines.push(format!(
                "coverage {} → {}",
                describe_coverage(&before.coverage),
                describe_coverage(&self.coverage)
            ));
        }
        diff_days("national", &before.national, &self.national, &mut lines);
        let empty = DaySet::default();
        for c in Community::ALL {
            let old = before.regional.get(&c).unwrap_or(&empty);
            let new = self.regional.get(&c).unwrap_or(&empty);
            diff_days(c.iso_code(), old, new, &mut lines);
        }
        let provinces: BTreeSet<ProvinceCode> = before
            .local
            .keys()
            .chain(self.local.keys())
            .copied()
            .collect();
        for p in provinces {
            let old = before.local.get(&p).unwrap_or(&empty);
            let new = self.local.get(&p).unwrap_or(&empty);
            diff_days(&format!("local {p}"), old, new, &mut lines);
        }
        lines
    }

    /// The business days of one case (art. 30.6–30.7): national ∪ the
    /// community of the authorization's province ∪ the community of the
    /// office ∪ the local days of the office's province; weekends always
    /// off; in a year the calendar does not cover, the unmovable national
    /// days ([`fixed`]).
    ///
    /// `province` is the case's (the submitting user's) province, `office`
    /// its office at the moment the deadline is set. See
    /// [`HolidayCalendar::from_json`] for an example.
    pub fn for_case(&self, province: ProvinceCode, office: ProvinceCode) -> CaseCalendar<'_> {
        let (a, b) = (province.community(), office.community());
        CaseCalendar {
            calendar: self,
            scopes: [
                self.regional.get(&a).map(|d| (Scope::Regional(a), d)),
                self.regional
                    .get(&b)
                    .filter(|_| a != b)
                    .map(|d| (Scope::Regional(b), d)),
                self.local.get(&office).map(|d| (Scope::Local(office), d)),
            ],
        }
    }
}

fn describe_coverage(c: &Coverage) -> String {
    match c {
        Coverage::Every => "every year".into(),
        Coverage::Years(y) => y
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn diff_days(scope: &str, before: &DaySet, after: &DaySet, lines: &mut Vec<String>) {
    for (d, name) in after.iter().filter(|(d, _)| !before.names.contains_key(d)) {
        lines.push(format!(
            "{scope}: + {d} {}",
            name.as_deref().unwrap_or_default()
        ));
    }
    for (d, name) in before.iter().filter(|(d, _)| !after.names.contains_key(d)) {
        lines.push(format!(
            "{scope}: - {d} {}",
            name.as_deref().unwrap_or_default()
        ));
    }
}

/// Where a holiday of a case's calendar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Regional(Community),
    Local(ProvinceCode),
}

/// Why a date is not a business day, as a deadline's explanation lists it
/// (`casia calendar deadline`, `GET /v1/calendar/deadline`). Serialised as
/// `{"kind": "regional", "community": "ES-AN", "name": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NonBusinessReason {
    /// Saturday or Sunday.
    Weekend,
    /// A national holiday of the calendar.
    National {
        /// The holiday's name, when the calendar gives one.
        name: Option<String>,
    },
    /// A holiday of the community of the authorization's province or of the
    /// office (art. 30.6).
    Regional {
        /// The community (ISO 3166-2) whose holiday it is.
        community: Community,
        /// The holiday's name, when the calendar gives one.
        name: Option<String>,
    },
    /// A day of the city where the office's province has its office (art. 30.7).
    Local {
        /// The office's province.
        province: ProvinceCode,
        /// The holiday's name, when the calendar gives one.
        name: Option<String>,
    },
    /// An unmovable national day (RD 2001/1983 art. 45.1) in a year the
    /// calendar does not cover.
    Unmovable {
        /// The day's name, e.g. "Natividad del Señor".
        name: String,
    },
}

/// A calendar seen from one case: the authorization's community, the
/// office's community and the office's local days.
#[derive(Debug, Clone, Copy)]
pub struct CaseCalendar<'c> {
    calendar: &'c HolidayCalendar,
    scopes: [Option<(Scope, &'c DaySet)>; 3],
}

impl CaseCalendar<'_> {
    /// Logs once per uncovered year in `from..=to`, so the operator loads
    /// that year (DOMAIN.md §5); those years still skip the unmovable days.
    pub fn warn_if_uncovered(&self, from: NaiveDate, to: NaiveDate) {
        for year in self.uncovered_years(from, to) {
            tracing::warn!(
                year,
                "holiday calendar does not cover {year}: only weekends and the national days no community can move (RD 2001/1983 art. 45.1) count as non-business"
            );
        }
    }

    /// The years in `from..=to` the calendar does not cover.
    pub fn uncovered_years(&self, from: NaiveDate, to: NaiveDate) -> Vec<i32> {
        (from.year()..=to.year())
            .filter(|y| !self.calendar.covers_year(*y))
            .collect()
    }

    /// Every reason `date` is not a business day; empty for a business day.
    pub fn reasons(&self, date: NaiveDate) -> Vec<NonBusinessReason> {
        let mut reasons = Vec::new();
        if is_weekend(date) {
            reasons.push(NonBusinessReason::Weekend);
        }
        if !self.calendar.covers_year(date.year()) {
            if let Some(name) = fixed::unmovable_national_day(date) {
                reasons.push(NonBusinessReason::Unmovable { name: name.into() });
            }
            return reasons;
        }
        if self.calendar.national.contains(date) {
            reasons.push(NonBusinessReason::National {
                name: self.calendar.national.name(date),
            });
        }
        for (scope, days) in self.scopes.iter().flatten() {
            if days.contains(date) {
                let name = days.name(date);
                reasons.push(match *scope {
                    Scope::Regional(community) => NonBusinessReason::Regional { community, name },
                    Scope::Local(province) => NonBusinessReason::Local { province, name },
                });
            }
        }
        reasons
    }
}

impl BusinessDays for CaseCalendar<'_> {
    fn is_business_day(&self, date: NaiveDate) -> bool {
        if is_weekend(date) {
            return false;
        }
        if !self.calendar.covers_year(date.year()) {
            return fixed::unmovable_national_day(date).is_none();
        }
        !(self.calendar.national.contains(date)
            || self
                .scopes
                .iter()
                .flatten()
                .any(|(_, days)| days.contains(date)))
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

    fn province(s: &str) -> ProvinceCode {
        ProvinceCode::parse(s).expect("province")
    }

    #[test]
    fn business_days_are_weekdays_outside_national_both_communities_and_local() {
        let cal = HolidayCalendar::from_json(
            r#"{"national": ["2026-12-08"],
                "regional": {"ES-MD": ["2026-12-07"], "ES-CT": [{"date": "2026-12-26", "name": "Sant Esteve"}], "ES-AN": ["2026-12-09"]},
                "local": {"08": [{"date": "2026-12-10", "name": "Fiesta local"}], "28": ["2026-12-11"]}}"#,
        )
        .expect("valid");
        // Authorization in Madrid (28), office in Barcelona (08).
        let case = cal.for_case(province("28"), province("08"));
        for (d, why) in [
            ("2026-12-07", "ES-MD holiday"),
            ("2026-12-08", "national"),
            ("2026-12-05", "Saturday"),
            ("2026-12-06", "Sunday"),
            ("2026-12-10", "local day of the office's province"),
        ] {
            assert!(!case.is_business_day(date(d)), "{d}: {why}");
        }
        assert!(
            case.is_business_day(date("2026-12-09")),
            "ES-AN does not count"
        );
        assert!(
            case.is_business_day(date("2026-12-11")),
            "local days of the authorization's province do not count (art. 30.7: the office's)"
        );
        assert_eq!(
            case.reasons(date("2026-12-26")),
            vec![
                NonBusinessReason::Weekend,
                NonBusinessReason::Regional {
                    community: Community::Cataluna,
                    name: Some("Sant Esteve".into())
                }
            ]
        );
        assert_eq!(
            case.reasons(date("2026-12-10")),
            vec![NonBusinessReason::Local {
                province: province("08"),
                name: Some("Fiesta local".into())
            }]
        );
        assert!(case.reasons(date("2026-12-14")).is_empty());
        let madrid_only = cal.for_case(province("28"), province("28"));
        assert!(madrid_only.is_business_day(date("2026-12-10")));
        assert!(!madrid_only.is_business_day(date("2026-12-11")));
    }

    #[test]
    fn coverage_is_the_years_list_else_the_years_of_every_date_else_every_year() {
        let listed =
            HolidayCalendar::from_json(r#"{"years": [2026, 2027], "national": ["2026-01-01"]}"#)
                .expect("valid");
        assert!(listed.covers_year(2027) && !listed.covers_year(2028));
        assert_eq!(listed.last_covered_year(), Some(2027));
        let dated = HolidayCalendar::from_json(
            r#"{"national": ["2026-01-01"], "regional": {"ES-MD": ["2027-05-02"]}, "local": {"28": ["2025-05-15"]}}"#,
        )
        .expect("valid");
        assert_eq!(
            dated.coverage(),
            &Coverage::Years([2025, 2026, 2027].into())
        );
        let empty =
            HolidayCalendar::from_json(r#"{"national": [], "regional": {}}"#).expect("valid");
        assert_eq!(empty.coverage(), &Coverage::Every);
        assert_eq!(empty.last_covered_year(), None);
        assert_eq!(empty, HolidayCalendar::default());
        // An empty calendar says there are no holidays: Christmas is a business day.
        assert!(
            empty
                .for_case(province("28"), province("28"))
                .is_business_day(date("2026-12-25"))
        );
    }

    #[test]
    fn an_uncovered_year_still_skips_the_unmovable_national_days() {
        let cal = HolidayCalendar::from_json(r#"{"national": ["2026-01-01"]}"#).expect("valid");
        let case = cal.for_case(province("41"), province("41"));
        assert!(!case.is_business_day(date("2027-01-01")), "Año Nuevo");
        assert!(!case.is_business_day(date("2027-03-26")), "Viernes Santo");
        assert!(
            case.is_business_day(date("2027-01-06")),
            "Epifanía is movable"
        );
        assert!(
            case.is_business_day(date("2026-12-25")),
            "2026 is covered: only what it lists"
        );
        assert_eq!(
            case.reasons(date("2027-03-26")),
            vec![NonBusinessReason::Unmovable {
                name: "Viernes Santo".into()
            }]
        );
        assert_eq!(
            case.uncovered_years(date("2026-12-20"), date("2027-01-10")),
            vec![2027]
        );
    }

    proptest::proptest! {
        #[test]
        fn the_unmovable_days_are_non_business_in_every_uncovered_year(
            year in 1583i32..=9999,
            a in 1u8..=52,
            b in 1u8..=52,
        ) {
            let cal = HolidayCalendar::default_calendar();
            proptest::prop_assume!(!cal.covers_year(year));
            let days = cal.for_case(province(&format!("{a:02}")), province(&format!("{b:02}")));
            for (d, name) in fixed::unmovable_national_days(year) {
                proptest::prop_assert!(!days.is_business_day(d), "{} {}", d, name);
                let unmovable = days.reasons(d).contains(&NonBusinessReason::Unmovable { name: name.into() });
                proptest::prop_assert!(unmovable, "{} {}", d, name);
            }
        }
    }

    #[test]
    fn the_shipped_calendar_covers_2024_to_2027_for_every_community() {
        let cal = HolidayCalendar::default_calendar();
        for year in 2024..=2027 {
            assert!(cal.covers_year(year), "{year}");
            assert!(cal.national_count(year) >= 7, "{year}: national days");
            assert!(cal.sources().contains_key(&year), "{year}: source named");
            for c in Community::ALL {
                assert!(
                    cal.regional_count(c, year) >= 1,
                    "{year} {c}: regional days"
                );
            }
        }
        // The published national days of the vectors are non-business
        // everywhere.
        let vectors: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/deadlines.json"
        )))
        .expect("vectors");
        for year in vectors["national_holidays"]
            .as_object()
            .expect("years")
            .values()
        {
            for d in year.as_array().expect("list") {
                let d = date(d.as_str().expect("date"));
                for p in 1..=52u8 {
                    let p = province(&format!("{p:02}"));
                    assert!(!cal.for_case(p, p).is_business_day(d), "{d} in {p}");
                }
            }
        }
        // Round trip through the file form keeps every day and name.
        let again = HolidayCalendar::from_value(&cal.to_value()).expect("round trip");
        assert_eq!(again, cal);
    }

    #[test]
    fn the_operator_is_warned_from_1_october_when_next_year_is_missing() {
        let cal =
            HolidayCalendar::from_json(r#"{"years": [2026], "national": []}"#).expect("valid");
        assert_eq!(cal.coverage_warning(date("2026-09-30")), None);
        let october = cal.coverage_warning(date("2026-10-01")).expect("warned");
        assert!(october.contains("does not cover 2027"), "{october}");
        let january = cal.coverage_warning(date("2027-01-02")).expect("warned");
        assert!(january.contains("does not cover 2027"), "{january}");
        assert_eq!(
            HolidayCalendar::default().coverage_warning(date("2026-12-31")),
            None
        );
        assert_eq!(
            HolidayCalendar::default_calendar().coverage_warning(date("2026-11-30")),
            None,
            "the shipped calendar covers next year"
        );
    }

    #[test]
    fn faults_name_their_json_path() {
        let path = |json: &str| {
            HolidayCalendar::from_json(json)
                .map(|_| ())
                .map_err(|e| e.path)
        };
        assert_eq!(
            path(r#"{"national": [], "regional": {"ES-XX": []}}"#),
            Err("$.regional.ES-XX".into())
        );
        assert_eq!(path(r#"{"nacional": []}"#), Err("$.nacional".into()));
        assert_eq!(
            path(r#"{"national": ["2026-02-30"]}"#),
            Err("$.national[0]".into())
        );
        assert_eq!(
            path(r#"{"national": ["2026-01-01", "+2026-01-02"]}"#),
            Err("$.national[1]".into())
        );
        assert_eq!(
            path(r#"{"national": [{"date": "2026-01-01", "nombre": "x"}]}"#),
            Err("$.national[0].nombre".into())
        );
        assert_eq!(
            path(r#"{"national": [{"name": "x"}]}"#),
            Err("$.national[0].date".into())
        );
        assert_eq!(path(r#"{"local": {"53": []}}"#), Err("$.local.53".into()));
        assert_eq!(
            path(r#"{"years": [2026, "2027"]}"#),
            Err("$.years[1]".into())
        );
        assert_eq!(
            path(r#"{"sources": {"2026": {"status": "draft"}}}"#),
            Err("$.sources.2026.status".into())
        );
        assert_eq!(path("[]"), Err("$".into()));
        assert_eq!(path("{"), Err("$".into()));
    }

    #[test]
    fn a_reload_reports_what_changed() {
        let before = HolidayCalendar::from_json(
            r#"{"national": ["2026-01-01"], "regional": {"ES-MD": ["2026-05-02"]}}"#,
        )
        .expect("valid");
        let after = HolidayCalendar::from_json(
            r#"{"national": ["2026-01-01"], "regional": {"ES-MD": [{"date": "2026-05-15", "name": "San Isidro"}]}}"#,
        )
        .expect("valid");
        assert_eq!(
            after.changes_since(&before),
            vec![
                "ES-MD: + 2026-05-15 San Isidro".to_owned(),
                "ES-MD: - 2026-05-02 ".to_owned()
            ]
        );
        assert!(after.changes_since(&after).is_empty());
    }
}
