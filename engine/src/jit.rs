//! Cranelift modules: one `JITModule` per entry on the engine's shared ISA, and the modules' lifetimes.
//!
//! An entry's functions and top-level code are compiled into one new module. The module lives while any
//! of its functions is current; when the last one is replaced (and its top-level code has run) the module's
//! memory is freed, at the end of an evaluation, when no JIT frame can be on the stack.

use std::collections::HashMap;

use cranelift_codegen::ir::{InstBuilder, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::{Context, settings, settings::Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, default_libcall_names};

use crate::codegen::{emit_native_void_call, kaleido_signature};
use crate::runtime::{RaiseKind, k_raise};

/// Identifies a live module.
pub type ModuleId = u32;

/// Builds the host ISA every module shares.
pub fn host_isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name, value| flags.set(name, value).map_err(|e| e.to_string());
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    // The verifier doubles compile time; debug builds (and so the tests) keep it on.
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    let builder = cranelift_native::builder().map_err(|e| e.to_string())?;
    builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())
}

/// A new module for one entry, on the shared ISA.
pub fn new_module(isa: &OwnedTargetIsa) -> JITModule {
    JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()))
}

/// The modules that hold current code, with how many current functions each holds.
#[derive(Default)]
pub struct Modules {
    live: HashMap<ModuleId, (JITModule, usize)>,
    next: ModuleId,
    /// Modules whose last current function was replaced; freed by [`Modules::collect`].
    retired: Vec<ModuleId>,
}

impl Modules {
    /// Keeps `module` alive; it holds no current function yet.
    pub fn adopt(&mut self, module: JITModule) -> ModuleId {
        self.next += 1;
        self.live.insert(self.next, (module, 0));
        self.next
    }

    /// One more current function lives in `id`.
    pub fn retain(&mut self, id: ModuleId) {
        if let Some((_, count)) = self.live.get_mut(&id) {
            *count += 1;
        }
    }

    /// A current function of `id` was replaced.
    pub fn release(&mut self, id: ModuleId) {
        if let Some((_, count)) = self.live.get_mut(&id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.retired.push(id);
            }
        }
    }

    /// Marks `id` for freeing if nothing current lives in it (an entry of top-level code only).
    pub fn release_if_unused(&mut self, id: ModuleId) {
        if self.live.get(&id).is_some_and(|(_, count)| *count == 0) {
            self.retired.push(id);
        }
    }

    /// How many modules are alive.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Frees the retired modules. Call only between evaluations: no code of theirs may be running, and no
    /// slot may point into them (the engine repoints slots before it releases a module).
    pub fn collect(&mut self) {
        for id in std::mem::take(&mut self.retired) {
            if let Some((module, count)) = self.live.remove(&id) {
                if count > 0 {
                    self.live.insert(id, (module, count));
                    continue;
                }
                // SAFETY: nothing runs (we are between evaluations) and no slot or live code refers to this
                // module's functions: their last current version was replaced and its slots repointed.
                unsafe { module.free_memory() };
            }
        }
    }
}

impl Drop for Modules {
    fn drop(&mut self) {
        for (_, (module, _)) in self.live.drain() {
            // SAFETY: the engine is being dropped; no JIT code runs and none will be called again.
            unsafe { module.free_memory() };
        }
    }
}

/// Compiles a stub of `arity` parameters that raises `kind` for the slot it was called through, in a module
/// of its own that lives as long as the engine. Returns the module and the stub's address.
pub fn compile_stub(
    isa: &OwnedTargetIsa,
    builder_context: &mut FunctionBuilderContext,
    kind: RaiseKind,
    arity: usize,
    state: usize,
) -> Result<(JITModule, usize), String> {
    let mut module = new_module(isa);
    let call_conv: CallConv = isa.default_call_conv();
    let signature = kaleido_signature(arity, call_conv);
    let id: FuncId = module.declare_anonymous_function(&signature).map_err(|e| e.to_string())?;
    let mut context: Context = module.make_context();
    context.func.signature = signature;
    {
        let mut builder = FunctionBuilder::new(&mut context.func, builder_context);
        let block = builder.create_block();
        builder.append_block_params_for_function_params(block);
        builder.switch_to_block(block);
        let slot = builder.block_params(block)[0];
        let state = builder.ins().iconst(types::I64, state as i64);
        let kind = builder.ins().iconst(types::I64, kind as i64);
        emit_native_void_call(&mut builder, call_conv, k_raise as *const () as usize, &[state, kind, slot]);
        let zero = builder.ins().f64const(0.0);
        builder.ins().return_(&[zero]);
        builder.seal_all_blocks();
        builder.finalize(module.target_config());
    }
    module.define_function(id, &mut context).map_err(|e| e.to_string())?;
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let address = module.get_finalized_function(id) as usize;
    Ok((module, address))
}
