//! The rustyline helper: syntax highlighting from kaleido's own lexer, completion of keywords, functions,
//! globals and commands, and a hint of a function's parameters after `name(`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use kaleido_lang::lexer::lex_with_comments;
use kaleido_lang::token::TokenKind;
use kaleido_view::present::Names;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::{Context, Helper, Validator};

use crate::commands::command_names;

/// What the session knows, refreshed by the shell after every entry.
pub type Known = Names;

/// The shell's rustyline helper. Entries are validated by the shell loop itself (to show a continuation
/// prompt), so the derived validator accepts every line.
#[derive(Helper, Validator)]
pub struct KalHelper {
    /// The session's names, shared with the shell.
    pub known: Rc<RefCell<Known>>,
    /// Whether to colour the input.
    pub color: bool,
    /// Completes file names after `:load`, `:save` and `:lib`.
    pub files: FilenameCompleter,
}

/// Lines longer than this (in bytes) are shown without colours.
const HIGHLIGHT_LIMIT: usize = 1024;

const KEYWORD: &str = "\x1b[1;35m";
const NUMBER: &str = "\x1b[36m";
const COMMENT: &str = "\x1b[2m";
const OPERATOR: &str = "\x1b[33m";
const COMMAND: &str = "\x1b[32m";
const HINT: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Highlighter for KalHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.len() > HIGHLIGHT_LIMIT {
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

    /// Asks rustyline to redraw the whole line after each key, so colours follow what is typed. Not on
    /// long lines: every redraw costs the line's length, and a pasted 20 KB line, arriving key by key
    /// without bracketed paste, would cost its length squared.
    fn highlight_char(&self, line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color && line.len() <= HIGHLIGHT_LIMIT
    }
}

impl Completer for KalHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..floor_char_boundary(line, pos)];
        // After a command that takes a file, complete file names (with `~` and quotes, as shells do).
        if ["load", "save", "lib"]
            .iter()
            .any(|c| before.trim_start().strip_prefix(':').is_some_and(|r| r.starts_with(&format!("{c} "))))
        {
            return self.files.complete(line, before.len(), ctx);
        }
        let start = word_start(before, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
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
        return command_names().into_iter().filter(|c| c.starts_with(word)).map(str::to_string).collect();
    }
    known.completions(word)
}

/// After `name(` at the end of `before`, the parameters still to type: `x, y)` for `def f(x y)`.
pub fn parameter_hint(before: &str, known: &Known) -> Option<String> {
    let before = before.strip_suffix('(')?;
    let name = &before[word_start(before, |c| c.is_ascii_alphanumeric() || c == '_')..];
    Some(format!("{})", known.parameters(name)?.join(", ")))
}

impl Hinter for KalHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        parameter_hint(line, &self.known.borrow())
    }
}

/// Where the word that ends `text` starts: the byte just after the last character that is not part of a
/// word (never inside a multi-byte character).
pub(crate) fn word_start(text: &str, in_word: impl Fn(char) -> bool) -> usize {
    text.char_indices().rev().find(|&(_, c)| !in_word(c)).map_or(0, |(i, c)| i + c.len_utf8())
}

/// The largest character boundary of `text` at or before `index` (rustyline passes boundaries; this
/// keeps a stray index from panicking).
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            functions: vec![("fib".into(), vec!["n".into()]), ("fmod".into(), vec!["x".into(), "y".into()])],
            globals: vec!["fuel".into()],
        }
    }

    #[test]
    fn completes_keywords_functions_globals_and_commands() {
        assert_eq!(completions("f", &known(), false), ["fib", "fmod", "for", "fuel"]);
        assert_eq!(completions("de", &known(), true), ["def"]);
        assert_eq!(completions(":s", &known(), true), [":save", ":set", ":show", ":stats"]);
        assert!(completions(":s", &known(), false).is_empty(), "commands only at the start of a line");
    }

    #[test]
    fn hints_the_parameters_after_an_open_parenthesis() {
        assert_eq!(parameter_hint("1 + fmod(", &known()).as_deref(), Some("x, y)"));
        assert_eq!(parameter_hint("fib(", &known()).as_deref(), Some("n)"));
        assert_eq!(parameter_hint("nothere(", &known()), None);
        assert_eq!(parameter_hint("fib", &known()), None);
    }

    #[test]
    fn highlights_with_the_lexer() {
        let helper = KalHelper { known: Rc::new(RefCell::new(known())), color: true, files: FilenameCompleter::new() };
        let shown = helper.highlight("def f(x) x + 1.5 # note", 0);
        let expected =
            format!("{KEYWORD}def{RESET} f(x) x {OPERATOR}+{RESET} {NUMBER}1.5{RESET} {COMMENT}# note{RESET}");
        assert_eq!(shown, expected);
        let plain = KalHelper { known: Rc::new(RefCell::new(known())), color: false, files: FilenameCompleter::new() };
        assert_eq!(plain.highlight("def f(x) x", 0), "def f(x) x");
    }

    /// Every helper entry point, on any line and any cursor position (boundary or not): none may panic,
    /// and what they return must point inside the line on a character boundary.
    fn exercise(line: &str, pos: usize) {
        let helper = KalHelper { known: Rc::new(RefCell::new(known())), color: true, files: FilenameCompleter::new() };
        let history = rustyline::history::DefaultHistory::new();
        let context = Context::new(&history);
        let _ = helper.highlight(line, pos);
        let _ = helper.highlight_char(line, pos, CmdKind::Other);
        let end = line.len();
        let _ = helper.hint(line, end, &context);
        let (start, _) = helper.complete(line, pos, &context).expect("completion never fails");
        assert!(start <= line.len() && line.is_char_boundary(start), "start {start} in {line:?}");
    }

    #[test]
    fn the_reported_multi_byte_cases_do_not_panic() {
        for line in ["é(", "def f😀(", "é", "x é", "😀😀(😀", "fib(é", ":é"] {
            for pos in 0..=line.len() + 1 {
                exercise(line, pos);
            }
        }
        assert_eq!(parameter_hint("é(", &known()), None);
        assert_eq!(parameter_hint("é fib(", &known()).as_deref(), Some("n)"));
    }

    proptest::proptest! {
        #[test]
        fn any_unicode_line_and_cursor(line in "\\PC{0,40}", pos in 0usize..200) {
            exercise(&line, pos);
        }

        #[test]
        fn identifier_like_lines_with_wide_characters(line in "[a-zé😀 (:]{0,30}", pos in 0usize..130) {
            exercise(&line, pos);
        }
    }
}
