//! Tokens: what the lexer produces and the parser consumes.

use crate::span::Span;

/// The kind of a token. Identifier text is recovered from the source through the token's span.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TokenKind {
    /// `def`
    Def,
    /// `extern`
    Extern,
    /// `if`
    If,
    /// `then`
    Then,
    /// `else`
    Else,
    /// `for`
    For,
    /// `in`
    In,
    /// `var`
    Var,
    /// `binary`, in an operator definition.
    Binary,
    /// `unary`, in an operator definition.
    Unary,
    /// A name: a letter, then letters, digits or `_`.
    Ident,
    /// A number literal, already converted.
    Number(f64),
    /// A single-character operator such as `+`, `<`, `=` or `|`.
    Op(char),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// A `#` comment (only produced for highlighting; the parser never sees it).
    Comment,
    /// The end of the entry.
    Eof,
}

/// One token and where it stands in the source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

impl TokenKind {
    /// The keyword spelled `word`, if it is one.
    pub fn keyword(word: &str) -> Option<TokenKind> {
        Some(match word {
            "def" => TokenKind::Def,
            "extern" => TokenKind::Extern,
            "if" => TokenKind::If,
            "then" => TokenKind::Then,
            "else" => TokenKind::Else,
            "for" => TokenKind::For,
            "in" => TokenKind::In,
            "var" => TokenKind::Var,
            "binary" => TokenKind::Binary,
            "unary" => TokenKind::Unary,
            _ => return None,
        })
    }

    /// Whether this token is a keyword (for highlighting and completion).
    pub fn is_keyword(self) -> bool {
        use TokenKind::*;
        matches!(self, Def | Extern | If | Then | Else | For | In | Var | Binary | Unary)
    }
}

/// Every keyword, for completion.
pub const KEYWORDS: &[&str] = &["def", "extern", "if", "then", "else", "for", "in", "var", "binary", "unary"];

/// Whether `c` may name a user-defined operator: ASCII punctuation other than the characters the grammar
/// reserves (`(`, `)`, `,`, `;`, `#`) and `=`, which is assignment.
pub fn is_operator_char(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '(' | ')' | ',' | ';' | '#' | '=' | '_')
}
