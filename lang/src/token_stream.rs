//! The tokens the parser reads: lexed beforehand (an entry), or lexed as the parser asks for them (a
//! script's next item, so a script of 100,000 items never holds more than one item's tokens).

use std::cell::RefCell;

use crate::lexer::Lexer;
use crate::span::Span;
use crate::token::{Token, TokenKind};

/// A sequence of tokens without comments, ending in [`TokenKind::Eof`].
pub(crate) enum TokenStream<'a> {
    /// Every token, lexed beforehand.
    Lexed(&'a [Token]),
    /// The tokens lexed so far, and the lexer that lexes the rest on demand (in a cell: the parser
    /// peeks through a shared reference).
    Lazy(RefCell<Lazy<'a>>),
}

/// The state of a [`TokenStream::Lazy`].
pub(crate) struct Lazy<'a> {
    lexer: Lexer<'a>,
    tokens: Vec<Token>,
}

impl<'a> TokenStream<'a> {
    /// Tokens lexed from `source` as they are asked for.
    pub(crate) fn lazy(source: &'a str) -> TokenStream<'a> {
        // Room for a one-line item's tokens at once: growing from empty would allocate three times.
        TokenStream::Lazy(RefCell::new(Lazy { lexer: Lexer::new(source), tokens: Vec::with_capacity(32) }))
    }

    /// Token `i`; past the end, the final `Eof`.
    pub(crate) fn get(&self, i: usize) -> Token {
        match self {
            TokenStream::Lexed(tokens) => tokens[i.min(tokens.len() - 1)],
            TokenStream::Lazy(state) => {
                if let Some(&token) = state.borrow().tokens.get(i) {
                    return token;
                }
                let Lazy { lexer, tokens } = &mut *state.borrow_mut();
                while tokens.len() <= i && tokens.last().is_none_or(|t| t.kind != TokenKind::Eof) {
                    let token = lexer.next_token();
                    if token.kind != TokenKind::Comment {
                        tokens.push(token);
                    }
                }
                tokens[i.min(tokens.len() - 1)]
            }
        }
    }

    /// Ends the input at token `i` (the parse was told to stop): from there on, every token is `Eof`.
    /// Returns the index of that `Eof`.
    pub(crate) fn end_at(&mut self, i: usize) -> usize {
        match self {
            TokenStream::Lexed(tokens) => tokens.len() - 1,
            TokenStream::Lazy(state) => {
                let tokens = &mut state.get_mut().tokens;
                tokens.truncate(i);
                let at = tokens.last().map_or(0, |t| t.span.end as usize);
                tokens.push(Token { kind: TokenKind::Eof, span: Span::new(at, at) });
                i
            }
        }
    }

    /// Where the lexer has found something wrong so far (nothing for tokens lexed beforehand: their caller has the
    /// lexer's diagnostics).
    pub(crate) fn lexer_diagnostics(&self) -> Vec<Span> {
        match self {
            TokenStream::Lexed(_) => Vec::new(),
            TokenStream::Lazy(state) => state.borrow().lexer.diagnostics().iter().map(|d| d.span).collect(),
        }
    }
}
