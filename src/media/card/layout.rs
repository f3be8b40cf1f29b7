//! The card's design: its size, palette and sections, and where each figure goes. No pixel is
//! touched here; every mark is a call to the painter, so the design reads top to bottom as the card
//! does: a red header with the project's name and the day, the day's totals against pace, the
//! stars of the day, week and month, the top five, a footer.
//!
//! Positions are fixed numbers on a fixed 1080×1440 canvas rather than a flowing layout: the card
//! has one shape, is read on phones at one size, and fixed bands are what the tests (and callers'
//! tests, through [`TITLE_BAND`] and [`RANKING_BAND`]) check for ink.

use super::figures::{finite, fmt_num};
use super::model::{Ranked, Showcase, Star, Total};
use super::paint::{Painter, Rgb, Style, mix};
use super::text::{Align, area};

pub const CARD_WIDTH: u32 = 1080;
/// Fixed size, 3:4.
pub const CARD_HEIGHT: u32 = 1440;
/// Rows (y range, top inclusive, bottom exclusive) where the title text is drawn, so callers' tests can
/// check that pixels there are not blank.
pub const TITLE_BAND: (u32, u32) = (92, 168);
/// y range (top inclusive, bottom exclusive) of the top-five table's rows.
pub const RANKING_BAND: (u32, u32) = (RANK_ROWS_TOP as u32, (RANK_ROWS_TOP + 5.0 * RANK_PITCH) as u32);

// ---------------------------------------------------------------------------------------------------------
// Geometry and palette

const W: f32 = CARD_WIDTH as f32;
/// The white panels' left and right edges, and their content's.
const PANEL_X0: f32 = 40.0;
const PANEL_X1: f32 = W - 40.0;
pub(super) const CX0: f32 = 76.0;
const CX1: f32 = W - 76.0;

const HEADER_H: f32 = 300.0;
const PROGRESS: (f32, f32) = (244.0, 784.0);
const STARS: (f32, f32) = (804.0, 1040.0);
const RANKING: (f32, f32) = (1060.0, 1394.0);
const RANK_ROWS_TOP: f32 = RANKING.0 + 74.0;
pub(super) const RANK_PITCH: f32 = 49.0;
const MAX_TOTALS: usize = 6;

pub(super) const BG: Rgb = [0xF2, 0xF3, 0xF5];
const WHITE: Rgb = [0xFF, 0xFF, 0xFF];
const INK: Rgb = [0x1F, 0x23, 0x28];
const MUTED: Rgb = [0x6B, 0x72, 0x80];
const FAINT: Rgb = [0x9A, 0xA0, 0xA6];
const RULE: Rgb = [0xEC, 0xEE, 0xF1];
const TRACK: Rgb = [0xE8, 0xEA, 0xEE];
const RED: Rgb = [0xC8, 0x1E, 0x2A];
const HEADER_TOP: Rgb = [0xCF, 0x22, 0x2E];
const HEADER_BOTTOM: Rgb = [0x7E, 0x0A, 0x16];
const GREEN: Rgb = [0x1E, 0x9E, 0x55];
const AMBER: Rgb = [0xE0, 0x8A, 0x00];
const BEHIND: Rgb = [0xD9, 0x36, 0x2B];
const GOLD: Rgb = [0xE2, 0xA5, 0x17];
const SILVER: Rgb = [0x98, 0xA3, 0xB0];
const BRONZE: Rgb = [0xC2, 0x7A, 0x4A];

const PERIODS: [&str; 3] = ["日之星", "周之星", "月之星"];
const PERIOD_COLOURS: [Rgb; 3] = [[0xE8, 0x59, 0x0C], [0x19, 0x71, 0xC2], [0xB7, 0x79, 0x1F]];

// ---------------------------------------------------------------------------------------------------------
// Sections

/// Draws the whole card on `p`, a CARD_WIDTH×CARD_HEIGHT canvas of [`BG`].
pub(super) fn draw(p: &mut Painter, card: &Showcase) {
    draw_header(p, card);
    draw_totals(p, &card.totals);
    draw_stars(p, &card.stars);
    draw_ranking(p, &card.top);
    p.text(&card.footer, Style::new(22.0, FAINT), area(0.0, 1398.0, W, 36.0), Align::Center);
}

fn draw_header(p: &mut Painter, card: &Showcase) {
    // Diagonal: lighter at the top left, deeper at the bottom right.
    p.gradient(HEADER_H, HEADER_TOP, HEADER_BOTTOM, (0.35, 0.65));
    // Soft rings for depth.
    p.circle(W - 90.0, 30.0, 190.0, WHITE, 0.07);
    p.circle(W - 230.0, HEADER_H - 10.0, 110.0, WHITE, 0.05);

    pill(p, "今日业绩晒单", Style::new(22.0, WHITE).bold(0.4), mix(HEADER_TOP, WHITE, 0.18), [60.0, 40.0, 36.0], W);

    let (band_top, band_bottom) = (TITLE_BAND.0 as f32, TITLE_BAND.1 as f32);
    let max_w = W - 120.0;
    let size = p.fit_size(&card.title, 60.0, 46.0, max_w);
    let title = Style::new(size, WHITE).bold(size / 40.0);
    p.text(&card.title, title, area(60.0, band_top, max_w, band_bottom - band_top), Align::Left);
    p.text(&card.subtitle, Style::new(28.0, WHITE).alpha(0.86), area(60.0, 174.0, max_w, 40.0), Align::Left);
}

fn draw_totals(p: &mut Painter, totals: &[Total]) {
    let (top, bottom) = PROGRESS;
    panel(p, top, bottom);
    heading(p, "今日进度", top);
    // Legend for the pace marker.
    let legend = Style::new(20.0, MUTED);
    let lw = p.width(legend.size, "时间进度");
    p.text("时间进度", legend, area(CX1 - lw, top + 30.0, lw, 36.0), Align::Right);
    let mx = CX1 - lw - 14.0;
    p.rrect([mx - 1.5, top + 38.0, mx + 1.5, top + 58.0], 1.5, INK, 0.85);

    let rows = &totals[..totals.len().min(MAX_TOTALS)];
    let (area_top, area_h) = (top + 84.0, bottom - top - 104.0);
    if rows.is_empty() {
        p.text("今日暂无数据", Style::new(30.0, FAINT), area(CX0, area_top, CX1 - CX0, area_h), Align::Center);
        return;
    }
    const ROW_H: f32 = 66.0;
    let pitch = (area_h / rows.len() as f32).min(112.0);
    let first = area_top + (area_h - pitch * rows.len() as f32) / 2.0 + (pitch - ROW_H) / 2.0;
    for (i, t) in rows.iter().enumerate() {
        let y = first + i as f32 * pitch;
        if i > 0 {
            let rule_y = (y - (pitch - ROW_H) / 2.0).round();
            p.rrect([CX0, rule_y - 0.5, CX1, rule_y + 0.5], 0.0, RULE, 1.0);
        }
        draw_total(p, t, y);
    }
}

fn draw_total(p: &mut Painter, t: &Total, y: f32) {
    let (today, cumulative, target, pace) = (finite(t.today), finite(t.cumulative), finite(t.target), finite(t.pace));
    let unit = if t.unit.is_empty() { String::new() } else { format!(" {}", t.unit) };

    let (state, colour) = if target <= 0.0 {
        ("无目标".to_string(), MUTED)
    } else if cumulative >= target {
        ("已达成".to_string(), GREEN)
    } else if cumulative >= pace {
        ("超进度".to_string(), GREEN)
    } else {
        let colour = if cumulative >= 0.9 * pace { AMBER } else { BEHIND };
        (format!("落后 {}{unit}", fmt_num(pace - cumulative)), colour)
    };

    // Line 1: label, today's pill; on the right, cumulative / target and the state.
    let label_w = p.text(&t.label, Style::new(30.0, INK).bold(0.6), area(CX0, y, 250.0, 38.0), Align::Left);
    let today_text =
        if today > 0.0 { format!("今日 +{}", fmt_num(today)) } else { format!("今日 {}", fmt_num(today)) };
    let today_x = CX0 + label_w + 14.0;
    let today_w = pill(p, &today_text, Style::new(22.0, RED), [0xFD, 0xEC, 0xEE], [today_x, y + 3.0, 32.0], 170.0);
    let state_style = Style::new(22.0, colour).bold(0.4);
    let state_w = pill_width(p, &state, state_style, 32.0, 200.0);
    pill(p, &state, state_style, mix(WHITE, colour, 0.12), [CX1 - state_w, y + 3.0, 32.0], 200.0);
    let nums_x0 = today_x + today_w + 16.0;
    let nums_x1 = CX1 - state_w - 16.0;
    let total = [
        (fmt_num(cumulative), Style::new(28.0, INK).bold(0.5)),
        (if target > 0.0 { format!(" / {}{unit}", fmt_num(target)) } else { unit.clone() }, Style::new(22.0, MUTED)),
    ];
    p.spans(&total, area(nums_x0, y, nums_x1 - nums_x0, 38.0), Align::Right);

    // Line 2: the bar (cumulative / target), the pace marker, the percentage.
    let (bx0, bx1, by0, by1) = (CX0, CX1 - 86.0, y + 48.0, y + 60.0);
    p.rrect([bx0, by0, bx1, by1], 6.0, TRACK, 1.0);
    let ratio = if target > 0.0 { (cumulative / target).clamp(0.0, 1.0) as f32 } else { 0.0 };
    if ratio > 0.0 {
        let fill_x1 = (bx0 + (bx1 - bx0) * ratio).max(bx0 + (by1 - by0));
        p.rrect([bx0, by0, fill_x1, by1], 6.0, colour, 1.0);
    }
    if target > 0.0 && pace > 0.0 {
        let mx = bx0 + (bx1 - bx0) * (pace / target).clamp(0.0, 1.0) as f32;
        p.rrect([mx - 1.5, y + 43.0, mx + 1.5, y + 65.0], 1.5, INK, 0.85);
    }
    let percent =
        if target > 0.0 { format!("{}%", fmt_num((cumulative / target * 100.0).round())) } else { "—".into() };
    p.text(&percent, Style::new(24.0, colour).bold(0.5), area(CX1 - 76.0, y + 40.0, 76.0, 28.0), Align::Right);
}

fn draw_stars(p: &mut Painter, stars: &[Star]) {
    let (top, bottom) = STARS;
    panel(p, top, bottom);
    heading(p, "明星榜", top);

    let mut slots: [Option<&Star>; 3] = [None; 3];
    let mut others = Vec::new();
    for star in stars {
        match PERIODS.iter().position(|period| *period == star.period.trim()) {
            Some(i) if slots[i].is_none() => slots[i] = Some(star),
            _ => others.push(star),
        }
    }
    let mut others = others.into_iter();
    for slot in slots.iter_mut().filter(|s| s.is_none()) {
        *slot = others.next();
    }

    let gap = 20.0;
    let tile_w = (CX1 - CX0 - 2.0 * gap) / 3.0;
    let (ty0, ty1) = (top + 76.0, bottom - 22.0);
    for (i, slot) in slots.iter().enumerate() {
        let x0 = CX0 + i as f32 * (tile_w + gap);
        let x1 = x0 + tile_w;
        let accent = PERIOD_COLOURS[i];
        match slot {
            Some(star) => {
                p.rrect([x0, ty0, x1, ty1], 16.0, mix(WHITE, accent, 0.08), 1.0);
                let period = if star.period.trim().is_empty() { PERIODS[i] } else { star.period.as_str() };
                let label = Style::new(22.0, accent).bold(0.4);
                let lw = p.width(label.size, period).min(tile_w - 80.0);
                let lx = x0 + (tile_w - lw - 30.0) / 2.0;
                p.star(lx + 11.0, ty0 + 28.0, 11.0, accent);
                p.text(period, label, area(lx + 30.0, ty0 + 10.0, tile_w - 80.0, 36.0), Align::Left);
                p.text(
                    &star.name,
                    Style::new(34.0, INK).bold(0.7),
                    area(x0 + 16.0, ty0 + 46.0, tile_w - 32.0, 46.0),
                    Align::Center,
                );
                let points = [
                    (fmt_num(finite(star.points)), Style::new(28.0, accent).bold(0.5)),
                    (" 分".into(), Style::new(20.0, MUTED)),
                ];
                p.spans(&points, area(x0 + 16.0, ty0 + 94.0, tile_w - 32.0, 36.0), Align::Center);
            }
            None => {
                p.rrect([x0, ty0, x1, ty1], 16.0, [0xF7, 0xF8, 0xFA], 1.0);
                let label = Style::new(22.0, FAINT).bold(0.4);
                let lw = p.width(label.size, PERIODS[i]);
                let lx = x0 + (tile_w - lw - 30.0) / 2.0;
                p.star(lx + 11.0, ty0 + 28.0, 11.0, [0xC4, 0xC9, 0xD0]);
                p.text(PERIODS[i], label, area(lx + 30.0, ty0 + 10.0, lw + 1.0, 36.0), Align::Left);
                p.text(
                    "虚位以待",
                    Style::new(30.0, FAINT),
                    area(x0 + 16.0, ty0 + 58.0, tile_w - 32.0, 46.0),
                    Align::Center,
                );
            }
        }
    }
}

fn draw_ranking(p: &mut Painter, top: &[Ranked]) {
    let (panel_top, panel_bottom) = RANKING;
    panel(p, panel_top, panel_bottom);
    heading(p, "排行榜 TOP 5", panel_top);
    let rows = &top[..top.len().min(5)];
    if rows.is_empty() {
        let h = 5.0 * RANK_PITCH;
        p.text("今日暂无数据", Style::new(30.0, FAINT), area(CX0, RANK_ROWS_TOP, CX1 - CX0, h), Align::Center);
        return;
    }
    let best = rows.iter().map(|r| finite(r.points)).fold(0.0_f64, f64::max);
    let (bar_x0, bar_x1, points_x0) = (CX0 + 330.0, CX1 - 190.0, CX1 - 170.0);
    for (i, r) in rows.iter().enumerate() {
        let y = RANK_ROWS_TOP + i as f32 * RANK_PITCH;
        let mid = y + RANK_PITCH / 2.0;
        if i % 2 == 0 {
            p.rrect([CX0 - 14.0, y + 2.0, CX1 + 14.0, y + RANK_PITCH - 2.0], 10.0, [0xF7, 0xF8, 0xFA], 1.0);
        }
        let medal = match r.rank {
            1 => Some(GOLD),
            2 => Some(SILVER),
            3 => Some(BRONZE),
            _ => None,
        };
        let (badge_bg, badge_fg) = match medal {
            Some(c) => (c, WHITE),
            None => ([0xE6, 0xE8, 0xEC], MUTED),
        };
        let (bx, br) = (CX0 + 20.0, 17.0);
        p.circle(bx, mid, br, badge_bg, 1.0);
        let rank = r.rank.to_string();
        p.text(&rank, Style::new(22.0, badge_fg).bold(0.6), area(bx - br, mid - 18.0, 2.0 * br, 36.0), Align::Center);

        let name = if medal.is_some() { Style::new(28.0, INK).bold(0.5) } else { Style::new(28.0, INK) };
        p.text(&r.name, name, area(CX0 + 56.0, mid - 20.0, bar_x0 - CX0 - 76.0, 40.0), Align::Left);

        p.rrect([bar_x0, mid - 4.0, bar_x1, mid + 4.0], 4.0, [0xEC, 0xEE, 0xF1], 1.0);
        let points = finite(r.points);
        if best > 0.0 && points > 0.0 {
            let x1 = bar_x0 + (bar_x1 - bar_x0) * (points / best).clamp(0.0, 1.0) as f32;
            p.rrect(
                [bar_x0, mid - 4.0, x1.max(bar_x0 + 8.0), mid + 4.0],
                4.0,
                medal.unwrap_or([0xB8, 0xBF, 0xC8]),
                1.0,
            );
        }
        let spans = [(fmt_num(points), Style::new(28.0, INK).bold(0.5)), (" 分".into(), Style::new(20.0, MUTED))];
        p.spans(&spans, area(points_x0, mid - 20.0, CX1 - points_x0, 40.0), Align::Right);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The pieces the sections share

/// A white panel with a soft shadow, across the card.
fn panel(p: &mut Painter, top: f32, bottom: f32) {
    let rect = [PANEL_X0, top, PANEL_X1, bottom];
    p.shadow(rect, 24.0, 16.0, 6.0, [0x1A, 0x20, 0x2C], 0.10);
    p.rrect(rect, 24.0, WHITE, 1.0);
}

/// A section's title with a red accent bar before it.
fn heading(p: &mut Painter, title: &str, top: f32) {
    p.rrect([CX0, top + 32.0, CX0 + 6.0, top + 62.0], 3.0, RED, 1.0);
    p.text(title, Style::new(32.0, INK).bold(0.7), area(CX0 + 18.0, top + 26.0, 600.0, 42.0), Align::Left);
}

/// Text on a rounded "pill" of height h from (x, y), the text cut at `max_text`. Returns the pill's width.
fn pill(p: &mut Painter, text: &str, style: Style, bg: Rgb, [x, y, h]: [f32; 3], max_text: f32) -> f32 {
    let w = pill_width(p, text, style, h, max_text);
    let pad = (h * 0.4).round();
    p.rrect([x, y, x + w, y + h], h / 2.0, bg, 1.0);
    p.text(text, style, area(x + pad, y, w - 2.0 * pad + 0.5, h), Align::Left);
    w
}

fn pill_width(p: &Painter, text: &str, style: Style, h: f32, max_text: f32) -> f32 {
    p.width(style.size, text).min(max_text) + 2.0 * (h * 0.4).round()
}
