//! The three phases of a supervisor's training and what each must hold before the next begins:
//! `observe` (the coach leads; 21 days, reviewed weekly), `practice` (the trainee leads; the
//! coach reviews every day; at most 21 days), `lead` (the trainee is in charge; reviewed weekly;
//! at most 21 days). Pure rules over dates; the plan's storage is `coaching`'s.

use chrono::{Duration, NaiveDate};

use crate::domain::kinds::text_enum;

text_enum!(Phase {
    Observe => "observe",
    Practice => "practice",
    Lead => "lead",
    Completed => "completed",
});

/// Each phase is planned for 21 days: observe lasts that long, the others at most that long.
pub const PHASE_DAYS: i64 = 21;

impl Phase {
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Observe => Some(Phase::Practice),
            Phase::Practice => Some(Phase::Lead),
            Phase::Lead => Some(Phase::Completed),
            Phase::Completed => None,
        }
    }

    /// How long each review covers: a day in practice, a week otherwise.
    fn cadence_days(self) -> i64 {
        if self == Phase::Practice { 1 } else { 7 }
    }
}

/// Why a phase may not end yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// Observation runs its full 21 days; the next phase may begin on this day.
    NotFinished { from: NaiveDate },
    /// These stretches of the phase (first and last day) have no review.
    ReviewsMissing(Vec<(NaiveDate, NaiveDate)>),
}

/// Where a running phase stands on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseStanding {
    pub phase: Phase,
    pub started_on: NaiveDate,
    /// 1 on the phase's first day.
    pub day: i64,
    /// The first day of the next phase, as planned.
    pub due_on: NaiveDate,
    /// Days past `due_on` without moving on.
    pub late_days: i64,
    /// Reviews written in this phase.
    pub reviews: usize,
    /// Stretches that must have a review by now, and how many of them do.
    pub required: usize,
    pub covered: usize,
    pub blocker: Option<Blocker>,
}

impl PhaseStanding {
    pub fn ready(&self) -> bool {
        self.blocker.is_none()
    }
}

/// The stretches of a phase that must each have a review by `today`: every day of practice, every
/// week of observe and lead, among those that have begun, within the phase's 21 days.
fn stretches(phase: Phase, started_on: NaiveDate, today: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let last = started_on + Duration::days(PHASE_DAYS - 1);
    let step = phase.cadence_days();
    let mut out = Vec::new();
    let mut from = started_on;
    while from <= today.min(last) {
        let to = (from + Duration::days(step - 1)).min(last);
        out.push((from, to));
        from += Duration::days(step);
    }
    out
}

/// Where a phase that began on `started_on` stands on `today`, given the days of its reviews.
pub fn standing(phase: Phase, started_on: NaiveDate, today: NaiveDate, review_days: &[NaiveDate]) -> PhaseStanding {
    let due_on = started_on + Duration::days(PHASE_DAYS);
    let required = stretches(phase, started_on, today);
    let missing: Vec<(NaiveDate, NaiveDate)> =
        required.iter().copied().filter(|(from, to)| !review_days.iter().any(|d| from <= d && d <= to)).collect();
    let blocker = if phase == Phase::Observe && today < due_on {
        Some(Blocker::NotFinished { from: due_on })
    } else if !missing.is_empty() {
        Some(Blocker::ReviewsMissing(missing.clone()))
    } else {
        None
    };
    PhaseStanding {
        phase,
        started_on,
        day: (today - started_on).num_days() + 1,
        due_on,
        late_days: (today - due_on).num_days().max(0),
        reviews: review_days.len(),
        required: required.len(),
        covered: required.len() - missing.len(),
        blocker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default() + Duration::days(day)
    }

    #[test]
    fn observation_runs_its_21_days_and_needs_a_review_each_week() {
        let weekly = [d(2), d(9), d(16)];
        let early = standing(Phase::Observe, d(0), d(20), &weekly);
        assert_eq!(early.blocker, Some(Blocker::NotFinished { from: d(21) }));
        assert_eq!((early.day, early.late_days), (21, 0));
        let done = standing(Phase::Observe, d(0), d(21), &weekly);
        assert!(done.ready(), "{done:?}");
        assert_eq!((done.required, done.covered), (3, 3));
        let gap = standing(Phase::Observe, d(0), d(23), &[d(2), d(16)]);
        assert_eq!(gap.blocker, Some(Blocker::ReviewsMissing(vec![(d(7), d(13))])));
        assert_eq!(gap.late_days, 2);
    }

    #[test]
    fn practice_needs_a_review_every_day_so_far() {
        let days: Vec<NaiveDate> = (0..5).map(d).collect();
        assert!(standing(Phase::Practice, d(0), d(4), &days).ready());
        let today_missing = standing(Phase::Practice, d(0), d(5), &days);
        assert_eq!(today_missing.blocker, Some(Blocker::ReviewsMissing(vec![(d(5), d(5))])));
        let holes = standing(Phase::Practice, d(0), d(4), &[d(0), d(3), d(4)]);
        assert_eq!(holes.blocker, Some(Blocker::ReviewsMissing(vec![(d(1), d(1)), (d(2), d(2))])));
        // Past its 21 days, only those 21 must be covered; the phase is late.
        let all: Vec<NaiveDate> = (0..21).map(d).collect();
        let late = standing(Phase::Practice, d(0), d(25), &all);
        assert!(late.ready());
        assert_eq!((late.required, late.late_days), (21, 4));
    }

    #[test]
    fn leading_is_reviewed_weekly_and_may_end_early() {
        assert!(standing(Phase::Lead, d(0), d(8), &[d(1), d(8)]).ready());
        let missing = standing(Phase::Lead, d(0), d(8), &[d(1)]);
        assert_eq!(missing.blocker, Some(Blocker::ReviewsMissing(vec![(d(7), d(13))])));
        assert_eq!(Phase::Lead.next(), Some(Phase::Completed));
        assert_eq!(Phase::Completed.next(), None);
    }
}
