//! The apply phase's hold on the engine: an [`Applier`] borrows exactly what making an entry's items
//! take effect changes (the tables, the lazy compiler, the backend's stubs and statistics, the code to
//! retire, the perf map, the tier trace), as narrowly as `Staging` borrows what the compile phase needs.
//! Running top-level code stays with the engine (`engine/apply.rs`), which owns the runtime and the stacks.
//!
//! A name's binding changes in one place, [`Applier::bind`]; define, redefine, undo, `extern` and forget
//! all come through it.

use std::cell::RefCell;
use std::collections::BTreeSet;

use kaleido_lang::ast::{Function, Prototype};

use super::{EntryContext, ItemOutcome, TierEvent};
use crate::backend::{Backend, CompiledFunction, StubKind};
use crate::base::ids::{CodeId, SlotAddr, SlotId};
use crate::base::perf_map::{PerfMap, Symbol};
use crate::compile::{CompiledItem, DefBody, TopLevel, Uses};
use crate::machine::code_memory::CodeRange;
use crate::tables::Tables;
use crate::tables::call_graph::{cycle_through, on_a_cycle};
use crate::tables::index::{Binding, Code, FunctionState, Version};
use crate::tiers::lazy::{Compiler, Deferred, LazilyCompiled};

/// What the apply phase may change, borrowed from the engine for one step.
pub(crate) struct Applier<'e> {
    /// The session's tables.
    pub(crate) tables: &'e mut Tables,
    /// The lazy compiler: bodies to defer, watch or forget.
    pub(crate) lazy: &'e RefCell<Compiler>,
    /// The backend: its stubs (to point slots at) and its statistics.
    pub(crate) backend: &'e RefCell<Backend>,
    /// Code no longer reachable, freed after the entry.
    pub(crate) retired: &'e mut Vec<CodeRange>,
    /// Names for profilers.
    pub(crate) perf_map: &'e mut PerfMap,
    /// Tier changes not yet taken, while tracing is on.
    pub(crate) tier_trace: &'e mut Option<Vec<TierEvent>>,
    /// The calls after which a counting function tiers up.
    pub(crate) hot_calls: u32,
    /// Whether baseline code counts its calls (tiering is on).
    pub(crate) counting: bool,
}

impl Applier<'_> {
    /// Names the item's code in the perf map (when there is one).
    pub(crate) fn record_for_profilers(&mut self, item: &CompiledItem, entry: &EntryContext) {
        if !self.perf_map.is_open() {
            return;
        }
        match item {
            CompiledItem::Def { function, body: DefBody::Eager(code), .. } => {
                let name = &function.proto.name;
                let version = self.tables.index.get(name).map_or(0, |f| f.history.len()) + 1;
                self.perf_map.record(code.code, code.size, Symbol::Function { name, version: version as u32 });
            }
            CompiledItem::Expr { thunk: TopLevel::Compiled(thunk), .. } => {
                self.perf_map.record(thunk.code, thunk.size, Symbol::TopLevel { entry: &entry.name })
            }
            CompiledItem::Global(globals) => {
                for (name, _, thunk) in globals {
                    let TopLevel::Compiled(thunk) = thunk else { continue };
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

    /// Frees the code of an item that will never run.
    pub(crate) fn retire_item(&mut self, item: CompiledItem) {
        match item {
            CompiledItem::Def { body: DefBody::Eager(code), .. } => self.retired.extend(code.ranges()),
            CompiledItem::Expr { thunk, .. } => self.retired.extend(thunk.ranges()),
            CompiledItem::Extern { adapter: Some(code), .. } => self.retired.extend(code.ranges()),
            CompiledItem::Global(globals) => self.retired.extend(globals.iter().flat_map(|(_, _, code)| code.ranges())),
            CompiledItem::Def { body: DefBody::Lazy(_), .. } | CompiledItem::Extern { adapter: None, .. } => {}
        }
    }

    /// Binds `name` to `binding` (the one place a name's binding changes, see [`Binding`]) and points every
    /// slot of the name at what it is bound to now. The code it replaces is unreachable once the slots are
    /// repointed, unless it is running: it is freed only after the entry, between evaluations.
    pub(crate) fn bind(&mut self, name: &str, binding: Binding) {
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
    pub(crate) fn forget_bodies(&mut self, name: &str) -> Vec<(SlotAddr, CodeId)> {
        let mut lazy = self.lazy.borrow_mut();
        let slots = self.tables.slots.of_name(name);
        slots.flat_map(|(_, slot)| lazy.forget(self.tables.slots.slot_addr(slot))).collect()
    }

    /// Binds an `extern` (a C function; builtins need no binding) and points the name's slots at it.
    pub(crate) fn apply_extern(
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
    pub(crate) fn apply_def(
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
            DefBody::Eager(code) => Code::Compiled(Box::new(code)),
            DefBody::Lazy(deferred) => {
                lazy.defer(self.tables.slots.slot_addr(own_slot), deferred);
                Code::Deferred
            }
        };
        drop(lazy);
        // The table its text was parsed under: the session's before this item, with its own operator.
        let parsed_under = self.tables.operators.meanings_of(&uses.operators, &proto.kind);
        let param_names = params.iter().map(|param| self.tables.intern(param)).collect();
        let info = self.tables.index.entry(name);
        if let Some(current) = info.history.last_mut() {
            current.retired = true;
        }
        let number = info.history.len() as u32 + 1;
        let (entry_id, entry_name) = (entry.id, entry.name.clone());
        let version =
            Version { number, entry: entry_id, entry_name, params: param_names, source, parsed_under, retired: false };
        // Exactly one more: most functions have one version, and a vector's first growth makes room for four.
        info.history.reserve_exact(1);
        info.history.push(version);
        info.globals = uses.globals;
        self.bind(name, Binding::Definition { kind: entry.kind, operator: proto.kind, arity, code });
        self.tables.index.set_calls(name, calls);
        self.tables.define_operator(&proto.kind);
        self.invalidate(invalidated, name);
        self.count_cycle_calls(name);
        ItemOutcome::Defined { name: proto.name, params, version: number }
    }

    /// Sends each optimized function that inlined a changed body back to its lazy stub (its body is
    /// deferred again, its call count starts over), before anything runs: no stale inlined copy can run.
    /// Its optimized code is freed after the entry.
    /// `changed` is the function whose change did it, for the trace.
    pub(crate) fn invalidate(&mut self, invalidated: Vec<(SlotAddr, CodeId)>, changed: &str) {
        for (address, code) in invalidated {
            let Some(slot) = self.tables.slots.at_address(address.0) else { continue };
            let name = self.send_back_to_stub(slot);
            if let Some(trace) = self.tier_trace.as_mut() {
                trace.push(TierEvent::Invalidated { name, changed: changed.to_string() });
            }
            self.tables.counter(code, self.hot_calls);
            self.backend.borrow_mut().stats.invalidations += 1;
        }
    }

    /// A definition that closed a cycle of calls (`odd` calling `even`, which calls `odd`) makes each
    /// function on the cycle as hot as a recursion: each counts its calls from now on (see
    /// `Compiler::count_calls`), so mutual recursion reaches the optimizing tier as self-recursion does,
    /// and recurses as deep. The search costs about the smaller side of the graph around `name`.
    pub(crate) fn count_cycle_calls(&mut self, name: &str) {
        if !self.counting || !on_a_cycle(&self.tables.index, name) {
            return;
        }
        for member in cycle_through(&self.tables.index, name) {
            let Some(arity) =
                self.tables.index.get(&member).filter(|f| f.state == FunctionState::Defined).and_then(|f| f.arity)
            else {
                continue;
            };
            let Some(slot) = self.tables.slots.get(&member, arity) else { continue };
            let (tables, hot_calls) = (&*self.tables, self.hot_calls);
            let counter = |code| tables.counter(code, hot_calls);
            if self.lazy.borrow_mut().count_calls(self.tables.slots.slot_addr(slot), counter).is_some() {
                self.send_back_to_stub(slot);
            }
        }
    }

    /// Points the slot's function back at its lazy stub (its compiled code is freed after the entry);
    /// returns its name.
    pub(crate) fn send_back_to_stub(&mut self, slot: SlotId) -> String {
        let name = self.tables.slots.key(slot).0.to_string();
        if let Code::Compiled(old) = self.tables.index.entry(&name).recompiled(Code::Deferred) {
            self.retired.extend(old.ranges());
        }
        self.refresh_slot(slot);
        name
    }

    /// Records in the index the code that was generated lazily during the last run.
    pub(crate) fn record_lazily_compiled(&mut self) {
        for code in self.lazy.borrow_mut().take_retries() {
            self.tables.counter(code, self.hot_calls);
        }
        let compiled = self.lazy.borrow_mut().take_compiled();
        for LazilyCompiled { name, function, tier_up } in compiled {
            if self.perf_map.is_open() {
                let version = self.tables.index.get(&name).map_or(0, |f| f.version());
                self.perf_map.record(function.code, function.size, Symbol::Function { name: &name, version });
            }
            if let (true, Some(trace)) = (tier_up, self.tier_trace.as_mut()) {
                trace.push(TierEvent::Optimized { name: name.clone(), inlined: function.inlined.clone() });
            }
            let replaced = self.tables.index.entry(&name).recompiled(Code::Compiled(Box::new(function)));
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
    pub(crate) fn refresh_slot(&mut self, slot: SlotId) {
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
}
