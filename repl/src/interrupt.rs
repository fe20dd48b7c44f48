//! Ctrl-C: a SIGINT handler that asks the session's engine to stop.
//!
//! The handler only does async-signal-safe things: it reads atomics and calls
//! [`InterruptHandle::interrupt`], two atomic stores. The engine acts on the request wherever it lands:
//! running code stops at its next function entry or loop back-edge, a compile is abandoned, an entry not
//! yet started (the next item of a script or a `:load`) does not run. A script that is not running the
//! session at all (reading its input, say) exits with 130 at once; the shell drops a request nothing
//! acted on when it shows the next prompt (at the prompt itself rustyline reads Ctrl-C as a key).

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use kaleido_engine::InterruptHandle;

/// The handle of the current session's engine. Replaced handles are leaked, never freed: the handler
/// may be reading one at any moment, and a `:reset` leaks only a few bytes.
static HANDLE: AtomicPtr<InterruptHandle> = AtomicPtr::new(std::ptr::null_mut());
static EXIT_WHEN_IDLE: AtomicBool = AtomicBool::new(false);
static BUSY: AtomicBool = AtomicBool::new(false);

/// Installs the SIGINT handler. In script mode (`exit_when_idle`), a Ctrl-C while no script runs exits
/// with status 130.
pub fn install(exit_when_idle: bool) {
    EXIT_WHEN_IDLE.store(exit_when_idle, Ordering::SeqCst);
    // SAFETY: `on_sigint` is an `extern "C"` function that only performs async-signal-safe operations;
    // `sigaction` is given a fully initialised struct.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Makes `handle` the one Ctrl-C reaches (a new session, or a `:reset`).
pub fn register(handle: InterruptHandle) {
    HANDLE.store(Box::into_raw(Box::new(handle)), Ordering::SeqCst);
}

/// Asks the current session's engine to stop: what Ctrl-C does, and a notebook's `interrupt_request`.
/// Async-signal-safe (an atomic load and two atomic stores), so the SIGINT handler calls it too.
pub fn interrupt_current() {
    let handle = HANDLE.load(Ordering::SeqCst);
    // SAFETY: a non-null pointer came from `Box::into_raw` in `register` and is never freed.
    if let Some(handle) = unsafe { handle.as_ref() } {
        handle.interrupt();
    }
}

/// Marks a script as running (its items act on Ctrl-C themselves) until the guard is dropped.
pub fn busy() -> BusyGuard {
    BUSY.store(true, Ordering::SeqCst);
    BusyGuard
}

/// Clears the busy mark when dropped.
pub struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::SeqCst);
    }
}

extern "C" fn on_sigint(_signal: libc::c_int) {
    if EXIT_WHEN_IDLE.load(Ordering::SeqCst) && !BUSY.load(Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
    interrupt_current();
}
