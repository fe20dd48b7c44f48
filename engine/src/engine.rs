//! The engine: evaluates entries against a session of definitions, globals and operators.
//!
//! An entry is evaluated in two phases. The compile phase (`compile.rs`) analyzes every item and compiles
//! them all into the entry's new module; any error there rejects the entry with the session untouched. The
//! apply phase then takes the items in order: a definition repoints its slots, top-level code runs. A
//! runtime error stops the apply phase; the items before it keep their effects, like any REPL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::FuncId;
use kaleido_lang::ast::ProtoKind;
use kaleido_lang::{Diagnostic, Operators, analyze, has_errors};

use crate::cells::StableCells;
use crate::code_memory::{CodeArena, CodeRange, SharedArena, lock};
use crate::compile::{CompiledEntry, CompiledItem, DefBody, Staging};
use crate::error::{Frame, Rejected, RuntimeError, RuntimeErrorKind, fold_frames};
use crate::index::{EntryId, FunctionKind, FunctionState, Index, SlotId, Version};
use crate::jit::{compile_lazy_stub, compile_stub, host_isa, range_of};
use crate::lazy::{CompileStats, Compiler, Deferred, LazilyCompiled};
use crate::runtime::{Builtin, RaiseKind, Raised, RuntimeState, builtins, stack_limit};

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
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { prelude: true, jit: JitMode::Lazy, checks: true, direct_self_calls: true }
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
    pub(crate) isa: OwnedTargetIsa,
    pub(crate) state: Box<RuntimeState>,
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
    /// Raising stubs by (kind, arity), compiled on first need.
    stubs: HashMap<(RaiseKind, usize), usize>,
    /// Lazy-compile stubs by arity.
    lazy_stubs: HashMap<usize, usize>,
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
        let arena = CodeArena::new().map_err(|e| format!("cannot reserve code memory: {e}"))?;
        // The state is boxed, so its address survives the move into the engine below.
        let state = RuntimeState::new(output);
        let state_address = &*state as *const RuntimeState as usize;
        let compiler = Box::new(RefCell::new(Compiler::new(isa.clone(), arena.clone(), state_address)));
        let mut engine = Engine {
            isa,
            state,
            slots: StableCells::default(),
            slot_keys: Vec::new(),
            globals: StableCells::default(),
            global_names: HashMap::new(),
            global_order: Vec::new(),
            index: Index::default(),
            operators: Operators::builtin(),
            builtins: builtins().into_iter().map(|b| (b.name, b)).collect(),
            stubs: HashMap::new(),
            lazy_stubs: HashMap::new(),
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
        let globals = &self.global_names;
        let analysis = analyze(text, &self.operators, &|name| globals.contains_key(name));
        if has_errors(&analysis.diagnostics) {
            return Err(Rejected { diagnostics: analysis.diagnostics });
        }
        let compiled = Staging::new(self, text, source_name)
            .compile(analysis.items)
            .map_err(|diagnostics| Rejected { diagnostics })?;
        self.entries += 1;
        self.entry_name = source_name.to_string();
        let outcome = self.apply(compiled, observer);
        self.state.flush();
        self.collect();
        Ok(outcome)
    }

    /// What compiling has cost so far (functions, bytes of code, time).
    pub fn stats(&self) -> CompileStats {
        self.compiler.borrow().stats
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

    /// How many entries were applied.
    pub fn entry_count(&self) -> EntryId {
        self.entries
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
        lock(&self.arena).free(&retired);
    }

    /// Replaces the program output sink.
    pub fn set_output(&mut self, output: Box<dyn Write>) {
        self.state.set_output(output);
    }

    /// A handle that can interrupt running code from another thread or a signal handler.
    pub fn interrupt_handle(&self) -> &RuntimeState {
        &self.state
    }

    pub(crate) fn builtin(&self, name: &str) -> Option<Builtin> {
        self.builtins.get(name).copied()
    }

    pub(crate) fn state_address(&self) -> usize {
        &*self.state as *const RuntimeState as usize
    }

    // ---- the apply phase -------------------------------------------------------------------------------

    fn apply(&mut self, compiled: CompiledEntry, observer: &mut dyn FnMut(&ItemOutcome)) -> Outcome {
        let CompiledEntry { module, allocations, items, new_slots, warnings } = compiled;
        let code_of = |func: FuncId| {
            let address = module.get_finalized_function(func) as usize;
            (address, range_of(&allocations, address).unwrap_or((address, 0)))
        };
        let mut resolved = Vec::new();
        for (item, span) in items {
            let code = match &item {
                CompiledItem::Def { body: DefBody::Eager(func), .. } | CompiledItem::Expr { func, .. } => {
                    vec![code_of(*func)]
                }
                CompiledItem::Def { body: DefBody::Lazy(_), .. } => Vec::new(),
                CompiledItem::Global(globals) => globals.iter().map(|(_, _, f)| code_of(*f)).collect(),
                CompiledItem::Extern { .. } => Vec::new(),
            };
            resolved.push((item, span, code));
        }
        // The module's bookkeeping is no longer needed: the engine owns its code from here on.
        drop(module);
        for (name, arity, slot) in new_slots {
            self.index.entry(&name).slots.insert(arity, slot);
            self.refresh_slot(&name, arity, slot);
        }
        let mut outcome = Outcome { warnings, ..Outcome::default() };
        let mut stopped = false;
        for (item, span, code) in resolved {
            if stopped {
                // Items after a runtime error never run; their code is unreachable.
                self.retired_code.extend(code.iter().map(|&(_, range)| range));
                continue;
            }
            let result = self.apply_item(item, &code).map_err(|(outcomes, mut error)| {
                error.span = span;
                (outcomes, error)
            });
            self.state.flush();
            let (outcomes, error) = match result {
                Ok(outcomes) => (outcomes, None),
                Err((outcomes, error)) => (outcomes, Some(error)),
            };
            outcomes.iter().for_each(&mut *observer);
            outcome.items.extend(outcomes);
            if error.is_some() {
                outcome.error = error;
                stopped = true;
            }
        }
        outcome
    }

    fn apply_item(
        &mut self,
        item: CompiledItem,
        code: &[(usize, CodeRange)],
    ) -> Result<Vec<ItemOutcome>, (Vec<ItemOutcome>, RuntimeError)> {
        // Top-level code runs once: it is released at the end of the entry, whatever happens.
        if !matches!(item, CompiledItem::Def { .. }) {
            self.retired_code.extend(code.iter().map(|&(_, range)| range));
        }
        match item {
            CompiledItem::Def { function, source, calls, body } => {
                let body = match body {
                    DefBody::Eager(_) => Ok(code[0]),
                    DefBody::Lazy(deferred) => Err(deferred),
                };
                Ok(vec![self.apply_def(function, source, calls, body)])
            }
            CompiledItem::Extern { proto, address, builtin } => {
                if !builtin {
                    let info = self.index.entry(&proto.name);
                    info.kind = FunctionKind::Extern;
                    info.state = FunctionState::Defined;
                    info.arity = Some(proto.params.len());
                    info.code = address;
                    info.compiled = true;
                }
                let params = proto.params.iter().map(|p| p.name.clone()).collect();
                Ok(vec![ItemOutcome::Declared { name: proto.name, params, builtin }])
            }
            CompiledItem::Expr { calls, .. } => {
                for callee in calls {
                    self.index.entry(&callee).called_from_entries.insert(self.entries);
                }
                self.run(code[0].0).map(|value| vec![ItemOutcome::Value(value)]).map_err(|e| (Vec::new(), e))
            }
            CompiledItem::Global(globals) => {
                let mut outcomes = Vec::new();
                for ((name, cell, _), &(thunk, _)) in globals.into_iter().zip(code) {
                    match self.run(thunk) {
                        Ok(value) => {
                            self.globals.get(cell).store(value.to_bits(), Ordering::SeqCst);
                            if self.global_names.insert(name.clone(), cell).is_none() {
                                self.global_order.push(name.clone());
                            }
                            outcomes.push(ItemOutcome::Global { name, value });
                        }
                        Err(error) => return Err((outcomes, error)),
                    }
                }
                Ok(outcomes)
            }
        }
    }

    /// Makes `function` the current definition of its name. `body` is its code (eager) or the IR to
    /// compile on its first call (lazy).
    fn apply_def(
        &mut self,
        function: kaleido_lang::ast::Function,
        source: String,
        calls: std::collections::BTreeSet<(String, usize)>,
        body: Result<(usize, CodeRange), Box<Deferred>>,
    ) -> ItemOutcome {
        let proto = function.proto;
        let name = proto.name.as_str();
        let params: Vec<String> = proto.params.iter().map(|p| p.name.clone()).collect();
        let arity = params.len();
        let slot = self.ensure_slot(name, arity);
        let slot_address = self.slots.address(slot);
        let (code, range) = match body {
            Ok((code, range)) => (code, Some(range)),
            Err(deferred) => {
                let stub = self.lazy_stub(arity);
                self.compiler.borrow_mut().defer(slot_address, *deferred);
                (stub, None)
            }
        };
        let (kind, entry, entry_name) = (self.defining_kind, self.entries, self.entry_name.clone());
        let info = self.index.entry(name);
        // Bodies of the old version that were never called are dropped without being compiled.
        let stale: Vec<SlotId> = info.slots.iter().filter(|&(&a, _)| a != arity).map(|(_, &s)| s).collect();
        if let Some(current) = info.history.last_mut() {
            current.retired = true;
        }
        let number = info.history.len() as u32 + 1;
        info.history.push(Version { number, entry, entry_name, params: params.clone(), source, retired: false });
        info.kind = kind;
        info.state = FunctionState::Defined;
        info.operator = proto.kind;
        info.arity = Some(arity);
        info.code = code;
        info.compiled = range.is_some();
        let old_range = std::mem::replace(&mut info.code_range, range);
        let slots: Vec<(usize, SlotId)> = info.slots.iter().map(|(&a, &s)| (a, s)).collect();
        for slot in stale {
            self.compiler.borrow_mut().forget(self.slots.address(slot));
        }
        for (arity, slot) in slots {
            self.refresh_slot(name, arity, slot);
        }
        self.index.set_calls(name, calls);
        // The old code is unreachable now that every slot is repointed (unless it is running: it is
        // freed only after the entry, between evaluations).
        self.retired_code.extend(old_range);
        match proto.kind {
            ProtoKind::Binary { op, precedence } => self.operators.define_binary(op, precedence),
            ProtoKind::Unary(op) => self.operators.define_unary(op),
            ProtoKind::Plain => {}
        }
        ItemOutcome::Defined { name: proto.name, params, version: number }
    }

    /// The slot of `name` for calls passing `arity` arguments, created if needed. Every definition has
    /// the slot of its own arity, so the index can always show where callers go.
    fn ensure_slot(&mut self, name: &str, arity: usize) -> SlotId {
        if let Some(&slot) = self.index.entry(name).slots.get(&arity) {
            return slot;
        }
        let slot = self.slots.push();
        self.slot_keys.push((name.to_string(), arity));
        self.index.entry(name).slots.insert(arity, slot);
        slot
    }

    fn lazy_stub(&mut self, arity: usize) -> usize {
        if let Some(&address) = self.lazy_stubs.get(&arity) {
            return address;
        }
        let state = self.state_address();
        let address = compile_lazy_stub(&self.isa, &self.arena, &mut self.builder_context, arity, state)
            .unwrap_or_else(|error| panic!("compiling the lazy stub for arity {arity} failed: {error}"));
        self.lazy_stubs.insert(arity, address);
        address
    }

    /// Records in the index the code that was generated lazily during the last run.
    fn record_lazily_compiled(&mut self) {
        let compiled = self.compiler.borrow_mut().take_compiled();
        for LazilyCompiled { name, code, range } in compiled {
            let info = self.index.entry(&name);
            info.code = code;
            info.compiled = true;
            info.code_range = Some(range);
        }
    }

    /// Points `slot` (the slot of `name` for calls passing `arity` arguments) at what such a call must
    /// reach now: the current code, or a stub that raises "not defined" or "wrong arity".
    fn refresh_slot(&mut self, name: &str, arity: usize, slot: SlotId) {
        let target = match self.index.get(name) {
            Some(info) if info.state == FunctionState::Defined && info.arity == Some(arity) => info.code,
            Some(info) if info.state == FunctionState::Defined => self.stub(RaiseKind::ArityMismatch, arity),
            _ => self.stub(RaiseKind::Undefined, arity),
        };
        self.slots.get(slot).store(target, Ordering::SeqCst);
    }

    fn stub(&mut self, kind: RaiseKind, arity: usize) -> usize {
        if let Some(&address) = self.stubs.get(&(kind, arity)) {
            return address;
        }
        let state = self.state_address();
        let address = compile_stub(&self.isa, &self.arena, &mut self.builder_context, kind, arity, state)
            .unwrap_or_else(|error| panic!("compiling a {kind:?} stub for arity {arity} failed: {error}"));
        self.stubs.insert((kind, arity), address);
        address
    }

    /// Runs a compiled thunk and returns its value, or the error it raised.
    fn run(&mut self, thunk: usize) -> Result<f64, RuntimeError> {
        // SAFETY: `thunk` is the finalized address of a function compiled with `kaleido_signature(0)` (one
        // pointer-sized argument, f64 result, the host's C calling convention) whose module is alive.
        let entry: extern "C" fn(usize) -> f64 = unsafe { std::mem::transmute(thunk) };
        let here = 0u8;
        self.state.arm(stack_limit(&here as *const u8 as usize));
        let value = entry(0);
        self.record_lazily_compiled();
        match self.state.disarm() {
            None => Ok(value),
            Some((raised, frames)) => Err(self.runtime_error(raised, frames)),
        }
    }

    fn runtime_error(&self, raised: Raised, frames: Vec<(u32, u64)>) -> RuntimeError {
        let named = frames.iter().map(|&(code, repeat)| (self.code_names[code as usize].clone(), repeat)).collect();
        let backtrace: Vec<Frame> = fold_frames(named);
        let slot_key = |slot: usize| {
            let id = self.slots.index_of(slot).expect("a stub is only reached through a slot");
            self.slot_keys[id as usize].clone()
        };
        let kind = match raised {
            Raised::Undefined { slot } => RuntimeErrorKind::Undefined { name: slot_key(slot).0 },
            Raised::ArityMismatch { slot } => {
                let (callee, passed) = slot_key(slot);
                let takes = self.index.get(&callee).and_then(|f| f.arity).unwrap_or(0);
                let caller = match backtrace.first() {
                    Some(frame) if frame.function.starts_with('`') => frame.function.clone(),
                    _ => "the top-level expression".to_string(),
                };
                RuntimeErrorKind::ArityMismatch { caller, callee, passed, takes }
            }
            Raised::CompileFailed { slot } => RuntimeErrorKind::CompileFailed { name: slot_key(slot).0 },
            Raised::StackOverflow => RuntimeErrorKind::StackOverflow,
            Raised::Interrupted => RuntimeErrorKind::Interrupted,
        };
        RuntimeError { kind, backtrace, span: kaleido_lang::Span::default() }
    }
}
