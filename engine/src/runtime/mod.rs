//! The runtime: the state JIT code and its hooks share, the hooks themselves, and the interrupt handle.
//!
//! Runtime errors do not unwind. A hook records the error in [`RuntimeState`] and sets its `abort` word;
//! every call site in JIT code tests that word after the call returns and, when it is set, records its own
//! frame (for the backtrace) and returns at once. So an error travels back to the engine by ordinary
//! returns: no unwind tables, no `catch_unwind`, no signal handler, and every Rust frame stays well formed.

pub(crate) mod builtins;
pub(crate) mod drawing;
pub(crate) mod libraries;
pub(crate) mod output;
pub(crate) mod remote;
pub(crate) mod remote_codec;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::machine::shared::SharedArray;

/// What a hook can raise; passed from JIT code as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub(crate) enum RaiseKind {
    /// The slot's function is not defined.
    Undefined = 1,
    /// The slot's arity is not the function's current arity.
    ArityMismatch = 2,
    /// A stack check failed: the stack is exhausted, or an interrupt lowered the limit.
    CheckFailed = 3,
}

/// An error recorded by a hook, before the engine turns it into a [`crate::RuntimeError`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Raised {
    /// `slot` points at no definition.
    Undefined {
        /// The slot's address.
        slot: usize,
    },
    /// `slot`'s arity is stale.
    ArityMismatch {
        /// The slot's address.
        slot: usize,
    },
    /// The stack ran out.
    StackOverflow,
    /// The evaluation was interrupted.
    Interrupted,
    /// The executor running the code ended (only the controller raises this, never JIT code).
    ExecutorEnded(crate::base::error::ExecutorEnd, crate::base::error::Restart),
    /// No executor runs (it ended too often in a row).
    ExecutorStopped(u32),
    /// A drawing builtin refused its arguments.
    Drawing(crate::base::drawing::DrawingError),
    /// Generating the deferred code of the slot's function failed.
    CompileFailed {
        /// The slot's address.
        slot: usize,
        /// Why, in a sentence.
        reason: String,
    },
    /// The program's output could not be written (a closed pipe, a full disk).
    OutputFailed {
        /// The I/O error, in words.
        reason: String,
    },
}

/// The words JIT code polls: they are shared with every [`InterruptHandle`], so another thread or a signal
/// handler can stop running code. JIT code embeds this struct's address and reads `abort` and
/// `stack_limit` at fixed offsets, so the layout is `repr(C)`; it lives in a shared page behind an `Arc`,
/// so an executor forked from this process polls the very words the controller's handle sets.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Non-zero once an error was raised: every caller returns at once.
    abort: AtomicU64,
    /// Function prologues and loop back-edges fail when the stack pointer is below this. An interrupt sets
    /// it to `usize::MAX`, so the same check polls for Ctrl-C.
    stack_limit: AtomicUsize,
    /// Set by an interrupt request, until the engine has acted on it (stopped an evaluation, rejected
    /// an entry); read when a stack check fails to tell the two apart.
    interrupted: AtomicU64,
}

// SAFETY: three atomic integers, whose all-zero bytes are valid, with no destructor.
unsafe impl crate::machine::shared::ZeroCell for Signals {
    fn reset(&self) {
        self.abort.store(0, Ordering::SeqCst);
        self.stack_limit.store(0, Ordering::SeqCst);
        self.interrupted.store(0, Ordering::SeqCst);
    }
}

/// Byte offset of the abort word in the signals, for JIT loads.
pub(crate) const ABORT_OFFSET: i32 = std::mem::offset_of!(Signals, abort) as i32;
/// Byte offset of the stack limit in the signals, for JIT loads.
pub(crate) const STACK_LIMIT_OFFSET: i32 = std::mem::offset_of!(Signals, stack_limit) as i32;

/// Stops the engine's running code from anywhere: another thread, or a signal handler. Cloning is cheap;
/// every clone reaches the same engine, and a handle may outlive its engine (it then does nothing useful).
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    signals: Arc<SharedArray<Signals>>,
}

impl InterruptHandle {
    /// Asks the engine to stop: running code stops at its next function entry or loop back-edge, a
    /// compile in progress is abandoned, and an entry not yet started is not run. The request stays until
    /// the engine acts on it. Async-signal-safe: two atomic stores.
    pub fn interrupt(&self) {
        let signals = self.words();
        signals.interrupted.store(1, Ordering::SeqCst);
        signals.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Whether an interrupt was asked for and not acted on yet.
    pub fn is_requested(&self) -> bool {
        self.words().interrupted.load(Ordering::SeqCst) != 0
    }

    /// Drops a request nothing acted on (a front end does this when it shows a fresh prompt, so a stray
    /// Ctrl-C does not stop the next entry).
    pub fn clear(&self) {
        self.words().interrupted.store(0, Ordering::SeqCst);
    }

    /// The address JIT code embeds.
    pub(crate) fn signals_address(&self) -> usize {
        self.words() as *const Signals as usize
    }

    fn words(&self) -> &Signals {
        &self.signals.as_slice()[0]
    }
}

/// The frames an error passed on its way out, innermost first: (code id, consecutive repeats, the index
/// of the call site the innermost of them left from).
pub(crate) type RawFrames = Vec<(u32, u64, u32)>;

/// What a lazy stub's call came to: code to hand the call over to, or (tier 0) the value the call returned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Entered {
    /// The function's machine code: the stub tail-calls it with the same arguments.
    Code(usize),
    /// The call was evaluated in tier 0; this is its value.
    Value(f64),
}

/// What a lazy stub asks for, through [`k_lazy_enter`]: the code of the function deferred for a slot, or
/// the call run in tier 0. The engine's lazy compiler implements it; declaring it here keeps the runtime
/// below the compiler.
pub(crate) trait LazyHook {
    /// Compiles the body deferred for the slot at address `slot` and returns its code's address, or the
    /// error to raise (the slot then still points at the lazy stub, and a later call tries again).
    fn compile(&self, slot: usize) -> Result<usize, Raised>;

    /// A call through the slot at `slot` with `args` reached its lazy stub: run it in tier 0 (the value),
    /// or compile the body (the code, which the stub calls). Compiles, unless the hook has a tier 0.
    fn enter(&self, _runtime: &RuntimeState, slot: usize, _args: &[f64]) -> Result<Entered, Raised> {
        self.compile(slot).map(Entered::Code)
    }

    /// Recompiles version `code` of the function behind the slot at `slot` with the optimizing tier, if it
    /// is still what the slot runs; returns the new code's address (`None`: nothing to do, or it could not
    /// be compiled and the baseline code stays), or the error to raise (an interrupt).
    fn tier_up(&self, slot: usize, code: u32) -> Result<Option<usize>, Raised>;
}

/// The state hooks write: the error raised, the frames it passed, the program's output. Boxed, so JIT code
/// can embed its address and pass it to every hook.
pub(crate) struct RuntimeState {
    signals: InterruptHandle,
    raised: RefCell<Option<Raised>>,
    frames: RefCell<RawFrames>,
    output: RefCell<Box<dyn Write>>,
    /// What the running entry has drawn.
    drawing: RefCell<drawing::DrawingRecorder>,
    /// The engine's lazy compiler (unset until the engine sets it).
    lazy: Cell<Option<*const dyn LazyHook>>,
}

impl RuntimeState {
    /// A fresh state writing program output to `output`.
    pub(crate) fn new(output: Box<dyn Write>) -> std::io::Result<Box<RuntimeState>> {
        Ok(Box::new(RuntimeState::polling(Arc::new(SharedArray::new(1)?), output)))
    }

    /// A state polling `signals`, with nothing raised or drawn.
    fn polling(signals: Arc<SharedArray<Signals>>, output: Box<dyn Write>) -> RuntimeState {
        RuntimeState {
            signals: InterruptHandle { signals },
            raised: RefCell::new(None),
            frames: RefCell::new(Vec::new()),
            output: RefCell::new(output),
            drawing: RefCell::new(drawing::DrawingRecorder::default()),
            lazy: Cell::new(None),
        }
    }

    /// For an executor in another process image: a state at exactly `state_at` (where the controller's
    /// code passes it to every hook) polling signals at exactly `signals_at`, in pages mapped there (it
    /// fails if anything is mapped there already). It lives as long as the process.
    pub(crate) fn place_at(
        state_at: usize,
        signals_at: usize,
        output: Box<dyn Write>,
    ) -> std::io::Result<&'static RuntimeState> {
        let state = RuntimeState::polling(Arc::new(SharedArray::new_at(signals_at, 1)?), output);
        let page = state_at & !4095;
        let length = (state_at + std::mem::size_of::<RuntimeState>()).next_multiple_of(4096) - page;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE;
        let protection = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: `MAP_FIXED_NOREPLACE` maps the pages only if nothing is there; they hold nothing else.
        let got = unsafe { libc::mmap(page as *mut libc::c_void, length, protection, flags, -1, 0) };
        if got as usize != page || !state_at.is_multiple_of(std::mem::align_of::<RuntimeState>()) {
            return Err(std::io::Error::from(std::io::ErrorKind::AddrInUse));
        }
        let place = state_at as *mut RuntimeState;
        // SAFETY: `place` is aligned (checked) and lies in pages just mapped for it, which are never
        // unmapped: the state lives as long as the process, as the returned reference says.
        unsafe {
            place.write(state);
            Ok(&*place)
        }
    }

    /// Sends program output to `output` from now on (an executor's, to its controller), and hands back
    /// the sink it replaces.
    pub(crate) fn set_output(&self, output: Box<dyn Write>) -> Box<dyn Write> {
        self.output.replace(output)
    }

    /// The handle that interrupts code running on this state.
    pub(crate) fn interrupt_handle(&self) -> &InterruptHandle {
        &self.signals
    }

    /// Lets lazy stubs reach `hook`, which must outlive this state (the engine owns both, and drops the
    /// state's code before either).
    pub(crate) fn set_lazy_hook(&self, hook: &(dyn LazyHook + 'static)) {
        self.lazy.set(Some(hook as *const dyn LazyHook));
    }

    fn lazy_hook(&self) -> Option<&dyn LazyHook> {
        // SAFETY: the pointer was set by the engine to its boxed lazy compiler, which lives as long as the
        // engine and therefore as long as this state and any code that can reach this hook.
        self.lazy.get().map(|hook| unsafe { &*hook })
    }

    /// Sets the stack limit with no error and no frames recorded. An interrupt that is already pending is
    /// kept: the limit is stored first and then the request re-checked, so a request landing at any point
    /// in between still stops the run at its first check.
    pub(crate) fn arm(&self, stack_limit: usize) {
        let signals = self.signals.words();
        signals.abort.store(0, Ordering::SeqCst);
        self.raised.replace(None);
        self.frames.borrow_mut().clear();
        signals.stack_limit.store(stack_limit, Ordering::SeqCst);
        if signals.interrupted.load(Ordering::SeqCst) != 0 {
            signals.stack_limit.store(usize::MAX, Ordering::SeqCst);
        }
    }

    /// After an evaluation: the error raised (if any) and the frames it passed, innermost first, folded as
    /// `(code id, repeat)`. Resets the abort word and the stack limit so nothing leaks into the next run;
    /// an interrupt request is consumed only if it stopped the run.
    pub(crate) fn disarm(&self) -> Option<(Raised, RawFrames)> {
        let signals = self.signals.words();
        signals.abort.store(0, Ordering::SeqCst);
        signals.stack_limit.store(0, Ordering::SeqCst);
        let raised = self.raised.replace(None)?;
        if raised == Raised::Interrupted {
            self.signals.clear();
        }
        Some((raised, std::mem::take(&mut *self.frames.borrow_mut())))
    }

    /// Whether an interrupt is pending; if so it is consumed, because the caller is about to act on it.
    pub(crate) fn take_interrupt(&self) -> bool {
        let requested = self.signals.is_requested();
        if requested {
            self.signals.clear();
        }
        requested
    }

    /// Flushes the program output sink; a failure stops the evaluation like a failed write.
    pub(crate) fn flush(&self) {
        let result = self.output.borrow_mut().flush();
        if let Err(error) = result {
            self.raise(Raised::OutputFailed { reason: io_reason(&error) });
        }
    }

    /// Records `raised` (the first error of a run wins), sets the abort word (tested after every slot
    /// call) and fails every stack check (so a loop that makes no slot calls, one that only prints, stops
    /// at its next back-edge too).
    pub(crate) fn raise(&self, raised: Raised) {
        let mut slot = self.raised.borrow_mut();
        if slot.is_none() {
            *slot = Some(raised);
        }
        self.signals.words().abort.store(1, Ordering::SeqCst);
        self.signals.words().stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Takes an error raised outside a run (by [`RuntimeState::flush`] between items), if any.
    pub(crate) fn take_raised(&self) -> Option<Raised> {
        self.signals.words().abort.store(0, Ordering::SeqCst);
        self.signals.words().stack_limit.store(0, Ordering::SeqCst);
        self.raised.replace(None)
    }

    /// The stack limit code compares its stack pointer with (`usize::MAX` once an error or an interrupt
    /// fails every check).
    pub(crate) fn stack_limit(&self) -> usize {
        self.signals.words().stack_limit.load(Ordering::Relaxed)
    }

    /// Whether an error was raised: every caller returns at once.
    pub(crate) fn aborted(&self) -> bool {
        self.signals.words().abort.load(Ordering::Relaxed) != 0
    }

    /// A stack check failed: raises an interrupt if one is pending, else a stack overflow.
    pub(crate) fn check_failed(&self) {
        let raised = if self.signals.is_requested() { Raised::Interrupted } else { Raised::StackOverflow };
        self.raise(raised);
    }

    /// A function leaving through the abort path records itself, and the index of its call site that
    /// aborted (kept for the innermost of a run of repeated frames).
    pub(crate) fn record_frame(&self, code_id: u32, site: u32) {
        let mut frames = self.frames.borrow_mut();
        match frames.last_mut() {
            Some((last, repeat, _)) if *last == code_id => *repeat += 1,
            _ => frames.push((code_id, 1, site)),
        }
    }

    /// Writes program output; a failure stops the evaluation.
    pub(crate) fn write(&self, bytes: &[u8]) {
        // Output that cannot be written (a closed pipe, a full disk) stops the program: it would
        // otherwise run on, writing into nowhere.
        let result = self.output.borrow_mut().write_all(bytes);
        if let Err(error) = result {
            self.raise(Raised::OutputFailed { reason: io_reason(&error) });
        }
    }
}

impl RuntimeState {
    /// Records what `draw` does to the drawing; a refusal stops the evaluation.
    pub(crate) fn draw(
        &self,
        draw: impl FnOnce(&mut drawing::DrawingRecorder) -> Result<(), crate::base::drawing::DrawingError>,
    ) {
        let result = draw(&mut self.drawing.borrow_mut());
        if let Err(error) = result {
            self.raise(Raised::Drawing(error));
        }
    }

    /// Whether anything was drawn since the last take.
    pub(crate) fn has_drawn(&self) -> bool {
        self.drawing.borrow().has_drawn()
    }

    /// Everything drawn since the last take, if anything was.
    pub(crate) fn take_drawing(&self) -> Option<crate::base::drawing::Drawing> {
        self.drawing.borrow_mut().take()
    }
}

/// An I/O error in plain words: "broken pipe", "no space left on device" (not "Broken pipe (os error 32)").
pub fn io_reason(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::EPIPE) => "broken pipe".to_string(),
        Some(libc::ENOSPC) => "no space left on device".to_string(),
        Some(libc::EBADF) => "the output is closed".to_string(),
        _ => error.kind().to_string(),
    }
}

/// Formats a value as everywhere in kaleido: the shortest text that reads back to the same f64.
pub fn format_value(value: f64) -> String {
    format!("{value}")
}

// ---- hooks: called from JIT code with the state's address as first argument --------------------------

/// `k_raise(state, kind, slot)`: records an error; the caller then returns through the abort path.
///
/// # Safety
/// `state` must be the address of a live [`RuntimeState`] (JIT code embeds its engine's), and the call must
/// not happen while another hook of the same state runs (JIT code is single-threaded).
pub(crate) unsafe extern "C" fn k_raise(state: *const RuntimeState, kind: i64, slot: usize) {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    match kind {
        k if k == RaiseKind::Undefined as i64 => state.raise(Raised::Undefined { slot }),
        k if k == RaiseKind::ArityMismatch as i64 => state.raise(Raised::ArityMismatch { slot }),
        _ => state.check_failed(),
    }
}

/// `k_frame(state, code_id, site)`: a function leaving through the abort path records itself, and the
/// index of its call site that aborted (kept for the innermost of a run of repeated frames).
///
/// # Safety
/// As for [`k_raise`].
pub(crate) unsafe extern "C" fn k_frame(state: *const RuntimeState, code_id: u32, site: u32) {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    state.record_frame(code_id, site);
}

/// `k_lazy_enter(state, slot, args, arity)`: a call reached the lazy stub of `slot` with its `arity`
/// arguments stored at `args` (room for at least one value). Either the call runs in tier 0: its value is
/// stored at `args[0]` and 0 is returned; or the deferred body is compiled, the slot pointed at it, and its
/// address returned, which the stub tail-calls. On failure it raises, stores 0 at `args[0]` and returns 0.
///
/// # Safety
/// As for [`k_raise`]; `slot` must be the address of one of the engine's slots (the stub was reached
/// through it), and `args` must point at `max(arity, 1)` writable values, the first `arity` initialised.
pub(crate) unsafe extern "C" fn k_lazy_enter(
    state: *const RuntimeState,
    slot: usize,
    args: *mut f64,
    arity: usize,
) -> usize {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    // SAFETY: the caller guarantees `args` points at `max(arity, 1)` values, in the stub's frame, which
    // outlives this call.
    let values = unsafe { std::slice::from_raw_parts_mut(args, arity.max(1)) };
    let result = match state.lazy_hook() {
        Some(hook) => hook.enter(state, slot, &values[..arity]),
        None => Err(Raised::CompileFailed { slot, reason: "no compiler is attached".into() }),
    };
    match result {
        Ok(Entered::Code(code)) => {
            // SAFETY: the caller guarantees `slot` is a live slot; slots never move or go away while the
            // engine lives.
            unsafe { &*(slot as *const AtomicUsize) }.store(code, Ordering::SeqCst);
            code
        }
        Ok(Entered::Value(value)) => {
            values[0] = value;
            0
        }
        Err(raised) => {
            state.raise(raised);
            values[0] = 0.0;
            0
        }
    }
}

/// `k_tier_up(state, slot, code)`: called once by baseline code whose call count ran out; recompiles it
/// with the optimizing tier and points its slot at the new code, so the next call runs it (this one goes
/// on in the baseline code, which stays until no frame can be in it). A failure keeps the baseline code;
/// an interrupt while compiling is raised.
///
/// # Safety
/// As for [`k_lazy_enter`].
pub(crate) unsafe extern "C" fn k_tier_up(state: *const RuntimeState, slot: usize, code: u64) {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    let Some(hook) = state.lazy_hook() else {
        return;
    };
    match hook.tier_up(slot, code as u32) {
        // SAFETY: as in `k_lazy_enter`: `slot` is a live slot, and slots never move.
        Ok(Some(optimized)) => unsafe { &*(slot as *const AtomicUsize) }.store(optimized, Ordering::SeqCst),
        Ok(None) => {}
        Err(raised) => state.raise(raised),
    }
}

/// The hooks' addresses, from one static, so that every piece of generated code, the listings and an
/// executor's jumps name the same address for a hook (rustc may copy a small function into several codegen
/// units, each copy at an address of its own).
pub(crate) struct HookTable {
    raise: unsafe extern "C" fn(*const RuntimeState, i64, usize),
    frame: unsafe extern "C" fn(*const RuntimeState, u32, u32),
    lazy_enter: unsafe extern "C" fn(*const RuntimeState, usize, *mut f64, usize) -> usize,
    tier_up: unsafe extern "C" fn(*const RuntimeState, usize, u64),
}

/// The one table of the hooks.
pub(crate) static HOOKS: HookTable =
    HookTable { raise: k_raise, frame: k_frame, lazy_enter: k_lazy_enter, tier_up: k_tier_up };

impl HookTable {
    /// `k_raise`'s address.
    pub(crate) fn raise(&self) -> usize {
        self.raise as usize
    }

    /// `k_frame`'s address.
    pub(crate) fn frame(&self) -> usize {
        self.frame as usize
    }

    /// `k_lazy_enter`'s address.
    pub(crate) fn lazy_enter(&self) -> usize {
        self.lazy_enter as usize
    }

    /// `k_tier_up`'s address.
    pub(crate) fn tier_up(&self) -> usize {
        self.tier_up as usize
    }
}

/// Finds a C function of the process by name, as the tutorial's JIT does for `extern`.
pub(crate) fn lookup_c_symbol(name: &str) -> Option<usize> {
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `dlsym` with `RTLD_DEFAULT` and a NUL-terminated name only reads the loaded symbol tables.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c_name.as_ptr()) };
    (!address.is_null()).then_some(address as usize)
}
