//! Evaluating expressions by walking the tree, with the semantics of `docs/language.md`.

use kaleido_lang::ast::{Binding, Expr, ExprKind, ForLoop, binary_name, unary_name};

use crate::builtins::{builtin, c_function};
use crate::interpreter::{Interpreter, RuntimeError};

/// How deeply calls may nest before the interpreter reports a stack overflow. The JIT's limit is set by
/// its stack instead, so generated sessions never recurse this deep.
pub const MAX_CALL_DEPTH: usize = 2_000;

/// The variables of one function activation, innermost last, and whose activation it is.
struct Frame<'f> {
    locals: Vec<(String, f64)>,
    function: Option<&'f str>,
}

type Value = Result<f64, RuntimeError>;

impl Interpreter {
    /// Evaluates top-level code (no locals; its calls have no calling function).
    pub(crate) fn eval_top(&mut self, expr: &Expr) -> Value {
        self.depth = 0;
        self.eval(expr, &mut Frame { locals: Vec::new(), function: None })
    }

    fn eval(&mut self, expr: &Expr, frame: &mut Frame) -> Value {
        self.fuel = self.fuel.checked_sub(1).ok_or(RuntimeError::OutOfFuel)?;
        match &expr.kind {
            ExprKind::Number(value) => Ok(*value),
            ExprKind::Var(name) => Ok(self.read(name, frame)),
            ExprKind::Assign(name, _, value) => {
                let value = self.eval(value, frame)?;
                self.write(name, value, frame);
                Ok(value)
            }
            ExprKind::Unary(op, operand) => {
                let operand = self.eval(operand, frame)?;
                self.call(&unary_name(*op), vec![operand], frame)
            }
            ExprKind::Binary(first, operations) => {
                let mut value = self.eval(first, frame)?;
                for operation in operations {
                    let rhs = self.eval(&operation.rhs, frame)?;
                    value = self.apply_binary(operation.op, value, rhs, frame)?;
                }
                Ok(value)
            }
            ExprKind::Call(name, _, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.eval(arg, frame)?);
                }
                self.call(name, values, frame)
            }
            ExprKind::If(cond, then, otherwise) => {
                if truth(self.eval(cond, frame)?) {
                    self.eval(then, frame)
                } else {
                    self.eval(otherwise, frame)
                }
            }
            ExprKind::For(for_loop) => self.eval_for(for_loop, frame),
            ExprKind::VarIn(bindings, body) => self.eval_var_in(bindings, body, frame),
        }
    }

    fn apply_binary(&mut self, op: char, l: f64, r: f64, frame: &mut Frame) -> Value {
        match op {
            '+' => Ok(l + r),
            '-' => Ok(l - r),
            '*' => Ok(l * r),
            '/' => Ok(l / r),
            // docs/language.md: `<` is true when less or when either side is NaN (`fcmp ult`).
            '<' => Ok(if l < r || l.is_nan() || r.is_nan() { 1.0 } else { 0.0 }),
            _ => self.call(&binary_name(op), vec![l, r], frame),
        }
    }

    /// The body runs, the step is evaluated, the end condition is evaluated with the old value of the
    /// variable, the variable is incremented, and the loop repeats while the end condition held.
    fn eval_for(&mut self, f: &ForLoop, frame: &mut Frame) -> Value {
        let start = self.eval(&f.start, frame)?;
        frame.locals.push((f.var.clone(), start));
        let slot = frame.locals.len() - 1;
        let result = loop {
            if let Err(error) = self.eval(&f.body, frame) {
                break Err(error);
            }
            let step = match &f.step {
                Some(step) => match self.eval(step, frame) {
                    Ok(step) => step,
                    Err(error) => break Err(error),
                },
                None => 1.0,
            };
            let end = match self.eval(&f.end, frame) {
                Ok(end) => end,
                Err(error) => break Err(error),
            };
            frame.locals[slot].1 += step;
            if !truth(end) {
                break Ok(0.0);
            }
        };
        frame.locals.truncate(slot);
        result
    }

    /// Each initializer sees the bindings before it; uninitialised locals are 0.
    fn eval_var_in(&mut self, bindings: &[Binding], body: &Expr, frame: &mut Frame) -> Value {
        let depth = frame.locals.len();
        for binding in bindings {
            let value = match &binding.init {
                Some(init) => match self.eval(init, frame) {
                    Ok(value) => value,
                    Err(error) => {
                        frame.locals.truncate(depth);
                        return Err(error);
                    }
                },
                None => 0.0,
            };
            frame.locals.push((binding.name.clone(), value));
        }
        let result = self.eval(body, frame);
        frame.locals.truncate(depth);
        result
    }

    /// Calls `name` with evaluated `args`: a builtin, or the current definition of a function.
    fn call(&mut self, name: &str, args: Vec<f64>, frame: &Frame) -> Value {
        if let Some(b) = builtin(name) {
            return Ok((b.call)(&args, &mut self.output));
        }
        // A C function bound by `extern`, reached as the JIT reaches it: through the name's binding now.
        if let Some(&takes) = self.bound.get(name) {
            if takes != args.len() {
                return Err(RuntimeError::ArityMismatch {
                    caller: frame.function.map(str::to_string),
                    callee: name.to_string(),
                    passed: args.len(),
                    takes,
                });
            }
            let c = c_function(name).expect("only C functions the interpreter knows are bound");
            return Ok((c.call)(&args, &mut self.output));
        }
        let Some(definition) = self.functions.get(name).cloned() else {
            return Err(RuntimeError::Undefined { name: name.to_string() });
        };
        if definition.params.len() != args.len() {
            return Err(RuntimeError::ArityMismatch {
                caller: frame.function.map(str::to_string),
                callee: name.to_string(),
                passed: args.len(),
                takes: definition.params.len(),
            });
        }
        if self.depth >= MAX_CALL_DEPTH {
            return Err(RuntimeError::StackOverflow);
        }
        self.depth += 1;
        let locals = definition.params.iter().cloned().zip(args).collect();
        let result = self.eval(&definition.body, &mut Frame { locals, function: Some(name) });
        self.depth -= 1;
        result
    }

    fn read(&self, name: &str, frame: &Frame) -> f64 {
        match frame.locals.iter().rev().find(|(n, _)| n == name) {
            Some(&(_, value)) => value,
            None => self.globals.get(name).copied().unwrap_or(0.0),
        }
    }

    fn write(&mut self, name: &str, value: f64, frame: &mut Frame) {
        match frame.locals.iter_mut().rev().find(|(n, _)| n == name) {
            Some(local) => local.1 = value,
            None => {
                self.globals.insert(name.to_string(), value);
            }
        }
    }
}

/// A condition holds when it is non-zero and not NaN.
fn truth(value: f64) -> bool {
    value != 0.0 && !value.is_nan()
}
