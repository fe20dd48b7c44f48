//! The checks a translated function makes, and where they lead: the stack and interrupt check, the abort
//! test after each call that may raise, the hot-call counter of baseline code, and the cold exit path
//! that records the function's frame and returns 0 (runtime errors travel by return: ARCHITECTURE.md).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData, Value, types};
use kaleido_lang::Span;

use super::{FunctionTranslator, NO_SITE, emit_native_void_call};
use crate::runtime::{ABORT_OFFSET, HOOKS, RaiseKind, STACK_LIMIT_OFFSET};

impl FunctionTranslator<'_, '_> {
    /// After the call at `span`, which may raise: leave through the exit block if the abort word is set. A
    /// cold block of its own passes the exit block this call site's index, so the backtrace can point at
    /// the call; the hot path is one load and one branch.
    pub(super) fn abort_check(&mut self, span: Span) {
        let signals = self.address_const(self.runtime.signals);
        let abort = self.builder.ins().load(types::I64, MemFlagsData::trusted(), signals, ABORT_OFFSET);
        let go_on = self.builder.create_block();
        let leave = self.builder.create_block();
        self.builder.set_cold_block(leave);
        self.builder.ins().brif(abort, leave, &[], go_on, &[]);
        self.builder.seal_block(leave);
        self.builder.seal_block(go_on);
        self.builder.switch_to_block(leave);
        let site = self.record_site(span);
        self.jump_to_exit(i64::from(site));
        self.builder.switch_to_block(go_on);
    }

    /// Branches to a new cold block when `condition` is set and goes on there (the block is sealed: the
    /// branch is its one way in). Returns the block the hot path continues in, which the caller seals
    /// once its predecessors are known.
    fn branch_to_cold(&mut self, condition: Value) -> Block {
        let cold = self.builder.create_block();
        self.builder.set_cold_block(cold);
        let go_on = self.builder.create_block();
        self.builder.ins().brif(condition, cold, &[], go_on, &[]);
        self.builder.seal_block(cold);
        self.builder.switch_to_block(cold);
        go_on
    }

    /// Ends the current block with a jump to the exit path, which records call site `site`.
    fn jump_to_exit(&mut self, site: i64) {
        let site = self.builder.ins().iconst(types::I32, site);
        let exit = self.exit_block();
        self.builder.ins().jump(exit, &[site.into()]);
    }

    /// Records the call site at `span` (relative to the function's text) and returns its index.
    pub(super) fn record_site(&mut self, span: Span) -> u32 {
        let origin = self.spec.origin;
        self.sites
            .push(Span::new(span.start.saturating_sub(origin) as usize, span.end.saturating_sub(origin) as usize));
        self.sites.len() as u32 - 1
    }

    /// `sp < limit` means the stack is exhausted or an interrupt is pending: raise, then leave.
    pub(super) fn stack_check(&mut self) {
        // An atomic load: a plain one may be forwarded from the prologue's load by Cranelift's redundant
        // load elimination, and then a loop without calls would never see an interrupt.
        let address = self.address_const(self.runtime.signals + STACK_LIMIT_OFFSET as usize);
        let limit = self.builder.ins().atomic_load(self.pointer, MemFlagsData::trusted(), address);
        let sp = self.builder.ins().get_stack_pointer(self.pointer);
        let exhausted = self.builder.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let go_on = self.branch_to_cold(exhausted);
        self.builder.seal_block(go_on);
        self.call_raise(RaiseKind::CheckFailed, 0);
        self.jump_to_exit(NO_SITE);
        self.builder.switch_to_block(go_on);
    }

    /// The hotness countdown: one load, subtract, store and branch per call (and per loop iteration); the
    /// one that reaches zero asks for the optimizing tier first (in a cold block) and then goes on in this
    /// code.
    pub(super) fn count_call(&mut self, counter: usize, slot: usize) {
        let cell = self.address_const(counter);
        let left = self.builder.ins().load(types::I64, MemFlagsData::trusted(), cell, 0);
        let left = self.builder.ins().iadd_imm_s(left, -1);
        self.builder.ins().store(MemFlagsData::trusted(), left, cell, 0);
        let hot = self.builder.ins().icmp_imm_s(IntCC::Equal, left, 0);
        let go_on = self.branch_to_cold(hot);
        let state = self.address_const(self.runtime.state);
        let slot = self.address_const(slot);
        let code = self.builder.ins().iconst(types::I64, i64::from(self.spec.code_id.0));
        emit_native_void_call(&mut self.builder, self.native_conv, HOOKS.tier_up(), &[state, slot, code]);
        self.builder.ins().jump(go_on, &[]);
        self.builder.seal_block(go_on);
        self.builder.switch_to_block(go_on);
    }

    pub(super) fn call_raise(&mut self, kind: RaiseKind, slot: i64) {
        let state = self.address_const(self.runtime.state);
        let kind = self.builder.ins().iconst(types::I64, kind as i64);
        let slot = self.builder.ins().iconst(self.pointer, slot);
        emit_native_void_call(&mut self.builder, self.native_conv, HOOKS.raise(), &[state, kind, slot]);
    }

    pub(super) fn exit_block(&mut self) -> Block {
        match self.exit {
            Some(block) => block,
            None => {
                let block = self.builder.create_block();
                self.builder.set_cold_block(block);
                self.builder.append_block_param(block, types::I32);
                self.exit = Some(block);
                block
            }
        }
    }

    pub(super) fn emit_exit_block(&mut self) {
        let Some(exit) = self.exit else { return };
        self.builder.switch_to_block(exit);
        // Top-level code is the outermost frame; the engine, which ran it, adds that frame itself.
        if self.spec.name.is_some() {
            let site = self.builder.block_params(exit)[0];
            self.emit_frame_record(site);
        }
        let zero = self.builder.ins().f64const(0.0);
        self.builder.ins().return_(&[zero]);
    }

    pub(super) fn emit_frame_record(&mut self, site: Value) {
        let state = self.address_const(self.runtime.state);
        let code_id = self.builder.ins().iconst(types::I32, i64::from(self.spec.code_id.0));
        let args = [state, code_id, site];
        emit_native_void_call(&mut self.builder, self.native_conv, HOOKS.frame(), &args);
    }

    pub(super) fn address_const(&mut self, address: usize) -> Value {
        self.builder.ins().iconst(self.pointer, address as i64)
    }
}
