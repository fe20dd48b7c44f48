//! The engine's typed errors: what went wrong while compiling or running an entry.

use kaleido_lang::Diagnostic;

/// An entry was rejected before anything ran: it failed to parse, check or compile. The session is exactly
/// as it was before the entry.
#[derive(Debug, thiserror::Error)]
#[error("the entry was rejected with {} diagnostic(s)", diagnostics.len())]
pub struct Rejected {
    /// The errors (and any warnings) found, with spans into the entry's text.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why running code stopped early.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RuntimeErrorKind {
    /// A call reached a function that has no definition.
    #[error("`{name}` is not defined")]
    Undefined {
        /// The missing function.
        name: String,
    },
    /// A call passed a number of arguments the function no longer takes.
    #[error("{caller} calls `{callee}` with {} argument{}, but `{callee}` now takes {takes}", .passed, plural(*.passed))]
    ArityMismatch {
        /// Who made the call: "`g`" or "the top-level expression".
        caller: String,
        /// The function called.
        callee: String,
        /// How many arguments the call passed.
        passed: usize,
        /// How many the current definition takes.
        takes: usize,
    },
    /// The stack ran out (runaway recursion).
    #[error("stack overflow")]
    StackOverflow,
    /// The user interrupted the evaluation (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
}

/// One line of a backtrace: a kaleido function (or an entry's top-level code) and how many consecutive
/// frames of it there were.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// `f`, or `<repl:4>` for an entry's top-level code.
    pub function: String,
    /// How many times the frame repeats (recursion is folded).
    pub repeat: u64,
}

/// An error raised while JIT code ran, with the kaleido frames it passed through, innermost first.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct RuntimeError {
    /// What happened.
    pub kind: RuntimeErrorKind,
    /// Where: kaleido frames, innermost first, repeated frames folded.
    pub backtrace: Vec<Frame>,
}

impl RuntimeError {
    /// The backtrace as one line: `inf ×87000 ← <repl:4>`.
    pub fn backtrace_line(&self) -> String {
        let frames: Vec<String> = self
            .backtrace
            .iter()
            .map(|frame| match frame.repeat {
                1 => frame.function.clone(),
                n => format!("{} ×{n}", frame.function),
            })
            .collect();
        frames.join(" ← ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
