//! The apply phase of an entry: items take effect in order, definitions repoint slots, top-level code
//! runs, and runtime errors come back as typed errors with their backtraces.

use std::sync::atomic::Ordering;

use cranelift_module::FuncId;
use kaleido_lang::ast::ProtoKind;

use super::{Engine, ItemOutcome, Outcome};
use crate::backend::{StubKind, range_of};
use crate::code_memory::CodeRange;
use crate::compile::{CompiledEntry, CompiledItem, DefBody};
use crate::error::{Frame, RuntimeError, RuntimeErrorKind, fold_frames};
use crate::index::{FunctionKind, FunctionState, SlotId, Version};
use crate::lazy::{Deferred, LazilyCompiled};
use crate::runtime::Raised;

impl Engine {
    pub(super) fn apply(&mut self, compiled: CompiledEntry, observer: &mut dyn FnMut(&ItemOutcome)) -> Outcome {
        let CompiledEntry { module, allocations, items, new_slots, warnings } = compiled;
        let code_of = |func: FuncId| {
            let address = module.get_finalized_function(func) as usize;
            (address, range_of(&allocations, address).unwrap_or((address, 0)))
        };
        let mut resolved = Vec::new();
        for (item, span) in items {
            let code = match &item {
                CompiledItem::Def { body: DefBody::Eager(func), .. }
                | CompiledItem::Expr { func, .. }
                | CompiledItem::Extern { adapter: Some(func), .. } => vec![code_of(*func)],
                CompiledItem::Def { body: DefBody::Lazy(_), .. } => Vec::new(),
                CompiledItem::Global(globals) => globals.iter().map(|(_, _, f)| code_of(*f)).collect(),
                CompiledItem::Extern { adapter: None, .. } => Vec::new(),
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
            // Ctrl-C between items stops the entry before the next one takes effect.
            if !stopped && self.state.take_interrupt() {
                outcome.error = Some(self.runtime_error(Raised::Interrupted, Vec::new(), span));
                stopped = true;
            }
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
            let (outcomes, mut error) = match result {
                Ok(outcomes) => (outcomes, None),
                Err((outcomes, error)) => (outcomes, Some(error)),
            };
            // Output the item wrote that could not be flushed stops the entry too.
            if let Some(raised) = self.state.take_raised()
                && error.is_none()
            {
                error = Some(self.runtime_error(raised, Vec::new(), span));
            }
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
        if matches!(item, CompiledItem::Expr { .. } | CompiledItem::Global(_)) {
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
            CompiledItem::Extern { proto, address, builtin, adapter } => {
                if !builtin {
                    let info = self.index.entry(&proto.name);
                    info.kind = FunctionKind::Extern;
                    info.state = FunctionState::Defined;
                    info.arity = Some(proto.params.len());
                    info.code = address;
                    info.compiled = true;
                    if adapter.is_some() {
                        info.adapter = code[0].0;
                        info.code_range = Some(code[0].1);
                    }
                    // Calls compiled before the binding go through the name's slots: point them at it.
                    let slots: Vec<(usize, SlotId)> = info.slots.iter().map(|(&a, &s)| (a, s)).collect();
                    for (arity, slot) in slots {
                        self.refresh_slot(&proto.name, arity, slot);
                    }
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
                let stub = self.backend.borrow().stub(StubKind::Lazy, arity);
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
        let backend = self.backend.borrow();
        let target = match self.index.get(name) {
            Some(info) if info.state == FunctionState::Defined && info.arity == Some(arity) => match info.kind {
                FunctionKind::Extern if info.adapter != 0 => info.adapter,
                FunctionKind::Extern => backend.stub(StubKind::Undefined, arity),
                _ => info.code,
            },
            Some(info) if info.state == FunctionState::Defined => backend.stub(StubKind::ArityMismatch, arity),
            _ => backend.stub(StubKind::Undefined, arity),
        };
        self.slots.get(slot).store(target, Ordering::SeqCst);
    }

    /// Runs a compiled thunk on the evaluation stack and returns its value, or the error it raised.
    fn run(&mut self, thunk: usize) -> Result<f64, RuntimeError> {
        // SAFETY: `thunk` is the finalized address of top-level code compiled with `thunk_signature` (one
        // pointer-sized argument, an f64 result, the host's C calling convention); its code is freed only
        // after the entry, so it is still mapped and executable.
        let entry: extern "C" fn(usize) -> f64 = unsafe { std::mem::transmute(thunk) };
        let state = &self.state;
        let value = self.on_eval_stack(|floor| {
            state.arm_floor(floor);
            entry(0)
        });
        self.record_lazily_compiled();
        match self.state.disarm() {
            None => Ok(value),
            Some((raised, frames)) => Err(self.runtime_error(raised, frames, kaleido_lang::Span::default())),
        }
    }

    fn runtime_error(&self, raised: Raised, frames: Vec<(u32, u64)>, span: kaleido_lang::Span) -> RuntimeError {
        let mut named: Vec<(String, u64)> =
            frames.iter().map(|&(code, repeat)| (self.code_names[code as usize].clone(), repeat)).collect();
        // The outermost frame is the entry's top-level code, which records no frame of its own.
        named.push((self.entry_name.clone(), 1));
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
                // The innermost recorded frame made the call; none means top-level code did.
                let caller = match frames.first() {
                    Some(&(code, _)) => self.code_names[code as usize].clone(),
                    None => "the top-level expression".to_string(),
                };
                RuntimeErrorKind::ArityMismatch { caller, callee, passed, takes }
            }
            Raised::CompileFailed { slot, reason } => {
                RuntimeErrorKind::CompileFailed { name: slot_key(slot).0, reason }
            }
            Raised::OutputFailed { reason } => RuntimeErrorKind::OutputFailed { reason },
            Raised::StackOverflow => RuntimeErrorKind::StackOverflow,
            Raised::Interrupted => RuntimeErrorKind::Interrupted,
        };
        RuntimeError { kind, backtrace, span }
    }
}
