//! The stubs a slot points at when it holds no code of its own: "not defined", "wrong number of
//! arguments", and the lazy stub that runs a deferred body's call in tier 0 or compiles it and tail-calls
//! it; and the entry stub through which tier 0 (Rust) calls kaleido code. One of each per arity, made in
//! the compile phase, never freed.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Signature, types};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

use super::{Backend, CodegenError, Isa};
use crate::base::ids::CodeId;
use crate::codegen::{RuntimeAddresses, emit_native_void_call, kaleido_signature};
use crate::runtime::{HOOKS, RaiseKind};

/// The stubs a slot can point at when it holds no code of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StubKind {
    /// Raises "not defined".
    Undefined,
    /// Raises "wrong number of arguments".
    ArityMismatch,
    /// Runs the call in tier 0, or compiles the slot's deferred body and hands over to it.
    Lazy,
    /// Not a slot's target: how tier 0 calls kaleido code, `extern "C" fn(slot, code, args) -> f64`.
    Enter,
}

impl Backend {
    /// Compiles the stubs of `arity` if they do not exist yet: the three a slot can point at, and the entry
    /// stub when tier 0 is on (`enter`; code compiled with tier 0 off never needs it). Called in the
    /// compile phase, so that applying an entry never needs to generate code (and so never fails).
    pub(crate) fn ensure_stubs(&mut self, arity: usize, enter: bool) -> Result<(), CodegenError> {
        let kinds = [StubKind::Undefined, StubKind::ArityMismatch, StubKind::Lazy, StubKind::Enter];
        for kind in kinds.into_iter().filter(|&kind| enter || kind != StubKind::Enter) {
            if !self.stubs.contains_key(&(kind, arity)) {
                let address = self.compile_stub(kind, arity)?;
                self.stubs.insert((kind, arity), address);
            }
        }
        Ok(())
    }

    /// The address of a stub that [`Backend::ensure_stubs`] made.
    pub(crate) fn stub(&self, kind: StubKind, arity: usize) -> usize {
        // Every arity a slot or a definition uses had its stubs made in the compile phase of the entry
        // that introduced it; a missing stub is a bug in the engine, not something input can cause.
        *self.stubs.get(&(kind, arity)).expect("stubs are made in the compile phase")
    }

    /// Which stub is at `address` (its kind and arity), if one is.
    pub(crate) fn stub_at(&self, address: usize) -> Option<(StubKind, usize)> {
        self.stubs.iter().find(|(_, code)| **code == address).map(|(&key, _)| key)
    }

    /// Compiles one stub of `arity` parameters, in a module of its own. Stubs are never freed.
    fn compile_stub(&mut self, kind: StubKind, arity: usize) -> Result<usize, CodegenError> {
        let mut unit = self.unit();
        let native = self.isa.default_call_conv();
        let signature = match kind {
            StubKind::Enter => enter_signature(native),
            _ => kaleido_signature(arity),
        };
        let id = unit.declare(&signature)?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let mut builder = FunctionBuilder::new(&mut func, &mut self.builder_context);
        let block = builder.create_block();
        builder.append_block_params_for_function_params(block);
        builder.switch_to_block(block);
        let args = builder.block_params(block).to_vec();
        match kind {
            StubKind::Undefined => emit_raise(&mut builder, native, self.runtime, RaiseKind::Undefined, args[0]),
            StubKind::ArityMismatch => {
                emit_raise(&mut builder, native, self.runtime, RaiseKind::ArityMismatch, args[0]);
            }
            StubKind::Lazy => emit_lazy_forward(&mut builder, native, self.runtime, arity, &args),
            StubKind::Enter => emit_enter(&mut builder, arity, &args),
        }
        builder.seal_all_blocks();
        builder.finalize(self.isa.frontend_config());
        if let Err(error) = self.define_uncounted(&mut unit, (id, CodeId::TOP_LEVEL), func, Isa::Stub, &[]) {
            self.abandon(unit);
            return Err(error);
        }
        Ok(self.finish(unit)?[0].code)
    }
}

/// A stub body that raises `kind` for the slot it was called through (its hidden first argument).
fn emit_raise(
    builder: &mut FunctionBuilder,
    native: CallConv,
    runtime: RuntimeAddresses,
    kind: RaiseKind,
    slot: ir::Value,
) {
    let state = builder.ins().iconst(types::I64, runtime.state as i64);
    let kind = builder.ins().iconst(types::I64, kind as i64);
    emit_native_void_call(builder, native, HOOKS.raise(), &[state, kind, slot]);
    let zero = builder.ins().f64const(0.0);
    builder.ins().return_(&[zero]);
}

/// The lazy stub's body: store the arguments in the frame and ask [`k_lazy_enter`] to run the call of the
/// slot it was called through. A value comes back in the first stored place (the call ran in tier 0, or
/// raised an error); code comes back as an address, which the stub tail-calls with the same arguments, so
/// it leaves no frame behind (lazy and eager code recurse to the same depth).
///
/// [`k_lazy_enter`]: crate::runtime::k_lazy_enter
fn emit_lazy_forward(
    builder: &mut FunctionBuilder,
    native: CallConv,
    runtime: RuntimeAddresses,
    arity: usize,
    args: &[ir::Value],
) {
    let bytes = 8 * arity.max(1) as u32;
    let stored = builder.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, bytes, 3));
    for (i, &arg) in args[1..].iter().enumerate() {
        builder.ins().stack_store(types::I64, arg, stored, 8 * i as i32);
    }
    let values = builder.ins().stack_addr(types::I64, stored, 0);
    let state = builder.ins().iconst(types::I64, runtime.state as i64);
    let arity_value = builder.ins().iconst(types::I64, arity as i64);
    let mut hook = Signature::new(native);
    hook.params.extend([types::I64; 4].map(ir::AbiParam::new));
    hook.returns.push(ir::AbiParam::new(types::I64));
    let hook = builder.import_signature(hook);
    let hook_address = builder.ins().iconst(types::I64, HOOKS.lazy_enter() as i64);
    let call = builder.ins().call_indirect(hook, hook_address, &[state, args[0], values, arity_value]);
    let code = builder.inst_results(call)[0];
    let forward = builder.create_block();
    let done = builder.create_block();
    builder.ins().brif(code, forward, &[], done, &[]);
    builder.switch_to_block(forward);
    let callee = builder.import_signature(kaleido_signature(arity));
    builder.ins().return_call_indirect(callee, code, args);
    builder.switch_to_block(done);
    let value = builder.ins().stack_load(types::I64, types::F64, stored, 0);
    builder.ins().return_(&[value]);
}

/// The signature of an entry stub: `extern "C" fn(slot, code, args) -> f64`.
fn enter_signature(native: CallConv) -> Signature {
    let mut signature = Signature::new(native);
    signature.params.extend([types::I64; 3].map(ir::AbiParam::new));
    signature.returns.push(ir::AbiParam::new(types::F64));
    signature
}

/// The entry stub's body: load `arity` arguments from `args` and call `code` with the kaleido signature,
/// passing `slot` as the hidden argument.
fn emit_enter(builder: &mut FunctionBuilder, arity: usize, params: &[ir::Value]) {
    let (slot, code, args) = (params[0], params[1], params[2]);
    let mut call_args = vec![slot];
    for i in 0..arity {
        call_args.push(builder.ins().load(types::F64, MemFlagsData::trusted(), args, 8 * i as i32));
    }
    let callee = builder.import_signature(kaleido_signature(arity));
    let call = builder.ins().call_indirect(callee, code, &call_args);
    let value = builder.inst_results(call)[0];
    builder.ins().return_(&[value]);
}
