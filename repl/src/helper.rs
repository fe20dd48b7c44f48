//! The rustyline helper: syntax highlighting from kaleido's own lexer, completion of keywords, functions,
//! globals and commands, and a hint of a function's parameters after `name(`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use kaleido_lang::lexer::lex_with_comments;
use kaleido_lang::token::{KEYWORDS, TokenKind};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::{Context, Helper, Validator};

use crate::commands::COMMANDS;

/// What the session knows, refreshed by the shell after every entry.
#[derive(Default)]
pub struct Known {
    /// Callable functions (no operators) and their parameter names.
    pub functions: Vec<(String, Vec<String>)>,
    /// Global variables.
    pub globals: Vec<String>,
}

/// The shell's rustyline helper. Entries are validated by the shell loop itself (to show a continuation
/// prompt), so the derived validator accepts every line.
#[derive(Helper, Validator)]
pub struct KalHelper {
    /// The session's names, shared with the shell.
    pub known: Rc<RefCell<Known>>,
    /// Whether to colour the input.
    pub color: bool,
}

const KEYWORD: &str = "\x1b[1;35m";
const NUMBER: &str = "\x1b[36m";
const COMMENT: &str = "\x1b[2m";
const OPERATOR: &str = "\x1b[33m";
const COMMAND: &str = "\x1b[32m";
const HINT: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Highlighter for KalHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        if line.trim_start().starts_with(':') {
            return Cow::Owned(format!("{COMMAND}{line}{RESET}"));
        }
        let mut out = String::with_capacity(line.len() * 2);
        let mut last = 0;
        for token in lex_with_comments(line) {
            let range = token.span.range();
            let colour = match token.kind {
                kind if kind.is_keyword() => KEYWORD,
                TokenKind::Number(_) => NUMBER,
                TokenKind::Comment => COMMENT,
                TokenKind::Op(_) => OPERATOR,
                _ => continue,
            };
            out.push_str(&line[last..range.start]);
            out.push_str(colour);
            out.push_str(&line[range.clone()]);
            out.push_str(RESET);
            last = range.end;
        }
        out.push_str(&line[last..]);
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color { Cow::Owned(format!("{HINT}{hint}{RESET}")) } else { Cow::Borrowed(hint) }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Completer for KalHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).map_or(0, |i| i + 1);
        let word = &before[start..];
        let candidates = completions(word, &self.known.borrow(), before[..start].trim().is_empty());
        let pairs = candidates.into_iter().map(|c| Pair { display: c.clone(), replacement: c }).collect();
        Ok((start, pairs))
    }
}

/// The completions of `word`: commands at the start of a line, else keywords, functions and globals.
pub fn completions(word: &str, known: &Known, at_line_start: bool) -> Vec<String> {
    if word.starts_with(':') {
        if !at_line_start {
            return Vec::new();
        }
        let names = COMMANDS.iter().map(|(c, _)| c.split(' ').next().unwrap_or(c).to_string());
        return names.filter(|c| c.starts_with(word)).collect();
    }
    if word.is_empty() {
        return Vec::new();
    }
    let mut names: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
    names.extend(known.functions.iter().map(|(name, _)| name.clone()));
    names.extend(known.globals.iter().cloned());
    names.retain(|name| name.starts_with(word));
    names.sort();
    names.dedup();
    names
}

impl Hinter for KalHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let before = line[..pos].strip_suffix('(')?;
        let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let name = &before[start..];
        let known = self.known.borrow();
        let (_, params) = known.functions.iter().find(|(n, _)| n == name)?;
        Some(format!("{})", params.join(", ")))
    }
}
