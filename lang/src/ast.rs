//! The abstract syntax tree of one entry.
//!
//! Every node carries the [`Span`] it was parsed from. Equality compares spans too; tests that only care
//! about structure compare `item.without_spans()`.

use crate::span::Span;

/// One top-level item of an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What the item is.
    pub kind: ItemKind,
    /// The whole item.
    pub span: Span,
}

/// The kinds of top-level items.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `def NAME(PARAMS) BODY`, including operator definitions.
    Def(Function),
    /// `extern NAME(PARAMS)`
    Extern(Prototype),
    /// A top-level expression, evaluated at once.
    Expr(Expr),
    /// `var NAME = EXPR, ...` at top level: global variables.
    Global(Vec<Binding>),
}

/// A function definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Name, operator kind and parameters.
    pub proto: Prototype,
    /// The body expression.
    pub body: Expr,
}

/// What a prototype declares: a plain function or an operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProtoKind {
    /// `NAME(PARAMS)`
    Plain,
    /// `unary C (PARAM)`
    Unary(char),
    /// `binary C PRECEDENCE (LHS RHS)`
    Binary {
        /// The operator character.
        op: char,
        /// Its precedence, 1..=100 (30 when not written).
        precedence: u8,
    },
}

/// A function's name, operator kind and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Prototype {
    /// The function's name; operators are named `binary|` and `unary!` as in the LLVM tutorial.
    pub name: String,
    /// Plain function, unary or binary operator.
    pub kind: ProtoKind,
    /// Parameter names, in order.
    pub params: Vec<Param>,
    /// The prototype, from `def`/`extern` to `)`.
    pub span: Span,
    /// The name (or operator) alone, for diagnostics that point at it.
    pub name_span: Span,
}

/// A parameter name and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// `NAME [= EXPR]` in a `var` expression or a global definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The variable's name.
    pub name: String,
    /// Its initial value; zero when absent.
    pub init: Option<Expr>,
    /// The binding, from the name to the end of the initializer.
    pub span: Span,
}

/// An expression node.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(f64),
    /// A variable read: a parameter, a local or a global.
    Var(String),
    /// `OP operand`, a user-defined unary operator.
    Unary(char, Box<Expr>),
    /// `first OP rhs OP rhs ...`, applied left to right: `((first OP rhs) OP rhs) ...`. Operators are built-in
    /// (`+ - * / <`) or user-defined. A whole left-associative chain (a long sum, a `:` sequence) is one
    /// node, so its length is not nesting, and no pass recurses once per operand.
    Binary(Box<Expr>, Vec<Operation>),
    /// `NAME = value`; its value is `value`.
    Assign(String, Span, Box<Expr>),
    /// `callee(args)`; `Span` is the callee's name.
    Call(String, Span, Vec<Expr>),
    /// `if cond then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `for var = start, end[, step] in body`
    For(Box<ForLoop>),
    /// `var a = 1, b in body`
    VarIn(Vec<Binding>, Box<Expr>),
}

/// One step of a [`ExprKind::Binary`] chain: `OP rhs`, applied to the value of everything before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The operator.
    pub op: char,
    /// Its right operand.
    pub rhs: Expr,
}

impl Expr {
    /// `lhs OP rhs` as a chain of one operation.
    pub fn binary(op: char, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr { kind: ExprKind::Binary(Box::new(lhs), vec![Operation { op, rhs }]), span }
    }
}

/// The parts of a `for` loop.
#[derive(Clone, Debug, PartialEq)]
pub struct ForLoop {
    /// The induction variable.
    pub var: String,
    /// Where the induction variable is named.
    pub var_span: Span,
    /// Its first value.
    pub start: Expr,
    /// Tested after each iteration, with the variable's old value; the loop goes on while it is non-zero.
    pub end: Expr,
    /// Added after each iteration; 1 when absent.
    pub step: Option<Expr>,
    /// Evaluated once per iteration.
    pub body: Expr,
}

/// The built-in binary operators and their precedences. `=` (assignment) is handled by the parser.
pub const BUILTIN_BINARY: &[(char, u8)] = &[('<', 10), ('+', 20), ('-', 20), ('*', 40), ('/', 40)];

/// The precedence of assignment: lower than every operator a user may define.
pub const ASSIGN_PRECEDENCE: u8 = 2;

/// Whether `op` is one of the built-in binary operators, which cannot be redefined.
pub fn is_builtin_binary(op: char) -> bool {
    BUILTIN_BINARY.iter().any(|&(c, _)| c == op)
}

/// The name under which a unary operator function is known: `unary!`.
pub fn unary_name(op: char) -> String {
    format!("unary{op}")
}

/// The name under which a binary operator function is known: `binary|`.
pub fn binary_name(op: char) -> String {
    format!("binary{op}")
}

impl Item {
    /// A copy with every span zeroed, for comparing structure alone (e.g. `parse(print(ast)) == ast`).
    pub fn without_spans(&self) -> Item {
        let kind = match &self.kind {
            ItemKind::Def(f) => {
                ItemKind::Def(Function { proto: f.proto.without_spans(), body: f.body.without_spans() })
            }
            ItemKind::Extern(p) => ItemKind::Extern(p.without_spans()),
            ItemKind::Expr(e) => ItemKind::Expr(e.without_spans()),
            ItemKind::Global(bindings) => ItemKind::Global(bindings.iter().map(Binding::without_spans).collect()),
        };
        Item { kind, span: Span::default() }
    }
}

impl Prototype {
    fn without_spans(&self) -> Prototype {
        let params = self.params.iter().map(|p| Param { name: p.name.clone(), span: Span::default() }).collect();
        Prototype { params, span: Span::default(), name_span: Span::default(), ..self.clone() }
    }
}

impl Binding {
    fn without_spans(&self) -> Binding {
        Binding { name: self.name.clone(), init: self.init.as_ref().map(Expr::without_spans), span: Span::default() }
    }
}

impl Expr {
    /// A copy with every span zeroed.
    pub fn without_spans(&self) -> Expr {
        let strip = |e: &Expr| Box::new(e.without_spans());
        let kind = match &self.kind {
            ExprKind::Number(v) => ExprKind::Number(*v),
            ExprKind::Var(n) => ExprKind::Var(n.clone()),
            ExprKind::Unary(op, e) => ExprKind::Unary(*op, strip(e)),
            ExprKind::Binary(first, operations) => ExprKind::Binary(
                strip(first),
                operations.iter().map(|o| Operation { op: o.op, rhs: o.rhs.without_spans() }).collect(),
            ),
            ExprKind::Assign(n, _, v) => ExprKind::Assign(n.clone(), Span::default(), strip(v)),
            ExprKind::Call(n, _, args) => {
                ExprKind::Call(n.clone(), Span::default(), args.iter().map(Expr::without_spans).collect())
            }
            ExprKind::If(c, t, e) => ExprKind::If(strip(c), strip(t), strip(e)),
            ExprKind::For(f) => ExprKind::For(Box::new(ForLoop {
                var: f.var.clone(),
                var_span: Span::default(),
                start: f.start.without_spans(),
                end: f.end.without_spans(),
                step: f.step.as_ref().map(Expr::without_spans),
                body: f.body.without_spans(),
            })),
            ExprKind::VarIn(bs, body) => ExprKind::VarIn(bs.iter().map(Binding::without_spans).collect(), strip(body)),
        };
        Expr { kind, span: Span::default() }
    }
}
