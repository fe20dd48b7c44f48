//! Running a script (a file, `-e` text, a pipe, a `:load`): the evaluation loop over a file's items, and
//! the exit codes a script ends with.
//!
//! The first failing item stops the run, unless `keep_going` is set, in which case every item runs and the
//! run still fails at the end. Exit codes follow sysexits: 65 for a compile error, 70 for a runtime error,
//! 74 for an I/O error, and 130 when interrupted.

use std::io::Write;
use std::path::Path;

use crate::evaluate::run_script_text;
use crate::session::{EntryStatus, Session};

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

/// Runs the script `text` named `name` in `session`; returns the exit code. Lines that start with a
/// command (`:show fib`) run as commands, so a tutorial can show the engine's inside; a failing command
/// counts as a compile error. Each top-level item is an entry of its own (see `evaluate::run_source`).
pub fn run_script(session: &mut Session, name: &str, text: &str, options: ScriptOptions) -> i32 {
    exit_code(run_script_text(session, name, text, options.keep_going, options.echo))
}

/// Runs the script file `file` (named `shown`) as `evaluate::run_file` does; returns the exit code.
pub fn run_file(session: &mut Session, file: &Path, shown: &str, text: &str, options: ScriptOptions) -> i32 {
    match crate::evaluate::run_file(session, file, shown, text, options.keep_going, options.echo) {
        Ok(status) => exit_code(status),
        Err(message) => {
            let _ = writeln!(session.err, "error: {message}");
            EXIT_COMPILE_ERROR
        }
    }
}
