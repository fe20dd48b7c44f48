//! Questions about a body that decide how it is translated and tiered: does it call or loop, does it
//! call itself, what does it call.

use std::collections::BTreeSet;

use kaleido_lang::ast::{Expr, ExprKind, binary_name, is_builtin_binary, unary_name};

use super::MathInstruction;

/// Whether `expr` contains a call (to a function or a user-defined operator) or a loop.
pub(crate) fn may_recurse_or_loop(expr: &Expr) -> bool {
    any_node(expr, &mut |e| match &e.kind {
        // A builtin that is an instruction is no call.
        ExprKind::Call(name, ..) => MathInstruction::of(name).is_none(),
        ExprKind::Unary(..) | ExprKind::For(_) => true,
        ExprKind::Binary(_, operations) => operations.iter().any(|o| !is_builtin_binary(o.op)),
        _ => false,
    })
}

/// Whether the body of `name` contains a loop or calls `name` itself (as a function or an operator):
/// the code that can run hot by itself, which baseline code counts calls for.
pub(crate) fn loops_or_calls_itself(name: &str, expr: &Expr) -> bool {
    any_node(expr, &mut |e| match &e.kind {
        ExprKind::For(_) => true,
        ExprKind::Call(callee, _, _) => callee == name,
        ExprKind::Unary(op, _) => unary_name(*op) == name,
        ExprKind::Binary(_, operations) => operations.iter().any(|o| binary_name(o.op) == name),
        _ => false,
    })
}

/// The names of the functions `expr` calls: functions (builtins too) and user-defined operators.
pub(crate) fn callees_of(expr: &Expr) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut note = |e: &Expr| {
        match &e.kind {
            ExprKind::Call(name, ..) => {
                names.insert(name.clone());
            }
            ExprKind::Unary(op, _) => {
                names.insert(unary_name(*op));
            }
            ExprKind::Binary(_, operations) => {
                names.extend(operations.iter().filter(|o| !is_builtin_binary(o.op)).map(|o| binary_name(o.op)));
            }
            _ => {}
        }
        false
    };
    any_node(expr, &mut note);
    names
}

/// Whether `expr` contains a loop.
pub(crate) fn has_loop(expr: &Expr) -> bool {
    any_node(expr, &mut |e| matches!(e.kind, ExprKind::For(_)))
}

/// Whether `found` holds for `expr` or any expression inside it (visited in order, stopping at the first).
fn any_node(expr: &Expr, found: &mut dyn FnMut(&Expr) -> bool) -> bool {
    if found(expr) {
        return true;
    }
    match &expr.kind {
        ExprKind::Number(_) | ExprKind::Var(_) => false,
        ExprKind::Unary(_, operand) => any_node(operand, found),
        ExprKind::Binary(first, operations) => {
            any_node(first, found) || operations.iter().any(|o| any_node(&o.rhs, found))
        }
        ExprKind::Assign(_, _, value) => any_node(value, found),
        ExprKind::Call(_, _, args) => args.iter().any(|arg| any_node(arg, found)),
        ExprKind::If(c, t, e) => any_node(c, found) || any_node(t, found) || any_node(e, found),
        ExprKind::For(f) => {
            any_node(&f.start, found)
                || any_node(&f.end, found)
                || f.step.as_ref().is_some_and(|step| any_node(step, found))
                || any_node(&f.body, found)
        }
        ExprKind::VarIn(bindings, body) => {
            bindings.iter().filter_map(|b| b.init.as_ref()).any(|init| any_node(init, found)) || any_node(body, found)
        }
    }
}

/// Bodies bigger than this many expressions keep their locals in stack slots in the baseline tier (see
/// [`super::FunctionSpec::locals_in_slots`]). Below it SSA variables cost less to translate (a one-liner's
/// parameter is one value, not a slot, a store and a load: 15 % of loading 100,000 one-line definitions),
/// and their worst case, a variable per loop header, is bounded by the size: 200 expressions nest at most
/// 200 loops.
const SSA_LOCALS_UP_TO: usize = 200;

/// Whether the baseline tier keeps `body`'s locals in stack slots: only a body too big for SSA variables
/// to stay cheap. Counts at most [`SSA_LOCALS_UP_TO`] + 1 expressions, so asking costs nothing for a big one.
pub(crate) fn wants_slot_locals(body: &Expr) -> bool {
    let mut seen = 0;
    any_node(body, &mut |_| {
        seen += 1;
        seen > SSA_LOCALS_UP_TO
    })
}
