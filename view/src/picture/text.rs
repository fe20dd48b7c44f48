//! A picture as text, for terminals, scripts and a notebook's `text/plain`: a chart in braille (with
//! textplots), one colour per line when colour is on; a heat map as shades (` .:-=+*#%@`), or as colour
//! half-blocks (two cells per character, 24-bit colour) when colour is on. Every picture ends with a line
//! that says what is where, so it reads without colour too.

use textplots::{Chart as TextChart, ColorPlot, Plot, Shape};

use super::{Chart, Heat, Picture, PictureKind, finite_range, heat_colour, line_colour, position, runs};

/// Braille dots across and down a text chart (two by four per character, and textplots draws on both
/// edges): 65 × 16 characters.
const CHART_DOTS: (u32, u32) = (128, 60);
/// The most characters across a heat map.
const HEAT_COLUMNS: u32 = 64;
/// The shades of a heat map without colour, from the smallest value to the largest.
const SHADES: &[u8] = b" .:-=+*#%@";

/// The picture as text, lines ended with `\n`; `colour` uses ANSI colour escapes.
pub fn text(picture: &Picture, colour: bool) -> String {
    let mut text = String::new();
    if let Some(title) = &picture.title {
        text.push_str(title);
        text.push('\n');
    }
    match &picture.kind {
        PictureKind::Chart(chart) => text.push_str(&chart_text(chart, colour)),
        PictureKind::Heat(heat) => text.push_str(&heat_text(heat, colour)),
    }
    text
}

/// A number as an axis shows it: at most four significant digits, no trailing zeros.
pub(crate) fn tick(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return crate::format_value(if value == 0.0 { 0.0 } else { value });
    }
    let digits = (3 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".to_string() } else { text }
}

fn chart_text(chart: &Chart, colour: bool) -> String {
    let ((x_lo, x_hi), (y_lo, y_hi)) = chart.ranges();
    let points: Vec<(usize, Vec<(f32, f32)>)> = (chart.lines.iter().enumerate())
        .flat_map(|(index, line)| {
            runs(&line.points)
                .into_iter()
                .map(move |run| (index, run.iter().map(|&(x, y)| (x as f32, y as f32)).collect()))
        })
        .collect();
    let shapes: Vec<(usize, Shape<'_>)> = points.iter().map(|(index, run)| (*index, Shape::Lines(run))).collect();
    let (width, height) = CHART_DOTS;
    let mut base = TextChart::new_with_y_range(width, height, x_lo as f32, x_hi as f32, y_lo as f32, y_hi as f32);
    let mut drawn = &mut base;
    for (index, shape) in &shapes {
        drawn = match colour {
            true => {
                let (r, g, b) = line_colour(*index);
                drawn.linecolorplot(shape, rgb::RGB8 { r, g, b })
            }
            false => drawn.lineplot(shape),
        };
    }
    drawn.axis();
    drawn.figures();
    let mut text = braille_only(&drawn.to_string(), (y_lo, y_hi));
    let legend: Vec<String> = (chart.lines.iter().enumerate())
        .map(|(index, line)| match colour {
            true => {
                let (r, g, b) = line_colour(index);
                format!("\x1b[38;2;{r};{g};{b}m━━\x1b[0m {}", line.label)
            }
            false => line.label.clone(),
        })
        .collect();
    let x_name = chart.x_label.as_deref().map(|name| format!("{name}: ")).unwrap_or_default();
    text.push_str(&format!("{x_name}{} … {}; lines: {}\n", tick(x_lo), tick(x_hi), legend.join(", ")));
    text
}

/// textplots' frame with its own f32 axis figures replaced by kaleido's: the top row ends with the
/// largest `y`, the bottom row with the smallest (the caller's summary line gives the `x` range).
fn braille_only(frame: &str, (y_lo, y_hi): (f64, f64)) -> String {
    let rows: Vec<&str> = frame.lines().collect();
    // The last line is textplots' x figures, which the caller's summary line replaces.
    let canvas = &rows[..rows.len().saturating_sub(1)];
    let mut text = String::new();
    for (i, row) in canvas.iter().enumerate() {
        let dots: String = row.chars().filter(|c| ('\u{2800}'..='\u{28ff}').contains(c)).collect();
        text.push_str(&dots);
        match i {
            0 => text.push_str(&format!(" {}", tick(y_hi))),
            i if i + 1 == canvas.len() => text.push_str(&format!(" {}", tick(y_lo))),
            _ => {}
        }
        text.push('\n');
    }
    text
}

fn heat_text(heat: &Heat, colour: bool) -> String {
    let image = &heat.image;
    // Each character is one cell across and two down (characters are about twice as tall as wide); a
    // large image is averaged down to fit.
    let step = image.width.div_ceil(HEAT_COLUMNS).max(1);
    let (columns, rows) = (image.width.div_ceil(step), image.height.div_ceil(step * 2));
    let range = finite_range(image.values.iter().copied());
    let cell = |column: u32, row: u32| average(heat, (column * step, row * step), step);
    let mut text = String::new();
    for row in 0..rows {
        for column in 0..columns {
            let (top, bottom) = (cell(column, row * 2), cell(column, row * 2 + 1));
            match (colour, range) {
                (true, Some(range)) => text.push_str(&half_block(top, bottom, range)),
                _ => text.push(shade(mean(top, bottom), range)),
            }
        }
        if colour {
            text.push_str("\x1b[0m");
        }
        text.push('\n');
    }
    text.push_str(&heat_legend(heat, range));
    text
}

/// The average of the finite values in the `step` × `step` cells from `(x, y)` (NaN: none).
fn average(heat: &Heat, (x, y): (u32, u32), step: u32) -> f64 {
    let image = &heat.image;
    let (mut sum, mut count) = (0.0, 0u32);
    for yy in y..(y + step).min(image.height) {
        for xx in x..(x + step).min(image.width) {
            let value = image.at(xx, yy);
            if value.is_finite() {
                sum += value;
                count += 1;
            }
        }
    }
    if count == 0 { f64::NAN } else { sum / count as f64 }
}

fn mean(a: f64, b: f64) -> f64 {
    match (a.is_finite(), b.is_finite()) {
        (true, true) => (a + b) / 2.0,
        (true, false) => a,
        (false, true) => b,
        (false, false) => f64::NAN,
    }
}

fn shade(value: f64, range: Option<(f64, f64)>) -> char {
    match range {
        Some(range) if value.is_finite() => {
            let level = (position(value, range) * (SHADES.len() - 1) as f64).round() as usize;
            SHADES[level.min(SHADES.len() - 1)] as char
        }
        _ => ' ',
    }
}

/// `▀` with the top cell's colour in front and the bottom's behind; a blank cell is the terminal's own.
fn half_block(top: f64, bottom: f64, range: (f64, f64)) -> String {
    let colour = |value: f64, layer: u8| {
        if value.is_finite() {
            let (r, g, b) = heat_colour(position(value, range));
            format!("\x1b[{layer};2;{r};{g};{b}m")
        } else {
            format!("\x1b[{}m", layer + 1)
        }
    };
    format!("{}{}▀", colour(top, 38), colour(bottom, 48))
}

fn heat_legend(heat: &Heat, range: Option<(f64, f64)>) -> String {
    let image = &heat.image;
    let axes = match (&heat.x_axis, &heat.y_axis) {
        (Some(x), Some(y)) => format!(
            "{}: {} … {} (left to right), {}: {} … {} (bottom to top)",
            x.name,
            tick(x.from),
            tick(x.to),
            y.name,
            tick(y.from),
            tick(y.to)
        ),
        _ => format!("{} × {} pixels", image.width, image.height),
    };
    let values = match range {
        Some((lo, hi)) => format!("values {} … {}", tick(lo), tick(hi)),
        None => "no finite values".to_string(),
    };
    format!("{axes}; {values}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        for (value, text) in [(0.0, "0"), (2.0, "2"), (-3.0, "-3"), (0.12345, "0.1235"), (1234.6, "1235"), (2.5, "2.5")]
        {
            assert_eq!(tick(value), text, "{value}");
        }
    }
}
