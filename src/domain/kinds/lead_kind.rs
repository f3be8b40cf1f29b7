//! The vocabulary of leads and segment projects.

use crate::domain::kinds::text_enum;

text_enum!(LeadKind {
    Person => "person",
    MicroBusiness => "micro_business",
});

text_enum!(LeadSource {
    Visit => "visit",
    Event => "event",
    Partner => "partner",
    Referral => "referral",
    WalkIn => "walk_in",
});

text_enum!(Segment {
    Outreach => "outreach",
    Existing => "existing",
    Traffic => "traffic",
});

text_enum!(LeadStatus {
    New => "new",
    Contacted => "contacted",
    Qualified => "qualified",
    Converted => "converted",
    Lost => "lost",
});

impl LeadStatus {
    /// The moves anyone who may edit the lead can make from here.
    pub fn next(self) -> &'static [LeadStatus] {
        use LeadStatus::*;
        match self {
            New => &[Contacted, Lost],
            Contacted => &[Qualified, Lost],
            Qualified => &[Converted, Lost],
            // Reopened: somebody called back.
            Lost => &[Contacted],
            // Reverting a conversion is a manager's correction, checked separately.
            Converted => &[],
        }
    }

    pub fn can_move_to(self, to: LeadStatus) -> bool {
        self.next().contains(&to)
    }

    /// A conversion recorded in error goes back to `qualified`: managers only.
    pub fn is_revert(self, to: LeadStatus) -> bool {
        self == LeadStatus::Converted && to == LeadStatus::Qualified
    }
}

#[cfg(test)]
mod tests {
    use super::LeadStatus::*;

    #[test]
    fn leads_move_forward_one_step_or_get_lost() {
        assert!(New.can_move_to(Contacted));
        assert!(Contacted.can_move_to(Qualified));
        assert!(Qualified.can_move_to(Converted));
        assert!(Lost.can_move_to(Contacted));
        assert!(!New.can_move_to(Converted));
        assert!(!New.can_move_to(Qualified));
        assert!(!Converted.can_move_to(Lost));
        assert!(!Converted.can_move_to(Qualified));
        assert!(Converted.is_revert(Qualified));
        for s in super::LeadStatus::ALL {
            assert!(!s.can_move_to(*s));
        }
    }
}
