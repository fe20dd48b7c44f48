//! Lazy compilation: a definition's machine code is generated when it is called again after its tier-0
//! calls (its first 32, by default).
//!
//! When an entry is applied in lazy mode, a definition is checked once by lowering it to tier 0 (so every
//! diagnostic and warning appears at once, and no IR is built) while a [`Recording`] notes each answer
//! the engine's resolver gives; the packed body (`kaleido_lang::packed`) and the answers are kept, keyed
//! by the address of the function's slot, which points at a lazy stub. The stub calls
//! [`k_lazy_enter`](crate::runtime::k_lazy_enter); the first `tier0_calls` calls run the body in tier 0
//! (`crate::tier0`, evaluated, the value handed back), and the next one unpacks and translates the body
//! again, replaying the answers (translation is deterministic, so it asks the same questions in the same
//! order, in every tier), compiles it into a module of its own, patches the slot and returns the code's
//! address; the stub then tail-calls it with the same arguments. Later calls go straight to the code. A
//! definition replaced before it was ever called is never compiled. The packed body costs tens of bytes
//! per definition; the IR would cost several KiB.
//!
//! With tiering on, compiled bodies worth keeping stay too: a hot one is recompiled by the optimizing
//! tier ([`k_tier_up`](crate::runtime::k_tier_up)), with the small bodies it calls inlined; the compiler
//! records who inlined whom, and [`Compiler::forget`] sends the functions that inlined a changed body back
//! to their lazy stubs.
//!
//! The compiler lives behind its own `RefCell`, reached from the runtime state through the
//! [`LazyHook`] trait the runtime declares: the engine never holds that borrow (nor the backend's) while
//! JIT code runs, so a lazily compiled function may trigger further lazy compiles.

use std::cell::RefCell;
use std::rc::Rc;

use cranelift_codegen::ir;
use cranelift_module::FuncId;
use kaleido_lang::packed::PackedFunction;
use kaleido_lang::{Diagnostic, Span};
use rustc_hash::FxHashMap as HashMap;

use crate::backend::StubKind;
use crate::backend::{Backend, CodegenError, CompiledFunction, Unit, optimizable};
use crate::base::ids::{CodeId, SlotAddr};
use crate::base::options::Tier;
use crate::codegen::{Callee, FunctionSpec, Resolve, kaleido_signature, translate, wants_slot_locals};
use crate::machine::stack::Stack;
use crate::runtime::{Entered, LazyHook, Raised, RuntimeState};
use crate::tables::names::Name;
use crate::tier0::lower::{Body, lower};
use crate::tier0::{Tier0Code, eval};

/// One answer of the resolver during translation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    /// Where a call goes.
    Callee(Callee),
    /// A global's cell address.
    Global(usize),
}

/// A resolver that answers as `inner` does and writes down every answer.
pub(crate) struct Recording<'r> {
    /// The resolver asked.
    pub inner: &'r mut dyn Resolve,
    /// The answers, in order.
    pub answers: Vec<Answer>,
}

impl Resolve for Recording<'_> {
    fn callee(&mut self, name: &str, arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        let callee = self.inner.callee(name, arity, span)?;
        self.answers.push(Answer::Callee(callee));
        Ok(callee)
    }

    fn global(&mut self, name: &str, write: bool) -> usize {
        let address = self.inner.global(name, write);
        self.answers.push(Answer::Global(address));
        address
    }
}

/// A resolver that gives recorded answers back in order; calls through the slots in `inline` become
/// direct calls to callee `k` of the unit (namespace 2), which the inliner replaces by that callee's body.
pub(crate) struct Replay<'a> {
    inline: &'a [InlineBody],
    answers: std::slice::Iter<'a, Answer>,
}

impl<'a> Replay<'a> {
    /// Replays `answers`, turning calls through the slots of `inline` into direct calls.
    pub(crate) fn new(answers: &'a [Answer], inline: &'a [InlineBody]) -> Replay<'a> {
        Replay { inline, answers: answers.iter() }
    }
}

/// A callee's current body, translated to be inlined.
pub(crate) struct InlineBody {
    /// The slot its calls go through.
    pub(crate) slot: usize,
    /// Its IR.
    pub(crate) func: ir::Function,
    /// Whether it can raise an error (it makes calls or loops); a body that cannot needs no abort test.
    pub(crate) aborts: bool,
}

impl Resolve for Replay<'_> {
    fn callee(&mut self, name: &str, _arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        match self.answers.next() {
            Some(&Answer::Callee(Callee::Slot { address })) => {
                match self.inline.iter().position(|body| body.slot == address) {
                    Some(index) => {
                        Ok(Callee::Direct { slot: address, index: index as u32, aborts: self.inline[index].aborts })
                    }
                    None => Ok(Callee::Slot { address }),
                }
            }
            Some(&Answer::Callee(callee)) => Ok(callee),
            _ => Err(Diagnostic::error(span, format!("internal error: replaying the call to `{name}` diverged"))),
        }
    }

    fn global(&mut self, _name: &str, _write: bool) -> usize {
        match self.answers.next() {
            Some(&Answer::Global(address)) => address,
            // Unreachable while translation is deterministic; a null cell would fault, so say so loudly.
            _ => panic!("internal error: replaying a global read diverged"),
        }
    }
}

/// A definition whose code has not been generated yet (or, kept after, the body the optimizing tier
/// recompiles and inlines).
#[derive(Clone)]
pub(crate) struct Deferred {
    /// The function's name.
    pub name: Name,
    /// Its parameters and body, packed: a few bytes per node rather than a tree.
    pub function: PackedFunction,
    /// Its code id for backtraces.
    pub code_id: CodeId,
    /// The resolver's answers, in the order translation asks.
    pub answers: Box<[Answer]>,
    /// Whether to emit stack and interrupt checks.
    pub checks: bool,
    /// Whether calls to itself are direct (in optimized code: baseline code that counts its calls calls
    /// itself through its slot, so a recursion moves to the optimized code as soon as it exists).
    pub direct_self_calls: bool,
    /// Baseline code counts its calls in this cell and asks for the optimizing tier through this slot
    /// (`(counter, slot)`); none when the function cannot become hot (no calls or loops, or the
    /// optimizing tier compiles everything).
    pub hot_counter: Option<(usize, usize)>,
    /// How many more calls run in tier 0 before the body is compiled (0: the next call compiles it).
    pub tier0_calls: u32,
}

impl Deferred {
    /// Whether to keep the body once compiled: for the optimizing tier to recompile (its code counts
    /// calls), to inline (it is small), or to compile again counting its calls should a later definition
    /// make it mutually recursive (it calls other functions).
    pub(crate) fn worth_keeping(&self) -> bool {
        self.hot_counter.is_some() || self.function.len() <= INLINE_PACKED_LIMIT || self.calls_through_slots()
    }

    /// Whether it calls a function through the table (so it could join a cycle of calls).
    fn calls_through_slots(&self) -> bool {
        self.answers.iter().any(|answer| matches!(answer, Answer::Callee(Callee::Slot { .. })))
    }
}

/// Code generated lazily during a run, for the engine to record in its index afterwards.
pub(crate) struct LazilyCompiled {
    /// The function's name.
    pub(crate) name: String,
    /// Its code.
    pub(crate) function: CompiledFunction,
    /// Whether it replaces baseline code (the optimizing tier), rather than a lazy stub.
    pub(crate) tier_up: bool,
}

/// The part of the engine that can compile while JIT code runs.
pub(crate) struct Compiler {
    backend: Rc<RefCell<Backend>>,
    /// Where compiles run: never on the evaluation stack, which may be nearly used up.
    compile_stack: Rc<Stack>,
    /// Boxed: the table's spare buckets then cost a pointer each, not a whole `Deferred`.
    pending: HashMap<SlotAddr, Box<Deferred>>,
    /// The current body of every compiled definition while tiering is on, by slot address: what the
    /// optimizing tier compiles when its count runs out, and inlines into its callers (and into top-level
    /// loops, which the compile phase reads from here).
    bodies: HashMap<SlotAddr, Box<Deferred>>,
    /// The slots whose code is optimized now, each with the slots whose bodies it inlined.
    optimized: HashMap<SlotAddr, Vec<SlotAddr>>,
    /// For a slot, the optimized functions (slots) that inlined its body: what a change must reach.
    inlined_into: HashMap<SlotAddr, Vec<SlotAddr>>,
    compiled: Vec<LazilyCompiled>,
    /// Code whose tier-up failed during the run (interrupted, or out of code memory): its call counter is
    /// to start over, so it asks again.
    retry: Vec<CodeId>,
}

/// Functions whose packed body has at most this many bytes are inlined into optimized callers (a
/// one-line operator takes 10 to 40).
pub(crate) const INLINE_PACKED_LIMIT: usize = 64;

impl Compiler {
    /// A compiler generating code with `backend`, on `compile_stack`.
    pub(crate) fn new(backend: Rc<RefCell<Backend>>, compile_stack: Rc<Stack>) -> Compiler {
        Compiler {
            backend,
            compile_stack,
            pending: HashMap::default(),
            bodies: HashMap::default(),
            optimized: HashMap::default(),
            inlined_into: HashMap::default(),
            compiled: Vec::new(),
            retry: Vec::new(),
        }
    }

    /// Stores `deferred` as the body to compile when the slot at `slot` is first called.
    pub(crate) fn defer(&mut self, slot: SlotAddr, deferred: Box<Deferred>) {
        self.pending.insert(slot, deferred);
    }

    /// Keeps `body`, whose code runs through the slot at `slot`, for the optimizing tier.
    pub(crate) fn watch(&mut self, slot: SlotAddr, body: Box<Deferred>) {
        self.bodies.insert(slot, body);
    }

    /// Forgets the bodies of the slot at `slot` (its function is redefined, undone or forgotten), and
    /// invalidates every optimized function that inlined it: each goes back to its lazy stub, with its
    /// body deferred again, so its next call compiles baseline code that can become hot again. Returns
    /// those (slot, code id) pairs, for the engine to record. Time: proportional to the dependents.
    pub(crate) fn forget(&mut self, slot: SlotAddr) -> Vec<(SlotAddr, CodeId)> {
        self.pending.remove(&slot);
        self.bodies.remove(&slot);
        self.optimized.remove(&slot);
        let mut invalidated = Vec::new();
        for dependent in self.inlined_into.remove(&slot).unwrap_or_default() {
            if !self.optimized.get(&dependent).is_some_and(|inlined| inlined.contains(&slot)) {
                continue;
            }
            self.optimized.remove(&dependent);
            if let Some(body) = self.bodies.get(&dependent) {
                invalidated.push((dependent, body.code_id));
                self.pending.insert(dependent, body.clone());
            }
        }
        invalidated
    }

    /// Makes the code of the function called through the slot at `slot` count its calls, in the cell
    /// `counter` gives for its code id: a function that became mutually recursive is as hot as one that
    /// calls itself. A deferred body gets the counter; compiled baseline code without one goes back to its
    /// lazy stub with its body deferred again, counting (its code id is returned, for the engine to
    /// repoint the slot); optimized code, and code that counts already, stay.
    pub(crate) fn count_calls(&mut self, slot: SlotAddr, counter: impl FnOnce(CodeId) -> usize) -> Option<CodeId> {
        if self.optimized.contains_key(&slot) {
            return None;
        }
        if let Some(pending) = self.pending.get_mut(&slot) {
            if pending.hot_counter.is_none() && pending.checks {
                pending.hot_counter = Some((counter(pending.code_id), slot.0));
            }
            return None;
        }
        let body = self.bodies.get_mut(&slot).filter(|body| body.hot_counter.is_none() && body.checks)?;
        body.hot_counter = Some((counter(body.code_id), slot.0));
        let code = body.code_id;
        self.pending.insert(slot, body.clone());
        Some(code)
    }

    /// Whether the next call through `slot` runs its deferred body in tier 0.
    pub(crate) fn next_call_in_tier0(&self, slot: SlotAddr) -> bool {
        self.pending.get(&slot).is_some_and(|pending| pending.tier0_calls > 0)
    }

    /// The functions compiled lazily since the last call.
    pub(crate) fn take_compiled(&mut self) -> Vec<LazilyCompiled> {
        std::mem::take(&mut self.compiled)
    }

    /// The code whose tier-up failed since the last call, to count its calls again.
    pub(crate) fn take_retries(&mut self) -> Vec<CodeId> {
        std::mem::take(&mut self.retry)
    }

    /// The tier-0 code of the body deferred for `slot`, if its next call is to run in tier 0 (that call is
    /// counted); none when it is to be compiled.
    fn tier0(&mut self, slot: SlotAddr) -> Option<Result<Tier0Code, CodegenError>> {
        let pending = self.pending.get_mut(&slot).filter(|pending| pending.tier0_calls > 0)?;
        pending.tier0_calls -= 1;
        let (params, body) = pending.function.unpack();
        let spec = Body { params: &params, body: &body, code_id: Some(pending.code_id), origin: 0 };
        let mut replay = Replay::new(&pending.answers, &[]);
        let mut backend = self.backend.borrow_mut();
        let interrupt = backend.interrupt_handle().clone();
        let lowered = match lower(&spec, &mut replay, &|| interrupt.is_requested()) {
            Ok(lowered) => lowered,
            Err(_) if interrupt.is_requested() => return Some(Err(CodegenError::Interrupted)),
            Err(diagnostic) => return Some(Err(CodegenError::Internal(diagnostic.message))),
        };
        let Some(mut code) = lowered.code else {
            // It calls a C function with more arguments than tier 0 passes, or it is too big: compile it now.
            pending.tier0_calls = 0;
            return None;
        };
        code.link(|arity| backend.stub(StubKind::Enter, arity));
        backend.stats.tier0_calls += 1;
        Some(Ok(code))
    }

    fn compile(&mut self, slot: SlotAddr) -> Result<usize, CodegenError> {
        let pending =
            self.pending.remove(&slot).ok_or(CodegenError::Internal("no deferred body for this slot".into()))?;
        match compile_deferred(&mut self.backend.borrow_mut(), &pending, false, &[]) {
            Ok(function) => {
                let code = function.code;
                let name = pending.name.to_string();
                self.compiled.push(LazilyCompiled { name, function, tier_up: false });
                if pending.worth_keeping() {
                    self.bodies.insert(slot, pending);
                }
                Ok(code)
            }
            Err(error) => {
                // The slot still points at the lazy stub: a later call tries again (after an interrupt, or
                // once code memory was freed).
                self.pending.insert(slot, pending);
                Err(error)
            }
        }
    }
}

impl Compiler {
    /// The optimizing tier's compile of the body watched for `slot`, if it is still version `code`'s.
    fn tier_up(&mut self, slot: SlotAddr, code: u32) -> Result<Option<usize>, CodegenError> {
        // A frame of an older version that runs out of calls finds another version's body, or none.
        let body = match self.bodies.get(&slot) {
            Some(body) if body.code_id.0 == code && !self.optimized.contains_key(&slot) => body.clone(),
            _ => return Ok(None),
        };
        let inline = self.inline_candidates(slot, &body);
        let callees: Vec<(usize, &Deferred)> = inline.iter().map(|(slot, callee)| (slot.0, &**callee)).collect();
        let slots: Vec<SlotAddr> = inline.iter().map(|&(slot, _)| slot).collect();
        match compile_deferred(&mut self.backend.borrow_mut(), &body, true, &callees) {
            Ok(mut function) => {
                let code = function.code;
                function.inlined = callees.iter().map(|(_, callee)| callee.name.to_string()).collect();
                for &callee in &slots {
                    self.inlined_into.entry(callee).or_default().push(slot);
                }
                self.optimized.insert(slot, slots);
                self.compiled.push(LazilyCompiled { name: body.name.to_string(), function, tier_up: true });
                Ok(Some(code))
            }
            // Too big for the optimizing tier: the baseline code is what it gets, and it never asks again.
            Err(CodegenError::TooBigToOptimize) => Ok(None),
            // An interrupt stops the program; the counter starts over after the run, so the function asks
            // again once it is hot again, as an interrupted lazy compile is tried again on the next call.
            Err(CodegenError::Interrupted) => {
                self.retry.push(body.code_id);
                Err(CodegenError::Interrupted)
            }
            // Out of code memory, say: the baseline code is correct, and stays until its count runs out
            // again (after the run), when the tier-up is tried again. An internal error is a bug that must
            // not hide behind that: debug builds (and so the tests) stop on it.
            Err(error) => {
                debug_assert!(!matches!(error, CodegenError::Internal(_)), "the optimizing tier failed: {error}");
                self.retry.push(body.code_id);
                Ok(None)
            }
        }
    }

    /// The callees of `body` (through their slots, other than its own) whose current bodies are small:
    /// compiled ones, and deferred ones never called yet.
    fn inline_candidates(&self, own: SlotAddr, body: &Deferred) -> Vec<(SlotAddr, Box<Deferred>)> {
        self.small_callees(&body.answers, &|slot| slot == own)
    }

    /// The callees among `answers` (through their slots, but those `skip` names) whose current bodies are
    /// small enough to inline: what the optimizing tier inlines.
    pub(crate) fn small_callees(
        &self,
        answers: &[Answer],
        skip: &dyn Fn(SlotAddr) -> bool,
    ) -> Vec<(SlotAddr, Box<Deferred>)> {
        let mut candidates: Vec<(SlotAddr, Box<Deferred>)> = Vec::new();
        for answer in answers {
            let &Answer::Callee(Callee::Slot { address }) = answer else { continue };
            let address = SlotAddr(address);
            if skip(address) || candidates.iter().any(|(slot, _)| *slot == address) {
                continue;
            }
            let current = self.bodies.get(&address).or_else(|| self.pending.get(&address));
            if let Some(callee) = current.filter(|callee| callee.function.len() <= INLINE_PACKED_LIMIT) {
                candidates.push((address, callee.clone()));
            }
        }
        candidates
    }
}

impl LazyHook for RefCell<Compiler> {
    fn compile(&self, slot: usize) -> Result<usize, Raised> {
        let compile_stack = self.borrow().compile_stack.clone();
        compile_stack.run(|| self.borrow_mut().compile(SlotAddr(slot))).map_err(|error| raised(slot, error))
    }

    fn enter(&self, runtime: &RuntimeState, slot: usize, args: &[f64]) -> Result<Entered, Raised> {
        let compile_stack = self.borrow().compile_stack.clone();
        // Lowered on the compile stack (its recursion is the body's nesting); run here, on the evaluation
        // stack, with no borrow held, so the code it calls can compile or run tier 0 in turn.
        match compile_stack.run(|| self.borrow_mut().tier0(SlotAddr(slot))) {
            Some(Ok(code)) => Ok(Entered::Value(eval::run(&code, args, runtime))),
            Some(Err(error)) => Err(raised(slot, error)),
            None => self.compile(slot).map(Entered::Code),
        }
    }

    fn tier_up(&self, slot: usize, code: u32) -> Result<Option<usize>, Raised> {
        let compile_stack = self.borrow().compile_stack.clone();
        compile_stack.run(|| self.borrow_mut().tier_up(SlotAddr(slot), code)).map_err(|_| Raised::Interrupted)
    }
}

/// What a failed compile of the slot's body raises.
fn raised(slot: usize, error: CodegenError) -> Raised {
    match error {
        CodegenError::Interrupted => Raised::Interrupted,
        error => Raised::CompileFailed { slot, reason: error.to_string() },
    }
}

/// Translates a deferred body again (replaying its answers) and compiles it in a unit of its own: as
/// baseline code that counts its calls, or (`optimize`) with the optimizing tier, inlining `inline` (the
/// current bodies of some of its callees).
fn compile_deferred(
    backend: &mut Backend,
    pending: &Deferred,
    optimize: bool,
    inline: &[(usize, &Deferred)],
) -> Result<CompiledFunction, CodegenError> {
    backend.timed(|backend| {
        let mut unit = backend.unit();
        let result = compile_into(backend, &mut unit, pending, optimize, inline);
        if let Err(error) = result {
            backend.abandon(unit);
            return Err(error);
        }
        Ok(backend.finish(unit)?.remove(0))
    })
}

fn compile_into(
    backend: &mut Backend,
    unit: &mut Unit,
    pending: &Deferred,
    optimize: bool,
    inline: &[(usize, &Deferred)],
) -> Result<(), CodegenError> {
    let id = unit.declare(&kaleido_signature(pending.function.arity()))?;
    let hot_counter = pending.hot_counter.filter(|_| !optimize);
    let direct = pending.direct_self_calls && hot_counter.is_none();
    if !optimize {
        let self_id = if direct { Some((&mut *unit, id)) } else { None };
        let func = translate_deferred(backend, pending, (self_id, false), hot_counter, &[])?;
        return backend.define_in_tier(unit, (id, pending.code_id), func, false, &[]);
    }
    optimize_with_inlining(backend, unit, (id, pending.code_id), inline.iter().copied(), |backend, unit, callees| {
        let self_id = if direct { Some((unit, id)) } else { None };
        let func = translate_deferred(backend, pending, (self_id, true), None, callees)?;
        if optimizable(&func) { Ok(func) } else { Err(CodegenError::TooBigToOptimize) }
    })
}

/// The optimizing tier's compile with inlining, assembled here only, for a hot function's tier-up and
/// for a top-level loop alike: the callees' current bodies are translated to be inlined, `translate_body`
/// translates the function itself (replaying its answers, with direct calls to those callees), and the
/// backend compiles it with them in the optimizing tier, into `unit` as function `id` with code id `code`.
pub(crate) fn optimize_with_inlining<'d>(
    backend: &mut Backend,
    unit: &mut Unit,
    (id, code): (FuncId, CodeId),
    callees: impl Iterator<Item = (usize, &'d Deferred)>,
    translate_body: impl FnOnce(&mut Backend, &mut Unit, &[InlineBody]) -> Result<ir::Function, CodegenError>,
) -> Result<(), CodegenError> {
    let callees = translate_for_inlining(backend, callees)?;
    let func = translate_body(backend, unit, &callees)?;
    let callees: Vec<ir::Function> = callees.into_iter().map(|callee| callee.func).collect();
    backend.define_in_tier(unit, (id, code), func, true, &callees)
}

/// `bodies` (each with the slot it is called through) translated to be inlined as callees `0..` of a
/// unit; their own calls stay slot calls.
fn translate_for_inlining<'d>(
    backend: &mut Backend,
    bodies: impl Iterator<Item = (usize, &'d Deferred)>,
) -> Result<Vec<InlineBody>, CodegenError> {
    bodies
        .map(|(slot, body)| {
            let func = translate_deferred(backend, body, (None, true), None, &[])?;
            // Every way to raise is a call: to a function, a hook, or the stack check's `k_raise`.
            let aborts = func
                .layout
                .blocks()
                .flat_map(|b| func.layout.block_insts(b))
                .any(|i| func.dfg.insts[i].opcode().is_call());
            Ok(InlineBody { slot, func, aborts })
        })
        .collect()
}

/// The IR of a deferred body, replaying its answers: with a direct self-call into function `self_id` of
/// `unit` when given, a call counter when given, and direct calls (to be inlined) through `inline`; for the
/// optimizing tier when `optimize` (or when it is the current tier).
fn translate_deferred(
    backend: &mut Backend,
    pending: &Deferred,
    (self_id, optimize): (Option<(&mut Unit, FuncId)>, bool),
    hot_counter: Option<(usize, usize)>,
    inline: &[InlineBody],
) -> Result<ir::Function, CodegenError> {
    let (params, body) = pending.function.unpack();
    let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), kaleido_signature(params.len()));
    let self_ref = self_id.map(|(unit, id)| unit.reference(id, &mut func));
    let spec = FunctionSpec {
        name: Some(&pending.name),
        params: &params,
        body: &body,
        code_id: pending.code_id,
        self_ref,
        checks: pending.checks,
        // The call sites were recorded when the body was checked; this translation gives the same ones.
        origin: 0,
        hot_counter,
        locals_in_slots: !optimize && backend.tier() == Tier::Baseline && wants_slot_locals(&body),
    };
    let mut replay = Replay::new(&pending.answers, inline);
    let (frontend, runtime) = (backend.isa().frontend_config(), backend.runtime());
    let interrupt = backend.interrupt_handle().clone();
    let stop = || interrupt.is_requested();
    translate(&mut func, backend.builder_context(), frontend, &spec, runtime, &mut replay, &stop).map_err(|d| {
        if interrupt.is_requested() { CodegenError::Interrupted } else { CodegenError::Internal(d.message) }
    })?;
    Ok(func)
}
