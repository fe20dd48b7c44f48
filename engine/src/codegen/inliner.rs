//! The optimizing tier's inlining, on Cranelift's inliner (`Context::inline`), which replaces direct
//! calls by the callee's IR.
//!
//! Two kinds of direct calls exist in code compiled for the optimizing tier: to callee `k` of the unit
//! (user namespace 2), whose current body `tiers/lazy.rs` translated and hands over (cross-entry inlining; it
//! records who inlined whom, and a change to the callee invalidates the caller), and to the function
//! itself (namespace 0), whose recursion is unrolled: level by level, each remaining self-call is replaced
//! by a copy of the body, up to `UNROLL_LEVELS` levels and while the function stays within
//! `UNROLL_BUDGET` instructions (fib unrolls three levels and makes an eighth of the calls). Callees go
//! first, so that the copies of itself a function inlines have no direct call left. An inlined copy runs
//! in its caller's frame, so its prologue's stack check is dropped (the caller's covered it; every call and
//! loop back-edge left keeps its own). Frames are unchanged for backtraces: an inlined body that fails
//! records its frame in its exit block as the call would have, and the caller's abort test after it
//! records the caller's.

use std::borrow::Cow;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::{CodegenResult, Context, ir};

/// Self-recursion is unrolled level by level while the function stays within this many IR instructions:
/// each level replaces every remaining direct self-call by a copy of the body, so a function with two
/// self-calls (fib) grows by twice as many copies per level and makes about half as many calls.
const UNROLL_BUDGET: usize = 640;

/// At most this many levels of unrolling, whatever the budget: the calls saved halve with each level
/// while the code doubles.
const UNROLL_LEVELS: usize = 3;

/// Inlines into the function in `context` (function `id` of its unit) the `callees` its namespace-2 calls
/// name, then copies of itself at its self-calls, level by level within the budget.
pub(crate) fn inline_calls(context: &mut Context, id: u32, callees: &[ir::Function]) -> CodegenResult<()> {
    if !callees.is_empty() {
        let callees: Vec<ir::Function> = callees.iter().cloned().map(without_prologue_check).collect();
        context.inline(CallInliner { own: None, id, callees: &callees })?;
    }
    // Most functions (and all top-level code) make no self-call: nothing to copy.
    if self_calls(&context.func, id) == 0 {
        return Ok(());
    }
    let own = without_prologue_check(context.func.clone());
    let copy_size = live_instructions(&own);
    for _ in 0..UNROLL_LEVELS {
        let calls = self_calls(&context.func, id);
        let grown = live_instructions(&context.func) + calls * copy_size;
        if calls == 0 || grown > UNROLL_BUDGET {
            break;
        }
        context.inline(CallInliner { own: Some(&own), id, callees: &[] })?;
    }
    Ok(())
}

/// The instructions in `func`'s layout (the data-flow graph also keeps the ones inlining replaced).
fn live_instructions(func: &ir::Function) -> usize {
    func.layout.blocks().map(|block| func.layout.block_insts(block).count()).sum()
}

/// How many direct calls `func` (function `id` of its unit) makes to itself.
fn self_calls(func: &ir::Function, id: u32) -> usize {
    let calls_itself = |inst: ir::Inst| {
        let ir::InstructionData::Call { func_ref, .. } = func.dfg.insts[inst] else { return false };
        let ir::ExternalName::User(name) = &func.dfg.ext_funcs[func_ref].name else { return false };
        let name = &func.params.user_named_funcs()[*name];
        name.namespace == 0 && name.index == id
    };
    func.layout.blocks().flat_map(|block| func.layout.block_insts(block)).filter(|&inst| calls_itself(inst)).count()
}

/// `func` without its prologue's stack and interrupt check, for a body about to be inlined: it runs in
/// its caller's frame, which the caller's own check covered (with the margin every frame has), and each
/// call it still makes, and each loop it has, keeps its check; so the copy only cost a load and a branch.
/// The check is the entry block's branch on `sp < limit` (`codegen/mod.rs`'s `stack_check`); a function
/// without one is returned as it is.
fn without_prologue_check(mut func: ir::Function) -> ir::Function {
    let Some(branch) = func.layout.entry_block().and_then(|entry| func.layout.last_inst(entry)) else {
        return func;
    };
    let ir::InstructionData::Brif { arg, blocks: [_, go_on], .. } = func.dfg.insts[branch] else { return func };
    let Some(compare) = func.dfg.value_def(arg).inst() else { return func };
    let ir::InstructionData::IntCompare { args: [sp, limit], .. } = func.dfg.insts[compare] else { return func };
    let defined_by = |value: ir::Value, opcode: ir::Opcode| {
        func.dfg.value_def(value).inst().filter(|&inst| func.dfg.insts[inst].opcode() == opcode)
    };
    let (Some(_), Some(load)) =
        (defined_by(sp, ir::Opcode::GetStackPointer), defined_by(limit, ir::Opcode::AtomicLoad))
    else {
        return func;
    };
    let go_on = go_on.block(&func.dfg.value_lists);
    // The atomic load would stay (it counts as a side effect); the compare and the rest die with it.
    func.replace(load).iconst(ir::types::I64, 0);
    func.replace(branch).jump(go_on, &[]);
    func
}

/// Inlines direct calls to the function itself (user name 0:`id`, once) and to callees (2:k).
struct CallInliner<'a> {
    own: Option<&'a ir::Function>,
    id: u32,
    callees: &'a [ir::Function],
}

impl Inline for CallInliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call_inst: ir::Inst,
        _call_opcode: ir::Opcode,
        callee: ir::FuncRef,
        _call_args: &[ir::Value],
    ) -> InlineCommand<'_> {
        let ir::ExternalName::User(name) = &caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[*name];
        let body = match name.namespace {
            0 if name.index == self.id => self.own,
            2 => self.callees.get(name.index as usize),
            _ => None,
        };
        match body {
            Some(body) => InlineCommand::Inline { callee: Cow::Borrowed(body), visit_callee: false },
            None => InlineCommand::KeepCall,
        }
    }
}
