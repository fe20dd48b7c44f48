//! Lazy compilation: a definition's machine code is generated on its first call.
//!
//! When an entry is applied in lazy mode, a definition is translated once (so every diagnostic and warning
//! appears at once) while a [`Recording`] notes each answer the engine's resolver gives; the IR is thrown
//! away and the AST and the answers are kept, keyed by the address of the function's slot, which points
//! at a lazy stub. The stub calls [`k_lazy_compile`], which translates the AST again, replaying the answers
//! (translation is deterministic, so it asks the same questions in the same order), compiles it into a
//! module of its own, patches the slot and returns the code's address; the stub then tail-calls it with
//! the same arguments. Later calls go straight to the code. A definition replaced before it was ever
//! called is never compiled. Keeping the AST rather than the IR costs a few hundred bytes per definition
//! instead of several KiB.
//!
//! The compiler lives behind its own `RefCell`, reached from the runtime state through the
//! [`LazyHook`] trait the runtime declares: the engine never holds that borrow (nor the backend's) while
//! JIT code runs, so a lazily compiled function may trigger further lazy compiles.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use cranelift_codegen::ir::{self, ExtFuncData, ExternalName, UserExternalName};
use kaleido_lang::packed::PackedFunction;
use kaleido_lang::{Diagnostic, Span};

use crate::backend::{Backend, CodegenError, CompiledFunction};
use crate::codegen::{Callee, FunctionSpec, Resolve, kaleido_signature, translate};
use crate::ids::CodeId;
use crate::runtime::{LazyHook, Raised};
use crate::stack::Stack;

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

/// A resolver that gives recorded answers back in order.
struct Replay<'a> {
    answers: std::slice::Iter<'a, Answer>,
}

impl Resolve for Replay<'_> {
    fn callee(&mut self, name: &str, _arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        match self.answers.next() {
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

/// A definition whose code has not been generated yet.
pub(crate) struct Deferred {
    /// The function's name.
    pub name: Box<str>,
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
    pending: HashMap<usize, Box<Deferred>>,
    /// The bodies of baseline code that counts its calls, by slot address: what the optimizing tier
    /// compiles when the count runs out.
    hot: HashMap<usize, Box<Deferred>>,
    compiled: Vec<LazilyCompiled>,
}

impl Compiler {
    /// A compiler generating code with `backend`, on `compile_stack`.
    pub(crate) fn new(backend: Rc<RefCell<Backend>>, compile_stack: Rc<Stack>) -> Compiler {
        Compiler { backend, compile_stack, pending: HashMap::default(), hot: HashMap::default(), compiled: Vec::new() }
    }

    /// Stores `deferred` as the body to compile when the slot at `slot` is first called.
    pub(crate) fn defer(&mut self, slot: usize, deferred: Box<Deferred>) {
        self.pending.insert(slot, deferred);
    }

    /// Keeps `body`, whose baseline code runs through the slot at `slot` and counts its calls, for the
    /// optimizing tier.
    pub(crate) fn watch(&mut self, slot: usize, body: Box<Deferred>) {
        self.hot.insert(slot, body);
    }

    /// Forgets the deferred or watched body of the slot at `slot`, if any (its function was redefined).
    pub(crate) fn forget(&mut self, slot: usize) {
        self.pending.remove(&slot);
        self.hot.remove(&slot);
    }

    /// The functions compiled lazily since the last call.
    pub(crate) fn take_compiled(&mut self) -> Vec<LazilyCompiled> {
        std::mem::take(&mut self.compiled)
    }

    fn compile(&mut self, slot: usize) -> Result<usize, CodegenError> {
        let pending =
            self.pending.remove(&slot).ok_or(CodegenError::Internal("no deferred body for this slot".into()))?;
        match compile_deferred(&mut self.backend.borrow_mut(), &pending, false) {
            Ok(function) => {
                let code = function.code;
                let name = pending.name.to_string();
                self.compiled.push(LazilyCompiled { name, function, tier_up: false });
                if pending.hot_counter.is_some() {
                    self.hot.insert(slot, pending);
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
    fn tier_up(&mut self, slot: usize, code: u32) -> Result<Option<usize>, CodegenError> {
        let Some(body) = self.hot.remove(&slot) else {
            return Ok(None);
        };
        if body.code_id.0 != code {
            // A frame of an older version ran out of calls: the current one keeps counting.
            self.hot.insert(slot, body);
            return Ok(None);
        }
        match compile_deferred(&mut self.backend.borrow_mut(), &body, true) {
            Ok(function) => {
                let code = function.code;
                self.compiled.push(LazilyCompiled { name: body.name.to_string(), function, tier_up: true });
                Ok(Some(code))
            }
            // An interrupt stops the program; the body is kept, so the next run may still get there.
            Err(CodegenError::Interrupted) => {
                self.hot.insert(slot, body);
                Err(CodegenError::Interrupted)
            }
            // Out of code memory, say: the baseline code is correct, and stays.
            Err(_) => Ok(None),
        }
    }
}

impl LazyHook for RefCell<Compiler> {
    fn compile(&self, slot: usize) -> Result<usize, Raised> {
        let compile_stack = self.borrow().compile_stack.clone();
        compile_stack.run(|| self.borrow_mut().compile(slot)).map_err(|error| match error {
            CodegenError::Interrupted => Raised::Interrupted,
            error => Raised::CompileFailed { slot, reason: error.to_string() },
        })
    }

    fn tier_up(&self, slot: usize, code: u32) -> Result<Option<usize>, Raised> {
        let compile_stack = self.borrow().compile_stack.clone();
        compile_stack.run(|| self.borrow_mut().tier_up(slot, code)).map_err(|_| Raised::Interrupted)
    }
}

/// Translates a deferred body again (replaying its answers) and compiles it in a unit of its own: as
/// baseline code that counts its calls, or (`optimize`) with the optimizing tier.
fn compile_deferred(
    backend: &mut Backend,
    pending: &Deferred,
    optimize: bool,
) -> Result<CompiledFunction, CodegenError> {
    let (params, body) = pending.function.unpack();
    let mut unit = backend.unit();
    let signature = kaleido_signature(params.len());
    let id = unit.declare(&signature)?;
    let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
    let hot_counter = pending.hot_counter.filter(|_| !optimize);
    let self_ref = (pending.direct_self_calls && hot_counter.is_none()).then(|| unit.reference(id, &mut func));
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
    };
    let mut replay = Replay { answers: pending.answers.iter() };
    let (frontend, runtime) = (backend.isa().frontend_config(), backend.runtime());
    let translated = translate(&mut func, backend.builder_context(), frontend, &spec, runtime, &mut replay);
    let defined = translated
        .map_err(|d| CodegenError::Internal(d.message))
        .and_then(|_| backend.define_in_tier(&mut unit, id, func, optimize));
    if let Err(error) = defined {
        backend.abandon(unit);
        return Err(error);
    }
    let mut function = backend.finish(unit)?.remove(0);
    function.optimized |= optimize;
    Ok(function)
}

/// A direct reference from a function to itself, as function 0 of the module it will be compiled in.
pub(crate) fn self_reference(func: &mut ir::Function) -> ir::FuncRef {
    let signature = func.signature.clone();
    let signature = func.import_signature(signature);
    let name = func.declare_imported_user_function(UserExternalName { namespace: 0, index: 0 });
    func.import_function(ExtFuncData { name: ExternalName::user(name), signature, colocated: true, patchable: false })
}
