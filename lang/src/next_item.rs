//! A script's items one at a time: each parsed once, when it is reached, against the operators the
//! session has then, so the parse a script runner splits the script with is the parse the engine runs.
//!
//! A runner asks [`next_item_start`] where the next item begins, then [`parse_next_item`] for that
//! item: how far it reaches and, when it parsed cleanly, its tree (spans relative to its start). An
//! item with any diagnostic comes without a tree, and the engine analyzes its text alone, exactly as an
//! entry of that text, so every message is the one the entry would give.
//!
//! Items split as [`crate::item_spans`] splits a whole script: a character the lexer cannot read, outside
//! every item, joins the item before it when that item ends on the same line (only `;` and comments
//! between), else it is an item of its own.

use crate::lexer::Lexer;
use crate::line_ends::line_end;
use crate::operators::Operators;
use crate::parser::{Limits, Parsed, parse_first_item};
use crate::token::TokenKind;

/// The next item of a script, found by [`parse_next_item`].
#[derive(Debug)]
pub struct NextItem {
    /// Its length in bytes, from its first token: to its last token, or, after an error, to where the
    /// next item starts, and over unreadable characters that follow it on its line.
    pub len: usize,
    /// Its tree, when it parsed without any diagnostic (every span relative to its start).
    pub parsed: Option<Parsed>,
}

/// Where the next item of `source` at or after byte `from` starts: past blanks, comments and `;`, at the
/// next token or unreadable character (`source.len()` when there is none).
pub fn next_item_start(source: &str, from: usize) -> usize {
    let mut lexer = Lexer::at(source, from);
    loop {
        let token = lexer.next_token();
        if let Some(bad) = lexer.diagnostics().first().filter(|d| d.span.start < token.span.start) {
            return bad.span.start as usize;
        }
        match token.kind {
            TokenKind::Comment | TokenKind::Semi => continue,
            _ => return token.span.start as usize,
        }
    }
}

/// The item at the start of `source` (a [`next_item_start`]), parsed against `operators` within `limits`,
/// its tokens lexed only as far as the parse reads. `None` when `stop` said to give up.
pub fn parse_next_item(
    source: &str,
    operators: &Operators,
    limits: Limits,
    stop: &dyn Fn() -> bool,
) -> Option<NextItem> {
    let first = parse_first_item(source, operators, limits, stop)?;
    // An unreadable character before the first token is an item of its own.
    if let Some(bad) = first.lexer_errors.iter().find(|bad| bad.end <= first.span.start) {
        return Some(NextItem { len: bad.end as usize, parsed: None });
    }
    let end = first.span.end as usize;
    let len = end.max(unreadable_after(source, end));
    let inside = first.lexer_errors.iter().any(|bad| (bad.start as usize) < end);
    let clean = first.diagnostics.is_empty() && !inside && len == end;
    let parsed = match first.item {
        Some(item) if clean => {
            Some(Parsed { items: vec![item], diagnostics: Vec::new(), item_spans: vec![first.span] })
        }
        _ => None,
    };
    Some(NextItem { len, parsed })
}

/// Where the unreadable characters that follow byte `end` on its line end, with only `;` and comments
/// between them and `end` (`end` when there are none): they belong to the item that ends there.
fn unreadable_after(source: &str, end: usize) -> usize {
    let line = &source[..end + line_end(&source[end..], 0)];
    let mut lexer = Lexer::at(line, end);
    let mut reach = end;
    loop {
        let token = lexer.next_token();
        // A malformed number is a token of the next item, not a character between.
        let between = lexer.diagnostics().iter().filter(|d| d.span.end <= token.span.start);
        reach = between.map(|d| d.span.end as usize).fold(reach, usize::max);
        if !matches!(token.kind, TokenKind::Comment | TokenKind::Semi) {
            return reach;
        }
    }
}
