//! Evaluating tier-0 code, by the rules compiled code follows (see the module above): calls through the
//! slots, the abort word tested after each slot call, the stack limit checked at function entry and at
//! each level of nesting.

use super::{Arith, Node, NodeId, Tier0Code, calls};
use crate::runtime::RuntimeState;

/// The call site a failed stack check records (it aborts no call), as in compiled code.
const NO_SITE: u32 = u32::MAX;

/// An error was raised (recorded in the runtime state): every frame returns at once.
struct Abort;

/// Runs `code`, a function's (`args` are its parameters) or top-level code's (no arguments), and returns
/// its value; after an error it returns 0 and the runtime state holds the error and the frames it passed,
/// as compiled code leaves them.
pub(crate) fn run(code: &Tier0Code, args: &[f64], runtime: &RuntimeState) -> f64 {
    debug_assert_eq!(args.len(), code.arity as usize);
    let mut small = [0.0f64; 8];
    let mut large = Vec::new();
    let locals: &mut [f64] = if code.locals as usize <= small.len() {
        &mut small[..code.locals as usize]
    } else {
        large.resize(code.locals as usize, 0.0);
        &mut large
    };
    locals[..args.len()].copy_from_slice(args);
    let mut frame = Frame { code, locals, runtime };
    if code.code_id.is_some() && !frame.stack_ok() {
        frame.stack_failed();
        return 0.0;
    }
    frame.eval(code.root).unwrap_or(0.0)
}

struct Frame<'a> {
    code: &'a Tier0Code,
    locals: &'a mut [f64],
    runtime: &'a RuntimeState,
}

/// A condition is true when it is non-zero and not NaN (LLVM's `fcmp one`, as compiled code tests it).
fn truth(value: f64) -> bool {
    value != 0.0 && !value.is_nan()
}

impl Frame<'_> {
    /// Whether the stack pointer is above the limit (an error or an interrupt sets the limit above every
    /// stack pointer). The address of a local stands for the stack pointer: the check has the margin below
    /// the limit to spare.
    fn stack_ok(&self) -> bool {
        let marker = 0u8;
        (&marker as *const u8 as usize) >= self.runtime.stack_limit()
    }

    /// A failed stack check: raise (an interrupt, or a stack overflow) and record this frame.
    fn stack_failed(&self) -> Abort {
        self.runtime.check_failed();
        self.leave(NO_SITE)
    }

    /// Leaves through the abort path: a function records its frame, top-level code does not (the engine
    /// adds the entry's).
    fn leave(&self, site: u32) -> Abort {
        if let Some(code_id) = self.code.code_id {
            self.runtime.record_frame(code_id.0, site);
        }
        Abort
    }

    fn eval(&mut self, id: NodeId) -> Result<f64, Abort> {
        let node = self.code.nodes[id as usize];
        Ok(match node {
            Node::Number(value) => value,
            Node::Local(local) => self.locals[local as usize],
            Node::Global(cell) => calls::read_cell(cell),
            _ if !self.stack_ok() => return Err(self.stack_failed()),
            Node::SetLocal(local, value) => {
                let value = self.eval(value)?;
                self.locals[local as usize] = value;
                value
            }
            Node::SetGlobal(cell, value) => {
                let value = self.eval(value)?;
                calls::write_cell(cell, value);
                value
            }
            Node::Arith(op, l, r) => {
                let (l, r) = (self.eval(l)?, self.eval(r)?);
                match op {
                    Arith::Add => l + r,
                    Arith::Sub => l - r,
                    Arith::Mul => l * r,
                    Arith::Div => l / r,
                }
            }
            // `fcmp ult`: true when less, or when either side is NaN.
            Node::Less(l, r) => {
                let (l, r) = (self.eval(l)?, self.eval(r)?);
                if l >= r { 0.0 } else { 1.0 }
            }
            Node::Slot { slot, enter, args, site } => {
                let value = self.with_args(args, |args| calls::call_slot(enter, slot, args))?;
                if self.runtime.aborted() {
                    return Err(self.leave(site));
                }
                value
            }
            Node::Native { address, takes_state, args } => {
                // Builtins that take the runtime state get its address first.
                let state = takes_state.then_some(self.runtime as *const RuntimeState as usize);
                self.with_args(args, |args| calls::call_native(address, state, args))?
            }
            Node::Math(instruction, operand) => {
                let value = self.eval(operand)?;
                instruction.apply(value)
            }
            Node::If(cond, then, otherwise) => {
                if truth(self.eval(cond)?) {
                    self.eval(then)?
                } else {
                    self.eval(otherwise)?
                }
            }
            Node::Seq(run) => {
                let mut value = 0.0;
                for i in 0..run.len() {
                    value = self.eval(self.code.operands(run)[i])?;
                }
                value
            }
        })
    }

    /// Evaluates the operands of `run` in order and calls `call` with their values.
    fn with_args(&mut self, run: super::Operands, call: impl FnOnce(&[f64]) -> f64) -> Result<f64, Abort> {
        let code = self.code;
        let operands = code.operands(run);
        let mut small = [0.0f64; 8];
        if operands.len() <= small.len() {
            for (value, &operand) in small.iter_mut().zip(operands) {
                *value = self.eval(operand)?;
            }
            return Ok(call(&small[..operands.len()]));
        }
        let mut values = Vec::with_capacity(operands.len());
        for &operand in operands {
            values.push(self.eval(operand)?);
        }
        Ok(call(&values))
    }
}
