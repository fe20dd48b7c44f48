//! What a program draws, as data: `pixel(x, y, v)` sets a cell of an image, `plotpoint(s, x, y)` adds a
//! point to line `s` of a chart. The runtime records it while an entry runs (`runtime/drawing.rs`); the
//! engine hands it to the front end with the entry's outcome ([`crate::Outcome::drawing`]), which shows it
//! as a picture. Nothing here knows how pictures look: that is `kaleido-view`'s job.

/// The largest image side, in pixels: `pixel` refuses coordinates at or past it.
pub const MAX_IMAGE_SIDE: u32 = 2048;
/// The most distinct pixels one entry may set (a full 1000 × 1000 image).
pub const MAX_PIXELS: usize = 1_000_000;
/// The most lines one chart may have: `plotpoint`'s series is a whole number below it.
pub const MAX_SERIES: u32 = 64;
/// The most points one entry may plot, over all its lines.
pub const MAX_POINTS: usize = 1_000_000;

/// An image a program drew with `pixel`: `width` × `height` values, row by row from the top; cells
/// never set are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct PixelImage {
    /// Columns: one more than the largest `x` set.
    pub width: u32,
    /// Rows: one more than the largest `y` set.
    pub height: u32,
    /// The values, `width * height` of them, row-major.
    pub values: Vec<f64>,
}

impl PixelImage {
    /// The value at column `x`, row `y` (NaN: never set).
    pub fn at(&self, x: u32, y: u32) -> f64 {
        self.values[(y * self.width + x) as usize]
    }
}

/// One line of a chart: the points `plotpoint(id, x, y)` added, in the order they were added. A point
/// whose `y` is not finite breaks the line there.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series number the program gave.
    pub id: u32,
    /// Its points.
    pub points: Vec<(f64, f64)>,
}

/// Everything one entry drew.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawing {
    /// The image, if `pixel` was called.
    pub image: Option<PixelImage>,
    /// The chart's lines, by series number, if `plotpoint` was called.
    pub series: Vec<Series>,
}

/// Why a drawing builtin refused its arguments.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DrawingError {
    /// A coordinate or series number is not a whole number in range.
    #[error("{builtin}'s {what} must be a whole number from 0 to {below_max}, not {given}", below_max = .max - 1)]
    OutOfRange {
        /// `pixel` or `plotpoint`.
        builtin: &'static str,
        /// Which argument (`x`, `y`, `series`).
        what: &'static str,
        /// The value given, formatted.
        given: String,
        /// The bound it must stay below.
        max: u32,
    },
    /// The entry drew more than a picture may hold.
    #[error("{builtin}: one entry may draw at most {limit} {what}")]
    TooMuch {
        /// `pixel` or `plotpoint`.
        builtin: &'static str,
        /// `pixels` or `points`.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}
