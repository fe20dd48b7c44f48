//! Static checks that need no engine: every variable resolves, no parameter is named twice.
//!
//! Names resolve innermost first: `var`/`for` locals, then parameters, then globals. The globals defined
//! before the entry are an input; a global item makes its names visible to the items after it.

use std::collections::HashSet;

use crate::ast::*;
use crate::diagnostic::{Diagnostic, shorten};

/// Checks `items` in order. `is_global` says whether a name is a global defined before this entry.
pub fn check(items: &[Item], is_global: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut checker = Checker { is_global, entry_globals: HashSet::new(), locals: Vec::new(), diagnostics: Vec::new() };
    for item in items {
        checker.item(item);
    }
    checker.diagnostics
}

struct Checker<'a> {
    is_global: &'a dyn Fn(&str) -> bool,
    /// Globals defined by earlier items of this entry.
    entry_globals: HashSet<String>,
    /// The names in scope inside the current function, innermost last.
    locals: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn item(&mut self, item: &Item) {
        self.locals.clear();
        match &item.kind {
            ItemKind::Def(function) => {
                self.params(&function.proto);
                self.locals.extend(function.proto.params.iter().map(|p| p.name.clone()));
                self.expr(&function.body);
            }
            ItemKind::Extern(proto) => self.params(proto),
            ItemKind::Expr(expr) => self.expr(expr),
            ItemKind::Global(bindings) => {
                for binding in bindings {
                    if let Some(init) = &binding.init {
                        self.expr(init);
                    }
                    self.entry_globals.insert(binding.name.clone());
                }
            }
        }
    }

    fn params(&mut self, proto: &Prototype) {
        let mut seen = HashSet::new();
        for param in &proto.params {
            if !seen.insert(param.name.as_str()) {
                let (name, function) = (shorten(&param.name), shorten(&proto.name));
                let message = format!("parameter `{name}` is declared twice in `{function}`");
                self.diagnostics.push(Diagnostic::error(param.span, message).with_label("second declaration"));
            }
        }
    }

    fn resolve(&mut self, name: &str, span: crate::Span) {
        let known = self.locals.iter().any(|local| local == name)
            || self.entry_globals.contains(name)
            || (self.is_global)(name);
        if !known {
            let name = shorten(name);
            self.diagnostics.push(
                Diagnostic::error(span, format!("unknown variable `{name}`"))
                    .with_label("not a parameter, a local or a global")
                    .with_note(format!("define a global first with `var {name} = ...`")),
            );
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Number(_) => {}
            ExprKind::Var(name) => self.resolve(name, expr.span),
            ExprKind::Unary(_, operand) => self.expr(operand),
            ExprKind::Binary(_, lhs, rhs) => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Assign(name, name_span, value) => {
                self.resolve(name, *name_span);
                self.expr(value);
            }
            ExprKind::Call(_, _, args) => args.iter().for_each(|arg| self.expr(arg)),
            ExprKind::If(cond, then, otherwise) => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::For(for_loop) => {
                self.expr(&for_loop.start);
                self.locals.push(for_loop.var.clone());
                self.expr(&for_loop.end);
                if let Some(step) = &for_loop.step {
                    self.expr(step);
                }
                self.expr(&for_loop.body);
                self.locals.pop();
            }
            ExprKind::VarIn(bindings, body) => {
                let depth = self.locals.len();
                for binding in bindings {
                    if let Some(init) = &binding.init {
                        self.expr(init);
                    }
                    self.locals.push(binding.name.clone());
                }
                self.expr(body);
                self.locals.truncate(depth);
            }
        }
    }
}
