//! Photo intake: a 12 MP phone JPEG (4000×3000) to a stored image and thumbnail.
//!
//!     cargo bench --bench photo
//!
//! Compares the pipeline in use (jpeg-decoder at a reduced DCT scale, `fast_image_resize`, `jpeg-encoder`)
//! with the plain `image` path (its resize and its JPEG encoder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use outreach::media::{IntakeLimits, process};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A photo-like 12 MP JPEG: smooth gradients with sensor-like noise, quality 92 (~3–4 MB).
fn phone_jpeg() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut rng = StdRng::seed_from_u64(12);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let n: i32 = rng.random_range(-12..12);
            let r = (x * 255 / w) as i32 + n;
            let g = (y * 255 / h) as i32 + n;
            let b = (((x / 40 + y / 40) % 2) * 120 + 60) as i32 + n;
            pixels.extend([r.clamp(0, 255) as u8, g.clamp(0, 255) as u8, b.clamp(0, 255) as u8]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 92).encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// The straightforward version with the `image` crate alone, for comparison.
fn plain_image_path(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).unwrap();
    let display = img.resize(2560, 2560, image::imageops::FilterType::Triangle);
    let thumb = display.resize(320, 320, image::imageops::FilterType::Triangle);
    let mut a = Cursor::new(Vec::new());
    display.to_rgb8().write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut a, 85)).unwrap();
    let mut b = Cursor::new(Vec::new());
    thumb.to_rgb8().write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut b, 80)).unwrap();
    (a.into_inner(), b.into_inner())
}

fn intake(c: &mut Criterion) {
    let bytes = phone_jpeg();
    println!("input: 4000×3000 JPEG, {} bytes", bytes.len());
    let limits = IntakeLimits::default();
    let mut group = c.benchmark_group("photo intake 12 MP");
    group.sample_size(20);
    group.bench_function("pipeline (DCT-scaled decode + fast_image_resize + jpeg-encoder)", |b| {
        b.iter(|| process(black_box(&bytes), &limits).unwrap())
    });
    group.bench_function("plain image crate", |b| b.iter(|| plain_image_path(black_box(&bytes))));
    group.bench_function("decode only (zune-jpeg via image)", |b| {
        b.iter(|| image::load_from_memory_with_format(black_box(&bytes), image::ImageFormat::Jpeg).unwrap())
    });
    group.bench_function("decode at 1/2 by DCT scaling (jpeg-decoder)", |b| {
        b.iter(|| {
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(black_box(&bytes)));
            d.scale(2000, 1500).unwrap();
            d.decode().unwrap()
        })
    });
    group.bench_function("decode full (jpeg-decoder)", |b| {
        b.iter(|| jpeg_decoder::Decoder::new(Cursor::new(black_box(&bytes))).decode().unwrap())
    });
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);
