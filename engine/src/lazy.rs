//! Lazy compilation: a definition's machine code is generated on its first call.
//!
//! When an entry is applied in lazy mode, a definition is translated once (so every diagnostic and warning
//! appears at once) while a [`Recording`] notes each answer the engine's resolver gives; the IR is thrown
//! away and the AST and the answers are kept, keyed by the address of the function's slot, which points
//! at a lazy stub. The stub calls [`k_lazy_compile`], which translates the AST again, replaying the answers
//! (translation is deterministic, so it asks the same questions in the same order), compiles it into a
//! module of its own, patches the slot and returns the code's address; the stub then forwards the call
//! with the same arguments. Later calls go straight to the code. A definition replaced before it was ever
//! called is never compiled. Keeping the AST rather than the IR costs a few hundred bytes per definition
//! instead of several KiB.
//!
//! The compiler lives behind its own `RefCell`, reached from the runtime state: the engine never holds
//! that borrow while JIT code runs, so a lazily compiled function may trigger further lazy compiles.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::ir::{self, ExtFuncData, ExternalName, UserExternalName};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::Module;
use kaleido_lang::ast::Expr;
use kaleido_lang::{Diagnostic, Span};

use crate::backend::{Backend, CodegenError, range_of};
use crate::code_memory::CodeRange;
use crate::codegen::{Callee, FunctionSpec, Resolve, kaleido_signature, translate};
use crate::runtime::{Raised, RuntimeState};
use crate::stack::Stack;

/// One answer of the resolver during translation.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// Where a call goes.
    Callee(Callee),
    /// A global's cell address.
    Global(usize),
}

/// A resolver that answers as `inner` does and writes down every answer.
pub struct Recording<'r> {
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

    fn global(&mut self, name: &str) -> usize {
        let address = self.inner.global(name);
        self.answers.push(Answer::Global(address));
        address
    }
}

/// A resolver that gives recorded answers back in order.
struct Replay {
    answers: std::vec::IntoIter<Answer>,
}

impl Resolve for Replay {
    fn callee(&mut self, name: &str, _arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        match self.answers.next() {
            Some(Answer::Callee(callee)) => Ok(callee),
            _ => Err(Diagnostic::error(span, format!("internal error: replaying the call to `{name}` diverged"))),
        }
    }

    fn global(&mut self, _name: &str) -> usize {
        match self.answers.next() {
            Some(Answer::Global(address)) => address,
            // Unreachable while translation is deterministic; a null cell would fault, so say so loudly.
            _ => panic!("internal error: replaying a global read diverged"),
        }
    }
}

/// A definition whose code has not been generated yet.
pub struct Deferred {
    /// The function's name.
    pub name: String,
    /// Its parameter names.
    pub params: Vec<String>,
    /// Its body.
    pub body: Expr,
    /// Its code id for backtraces.
    pub code_id: u32,
    /// The resolver's answers, in the order translation asks.
    pub answers: Vec<Answer>,
    /// Whether to emit stack and interrupt checks.
    pub checks: bool,
    /// Whether calls to itself are direct.
    pub direct_self_calls: bool,
}

/// Code generated lazily during a run, for the engine to record in its index afterwards.
pub struct LazilyCompiled {
    /// The function's name.
    pub name: String,
    /// Its code's address.
    pub code: usize,
    /// Where its code lives.
    pub range: CodeRange,
}

/// The part of the engine that can compile while JIT code runs.
pub struct Compiler {
    backend: Rc<RefCell<Backend>>,
    /// Where compiles run: never on the evaluation stack, which may be nearly used up.
    compile_stack: Rc<Stack>,
    pending: HashMap<usize, Deferred>,
    builder_context: FunctionBuilderContext,
    compiled: Vec<LazilyCompiled>,
}

impl Compiler {
    /// A compiler generating code with `backend`, on `compile_stack`.
    pub fn new(backend: Rc<RefCell<Backend>>, compile_stack: Rc<Stack>) -> Compiler {
        let (pending, builder_context, compiled) = (HashMap::new(), FunctionBuilderContext::new(), Vec::new());
        Compiler { backend, compile_stack, pending, builder_context, compiled }
    }

    /// Stores `deferred` as the body to compile when the slot at `slot` is first called.
    pub fn defer(&mut self, slot: usize, deferred: Deferred) {
        self.pending.insert(slot, deferred);
    }

    /// Forgets the deferred body of the slot at `slot`, if any (its function was redefined).
    pub fn forget(&mut self, slot: usize) {
        self.pending.remove(&slot);
    }

    /// The functions compiled lazily since the last call.
    pub fn take_compiled(&mut self) -> Vec<LazilyCompiled> {
        std::mem::take(&mut self.compiled)
    }

    fn compile(&mut self, slot: usize) -> Result<usize, CodegenError> {
        let pending =
            self.pending.remove(&slot).ok_or(CodegenError::Internal("no deferred body for this slot".into()))?;
        let result = self.compile_deferred(&pending);
        match result {
            Ok(code) => Ok(code),
            Err(error) => {
                // The slot still points at the lazy stub: a later call tries again (after an interrupt, or
                // once code memory was freed).
                self.pending.insert(slot, pending);
                Err(error)
            }
        }
    }

    fn compile_deferred(&mut self, pending: &Deferred) -> Result<usize, CodegenError> {
        let mut backend = self.backend.borrow_mut();
        let (mut module, allocations) = backend.new_module();
        let signature = kaleido_signature(pending.params.len());
        // The function is the first (and only) of this module, so `self_reference` (function 0) is itself.
        let id = module.declare_anonymous_function(&signature).map_err(|e| CodegenError::Internal(e.to_string()))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let self_ref = pending.direct_self_calls.then(|| self_reference(&mut func));
        let spec = FunctionSpec {
            name: Some(&pending.name),
            params: &pending.params,
            body: &pending.body,
            code_id: pending.code_id,
            self_ref,
            checks: pending.checks,
        };
        let mut replay = Replay { answers: pending.answers.clone().into_iter() };
        let frontend = backend.isa().frontend_config();
        translate(&mut func, &mut self.builder_context, frontend, &spec, backend.runtime(), &mut replay)
            .map_err(|d| CodegenError::Internal(d.message))?;
        let defined = backend.define(&mut module, id, func).and_then(|()| backend.finalize(&mut module));
        if let Err(error) = defined {
            let ranges: Vec<CodeRange> = crate::code_memory::lock(&allocations).drain(..).collect();
            backend.free(&ranges);
            return Err(error);
        }
        let code = module.get_finalized_function(id) as usize;
        let range = range_of(&allocations, code).unwrap_or((code, 0));
        self.compiled.push(LazilyCompiled { name: pending.name.clone(), code, range });
        Ok(code)
    }
}

/// A direct reference from a function to itself, as function 0 of the module it will be compiled in.
pub fn self_reference(func: &mut ir::Function) -> ir::FuncRef {
    let signature = func.signature.clone();
    let signature = func.import_signature(signature);
    let name = func.declare_imported_user_function(UserExternalName { namespace: 0, index: 0 });
    func.import_function(ExtFuncData { name: ExternalName::user(name), signature, colocated: true, patchable: false })
}

/// `k_lazy_compile(state, slot)`: compiles the body deferred for `slot`, points the slot at it and returns
/// its address. On failure it raises, and the stub returns through the abort path without calling.
pub extern "C" fn k_lazy_compile(state: *const RuntimeState, slot: usize) -> usize {
    // SAFETY: JIT code passes the address of the engine's boxed `RuntimeState`, which outlives all code.
    let state = unsafe { &*state };
    let Some(compiler) = state.compiler() else {
        state.raise(Raised::CompileFailed { slot, reason: "no compiler is attached".into() });
        return 0;
    };
    let compile_stack = compiler.borrow().compile_stack.clone();
    let result = compile_stack.run(|| compiler.borrow_mut().compile(slot));
    match result {
        Ok(code) => {
            // SAFETY: `slot` is the address of a live slot of the engine's table (the stub was reached
            // through it), and slots are never moved or freed while the engine lives.
            unsafe { &*(slot as *const AtomicUsize) }.store(code, Ordering::SeqCst);
            code
        }
        Err(CodegenError::Interrupted) => {
            state.raise(Raised::Interrupted);
            0
        }
        Err(error) => {
            state.raise(Raised::CompileFailed { slot, reason: error.to_string() });
            0
        }
    }
}
