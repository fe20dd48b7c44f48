//! Stacks of known size: one that JIT code runs on, and one that Cranelift compiles on.
//!
//! How deep a recursion can go must not depend on where the caller's stack happens to start (ASLR, the
//! environment's size, `RLIMIT_STACK`, a test harness's 2 MiB threads) nor on the build profile. So every
//! evaluation runs on the engine's own [`Stack`], whose limit for the JIT code's checks sits a fixed margin
//! above its end. Compiling, which may happen in the middle of an evaluation (a lazy first call, at any
//! depth), runs on a second stack, so that a debug build of Cranelift never competes with the recursion
//! for room. The callee of [`Stack::run`] may itself call [`Stack::run`] on the *other* stack (JIT code →
//! lazy-compile hook → compile stack), never on the one it is on.
//!
//! This file holds the engine's `unsafe` for switching stacks.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use region::Protection;

/// The room JIT code may use for recursion. Baseline-tier frames are about four times the size of
/// optimized ones (the single-pass register allocator gives every value its own spill slot), so the budget
/// is four times the 6 MiB earlier releases gave optimized code: a one-argument recursion reaches the same
/// ~196,000 levels by default as it did then. Pages are committed only when a recursion reaches them.
pub(crate) const EVAL_BUDGET: usize = 24 * 1024 * 1024;

/// Room kept below the limit for what runs under the deepest JIT frame: the hooks (`printd` formats a
/// number, `k_frame` grows a vector), the switch to the compile stack, and a signal handler.
pub(crate) const EVAL_MARGIN: usize = 256 * 1024;

/// The largest frame that may be allocated before anything checks it: the rule every compiled function
/// goes through (`backend/mod.rs`), whatever its tier and whatever it inlined, measured from the machine code
/// (Cranelift's frame layout), not guessed from the source. A stack check runs after the prologue has
/// allocated the frame, and code may store into the frame before its check; both are sound because every
/// frame that reaches its prologue starts above the limit (its caller passed a check, or it is top-level
/// code at the top of the evaluation stack) and a frame this small fits in [`EVAL_MARGIN`] with room to
/// spare for the hooks a failing check calls. So a function with no calls and no loops may skip its check
/// when its frame is at most this big; a larger frame, checked or not, is entered through a guard that
/// checks it fits before allocating it (`codegen/frame_guard.rs`), and the engine checks a larger top-level frame
/// before calling the code.
pub(crate) const MAX_UNGUARDED_FRAME: usize = 64 * 1024;

/// What a guarded frame must leave free above the limit besides itself: its own hooks and the Rust frames
/// of a runtime error, as for any frame.
pub(crate) const GUARD_SLACK: usize = 4 * 1024;

/// Whether a frame of `frame` bytes allocated below the stack pointer `sp` stays above `limit` with
/// [`GUARD_SLACK`] to spare (what a frame guard checks in JIT code, and the engine before top-level code).
pub(crate) fn frame_fits(sp: usize, frame: usize, limit: usize) -> bool {
    sp.checked_sub(frame + GUARD_SLACK).is_some_and(|room| room >= limit)
}

/// Room above the budget for the Rust frames between the top of the evaluation stack and the first JIT
/// frame (larger in debug builds). The budget is measured from the frame that calls JIT code.
pub(crate) const EVAL_ENTRY: usize = 64 * 1024;

/// The compile stack. Entries are parsed, checked and translated on it, so its size sets how deeply they
/// may nest ([`kaleido_lang::Limits::for_stack`]: 8,192 levels); it also leaves a debug build of
/// Cranelift generous headroom. Pages are committed only when touched, so the size costs nothing unused.
pub(crate) const COMPILE_STACK: usize = 64 * 1024 * 1024;

/// One mapped stack with an inaccessible guard page below it.
pub(crate) struct Stack {
    /// The mapping; unmapped when the stack is dropped (nothing runs on it then).
    _mapping: region::Allocation,
    /// The lowest usable address (just above the guard page).
    low: usize,
    /// Usable bytes.
    size: usize,
    /// Whether code is running on it now (it cannot be entered twice).
    busy: std::cell::Cell<bool>,
}

impl Stack {
    /// Maps a stack of `size` usable bytes (rounded up to whole pages) plus a guard page.
    pub(crate) fn new(size: usize) -> io::Result<Stack> {
        let page = region::page::size();
        let size = size.next_multiple_of(page);
        let mapping = region::alloc(size + page, Protection::READ_WRITE).map_err(io::Error::other)?;
        let base = mapping.as_ptr::<u8>();
        // SAFETY: the first page of the mapping just made; nothing uses it, and turning it into a guard
        // affects nothing else.
        unsafe { region::protect(base, page, Protection::NONE) }.map_err(io::Error::other)?;
        Ok(Stack { _mapping: mapping, low: base as usize + page, size, busy: std::cell::Cell::new(false) })
    }

    /// The lowest address code on this stack may reach, leaving `margin` bytes free.
    pub(crate) fn floor(&self, margin: usize) -> usize {
        self.low + margin
    }

    /// Runs `f` on this stack, or directly if the current code already runs on it. Panics inside `f` come
    /// back out as panics.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.busy.get() || self.contains(psm::stack_pointer() as usize) {
            return f();
        }
        self.busy.set(true);
        let mut f = Some(f);
        let mut result = None;
        let mut call = || result = Some(catch_unwind(AssertUnwindSafe(|| (f.take().expect("called once"))())));
        // SAFETY: `low..low + size` is a mapping this stack owns, page-aligned (so aligned for any target)
        // and a whole number of pages long; it is not in use (`busy` was false and the current stack
        // pointer is elsewhere); `call` cannot unwind, because `catch_unwind` stops any panic inside it.
        unsafe { psm::on_stack(self.low as *mut u8, self.size, &mut call) };
        self.busy.set(false);
        match result.expect("the callback ran") {
            Ok(value) => value,
            Err(panic) => resume_unwind(panic),
        }
    }

    fn contains(&self, address: usize) -> bool {
        (self.low..self.low + self.size).contains(&address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_its_own_memory_and_passes_panics_through() {
        let stack = Stack::new(1 << 20).expect("a stack");
        let sp = stack.run(|| psm::stack_pointer() as usize);
        assert!(stack.contains(sp));
        assert_eq!(stack.run(|| stack.run(|| 7)), 7, "re-entering runs in place");
        let panicked = catch_unwind(AssertUnwindSafe(|| stack.run(|| panic!("inside"))));
        assert!(panicked.is_err());
        assert_eq!(stack.run(|| 1 + 1), 2, "usable again after a panic");
    }
}
