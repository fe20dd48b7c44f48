//! Lazy compilation: a definition's machine code is generated on its first call.
//!
//! When an entry is applied in lazy mode, a definition's Cranelift IR is built (so every diagnostic and
//! warning appears at once) and stored, keyed by the address of its slot, and the slot points at a lazy
//! stub. The stub calls [`k_lazy_compile`], which compiles the stored IR into a module of its own, patches
//! the slot, and returns the code's address; the stub then forwards the call with the same arguments.
//! Later calls go straight to the code. A definition replaced before it was ever called is never compiled.
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

use crate::code_memory::{CodeRange, SharedArena};
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

/// A definition whose code has not been generated yet.
struct Pending {
    name: String,
    clif: ir::Function,
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
    pending: HashMap<usize, Pending>,
    compiled: Vec<LazilyCompiled>,
    /// Counters for `:stats`.
    pub stats: CompileStats,
}

impl Compiler {
    /// A compiler generating code for `isa` into `arena`.
    pub fn new(isa: OwnedTargetIsa, arena: SharedArena) -> Compiler {
        Compiler { isa, arena, pending: HashMap::new(), compiled: Vec::new(), stats: CompileStats::default() }
    }

    /// Stores `clif` as the body to compile when the slot at `slot` is first called.
    pub fn defer(&mut self, slot: usize, name: &str, clif: ir::Function) {
        self.pending.insert(slot, Pending { name: name.to_string(), clif });
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
        // The body's self-reference names function 0: the first (and only) function of this module.
        let id = module.declare_anonymous_function(&pending.clif.signature).map_err(|e| e.to_string())?;
        let mut context = Context::for_function(pending.clif);
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
        state.raise_from_hook(Raised::CompileFailed { slot });
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
            state.raise_from_hook(Raised::CompileFailed { slot });
            0
        }
    }
}
