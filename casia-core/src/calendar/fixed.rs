//! The national days no autonomous community can move (RD 2001/1983 art.
//! 45.1, as Ley 39/2015 art. 30.6 reads them): what still counts as
//! non-business in a year the loaded calendar does not cover, so that a
//! calendar that runs out never makes a deadline fall on Christmas Day
//! (DOMAIN.md §5).

use chrono::{Datelike, Days, NaiveDate};

/// Easter Sunday of the Gregorian calendar (the anonymous Gregorian
/// computus of Meeus/Jones/Butcher), for any year chrono can represent;
/// `None` only outside that range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Good Friday: two days before Easter Sunday.
pub fn good_friday(year: i32) -> Option<NaiveDate> {
    easter_sunday(year)?.checked_sub_days(Days::new(2))
}

/// The fixed-date days of art. 45.1, as (month, day, name).
const FIXED: [(u32, u32, &str); 8] = [
    (1, 1, "Año Nuevo"),
    (5, 1, "Fiesta del Trabajo"),
    (8, 15, "Asunción de la Virgen"),
    (10, 12, "Fiesta Nacional de España"),
    (11, 1, "Todos los Santos"),
    (12, 6, "Día de la Constitución Española"),
    (12, 8, "Inmaculada Concepción"),
    (12, 25, "Natividad del Señor"),
];

/// The name of the art. 45.1 day `date` is, if it is one: 1 Jan, Good
/// Friday, 1 May, 15 Aug, 12 Oct, 1 Nov, 6 Dec, 8 Dec, 25 Dec.
pub fn unmovable_national_day(date: NaiveDate) -> Option<&'static str> {
    let (m, d) = (date.month(), date.day());
    if let Some((_, _, name)) = FIXED.iter().find(|(fm, fd, _)| *fm == m && *fd == d) {
        return Some(name);
    }
    // Good Friday falls between 20 March and 23 April.
    if (3..=4).contains(&m) && good_friday(date.year()) == Some(date) {
        return Some("Viernes Santo");
    }
    None
}

/// Every art. 45.1 day of `year`, in date order.
pub fn unmovable_national_days(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut days: Vec<(NaiveDate, &'static str)> = FIXED
        .iter()
        .filter_map(|(m, d, name)| NaiveDate::from_ymd_opt(year, *m, *d).map(|x| (x, *name)))
        .collect();
    if let Some(friday) = good_friday(year) {
        days.push((friday, "Viernes Santo"));
    }
    days.sort();
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn the_computus_matches_published_easter_dates() {
        // Easter Sundays as published (e.g. the US Naval Observatory's and
        // the Spanish Conferencia Episcopal's tables), including the
        // earliest (22 March) and latest (25 April) possible dates.
        for (year, easter) in [
            (1818, "1818-03-22"),
            (1886, "1886-04-25"),
            (1943, "1943-04-25"),
            (1961, "1961-04-02"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2029, "2029-04-01"),
            (2030, "2030-04-21"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(year), Some(date(easter)), "{year}");
        }
        assert_eq!(good_friday(2026), Some(date("2026-04-03")));
        assert_eq!(good_friday(2027), Some(date("2027-03-26")));
    }

    #[test]
    fn the_unmovable_days_of_2027() {
        let days: Vec<String> = unmovable_national_days(2027)
            .into_iter()
            .map(|(d, _)| d.to_string())
            .collect();
        assert_eq!(
            days,
            [
                "2027-01-01",
                "2027-03-26",
                "2027-05-01",
                "2027-08-15",
                "2027-10-12",
                "2027-11-01",
                "2027-12-06",
                "2027-12-08",
                "2027-12-25"
            ]
        );
        assert_eq!(
            unmovable_national_day(date("2027-01-06")),
            None,
            "Epifanía can be moved"
        );
        assert_eq!(
            unmovable_national_day(date("2027-03-25")),
            None,
            "Jueves Santo is regional"
        );
    }

    proptest! {
        #[test]
        fn easter_is_a_sunday_between_22_march_and_25_april(year in 1583i32..=9999) {
            let e = easter_sunday(year).expect("in range");
            prop_assert_eq!(e.weekday(), chrono::Weekday::Sun);
            prop_assert!(e >= NaiveDate::from_ymd_opt(year, 3, 22).expect("date"));
            prop_assert!(e <= NaiveDate::from_ymd_opt(year, 4, 25).expect("date"));
        }

        #[test]
        fn every_year_has_nine_unmovable_days_each_recognised(year in 1583i32..=9999) {
            let days = unmovable_national_days(year);
            prop_assert_eq!(days.len(), 9);
            for (d, name) in days {
                prop_assert_eq!(unmovable_national_day(d), Some(name));
            }
        }
    }
}
