//! The parser: tokens to items, by recursive descent with precedence climbing for binary operators.
//!
//! Conventions: each `parse_x` function is documented by the grammar production it recognises and starts at
//! the production's first token; `expect_x` consumes a token that must be there or reports what was found.
//! Errors are pushed to `self.diagnostics` and returned as `Reported`; the item loop then skips to the next
//! `;`, `def` or `extern` and goes on, so one entry can report several independent mistakes.
//!
//! Parsing never panics and never overflows the stack: nesting deeper than [`Limits::nesting`] (parentheses,
//! calls, `if`s, unary operators...) is reported as an error, which also bounds every later recursive walk
//! of the tree. A left-associative chain (`1+1+...+1`, a `:` sequence) is one node, not nesting.

use std::borrow::Cow;

use crate::ast::*;
use crate::diagnostic::{Diagnostic, shorten};
use crate::operators::{DEFAULT_PRECEDENCE, Operators, PRECEDENCE_RANGE};
use crate::poll::Poll;
use crate::span::Span;
use crate::token::{Token, TokenKind, is_operator_char};
use crate::token_stream::TokenStream;

/// The stack one level of nesting may need, summed over every pass that walks the tree recursively
/// (parser, checker, the engine's resolver and code generator): 5.5 KiB measured for nested calls in a
/// debug build, the costliest kind, rounded up. Release builds need less.
pub const STACK_PER_LEVEL: usize = 8 * 1024;

/// How big an item may be, so that every pass over it fits the stack it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How deeply expressions may nest.
    pub nesting: u32,
}

impl Limits {
    /// The limits for passes that run on a stack of `bytes` bytes.
    pub fn for_stack(bytes: usize) -> Limits {
        Limits { nesting: u32::try_from(bytes / STACK_PER_LEVEL).unwrap_or(u32::MAX).max(1) }
    }
}

impl Default for Limits {
    /// The limits for a thread with Rust's default stack for spawned threads, 2 MiB (256 levels).
    fn default() -> Limits {
        Limits::for_stack(2 * 1024 * 1024)
    }
}

/// The most operands one item may have: its code grows linearly with them (about 2 microseconds and
/// 450 bytes of compile memory each), and a bigger item is better split into functions.
pub const MAX_OPERANDS: u32 = 1_000_000;

/// The most parameters a function may have, and the most arguments a call may pass.
pub const MAX_PARAMS: usize = 64;

/// What parsing an entry produced: the items that parsed, and every diagnostic.
#[derive(Debug)]
pub struct Parsed {
    /// The items, in order. When there are errors, the items that failed are missing.
    pub items: Vec<Item>,
    /// Errors found while lexing and parsing.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each item stands, including the items that failed to parse (up to where parsing resumed), so
    /// a script can be run one top-level item at a time.
    pub item_spans: Vec<Span>,
}

/// Parses one entry's `tokens` (from [`crate::lexer::lex`]) against the operators defined before it.
pub fn parse(source: &str, tokens: &[Token], operators: &Operators, limits: Limits) -> Parsed {
    parse_until(source, tokens, operators, limits, &|| false).expect("never stopped")
}

/// As [`parse`], asking `stop` every few thousand tokens whether to give up (`None`: it did).
pub fn parse_until(
    source: &str,
    tokens: &[Token],
    operators: &Operators,
    limits: Limits,
    stop: &dyn Fn() -> bool,
) -> Option<Parsed> {
    let mut parser = Parser::new(source, TokenStream::Lexed(tokens), operators, (limits, stop));
    let items = parser.parse_entry();
    (!parser.poll.stopped()).then_some(Parsed { items, diagnostics: parser.diagnostics, item_spans: parser.item_spans })
}

/// The first item of `source`, which starts at that item's first token, parsed against `operators`
/// with its tokens lexed only as far as the parse reads (a script's next item).
pub(crate) struct FirstItem {
    /// The item, when it parsed (`None` also for an item parsed and ignored with a warning).
    pub(crate) item: Option<Item>,
    /// Where it stands: up to its last token, or, after an error, to where parsing would resume.
    pub(crate) span: Span,
    /// The parser's errors and warnings.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Where the lexer found something wrong, as far as it read.
    pub(crate) lexer_errors: Vec<Span>,
}

/// Parses the first item of `source` (see [`FirstItem`]); `None` when `stop` said to give up.
pub(crate) fn parse_first_item(
    source: &str,
    operators: &Operators,
    limits: Limits,
    stop: &dyn Fn() -> bool,
) -> Option<FirstItem> {
    let mut parser = Parser::new(source, TokenStream::lazy(source), operators, (limits, stop));
    let (item, span) = parser.parse_item_and_span();
    let lexer_errors = parser.tokens.lexer_diagnostics();
    let Parser { poll, diagnostics, .. } = parser;
    (!poll.stopped()).then_some(FirstItem { item, span, diagnostics, lexer_errors })
}

/// Marks an error that has already been pushed to the parser's diagnostics.
struct Reported;

type PResult<T> = Result<T, Reported>;

struct Parser<'a> {
    source: &'a str,
    tokens: TokenStream<'a>,
    pos: usize,
    /// The session's table, copied only when the entry defines an operator.
    ops: Cow<'a, Operators>,
    diagnostics: Vec<Diagnostic>,
    depth: u32,
    /// Operands in the current item so far.
    operands: u32,
    limits: Limits,
    item_spans: Vec<Span>,
    /// Asked at every token taken; once told to stop, the tokens end there.
    poll: Poll<'a>,
}

impl<'a> Parser<'a> {
    fn new(
        source: &'a str,
        tokens: TokenStream<'a>,
        operators: &'a Operators,
        (limits, stop): (Limits, &'a dyn Fn() -> bool),
    ) -> Parser<'a> {
        let ops = Cow::Borrowed(operators);
        let poll = Poll::new(stop);
        Parser {
            source,
            tokens,
            pos: 0,
            ops,
            diagnostics: Vec::new(),
            depth: 0,
            operands: 0,
            limits,
            item_spans: Vec::new(),
            poll,
        }
    }

    /// entry ::= (item ';'*)*
    fn parse_entry(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            while self.at(TokenKind::Semi) {
                self.pos += 1;
            }
            if self.at(TokenKind::Eof) {
                return items;
            }
            let (item, span) = self.parse_item_and_span();
            items.extend(item);
            self.item_spans.push(span);
        }
    }

    /// An item and where it stands: from its first token to its last, or, after an error, to where
    /// parsing resumes (the item is then `None`, as it is for an item parsed and ignored).
    fn parse_item_and_span(&mut self) -> (Option<Item>, Span) {
        let start = self.peek().span;
        let item = self.parse_item().unwrap_or_else(|Reported| {
            self.recover();
            None
        });
        (item, start.to(self.previous_span()))
    }

    /// item ::= definition | external | global | expression
    ///
    /// `None` is an item that parsed but is ignored, with a warning (chapter 6's `def binary=`).
    fn parse_item(&mut self) -> PResult<Option<Item>> {
        // An error unwinds without restoring the nesting count; every item starts from the top.
        self.depth = 0;
        self.operands = 0;
        let start = self.peek().span;
        let kind = match self.peek().kind {
            TokenKind::Def => match self.parse_definition()? {
                Some(function) => ItemKind::Def(function),
                None => return Ok(None),
            },
            TokenKind::Extern => ItemKind::Extern(self.parse_external()?),
            TokenKind::Var => return self.parse_global_or_var_expr().map(Some),
            _ => ItemKind::Expr(self.parse_expression()?),
        };
        Ok(Some(Item { kind, span: start.to(self.previous_span()) }))
    }

    /// After an error, skips to a token that can start a new item: `;`, `def`, `extern`, or any token at
    /// the start of a line (where script items start), past at least one token.
    fn recover(&mut self) {
        let start = self.pos;
        loop {
            let token = self.peek();
            if matches!(token.kind, TokenKind::Eof | TokenKind::Semi) {
                return;
            }
            let at_line_start = crate::line_ends::starts_line(self.source, token.span.start as usize);
            let starts_item = matches!(token.kind, TokenKind::Def | TokenKind::Extern);
            // A `def` that starts a line is the next item even when the error was found at it (a comment
            // hid the rest of the line before): an item's own `def` is consumed before it can fail, so
            // stopping here always makes progress.
            if (self.pos > start && (at_line_start || starts_item)) || (starts_item && at_line_start) {
                return;
            }
            self.pos += 1;
        }
    }

    /// definition ::= 'def' prototype expression
    ///
    /// `None` for `def binary= ...`: `=` is assignment, so the definition (chapter 6's equality, written
    /// before chapter 7 made `=` assignment) is parsed and ignored with a warning, and a chapter 6 listing
    /// runs unchanged.
    fn parse_definition(&mut self) -> PResult<Option<Function>> {
        let def_span = self.bump().span;
        let mut proto = self.parse_prototype(def_span)?;
        proto.span = def_span.to(proto.span);
        let assignment = matches!(proto.kind, ProtoKind::Binary { op: '=', .. });
        if !assignment {
            // An operator is usable in its own body (for recursion) and by every later item of the entry.
            if proto.kind != ProtoKind::Plain {
                self.ops.to_mut().define(&proto.kind);
            }
        }
        let body = self.parse_expression()?;
        if assignment {
            let message = "this definition of `binary=` is ignored: `=` is assignment and cannot be redefined";
            self.diagnostics.push(
                Diagnostic::warning(proto.name_span, message)
                    .with_note("the tutorial's chapter 6 defines `=` as equality; here compare with `<` and `>`"),
            );
            return Ok(None);
        }
        Ok(Some(Function { proto, body }))
    }

    /// external ::= 'extern' prototype
    fn parse_external(&mut self) -> PResult<Prototype> {
        let extern_span = self.bump().span;
        let proto = self.parse_prototype(extern_span)?;
        if proto.kind != ProtoKind::Plain {
            return Err(self.report(
                Diagnostic::error(proto.name_span, "`extern` declares a plain function, not an operator")
                    .with_note("define operators with `def binary` or `def unary`"),
            ));
        }
        Ok(proto)
    }

    /// prototype ::= ident '(' ident* ')'
    ///             | 'unary' OP '(' ident ')'
    ///             | 'binary' OP number? '(' ident ident ')'
    fn parse_prototype(&mut self, keyword: Span) -> PResult<Prototype> {
        let token = self.peek();
        let (name, kind) = match token.kind {
            TokenKind::Ident => {
                self.pos += 1;
                (self.text(token.span).to_string(), ProtoKind::Plain)
            }
            TokenKind::Unary => {
                self.pos += 1;
                let op = self.expect_operator_char("unary")?;
                (unary_name(op), ProtoKind::Unary(op))
            }
            TokenKind::Binary => {
                self.pos += 1;
                let op = self.expect_operator_char("binary")?;
                let precedence = self.parse_precedence()?;
                (binary_name(op), ProtoKind::Binary { op, precedence })
            }
            _ => return Err(self.error_expected("a function name after `def` or `extern`")),
        };
        let name_span = token.span.to(self.previous_span());
        self.expect(TokenKind::LParen, "`(` to open the parameter list")?;
        let mut params = Vec::new();
        while self.at(TokenKind::Ident) {
            let span = self.bump().span;
            params.push(Param { name: self.text(span).to_string(), span });
        }
        if self.at(TokenKind::Comma) {
            return Err(self.report(
                Diagnostic::error(self.peek().span, "parameters are separated by spaces, not commas")
                    .with_label("remove this comma"),
            ));
        }
        self.expect(TokenKind::RParen, "`)` to close the parameter list")?;
        let proto = Prototype { name, kind, params, span: keyword.to(self.previous_span()), name_span };
        self.check_prototype_shape(&proto)?;
        Ok(proto)
    }

    fn check_prototype_shape(&mut self, proto: &Prototype) -> PResult<()> {
        let (what, wanted) = match proto.kind {
            ProtoKind::Plain if proto.params.len() > MAX_PARAMS => {
                let message = format!(
                    "`{}` has {} parameters; at most {MAX_PARAMS} are allowed",
                    shorten(&proto.name),
                    proto.params.len()
                );
                return Err(self.report(Diagnostic::error(proto.name_span, message)));
            }
            ProtoKind::Plain => return Ok(()),
            ProtoKind::Unary(_) => ("a unary operator takes exactly one parameter", 1),
            ProtoKind::Binary { .. } => ("a binary operator takes exactly two parameters", 2),
        };
        if proto.params.len() == wanted {
            return Ok(());
        }
        let message = format!("{what}, but `{}` has {}", shorten(&proto.name), proto.params.len());
        Err(self.report(Diagnostic::error(proto.span, message)))
    }

    /// The operator character after `unary` or `binary`.
    fn expect_operator_char(&mut self, which: &str) -> PResult<char> {
        let token = self.peek();
        match token.kind {
            // Chapter 6 of the tutorial defines `binary=` for equality, before chapter 7 makes `=`
            // assignment; the definition is parsed and then ignored with a warning.
            TokenKind::Op('=') if which == "binary" => {
                self.pos += 1;
                Ok('=')
            }
            TokenKind::Op('=') => Err(self.report(
                Diagnostic::error(token.span, "`=` is assignment and cannot be defined as an operator")
                    .with_note("compare with `<`, `>` or a new operator such as `binary~`"),
            )),
            TokenKind::Op(op) if which == "binary" && is_builtin_binary(op) => Err(self.report(Diagnostic::error(
                token.span,
                format!("`{op}` is a built-in binary operator and cannot be redefined"),
            ))),
            TokenKind::Op(op) if is_operator_char(op) => {
                self.pos += 1;
                Ok(op)
            }
            _ => {
                // `#` (a comment from there on) and `( ) , ;` are the grammar's own: say so, rather than
                // only what was found after them.
                let after = &self.source[self.previous_span().end as usize..];
                let next = after.trim_start_matches([' ', '\t']).chars().next();
                let reason = match next {
                    Some('#') => Some("`#` starts a comment (the rest of the line is ignored)"),
                    Some('(' | ')' | ',' | ';') => Some("`( ) , ;` are punctuation of the grammar"),
                    _ => None,
                };
                let found = if next == Some('#') { "`#`".to_string() } else { describe(token, self.source) };
                let what = format!("expected an operator character after `{which}`, found {found}");
                // Point at the `#` itself: the end of input it hides is further on.
                let at = match next {
                    Some('#') => {
                        let hash = self.previous_span().end as usize
                            + (after.len() - after.trim_start_matches([' ', '\t']).len());
                        Span::new(hash, hash + 1)
                    }
                    _ => token.span,
                };
                let mut diagnostic = Diagnostic::error(at, what);
                diagnostic.at_end_of_input = token.kind == TokenKind::Eof;
                if let Some(reason) = reason {
                    diagnostic = diagnostic.with_note(format!("{reason}, so it cannot be an operator"));
                }
                Err(self.report(diagnostic))
            }
        }
    }

    /// precedence ::= number?   (a whole number from 1 to 100; 30 when absent)
    fn parse_precedence(&mut self) -> PResult<u8> {
        let token = self.peek();
        let TokenKind::Number(value) = token.kind else {
            return Ok(DEFAULT_PRECEDENCE);
        };
        self.pos += 1;
        let range = PRECEDENCE_RANGE;
        if value.fract() != 0.0 || value < f64::from(*range.start()) || value > f64::from(*range.end()) {
            let message = format!("precedence must be a whole number from 1 to 100, found `{}`", self.text(token.span));
            return Err(self.report(Diagnostic::error(token.span, message)));
        }
        Ok(value as u8)
    }

    /// global ::= 'var' binding (',' binding)*            (at top level, not followed by 'in')
    /// varexpr ::= 'var' binding (',' binding)* 'in' expression
    fn parse_global_or_var_expr(&mut self) -> PResult<Item> {
        let var_span = self.bump().span;
        let bindings = self.parse_bindings()?;
        if self.at(TokenKind::In) {
            let expr = self.finish_var_expr(var_span, bindings)?;
            let expr = self.fold_binops(0, expr)?;
            return Ok(Item { span: expr.span, kind: ItemKind::Expr(expr) });
        }
        Ok(Item { kind: ItemKind::Global(bindings), span: var_span.to(self.previous_span()) })
    }

    /// binding ::= ident ('=' expression)?   (one or more, separated by ',')
    fn parse_bindings(&mut self) -> PResult<Vec<Binding>> {
        let mut bindings = Vec::new();
        loop {
            let name = self.expect(TokenKind::Ident, "a variable name after `var`")?;
            let init = if self.at(TokenKind::Op('=')) {
                self.pos += 1;
                Some(self.parse_expression()?)
            } else {
                None
            };
            let span = name.span.to(self.previous_span());
            bindings.push(Binding { name: self.text(name.span).to_string(), init, span });
            if !self.at(TokenKind::Comma) {
                return Ok(bindings);
            }
            self.pos += 1;
        }
    }

    fn finish_var_expr(&mut self, var_span: Span, bindings: Vec<Binding>) -> PResult<Expr> {
        self.expect(TokenKind::In, "`in` after the variables of a `var` expression")?;
        let body = self.parse_expression()?;
        Ok(Expr { span: var_span.to(body.span), kind: ExprKind::VarIn(bindings, Box::new(body)) })
    }

    /// expression ::= unary binoprhs
    fn parse_expression(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.parse_unary().and_then(|lhs| self.fold_binops(0, lhs));
        self.depth -= 1;
        result
    }

    /// binoprhs ::= (binop unary)*
    ///
    /// Precedence climbing: folds operators of precedence at least `min_precedence` into `lhs`, left to right,
    /// into one flat chain. Only climbing into a tighter operator's right operand nests (and counts towards
    /// the nesting limit like a parenthesis); a chain of any length does not.
    fn fold_binops(&mut self, min_precedence: u8, mut lhs: Expr) -> PResult<Expr> {
        let mut operations = Vec::new();
        while let Some((op, precedence)) = self.peek_binary_operator()? {
            if precedence < min_precedence {
                break;
            }
            self.bump();
            let mut rhs = self.parse_unary()?;
            if let Some((_, next)) = self.peek_binary_operator()?
                && precedence < next
            {
                self.enter()?;
                let climbed = self.fold_binops(precedence + 1, rhs);
                self.depth -= 1;
                rhs = climbed?;
            }
            if op == '=' {
                lhs = self.assignment(chain(lhs, std::mem::take(&mut operations)), rhs)?;
            } else {
                operations.push(Operation { op, rhs });
            }
        }
        Ok(chain(lhs, operations))
    }

    /// The binary operator at the cursor, if the cursor is on one. An operator character that is neither a
    /// binary nor a unary operator is an error here; a unary-only one ends the expression (it may start the
    /// next item, as in the tutorial).
    fn peek_binary_operator(&mut self) -> PResult<Option<(char, u8)>> {
        let token = self.peek();
        let TokenKind::Op(op) = token.kind else {
            return Ok(None);
        };
        match self.ops.binary_precedence(op) {
            Some(precedence) => Ok(Some((op, precedence))),
            None if self.ops.is_unary(op) => Ok(None),
            None => Err(self.report(
                Diagnostic::error(token.span, format!("binary operator `{op}` is not defined"))
                    .with_note(format!("define it first, e.g. `def binary{op} 30 (a b) ...`")),
            )),
        }
    }

    /// `target = value`, when `target` is a variable.
    fn assignment(&mut self, target: Expr, value: Expr) -> PResult<Expr> {
        let span = target.span.to(value.span);
        match target.kind {
            ExprKind::Var(name) => Ok(Expr { span, kind: ExprKind::Assign(name, target.span, Box::new(value)) }),
            _ => Err(self.report(
                Diagnostic::error(target.span, "only a variable can be assigned to")
                    .with_label("this is not a variable")
                    .with_note("`=` assigns; compare values with `<` or a user-defined operator"),
            )),
        }
    }

    /// unary ::= primary | OP unary
    fn parse_unary(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let TokenKind::Op(op) = token.kind else {
            return self.parse_primary();
        };
        if !self.ops.is_unary(op) {
            let message = if op == '=' {
                "expected an expression, found `=`".to_string()
            } else {
                format!("unary operator `{op}` is not defined")
            };
            let mut diagnostic = Diagnostic::error(token.span, message);
            if op != '=' {
                diagnostic = diagnostic.with_note(format!("define it first, e.g. `def unary{op}(v) ...`"));
            }
            return Err(self.report(diagnostic));
        }
        self.pos += 1;
        self.enter()?;
        let operand = self.parse_unary();
        self.depth -= 1;
        let operand = operand?;
        Ok(Expr { span: token.span.to(operand.span), kind: ExprKind::Unary(op, Box::new(operand)) })
    }

    /// primary ::= number | identifierexpr | parenexpr | ifexpr | forexpr | varexpr
    fn parse_primary(&mut self) -> PResult<Expr> {
        let token = self.peek();
        self.operands += 1;
        if self.operands > MAX_OPERANDS {
            let message = format!("this item has more than {MAX_OPERANDS} operands, the most one item may have");
            return Err(self.report(
                Diagnostic::error(token.span, message).with_note("split it into functions that each do a part"),
            ));
        }
        match token.kind {
            TokenKind::Number(value) => {
                self.pos += 1;
                Ok(Expr { kind: ExprKind::Number(value), span: token.span })
            }
            TokenKind::Ident => self.parse_identifier_expr(),
            TokenKind::LParen => self.parse_paren_expr(),
            TokenKind::If => self.parse_if_expr(),
            TokenKind::For => self.parse_for_expr(),
            TokenKind::Var => {
                let var_span = self.bump().span;
                let bindings = self.parse_bindings()?;
                self.finish_var_expr(var_span, bindings)
            }
            _ => Err(self.error_expected("an expression")),
        }
    }

    /// identifierexpr ::= ident | ident '(' (expression (',' expression)*)? ')'
    fn parse_identifier_expr(&mut self) -> PResult<Expr> {
        let name_span = self.bump().span;
        let name = self.text(name_span).to_string();
        if !self.at(TokenKind::LParen) {
            return Ok(Expr { kind: ExprKind::Var(name), span: name_span });
        }
        self.pos += 1;
        let mut args = Vec::new();
        if !self.at(TokenKind::RParen) {
            loop {
                args.push(self.parse_expression()?);
                if args.len() > MAX_PARAMS {
                    let message = format!("a call passes at most {MAX_PARAMS} arguments");
                    return Err(self.report(Diagnostic::error(name_span.to(self.previous_span()), message)));
                }
                if !self.at(TokenKind::Comma) {
                    if self.starts_expression() {
                        let message = "expected `,` or `)` after an argument";
                        return Err(self.report(
                            Diagnostic::error(self.peek().span, message)
                                .with_label("arguments are separated by commas")
                                .with_note(format!("write `{}(a, b)`", shorten(&name))),
                        ));
                    }
                    break;
                }
                self.pos += 1;
            }
        }
        self.expect(TokenKind::RParen, "`)` after arguments")?;
        let span = name_span.to(self.previous_span());
        Ok(Expr { kind: ExprKind::Call(name, name_span, args), span })
    }

    /// Whether the next token can begin an expression (so it is not the end of one).
    fn starts_expression(&self) -> bool {
        match self.peek().kind {
            TokenKind::Number(_) | TokenKind::Ident | TokenKind::LParen | TokenKind::If | TokenKind::For => true,
            TokenKind::Var => true,
            TokenKind::Op(op) => self.ops.is_unary(op),
            _ => false,
        }
    }

    /// parenexpr ::= '(' expression ')'
    fn parse_paren_expr(&mut self) -> PResult<Expr> {
        self.pos += 1;
        let inner = self.parse_expression()?;
        self.expect(TokenKind::RParen, "`)` to close the parenthesis")?;
        Ok(inner)
    }

    /// ifexpr ::= 'if' expression 'then' expression 'else' expression
    fn parse_if_expr(&mut self) -> PResult<Expr> {
        let if_span = self.bump().span;
        let cond = self.parse_expression()?;
        self.expect(TokenKind::Then, "`then` after the condition of `if`")?;
        let then = self.parse_expression()?;
        self.expect(TokenKind::Else, "`else` after the `then` branch")?;
        let otherwise = self.parse_expression()?;
        let span = if_span.to(otherwise.span);
        Ok(Expr { span, kind: ExprKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)) })
    }

    /// forexpr ::= 'for' ident '=' expression ',' expression (',' expression)? 'in' expression
    fn parse_for_expr(&mut self) -> PResult<Expr> {
        let for_span = self.bump().span;
        let var = self.expect(TokenKind::Ident, "a variable name after `for`")?;
        self.expect(TokenKind::Op('='), "`=` after the `for` variable")?;
        let start = self.parse_expression()?;
        self.expect(TokenKind::Comma, "`,` after the start value of `for`")?;
        let end = self.parse_expression()?;
        let step = if self.at(TokenKind::Comma) {
            self.pos += 1;
            Some(self.parse_expression()?)
        } else {
            None
        };
        self.expect(TokenKind::In, "`in` before the body of `for`")?;
        let body = self.parse_expression()?;
        let span = for_span.to(body.span);
        let var_name = self.text(var.span).to_string();
        let for_loop = ForLoop { var: var_name, var_span: var.span, start, end, step, body };
        Ok(Expr { span, kind: ExprKind::For(Box::new(for_loop)) })
    }

    // ---- token helpers -------------------------------------------------------------------------------

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth <= self.limits.nesting {
            return Ok(());
        }
        self.depth -= 1;
        let message = format!("expression is nested too deeply (the limit is {} levels)", self.limits.nesting);
        Err(self.report(
            Diagnostic::error(self.peek().span, message)
                .with_note("split it into smaller functions, or use `var` to name intermediate values"),
        ))
    }

    fn peek(&self) -> Token {
        self.tokens.get(self.pos)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        // Told to stop: the input ends here, so every rule finishes at once (the caller drops the result).
        if self.poll.tick() {
            self.pos = self.tokens.end_at(self.pos);
        }
        token
    }

    fn previous_span(&self) -> Span {
        if self.pos == 0 { Span::default() } else { self.tokens.get(self.pos - 1).span }
    }

    fn text(&self, span: Span) -> &str {
        &self.source[span.range()]
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        if self.at(kind) { Ok(self.bump()) } else { Err(self.error_expected(what)) }
    }

    fn error_expected(&mut self, what: &str) -> Reported {
        let token = self.peek();
        let found = describe(token, self.source);
        let mut diagnostic = Diagnostic::error(token.span, format!("expected {what}, found {found}"));
        diagnostic.at_end_of_input = token.kind == TokenKind::Eof;
        self.report(diagnostic)
    }

    fn report(&mut self, diagnostic: Diagnostic) -> Reported {
        self.diagnostics.push(diagnostic);
        Reported
    }
}

/// How a token is named in a message: "end of input", "`)`", "number `1.5`", "name `foo`".
/// `first` followed by `operations`, or `first` alone when there are none.
fn chain(first: Expr, operations: Vec<Operation>) -> Expr {
    match operations.last() {
        None => first,
        Some(last) => Expr { span: first.span.to(last.rhs.span), kind: ExprKind::Binary(Box::new(first), operations) },
    }
}

fn describe(token: Token, source: &str) -> String {
    let text = shorten(&source[token.span.range()]);
    match token.kind {
        TokenKind::Eof => "end of input".to_string(),
        TokenKind::Number(_) => format!("number `{text}`"),
        TokenKind::Ident => format!("name `{text}`"),
        kind if kind.is_keyword() => format!("keyword `{text}`"),
        _ => format!("`{text}`"),
    }
}
