//! Rendering diagnostics for people: `SOURCE:LINE:COL: error: message`, the source line, a caret line.
//!
//! The first line is the compilers' (gcc, clang) location format, which editors and terminals link up;
//! the snippet below it is drawn by annotate-snippets (rustc's renderer), which also windows very long
//! lines, shows control characters visibly and lines carets up under wide characters:
//!
//! ```text
//! <repl:3>:1:14: error: expected expression, found end of input
//!   |
//! 1 | def f(x) (x +
//!   |              ^
//! ```
//!
//! This is the only place that knows the layout.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity};
use crate::line_ends::{line_end, line_start, line_starts, with_newlines};

/// Renders `diagnostic` against `source` (the entry's text), naming the entry `source_name`.
///
/// Columns count characters (not bytes) from 1.
pub fn render(diagnostic: &Diagnostic, source_name: &str, source: &str) -> String {
    render_with(diagnostic, source_name, source, false, |at| line_starts(&source[..at]).count() + 1)
}

/// As [`render`], finding line numbers in `lines` (made once for `source`): rendering many diagnostics
/// against one long file then costs the diagnostics, not their count times the file. With `color`, the
/// text has ANSI colours as rustc's: `error` red, `warning` yellow, the caret line coloured to match.
pub fn render_indexed(
    diagnostic: &Diagnostic,
    source_name: &str,
    source: &str,
    lines: &LineIndex,
    color: bool,
) -> String {
    render_with(diagnostic, source_name, source, color, |at| lines.line_of(at))
}

/// Where each line of a text starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`'s lines.
    pub fn new(text: &str) -> LineIndex {
        LineIndex { starts: std::iter::once(0).chain(line_starts(text)).collect() }
    }

    /// The line (from 1) holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

fn render_with(
    diagnostic: &Diagnostic,
    source_name: &str,
    source: &str,
    color: bool,
    line_of: impl Fn(usize) -> usize,
) -> String {
    let mut start = clamp_to_char_boundary(source, diagnostic.span.start as usize);
    // An error at the very end of input that ends with a newline is shown at the end of the last line.
    if start == source.len() && source.ends_with(['\n', '\r']) {
        start -= 1;
    }
    let end = clamp_to_char_boundary(source, (diagnostic.span.end as usize).max(start));
    let line_start = line_start(source, start);
    let excerpt_end = line_end(source, end);
    let line_number = line_of(start);
    let column = source[line_start..start].chars().count() + 1;
    let (level, severity) = match diagnostic.severity {
        Severity::Error => (Level::ERROR, "error"),
        Severity::Warning => (Level::WARNING, "warning"),
        Severity::Note => (Level::NOTE, "note"),
    };
    let title = format!("{source_name}:{line_number}:{column}: {severity}: {}", diagnostic.message);
    // The renderer escapes control characters in a title, so a coloured title goes in after rendering, in
    // place of a marker: bold as the renderer makes titles, with the severity in its colour.
    let (shown_title, colored_title) = match (color, diagnostic.severity) {
        (false, _) => (title, None),
        (true, severity) => {
            let (paint, name) = match severity {
                Severity::Error => ("\x1b[1;31m", "error"),
                Severity::Warning => ("\x1b[1;33m", "warning"),
                Severity::Note => ("\x1b[1;36m", "note"),
            };
            let colored =
                format!("{source_name}:{line_number}:{column}: {paint}{name}\x1b[0m\x1b[1m: {}", diagnostic.message);
            (TITLE_MARKER.to_string(), Some(colored))
        }
    };
    // Only the lines the span touches are handed over, so a 10 MB entry costs no more than a short one.
    let mut annotation = AnnotationKind::Primary.span(start - line_start..end - line_start);
    if let Some(label) = &diagnostic.label {
        annotation = annotation.label(label.as_str());
    }
    // The renderer knows only `\n`: a lone `\r` becomes one (same length, so the span stays put).
    let excerpt = with_newlines(&source[line_start..excerpt_end]);
    let snippet = Snippet::source(excerpt.as_ref()).line_start(line_number).annotation(annotation);
    let mut group = Group::with_title(level.no_name().primary_title(shown_title)).element(snippet);
    for note in &diagnostic.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let mut out = renderer.render(&[group]);
    if let Some(colored) = colored_title {
        out = out.replacen(TITLE_MARKER, &colored, 1);
    }
    out.push('\n');
    out
}

/// Renders every diagnostic in order, each as [`render`] does.
pub fn render_all(diagnostics: &[Diagnostic], source_name: &str, source: &str) -> String {
    diagnostics.iter().map(|d| render(d, source_name, source)).collect()
}

/// Stands for the title in a coloured rendering until the coloured title replaces it.
const TITLE_MARKER: &str = "kaleido-diagnostic-title-marker";

fn clamp_to_char_boundary(source: &str, mut index: usize) -> usize {
    index = index.min(source.len());
    while !source.is_char_boundary(index) {
        index -= 1;
    }
    index
}
