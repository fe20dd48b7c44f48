//! `/tmp/perf-PID.map`: the names of JIT-compiled functions for Linux `perf` (and other profilers that
//! read the same format), so `perf report` shows `fib@2` instead of an unknown address. One line per
//! function: start address and size in hex, then the name (`START SIZE NAME`), appended as code is made;
//! the names are the ones `:show` and `:asm` use (`fib@2`, an entry's name for its top-level code).

use std::io::Write;

/// The map file, when asked for (`--perf-map`, or `KALEIDO_PERF_MAP=1`).
pub(crate) struct PerfMap {
    file: Option<std::fs::File>,
}

impl PerfMap {
    /// Opens (creates, or appends to) this process's map when `enabled`; a map that cannot be written is
    /// simply not written (profiling is optional).
    pub(crate) fn open(enabled: bool) -> PerfMap {
        let path = format!("/tmp/perf-{}.map", std::process::id());
        let file = enabled.then(|| std::fs::OpenOptions::new().create(true).append(true).open(path).ok()).flatten();
        PerfMap { file }
    }

    /// Whether the map is being written (names need not be made otherwise).
    pub(crate) fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Records that `size` bytes of code at `code` are the function `name`.
    pub(crate) fn record(&mut self, code: usize, size: usize, name: &str) {
        if let Some(file) = &mut self.file
            && size > 0
        {
            let _ = writeln!(file, "{code:x} {size:x} {name}");
        }
    }
}
