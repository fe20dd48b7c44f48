//! Ctrl-C while code runs: a SIGINT handler that asks the running evaluation to stop.
//!
//! The handler only does async-signal-safe things: it reads one atomic pointer and, when an evaluation is
//! running, makes two atomic stores into its runtime state (the JIT code notices at its next function entry
//! or loop back-edge). When nothing runs, a script exits with 130 and the shell ignores the signal (at the
//! prompt rustyline reads Ctrl-C as a key and clears the line).

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use kaleido_engine::RuntimeState;

static RUNNING: AtomicPtr<RuntimeState> = AtomicPtr::new(std::ptr::null_mut());
static EXIT_WHEN_IDLE: AtomicBool = AtomicBool::new(false);

/// Installs the SIGINT handler. In script mode (`exit_when_idle`), a Ctrl-C outside an evaluation exits
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

/// Marks `state` as the running evaluation's until the guard is dropped.
pub fn running(state: &RuntimeState) -> RunningGuard {
    RUNNING.store(state as *const RuntimeState as *mut RuntimeState, Ordering::SeqCst);
    RunningGuard
}

/// Clears the running evaluation when dropped.
pub struct RunningGuard;

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

extern "C" fn on_sigint(_signal: libc::c_int) {
    let state = RUNNING.load(Ordering::SeqCst);
    if !state.is_null() {
        // SAFETY: the pointer is set only while the engine owning the state evaluates, and cleared (by the
        // guard) before that evaluation returns; `interrupt` makes two atomic stores.
        unsafe { (*state).interrupt() };
    } else if EXIT_WHEN_IDLE.load(Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}
