//! The interpreter: entries, definitions, externs and globals, as `docs/language.md` describes them.
//!
//! An entry is analyzed by the shared front end, then checked for what the language reference calls
//! compile-time errors beyond parsing (builtins called or declared with the wrong arity, redefining a
//! builtin or an extern, an `extern` of nothing the interpreter knows). A rejected entry changes nothing.
//! Then its items apply in order; a runtime error stops the entry, and the items before it keep their
//! effects.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use kaleido_lang::ast::{Expr, ExprKind, Item, ItemKind, ProtoKind};
use kaleido_lang::{Operators, analyze, has_errors};

use crate::builtins::{builtin, c_function};

/// The prelude, restated from the language reference.
pub const PRELUDE: &str = "def unary!(v) if v then 0 else 1;
def unary-(v) 0 - v;
def binary> 10 (LHS RHS) RHS < LHS;
def binary| 5 (LHS RHS) if LHS then 1 else if RHS then 1 else 0;
def binary& 6 (LHS RHS) if !LHS then 0 else !!RHS;
def binary: 1 (x y) y;";

/// A runtime error, as the language reference names them.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    /// A call reached a function with no definition.
    #[error("`{name}` is not defined")]
    Undefined {
        /// The function.
        name: String,
    },
    /// A call passed a number of arguments its callee does not take.
    #[error("{caller:?} calls `{callee}` with {passed}, but it takes {takes}")]
    ArityMismatch {
        /// The calling function, or `None` for top-level code.
        caller: Option<String>,
        /// The function called.
        callee: String,
        /// Arguments passed.
        passed: usize,
        /// Parameters the current definition has.
        takes: usize,
    },
    /// Calls nested deeper than the interpreter allows.
    #[error("stack overflow")]
    StackOverflow,
    /// The evaluation ran longer than the interpreter's step budget (a test-harness guard, not a
    /// language error).
    #[error("out of fuel")]
    OutOfFuel,
}

/// What one applied item did.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemResult {
    /// Top-level code produced a value.
    Value(f64),
    /// A definition; version 1 is the first of its name.
    Defined {
        /// The function's name.
        name: String,
        /// Its version.
        version: u32,
    },
    /// An `extern` was accepted.
    Declared {
        /// The name.
        name: String,
    },
    /// A global was set.
    Global {
        /// Its name.
        name: String,
        /// Its value.
        value: f64,
    },
}

/// What an entry did.
#[derive(Clone, Debug, PartialEq)]
pub enum EntryResult {
    /// The entry was rejected with these messages; nothing changed.
    Rejected(Vec<String>),
    /// The entry's items were applied (up to a runtime error, if any).
    Applied {
        /// One result per applied item.
        items: Vec<ItemResult>,
        /// The error that stopped the entry.
        error: Option<RuntimeError>,
    },
}

/// A user-defined function (the prelude's included).
#[derive(Clone, Debug)]
pub struct Definition {
    /// Parameter names.
    pub params: Vec<String>,
    /// The body.
    pub body: Rc<Expr>,
}

/// A session of the reference interpreter.
pub struct Interpreter {
    pub(crate) functions: HashMap<String, Definition>,
    /// Every definition of each name, oldest first, with the operator its prototype declared.
    history: HashMap<String, Vec<(Definition, ProtoKind)>>,
    /// Names bound by `extern` to a C function (of [`crate::builtins::C_FUNCTIONS`]), with the arity the
    /// `extern` declared. (An `extern` of a builtin binds nothing: builtins are always there.)
    pub(crate) bound: HashMap<String, usize>,
    pub(crate) globals: HashMap<String, f64>,
    operators: Operators,
    /// What the program wrote with `putchard` and `printd`.
    pub output: Vec<u8>,
    /// Evaluation steps left before [`RuntimeError::OutOfFuel`].
    pub(crate) fuel: u64,
    pub(crate) depth: usize,
}

impl Interpreter {
    /// A fresh session, with the prelude when `prelude` is set.
    pub fn new(prelude: bool) -> Interpreter {
        let mut interpreter = Interpreter {
            functions: HashMap::new(),
            history: HashMap::new(),
            bound: HashMap::new(),
            globals: HashMap::new(),
            operators: Operators::builtin(),
            output: Vec::new(),
            fuel: u64::MAX,
            depth: 0,
        };
        if prelude {
            let result = interpreter.eval_entry(PRELUDE);
            assert!(matches!(result, EntryResult::Applied { error: None, .. }), "the prelude failed: {result:?}");
        }
        interpreter
    }

    /// Limits how many evaluation steps each later entry may take.
    pub fn set_fuel_per_entry(&mut self, fuel: u64) {
        self.fuel = fuel;
    }

    /// Evaluates one entry.
    pub fn eval_entry(&mut self, text: &str) -> EntryResult {
        let fuel = self.fuel;
        let globals = &self.globals;
        let analysis = analyze(text, &self.operators, &|name| globals.contains_key(name));
        if has_errors(&analysis.diagnostics) {
            return EntryResult::Rejected(analysis.diagnostics.into_iter().map(|d| d.message).collect());
        }
        if let Err(message) = self.check_entry(&analysis.items) {
            return EntryResult::Rejected(vec![message]);
        }
        let mut items = Vec::new();
        for item in analysis.items {
            match self.apply(item, &mut items) {
                Ok(()) => {}
                Err(error) => {
                    self.fuel = fuel;
                    return EntryResult::Applied { items, error: Some(error) };
                }
            }
        }
        self.fuel = fuel;
        EntryResult::Applied { items, error: None }
    }

    fn apply(&mut self, item: Item, results: &mut Vec<ItemResult>) -> Result<(), RuntimeError> {
        match item.kind {
            ItemKind::Def(function) => {
                let proto = function.proto;
                let params = proto.params.into_iter().map(|p| p.name).collect();
                let definition = Definition { params, body: Rc::new(function.body) };
                results.push(self.define(proto.name, definition, proto.kind));
            }
            ItemKind::Extern(proto) => {
                if builtin(&proto.name).is_none() {
                    self.bound.insert(proto.name.clone(), proto.params.len());
                }
                results.push(ItemResult::Declared { name: proto.name });
            }
            ItemKind::Expr(expr) => {
                let value = self.eval_top(&expr)?;
                results.push(ItemResult::Value(value));
            }
            ItemKind::Global(bindings) => {
                for binding in bindings {
                    let value = match &binding.init {
                        Some(init) => self.eval_top(init)?,
                        None => 0.0,
                    };
                    self.globals.insert(binding.name.clone(), value);
                    results.push(ItemResult::Global { name: binding.name, value });
                }
            }
        }
        Ok(())
    }

    /// Makes `definition` the current one of `name`, as a new version.
    fn define(&mut self, name: String, definition: Definition, kind: ProtoKind) -> ItemResult {
        self.functions.insert(name.clone(), definition.clone());
        let history = self.history.entry(name.clone()).or_default();
        history.push((definition, kind));
        let version = history.len() as u32;
        self.operators.define(&kind);
        ItemResult::Defined { name, version }
    }

    /// `:undo NAME`: the version before the current one becomes current again, as a new version (the
    /// engine's semantics: a redefinition with the previous version's source). Rejected when `name` is
    /// not defined or has one version.
    pub fn undo(&mut self, name: &str) -> EntryResult {
        let previous = match self.history.get(name) {
            Some(history) if self.functions.contains_key(name) && history.len() >= 2 => {
                history[history.len() - 2].clone()
            }
            _ => return EntryResult::Rejected(vec![format!("`{name}` has no earlier version to undo to")]),
        };
        let (definition, kind) = previous;
        EntryResult::Applied { items: vec![self.define(name.to_string(), definition, kind)], error: None }
    }

    /// `:forget NAME`: removes the function (and its operator) or an `extern`'s binding; its history stays.
    pub fn forget(&mut self, name: &str) -> EntryResult {
        if self.bound.remove(name).is_some() {
            return EntryResult::Applied { items: Vec::new(), error: None };
        }
        if self.functions.remove(name).is_none() {
            return EntryResult::Rejected(vec![format!("`{name}` is not defined")]);
        }
        if let Some((_, kind)) = self.history.get(name).and_then(|h| h.last()) {
            let kind = *kind;
            self.operators.remove(&kind);
        }
        EntryResult::Applied { items: Vec::new(), error: None }
    }

    /// The compile-time checks beyond parsing, over every item, against the entry's own earlier items.
    fn check_entry(&self, items: &[Item]) -> Result<(), String> {
        let mut defined: HashSet<&str> = self.functions.keys().map(String::as_str).collect();
        // C functions bound so far (by the session, then by the entry's earlier items), with their arity.
        let mut bound: HashMap<&str, usize> = self.bound.iter().map(|(name, &arity)| (name.as_str(), arity)).collect();
        // Top-level code calling a known function with the wrong number of arguments is a compile error.
        let mut arities: HashMap<&str, usize> =
            self.functions.iter().map(|(name, definition)| (name.as_str(), definition.params.len())).collect();
        arities.extend(bound.iter().map(|(&name, &arity)| (name, arity)));
        for item in items {
            match &item.kind {
                ItemKind::Def(function) => {
                    let name = function.proto.name.as_str();
                    if builtin(name).is_some() {
                        return Err(format!("`{name}` is a builtin and cannot be redefined"));
                    }
                    if bound.contains_key(name) {
                        return Err(format!("`{name}` is bound to a C function by `extern`"));
                    }
                    check_calls(&function.body)?;
                    defined.insert(name);
                    arities.insert(name, function.proto.params.len());
                }
                ItemKind::Extern(proto) => {
                    let (name, arity) = (proto.name.as_str(), proto.params.len());
                    match (builtin(name), c_function(name)) {
                        (Some(b), _) if b.arity == arity => {}
                        (Some(b), _) => return Err(format!("the builtin `{}` takes {} arguments", b.name, b.arity)),
                        (None, _) if defined.contains(name) => {
                            return Err(format!("`{name}` is already defined with `def`"));
                        }
                        (None, Some(_)) => match bound.get(name) {
                            Some(&was) if was != arity => return Err(format!("`{name}` was declared with {was}")),
                            _ => {
                                bound.insert(name, arity);
                                arities.insert(name, arity);
                            }
                        },
                        (None, None) => return Err(format!("no builtin or C function named `{name}`")),
                    }
                }
                ItemKind::Expr(expr) => {
                    check_calls(expr)?;
                    check_top_level_calls(expr, &arities)?;
                }
                ItemKind::Global(bindings) => {
                    for init in bindings.iter().filter_map(|b| b.init.as_ref()) {
                        check_calls(init)?;
                        check_top_level_calls(init, &arities)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Calls to builtins must pass the builtin's number of arguments, wherever they are. (A C function bound
/// by `extern` is called through its name's binding, as a definition is: a definition that calls it with
/// another arity is accepted, and the call fails when it runs; top-level calls are checked with the
/// definitions'.)
fn check_calls(expr: &Expr) -> Result<(), String> {
    let mut result = Ok(());
    walk(expr, &mut |e| {
        if let ExprKind::Call(name, _, args) = &e.kind
            && let Some(takes) = builtin(name).map(|b| b.arity)
            && takes != args.len()
            && result.is_ok()
        {
            result = Err(format!("`{name}` takes {takes} arguments, but {} were given", args.len()));
        }
    });
    result
}

/// Calls from top-level code to a function defined so far must pass its number of arguments.
fn check_top_level_calls(expr: &Expr, arities: &HashMap<&str, usize>) -> Result<(), String> {
    let mut result = Ok(());
    walk(expr, &mut |e| {
        let calls: Vec<(String, usize)> = match &e.kind {
            ExprKind::Call(name, _, args) => vec![(name.clone(), args.len())],
            ExprKind::Unary(op, _) => vec![(kaleido_lang::ast::unary_name(*op), 1)],
            ExprKind::Binary(_, operations) => (operations.iter())
                .filter(|o| !matches!(o.op, '+' | '-' | '*' | '/' | '<'))
                .map(|o| (kaleido_lang::ast::binary_name(o.op), 2))
                .collect(),
            _ => Vec::new(),
        };
        for (name, given) in calls {
            if let Some(&takes) = arities.get(name.as_str())
                && takes != given
                && result.is_ok()
            {
                result = Err(format!("`{name}` takes {takes} arguments, but {given} were given"));
            }
        }
    });
    result
}

fn walk(expr: &Expr, visit: &mut dyn FnMut(&Expr)) {
    visit(expr);
    match &expr.kind {
        ExprKind::Number(_) | ExprKind::Var(_) => {}
        ExprKind::Unary(_, e) | ExprKind::Assign(_, _, e) => walk(e, visit),
        ExprKind::Binary(first, operations) => {
            walk(first, visit);
            operations.iter().for_each(|o| walk(&o.rhs, visit));
        }
        ExprKind::Call(_, _, args) => args.iter().for_each(|a| walk(a, visit)),
        ExprKind::If(c, t, e) => {
            walk(c, visit);
            walk(t, visit);
            walk(e, visit);
        }
        ExprKind::For(f) => {
            walk(&f.start, visit);
            walk(&f.end, visit);
            if let Some(step) = &f.step {
                walk(step, visit);
            }
            walk(&f.body, visit);
        }
        ExprKind::VarIn(bindings, body) => {
            for init in bindings.iter().filter_map(|b| b.init.as_ref()) {
                walk(init, visit);
            }
            walk(body, visit);
        }
    }
}
