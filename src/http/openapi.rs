use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::domain::ErrorCode;
use crate::http::common::problem::Problem;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Outreach API",
        description = "Field outreach for bank retail account managers: alliance partners, visits, \
                       community events, leads and segment projects. Errors are RFC 9457 \
                       `application/problem+json` with a stable `code`.",
    ),
    modifiers(&BearerAuth, &ErrorCodes),
    components(schemas(Problem, ErrorCode)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout"),
        (name = "org-units", description = "The org tree: branch → sub-branch → outlet"),
        (name = "users", description = "Staff accounts and roles"),
        (name = "partners", description = "Alliance partners: pipeline, nearby search, territories. Coordinates follow `?coord=wgs84|gcj02|bd09`."),
        (name = "visits", description = "Geotagged visits and their verification. Coordinates follow `?coord=`."),
        (name = "events", description = "Non-financial community events and their six steps"),
        (name = "leads", description = "Leads (线索): status moves, dedupe by phone within a branch, masking, assignment (see docs/PROJECTS.md)"),
        (name = "projects", description = "Segment projects: team, targets split per member, progress and pace, points ledger, leaderboard and stars, the award pool, the monitoring workbook and the daily showcase card"),
        (name = "supervision", description = "Supervision (督导): supervisors' geotagged visits to outlets on the method's checklist, their findings (owner, due day, open → done) and review (复盘)"),
        (name = "coaching", description = "Coaching plans of supervisors-in-training (督导员培养): observe → practice → lead, each phase moving on only with its reviews"),
        (name = "cases", description = "Best-practice cases (优秀案例): written by anyone, published to the branch by a manager, searchable, marked useful"),
        (name = "map", description = "The outreach map (客群地图): clustered GeoJSON of partners, visits, events and leads; coverage and visit heat. Coordinates follow `?coord=`."),
        (name = "reports", description = "The morning-meeting report"),
        (name = "public", description = "No login: an event's public face and attendee registration"),
        (name = "sync", description = "Offline sync for the phone: pull a change feed, push a batch (see docs/SYNC.md)"),
        (name = "audit", description = "Who changed what"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

/// Says what each error code means in the `ErrorCode` schema's description, so the list a
/// client generator sees carries the meanings declared beside the codes in the domain.
struct ErrorCodes;

impl Modify for ErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let components = openapi.components.get_or_insert_with(Default::default);
        if let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut("ErrorCode") {
            let lines: Vec<String> =
                ErrorCode::ALL.iter().map(|code| format!("- `{code}`: {}", code.meaning())).collect();
            schema.description = Some(format!(
                "A stable, machine-readable error code (`Problem.code`). Clients branch on it, never on \
                 `detail`.\n\n{}",
                lines.join("\n")
            ));
        }
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Adds the answers every route can give, from the layers in front of the handlers, to each
/// operation that does not name them already: 401 behind a token, 408 for a body too slow,
/// 400/413/415/422 for a JSON body (see [`crate::http::common::json`]), 422 for a bad query
/// string, 404 for a path that names nothing, 503 when the database cannot be reached. A client
/// generated from the spec then knows them.
pub fn complete(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))))
                .build(),
        )
    };
    let add = |op: &mut Operation, status: &str, description: &str| {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
    };
    // The pages (`/e/…`, `/map`) answer in HTML and say so themselves.
    for (_, item) in spec.paths.paths.iter_mut().filter(|(path, _)| path.starts_with("/api/")) {
        let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let parameters = || op.parameters.iter().flatten();
            let has = |place: ParameterIn| {
                parameters().any(|p| matches!(p, RefOr::T(p) if std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place)))
            };
            let (query, path) = (has(ParameterIn::Query), has(ParameterIn::Path));
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| matches!(b, RefOr::T(b) if b.content.contains_key("application/json")));
            if secured {
                add(
                    op,
                    "401",
                    "No access token, or one that is expired or forged (`missing_token`, `invalid_token`, `token_expired`)",
                );
            }
            if op.request_body.is_some() {
                add(op, "408", "The body did not arrive within the deadline (`request_timeout`)");
            }
            if json_body {
                add(op, "400", "The body is not JSON (`malformed_json`)");
                add(op, "413", "The body is larger than the limit (`payload_too_large`)");
                add(op, "415", "The body is not `application/json` (`unsupported_media_type`)");
                add(op, "422", "The body does not fit the schema or its rules (`invalid_body`, `validation_failed`)");
            }
            if query {
                add(op, "422", "A query parameter is malformed or out of range (`invalid_query`, `validation_failed`)");
            }
            if path {
                add(op, "404", "Nothing there, or nothing the caller may see (`not_found`)");
            }
            add(op, "503", "The database cannot be reached or stays busy (`database_unavailable`); retry later");
        }
    }
}
