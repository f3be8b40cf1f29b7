//! The daily showcase card (业绩晒单): a project's day on one 1080×1440 PNG, ready to post to a WeChat
//! work group.
//!
//! Managers paste a picture, not a link, into the group chat: a picture is read on every phone without
//! logging in, and it stays in the chat's history as it was that day. So the server draws the card itself:
//! a red header with the project's name and the day, the day's totals against the pace the project
//! should be at, the stars of the day, week and month, the top five and a footer.
//!
//! A pure library: no HTTP, no SQL, no I/O. Text is laid out with `ab_glyph` (advances, kerning, the
//! font's ascent and descent) and its anti-aliased coverage is alpha-blended onto an `image` canvas; a CJK
//! font is needed, hence the vendored WenQuanYi Micro Hei ([`CardFont::embedded`]), parsed once and shared.
//! Text longer than its box is cut with "…" and is clipped to the box, so it never runs into its
//! neighbours. The same input gives the same bytes.

use std::io::Cursor;

use ab_glyph::{Font, FontArc, FontRef, FontVec, GlyphId, OutlinedGlyph, PxScale, ScaleFont, point};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};

/// WenQuanYi Micro Hei (a TrueType collection; face 0 is "WenQuanYi Micro Hei").
static EMBEDDED_FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

/// A loaded font, cheap to clone (an `Arc` inside), shared by every request.
#[derive(Clone, Debug)]
pub struct CardFont {
    font: FontArc,
}

impl CardFont {
    /// The font vendored in the binary (WenQuanYi Micro Hei, face 0), borrowed from the binary's own
    /// bytes rather than copied. An error only if those bytes were replaced by something unreadable.
    pub fn embedded() -> Result<CardFont, CardError> {
        let font = FontRef::try_from_slice_and_index(EMBEDDED_FONT, 0)
            .map_err(|e| CardError::Font(format!("the embedded font: {e}")))?;
        Ok(CardFont { font: FontArc::new(font) })
    }

    /// A font file chosen by configuration (TTF, OTF or TTC; face 0).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<CardFont, CardError> {
        let font = FontVec::try_from_vec_and_index(bytes, 0).map_err(|e| CardError::Font(e.to_string()))?;
        Ok(CardFont { font: FontArc::new(font) })
    }

    /// Whether the font has a glyph for every character of `text` (control characters aside), so that
    /// configuration can refuse a Latin-only font at start-up.
    pub fn covers(&self, text: &str) -> bool {
        text.chars().filter(|c| !c.is_control()).all(|c| self.font.glyph_id(c) != GlyphId(0))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the card's font cannot be used: {0}")]
    Font(String),
    #[error("the card cannot be encoded as PNG: {0}")]
    Encode(String),
}

pub const CARD_WIDTH: u32 = 1080;
/// Fixed size, 3:4.
pub const CARD_HEIGHT: u32 = 1440;
/// Rows (y range, top inclusive, bottom exclusive) where the title text is drawn, so callers' tests can
/// check that pixels there are not blank.
pub const TITLE_BAND: (u32, u32) = (92, 168);
/// y range (top inclusive, bottom exclusive) of the top-five table's rows.
pub const RANKING_BAND: (u32, u32) = (RANK_ROWS_TOP as u32, (RANK_ROWS_TOP + 5.0 * RANK_PITCH) as u32);

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

/// Renders the card as PNG bytes (RGB, 8 bits, fast deflate: about 300 KB for a full card).
pub fn render(font: &CardFont, card: &Showcase) -> Result<Vec<u8>, CardError> {
    let img = render_image(font, card);
    let mut out = Cursor::new(Vec::with_capacity(256 * 1024));
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .map_err(|e| CardError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Draws the card on a CARD_WIDTH×CARD_HEIGHT canvas, for a caller that wants another encoding.
pub fn render_image(font: &CardFont, card: &Showcase) -> RgbImage {
    let mut p = Painter { img: RgbImage::from_pixel(CARD_WIDTH, CARD_HEIGHT, image::Rgb(BG)), font: &font.font };
    draw_header(&mut p, card);
    draw_totals(&mut p, &card.totals);
    draw_stars(&mut p, &card.stars);
    draw_ranking(&mut p, &card.top);
    p.text(&card.footer, Style::new(22.0, FAINT), area(0.0, 1398.0, W, 36.0), Align::Center);
    p.img
}

// ---------------------------------------------------------------------------------------------------------
// Layout and palette

type Rgb = [u8; 3];

const W: f32 = CARD_WIDTH as f32;
const H: f32 = CARD_HEIGHT as f32;
/// The white panels' left and right edges, and their content's.
const PANEL_X0: f32 = 40.0;
const PANEL_X1: f32 = W - 40.0;
const CX0: f32 = 76.0;
const CX1: f32 = W - 76.0;

const HEADER_H: f32 = 300.0;
const PROGRESS: (f32, f32) = (244.0, 784.0);
const STARS: (f32, f32) = (804.0, 1040.0);
const RANKING: (f32, f32) = (1060.0, 1394.0);
const RANK_ROWS_TOP: f32 = RANKING.0 + 74.0;
const RANK_PITCH: f32 = 49.0;
const MAX_TOTALS: usize = 6;

const BG: Rgb = [0xF2, 0xF3, 0xF5];
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

fn draw_header(p: &mut Painter, card: &Showcase) {
    let row_len = CARD_WIDTH as usize * 3;
    for (y, row) in p.img.chunks_exact_mut(row_len).take(HEADER_H as usize).enumerate() {
        for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
            // Diagonal: lighter at the top left, deeper at the bottom right.
            let t = (0.35 * x as f32 / W + 0.65 * y as f32 / HEADER_H).clamp(0.0, 1.0);
            pixel.copy_from_slice(&mix(HEADER_TOP, HEADER_BOTTOM, t));
        }
    }
    // Soft rings for depth.
    p.circle(W - 90.0, 30.0, 190.0, WHITE, 0.07);
    p.circle(W - 230.0, HEADER_H - 10.0, 110.0, WHITE, 0.05);

    p.pill("今日业绩晒单", Style::new(22.0, WHITE).bold(0.4), mix(HEADER_TOP, WHITE, 0.18), [60.0, 40.0, 36.0], W);

    let (band_top, band_bottom) = (TITLE_BAND.0 as f32, TITLE_BAND.1 as f32);
    let max_w = W - 120.0;
    let size = p.fit_size(&card.title, 60.0, 46.0, max_w);
    let title = Style::new(size, WHITE).bold(size / 40.0);
    p.text(&card.title, title, area(60.0, band_top, max_w, band_bottom - band_top), Align::Left);
    p.text(&card.subtitle, Style::new(28.0, WHITE).alpha(0.86), area(60.0, 174.0, max_w, 40.0), Align::Left);
}

fn draw_totals(p: &mut Painter, totals: &[Total]) {
    let (top, bottom) = PROGRESS;
    p.panel(top, bottom);
    p.heading("今日进度", top);
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
    let today_w = p.pill(&today_text, Style::new(22.0, RED), [0xFD, 0xEC, 0xEE], [today_x, y + 3.0, 32.0], 170.0);
    let state_style = Style::new(22.0, colour).bold(0.4);
    let state_w = p.pill_width(&state, state_style, 32.0, 200.0);
    p.pill(&state, state_style, mix(WHITE, colour, 0.12), [CX1 - state_w, y + 3.0, 32.0], 200.0);
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
    p.panel(top, bottom);
    p.heading("明星榜", top);

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
    p.panel(panel_top, panel_bottom);
    p.heading("排行榜 TOP 5", panel_top);
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
// Numbers

/// Replaces NaN and infinities by 0 so that no geometry is computed from them.
fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// An integer without decimals, anything else with one, thousands grouped: "1,234", "12.5", "-3".
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let tenths = (v * 10.0).round();
    let negative = tenths < 0.0;
    let tenths = tenths.abs();
    let whole = (tenths / 10.0).trunc();
    let decimal = (tenths - whole * 10.0) as u8;
    let digits = (whole as u64).to_string();
    let mut out = String::with_capacity(digits.len() + 6);
    if negative {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    if decimal != 0 {
        out.push('.');
        out.push(char::from(b'0' + decimal.min(9)));
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Drawing

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    // `+ 0.5` then a saturating cast rounds without a call to `roundf`, which the baseline x86-64 lacks.
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t + 0.5) as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// A text box: left, top, width, height.
#[derive(Clone, Copy)]
struct Area {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

const fn area(x: f32, y: f32, w: f32, h: f32) -> Area {
    Area { x, y, w, h }
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy)]
struct Style {
    /// Em size in pixels (a CJK ideograph is about this wide).
    size: f32,
    colour: Rgb,
    alpha: f32,
    /// Fake bold: how many pixels the strokes are widened by.
    bold: f32,
}

impl Style {
    fn new(size: f32, colour: Rgb) -> Style {
        Style { size, colour, alpha: 1.0, bold: 0.0 }
    }
    fn bold(self, bold: f32) -> Style {
        Style { bold, ..self }
    }
    fn alpha(self, alpha: f32) -> Style {
        Style { alpha, ..self }
    }
}

/// A glyph placed on a line: its id, its pen position and its advance.
#[derive(Clone, Copy)]
struct Placed {
    id: GlyphId,
    x: f32,
    advance: f32,
}

struct Shaped {
    glyphs: Vec<Placed>,
    width: f32,
}

struct Painter<'f> {
    img: RgbImage,
    font: &'f FontArc,
}

impl Painter<'_> {
    /// The scale at which an em is `size` pixels (`PxScale` is the ascent-to-descent height).
    fn scale(&self, size: f32) -> PxScale {
        let upem = self.font.units_per_em().unwrap_or(1000.0);
        let height = self.font.height_unscaled();
        let factor = if upem > 0.0 && height > 0.0 { height / upem } else { 1.0 };
        PxScale::from(size * factor)
    }

    fn shape(&self, size: f32, text: &str) -> Shaped {
        let font = self.font.as_scaled(self.scale(size));
        let mut glyphs = Vec::with_capacity(text.len());
        let mut x = 0.0;
        let mut previous = None;
        for c in text.chars().filter(|c| !c.is_control()) {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                x += font.kern(previous, id);
            }
            let advance = font.h_advance(id);
            glyphs.push(Placed { id, x, advance });
            x += advance;
            previous = Some(id);
        }
        Shaped { glyphs, width: x }
    }

    fn width(&self, size: f32, text: &str) -> f32 {
        self.shape(size, text).width
    }

    /// `text` shaped and, when wider than `max_w`, cut to fit with "…" after it.
    fn fit(&self, size: f32, text: &str, max_w: f32) -> Shaped {
        let mut shaped = self.shape(size, text);
        if shaped.width <= max_w {
            return shaped;
        }
        let ellipsis = if self.font.glyph_id('…') != GlyphId(0) { "…" } else { "..." };
        let tail = self.shape(size, ellipsis);
        let room = max_w - tail.width;
        let mut keep = shaped.glyphs.iter().take_while(|g| g.x + g.advance <= room).count();
        let space = self.font.glyph_id(' ');
        while keep > 0 && shaped.glyphs[keep - 1].id == space {
            keep -= 1;
        }
        if room < 0.0 {
            keep = 0;
        }
        shaped.glyphs.truncate(keep);
        let x = shaped.glyphs.last().map_or(0.0, |g| g.x + g.advance);
        if tail.width <= max_w {
            shaped.glyphs.extend(tail.glyphs.iter().map(|g| Placed { x: x + g.x, ..*g }));
            shaped.width = x + tail.width;
        } else {
            shaped.width = x;
        }
        shaped
    }

    /// The largest size from `max` down to `min` at which `text` fits `max_w` (else `min`).
    fn fit_size(&self, text: &str, max: f32, min: f32, max_w: f32) -> f32 {
        let mut size = max;
        while size > min && self.width(size, text) > max_w {
            size -= 2.0;
        }
        size.max(min)
    }

    /// The baseline that centres a line of `size` in the box from `y` of height `h`.
    fn baseline(&self, size: f32, y: f32, h: f32) -> f32 {
        let font = self.font.as_scaled(self.scale(size));
        let (ascent, descent) = (font.ascent(), font.descent());
        (y + (h - (ascent - descent)) / 2.0 + ascent).round()
    }

    /// Draws `text` in the box (x, y, w, h), vertically centred, cut with "…" and clipped to the box.
    /// Returns the width drawn.
    fn text(&mut self, text: &str, style: Style, area: Area, align: Align) -> f32 {
        self.spans(&[(text, style)], area, align)
    }

    /// Draws runs of text in different styles on one baseline in the box (x, y, w, h). If they do not fit,
    /// they start at the box's left and the run that overflows is cut with "…". Returns the width drawn.
    fn spans<S: AsRef<str>>(&mut self, spans: &[(S, Style)], Area { x, y, w, h }: Area, align: Align) -> f32 {
        if w <= 0.0 {
            return 0.0;
        }
        let largest = spans.iter().map(|(_, s)| s.size).fold(0.0, f32::max);
        let baseline = self.baseline(largest, y, h);
        let shaped: Vec<Shaped> = spans.iter().map(|(t, s)| self.shape(s.size, t.as_ref())).collect();
        let total: f32 = shaped.iter().map(|s| s.width).sum();
        let start = if total > w {
            x
        } else {
            match align {
                Align::Left => x,
                Align::Center => x + (w - total) / 2.0,
                Align::Right => x + w - total,
            }
        };
        let mut pen = start;
        let clip = (x, x + w);
        for ((text, style), line) in spans.iter().zip(shaped) {
            let room = x + w - pen;
            let cut = line.width > room;
            let line = if cut { self.fit(style.size, text.as_ref(), room) } else { line };
            self.draw_line(&line, *style, pen.round(), baseline, clip);
            pen += line.width;
            if cut {
                break;
            }
        }
        (pen - start).clamp(0.0, w)
    }

    /// Rasterises a shaped line into one coverage mask, widens it for bold, and blends it in, clipped
    /// horizontally to `clip`.
    fn draw_line(&mut self, line: &Shaped, style: Style, x: f32, baseline: f32, clip: (f32, f32)) {
        let scale = self.scale(style.size);
        let outlined: Vec<OutlinedGlyph> = line
            .glyphs
            .iter()
            .filter_map(|g| self.font.outline_glyph(g.id.with_scale_and_position(scale, point(x + g.x, baseline))))
            .collect();
        let Some(first) = outlined.first() else { return };
        let mut bounds = first.px_bounds();
        for g in &outlined[1..] {
            let b = g.px_bounds();
            bounds.min.x = bounds.min.x.min(b.min.x);
            bounds.min.y = bounds.min.y.min(b.min.y);
            bounds.max.x = bounds.max.x.max(b.max.x);
            bounds.max.y = bounds.max.y.max(b.max.y);
        }
        let pad = style.bold.max(0.0).ceil() as usize;
        let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
        let w = (bounds.max.x - bounds.min.x) as usize + pad;
        let h = (bounds.max.y - bounds.min.y) as usize + pad;
        let mut mask = vec![0.0_f32; w * h];
        for g in &outlined {
            let b = g.px_bounds();
            let (ox, oy) = ((b.min.x as i32 - x0) as usize, (b.min.y as i32 - y0) as usize);
            g.draw(|gx, gy, c| {
                let i = (oy + gy as usize) * w + ox + gx as usize;
                if let Some(m) = mask.get_mut(i) {
                    *m = (*m + c).min(1.0);
                }
            });
        }
        if style.bold > 0.0 {
            dilate(&mut mask, w, h, style.bold, 1, w);
            dilate(&mut mask, w, h, style.bold * 0.5, w, h);
        }
        let (cx0, cx1) = (clip.0.floor().max(0.0) as i32, clip.1.ceil().min(W) as i32);
        for my in 0..h {
            let py = y0 + my as i32;
            if py < 0 || py >= CARD_HEIGHT as i32 {
                continue;
            }
            for mx in 0..w {
                let px = x0 + mx as i32;
                let a = mask[my * w + mx];
                if a > 0.0 && px >= cx0 && px < cx1 {
                    self.blend(px as u32, py as u32, style.colour, a * style.alpha);
                }
            }
        }
    }

    fn blend(&mut self, x: u32, y: u32, colour: Rgb, alpha: f32) {
        let i = (y as usize * CARD_WIDTH as usize + x as usize) * 3;
        if let Some(pixel) = self.img.get_mut(i..i + 3) {
            let a = alpha.clamp(0.0, 1.0);
            for (p, c) in pixel.iter_mut().zip(colour) {
                *p = (*p as f32 + (c as f32 - *p as f32) * a + 0.5) as u8;
            }
        }
    }

    /// Blends `colour` into the pixels of the box (x0, y0)–(x1, y1) with the coverage `f(pixel centre)`.
    /// The pixels that `interior`'s rounded rectangle covers fully are painted without calling `f` or,
    /// if it is not to be painted (a shadow under a panel drawn next), skipped.
    fn fill(
        &mut self,
        [x0, y0, x1, y1]: [f32; 4],
        interior: Option<Interior>,
        colour: Rgb,
        alpha: f32,
        f: impl Fn(f32, f32) -> f32,
    ) {
        let (xa, xb) = (x0.floor().clamp(0.0, W) as u32, x1.ceil().clamp(0.0, W) as u32);
        let (ya, yb) = (y0.floor().clamp(0.0, H) as u32, y1.ceil().clamp(0.0, H) as u32);
        for y in ya..yb {
            let (sa, sb) = match interior {
                Some(inner) => {
                    let (a, b) = inner.span(y);
                    let (a, b) = (a.clamp(xa, xb), b.clamp(xa, xb));
                    if a < b { (a, b) } else { (xb, xb) }
                }
                None => (xb, xb),
            };
            for x in (xa..sa).chain(sb..xb) {
                let c = f(x as f32 + 0.5, y as f32 + 0.5);
                if c > 0.0 {
                    self.blend(x, y, colour, c * alpha);
                }
            }
            if interior.is_some_and(|inner| inner.paint) && sa < sb {
                let row = y as usize * CARD_WIDTH as usize * 3;
                if alpha >= 1.0 {
                    if let Some(run) = self.img.get_mut(row + sa as usize * 3..row + sb as usize * 3) {
                        for pixel in run.chunks_exact_mut(3) {
                            pixel.copy_from_slice(&colour);
                        }
                    }
                } else {
                    for x in sa..sb {
                        self.blend(x, y, colour, alpha);
                    }
                }
            }
        }
    }

    /// An anti-aliased rounded rectangle.
    fn rrect(&mut self, [x0, y0, x1, y1]: [f32; 4], r: f32, colour: Rgb, alpha: f32) {
        let (cx, cy, hw, hh) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0, (x1 - x0) / 2.0, (y1 - y0) / 2.0);
        let r = r.min(hw).min(hh).max(0.0);
        let interior = Interior { rect: [x0, y0, x1, y1], r, paint: true };
        self.fill([x0, y0, x1, y1], Some(interior), colour, alpha, |x, y| {
            (0.5 - rounded_box(x - cx, y - cy, hw, hh, r)).clamp(0.0, 1.0)
        });
    }

    fn circle(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb, alpha: f32) {
        // The square inscribed in the circle is covered fully.
        let s = r * 0.7;
        let interior = Interior { rect: [cx - s, cy - s, cx + s, cy + s], r: 0.0, paint: true };
        self.fill([cx - r, cy - r, cx + r, cy + r], Some(interior), colour, alpha, |x, y| {
            (r + 0.5 - ((x - cx) * (x - cx) + (y - cy) * (y - cy)).sqrt()).clamp(0.0, 1.0)
        });
    }

    /// A white panel with a soft shadow, across the card.
    fn panel(&mut self, top: f32, bottom: f32) {
        let (x0, x1, r, blur, drop) = (PANEL_X0, PANEL_X1, 24.0, 16.0, 6.0);
        let (cx, cy, hw, hh) = ((x0 + x1) / 2.0, (top + bottom) / 2.0 + drop, (x1 - x0) / 2.0, (bottom - top) / 2.0);
        let hidden = Interior { rect: [x0, top, x1, bottom], r, paint: false };
        let bbox = [x0 - blur, top - blur + drop, x1 + blur, bottom + blur + drop];
        self.fill(bbox, Some(hidden), [0x1A, 0x20, 0x2C], 0.10, |x, y| {
            let t = ((blur - rounded_box(x - cx, y - cy, hw, hh, r)) / (2.0 * blur)).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        });
        self.rrect([x0, top, x1, bottom], r, WHITE, 1.0);
    }

    /// A section's title with a red accent bar before it.
    fn heading(&mut self, title: &str, top: f32) {
        self.rrect([CX0, top + 32.0, CX0 + 6.0, top + 62.0], 3.0, RED, 1.0);
        self.text(title, Style::new(32.0, INK).bold(0.7), area(CX0 + 18.0, top + 26.0, 600.0, 42.0), Align::Left);
    }

    /// Text on a rounded "pill" of height h from (x, y), the text cut at `max_text`. Returns the pill's width.
    fn pill(&mut self, text: &str, style: Style, bg: Rgb, [x, y, h]: [f32; 3], max_text: f32) -> f32 {
        let w = self.pill_width(text, style, h, max_text);
        let pad = (h * 0.4).round();
        self.rrect([x, y, x + w, y + h], h / 2.0, bg, 1.0);
        self.text(text, style, area(x + pad, y, w - 2.0 * pad + 0.5, h), Align::Left);
        w
    }

    fn pill_width(&self, text: &str, style: Style, h: f32, max_text: f32) -> f32 {
        self.width(style.size, text).min(max_text) + 2.0 * (h * 0.4).round()
    }

    /// A five-pointed star, supersampled 4×4.
    fn star(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb) {
        let points: Vec<(f32, f32)> = (0..10)
            .map(|i| {
                let angle = std::f32::consts::PI * (i as f32 / 5.0 - 0.5);
                let radius = if i % 2 == 0 { r } else { r * 0.45 };
                (cx + radius * angle.cos(), cy + radius * angle.sin())
            })
            .collect();
        self.fill([cx - r, cy - r, cx + r, cy + r], None, colour, 1.0, |x, y| {
            let mut hits = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    let (px, py) = (x - 0.5 + (sx as f32 + 0.5) / 4.0, y - 0.5 + (sy as f32 + 0.5) / 4.0);
                    if inside(&points, px, py) {
                        hits += 1;
                    }
                }
            }
            hits as f32 / 16.0
        });
    }
}

/// A rounded rectangle whose fully covered pixels `Painter::fill` paints directly or skips.
#[derive(Clone, Copy)]
struct Interior {
    rect: [f32; 4],
    r: f32,
    paint: bool,
}

impl Interior {
    /// The pixels of row `y` that lie wholly inside: x from the first to before the second.
    fn span(self, y: u32) -> (u32, u32) {
        let ([x0, y0, x1, y1], r, y) = (self.rect, self.r, y as f32);
        let (a, b) = if y >= (y0 + r).ceil() && y < (y1 - r).floor() {
            (x0.ceil(), x1.floor())
        } else if y >= y0.ceil() && y < y1.floor() {
            ((x0 + r).ceil(), (x1 - r).floor())
        } else {
            return (0, 0);
        };
        (a.clamp(0.0, W) as u32, b.clamp(0.0, W) as u32)
    }
}

/// Signed distance from a point (relative to the centre) to a rounded box of half-size (hw, hh).
fn rounded_box(x: f32, y: f32, hw: f32, hh: f32, r: f32) -> f32 {
    let qx = x.abs() - (hw - r);
    let qy = y.abs() - (hh - r);
    let (ox, oy) = (qx.max(0.0), qy.max(0.0));
    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0) - r
}

/// Even-odd point-in-polygon.
fn inside(polygon: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut result = false;
    let mut j = polygon.len().wrapping_sub(1);
    for (i, &(xi, yi)) in polygon.iter().enumerate() {
        let (xj, yj) = polygon.get(j).copied().unwrap_or((xi, yi));
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            result = !result;
        }
        j = i;
    }
    result
}

/// Widens coverage by `amount` pixels along one axis (`step` 1: rows; `step` w: columns), the
/// fractional part as a partial shift. `len` is the length along that axis.
fn dilate(mask: &mut [f32], w: usize, h: usize, amount: f32, step: usize, len: usize) {
    let whole = amount.floor() as usize;
    let frac = amount - whole as f32;
    let source = mask.to_vec();
    let lines = if step == 1 { h } else { w };
    for line in 0..lines {
        let start = if step == 1 { line * w } else { line };
        for i in 0..len {
            let mut v = source[start + i * step];
            for k in 1..=whole.min(i) {
                v = v.max(source[start + (i - k) * step]);
            }
            if frac > 0.0 && i > whole {
                v = v.max(frac * source[start + (i - whole - 1) * step]);
            }
            mask[start + i * step] = v;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    fn font() -> CardFont {
        CardFont::embedded().expect("the embedded font parses")
    }

    fn demo() -> Showcase {
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

    fn decode(png: &[u8]) -> RgbImage {
        image::load_from_memory(png).expect("a PNG").to_rgb8()
    }

    /// Ink in rows `band` and columns `cols`: pixels that differ clearly from the pixel to their left or
    /// the one above. Text is all edges; the flat or gently graded backgrounds have none.
    fn ink(img: &RgbImage, band: (u32, u32), cols: std::ops::Range<u32>) -> usize {
        let differs = |a: &image::Rgb<u8>, b: &image::Rgb<u8>| {
            a.0.iter().zip(b.0).map(|(&x, y)| (x as i32 - y as i32).abs()).sum::<i32>() > 40
        };
        let mut total = 0;
        for y in band.0.max(1)..band.1 {
            for x in cols.start.max(1)..cols.end {
                let p = img.get_pixel(x, y);
                if differs(p, img.get_pixel(x - 1, y)) || differs(p, img.get_pixel(x, y - 1)) {
                    total += 1;
                }
            }
        }
        total
    }

    fn with_title(title: &str) -> RgbImage {
        decode(&render(&font(), &Showcase { title: title.into(), ..demo() }).unwrap())
    }

    #[test]
    fn renders_a_png_of_the_card_size() {
        let png = render(&font(), &demo()).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(png.len() < 1024 * 1024, "{} bytes", png.len());
        let img = decode(&png);
        assert_eq!((img.width(), img.height()), (CARD_WIDTH, CARD_HEIGHT));
    }

    #[test]
    fn title_and_ranking_bands_hold_text() {
        let img = decode(&render(&font(), &demo()).unwrap());
        let all = 0..CARD_WIDTH;
        assert!(ink(&img, TITLE_BAND, all.clone()) > 3000, "title ink {}", ink(&img, TITLE_BAND, all.clone()));
        assert!(ink(&img, RANKING_BAND, all.clone()) > 3000, "ranking ink {}", ink(&img, RANKING_BAND, all.clone()));

        let empty = with_title("");
        assert!(ink(&empty, TITLE_BAND, all.clone()) + 2000 < ink(&img, TITLE_BAND, all.clone()));
        let no_top = decode(&render(&font(), &Showcase { top: Vec::new(), ..demo() }).unwrap());
        assert!(ink(&no_top, RANKING_BAND, all.clone()) * 2 < ink(&img, RANKING_BAND, all));
    }

    #[test]
    fn chinese_characters_produce_ink() {
        let all = 0..CARD_WIDTH;
        let with = ink(&with_title("客群"), TITLE_BAND, all.clone());
        let without = ink(&with_title(""), TITLE_BAND, all);
        // Two 60-pixel ideographs with many strokes each.
        assert!(with > without + 800, "客群 {with}, nothing {without}");
    }

    #[test]
    fn coverage_tells_a_cjk_font_from_a_latin_one() {
        let embedded = font();
        assert!(embedded.covers("客群业绩"));
        assert!(embedded.covers("2026冬季社区客群拓展 · 第12天 / 共61天 …"));
        assert!(embedded.covers(""));
        match std::fs::read(DEJAVU) {
            Ok(bytes) => {
                let latin = CardFont::from_bytes(bytes).unwrap();
                assert!(latin.covers("Outreach 2026"));
                assert!(!latin.covers("客群业绩"));
                // Its missing glyphs do not panic; they draw as the font's .notdef box or nothing.
                let png = render(&latin, &demo()).unwrap();
                assert_eq!(decode(&png).dimensions(), (CARD_WIDTH, CARD_HEIGHT));
            }
            Err(_) => eprintln!("{DEJAVU} is absent: the Latin-only check is skipped"),
        }
    }

    #[test]
    fn an_overlong_title_is_cut_before_the_right_margin() {
        let long = with_title(&"客".repeat(200));
        let blank = with_title("");
        let right = CARD_WIDTH - 40..CARD_WIDTH;
        for y in TITLE_BAND.0..TITLE_BAND.1 {
            for x in right.clone() {
                assert_eq!(long.get_pixel(x, y), blank.get_pixel(x, y), "ink at ({x}, {y})");
            }
        }
        assert!(ink(&long, TITLE_BAND, 0..CARD_WIDTH) > ink(&with_title("客群"), TITLE_BAND, 0..CARD_WIDTH));
    }

    #[test]
    fn overlong_names_stay_in_their_boxes() {
        let mut card = demo();
        let long = "欧阳".repeat(40);
        card.top[0].name = long.clone();
        card.totals[0].label = long.clone();
        card.stars[0].name = long;
        let img = decode(&render(&font(), &card).unwrap());
        let reference = decode(&render(&font(), &demo()).unwrap());
        // The ranking's first row: nothing changes over the points bar and the points.
        let row = (RANKING_BAND.0, RANKING_BAND.0 + RANK_PITCH as u32);
        for y in row.0..row.1 {
            for x in (CX0 + 330.0) as u32..CARD_WIDTH {
                assert_eq!(img.get_pixel(x, y), reference.get_pixel(x, y), "ink at ({x}, {y})");
            }
        }
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let font = font();
        assert_eq!(render(&font, &demo()).unwrap(), render(&font, &demo()).unwrap());
        assert_eq!(render(&font.clone(), &demo()).unwrap(), render(&font, &demo()).unwrap());
    }

    #[test]
    fn empty_and_odd_inputs_render() {
        let font = font();
        let empty = render(&font, &Showcase::default()).unwrap();
        assert_eq!(decode(&empty).dimensions(), (CARD_WIDTH, CARD_HEIGHT));
        let odd = Showcase {
            title: "\u{0}\t控制字符\n".into(),
            totals: vec![
                Total {
                    label: "𠀀\u{10FFFF}".into(),
                    today: f64::NAN,
                    cumulative: f64::INFINITY,
                    target: 0.0,
                    pace: -5.0,
                    unit: String::new(),
                };
                9
            ],
            stars: vec![Star { period: "年之星".into(), name: String::new(), points: -1.0 }; 5],
            top: vec![Ranked { rank: u32::MAX, name: "x".into(), points: 1e300 }; 7],
            ..demo()
        };
        assert_eq!(decode(&render(&font, &odd).unwrap()).dimensions(), (CARD_WIDTH, CARD_HEIGHT));
    }

    #[test]
    fn a_garbage_font_is_an_error() {
        assert!(matches!(CardFont::from_bytes(vec![0; 100]), Err(CardError::Font(_))));
        assert!(matches!(CardFont::from_bytes(Vec::new()), Err(CardError::Font(_))));
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(12.04), "12");
        assert_eq!(fmt_num(0.96), "1");
        assert_eq!(fmt_num(1234.5), "1,234.5");
        assert_eq!(fmt_num(1_000_000.0), "1,000,000");
        assert_eq!(fmt_num(-3.25), "-3.3");
        assert_eq!(fmt_num(-0.01), "0");
        assert_eq!(fmt_num(f64::NAN), "—");
    }
}
