//! The operator table: which operators exist at a point in a session, and their precedences.
//!
//! It is an input to the parser because Kaleidoscope's grammar depends on it: `a | b` parses only once
//! `binary|` is defined. The engine keeps the session's table and hands the parser a copy per entry.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{ASSIGN_PRECEDENCE, BUILTIN_BINARY, ProtoKind};

/// The binary and unary operators defined at some point, with binary precedences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operators {
    binary: BTreeMap<char, u8>,
    unary: BTreeSet<char>,
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

    /// Defines the operator a prototype declares (nothing for a plain function).
    pub fn define(&mut self, kind: &ProtoKind) {
        match *kind {
            ProtoKind::Binary { op, precedence } => self.define_binary(op, precedence),
            ProtoKind::Unary(op) => self.define_unary(op),
            ProtoKind::Plain => {}
        }
    }
}
