//! Tier 0: code that runs once is evaluated, not compiled.
//!
//! A body is lowered ([`lower`]) into a [`Tier0Code`]: a flat array of nodes whose calls are already
//! resolved (a slot's address, a builtin's address, an instruction), whose locals are numbered, and whose
//! call sites carry the same indices the translator gives them. Lowering asks the resolver exactly the
//! questions translation asks, in the same order, so it serves three ways: it is how an entry is checked
//! (every diagnostic, every recorded answer, without building IR), how top-level code without loops runs,
//! and how a lazily deferred function runs its first calls (its recorded answers replayed).
//!
//! [`eval`] runs lowered code on the evaluation stack, by the rules compiled code follows: calls go
//! through the slots (the same table, so redefinition, arity changes and forward references behave the
//! same); after each slot call the abort word is tested and, when set, the function records its frame
//! with that call site's index and returns; function entries and each level of nesting compare the stack
//! with the runtime's limit, so Ctrl-C and runaway recursion stop it as they stop compiled code. Code
//! with a loop, a call of a C function of more than 8 parameters, or more than 1,024 nodes is compiled
//! instead ([`lower::Lowered::code`]). A tier-0 frame is bigger than a compiled one, so a chain of
//! distinct functions each called once overflows at a smaller depth than compiled code would; a
//! recursion reaches compiled code once its tier-0 calls are spent (32 by default) and loses only the
//! levels its first tier-0 frames take (`engine/tests/tier0.rs` measures both).

pub(crate) mod calls;
pub(crate) mod eval;
pub(crate) mod lower;

use crate::base::ids::CodeId;
use crate::codegen::MathInstruction;

/// A node's index in its [`Tier0Code`].
pub(crate) type NodeId = u32;

/// One node of lowered code. Children are indices into the same code's nodes; the operands of calls and
/// sequences are runs of [`Tier0Code::operands`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    /// A constant.
    Number(f64),
    /// A parameter or local, by its number in the frame.
    Local(u32),
    /// A global, by its cell's address.
    Global(usize),
    /// Assigns the value of the node to a local; its value is the value assigned.
    SetLocal(u32, NodeId),
    /// Assigns the value of the node to the global at the cell's address.
    SetGlobal(usize, NodeId),
    /// `+`, `-`, `*`, `/`.
    Arith(Arith, NodeId, NodeId),
    /// `<`, as the tutorial's `fcmp ult`: 1 when less or unordered, else 0.
    Less(NodeId, NodeId),
    /// A kaleido function through its slot, entered through `enter` (the entry stub of its arity); `site`
    /// is the call site's index for backtraces.
    Slot { slot: usize, enter: usize, args: Operands, site: u32 },
    /// A builtin or C function at `address`, with the runtime state's address first when it takes it.
    Native { address: usize, takes_state: bool, args: Operands },
    /// A builtin that is one instruction.
    Math(MathInstruction, NodeId),
    /// `if c then t else e`.
    If(NodeId, NodeId, NodeId),
    /// Each operand in order; the value is the last one's (a `var ... in` and its body).
    Seq(Operands),
}

/// The built-in arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// A run of operand node ids: `len` of them from `start` in [`Tier0Code::operands`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operands {
    start: u32,
    len: u32,
}

impl Operands {
    /// How many operands.
    pub(crate) fn len(self) -> usize {
        self.len as usize
    }
}

/// A lowered body, ready to evaluate.
#[derive(Debug)]
pub(crate) struct Tier0Code {
    nodes: Vec<Node>,
    operands: Vec<NodeId>,
    root: NodeId,
    /// Parameters first, then every `var` local (each binding its own number; a `for` variable is counted
    /// too, though code with a loop never runs here).
    locals: u32,
    arity: u32,
    /// For a function: its code id, which a frame leaving through the abort path records. Top-level code
    /// records no frame (the engine adds the entry's).
    code_id: Option<CodeId>,
}

impl Tier0Code {
    /// Fills in the entry stub of each slot call: `enter` gives the stub of an arity.
    pub(crate) fn link(&mut self, enter: impl Fn(usize) -> usize) {
        for node in &mut self.nodes {
            if let Node::Slot { enter: stub, args, .. } = node {
                *stub = enter(args.len());
            }
        }
    }

    fn operands(&self, run: Operands) -> &[NodeId] {
        &self.operands[run.start as usize..(run.start + run.len) as usize]
    }
}
