//! What crosses the process boundary besides addresses: a run's result (its value, the error it raised,
//! the frames that error passed) and what an entry drew, as `wire` fields. The executor encodes; the
//! controller decodes and trusts nothing: every count is bounded, every name must be one of the runtime's
//! own, and a drawing must respect the limits a drawing in this process has.

use crate::base::drawing::{
    Drawing, DrawingError, MAX_IMAGE_SIDE, MAX_PIXELS, MAX_POINTS, MAX_SERIES, PixelImage, Series,
};
use crate::base::wire::{Fields, Message, WireError};
use crate::runtime::{Raised, RawFrames};

/// Controller → executor: run the top-level code at an address (fields: address, frame size).
pub(crate) const TAG_RUN: u64 = 1;
/// Controller → executor: hand over what the entry drew.
pub(crate) const TAG_TAKE_DRAWING: u64 = 2;
/// Controller → executor: an entry is starting, its code will come soon (no result): the executor wakes
/// and spins, so the run does not wait for it to be scheduled.
pub(crate) const TAG_WAKE: u64 = 3;
/// Controller → executor in another image: map my layout (arena, stores, signals, state, natives).
pub(crate) const TAG_LAYOUT: u64 = 4;
/// Controller → executor in another image: code bytes at an address (no result).
pub(crate) const TAG_WRITE_CODE: u64 = 5;
/// Controller → executor in another image: cells' new bits, (address, bits) pairs (no result).
pub(crate) const TAG_WRITE_WORDS: u64 = 6;
/// Controller → executor in another image: a C function by name, at the controller's address of it.
pub(crate) const TAG_BIND: u64 = 7;
/// Controller → executor in another image: load a C library (a path).
pub(crate) const TAG_LOAD_LIBRARY: u64 = 8;
/// Controller → executor in another image: stop the running code (acted on by its reader thread).
pub(crate) const TAG_INTERRUPT: u64 = 9;
/// Executor → controller: compile the function deferred for a slot (field: the slot's address).
pub(crate) const TAG_LAZY_COMPILE: u64 = 16;
/// Executor → controller: tier up the code behind a slot (fields: slot, code id).
pub(crate) const TAG_TIER_UP: u64 = 17;
/// Executor → controller: program output (field: the bytes); no result.
pub(crate) const TAG_OUTPUT: u64 = 18;

/// The names a drawing error may carry: the runtime's own words, sent by index.
const WORDS: [&str; 7] = ["pixel", "plotpoint", "x", "y", "series", "pixels", "points"];

/// Why a message's contents are not acceptable, though well formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CodecError {
    /// A field could not be read.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A field holds a value it may not.
    #[error("a message's {0} is out of range")]
    OutOfRange(&'static str),
}

fn word(index: u64) -> Result<&'static str, CodecError> {
    WORDS.get(index as usize).copied().ok_or(CodecError::OutOfRange("drawing word"))
}

fn word_index(word: &str) -> u64 {
    WORDS.iter().position(|w| *w == word).unwrap_or(WORDS.len()) as u64
}

/// Appends a raised error.
pub(crate) fn push_raised(message: &mut Message, raised: &Raised) {
    match raised {
        Raised::Undefined { slot } => message.push_u64(1).push_u64(*slot as u64),
        Raised::ArityMismatch { slot } => message.push_u64(2).push_u64(*slot as u64),
        Raised::StackOverflow => message.push_u64(3),
        Raised::Interrupted => message.push_u64(4),
        Raised::Drawing(DrawingError::OutOfRange { builtin, what, given, max }) => {
            message.push_u64(5).push_u64(word_index(builtin)).push_u64(word_index(what));
            message.push_str(given).push_u64(u64::from(*max))
        }
        Raised::Drawing(DrawingError::TooMuch { builtin, what, limit }) => {
            message.push_u64(6).push_u64(word_index(builtin)).push_u64(word_index(what)).push_u64(*limit as u64)
        }
        Raised::CompileFailed { slot, reason } => message.push_u64(7).push_u64(*slot as u64).push_str(reason),
        Raised::OutputFailed { reason } => message.push_u64(8).push_str(reason),
        // Raised by the controller only: never sent.
        Raised::ExecutorEnded(..) | Raised::ExecutorStopped(_) => message.push_u64(0),
    };
}

/// Reads a raised error.
pub(crate) fn read_raised(fields: &mut Fields<'_>) -> Result<Raised, CodecError> {
    Ok(match fields.u64()? {
        1 => Raised::Undefined { slot: fields.u64()? as usize },
        2 => Raised::ArityMismatch { slot: fields.u64()? as usize },
        3 => Raised::StackOverflow,
        4 => Raised::Interrupted,
        5 => {
            let (builtin, what) = (word(fields.u64()?)?, word(fields.u64()?)?);
            let given = fields.str()?.to_string();
            let max = u32::try_from(fields.u64()?).map_err(|_| CodecError::OutOfRange("bound"))?;
            Raised::Drawing(DrawingError::OutOfRange { builtin, what, given, max })
        }
        6 => {
            let (builtin, what) = (word(fields.u64()?)?, word(fields.u64()?)?);
            Raised::Drawing(DrawingError::TooMuch { builtin, what, limit: fields.u64()? as usize })
        }
        7 => Raised::CompileFailed { slot: fields.u64()? as usize, reason: fields.str()?.to_string() },
        8 => Raised::OutputFailed { reason: fields.str()?.to_string() },
        _ => return Err(CodecError::OutOfRange("error kind")),
    })
}

/// The longest run of frames sent as one repeated group: mutual recursion of up to this many functions
/// travels in a few bytes however deep it went (millions of frames).
const MAX_PERIOD: usize = 8;

/// Appends a run's frames, as groups: (period, times, the period's frames).
pub(crate) fn push_frames(message: &mut Message, frames: &RawFrames) {
    let mut groups = Vec::new();
    let mut at = 0;
    while at < frames.len() {
        let (period, times) = longest_repeat(&frames[at..]);
        groups.push((at, period, times));
        at += period * times;
    }
    message.push_u64(groups.len() as u64);
    for (start, period, times) in groups {
        message.push_u64(period as u64).push_u64(times as u64);
        for &(code, repeat, site) in &frames[start..start + period] {
            message.push_u64(u64::from(code)).push_u64(repeat).push_u64(u64::from(site));
        }
    }
}

/// The repeated group at the start of `frames` that covers the most of them: (period, times).
fn longest_repeat(frames: &[(u32, u64, u32)]) -> (usize, usize) {
    let mut best = (1, 1);
    for period in 1..=MAX_PERIOD.min(frames.len()) {
        let mut times = 1;
        while frames.len() >= (times + 1) * period && frames[times * period..(times + 1) * period] == frames[..period] {
            times += 1;
        }
        if period * times > best.0 * best.1 {
            best = (period, times);
        }
    }
    best
}

/// Reads a run's frames, at most `limit` of them in all (the executor cannot make the controller allocate
/// without bound).
pub(crate) fn read_frames(fields: &mut Fields<'_>, limit: usize) -> Result<RawFrames, CodecError> {
    let groups = fields.u64()?;
    let small = |value: u64| u32::try_from(value).map_err(|_| CodecError::OutOfRange("frame"));
    let mut frames = Vec::new();
    for _ in 0..groups {
        let (period, times) = (fields.u64()?, fields.u64()?);
        let total = period.checked_mul(times).and_then(|n| n.checked_add(frames.len() as u64));
        if period == 0 || period > MAX_PERIOD as u64 || total.is_none_or(|n| n > limit as u64) {
            return Err(CodecError::OutOfRange("frame count"));
        }
        let mut group = Vec::with_capacity(period as usize);
        for _ in 0..period {
            group.push((small(fields.u64()?)?, fields.u64()?, small(fields.u64()?)?));
        }
        for _ in 0..times {
            frames.extend_from_slice(&group);
        }
    }
    Ok(frames)
}

/// Appends a drawing, if there is one.
pub(crate) fn push_drawing(message: &mut Message, drawing: Option<&Drawing>) {
    let Some(drawing) = drawing else {
        message.push_u64(0);
        return;
    };
    message.push_u64(1);
    match &drawing.image {
        None => message.push_u64(0),
        Some(image) => {
            message.push_u64(1).push_u64(u64::from(image.width)).push_u64(u64::from(image.height));
            message.push_bytes(&floats(image.values.iter().copied()))
        }
    };
    message.push_u64(drawing.series.len() as u64);
    for series in &drawing.series {
        message.push_u64(u64::from(series.id));
        message.push_bytes(&floats(series.points.iter().flat_map(|&(x, y)| [x, y])));
    }
}

fn floats(values: impl Iterator<Item = f64>) -> Vec<u8> {
    values.flat_map(f64::to_le_bytes).collect()
}

fn read_floats(bytes: &[u8]) -> Vec<f64> {
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
}

/// Reads a drawing, holding it to the limits of a drawing made in this process.
pub(crate) fn read_drawing(fields: &mut Fields<'_>) -> Result<Option<Drawing>, CodecError> {
    if fields.u64()? == 0 {
        return Ok(None);
    }
    let image = match fields.u64()? {
        0 => None,
        _ => {
            let side = |v: u64| u32::try_from(v).ok().filter(|s| (1..=MAX_IMAGE_SIDE).contains(s));
            let width = side(fields.u64()?).ok_or(CodecError::OutOfRange("image width"))?;
            let height = side(fields.u64()?).ok_or(CodecError::OutOfRange("image height"))?;
            let bytes = fields.bytes()?;
            let cells = width as usize * height as usize;
            if cells > MAX_PIXELS || bytes.len() != cells * 8 {
                return Err(CodecError::OutOfRange("image size"));
            }
            Some(PixelImage { width, height, values: read_floats(bytes) })
        }
    };
    let count = fields.u64()?;
    if count > u64::from(MAX_SERIES) {
        return Err(CodecError::OutOfRange("series count"));
    }
    let mut series = Vec::new();
    let mut points = 0;
    for _ in 0..count {
        let id = u32::try_from(fields.u64()?).ok().filter(|id| *id < MAX_SERIES);
        let id = id.ok_or(CodecError::OutOfRange("series"))?;
        let bytes = fields.bytes()?;
        points += bytes.len() / 16;
        if bytes.len() % 16 != 0 || points > MAX_POINTS {
            return Err(CodecError::OutOfRange("points"));
        }
        let values = read_floats(bytes);
        series.push(Series { id, points: values.chunks_exact(2).map(|p| (p[0], p[1])).collect() });
    }
    Ok(Some(Drawing { image, series }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::wire::Opcode;

    #[test]
    fn errors_frames_and_drawings_round_trip() {
        let raised = [
            Raised::Undefined { slot: 64 },
            Raised::Interrupted,
            Raised::Drawing(DrawingError::OutOfRange { builtin: "pixel", what: "x", given: "-1".into(), max: 2048 }),
            Raised::Drawing(DrawingError::TooMuch { builtin: "plotpoint", what: "points", limit: 5 }),
            Raised::CompileFailed { slot: 8, reason: "out of code memory".into() },
        ];
        let mut frames = vec![(3, 1, 0), (4, 9000, 2)];
        frames.extend((0..1000).flat_map(|_| [(5, 1, 0), (6, 1, 1)]));
        frames.push((7, 1, 0));
        let image = PixelImage { width: 2, height: 1, values: vec![0.5, f64::NAN] };
        let drawing = Drawing { image: Some(image), series: vec![Series { id: 3, points: vec![(1.0, 2.0)] }] };
        for raised in raised {
            let mut message = Message::new(Opcode::Result, 1, 0);
            push_raised(&mut message, &raised);
            push_frames(&mut message, &frames);
            push_drawing(&mut message, Some(&drawing));
            let mut fields = message.fields();
            assert_eq!(read_raised(&mut fields), Ok(raised));
            assert_eq!(read_frames(&mut fields, 10_000), Ok(frames.clone()));
            let back = read_drawing(&mut fields).expect("decodes").expect("a drawing");
            assert_eq!(back.series, drawing.series);
            assert_eq!(back.image.as_ref().map(|i| i.values.len()), Some(2));
            fields.finish().expect("nothing left");
        }
    }

    #[test]
    fn out_of_range_contents_are_refused() {
        let mut message = Message::new(Opcode::Result, 1, 0);
        message.push_u64(99);
        assert_eq!(read_raised(&mut message.fields()), Err(CodecError::OutOfRange("error kind")));
        let mut message = Message::new(Opcode::Result, 1, 0);
        // One group of one frame, repeated more times than the limit allows.
        message.push_u64(1).push_u64(1).push_u64(u64::MAX).push_u64(2).push_u64(1).push_u64(0);
        assert_eq!(read_frames(&mut message.fields(), 100), Err(CodecError::OutOfRange("frame count")));
        let mut message = Message::new(Opcode::Result, 1, 0);
        message.push_u64(1).push_u64(1).push_u64(3000).push_u64(1).push_bytes(&[]);
        assert_eq!(read_drawing(&mut message.fields()).err(), Some(CodecError::OutOfRange("image width")));
    }

    proptest::proptest! {
        /// What the controller reads from an executor is refused or read, never a panic or a huge
        /// allocation: valid results with bytes changed, cut or added.
        #[test]
        fn changed_results_are_refused_or_read(
            changes in proptest::collection::vec((0usize..400, proptest::num::u8::ANY), 0..8),
            cut in 0usize..400,
            extra in proptest::collection::vec(proptest::num::u8::ANY, 0..16),
        ) {
            let mut message = Message::new(Opcode::Result, 1, 0);
            push_raised(&mut message, &Raised::CompileFailed { slot: 8, reason: "r".into() });
            push_frames(&mut message, &vec![(1, 1, 0), (2, 1, 1), (1, 1, 0), (2, 1, 1)]);
            let image = PixelImage { width: 2, height: 2, values: vec![1.0; 4] };
            push_drawing(&mut message, Some(&Drawing { image: Some(image), series: vec![Series { id: 1, points: vec![(0.0, 1.0)] }] }));
            for (at, byte) in changes {
                let len = message.payload.len();
                message.payload[at % len] = byte;
            }
            message.payload.truncate(cut.max(1));
            message.payload.extend(extra);
            let mut fields = message.fields();
            let _ = read_raised(&mut fields).and_then(|_| read_frames(&mut fields, 1 << 16)).and_then(|_| read_drawing(&mut fields));
        }
    }
}
