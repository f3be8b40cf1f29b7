//! The daily showcase card (业绩晒单): a full card (six totals, three stars, a top five) drawn and
//! encoded as PNG, as an HTTP handler would for each request.
//!
//!     cargo bench --bench card
//!
//! Also the drawing alone (the rest is the PNG encoder) and what parsing the embedded font costs, which
//! `CardFont` pays once at start-up rather than per card.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use outreach::media::card::{CardFont, Ranked, Showcase, Star, Total, render, render_image};

fn demo() -> Showcase {
    let total = |label: &str, today, cumulative, target, pace, unit: &str| Total {
        label: label.into(),
        today,
        cumulative,
        target,
        pace,
        unit: unit.into(),
    };
    let star = |period: &str, name: &str, points| Star { period: period.into(), name: name.into(), points };
    let ranked = |rank, name: &str, points| Ranked { rank, name: name.into(), points };
    Showcase {
        title: "2026冬季社区客群拓展".into(),
        subtitle: "2026年11月29日 · 第12天 / 共61天".into(),
        totals: vec![
            total("有效拜访", 12.0, 186.0, 800.0, 157.0, "户"),
            total("新开户", 5.0, 41.0, 240.0, 47.0, "户"),
            total("商户联盟签约", 2.0, 18.0, 60.0, 11.8, "家"),
            total("社区活动", 1.0, 3.0, 20.0, 3.9, "场"),
            total("存款新增", 86.5, 1234.5, 6000.0, 1180.3, "万元"),
            total("信用卡进件", 0.0, 22.0, 300.0, 59.0, "张"),
        ],
        stars: vec![star("日之星", "王晓明", 86.0), star("周之星", "李思琪", 412.5), star("月之星", "陈建国", 1388.0)],
        top: vec![
            ranked(1, "王晓明", 86.0),
            ranked(2, "李思琪", 74.5),
            ranked(3, "陈建国", 61.0),
            ranked(4, "赵雅婷", 48.0),
            ranked(5, "欧阳明月", 32.0),
        ],
        footer: "城东支行 · Outreach".into(),
    }
}

fn card(c: &mut Criterion) {
    let font = CardFont::embedded().unwrap();
    let card = demo();
    println!("full card: {} bytes of PNG", render(&font, &card).unwrap().len());
    let mut group = c.benchmark_group("showcase card 1080×1440");
    group.bench_function("render (draw + PNG)", |b| b.iter(|| render(&font, black_box(&card)).unwrap()));
    group.bench_function("draw only", |b| b.iter(|| render_image(&font, black_box(&card))));
    group.bench_function("parse the embedded font", |b| b.iter(|| CardFont::embedded().unwrap()));
    group.finish();
}

criterion_group!(benches, card);
criterion_main!(benches);
