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

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, ExtFuncData, ExternalName, UserExternalName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_module::Module;

use cranelift_frontend::FunctionBuilderContext;
use kaleido_lang::ast::Expr;
use kaleido_lang::{Diagnostic, Span};

use crate::code_memory::{CodeRange, SharedArena};
use crate::codegen::{Callee, FunctionSpec, Resolve, kaleido_signature, translate};
use crate::jit::{new_module, range_of};
use crate::runtime::{Raised, RuntimeState};

/// What compiling has cost so far, eager and lazy together.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompileStats {
    /// Functions compiled to machine code (definitions and top-level code; stubs aside).
    pub functions: u64,
    /// Bytes of machine code produced.
    pub code_bytes: u64,
    /// Time spent in Cranelift's code generation.
    pub time: Duration,
}

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
    isa: OwnedTargetIsa,
    arena: SharedArena,
    pending: HashMap<usize, Deferred>,
    builder_context: FunctionBuilderContext,
    state: usize,
    compiled: Vec<LazilyCompiled>,
    /// Counters for `:stats`.
    pub stats: CompileStats,
}

impl Compiler {
    /// A compiler generating code for `isa` into `arena`, for the runtime state at `state`.
    pub fn new(isa: OwnedTargetIsa, arena: SharedArena, state: usize) -> Compiler {
        let builder_context = FunctionBuilderContext::new();
        let (pending, compiled, stats) = (HashMap::new(), Vec::new(), CompileStats::default());
        Compiler { isa, arena, pending, builder_context, state, compiled, stats }
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

    /// Counts one function compiled eagerly.
    pub fn count(&mut self, code_bytes: usize, time: Duration) {
        self.stats.functions += 1;
        self.stats.code_bytes += code_bytes as u64;
        self.stats.time += time;
    }

    fn compile(&mut self, slot: usize) -> Result<usize, String> {
        let pending = self.pending.remove(&slot).ok_or("no deferred body for this slot")?;
        let started = Instant::now();
        let (mut module, allocations) = new_module(&self.isa, &self.arena);
        let signature = kaleido_signature(pending.params.len(), self.isa.default_call_conv());
        // The function is the first (and only) of this module, so `self_reference` (function 0) is itself.
        let id = module.declare_anonymous_function(&signature).map_err(|e| e.to_string())?;
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
        let frontend = self.isa.frontend_config();
        translate(&mut func, &mut self.builder_context, frontend, &spec, self.state, &mut replay)
            .map_err(|d| d.message)?;
        let mut context = Context::for_function(func);
        module.define_function(id, &mut context).map_err(|e| format!("{e:?}"))?;
        module.finalize_definitions().map_err(|e| e.to_string())?;
        let code = module.get_finalized_function(id) as usize;
        let range = range_of(&allocations, code).unwrap_or((code, 0));
        self.count(range.1, started.elapsed());
        self.compiled.push(LazilyCompiled { name: pending.name, code, range });
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
        state.raise(Raised::CompileFailed { slot });
        return 0;
    };
    let result = compiler.borrow_mut().compile(slot);
    match result {
        Ok(code) => {
            // SAFETY: `slot` is the address of a live slot of the engine's table (the stub was reached
            // through it), and slots are never moved or freed while the engine lives.
            unsafe { &*(slot as *const AtomicUsize) }.store(code, Ordering::SeqCst);
            code
        }
        Err(_) => {
            state.raise(Raised::CompileFailed { slot });
            0
        }
    }
}
