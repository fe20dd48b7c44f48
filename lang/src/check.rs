//! Static checks that need no engine: every variable resolves, no parameter is named twice.
//!
//! Names resolve innermost first: `var`/`for` locals, then parameters, then globals. The globals defined
//! before the entry are an input; a global item makes its names visible to the items after it.

use std::collections::HashSet;

use crate::ast::*;
use crate::diagnostic::{Diagnostic, shorten};
use crate::poll::Poll;
use crate::scopes::Scopes;

/// What the session knows about names before an entry: enough to check the entry and to word its errors.
pub trait Scope {
    /// Whether `name` is a global defined before this entry.
    fn is_global(&self, name: &str) -> bool;
    /// Whether `name` is a function (so using it as a value gets "call it as `name(...)`").
    fn is_function(&self, _name: &str) -> bool {
        false
    }
    /// The globals defined before this entry, to suggest for a misspelt name.
    fn global_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A scope that knows only which names are globals.
pub struct GlobalsOnly<'a>(pub &'a dyn Fn(&str) -> bool);

impl Scope for GlobalsOnly<'_> {
    fn is_global(&self, name: &str) -> bool {
        (self.0)(name)
    }
}

/// Checks `items` in order, against what `scope` knows of the names defined before this entry.
pub fn check<'a>(items: &'a [Item], scope: &'a dyn Scope) -> Vec<Diagnostic> {
    check_until(items, scope, &|| false).unwrap_or_default()
}

/// As [`check`], asking `stop` every few thousand expressions whether to give up (`None`: it did).
pub fn check_until<'a>(items: &'a [Item], scope: &'a dyn Scope, stop: &'a dyn Fn() -> bool) -> Option<Vec<Diagnostic>> {
    let mut checker = Checker {
        scope,
        entry_globals: HashSet::new(),
        entry_functions: HashSet::new(),
        locals: Scopes::default(),
        diagnostics: Vec::new(),
        poll: Poll::new(stop),
    };
    for item in items {
        checker.item(item);
    }
    (!checker.poll.stopped()).then_some(checker.diagnostics)
}

struct Checker<'a> {
    scope: &'a dyn Scope,
    /// Functions defined by earlier items of this entry.
    entry_functions: HashSet<String>,
    /// Globals defined by earlier items of this entry.
    entry_globals: HashSet<String>,
    /// The names in scope inside the current function.
    locals: Scopes<'a, ()>,
    diagnostics: Vec<Diagnostic>,
    poll: Poll<'a>,
}

impl<'a> Checker<'a> {
    fn item(&mut self, item: &'a Item) {
        self.locals.clear();
        match &item.kind {
            ItemKind::Def(function) => {
                self.entry_functions.insert(function.proto.name.clone());
                self.params(&function.proto);
                for param in &function.proto.params {
                    self.locals.bind(&param.name, ());
                }
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
        let known = self.locals.contains(name) || self.entry_globals.contains(name) || self.scope.is_global(name);
        if known {
            return;
        }
        let shown = shorten(name);
        if self.entry_functions.contains(name) || self.scope.is_function(name) {
            let message = format!("`{shown}` is a function; call it as `{shown}(...)`");
            self.diagnostics.push(Diagnostic::error(span, message).with_label("a function, not a value"));
            return;
        }
        let mut diagnostic = Diagnostic::error(span, format!("unknown variable `{shown}`"))
            .with_label("not a parameter, a local or a global");
        diagnostic = match self.nearest_name(name) {
            Some(near) => diagnostic.with_note(format!("did you mean `{near}`?")),
            None => diagnostic.with_note(format!("define a global first with `var {shown} = ...`")),
        };
        self.diagnostics.push(diagnostic);
    }

    /// The variable in scope whose name is closest to `name` (a typo away), if any.
    fn nearest_name(&self, name: &str) -> Option<String> {
        let candidates = (self.locals.names().map(str::to_string))
            .chain(self.entry_globals.iter().cloned())
            .chain(self.scope.global_names());
        nearest(name, candidates)
    }

    fn expr(&mut self, expr: &'a Expr) {
        if self.poll.tick() {
            return;
        }
        match &expr.kind {
            ExprKind::Number(_) => {}
            ExprKind::Var(name) => self.resolve(name, expr.span),
            ExprKind::Unary(_, operand) => self.expr(operand),
            ExprKind::Binary(first, operations) => {
                self.expr(first);
                operations.iter().for_each(|operation| self.expr(&operation.rhs));
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
                let depth = self.locals.depth();
                self.locals.bind(&for_loop.var, ());
                self.expr(&for_loop.end);
                if let Some(step) = &for_loop.step {
                    self.expr(step);
                }
                self.expr(&for_loop.body);
                self.locals.leave(depth);
            }
            ExprKind::VarIn(bindings, body) => {
                let depth = self.locals.depth();
                for binding in bindings {
                    if let Some(init) = &binding.init {
                        self.expr(init);
                    }
                    self.locals.bind(&binding.name, ());
                }
                self.expr(body);
                self.locals.leave(depth);
            }
        }
    }
}

/// The candidate closest to `name` by edit distance (a swap of neighbouring letters counts as one edit), if
/// it is close enough to be a typo: at most 2 edits, and fewer than the name's length.
pub fn nearest(name: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    // `binary%` is one edit from `binary&`, but an operator's symbol is chosen, not mistyped.
    let operator = |name: &str| {
        let symbol = name.strip_prefix("binary").or_else(|| name.strip_prefix("unary"));
        symbol.is_some_and(|symbol| symbol.chars().count() == 1)
    };
    if operator(name) {
        return None;
    }
    let limit = 2.min(name.chars().count().saturating_sub(1));
    (candidates.into_iter())
        .filter(|candidate| candidate != name)
        .map(|candidate| (strsim::osa_distance(name, &candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}
