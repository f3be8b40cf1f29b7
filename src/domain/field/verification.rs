//! Is a check-in believable? Pure rules over the signals a visit carries; no I/O.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::common::evidence::PhotoSignal;
use crate::geo::{LatLon, distance_m};

/// Why a visit is not verified. Stable strings: the app shows them, reports count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    OutsideGeofence,
    PoorAccuracy,
    FutureTimestamp,
    StaleLocation,
    ImplausibleSpeed,
    MockLocation,
    PhotoFarFromVisit,
    PhotoTimeMismatch,
    /// Recorded long after it happened: presence cannot be shown after the fact.
    LateEntry,
    /// The place has no position of its own to compare with (an outlet whose door is not set):
    /// presence cannot be shown at all, until it is.
    NoReferenceLocation,
}

/// The limits behind the verdict; configurable per deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A fix worse than this (metres) cannot prove presence.
    pub max_accuracy_m: f64,
    /// Faster than this from the user's previous visit is not travel but a fake or a typo.
    pub max_speed_kmh: f64,
    /// Clock skew tolerated for `visited_at` in the future.
    pub future_tolerance_s: i64,
    /// A location fix older than this when the visit was recorded is stale.
    pub max_location_age_s: f64,
    /// A photo's EXIF position further than this from the visit contradicts it.
    pub photo_max_distance_m: f64,
    /// A photo's EXIF time further than this from the visit contradicts it.
    pub photo_max_time_diff_s: i64,
    /// A visit received more than this after `visited_at` is not verified (`late_entry`): a
    /// phone offline for a day or two still syncs in time; a visit typed in weeks later does not.
    pub max_entry_delay_s: i64,
    /// A lead converted for this much (fen) or more counts and earns only once a manager who
    /// does not own it confirms it: the biggest prize rests on the least checked record otherwise.
    pub confirm_conversions_above_fen: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_accuracy_m: 100.0,
            max_speed_kmh: 200.0,
            future_tolerance_s: 300,
            max_location_age_s: 300.0,
            photo_max_distance_m: 500.0,
            photo_max_time_diff_s: 2 * 3600,
            max_entry_delay_s: 72 * 3600,
            confirm_conversions_above_fen: 50_000 * 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub location: LatLon,
    pub accuracy_m: f64,
    pub visited_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The partner's position and geofence radius, when the visit names one.
    pub partner: Option<(LatLon, f64)>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    /// The same user's nearest other visit in time: position and time.
    pub neighbour: Option<(LatLon, DateTime<Utc>)>,
    pub photos: Vec<PhotoSignal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub verified: bool,
    pub distance_m: Option<f64>,
    pub reasons: Vec<Reason>,
}

/// Phones in China write EXIF times in local time without a zone tag more often than not.
const CHINA_OFFSET_MINUTES: i32 = 8 * 60;

fn photo_time(signal: &PhotoSignal) -> Option<DateTime<Utc>> {
    let taken = signal.taken_at?;
    let offset = FixedOffset::east_opt(signal.offset_minutes.unwrap_or(CHINA_OFFSET_MINUTES) * 60)?;
    offset.from_local_datetime(&taken).single().map(|t| t.with_timezone(&Utc))
}

pub fn verify(s: &Signals, t: &Thresholds) -> Verdict {
    let mut reasons = Vec::new();
    let distance = s.partner.map(|(at, _)| distance_m(s.location, at));
    if let (Some(d), Some((_, radius))) = (distance, s.partner)
        && d > radius
    {
        reasons.push(Reason::OutsideGeofence);
    }
    if !(s.accuracy_m.is_finite() && s.accuracy_m <= t.max_accuracy_m) {
        reasons.push(Reason::PoorAccuracy);
    }
    if s.visited_at > s.recorded_at + Duration::seconds(t.future_tolerance_s) {
        reasons.push(Reason::FutureTimestamp);
    }
    if s.recorded_at - s.visited_at > Duration::seconds(t.max_entry_delay_s) {
        reasons.push(Reason::LateEntry);
    }
    if s.location_age_s.is_some_and(|age| age > t.max_location_age_s) {
        reasons.push(Reason::StaleLocation);
    }
    if let Some((there, then)) = s.neighbour {
        let metres = distance_m(s.location, there);
        let seconds = (s.visited_at - then).num_milliseconds().abs() as f64 / 1000.0;
        // Under a minute apart, anything beyond a short walk counts as a jump.
        let kmh = metres / 1000.0 / (seconds.max(1.0) / 3600.0);
        if metres > 500.0 && kmh > t.max_speed_kmh {
            reasons.push(Reason::ImplausibleSpeed);
        }
    }
    if s.mock_location == Some(true) {
        reasons.push(Reason::MockLocation);
    }
    if s.photos.iter().filter_map(|p| p.position).any(|p| distance_m(p, s.location) > t.photo_max_distance_m) {
        reasons.push(Reason::PhotoFarFromVisit);
    }
    if s.photos
        .iter()
        .filter_map(photo_time)
        .any(|taken| (taken - s.visited_at).num_seconds().abs() > t.photo_max_time_diff_s)
    {
        reasons.push(Reason::PhotoTimeMismatch);
    }
    Verdict { verified: reasons.is_empty(), distance_m: distance, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).single().unwrap_or_default()
    }

    #[test]
    fn a_visit_recorded_days_later_is_a_late_entry() {
        let mut s = base();
        s.recorded_at = s.visited_at + Duration::hours(71);
        assert!(verify(&s, &Thresholds::default()).verified, "two days offline still syncs in time");
        s.recorded_at = s.visited_at + Duration::days(20);
        assert_eq!(verify(&s, &Thresholds::default()).reasons, vec![Reason::LateEntry]);
    }

    fn base() -> Signals {
        let shop = LatLon { lat: 22.5787, lon: 113.0815 };
        Signals {
            location: LatLon { lat: 22.5788, lon: 113.0815 },
            accuracy_m: 15.0,
            visited_at: at(2, 0),
            recorded_at: at(2, 1),
            partner: Some((shop, 200.0)),
            mock_location: None,
            location_age_s: Some(5.0),
            neighbour: None,
            photos: vec![],
        }
    }

    #[test]
    fn a_clean_check_in_is_verified() {
        let v = verify(&base(), &Thresholds::default());
        assert_eq!((v.verified, v.reasons.clone()), (true, vec![]));
        assert!(v.distance_m.is_some_and(|d| (d - 11.1).abs() < 0.5), "{v:?}");
    }

    #[test]
    fn each_signal_gives_its_reason() {
        let t = Thresholds::default();
        type Change = Box<dyn Fn(&mut Signals)>;
        let cases: Vec<(Change, Reason)> = vec![
            (Box::new(|s| s.location.lat += 0.01), Reason::OutsideGeofence),
            (Box::new(|s| s.accuracy_m = 350.0), Reason::PoorAccuracy),
            (Box::new(|s| s.accuracy_m = f64::NAN), Reason::PoorAccuracy),
            (Box::new(|s| s.visited_at = at(3, 0)), Reason::FutureTimestamp),
            (Box::new(|s| s.location_age_s = Some(3600.0)), Reason::StaleLocation),
            (
                Box::new(|s| s.neighbour = Some((LatLon { lat: 23.1291, lon: 113.2644 }, at(1, 50)))),
                Reason::ImplausibleSpeed,
            ),
            (Box::new(|s| s.mock_location = Some(true)), Reason::MockLocation),
            (
                Box::new(|s| {
                    s.photos = vec![PhotoSignal {
                        position: Some(LatLon { lat: 22.60, lon: 113.0815 }),
                        taken_at: None,
                        offset_minutes: None,
                    }]
                }),
                Reason::PhotoFarFromVisit,
            ),
            (
                Box::new(|s| {
                    // The visit's own local time (10:00 in Beijing), a day earlier.
                    let yesterday = at(10, 0).naive_utc() - Duration::days(1);
                    s.photos = vec![PhotoSignal { position: None, taken_at: Some(yesterday), offset_minutes: None }];
                }),
                Reason::PhotoTimeMismatch,
            ),
        ];
        for (change, reason) in cases {
            let mut s = base();
            change(&mut s);
            let v = verify(&s, &t);
            assert_eq!((v.verified, v.reasons), (false, vec![reason]));
        }
    }

    #[test]
    fn a_photo_in_local_china_time_matches() {
        let mut s = base();
        // 10:00 in Beijing time is 02:00 UTC, the visit time.
        let local = at(10, 0).naive_utc();
        s.photos = vec![PhotoSignal { position: Some(s.location), taken_at: Some(local), offset_minutes: None }];
        assert!(verify(&s, &Thresholds::default()).verified);
    }

    #[test]
    fn a_visit_without_partner_is_never_outside_a_geofence() {
        let mut s = base();
        s.partner = None;
        s.location.lat += 0.5;
        let v = verify(&s, &Thresholds::default());
        assert_eq!((v.verified, v.distance_m), (true, None));
    }

    #[test]
    fn a_drive_across_town_is_plausible() {
        let mut s = base();
        // 10 km in 30 minutes is 20 km/h.
        s.neighbour = Some((LatLon { lat: 22.6687, lon: 113.0815 }, at(1, 30)));
        assert!(verify(&s, &Thresholds::default()).verified);
    }
}
