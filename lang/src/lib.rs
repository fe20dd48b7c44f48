//! The kaleido language front end: source text to checked AST, with diagnostics.
//!
//! The stages, one file each: [`lexer`] (text to tokens), [`parser`] (tokens to [`ast`], against the
//! [`operators`] defined so far), [`check`] (name resolution), [`printer`] (AST back to text),
//! [`complete`] (is a partly typed entry complete?), and [`diagnostic`] (messages and their rendering).
//!
//! Invariants: nothing here knows about Cranelift, terminals or files; parsing never panics and never fails
//! outright, it returns the items that parsed and a diagnostic for everything else.
#![deny(unreachable_pub)]
#![deny(missing_docs)]

pub mod ast;
pub mod check;
pub mod complete;
pub mod diagnostic;
pub mod lexer;
pub mod line_ends;
pub mod next_item;
pub mod operators;
pub mod packed;
pub mod parser;
pub mod poll;
pub mod printer;
pub mod scopes;
pub mod span;
pub mod token;
mod token_stream;

pub use check::{Scope, nearest};
pub use complete::{Completeness, completeness};
pub use diagnostic::render::{LineIndex, render, render_all, render_indexed};
pub use diagnostic::{Diagnostic, Severity, has_errors};
pub use operators::{OperatorMeanings, OperatorUses, Operators};
pub use parser::Limits;
pub use span::Span;

/// The result of [`analyze`]: checked items and the diagnostics.
pub type Analysis = parser::Parsed;

/// Lexes, parses and checks one entry. `operators` and `is_global` describe the session before the entry.
/// The tree may nest as deeply as the default [`Limits`] allow (for a 2 MiB stack).
///
/// The items are usable only when the diagnostics hold no error.
pub fn analyze(source: &str, operators: &Operators, is_global: &dyn Fn(&str) -> bool) -> Analysis {
    analyze_in(source, operators, &check::GlobalsOnly(is_global), Limits::default())
}

/// As [`analyze`], with a [`Scope`] that also knows the session's functions and globals, so errors can
/// say "`fib` is a function" or "did you mean `total`?", and `limits` for the stack the caller will walk
/// the tree on.
pub fn analyze_in(source: &str, operators: &Operators, scope: &dyn Scope, limits: Limits) -> Analysis {
    analyze_until(source, operators, scope, limits, &|| false).expect("never stopped")
}

/// As [`analyze_in`], asking `stop` every few thousand steps of each pass whether to give up (`None`: it
/// did, and the entry is to be dropped).
pub fn analyze_until(
    source: &str,
    operators: &Operators,
    scope: &dyn Scope,
    limits: Limits,
    stop: &dyn Fn() -> bool,
) -> Option<Analysis> {
    if source.len() > span::MAX_SOURCE_LEN {
        let message = format!("the entry is {} bytes long; the limit is {} bytes", source.len(), span::MAX_SOURCE_LEN);
        let diagnostics = vec![Diagnostic::error(Span::new(0, 0), message)];
        return Some(Analysis { items: Vec::new(), diagnostics, item_spans: Vec::new() });
    }
    let (tokens, mut diagnostics) = lexer::lex_until(source, stop)?;
    let mut parsed = parser::parse_until(source, &tokens, operators, limits, stop)?;
    diagnostics.append(&mut parsed.diagnostics);
    if !has_errors(&diagnostics) {
        diagnostics.extend(check::check_until(&parsed.items, scope, stop)?);
    }
    parsed.diagnostics = diagnostics;
    Some(parsed)
}

/// The rest of [`analyze_until`] for items already parsed without errors (a script's item, from
/// [`next_item::parse_next_item`]): checks them against `scope`, adding what it finds to `parsed`'s
/// diagnostics. `None` when `stop` said to give up.
pub fn check_parsed(mut parsed: Analysis, scope: &dyn Scope, stop: &dyn Fn() -> bool) -> Option<Analysis> {
    debug_assert!(!has_errors(&parsed.diagnostics), "only a parse without errors is checked");
    parsed.diagnostics.extend(check::check_until(&parsed.items, scope, stop)?);
    Some(parsed)
}

/// The spans of the top-level items of `source` (failed ones included), parsing with `operators` and the
/// operators the source itself defines, within `limits` (those the items will be analyzed with). A script
/// runner finds items one at a time with [`next_item`] instead, under the session's operators as each item
/// is reached; this whole-source split is what that one reproduces (`lang/tests/next_item.rs`).
///
/// A character the lexer cannot read that lies outside every item is never skipped: it joins the item
/// before it when that item ends on the same line (`def f(x) x _ 3` is a bad definition, then `3`), else it
/// is an item of its own, so running it reports the error.
pub fn item_spans(source: &str, operators: &Operators, limits: Limits) -> Vec<Span> {
    item_spans_until(source, operators, limits, &|| false).expect("never stopped")
}

/// As [`item_spans`], asking `stop` every few thousand tokens whether to give up (`None`: it did).
pub fn item_spans_until(
    source: &str,
    operators: &Operators,
    limits: Limits,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<Span>> {
    let (tokens, diagnostics) = lexer::lex_until(source, stop)?;
    let mut spans = parser::parse_until(source, &tokens, operators, limits, stop)?.item_spans;
    for bad in diagnostics.iter().filter(|d| d.is_error()).map(|d| d.span) {
        if spans.iter().any(|item| item.start <= bad.start && bad.end <= item.end) {
            continue;
        }
        let before = spans.iter().rposition(|item| item.end <= bad.start);
        match before {
            Some(i) if !source[spans[i].end as usize..bad.start as usize].contains(['\n', '\r']) => {
                spans[i] = Span::new(spans[i].start as usize, bad.end as usize);
            }
            _ => {
                let at = spans.partition_point(|item| item.start < bad.start);
                spans.insert(at, bad);
            }
        }
    }
    Some(spans)
}

/// `span` (an item in `text`) extended over the comment that ends its last line, if any, so a definition
/// keeps it (`:show` shows the source with its comments).
pub fn with_trailing_comment(text: &str, span: Span) -> Span {
    let rest = &text[span.end as usize..];
    let line = &rest[..line_ends::line_end(rest, 0)];
    match line.trim_start().starts_with('#') {
        true => Span::new(span.start as usize, span.end as usize + line.trim_end().len()),
        false => span,
    }
}

/// Turns raw input bytes into source text, or an error pointing at the first byte that is not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|error| {
        let at = error.valid_up_to();
        Diagnostic::error(Span::new(at, at + 1), "the input is not valid UTF-8")
            .with_note(format!("byte {at} (0x{:02x}) cannot start or continue a character", bytes[at]))
    })
}
