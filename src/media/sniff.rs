//! What an upload really is, by its first bytes: never trust a file name or a Content-Type.

use super::MediaError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    WebP,
}

impl ImageKind {
    pub fn format(self) -> image::ImageFormat {
        match self {
            ImageKind::Jpeg => image::ImageFormat::Jpeg,
            ImageKind::Png => image::ImageFormat::Png,
            ImageKind::WebP => image::ImageFormat::WebP,
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Result<ImageKind, MediaError> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(ImageKind::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(ImageKind::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Ok(ImageKind::WebP),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] if is_heif(brand) => Err(MediaError::Unsupported(
            "HEIC/HEIF photos are not accepted: set the camera to \"Most Compatible\" (JPEG) or convert before upload"
                .to_owned(),
        )),
        _ => Err(MediaError::Unsupported("only JPEG, PNG and WebP images are accepted".to_owned())),
    }
}

fn is_heif(brand: &[u8]) -> bool {
    [b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"].iter().any(|b| brand.starts_with(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_by_magic() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(ImageKind::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(ImageKind::WebP));
        assert!(matches!(sniff(b"\0\0\0\x18ftypheic\0\0"), Err(MediaError::Unsupported(m)) if m.contains("HEIC")));
        assert!(matches!(sniff(b"<!DOCTYPE html><html>"), Err(MediaError::Unsupported(_))));
        assert!(matches!(sniff(b""), Err(MediaError::Unsupported(_))));
    }
}
