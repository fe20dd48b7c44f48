//! The apply phase of an entry: items take effect in order, definitions repoint slots, top-level code
//! runs, and runtime errors come back as typed errors with their backtraces. Nothing here generates code
//! (the compile phase made every stub and adapter), so applying cannot fail half-way except by a runtime
//! error, which keeps the effects of the items before it.

use kaleido_lang::Span;

use super::applier::Applier;
use super::{Engine, Event, ItemOutcome, Made, ModuleRecord, Outcome};
use crate::base::error::{CallSite, FrameKind, RuntimeError, RuntimeErrorKind, fold_frames};
use crate::base::ids::{CodeId, EntryId};
use crate::compile::{CompiledEntry, CompiledItem, DefBody, TopLevel};
use crate::machine::stack::{EVAL_BUDGET, EVAL_MARGIN, Stack, frame_fits};
use crate::runtime::{Raised, RawFrames, RuntimeState};
use crate::tables::index::FunctionKind;
use crate::tables::names::Name;
use crate::tier0::{Tier0Code, eval};

/// Which entry is being applied, and what its definitions are.
#[derive(Clone, Debug)]
pub(crate) struct EntryContext {
    /// Its number.
    pub(crate) id: EntryId,
    /// Its name: `<repl:3>`, `fib.kal:12`, `<prelude>` (shared with the records that name it).
    pub(crate) name: Name,
    /// What its definitions are (user or prelude).
    pub(crate) kind: FunctionKind,
}

impl Engine {
    /// The apply phase's hold on the engine, for one step (see `applier.rs`).
    pub(super) fn applier(&mut self) -> Applier<'_> {
        let counting = self.code_options(true).hot_calls.is_some();
        Applier {
            tables: &mut self.tables,
            lazy: &self.lazy,
            backend: &self.backend,
            retired: &mut self.retired,
            perf_map: &mut self.perf_map,
            tier_trace: &mut self.tier_trace,
            hot_calls: self.options.hot_calls,
            counting,
        }
    }

    /// Applies a compiled entry; `slots_before` is how many slots existed before it compiled (the ones
    /// after are new and must be pointed somewhere).
    pub(super) fn apply(
        &mut self,
        compiled: CompiledEntry,
        slots_before: usize,
        entry: &EntryContext,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Outcome {
        let CompiledEntry { items, warnings } = compiled;
        let code_bytes: usize = items.iter().map(|(item, _)| item_code_bytes(item)).sum();
        for (item, _) in &items {
            self.applier().record_for_profilers(item, entry);
        }
        let eager: Vec<String> = (items.iter())
            .filter_map(|(item, _)| match item {
                CompiledItem::Def { function, body: DefBody::Eager(_), .. } => Some(function.proto.name.clone()),
                _ => None,
            })
            .collect();
        for slot in self.tables.slots.since(slots_before).collect::<Vec<_>>() {
            // A name the entry's code calls is known from now on, defined or not.
            let (name, _) = self.tables.slots.key(slot);
            self.tables.index.entry(name);
            self.applier().refresh_slot(slot);
        }
        let mut outcome = Outcome { warnings, ..Outcome::default() };
        // Warnings are reported in place: each just before the first item that ends after it starts.
        let mut warned = 0;
        for (item, span) in items {
            while let Some(warning) = outcome.warnings.get(warned).filter(|w| w.span.start < span.end) {
                observer(Event::Warning(warning));
                warned += 1;
            }
            // Ctrl-C between items stops the entry before the next one takes effect.
            if outcome.error.is_none() && self.runtime.take_interrupt() {
                outcome.error = Some(self.runtime_error(Raised::Interrupted, Vec::new(), span, entry));
            }
            if outcome.error.is_some() {
                // Items after a runtime error never run; their code is unreachable.
                self.applier().retire_item(item);
                continue;
            }
            let (outcomes, mut error) = match self.apply_item(item, entry) {
                Ok(outcomes) => (outcomes, None),
                Err((outcomes, raised, frames)) => (outcomes, Some(self.runtime_error(raised, frames, span, entry))),
            };
            // Output the item wrote that could not be flushed stops the entry too.
            self.runtime.flush();
            if let Some(raised) = self.runtime.take_raised()
                && error.is_none()
            {
                error = Some(self.runtime_error(raised, Vec::new(), span, entry));
            }
            outcomes.iter().for_each(|item| observer(Event::Item(item, span)));
            outcome.items.extend(outcomes);
            outcome.error = error;
        }
        outcome.warnings[warned..].iter().for_each(|warning| observer(Event::Warning(warning)));
        // What the entry drew is shown at its end, with what it drew before an error too.
        outcome.drawing = match self.executor {
            Some(_) => self.take_executor_drawing(),
            None => self.runtime.take_drawing(),
        };
        self.snapshot_globals();
        self.record_module(entry, &outcome, code_bytes, &eager);
        outcome
    }

    /// Logs what the entry's module held, for `:modules`.
    fn record_module(&mut self, entry: &EntryContext, outcome: &Outcome, code_bytes: usize, eager: &[String]) {
        let mut made = Vec::with_capacity(outcome.items.len());
        let mut definitions = Vec::new();
        for item in &outcome.items {
            match item {
                ItemOutcome::Defined { name, version, .. } => {
                    let name = self.tables.intern(name);
                    if eager.iter().any(|eager| **eager == *name) {
                        definitions.push((name.clone(), *version));
                    }
                    made.push(Made::Definition(name, *version));
                }
                ItemOutcome::Declared { name, .. } => made.push(Made::Extern(self.tables.intern(name))),
                ItemOutcome::Global { name, .. } => made.push(Made::Global(self.tables.intern(name))),
                ItemOutcome::Value(_) => made.push(Made::Expression),
            }
        }
        let (made, definitions) = (made.into_boxed_slice(), definitions.into_boxed_slice());
        self.modules.push(ModuleRecord { entry: entry.id, name: entry.name.clone(), made, code_bytes, definitions });
    }

    fn apply_item(
        &mut self,
        item: CompiledItem,
        entry: &EntryContext,
    ) -> Result<Vec<ItemOutcome>, (Vec<ItemOutcome>, Raised, RawFrames)> {
        match item {
            CompiledItem::Def { function, source, calls, body, code, uses, hot } => {
                let outcome = self.applier().apply_def(function, source, (calls, uses), (body, hot), entry);
                if let ItemOutcome::Defined { version, .. } = outcome {
                    self.tables.set_code_version(code, version);
                }
                Ok(vec![outcome])
            }
            CompiledItem::Extern { proto, address, builtin, adapter } => {
                Ok(vec![self.applier().apply_extern(proto, address, builtin, adapter)])
            }
            CompiledItem::Expr { thunk, calls } => {
                for callee in calls {
                    self.tables.index.entry(&callee).called_from_entries.insert(entry.id);
                }
                // Top-level code runs once: it is released at the end of the entry, whatever happens.
                self.retired.extend(thunk.ranges());
                self.run(&thunk).map(|value| vec![ItemOutcome::Value(value)]).map_err(|(r, f)| (Vec::new(), r, f))
            }
            CompiledItem::Global(globals) => {
                self.retired.extend(globals.iter().flat_map(|(_, _, thunk)| thunk.ranges()));
                let mut outcomes = Vec::new();
                for (name, cell, thunk) in globals {
                    match self.run(&thunk) {
                        Ok(value) => {
                            self.tables.globals.bind(&name, cell, value);
                            outcomes.push(ItemOutcome::Global { name, value });
                        }
                        Err((raised, frames)) => return Err((outcomes, raised, frames)),
                    }
                }
                Ok(outcomes)
            }
        }
    }

    /// Runs top-level code on the evaluation stack (compiled, or in tier 0) and returns its value, or the
    /// error it raised and the frames it passed. Top-level code checks no frame of its own: a frame too big
    /// for the room the budget leaves is a stack overflow before the code is called (see
    /// `MAX_UNGUARDED_FRAME`).
    fn run(&mut self, thunk: &TopLevel) -> Result<f64, (Raised, RawFrames)> {
        let result = match thunk {
            TopLevel::Compiled(thunk) => {
                let (code, frame) = (thunk.code, thunk.frame as usize);
                if self.executor.is_some() { self.run_in_executor(code, frame) } else { self.run_here(code, frame) }
            }
            // Only an engine without an executor lowers top-level code (`Engine::code_options`).
            TopLevel::Tier0(code) => {
                self.backend.borrow_mut().stats.tier0_top_level += 1;
                run_tier0_on(&self.runtime, &self.eval_stack, code)
            }
        };
        self.applier().record_lazily_compiled();
        result
    }

    /// Runs top-level code in this process (in-process mode, or in the executor itself).
    pub(super) fn run_here(&mut self, thunk: usize, frame: usize) -> Result<f64, (Raised, RawFrames)> {
        run_on(&self.runtime, &self.eval_stack, thunk, frame)
    }

    fn runtime_error(&self, raised: Raised, frames: RawFrames, span: Span, entry: &EntryContext) -> RuntimeError {
        let function = |code: u32| FrameKind::Function(self.tables.code_name(CodeId(code)).to_string());
        let mut named: Vec<(FrameKind, u64)> =
            frames.iter().map(|&(code, repeat, _)| (function(code), repeat)).collect();
        // The outermost frame is the entry's top-level code, which records no frame of its own.
        named.push((FrameKind::TopLevel(entry.name.to_string()), 1));
        let backtrace = fold_frames(named);
        let slot_key = |slot: usize| {
            let slot = self.tables.slots.at_address(slot).expect("a stub is only reached through a slot");
            let (name, arity) = self.tables.slots.key(slot);
            (name.to_string(), arity)
        };
        let kind = match raised {
            Raised::Undefined { slot } => {
                let name = slot_key(slot).0;
                let suggestion = self.tables.nearest_function(&name);
                RuntimeErrorKind::Undefined { name, suggestion }
            }
            Raised::ArityMismatch { slot } => {
                let (callee, passed) = slot_key(slot);
                let info = self.tables.index.get(&callee);
                let takes = info.and_then(|f| f.arity).unwrap_or(0);
                let changed = info.is_some_and(|f| f.history.iter().any(|v| v.params.len() == passed));
                // The innermost recorded frame made the call; none means top-level code did.
                let caller = frames.first().map(|&(code, ..)| self.tables.code_name(CodeId(code)).to_string());
                RuntimeErrorKind::ArityMismatch { caller, callee, passed, takes, changed }
            }
            Raised::CompileFailed { slot, reason } => {
                RuntimeErrorKind::CompileFailed { name: slot_key(slot).0, reason }
            }
            Raised::OutputFailed { reason } => RuntimeErrorKind::OutputFailed { reason },
            Raised::Drawing(error) => RuntimeErrorKind::Drawing(error),
            Raised::StackOverflow => RuntimeErrorKind::StackOverflow,
            Raised::Interrupted => RuntimeErrorKind::Interrupted,
            Raised::ExecutorEnded(end, restarted) => RuntimeErrorKind::ExecutorEnded { end, restarted },
            Raised::ExecutorStopped(crashes) => RuntimeErrorKind::ExecutorStopped { crashes },
        };
        RuntimeError { kind, backtrace, span, call_site: self.call_site(&frames) }
    }

    /// The call the innermost function frame left from, if the error passed one and the call is known
    /// (the stack check aborts no call).
    fn call_site(&self, frames: &RawFrames) -> Option<CallSite> {
        let &(code, _, site) = frames.first()?;
        let origin = self.tables.code_origin(CodeId(code));
        let span = *origin.call_sites.get(site as usize)?;
        (origin.version > 0).then(|| CallSite { function: origin.name.to_string(), version: origin.version, span })
    }
}

/// The bytes of machine code an item's module holds for it.
fn item_code_bytes(item: &CompiledItem) -> usize {
    match item {
        CompiledItem::Def { body: DefBody::Eager(code), .. } => code.size,
        CompiledItem::Expr { thunk, .. } => thunk.size(),
        CompiledItem::Extern { adapter: Some(code), .. } => code.size,
        CompiledItem::Global(globals) => globals.iter().map(|(_, _, code)| code.size()).sum(),
        CompiledItem::Def { body: DefBody::Lazy(_), .. } | CompiledItem::Extern { adapter: None, .. } => 0,
    }
}

/// Runs the top-level code at `thunk` on `stack` with `runtime` (an engine's, or an executor's), and
/// returns its value, or the error it raised and the frames it passed.
pub(super) fn run_on(
    runtime: &RuntimeState,
    stack: &Stack,
    thunk: usize,
    frame: usize,
) -> Result<f64, (Raised, RawFrames)> {
    // SAFETY: `thunk` is the finalized address of top-level code compiled with `thunk_signature` (one
    // pointer-sized argument, an f64 result, the host's C calling convention); its code is freed only
    // after the entry, so it is still mapped and executable.
    let entry: extern "C" fn(usize) -> f64 = unsafe { std::mem::transmute(thunk) };
    on_evaluation_stack(runtime, stack, frame, || entry(0))
}

/// Runs top-level tier-0 code on `stack` with `runtime`, as [`run_on`] runs compiled code.
fn run_tier0_on(runtime: &RuntimeState, stack: &Stack, code: &Tier0Code) -> Result<f64, (Raised, RawFrames)> {
    on_evaluation_stack(runtime, stack, 0, || eval::run(code, &[], runtime))
}

/// Runs `run` (which takes a frame of `frame` bytes) on `stack`, armed with the evaluation budget, and
/// returns its value or the error it raised and the frames it passed.
fn on_evaluation_stack(
    runtime: &RuntimeState,
    stack: &Stack,
    frame: usize,
    run: impl FnOnce() -> f64,
) -> Result<f64, (Raised, RawFrames)> {
    let floor = stack.floor(EVAL_MARGIN);
    let value = stack.run(|| {
        // The budget is measured from this frame, the one that makes the call: the first JIT frame
        // then sits at a fixed distance below it, whatever the Rust frames above take (they differ
        // between debug and release builds), so recursion depth is the same in every build.
        let sp = psm::stack_pointer() as usize;
        let limit = sp.saturating_sub(EVAL_BUDGET).max(floor);
        runtime.arm(limit);
        if !frame_fits(sp, frame, limit) {
            runtime.raise(Raised::StackOverflow);
            return 0.0;
        }
        run()
    });
    match runtime.disarm() {
        None => Ok(value),
        Some(error) => Err(error),
    }
}
