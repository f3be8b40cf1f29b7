use chrono::{NaiveDateTime, SubsecRound, Utc};

/// The current UTC time at microsecond precision: what PostgreSQL's `timestamp` keeps, so a row
/// reads back exactly as it was written on both backends.
pub fn now_utc() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
