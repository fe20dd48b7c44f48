//! The pretty printer: AST back to source text that parses to the same AST.
//!
//! Compound expressions are printed inside parentheses so the output never depends on the precedences in
//! force; it reads back under any operator table that defines the operators it uses.

use std::fmt::Write;

use crate::ast::*;

/// Prints a whole entry, one item per line, each ended by `;`.
pub fn print_items(items: &[Item]) -> String {
    items.iter().map(|item| format!("{};\n", print_item(item))).collect()
}

/// Prints one item.
pub fn print_item(item: &Item) -> String {
    match &item.kind {
        ItemKind::Def(function) => format!("def {} {}", print_prototype(&function.proto), print_expr(&function.body)),
        ItemKind::Extern(proto) => format!("extern {}", print_prototype(proto)),
        ItemKind::Expr(expr) => print_expr(expr),
        ItemKind::Global(bindings) => format!("var {}", print_bindings(bindings)),
    }
}

/// Prints a prototype as it is written after `def` or `extern`: `f(a b)`, `unary!(v)`, `binary| 5 (a b)`.
pub fn print_prototype(proto: &Prototype) -> String {
    let params: Vec<&str> = proto.params.iter().map(|p| p.name.as_str()).collect();
    let params = params.join(" ");
    match proto.kind {
        ProtoKind::Plain => format!("{}({params})", proto.name),
        ProtoKind::Unary(op) => format!("unary{op}({params})"),
        ProtoKind::Binary { op, precedence } => format!("binary{op} {precedence} ({params})"),
    }
}

/// Prints an expression.
pub fn print_expr(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

fn write_expr(out: &mut String, expr: &Expr) {
    match &expr.kind {
        ExprKind::Number(value) => write!(out, "{value}").unwrap_or(()),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Unary(op, operand) => {
            out.push(*op);
            let atomic = matches!(operand.kind, ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Call(..));
            if atomic {
                write_expr(out, operand);
            } else {
                out.push('(');
                write_expr(out, operand);
                out.push(')');
            }
        }
        ExprKind::Binary(first, operations) => write_chain(out, first, operations),
        ExprKind::Assign(name, _, value) => {
            write!(out, "({name} = ").unwrap_or(());
            write_expr(out, value);
            out.push(')');
        }
        ExprKind::Call(name, _, args) => {
            out.push_str(name);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, arg);
            }
            out.push(')');
        }
        ExprKind::If(cond, then, otherwise) => {
            write!(out, "(if {} then {} else {})", print_expr(cond), print_expr(then), print_expr(otherwise))
                .unwrap_or(());
        }
        ExprKind::For(f) => {
            write!(out, "(for {} = {}, {}", f.var, print_expr(&f.start), print_expr(&f.end)).unwrap_or(());
            if let Some(step) = &f.step {
                write!(out, ", {}", print_expr(step)).unwrap_or(());
            }
            write!(out, " in {})", print_expr(&f.body)).unwrap_or(());
        }
        ExprKind::VarIn(bindings, body) => {
            write!(out, "(var {} in {})", print_bindings(bindings), print_expr(body)).unwrap_or(());
        }
    }
}

/// A chain prints flat where that reparses the same under any precedences: a run of one operator, or of
/// built-in operators of one precedence (which no one can redefine). Where the operator changes otherwise,
/// the chain so far is parenthesized: `((a + b) | c | d)`. Operands need no parentheses of their own:
/// every compound expression prints inside them.
fn write_chain(out: &mut String, first: &Expr, operations: &[Operation]) {
    let groups = 1 + operations.windows(2).filter(|pair| !fold_together(pair[0].op, pair[1].op)).count();
    out.extend(std::iter::repeat_n('(', groups));
    write_expr(out, first);
    for (i, operation) in operations.iter().enumerate() {
        if i > 0 && !fold_together(operations[i - 1].op, operation.op) {
            out.push(')');
        }
        write!(out, " {} ", operation.op).unwrap_or(());
        write_expr(out, &operation.rhs);
    }
    out.push(')');
}

/// Whether `a x b y c` folds as `(a x b) y c` whatever the precedences in force.
fn fold_together(x: char, y: char) -> bool {
    let builtin = |op: char| BUILTIN_BINARY.iter().find(|&&(c, _)| c == op).map(|&(_, precedence)| precedence);
    x == y || (builtin(x).is_some() && builtin(x) == builtin(y))
}

fn print_bindings(bindings: &[Binding]) -> String {
    let printed: Vec<String> = bindings
        .iter()
        .map(|b| match &b.init {
            Some(init) => format!("{} = {}", b.name, print_expr(init)),
            None => b.name.clone(),
        })
        .collect();
    printed.join(", ")
}
