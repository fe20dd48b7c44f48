//! Diagnostics: the project-owned error and warning type every stage reports through.
//!
//! A diagnostic holds byte spans into its entry's source, never the source itself; the text is attached only
//! when it is rendered (see [`render`]), so the engine can keep diagnostics cheaply and the shell, the script
//! runner and a notebook can each render them their own way.

pub mod render;

use crate::span::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The entry is rejected.
    Error,
    /// The entry is accepted, but something deserves attention.
    Warning,
    /// More about another diagnostic (where inside a function a runtime error arose).
    Note,
}

/// One message about one place in an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A plain sentence naming what was found, without a trailing period.
    pub message: String,
    /// The place the message is about.
    pub span: Span,
    /// A short label written under the caret, if any.
    pub label: Option<String>,
    /// Extra sentences shown after the snippet (`= note: ...`).
    pub notes: Vec<String>,
    /// True when the problem is that the input ended too early: the shell then asks for more lines.
    pub at_end_of_input: bool,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            notes: Vec::new(),
            at_end_of_input: false,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(span, message) }
    }

    /// A note at `span`, about another diagnostic.
    pub fn note(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Note, ..Diagnostic::error(span, message) }
    }

    /// Adds the label written under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a note shown after the snippet.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Whether this diagnostic rejects the entry.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Whether any of `diagnostics` is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Cuts a name or literal quoted in a message to a readable length, so that a 10 MB identifier does not
/// make a 10 MB message.
pub fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

/// How many names a message lists before it counts the rest: a function with 5,000 callers gets a line,
/// not 44 KB.
pub const NAMES_SHOWN: usize = 5;

/// `a, b, c` for at most [`NAMES_SHOWN`] names, else the first ones and how many others: `a, b, c, d, e
/// and 4,995 others`.
pub fn some_of(names: &[String]) -> String {
    if names.len() <= NAMES_SHOWN {
        return names.join(", ");
    }
    let rest = names.len() - NAMES_SHOWN;
    format!(
        "{} and {} other{}",
        names[..NAMES_SHOWN].join(", "),
        with_thousands(rest),
        if rest == 1 { "" } else { "s" }
    )
}

/// `4995` as `4,995`.
fn with_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
