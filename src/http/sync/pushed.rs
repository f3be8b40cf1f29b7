//! What a phone pushes, read without the database: the request body, and each pushed record as
//! the domain's operation or its own refusal. Apart from the handler so that the `sync_push`
//! fuzz target can drive the whole decoder.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::field::partners::{NewPartner, PartnerPatch};
use crate::domain::field::visits::{NewVisit, VisitOutcome, VisitPatch, VisitPurpose};
use crate::domain::kinds::partner_kind::{AudienceUnit, PartnerCategory, PartnerStatus};
use crate::domain::supervision::findings::{FindingPatch, FindingStatus, NewFinding};
use crate::domain::supervision::supervisions::{ChecklistInput, NewSupervision, SupervisionItem, SupervisionPatch};
use crate::domain::sync::legacy::Op;
use crate::geo::LatLon;
use crate::http::common::extract::CoordParam;
use crate::http::common::problem::ApiError;
use crate::http::field::visits::VisitLocation;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushTable {
    /// Records as the REST API returns them, with the client-made `id`.
    /// A record that is not even a JSON object fails the whole push (422): that is a bug in the
    /// client, not data; a record that is an object but wrong is rejected alone.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub created: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Records as the REST API returns them, with the `version` the client last saw.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub updated: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Ids of records deleted on the phone.
    #[serde(default)]
    pub deleted: Vec<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushChanges {
    #[serde(default)]
    pub partners: PushTable,
    #[serde(default)]
    pub visits: PushTable,
    /// Deletions only: photos are uploaded with `POST /visits/{id}/photos`.
    #[serde(default)]
    pub visit_photos: PushTable,
    /// Supervisions recorded on the phone (supervisors and managers), rescored, deleted.
    #[serde(default)]
    pub supervisions: PushTable,
    /// Findings left on the phone (each names its `supervision_id`), and closed by their owner;
    /// findings are closed, not deleted.
    #[serde(default)]
    pub supervision_findings: PushTable,
}

impl PushChanges {
    fn tables(&self) -> [(&'static str, &PushTable); 5] {
        [
            ("partners", &self.partners),
            ("visits", &self.visits),
            ("visit_photos", &self.visit_photos),
            ("supervisions", &self.supervisions),
            ("supervision_findings", &self.supervision_findings),
        ]
    }

    pub(super) fn len(&self) -> usize {
        self.tables().iter().map(|(_, t)| t.created.len() + t.updated.len() + t.deleted.len()).sum()
    }

    /// Every pushed record as (table, kind, value), in the order they apply: table by table,
    /// creates first, then updates, then deletes, so an offline day's edits of a record made that
    /// day apply in order.
    pub(super) fn records(&self) -> impl Iterator<Item = (&'static str, &'static str, serde_json::Value)> + '_ {
        use serde_json::{Map, Value};
        self.tables().into_iter().flat_map(|(name, table)| {
            let object = move |kind: &'static str| move |m: &Map<String, Value>| (name, kind, Value::Object(m.clone()));
            let deleted = move |id: &String| (name, "deleted", Value::String(id.clone()));
            table
                .created
                .iter()
                .map(object("created"))
                .chain(table.updated.iter().map(object("updated")))
                .chain(table.deleted.iter().map(deleted))
        })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The cursor of the client's last pull.
    pub cursor: Option<String>,
    pub changes: PushChanges,
}

// The pushed shapes: the REST records, read leniently (server-managed fields are ignored).

#[derive(Deserialize)]
struct PushedPartner {
    id: Uuid,
    name: String,
    category: PartnerCategory,
    status: Option<PartnerStatus>,
    location: LatLon,
    address: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    audience_size: Option<i64>,
    audience_unit: Option<AudienceUnit>,
    pain_points: Option<Vec<String>>,
    agreed_benefits: Option<Vec<String>>,
    visit_cadence_days: Option<i32>,
    geofence_m: Option<i32>,
    owner_id: Option<Uuid>,
    org_unit_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct PushedPartnerUpdate {
    id: Uuid,
    version: i64,
    name: Option<String>,
    category: Option<PartnerCategory>,
    status: Option<PartnerStatus>,
    status_note: Option<String>,
    location: Option<LatLon>,
    address: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    audience_size: Option<i64>,
    audience_unit: Option<AudienceUnit>,
    pain_points: Option<Vec<String>>,
    agreed_benefits: Option<Vec<String>>,
    visit_cadence_days: Option<i32>,
    geofence_m: Option<i32>,
    owner_id: Option<Uuid>,
    org_unit_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct PushedVisit {
    id: Uuid,
    partner_id: Option<Uuid>,
    location: VisitLocation,
    visited_at: DateTime<Utc>,
    purpose: VisitPurpose,
    notes: Option<String>,
    outcome: Option<VisitOutcome>,
    next_step: Option<String>,
    next_visit_at: Option<DateTime<Utc>>,
    mock_location: Option<bool>,
    location_age_s: Option<f64>,
    project_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct PushedVisitUpdate {
    id: Uuid,
    version: i64,
    purpose: Option<VisitPurpose>,
    notes: Option<String>,
    outcome: Option<VisitOutcome>,
    next_step: Option<String>,
    next_visit_at: Option<DateTime<Utc>>,
    project_id: Option<Uuid>,
}

/// A checklist item as the API returns it (its label and photos are read past).
#[derive(Deserialize)]
struct PushedItem {
    item: SupervisionItem,
    score: i64,
    notes: Option<String>,
}

fn pushed_items(list: Vec<PushedItem>) -> Vec<ChecklistInput> {
    list.into_iter().map(|i| ChecklistInput { item: i.item, score: i.score, notes: i.notes }).collect()
}

#[derive(Deserialize)]
struct PushedSupervision {
    id: Uuid,
    org_unit_id: Uuid,
    project_id: Option<Uuid>,
    location: VisitLocation,
    visited_at: DateTime<Utc>,
    mock_location: Option<bool>,
    location_age_s: Option<f64>,
    #[serde(default)]
    checklist: Vec<PushedItem>,
    review_worked: Option<String>,
    review_change: Option<String>,
}

#[derive(Deserialize)]
struct PushedSupervisionUpdate {
    id: Uuid,
    version: i64,
    checklist: Option<Vec<PushedItem>>,
    review_worked: Option<String>,
    review_change: Option<String>,
    project_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct PushedFinding {
    id: Uuid,
    supervision_id: Uuid,
    title: String,
    detail: Option<String>,
    owner_id: Uuid,
    due_on: NaiveDate,
}

#[derive(Deserialize)]
struct PushedFindingUpdate {
    id: Uuid,
    version: i64,
    status: Option<FindingStatus>,
    done_note: Option<String>,
    title: Option<String>,
    detail: Option<String>,
    owner_id: Option<Uuid>,
    due_on: Option<NaiveDate>,
}

fn read<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    crate::http::common::json::parse(value.to_string().as_bytes())
}

pub(super) fn id_of(value: &serde_json::Value) -> Option<Uuid> {
    value.get("id").and_then(|v| v.as_str()).or_else(|| value.as_str()).and_then(|s| s.parse().ok())
}

/// The push decoder without the database: a request body as the server reads it, then each
/// record as an operation or its refusal. What the `sync_push` fuzz target drives.
pub fn decode_push(body: &[u8]) -> Result<Vec<Result<(), ApiError>>, ApiError> {
    let request: PushRequest = crate::http::common::json::parse(body)?;
    let coord = CoordParam { coord: None };
    let decoded = request
        .changes
        .records()
        .map(|(table, kind, value)| {
            let _ = id_of(&value);
            parse_op(table, kind, &value, &coord).map(|_| ())
        })
        .collect();
    Ok(decoded)
}

/// Turns one pushed record into an operation; a record that does not parse is rejected alone.
pub(super) fn parse_op(table: &str, kind: &str, value: &serde_json::Value, coord: &CoordParam) -> Result<Op, ApiError> {
    let location = |l: LatLon| coord.incoming("location", l);
    Ok(match (table, kind) {
        ("partners", "created") => {
            let p: PushedPartner = read(value)?;
            Op::CreatePartner(Box::new(NewPartner {
                id: Some(p.id),
                location: location(p.location)?,
                name: p.name,
                category: p.category,
                status: p.status,
                address: p.address,
                contact_name: p.contact_name,
                contact_phone: p.contact_phone,
                audience_size: p.audience_size,
                audience_unit: p.audience_unit,
                pain_points: p.pain_points,
                agreed_benefits: p.agreed_benefits,
                visit_cadence_days: p.visit_cadence_days,
                geofence_m: p.geofence_m,
                owner_id: p.owner_id,
                org_unit_id: p.org_unit_id,
            }))
        }
        ("partners", "updated") => {
            let p: PushedPartnerUpdate = read(value)?;
            Op::UpdatePartner(
                p.id,
                Box::new(PartnerPatch {
                    location: p.location.map(location).transpose()?,
                    name: p.name,
                    category: p.category,
                    status: p.status,
                    status_note: p.status_note,
                    address: p.address,
                    contact_name: p.contact_name,
                    contact_phone: p.contact_phone,
                    audience_size: p.audience_size,
                    audience_unit: p.audience_unit,
                    pain_points: p.pain_points,
                    agreed_benefits: p.agreed_benefits,
                    visit_cadence_days: p.visit_cadence_days,
                    geofence_m: p.geofence_m,
                    owner_id: p.owner_id,
                    org_unit_id: p.org_unit_id,
                    version: Some(p.version),
                }),
            )
        }
        ("visits", "created") => {
            let v: PushedVisit = read(value)?;
            Op::CreateVisit(Box::new(NewVisit {
                id: Some(v.id),
                partner_id: v.partner_id,
                location: location(LatLon { lat: v.location.lat, lon: v.location.lon })?,
                accuracy_m: v.location.accuracy_m,
                visited_at: v.visited_at,
                purpose: v.purpose,
                notes: v.notes,
                outcome: v.outcome,
                next_step: v.next_step,
                next_visit_at: v.next_visit_at,
                mock_location: v.mock_location,
                location_age_s: v.location_age_s,
                project_id: v.project_id,
            }))
        }
        ("visits", "updated") => {
            let v: PushedVisitUpdate = read(value)?;
            Op::UpdateVisit(
                v.id,
                VisitPatch {
                    purpose: v.purpose,
                    notes: v.notes,
                    outcome: v.outcome,
                    next_step: v.next_step,
                    next_visit_at: v.next_visit_at,
                    project_id: v.project_id,
                    version: Some(v.version),
                },
            )
        }
        ("supervisions", "created") => {
            let s: PushedSupervision = read(value)?;
            Op::CreateSupervision(Box::new(NewSupervision {
                id: Some(s.id),
                org_unit_id: s.org_unit_id,
                project_id: s.project_id,
                location: location(LatLon { lat: s.location.lat, lon: s.location.lon })?,
                accuracy_m: s.location.accuracy_m,
                visited_at: s.visited_at,
                mock_location: s.mock_location,
                location_age_s: s.location_age_s,
                checklist: pushed_items(s.checklist),
                review_worked: s.review_worked,
                review_change: s.review_change,
            }))
        }
        ("supervisions", "updated") => {
            let s: PushedSupervisionUpdate = read(value)?;
            Op::UpdateSupervision(
                s.id,
                SupervisionPatch {
                    checklist: s.checklist.map(pushed_items),
                    review_worked: s.review_worked,
                    review_change: s.review_change,
                    project_id: s.project_id,
                    version: Some(s.version),
                },
            )
        }
        ("supervision_findings", "created") => {
            let f: PushedFinding = read(value)?;
            Op::CreateFinding(
                f.supervision_id,
                Box::new(NewFinding {
                    id: Some(f.id),
                    title: f.title,
                    detail: f.detail,
                    owner_id: f.owner_id,
                    due_on: f.due_on,
                }),
            )
        }
        ("supervision_findings", "updated") => {
            let f: PushedFindingUpdate = read(value)?;
            Op::UpdateFinding(
                f.id,
                FindingPatch {
                    status: f.status,
                    done_note: f.done_note,
                    title: f.title,
                    detail: f.detail,
                    owner_id: f.owner_id,
                    due_on: f.due_on,
                    version: Some(f.version),
                },
            )
        }
        ("supervision_findings", "deleted") => {
            return Err(ApiError::field("supervision_findings", "a finding is closed (status done), not deleted"));
        }
        (table, "deleted") => {
            let id = id_of(value).ok_or_else(|| ApiError::field("id", "a deleted entry is the record's id"))?;
            match table {
                "partners" => Op::DeletePartner(id),
                "visits" => Op::DeleteVisit(id),
                "supervisions" => Op::DeleteSupervision(id),
                _ => Op::DeletePhoto(id),
            }
        }
        ("visit_photos", _) => {
            return Err(ApiError::field("visit_photos", "photos are uploaded with POST /api/v1/visits/{id}/photos"));
        }
        _ => return Err(ApiError::field(table, "unknown change")),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// Any JSON at all, nested a few levels, with the field names a pushed record uses.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            Just(Value::String(uuid::Uuid::new_v4().to_string())),
            Just(Value::String("2026-11-29T08:30:00Z".to_owned())),
        ];
        let keys = prop_oneof![
            Just("id"),
            Just("name"),
            Just("category"),
            Just("status"),
            Just("location"),
            Just("lat"),
            Just("lon"),
            Just("accuracy_m"),
            Just("visited_at"),
            Just("partner_id"),
            Just("purpose"),
            Just("version"),
            Just("owner_id"),
            Just("notes"),
            Just("audience_size"),
            Just("geofence_m"),
            Just("other"),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The push decoder reads whatever a phone (or anyone with a token) sends: an operation
        /// or a per-record refusal, never a panic.
        #[test]
        fn any_pushed_record_is_an_operation_or_refused(
            value in json(),
            table in prop_oneof![Just("partners"), Just("visits"), Just("visit_photos")],
            kind in prop_oneof![Just("created"), Just("updated"), Just("deleted")],
            coord in prop_oneof![Just(None), Just(Some(crate::geo::Datum::Gcj02)), Just(Some(crate::geo::Datum::Bd09))],
        ) {
            let _ = id_of(&value);
            let _ = parse_op(table, kind, &value, &CoordParam { coord });
        }
    }
}
