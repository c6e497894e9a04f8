//! The working-day calendar (State Council holiday notices), as data.
//!
//! A date is a working day if it is a makeup working day (调休), or Monday–Friday and
//! not a statutory holiday. Years that are not in the data are *unknown*: arithmetic that
//! touches them applies the fallback the operator configured and reports a warning, or
//! fails when the operator chose [`UnknownYearPolicy::Refuse`]. Nothing silently assumes
//! Monday–Friday.
//!
//! "Within N working days of an event on day D" means by the end of the N-th working day
//! strictly after D (D itself never counts).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The built-in calendar data (2025–2026), copied from the State Council notices.
pub const BUILTIN_CALENDAR_JSON: &str = include_str!("../data/cn-workdays-2025-2026.json");

/// Asia/Shanghai has had a fixed UTC+8 offset with no daylight saving since 1991.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// What to do with a year whose holiday notice is not in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownYearPolicy {
    /// Treat Monday–Friday as working days for that year, and warn.
    AssumeWeekdays,
    /// Refuse to compute; the caller must surface the error.
    Refuse,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the holiday notice for {0} is not in the calendar data; add it or choose a fallback")]
    UnknownYear(i32),
    #[error("calendar data is invalid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarWarning {
    pub year: i32,
    pub message: String,
}

#[derive(Deserialize)]
struct FileEntry {
    date: NaiveDate,
    kind: String,
}

#[derive(Deserialize)]
struct CalendarFile {
    years: BTreeMap<String, Vec<FileEntry>>,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    known_years: BTreeSet<i32>,
    holidays: BTreeSet<NaiveDate>,
    makeup: BTreeSet<NaiveDate>,
    policy: UnknownYearPolicy,
}

/// The result of calendar arithmetic: a date and any warnings about unknown years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    pub date: NaiveDate,
    pub warnings: Vec<CalendarWarning>,
}

impl Calendar {
    /// Parse calendar data in the format of `cn-workdays-2025-2026.json`.
    pub fn from_json(json: &str, policy: UnknownYearPolicy) -> Result<Self, CalendarError> {
        let mut cal = Calendar {
            known_years: BTreeSet::new(),
            holidays: BTreeSet::new(),
            makeup: BTreeSet::new(),
            policy,
        };
        cal.extend_json(json)?;
        Ok(cal)
    }

    /// The built-in data with the given policy for unknown years.
    pub fn builtin(policy: UnknownYearPolicy) -> Self {
        Self::from_json(BUILTIN_CALENDAR_JSON, policy).expect("built-in calendar is valid")
    }

    /// Add (or replace) years from another file of the same format.
    pub fn extend_json(&mut self, json: &str) -> Result<(), CalendarError> {
        let file: CalendarFile =
            serde_json::from_str(json).map_err(|e| CalendarError::Invalid(e.to_string()))?;
        for (year, entries) in file.years {
            let year: i32 = year
                .parse()
                .map_err(|_| CalendarError::Invalid(format!("year key {year:?}")))?;
            self.holidays.retain(|d| d.year() != year);
            self.makeup.retain(|d| d.year() != year);
            for e in entries {
                if e.date.year() != year {
                    return Err(CalendarError::Invalid(format!(
                        "{} listed under {year}",
                        e.date
                    )));
                }
                match e.kind.as_str() {
                    "holiday" => self.holidays.insert(e.date),
                    "makeup_workday" => self.makeup.insert(e.date),
                    other => return Err(CalendarError::Invalid(format!("unknown kind {other:?}"))),
                };
            }
            self.known_years.insert(year);
        }
        Ok(())
    }

    pub fn policy(&self) -> UnknownYearPolicy {
        self.policy
    }

    pub fn known_years(&self) -> Vec<i32> {
        self.known_years.iter().copied().collect()
    }

    pub fn is_known_year(&self, year: i32) -> bool {
        self.known_years.contains(&year)
    }

    /// Whether `date` is a working day. Unknown years follow the policy (with a warning).
    pub fn is_workday(
        &self,
        date: NaiveDate,
    ) -> Result<(bool, Option<CalendarWarning>), CalendarError> {
        let year = date.year();
        if self.known_years.contains(&year) {
            if self.makeup.contains(&date) {
                return Ok((true, None));
            }
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            return Ok((!weekend && !self.holidays.contains(&date), None));
        }
        match self.policy {
            UnknownYearPolicy::Refuse => Err(CalendarError::UnknownYear(year)),
            // The statutory holidays are known for any year; the notice's bridging days
            // and swapped weekends are not, so the answer is provisional.
            UnknownYearPolicy::AssumeWeekdays => Ok((
                !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
                    && !crate::holidays::is_statutory(date),
                Some(CalendarWarning {
                    year,
                    message: format!(
                        "{year}年的国务院放假通知尚未载入：已扣除法定节假日，调休未计入，期限为暂定"
                    ),
                }),
            )),
        }
    }

    /// The N-th working day strictly after `start` (`start` never counts). N = 0 gives `start`.
    pub fn add_workdays(&self, start: NaiveDate, n: u32) -> Result<Dated, CalendarError> {
        let mut warnings: Vec<CalendarWarning> = Vec::new();
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            let (work, warning) = self.is_workday(date)?;
            if let Some(w) = warning {
                if !warnings.iter().any(|x| x.year == w.year) {
                    warnings.push(w);
                }
            }
            if work {
                left -= 1;
            }
        }
        Ok(Dated { date, warnings })
    }

    /// Working days in `(from, to]` (`from` never counts); 0 when `to <= from`. A day of
    /// an unknown year that the policy refuses counts as a working day.
    pub fn workdays_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut day = from;
        while day < to {
            day += Duration::days(1);
            if self.is_workday(day).map(|(w, _)| w).unwrap_or(true) {
                n += 1;
            }
        }
        n
    }

    /// The deadline (last second of the N-th working day after the day of `at`, Asia/Shanghai).
    pub fn deadline_after(
        &self,
        at: DateTime<Utc>,
        n: u32,
    ) -> Result<(DateTime<FixedOffset>, Vec<CalendarWarning>), CalendarError> {
        let day = at.with_timezone(&shanghai()).date_naive();
        let dated = self.add_workdays(day, n)?;
        Ok((end_of_day(dated.date), dated.warnings))
    }

    /// Hours elapsed between two instants counting only time on working days (24 h each).
    /// Unknown years follow the policy; with `Refuse`, their days count as working days
    /// (a report must not fail because of a future year).
    pub fn working_hours_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        if to <= from {
            return 0.0;
        }
        let tz = shanghai();
        let (from, to) = (from.with_timezone(&tz), to.with_timezone(&tz));
        let mut total = 0i64;
        let mut day = from.date_naive();
        let last = to.date_naive();
        while day <= last {
            let work = self.is_workday(day).map(|(w, _)| w).unwrap_or(true);
            if work {
                let start = tz
                    .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                    .unwrap();
                let end = start + Duration::days(1);
                let a = start.max(from);
                let b = end.min(to);
                if b > a {
                    total += (b - a).num_seconds();
                }
            }
            day += Duration::days(1);
        }
        total as f64 / 3600.0
    }
}

/// 23:59:59 of `date` in Asia/Shanghai.
pub fn end_of_day(date: NaiveDate) -> DateTime<FixedOffset> {
    shanghai()
        .from_local_datetime(&date.and_hms_opt(23, 59, 59).expect("valid time"))
        .single()
        .expect("fixed offset is unambiguous")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekend_and_holidays() {
        let cal = Calendar::builtin(UnknownYearPolicy::Refuse);
        assert!(cal.is_workday(d("2025-01-26")).unwrap().0, "makeup Sunday");
        assert!(
            !cal.is_workday(d("2025-01-28")).unwrap().0,
            "Spring Festival"
        );
        assert!(!cal.is_workday(d("2026-11-28")).unwrap().0, "Saturday");
        assert!(cal.is_workday(d("2026-11-30")).unwrap().0, "Monday");
    }

    #[test]
    fn unknown_year_is_explicit() {
        let refuse = Calendar::builtin(UnknownYearPolicy::Refuse);
        assert_eq!(
            refuse.add_workdays(d("2026-12-30"), 4),
            Err(CalendarError::UnknownYear(2027))
        );
        let weekdays = Calendar::builtin(UnknownYearPolicy::AssumeWeekdays);
        let r = weekdays.add_workdays(d("2026-12-30"), 4).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].year, 2027);
        // 2026-12-31 (Thu) is a working day; 2027-01-01 (Fri) is 元旦, a statutory holiday
        // even without the 2027 notice; then Mon, Tue, Wed.
        assert_eq!(r.date, d("2027-01-06"));
        let known = weekdays.add_workdays(d("2026-11-30"), 4).unwrap();
        assert!(known.warnings.is_empty());
        assert_eq!(known.date, d("2026-12-04"));
    }

    #[test]
    fn operator_can_extend() {
        let mut cal = Calendar::builtin(UnknownYearPolicy::Refuse);
        cal.extend_json(
            r#"{"years":{"2027":[{"date":"2027-01-01","kind":"holiday","name":"元旦"}]}}"#,
        )
        .unwrap();
        assert!(cal.is_known_year(2027));
        assert!(!cal.is_workday(d("2027-01-01")).unwrap().0);
        assert!(cal.is_workday(d("2027-01-04")).unwrap().0);
    }

    #[test]
    fn deadline_is_last_second_in_shanghai() {
        let cal = Calendar::builtin(UnknownYearPolicy::Refuse);
        // 2026-11-29 20:00 UTC is already Monday 2026-11-30 04:00 in Shanghai.
        let at: DateTime<Utc> = "2026-11-29T20:00:00Z".parse().unwrap();
        let (due, w) = cal.deadline_after(at, 4).unwrap();
        assert!(w.is_empty());
        assert_eq!(due.to_rfc3339(), "2026-12-04T23:59:59+08:00");
    }

    #[test]
    fn working_hours_skip_weekends() {
        let cal = Calendar::builtin(UnknownYearPolicy::Refuse);
        let from: DateTime<Utc> = "2026-11-27T04:00:00Z".parse().unwrap(); // Fri 12:00 CST
        let to: DateTime<Utc> = "2026-11-30T04:00:00Z".parse().unwrap(); // Mon 12:00 CST
        assert_eq!(cal.working_hours_between(from, to), 24.0);
    }
}

#[cfg(test)]
mod statutory_tests {
    use super::*;

    /// The computed statutory days agree with the State Council notices the calendar
    /// ships (every one is a day off there), and a year without its notice still rests
    /// on them: 2027-01-01 and the 2027 Spring Festival are not working days.
    #[test]
    fn the_computed_statutory_days_agree_with_the_notices_and_hold_without_one() {
        let cal = Calendar::builtin(UnknownYearPolicy::AssumeWeekdays);
        for year in [2025, 2026] {
            assert!(cal.is_known_year(year));
            for (day, name) in crate::holidays::statutory(year) {
                let (work, _) = cal.is_workday(day).unwrap();
                assert!(!work, "{day} ({name}) is a day off in the {year} notice");
            }
        }
        assert!(!cal.is_known_year(2027));
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        for day in [d(1, 1), d(2, 5), d(2, 8)] {
            let (work, warning) = cal.is_workday(day).unwrap();
            assert!(!work, "{day}");
            let w = warning.expect("a year without its notice is provisional");
            assert!(w.message.contains("暂定"), "{}", w.message);
        }
        // An ordinary weekday of 2027 still works.
        assert!(cal.is_workday(d(3, 3)).unwrap().0);
        // Three working days after 2026-12-31: 4, 5 and 6 January 2027.
        let after = cal
            .add_workdays(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(), 3)
            .unwrap();
        assert_eq!(after.date, d(1, 6));
    }
}
