//! An in-memory index of points in buckets of a fixed tile grid: a box query visits only the
//! buckets it touches, and a write touches one bucket. Kept small on purpose — a million points
//! with a 36-byte payload fit in under 50 MB — because the map answers from it.

use std::collections::HashMap;

use super::mercator::{WorldBox, WorldXY};

/// Buckets are zoom-15 tiles (~1.2 km at the equator, ~1.1 km in southern China): a city view
/// touches about a thousand, a street view a dozen, a 1 km nearby search nine and a create's
/// 100 m duplicate check one to four. With zoom-12 buckets (~9 km) every small query scanned
/// whole town centres: a quarter of a partner create, most of a nearby search
/// (docs/PERFORMANCE.md, issue 22).
const BUCKET_SHIFT: u32 = 17;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<T> {
    pub at: WorldXY,
    pub item: T,
}

#[derive(Debug)]
pub struct PointIndex<T> {
    buckets: HashMap<u64, Vec<Entry<T>>>,
    len: usize,
}

impl<T> Default for PointIndex<T> {
    fn default() -> Self {
        PointIndex { buckets: HashMap::new(), len: 0 }
    }
}

fn bucket_of(p: WorldXY) -> (u32, u32) {
    (p.x >> BUCKET_SHIFT, p.y >> BUCKET_SHIFT)
}

fn key((bx, by): (u32, u32)) -> u64 {
    (bx as u64) << 32 | by as u64
}

impl<T> PointIndex<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn insert(&mut self, at: WorldXY, item: T) {
        self.buckets.entry(key(bucket_of(at))).or_default().push(Entry { at, item });
        self.len += 1;
    }

    /// Removes the first entry `is` matches, looking first in the bucket of `hint` (where the
    /// entry usually still is), then everywhere.
    pub fn remove(&mut self, hint: Option<WorldXY>, mut is: impl FnMut(&T) -> bool) -> Option<Entry<T>> {
        if let Some(bucket) = hint.and_then(|h| self.buckets.get_mut(&key(bucket_of(h))))
            && let Some(i) = bucket.iter().position(|e| is(&e.item))
        {
            self.len -= 1;
            return Some(bucket.swap_remove(i));
        }
        for bucket in self.buckets.values_mut() {
            if let Some(i) = bucket.iter().position(|e| is(&e.item)) {
                self.len -= 1;
                return Some(bucket.swap_remove(i));
            }
        }
        None
    }

    /// Keeps only the entries `keep` accepts, in one pass over everything.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry<T>) -> bool) {
        let mut len = 0;
        self.buckets.retain(|_, bucket| {
            bucket.retain(&mut keep);
            len += bucket.len();
            !bucket.is_empty()
        });
        self.len = len;
    }

    /// Every entry inside `b`, bounds included.
    pub fn within(&self, b: &WorldBox, mut visit: impl FnMut(&Entry<T>)) {
        let (lo, hi) = (bucket_of(b.min), bucket_of(b.max));
        let span = (hi.0 - lo.0 + 1) as u64 * (hi.1 - lo.1 + 1) as u64;
        let mut scan = |bucket: &Vec<Entry<T>>, whole: bool| {
            for e in bucket {
                if whole || b.contains(e.at) {
                    visit(e);
                }
            }
        };
        if span > self.buckets.len() as u64 {
            // A box wider than the data: walk the buckets there are, not the ones there could be.
            for (k, bucket) in &self.buckets {
                let (bx, by) = ((k >> 32) as u32, *k as u32);
                if (lo.0..=hi.0).contains(&bx) && (lo.1..=hi.1).contains(&by) {
                    scan(bucket, inner(b, (bx, by)));
                }
            }
            return;
        }
        for bx in lo.0..=hi.0 {
            for by in lo.1..=hi.1 {
                if let Some(bucket) = self.buckets.get(&key((bx, by))) {
                    scan(bucket, inner(b, (bx, by)));
                }
            }
        }
    }

    /// Orders each bucket along a Z-order curve, so a query's neighbouring points sit side by
    /// side in memory and a clustering pass touches its cells in runs rather than at random.
    /// Worth doing after a bulk load; later inserts append and stay correct, just less local.
    /// Also hands back the slack of growing vectors (up to half their memory).
    pub fn optimize(&mut self) {
        for bucket in self.buckets.values_mut() {
            bucket.sort_unstable_by_key(|e| z_order(e.at));
            bucket.shrink_to_fit();
        }
        self.buckets.shrink_to_fit();
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.buckets.values().flatten()
    }
}

/// The position along a Z-order (Morton) curve of a point's place inside its bucket.
fn z_order(p: WorldXY) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(p.x) | spread(p.y) << 1
}

/// Whether a whole bucket lies inside the box, so its points need no test.
fn inner(b: &WorldBox, (bx, by): (u32, u32)) -> bool {
    let (x0, y0) = ((bx as u64) << BUCKET_SHIFT, (by as u64) << BUCKET_SHIFT);
    let (x1, y1) = (x0 + (1 << BUCKET_SHIFT) - 1, y0 + (1 << BUCKET_SHIFT) - 1);
    b.min.x as u64 <= x0 && x1 <= b.max.x as u64 && b.min.y as u64 <= y0 && y1 <= b.max.y as u64
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A box query finds exactly what a scan of every point finds.
        #[test]
        fn within_matches_a_full_scan(
            points in prop::collection::vec((0u32..1 << 24, 0u32..1 << 24), 0..300),
            a in (0u32..1 << 24, 0u32..1 << 24), b in (0u32..1 << 24, 0u32..1 << 24),
        ) {
            let mut index = PointIndex::default();
            for (i, (x, y)) in points.iter().enumerate() {
                index.insert(WorldXY { x: x + (7 << 26), y: y + (7 << 26) }, i);
            }
            let off = 7 << 26;
            let bx = WorldBox {
                min: WorldXY { x: a.0.min(b.0) + off, y: a.1.min(b.1) + off },
                max: WorldXY { x: a.0.max(b.0) + off, y: a.1.max(b.1) + off },
            };
            let mut found = Vec::new();
            index.within(&bx, |e| found.push(e.item));
            found.sort();
            let expected: Vec<usize> = index.iter().filter(|e| bx.contains(e.at)).map(|e| e.item).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn remove_and_retain_keep_the_count() {
        let mut index = PointIndex::default();
        for i in 0..100u32 {
            index.insert(WorldXY { x: i << 22, y: i << 21 }, i);
        }
        assert_eq!(index.remove(Some(WorldXY { x: 5 << 22, y: 5 << 21 }), |v| *v == 5).map(|e| e.item), Some(5));
        assert_eq!(index.remove(None, |v| *v == 77).map(|e| e.item), Some(77));
        assert!(index.remove(None, |v| *v == 77).is_none());
        assert_eq!(index.len(), 98);
        index.optimize();
        assert_eq!(index.len(), 98);
        index.retain(|e| e.item % 2 == 0);
        assert_eq!(index.len(), 50);
        assert_eq!(index.iter().count(), 50);
    }
}
