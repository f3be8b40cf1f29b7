//! The layers of the map and the status vocabulary of each.

use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::lead_kind::LeadStatus;
use crate::domain::kinds::partner_kind::PartnerStatus;
use crate::domain::kinds::text_enum;

text_enum!(Layer {
    Partners => "partners",
    Visits => "visits",
    Events => "events",
    Leads => "leads",
});

text_enum!(VisitState {
    Unverified => "unverified",
    Verified => "verified",
});

/// A closed list of statuses a point stores as its index.
pub trait Vocabulary: Copy + 'static {
    fn all() -> &'static [Self];
    fn text(self) -> &'static str;

    fn index(text: &str) -> u8 {
        Self::all().iter().position(|s| s.text() == text).unwrap_or(0) as u8
    }

    fn position(self) -> u8 {
        Self::all().iter().position(|s| s.text() == self.text()).unwrap_or(0) as u8
    }
}

macro_rules! vocabulary {
    ($($t:ty),+) => {$(
        impl Vocabulary for $t {
            fn all() -> &'static [Self] {
                <$t>::ALL
            }
            fn text(self) -> &'static str {
                self.as_str()
            }
        }
    )+};
}

vocabulary!(PartnerStatus, VisitState, EventStatus, LeadStatus);

impl Layer {
    /// The name of status `i` of this layer.
    pub fn status_name(self, i: u8) -> &'static str {
        fn name<V: Vocabulary>(i: u8) -> &'static str {
            V::all().get(i as usize).map_or("", |s| s.text())
        }
        match self {
            Layer::Partners => name::<PartnerStatus>(i),
            Layer::Visits => name::<VisitState>(i),
            Layer::Events => name::<EventStatus>(i),
            Layer::Leads => name::<LeadStatus>(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_index() {
        for s in LeadStatus::ALL {
            assert_eq!(Layer::Leads.status_name(LeadStatus::index(s.as_str())), s.as_str());
        }
        assert_eq!(Layer::Visits.status_name(1), "verified");
        assert_eq!(Layer::Partners.status_name(PartnerStatus::Active.position()), "active");
    }
}
