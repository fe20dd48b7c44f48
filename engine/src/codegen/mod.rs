//! Code generation: one function's AST to Cranelift IR.
//!
//! Every kaleido function has the signature `(callee_slot: i64, f64 × arity) -> f64`. The hidden first
//! argument is the address of the slot the call went through; stubs use it to say which function was
//! missing, real bodies ignore it. Every call between kaleido functions is `load slot; call_indirect`, and
//! is followed by a test of the runtime's abort word (see `runtime/mod.rs`): when it is set the function records
//! its frame and returns at once. Prologues and loop back-edges compare the stack pointer with the runtime's
//! stack limit, which catches runaway recursion and, because an interrupt raises the limit, Ctrl-C.

pub(crate) mod frame_guard;
pub(crate) mod inliner;

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{
    AbiParam, Block, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder, MemFlagsData, Signature, StackSlot,
    StackSlotData, StackSlotKind, UserExternalName, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kaleido_lang::ast::{Binding, Expr, ExprKind, ForLoop, Operation, binary_name, unary_name};
use kaleido_lang::poll::Poll;
use kaleido_lang::scopes::Scopes;
use kaleido_lang::{Diagnostic, Span};

mod checks;
mod queries;

pub(crate) use queries::{callees_of, has_loop, loops_or_calls_itself, may_recurse_or_loop, wants_slot_locals};

use crate::base::ids::CodeId;

/// How a call is compiled, as the engine resolves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Callee {
    /// A kaleido function, through its slot in the indirection table.
    Slot {
        /// The slot's address.
        address: usize,
    },
    /// A kaleido function called directly (callee `index` of the unit, user namespace 2), for the
    /// optimizing tier's inliner to replace by its body; `slot` is the hidden argument, as through the table.
    Direct {
        /// The slot the call would have gone through.
        slot: usize,
        /// Which of the unit's inlined callees.
        index: u32,
        /// Whether the callee can raise (it makes calls or loops): only then is the abort word tested after
        /// it. A body of arithmetic alone never sets it.
        aborts: bool,
    },
    /// A builtin that is one machine instruction (`sqrt`, `floor`, `ceil`, `fabs`): no call at all. Rust's
    /// functions and these instructions give the same bits (both are exact, or correctly rounded).
    Instruction(MathInstruction),
    /// A builtin or a C function, called at its address with the plain C signature.
    Native {
        /// The function's address.
        address: usize,
        /// Whether the runtime state's address goes first.
        takes_state: bool,
    },
}

/// The builtins Cranelift has an instruction for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MathInstruction {
    Sqrt,
    Floor,
    Ceil,
    Fabs,
}

impl MathInstruction {
    /// The instruction for the builtin `name`, if it has one.
    pub(crate) fn of(name: &str) -> Option<MathInstruction> {
        Some(match name {
            "sqrt" => MathInstruction::Sqrt,
            "floor" => MathInstruction::Floor,
            "ceil" => MathInstruction::Ceil,
            "fabs" => MathInstruction::Fabs,
            _ => return None,
        })
    }

    /// What the instruction computes, for tier 0 (the same bits: each is exact or correctly rounded).
    pub(crate) fn apply(self, value: f64) -> f64 {
        match self {
            MathInstruction::Sqrt => value.sqrt(),
            MathInstruction::Floor => value.floor(),
            MathInstruction::Ceil => value.ceil(),
            MathInstruction::Fabs => value.abs(),
        }
    }
}

/// What code generation asks the engine while translating: where calls and globals go.
pub(crate) trait Resolve {
    /// How to call `name` with `arity` arguments (the call is at `span`).
    fn callee(&mut self, name: &str, arity: usize, span: Span) -> Result<Callee, Diagnostic>;
    /// The address of global `name`'s cell (the checker guarantees it exists), to read it or to `write` it.
    fn global(&mut self, name: &str, write: bool) -> usize;
}

/// The calling convention of kaleido functions and stubs: Cranelift's `tail`, the only one that allows
/// `return_call`, so a lazy stub can hand over to the code it compiled without leaving its own frame
/// under it (lazy and eager code then recurse to exactly the same depth).
pub(crate) const KALEIDO_CALL_CONV: CallConv = CallConv::Tail;

/// The signature of every kaleido function of `arity` parameters.
pub(crate) fn kaleido_signature(arity: usize) -> Signature {
    let mut sig = Signature::new(KALEIDO_CALL_CONV);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.extend((0..arity).map(|_| AbiParam::new(types::F64)));
    sig.returns.push(AbiParam::new(types::F64));
    sig
}

/// The signature of an entry's top-level code, which Rust calls: `extern "C" fn(usize) -> f64` (the
/// argument is unused; it keeps the shape of a kaleido function of no parameters).
pub(crate) fn thunk_signature(native: CallConv) -> Signature {
    let mut sig = Signature::new(native);
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::F64));
    sig
}

/// The runtime's addresses that generated code embeds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuntimeAddresses {
    /// The [`crate::runtime::RuntimeState`], passed to every hook.
    pub state: usize,
    /// The signals JIT code polls (the abort word, the stack limit).
    pub signals: usize,
}

/// The parts of a function to translate.
pub(crate) struct FunctionSpec<'a> {
    /// The function's name, for self-calls (none for an entry's top-level code).
    pub name: Option<&'a str>,
    /// Parameter names (empty for top-level code).
    pub params: &'a [String],
    /// The body.
    pub body: &'a Expr,
    /// Identifies the code in backtraces (unused for top-level code, whose frame the engine records).
    pub code_id: CodeId,
    /// A direct reference to the function itself, for recursion without the table.
    pub self_ref: Option<FuncRef>,
    /// Emit the stack-overflow and interrupt checks (prologue and loop back-edges). Only benchmarks
    /// turn them off, to measure what they cost.
    pub checks: bool,
    /// Where the function's text starts in the entry: call sites are recorded relative to it.
    pub origin: u32,
    /// Baseline code of a definition that may become hot: count its calls and loop iterations down in the
    /// cell at `.0`, and at zero ask [`k_tier_up`] to recompile it for the slot at `.1`.
    pub hot_counter: Option<(usize, usize)>,
    /// Keep parameters and locals in stack slots instead of SSA variables: the baseline tier's choice for
    /// a big body ([`wants_slot_locals`]). Its single-pass register allocator spills every value that
    /// lives across blocks anyway, so the code is about the same (`ring` of `examples/05-inside.kal`: 410
    /// bytes with SSA variables, 413 with slots), and translation builds no SSA form (no block parameter
    /// per variable per loop header): its cost stays linear in the function's size however deeply loops
    /// nest.
    pub locals_in_slots: bool,
}

/// A call site that has no span: the stack check, which aborts no call.
pub(crate) const NO_SITE: i64 = u32::MAX as i64;

/// Translates `spec` into `func` (whose signature must already be set). Returns the call sites that can
/// abort, in the order their index reaches [`k_frame`] (spans relative to `spec.origin`). `stop` is asked
/// every few thousand expressions whether to give up (an interrupt): the error then says so, and the
/// caller, which knows why, drops it.
pub(crate) fn translate(
    func: &mut Function,
    builder_context: &mut FunctionBuilderContext,
    frontend: TargetFrontendConfig,
    spec: &FunctionSpec,
    runtime: RuntimeAddresses,
    resolve: &mut dyn Resolve,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<Span>, Diagnostic> {
    // The context is put back only when translation succeeds: one abandoned half-way (a compile error)
    // is left dirty, and the next translation would panic on it. A failure leaves a fresh one behind.
    let mut context = std::mem::take(builder_context);
    let native_conv = frontend.default_call_conv;
    let mut builder = FunctionBuilder::new(func, &mut context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let mut translator = FunctionTranslator {
        builder,
        scopes: Scopes::default(),
        resolve,
        runtime,
        exit: None,
        sites: Vec::new(),
        native_conv,
        spec,
        pointer: types::I64,
        poll: Poll::new(stop),
    };
    translator.bind_params(entry);
    // Top-level code starts on a fresh stack, and a function that makes no calls and has no loops can
    // neither recurse nor spin: only its own frame can overflow, and the backend sees to that from the
    // compiled frame's size (a frame up to `MAX_UNGUARDED_FRAME` fits in the margin its caller's check
    // left; a larger one is entered through a frame guard). Only the rest need the prologue check.
    if spec.checks && spec.name.is_some() && may_recurse_or_loop(spec.body) {
        translator.stack_check();
    }
    if let Some((counter, slot)) = spec.hot_counter {
        translator.count_call(counter, slot);
    }
    let result = translator.translate_expr(spec.body)?;
    translator.builder.ins().return_(&[result]);
    translator.emit_exit_block();
    translator.builder.seal_all_blocks();
    translator.builder.finalize(frontend);
    let sites = translator.sites;
    *builder_context = context;
    Ok(sites)
}

/// Where a parameter or local lives while a function runs.
#[derive(Clone, Copy, Debug)]
enum Local {
    /// An SSA variable (the optimizing tier, and small bodies in the baseline tier).
    Variable(Variable),
    /// A stack slot (the baseline tier: see [`FunctionSpec::locals_in_slots`]).
    Slot(StackSlot),
}

struct FunctionTranslator<'a, 'r> {
    builder: FunctionBuilder<'a>,
    /// Names in scope (parameters, then `for` and `var` locals).
    scopes: Scopes<'r, Local>,
    resolve: &'r mut dyn Resolve,
    /// The runtime's addresses.
    runtime: RuntimeAddresses,
    /// The cold block every abort path jumps to (record the frame, return 0), made when first needed. Its
    /// parameter is the index of the call site that aborted.
    exit: Option<Block>,
    /// The spans of the calls that can abort, relative to the function's text.
    sites: Vec<Span>,
    /// The convention of Rust hooks, builtins and C functions.
    native_conv: CallConv,
    spec: &'r FunctionSpec<'r>,
    pointer: types::Type,
    poll: Poll<'r>,
}

impl<'r> FunctionTranslator<'_, 'r> {
    fn bind_params(&mut self, entry: Block) {
        let values: Vec<Value> = self.builder.block_params(entry)[1..].to_vec();
        for (name, value) in self.spec.params.iter().zip(values) {
            let local = self.new_local(value);
            self.scopes.bind(name, local);
        }
    }

    /// A new parameter or local, holding `value`.
    fn new_local(&mut self, value: Value) -> Local {
        if self.spec.locals_in_slots {
            let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3);
            let slot = self.builder.create_sized_stack_slot(data);
            self.builder.ins().stack_store(self.pointer, value, slot, 0);
            return Local::Slot(slot);
        }
        let variable = self.builder.declare_var(types::F64);
        self.builder.def_var(variable, value);
        Local::Variable(variable)
    }

    fn read_local(&mut self, local: Local) -> Value {
        match local {
            Local::Variable(variable) => self.builder.use_var(variable),
            Local::Slot(slot) => self.builder.ins().stack_load(self.pointer, types::F64, slot, 0),
        }
    }

    fn write_local(&mut self, local: Local, value: Value) {
        match local {
            Local::Variable(variable) => self.builder.def_var(variable, value),
            Local::Slot(slot) => {
                self.builder.ins().stack_store(self.pointer, value, slot, 0);
            }
        }
    }

    fn translate_expr(&mut self, expr: &'r Expr) -> Result<Value, Diagnostic> {
        if self.poll.tick() {
            return Err(Diagnostic::error(expr.span, "interrupted while compiling"));
        }
        Ok(match &expr.kind {
            ExprKind::Number(value) => self.builder.ins().f64const(*value),
            ExprKind::Var(name) => self.translate_read(name),
            ExprKind::Assign(name, _, value) => self.translate_assign(name, value)?,
            ExprKind::Unary(op, operand) => {
                let arg = self.translate_expr(operand)?;
                self.translate_call(&unary_name(*op), expr.span, vec![arg])?
            }
            ExprKind::Binary(first, operations) => self.translate_chain(first, operations)?,
            ExprKind::Call(name, span, args) => {
                let values = args.iter().map(|arg| self.translate_expr(arg)).collect::<Result<Vec<_>, _>>()?;
                self.translate_call(name, *span, values)?
            }
            ExprKind::If(cond, then, otherwise) => self.translate_if(cond, then, otherwise)?,
            ExprKind::For(for_loop) => self.translate_for(for_loop)?,
            ExprKind::VarIn(bindings, body) => self.translate_var_in(bindings, body)?,
        })
    }

    fn lookup(&self, name: &str) -> Option<Local> {
        self.scopes.get(name)
    }

    fn translate_read(&mut self, name: &str) -> Value {
        match self.lookup(name) {
            Some(local) => self.read_local(local),
            None => {
                let address = self.resolve.global(name, false);
                let cell = self.address_const(address);
                self.builder.ins().load(types::F64, MemFlagsData::trusted(), cell, 0)
            }
        }
    }

    fn translate_assign(&mut self, name: &str, value: &'r Expr) -> Result<Value, Diagnostic> {
        let value = self.translate_expr(value)?;
        match self.lookup(name) {
            Some(local) => self.write_local(local, value),
            None => {
                let address = self.resolve.global(name, true);
                let cell = self.address_const(address);
                self.builder.ins().store(MemFlagsData::trusted(), value, cell, 0);
            }
        }
        Ok(value)
    }

    /// A chain, left to right; a user-defined operator's call is placed at the span of the chain so far.
    fn translate_chain(&mut self, first: &'r Expr, operations: &'r [Operation]) -> Result<Value, Diagnostic> {
        let mut value = self.translate_expr(first)?;
        for operation in operations {
            let rhs = self.translate_expr(&operation.rhs)?;
            value = self.translate_binary(operation.op, value, rhs, first.span.to(operation.rhs.span))?;
        }
        Ok(value)
    }

    fn translate_binary(&mut self, op: char, l: Value, r: Value, span: Span) -> Result<Value, Diagnostic> {
        let ins = self.builder.ins();
        Ok(match op {
            '+' => ins.fadd(l, r),
            '-' => ins.fsub(l, r),
            '*' => ins.fmul(l, r),
            '/' => ins.fdiv(l, r),
            // As the LLVM tutorial's `fcmp ult`: true when less, or when either side is NaN.
            '<' => {
                let less = ins.fcmp(FloatCC::UnorderedOrLessThan, l, r);
                self.bool_to_f64(less)
            }
            _ => self.translate_call(&binary_name(op), span, vec![l, r])?,
        })
    }

    fn bool_to_f64(&mut self, flag: Value) -> Value {
        let one = self.builder.ins().f64const(1.0);
        let zero = self.builder.ins().f64const(0.0);
        self.builder.ins().select(flag, one, zero)
    }

    /// A condition is true when it is non-zero and not NaN (LLVM's `fcmp one`, as in the tutorial).
    fn truth(&mut self, value: Value) -> Value {
        let zero = self.builder.ins().f64const(0.0);
        self.builder.ins().fcmp(FloatCC::OrderedNotEqual, value, zero)
    }

    /// The truth of `cond` as a flag to branch on. A comparison `a < b` branches on the comparison itself:
    /// `truth(select(less, 1, 0))` is `less`, and saves a second compare and branch per test.
    fn translate_condition(&mut self, cond: &'r Expr) -> Result<Value, Diagnostic> {
        if let ExprKind::Binary(first, operations) = &cond.kind
            && let [Operation { op: '<', rhs }] = operations.as_slice()
        {
            let (l, r) = (self.translate_expr(first)?, self.translate_expr(rhs)?);
            return Ok(self.builder.ins().fcmp(FloatCC::UnorderedOrLessThan, l, r));
        }
        let value = self.translate_expr(cond)?;
        Ok(self.truth(value))
    }

    /// ifexpr: `cond` picks a branch; both branches meet in a block whose parameter is the value.
    fn translate_if(&mut self, cond: &'r Expr, then: &'r Expr, otherwise: &'r Expr) -> Result<Value, Diagnostic> {
        let cond = self.translate_condition(cond)?;
        let then_block = self.builder.create_block();
        let else_block = self.builder.create_block();
        let merge = self.builder.create_block();
        self.builder.append_block_param(merge, types::F64);
        self.builder.ins().brif(cond, then_block, &[], else_block, &[]);
        // Each block is sealed as soon as its predecessors are all known, so a variable read in it is
        // resolved at once instead of waiting as a block parameter to be sorted out at the end.
        self.builder.seal_block(then_block);
        self.builder.seal_block(else_block);
        self.builder.switch_to_block(then_block);
        let then_value = self.translate_expr(then)?;
        self.builder.ins().jump(merge, &[then_value.into()]);
        self.builder.switch_to_block(else_block);
        let else_value = self.translate_expr(otherwise)?;
        self.builder.ins().jump(merge, &[else_value.into()]);
        self.builder.seal_block(merge);
        self.builder.switch_to_block(merge);
        Ok(self.builder.block_params(merge)[0])
    }

    /// forexpr, with the tutorial's semantics: the body runs, the step is evaluated, the end condition is
    /// evaluated with the variable's old value, then the variable is incremented; loop while the end
    /// condition holds. The value of the loop is 0.
    fn translate_for(&mut self, f: &'r ForLoop) -> Result<Value, Diagnostic> {
        let start = self.translate_expr(&f.start)?;
        let variable = self.new_local(start);
        let depth = self.scopes.depth();
        self.scopes.bind(&f.var, variable);
        let body_block = self.builder.create_block();
        let after = self.builder.create_block();
        self.builder.ins().jump(body_block, &[]);
        self.builder.switch_to_block(body_block);
        // The back-edge check lets Ctrl-C stop a loop that makes no calls.
        if self.spec.checks {
            self.stack_check();
        }
        // Each iteration counts as a call: a loop that runs long asks for the optimizing tier, whose code
        // the function's next call runs (this frame finishes its loop in the baseline code).
        if let Some((counter, slot)) = self.spec.hot_counter {
            self.count_call(counter, slot);
        }
        self.translate_expr(&f.body)?;
        let step = match &f.step {
            Some(step) => self.translate_expr(step)?,
            None => self.builder.ins().f64const(1.0),
        };
        let go_on = self.translate_condition(&f.end)?;
        let current = self.read_local(variable);
        let next = self.builder.ins().fadd(current, step);
        self.write_local(variable, next);
        self.builder.ins().brif(go_on, body_block, &[], after, &[]);
        self.builder.seal_block(body_block);
        self.builder.seal_block(after);
        self.builder.switch_to_block(after);
        self.scopes.leave(depth);
        Ok(self.builder.ins().f64const(0.0))
    }

    /// varexpr: each initializer sees the bindings before it; uninitialised locals are 0.
    fn translate_var_in(&mut self, bindings: &'r [Binding], body: &'r Expr) -> Result<Value, Diagnostic> {
        let depth = self.scopes.depth();
        for binding in bindings {
            let value = match &binding.init {
                Some(init) => self.translate_expr(init)?,
                None => self.builder.ins().f64const(0.0),
            };
            let local = self.new_local(value);
            self.scopes.bind(&binding.name, local);
        }
        let result = self.translate_expr(body);
        self.scopes.leave(depth);
        result
    }

    fn translate_call(&mut self, name: &str, span: Span, args: Vec<Value>) -> Result<Value, Diagnostic> {
        // Asked even for a direct self-call, so that every tier asks the same questions in the same order
        // (a deferred body replays its answers) and the index records the call.
        let callee = self.resolve.callee(name, args.len(), span)?;
        if let (Some(own), Some(self_ref)) = (self.spec.name, self.spec.self_ref)
            && own == name
            && self.spec.params.len() == args.len()
        {
            // Recursion calls itself directly; the hidden slot argument is unused by real bodies.
            let mut call_args = vec![self.builder.ins().iconst(self.pointer, 0)];
            call_args.extend(args);
            let call = self.builder.ins().call(self_ref, &call_args);
            let result = self.builder.inst_results(call)[0];
            self.abort_check(span);
            return Ok(result);
        }
        match callee {
            Callee::Slot { address } => {
                let slot = self.address_const(address);
                let code = self.builder.ins().load(self.pointer, MemFlagsData::trusted(), slot, 0);
                let sig = self.builder.import_signature(kaleido_signature(args.len()));
                let mut call_args = vec![slot];
                call_args.extend(args);
                let call = self.builder.ins().call_indirect(sig, code, &call_args);
                let result = self.builder.inst_results(call)[0];
                self.abort_check(span);
                Ok(result)
            }
            Callee::Direct { slot, index, aborts } => {
                let name = self.builder.func.declare_imported_user_function(UserExternalName { namespace: 2, index });
                let signature = self.builder.import_signature(kaleido_signature(args.len()));
                let data =
                    ExtFuncData { name: ExternalName::user(name), signature, colocated: false, patchable: false };
                let callee = self.builder.import_function(data);
                let mut call_args = vec![self.address_const(slot)];
                call_args.extend(args);
                let call = self.builder.ins().call(callee, &call_args);
                let result = self.builder.inst_results(call)[0];
                if aborts {
                    self.abort_check(span);
                } else {
                    // The call site keeps its index, so the sites after it keep theirs.
                    self.record_site(span);
                }
                Ok(result)
            }
            Callee::Instruction(instruction) => {
                let ins = self.builder.ins();
                Ok(match instruction {
                    MathInstruction::Sqrt => ins.sqrt(args[0]),
                    MathInstruction::Floor => ins.floor(args[0]),
                    MathInstruction::Ceil => ins.ceil(args[0]),
                    MathInstruction::Fabs => ins.fabs(args[0]),
                })
            }
            Callee::Native { address, takes_state } => {
                let mut sig = Signature::new(self.native_conv);
                let mut call_args = Vec::new();
                if takes_state {
                    sig.params.push(AbiParam::new(self.pointer));
                    call_args.push(self.address_const(self.runtime.state));
                }
                sig.params.extend(args.iter().map(|_| AbiParam::new(types::F64)));
                sig.returns.push(AbiParam::new(types::F64));
                call_args.extend(args);
                let sig = self.builder.import_signature(sig);
                let target = self.address_const(address);
                let call = self.builder.ins().call_indirect(sig, target, &call_args);
                Ok(self.builder.inst_results(call)[0])
            }
        }
    }
}

/// Calls a Rust hook that returns nothing, at `address`, with integer arguments typed as given.
pub(crate) fn emit_native_void_call(
    builder: &mut FunctionBuilder,
    call_conv: CallConv,
    address: usize,
    args: &[Value],
) {
    let mut sig = Signature::new(call_conv);
    for &arg in args {
        sig.params.push(AbiParam::new(builder.func.dfg.value_type(arg)));
    }
    let sig = builder.import_signature(sig);
    let target = builder.ins().iconst(types::I64, address as i64);
    builder.ins().call_indirect(sig, target, args);
}

/// Translates into `func` (of the kaleido signature of `arity`) an adapter that calls the C function at
/// `address` with the same arguments: what a slot points at when an `extern` binds a name that code
/// compiled earlier calls through the table.
pub(crate) fn translate_native_adapter(
    func: &mut Function,
    builder_context: &mut FunctionBuilderContext,
    frontend: TargetFrontendConfig,
    address: usize,
    arity: usize,
) {
    let mut builder = FunctionBuilder::new(func, builder_context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    let args = builder.block_params(entry)[1..].to_vec();
    let mut sig = Signature::new(frontend.default_call_conv);
    sig.params.extend((0..arity).map(|_| AbiParam::new(types::F64)));
    sig.returns.push(AbiParam::new(types::F64));
    let sig = builder.import_signature(sig);
    let target = builder.ins().iconst(types::I64, address as i64);
    let call = builder.ins().call_indirect(sig, target, &args);
    let result = builder.inst_results(call)[0];
    builder.ins().return_(&[result]);
    builder.seal_all_blocks();
    builder.finalize(frontend);
}
