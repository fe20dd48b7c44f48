//! Reading a script or the history file without trusting it: at most a bounded number of bytes (so
//! `/dev/zero` is an error, not an out-of-memory kill), and, for `:load`, in a way Ctrl-C can abandon (so a
//! FIFO nobody writes to does not hang the shell).

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use kaleido_engine::InterruptHandle;

/// The largest script `kaleido FILE` or `:load` reads.
pub const MAX_SCRIPT_BYTES: u64 = 64 << 20;

/// The largest history file the shell loads.
pub const MAX_HISTORY_BYTES: u64 = 16 << 20;

/// How often a wait for a slow file looks for Ctrl-C.
const INTERRUPT_POLL: Duration = Duration::from_millis(10);

/// Why a file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The operating system said no; the text says why.
    Io(String),
    /// The file is longer than the limit (or endless).
    TooLarge(u64),
    /// Ctrl-C stopped the read.
    Interrupted,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(reason) => f.write_str(reason),
            ReadError::TooLarge(limit) => write!(f, "it is larger than {} MiB, the most kaleido reads", limit >> 20),
            ReadError::Interrupted => f.write_str("interrupted while reading it"),
        }
    }
}

/// Reads at most `limit` bytes of `path`.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// As [`read_bounded`], on a thread of its own while this one watches `interrupt`: Ctrl-C gives up at once
/// (consuming the request). A thread stuck opening a FIFO stays blocked until a writer comes; it holds
/// nothing of the session.
pub fn read_interruptible(path: &Path, limit: u64, interrupt: &InterruptHandle) -> Result<Vec<u8>, ReadError> {
    let (send, receive) = mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("kaleido-read".into())
        .spawn(move || {
            let _ = send.send(read_bounded(&owned, limit));
        })
        .map_err(|e| ReadError::Io(e.to_string()))?;
    loop {
        if interrupt.is_requested() {
            interrupt.clear();
            return Err(ReadError::Interrupted);
        }
        match receive.recv_timeout(INTERRUPT_POLL) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(ReadError::Io("the read failed".into())),
        }
    }
}

/// Whether `path` can serve as the history file: a regular file no larger than [`MAX_HISTORY_BYTES`], or
/// nothing yet. Anything else (a device, a FIFO, a huge file) is refused with the reason.
pub fn check_history_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if !meta.is_file() => Err("it is not a regular file".into()),
        Ok(meta) if meta.len() > MAX_HISTORY_BYTES => Err(format!("it is larger than {} MiB", MAX_HISTORY_BYTES >> 20)),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_files_are_cut_off_with_an_error() {
        assert_eq!(read_bounded(Path::new("/dev/zero"), 1 << 20), Err(ReadError::TooLarge(1 << 20)));
        assert!(check_history_file(Path::new("/dev/zero")).is_err());
        assert!(check_history_file(Path::new("/nonexistent/history")).is_ok());
    }
}
