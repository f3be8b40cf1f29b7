//! Text, from a string to coverage: shaping, fitting a box, placing runs on a baseline, and
//! rasterising glyphs into one anti-aliased mask per line. No colour and no canvas: the painter
//! blends what this makes.
//!
//! Why a small typesetter over `ab_glyph` rather than a text-layout crate: the card's text is single
//! lines in fixed boxes, in one font, without bidi or complex scripts (CJK and Latin need nothing
//! beyond advances and kerning). What it does need is specific: a text too long for its box cut with
//! "…" so it never runs into its neighbours, a title shrunk to fit, runs of two sizes on one
//! baseline, and the same bytes for the same input. The font has no bold face, so bold is faked by
//! widening the line's mask ([`dilate`]); that is done on the whole line at once, so touching
//! strokes of neighbouring glyphs merge as they would in a bold face.

use ab_glyph::{Font, FontArc, GlyphId, OutlinedGlyph, PxScale, ScaleFont, point};

use super::font::CardFont;

/// A text box: left, top, width, height.
#[derive(Clone, Copy)]
pub(super) struct Area {
    pub(super) x: f32,
    pub(super) y: f32,
    pub(super) w: f32,
    pub(super) h: f32,
}

pub(super) const fn area(x: f32, y: f32, w: f32, h: f32) -> Area {
    Area { x, y, w, h }
}

#[derive(Clone, Copy)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// A glyph placed on a line: its id, its pen position and its advance.
#[derive(Clone, Copy)]
struct Placed {
    id: GlyphId,
    x: f32,
    advance: f32,
}

/// A line of glyphs from x = 0, and how far its pen went.
pub(super) struct Shaped {
    glyphs: Vec<Placed>,
    width: f32,
}

/// Runs of text placed in a box: one line per run (fewer when one was cut: nothing after it is
/// drawn), a shared baseline, the box's columns to clip to and the width taken.
pub(super) struct Setting {
    /// Each run's glyphs and the x its pen starts at (whole pixels, so glyphs rasterise alike
    /// wherever the line lands).
    pub(super) lines: Vec<(Shaped, f32)>,
    pub(super) baseline: f32,
    pub(super) clip: (f32, f32),
    pub(super) width: f32,
}

/// A line's anti-aliased coverage, 0 to 1, `w` × `h` from the canvas pixel (x0, y0).
pub(super) struct Coverage {
    pub(super) x0: i32,
    pub(super) y0: i32,
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) alpha: Vec<f32>,
}

/// Lays text out in one font.
pub(super) struct Typesetter<'f> {
    font: &'f FontArc,
}

impl<'f> Typesetter<'f> {
    pub(super) fn new(font: &'f CardFont) -> Typesetter<'f> {
        Typesetter { font: font.face() }
    }

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

    /// How wide `text` is at em size `size`.
    pub(super) fn width(&self, size: f32, text: &str) -> f32 {
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
    pub(super) fn fit_size(&self, text: &str, max: f32, min: f32, max_w: f32) -> f32 {
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

    /// Places runs of text, each `(text, em size)`, on one baseline that centres the largest in the
    /// box, aligned in it. If they do not fit, they start at the box's left and the run that
    /// overflows is cut with "…".
    pub(super) fn set(&self, runs: &[(&str, f32)], Area { x, y, w, h }: Area, align: Align) -> Setting {
        let clip = (x, x + w);
        if w <= 0.0 {
            return Setting { lines: Vec::new(), baseline: 0.0, clip, width: 0.0 };
        }
        let largest = runs.iter().map(|(_, size)| *size).fold(0.0, f32::max);
        let baseline = self.baseline(largest, y, h);
        let shaped: Vec<Shaped> = runs.iter().map(|(text, size)| self.shape(*size, text)).collect();
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
        let mut lines = Vec::with_capacity(runs.len());
        for ((text, size), line) in runs.iter().zip(shaped) {
            let room = x + w - pen;
            let cut = line.width > room;
            let line = if cut { self.fit(*size, text, room) } else { line };
            let advance = line.width;
            lines.push((line, pen.round()));
            pen += advance;
            if cut {
                break;
            }
        }
        Setting { lines, baseline, clip, width: (pen - start).clamp(0.0, w) }
    }

    /// Rasterises a placed line (pen at `x`, on `baseline`, em size `size`) into one coverage
    /// mask, widened by `bold` pixels for a fake bold. `None` when nothing has an outline.
    pub(super) fn coverage(&self, line: &Shaped, size: f32, bold: f32, x: f32, baseline: f32) -> Option<Coverage> {
        let scale = self.scale(size);
        let outlined: Vec<OutlinedGlyph> = line
            .glyphs
            .iter()
            .filter_map(|g| self.font.outline_glyph(g.id.with_scale_and_position(scale, point(x + g.x, baseline))))
            .collect();
        let first = outlined.first()?;
        let mut bounds = first.px_bounds();
        for g in &outlined[1..] {
            let b = g.px_bounds();
            bounds.min.x = bounds.min.x.min(b.min.x);
            bounds.min.y = bounds.min.y.min(b.min.y);
            bounds.max.x = bounds.max.x.max(b.max.x);
            bounds.max.y = bounds.max.y.max(b.max.y);
        }
        let pad = bold.max(0.0).ceil() as usize;
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
        if bold > 0.0 {
            dilate(&mut mask, w, h, bold, 1, w);
            dilate(&mut mask, w, h, bold * 0.5, w, h);
        }
        Some(Coverage { x0, y0, w, h, alpha: mask })
    }
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
