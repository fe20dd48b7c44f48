//! Byte spans into one entry's source text.

use std::fmt;

/// A half-open byte range `start..end` into an entry's source text.
///
/// Spans are `u32` because an entry's source is limited to [`MAX_SOURCE_LEN`] bytes; this keeps AST
/// nodes small, which matters for sessions holding 100,000 definitions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the span.
    pub start: u32,
    /// One past the last byte of the span.
    pub end: u32,
}

/// The largest entry the front end accepts, in bytes (just under 4 GiB would fit a `u32`; 256 MiB is plenty).
pub const MAX_SOURCE_LEN: usize = 256 << 20;

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The span as a `usize` range, for slicing the source.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}
