//! The recorder behind `pixel` and `plotpoint`: what the running entry has drawn so far, checked
//! against the limits in `base/drawing.rs`.

use std::collections::BTreeMap;

use crate::base::drawing::{
    Drawing, DrawingError, MAX_IMAGE_SIDE, MAX_PIXELS, MAX_POINTS, MAX_SERIES, PixelImage, Series,
};

/// What an entry has drawn so far.
#[derive(Debug, Default)]
pub(crate) struct DrawingRecorder {
    pixels: BTreeMap<(u32, u32), f64>,
    series: BTreeMap<u32, Vec<(f64, f64)>>,
    points: usize,
}

/// `value` as a whole number below `max`, or why not.
fn whole(builtin: &'static str, what: &'static str, value: f64, max: u32) -> Result<u32, DrawingError> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < max as f64 {
        Ok(value as u32)
    } else {
        Err(DrawingError::OutOfRange { builtin, what, given: crate::runtime::format_value(value), max })
    }
}

impl DrawingRecorder {
    /// `pixel(x, y, v)`: sets the cell at column `x`, row `y` (from the top left) to `v`.
    pub(crate) fn pixel(&mut self, x: f64, y: f64, value: f64) -> Result<(), DrawingError> {
        let x = whole("pixel", "x", x, MAX_IMAGE_SIDE)?;
        let y = whole("pixel", "y", y, MAX_IMAGE_SIDE)?;
        if self.pixels.len() >= MAX_PIXELS && !self.pixels.contains_key(&(y, x)) {
            return Err(DrawingError::TooMuch { builtin: "pixel", what: "pixels", limit: MAX_PIXELS });
        }
        self.pixels.insert((y, x), value);
        Ok(())
    }

    /// `plotpoint(series, x, y)`: adds the point (`x`, `y`) to line `series`.
    pub(crate) fn point(&mut self, series: f64, x: f64, y: f64) -> Result<(), DrawingError> {
        let series = whole("plotpoint", "series", series, MAX_SERIES)?;
        if self.points >= MAX_POINTS {
            return Err(DrawingError::TooMuch { builtin: "plotpoint", what: "points", limit: MAX_POINTS });
        }
        self.points += 1;
        self.series.entry(series).or_default().push((x, y));
        Ok(())
    }

    /// Whether anything was drawn since the last take.
    pub(crate) fn has_drawn(&self) -> bool {
        !self.pixels.is_empty() || !self.series.is_empty()
    }

    /// Everything drawn since the last take, if anything was; the recorder is empty afterwards.
    pub(crate) fn take(&mut self) -> Option<Drawing> {
        let recorder = std::mem::take(self);
        if recorder.pixels.is_empty() && recorder.series.is_empty() {
            return None;
        }
        let image = (!recorder.pixels.is_empty()).then(|| {
            let width = recorder.pixels.keys().map(|&(_, x)| x + 1).max().unwrap_or(1);
            let height = recorder.pixels.keys().map(|&(y, _)| y + 1).max().unwrap_or(1);
            let mut values = vec![f64::NAN; (width * height) as usize];
            for (&(y, x), &value) in &recorder.pixels {
                values[(y * width + x) as usize] = value;
            }
            PixelImage { width, height, values }
        });
        let series = recorder.series.into_iter().map(|(id, points)| Series { id, points }).collect();
        Some(Drawing { image, series })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_make_an_image_as_large_as_the_cells_set() {
        let mut recorder = DrawingRecorder::default();
        recorder.pixel(2.0, 0.0, 5.0).unwrap();
        recorder.pixel(0.0, 1.0, 7.0).unwrap();
        let drawing = recorder.take().unwrap();
        let image = drawing.image.unwrap();
        assert_eq!((image.width, image.height), (3, 2));
        assert_eq!(image.at(2, 0), 5.0);
        assert_eq!(image.at(0, 1), 7.0);
        assert!(image.at(1, 1).is_nan());
        assert!(recorder.take().is_none(), "taking empties the recorder");
    }

    #[test]
    fn coordinates_must_be_whole_and_in_range() {
        let mut recorder = DrawingRecorder::default();
        for (x, y) in [(-1.0, 0.0), (0.5, 0.0), (0.0, 2048.0), (f64::NAN, 0.0)] {
            let error = recorder.pixel(x, y, 1.0).unwrap_err();
            assert!(matches!(error, DrawingError::OutOfRange { builtin: "pixel", .. }), "{x} {y}");
        }
        assert_eq!(
            recorder.point(64.0, 0.0, 0.0).unwrap_err().to_string(),
            "plotpoint's series must be a whole number from 0 to 63, not 64"
        );
        assert!(recorder.take().is_none());
    }

    #[test]
    fn points_keep_their_order_within_a_series() {
        let mut recorder = DrawingRecorder::default();
        recorder.point(1.0, 0.0, 1.0).unwrap();
        recorder.point(0.0, 5.0, 2.0).unwrap();
        recorder.point(1.0, -1.0, 3.0).unwrap();
        let drawing = recorder.take().unwrap();
        assert_eq!(
            drawing.series,
            vec![Series { id: 0, points: vec![(5.0, 2.0)] }, Series { id: 1, points: vec![(0.0, 1.0), (-1.0, 3.0)] },]
        );
    }
}
