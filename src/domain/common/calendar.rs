//! Days as a branch counts them: in its own time zone, turned into UTC windows for queries.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::kinds::project_kind::Period;

pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    tz: Tz,
}

impl Clock {
    /// An unknown zone name falls back to China time rather than failing a report.
    pub fn new(zone: &str) -> Clock {
        Clock { tz: zone.parse().unwrap_or(chrono_tz::Asia::Shanghai) }
    }

    pub fn zone(&self) -> &'static str {
        self.tz.name()
    }

    pub fn today(&self) -> NaiveDate {
        self.local_date(Utc::now())
    }

    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The UTC instant a local day starts (the earliest, should a zone skip midnight).
    pub fn start_of(&self, day: NaiveDate) -> NaiveDateTime {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.tz.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
            chrono::LocalResult::None => self.tz.from_utc_datetime(&midnight).naive_utc() - chrono::Duration::hours(1),
        }
    }

    /// `[start of first, start of the day after last)` in UTC.
    pub fn window(&self, first: NaiveDate, last: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        (self.start_of(first), self.start_of(last.checked_add_days(Days::new(1)).unwrap_or(last)))
    }
}

/// The first and last day of the day, week (Monday to Sunday) or month holding `date`.
pub fn period_bounds(period: Period, date: NaiveDate) -> (NaiveDate, NaiveDate) {
    match period {
        Period::Day => (date, date),
        Period::Week => {
            let monday = date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()));
            (monday, monday + chrono::Duration::days(6))
        }
        Period::Month => {
            let first = date.with_day(1).unwrap_or(date);
            let last = first.checked_add_months(Months::new(1)).map_or(date, |next| next - chrono::Duration::days(1));
            (first, last)
        }
    }
}

/// Whole days from `from` to `to`, both counted.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn a_china_day_starts_at_16_utc_the_day_before() {
        let clock = Clock::new("Asia/Shanghai");
        assert_eq!(clock.start_of(d(2026, 11, 29)), d(2026, 11, 28).and_hms_opt(16, 0, 0).unwrap_or_default());
        let (from, to) = clock.window(d(2026, 11, 1), d(2026, 11, 30));
        assert_eq!((to - from).num_days(), 30);
        assert_eq!(Clock::new("Mars/Olympus").zone(), "Asia/Shanghai");
    }

    #[test]
    fn periods_are_calendar_days_weeks_from_monday_and_months() {
        assert_eq!(period_bounds(Period::Day, d(2026, 11, 29)), (d(2026, 11, 29), d(2026, 11, 29)));
        assert_eq!(period_bounds(Period::Week, d(2026, 11, 29)), (d(2026, 11, 23), d(2026, 11, 29)));
        assert_eq!(period_bounds(Period::Week, d(2026, 11, 30)), (d(2026, 11, 30), d(2026, 12, 6)));
        assert_eq!(period_bounds(Period::Month, d(2026, 2, 14)), (d(2026, 2, 1), d(2026, 2, 28)));
        assert_eq!(period_bounds(Period::Month, d(2026, 12, 31)), (d(2026, 12, 1), d(2026, 12, 31)));
        assert_eq!(days_between(d(2026, 11, 1), d(2026, 11, 30)), 30);
    }
}
