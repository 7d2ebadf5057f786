//! Thumbnails of image attachments for Mailpit's
//! `GET /api/v1/message/{ID}/part/{PartID}/thumb`: always a 180×120 JPEG.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageReader, Limits, Rgba, RgbaImage};

/// Thumbnail width in pixels (Mailpit's).
pub const WIDTH: u32 = 180;
/// Thumbnail height in pixels (Mailpit's).
pub const HEIGHT: u32 = 120;
/// Largest width or height decoded. A few hundred bytes of PNG can declare a
/// picture of gigabytes; anything larger is refused before decoding.
const MAX_SIDE: u32 = 10_000;
/// Mailpit's JPEG quality.
const QUALITY: u8 = 70;

/// A 180×120 JPEG of the picture in `data` (PNG, JPEG, GIF or WebP).
///
/// As Mailpit does: a picture at least 180×120 is scaled to cover the frame and
/// its centre cropped; a smaller one (in either direction) is shrunk to fit if
/// needed and centred on white. Transparency shows white. Anything that is not
/// a decodable picture, or declares more than 10,000 pixels a side, gives a
/// plain white thumbnail.
pub fn thumbnail(data: &[u8]) -> Vec<u8> {
    let mut canvas = RgbaImage::from_pixel(WIDTH, HEIGHT, Rgba([255, 255, 255, 255]));
    if let Some(picture) = decode(data) {
        let fitted = if picture.width() < WIDTH || picture.height() < HEIGHT {
            if picture.width() > WIDTH || picture.height() > HEIGHT {
                picture.resize(WIDTH, HEIGHT, FilterType::Lanczos3)
            } else {
                picture
            }
        } else {
            prescale(picture).resize_to_fill(WIDTH, HEIGHT, FilterType::Lanczos3)
        };
        let top = fitted.to_rgba8();
        let x = (i64::from(WIDTH) - i64::from(top.width())) / 2;
        let y = (i64::from(HEIGHT) - i64::from(top.height())) / 2;
        // overlay blends by alpha, so transparent pixels keep the white below.
        imageops::overlay(&mut canvas, &top, x, y);
    }
    encode(&DynamicImage::ImageRgba8(canvas).to_rgb8())
}

fn decode(data: &[u8]) -> Option<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    reader.decode().ok()
}

/// Shrinks a large picture cheaply to twice the size that covers the frame, so
/// the Lanczos pass that follows works on thousands of pixels, not millions.
fn prescale(picture: DynamicImage) -> DynamicImage {
    let (w, h) = (u64::from(picture.width()), u64::from(picture.height()));
    // The scale that covers the frame is the larger of the two ratios.
    let (cover_w, cover_h) = if w * u64::from(HEIGHT) > h * u64::from(WIDTH) {
        (w * u64::from(HEIGHT) / h, u64::from(HEIGHT))
    } else {
        (u64::from(WIDTH), h * u64::from(WIDTH) / w)
    };
    if w <= cover_w * 4 {
        return picture;
    }
    let target_w = u32::try_from(cover_w * 2).unwrap_or(u32::MAX);
    let target_h = u32::try_from(cover_h * 2).unwrap_or(u32::MAX);
    picture.thumbnail_exact(target_w, target_h)
}

fn encode(rgb: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(rgb)
        .expect("encoding a 180x120 RGB buffer into memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage};

    fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("test image encodes");
        out.into_inner()
    }

    fn decoded(jpeg: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
            .expect("thumbnail is a JPEG")
            .to_rgb8()
    }

    fn near(pixel: &Rgb<u8>, want: [u8; 3]) -> bool {
        pixel.0.iter().zip(want).all(|(&a, b)| a.abs_diff(b) < 24)
    }

    #[test]
    fn large_picture_is_cropped_to_cover() {
        // 600×200: left third red, middle green, right third blue. Covering
        // 180×120 scales to 360×120 and keeps the middle: mostly green.
        let img = RgbImage::from_fn(600, 200, |x, _| match x {
            0..200 => Rgb([255, 0, 0]),
            200..400 => Rgb([0, 255, 0]),
            _ => Rgb([0, 0, 255]),
        });
        let thumb = decoded(&thumbnail(&encoded(
            DynamicImage::ImageRgb8(img),
            ImageFormat::Png,
        )));
        assert_eq!(thumb.dimensions(), (WIDTH, HEIGHT));
        assert!(near(thumb.get_pixel(90, 60), [0, 255, 0]));
        assert!(near(thumb.get_pixel(10, 60), [255, 0, 0]));
        assert!(near(thumb.get_pixel(170, 60), [0, 0, 255]));
    }

    #[test]
    fn small_picture_is_centred_on_white() {
        let img = RgbImage::from_pixel(40, 20, Rgb([0, 0, 0]));
        let thumb = decoded(&thumbnail(&encoded(
            DynamicImage::ImageRgb8(img),
            ImageFormat::Jpeg,
        )));
        assert!(near(thumb.get_pixel(90, 60), [0, 0, 0]));
        assert!(near(thumb.get_pixel(5, 5), [255, 255, 255]));
        assert!(near(thumb.get_pixel(90, 20), [255, 255, 255]));
    }

    #[test]
    fn wide_strip_is_shrunk_to_fit() {
        // 900×30 is too wide and too short: fitted to 180×6, centred.
        let img = RgbImage::from_pixel(900, 30, Rgb([0, 0, 255]));
        let thumb = decoded(&thumbnail(&encoded(
            DynamicImage::ImageRgb8(img),
            ImageFormat::Gif,
        )));
        assert!(near(thumb.get_pixel(90, 60), [0, 0, 255]));
        assert!(near(thumb.get_pixel(90, 30), [255, 255, 255]));
    }

    #[test]
    fn transparency_is_white() {
        let img = RgbaImage::from_pixel(300, 300, Rgba([255, 0, 0, 0]));
        let thumb = decoded(&thumbnail(&encoded(
            DynamicImage::ImageRgba8(img),
            ImageFormat::Png,
        )));
        assert!(near(thumb.get_pixel(90, 60), [255, 255, 255]));
    }

    #[test]
    fn webp_decodes() {
        let img = RgbImage::from_pixel(200, 200, Rgb([0, 255, 0]));
        let webp = encoded(DynamicImage::ImageRgb8(img), ImageFormat::WebP);
        assert!(near(
            decoded(&thumbnail(&webp)).get_pixel(90, 60),
            [0, 255, 0]
        ));
    }

    #[test]
    fn not_a_picture_is_white() {
        for data in [&b""[..], b"%PDF-1.4", b"\x89PNG\r\n\x1a\ntruncated"] {
            let thumb = decoded(&thumbnail(data));
            assert_eq!(thumb.dimensions(), (WIDTH, HEIGHT));
            assert!(thumb.pixels().all(|p| near(p, [255, 255, 255])));
        }
    }

    #[test]
    fn refuses_more_than_ten_thousand_pixels_a_side() {
        let strip = |w, h| {
            encoded(
                DynamicImage::ImageRgb8(RgbImage::new(w, h)),
                ImageFormat::Png,
            )
        };
        assert!(decode(&strip(MAX_SIDE, 1)).is_some());
        assert!(decode(&strip(MAX_SIDE + 1, 1)).is_none());
        assert!(decode(&strip(1, MAX_SIDE + 1)).is_none());
        let white = decoded(&thumbnail(&strip(MAX_SIDE + 1, 1)));
        assert!(white.pixels().all(|p| near(p, [255, 255, 255])));
    }
}
