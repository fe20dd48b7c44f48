//! A whole picture as a PNG: its SVG rasterised by resvg. The font is built in (Ubuntu Light, from egui's
//! default fonts), so labels render the same on any machine, with no system font installed.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::cells::PictureError;
use super::{Picture, SIZE};

/// The picture as a PNG, [`SIZE`] pixels large.
pub fn png(picture: &Picture) -> Result<Vec<u8>, PictureError> {
    png_of_svg(&super::svg(picture))
}

/// A picture's SVG (from [`super::svg`]) as a PNG: for a front end that sends both, so the SVG is drawn once.
pub fn png_of_svg(svg: &str) -> Result<Vec<u8>, PictureError> {
    let options = usvg::Options { fontdb: fonts(), font_family: "Ubuntu".to_string(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options)?;
    let (width, height) = SIZE;
    let mut pixmap = tiny_skia::Pixmap::new(width, height).ok_or(PictureError::Size { width, height })?;
    resvg::render(&tree, tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| PictureError::Encode(e.to_string()))
}

/// The built-in font, loaded once: every family name (`sans-serif`, the default) resolves to it.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut database = usvg::fontdb::Database::new();
            database.load_font_data(epaint_default_fonts::UBUNTU_LIGHT.to_vec());
            database.set_sans_serif_family("Ubuntu");
            database.set_serif_family("Ubuntu");
            database.set_monospace_family("Ubuntu");
            Arc::new(database)
        })
        .clone()
}
