//! From uploaded bytes to a clean JPEG and its thumbnail, within limits checked before any work.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{ImageReader, Limits};

use super::MediaError;
use super::exif::{self, ExifFacts};
use super::sniff::{ImageKind, sniff};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntakeLimits {
    /// Largest upload accepted, in bytes.
    pub max_bytes: usize,
    /// Largest image accepted, in pixels, read from the header before decoding.
    pub max_pixels: u64,
    /// The stored image's long side; larger photos are scaled down (evidence, not print).
    pub max_long_side: u32,
    pub thumbnail_long_side: u32,
    pub quality: u8,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_bytes: 15 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_long_side: 1920,
            thumbnail_long_side: 320,
            quality: 85,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Processed {
    /// Baseline JPEG, orientation applied, no metadata of any kind.
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    pub exif: ExifFacts,
}

fn corrupt(err: impl std::fmt::Display) -> MediaError {
    MediaError::Corrupt(err.to_string())
}

/// The full intake. CPU-heavy: call it on the blocking pool, with bounded concurrency.
pub fn process(bytes: &[u8], limits: &IntakeLimits) -> Result<Processed, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooLarge { limit: limits.max_bytes });
    }
    let kind = sniff(bytes)?;
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), kind.format()).into_dimensions().map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaError::TooManyPixels { pixels, limit: limits.max_pixels });
    }
    if pixels == 0 {
        return Err(MediaError::Corrupt("the image has no pixels".to_owned()));
    }
    if kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills a cut-off scan with grey rather than failing; a phone upload
        // that lost its end must not be stored as evidence.
        return Err(MediaError::Corrupt("the JPEG is truncated (no end-of-image marker)".to_owned()));
    }
    let facts = exif::read(bytes);
    // The decoded image (RGBA at most) plus headroom for the decoder's own buffers.
    let max_alloc = pixels * 4 + 64 * 1024 * 1024;
    let scaled_jpeg = match kind {
        ImageKind::Jpeg => decode_jpeg_scaled(bytes, limits.max_long_side, max_alloc)?,
        _ => None,
    };
    let (pixels_rgb, w, h) = match scaled_jpeg {
        Some(decoded) => decoded,
        None => {
            let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
            let mut decoder_limits = Limits::default();
            decoder_limits.max_image_width = Some(width);
            decoder_limits.max_image_height = Some(height);
            decoder_limits.max_alloc = Some(max_alloc);
            reader.limits(decoder_limits);
            let decoded = reader.decode().map_err(corrupt)?.into_rgb8();
            let (w, h) = (decoded.width(), decoded.height());
            (decoded.into_raw(), w, h)
        }
    };

    // Scale first and rotate after: rotating the smaller image is cheaper, the result the same.
    let (sw, sh) = fit(w, h, limits.max_long_side);
    let scaled = resize_rgb(pixels_rgb, w, h, sw, sh)?;
    let (tw, th) = fit(sw, sh, limits.thumbnail_long_side);
    let thumb = resize_rgb(scaled.clone(), sw, sh, tw, th)?;
    let orientation = facts.orientation.and_then(Orientation::from_exif).unwrap_or(Orientation::NoTransforms);
    let (display, dw, dh) = orient(scaled, sw, sh, orientation)?;
    let (thumb, tw, th) = orient(thumb, tw, th, orientation)?;
    Ok(Processed {
        jpeg: encode(&display, dw, dh, limits.quality)?,
        width: dw,
        height: dh,
        thumbnail: encode(&thumb, tw, th, 80)?,
        thumbnail_width: tw,
        thumbnail_height: th,
        exif: facts,
    })
}

/// Decodes a JPEG already scaled down in the DCT domain (1/2, 1/4, 1/8) to the smallest size
/// that still covers `long_side`: a 12 MP photo decodes at 1/2 in about 80 % of the time of a full
/// decode, and the resize after it is far cheaper. `None` for pixel formats left to `image`.
fn decode_jpeg_scaled(bytes: &[u8], long_side: u32, max_alloc: u64) -> Result<Option<(Vec<u8>, u32, u32)>, MediaError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    decoder.read_info().map_err(corrupt)?;
    let info = decoder.info().ok_or_else(|| corrupt("no JPEG header"))?;
    if !matches!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8) {
        return Ok(None);
    }
    let (tw, th) = fit(u32::from(info.width), u32::from(info.height), long_side);
    let (w, h) =
        decoder.scale(u16::try_from(tw).map_err(corrupt)?, u16::try_from(th).map_err(corrupt)?).map_err(corrupt)?;
    let decoded = decoder.decode().map_err(corrupt)?;
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => decoded.iter().flat_map(|&v| [v, v, v]).collect(),
        _ => decoded,
    };
    let (w, h) = (u32::from(w), u32::from(h));
    if rgb.len() < (w as usize) * (h as usize) * 3 {
        return Err(corrupt("short JPEG data"));
    }
    Ok(Some((rgb, w, h)))
}

/// Whether an end-of-image marker follows the last start-of-scan. Inside entropy-coded data a
/// 0xFF byte is always stuffed (`FF 00`), so `FF D9` there is a real marker.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_scan {
        Some(start) => bytes[start..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// The size that fits `long_side`, keeping the aspect ratio; never upscales.
fn fit(w: u32, h: u32, long_side: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= long_side {
        return (w, h);
    }
    let scale = f64::from(long_side) / f64::from(long);
    let scaled = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    (scaled(w), scaled(h))
}

fn resize_rgb(pixels: Vec<u8>, w: u32, h: u32, tw: u32, th: u32) -> Result<Vec<u8>, MediaError> {
    if (w, h) == (tw, th) {
        return Ok(pixels);
    }
    let src = Image::from_vec_u8(w, h, pixels, PixelType::U8x3).map_err(corrupt)?;
    let mut dst = Image::new(tw, th, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &options).map_err(corrupt)?;
    Ok(dst.into_vec())
}

fn orient(pixels: Vec<u8>, w: u32, h: u32, orientation: Orientation) -> Result<(Vec<u8>, u32, u32), MediaError> {
    if orientation == Orientation::NoTransforms {
        return Ok((pixels, w, h));
    }
    let buffer = image::RgbImage::from_raw(w, h, pixels).ok_or_else(|| corrupt("pixel buffer size"))?;
    let mut img = image::DynamicImage::ImageRgb8(buffer);
    img.apply_orientation(orientation);
    let (w, h) = (img.width(), img.height());
    Ok((img.into_rgb8().into_raw(), w, h))
}

fn encode(rgb: &[u8], w: u32, h: u32, quality: u8) -> Result<Vec<u8>, MediaError> {
    let (w16, h16) = (u16::try_from(w).map_err(corrupt)?, u16::try_from(h).map_err(corrupt)?);
    let mut out = Vec::with_capacity(rgb.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(corrupt)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        let _ = encoder.encode(img.as_raw(), w as u16, h as u16, jpeg_encoder::ColorType::Rgb);
        out
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 % 256) as u8, (y % 256) as u8, 9]));
        let mut out = Cursor::new(Vec::new());
        let _ = img.write_to(&mut out, image::ImageFormat::Png);
        out.into_inner()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Any bytes at all: a stored image or a refusal, never a panic.
        #[test]
        fn any_bytes_are_an_image_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = process(&bytes, &IntakeLimits::default());
            let _ = exif::read(&bytes);
        }

        /// Real images with bytes flipped, cut short or spliced: the damage a network or an
        /// attacker does to a file the decoders must still survive.
        #[test]
        fn damaged_images_are_stored_or_refused(
            which in 0usize..2,
            flips in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 0..16),
            cut in proptest::num::usize::ANY,
        ) {
            let mut bytes = if which == 0 { jpeg(48, 32) } else { png(48, 32) };
            for (at, value) in flips {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(p) = process(&bytes, &IntakeLimits::default()) {
                proptest::prop_assert!(p.width > 0 && p.height > 0 && p.jpeg.starts_with(&[0xFF, 0xD8]));
            }
            let _ = exif::read(&bytes);
        }
    }

    #[test]
    fn a_large_photo_is_scaled_and_thumbnailed() -> Result<(), MediaError> {
        let p = process(&jpeg(4000, 3000), &IntakeLimits::default())?;
        assert_eq!((p.width, p.height), (1920, 1440));
        assert_eq!((p.thumbnail_width, p.thumbnail_height), (320, 240));
        assert_eq!(&p.jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        Ok(())
    }

    #[test]
    fn limits_come_before_work() {
        let limits = IntakeLimits { max_pixels: 1000, ..IntakeLimits::default() };
        assert!(matches!(process(&jpeg(100, 100), &limits), Err(MediaError::TooManyPixels { pixels: 10_000, .. })));
        let limits = IntakeLimits { max_bytes: 10, ..IntakeLimits::default() };
        assert!(matches!(process(&jpeg(10, 10), &limits), Err(MediaError::TooLarge { .. })));
    }

    #[test]
    fn truncated_and_garbage_images_are_corrupt_not_panics() {
        let whole = jpeg(64, 64);
        for cut in [4, 20, whole.len() / 2, whole.len() - 2] {
            let r = process(&whole[..cut], &IntakeLimits::default());
            assert!(matches!(r, Err(MediaError::Corrupt(_))), "cut at {cut}: {r:?}");
        }
        let mut png_header = b"\x89PNG\r\n\x1a\n".to_vec();
        png_header.extend_from_slice(&[0u8; 40]);
        assert!(matches!(process(&png_header, &IntakeLimits::default()), Err(MediaError::Corrupt(_))));
    }

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(4000, 3000, 1920), (1920, 1440));
        assert_eq!(fit(3000, 4000, 320), (240, 320));
        assert_eq!(fit(100, 50, 320), (100, 50));
    }
}
