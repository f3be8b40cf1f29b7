//! The daily showcase card (业绩晒单): a project's day on one 1080×1440 PNG, ready to post to a WeChat
//! work group.
//!
//! Managers paste a picture, not a link, into the group chat: a picture is read on every phone without
//! logging in, and it stays in the chat's history as it was that day. So the server draws the card itself:
//! a red header with the project's name and the day, the day's totals against the pace the project
//! should be at, the stars of the day, week and month, the top five and a footer.
//!
//! A pure library: no HTTP, no SQL, no I/O. The same input gives the same bytes. One file per job,
//! each depending only on those listed before it:
//!
//! - `model.rs`: what the card shows ([`Showcase`] and its rows), as the domain fills it;
//! - `figures.rs`: how a number reads on the card;
//! - `font.rs`: the CJK font ([`CardFont`]), vendored in the binary, parsed once and shared;
//! - `text.rs`: strings to coverage with `ab_glyph`: shaping, cutting with "…" to a box, placing on a
//!   baseline, rasterising a line's glyphs, faking bold;
//! - `paint.rs`: the canvas and the few anti-aliased shapes, and text blended on it;
//! - `layout.rs`: the design: size, palette, sections, where each figure goes;
//! - here: the entry points, drawing and encoding.

mod figures;
mod font;
mod layout;
mod model;
mod paint;
mod text;

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};

pub use font::CardFont;
pub use layout::{CARD_HEIGHT, CARD_WIDTH, RANKING_BAND, TITLE_BAND};
pub use model::{Ranked, Showcase, Star, Total};

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the card's font cannot be used: {0}")]
    Font(String),
    #[error("the card cannot be encoded as PNG: {0}")]
    Encode(String),
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
    let mut painter = paint::Painter::new(font, CARD_WIDTH, CARD_HEIGHT, layout::BG);
    layout::draw(&mut painter, card);
    painter.into_image()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::layout::{CX0, RANK_PITCH};
    use super::model::demo;
    use super::*;

    fn font() -> CardFont {
        CardFont::embedded().expect("the embedded font parses")
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
}
