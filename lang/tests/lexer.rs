//! Lexer tests as data: each case is a source and its token dump.

use expect_test::{Expect, expect};
use kaleido_lang::lexer::{lex, lex_with_comments};

fn check(source: &str, expect: Expect) {
    let (tokens, diagnostics) = lex(source);
    let dump: Vec<String> =
        tokens.iter().map(|t| format!("{:?} {:?} {:?}", t.kind, t.span, &source[t.span.range()])).collect();
    let mut out = dump.join("\n");
    for d in diagnostics {
        out.push_str(&format!("\nerror {:?}: {}", d.span, d.message));
    }
    expect.assert_eq(&out);
}

#[test]
fn keywords_names_numbers_and_operators() {
    check(
        "def fib_2(x) if x < 3 then 1.5e0 else .5",
        expect![[r#"
        Def 0..3 "def"
        Ident 4..9 "fib_2"
        LParen 9..10 "("
        Ident 10..11 "x"
        RParen 11..12 ")"
        If 13..15 "if"
        Ident 16..17 "x"
        Op('<') 18..19 "<"
        Number(3.0) 20..21 "3"
        Then 22..26 "then"
        Number(1.5) 27..32 "1.5e0"
        Else 33..37 "else"
        Number(0.5) 38..40 ".5"
        Eof 40..40 """#]],
    );
}

#[test]
fn separators_and_comments() {
    check(
        "f(a, b); # ignored\n:",
        expect![[r#"
        Ident 0..1 "f"
        LParen 1..2 "("
        Ident 2..3 "a"
        Comma 3..4 ","
        Ident 5..6 "b"
        RParen 6..7 ")"
        Semi 7..8 ";"
        Op(':') 19..20 ":"
        Eof 20..20 """#]],
    );
}

#[test]
fn tiny_literals_underflow_to_zero() {
    check(
        "1e-400",
        expect![[r#"
        Number(0.0) 0..6 "1e-400"
        Eof 6..6 """#]],
    );
}

#[test]
fn highlighting_sees_comments() {
    let tokens = lex_with_comments("1 # note");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].kind, kaleido_lang::token::TokenKind::Comment);
}
