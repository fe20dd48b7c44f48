//! The apply phase of an entry: items take effect in order, definitions repoint slots, top-level code
//! runs, and runtime errors come back as typed errors with their backtraces. Nothing here generates code
//! (the compile phase made every stub and adapter), so applying cannot fail half-way except by a runtime
//! error, which keeps the effects of the items before it.

use std::collections::BTreeSet;

use kaleido_lang::Span;
use kaleido_lang::ast::{Function, Prototype};

use super::{Engine, Event, ItemOutcome, Made, ModuleRecord, Outcome, TierEvent};
use crate::backend::{CompiledFunction, StubKind};
use crate::base::error::{CallSite, FrameKind, RuntimeError, RuntimeErrorKind, fold_frames};
use crate::base::ids::{CodeId, EntryId, SlotAddr, SlotId};
use crate::base::perf_map::Symbol;
use crate::compile::{CompiledEntry, CompiledItem, DefBody, Uses};
use crate::machine::stack::{EVAL_BUDGET, frame_fits};
use crate::runtime::{Raised, RawFrames};
use crate::tables::call_graph::{cycle_through, on_a_cycle};
use crate::tables::index::{Binding, Code, FunctionKind, FunctionState, Version};
use crate::tiers::lazy::{Deferred, LazilyCompiled};

/// Which entry is being applied, and what its definitions are.
#[derive(Clone, Debug)]
pub(crate) struct EntryContext {
    /// Its number.
    pub(crate) id: EntryId,
    /// Its name: `<repl:3>`, `fib.kal:12`, `<prelude>`.
    pub(crate) name: String,
    /// What its definitions are (user or prelude).
    pub(crate) kind: FunctionKind,
}

impl Engine {
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
            self.record_for_profilers(item, entry);
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
            self.refresh_slot(slot);
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
                self.retire_item(item);
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
        self.record_module(entry, &outcome, code_bytes, &eager);
        outcome
    }

    /// Names the item's code in the perf map (when there is one).
    fn record_for_profilers(&mut self, item: &CompiledItem, entry: &EntryContext) {
        if !self.perf_map.is_open() {
            return;
        }
        match item {
            CompiledItem::Def { function, body: DefBody::Eager(code), .. } => {
                let name = &function.proto.name;
                let version = self.tables.index.get(name).map_or(0, |f| f.history.len()) + 1;
                self.perf_map.record(code.code, code.size, Symbol::Function { name, version: version as u32 });
            }
            CompiledItem::Expr { thunk, .. } => {
                self.perf_map.record(thunk.code, thunk.size, Symbol::TopLevel { entry: &entry.name })
            }
            CompiledItem::Global(globals) => {
                for (name, _, thunk) in globals {
                    self.perf_map.record(
                        thunk.code,
                        thunk.size,
                        Symbol::Initializer { entry: &entry.name, global: name },
                    );
                }
            }
            CompiledItem::Extern { proto, adapter: Some(code), .. } => {
                self.perf_map.record(code.code, code.size, Symbol::Adapter { name: &proto.name });
            }
            _ => {}
        }
    }

    /// Logs what the entry's module held, for `:modules`.
    fn record_module(&mut self, entry: &EntryContext, outcome: &Outcome, code_bytes: usize, eager: &[String]) {
        let mut made = Vec::with_capacity(outcome.items.len());
        let mut definitions = Vec::new();
        for item in &outcome.items {
            match item {
                ItemOutcome::Defined { name, version, .. } => {
                    made.push(Made::Definition(name.clone(), *version));
                    if eager.contains(name) {
                        definitions.push((name.clone(), *version));
                    }
                }
                ItemOutcome::Declared { name, .. } => made.push(Made::Extern(name.clone())),
                ItemOutcome::Global { name, .. } => made.push(Made::Global(name.clone())),
                ItemOutcome::Value(_) => made.push(Made::Expression),
            }
        }
        self.modules.push(ModuleRecord { entry: entry.id, name: entry.name.clone(), made, code_bytes, definitions });
    }

    /// Frees the code of an item that will never run.
    fn retire_item(&mut self, item: CompiledItem) {
        match item {
            CompiledItem::Def { body: DefBody::Eager(code), .. } | CompiledItem::Expr { thunk: code, .. } => {
                self.retired.extend(code.ranges());
            }
            CompiledItem::Extern { adapter: Some(code), .. } => self.retired.extend(code.ranges()),
            CompiledItem::Global(globals) => self.retired.extend(globals.iter().flat_map(|(_, _, code)| code.ranges())),
            CompiledItem::Def { body: DefBody::Lazy(_), .. } | CompiledItem::Extern { adapter: None, .. } => {}
        }
    }

    fn apply_item(
        &mut self,
        item: CompiledItem,
        entry: &EntryContext,
    ) -> Result<Vec<ItemOutcome>, (Vec<ItemOutcome>, Raised, RawFrames)> {
        match item {
            CompiledItem::Def { function, source, calls, body, code, uses, hot } => {
                let outcome = self.apply_def(function, source, (calls, uses), (body, hot), entry);
                if let ItemOutcome::Defined { version, .. } = outcome {
                    self.tables.set_code_version(code, version);
                }
                Ok(vec![outcome])
            }
            CompiledItem::Extern { proto, address, builtin, adapter } => {
                Ok(vec![self.apply_extern(proto, address, builtin, adapter)])
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

    /// Binds `name` to `binding` (the one place a name's binding changes, see [`Binding`]) and points every
    /// slot of the name at what it is bound to now. The code it replaces is unreachable once the slots are
    /// repointed, unless it is running: it is freed only after the entry, between evaluations.
    pub(super) fn bind(&mut self, name: &str, binding: Binding) {
        match self.tables.index.entry(name).bind(binding) {
            Code::Compiled(old) | Code::Native { adapter: Some(old), .. } => self.retired.extend(old.ranges()),
            Code::Native { adapter: None, .. } | Code::Deferred | Code::Missing => {}
        }
        for (_, slot) in self.tables.slots.of_name(name) {
            self.refresh_slot(slot);
        }
    }

    /// Forgets the lazy compiler's bodies of every slot of `name` (redefined or forgotten); returns the
    /// optimized functions that had inlined it, for [`Engine::invalidate`].
    pub(super) fn forget_bodies(&mut self, name: &str) -> Vec<(SlotAddr, CodeId)> {
        let mut lazy = self.lazy.borrow_mut();
        let slots = self.tables.slots.of_name(name);
        slots.into_iter().flat_map(|(_, slot)| lazy.forget(self.tables.slots.slot_addr(slot))).collect()
    }

    /// Binds an `extern` (a C function; builtins need no binding) and points the name's slots at it.
    fn apply_extern(
        &mut self,
        proto: Prototype,
        address: usize,
        builtin: bool,
        adapter: Option<CompiledFunction>,
    ) -> ItemOutcome {
        if !builtin {
            // A second `extern` of the name replaces (and retires) the adapter of the first; calls compiled
            // before the binding go through the name's slots, which `bind` points at it.
            let params = proto.params.iter().map(|p| p.name.clone()).collect();
            self.bind(&proto.name, Binding::Extern { arity: proto.params.len(), params, address, adapter });
        }
        let params = proto.params.iter().map(|p| p.name.clone()).collect();
        ItemOutcome::Declared { name: proto.name, params, builtin }
    }

    /// Makes `function` the current definition of its name: its code (eager) or its deferred body (lazy).
    fn apply_def(
        &mut self,
        function: Function,
        source: String,
        (calls, uses): (BTreeSet<(String, usize)>, Uses),
        (body, hot): (DefBody<CompiledFunction>, Option<Box<Deferred>>),
        entry: &EntryContext,
    ) -> ItemOutcome {
        let proto = function.proto;
        let name = proto.name.as_str();
        let params: Vec<String> = proto.params.iter().map(|p| p.name.clone()).collect();
        let arity = params.len();
        // Every definition has the slot of its own arity, so the table can always show where callers go.
        let own_slot = self.tables.slots.get_or_create(name, arity);
        // Deferred bodies of the old version that were never called are dropped without being compiled.
        let invalidated = self.forget_bodies(name);
        let mut lazy = self.lazy.borrow_mut();
        if let Some(hot) = hot {
            lazy.watch(self.tables.slots.slot_addr(own_slot), hot);
        }
        let code = match body {
            DefBody::Eager(code) => Code::Compiled(code),
            DefBody::Lazy(deferred) => {
                lazy.defer(self.tables.slots.slot_addr(own_slot), deferred);
                Code::Deferred
            }
        };
        drop(lazy);
        // The table its text was parsed under: the session's before this item, with its own operator.
        let parsed_under = self.tables.operators.meanings_of(&uses.operators, &proto.kind);
        let info = self.tables.index.entry(name);
        if let Some(current) = info.history.last_mut() {
            current.retired = true;
        }
        let number = info.history.len() as u32 + 1;
        let (entry_id, entry_name) = (entry.id, entry.name.clone());
        let version = Version {
            number,
            entry: entry_id,
            entry_name,
            params: params.clone(),
            source,
            parsed_under,
            retired: false,
        };
        // Exactly one more: most functions have one version, and a vector's first growth makes room for four.
        info.history.reserve_exact(1);
        info.history.push(version);
        self.bind(name, Binding::Definition { kind: entry.kind, operator: proto.kind, arity, code });
        self.tables.index.set_calls(name, calls);
        self.tables.index.entry(name).globals = uses.globals;
        self.tables.operators.define(&proto.kind);
        self.invalidate(invalidated, name);
        self.count_cycle_calls(name);
        ItemOutcome::Defined { name: proto.name, params, version: number }
    }

    /// Sends each optimized function that inlined a changed body back to its lazy stub (its body is
    /// deferred again, its call count starts over), before anything runs: no stale inlined copy can run.
    /// Its optimized code is freed after the entry.
    /// `changed` is the function whose change did it, for the trace.
    pub(super) fn invalidate(&mut self, invalidated: Vec<(SlotAddr, CodeId)>, changed: &str) {
        for (address, code) in invalidated {
            let Some(slot) = self.tables.slots.at_address(address.0) else { continue };
            let name = self.send_back_to_stub(slot);
            if let Some(trace) = &mut self.tier_trace {
                trace.push(TierEvent::Invalidated { name, changed: changed.to_string() });
            }
            self.tables.counter(code, self.options.hot_calls);
            self.backend.borrow_mut().stats.invalidations += 1;
        }
    }

    /// A definition that closed a cycle of calls (`odd` calling `even`, which calls `odd`) makes each
    /// function on the cycle as hot as a recursion: each counts its calls from now on (see
    /// `Compiler::count_calls`), so mutual recursion reaches the optimizing tier as self-recursion does,
    /// and recurses as deep. The search costs about the smaller side of the graph around `name`.
    fn count_cycle_calls(&mut self, name: &str) {
        if self.code_options(true).hot_calls.is_none() || !on_a_cycle(&self.tables.index, name) {
            return;
        }
        for member in cycle_through(&self.tables.index, name) {
            let Some(arity) =
                self.tables.index.get(&member).filter(|f| f.state == FunctionState::Defined).and_then(|f| f.arity)
            else {
                continue;
            };
            let Some(slot) = self.tables.slots.get(&member, arity) else { continue };
            let (tables, hot_calls) = (&self.tables, self.options.hot_calls);
            let counter = |code| tables.counter(code, hot_calls);
            if self.lazy.borrow_mut().count_calls(self.tables.slots.slot_addr(slot), counter).is_some() {
                self.send_back_to_stub(slot);
            }
        }
    }

    /// Points the slot's function back at its lazy stub (its compiled code is freed after the entry);
    /// returns its name.
    fn send_back_to_stub(&mut self, slot: SlotId) -> String {
        let name = self.tables.slots.key(slot).0.to_string();
        if let Code::Compiled(old) = self.tables.index.entry(&name).recompiled(Code::Deferred) {
            self.retired.extend(old.ranges());
        }
        self.refresh_slot(slot);
        name
    }

    /// Records in the index the code that was generated lazily during the last run.
    pub(super) fn record_lazily_compiled(&mut self) {
        for code in self.lazy.borrow_mut().take_retries() {
            self.tables.counter(code, self.options.hot_calls);
        }
        let compiled = self.lazy.borrow_mut().take_compiled();
        for LazilyCompiled { name, function, tier_up } in compiled {
            if self.perf_map.is_open() {
                let version = self.tables.index.get(&name).map_or(0, |f| f.version());
                self.perf_map.record(function.code, function.size, Symbol::Function { name: &name, version });
            }
            if let (true, Some(trace)) = (tier_up, &mut self.tier_trace) {
                trace.push(TierEvent::Optimized { name: name.clone(), inlined: function.inlined.clone() });
            }
            let replaced = self.tables.index.entry(&name).recompiled(Code::Compiled(function));
            if tier_up {
                self.backend.borrow_mut().stats.tier_ups += 1;
                // The baseline code it replaces may have been running until the run ended; now no frame is.
                if let Code::Compiled(baseline) = replaced {
                    self.backend.borrow().free(&baseline.ranges().collect::<Vec<_>>());
                }
            }
        }
    }

    /// Points `slot` at what a call through it must reach now: the current code of its name if the arity
    /// matches (or the lazy stub, or an extern's adapter), else a stub that raises "not defined" or
    /// "wrong number of arguments".
    pub(super) fn refresh_slot(&mut self, slot: SlotId) {
        let (name, arity) = self.tables.slots.key(slot);
        let backend = self.backend.borrow();
        let target = match self.tables.index.get(name) {
            Some(info) if info.state == FunctionState::Defined && info.arity == Some(arity) => match &info.code {
                Code::Compiled(function) => function.code,
                Code::Deferred => backend.stub(StubKind::Lazy, arity),
                Code::Native { adapter: Some(adapter), .. } => adapter.code,
                Code::Native { adapter: None, .. } | Code::Missing => backend.stub(StubKind::Undefined, arity),
            },
            Some(info) if info.state == FunctionState::Defined => backend.stub(StubKind::ArityMismatch, arity),
            _ => backend.stub(StubKind::Undefined, arity),
        };
        self.tables.slots.repoint(slot, target);
    }

    /// Runs compiled top-level code on the evaluation stack and returns its value, or the error it raised
    /// and the frames it passed. Top-level code checks no frame of its own: a frame too big for the room
    /// the budget leaves is a stack overflow before the code is called (see `MAX_UNGUARDED_FRAME`).
    fn run(&mut self, thunk: &CompiledFunction) -> Result<f64, (Raised, RawFrames)> {
        let (frame, thunk) = (thunk.frame as usize, thunk.code);
        // SAFETY: `thunk` is the finalized address of top-level code compiled with `thunk_signature` (one
        // pointer-sized argument, an f64 result, the host's C calling convention); its code is freed only
        // after the entry, so it is still mapped and executable.
        let entry: extern "C" fn(usize) -> f64 = unsafe { std::mem::transmute(thunk) };
        let runtime = &self.runtime;
        let value = self.on_eval_stack(|floor| {
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
            entry(0)
        });
        self.record_lazily_compiled();
        match self.runtime.disarm() {
            None => Ok(value),
            Some(error) => Err(error),
        }
    }

    fn runtime_error(&self, raised: Raised, frames: RawFrames, span: Span, entry: &EntryContext) -> RuntimeError {
        let function = |code: u32| FrameKind::Function(self.tables.code_name(CodeId(code)).to_string());
        let mut named: Vec<(FrameKind, u64)> =
            frames.iter().map(|&(code, repeat, _)| (function(code), repeat)).collect();
        // The outermost frame is the entry's top-level code, which records no frame of its own.
        named.push((FrameKind::TopLevel(entry.name.clone()), 1));
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
            Raised::StackOverflow => RuntimeErrorKind::StackOverflow,
            Raised::Interrupted => RuntimeErrorKind::Interrupted,
        };
        RuntimeError { kind, backtrace, span, call_site: self.call_site(&frames) }
    }

    /// The call the innermost function frame left from, if the error passed one and the call is known
    /// (the stack check aborts no call).
    fn call_site(&self, frames: &RawFrames) -> Option<CallSite> {
        let &(code, _, site) = frames.first()?;
        let origin = self.tables.code_origin(CodeId(code));
        let span = *origin.call_sites.get(site as usize)?;
        (origin.version > 0).then(|| CallSite { function: origin.name.clone(), version: origin.version, span })
    }
}

/// The bytes of machine code an item's module holds for it.
fn item_code_bytes(item: &CompiledItem) -> usize {
    match item {
        CompiledItem::Def { body: DefBody::Eager(code), .. } | CompiledItem::Expr { thunk: code, .. } => code.size,
        CompiledItem::Extern { adapter: Some(code), .. } => code.size,
        CompiledItem::Global(globals) => globals.iter().map(|(_, _, code)| code.size).sum(),
        CompiledItem::Def { body: DefBody::Lazy(_), .. } | CompiledItem::Extern { adapter: None, .. } => 0,
    }
}
