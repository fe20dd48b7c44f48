//! Running a script: each top-level item is an entry of its own, evaluated in order.
//!
//! The first failing item stops the run, unless `keep_going` is set, in which case every item runs and the
//! run still fails at the end. Exit codes follow sysexits: 65 for a compile error, 70 for a runtime error,
//! 74 for an I/O error, and 130 when interrupted.

use std::io::Write;

use kaleido_lang::Span;

use crate::commands::{Next, is_command_line, run_command_at};
use crate::session::{EntryStatus, Mode, Session, SourceText};

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

/// The items and command lines of `text`, in order. A command line is a line whose first word is a
/// command (`:show fib`); it is masked as a comment while the items are found, so offsets stay put.
fn pieces(session: &Session, text: &str) -> Vec<Piece> {
    let mut masked = String::with_capacity(text.len());
    let mut pieces = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if is_command_line(content) {
            let start = offset + (content.len() - content.trim_start().len());
            pieces.push(Piece { span: Span::new(start, offset + content.len()), command: true });
            masked.push('#');
            masked.push_str(&" ".repeat(content.len().saturating_sub(1)));
            masked.push_str(&line[content.len()..]);
        } else {
            masked.push_str(line);
        }
        offset += line.len();
    }
    let items = session.engine().item_spans(&masked);
    pieces.extend(
        items.into_iter().map(|span| Piece { span: kaleido_lang::with_trailing_comment(text, span), command: false }),
    );
    pieces.sort_by_key(|piece| piece.span.start);
    pieces
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
    for piece in pieces(session, text) {
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
            session.eval_file_item(&file, piece.span, Mode::Script)
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
