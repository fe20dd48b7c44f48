//! The engine: its public API over the session it keeps (definitions, globals, operators, code).
//!
//! An entry is evaluated in two phases. The compile phase (`compile/mod.rs`) analyzes every item and compiles
//! them all into the entry's new unit; any error there rolls the session back and rejects the entry. The
//! apply phase (`engine/apply.rs`) then takes the items in order: a definition repoints its slots,
//! top-level code runs. A runtime error stops the apply phase; the items before it keep their effects.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use kaleido_lang::ast::ItemKind;
use kaleido_lang::parser::Parsed;
use kaleido_lang::{Completeness, Diagnostic, Limits, Operators, Span, analyze_until, has_errors};

use crate::backend::{Backend, CompileStats};
use crate::base::drawing::Drawing;
use crate::base::error::{Frame, FrameKind, Rejected, RuntimeError, RuntimeErrorKind};
use crate::base::ids::EntryId;
use crate::base::options::{EngineOptions, ExecutorMode, JitMode, Tier};
use crate::base::perf_map::PerfMap;
use crate::base::request_error::{PerfMapProblem, StartError};
use crate::codegen::RuntimeAddresses;
use crate::compile::{CodeOptions, CompiledEntry, Staging, StagingError};
use crate::machine::code_memory::{CodeArena, CodeRange};
use crate::machine::stack::{COMPILE_STACK, EVAL_BUDGET, EVAL_ENTRY, EVAL_MARGIN, Stack};
use crate::runtime::builtins::BUILTINS;
use crate::runtime::{InterruptHandle, LazyHook, RuntimeState};
use crate::tables::Tables;
use crate::tables::index::{Binding, FunctionKind, Index};
use crate::tables::names::Name;
use crate::tiers::lazy::Compiler;

pub(crate) use apply::EntryContext;

mod applier;
mod apply;
mod executor;
mod executor_side;
mod natives;
mod remote;
pub use executor::ExecutorInfo;
pub use executor_side::serve_executor_command;
mod libraries;
mod listing;
mod script;
mod undo;
pub use script::ScriptItem;

pub use listing::{AddressOf, Listing, ListingNote, ListingOf, SlotRow, Subject};

/// The prelude: the operators people expect, written in kaleido and loaded at start-up.
pub const PRELUDE: &str = include_str!("../prelude.kal");

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
    /// Where the entry's time went.
    pub timing: EntryTiming,
    /// What the entry drew with `pixel` and `plotpoint`, if anything (also when an error stopped it).
    pub drawing: Option<Drawing>,
}

/// A change of tier, recorded while tracing is on ([`Engine::set_trace_tiers`]): nothing is printed
/// otherwise, and `:stats` counts both kinds always.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TierEvent {
    /// The optimizing tier recompiled hot `name`, inlining the current bodies of `inlined`.
    Optimized {
        /// The function.
        name: String,
        /// The functions whose bodies it inlined.
        inlined: Vec<String>,
    },
    /// `name`'s optimized code had inlined `changed`, which was redefined, undone or forgotten: `name`
    /// is back at its lazy stub, before anything of the entry ran.
    Invalidated {
        /// The function sent back.
        name: String,
        /// The function that changed.
        changed: String,
    },
}

/// Where an entry's time went (`:time`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EntryTiming {
    /// Lexing, parsing and name checking.
    pub analyze: std::time::Duration,
    /// Translating and compiling the entry's own module (its eager definitions and top-level code).
    pub compile: std::time::Duration,
    /// Applying and running it; lazy compiles during the run are inside this, and also in `lazy`.
    pub run: std::time::Duration,
    /// Time spent generating the code of the functions compiled lazily while it ran (translation and Cranelift).
    pub lazy: std::time::Duration,
    /// Functions compiled to machine code for the entry: in its module, then lazily while it ran.
    pub functions: u64,
    /// Of those, the ones compiled while it ran: lazily, or hot ones again by the optimizing tier.
    pub lazy_functions: u64,
    /// Of those, the hot ones recompiled by the optimizing tier.
    pub tier_ups: u64,
    /// Calls that ran a function's body in tier 0 (evaluated, not compiled) while it ran.
    pub tier0_calls: u64,
    /// Whether its top-level code ran in tier 0 (it has no loop).
    pub tier0_top_level: bool,
}

/// What [`Engine::eval_observed`] reports while an entry is applied.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A warning about the item about to be applied (or an earlier one).
    Warning(&'a Diagnostic),
    /// An item was applied; the span is the item's, in the entry's text.
    Item(&'a ItemOutcome, Span),
}

/// What one entry's module held (`:modules`).
#[derive(Clone, Debug)]
pub struct ModuleRecord {
    /// The entry.
    pub entry: EntryId,
    /// Its name (`<repl:3>`, `fib.kal:12`).
    pub name: Name,
    /// What it made, item by item.
    pub made: Box<[Made]>,
    /// Bytes of machine code compiled into it (definitions compiled eagerly, top-level code, adapters).
    pub code_bytes: usize,
    /// The definitions whose code it holds (compiled eagerly), with their versions.
    pub definitions: Box<[(Name, u32)]>,
}

/// What one item of an entry made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Made {
    /// A version of a definition.
    Definition(Name, u32),
    /// An extern binding.
    Extern(Name),
    /// A global.
    Global(Name),
    /// A top-level expression, run once.
    Expression,
}

/// What an entry's compile phase starts from.
enum Parse<'a> {
    /// Its text, to analyze under these operators (the session's when `None`).
    Text(Option<&'a Operators>),
    /// Its tree, parsed under the session's operators as they are now: only checked.
    Tree(Parsed),
}

/// The JIT engine. See the crate documentation for the invariants it keeps.
pub struct Engine {
    /// What the user has built up: the index, the table, the globals, the operators.
    tables: Tables,
    /// Makes machine code; shared with the lazy compiler, never borrowed while JIT code runs.
    backend: Rc<RefCell<Backend>>,
    /// Compiles deferred definitions on their first call; boxed so the runtime can point at it.
    lazy: Box<RefCell<Compiler>>,
    /// What JIT code and its hooks share; boxed so JIT code can embed its address.
    runtime: Box<RuntimeState>,
    /// The stack JIT code runs on, of a known size, so recursion depth is the same everywhere.
    eval_stack: Stack,
    /// The stack compiles run on.
    compile_stack: Rc<Stack>,
    /// Code no longer reachable (replaced definitions, top-level code that ran), freed after the entry.
    retired: Vec<CodeRange>,
    options: EngineOptions,
    /// The name of every entry applied (`<repl:3>`, `fib.kal:12`), by entry id less one.
    entry_names: Vec<Name>,
    /// What each applied entry's module held.
    modules: Vec<ModuleRecord>,
    /// Names for profilers, when asked for.
    perf_map: PerfMap,
    /// Why the map for profilers could not be made, when it was asked for and could not.
    perf_map_problem: Option<PerfMapProblem>,
    /// Tier changes not yet taken by the front end, while tracing is on.
    tier_trace: Option<Vec<TierEvent>>,
    /// The C libraries loaded (`Engine::load_library`).
    libraries: crate::runtime::libraries::Libraries,
    /// The executor process code runs in (`--executor process`); none when code runs in this process.
    executor: Option<executor::Executor>,
    /// The tree of the script item last found, until it is evaluated (`script.rs`).
    pending_parse: RefCell<Option<script::PendingParse>>,
}

impl Engine {
    /// A new engine writing program output (`putchard`, `printd`) to `output`.
    pub fn new(options: EngineOptions, output: Box<dyn Write>) -> Result<Engine, StartError> {
        let arena = CodeArena::new(options.code_memory).map_err(StartError::CodeMemory)?;
        let stack = |size| Stack::new(size).map_err(StartError::Stack);
        let eval_stack = stack(EVAL_ENTRY + EVAL_BUDGET + EVAL_MARGIN)?;
        let compile_stack = Rc::new(stack(COMPILE_STACK)?);
        // The state is boxed, so its address survives the move into the engine below.
        let runtime = RuntimeState::new(output).map_err(StartError::SharedMemory)?;
        let interrupt = runtime.interrupt_handle().clone();
        let addresses =
            RuntimeAddresses { state: &*runtime as *const RuntimeState as usize, signals: interrupt.signals_address() };
        let backend =
            Rc::new(RefCell::new(Backend::new(arena, compile_stack.clone(), interrupt, addresses, options.tier)?));
        let lazy = Box::new(RefCell::new(Compiler::new(backend.clone(), compile_stack.clone())));
        runtime.set_lazy_hook(&*lazy as &dyn LazyHook);
        let tables = Tables::default();
        let (retired, entry_names, modules) = (Vec::new(), Vec::new(), Vec::new());
        let (perf_map, perf_map_problem) = PerfMap::open(options.perf_map);
        let executor = match &options.executor {
            ExecutorMode::InProcess => None,
            ExecutorMode::Process => Some(executor::Executor::new(None).map_err(StartError::SharedMemory)?),
            ExecutorMode::Command(command) => {
                // Code written and freed must be sent to an executor that does not share this memory.
                crate::machine::code_memory::lock(backend.borrow().arena()).track_changes();
                Some(executor::Executor::new(Some(command.clone())).map_err(StartError::SharedMemory)?)
            }
        };
        let mut engine = Engine {
            tables,
            backend,
            lazy,
            runtime,
            eval_stack,
            compile_stack,
            retired,
            options,
            entry_names,
            modules,
            perf_map,
            perf_map_problem,
            tier_trace: None,
            libraries: Default::default(),
            executor,
            pending_parse: RefCell::new(None),
        };
        for builtin in BUILTINS {
            let binding = Binding::Builtin { arity: builtin.arity(), address: builtin.address() };
            engine.tables.index.entry(builtin.name).bind(binding);
        }
        if engine.options.prelude {
            engine
                .eval_as("<prelude>", PRELUDE, FunctionKind::Prelude, None, &mut |_| {})
                .map_err(|e| StartError::Prelude(e.diagnostics))?;
        }
        Ok(engine)
    }

    /// Evaluates one entry named `source_name` (`<repl:3>`, `fib.kal:12`). Diagnostic spans point into `text`.
    pub fn eval(&mut self, source_name: &str, text: &str) -> Result<Outcome, Rejected> {
        self.eval_observed(source_name, text, &mut |_| {})
    }

    /// As [`Engine::eval`], and tells `observer` what happens as it happens: each warning just before the
    /// item it is about is applied, and each item's outcome once the program output it produced has been
    /// flushed, so a caller can show warnings, values and output interleaved, in order.
    pub fn eval_observed(
        &mut self,
        source_name: &str,
        text: &str,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Outcome, Rejected> {
        self.eval_as(source_name, text, FunctionKind::User, None, observer)
    }

    /// Evaluates an entry of `text`; `parsed`, when given, is its tree, parsed under the operators the
    /// session has now (a script's item: see [`Engine::next_script_item`]).
    fn eval_as(
        &mut self,
        source_name: &str,
        text: &str,
        kind: FunctionKind,
        parsed: Option<Parsed>,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Outcome, Rejected> {
        // An interrupt that arrived before the entry (between a script's items) stops it before it starts.
        if self.runtime.take_interrupt() {
            return Ok(interrupted_before_running(source_name, text));
        }
        let mark = self.tables.mark();
        let slots_before = self.tables.slots.len();
        let code_options = self.code_options(self.options.jit == JitMode::Lazy);
        let stats_before = self.backend.borrow().stats;
        let started = std::time::Instant::now();
        let parse = match parsed {
            Some(tree) => Parse::Tree(tree),
            None => Parse::Text(None),
        };
        let (compiled, analyzed) = self.stage(text, parse, code_options, true);
        let compiled_at = std::time::Instant::now();
        let stats_compiled = self.backend.borrow().stats;
        let compiled = match compiled {
            Ok(compiled) => compiled,
            Err(error) => {
                self.tables.rollback(mark);
                return match error {
                    StagingError::Rejected(diagnostics) => Err(Rejected { diagnostics }),
                    StagingError::Interrupted => {
                        self.runtime.take_interrupt();
                        Ok(interrupted_before_running(source_name, text))
                    }
                };
            }
        };
        let name = Name::from(source_name);
        self.entry_names.push(name.clone());
        let entry = EntryContext { id: EntryId(self.entry_names.len() as u32), name, kind };
        let mut outcome = self.apply(compiled, slots_before, &entry, observer);
        let stats_after = self.backend.borrow().stats;
        outcome.timing = EntryTiming {
            analyze: analyzed - started,
            compile: compiled_at - analyzed,
            run: compiled_at.elapsed(),
            lazy: stats_after.time.saturating_sub(stats_compiled.time),
            functions: stats_after.functions - stats_before.functions,
            lazy_functions: stats_after.functions - stats_compiled.functions,
            tier_ups: stats_after.tier_ups - stats_compiled.tier_ups,
            tier0_calls: stats_after.tier0_calls - stats_compiled.tier0_calls,
            tier0_top_level: stats_after.tier0_top_level > stats_compiled.tier0_top_level,
        };
        self.collect();
        Ok(outcome)
    }

    /// The compile phase of an entry: analyzes `text` (under `operators`, the session's when `None`; or
    /// only checks `parsed`, its tree under the session's operators) and compiles it into one unit, on the
    /// compile stack. Returns the compiled entry (parse warnings joined
    /// to the rest, in source order) and when analysis ended. The caller rolls the session back when it
    /// does not apply the entry. An interrupt abandons the compile only when `interruptible`.
    fn stage(
        &mut self,
        text: &str,
        parse: Parse<'_>,
        options: CodeOptions,
        interruptible: bool,
    ) -> (Result<CompiledEntry, StagingError>, std::time::Instant) {
        let interrupt = self.runtime.interrupt_handle().clone();
        let (tables, backend, lazy) = (&mut self.tables, &self.backend, &self.lazy);
        let executor = &mut self.executor;
        let mut analyzed = None;
        let interrupted = || interruptible && interrupt.is_requested();
        let compiled = self.compile_stack.run(|| {
            let analysis = match parse {
                Parse::Tree(parsed) => kaleido_lang::check_parsed(parsed, &*tables, &interrupted),
                Parse::Text(operators) => {
                    let operators = operators.unwrap_or(&tables.operators);
                    analyze_until(text, operators, &*tables, entry_limits(), &interrupted)
                }
            };
            analyzed = Some(std::time::Instant::now());
            let analysis = analysis.ok_or(StagingError::Interrupted)?;
            if has_errors(&analysis.diagnostics) {
                return Err(StagingError::Rejected(analysis.diagnostics));
            }
            // Code will run: the executor wakes while the entry compiles.
            let runs = |kind: &ItemKind| matches!(kind, ItemKind::Expr(_) | ItemKind::Global(_));
            if let Some(executor) = executor
                && analysis.items.iter().any(|item| runs(&item.kind))
            {
                executor.wake();
            }
            let (mut backend, bodies) = (backend.borrow_mut(), lazy.borrow());
            let staged = Staging::new((tables, &mut backend, &bodies), options, text, &interrupted);
            let mut compiled = staged.compile(analysis.items)?;
            compiled.warnings.extend(analysis.diagnostics);
            compiled.warnings.sort_by_key(|w| w.span.start);
            Ok(compiled)
        });
        (compiled, analyzed.unwrap_or_else(std::time::Instant::now))
    }

    /// Why the map of JIT code for profilers (`EngineOptions::perf_map`) is not being written, when it
    /// was asked for.
    pub fn perf_map_problem(&self) -> Option<&PerfMapProblem> {
        self.perf_map_problem.as_ref()
    }

    /// Whether the next call of `name` with `arity` arguments runs in tier 0: its body is deferred and
    /// has tier-0 calls left (`EngineOptions::tier0_calls`), so it is evaluated without being compiled.
    pub fn next_call_in_tier0(&self, name: &str, arity: usize) -> bool {
        let Some(slot) = self.tables.slots.get(name, arity) else { return false };
        self.lazy.borrow().next_call_in_tier0(self.tables.slots.slot_addr(slot))
    }

    /// What compiling has cost so far (functions, bytes of code, time).
    pub fn stats(&self) -> CompileStats {
        self.backend.borrow().stats
    }

    /// Chooses when the definitions entered from now on are compiled.
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
    }

    /// How entries compile under the current options (`lazy` or not).
    pub(crate) fn code_options(&self, lazy: bool) -> CodeOptions {
        let counting = self.options.tier == Tier::Baseline && self.options.hot_calls > 0;
        CodeOptions {
            lazy,
            checks: self.options.checks,
            direct_self_calls: self.options.direct_self_calls,
            hot_calls: counting.then_some(self.options.hot_calls),
            tier0_calls: if lazy && self.executor.is_none() { self.options.tier0_calls } else { 0 },
        }
    }

    /// Starts or stops recording tier changes (`:set trace-tiers`); stopping drops what was not taken.
    pub fn set_trace_tiers(&mut self, on: bool) {
        self.tier_trace = on.then(Vec::new);
    }

    /// The tier changes since the last call, oldest first (none while tracing is off).
    pub fn take_tier_events(&mut self) -> Vec<TierEvent> {
        self.tier_trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// How much Cranelift optimizes code compiled from now on (`:set tier`).
    pub fn set_tier(&mut self, tier: Tier) -> Result<(), StartError> {
        self.backend.borrow_mut().set_tier(tier)?;
        self.options.tier = tier;
        Ok(())
    }

    /// How much Cranelift optimizes.
    pub fn tier(&self) -> Tier {
        self.options.tier
    }

    /// When definitions are compiled.
    pub fn jit_mode(&self) -> JitMode {
        self.options.jit
    }

    /// The operators defined so far (for the shell's completeness check and highlighting).
    pub fn operators(&self) -> &Operators {
        &self.tables.operators
    }

    /// Whether `text` is a complete entry (see [`kaleido_lang::completeness`]), parsed on the compile stack
    /// within the limits an entry is analyzed with.
    pub fn completeness(&self, text: &str) -> Completeness {
        let operators = &self.tables.operators;
        self.compile_stack.run(|| kaleido_lang::completeness(text, operators, entry_limits()))
    }

    /// Parses `text` under `operators` within the limits of an entry, and hands the parse to `f`; both on
    /// the compile stack, which is deep enough for any tree the parse accepts (the tree is dropped there too).
    pub fn with_parse<R>(&self, text: &str, operators: &Operators, f: impl FnOnce(&Parsed) -> R) -> R {
        self.compile_stack.run(|| {
            let (tokens, _) = kaleido_lang::lexer::lex(text);
            f(&kaleido_lang::parser::parse(text, &tokens, operators, entry_limits()))
        })
    }

    /// The module of every entry applied so far, oldest first.
    pub fn modules(&self) -> &[ModuleRecord] {
        &self.modules
    }

    /// The name an entry was applied under (`<repl:3>`, `fib.kal:12`).
    pub fn entry_name(&self, id: EntryId) -> Option<&str> {
        self.entry_names.get((id.0 as usize).checked_sub(1)?).map(|name| &**name)
    }

    /// The engine index: every function, its state and history.
    pub fn index(&self) -> &Index {
        &self.tables.index
    }

    /// The global variables and their values, in the order defined.
    pub fn globals(&self) -> Vec<(String, f64)> {
        self.tables.globals.all()
    }

    /// The value of global `name`.
    pub fn global_value(&self, name: &str) -> Option<f64> {
        self.tables.globals.value(name)
    }

    /// Sets global `name` to `value`, defining it if it is new (a front end's `ans`, the last value).
    /// Code compiled earlier that reads the global sees the new value.
    pub fn set_global(&mut self, name: &str, value: f64) {
        let cell = match self.tables.globals.cell_of(name) {
            Some(cell) => cell,
            None => self.tables.globals.allocate(),
        };
        self.tables.globals.bind(name, cell, value);
    }

    /// Bytes of machine code currently allocated (stubs included).
    pub fn code_bytes(&self) -> usize {
        self.backend.borrow().code_memory().0
    }

    /// The code arena's high-water mark in bytes: how much code memory was ever in use at once.
    pub fn code_footprint(&self) -> usize {
        self.backend.borrow().code_memory().1
    }

    /// A handle that can interrupt running code (or a compile) from another thread or a signal handler.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.runtime.interrupt_handle().clone()
    }

    /// Frees the code nothing can reach any more. Called between evaluations only: no JIT frame is live,
    /// and no slot points into retired code (slots were repointed before the code was retired).
    fn collect(&mut self) {
        let retired = std::mem::take(&mut self.retired);
        self.backend.borrow().free(&retired);
    }
}

/// How big an entry may be: what the compile stack, where every entry is parsed, checked and translated,
/// has room for.
fn entry_limits() -> Limits {
    Limits::for_stack(COMPILE_STACK)
}

/// The outcome of an entry an interrupt stopped before any of it ran: it changed nothing.
fn interrupted_before_running(source_name: &str, text: &str) -> Outcome {
    let frame = Frame { kind: FrameKind::TopLevel(source_name.to_string()), repeat: 1 };
    let span = Span::new(0, text.trim_end().len());
    let error = RuntimeError { kind: RuntimeErrorKind::Interrupted, backtrace: vec![frame], span, call_site: None };
    Outcome { error: Some(error), ..Outcome::default() }
}
