//! A function's parameters and body packed into one byte string: the compact form a lazily compiled
//! definition waits in until its first call.
//!
//! A tree of [`Expr`] nodes costs an allocation per call, chain and branch and ~64 bytes per node; the
//! packed form is one allocation of a few bytes per node (a tag, then the node's data: names as a length
//! and UTF-8, numbers as their 8 bytes, counts as LEB128). A session of 100,000 deferred one-line
//! definitions holds 100,000 of these, so lazy mode must not cost more memory than compiled code would.
//! Spans are not kept: the body was checked, with every diagnostic, when it was entered, and what its
//! compile needs from them (call sites for backtraces) was recorded then.
//!
//! Unpacking recurses once per level of nesting, like every pass over the tree; it runs on the engine's
//! compile stack, which the parser's nesting limit is sized for.

use crate::ast::{Binding, Expr, ExprKind, ForLoop, Operation};
use crate::span::Span;

/// Parameter names and a body, packed.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedFunction(Box<[u8]>);

const NUMBER: u8 = 0;
const VAR: u8 = 1;
const UNARY: u8 = 2;
const BINARY: u8 = 3;
const ASSIGN: u8 = 4;
const CALL: u8 = 5;
const IF: u8 = 6;
const FOR: u8 = 7;
const FOR_STEP: u8 = 8;
const VAR_IN: u8 = 9;
/// A number that is a small non-negative integer (most literals), as LEB128 rather than 8 bytes.
const INTEGER: u8 = 10;

impl PackedFunction {
    /// Packs `params` and `body`.
    pub fn pack(params: &[String], body: &Expr) -> PackedFunction {
        let mut out = Vec::new();
        count(&mut out, params.len());
        for param in params {
            name(&mut out, param);
        }
        expr(&mut out, body);
        PackedFunction(out.into_boxed_slice())
    }

    /// The parameters and the body, as they were packed (with empty spans).
    pub fn unpack(&self) -> (Vec<String>, Expr) {
        let mut reader = Reader { bytes: &self.0, at: 0 };
        let params = (0..reader.count()).map(|_| reader.name()).collect();
        let body = reader.expr();
        (params, body)
    }

    /// How many parameters it has (read without unpacking the body).
    pub fn arity(&self) -> usize {
        Reader { bytes: &self.0, at: 0 }.count()
    }

    /// How many bytes the packed form holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds nothing (never: a body is at least one node).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn count(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn name(out: &mut Vec<u8>, text: &str) {
    count(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn op(out: &mut Vec<u8>, op: char) {
    count(out, op as usize);
}

fn expr(out: &mut Vec<u8>, e: &Expr) {
    match &e.kind {
        ExprKind::Number(value)
            if value.fract() == 0.0 && (0.0..16384.0).contains(value) && value.is_sign_positive() =>
        {
            out.push(INTEGER);
            count(out, *value as usize);
        }
        ExprKind::Number(value) => {
            out.push(NUMBER);
            out.extend_from_slice(&value.to_le_bytes());
        }
        ExprKind::Var(var) => {
            out.push(VAR);
            name(out, var);
        }
        ExprKind::Unary(o, operand) => {
            out.push(UNARY);
            op(out, *o);
            expr(out, operand);
        }
        ExprKind::Binary(first, operations) => {
            out.push(BINARY);
            count(out, operations.len());
            expr(out, first);
            for operation in operations {
                op(out, operation.op);
                expr(out, &operation.rhs);
            }
        }
        ExprKind::Assign(var, _, value) => {
            out.push(ASSIGN);
            name(out, var);
            expr(out, value);
        }
        ExprKind::Call(callee, _, args) => {
            out.push(CALL);
            name(out, callee);
            count(out, args.len());
            args.iter().for_each(|arg| expr(out, arg));
        }
        ExprKind::If(cond, then, otherwise) => {
            out.push(IF);
            [cond, then, otherwise].into_iter().for_each(|part| expr(out, part));
        }
        ExprKind::For(f) => {
            out.push(if f.step.is_some() { FOR_STEP } else { FOR });
            name(out, &f.var);
            [&f.start, &f.end].into_iter().chain(&f.step).chain([&f.body]).for_each(|part| expr(out, part));
        }
        ExprKind::VarIn(bindings, body) => {
            out.push(VAR_IN);
            count(out, bindings.len());
            for binding in bindings {
                name(out, &binding.name);
                match &binding.init {
                    Some(init) => {
                        out.push(1);
                        expr(out, init);
                    }
                    None => out.push(0),
                }
            }
            expr(out, body);
        }
    }
}

/// Reads what [`PackedFunction::pack`] wrote. The bytes come from `pack` alone, so they are well formed.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let byte = self.bytes[self.at];
        self.at += 1;
        byte
    }

    fn count(&mut self) -> usize {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let byte = self.byte();
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    fn name(&mut self) -> String {
        let len = self.count();
        let text = String::from_utf8_lossy(&self.bytes[self.at..self.at + len]).into_owned();
        self.at += len;
        text
    }

    fn op(&mut self) -> char {
        char::from_u32(self.count() as u32).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    fn boxed(&mut self) -> Box<Expr> {
        Box::new(self.expr())
    }

    fn expr(&mut self) -> Expr {
        let kind = match self.byte() {
            NUMBER => {
                let mut bits = [0u8; 8];
                bits.copy_from_slice(&self.bytes[self.at..self.at + 8]);
                self.at += 8;
                ExprKind::Number(f64::from_le_bytes(bits))
            }
            INTEGER => ExprKind::Number(self.count() as f64),
            VAR => ExprKind::Var(self.name()),
            UNARY => {
                let o = self.op();
                ExprKind::Unary(o, self.boxed())
            }
            BINARY => {
                let n = self.count();
                let first = self.boxed();
                let operations = (0..n).map(|_| Operation { op: self.op(), rhs: self.expr() }).collect();
                ExprKind::Binary(first, operations)
            }
            ASSIGN => {
                let var = self.name();
                ExprKind::Assign(var, Span::default(), self.boxed())
            }
            CALL => {
                let callee = self.name();
                let n = self.count();
                ExprKind::Call(callee, Span::default(), (0..n).map(|_| self.expr()).collect())
            }
            IF => ExprKind::If(self.boxed(), self.boxed(), self.boxed()),
            tag @ (FOR | FOR_STEP) => {
                let (var, start, end) = (self.name(), self.expr(), self.expr());
                let step = (tag == FOR_STEP).then(|| self.expr());
                let body = self.expr();
                ExprKind::For(Box::new(ForLoop { var, var_span: Span::default(), start, end, step, body }))
            }
            _ => {
                let n = self.count();
                let bindings = (0..n)
                    .map(|_| {
                        let name = self.name();
                        let init = (self.byte() == 1).then(|| self.expr());
                        Binding { name, init, span: Span::default() }
                    })
                    .collect();
                ExprKind::VarIn(bindings, self.boxed())
            }
        };
        Expr { kind, span: Span::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ItemKind;
    use crate::operators::Operators;
    use crate::printer::print_expr;

    /// Packing then unpacking gives the parsed tree back (compared printed, fully parenthesized: spans
    /// are not kept).
    #[test]
    fn every_kind_of_node_round_trips() {
        let sources = [
            "def f(x) x",
            "def f(x y) x + y * 2 - 1 / y < 3",
            "def f(x) if x < 1 then g(x, 2, h()) else -x",
            "def f(n) var a = 1, b in (for i = 0, i < n, 2 in a = a * i) : (for j = 1, j < 3 in b = j) : a + b",
            "def binary| 5 (a b) if a then 1 else if b then 1 else 0",
            "def f(x) x | !x : y = 1e300 : 0.1 : 16383 : 16384 : 2.5 : -0 : 0",
        ];
        // Lengths and counts past 127 take two bytes of LEB128.
        let long_name = "n".repeat(200);
        let many_terms = vec!["1"; 300].join(" + ");
        let long = format!("def f({long_name}) {many_terms} + {long_name}");
        let sources = sources.into_iter().chain([long.as_str()]);
        let mut operators = Operators::builtin();
        for (op, precedence) in [('|', 5), (':', 1)] {
            operators.define_binary(op, precedence);
        }
        operators.define_unary('!');
        operators.define_unary('-');
        for source in sources {
            let analysis = crate::analyze(source, &operators, &|name| name == "y");
            assert!(analysis.diagnostics.is_empty(), "{source}: {:?}", analysis.diagnostics);
            let ItemKind::Def(function) = &analysis.items[0].kind else { panic!("a definition") };
            let params: Vec<String> = function.proto.params.iter().map(|p| p.name.clone()).collect();
            let packed = PackedFunction::pack(&params, &function.body);
            let (unpacked_params, body) = packed.unpack();
            assert_eq!(unpacked_params, params, "{source}");
            assert_eq!(packed.arity(), params.len(), "{source}");
            assert_eq!(print_expr(&body), print_expr(&function.body), "{source}");
            assert!(packed.len() <= 2 * source.len(), "{source}: {} bytes", packed.len());
        }
    }
}
