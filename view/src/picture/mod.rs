//! Pictures of what a program drew: a [`Picture`] is made from the engine's [`Drawing`] (a chart of
//! lines, an image of cells, or both), titled and labelled by whoever asked for it (`:plot` names its
//! expressions and axes). It renders three ways, all from the same model: [`svg`] (plotters' SVG backend,
//! a heat map's cells one PNG made by `cells.rs`), [`png`] (that SVG rasterised by resvg, with a font
//! built in, so no system font is needed) and [`text`]
//! (braille for lines, shades or colour half-blocks for images) for terminals and `text/plain`.

mod cells;
mod raster;
mod svg;
mod text;

pub use cells::{PictureError, logo_png};
pub use raster::{png, png_of_svg};
pub use svg::svg;
pub use text::text;

use kaleido_engine::{Drawing, PixelImage};

/// The size of rendered pictures, in pixels (SVG user units): wide enough for a notebook column.
pub const SIZE: (u32, u32) = (640, 400);

/// One picture to show.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// Shown above it, if any.
    pub title: Option<String>,
    /// What it shows.
    pub kind: PictureKind,
}

/// What a picture shows.
#[derive(Clone, Debug, PartialEq)]
pub enum PictureKind {
    /// Lines on axes.
    Chart(Chart),
    /// An image of values, coloured from the smallest to the largest.
    Heat(Heat),
}

/// Lines on axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The lines, in legend order.
    pub lines: Vec<Line>,
    /// What the x axis is (`x`), if known.
    pub x_label: Option<String>,
}

impl Chart {
    /// The x and y ranges of the finite points of every line, widened when empty (0..1 when none).
    pub(crate) fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let all = || self.lines.iter().flat_map(|line| runs(&line.points)).flatten();
        let range = |values: Option<(f64, f64)>| drawable(values.unwrap_or((0.0, 1.0)));
        (range(finite_range(all().map(|p| p.0))), range(finite_range(all().map(|p| p.1))))
    }
}

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Its name in the legend (`sin(x)`, `line 0`).
    pub label: String,
    /// Its points, joined in order; a point whose `y` is not finite breaks the line.
    pub points: Vec<(f64, f64)>,
}

/// An image of values.
#[derive(Clone, Debug, PartialEq)]
pub struct Heat {
    /// The cells, row by row from the top.
    pub image: PixelImage,
    /// What the columns stand for: an axis name and the values at the left and right edges (`:plot`);
    /// `None` for a program's own `pixel` image, whose axes are its cell numbers.
    pub x_axis: Option<Axis>,
    /// What the rows stand for, the bottom edge first.
    pub y_axis: Option<Axis>,
}

/// An axis of a heat map.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Its name.
    pub name: String,
    /// The value at its start (left, or bottom).
    pub from: f64,
    /// The value at its end.
    pub to: f64,
}

/// The pictures of a program's drawing, as it drew them: the image (if any) then the chart (if any), its
/// lines named by series number.
pub fn pictures_of(drawing: &Drawing) -> Vec<Picture> {
    let mut pictures = Vec::new();
    if let Some(image) = &drawing.image {
        let heat = Heat { image: image.clone(), x_axis: None, y_axis: None };
        pictures.push(Picture { title: None, kind: PictureKind::Heat(heat) });
    }
    if !drawing.series.is_empty() {
        let lines = (drawing.series.iter())
            .map(|series| Line { label: format!("line {}", series.id), points: series.points.clone() })
            .collect();
        pictures.push(Picture { title: None, kind: PictureKind::Chart(Chart { lines, x_label: None }) });
    }
    pictures
}

/// How `:plot` labels what its code draws: line `i` is expression `i`, the x axis is the range's name;
/// a heat map is titled with its expression, its axes are the two ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotFrame {
    /// The expressions, as written.
    pub expressions: Vec<String>,
    /// The first range.
    pub x: Axis,
    /// The second range: a heat map.
    pub y: Option<Axis>,
}

impl PlotFrame {
    /// The pictures of `drawing`, labelled.
    pub fn pictures(&self, drawing: &Drawing) -> Vec<Picture> {
        let mut pictures = Vec::new();
        if let Some(image) = &drawing.image {
            let heat = Heat { image: image.clone(), x_axis: Some(self.x.clone()), y_axis: self.y.clone() };
            pictures.push(Picture { title: self.expressions.first().cloned(), kind: PictureKind::Heat(heat) });
        }
        if !drawing.series.is_empty() {
            let label = |id: u32| self.expressions.get(id as usize).cloned().unwrap_or_else(|| format!("line {id}"));
            let lines = (drawing.series.iter())
                .map(|series| Line { label: label(series.id), points: series.points.clone() })
                .collect();
            let chart = Chart { lines, x_label: Some(self.x.name.clone()) };
            pictures.push(Picture { title: None, kind: PictureKind::Chart(chart) });
        }
        pictures
    }
}

/// The smallest and largest finite values of `values`, or `None` when there is none.
pub(crate) fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |range, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A range that can be drawn: an empty one (one value) is widened by one either side.
pub(crate) fn drawable((lo, hi): (f64, f64)) -> (f64, f64) {
    if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) }
}

/// The lines' points split where a `y` (or `x`) is not finite: each run is drawn as one polyline.
pub(crate) fn runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    points.split(|(x, y)| !x.is_finite() || !y.is_finite()).filter(|run| !run.is_empty()).collect()
}

/// The colour of line `index`: Tableau's ten, which stay apart for most kinds of colour blindness.
pub(crate) fn line_colour(index: usize) -> (u8, u8, u8) {
    const TABLEAU: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    TABLEAU[index % TABLEAU.len()]
}

/// The colour of a value at `t` (0: the smallest, 1: the largest): viridis, dark blue to yellow.
pub(crate) fn heat_colour(t: f64) -> (u8, u8, u8) {
    use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
    let colour = ViridisRGB.get_color_normalized(t.clamp(0.0, 1.0), 0.0, 1.0);
    (colour.0, colour.1, colour.2)
}

/// Where `value` lies in `range`, from 0 to 1.
pub(crate) fn position(value: f64, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo { (value - lo) / (hi - lo) } else { 0.5 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_breaks_where_y_is_not_finite() {
        let points = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0), (4.0, f64::INFINITY)];
        assert_eq!(runs(&points), vec![&points[0..1], &points[2..4]]);
    }

    #[test]
    fn ranges_ignore_what_is_not_finite_and_widen_a_single_value() {
        assert_eq!(finite_range([3.0, f64::NAN, -1.0, f64::INFINITY].into_iter()), Some((-1.0, 3.0)));
        assert_eq!(finite_range([f64::NAN].into_iter()), None);
        assert_eq!(drawable((2.0, 2.0)), (1.0, 3.0));
    }
}
