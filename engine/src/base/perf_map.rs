//! `/tmp/perf-PID.map`: the names of JIT-compiled functions for Linux `perf` (and other profilers that
//! read the same format), so `perf report` shows `fib@2` instead of an unknown address. One line per
//! function: start address and size in hex, then the name (`START SIZE NAME`), appended as code is made;
//! the names are the ones `:show` and `:asm` use (`fib@2`, an entry's name for its top-level code).
//!
//! `/tmp` is shared with every user of the machine, and the name is predictable, so the file is created
//! exclusively (never opened if it exists, never through a symlink), readable and writable by its owner
//! only. The process creates it once; every engine of the process (after `:reset`, say) writes to that
//! one file.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::base::request_error::PerfMapProblem;

/// The process's map, once an engine has created it.
static MAP: Mutex<Option<Arc<File>>> = Mutex::new(None);

/// The map file, when asked for (`--perf-map`, or `KALEIDO_PERF_MAP=1`).
pub(crate) struct PerfMap {
    file: Option<Arc<File>>,
}

impl PerfMap {
    /// The process's map when `enabled`: created now if no engine of the process made it yet. When it
    /// cannot be created (it exists already: left by an earlier process that had the same id, or planted),
    /// no map is written and the problem says why.
    pub(crate) fn open(enabled: bool) -> (PerfMap, Option<PerfMapProblem>) {
        if !enabled {
            return (PerfMap { file: None }, None);
        }
        let mut shared = MAP.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = &*shared {
            return (PerfMap { file: Some(file.clone()) }, None);
        }
        let path = path();
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        match created {
            Ok(file) => {
                let file = Arc::new(file);
                *shared = Some(file.clone());
                (PerfMap { file: Some(file) }, None)
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                (PerfMap { file: None }, Some(PerfMapProblem::Exists { path }))
            }
            Err(error) => (PerfMap { file: None }, Some(PerfMapProblem::Create { path, error })),
        }
    }

    /// Whether the map is being written (names need not be made otherwise).
    pub(crate) fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Records that `size` bytes of code at `code` are `symbol`.
    pub(crate) fn record(&mut self, code: usize, size: usize, symbol: Symbol<'_>) {
        if let Some(file) = &self.file
            && size > 0
        {
            let _ = match symbol {
                Symbol::Function { name, version } => writeln!(&**file, "{code:x} {size:x} {name}@{version}"),
                Symbol::Initializer { entry, global } => writeln!(&**file, "{code:x} {size:x} {entry} (var {global})"),
                Symbol::Adapter { name } => writeln!(&**file, "{code:x} {size:x} adapter for extern {name}"),
                Symbol::TopLevel { entry } => writeln!(&**file, "{code:x} {size:x} {entry}"),
            };
        }
    }
}

/// What a range of code is, as the map names it (the names `:show` and `:asm` use).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Symbol<'a> {
    /// A version of a function: `fib@2`.
    Function { name: &'a str, version: u32 },
    /// A global's initializer: `<repl:3> (var x)`.
    Initializer { entry: &'a str, global: &'a str },
    /// The adapter of an extern: `adapter for extern hypot`.
    Adapter { name: &'a str },
    /// An entry's top-level code: `<repl:3>`.
    TopLevel { entry: &'a str },
}

/// Where `perf` looks for this process's map.
pub(crate) fn path() -> String {
    format!("/tmp/perf-{}.map", std::process::id())
}
