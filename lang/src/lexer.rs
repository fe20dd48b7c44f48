//! The lexer: source text to tokens, with a diagnostic for every character it cannot use.
//!
//! It never fails and never stops early: a bad character is reported and skipped, so the parser always gets
//! a token stream ending in [`TokenKind::Eof`]. It runs in time linear in the input (a 10 MB line is fine).

use crate::diagnostic::{Diagnostic, shorten};
use crate::poll::Poll;
use crate::span::Span;
use crate::token::{Token, TokenKind, is_operator_char};

/// Splits `source` into tokens (without comments) and the diagnostics for anything malformed.
pub fn lex(source: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    lex_until(source, &|| false).unwrap_or_default()
}

/// As [`lex`], asking `stop` every few thousand tokens whether to give up (`None`: it did).
pub fn lex_until(source: &str, stop: &dyn Fn() -> bool) -> Option<(Vec<Token>, Vec<Diagnostic>)> {
    let mut lexer = Lexer::new(source);
    let mut tokens = Vec::new();
    let mut poll = Poll::new(stop);
    loop {
        if poll.tick() {
            return None;
        }
        let token = lexer.next_token();
        if token.kind != TokenKind::Comment {
            tokens.push(token);
        }
        if token.kind == TokenKind::Eof {
            return Some((tokens, lexer.diagnostics));
        }
    }
}

/// Splits `source` into tokens including comments, for syntax highlighting; malformed input is skipped.
pub fn lex_with_comments(source: &str) -> Vec<Token> {
    let mut lexer = Lexer::new(source);
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        if token.kind == TokenKind::Eof {
            return tokens;
        }
        tokens.push(token);
    }
}

/// The lexer's state: where it is in the source and what it found wrong so far.
pub(crate) struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `source`.
    pub(crate) fn new(source: &'a str) -> Lexer<'a> {
        Lexer::at(source, 0)
    }

    /// A lexer at byte `pos` of `source` (a character boundary).
    pub(crate) fn at(source: &'a str, pos: usize) -> Lexer<'a> {
        Lexer { source, pos, diagnostics: Vec::new() }
    }

    /// The diagnostics found so far, in source order.
    pub(crate) fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The next token, comments included; at the end, [`TokenKind::Eof`] (again and again).
    pub(crate) fn next_token(&mut self) -> Token {
        loop {
            let bytes = self.source.as_bytes();
            while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            let start = self.pos;
            let Some(c) = self.source[start..].chars().next() else {
                return Token { kind: TokenKind::Eof, span: Span::new(start, start) };
            };
            let kind = match c {
                // A comment ends at the end of the line, whichever line end the file uses (the LLVM
                // tutorial's lexer stops at '\r' too).
                '#' => {
                    self.pos = self.source[start..].find(['\n', '\r']).map_or(self.source.len(), |i| start + i);
                    TokenKind::Comment
                }
                c if c.is_ascii_alphabetic() => self.word(),
                c if c.is_ascii_digit() => self.number(),
                '.' if bytes.get(start + 1).is_some_and(u8::is_ascii_digit) => self.number(),
                _ => {
                    self.pos += c.len_utf8();
                    match c {
                        '(' => TokenKind::LParen,
                        ')' => TokenKind::RParen,
                        ',' => TokenKind::Comma,
                        ';' => TokenKind::Semi,
                        '=' => TokenKind::Op('='),
                        c if is_operator_char(c) => TokenKind::Op(c),
                        c => {
                            self.unexpected_character(c, start);
                            continue;
                        }
                    }
                }
            };
            return Token { kind, span: Span::new(start, self.pos) };
        }
    }

    /// ident ::= [a-zA-Z][a-zA-Z0-9_]*
    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        let bytes = self.source.as_bytes();
        while self.pos < bytes.len() && (bytes[self.pos].is_ascii_alphanumeric() || bytes[self.pos] == b'_') {
            self.pos += 1;
        }
        TokenKind::keyword(&self.source[start..self.pos]).unwrap_or(TokenKind::Ident)
    }

    /// number ::= digits ('.' digits?)? exponent? | '.' digits exponent?
    /// exponent ::= [eE] [+-]? digits
    fn number(&mut self) -> TokenKind {
        let start = self.pos;
        self.digits();
        if self.peek_byte() == Some(b'.') {
            self.pos += 1;
            self.digits();
        }
        if matches!(self.peek_byte(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek_byte(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek_byte().is_some_and(|b| b.is_ascii_digit()) {
                return self.malformed_number(start, "its exponent has no digits");
            }
            self.digits();
        }
        // `1.2.3` or `12abc`: reading on would silently split one mistyped word into two tokens.
        if self.peek_byte().is_some_and(|b| b == b'.' || b.is_ascii_alphanumeric() || b == b'_') {
            self.digits_and_letters();
            return self.malformed_number(start, "it runs into other characters");
        }
        let text = &self.source[start..self.pos];
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => TokenKind::Number(value),
            _ => {
                let span = Span::new(start, self.pos);
                self.diagnostics.push(
                    Diagnostic::error(span, format!("number literal `{}` is too large for an f64", shorten(text)))
                        .with_label("the largest finite f64 is about 1.8e308"),
                );
                TokenKind::Number(0.0)
            }
        }
    }

    fn malformed_number(&mut self, start: usize, why: &str) -> TokenKind {
        let span = Span::new(start, self.pos);
        let text = shorten(&self.source[start..self.pos]);
        self.diagnostics.push(Diagnostic::error(span, format!("malformed number literal `{text}`: {why}")));
        TokenKind::Number(0.0)
    }

    fn unexpected_character(&mut self, c: char, start: usize) {
        let span = Span::new(start, self.pos);
        let shown = if c.is_control() { format!("{:?}", c) } else { format!("`{c}`") };
        self.diagnostics.push(
            Diagnostic::error(span, format!("unexpected character {shown}")).with_note(
                "operators are single ASCII punctuation characters; names are ASCII letters, digits and `_`",
            ),
        );
    }

    fn digits(&mut self) {
        while self.peek_byte().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn digits_and_letters(&mut self) {
        while self.peek_byte().is_some_and(|b| b == b'.' || b.is_ascii_alphanumeric() || b == b'_') {
            self.pos += 1;
        }
    }

    fn peek_byte(&self) -> Option<u8> {
        self.source.as_bytes().get(self.pos).copied()
    }
}
