//! The vocabulary of events: themes and the event's status.

use crate::domain::kinds::text_enum;

text_enum!(EventTheme {
    ParentChild => "parent_child",
    AntiFraud => "anti_fraud",
    Health => "health",
    MarketPromotion => "market_promotion",
    FinancialLiteracy => "financial_literacy",
    Festival => "festival",
    Other => "other",
});

text_enum!(EventStatus {
    Planned => "planned",
    Cancelled => "cancelled",
    Completed => "completed",
});
