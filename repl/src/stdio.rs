//! The process's standard output, as the session writes to it.
//!
//! A closed stdout (`kaleido >&-`) must stop a program the way a closed pipe does, not swallow its output.
//! Rust's runtime hides it, though: before `main` it opens `/dev/null` on any closed descriptor among 0–2.
//! So a constructor that runs before the runtime (from `.init_array`, as the `ctor` crate does) records
//! whether descriptor 1 was open, and [`Stdout::writer`] then fails every write with "bad file
//! descriptor". The `/dev/null` the runtime put there keeps any file the session opens later (a `:save`,
//! the history) from becoming descriptor 1.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

extern "C" fn probe_stdout() {
    // SAFETY: `fcntl(F_GETFD)` only queries the descriptor table; it is safe to call before the runtime.
    let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
    STDOUT_CLOSED_AT_START.store(closed, Ordering::SeqCst);
}

// SAFETY: the loader calls the function in `.init_array` once, before `main`; it touches only an atomic
// and the descriptor table.
#[used]
#[unsafe(link_section = ".init_array")]
static PROBE_STDOUT: extern "C" fn() = probe_stdout;

/// Where the program's output and the session's values go.
#[derive(Clone, Copy, Debug)]
pub struct Stdout {
    closed: bool,
}

impl Stdout {
    /// Stdout as the process found it when it started.
    pub fn detect() -> Stdout {
        Stdout { closed: STDOUT_CLOSED_AT_START.load(Ordering::SeqCst) }
    }

    /// A writer to stdout (failing every write if stdout was closed at start-up).
    pub fn writer(&self) -> Box<dyn Write> {
        if self.closed { Box::new(ClosedOutput) } else { Box::new(io::stdout()) }
    }
}

/// Standard output that was closed before kaleido started.
struct ClosedOutput;

impl Write for ClosedOutput {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(libc::EBADF))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
