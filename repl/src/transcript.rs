//! The session's transcript: every entry and command as typed, with what it printed, for
//! `:save --transcript FILE` (as utop's `#utop_stash` does).
//!
//! The session's three writers (values, diagnostics, program output) copy into one [`Recorder`] while an
//! entry or command runs, so the transcript holds the output in the order it was shown. What is recorded
//! is what the user gave the session directly: shell entries and commands, and the items and commands of
//! a script run from the command line; what a `:load` runs belongs to the `:load`, which replays it.
//!
//! The text a transcript file gets is a script that replays the session: entries that ran stay live (with
//! `--keep-going` past those that failed at run time), and so do the commands that change the session
//! (`:load`, `:undo`, `:forget`, `:set`...); everything else is a `#` comment: the outputs, the commands
//! that only show something or write files, and entries the compiler rejected. Nothing but the user's own
//! entries is ever live: a comment's control characters (a progress bar's lone `\r`, which would end the
//! comment for the lexer) are written as escapes, so program output can never become code.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

pub use kaleido_view::transcript::StepKind;
use kaleido_view::transcript::{Step, transcript_text};

/// The most output kept per entry; the rest is counted, not kept.
const MAX_OUTPUT_PER_ENTRY: usize = 64 * 1024;

/// Output captured while a step runs: what was kept, and how many bytes were dropped past the cap.
#[derive(Default)]
struct Capture {
    kept: Vec<u8>,
    dropped: usize,
}

/// Where the session's writers copy their bytes while a step is being recorded.
#[derive(Clone, Default)]
pub struct Recorder(Rc<RefCell<Option<Capture>>>);

impl Recorder {
    /// Starts capturing (dropping anything captured before).
    pub fn start(&self) {
        *self.0.borrow_mut() = Some(Capture::default());
    }

    /// Stops capturing and returns the text captured, without terminal colours.
    fn finish(&self) -> String {
        let Some(capture) = self.0.borrow_mut().take() else { return String::new() };
        let mut text = strip_ansi(&String::from_utf8_lossy(&capture.kept));
        if capture.dropped > 0 {
            text.push_str(&format!("\n... ({} more bytes of output not kept)\n", capture.dropped));
        }
        text
    }

    fn record(&self, bytes: &[u8]) {
        if let Some(capture) = self.0.borrow_mut().as_mut() {
            let room = MAX_OUTPUT_PER_ENTRY.saturating_sub(capture.kept.len());
            let kept = bytes.len().min(room);
            capture.kept.extend_from_slice(&bytes[..kept]);
            capture.dropped += bytes.len() - kept;
        }
    }

    /// `inner`, with every byte written to it also recorded here.
    pub fn tee(&self, inner: Box<dyn Write>) -> Box<dyn Write> {
        Box::new(Tee { inner, recorder: self.clone() })
    }
}

/// A writer that also records what it writes.
struct Tee {
    inner: Box<dyn Write>,
    recorder: Recorder,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.recorder.record(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The steps of a session so far. Their texts are kept end to end in one string, and an output only when
/// there is one: a script of 100,000 definitions adds 24 bytes per item, not two strings.
#[derive(Default)]
pub struct Transcript {
    steps: Vec<Recorded>,
    /// Every step's text, one after the other.
    texts: String,
    recorder: Recorder,
    /// How many steps are running, one inside the other (a `:load` runs the items of its file): only the
    /// outermost is recorded, with everything the ones inside it printed.
    depth: usize,
}

impl Transcript {
    /// The recorder the session's writers copy into.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Starts recording a step: what the session prints from now on is its output. A step begun inside
    /// another is part of it.
    pub fn begin(&mut self) {
        if self.depth == 0 {
            self.recorder.start();
        }
        self.depth += 1;
    }

    /// Ends the step begun last: `text` as typed, of the given kind (recorded if it is outermost).
    pub fn end(&mut self, text: &str, kind: StepKind) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            let output = self.recorder.finish();
            self.texts.push_str(text.trim_end());
            let output = (!output.is_empty()).then(|| output.into_boxed_str());
            self.steps.push(Recorded { kind, text_end: self.texts.len(), output });
        }
    }

    /// The transcript as a script: entries live, everything else as comments.
    pub fn render(&self) -> String {
        let mut start = 0;
        transcript_text(self.steps.iter().map(|step| {
            let text = &self.texts[start..step.text_end];
            start = step.text_end;
            Step { kind: step.kind, text, output: step.output.as_deref().unwrap_or("") }
        }))
    }
}

/// One step, as kept: its text ends at `text_end` in [`Transcript::texts`].
struct Recorded {
    kind: StepKind,
    text_end: usize,
    output: Option<Box<str>>,
}

/// `text` without ANSI escape sequences (the colours of diagnostics on a terminal).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stripped() {
        assert_eq!(strip_ansi("\u{1b}[31merror\u{1b}[0m: x"), "error: x");
    }

    #[test]
    fn output_past_the_cap_is_counted() {
        let recorder = Recorder::default();
        let mut out = recorder.tee(Box::new(io::sink()));
        recorder.start();
        out.write_all(&vec![b'x'; MAX_OUTPUT_PER_ENTRY + 10]).expect("sink");
        assert!(recorder.finish().ends_with("... (10 more bytes of output not kept)\n"));
    }
}
