//! The runtime module: builtins (`putchard`, `printd`, libm) and the hooks JIT code calls to raise errors.
//!
//! Runtime errors do not unwind. A hook records the error in [`RuntimeState`] and sets its `abort` word;
//! every call site in JIT code tests that word after the call returns and, when it is set, records its own
//! frame (for the backtrace) and returns at once. So an error travels back to the engine by ordinary
//! returns: no unwind tables, no `catch_unwind`, no signal handler, and every Rust frame stays well formed.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What a hook can raise; passed from JIT code as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum RaiseKind {
    /// The slot's function is not defined.
    Undefined = 1,
    /// The slot's arity is not the function's current arity.
    ArityMismatch = 2,
    /// A stack check failed: the stack is exhausted, or an interrupt lowered the limit.
    CheckFailed = 3,
}

/// An error recorded by a hook, before the engine turns it into a [`crate::RuntimeError`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Raised {
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
    /// Generating the deferred code of the slot's function failed (an internal error).
    CompileFailed {
        /// The slot's address.
        slot: usize,
    },
}

/// The state JIT code reads and hooks write. JIT code embeds this struct's address and reads `abort` and
/// `stack_limit` at fixed offsets, so the layout is `repr(C)` and the struct is boxed for a stable address.
#[repr(C)]
pub struct RuntimeState {
    /// Non-zero once an error was raised: every caller returns at once.
    pub abort: AtomicU64,
    /// Function prologues and loop back-edges fail when the stack pointer is below this. An interrupt sets
    /// it to `usize::MAX`, so the same check polls for Ctrl-C.
    pub stack_limit: AtomicUsize,
    /// Set by an interrupt request (Ctrl-C); read when a stack check fails to tell the two apart.
    pub interrupted: AtomicU64,
    raised: RefCell<Option<Raised>>,
    frames: RefCell<Vec<(u32, u64)>>,
    output: RefCell<Box<dyn Write>>,
    /// The engine's compiler, for lazy compilation from JIT code (null until the engine sets it).
    compiler: std::cell::Cell<*const RefCell<crate::lazy::Compiler>>,
}

/// Byte offset of [`RuntimeState::abort`], for JIT loads.
pub const ABORT_OFFSET: i32 = std::mem::offset_of!(RuntimeState, abort) as i32;
/// Byte offset of [`RuntimeState::stack_limit`], for JIT loads.
pub const STACK_LIMIT_OFFSET: i32 = std::mem::offset_of!(RuntimeState, stack_limit) as i32;

impl RuntimeState {
    /// A fresh state writing program output to `output`.
    pub fn new(output: Box<dyn Write>) -> Box<RuntimeState> {
        Box::new(RuntimeState {
            abort: AtomicU64::new(0),
            stack_limit: AtomicUsize::new(0),
            interrupted: AtomicU64::new(0),
            raised: RefCell::new(None),
            frames: RefCell::new(Vec::new()),
            output: RefCell::new(output),
            compiler: std::cell::Cell::new(std::ptr::null()),
        })
    }

    /// Lets hooks reach `compiler`, which must outlive this state (the engine owns both).
    pub(crate) fn set_compiler(&self, compiler: &RefCell<crate::lazy::Compiler>) {
        self.compiler.set(compiler);
    }

    /// The engine's compiler, if set.
    pub(crate) fn compiler(&self) -> Option<&RefCell<crate::lazy::Compiler>> {
        // SAFETY: the pointer is null or was set by the engine to its boxed compiler, which lives as long
        // as the engine and therefore as long as this state.
        unsafe { self.compiler.get().as_ref() }
    }

    /// Prepares for an evaluation: no error, no frames, the stack limit for the current thread.
    pub fn arm(&self, stack_limit: usize) {
        self.abort.store(0, Ordering::SeqCst);
        self.interrupted.store(0, Ordering::SeqCst);
        self.stack_limit.store(stack_limit, Ordering::SeqCst);
        self.raised.replace(None);
        self.frames.borrow_mut().clear();
    }

    /// After an evaluation: the error raised (if any) and the frames it passed, innermost first, folded as
    /// `(code id, repeat)`. Resets the abort word and the stack limit so nothing leaks into the next run.
    pub fn disarm(&self) -> Option<(Raised, Vec<(u32, u64)>)> {
        self.abort.store(0, Ordering::SeqCst);
        self.interrupted.store(0, Ordering::SeqCst);
        self.stack_limit.store(0, Ordering::SeqCst);
        let raised = self.raised.replace(None)?;
        Some((raised, std::mem::take(&mut *self.frames.borrow_mut())))
    }

    /// Asks running code to stop at its next function entry or loop back-edge. Async-signal-safe: two
    /// atomic stores.
    pub fn interrupt(&self) {
        self.interrupted.store(1, Ordering::SeqCst);
        self.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Flushes the program output sink.
    pub fn flush(&self) {
        let _ = self.output.borrow_mut().flush();
    }

    /// Records `raised` (the first error of a run wins) and sets the abort word.
    pub(crate) fn raise(&self, raised: Raised) {
        let mut slot = self.raised.borrow_mut();
        if slot.is_none() {
            *slot = Some(raised);
        }
        self.abort.store(1, Ordering::SeqCst);
    }

    fn write(&self, bytes: &[u8]) {
        // A closed pipe is not the program's error: output is dropped, the evaluation goes on.
        let _ = self.output.borrow_mut().write_all(bytes);
    }
}

/// Formats a value as everywhere in kaleido: the shortest text that reads back to the same f64.
pub fn format_value(value: f64) -> String {
    format!("{value}")
}

// ---- hooks: called from JIT code with the state's address as first argument --------------------------

/// `k_raise(state, kind, slot)`: records an error; the caller then returns through the abort path.
pub extern "C" fn k_raise(state: *const RuntimeState, kind: i64, slot: usize) {
    // SAFETY: JIT code passes the address of the engine's boxed `RuntimeState`, which outlives all code.
    let state = unsafe { &*state };
    let raised = match kind {
        k if k == RaiseKind::Undefined as i64 => Raised::Undefined { slot },
        k if k == RaiseKind::ArityMismatch as i64 => Raised::ArityMismatch { slot },
        _ if state.interrupted.load(Ordering::SeqCst) != 0 => Raised::Interrupted,
        _ => Raised::StackOverflow,
    };
    state.raise(raised);
}

/// `k_frame(state, code_id)`: a function leaving through the abort path records itself.
pub extern "C" fn k_frame(state: *const RuntimeState, code_id: u32) {
    // SAFETY: as in `k_raise`.
    let state = unsafe { &*state };
    let mut frames = state.frames.borrow_mut();
    match frames.last_mut() {
        Some((last, repeat)) if *last == code_id => *repeat += 1,
        _ => frames.push((code_id, 1)),
    }
}

/// `putchard(c)`: writes the byte `c` (truncated toward zero, as C's cast does) and returns 0.
pub extern "C" fn k_putchard(state: *const RuntimeState, c: f64) -> f64 {
    // SAFETY: as in `k_raise`.
    let state = unsafe { &*state };
    state.write(&[c as u8]);
    0.0
}

/// `printd(x)`: writes `x` in the shortest round-trip form and a newline, and returns 0.
pub extern "C" fn k_printd(state: *const RuntimeState, x: f64) -> f64 {
    // SAFETY: as in `k_raise`.
    let state = unsafe { &*state };
    state.write(format!("{}\n", format_value(x)).as_bytes());
    0.0
}

macro_rules! unary_math {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($method), "(x)` from libm.")]
            pub extern "C" fn $name(x: f64) -> f64 { x.$method() }
        )*
    };
}

unary_math!(
    k_sin => sin, k_cos => cos, k_tan => tan, k_asin => asin, k_acos => acos, k_atan => atan,
    k_sinh => sinh, k_cosh => cosh, k_tanh => tanh, k_exp => exp, k_log => ln, k_log10 => log10,
    k_sqrt => sqrt, k_floor => floor, k_ceil => ceil, k_fabs => abs,
);

/// `atan2(y, x)`.
pub extern "C" fn k_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

/// `pow(x, y)`.
pub extern "C" fn k_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// `fmod(x, y)`: the remainder with the sign of `x`, as C's `fmod` (Rust's `%` on f64).
pub extern "C" fn k_fmod(x: f64, y: f64) -> f64 {
    x % y
}

/// A builtin function: its kaleido name, arity, address, and whether it takes the state as first argument.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// The name kaleido code calls it by.
    pub name: &'static str,
    /// How many f64 arguments it takes.
    pub arity: usize,
    /// Its address.
    pub address: usize,
    /// Whether the state's address is passed first (for builtins that write output).
    pub takes_state: bool,
}

/// Every builtin, in the order `:list` shows them.
pub fn builtins() -> Vec<Builtin> {
    let io = |name, address: usize| Builtin { name, arity: 1, address, takes_state: true };
    let math1 =
        |name, f: extern "C" fn(f64) -> f64| Builtin { name, arity: 1, address: f as usize, takes_state: false };
    let math2 =
        |name, f: extern "C" fn(f64, f64) -> f64| Builtin { name, arity: 2, address: f as usize, takes_state: false };
    vec![
        io("putchard", k_putchard as *const () as usize),
        io("printd", k_printd as *const () as usize),
        math1("sin", k_sin),
        math1("cos", k_cos),
        math1("tan", k_tan),
        math1("asin", k_asin),
        math1("acos", k_acos),
        math1("atan", k_atan),
        math2("atan2", k_atan2),
        math1("sinh", k_sinh),
        math1("cosh", k_cosh),
        math1("tanh", k_tanh),
        math1("exp", k_exp),
        math1("log", k_log),
        math1("log10", k_log10),
        math2("pow", k_pow),
        math1("sqrt", k_sqrt),
        math1("floor", k_floor),
        math1("ceil", k_ceil),
        math1("fabs", k_fabs),
        math2("fmod", k_fmod),
    ]
}

/// Finds a C function of the process by name, as the tutorial's JIT does for `extern`.
pub fn lookup_c_symbol(name: &str) -> Option<usize> {
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `dlsym` with `RTLD_DEFAULT` and a NUL-terminated name only reads the loaded symbol tables.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c_name.as_ptr()) };
    (!address.is_null()).then_some(address as usize)
}

/// The lowest address the stack checks let an evaluation starting at stack pointer `sp` reach: `sp` minus
/// a fixed budget, so that how deep recursion can go does not depend on where the stack happens to start
/// (ASLR, the size of the environment), but never closer to the thread's stack end than a margin that leaves
/// room for the hooks (and the compiler, when a call compiles lazily).
pub fn stack_limit(sp: usize) -> usize {
    thread_local! {
        static LOW: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    }
    let low = LOW.with(|cell| {
        let low = cell.get().unwrap_or_else(|| current_stack_low().unwrap_or(0));
        cell.set(Some(low));
        low
    });
    if low == 0 {
        return 0;
    }
    (low + STACK_MARGIN).max(sp.saturating_sub(STACK_BUDGET))
}

/// Stack kept free below the limit: hooks, and Cranelift when a lazy call compiles, run in it.
const STACK_MARGIN: usize = 512 * 1024;

/// The most stack one evaluation may use (when the thread has that much).
const STACK_BUDGET: usize = 6 * 1024 * 1024;

fn current_stack_low() -> Option<usize> {
    // SAFETY: `pthread_getattr_np` fills the zeroed attribute for the calling thread, which we then read and
    // destroy; no pointer escapes.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut base: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut base, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        ok.then_some(base as usize)
    }
}
