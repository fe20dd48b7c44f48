//! The optimizing tier's inlining, on Cranelift's inliner (`Context::inline`), which replaces direct
//! calls by the callee's IR.
//!
//! Two kinds of direct calls exist in code compiled for the optimizing tier: to callee `k` of the unit
//! (user namespace 2), whose current body `lazy.rs` translated and hands over (cross-entry inlining; it
//! records who inlined whom, and a change to the callee invalidates the caller), and to the function
//! itself (namespace 0), which is unrolled once: each self-call of a function of at most `UNROLL_LIMIT`
//! instructions is replaced by a copy of its body, whose own self-calls stay calls (fib then makes a
//! quarter of the calls). Callees go first, so that the copy of itself a function inlines has no direct
//! call left. Frames are unchanged for backtraces: an inlined body that fails records its frame in its exit
//! block as the call would have, and the caller's abort test after it records the caller's.

use std::borrow::Cow;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::{CodegenResult, Context, ir};

/// Functions with at most this many IR instructions have their recursion unrolled once; each direct
/// self-call grows the function by a copy of itself.
const UNROLL_LIMIT: usize = 200;

/// Inlines into the function in `context` (function `id` of its unit) the `callees` its namespace-2 calls
/// name, then a copy of itself at each self-call.
pub(crate) fn inline_calls(context: &mut Context, id: u32, callees: &[ir::Function]) -> CodegenResult<()> {
    if !callees.is_empty() {
        context.inline(CallInliner { own: None, id, callees })?;
    }
    if context.func.dfg.num_insts() <= UNROLL_LIMIT {
        let own = context.func.clone();
        context.inline(CallInliner { own: Some(&own), id, callees: &[] })?;
    }
    Ok(())
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
