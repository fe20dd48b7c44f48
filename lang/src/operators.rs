//! The operator table: which operators exist at a point in a session, and their precedences.
//!
//! It is an input to the parser because Kaleidoscope's grammar depends on it: `a | b` parses only once
//! `binary|` is defined. The engine keeps the session's table and hands the parser a copy per entry.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{ASSIGN_PRECEDENCE, BUILTIN_BINARY, ProtoKind};
use crate::token::TokenKind;

/// The binary and unary operators defined at some point, with binary precedences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operators {
    binary: BTreeMap<char, u8>,
    unary: BTreeSet<char>,
}

/// What parsing one text depended on in an operator table: the meaning (binary precedence, unary or not)
/// of each operator character the text uses, `=` aside (assignment never changes). Kept with a definition,
/// it says whether the text still parses the same under a later table, and rebuilds the table it had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorMeanings(Vec<(char, Option<u8>, bool)>);

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

    /// The meanings in this table of the operator characters of `text`.
    pub fn meanings_for(&self, text: &str) -> OperatorMeanings {
        let (tokens, _) = crate::lexer::lex(text);
        let mut chars: Vec<char> = (tokens.iter())
            .filter_map(|t| match t.kind {
                TokenKind::Op(op) if op != '=' => Some(op),
                _ => None,
            })
            .collect();
        chars.sort_unstable();
        chars.dedup();
        OperatorMeanings(chars.into_iter().map(|op| (op, self.binary.get(&op).copied(), self.is_unary(op))).collect())
    }

    /// Whether every operator in `meanings` means the same here (so a text parsed under them parses the
    /// same under this table).
    pub fn agrees_with(&self, meanings: &OperatorMeanings) -> bool {
        (meanings.0.iter())
            .all(|&(op, binary, unary)| self.binary.get(&op).copied() == binary && self.is_unary(op) == unary)
    }

    /// This table with the operators of `meanings` as they were then.
    pub fn with_meanings(&self, meanings: &OperatorMeanings) -> Operators {
        let mut table = self.clone();
        for &(op, binary, unary) in &meanings.0 {
            match binary {
                Some(precedence) => table.binary.insert(op, precedence),
                None => table.binary.remove(&op),
            };
            if unary {
                table.unary.insert(op);
            } else {
                table.unary.remove(&op);
            }
        }
        table
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
