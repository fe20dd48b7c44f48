//! Cranelift modules: one `JITModule` per entry on the engine's shared ISA, with code in the engine's arena.
//!
//! An entry's functions and top-level code are compiled into one new module. Once the module is finalized
//! the engine keeps the code ranges it allocated and drops the module: code lifetimes are per function
//! (see `code_memory.rs`), not per module.

use std::sync::{Arc, Mutex};

use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::{Context, settings, settings::Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, default_libcall_names};

use crate::code_memory::{ArenaProvider, CodeRange, SharedArena, lock};
use crate::codegen::{emit_native_void_call, kaleido_signature};
use crate::lazy::k_lazy_compile;
use crate::runtime::{ABORT_OFFSET, RaiseKind, k_raise};

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

/// A new module for one entry, on the shared ISA, allocating its code in `arena`; also returns the list
/// in which the module records the code ranges it allocates.
pub fn new_module(isa: &OwnedTargetIsa, arena: &SharedArena) -> (JITModule, Arc<Mutex<Vec<CodeRange>>>) {
    let (provider, allocations) = ArenaProvider::new(arena.clone());
    let mut builder = JITBuilder::with_isa(isa.clone(), default_libcall_names());
    builder.memory_provider(Box::new(provider));
    (JITModule::new(builder), allocations)
}

/// The allocation holding the function at `address`.
pub fn range_of(allocations: &Mutex<Vec<CodeRange>>, address: usize) -> Option<CodeRange> {
    lock(allocations).iter().copied().find(|&(start, len)| start <= address && address < start + len)
}

/// Compiles a stub of `arity` parameters that raises `kind` for the slot it was called through. Stubs are
/// never freed. Returns the stub's address.
pub fn compile_stub(
    isa: &OwnedTargetIsa,
    arena: &SharedArena,
    builder_context: &mut FunctionBuilderContext,
    kind: RaiseKind,
    arity: usize,
    state: usize,
) -> Result<usize, String> {
    compile_stub_with(isa, arena, builder_context, arity, |builder, call_conv, args| {
        let state = builder.ins().iconst(types::I64, state as i64);
        let kind = builder.ins().iconst(types::I64, kind as i64);
        emit_native_void_call(builder, call_conv, k_raise as *const () as usize, &[state, kind, args[0]]);
        let zero = builder.ins().f64const(0.0);
        builder.ins().return_(&[zero]);
    })
}

/// Compiles the lazy stub for functions of `arity` parameters: it asks [`crate::lazy::k_lazy_compile`] for
/// the code of the slot it was called through, then calls that code with the same arguments (or returns at
/// once if compiling raised an error). Stubs are never freed.
pub fn compile_lazy_stub(
    isa: &OwnedTargetIsa,
    arena: &SharedArena,
    builder_context: &mut FunctionBuilderContext,
    arity: usize,
    state: usize,
) -> Result<usize, String> {
    compile_stub_with(isa, arena, builder_context, arity, |builder, call_conv, args| {
        let state_value = builder.ins().iconst(types::I64, state as i64);
        let mut hook = Signature::new(call_conv);
        hook.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I64)]);
        hook.returns.push(AbiParam::new(types::I64));
        let hook = builder.import_signature(hook);
        let hook_address = builder.ins().iconst(types::I64, k_lazy_compile as *const () as i64);
        let call = builder.ins().call_indirect(hook, hook_address, &[state_value, args[0]]);
        let code = builder.inst_results(call)[0];
        let abort = builder.ins().load(types::I64, MemFlagsData::trusted(), state_value, ABORT_OFFSET);
        let forward = builder.create_block();
        let give_up = builder.create_block();
        builder.ins().brif(abort, give_up, &[], forward, &[]);
        builder.switch_to_block(forward);
        let callee = builder.import_signature(kaleido_signature(arity, call_conv));
        let call = builder.ins().call_indirect(callee, code, args);
        let result = builder.inst_results(call)[0];
        builder.ins().return_(&[result]);
        builder.switch_to_block(give_up);
        let zero = builder.ins().f64const(0.0);
        builder.ins().return_(&[zero]);
    })
}

/// Compiles one kaleido-signature function of `arity` parameters, in a module of its own, whose body
/// `emit` writes (given the builder, the calling convention and the parameters, hidden slot first).
fn compile_stub_with(
    isa: &OwnedTargetIsa,
    arena: &SharedArena,
    builder_context: &mut FunctionBuilderContext,
    arity: usize,
    emit: impl FnOnce(&mut FunctionBuilder, CallConv, &[cranelift_codegen::ir::Value]),
) -> Result<usize, String> {
    let (mut module, _) = new_module(isa, arena);
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
        let args = builder.block_params(block).to_vec();
        emit(&mut builder, call_conv, &args);
        builder.seal_all_blocks();
        builder.finalize(module.target_config());
    }
    module.define_function(id, &mut context).map_err(|e| e.to_string())?;
    module.finalize_definitions().map_err(|e| e.to_string())?;
    Ok(module.get_finalized_function(id) as usize)
}
