//! `Engine::load_library`: a C library loaded into the process, whose functions `extern` can then bind
//! (`--lib`, `:lib`). `:save` writes the list back as `:lib` lines.

use std::path::{Path, PathBuf};

use super::Engine;
use crate::runtime::libraries::LibraryError;

impl Engine {
    /// Loads the C library at `path` (a bare name is searched as the dynamic loader does); its functions
    /// are then found by `extern` as the process's own are. Returns whether it was new (loading one
    /// again does nothing). Its initialisers run: a library is trusted code, as the tutorial's JIT trusts
    /// what it links. It stays loaded for the life of the process.
    ///
    /// With an executor, the library is loaded here and the executor is replaced by a new fork (at the
    /// next run), which has it at the same addresses: the controller resolves `extern`s, the executor
    /// calls them. Globals and definitions are kept (they live in shared memory).
    pub fn load_library(&mut self, path: &Path) -> Result<bool, LibraryError> {
        let new = self.libraries.load(path)?;
        if new {
            self.retire_executor();
        }
        Ok(new)
    }

    /// The C libraries loaded, in order (canonical paths).
    pub fn libraries(&self) -> &[PathBuf] {
        self.libraries.paths()
    }
}
