//! The HTTP surface: thin handlers (parse → domain → response), extractors, problem+json.

pub mod audit;
pub mod award_pool;
pub mod cases;
pub mod checkins;
pub mod coaching;
pub mod deadline;
pub mod events;
pub mod extract;
pub mod health;
pub mod json;
pub mod leads;
pub mod logging;
pub mod map;
pub mod map_page;
pub mod monitoring;
pub mod openapi;
pub mod org_units;
pub mod partners;
pub mod photos;
pub mod problem;
pub mod projects;
pub mod public;
pub mod public_page;
pub mod security;
pub mod sessions;
pub mod showcase;
pub mod supervisions;
pub mod sync;
pub mod tap;
pub mod users;
pub mod visits;

use actix_web::App;
use utoipa::OpenApi as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

/// Operations anyone may call without an access token. Every other route must take a [`extract::Caller`];
/// a test calls each one without a token and expects 401.
pub const PUBLIC_OPERATIONS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/public/events/{code}"),
    ("post", "/api/v1/public/events/{code}/registrations"),
    ("post", "/api/v1/public/events/{code}/cancel"),
    ("post", "/api/v1/public/events/{code}/withdraw"),
    ("get", "/e/{code}"),
    ("post", "/e/{code}"),
    ("get", "/e/{code}/tickets/{ticket}.png"),
    ("get", "/map"),
    ("get", "/map/assets/{file}"),
];

/// Registers every route. Routes are added only with `.service()`, so each one is in the spec.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(public_page::registration_page)
        .service(public_page::submit_registration)
        .service(public_page::ticket_qr)
        .service(map_page::map_page)
        .service(map_page::map_asset)
        .service(
            scope("/api/v1")
                .service(sessions::login)
                .service(sessions::refresh)
                .service(sessions::logout)
                .service(users::get_me)
                .service(org_units::create_org_unit)
                .service(org_units::list_org_units)
                .service(org_units::get_org_unit)
                .service(org_units::update_org_unit)
                .service(users::create_user)
                .service(users::list_users)
                .service(users::get_user)
                .service(users::update_user)
                // The fixed paths before `/partners/{id}`, which would otherwise claim them.
                .service(partners::nearby_partners)
                .service(partners::partners_outside_territory)
                .service(partners::create_partner)
                .service(partners::list_partners)
                .service(partners::get_partner)
                .service(partners::update_partner)
                .service(partners::delete_partner)
                .service(partners::partner_history)
                .service(visits::create_visit)
                .service(visits::list_visits)
                .service(visits::get_visit)
                .service(visits::update_visit)
                .service(visits::delete_visit)
                .service(photos::upload_photo)
                .service(photos::list_photos)
                .service(photos::get_photo)
                .service(photos::get_thumbnail)
                .service(photos::delete_photo)
                .service(events::create_event)
                .service(events::list_events)
                .service(events::get_event)
                .service(events::update_event)
                .service(events::list_steps)
                .service(events::edit_step)
                .service(events::complete_step)
                .service(events::add_evidence)
                .service(events::get_evidence)
                .service(events::get_evidence_thumbnail)
                .service(checkins::check_in)
                .service(checkins::check_in_batch)
                .service(checkins::attendees)
                .service(checkins::attendees_csv)
                .service(checkins::attendees_xlsx)
                .service(checkins::qr_png)
                .service(public::public_event)
                .service(public::register)
                .service(public::cancel)
                .service(public::withdraw)
                .service(leads::create_lead)
                .service(leads::list_leads)
                .service(leads::get_lead)
                .service(leads::update_lead)
                .service(leads::delete_lead)
                .service(leads::lead_history)
                .service(projects::create_project)
                .service(projects::list_projects)
                .service(projects::get_project)
                .service(projects::update_project)
                .service(projects::set_team)
                .service(projects::set_targets)
                .service(projects::set_rules)
                .service(projects::add_milestone)
                .service(projects::update_milestone)
                .service(projects::add_manual_metric)
                .service(projects::add_manual_value)
                .service(monitoring::project_progress)
                .service(monitoring::project_leaderboard)
                .service(monitoring::project_stars)
                .service(showcase::project_showcase)
                .service(award_pool::get_pool)
                .service(award_pool::contribute)
                .service(award_pool::pay_star)
                .service(supervisions::create_supervision)
                .service(supervisions::list_supervisions)
                .service(supervisions::get_supervision)
                .service(supervisions::update_supervision)
                .service(supervisions::delete_supervision)
                .service(supervisions::add_supervision_photo)
                .service(supervisions::get_supervision_photo)
                .service(supervisions::get_supervision_photo_thumbnail)
                .service(supervisions::add_finding)
                .service(supervisions::list_findings)
                .service(supervisions::get_finding)
                .service(supervisions::update_finding)
                .service(coaching::create_plan)
                .service(coaching::list_plans)
                .service(coaching::plans_overview)
                .service(coaching::get_plan)
                .service(coaching::add_review)
                .service(coaching::advance_plan)
                .service(cases::create_case)
                .service(cases::list_cases)
                .service(cases::get_case)
                .service(cases::update_case)
                .service(cases::delete_case)
                .service(cases::publish_case)
                .service(cases::withdraw_case)
                .service(cases::mark_useful)
                .service(cases::unmark_useful)
                .service(cases::add_case_photo)
                .service(cases::get_case_photo)
                .service(cases::get_case_photo_thumbnail)
                .service(monitoring::project_points)
                .service(monitoring::project_report_xlsx)
                .service(monitoring::project_report_csv)
                .service(monitoring::daily)
                .service(map::map_features)
                .service(map::map_coverage)
                .service(sync::pull)
                .service(sync::push)
                .service(audit::list_audit),
        );
}

/// The OpenAPI document, generated from the same registration the server uses.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut spec) =
        App::new().into_utoipa_app().openapi(openapi::ApiDoc::openapi()).configure(routes).split_for_parts();
    openapi::complete(&mut spec);
    spec
}

/// The spec as committed in `api-spec/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
