//! The HTTP surface: thin handlers (parse → domain → response) in folders that mirror the
//! domain's, over the shared extractors and problem+json errors ([`common`]) and the request
//! plumbing ([`middleware`]); the map and sync resources, which span capabilities, sit here.

pub mod common;
pub mod events;
pub mod field;
pub mod health;
pub mod map;
pub mod middleware;
pub mod openapi;
pub mod org;
pub mod pages;
pub mod projects;
pub mod supervision;
pub mod sync;

use actix_web::App;
use utoipa::OpenApi as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

/// Operations anyone may call without an access token. Every other route must take a
/// [`common::extract::Caller`]; a test calls each one without a token and expects 401.
pub const PUBLIC_OPERATIONS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/public/events/{code}"),
    ("post", "/api/v1/public/events/{code}/registrations"),
    ("get", "/api/v1/public/events/{code}/tickets/{secret}"),
    ("post", "/api/v1/public/events/{code}/tickets/{secret}/cancel"),
    ("post", "/api/v1/public/events/{code}/tickets/{secret}/withdraw"),
    ("get", "/e/{code}"),
    ("post", "/e/{code}"),
    ("get", "/e/{code}/t/{secret}"),
    ("post", "/e/{code}/t/{secret}/cancel"),
    ("get", "/e/{code}/t/{secret}/withdraw"),
    ("post", "/e/{code}/t/{secret}/withdraw"),
    ("get", "/e/{code}/t/{secret}/qr.png"),
    ("get", "/map"),
    ("get", "/map/assets/{file}"),
    ("get", "/api/v1/sync/schema"),
];

/// Registers every route. Routes are added only with `.service()`, so each one is in the spec.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(pages::public_page::registration_page)
        .service(pages::public_page::submit_registration)
        .service(pages::public_page::ticket_page)
        .service(pages::public_page::cancel_ticket)
        .service(pages::public_page::withdraw_page)
        .service(pages::public_page::withdraw_ticket)
        .service(pages::public_page::ticket_qr)
        .service(pages::map_page::map_page)
        .service(pages::map_page::map_asset)
        .service(
            scope("/api/v1")
                .service(org::sessions::login)
                .service(org::sessions::refresh)
                .service(org::sessions::logout)
                .service(org::users::get_me)
                .service(org::org_units::create_org_unit)
                .service(org::org_units::list_org_units)
                .service(org::org_units::get_org_unit)
                .service(org::org_units::update_org_unit)
                .service(org::users::create_user)
                .service(org::users::list_users)
                .service(org::users::get_user)
                .service(org::users::update_user)
                // The fixed paths before `/partners/{id}`, which would otherwise claim them.
                .service(field::partners::nearby_partners)
                .service(field::partners::partners_outside_territory)
                .service(field::partners::create_partner)
                .service(field::partners::list_partners)
                .service(field::partners::get_partner)
                .service(field::partners::update_partner)
                .service(field::partners::delete_partner)
                .service(field::partners::partner_history)
                .service(field::visits::create_visit)
                .service(field::visits::list_visits)
                .service(field::visits::get_visit)
                .service(field::visits::update_visit)
                .service(field::visits::delete_visit)
                .service(field::photos::upload_photo)
                .service(field::photos::list_photos)
                .service(field::photos::get_photo)
                .service(field::photos::get_thumbnail)
                .service(field::photos::delete_photo)
                .service(events::events::create_event)
                .service(events::events::list_events)
                .service(events::events::get_event)
                .service(events::events::update_event)
                .service(events::events::list_steps)
                .service(events::events::edit_step)
                .service(events::events::complete_step)
                .service(events::events::add_evidence)
                .service(events::events::get_evidence)
                .service(events::events::get_evidence_thumbnail)
                .service(events::checkins::check_in)
                .service(events::checkins::check_in_batch)
                .service(events::checkins::attendees)
                .service(events::checkins::attendees_csv)
                .service(events::checkins::attendees_xlsx)
                .service(events::checkins::qr_png)
                .service(events::public::public_event)
                .service(events::public::register)
                .service(events::public::get_ticket)
                .service(events::public::cancel)
                .service(events::public::withdraw)
                .service(events::leads::create_lead)
                .service(events::leads::list_leads)
                .service(events::leads::get_lead)
                .service(events::leads::update_lead)
                .service(events::leads::review_conversion)
                .service(events::leads::delete_lead)
                .service(events::leads::lead_history)
                .service(projects::projects::create_project)
                .service(projects::projects::list_projects)
                .service(projects::projects::get_project)
                .service(projects::projects::update_project)
                .service(projects::projects::set_team)
                .service(projects::projects::set_targets)
                .service(projects::projects::set_rules)
                .service(projects::projects::add_milestone)
                .service(projects::projects::update_milestone)
                .service(projects::projects::add_manual_metric)
                .service(projects::projects::add_manual_value)
                .service(projects::monitoring::project_progress)
                .service(projects::monitoring::project_leaderboard)
                .service(projects::monitoring::project_stars)
                .service(projects::showcase::project_showcase)
                .service(projects::award_pool::get_pool)
                .service(projects::award_pool::contribute)
                .service(projects::award_pool::pay_star)
                .service(supervision::supervisions::create_supervision)
                .service(supervision::supervisions::list_supervisions)
                .service(supervision::supervisions::get_supervision)
                .service(supervision::supervisions::update_supervision)
                .service(supervision::supervisions::delete_supervision)
                .service(supervision::supervisions::add_supervision_photo)
                .service(supervision::supervisions::get_supervision_photo)
                .service(supervision::supervisions::get_supervision_photo_thumbnail)
                .service(supervision::supervisions::add_finding)
                .service(supervision::supervisions::list_findings)
                .service(supervision::supervisions::get_finding)
                .service(supervision::supervisions::update_finding)
                .service(supervision::coaching::create_plan)
                .service(supervision::coaching::list_plans)
                .service(supervision::coaching::plans_overview)
                .service(supervision::coaching::get_plan)
                .service(supervision::coaching::add_review)
                .service(supervision::coaching::advance_plan)
                .service(projects::cases::create_case)
                .service(projects::cases::list_cases)
                .service(projects::cases::get_case)
                .service(projects::cases::update_case)
                .service(projects::cases::delete_case)
                .service(projects::cases::publish_case)
                .service(projects::cases::withdraw_case)
                .service(projects::cases::mark_useful)
                .service(projects::cases::unmark_useful)
                .service(projects::cases::add_case_photo)
                .service(projects::cases::get_case_photo)
                .service(projects::cases::get_case_photo_thumbnail)
                .service(projects::monitoring::project_points)
                .service(projects::monitoring::project_report_xlsx)
                .service(projects::monitoring::project_report_csv)
                .service(projects::monitoring::daily)
                .service(map::map_features)
                .service(map::map_coverage)
                .service(sync::watermelon::sync_schema)
                .service(sync::watermelon::pull_changes)
                .service(sync::watermelon::push_changes)
                .service(sync::pull::pull)
                .service(sync::push::push)
                .service(org::audit::list_audit),
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
