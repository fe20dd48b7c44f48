//! A program-output sink that keeps what was written, for callers that show it themselves (a notebook
//! cell, a test): clones share one buffer, so the engine can write to one while the caller reads another.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// Collects everything written to it; every clone shares the same bytes.
#[derive(Clone, Debug, Default)]
pub struct CapturedOutput(Rc<RefCell<Vec<u8>>>);

impl CapturedOutput {
    /// Removes and returns everything written so far.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }

    /// Removes and returns everything written so far, as text (invalid UTF-8 replaced).
    pub fn take_string(&self) -> String {
        String::from_utf8_lossy(&self.take()).into_owned()
    }
}

impl Write for CapturedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
