//! Request extractors shared by the handlers: the authenticated caller and pagination.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;

use crate::context::state::AppState;
use crate::domain::{Actor, ErrorCode};
use crate::http::common::problem::ApiError;
use crate::store::PageRequest;

/// The caller, authenticated by `Authorization: Bearer <access token>`. Taking it as a handler
/// argument *is* the auth guard: a handler without it is public, and the route test checks
/// that only the listed public routes are.
pub struct Caller(pub Actor);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = authenticate(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let actor = verified?;
            let state = state.ok_or_else(ApiError::internal)?;
            // A valid signature is not enough: the holder must still stand where the token says.
            if !state.auth.standing.holds(&state.db, &actor).await? {
                return Err(ApiError::unauthorized(
                    ErrorCode::InvalidToken,
                    "your account was disabled, or its role or unit changed: sign in again",
                ));
            }
            Ok(Caller(actor))
        })
    }
}

fn authenticate(req: &HttpRequest) -> Result<Actor, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(ApiError::internal)?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(ErrorCode::MissingToken, "send an access token as `Authorization: Bearer …`")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(ErrorCode::InvalidToken, "the Authorization header is not `Bearer <token>`")
        })?;
    Ok(state.auth.tokens.verify(token)?)
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// `?limit=&cursor=` of every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; absent or empty for the first.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                PageRequest::decode_cursor(c)
                    .ok_or_else(|| ApiError::field("cursor", "not a cursor this API issued"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

/// `?coord=wgs84|gcj02|bd09`: the datum of every coordinate in the request and the response.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoordParam {
    /// Datum of coordinates in the body, the query and the response (default `wgs84`).
    pub coord: Option<crate::geo::Datum>,
}

impl CoordParam {
    pub fn datum(&self) -> crate::geo::Datum {
        self.coord.unwrap_or_default()
    }

    /// A client position: checked, then converted to the stored WGS-84.
    pub fn incoming(&self, field: &str, p: crate::geo::LatLon) -> Result<crate::geo::LatLon, ApiError> {
        let p = p.validated().map_err(|e| ApiError::field(field, e.to_string()))?;
        Ok(self.datum().to_wgs84(p))
    }

    /// A `bbox=minLon,minLat,maxLon,maxLat` query parameter in this datum, as WGS-84.
    pub fn bbox(&self, text: Option<&str>) -> Result<Option<crate::geo::BBox>, ApiError> {
        text.map(|t| {
            crate::geo::BBox::parse(t)
                .map(|b| b.to_wgs84(self.datum()))
                .map_err(|e| ApiError::field("bbox", e.to_string()))
        })
        .transpose()
    }

    /// A stored WGS-84 position, in the datum the client asked for.
    pub fn outgoing(&self, p: crate::geo::LatLon) -> crate::geo::LatLon {
        self.datum().from_wgs84(p)
    }
}

/// Checks time filters of a list (`from`, `to`, `updated_since`…) against the years the
/// product deals in, so an absurd date is a 422 and never reaches the database.
pub fn time_filters(filters: &[(&str, Option<chrono::DateTime<chrono::Utc>>)]) -> Result<(), ApiError> {
    for (field, t) in filters {
        if let Some(t) = t {
            crate::domain::common::text::sane_time(*t).map_err(|e| ApiError::field(field, e))?;
        }
    }
    Ok(())
}
