//! Running a script: each top-level item is an entry of its own, evaluated in order.
//!
//! The first failing item stops the run, unless `keep_going` is set, in which case every item runs and the
//! run still fails at the end. Exit codes follow sysexits: 65 for a compile error, 70 for a runtime error,
//! 74 for an I/O error, and 130 when interrupted.

use std::io::Write;

use kaleido_lang::Span;

use crate::commands::{Next, is_command_line, run_command_at};
use crate::session::{EntryStatus, Mode, Session, SourceText};
use crate::transcript::StepKind;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a compile error (`EX_DATAERR`).
pub const EXIT_COMPILE_ERROR: i32 = 65;
/// Exit code for a runtime error (`EX_SOFTWARE`).
pub const EXIT_RUNTIME_ERROR: i32 = 70;
/// Exit code for an I/O error (`EX_IOERR`).
pub const EXIT_IO_ERROR: i32 = 74;
/// Exit code after Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// The exit code an entry status maps to.
pub fn exit_code(status: EntryStatus) -> i32 {
    match status {
        EntryStatus::Ok => EXIT_OK,
        EntryStatus::CompileError => EXIT_COMPILE_ERROR,
        EntryStatus::RuntimeError => EXIT_RUNTIME_ERROR,
        EntryStatus::Interrupted => EXIT_INTERRUPTED,
        EntryStatus::OutputFailed => EXIT_IO_ERROR,
    }
}

/// How a script runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScriptOptions {
    /// Run every item even after one fails (the exit code still reports the first failure).
    pub keep_going: bool,
    /// Print each item's source, lines prefixed with `> `, before its output.
    pub echo: bool,
}

/// One thing a script does: an item (run as an entry) or a command line.
struct Piece {
    span: Span,
    command: bool,
}

/// The items and command lines of `text`, in order (`None`: an interrupt stopped the parse). A command
/// line (see [`is_command_line`]) stands between items: it ends the item before it, as a `;` would, so
/// `def f(x) x * 2`, `:list f`, `+ 1` is a definition, a command and a (bad) item of its own, never one
/// item with the command inside. While items are found, the line is masked as a `;` and blanks, so offsets
/// stay put and the parse splits exactly where the runner runs the command.
fn pieces(session: &Session, text: &str) -> Option<Vec<Piece>> {
    let commands = command_lines(text);
    let mut masked = text.to_string();
    for span in &commands {
        let blank: String = std::iter::once(';').chain(std::iter::repeat_n(' ', span.range().len() - 1)).collect();
        masked.replace_range(span.range(), &blank);
    }
    let items = session.engine().item_spans(&masked)?;
    let mut pieces: Vec<Piece> = commands.into_iter().map(|span| Piece { span, command: true }).collect();
    pieces.extend(
        items.into_iter().map(|span| Piece { span: kaleido_lang::with_trailing_comment(text, span), command: false }),
    );
    pieces.sort_by_key(|piece| piece.span.start);
    Some(pieces)
}

/// Where the command lines of `text` are: each line's text from its colon to its end (line ends of any
/// kind, `\n`, `\r\n` or a lone `\r`, as the lexer has them).
pub fn command_lines(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let starts: Vec<usize> = std::iter::once(0).chain(kaleido_lang::line_ends::line_starts(text)).collect();
    for (i, &start) in starts.iter().enumerate() {
        let line = &text[start..starts.get(i + 1).copied().unwrap_or(text.len())];
        let content = line.trim_end_matches(['\n', '\r']);
        if is_command_line(content) {
            let at = start + (content.len() - content.trim_start().len());
            spans.push(Span::new(at, start + content.trim_end().len()));
        }
    }
    spans
}

/// Runs the script `text` named `name` in `session`; returns the exit code. Lines that start with a
/// command (`:show fib`) run as commands, so a tutorial can show the engine's inside; a failing command
/// counts as a compile error.
pub fn run_script(session: &mut Session, name: &str, text: &str, options: ScriptOptions) -> i32 {
    // The file is parsed once here only to find where items start and end; each item is then analyzed
    // again as its own entry, against the session as the items before it left it (their operators,
    // globals and failures), which a single up-front parse cannot know. Parsing is a small part of an
    // entry's cost next to compiling it.
    let _busy = crate::interrupt::busy();
    session.scripts_running += 1;
    let file = SourceText::new(name, text).colored(session.color());
    let mut first_failure = EXIT_OK;
    let Some(pieces) = pieces(session, text) else {
        session.scripts_running -= 1;
        return interrupted_while_reading(session, name);
    };
    for piece in pieces {
        let source = &text[piece.span.range()];
        if options.echo {
            session.echo(source);
        }
        let status = if piece.command {
            let location = format!("{name}:{}", file.line_of(piece.span.start as usize));
            match run_command_at(session, source, Some(&location)) {
                Next::Continue => EntryStatus::Ok,
                Next::Failed => EntryStatus::CompileError,
                Next::Quit => break,
            }
        } else {
            // Recorded for `:save --transcript` when the script runs from the command line (a `:load`'s
            // items belong to the `:load`).
            session.transcript.begin();
            let status = session.eval_file_item(&file, piece.span, Mode::Script);
            let kind = if status == EntryStatus::CompileError { StepKind::Rejected } else { StepKind::Ran };
            session.transcript.end(source, kind);
            status
        };
        if status == EntryStatus::Ok {
            continue;
        }
        if first_failure == EXIT_OK {
            first_failure = exit_code(status);
        }
        if !options.keep_going || matches!(status, EntryStatus::Interrupted | EntryStatus::OutputFailed) {
            break;
        }
    }
    session.scripts_running -= 1;
    let _ = session.out.flush();
    let _ = session.err.flush();
    first_failure
}

/// An interrupt stopped the parse of the script `name` before anything of it ran: say so and consume it.
fn interrupted_while_reading(session: &mut Session, name: &str) -> i32 {
    session.engine().interrupt_handle().clear();
    let _ = writeln!(session.err, "{name}: error: interrupted while reading the script; nothing of it ran");
    let _ = session.err.flush();
    EXIT_INTERRUPTED
}
