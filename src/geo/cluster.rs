//! Grid clustering for maps. A cluster is a cell of a screen-sized grid at the zoom asked; the
//! cells of zoom `z + 1` split each cell of zoom `z` in four, so the zoom at which a cluster
//! comes apart follows from the bounds of its points alone, and the counts of a parent cell are
//! always the sum of its children's.

use std::collections::HashMap;

use super::LatLon;
use super::mercator::{WorldXY, unproject, unproject_f};

/// Map libraries draw 256-pixel tiles: zoom `z` spreads the world over `256 × 2^z` pixels.
const TILE_PX_LOG2: u32 = 8;

/// The deepest zoom a grid is built for (a few centimetres per pixel).
pub const MAX_ZOOM: u8 = 24;

/// A grid of cells `2^cell_px_log2` pixels wide at `zoom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub zoom: u8,
    pub cell_px_log2: u32,
}

impl Grid {
    pub fn new(zoom: u8, cell_px_log2: u32) -> Grid {
        Grid { zoom: zoom.min(MAX_ZOOM), cell_px_log2 }
    }

    /// World bits dropped to reach a cell index.
    pub fn shift(&self) -> u32 {
        (32 - TILE_PX_LOG2 + self.cell_px_log2).saturating_sub(self.zoom as u32).min(31)
    }

    pub fn cell(&self, p: WorldXY) -> (u32, u32) {
        (p.x >> self.shift(), p.y >> self.shift())
    }

    /// The geographic box a cell covers: `[west, south, east, north]`.
    pub fn cell_bounds(&self, (cx, cy): (u32, u32)) -> [f64; 4] {
        let size = (1u64 << self.shift()) as f64;
        let nw = unproject_f(cx as f64 * size, cy as f64 * size);
        let se = unproject_f((cx as f64 + 1.0) * size, (cy as f64 + 1.0) * size);
        [nw.lon, se.lat, se.lon, nw.lat]
    }

    /// The first zoom, above this grid's, at which two points fall into different cells; `None`
    /// when they never do (the same spot).
    pub fn split_zoom(&self, min: WorldXY, max: WorldXY) -> Option<u8> {
        let differing = (min.x ^ max.x) | (min.y ^ max.y);
        if differing == 0 {
            return None;
        }
        let top_bit = 31 - differing.leading_zeros();
        // Cells of zoom z' keep them apart once shift(z') <= top_bit.
        let z = (32 - TILE_PX_LOG2 + self.cell_px_log2).saturating_sub(top_bit);
        Some((z.max(self.zoom as u32 + 1)).min(u8::MAX as u32) as u8)
    }
}

/// What a cell has gathered: `K` kinds of point are counted apart (categories, say).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster<const K: usize, M> {
    pub cell: (u32, u32),
    pub count: u32,
    pub by_kind: [u32; K],
    /// The first point added, as the caller gave it: a cell of one point is shown as that point.
    pub first: M,
    pub first_at: WorldXY,
    sum_x: u64,
    sum_y: u64,
    pub min: WorldXY,
    pub max: WorldXY,
}

impl<const K: usize, M> Cluster<K, M> {
    /// The mean position of the points: where a map draws the cluster.
    pub fn center(&self) -> LatLon {
        let n = self.count.max(1) as f64;
        unproject_f(self.sum_x as f64 / n + 0.5, self.sum_y as f64 / n + 0.5)
    }

    /// `[west, south, east, north]` of the points themselves.
    pub fn extent(&self) -> [f64; 4] {
        let (nw, se) = (unproject(self.min), unproject(self.max));
        [nw.lon, se.lat, se.lon, nw.lat]
    }
}

/// Gathers points into the cells of one grid.
#[derive(Debug)]
pub struct Gather<const K: usize, M> {
    pub grid: Grid,
    clusters: Vec<Cluster<K, M>>,
    /// Cell → index in `clusters`: a dense table over the cells of a known box (a screen has at
    /// most a few tens of thousands), else a hash map.
    dense: Option<Dense>,
    sparse: HashMap<u64, u32>,
}

#[derive(Debug)]
struct Dense {
    x0: u32,
    y0: u32,
    width: u32,
    height: u32,
    slots: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;
/// The largest dense table worth allocating per request (1 MB of slots).
const MAX_DENSE_CELLS: u64 = 1 << 18;

impl<const K: usize, M> Gather<K, M> {
    pub fn new(grid: Grid) -> Gather<K, M> {
        Gather { grid, clusters: Vec::new(), dense: None, sparse: HashMap::new() }
    }

    /// For points inside `b` only: cells are found by index instead of by hashing.
    pub fn over(grid: Grid, b: &super::WorldBox) -> Gather<K, M> {
        let (lo, hi) = (grid.cell(b.min), grid.cell(b.max));
        let (width, height) = (hi.0 - lo.0 + 1, hi.1 - lo.1 + 1);
        let dense = (u64::from(width) * u64::from(height) <= MAX_DENSE_CELLS).then(|| Dense {
            x0: lo.0,
            y0: lo.1,
            width,
            height,
            slots: vec![EMPTY; (width * height) as usize],
        });
        Gather { grid, clusters: Vec::new(), dense, sparse: HashMap::new() }
    }

    /// Adds a point of kind `kind` (< K); `member` is what the caller knows it by.
    pub fn add(&mut self, p: WorldXY, kind: usize, member: M) {
        let cell = self.grid.cell(p);
        let next = self.clusters.len() as u32;
        let slot = match self.dense.as_mut() {
            Some(d) if (d.x0..d.x0 + d.width).contains(&cell.0) && (d.y0..d.y0 + d.height).contains(&cell.1) => {
                &mut d.slots[((cell.1 - d.y0) * d.width + (cell.0 - d.x0)) as usize]
            }
            _ => self.sparse.entry((cell.0 as u64) << 32 | cell.1 as u64).or_insert(EMPTY),
        };
        if *slot == EMPTY {
            *slot = next;
            self.clusters.push(Cluster {
                cell,
                count: 0,
                by_kind: [0; K],
                first: member,
                first_at: p,
                sum_x: 0,
                sum_y: 0,
                min: p,
                max: p,
            });
        }
        let c = &mut self.clusters[*slot as usize];
        c.count += 1;
        c.by_kind[kind.min(K - 1)] += 1;
        c.sum_x += p.x as u64;
        c.sum_y += p.y as u64;
        c.min = WorldXY { x: c.min.x.min(p.x), y: c.min.y.min(p.y) };
        c.max = WorldXY { x: c.max.x.max(p.x), y: c.max.y.max(p.y) };
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// The cells, biggest first (ties by position), so a capped answer keeps what matters most.
    pub fn into_clusters(self) -> Vec<Cluster<K, M>> {
        let mut all = self.clusters;
        all.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.cell.cmp(&b.cell)));
        all
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::geo::mercator::project;

    fn at(lat: f64, lon: f64) -> WorldXY {
        project(LatLon { lat, lon })
    }

    #[test]
    fn a_cell_is_sixty_four_pixels_at_its_zoom() {
        // At zoom 0 the world is 256 px: four 64-px cells per side.
        let g = Grid::new(0, 6);
        assert_eq!(g.cell(at(80.0, -179.0)), (0, 0));
        assert_eq!(g.cell(at(-80.0, 179.0)), (3, 3));
        let [w, s, e, n] = g.cell_bounds((0, 0));
        assert!((w + 180.0).abs() < 1e-9 && (e + 90.0).abs() < 1e-9);
        assert!(n > 85.0 && s > 0.0 && s < 67.0);
    }

    #[test]
    fn clusters_count_and_split() {
        let mut g: Gather<2, usize> = Gather::new(Grid::new(10, 6));
        g.add(at(22.60, 113.08), 0, 0);
        g.add(at(22.60, 113.0801), 1, 1);
        g.add(at(22.60, 113.0801), 1, 2);
        g.add(at(23.50, 114.00), 0, 3);
        let all = g.into_clusters();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].count, all[0].by_kind, all[0].first), (3, [1, 2], 0));
        let split = Grid::new(10, 6).split_zoom(all[0].min, all[0].max);
        // ~10 m apart: they part where a 64-px cell is under 10 m wide.
        assert!(split.is_some_and(|z| (18..=20).contains(&z)), "{split:?}");
        assert_eq!(Grid::new(10, 6).split_zoom(all[1].min, all[1].max), None);
    }

    proptest! {
        /// At the split zoom the points are in different cells; a zoom before, in one.
        #[test]
        fn the_split_zoom_is_exact(
            zoom in 0u8..20, lat in -60.0f64..60.0, lon in -170.0f64..170.0,
            dlat in 0.0f64..0.5, dlon in 0.0f64..0.5,
        ) {
            let g = Grid::new(zoom, 6);
            let a = at(lat, lon);
            let b = at(lat + dlat, lon + dlon);
            prop_assume!(g.cell(a) == g.cell(b));
            let (min, max) = (WorldXY { x: a.x.min(b.x), y: a.y.min(b.y) }, WorldXY { x: a.x.max(b.x), y: a.y.max(b.y) });
            match g.split_zoom(min, max) {
                None => prop_assert_eq!(a, b),
                Some(z) => {
                    prop_assert!(z > zoom);
                    let at_z = Grid::new(z, 6);
                    prop_assert_ne!(at_z.cell(a), at_z.cell(b));
                    let before = Grid::new(z - 1, 6);
                    prop_assert!(z - 1 == zoom || before.cell(a) == before.cell(b));
                }
            }
        }

        /// A dense table over a box and a hash map gather the same clusters.
        #[test]
        fn dense_and_sparse_agree(points in prop::collection::vec((22.0f64..23.0, 113.0f64..114.0), 1..200), zoom in 4u8..16) {
            let b = crate::geo::WorldBox::of(&crate::geo::BBox {
                min: LatLon { lat: 22.0, lon: 113.0 },
                max: LatLon { lat: 23.0, lon: 114.0 },
            });
            let mut dense: Gather<1, usize> = Gather::over(Grid::new(zoom, 6), &b);
            let mut sparse: Gather<1, usize> = Gather::new(Grid::new(zoom, 6));
            for (i, (lat, lon)) in points.iter().enumerate() {
                dense.add(at(*lat, *lon), 0, i);
                sparse.add(at(*lat, *lon), 0, i);
            }
            prop_assert_eq!(dense.into_clusters(), sparse.into_clusters());
        }

        /// A parent cell's count is the sum of its four children's.
        #[test]
        fn cells_nest(points in prop::collection::vec((22.0f64..23.0, 113.0f64..114.0), 1..200), zoom in 4u8..14) {
            let mut parent: Gather<1, usize> = Gather::new(Grid::new(zoom, 6));
            let mut child: Gather<1, usize> = Gather::new(Grid::new(zoom + 1, 6));
            for (i, (lat, lon)) in points.iter().enumerate() {
                parent.add(at(*lat, *lon), 0, i);
                child.add(at(*lat, *lon), 0, i);
            }
            let parents = parent.into_clusters();
            let children = child.into_clusters();
            for p in &parents {
                let sum: u32 = children.iter().filter(|c| (c.cell.0 >> 1, c.cell.1 >> 1) == p.cell).map(|c| c.count).sum();
                prop_assert_eq!(sum, p.count);
            }
        }
    }
}
