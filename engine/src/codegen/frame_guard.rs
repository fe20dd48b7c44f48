//! The frame guard: what a function whose frame is too large for the stack margin is entered through.
//!
//! A stack check compares the stack pointer *after* the prologue has allocated the frame, and code may
//! write spill slots before the check runs (the baseline tier's register allocator stores live values at
//! block ends). That is sound only while a frame fits in the margin kept below the limit
//! ([`MAX_UNGUARDED_FRAME`]). A larger frame (a `var` with thousands of live names) gets a guard: a small
//! function that the slot (and every direct self-call) reaches instead, which checks that the whole frame
//! fits above the limit, before anything is allocated, and then tail-calls the body, leaving no frame of
//! its own. When it does not fit, the guard raises the stack overflow from its own small frame and records
//! the function's frame, exactly as the function's own check would have. An interrupt (the limit raised
//! to its maximum) fails the guard too.
//!
//! [`MAX_UNGUARDED_FRAME`]: crate::machine::stack::MAX_UNGUARDED_FRAME

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, UserExternalName, types};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::FuncId;

use crate::base::ids::CodeId;
use crate::codegen::{NO_SITE, RuntimeAddresses, emit_native_void_call};
use crate::machine::stack::GUARD_SLACK;
use crate::runtime::{HOOKS, RaiseKind, STACK_LIMIT_OFFSET};

/// Translates into `func` (of the guarded function's kaleido signature) a guard for a body whose frame
/// takes `frame` bytes: it fails when the stack pointer minus the frame (and [`GUARD_SLACK`]) is below
/// the stack limit, else tail-calls function `body` (of the same unit) with its own arguments. `code` is
/// the frame a failure records (none for [`CodeId::TOP_LEVEL`]).
pub(crate) fn translate_frame_guard(
    func: &mut Function,
    builder_context: &mut FunctionBuilderContext,
    frontend: TargetFrontendConfig,
    runtime: RuntimeAddresses,
    (body, frame, code): (FuncId, u32, CodeId),
) {
    let body_name = func.declare_imported_user_function(UserExternalName { namespace: 0, index: body.as_u32() });
    let own = func.signature.clone();
    let signature = func.import_signature(own);
    let name = ExternalName::user(body_name);
    let body = func.import_function(ExtFuncData { name, signature, colocated: true, patchable: false });
    let native = frontend.default_call_conv;
    let mut builder = FunctionBuilder::new(func, builder_context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    let args = builder.block_params(entry).to_vec();
    let need = i64::from(frame) + GUARD_SLACK as i64;
    let limit_address = builder.ins().iconst(types::I64, (runtime.signals + STACK_LIMIT_OFFSET as usize) as i64);
    let limit = builder.ins().atomic_load(types::I64, MemFlagsData::trusted(), limit_address);
    let sp = builder.ins().get_stack_pointer(types::I64);
    // `sp - need` must not wrap: a stack pointer below the frame's size cannot hold it.
    let short = builder.ins().icmp_imm_u(IntCC::UnsignedLessThan, sp, need);
    let room = builder.ins().iadd_imm_s(sp, -need);
    let below = builder.ins().icmp(IntCC::UnsignedLessThan, room, limit);
    let fails = builder.ins().bor(short, below);
    let fail = builder.create_block();
    builder.set_cold_block(fail);
    let enter = builder.create_block();
    builder.ins().brif(fails, fail, &[], enter, &[]);
    builder.switch_to_block(enter);
    builder.ins().return_call(body, &args);
    builder.switch_to_block(fail);
    let state = builder.ins().iconst(types::I64, runtime.state as i64);
    let kind = builder.ins().iconst(types::I64, RaiseKind::CheckFailed as i64);
    let no_slot = builder.ins().iconst(types::I64, 0);
    emit_native_void_call(&mut builder, native, HOOKS.raise(), &[state, kind, no_slot]);
    if code != CodeId::TOP_LEVEL {
        let code = builder.ins().iconst(types::I32, i64::from(code.0));
        let site = builder.ins().iconst(types::I32, NO_SITE);
        emit_native_void_call(&mut builder, native, HOOKS.frame(), &[state, code, site]);
    }
    let zero = builder.ins().f64const(0.0);
    builder.ins().return_(&[zero]);
    builder.seal_all_blocks();
    builder.finalize(frontend);
}
