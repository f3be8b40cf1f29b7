//! Finding partners by place: nearby search, the possible duplicates shown after a create (the
//! rule is `partners`'s, the search this module's), and the territory report.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::field::partners::{DUPLICATE_RADIUS_M, Partner, PossibleDuplicate, as_duplicate, box_filter};
use crate::domain::map::index::{Layers, Pt};
use crate::domain::map::scope::{Filters, Matcher};
use crate::domain::map::{Layer, MapIndex};
use crate::domain::org::territories::TerritoryCache;
use crate::domain::{Actor, DomainError};
use crate::geo::distance::local_distance_m;
use crate::geo::mercator::unproject;
use crate::geo::{BBox, LatLon, WorldBox, distance_m};
use crate::store::field::partners::{self as store, PartnerRow};
use crate::store::{DbConn, StoreError, uuid_col};

pub const MAX_RADIUS_M: f64 = 50_000.0;

/// Live partners in scope whose exact geodesic distance is within `radius_m`, nearest first.
/// The SQL prefilter is a latitude-band/longitude index range, so cost follows the area searched,
/// not the size of the table.
pub fn nearby(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    center: LatLon,
    radius_m: f64,
    limit: usize,
) -> Result<Vec<(Partner, f64)>, DomainError> {
    let center = center.validated().map_err(|e| DomainError::invalid("lat", e.to_string()))?;
    if !(1.0..=MAX_RADIUS_M).contains(&radius_m) {
        return Err(DomainError::invalid("radius_m", format!("must be between 1 and {MAX_RADIUS_M}")));
    }
    // Two steps: rank the narrow (id, position) candidates, then load only the rows returned.
    let candidates = candidates(conn, index, actor, &BBox::around(center, radius_m))?;
    let ranked = nearest(center, radius_m, limit, candidates);
    let ids: Vec<String> = ranked.iter().map(|(id, _)| id.to_string()).collect();
    let mut rows: HashMap<String, PartnerRow> =
        store::find_many(conn, &ids)?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut found = Vec::with_capacity(ranked.len());
    for id in ids {
        if let Some(row) = rows.remove(&id).filter(|r| r.deleted_at.is_none()) {
            // The distance from the stored position, not the index's centimetre grid.
            let d = distance_m(center, LatLon { lat: row.lat, lon: row.lon });
            found.push((Partner::try_from(row)?, d));
        }
    }
    Ok(found)
}

/// The `limit` candidates nearest `center` within `radius_m` by exact geodesic distance, nearest
/// first, ties by id. The exact distance costs about half a microsecond, a third of a town-centre
/// search when computed for each of its thousands of candidates; it is computed only for those a
/// local estimate (within 0.1 % of it, see `local_distance_m`) cannot rule out.
fn nearest<Id: Ord>(center: LatLon, radius_m: f64, limit: usize, candidates: Vec<(Id, f64, f64)>) -> Vec<(Id, f64)> {
    // Generous against the estimate's error: what it rules out is out for certain.
    const SLACK: f64 = 1.01;
    let mut rough: Vec<(f64, Id, LatLon)> = candidates
        .into_iter()
        .filter_map(|(id, lat, lon)| {
            let p = LatLon { lat, lon };
            let d = local_distance_m(center, p);
            (d <= radius_m * SLACK + 1.0).then_some((d, id, p))
        })
        .collect();
    if limit > 0 && rough.len() > limit {
        // `limit` candidates lie within SLACK × the limit-th estimate of the centre, so nothing
        // estimated beyond SLACK² × it can be among the nearest `limit`.
        rough.select_nth_unstable_by(limit - 1, |a, b| a.0.total_cmp(&b.0));
        let cutoff = rough[limit - 1].0 * SLACK * SLACK + 1.0;
        rough.retain(|(d, _, _)| *d <= cutoff);
    }
    let mut ranked: Vec<(Id, f64)> =
        rough.into_iter().map(|(_, id, p)| (id, distance_m(center, p))).filter(|(_, d)| *d <= radius_m).collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(limit);
    ranked
}

/// Live partners in the caller's scope inside `b`, as (id, lat, lon); ids stay binary (a town
/// centre holds thousands of candidates, and 50 are returned).
fn candidates(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    b: &BBox,
) -> Result<Vec<(Uuid, f64, f64)>, DomainError> {
    let from_index = in_index(conn, index, actor, b, |_, p, at| (Uuid::from_bytes(p.id), at.lat, at.lon))?;
    if let Some(found) = from_index {
        return Ok(found);
    }
    let scope = actor.scope().path_prefix();
    let rows = store::positions_in_box(conn, scope.as_deref(), &box_filter(b))?;
    Ok(rows.into_iter().map(|(id, lat, lon)| Ok((uuid_col(&id)?, lat, lon))).collect::<Result<_, StoreError>>()?)
}

/// Partners in the caller's scope that `partner` may duplicate (same place, similar name): advice
/// answered with a create, read after its commit.
pub fn possible_duplicates(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    partner: &Partner,
) -> Result<Vec<PossibleDuplicate>, DomainError> {
    let b = BBox::around(partner.location, DUPLICATE_RADIUS_M);
    let mut found: Vec<PossibleDuplicate> = match in_index(conn, index, actor, &b, |layers, p, at| {
        as_duplicate(partner, Uuid::from_bytes(p.id), &layers.partner_slots[p.partner as usize].name, at)
    })? {
        Some(found) => found.into_iter().flatten().collect(),
        None => {
            let scope = actor.scope().path_prefix();
            let rows = store::named_in_box(conn, scope.as_deref(), &box_filter(&b))?;
            let mut found = Vec::new();
            for (id, name, lat, lon) in rows {
                found.extend(as_duplicate(partner, uuid_col(&id)?, &name, LatLon { lat, lon }));
            }
            found
        }
    };
    found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(found)
}

/// Live partners in the caller's scope inside `b`, each mapped by `f`, from the map's in-memory
/// index; `None` until it has loaded (then the caller asks the database, so a search right after
/// a restart does not wait for the load). In a town centre a 1 km box holds thousands of
/// partners, and reading each one's row to test its scope was nearly all of a search's time (151
/// searches a second at 64 clients with 100k partners).
fn in_index<T>(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    b: &BBox,
    mut f: impl FnMut(&Layers, &Pt, LatLon) -> T,
) -> Result<Option<Vec<T>>, DomainError> {
    if !index.is_loaded() {
        return Ok(None);
    }
    let guard = index.current(conn)?;
    let Some(layers) = guard.as_ref() else { return Ok(None) };
    let matcher = Matcher::new(layers, actor, None, &Filters::default());
    let mut found = Vec::new();
    layers.partners.within(&WorldBox::of(b), |e| {
        if matcher.visible(Layer::Partners, &e.item) {
            found.push(f(layers, &e.item, unproject(e.at)));
        }
    });
    Ok(Some(found))
}

/// A partner located outside the territory that governs its owner's org unit.
pub struct OutsideTerritory {
    pub partner: Partner,
    pub owner_territory_unit_id: Uuid,
}

pub fn outside_owner_territory(conn: &mut DbConn, actor: &Actor) -> Result<Vec<OutsideTerritory>, DomainError> {
    let rows = store::with_owner_paths(conn, actor.scope().path_prefix().as_deref())?;
    let mut cache = TerritoryCache::default();
    let mut out = Vec::new();
    for (row, owner_path) in rows {
        let territories = cache.branch(conn, &row.branch_id)?;
        let location = LatLon { lat: row.lat, lon: row.lon };
        if let Some((unit, area)) = territories.governing(&owner_path)
            && !area.contains(location)
        {
            out.push(OutsideTerritory { partner: Partner::try_from(row)?, owner_territory_unit_id: unit });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Ruling candidates out by the local estimate never changes the answer.
        #[test]
        fn the_nearest_are_those_an_exact_ranking_of_every_candidate_gives(
            seed in 0u64..1000, n in 0usize..400, limit in 1usize..60, radius_m in 10.0f64..5000.0
        ) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let center = LatLon { lat: 22.59, lon: 113.08 };
            let candidates: Vec<(String, f64, f64)> = (0..n)
                .map(|i| {
                    // Some exactly on the radius' edge and some at equal distances, to test ties.
                    let lat = center.lat + rng.random_range(-0.05..0.05);
                    let lon = center.lon + if i % 7 == 0 { 0.0 } else { rng.random_range(-0.05..0.05) };
                    (format!("{:04}", i), lat, lon)
                })
                .collect();
            let mut brute: Vec<(String, f64)> = candidates
                .iter()
                .map(|(id, lat, lon)| (id.clone(), distance_m(center, LatLon { lat: *lat, lon: *lon })))
                .filter(|(_, d)| *d <= radius_m)
                .collect();
            brute.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            brute.truncate(limit);
            proptest::prop_assert_eq!(nearest(center, radius_m, limit, candidates), brute);
        }
    }
}
