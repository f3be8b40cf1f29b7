//! What the card shows: the figures a caller hands over, and nothing about how they are drawn.
//!
//! Kept apart from the drawing so that the domain (`domain::projects::showcase`) can fill a
//! [`Showcase`] without knowing a pixel, and so that the layout can change without touching the
//! figures' meaning. Every text is cut to fit its box when drawn; numbers need not be rounded.

/// What the card shows. Every text is cut to fit its box; numbers need not be rounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Showcase {
    /// The project's name, e.g. "2026冬季社区客群拓展".
    pub title: String,
    /// E.g. "2026年11月29日 · 第12天 / 共61天".
    pub subtitle: String,
    /// The day's totals against pace, up to 6 (more are ignored).
    pub totals: Vec<Total>,
    /// Star of the day / week / month (0–3 entries). A star whose period is "日之星", "周之星" or "月之星"
    /// takes that slot; others fill the free slots in order; a slot left empty reads "虚位以待".
    pub stars: Vec<Star>,
    /// Top five, in rank order (0–5 entries; more are ignored).
    pub top: Vec<Ranked>,
    /// E.g. "城东支行 · Outreach".
    pub footer: String,
}

/// One of the day's totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Total {
    /// E.g. "有效拜访".
    pub label: String,
    pub today: f64,
    pub cumulative: f64,
    pub target: f64,
    /// Where `cumulative` should be by today.
    pub pace: f64,
    /// "户", "次", "万元"; may be empty.
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Star {
    /// "日之星", "周之星" or "月之星" (any other text fills a free slot).
    pub period: String,
    pub name: String,
    pub points: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranked {
    pub rank: u32,
    pub name: String,
    pub points: f64,
}

/// A full card for the tests of every file here: four totals, two of the three stars, and a
/// ranking one longer than the card shows.
#[cfg(test)]
pub(super) fn demo() -> Showcase {
    let total = |label: &str, today, cumulative, target, pace, unit: &str| Total {
        label: label.into(),
        today,
        cumulative,
        target,
        pace,
        unit: unit.into(),
    };
    let ranked = |rank, name: &str, points| Ranked { rank, name: name.into(), points };
    Showcase {
        title: "2026冬季社区客群拓展".into(),
        subtitle: "2026年11月29日 · 第12天 / 共61天".into(),
        totals: vec![
            total("有效拜访", 12.0, 186.0, 800.0, 157.0, "户"),
            total("新开户", 5.0, 41.0, 240.0, 47.0, "户"),
            total("商户联盟签约", 2.0, 18.0, 60.0, 11.8, "家"),
            total("存款新增", 86.5, 1234.5, 6000.0, 1180.3, "万元"),
        ],
        stars: vec![
            Star { period: "日之星".into(), name: "王晓明".into(), points: 86.0 },
            Star { period: "月之星".into(), name: "陈建国".into(), points: 1388.0 },
        ],
        top: vec![
            ranked(1, "王晓明", 86.0),
            ranked(2, "李思琪", 74.5),
            ranked(3, "陈建国", 61.0),
            ranked(4, "赵雅婷", 48.0),
            ranked(5, "欧阳明月", 32.0),
            ranked(6, "不该出现", 1.0),
        ],
        footer: "城东支行 · Outreach".into(),
    }
}
