//! Demo events: upcoming events at the demo partners, in different steps, with attendees.

use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::bootstrap::describe;
use crate::domain::event_steps::{self, Step};
use crate::domain::events::{self, EventTheme, NewEvent};
use crate::domain::org_units::Created;
use crate::domain::partner_kind::PartnerCategory;
use crate::domain::partners::Partner;
use crate::domain::{Actor, checkins, registrations};
use crate::http::state::AppState;

fn theme_for(category: PartnerCategory) -> (EventTheme, &'static str) {
    match category {
        PartnerCategory::School => (EventTheme::ParentChild, "亲子财商小课堂"),
        PartnerCategory::Community => (EventTheme::AntiFraud, "社区反诈知识讲座"),
        PartnerCategory::Supermarket => (EventTheme::MarketPromotion, "持卡消费满减日"),
        PartnerCategory::GarmentWholesale | PartnerCategory::SeafoodWholesale => {
            (EventTheme::MarketPromotion, "商户收款码推广日")
        }
        PartnerCategory::BookkeepingAgency => (EventTheme::FinancialLiteracy, "小微企业财税沙龙"),
        PartnerCategory::Other => (EventTheme::Health, "健康讲座"),
    }
}

/// Three upcoming events per account manager, at 3, 10 and 20 days, with the first steps done
/// and people already registered. Returns (events, registrations).
pub async fn seed(
    state: &AppState,
    portfolios: &[(Actor, Vec<Partner>)],
    projects: &[(Uuid, Uuid)],
) -> anyhow::Result<(usize, usize)> {
    // An event counts for its owner's running project.
    let project_of = |actor: &Actor| projects.iter().find(|(user, _)| *user == actor.user_id).map(|(_, p)| *p);
    let mut rng = StdRng::seed_from_u64(5);
    let (mut made, mut registered) = (0, 0);
    for (actor, partners) in portfolios {
        for (n, days) in [3i64, 10, 20].into_iter().enumerate() {
            let Some(partner) = partners.get(n * 7) else { continue };
            let (theme, title) = theme_for(partner.category);
            let starts_at =
                (Utc::now() + Duration::days(days)).date_naive().and_hms_opt(6, 30, 0).unwrap_or_default().and_utc();
            let input = NewEvent {
                id: None,
                partner_id: partner.id,
                project_id: project_of(actor),
                title: title.to_owned(),
                theme,
                description: Some(format!("与{}联合举办", partner.name)),
                starts_at,
                ends_at: starts_at + Duration::hours(2),
                venue: partner.address.clone(),
                location: None,
                capacity: rng.random_range(30..60),
                registration_deadline: None,
                retention_days: None,
            };
            let who = actor.clone();
            let event = match state.db.run(move |conn| events::create(conn, &who, input)).await.map_err(describe)? {
                Created::New(e) | Created::Existing(e) => e,
            };
            made += 1;
            // The nearer the event, the further its preparation.
            for step in &Step::ALL[..(3 - n)] {
                let (who, step) = (actor.clone(), *step);
                state
                    .db
                    .run(move |conn| event_steps::complete(conn, &who, event.id, step, None))
                    .await
                    .map_err(describe)?;
            }
            for k in 0..rng.random_range(8..35) {
                let code = event.registration_code.clone();
                let phone = format!("15{:09}", rng.random_range(0..1_000_000_000u64));
                let name =
                    format!("{}{}", ["陈", "李", "黄", "梁", "吴", "张", "刘", "周"][k % 8], ["女士", "先生"][k % 2]);
                state
                    .db
                    .run(move |conn| registrations::register(conn, &code, &name, &phone, true))
                    .await
                    .map_err(describe)?;
                registered += 1;
            }
        }
    }
    // One event under way now, held and reviewed with its check-ins, and one cancelled: so the
    // demo shows every step state.
    if let Some((actor, partners)) = portfolios.first()
        && let Some(partner) = partners.get(3)
    {
        let (theme, title) = theme_for(partner.category);
        let starts_at = Utc::now() - Duration::hours(1);
        let input = NewEvent {
            id: None,
            partner_id: partner.id,
            project_id: project_of(actor),
            title: format!("{title}（进行中）"),
            theme,
            description: Some(format!("与{}联合举办", partner.name)),
            starts_at,
            ends_at: starts_at + Duration::hours(3),
            venue: partner.address.clone(),
            location: None,
            capacity: 40,
            registration_deadline: Some(starts_at + Duration::hours(2)),
            retention_days: None,
        };
        let who = actor.clone();
        let held = match state.db.run(move |conn| events::create(conn, &who, input)).await.map_err(describe)? {
            Created::New(e) | Created::Existing(e) => e,
        };
        made += 1;
        for k in 0..24 {
            let code = held.registration_code.clone();
            let phone = format!("18{:09}", rng.random_range(0..1_000_000_000u64));
            let name = format!("{}{}", ["陈", "李", "黄", "梁"][k % 4], ["女士", "先生"][k % 2]);
            let ticket = state
                .db
                .run(move |conn| registrations::register(conn, &code, &name, &phone, true))
                .await
                .map_err(describe)?;
            registered += 1;
            if k % 4 != 3 {
                let who = actor.clone();
                state
                    .db
                    .run(move |conn| checkins::check_in(conn, &who, held.id, &ticket.ticket_code, None))
                    .await
                    .map_err(describe)?;
            }
        }
        for step in Step::ALL {
            let (who, step) = (actor.clone(), *step);
            state
                .db
                .run(move |conn| event_steps::complete(conn, &who, held.id, step, Some("示范活动".to_owned())))
                .await
                .map_err(describe)?;
        }
        if let Some(other) = partners.get(4) {
            let (theme, title) = theme_for(other.category);
            let starts_at = Utc::now() + Duration::days(30);
            let input = NewEvent {
                id: None,
                partner_id: other.id,
                project_id: project_of(actor),
                title: title.to_owned(),
                theme,
                description: None,
                starts_at,
                ends_at: starts_at + Duration::hours(2),
                venue: other.address.clone(),
                location: None,
                capacity: 30,
                registration_deadline: None,
                retention_days: None,
            };
            let who = actor.clone();
            let cancelled = match state.db.run(move |conn| events::create(conn, &who, input)).await.map_err(describe)? {
                Created::New(e) | Created::Existing(e) => e,
            };
            let who = actor.clone();
            let patch =
                events::EventPatch { status: Some(events::EventStatus::Cancelled), ..events::EventPatch::default() };
            state.db.run(move |conn| events::update(conn, &who, cancelled.id, patch)).await.map_err(describe)?;
            made += 1;
        }
    }
    Ok((made, registered))
}
