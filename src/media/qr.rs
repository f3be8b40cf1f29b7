//! QR codes as PNG, with the standard quiet zone, via the `qrcode` crate.

use std::io::Cursor;

use image::Luma;
use qrcode::{EcLevel, QrCode};

/// Renders `text` as a square PNG about `size` pixels wide. Error correction M survives a
/// poster's creases and a phone screen's glare.
pub fn png(text: &str, size: u32) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| e.to_string())?;
    let image = code.render::<Luma<u8>>().quiet_zone(true).min_dimensions(size, size).build();
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}
