//! A picture as SVG, drawn with plotters' SVG backend: axes, ticks, labels and legend by plotters; a heat
//! map's cells as one embedded PNG stretched over the plotting area (one `<image>`, not a `<rect>` per
//! cell, so a 400 × 300 Mandelbrot stays small), with a colour bar beside it.

use base64::Engine as _;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::cells::heat_png;
use super::{Chart, Heat, Picture, PictureKind, SIZE, drawable, finite_range, line_colour, runs};

/// A tick label as the text pictures show it (`20`, not plotters' `20.0`; never `-0.0`).
fn short(value: &f64) -> String {
    super::text::tick(*value)
}

/// Tick labels' font.
const LABELS: (&str, u32) = ("sans-serif", 13);
/// Axis names' font.
const AXIS_NAMES: (&str, u32) = ("sans-serif", 15);

/// What plotters reported while drawing, as text (its error types borrow the backend).
type Drawn = Result<(), String>;

/// The picture as an SVG document, [`SIZE`] units large.
pub fn svg(picture: &Picture) -> String {
    let mut document = String::new();
    let mut inserts = Vec::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut document, SIZE).into_drawing_area();
        draw(&root, picture, &mut inserts).and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    if let Err(reason) = drawn {
        // Plotters fails only on ranges it cannot lay out; say so in the picture rather than lose it.
        return failed_svg(&reason);
    }
    // The heat map's image goes in last, above the white background plotters drew first.
    if let Some(end) = document.rfind("</svg>") {
        document.insert_str(end, &inserts.concat());
    }
    document
}

fn draw(root: &DrawingArea<SVGBackend<'_>, Shift>, picture: &Picture, inserts: &mut Vec<String>) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let area = match &picture.title {
        Some(title) => root.titled(title, ("sans-serif", 18)).map_err(|e| e.to_string())?,
        None => root.clone(),
    };
    match &picture.kind {
        PictureKind::Chart(chart) => draw_chart(&area, chart),
        PictureKind::Heat(heat) => draw_heat(&area, heat, inserts),
    }
}

fn draw_chart(area: &DrawingArea<SVGBackend<'_>, Shift>, chart: &Chart) -> Drawn {
    let (x, (y_lo, y_hi)) = chart.ranges();
    let pad = (y_hi - y_lo) * 0.05;
    let mut plot = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x.0..x.1, (y_lo - pad)..(y_hi + pad))
        .map_err(|e| e.to_string())?;
    let mut mesh = plot.configure_mesh();
    mesh.light_line_style(RGBColor(235, 235, 235)).label_style(LABELS).axis_desc_style(AXIS_NAMES);
    mesh.x_label_formatter(&short).y_label_formatter(&short);
    if let Some(label) = &chart.x_label {
        mesh.x_desc(label.as_str());
    }
    mesh.draw().map_err(|e| e.to_string())?;
    for (index, line) in chart.lines.iter().enumerate() {
        let (r, g, b) = line_colour(index);
        let colour = RGBColor(r, g, b);
        for (run_index, run) in runs(&line.points).into_iter().enumerate() {
            let series = plot
                .draw_series(LineSeries::new(thinned(run, x), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            if run_index == 0 {
                series
                    .label(line.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            }
        }
    }
    plot.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .position(SeriesLabelPosition::UpperRight)
        .label_font(LABELS)
        .draw()
        .map_err(|e| e.to_string())
}

fn draw_heat(area: &DrawingArea<SVGBackend<'_>, Shift>, heat: &Heat, inserts: &mut Vec<String>) -> Drawn {
    let (width, height) = (heat.image.width as f64, heat.image.height as f64);
    let (main, bar) = area.split_horizontally(area.dim_in_pixel().0.saturating_sub(90));
    // A program's own image counts cells from the top left; `:plot` gives its axes' values.
    let x = heat.x_axis.as_ref().map_or((0.0, width), |a| (a.from, a.to));
    let y = heat.y_axis.as_ref().map_or((0.0, height), |a| (a.from, a.to));
    // Rows count down from the top: the labels of a program's own image say so.
    let from_top = |v: &f64| super::text::tick(height - v);
    let mut plot = ChartBuilder::on(&main)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(|e| e.to_string())?;
    let mut mesh = plot.configure_mesh();
    mesh.disable_mesh().label_style(LABELS).axis_desc_style(AXIS_NAMES);
    mesh.x_label_formatter(&short).y_label_formatter(&short);
    if let Some(axis) = &heat.x_axis {
        mesh.x_desc(axis.name.as_str());
    }
    match &heat.y_axis {
        Some(axis) => mesh.y_desc(axis.name.as_str()),
        None => mesh.y_label_formatter(&from_top),
    };
    mesh.draw().map_err(|e| e.to_string())?;
    let (columns, rows) = plot.plotting_area().get_pixel_range();
    let range = finite_range(heat.image.values.iter().copied());
    let png = heat_png(&heat.image, range).map_err(|e| e.to_string())?;
    // The plotting area's pixel range is in the document's coordinates already.
    inserts.push(image_element(&png, (columns.start, rows.start), (columns.len(), rows.len())));
    if let Some(range) = range {
        colour_bar(&bar, range)?;
    }
    Ok(())
}

/// Columns a line is thinned to: more than the plotting area's pixels across.
const COLUMNS: usize = 640;

/// `run`'s points, or, when there are many more than the picture has pixels across, what each column of
/// the picture shows of them: its first, lowest, highest and last point, in order. The line looks the same
/// (every peak kept) and a million points make a few thousand, not a 15 MB SVG.
fn thinned(run: &[(f64, f64)], (from, to): (f64, f64)) -> Vec<(f64, f64)> {
    if run.len() <= COLUMNS * 4 || to <= from {
        return run.to_vec();
    }
    let column = |x: f64| (((x - from) / (to - from) * COLUMNS as f64) as usize).min(COLUMNS - 1);
    let mut kept = Vec::with_capacity(COLUMNS * 4);
    let mut start = 0;
    while start < run.len() {
        let here = column(run[start].0);
        let end = start + run[start..].iter().take_while(|p| column(p.0) == here).count();
        let bucket = &run[start..end];
        let lowest = bucket.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1)).map_or(0, |(i, _)| i);
        let highest = bucket.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1)).map_or(0, |(i, _)| i);
        let mut picks = vec![0, lowest, highest, bucket.len() - 1];
        picks.sort_unstable();
        picks.dedup();
        kept.extend(picks.into_iter().map(|i| bucket[i]));
        start = end;
    }
    kept
}

/// An `<image>` of `png` over the given pixel rectangle, cells kept sharp (no smoothing between them).
fn image_element(png: &[u8], (left, top): (i32, i32), (width, height): (usize, usize)) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "<image x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{height}\" preserveAspectRatio=\"none\" \
         image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{data}\"/>\n"
    )
}

/// The scale beside a heat map: the colours from the smallest value (bottom) to the largest (top).
fn colour_bar(area: &DrawingArea<SVGBackend<'_>, Shift>, (lo, hi): (f64, f64)) -> Drawn {
    let (lo_drawn, hi_drawn) = drawable((lo, hi));
    let mut bar = ChartBuilder::on(area)
        .margin_top(12)
        .margin_bottom(48)
        .margin_left(16)
        .right_y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, lo_drawn..hi_drawn)
        .map_err(|e| e.to_string())?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&short)
        .label_style(LABELS)
        .draw()
        .map_err(|e| e.to_string())?;
    const STEPS: usize = 64;
    let step = (hi_drawn - lo_drawn) / STEPS as f64;
    let cells = (0..STEPS).map(|i| {
        let (r, g, b) = super::heat_colour((i as f64 + 0.5) / STEPS as f64);
        let from = lo_drawn + step * i as f64;
        Rectangle::new([(0.0, from), (1.0, from + step)], RGBColor(r, g, b).filled())
    });
    bar.draw_series(cells).map(|_| ()).map_err(|e| e.to_string())
}

/// A picture that could not be drawn, with why.
fn failed_svg(reason: &str) -> String {
    let (width, height) = SIZE;
    let reason = reason.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">\
         <text x=\"12\" y=\"24\" font-family=\"sans-serif\">cannot draw this picture: {reason}</text></svg>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_keeps_each_columns_extremes_in_order() {
        let run: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, ((i * 7919) % 1000) as f64)).collect();
        let kept = thinned(&run, (0.0, 99_999.0));
        assert!(kept.len() <= COLUMNS * 4, "{}", kept.len());
        assert!(kept.windows(2).all(|w| w[0].0 <= w[1].0), "in order");
        assert_eq!((kept[0], *kept.last().unwrap()), (run[0], run[99_999]));
        assert!(kept.iter().any(|p| p.1 == 999.0) && kept.iter().any(|p| p.1 == 0.0), "the extremes are kept");
        let short = &run[..100];
        assert_eq!(thinned(short, (0.0, 99.0)), short.to_vec(), "a short line is drawn as it is");
    }
}
