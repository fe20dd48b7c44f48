//! Rendering diagnostics for people: `SOURCE:LINE:COL: error: message`, the source line, a caret line.
//!
//! The format is the compilers' (gcc, clang, rustc's short form), which editors and terminals link up:
//!
//! ```text
//! <repl:3>:1:14: error: expected expression, found end of input
//!   1 | def f(x) (x +
//!     |              ^ expected an expression here
//! ```
//!
//! ariadne, codespan-reporting and annotate-snippets were weighed: each puts its own header (`error: ...`,
//! then ` --> file:1:14`) above the snippet and none prints the `FILE:LINE:COL:` first line the issues
//! require, so this one small function renders it. It is the only place that knows the layout.

use super::{Diagnostic, Severity};

/// Renders `diagnostic` against `source` (the entry's text), naming the entry `source_name`.
///
/// Columns count characters (not bytes) from 1, so a caret lines up under non-ASCII text too.
pub fn render(diagnostic: &Diagnostic, source_name: &str, source: &str) -> String {
    let start = clamp_to_char_boundary(source, diagnostic.span.start as usize);
    let end = clamp_to_char_boundary(source, (diagnostic.span.end as usize).max(start));
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
    let line_number = source[..start].matches('\n').count() + 1;
    let column = source[line_start..start].chars().count() + 1;
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!("{source_name}:{line_number}:{column}: {severity}: {}\n", diagnostic.message);

    let gutter = line_number.to_string();
    let pad = " ".repeat(gutter.len());
    // A multi-line span is underlined to the end of its first line.
    let (text, lead, width) =
        window(&source[line_start..start], &source[start..end.min(line_end)], &source[end.min(line_end)..line_end]);
    out.push_str(&format!("{pad} |\n{gutter} | {text}\n"));
    out.push_str(&format!("{pad} | {}{}", " ".repeat(lead), "^".repeat(width)));
    if let Some(label) = &diagnostic.label {
        out.push(' ');
        out.push_str(label);
    }
    out.push('\n');
    for note in &diagnostic.notes {
        out.push_str(&format!("{pad} = note: {note}\n"));
    }
    out
}

/// Renders every diagnostic in order, each as [`render`] does.
pub fn render_all(diagnostics: &[Diagnostic], source_name: &str, source: &str) -> String {
    diagnostics.iter().map(|d| render(d, source_name, source)).collect()
}

/// How many characters of context a snippet shows on each side of the caret on a long line.
const CONTEXT_CHARS: usize = 60;

/// Builds the snippet line from the text before, under and after the caret, and returns it with the caret's
/// offset and width in characters. A line longer than a terminal (a 10 MB line) is cut to a window around
/// the caret, with `...` marking what was left out. Control characters (a NUL byte, a tab) are shown as one
/// visible character each so the caret stays aligned and the terminal stays sane.
fn window(before: &str, under: &str, after: &str) -> (String, usize, usize) {
    let visible = |c: char| if c.is_control() { '\u{fffd}' } else { c };
    let before_count = before.chars().count();
    let skip = before_count.saturating_sub(CONTEXT_CHARS);
    let mut text = String::new();
    if skip > 0 {
        text.push_str("...");
    }
    text.extend(before.chars().skip(skip).map(visible));
    let lead = text.chars().count();
    let under: String = under.chars().take(2 * CONTEXT_CHARS).map(visible).collect();
    let width = under.chars().count().max(1);
    text.push_str(&under);
    text.extend(after.chars().take(CONTEXT_CHARS).map(visible));
    if after.chars().nth(CONTEXT_CHARS).is_some() {
        text.push_str("...");
    }
    (text, lead, width)
}

fn clamp_to_char_boundary(source: &str, mut index: usize) -> usize {
    index = index.min(source.len());
    while !source.is_char_boundary(index) {
        index -= 1;
    }
    index
}
