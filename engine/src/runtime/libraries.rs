//! C libraries loaded into the process (`--lib`, `:lib`), so `extern` can bind their functions: each is
//! opened with `dlopen(RTLD_NOW | RTLD_GLOBAL)`, which puts its symbols where `lookup_c_symbol`'s
//! `dlsym(RTLD_DEFAULT, …)` finds them. A library is never closed: code may hold its addresses.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a library could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LibraryError {
    /// The path has a NUL byte in it.
    #[error("{path} is not a usable path (it holds a NUL byte)")]
    BadPath {
        /// The path as given.
        path: String,
    },
    /// The dynamic loader refused it (missing, not a shared library, a missing dependency).
    #[error("cannot load {path}: {reason}")]
    Refused {
        /// The path as given.
        path: String,
        /// What the loader said.
        reason: String,
    },
}

/// The libraries loaded, in order, by the paths they were loaded from.
#[derive(Debug, Default)]
pub(crate) struct Libraries {
    loaded: Vec<PathBuf>,
}

impl Libraries {
    /// Loads `path` (a path with a `/` is a file; a bare name is searched as `dlopen` does). Returns
    /// whether it was new: loading a library again does nothing.
    pub(crate) fn load(&mut self, path: &Path) -> Result<bool, LibraryError> {
        let shown = path.display().to_string();
        let identity = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.loaded.contains(&identity) {
            return Ok(false);
        }
        let name =
            CString::new(path.as_os_str().as_bytes()).map_err(|_| LibraryError::BadPath { path: shown.clone() })?;
        // SAFETY: `name` is NUL-terminated. Loading a library runs its initialisers, which is what the user
        // asked for (as the tutorial's JIT links what it is told); the handle is kept open for good, so
        // addresses resolved from it stay valid.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            return Err(LibraryError::Refused { path: shown, reason: loader_error() });
        }
        self.loaded.push(identity);
        Ok(true)
    }

    /// The libraries loaded, in order.
    pub(crate) fn paths(&self) -> &[PathBuf] {
        &self.loaded
    }
}

/// The dynamic loader's last error, in its words.
fn loader_error() -> String {
    // SAFETY: `dlerror` returns NULL or a NUL-terminated string owned by the loader, valid until the next
    // dl call on this thread; it is copied at once.
    let message = unsafe { libc::dlerror() };
    if message.is_null() {
        return "the dynamic loader gave no reason".to_string();
    }
    // SAFETY: non-NULL, NUL-terminated, as above.
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}
