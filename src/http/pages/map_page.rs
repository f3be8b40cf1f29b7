//! The manager web page of the outreach map (客群地图), `/map`: the askama template
//! `templates/map.html` and its files, embedded in the binary. The page logs in with the API and
//! draws `/api/v1/map/*` with Leaflet (from npm, installed and copied into `OUT_DIR` by
//! `build.rs`); its own script and styles are `web/src/`. No inline script or style: the
//! Content-Security-Policy allows only this server, plus the tile host when
//! `OUTREACH_MAP_TILE_URL` names one. Settings reach the page as `data-` attributes on `<body>`,
//! escaped by the template.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use crate::context::state::AppState;
use crate::geo::Datum;
use crate::http::common::problem::{ApiError, Problem};

/// A file the page loads from `/map/assets/{name}`, with a version derived from its content.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    version: String,
}

/// FNV-1a, 64 bits: a version tag that changes with the content (not a security measure).
fn version(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";
    let files: [(&'static str, &'static str, &'static [u8]); 4] = [
        ("leaflet.js", JS, include_bytes!(concat!(env!("OUT_DIR"), "/leaflet.js"))),
        ("leaflet.css", CSS, include_bytes!(concat!(env!("OUT_DIR"), "/leaflet.css"))),
        ("map.js", JS, include_bytes!("../../../web/src/map.js")),
        ("map.css", CSS, include_bytes!("../../../web/src/map.css")),
    ];
    files
        .into_iter()
        .map(|(name, content_type, body)| Asset { name, content_type, body, version: version(body) })
        .collect()
});

/// The CSP source for the tile host: `https://*.is.autonavi.com` for
/// `https://webrd0{s}.is.autonavi.com/…`; none for a path on this server (`'self'` covers it).
fn tile_source(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !host.contains('{') {
        return Some(format!("{scheme}://{host}"));
    }
    match host.split_once('.') {
        Some((first, tail)) if first.contains('{') && !tail.contains('{') && tail.contains('.') => {
            Some(format!("{scheme}://*.{tail}"))
        }
        // A placeholder deeper in the host: any host of that scheme.
        _ => Some(format!("{scheme}:")),
    }
}

fn content_security_policy(tile_url: Option<&str>) -> String {
    let tiles = tile_url.and_then(tile_source).map(|s| format!(" {s}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// `templates/map.html`: the settings the page's script reads.
#[derive(Template)]
#[template(path = "map.html")]
struct MapPage<'a> {
    /// `OUTREACH_MAP_TILE_URL`, or empty for the script's default.
    tile_url: &'a str,
    tile_datum: &'static str,
}

impl MapPage<'_> {
    /// The content version of a file the page links (the template names each one).
    fn version(&self, name: &str) -> &'static str {
        ASSETS.iter().find(|a| a.name == name).map_or("", |a| a.version.as_str())
    }
}

fn render(tile_url: Option<&str>, datum: Datum) -> Result<String, askama::Error> {
    let tile_datum = if datum == Datum::Gcj02 { "gcj02" } else { "wgs84" };
    MapPage { tile_url: tile_url.unwrap_or_default(), tile_datum }.render()
}

/// The map page. It needs no token to load; it logs in with `POST /api/v1/auth/login`.
#[utoipa::path(tag = "map", responses(
    (status = 200, description = "The manager map page (HTML; its script logs in with the API)", content_type = "text/html"),
))]
#[get("/map")]
pub async fn map_page(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tile_url = state.settings.map_tile_url.as_deref();
    let html = render(tile_url, state.settings.map_tile_datum).map_err(|e| {
        tracing::error!(error = %e, "map page");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", content_security_policy(tile_url)))
        .insert_header(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .body(html))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetParams {
    /// The content version the page links; with the current one the file is cached for a year.
    pub v: Option<String>,
}

/// A file of the map page: `leaflet.js`, `leaflet.css`, `map.js` or `map.css`.
#[utoipa::path(tag = "map", params(("file" = String, Path, example = "map.js"), AssetParams), responses(
    (status = 200, description = "The file", content((String = "text/javascript"), (String = "text/css"))),
    (status = 304, description = "not modified (If-None-Match)"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/map/assets/{file}")]
pub async fn map_asset(
    req: HttpRequest,
    file: web::Path<String>,
    params: web::Query<AssetParams>,
) -> Result<HttpResponse, ApiError> {
    let asset = ASSETS.iter().find(|a| a.name == file.as_str()).ok_or_else(|| ApiError::not_found("asset"))?;
    let etag = format!("\"{}\"", asset.version);
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let cache = if params.v.as_deref() == Some(asset.version.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if cached {
        return Ok(response.finish());
    }
    Ok(response.content_type(asset.content_type).body(asset.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_names_the_tile_host() {
        assert_eq!(
            tile_source("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8").as_deref(),
            Some("https://*.is.autonavi.com")
        );
        assert_eq!(
            tile_source("http://tiles.bank.cn:8080/{z}/{x}/{y}.png").as_deref(),
            Some("http://tiles.bank.cn:8080")
        );
        assert_eq!(tile_source("https://a.{s}.example.com/{z}/{x}/{y}").as_deref(), Some("https:"));
        assert_eq!(tile_source("/tiles/{z}/{x}/{y}.png"), None);
        let csp = content_security_policy(None);
        assert!(csp.contains("img-src 'self' data: blob:;") && csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe"));
    }

    #[test]
    fn the_page_links_every_file_by_version_and_escapes_settings() {
        let Ok(html) = render(Some("https://t.example.com/{z}/{x}/{y}.png?a=1&b=\"2\""), Datum::Gcj02) else {
            panic!("the page renders")
        };
        assert!(!html.contains("{{") && !html.contains("{%"), "a placeholder is left");
        for asset in ASSETS.iter() {
            assert!(html.contains(&format!("/map/assets/{}?v={}", asset.name, asset.version)), "{}", asset.name);
        }
        assert!(html.contains("data-tile-url=\"https://t.example.com/{z}/{x}/{y}.png?a=1&#38;b=&#34;2&#34;\""));
        assert!(html.contains("data-tile-datum=\"gcj02\""));
        assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
    }

    #[test]
    fn a_tile_url_stays_inside_its_attribute() {
        let Ok(html) = render(Some("/t/{z}\"><script>alert(1)</script>'{{v:map.js}}"), Datum::Wgs84) else {
            panic!("the page renders")
        };
        assert!(html.contains(
            "data-tile-url=\"/t/{z}&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;{{v:map.js}}\" data-tile-datum=\"wgs84\""
        ));
        assert!(!html.contains("<script>"));
    }
}
