//! The documentation deadline rule (DOMAIN.md §5; Ley 39/2015 art. 30.2–30.6,
//! art. 68.1): when a deadline falls, when a case becomes overdue, and when
//! the reminder is due.

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::calendar::{BusinessDays, madrid_date, next_day, previous_day};
use crate::catalog::{DeadlinePolicy, DeadlineUnit};

/// The deadline date for a request made on Madrid date `d0`.
///
/// - business: the n-th business day after `d0`, counting from the day after;
/// - calendar: `d0 + n`, moved forward to the next business day if needed.
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

/// Overdue from 00:00 Europe/Madrid of the day after the deadline date: any
/// moment of the deadline date itself is in time.
pub fn is_overdue(deadline: NaiveDate, now: DateTime<Utc>) -> bool {
    madrid_date(now) > deadline
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
