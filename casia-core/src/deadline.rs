//! The documentation deadline rule (DOMAIN.md §5; Ley 39/2015 art. 30.2–30.6,
//! art. 68.1): when a deadline falls, when a case becomes overdue, and when
//! the reminder is due.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::calendar::{
    BusinessDays, CaseCalendar, HolidayCalendar, NonBusinessReason, madrid_date, next_day,
    parse_iso_date, previous_day,
};
use crate::catalog::{DeadlinePolicy, DeadlineUnit};
use crate::error::CasiaError;
use crate::ids::ProvinceCode;

/// The deadline date for a request made on Madrid date `d0`.
///
/// - business: the n-th business day after `d0`, counting from the day after
///   (Ley 39/2015 art. 30.2–30.3);
/// - calendar: `d0 + n`, moved forward to the next business day if needed
///   (art. 30.5).
///
/// `days` says which dates are business days: a case's
/// [`CaseCalendar`] in the service, or a plain `BTreeSet<NaiveDate>` of
/// holidays besides weekends. Near the end of chrono's date range the count
/// stops at the last representable date instead of overflowing.
///
/// # Examples
///
/// Ten business days from Thursday 17 December 2026, with Christmas and New
/// Year's Day as holidays:
///
/// ```rust
/// use std::collections::BTreeSet;
///
/// use casia_core::catalog::{DeadlinePolicy, DeadlineUnit};
/// use casia_core::deadline::deadline_date;
/// use chrono::NaiveDate;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
/// let holidays: BTreeSet<NaiveDate> =
///     [day("2026-12-25")?, day("2027-01-01")?, day("2027-01-06")?].into();
///
/// let business = DeadlinePolicy { days: 10, unit: DeadlineUnit::Business };
/// assert_eq!(deadline_date(day("2026-12-17")?, business, &holidays), day("2027-01-04")?);
///
/// // 20 calendar days land on 6 January, a holiday: the deadline moves to the 7th.
/// let calendar = DeadlinePolicy { days: 20, unit: DeadlineUnit::Calendar };
/// assert_eq!(deadline_date(day("2026-12-17")?, calendar, &holidays), day("2027-01-07")?);
/// # Ok(())
/// # }
/// ```
pub fn deadline_date(d0: NaiveDate, policy: DeadlinePolicy, days: &impl BusinessDays) -> NaiveDate {
    match policy.unit {
        DeadlineUnit::Business => {
            let mut d = d0;
            let mut counted = 0;
            while counted < policy.days {
                let next = next_day(d);
                if next == d {
                    break; // end of the representable calendar
                }
                d = next;
                if days.is_business_day(d) {
                    counted += 1;
                }
            }
            d
        }
        DeadlineUnit::Calendar => {
            let mut d = d0
                .checked_add_days(Days::new(u64::from(policy.days)))
                .unwrap_or(NaiveDate::MAX);
            while !days.is_business_day(d) {
                let next = next_day(d);
                if next == d {
                    break;
                }
                d = next;
            }
            d
        }
    }
}

/// A deadline with the reasons for it: every non-business day the count
/// skipped (`casia calendar deadline`, `GET /v1/calendar/deadline`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineExplanation {
    /// The Madrid date of the request.
    pub from: NaiveDate,
    /// The deadline policy applied.
    pub policy: DeadlinePolicy,
    /// As [`deadline_date`] computes it.
    pub deadline: NaiveDate,
    /// For `business`: every non-business day after `from` up to the
    /// deadline; for `calendar`: the non-business days from the nominal
    /// date (`from + n`) up to the deadline. In date order.
    pub skipped: Vec<SkippedDay>,
    /// Years in `from..=deadline` the calendar does not cover: there only
    /// weekends and the unmovable national days counted.
    pub uncovered_years: Vec<i32>,
}

/// One non-business day and every reason it is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    /// The non-business date.
    pub date: NaiveDate,
    /// Every reason it is not a business day (weekend, national, regional, local, unmovable).
    pub reasons: Vec<NonBusinessReason>,
}

/// The question `casia calendar deadline` and `GET /v1/calendar/deadline`
/// ask: a request on `from` (Madrid date) with `policy`, for an
/// authorization of `province` and a case at `office`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineQuery {
    /// The Madrid date of the request (`d0`).
    pub from: NaiveDate,
    /// The days and unit to count.
    pub policy: DeadlinePolicy,
    /// The authorization's province (its community's holidays count).
    pub province: ProvinceCode,
    /// The case's office (its community's and its city's holidays count).
    pub office: ProvinceCode,
}

impl DeadlineQuery {
    /// Parses the five parameters as given on a command line or URL:
    /// `from` exactly `YYYY-MM-DD`, `days` 1–365 (DOMAIN.md §2), `unit`
    /// `business` or `calendar`, `province` and `office` two-digit codes
    /// `01`–`52`.
    ///
    /// # Errors
    ///
    /// `invalid_query` naming the first parameter that does not parse, in
    /// the order above.
    pub fn parse(
        from: &str,
        days: &str,
        unit: &str,
        province: &str,
        office: &str,
    ) -> Result<DeadlineQuery, CasiaError> {
        let from = parse_iso_date(from).ok_or_else(|| CasiaError::invalid_query("from"))?;
        let days = days
            .parse::<u16>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| CasiaError::invalid_query("days"))?;
        let unit = match unit {
            "business" => DeadlineUnit::Business,
            "calendar" => DeadlineUnit::Calendar,
            _ => return Err(CasiaError::invalid_query("unit")),
        };
        let province =
            ProvinceCode::parse(province).map_err(|_| CasiaError::invalid_query("province"))?;
        let office =
            ProvinceCode::parse(office).map_err(|_| CasiaError::invalid_query("office"))?;
        Ok(DeadlineQuery {
            from,
            policy: DeadlinePolicy { days, unit },
            province,
            office,
        })
    }

    /// The answer on `calendar`.
    pub fn explain(&self, calendar: &HolidayCalendar) -> DeadlineExplanation {
        explain_deadline(
            self.from,
            self.policy,
            &calendar.for_case(self.province, self.office),
        )
    }
}

/// [`deadline_date`] for one case's calendar, with the days it skipped and why.
pub fn explain_deadline(
    from: NaiveDate,
    policy: DeadlinePolicy,
    days: &CaseCalendar<'_>,
) -> DeadlineExplanation {
    let deadline = deadline_date(from, policy, days);
    let first = match policy.unit {
        DeadlineUnit::Business => next_day(from),
        DeadlineUnit::Calendar => from
            .checked_add_days(Days::new(u64::from(policy.days)))
            .unwrap_or(NaiveDate::MAX),
    };
    let skipped = first
        .iter_days()
        .take_while(|d| *d < deadline)
        .filter_map(|date| {
            let reasons = days.reasons(date);
            (!reasons.is_empty()).then_some(SkippedDay { date, reasons })
        })
        .collect();
    DeadlineExplanation {
        from,
        policy,
        deadline,
        skipped,
        uncovered_years: days.uncovered_years(from, deadline),
    }
}

/// Overdue from 00:00 Europe/Madrid of the day after the deadline date: any
/// moment of the deadline date itself is in time.
pub fn is_overdue(deadline: NaiveDate, now: DateTime<Utc>) -> bool {
    madrid_date(now) > deadline
}

/// The instant a case whose deadline is `deadline` becomes overdue: 00:00
/// Europe/Madrid of the next day (what notifications tell the autorizado).
/// [`is_overdue`] is true exactly from this instant on.
pub fn overdue_from(deadline: NaiveDate) -> DateTime<Utc> {
    crate::calendar::madrid_start_of_day(next_day(deadline))
}

/// The last business day before the deadline date: from that Madrid date on,
/// the sweep sends the one `deadline_approaching` reminder.
pub fn reminder_date(deadline: NaiveDate, days: &impl BusinessDays) -> NaiveDate {
    let mut d = previous_day(deadline);
    while !days.is_business_day(d) {
        let prev = previous_day(d);
        if prev == d {
            break;
        }
        d = prev;
    }
    d
}

/// Whether the reminder is due at `now`.
pub fn is_reminder_due(deadline: NaiveDate, now: DateTime<Utc>, days: &impl BusinessDays) -> bool {
    madrid_date(now) >= reminder_date(deadline, days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn policy(days: u16, unit: DeadlineUnit) -> DeadlinePolicy {
        DeadlinePolicy { days, unit }
    }

    #[test]
    fn the_published_vectors_hold() {
        let v: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/deadlines.json"
        )))
        .expect("vectors");
        let mut national = BTreeSet::new();
        for year in v["national_holidays"].as_object().expect("years").values() {
            for d in year.as_array().expect("list") {
                national.insert(date(d.as_str().expect("date")));
            }
        }
        let cases = v["cases"].as_array().expect("cases");
        assert!(cases.len() >= 8);
        for c in cases {
            let holidays: BTreeSet<NaiveDate> = match &c["holidays"] {
                serde_json::Value::String(s) if s == "national" => national.clone(),
                serde_json::Value::Array(a) => {
                    a.iter().map(|d| date(d.as_str().expect("date"))).collect()
                }
                other => panic!("unknown holidays {other}"),
            };
            let unit = match c["unit"].as_str() {
                Some("business") => DeadlineUnit::Business,
                Some("calendar") => DeadlineUnit::Calendar,
                other => panic!("unit {other:?}"),
            };
            let days = u16::try_from(c["days"].as_u64().expect("days")).expect("small");
            let d0 = date(c["d0"].as_str().expect("d0"));
            let expected = date(c["deadline"].as_str().expect("deadline"));
            assert_eq!(
                deadline_date(d0, policy(days, unit), &holidays),
                expected,
                "{c}"
            );
        }
    }

    #[test]
    fn ley_39_2015_examples() {
        let national: BTreeSet<NaiveDate> = [
            "2025-12-06",
            "2025-12-08",
            "2025-12-25",
            "2026-01-01",
            "2026-01-06",
        ]
        .into_iter()
        .map(date)
        .collect();
        assert_eq!(
            deadline_date(
                date("2025-12-04"),
                policy(10, DeadlineUnit::Business),
                &national
            ),
            date("2025-12-19")
        );
        assert_eq!(
            deadline_date(
                date("2025-12-19"),
                policy(10, DeadlineUnit::Business),
                &national
            ),
            date("2026-01-07")
        );
    }

    #[test]
    fn overdue_starts_at_madrid_midnight_after_the_deadline() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        let d = date("2026-11-23");
        assert!(
            !is_overdue(d, at("2026-11-23T22:59:59Z")),
            "23:59:59 Madrid is in time"
        );
        assert!(
            is_overdue(d, at("2026-11-23T23:00:00Z")),
            "00:00 Madrid next day"
        );
        let summer = date("2026-07-10");
        assert!(!is_overdue(summer, at("2026-07-10T21:59:59Z")));
        assert!(is_overdue(summer, at("2026-07-10T22:00:00Z")));
        for deadline in [d, summer, date("2026-03-28"), date("2026-10-24")] {
            let from = overdue_from(deadline);
            assert!(is_overdue(deadline, from), "{deadline}");
            assert!(
                !is_overdue(deadline, from - chrono::Duration::seconds(1)),
                "{deadline}"
            );
        }
    }

    #[test]
    fn the_reminder_falls_on_the_last_business_day_before() {
        let none = BTreeSet::new();
        assert_eq!(
            reminder_date(date("2026-11-23"), &none),
            date("2026-11-20"),
            "Mon → Fri"
        );
        assert_eq!(reminder_date(date("2026-11-25"), &none), date("2026-11-24"));
        let friday_holiday: BTreeSet<NaiveDate> = [date("2026-11-20")].into();
        assert_eq!(
            reminder_date(date("2026-11-23"), &friday_holiday),
            date("2026-11-19"),
            "Mon after a Friday holiday → Thu"
        );
    }

    fn holidays_strategy() -> impl Strategy<Value = BTreeSet<NaiveDate>> {
        proptest::collection::btree_set(0i64..900, 0..40).prop_map(|offsets| {
            offsets
                .into_iter()
                .filter_map(|o| date("2025-01-01").checked_add_days(Days::new(o as u64)))
                .collect()
        })
    }

    fn d0_strategy() -> impl Strategy<Value = NaiveDate> {
        (0u64..730).prop_map(|o| date("2025-01-01") + Days::new(o))
    }

    fn unit_strategy() -> impl Strategy<Value = DeadlineUnit> {
        prop_oneof![Just(DeadlineUnit::Business), Just(DeadlineUnit::Calendar)]
    }

    fn province(n: u8) -> crate::ids::ProvinceCode {
        crate::ids::ProvinceCode::parse(&format!("{n:02}")).expect("province")
    }

    fn shipped() -> &'static crate::calendar::HolidayCalendar {
        static CALENDAR: std::sync::OnceLock<crate::calendar::HolidayCalendar> =
            std::sync::OnceLock::new();
        CALENDAR.get_or_init(crate::calendar::HolidayCalendar::default_calendar)
    }

    #[test]
    fn the_explanation_names_each_skipped_day() {
        let cal = crate::calendar::HolidayCalendar::from_json(
            r#"{"national": [{"date": "2026-12-25", "name": "Natividad del Señor"}],
                "regional": {"ES-CT": [{"date": "2026-12-26", "name": "Sant Esteve"}]}}"#,
        )
        .expect("calendar");
        let e = explain_deadline(
            date("2026-12-23"),
            policy(3, DeadlineUnit::Business),
            &cal.for_case(province(8), province(8)),
        );
        assert_eq!(e.deadline, date("2026-12-29"));
        let skipped: Vec<(String, usize)> = e
            .skipped
            .iter()
            .map(|s| (s.date.to_string(), s.reasons.len()))
            .collect();
        assert_eq!(
            skipped,
            [
                ("2026-12-25".to_owned(), 1),
                ("2026-12-26".to_owned(), 2),
                ("2026-12-27".to_owned(), 1)
            ]
        );
        assert_eq!(e.uncovered_years, Vec::<i32>::new());
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["skipped"][1]["reasons"][1]["kind"], "regional");
        assert_eq!(json["skipped"][1]["reasons"][1]["community"], "ES-CT");
        assert_eq!(json["skipped"][1]["reasons"][1]["name"], "Sant Esteve");
        // Calendar days: only the days from the nominal date on are listed.
        let e = explain_deadline(
            date("2026-12-05"),
            policy(20, DeadlineUnit::Calendar),
            &cal.for_case(province(8), province(8)),
        );
        assert_eq!(e.deadline, date("2026-12-28"));
        assert_eq!(e.skipped.first().map(|s| s.date), Some(date("2026-12-25")));
    }

    #[test]
    fn a_deadline_query_names_the_parameter_that_does_not_parse() {
        let field = |f: &str, d: &str, u: &str, p: &str, o: &str| {
            DeadlineQuery::parse(f, d, u, p, o)
                .map(|_| ())
                .map_err(|e| e.field().map(str::to_owned))
        };
        assert_eq!(field("2026-10-27", "10", "business", "41", "41"), Ok(()));
        assert_eq!(
            field("+2026-10-27", "10", "business", "41", "41"),
            Err(Some("from".into()))
        );
        assert_eq!(
            field("2026-10-7", "10", "business", "41", "41"),
            Err(Some("from".into()))
        );
        assert_eq!(
            field("2026-10-27", "0", "business", "41", "41"),
            Err(Some("days".into()))
        );
        assert_eq!(
            field("2026-10-27", "366", "business", "41", "41"),
            Err(Some("days".into()))
        );
        assert_eq!(
            field("2026-10-27", "10", "hábiles", "41", "41"),
            Err(Some("unit".into()))
        );
        assert_eq!(
            field("2026-10-27", "10", "calendar", "53", "41"),
            Err(Some("province".into()))
        );
        assert_eq!(
            field("2026-10-27", "10", "calendar", "41", "4"),
            Err(Some("office".into()))
        );
        let q = DeadlineQuery::parse("2026-10-27", "10", "business", "41", "41").expect("query");
        let e = q.explain(&HolidayCalendar::default_calendar());
        assert_eq!(
            e.deadline,
            date("2026-11-11"),
            "2 Nov 2026 is an Andalusian holiday"
        );
        assert!(e.skipped.iter().any(|s| {
            s.date == date("2026-11-02")
                && s.reasons
                    .iter()
                    .any(|r| matches!(r, NonBusinessReason::Regional { .. }))
        }));
    }

    #[test]
    fn a_calendar_that_runs_out_still_skips_christmas_and_new_year() {
        let cal =
            crate::calendar::HolidayCalendar::from_json(r#"{"years": [2026], "national": []}"#)
                .expect("calendar");
        let days = cal.for_case(province(28), province(28));
        let e = explain_deadline(
            date("2028-12-21"),
            policy(10, DeadlineUnit::Business),
            &days,
        );
        // 22, 26–29 Dec, 2–5, 8 Jan: Mon 25 Dec 2028 and Mon 1 Jan 2029 are
        // skipped as unmovable national days; 6 Jan (movable) is a Saturday.
        assert_eq!(e.deadline, date("2029-01-08"));
        assert_eq!(e.uncovered_years, vec![2028, 2029]);
        for day in ["2028-12-25", "2029-01-01"] {
            let skipped = e.skipped.iter().find(|s| s.date == date(day)).expect(day);
            assert!(
                matches!(skipped.reasons[..], [NonBusinessReason::Unmovable { .. }]),
                "{day}"
            );
        }
    }

    proptest! {
        #[test]
        fn the_explanation_lists_exactly_the_non_business_days_counted_over(
            d0 in (0u64..1461).prop_map(|o| date("2024-01-01") + Days::new(o)),
            n in 1u16..=60,
            unit in unit_strategy(),
            a in 1u8..=52,
            b in 1u8..=52,
        ) {
            let days = shipped().for_case(province(a), province(b));
            let e = explain_deadline(d0, policy(n, unit), &days);
            prop_assert_eq!(e.deadline, deadline_date(d0, policy(n, unit), &days));
            let first = match unit {
                DeadlineUnit::Business => d0 + Days::new(1),
                DeadlineUnit::Calendar => d0 + Days::new(u64::from(n)),
            };
            let expected: Vec<NaiveDate> = first
                .iter_days()
                .take_while(|d| *d < e.deadline)
                .filter(|d| !days.is_business_day(*d))
                .collect();
            let listed: Vec<NaiveDate> = e.skipped.iter().map(|s| s.date).collect();
            prop_assert_eq!(listed, expected);
            for s in &e.skipped {
                prop_assert!(!s.reasons.is_empty());
            }
        }

        #[test]
        fn another_community_or_local_day_never_makes_a_deadline_earlier(
            d0 in (0u64..1461).prop_map(|o| date("2024-01-01") + Days::new(o)),
            n in 1u16..=60,
            unit in unit_strategy(),
            a in 1u8..=52,
            b in 1u8..=52,
        ) {
            let cal = shipped();
            let alone = deadline_date(d0, policy(n, unit), &cal.for_case(province(a), province(a)));
            let both = deadline_date(d0, policy(n, unit), &cal.for_case(province(a), province(b)));
            prop_assert!(both >= alone);
            // National days only (the old default) are never later than the full calendar.
            let national_only: BTreeSet<NaiveDate> = cal
                .to_value()["national"]
                .as_array()
                .map(|l| l.iter().filter_map(|e| e.get("date").or(Some(e)).and_then(|d| d.as_str()).map(date)).collect())
                .unwrap_or_default();
            prop_assert!(deadline_date(d0, policy(n, unit), &national_only) <= alone);
        }
    }

    proptest! {
        #[test]
        fn every_deadline_is_a_business_day(d0 in d0_strategy(), n in 1u16..=365, unit in unit_strategy(), h in holidays_strategy()) {
            let d = deadline_date(d0, policy(n, unit), &h);
            prop_assert!(h.is_business_day(d), "{d} is not a business day");
            prop_assert!(d > d0);
        }

        #[test]
        fn business_deadlines_are_at_least_n_calendar_days_later(d0 in d0_strategy(), n in 1u16..=365, h in holidays_strategy()) {
            let d = deadline_date(d0, policy(n, DeadlineUnit::Business), &h);
            prop_assert!(d >= d0 + Days::new(u64::from(n)));
            // And exactly n business days lie in (d0, d].
            let mut count = 0;
            let mut x = d0;
            while x < d { x = x + Days::new(1); if h.is_business_day(x) { count += 1; } }
            prop_assert_eq!(count, n);
        }

        #[test]
        fn calendar_deadlines_are_the_first_business_day_from_d0_plus_n(d0 in d0_strategy(), n in 1u16..=365, h in holidays_strategy()) {
            let d = deadline_date(d0, policy(n, DeadlineUnit::Calendar), &h);
            let target = d0 + Days::new(u64::from(n));
            prop_assert!(d >= target);
            let mut x = target;
            while x < d { prop_assert!(!h.is_business_day(x)); x = x + Days::new(1); }
        }

        #[test]
        fn adding_a_holiday_never_makes_a_deadline_earlier(d0 in d0_strategy(), n in 1u16..=60, unit in unit_strategy(), h in holidays_strategy(), extra in 0u64..900) {
            let before = deadline_date(d0, policy(n, unit), &h);
            let mut more = h.clone();
            more.insert(date("2025-01-01") + Days::new(extra));
            prop_assert!(deadline_date(d0, policy(n, unit), &more) >= before);
        }

        #[test]
        fn without_holidays_business_days_are_weekdays(d0 in d0_strategy(), n in 1u16..=365) {
            let d = deadline_date(d0, policy(n, DeadlineUnit::Business), &BTreeSet::new());
            // Closed-form weekday arithmetic: a weekend start counts as Friday.
            let from_monday = u64::from(d0.weekday().num_days_from_monday());
            let monday = d0 - Days::new(from_monday);
            let total = from_monday.min(4) + u64::from(n);
            prop_assert_eq!(d, monday + Days::new(total / 5 * 7 + total % 5));
        }

        #[test]
        fn the_reminder_day_is_a_business_day_before_the_deadline(d0 in d0_strategy(), n in 1u16..=60, unit in unit_strategy(), h in holidays_strategy()) {
            let d = deadline_date(d0, policy(n, unit), &h);
            let r = reminder_date(d, &h);
            prop_assert!(r < d && h.is_business_day(r));
            let mut x = r + Days::new(1);
            while x < d { prop_assert!(!h.is_business_day(x)); x = x + Days::new(1); }
        }
    }
}
