//! Pictures rendered from drawings: the text a terminal shows (exact), and SVG and PNG that hold what
//! they must (labels, the embedded image, the size), decoded back to check.

use expect_test::expect;
use kaleido_engine::{Drawing, PixelImage, Series};
use kaleido_view::picture::{Axis, PlotFrame, SIZE, pictures_of, png, svg, text};
use resvg::tiny_skia::Pixmap;

fn sine_drawing() -> Drawing {
    let points = |f: fn(f64) -> f64| (0..=40).map(|i| -3.0 + 6.0 * i as f64 / 40.0).map(|x| (x, f(x))).collect();
    Drawing {
        image: None,
        series: vec![Series { id: 0, points: points(f64::sin) }, Series { id: 1, points: points(f64::cos) }],
    }
}

fn gradient() -> PixelImage {
    let (width, height) = (8, 4);
    let values = (0..width * height).map(|i| if i == 0 { f64::NAN } else { (i % width) as f64 }).collect();
    PixelImage { width, height, values }
}

fn frame() -> PlotFrame {
    PlotFrame {
        expressions: vec!["sin(x)".into(), "cos(x)".into()],
        x: Axis { name: "x".into(), from: -3.0, to: 3.0 },
        y: None,
    }
}

#[test]
fn a_chart_as_text_is_braille_with_its_range_and_legend() {
    let pictures = frame().pictures(&sine_drawing());
    assert_eq!(pictures.len(), 1);
    let shown = text(&pictures[0], false);
    let last = shown.lines().last().unwrap();
    assert_eq!(last, "x: -3 … 3; lines: sin(x), cos(x)");
    let first = shown.lines().next().unwrap();
    assert!(first.ends_with(" 1"), "{first}");
    assert!(shown.lines().nth(15).unwrap().ends_with(" -0.9975"), "{shown}");
    assert_eq!(shown.lines().count(), 17, "16 rows of braille and the legend:\n{shown}");
    assert!(shown.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "{shown}");
}

#[test]
fn an_image_as_text_is_shades_from_dark_to_bright() {
    let pictures = pictures_of(&Drawing { image: Some(gradient()), series: Vec::new() });
    expect![[r#"
         .-=+*%@
         .-=+*%@
        8 × 4 pixels; values 0 … 7
    "#]]
    .assert_eq(&text(&pictures[0], false));
}

#[test]
fn an_image_in_colour_is_half_blocks() {
    let pictures = pictures_of(&Drawing { image: Some(gradient()), series: Vec::new() });
    let shown = text(&pictures[0], true);
    assert_eq!(shown.matches('▀').count(), 16, "{shown}");
    assert!(shown.contains("\x1b[39m"), "the unset cell shows the terminal's own colour: {shown:?}");
}

#[test]
fn svg_has_the_labels_and_png_is_the_picture_size() {
    let pictures = frame().pictures(&sine_drawing());
    let document = svg(&pictures[0]);
    assert!(document.starts_with("<svg"), "{document}");
    std::fs::write(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chart.svg"), &document).unwrap();
    for label in ["sin(x)", "cos(x)", ">\nx\n</text>"] {
        assert!(document.contains(label), "{label} missing from the SVG");
    }
    let encoded = png(&pictures[0]).unwrap();
    let decoded = Pixmap::decode_png(&encoded).unwrap();
    assert_eq!((decoded.width(), decoded.height()), SIZE);
    // Both lines' colours are in the pixels: the chart was drawn, not just its frame.
    let has = |(r, g, b): (u8, u8, u8)| decoded.pixels().iter().any(|p| (p.red(), p.green(), p.blue()) == (r, g, b));
    assert!(has((31, 119, 180)) && has((255, 127, 14)));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(dir.join("chart.png"), &encoded).unwrap();
}

#[test]
fn a_heat_map_embeds_its_cells_as_one_image() {
    let frame = PlotFrame {
        expressions: vec!["x * y".into()],
        x: Axis { name: "x".into(), from: 0.0, to: 1.0 },
        y: Some(Axis { name: "y".into(), from: -1.0, to: 1.0 }),
    };
    let pictures = frame.pictures(&Drawing { image: Some(gradient()), series: Vec::new() });
    let document = svg(&pictures[0]);
    std::fs::write(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("heat.svg"), &document).unwrap();
    assert_eq!(document.matches("<image").count(), 1);
    assert!(document.contains("x * y"), "titled with the expression");
    let encoded = png(&pictures[0]).unwrap();
    let decoded = Pixmap::decode_png(&encoded).unwrap();
    let brightest = super_yellow(&decoded);
    assert!(brightest, "the largest value's colour (viridis yellow) is drawn");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(dir.join("heat.png"), &encoded).unwrap();
}

fn super_yellow(pixmap: &Pixmap) -> bool {
    pixmap.pixels().iter().any(|p| p.red() > 240 && p.green() > 220 && p.blue() < 60)
}
