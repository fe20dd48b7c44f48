//! The operator table: which operators exist at a point in a session, and their precedences.
//!
//! It is an input to the parser because Kaleidoscope's grammar depends on it: `a | b` parses only once
//! `binary|` is defined. The engine keeps the session's table and hands the parser a copy per entry.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{ASSIGN_PRECEDENCE, BUILTIN_BINARY, Expr, ExprKind, ProtoKind, is_builtin_binary};

/// The binary and unary operators defined at some point, with binary precedences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operators {
    binary: BTreeMap<char, u8>,
    unary: BTreeSet<char>,
}

/// What parsing one definition depended on in an operator table: the precedence of each user-defined
/// operator it uses infix, and that each operator it uses prefix was unary. Nothing else in the table can
/// change its parse (a text that parsed used every operator in a way the table allowed), so a later table
/// that agrees on these parses it the same. Kept with each version of a definition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorMeanings {
    /// Operators used infix, with the precedence each had (boxed slices: a session keeps one of these
    /// per version of every definition, and nearly all are empty).
    infix: Box<[(char, u8)]>,
    /// Operators used prefix.
    prefix: Box<[char]>,
}

impl OperatorMeanings {
    /// The operators used infix, each with the precedence it had.
    pub fn infix(&self) -> &[(char, u8)] {
        &self.infix
    }

    /// The operators used prefix.
    pub fn prefix(&self) -> &[char] {
        &self.prefix
    }
}

/// The operators an expression uses: infix (user-defined ones only; the built-ins never change) and
/// prefix, each sorted and listed once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorUses {
    infix: Vec<char>,
    prefix: Vec<char>,
}

impl OperatorUses {
    /// The operators `expr` uses (a walk of the tree: call it where the tree's depth is safe).
    pub fn of(expr: &Expr) -> OperatorUses {
        let mut uses = OperatorUses::default();
        uses.collect(expr);
        for list in [&mut uses.infix, &mut uses.prefix] {
            list.sort_unstable();
            list.dedup();
        }
        uses
    }

    fn collect(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Number(_) | ExprKind::Var(_) => {}
            ExprKind::Unary(op, operand) => {
                self.prefix.push(*op);
                self.collect(operand);
            }
            ExprKind::Binary(first, operations) => {
                self.collect(first);
                for operation in operations {
                    if !is_builtin_binary(operation.op) {
                        self.infix.push(operation.op);
                    }
                    self.collect(&operation.rhs);
                }
            }
            ExprKind::Assign(_, _, value) => self.collect(value),
            ExprKind::Call(_, _, args) => args.iter().for_each(|arg| self.collect(arg)),
            ExprKind::If(cond, then, otherwise) => [cond, then, otherwise].into_iter().for_each(|e| self.collect(e)),
            ExprKind::For(for_loop) => {
                [&for_loop.start, &for_loop.end, &for_loop.body].into_iter().for_each(|e| self.collect(e));
                for_loop.step.iter().for_each(|step| self.collect(step));
            }
            ExprKind::VarIn(bindings, body) => {
                bindings.iter().filter_map(|b| b.init.as_ref()).for_each(|init| self.collect(init));
                self.collect(body);
            }
        }
    }
}

/// The precedence a `def binary` gets when it names none, as in the LLVM tutorial.
pub const DEFAULT_PRECEDENCE: u8 = 30;

/// The lowest and highest precedence a user-defined binary operator may have.
pub const PRECEDENCE_RANGE: std::ops::RangeInclusive<u8> = 1..=100;

impl Default for Operators {
    fn default() -> Self {
        Operators::builtin()
    }
}

impl Operators {
    /// Only the built-in operators `< + - * /`.
    pub fn builtin() -> Operators {
        Operators { binary: BUILTIN_BINARY.iter().copied().collect(), unary: BTreeSet::new() }
    }

    /// The precedence of `op` used as a binary operator (`=` included), if it is one.
    pub fn binary_precedence(&self, op: char) -> Option<u8> {
        if op == '=' { Some(ASSIGN_PRECEDENCE) } else { self.binary.get(&op).copied() }
    }

    /// Whether `op` is a unary operator.
    pub fn is_unary(&self, op: char) -> bool {
        self.unary.contains(&op)
    }

    /// Defines (or redefines, with a new precedence) a binary operator.
    pub fn define_binary(&mut self, op: char, precedence: u8) {
        self.binary.insert(op, precedence);
    }

    /// Defines a unary operator.
    pub fn define_unary(&mut self, op: char) {
        self.unary.insert(op);
    }

    /// What `uses` mean in this table, once `defining` (the prototype of the definition that uses them,
    /// which may use its own operator) is defined too.
    pub fn meanings_of(&self, uses: &OperatorUses, defining: &ProtoKind) -> OperatorMeanings {
        let precedence = |op: char| match *defining {
            ProtoKind::Binary { op: own, precedence } if own == op => Some(precedence),
            _ => self.binary.get(&op).copied(),
        };
        let infix = (uses.infix.iter()).filter_map(|&op| Some((op, precedence(op)?))).collect();
        OperatorMeanings { infix, prefix: uses.prefix.as_slice().into() }
    }

    /// Whether every operator in `meanings` means the same here (so the definition parses the same).
    pub fn agrees_with(&self, meanings: &OperatorMeanings) -> bool {
        meanings.infix.iter().all(|&(op, precedence)| self.binary.get(&op) == Some(&precedence))
            && meanings.prefix.iter().all(|&op| self.is_unary(op))
    }

    /// This table with the operators of `meanings` as they were then.
    pub fn with_meanings(&self, meanings: &OperatorMeanings) -> Operators {
        let mut table = self.clone();
        table.binary.extend(meanings.infix.iter().copied());
        table.unary.extend(meanings.prefix.iter().copied());
        table
    }

    /// Removes the operator a prototype declares (`:forget`); the built-in ones stay.
    pub fn remove(&mut self, kind: &ProtoKind) {
        match *kind {
            ProtoKind::Binary { op, .. } if !is_builtin_binary(op) => {
                self.binary.remove(&op);
            }
            ProtoKind::Unary(op) => {
                self.unary.remove(&op);
            }
            _ => {}
        }
    }

    /// Defines the operator a prototype declares (nothing for a plain function).
    pub fn define(&mut self, kind: &ProtoKind) {
        match *kind {
            ProtoKind::Binary { op, precedence } => self.define_binary(op, precedence),
            ProtoKind::Unary(op) => self.define_unary(op),
            ProtoKind::Plain => {}
        }
    }
}
