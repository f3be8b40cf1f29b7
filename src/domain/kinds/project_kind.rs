//! The vocabulary of segment projects: statuses, the metrics targets are set on, the actions
//! that earn points.

use crate::domain::kinds::text_enum;

text_enum!(ProjectStatus {
    Planned => "planned",
    Active => "active",
    Completed => "completed",
    Cancelled => "cancelled",
});

text_enum!(Metric {
    NewCustomers => "new_customers",
    Conversions => "conversions",
    ConvertedAmount => "converted_amount",
    Visits => "visits",
    VerifiedVisits => "verified_visits",
    EventsHeld => "events_held",
    Registrations => "registrations",
    Checkins => "checkins",
    NewLeads => "new_leads",
});

text_enum!(PointsAction {
    VerifiedVisit => "verified_visit",
    EventStepCompleted => "event_step_completed",
    Checkin => "checkin",
    NewLead => "new_lead",
    Conversion => "conversion",
});

text_enum!(Period {
    Day => "day",
    Week => "week",
    Month => "month",
});

impl Metric {
    /// Result metrics first, then process metrics: the order of every table.
    pub const ORDER: [Metric; 9] = [
        Metric::NewCustomers,
        Metric::Conversions,
        Metric::ConvertedAmount,
        Metric::Visits,
        Metric::VerifiedVisits,
        Metric::EventsHeld,
        Metric::Registrations,
        Metric::Checkins,
        Metric::NewLeads,
    ];

    /// The Chinese name used in the monitoring workbook.
    pub fn label(self) -> &'static str {
        match self {
            Metric::NewCustomers => "新增客户",
            Metric::Conversions => "转化数",
            Metric::ConvertedAmount => "转化金额(元)",
            Metric::Visits => "拜访",
            Metric::VerifiedVisits => "有效拜访",
            Metric::EventsHeld => "举办活动",
            Metric::Registrations => "活动报名",
            Metric::Checkins => "活动签到",
            Metric::NewLeads => "新增线索",
        }
    }

    /// What it counts, as a Chinese measure word for figures on cards ("32 户").
    pub fn unit(self) -> &'static str {
        match self {
            Metric::NewCustomers => "户",
            Metric::Conversions => "笔",
            Metric::ConvertedAmount => "元",
            Metric::Visits | Metric::VerifiedVisits => "次",
            Metric::EventsHeld => "场",
            Metric::Registrations | Metric::Checkins => "人",
            Metric::NewLeads => "条",
        }
    }
}
