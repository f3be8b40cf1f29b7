//! The painter: the card's few shapes and its text, anti-aliased onto an RGB canvas.
//!
//! Why by hand and not `tiny-skia` (0.12, tried as a drop-in painter behind this same API, measured
//! on this 2-core machine, 2026-12-02, three interleaved runs each of `cargo bench --bench card`'s
//! binary, median): draw only 8.9 ms by hand against 9.6 ms with tiny-skia (9.2 ms before the
//! split), draw + PNG 12.3 ms against 13.5 ms; the stripped release binary 150 KB larger. Its
//! output looked the same (≈96k edge pixels differ, by 31/255 at most) but is not the same bytes.
//! It could not replace the hard parts anyway: it has no blur for the panels' shadow and blends text
//! no better than this file, so both stayed hand-written on its RGBA pixmap, plus a conversion to
//! RGB at the end. No gain for a dependency: kept by hand.
//!
//! Each shape is a coverage function (a signed distance for the rounded boxes and circles, a
//! supersampled even-odd test for the star) evaluated at pixel centres, and the rows' fully covered
//! interiors are filled without evaluating it ([`Interior`]): most of a panel's pixels are interior,
//! so the card costs about one evaluation per edge pixel. The canvas is opaque RGB from start to
//! end, which is what the PNG encoder wants, so nothing is converted at the end.

use image::RgbImage;

use super::font::CardFont;
use super::text::{Align, Area, Coverage, Typesetter};

pub(super) type Rgb = [u8; 3];

/// How a run of text is drawn.
#[derive(Clone, Copy)]
pub(super) struct Style {
    /// Em size in pixels (a CJK ideograph is about this wide).
    pub(super) size: f32,
    colour: Rgb,
    alpha: f32,
    /// Fake bold: how many pixels the strokes are widened by.
    bold: f32,
}

impl Style {
    pub(super) fn new(size: f32, colour: Rgb) -> Style {
        Style { size, colour, alpha: 1.0, bold: 0.0 }
    }
    pub(super) fn bold(self, bold: f32) -> Style {
        Style { bold, ..self }
    }
    pub(super) fn alpha(self, alpha: f32) -> Style {
        Style { alpha, ..self }
    }
}

/// `a` moved towards `b` by `t` (0 to 1).
pub(super) fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    // `+ 0.5` then a saturating cast rounds without a call to `roundf`, which the baseline x86-64 lacks.
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t + 0.5) as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

pub(super) struct Painter<'f> {
    img: RgbImage,
    /// The canvas's size, as the coordinates' type.
    w: f32,
    h: f32,
    text: Typesetter<'f>,
}

impl<'f> Painter<'f> {
    /// A `width` × `height` canvas of `background`, writing with `font`.
    pub(super) fn new(font: &'f CardFont, width: u32, height: u32, background: Rgb) -> Painter<'f> {
        Painter {
            img: RgbImage::from_pixel(width, height, image::Rgb(background)),
            w: width as f32,
            h: height as f32,
            text: Typesetter::new(font),
        }
    }

    pub(super) fn into_image(self) -> RgbImage {
        self.img
    }

    /// How wide `text` is at em size `size`.
    pub(super) fn width(&self, size: f32, text: &str) -> f32 {
        self.text.width(size, text)
    }

    /// The largest size from `max` down to `min` at which `text` fits `max_w` (else `min`).
    pub(super) fn fit_size(&self, text: &str, max: f32, min: f32, max_w: f32) -> f32 {
        self.text.fit_size(text, max, min, max_w)
    }

    /// The top `height` rows, from `from` at the top left to `to` at the bottom right; `(wx, wy)`
    /// weigh how much across and down count (they add up to 1).
    pub(super) fn gradient(&mut self, height: f32, from: Rgb, to: Rgb, (wx, wy): (f32, f32)) {
        let row_len = self.img.width() as usize * 3;
        let w = self.w;
        for (y, row) in self.img.chunks_exact_mut(row_len).take(height as usize).enumerate() {
            for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
                let t = (wx * x as f32 / w + wy * y as f32 / height).clamp(0.0, 1.0);
                pixel.copy_from_slice(&mix(from, to, t));
            }
        }
    }

    /// Draws `text` in the box (x, y, w, h), vertically centred, cut with "…" and clipped to the box.
    /// Returns the width drawn.
    pub(super) fn text(&mut self, text: &str, style: Style, area: Area, align: Align) -> f32 {
        self.spans(&[(text, style)], area, align)
    }

    /// Draws runs of text in different styles on one baseline in the box (x, y, w, h). If they do not fit,
    /// they start at the box's left and the run that overflows is cut with "…". Returns the width drawn.
    pub(super) fn spans<S: AsRef<str>>(&mut self, spans: &[(S, Style)], area: Area, align: Align) -> f32 {
        let runs: Vec<(&str, f32)> = spans.iter().map(|(text, style)| (text.as_ref(), style.size)).collect();
        let setting = self.text.set(&runs, area, align);
        for ((line, x), (_, style)) in setting.lines.iter().zip(spans) {
            if let Some(coverage) = self.text.coverage(line, style.size, style.bold, *x, setting.baseline) {
                self.blit(&coverage, *style, setting.clip);
            }
        }
        setting.width
    }

    /// Blends a line's coverage in `style`'s colour, clipped horizontally to `clip`.
    fn blit(&mut self, coverage: &Coverage, style: Style, clip: (f32, f32)) {
        let Coverage { x0, y0, w, h, ref alpha } = *coverage;
        let (cx0, cx1) = (clip.0.floor().max(0.0) as i32, clip.1.ceil().min(self.w) as i32);
        let height = self.img.height() as i32;
        for my in 0..h {
            let py = y0 + my as i32;
            if py < 0 || py >= height {
                continue;
            }
            for mx in 0..w {
                let px = x0 + mx as i32;
                let a = alpha[my * w + mx];
                if a > 0.0 && px >= cx0 && px < cx1 {
                    self.blend(px as u32, py as u32, style.colour, a * style.alpha);
                }
            }
        }
    }

    fn blend(&mut self, x: u32, y: u32, colour: Rgb, alpha: f32) {
        let i = (y as usize * self.img.width() as usize + x as usize) * 3;
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
        let (xa, xb) = (x0.floor().clamp(0.0, self.w) as u32, x1.ceil().clamp(0.0, self.w) as u32);
        let (ya, yb) = (y0.floor().clamp(0.0, self.h) as u32, y1.ceil().clamp(0.0, self.h) as u32);
        let row_len = self.img.width() as usize * 3;
        for y in ya..yb {
            let (sa, sb) = match interior {
                Some(inner) => {
                    let (a, b) = inner.span(y, self.w);
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
                let row = y as usize * row_len;
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
    pub(super) fn rrect(&mut self, [x0, y0, x1, y1]: [f32; 4], r: f32, colour: Rgb, alpha: f32) {
        let (cx, cy, hw, hh) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0, (x1 - x0) / 2.0, (y1 - y0) / 2.0);
        let r = r.min(hw).min(hh).max(0.0);
        let interior = Interior { rect: [x0, y0, x1, y1], r, paint: true };
        self.fill([x0, y0, x1, y1], Some(interior), colour, alpha, |x, y| {
            (0.5 - rounded_box(x - cx, y - cy, hw, hh, r)).clamp(0.0, 1.0)
        });
    }

    pub(super) fn circle(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb, alpha: f32) {
        // The square inscribed in the circle is covered fully.
        let s = r * 0.7;
        let interior = Interior { rect: [cx - s, cy - s, cx + s, cy + s], r: 0.0, paint: true };
        self.fill([cx - r, cy - r, cx + r, cy + r], Some(interior), colour, alpha, |x, y| {
            (r + 0.5 - ((x - cx) * (x - cx) + (y - cy) * (y - cy)).sqrt()).clamp(0.0, 1.0)
        });
    }

    /// The soft shadow of the rounded box `[x0, y0, x1, y1]` (corner radius `r`), dropped `drop` pixels
    /// and blurred over `blur` pixels either side of its edge. The pixels under the box itself are
    /// skipped: the box is drawn over them next, and a shadow there would cost for nothing.
    pub(super) fn shadow(&mut self, [x0, y0, x1, y1]: [f32; 4], r: f32, blur: f32, drop: f32, colour: Rgb, alpha: f32) {
        let (cx, cy, hw, hh) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0 + drop, (x1 - x0) / 2.0, (y1 - y0) / 2.0);
        let hidden = Interior { rect: [x0, y0, x1, y1], r, paint: false };
        let bbox = [x0 - blur, y0 - blur + drop, x1 + blur, y1 + blur + drop];
        self.fill(bbox, Some(hidden), colour, alpha, |x, y| {
            let t = ((blur - rounded_box(x - cx, y - cy, hw, hh, r)) / (2.0 * blur)).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        });
    }

    /// A five-pointed star, supersampled 4×4.
    pub(super) fn star(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb) {
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
    /// The pixels of row `y` that lie wholly inside: x from the first to before the second, on a
    /// canvas `width` wide.
    fn span(self, y: u32, width: f32) -> (u32, u32) {
        let ([x0, y0, x1, y1], r, y) = (self.rect, self.r, y as f32);
        let (a, b) = if y >= (y0 + r).ceil() && y < (y1 - r).floor() {
            (x0.ceil(), x1.floor())
        } else if y >= y0.ceil() && y < y1.floor() {
            ((x0 + r).ceil(), (x1 - r).floor())
        } else {
            return (0, 0);
        };
        (a.clamp(0.0, width) as u32, b.clamp(0.0, width) as u32)
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
