//! Lowering a body to tier-0 code, asking the resolver what translation asks, in the same order.
//!
//! The order is the translator's (`codegen/mod.rs`): a call's arguments before its callee, an operator's
//! operands before the operator, an assignment's value before its target, a `for`'s start, body, step and
//! end in that order, `var` initialisers before the names they bind. A call through a slot takes the next
//! call-site index, as the translator's abort check does, so a backtrace points at the same call in both.

use kaleido_lang::ast::{Binding, Expr, ExprKind, ForLoop, binary_name, unary_name};
use kaleido_lang::poll::Poll;
use kaleido_lang::scopes::Scopes;
use kaleido_lang::{Diagnostic, Span};

use super::{Arith, Node, NodeId, Operands, Tier0Code, calls};
use crate::base::ids::CodeId;
use crate::codegen::{Callee, Resolve};

/// What to lower: a function (named, with its code id) or top-level code (neither).
pub(crate) struct Body<'a> {
    /// Parameter names (none for top-level code).
    pub(crate) params: &'a [String],
    /// The body.
    pub(crate) body: &'a Expr,
    /// The function's code id, or none for top-level code.
    pub(crate) code_id: Option<CodeId>,
    /// Where the body's text starts in its entry: call sites are recorded relative to it.
    pub(crate) origin: u32,
}

/// A lowered body and its call sites (the spans of calls that can abort, relative to the body's origin,
/// in the order of their indices).
pub(crate) struct Lowered {
    /// The code, or none when it is not to run in tier 0: it loops (a loop is worth compiling, even run
    /// once), calls a C function of more parameters than a Rust call can pass, or is bigger than
    /// [`MAX_NODES`]. It is compiled instead.
    pub(crate) code: Option<Tier0Code>,
    /// The call sites.
    pub(crate) sites: Vec<Span>,
}

/// Lowers `body`, asking `resolve` where its calls and globals go; `stop` is asked every few thousand
/// expressions whether to give up (an interrupt). The code is to be linked ([`Tier0Code::link`]) once the
/// entry stubs of the arities it calls with exist.
pub(crate) fn lower(body: &Body, resolve: &mut dyn Resolve, stop: &dyn Fn() -> bool) -> Result<Lowered, Diagnostic> {
    let mut lowering = Lowering {
        nodes: Vec::new(),
        operands: Vec::new(),
        scratch: Vec::new(),
        scopes: Scopes::default(),
        locals: 0,
        resolve,
        sites: Vec::new(),
        origin: body.origin,
        poll: Poll::new(stop),
        runnable: true,
    };
    for param in body.params {
        let local = lowering.new_local();
        lowering.scopes.bind(param, local);
    }
    let root = lowering.expr(body.body)?;
    let code = Tier0Code {
        nodes: lowering.nodes,
        operands: lowering.operands,
        root,
        locals: lowering.locals,
        arity: body.params.len() as u32,
        code_id: body.code_id,
    };
    let runnable = lowering.runnable && code.nodes.len() <= MAX_NODES;
    Ok(Lowered { code: runnable.then_some(code), sites: lowering.sites })
}

/// The biggest body tier 0 runs; a bigger one is compiled at once. The evaluator recurses on nesting, and
/// its frames are bigger than compiled code's: a body of 30,000 nested sums runs compiled near the stack
/// limit where evaluating it would overflow (engine/tests/frames.rs). Code that runs once is small.
const MAX_NODES: usize = 1024;

struct Lowering<'a, 'r> {
    nodes: Vec<Node>,
    operands: Vec<NodeId>,
    /// Operand ids being gathered, for nested calls: each call takes its own tail off the end.
    scratch: Vec<NodeId>,
    scopes: Scopes<'a, u32>,
    locals: u32,
    resolve: &'r mut dyn Resolve,
    sites: Vec<Span>,
    origin: u32,
    poll: Poll<'r>,
    /// Whether tier 0 may run it (see [`Lowered::code`]).
    runnable: bool,
}

impl<'a> Lowering<'a, '_> {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() as NodeId - 1
    }

    fn new_local(&mut self) -> u32 {
        self.locals += 1;
        self.locals - 1
    }

    /// Moves the last `len` gathered operands into the code's operand runs.
    fn operands_from_scratch(&mut self, len: usize) -> Operands {
        let start = self.operands.len() as u32;
        let from = self.scratch.len() - len;
        self.operands.extend(self.scratch.drain(from..));
        Operands { start, len: len as u32 }
    }

    /// expr: one node per expression, children first (the translator's order).
    fn expr(&mut self, expr: &'a Expr) -> Result<NodeId, Diagnostic> {
        if self.poll.tick() {
            return Err(Diagnostic::error(expr.span, "interrupted while compiling"));
        }
        match &expr.kind {
            ExprKind::Number(value) => Ok(self.push(Node::Number(*value))),
            ExprKind::Var(name) => Ok(match self.scopes.get(name) {
                Some(local) => self.push(Node::Local(local)),
                None => {
                    let cell = self.resolve.global(name, false);
                    self.push(Node::Global(cell))
                }
            }),
            ExprKind::Assign(name, _, value) => {
                let value = self.expr(value)?;
                Ok(match self.scopes.get(name) {
                    Some(local) => self.push(Node::SetLocal(local, value)),
                    None => {
                        let cell = self.resolve.global(name, true);
                        self.push(Node::SetGlobal(cell, value))
                    }
                })
            }
            ExprKind::Unary(op, operand) => {
                let operand = self.expr(operand)?;
                self.scratch.push(operand);
                self.call(&unary_name(*op), expr.span, 1)
            }
            ExprKind::Binary(first, operations) => {
                let mut value = self.expr(first)?;
                for operation in operations {
                    let rhs = self.expr(&operation.rhs)?;
                    value = match operation.op {
                        '+' => self.push(Node::Arith(Arith::Add, value, rhs)),
                        '-' => self.push(Node::Arith(Arith::Sub, value, rhs)),
                        '*' => self.push(Node::Arith(Arith::Mul, value, rhs)),
                        '/' => self.push(Node::Arith(Arith::Div, value, rhs)),
                        '<' => self.push(Node::Less(value, rhs)),
                        op => {
                            self.scratch.extend([value, rhs]);
                            self.call(&binary_name(op), first.span.to(operation.rhs.span), 2)?
                        }
                    };
                }
                Ok(value)
            }
            ExprKind::Call(name, span, args) => {
                for arg in args {
                    let arg = self.expr(arg)?;
                    self.scratch.push(arg);
                }
                self.call(name, *span, args.len())
            }
            ExprKind::If(cond, then, otherwise) => {
                let cond = self.expr(cond)?;
                let then = self.expr(then)?;
                let otherwise = self.expr(otherwise)?;
                Ok(self.push(Node::If(cond, then, otherwise)))
            }
            ExprKind::For(for_loop) => self.for_loop(for_loop),
            ExprKind::VarIn(bindings, body) => self.var_in(bindings, body),
        }
    }

    /// A call of `name` with the last `arity` gathered operands, at `span`.
    fn call(&mut self, name: &str, span: Span, arity: usize) -> Result<NodeId, Diagnostic> {
        let callee = self.resolve.callee(name, arity, span)?;
        let args = self.operands_from_scratch(arity);
        Ok(match callee {
            // A direct call only appears when a tier inlines, never when lowering; it goes where the slot
            // does all the same.
            Callee::Slot { address: slot } | Callee::Direct { slot, .. } => {
                let site = self.record_site(span);
                self.push(Node::Slot { slot, enter: 0, args, site })
            }
            Callee::Instruction(instruction) => {
                let operand = self.operands[args.start as usize];
                self.push(Node::Math(instruction, operand))
            }
            Callee::Native { address, takes_state } => {
                if arity > calls::MAX_NATIVE_ARGS {
                    self.runnable = false;
                }
                self.push(Node::Native { address, takes_state, args })
            }
        })
    }

    /// Records the call site at `span` (relative to the body's text) and returns its index.
    fn record_site(&mut self, span: Span) -> u32 {
        let origin = self.origin;
        self.sites
            .push(Span::new(span.start.saturating_sub(origin) as usize, span.end.saturating_sub(origin) as usize));
        self.sites.len() as u32 - 1
    }

    /// forexpr: start, then (with the variable bound) body, step and end, lowered for their questions and
    /// call sites only: code with a loop is compiled, never run in tier 0.
    fn for_loop(&mut self, f: &'a ForLoop) -> Result<NodeId, Diagnostic> {
        self.runnable = false;
        self.expr(&f.start)?;
        let var = self.new_local();
        let depth = self.scopes.depth();
        self.scopes.bind(&f.var, var);
        self.expr(&f.body)?;
        if let Some(step) = &f.step {
            self.expr(step)?;
        }
        self.expr(&f.end)?;
        self.scopes.leave(depth);
        Ok(self.push(Node::Number(0.0)))
    }

    /// varexpr: each initialiser sees the bindings before it; an uninitialised local is 0.
    fn var_in(&mut self, bindings: &'a [Binding], body: &'a Expr) -> Result<NodeId, Diagnostic> {
        let depth = self.scopes.depth();
        let mut sets = Vec::with_capacity(bindings.len() + 1);
        for binding in bindings {
            let value = match &binding.init {
                Some(init) => self.expr(init)?,
                None => self.push(Node::Number(0.0)),
            };
            let local = self.new_local();
            self.scopes.bind(&binding.name, local);
            sets.push(self.push(Node::SetLocal(local, value)));
        }
        sets.push(self.expr(body)?);
        self.scopes.leave(depth);
        let len = sets.len();
        self.scratch.extend(sets);
        let run = self.operands_from_scratch(len);
        Ok(self.push(Node::Seq(run)))
    }
}
