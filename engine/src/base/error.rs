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
    #[error("`{name}` is not defined{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    Undefined {
        /// The missing function.
        name: String,
        /// A defined function whose name is a typo away, if any.
        suggestion: Option<String>,
    },
    /// A call passed a number of arguments the function does not (or no longer) take.
    #[error(
        "{} calls `{callee}` with {} argument{}, but `{callee}` {}takes {takes}",
        caller_text(.caller), .passed, plural(*.passed), if *.changed { "now " } else { "" }
    )]
    ArityMismatch {
        /// The function that made the call; none when top-level code did.
        caller: Option<String>,
        /// The function called.
        callee: String,
        /// How many arguments the call passed.
        passed: usize,
        /// How many the current definition takes.
        takes: usize,
        /// Whether an earlier definition took `passed` (the arity changed under the caller).
        changed: bool,
    },
    /// The stack ran out (runaway recursion).
    #[error("stack overflow")]
    StackOverflow,
    /// The user interrupted the evaluation (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// Generating a function's code on its first call failed (code memory ran out, or a bug in kaleido).
    #[error("generating the code of `{name}` failed: {reason}")]
    CompileFailed {
        /// The function.
        name: String,
        /// Why.
        reason: String,
    },
    /// `pixel` or `plotpoint` was called with arguments it cannot draw.
    #[error("{0}")]
    Drawing(#[from] crate::base::drawing::DrawingError),
    /// The program's output could not be written (a closed pipe, a full disk), so it was stopped.
    #[error("cannot write the program's output: {reason}")]
    OutputFailed {
        /// The I/O error, in words.
        reason: String,
    },
    /// The executor running the code ended (a crash, `abort`, `exit`, a kill) or had to be ended.
    #[error("the code ended the executor: {end}; {}", restart_text(.restarted))]
    ExecutorEnded {
        /// How it ended.
        end: ExecutorEnd,
        /// Whether a new executor was started with every definition and global.
        restarted: Restart,
    },
    /// No executor runs: it ended too many times in a row.
    #[error("the executor ended {crashes} times in a row, so no new one was started; `:executor restart` starts one")]
    ExecutorStopped {
        /// Crashes in a row.
        crashes: u32,
    },
}

/// How an executor process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutorEnd {
    /// By a signal (its number).
    Signal(i32),
    /// By `exit` with this status.
    Exit(i32),
    /// It was still running long after an interrupt (code stuck in C), so it was killed.
    Stuck {
        /// How long it was given, in milliseconds.
        grace_ms: u64,
    },
    /// It sent something the controller does not accept, so it was killed.
    Protocol(ProtocolError),
    /// No process could be started (the system refused a `fork` or a socket).
    NotStarted(String),
}

/// What an executor did that the controller does not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A message that is not one (its header or fields, in the decoder's words).
    #[error("{0}")]
    Malformed(String),
    /// A message of a kind the controller was not waiting for.
    #[error("an unexpected {opcode:?} message with tag {tag}")]
    Unexpected {
        /// Its opcode.
        opcode: crate::base::wire::Opcode,
        /// Its tag.
        tag: u64,
    },
    /// A request about a slot or a piece of code the controller never made.
    #[error("it named a slot or code that does not exist")]
    UnknownAddress,
    /// No answer came in time.
    #[error("it did not answer")]
    NoAnswer,
}

impl std::fmt::Display for ExecutorEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecutorEnd::Signal(number) => match signal_name(*number) {
                Some((name, meaning)) => write!(f, "{name} ({meaning})"),
                None => write!(f, "signal {number}"),
            },
            ExecutorEnd::Exit(status) => write!(f, "exit with status {status}"),
            ExecutorEnd::Stuck { grace_ms } => {
                write!(f, "it was still running {grace_ms} ms after the interrupt (stuck in C?), so it was killed")
            }
            ExecutorEnd::Protocol(why) => write!(f, "it broke the protocol ({why}), so it was killed"),
            ExecutorEnd::NotStarted(why) => write!(f, "no process could be started: {why}"),
        }
    }
}

/// What happened after an executor ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// A new one runs, with every definition and every global as after the last completed entry.
    Restored,
    /// It ended too many times in a row: none was started.
    GaveUp,
    /// A new one could not be started (the system refused a process).
    Failed,
}

fn restart_text(restart: &Restart) -> &'static str {
    match restart {
        Restart::Restored => {
            "a new executor was started with every definition, and every global as after the last completed entry"
        }
        Restart::GaveUp => "it ended too many times in a row, so no new one was started (`:executor restart`)",
        Restart::Failed => "no new executor could be started (`:executor restart` tries again)",
    }
}

/// A signal's name and what it usually means.
fn signal_name(number: i32) -> Option<(&'static str, &'static str)> {
    Some(match number {
        libc::SIGSEGV => ("SIGSEGV", "segmentation fault"),
        libc::SIGABRT => ("SIGABRT", "abort"),
        libc::SIGBUS => ("SIGBUS", "bus error"),
        libc::SIGILL => ("SIGILL", "illegal instruction"),
        libc::SIGFPE => ("SIGFPE", "arithmetic exception"),
        libc::SIGKILL => ("SIGKILL", "killed"),
        libc::SIGTERM => ("SIGTERM", "terminated"),
        libc::SIGINT => ("SIGINT", "interrupted"),
        libc::SIGPIPE => ("SIGPIPE", "broken pipe"),
        libc::SIGHUP => ("SIGHUP", "hang-up"),
        libc::SIGQUIT => ("SIGQUIT", "quit"),
        _ => return None,
    })
}

/// One line of a backtrace: a frame (or a folded run of frames) and how many times it repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// What the line stands for.
    pub kind: FrameKind,
    /// How many times it repeats (recursion is folded).
    pub repeat: u64,
}

/// What a backtrace line stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A kaleido function.
    Function(String),
    /// An entry's top-level code, named as the entry is (`<repl:4>`, `fib.kal:12`).
    TopLevel(String),
    /// A cycle of frames (mutual recursion), innermost first, repeated as a whole.
    Cycle(Vec<FrameKind>),
    /// Frames left out of the middle of a long backtrace.
    Elided(u64),
}

impl std::fmt::Display for FrameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameKind::Function(name) => write!(f, "`{name}`"),
            FrameKind::TopLevel(entry) => f.write_str(entry),
            FrameKind::Cycle(frames) => {
                let frames: Vec<String> = frames.iter().map(ToString::to_string).collect();
                write!(f, "({})", frames.join(" ← "))
            }
            FrameKind::Elided(count) => write!(f, "... {count} more frames ..."),
        }
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.repeat {
            1 => write!(f, "{}", self.kind),
            n => write!(f, "{} ×{n}", self.kind),
        }
    }
}

/// An error raised while JIT code ran, with the kaleido frames it passed through, innermost first.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct RuntimeError {
    /// What happened.
    pub kind: RuntimeErrorKind,
    /// Where: kaleido frames, innermost first, repeated frames folded.
    pub backtrace: Vec<Frame>,
    /// The item of the entry whose code was running (a byte span into the entry's text).
    pub span: kaleido_lang::Span,
    /// The call that failed, when a function (not the entry's top-level code) made it.
    pub call_site: Option<CallSite>,
}

/// A call inside a function: where a runtime error arose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// The function that made the call.
    pub function: String,
    /// Which of its versions (see [`crate::Version`]).
    pub version: u32,
    /// The call, a byte span into that version's source.
    pub span: kaleido_lang::Span,
}

impl RuntimeError {
    /// The backtrace as one line: `inf ×87000 ← <repl:4>`.
    pub fn backtrace_line(&self) -> String {
        let frames: Vec<String> = self.backtrace.iter().map(ToString::to_string).collect();
        frames.join(" ← ")
    }
}

/// The longest cycle of frames folded into one line (mutual recursion of up to this many functions).
const MAX_CYCLE: usize = 8;
/// The most lines a backtrace keeps; the middle of a longer one is elided.
const MAX_LINES: usize = 12;

/// Folds raw frames (innermost first, consecutive repeats already counted) into backtrace lines: a cycle
/// such as `ping ← pong ← ping ← pong ...` becomes one line `(ping ← pong) ×N`, and a backtrace longer
/// than [`MAX_LINES`] keeps its innermost and outermost lines around a count of what was left out.
pub(crate) fn fold_frames(frames: Vec<(FrameKind, u64)>) -> Vec<Frame> {
    let mut lines = Vec::new();
    let mut at = 0;
    while at < frames.len() {
        let (period, times) = best_cycle(&frames[at..]);
        let group = &frames[at..at + period];
        let line = if period == 1 {
            Frame { kind: group[0].0.clone(), repeat: group[0].1 * times as u64 }
        } else {
            Frame { kind: FrameKind::Cycle(group.iter().map(|(kind, _)| kind.clone()).collect()), repeat: times as u64 }
        };
        lines.push(line);
        at += period * times;
    }
    if lines.len() > MAX_LINES {
        let keep_outer = MAX_LINES / 2;
        let elided: u64 = lines[MAX_LINES - keep_outer..lines.len() - keep_outer].iter().map(|f| f.repeat).sum();
        let tail = lines.split_off(lines.len() - keep_outer);
        lines.truncate(MAX_LINES - keep_outer);
        lines.push(Frame { kind: FrameKind::Elided(elided), repeat: 1 });
        lines.extend(tail);
    }
    lines
}

/// The cycle at the start of `frames` that covers the most frames: (period, how many times it repeats).
fn best_cycle(frames: &[(FrameKind, u64)]) -> (usize, usize) {
    let mut best = (1, 1);
    for period in 1..=MAX_CYCLE.min(frames.len()) {
        let pattern = &frames[..period];
        let mut times = 1;
        while frames.len() >= (times + 1) * period && frames[times * period..(times + 1) * period] == *pattern {
            times += 1;
        }
        if times > 1 && period * times > best.0 * best.1 {
            best = (period, times);
        }
    }
    best
}

fn caller_text(caller: &Option<String>) -> String {
    match caller {
        Some(name) => format!("`{name}`"),
        None => "the top-level expression".to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(frames: &[(&str, u64)]) -> String {
        let kind = |n: &str| match n.strip_prefix('<') {
            Some(_) => FrameKind::TopLevel(n.to_string()),
            None => FrameKind::Function(n.to_string()),
        };
        let frames = frames.iter().map(|&(n, r)| (kind(n), r)).collect();
        let backtrace = fold_frames(frames);
        let error = RuntimeError {
            kind: RuntimeErrorKind::StackOverflow,
            backtrace,
            span: Default::default(),
            call_site: None,
        };
        error.backtrace_line()
    }

    #[test]
    fn folds_repeats_cycles_and_long_tails() {
        assert_eq!(line(&[("f", 3), ("<main>", 1)]), "`f` ×3 ← <main>");
        let mut ping_pong: Vec<(&str, u64)> = [("pong", 1), ("ping", 1)].repeat(1000);
        ping_pong.push(("<repl:1>", 1));
        assert_eq!(line(&ping_pong), "(`pong` ← `ping`) ×1000 ← <repl:1>");
        let distinct: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
        let frames: Vec<(&str, u64)> = distinct.iter().map(|n| (n.as_str(), 1)).collect();
        assert_eq!(
            line(&frames),
            "`f0` ← `f1` ← `f2` ← `f3` ← `f4` ← `f5` ← ... 18 more frames ... ← `f24` ← `f25` ← `f26` ← `f27` ← `f28` ← `f29`"
        );
    }
}
