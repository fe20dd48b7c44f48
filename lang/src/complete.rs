//! Whether an entry is complete, so the shell knows to ask for another line.

use crate::lexer::lex;
use crate::operators::Operators;
use crate::parser::{Limits, parse};

/// The state of a partly typed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completeness {
    /// It parses: submit it.
    Complete,
    /// It stops in the middle of something (an open parenthesis, `def f(x)` with no body, a trailing
    /// operator): ask for another line.
    Incomplete,
    /// It has a mistake that more input cannot fix: submit it so the error is reported at once.
    Invalid,
}

/// Decides whether `source` is complete, given the operators defined so far and the `limits` it will be
/// analyzed with.
pub fn completeness(source: &str, operators: &Operators, limits: Limits) -> Completeness {
    let (tokens, lex_errors) = lex(source);
    if !lex_errors.is_empty() {
        return Completeness::Invalid;
    }
    let parsed = parse(source, &tokens, operators, limits);
    match parsed.diagnostics.first() {
        None => Completeness::Complete,
        Some(first) if first.at_end_of_input => Completeness::Incomplete,
        Some(_) => Completeness::Invalid,
    }
}
