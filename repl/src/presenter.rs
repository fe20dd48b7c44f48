//! How a front end shows what a source does: the [`Presenter`] it supplies (the shell's and scripts'
//! [`TextPresenter`], the notebook's in `kernel/execute.rs`), the [`Origin`] that names a source's entries,
//! and the [`ItemShower`] that turns the engine's events for one entry into warnings, acknowledgements
//! and values, for the evaluation loop and `:undo` alike.

use std::io::Write;

use kaleido_engine::{Event, ItemOutcome, format_value};
use kaleido_view::picture::{Picture, text};
use kaleido_view::present::{SourceText, describe_item};

/// How an entry ended, for exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// Everything ran.
    Ok,
    /// It was rejected (parse, check or compile error): exit code 65 in a script.
    CompileError,
    /// It stopped with a runtime error: exit code 70.
    RuntimeError,
    /// It was interrupted (Ctrl-C): exit code 130.
    Interrupted,
    /// Output could not be written (a closed pipe, a full disk): exit code 74.
    OutputFailed,
}

/// Where a source comes from: this names its entries and decides how its values are labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Shell entry number N: its entries are named `<repl:N>`, its values `Out[N]`.
    Shell(u32),
    /// A command line typed at the shell (it takes no entry number).
    ShellCommand,
    /// A script, `-e` text or a pipe, named as its diagnostics name it: entries are named `NAME:LINE`.
    File(String),
    /// Notebook cell N (its execution count): entries are named `<cell N>`.
    Cell(usize),
    /// A notebook request that is not counted (`silent`, or not stored in history): `<silent N>`.
    Uncounted(usize),
}

impl Origin {
    /// How diagnostics and backtraces name this source (`<repl:3>`, `fib.kal`, `<cell 2>`).
    pub fn name(&self) -> String {
        match self {
            Origin::Shell(n) => format!("<repl:{n}>"),
            Origin::ShellCommand => "<repl>".to_string(),
            Origin::File(name) => name.clone(),
            Origin::Cell(n) => format!("<cell {n}>"),
            Origin::Uncounted(n) => format!("<silent {n}>"),
        }
    }

    /// The name of the entry of the item that starts on `line`: a file's items are `NAME:LINE`, so a
    /// backtrace points into the file; a shell entry's or a cell's items share the source's name.
    pub(crate) fn entry_name(&self, line: usize) -> String {
        match self {
            Origin::File(name) => format!("{name}:{line}"),
            other => other.name(),
        }
    }
}

/// A value to show, with where it came from.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a> {
    /// The value.
    pub value: f64,
    /// The source it came from.
    pub origin: &'a Origin,
    /// The line of the source its item starts on (from 1).
    pub line: usize,
    /// Whether nothing follows it: it is the last piece of every source around it (a cell's result).
    pub last: bool,
}

/// What stopped a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What kind of failure, for exit codes and a notebook's `ename`.
    pub status: EntryStatus,
    /// Its first error message, plain (a notebook's `evalue`).
    pub message: String,
    /// Everything to show, rendered (diagnostics with carets, the backtrace, hints), with line ends.
    pub rendered: String,
}

/// How a front end shows values and failures; everything else the loop writes to the session's `out`
/// (results, listings, timing) and `err` (warnings), flushed before each call here so order is kept.
pub trait Presenter {
    /// Shows the value of an item, now (before the next item runs).
    fn value(&mut self, out: &mut dyn Write, shown: Shown<'_>) -> std::io::Result<()>;
    /// Shows a failure (called once for each; a source stops at its first unless it keeps going).
    fn failure(&mut self, err: &mut dyn Write, failure: &Failure);
    /// Shows a picture an entry drew (after the entry's values, before its failure); `colour` says
    /// whether text may use colour escapes.
    fn picture(&mut self, out: &mut dyn Write, picture: &Picture, colour: bool) -> std::io::Result<()>;
}

/// The shell's and the scripts' presenter: text on the session's writers. A shell value is labelled
/// with its entry (`Out[3]: 8`); a script's is the value alone.
#[derive(Debug, Default)]
pub struct TextPresenter;

impl Presenter for TextPresenter {
    fn value(&mut self, out: &mut dyn Write, shown: Shown<'_>) -> std::io::Result<()> {
        match shown.origin {
            Origin::Shell(n) => writeln!(out, "Out[{n}]: {}", format_value(shown.value))?,
            _ => writeln!(out, "{}", format_value(shown.value))?,
        }
        out.flush()
    }

    fn failure(&mut self, err: &mut dyn Write, failure: &Failure) {
        let _ = err.write_all(failure.rendered.as_bytes());
        let _ = err.flush();
    }

    fn picture(&mut self, out: &mut dyn Write, picture: &Picture, colour: bool) -> std::io::Result<()> {
        out.write_all(text(picture, colour).as_bytes())?;
        out.flush()
    }
}

/// Shows an entry's events as the engine reports them: a warning in place (stdout flushed first, so the
/// two streams interleave in order on a terminal), an item's acknowledgement or value right after it.
pub(crate) struct ItemShower<'s> {
    origin: &'s Origin,
    whole: &'s SourceText<'s>,
    offset: usize,
    line: usize,
    /// Whether a value is the last thing of everything around it.
    last: bool,
    /// Values are not shown (`;` after the item, or `--quiet`).
    pub(crate) silenced: bool,
    /// Appended to every acknowledgement (`:undo` says which version it went back to).
    pub(crate) suffix: String,
    /// The definitions made, for `:set show`.
    pub(crate) defined: Vec<String>,
    /// The last value shown (the shell's and the notebook's `ans`).
    pub(crate) last_value: Option<f64>,
    /// The first error writing a value.
    pub(crate) write_failed: Option<std::io::Error>,
}

impl<'s> ItemShower<'s> {
    /// A shower for the entry at byte `offset` (line `line`) of `whole`, from `origin`.
    pub(crate) fn new(
        origin: &'s Origin,
        whole: &'s SourceText<'s>,
        offset: usize,
        line: usize,
        last: bool,
    ) -> ItemShower<'s> {
        ItemShower {
            origin,
            whole,
            offset,
            line,
            last,
            silenced: false,
            suffix: String::new(),
            defined: Vec::new(),
            last_value: None,
            write_failed: None,
        }
    }

    /// Shows one event.
    pub(crate) fn show(
        &mut self,
        event: Event<'_>,
        out: &mut dyn Write,
        err: &mut dyn Write,
        presenter: &mut dyn Presenter,
    ) {
        match event {
            Event::Warning(warning) => {
                let _ = out.flush();
                let _ = err.write_all(self.whole.render(warning, self.offset).as_bytes());
                let _ = err.flush();
            }
            Event::Item(item, _) if self.write_failed.is_none() => {
                if let ItemOutcome::Defined { name, .. } = item {
                    self.defined.push(name.clone());
                }
                let written = match item {
                    ItemOutcome::Value(_) if self.silenced => Ok(()),
                    ItemOutcome::Value(value) => {
                        self.last_value = Some(*value);
                        let shown = Shown { value: *value, origin: self.origin, line: self.line, last: self.last };
                        presenter.value(out, shown)
                    }
                    item => match describe_item(item, !matches!(self.origin, Origin::File(_))) {
                        Some(line) => writeln!(out, "{line}{}", self.suffix).and_then(|()| out.flush()),
                        None => Ok(()),
                    },
                };
                self.write_failed = written.err();
            }
            Event::Item(..) => {}
        }
    }
}
