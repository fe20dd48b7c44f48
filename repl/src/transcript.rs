//! The shell's transcript: every entry and command as typed, with what it printed, for
//! `:save --transcript FILE` (as utop's `#utop_stash` does).
//!
//! The session's three writers (values, diagnostics, program output) copy into one [`Recorder`] while a
//! shell entry or command runs, so the transcript holds the output in the order it was shown. The text a
//! transcript file gets is a script: entries that ran stay live (so running the file replays the session,
//! with `--keep-going` past entries that failed at run time), and everything else is a `#` comment: the
//! outputs, commands (a script cannot run them), and entries the compiler rejected.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

/// The most output kept per entry; the rest is counted, not kept.
const MAX_OUTPUT_PER_ENTRY: usize = 64 * 1024;

/// What one recorded step was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// An entry that was compiled and ran (perhaps to a runtime error).
    Ran,
    /// An entry the compiler rejected: it changed nothing.
    Rejected,
    /// A `:` command.
    Command,
}

/// One entry or command and what it printed.
#[derive(Clone, Debug)]
struct Step {
    kind: StepKind,
    text: String,
    output: String,
}

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

/// The steps of a shell session so far.
#[derive(Default)]
pub struct Transcript {
    steps: Vec<Step>,
    recorder: Recorder,
}

impl Transcript {
    /// The recorder the session's writers copy into.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Starts recording a step: what the session prints from now on is its output.
    pub fn begin(&mut self) {
        self.recorder.start();
    }

    /// Ends the step begun last: `text` as typed, of the given kind.
    pub fn end(&mut self, text: &str, kind: StepKind) {
        let output = self.recorder.finish();
        self.steps.push(Step { kind, text: text.trim_end().to_string(), output });
    }

    /// The transcript as a script: entries live, everything else as comments.
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# A kaleido transcript (`:save --transcript`): every entry as typed, what it printed as `#` comments.\n\
             # Run it with `kaleido --keep-going FILE` (an entry that failed at run time fails again).\n",
        );
        for step in &self.steps {
            text.push('\n');
            match step.kind {
                StepKind::Ran => text.push_str(&format!("{}\n", step.text)),
                StepKind::Rejected => text.push_str(&commented(&step.text, "(rejected) ")),
                StepKind::Command => text.push_str(&commented(&step.text, "")),
            }
            text.push_str(&commented(step.output.trim_end(), ""));
        }
        text
    }
}

/// `text` with every line turned into a comment, the first one prefixed with `label`.
fn commented(text: &str, label: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let label = if i == 0 { label } else { "" };
        out.push_str(format!("# {label}{line}").trim_end());
        out.push('\n');
    }
    out
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
    fn colours_are_stripped_and_lines_commented() {
        assert_eq!(strip_ansi("\u{1b}[31merror\u{1b}[0m: x"), "error: x");
        assert_eq!(commented("a\n  b\n", "(rejected) "), "# (rejected) a\n#   b\n");
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
