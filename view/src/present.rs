//! Presentation for every front end: the text people see for values, outcomes, diagnostics, runtime
//! errors with their backtraces, the function listing, a function's source and callers, and completion
//! candidates (a session saved as a script is [`crate::save`]).
//!
//! It does no I/O and knows no terminal: it turns the engine's data into strings. It reads only the
//! engine's public API, which keeps that API honest: whatever a front end needs to show is data the
//! engine returns, not something only this module could reach.

use kaleido_lang::token::KEYWORDS;
use kaleido_lang::{Diagnostic, LineIndex, Span, render_indexed};

use kaleido_engine::{CallSite, Engine, FunctionInfo, FunctionKind, ItemOutcome, RuntimeError, format_value};

/// The line shown for an item, if any: values always, definitions, externs and globals only when
/// `acknowledge` is set (the shell does; a script shows only values).
pub fn describe_item(item: &ItemOutcome, acknowledge: bool) -> Option<String> {
    match item {
        ItemOutcome::Value(value) => Some(format_value(*value)),
        _ if !acknowledge => None,
        ItemOutcome::Defined { name, params, version: 1 } => Some(format!("defined {name}({})", params.join(" "))),
        ItemOutcome::Defined { name, params, version } => {
            Some(format!("redefined {name}({}) (version {version})", params.join(" ")))
        }
        ItemOutcome::Declared { name, params, builtin } => {
            let what = if *builtin { "builtin" } else { "C function" };
            Some(format!("extern {name}({}) bound to the {what}", params.join(" ")))
        }
        ItemOutcome::Global { name, value } => Some(format!("{name} = {}", format_value(*value))),
    }
}

/// A named text that diagnostics point into (a file, a shell entry, a notebook cell), with its lines
/// indexed once, so rendering a diagnostic costs the same at the end of a long file as at its start.
pub struct SourceText<'a> {
    /// How diagnostics name it: `fib.kal`, `<repl:3>`.
    pub name: &'a str,
    /// The whole text.
    pub text: &'a str,
    lines: LineIndex,
    color: bool,
}

impl<'a> SourceText<'a> {
    /// Indexes `text`, named `name`.
    pub fn new(name: &'a str, text: &'a str) -> SourceText<'a> {
        SourceText { name, text, lines: LineIndex::new(text), color: false }
    }

    /// The same text, rendering its diagnostics in ANSI colours (for a terminal) or not.
    pub fn colored(mut self, color: bool) -> SourceText<'a> {
        self.color = color;
        self
    }

    /// The line (from 1) holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.lines.line_of(offset)
    }

    /// `diagnostic`, whose span is relative to the entry starting at byte `offset` of this text, laid out
    /// as `NAME:LINE:COL: error: ...` with the source line and a caret.
    pub fn render(&self, diagnostic: &Diagnostic, offset: usize) -> String {
        let mut shifted = diagnostic.clone();
        shifted.span = Span::new(diagnostic.span.start as usize + offset, diagnostic.span.end as usize + offset);
        render_indexed(&shifted, self.name, self.text, &self.lines, self.color)
    }

    /// Every diagnostic, in order, as [`SourceText::render`] does.
    pub fn render_all(&self, diagnostics: &[Diagnostic], offset: usize) -> String {
        diagnostics.iter().map(|d| self.render(d, offset)).collect()
    }

    /// A runtime error rendered like a compile error, at the item that was running, with the backtrace;
    /// when a function made the failing call, a note shows that call in the function's source.
    pub fn render_runtime_error(&self, error: &RuntimeError, offset: usize, engine: &Engine) -> String {
        let mut diagnostic = Diagnostic::error(error.span, error.to_string());
        if !error.backtrace.is_empty() {
            diagnostic = diagnostic.with_note(format!("backtrace (innermost first): {}", error.backtrace_line()));
        }
        let mut text = self.render(&diagnostic, offset);
        if let Some(site) = &error.call_site {
            text.push_str(&render_call_site(site, engine, self.color));
        }
        text
    }
}

/// The call inside a function where a runtime error arose, in the source of that version. A definition
/// from a file is shown at its lines in the file (its entry is named `FILE:LINE`); one from the shell, at
/// its lines in the entry that defined it.
fn render_call_site(site: &CallSite, engine: &Engine, color: bool) -> String {
    let Some(version) = engine.index().get(&site.function).and_then(|f| f.history.get(site.version as usize - 1))
    else {
        return String::new();
    };
    // `<repl:3>` and `<-e:2>` end in `>`, so only a script's `FILE:LINE` (`<stdin>:4` too) has a line.
    let (name, first_line) = match version.entry_name.rsplit_once(':') {
        Some((file, line)) => match line.parse::<usize>() {
            Ok(line) if line > 0 => (file, line),
            _ => (&*version.entry_name, 1),
        },
        None => (&*version.entry_name, 1),
    };
    // Blank lines in front put the definition at its place in the file; only the lines the span touches
    // are rendered.
    let source = format!("{}{}", "\n".repeat(first_line - 1), version.source);
    let shift = first_line - 1;
    let span = Span::new(site.span.start as usize + shift, site.span.end as usize + shift);
    let message = format!("in `{}` (version {}), this call failed", site.function, site.version);
    let note = Diagnostic::note(span, message).with_label("here");
    render_indexed(&note, name, &source, &LineIndex::new(&source), color)
}

/// The names a session knows, for completion and parameter hints: a snapshot a line editor can keep.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Functions a call can name (no operators), with the parameter names to show in a hint.
    pub functions: Vec<(String, Vec<String>)>,
    /// Global variables.
    pub globals: Vec<String>,
}

impl Names {
    /// The names `engine` knows now.
    pub fn of(engine: &Engine) -> Names {
        let plain = |f: &&FunctionInfo| f.operator == kaleido_lang::ast::ProtoKind::Plain && f.arity.is_some();
        let functions = (engine.index().functions().filter(plain))
            .map(|f| {
                let params = match f.current() {
                    Some(version) => version.params.iter().map(|p| p.to_string()).collect(),
                    None if !f.extern_params.is_empty() => f.extern_params.clone(),
                    None if f.kind == FunctionKind::Builtin && f.arity == Some(2) => vec!["x".into(), "y".into()],
                    None => (0..f.arity.unwrap_or(0)).map(|i| format!("a{i}")).collect(),
                };
                (f.name.to_string(), params)
            })
            .collect();
        let globals = engine.globals().into_iter().map(|(name, _)| name).collect();
        Names { functions, globals }
    }

    /// The names `word` may complete to: keywords, functions and globals, sorted.
    pub fn completions(&self, word: &str) -> Vec<String> {
        if word.is_empty() {
            return Vec::new();
        }
        let mut names: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        names.extend(self.functions.iter().map(|(name, _)| name.clone()));
        names.extend(self.globals.iter().cloned());
        names.retain(|name| name.starts_with(word));
        names.sort();
        names.dedup();
        names
    }

    /// The parameters of function `name`, if it is one.
    pub fn parameters(&self, name: &str) -> Option<&[String]> {
        self.functions.iter().find(|(n, _)| n == name).map(|(_, params)| params.as_slice())
    }
}
