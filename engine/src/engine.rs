//! The engine: its public API, and the session it keeps (definitions, globals, operators, code).
//!
//! An entry is evaluated in two phases. The compile phase (`compile.rs`) analyzes every item and compiles
//! them all into the entry's new module; any error there rejects the entry with the session untouched. The
//! apply phase (`engine/apply.rs`) then takes the items in order: a definition repoints its slots,
//! top-level code runs. A runtime error stops the apply phase; the items before it keep their effects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use cranelift_frontend::FunctionBuilderContext;
use kaleido_lang::{Diagnostic, Operators, Span, analyze, has_errors};

use crate::backend::{Backend, CompileStats, host_isa};
use crate::cells::StableCells;
use crate::code_memory::{CodeArena, CodeRange, DEFAULT_CODE_MEMORY, SharedArena, lock};
use crate::codegen::RuntimeAddresses;
use crate::compile::{Staging, StagingError};
use crate::error::{Frame, Rejected, RuntimeError, RuntimeErrorKind};
use crate::index::{EntryId, FunctionKind, FunctionState, Index};
use crate::lazy::Compiler;
use crate::runtime::{Builtin, InterruptHandle, RuntimeState, builtins};
use crate::stack::{COMPILE_STACK, EVAL_BUDGET, EVAL_ENTRY, EVAL_MARGIN, Stack};

mod apply;

/// The prelude: the operators people expect, written in kaleido and loaded at start-up.
pub const PRELUDE: &str = include_str!("prelude.kal");

/// When a definition's machine code is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitMode {
    /// On its first call (the default): loading a big script costs parsing and checking only.
    Lazy,
    /// When it is entered.
    Eager,
}

impl std::fmt::Display for JitMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JitMode::Lazy => "lazy",
            JitMode::Eager => "eager",
        })
    }
}

impl std::str::FromStr for JitMode {
    type Err = String;

    fn from_str(text: &str) -> Result<JitMode, String> {
        match text {
            "lazy" => Ok(JitMode::Lazy),
            "eager" => Ok(JitMode::Eager),
            other => Err(format!("unknown JIT mode `{other}`; use `lazy` or `eager`")),
        }
    }
}

/// How an engine starts.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Load the prelude (`!`, unary `-`, `>`, `|`, `&`, `:`).
    pub prelude: bool,
    /// Compile definitions lazily (on first call) or eagerly.
    pub jit: JitMode,
    /// Emit stack-overflow and interrupt checks. Only benchmarks turn them off, to measure their cost:
    /// without them runaway recursion crashes the process and Ctrl-C cannot stop a loop.
    pub checks: bool,
    /// Compile a function's calls to itself as direct calls (on), or through its slot like every other
    /// call (off: a benchmark hook that measures what the indirection table costs).
    pub direct_self_calls: bool,
    /// Bytes of address space reserved for machine code (1 GiB). Tests make it small to see what happens
    /// when it runs out.
    pub code_memory: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            prelude: true,
            jit: JitMode::Lazy,
            checks: true,
            direct_self_calls: true,
            code_memory: DEFAULT_CODE_MEMORY,
        }
    }
}

/// What one item of an entry did.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemOutcome {
    /// Top-level code ran and produced this value.
    Value(f64),
    /// A function (or operator) was defined; `version` is 1 for a first definition.
    Defined {
        /// Its name.
        name: String,
        /// Its parameter names.
        params: Vec<String>,
        /// Its version number.
        version: u32,
    },
    /// An `extern` bound a name.
    Declared {
        /// The name.
        name: String,
        /// Its parameter names.
        params: Vec<String>,
        /// Whether it is a builtin (else a C function).
        builtin: bool,
    },
    /// A global variable was (re)initialised.
    Global {
        /// Its name.
        name: String,
        /// Its new value.
        value: f64,
    },
}

/// What an accepted entry did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// One outcome per item that was applied, in order.
    pub items: Vec<ItemOutcome>,
    /// Warnings found while compiling (forward references, stale callers).
    pub warnings: Vec<Diagnostic>,
    /// The runtime error that stopped the entry, if any; the items before it were applied.
    pub error: Option<RuntimeError>,
}

/// The JIT engine. See the crate documentation for the invariants it keeps.
pub struct Engine {
    pub(crate) state: Box<RuntimeState>,
    /// Makes machine code; shared with the lazy compiler, never borrowed while JIT code runs.
    pub(crate) backend: Rc<RefCell<Backend>>,
    /// The stack JIT code runs on, of a known size, so recursion depth is the same everywhere.
    eval_stack: Stack,
    /// The stack compiles run on.
    compile_stack: Rc<Stack>,
    /// The indirection table: one slot per (function name, call arity), holding a code address.
    pub(crate) slots: StableCells<AtomicUsize>,
    /// What each slot is for.
    pub(crate) slot_keys: Vec<(String, usize)>,
    /// Global variables' cells, holding f64 bits.
    pub(crate) globals: StableCells<AtomicU64>,
    pub(crate) global_names: HashMap<String, u32>,
    global_order: Vec<String>,
    pub(crate) index: Index,
    operators: Operators,
    builtins: HashMap<&'static str, Builtin>,
    /// Compiles deferred bodies when JIT code first calls them; boxed so the runtime state can point at it.
    pub(crate) compiler: Box<RefCell<Compiler>>,
    pub(crate) options: EngineOptions,
    /// All machine code of this engine.
    pub(crate) arena: SharedArena,
    /// Code no longer reachable (replaced definitions, top-level code that ran), freed after the entry.
    retired_code: Vec<CodeRange>,
    /// What each code id names in a backtrace: "`f`" or "<repl:4>".
    pub(crate) code_names: Vec<String>,
    pub(crate) builder_context: FunctionBuilderContext,
    entries: EntryId,
    /// The name of the entry being applied, recorded in the versions it defines.
    entry_name: String,
    defining_kind: FunctionKind,
}

impl Engine {
    /// A new engine writing program output (`putchard`, `printd`) to `output`.
    pub fn new(options: EngineOptions, output: Box<dyn Write>) -> Result<Engine, String> {
        let isa = host_isa()?;
        let arena = CodeArena::new(options.code_memory).map_err(|e| format!("cannot reserve code memory: {e}"))?;
        let stack = |size| Stack::new(size).map_err(|e| format!("cannot map a stack: {e}"));
        let eval_stack = stack(EVAL_ENTRY + EVAL_BUDGET + EVAL_MARGIN)?;
        let compile_stack = Rc::new(stack(COMPILE_STACK)?);
        // The state is boxed, so its address survives the move into the engine below.
        let state = RuntimeState::new(output);
        let interrupt = state.interrupt_handle().clone();
        let runtime =
            RuntimeAddresses { state: &*state as *const RuntimeState as usize, signals: interrupt.signals_address() };
        let backend = Backend::new(isa, arena.clone(), compile_stack.clone(), interrupt, runtime);
        let backend = Rc::new(RefCell::new(backend));
        let compiler = Box::new(RefCell::new(Compiler::new(backend.clone(), compile_stack.clone())));
        let mut engine = Engine {
            state,
            backend,
            eval_stack,
            compile_stack,
            slots: StableCells::default(),
            slot_keys: Vec::new(),
            globals: StableCells::default(),
            global_names: HashMap::new(),
            global_order: Vec::new(),
            index: Index::default(),
            operators: Operators::builtin(),
            builtins: HashMap::new(),
            compiler,
            options: options.clone(),
            arena,
            retired_code: Vec::new(),
            code_names: Vec::new(),
            builder_context: FunctionBuilderContext::new(),
            entries: 0,
            entry_name: String::new(),
            defining_kind: FunctionKind::Prelude,
        };
        engine.state.set_compiler(&engine.compiler);
        for builtin in builtins() {
            engine.builtins.insert(builtin.name, builtin);
            let info = engine.index.entry(builtin.name);
            info.kind = FunctionKind::Builtin;
            info.state = FunctionState::Defined;
            info.arity = Some(builtin.arity);
            info.code = builtin.address;
            info.compiled = true;
        }
        if options.prelude {
            engine.eval("<prelude>", PRELUDE).map_err(|e| format!("the prelude failed: {:?}", e.diagnostics))?;
        }
        engine.defining_kind = FunctionKind::User;
        Ok(engine)
    }

    /// Evaluates one entry named `source_name` (`<repl:3>`, `fib.kal:12`). Diagnostic spans point into `text`.
    pub fn eval(&mut self, source_name: &str, text: &str) -> Result<Outcome, Rejected> {
        self.eval_observed(source_name, text, &mut |_| {})
    }

    /// As [`Engine::eval`], and calls `observer` as each item is applied, after the program output the item
    /// produced has been flushed, so a caller can interleave values with that output.
    pub fn eval_observed(
        &mut self,
        source_name: &str,
        text: &str,
        observer: &mut dyn FnMut(&ItemOutcome),
    ) -> Result<Outcome, Rejected> {
        // An interrupt that arrived before the entry (between a script's items) stops it before it starts.
        if self.state.take_interrupt() {
            return Ok(Self::interrupted_before_running(source_name, text));
        }
        let compile_stack = self.compile_stack.clone();
        let compiled = compile_stack.run(|| {
            let globals = &self.global_names;
            let analysis = analyze(text, &self.operators, &|name| globals.contains_key(name));
            if has_errors(&analysis.diagnostics) {
                return Err(StagingError::Rejected(analysis.diagnostics));
            }
            Staging::new(self, text, source_name).compile(analysis.items)
        });
        let compiled = match compiled {
            Ok(compiled) => compiled,
            Err(StagingError::Rejected(diagnostics)) => return Err(Rejected { diagnostics }),
            Err(StagingError::Interrupted) => {
                self.state.take_interrupt();
                return Ok(Self::interrupted_before_running(source_name, text));
            }
        };
        self.entries += 1;
        self.entry_name = source_name.to_string();
        let outcome = self.apply(compiled, observer);
        self.collect();
        Ok(outcome)
    }

    /// The outcome of an entry an interrupt stopped before any of it ran: it changed nothing.
    fn interrupted_before_running(source_name: &str, text: &str) -> Outcome {
        let frame = Frame { function: source_name.to_string(), repeat: 1 };
        let span = Span::new(0, text.trim_end().len());
        let error = RuntimeError { kind: RuntimeErrorKind::Interrupted, backtrace: vec![frame], span };
        Outcome { items: Vec::new(), warnings: Vec::new(), error: Some(error) }
    }

    /// What compiling has cost so far (functions, bytes of code, time).
    pub fn stats(&self) -> CompileStats {
        self.backend.borrow().stats
    }

    /// Chooses when the definitions entered from now on are compiled.
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
    }

    /// When definitions are compiled.
    pub fn jit_mode(&self) -> JitMode {
        self.options.jit
    }

    /// The operators defined so far (for the shell's completeness check and highlighting).
    pub fn operators(&self) -> &Operators {
        &self.operators
    }

    /// The engine index: every function, its state and history.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The global variables and their values, in the order defined.
    pub fn globals(&self) -> Vec<(String, f64)> {
        self.global_order.iter().map(|name| (name.clone(), self.global_value(name).unwrap_or(0.0))).collect()
    }

    /// The value of global `name`.
    pub fn global_value(&self, name: &str) -> Option<f64> {
        let cell = *self.global_names.get(name)?;
        Some(f64::from_bits(self.globals.get(cell).load(Ordering::SeqCst)))
    }

    /// Bytes of machine code currently allocated (stubs included).
    pub fn code_bytes(&self) -> usize {
        lock(&self.arena).live_bytes()
    }

    /// The code arena's high-water mark in bytes: how much code memory was ever in use at once.
    pub fn code_footprint(&self) -> usize {
        lock(&self.arena).high_water()
    }

    /// Frees the code nothing can reach any more. Called between evaluations only: no JIT frame is live,
    /// and no slot points into retired code (slots were repointed before the code was retired).
    fn collect(&mut self) {
        let retired = std::mem::take(&mut self.retired_code);
        self.backend.borrow().free(&retired);
    }

    /// A handle that can interrupt running code (or a compile) from another thread or a signal handler.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.state.interrupt_handle().clone()
    }

    pub(crate) fn builtin(&self, name: &str) -> Option<Builtin> {
        self.builtins.get(name).copied()
    }

    /// Runs `f` on the evaluation stack, giving it the lowest address the stack checks may ever allow.
    pub(crate) fn on_eval_stack<R>(&self, f: impl FnOnce(usize) -> R) -> R {
        let floor = self.eval_stack.floor(EVAL_MARGIN);
        self.eval_stack.run(|| f(floor))
    }
}
