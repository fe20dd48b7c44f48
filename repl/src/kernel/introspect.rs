//! What the notebook's Shift-Tab and Tab ask (`inspect_request`, `complete_request`), answered as IPython
//! answers them: the name under the cursor, or the operator, or else the innermost function whose
//! parentheses hold the cursor; completion of keywords, functions, globals, and the parameters and
//! locals in scope where the cursor is, after `(` and `,` too, and of commands and their arguments.
//!
//! Cursor positions are in characters (Unicode code points), as Jupyter's are.

use kaleido_lang::lexer::lex;
use kaleido_lang::token::TokenKind;
use kaleido_view::present::Names;

use crate::commands::table::command;
use crate::helper::completions;

/// The characters a name is made of.
fn in_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// An operator character (grammar punctuation aside).
fn is_operator(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '(' | ')' | ',' | ';' | '#' | '_')
}

/// What to inspect at `cursor` of `code`, as a `:show` query: the name under or just before the cursor
/// (`binary^` whole), else the operator there (`^`), else the function of the innermost call whose
/// parentheses contain the cursor (`g(1, |` → `g`).
pub(crate) fn inspect_target(code: &str, cursor: usize) -> Option<String> {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let start = (0..cursor).rev().take_while(|&i| in_word(chars[i])).last().unwrap_or(cursor);
    let end = (cursor..chars.len()).take_while(|&i| in_word(chars[i])).last().map_or(cursor, |i| i + 1);
    let word: String = chars[start..end].iter().collect();
    if matches!(word.as_str(), "binary" | "unary") && chars.get(end).is_some_and(|&c| is_operator(c)) {
        return Some(format!("{word}{}", chars[end]));
    }
    if !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(word);
    }
    let operator =
        [cursor, cursor.wrapping_sub(1)].into_iter().find(|&i| chars.get(i).is_some_and(|&c| is_operator(c)));
    if let Some(at) = operator {
        return Some(chars[at].to_string());
    }
    enclosing_call(&chars[..cursor])
}

/// The function whose call's open parenthesis, unclosed, comes last in `before`.
fn enclosing_call(before: &[char]) -> Option<String> {
    let mut depth = 0usize;
    for at in (0..before.len()).rev() {
        match before[at] {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let name_end = (0..at).rev().find(|&i| !before[i].is_whitespace()).map_or(0, |i| i + 1);
                let name_start = (0..name_end).rev().take_while(|&i| in_word(before[i])).last().unwrap_or(name_end);
                let name: String = before[name_start..name_end].iter().collect();
                if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Some(name);
                }
            }
            _ => {}
        }
    }
    None
}

/// The `:show` text at detail level 0 (what the name is, who calls it: the first paragraph) or 1 (every
/// version's source too).
pub(crate) fn at_detail(text: &str, detail_level: usize) -> String {
    match detail_level {
        0 => text.split("\n\n").next().unwrap_or(text).trim_end().to_string() + "\n",
        _ => text.to_string(),
    }
}

/// The completions at `cursor` of `code`: the candidates, and the character range they replace.
pub(crate) fn complete(code: &str, cursor: usize, names: &Names) -> (Vec<String>, usize, usize) {
    let before: String = code.chars().take(cursor).collect();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &before[line_start..];
    let chars_to = |byte: usize| before[..byte].chars().count();
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix(':') {
        let command_start = line_start + (line.len() - trimmed.len());
        let Some(space) = rest.find(' ') else {
            // The command's own name.
            return (completions(trimmed, names, true), chars_to(command_start), cursor);
        };
        let argument = line.rsplit(' ').next().unwrap_or("");
        let argument_start = before.len() - argument.len();
        let (matches, replaced_from) = command_argument(&rest[..space], argument, names);
        return (matches, chars_to(argument_start + replaced_from), cursor);
    }
    let start = before.len() - before.chars().rev().take_while(|&c| in_word(c)).map(char::len_utf8).sum::<usize>();
    (code_completions(&before, &before[start..], names), chars_to(start), cursor)
}

/// The argument `typed` of command `name` (`:show fi`, `:load exa`): function names (and globals for
/// `:show`), file names for `:load` and `:save`, command names for `:help`; with the byte of `typed`
/// from which the candidates replace it (a file name's last path component).
fn command_argument(name: &str, typed: &str, names: &Names) -> (Vec<String>, usize) {
    let Some(found) = command(&format!(":{name}")) else { return (Vec::new(), 0) };
    let starting = |candidates: Vec<String>| {
        let mut found: Vec<String> = candidates.into_iter().filter(|c| c.starts_with(typed)).collect();
        found.sort();
        found.dedup();
        found
    };
    match found.name {
        ":load" | ":save" | ":lib" => {
            let component = typed.rfind('/').map_or(0, |i| i + 1);
            (file_names(typed), component)
        }
        ":show" => {
            let mut candidates: Vec<String> = names.functions.iter().map(|(n, _)| n.clone()).collect();
            candidates.extend(names.globals.iter().cloned());
            (starting(candidates), 0)
        }
        ":diff" | ":deps" | ":undo" | ":forget" | ":asm" | ":clif" | ":compile" | ":table" | ":list" => {
            (starting(names.functions.iter().map(|(n, _)| n.clone()).collect()), 0)
        }
        ":help" => {
            let commands = crate::commands::command_names().into_iter().map(|c| c.trim_start_matches(':').to_string());
            (starting(commands.collect()), 0)
        }
        _ => (Vec::new(), 0),
    }
}

/// The entries of the directory `typed` names (relative to where the kernel runs), that start with its
/// last component: what follows the last `/`.
fn file_names(typed: &str) -> Vec<String> {
    let (dir, prefix) = match typed.rsplit_once('/') {
        Some((dir, prefix)) => (if dir.is_empty() { "/".to_string() } else { dir.to_string() }, prefix),
        None => (".".to_string(), typed),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let dir = entry.file_type().ok()?.is_dir();
            (name.starts_with(prefix) && !name.starts_with('.')).then(|| if dir { format!("{name}/") } else { name })
        })
        .collect();
    found.sort();
    found
}

/// Completions in code: keywords, functions, globals, and the parameters and locals in scope at the end
/// of `before`; after `(` or `,` (nothing typed yet), every name in scope.
fn code_completions(before: &str, word: &str, names: &Names) -> Vec<String> {
    let local = in_scope(before);
    if word.is_empty() {
        let opened = before.trim_end().ends_with(['(', ',']);
        if !opened {
            return Vec::new();
        }
        let mut all: Vec<String> = local;
        all.extend(names.functions.iter().map(|(n, _)| n.clone()));
        all.extend(names.globals.iter().cloned());
        all.sort();
        all.dedup();
        return all;
    }
    let mut found = completions(word, names, false);
    found.extend(local.into_iter().filter(|name| name.starts_with(word)));
    found.sort();
    found.dedup();
    found
}

/// The parameters of the definition the end of `before` is in, and the `var` and `for` names bound
/// before it in that definition (or in the top-level item): what a name typed there may refer to.
fn in_scope(before: &str) -> Vec<String> {
    let (tokens, _) = lex(before);
    let text = |i: usize| before[tokens[i].span.range()].to_string();
    // The current item starts at its last `def` (or `extern`), or at the start of the cell.
    let start = tokens.iter().rposition(|t| matches!(t.kind, TokenKind::Def | TokenKind::Extern)).unwrap_or(0);
    let mut names = Vec::new();
    let mut i = start;
    if tokens.get(i).is_some_and(|t| t.kind == TokenKind::Def) {
        // `def NAME (`, `def binary^ 5 (`: the parameters are the names up to the `)`.
        let open = tokens[i..].iter().position(|t| t.kind == TokenKind::LParen).map(|p| i + p);
        if let Some(open) = open {
            i = open + 1;
            while i < tokens.len() && tokens[i].kind == TokenKind::Ident {
                names.push(text(i));
                i += 1;
            }
        }
    }
    while i < tokens.len() {
        match tokens[i].kind {
            TokenKind::Var => {
                // `var a = 1, b in`: the names at the start and after each `,` until `in`.
                i += 1;
                let mut expect_name = true;
                while i < tokens.len() && tokens[i].kind != TokenKind::In {
                    match tokens[i].kind {
                        TokenKind::Ident if expect_name => {
                            names.push(text(i));
                            expect_name = false;
                        }
                        TokenKind::Comma => expect_name = true,
                        _ => {}
                    }
                    i += 1;
                }
            }
            TokenKind::For if tokens.get(i + 1).is_some_and(|t| t.kind == TokenKind::Ident) => {
                names.push(text(i + 1));
                i += 2;
            }
            _ => i += 1,
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            functions: vec![("foo".into(), vec!["alpha".into()]), ("g".into(), vec!["x".into()])],
            globals: vec!["total".into()],
        }
    }

    #[test]
    fn inspection_finds_the_name_the_operator_or_the_enclosing_call() {
        for (code, cursor, found) in [
            ("fib(3)", 1, Some("fib")),
            ("g(", 2, Some("g")),
            ("g(1, f(2), ", 11, Some("g")),
            ("2 ^ 3", 2, Some("^")),
            ("def binary^ 5 (a b) a", 6, Some("binary^")),
            ("1 + 2", 5, None),
        ] {
            assert_eq!(inspect_target(code, cursor).as_deref(), found, "{code} at {cursor}");
        }
    }

    #[test]
    fn completion_offers_what_is_in_scope_at_the_cursor() {
        let complete_at_end = |code: &str| complete(code, code.chars().count(), &names());
        assert_eq!(complete_at_end("def foo(alpha) al").0, ["alpha"]);
        assert_eq!(complete_at_end("var width = 3 in wi").0, ["width"]);
        assert!(complete_at_end("g(").0.contains(&"total".to_string()));
        assert!(complete_at_end("def h(p q) g(p, ").0.contains(&"q".to_string()));
        assert_eq!(complete_at_end(":show fo").0, ["foo"]);
        let (found, start, end) = complete_at_end("1 + tot");
        assert_eq!((found, start, end), (vec!["total".to_string()], 4, 7));
        assert_eq!(complete_at_end(":sh").0, [":show"]);
    }
}
