//! The stubs a slot points at when it holds no code of its own: "not defined", "wrong number of
//! arguments", and the lazy stub that compiles a deferred body on its first call and tail-calls it. One of
//! each per arity, made in the compile phase, never freed.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Signature, types};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

use super::{Backend, CodegenError, Isa};
use crate::base::ids::CodeId;
use crate::codegen::{RuntimeAddresses, emit_native_void_call, kaleido_signature};
use crate::runtime::{ABORT_OFFSET, HOOKS, RaiseKind};

/// The stubs a slot can point at when it holds no code of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StubKind {
    /// Raises "not defined".
    Undefined,
    /// Raises "wrong number of arguments".
    ArityMismatch,
    /// Compiles the slot's deferred body on the first call, then hands over to it.
    Lazy,
}

impl Backend {
    /// Compiles the three stubs of `arity` if they do not exist yet. Called in the compile phase, so that
    /// applying an entry never needs to generate code (and so never fails).
    pub(crate) fn ensure_stubs(&mut self, arity: usize) -> Result<(), CodegenError> {
        for kind in [StubKind::Undefined, StubKind::ArityMismatch, StubKind::Lazy] {
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
        let signature = kaleido_signature(arity);
        let id = unit.declare(&signature)?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let mut builder = FunctionBuilder::new(&mut func, &mut self.builder_context);
        let block = builder.create_block();
        builder.append_block_params_for_function_params(block);
        builder.switch_to_block(block);
        let args = builder.block_params(block).to_vec();
        let native = self.isa.default_call_conv();
        match kind {
            StubKind::Undefined => emit_raise(&mut builder, native, self.runtime, RaiseKind::Undefined, args[0]),
            StubKind::ArityMismatch => {
                emit_raise(&mut builder, native, self.runtime, RaiseKind::ArityMismatch, args[0]);
            }
            StubKind::Lazy => emit_lazy_forward(&mut builder, native, self.runtime, arity, &args),
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

/// The lazy stub's body: ask [`k_lazy_compile`] for the code of the slot it was called through, then
/// tail-call that code with the same arguments, so the stub leaves no frame behind (or return at once if
/// compiling raised an error).
fn emit_lazy_forward(
    builder: &mut FunctionBuilder,
    native: CallConv,
    runtime: RuntimeAddresses,
    arity: usize,
    args: &[ir::Value],
) {
    let state = builder.ins().iconst(types::I64, runtime.state as i64);
    let mut hook = Signature::new(native);
    hook.params.extend([ir::AbiParam::new(types::I64), ir::AbiParam::new(types::I64)]);
    hook.returns.push(ir::AbiParam::new(types::I64));
    let hook = builder.import_signature(hook);
    let hook_address = builder.ins().iconst(types::I64, HOOKS.lazy_compile() as i64);
    let call = builder.ins().call_indirect(hook, hook_address, &[state, args[0]]);
    let code = builder.inst_results(call)[0];
    let signals = builder.ins().iconst(types::I64, runtime.signals as i64);
    let abort = builder.ins().load(types::I64, MemFlagsData::trusted(), signals, ABORT_OFFSET);
    let forward = builder.create_block();
    let give_up = builder.create_block();
    builder.ins().brif(abort, give_up, &[], forward, &[]);
    builder.switch_to_block(forward);
    let callee = builder.import_signature(kaleido_signature(arity));
    builder.ins().return_call_indirect(callee, code, args);
    builder.switch_to_block(give_up);
    let zero = builder.ins().f64const(0.0);
    builder.ins().return_(&[zero]);
}
