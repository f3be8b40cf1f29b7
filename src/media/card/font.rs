//! The card's font: loaded once, shared by every request, and able to say whether it draws Chinese.
//!
//! The card is mostly CJK text, and a server in a bank cannot count on a CJK font being installed,
//! so WenQuanYi Micro Hei (Apache-2.0) is built into the binary ([`CardFont::embedded`]). A
//! deployment may name another font (`OUTREACH_SHOWCASE_FONT`); [`CardFont::covers`] lets start-up
//! refuse a Latin-only one, which would put empty boxes on every card. Parsing happens here, once:
//! drawing only borrows the parsed face.

use ab_glyph::{Font, FontArc, FontRef, FontVec, GlyphId};

use super::CardError;

/// WenQuanYi Micro Hei (a TrueType collection; face 0 is "WenQuanYi Micro Hei").
static EMBEDDED_FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");

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

    /// The parsed face, for the typesetter.
    pub(super) fn face(&self) -> &FontArc {
        &self.font
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::model::demo;
    use super::super::{CARD_HEIGHT, CARD_WIDTH, render};
    use super::*;

    const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    fn font() -> CardFont {
        CardFont::embedded().expect("the embedded font parses")
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory(png).expect("a PNG").to_rgb8()
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
    fn a_garbage_font_is_an_error() {
        assert!(matches!(CardFont::from_bytes(vec![0; 100]), Err(CardError::Font(_))));
        assert!(matches!(CardFont::from_bytes(Vec::new()), Err(CardError::Font(_))));
    }
}
