use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use super::problem::Problem;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Outreach API",
        description = "Field outreach for bank retail account managers: alliance partners, visits, \
                       community events, leads and segment projects. Errors are RFC 9457 \
                       `application/problem+json` with a stable `code`.",
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout"),
        (name = "org-units", description = "The org tree: branch → sub-branch → outlet"),
        (name = "users", description = "Staff accounts and roles"),
        (name = "partners", description = "Alliance partners: pipeline, nearby search, territories. Coordinates follow `?coord=wgs84|gcj02|bd09`."),
        (name = "visits", description = "Geotagged visits and their verification. Coordinates follow `?coord=`."),
        (name = "events", description = "Non-financial community events and their six steps"),
        (name = "leads", description = "Leads (线索): status moves, dedupe by phone within a branch, masking, assignment (see docs/PROJECTS.md)"),
        (name = "projects", description = "Segment projects: team, targets split per member, progress and pace, points ledger, leaderboard and stars, the monitoring workbook"),
        (name = "map", description = "The outreach map (客群地图): clustered GeoJSON of partners, visits, events and leads; coverage and visit heat. Coordinates follow `?coord=`."),
        (name = "reports", description = "The morning-meeting report"),
        (name = "public", description = "No login: an event's public face and attendee registration"),
        (name = "sync", description = "Offline sync for the phone: pull a change feed, push a batch (see docs/SYNC.md)"),
        (name = "audit", description = "Who changed what"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}
