//! Pixels without drawing: a heat map's cells as a PNG, one pixel per cell (the SVG stretches it over
//! the plotting area), and the kernelspec's logo, drawn the same way.

use kaleido_engine::PixelImage;
use resvg::{tiny_skia, usvg};

use super::{heat_colour, position};

/// Why a picture could not be rasterised.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// Its SVG did not parse (a bug in kaleido).
    #[error("the picture's SVG is not valid: {0}")]
    Svg(#[from] usvg::Error),
    /// The image is too large to allocate or encode.
    #[error("cannot make a {width} × {height} image")]
    Size {
        /// Its width in pixels.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// PNG encoding failed.
    #[error("cannot encode the PNG: {0}")]
    Encode(String),
}

/// The heat map's cells, one pixel each, coloured by where each value lies in `range`; cells never set
/// (and values that are not finite) are transparent.
pub(crate) fn heat_png(image: &PixelImage, range: Option<(f64, f64)>) -> Result<Vec<u8>, PictureError> {
    let (width, height) = (image.width, image.height);
    let mut pixmap = tiny_skia::Pixmap::new(width, height).ok_or(PictureError::Size { width, height })?;
    let range = range.unwrap_or((0.0, 1.0));
    for (pixel, &value) in pixmap.pixels_mut().iter_mut().zip(&image.values) {
        if value.is_finite() {
            let (r, g, b) = heat_colour(position(value, range));
            *pixel = tiny_skia::PremultipliedColorU8::from_rgba(r, g, b, 255).unwrap_or(*pixel);
        }
    }
    pixmap.encode_png().map_err(|e| PictureError::Encode(e.to_string()))
}

/// kaleido's logo, `side` pixels square: the Mandelbrot set of the tutorial, each pixel coloured by how
/// many steps its point takes to escape.
pub fn logo_png(side: u32) -> Result<Vec<u8>, PictureError> {
    const STEPS: u32 = 40;
    let escape = |cr: f64, ci: f64| {
        let (mut r, mut i, mut n) = (0.0f64, 0.0f64, 0);
        while n < STEPS && r * r + i * i <= 4.0 {
            (r, i) = (r * r - i * i + cr, 2.0 * r * i + ci);
            n += 1;
        }
        n as f64
    };
    let scale = 2.6 / side as f64;
    let values =
        (0..side * side).map(|k| escape(-2.0 + (k % side) as f64 * scale, -1.3 + (k / side) as f64 * scale)).collect();
    heat_png(&PixelImage { width: side, height: side, values }, Some((0.0, STEPS as f64)))
}
