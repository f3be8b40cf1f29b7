//! The vocabulary of partners: categories, audience units and the alliance pipeline.

use crate::domain::kinds::text_enum;

text_enum!(PartnerCategory {
    Supermarket => "supermarket",
    Community => "community",
    School => "school",
    GarmentWholesale => "garment_wholesale",
    SeafoodWholesale => "seafood_wholesale",
    BookkeepingAgency => "bookkeeping_agency",
    Other => "other",
});

text_enum!(AudienceUnit {
    Households => "households",
    Students => "students",
    Stalls => "stalls",
    Clients => "clients",
    Members => "members",
    People => "people",
});

text_enum!(PartnerStatus {
    Prospect => "prospect",
    Contacted => "contacted",
    Negotiating => "negotiating",
    Signed => "signed",
    Active => "active",
    Paused => "paused",
    Terminated => "terminated",
});

impl PartnerCategory {
    /// How often a partner of this kind should be visited: markets and shops change fast,
    /// communities, schools and agencies are relationship calls.
    pub fn default_cadence_days(self) -> i32 {
        match self {
            PartnerCategory::Supermarket | PartnerCategory::GarmentWholesale | PartnerCategory::SeafoodWholesale => 14,
            PartnerCategory::Community | PartnerCategory::School | PartnerCategory::BookkeepingAgency => 30,
            PartnerCategory::Other => 30,
        }
    }

    pub fn default_audience_unit(self) -> AudienceUnit {
        match self {
            PartnerCategory::Supermarket => AudienceUnit::Members,
            PartnerCategory::Community => AudienceUnit::Households,
            PartnerCategory::School => AudienceUnit::Students,
            PartnerCategory::GarmentWholesale | PartnerCategory::SeafoodWholesale => AudienceUnit::Stalls,
            PartnerCategory::BookkeepingAgency => AudienceUnit::Clients,
            PartnerCategory::Other => AudienceUnit::People,
        }
    }
}

impl PartnerStatus {
    /// The moves the alliance pipeline allows from here.
    pub fn next(self) -> &'static [PartnerStatus] {
        use PartnerStatus::*;
        match self {
            Prospect => &[Contacted, Terminated],
            Contacted => &[Negotiating, Paused, Terminated],
            Negotiating => &[Signed, Paused, Terminated],
            Signed => &[Active, Paused, Terminated],
            Active => &[Paused, Terminated],
            Paused => &[Contacted, Negotiating, Active, Terminated],
            // A terminated alliance can only start over as a prospect.
            Terminated => &[Prospect],
        }
    }

    pub fn can_move_to(self, to: PartnerStatus) -> bool {
        self.next().contains(&to)
    }
}

#[cfg(test)]
mod tests {
    use super::PartnerStatus::*;
    use super::*;

    #[test]
    fn the_pipeline_moves_forward_and_can_pause_or_end() {
        assert!(Prospect.can_move_to(Contacted));
        assert!(Negotiating.can_move_to(Signed));
        assert!(Signed.can_move_to(Active));
        assert!(Active.can_move_to(Paused));
        assert!(Paused.can_move_to(Active));
        assert!(!Prospect.can_move_to(Active));
        assert!(!Active.can_move_to(Prospect));
        assert!(!Terminated.can_move_to(Active));
        for s in PartnerStatus::ALL {
            assert!(!s.can_move_to(*s), "{s:?} to itself is no move");
        }
    }

    #[test]
    fn text_round_trips() {
        for c in PartnerCategory::ALL {
            assert_eq!(c.as_str().parse::<PartnerCategory>(), Ok(*c));
        }
    }
}
