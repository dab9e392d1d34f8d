//! Search option 2 and the work queue (DOMAIN.md §7): query validation (the
//! calendar-month rule, current month by default), what matches, and the
//! orders results come in. Stores filter and sort exactly as [`SearchFilter`]
//! and [`queue_order`] say.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

use crate::actor::Actor;
use crate::calendar::{madrid_date, madrid_start_of_day, next_day};
use crate::case::Case;
use crate::catalog::CaseType;
use crate::error::CasiaError;
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode, UserId};
use crate::status::{CaseState, OpenSubstatus, Status};

/// Page size when none is asked for (DOMAIN.md §7).
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page a query may ask for; a larger `limit` is `invalid_query`.
pub const MAX_PAGE_SIZE: usize = 200;

/// The raw query of option 2, as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchInput {
    /// `open`, `closed` or `all`; required.
    pub status: Option<String>,
    /// First Madrid date of submission, `YYYY-MM-DD`; given together with `to`.
    pub from: Option<String>,
    /// Last Madrid date of submission, `YYYY-MM-DD`, in the same calendar month as `from`.
    pub to: Option<String>,
    /// A substatus code; must belong to `status` unless `status` is `all`.
    pub substatus: Option<String>,
    /// `inquiry`, `incident` or `procedure`.
    pub case_type: Option<String>,
    /// A materia code (matched exactly).
    pub materia: Option<String>,
    /// The id of the user who submitted the case.
    pub created_by: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Which cases the actor may see at all (DOMAIN.md §1 visibility).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A user: the cases of its authorization.
    Authorization(AuthorizationId),
    /// A processor: the cases currently routed to its office.
    Office(OfficeCode),
    /// The system: every case.
    Everything,
}

impl Scope {
    /// The scope of `actor`.
    pub fn of(actor: &Actor) -> Scope {
        match actor {
            Actor::User { authorization, .. } => Scope::Authorization(authorization.clone()),
            Actor::Processor { office, .. } => Scope::Office(*office),
            Actor::System => Scope::Everything,
        }
    }
}

/// A position in the result order: results after it come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The submission instant of the last case of the page.
    pub submitted_at: DateTime<Utc>,
    /// Its case number (breaks ties between equal instants).
    pub number: CaseNumber,
}

impl Cursor {
    /// The cursor that continues after `case`.
    pub fn after(case: &Case) -> Cursor {
        Cursor {
            submitted_at: case.submitted_at,
            number: case.number,
        }
    }

    /// Opaque text form (hex of `micros:number`).
    pub fn encode(&self) -> String {
        let plain = format!("{}:{}", self.submitted_at.timestamp_micros(), self.number);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`Cursor::encode`]'s form; `None` for anything else.
    pub fn decode(s: &str) -> Option<Cursor> {
        if !s.len().is_multiple_of(2) || s.len() > 128 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let (micros, number) = plain.split_once(':')?;
        Some(Cursor {
            submitted_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            number: CaseNumber::parse(number).ok()?,
        })
    }
}

/// A validated option-2 query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFilter {
    /// Which cases the actor may see.
    pub scope: Scope,
    /// `None` = `all`.
    pub status: Option<Status>,
    /// Madrid dates of submission, inclusive.
    pub from: NaiveDate,
    /// Last Madrid date of submission, inclusive; same month as `from`.
    pub to: NaiveDate,
    /// Only cases in this state.
    pub substatus: Option<CaseState>,
    /// Only cases of this type.
    pub case_type: Option<CaseType>,
    /// Only cases of this materia.
    pub materia: Option<String>,
    /// Only cases submitted by this user.
    pub created_by: Option<UserId>,
    /// Page size, 1–200.
    pub limit: usize,
    /// Only results after this position.
    pub after: Option<Cursor>,
}

impl SearchFilter {
    /// Validates `input` for `actor` at `now` (DOMAIN.md §7). Both dates
    /// absent means the current Madrid calendar month.
    ///
    /// # Errors
    ///
    /// `invalid_query` naming the first parameter at fault, checked in this
    /// order: `status` (missing or unknown), the dates (`from`/`to`
    /// malformed, only one given, `from` after `to` → `from`, different
    /// months → `to`), `substatus` (unknown or not of `status`),
    /// `case_type`, `created_by`, `limit` (outside 1–200), `cursor`.
    pub fn parse(
        actor: &Actor,
        input: &SearchInput,
        now: DateTime<Utc>,
    ) -> Result<SearchFilter, CasiaError> {
        let status = match input.status.as_deref() {
            Some("all") => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| CasiaError::invalid_query("status"))?),
            None => return Err(CasiaError::invalid_query("status")),
        };
        let date = |field: &str, v: &str| {
            crate::calendar::parse_iso_date(v).ok_or_else(|| CasiaError::invalid_query(field))
        };
        let (from, to) = match (input.from.as_deref(), input.to.as_deref()) {
            (None, None) => {
                let today = madrid_date(now);
                let first = today.with_day(1).unwrap_or(today);
                let last = first
                    .checked_add_months(chrono::Months::new(1))
                    .and_then(|d| d.checked_sub_days(Days::new(1)))
                    .unwrap_or(today);
                (first, last)
            }
            (Some(f), Some(t)) => {
                let (f, t) = (date("from", f)?, date("to", t)?);
                if f > t {
                    return Err(CasiaError::invalid_query("from"));
                }
                if (f.year(), f.month()) != (t.year(), t.month()) {
                    return Err(CasiaError::invalid_query("to"));
                }
                (f, t)
            }
            (Some(_), None) => return Err(CasiaError::invalid_query("to")),
            (None, Some(_)) => return Err(CasiaError::invalid_query("from")),
        };
        let substatus = match input.substatus.as_deref() {
            None => None,
            Some(code) => {
                let s = CaseState::from_substatus_code(code)
                    .ok_or_else(|| CasiaError::invalid_query("substatus"))?;
                if status.is_some_and(|st| st != s.status()) {
                    return Err(CasiaError::invalid_query("substatus"));
                }
                Some(s)
            }
        };
        let case_type = match input.case_type.as_deref() {
            None => None,
            Some(t) => {
                Some(CaseType::parse(t).ok_or_else(|| CasiaError::invalid_query("case_type"))?)
            }
        };
        let created_by = match input.created_by.as_deref() {
            None => None,
            Some(u) => Some(UserId::parse(u).map_err(|_| CasiaError::invalid_query("created_by"))?),
        };
        let limit = match input.limit {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| CasiaError::invalid_query("limit"))?,
        };
        let after = match input.cursor.as_deref() {
            None => None,
            Some(c) => Some(Cursor::decode(c).ok_or_else(|| CasiaError::invalid_query("cursor"))?),
        };
        Ok(SearchFilter {
            scope: Scope::of(actor),
            status,
            from,
            to,
            substatus,
            case_type,
            materia: input.materia.clone(),
            created_by,
            limit,
            after,
        })
    }

    /// The submission instants the date range covers: `[start, end)`.
    pub fn submitted_range(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            madrid_start_of_day(self.from),
            madrid_start_of_day(next_day(self.to)),
        )
    }

    /// Whether a case is a result (before paging).
    pub fn matches(&self, case: &Case) -> bool {
        let (start, end) = self.submitted_range();
        let in_scope = match &self.scope {
            Scope::Authorization(a) => case.authorization == *a,
            Scope::Office(o) => case.office == *o,
            Scope::Everything => true,
        };
        in_scope
            && case.submitted_at >= start
            && case.submitted_at < end
            && self.status.is_none_or(|s| case.state.status() == s)
            && self.substatus.is_none_or(|s| case.state == s)
            && self.case_type.is_none_or(|t| case.case_type == t)
            && self.materia.as_ref().is_none_or(|m| case.materia == *m)
            && self
                .created_by
                .as_ref()
                .is_none_or(|u| case.submitted_by == *u)
            && self.after.is_none_or(|c| {
                search_order_key(case)
                    > (
                        std::cmp::Reverse(c.submitted_at),
                        std::cmp::Reverse(c.number),
                    )
            })
    }
}

/// Newest submission first; ties: higher number first.
pub fn search_order(a: &Case, b: &Case) -> Ordering {
    search_order_key(a).cmp(&search_order_key(b))
}

fn search_order_key(
    c: &Case,
) -> (
    std::cmp::Reverse<DateTime<Utc>>,
    std::cmp::Reverse<CaseNumber>,
) {
    (
        std::cmp::Reverse(c.submitted_at),
        std::cmp::Reverse(c.number),
    )
}

/// One page of results and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The cases of this page, in [`search_order`].
    pub items: Vec<Case>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl Page {
    /// Builds a page from up to `limit + 1` ordered results.
    pub fn from_results(mut results: Vec<Case>, limit: usize) -> Page {
        let next_cursor = if results.len() > limit {
            results.truncate(limit);
            results.last().map(|c| Cursor::after(c).encode())
        } else {
            None
        };
        Page {
            items: results,
            next_cursor,
        }
    }
}

/// The substates a work queue holds (DOMAIN.md §7).
pub const QUEUE_SUBSTATES: [OpenSubstatus; 4] = [
    OpenSubstatus::Submitted,
    OpenSubstatus::Assigned,
    OpenSubstatus::Escalated,
    OpenSubstatus::Transferred,
];

/// Whether a case belongs in `office`'s work queue.
pub fn in_queue(case: &Case, office: OfficeCode) -> bool {
    case.office == office
        && matches!(case.state, CaseState::Open(s) if QUEUE_SUBSTATES.contains(&s))
}

/// `affects_current_period` first, then oldest submission first (ties: lower
/// number first).
pub fn queue_order(a: &Case, b: &Case) -> Ordering {
    (!a.affects_current_period, a.submitted_at, a.number).cmp(&(
        !b.affects_current_period,
        b.submitted_at,
        b.number,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ProvinceCode;
    use proptest::prelude::*;

    fn user() -> Actor {
        Actor::User {
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: UserId::parse("u1").expect("id"),
            province: ProvinceCode::parse("28").expect("code"),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn input(status: &str, from: Option<&str>, to: Option<&str>) -> SearchInput {
        SearchInput {
            status: Some(status.into()),
            from: from.map(Into::into),
            to: to.map(Into::into),
            ..SearchInput::default()
        }
    }

    #[test]
    fn no_dates_means_the_current_madrid_month() {
        // 23:30Z on 31 Oct is 1 Nov in Madrid.
        let f = SearchFilter::parse(
            &user(),
            &input("all", None, None),
            at("2026-10-31T23:30:00Z"),
        )
        .expect("ok");
        assert_eq!(
            (f.from.to_string(), f.to.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
        let f = SearchFilter::parse(
            &user(),
            &input("open", None, None),
            at("2028-02-10T12:00:00Z"),
        )
        .expect("ok");
        assert_eq!(f.to.to_string(), "2028-02-29");
    }

    #[test]
    fn invalid_queries() {
        let now = at("2026-11-10T10:00:00Z");
        let code = |i: SearchInput| {
            SearchFilter::parse(&user(), &i, now)
                .err()
                .map(|e| e.code().as_str())
        };
        assert_eq!(
            code(input("all", Some("2026-11-01"), None)),
            Some("invalid_query")
        );
        assert_eq!(
            code(input("all", None, Some("2026-11-01"))),
            Some("invalid_query")
        );
        assert_eq!(
            code(input("all", Some("2026-11-20"), Some("2026-11-10"))),
            Some("invalid_query")
        );
        assert_eq!(
            code(input("all", Some("2026-10-15"), Some("2026-11-15"))),
            Some("invalid_query")
        );
        assert_eq!(
            code(input("all", Some("2025-11-01"), Some("2026-11-01"))),
            Some("invalid_query")
        );
        assert_eq!(code(input("bogus", None, None)), Some("invalid_query"));
        assert_eq!(code(SearchInput::default()), Some("invalid_query"));
        assert_eq!(
            code(SearchInput {
                substatus: Some("cancelled".into()),
                ..input("open", None, None)
            }),
            Some("invalid_query")
        );
        assert_eq!(
            code(SearchInput {
                substatus: Some("cancelled".into()),
                ..input("all", None, None)
            }),
            None
        );
        assert_eq!(
            code(SearchInput {
                limit: Some(201),
                ..input("all", None, None)
            }),
            Some("invalid_query")
        );
        assert_eq!(
            code(SearchInput {
                limit: Some(200),
                ..input("all", None, None)
            }),
            None
        );
        assert_eq!(
            code(SearchInput {
                limit: Some(0),
                ..input("all", None, None)
            }),
            Some("invalid_query")
        );
        assert_eq!(
            code(SearchInput {
                cursor: Some("zz".into()),
                ..input("all", None, None)
            }),
            Some("invalid_query")
        );
        assert_eq!(
            code(input("all", Some("2026-11-31"), Some("2026-11-30"))),
            Some("invalid_query")
        );
    }

    #[test]
    fn the_range_is_madrid_days_inclusive() {
        let f = SearchFilter::parse(
            &user(),
            &input("all", Some("2026-12-01"), Some("2026-12-31")),
            at("2026-12-10T00:00:00Z"),
        )
        .expect("ok");
        let (start, end) = f.submitted_range();
        assert_eq!(start, at("2026-11-30T23:00:00Z"));
        assert_eq!(end, at("2026-12-31T23:00:00Z"));
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            submitted_at: at("2026-11-10T10:00:00.123456Z"),
            number: CaseNumber::new(2026, 42).expect("n"),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nothex"), None);
        assert_eq!(Cursor::decode("ñ0"), None);
    }

    proptest! {
        #[test]
        fn dates_in_one_calendar_month_are_accepted_and_others_rejected(
            y1 in 2024i32..2028, m1 in 1u32..=12, d1 in 1u32..=28,
            y2 in 2024i32..2028, m2 in 1u32..=12, d2 in 1u32..=28,
        ) {
            let f = NaiveDate::from_ymd_opt(y1, m1, d1).expect("date");
            let t = NaiveDate::from_ymd_opt(y2, m2, d2).expect("date");
            let r = SearchFilter::parse(&user(), &input("all", Some(&f.to_string()), Some(&t.to_string())), at("2026-11-10T10:00:00Z"));
            let ok = (y1, m1) == (y2, m2) && d1 <= d2;
            prop_assert_eq!(r.is_ok(), ok);
            if let Ok(filter) = r {
                prop_assert_eq!((filter.from, filter.to), (f, t));
            }
        }

        #[test]
        fn the_default_month_contains_today(secs in 1_600_000_000i64..2_000_000_000) {
            let now = DateTime::from_timestamp(secs, 0).expect("instant");
            let f = SearchFilter::parse(&user(), &input("all", None, None), now).expect("ok");
            let today = madrid_date(now);
            prop_assert!(f.from <= today && today <= f.to);
            prop_assert_eq!(f.from.day(), 1);
            prop_assert_eq!((f.from.year(), f.from.month()), (f.to.year(), f.to.month()));
            prop_assert_ne!(next_day(f.to).month(), f.to.month());
        }
    }
}
