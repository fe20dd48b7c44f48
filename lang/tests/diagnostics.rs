//! Golden diagnostics: one case per kind of error the front end reports, rendered exactly as a user sees it.

use expect_test::{Expect, expect};
use kaleido_lang::{Operators, analyze, render_all};

fn check(source: &str, expect: Expect) {
    let is_global = |name: &str| name == "g";
    let mut ops = Operators::builtin();
    ops.define_unary('-');
    let analysis = analyze(source, &ops, &is_global);
    expect.assert_eq(&render_all(&analysis.diagnostics, "<repl:3>", source));
}

#[test]
fn unexpected_character() {
    check(
        "1 + é",
        expect![[r#"
            <repl:3>:1:5: error: unexpected character `é`
              |
            1 | 1 + é
              |     ^
              |
              = note: operators are single ASCII punctuation characters; names are ASCII letters, digits and `_`
            <repl:3>:1:6: error: expected an expression, found end of input
              |
            1 | 1 + é
              |      ^
        "#]],
    );
}

#[test]
fn malformed_numbers() {
    check(
        "1e+; 1.2.3",
        expect![[r#"
        <repl:3>:1:1: error: malformed number literal `1e+`: its exponent has no digits
          |
        1 | 1e+; 1.2.3
          | ^^^
        <repl:3>:1:6: error: malformed number literal `1.2.3`: it runs into other characters
          |
        1 | 1e+; 1.2.3
          |      ^^^^^
    "#]],
    );
}

#[test]
fn number_too_large() {
    check(
        "1e400",
        expect![[r#"
        <repl:3>:1:1: error: number literal `1e400` is too large for an f64
          |
        1 | 1e400
          | ^^^^^ the largest finite f64 is about 1.8e308
    "#]],
    );
}

#[test]
fn expected_closing_parenthesis_at_end_of_input() {
    check(
        "def f(x) foo(x, 1",
        expect![[r#"
        <repl:3>:1:18: error: expected `)` after arguments, found end of input
          |
        1 | def f(x) foo(x, 1
          |                  ^
    "#]],
    );
}

#[test]
fn expected_then() {
    check(
        "if 1 else 2",
        expect![[r#"
        <repl:3>:1:6: error: expected `then` after the condition of `if`, found keyword `else`
          |
        1 | if 1 else 2
          |      ^^^^
    "#]],
    );
}

#[test]
fn missing_function_name() {
    check(
        "def (x) x",
        expect![[r#"
        <repl:3>:1:5: error: expected a function name after `def` or `extern`, found `(`
          |
        1 | def (x) x
          |     ^
    "#]],
    );
}

#[test]
fn commas_between_parameters() {
    check(
        "def f(a, b) a",
        expect![[r#"
        <repl:3>:1:8: error: parameters are separated by spaces, not commas
          |
        1 | def f(a, b) a
          |        ^ remove this comma
    "#]],
    );
}

#[test]
fn operator_with_wrong_parameter_count() {
    check(
        "def binary~ 5 (a) a\ndef unary!(a b) a",
        expect![[r#"
        <repl:3>:1:1: error: a binary operator takes exactly two parameters, but `binary~` has 1
          |
        1 | def binary~ 5 (a) a
          | ^^^^^^^^^^^^^^^^^
        <repl:3>:2:1: error: a unary operator takes exactly one parameter, but `unary!` has 2
          |
        2 | def unary!(a b) a
          | ^^^^^^^^^^^^^^^
    "#]],
    );
}

#[test]
fn precedence_out_of_range() {
    check(
        "def binary~ 101 (a b) a; def binary~ 2.5 (a b) a",
        expect![[r#"
        <repl:3>:1:13: error: precedence must be a whole number from 1 to 100, found `101`
          |
        1 | def binary~ 101 (a b) a; def binary~ 2.5 (a b) a
          |             ^^^
        <repl:3>:1:38: error: precedence must be a whole number from 1 to 100, found `2.5`
          |
        1 | def binary~ 101 (a b) a; def binary~ 2.5 (a b) a
          |                                      ^^^
    "#]],
    );
}

#[test]
fn reserved_operators() {
    check(
        "def binary= 9 (a b) a; def unary= (a) a; def binary+ (a b) a",
        expect![[r#"
            <repl:3>:1:5: warning: this definition of `binary=` is ignored: `=` is assignment and cannot be redefined
              |
            1 | def binary= 9 (a b) a; def unary= (a) a; def binary+ (a b) a
              |     ^^^^^^^^^
              |
              = note: the tutorial's chapter 6 defines `=` as equality; here compare with `<` and `>`
            <repl:3>:1:33: error: `=` is assignment and cannot be defined as an operator
              |
            1 | def binary= 9 (a b) a; def unary= (a) a; def binary+ (a b) a
              |                                 ^
              |
              = note: compare with `<`, `>` or a new operator such as `binary~`
            <repl:3>:1:52: error: `+` is a built-in binary operator and cannot be redefined
              |
            1 | def binary= 9 (a b) a; def unary= (a) a; def binary+ (a b) a
              |                                                    ^
        "#]],
    );
}

#[test]
fn extern_of_an_operator() {
    check(
        "extern unary~(x)",
        expect![[r#"
            <repl:3>:1:8: error: `extern` declares a plain function, not an operator
              |
            1 | extern unary~(x)
              |        ^^^^^^
              |
              = note: define operators with `def binary` or `def unary`
        "#]],
    );
}

#[test]
fn undefined_operators() {
    check(
        "1 | 2; !3",
        expect![[r#"
            <repl:3>:1:3: error: binary operator `|` is not defined
              |
            1 | 1 | 2; !3
              |   ^
              |
              = note: define it first, e.g. `def binary| 30 (a b) ...`
            <repl:3>:1:8: error: unary operator `!` is not defined
              |
            1 | 1 | 2; !3
              |        ^
              |
              = note: define it first, e.g. `def unary!(v) ...`
        "#]],
    );
}

#[test]
fn assignment_to_a_non_variable() {
    check(
        "def f(x) (x + 1) = 2",
        expect![[r#"
            <repl:3>:1:11: error: only a variable can be assigned to
              |
            1 | def f(x) (x + 1) = 2
              |           ^^^^^ this is not a variable
              |
              = note: `=` assigns; compare values with `<` or a user-defined operator
        "#]],
    );
}

#[test]
fn unknown_variable() {
    check(
        "def f(x) x + y\n\ng + z",
        expect![[r#"
            <repl:3>:1:14: error: unknown variable `y`
              |
            1 | def f(x) x + y
              |              ^ not a parameter, a local or a global
              |
              = note: define a global first with `var y = ...`
            <repl:3>:3:5: error: unknown variable `z`
              |
            3 | g + z
              |     ^ not a parameter, a local or a global
              |
              = note: define a global first with `var z = ...`
        "#]],
    );
}

#[test]
fn locals_go_out_of_scope() {
    check(
        "def f(x) (for i = 0, i < 3 in x) + i",
        expect![[r#"
            <repl:3>:1:36: error: unknown variable `i`
              |
            1 | def f(x) (for i = 0, i < 3 in x) + i
              |                                    ^ not a parameter, a local or a global
              |
              = note: define a global first with `var i = ...`
        "#]],
    );
}

#[test]
fn duplicate_parameter() {
    check(
        "def f(a b a) a",
        expect![[r#"
        <repl:3>:1:11: error: parameter `a` is declared twice in `f`
          |
        1 | def f(a b a) a
          |           ^ second declaration
    "#]],
    );
}

#[test]
fn var_without_in_inside_a_function() {
    check(
        "def f(x) var a = 1",
        expect![[r#"
        <repl:3>:1:19: error: expected `in` after the variables of a `var` expression, found end of input
          |
        1 | def f(x) var a = 1
          |                   ^
    "#]],
    );
}

#[test]
fn too_many_parameters() {
    let params: Vec<String> = (0..70).map(|i| format!("p{i}")).collect();
    let source = format!("def big({}) 0", params.join(" "));
    let analysis = analyze(&source, &Operators::builtin(), &|_| false);
    let rendered = render_all(&analysis.diagnostics, "<t>", &source);
    assert!(rendered.starts_with("<t>:1:5: error: `big` has 70 parameters; at most 64 are allowed"), "{rendered}");
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let bytes = b"1 + \xff2";
    let diagnostic = kaleido_lang::decode(bytes).unwrap_err();
    let shown = String::from_utf8_lossy(bytes);
    expect![[r#"
        <t>:1:5: error: the input is not valid UTF-8
          |
        1 | 1 + �2
          |     ^
          |
          = note: byte 4 (0xff) cannot start or continue a character
    "#]]
    .assert_eq(&kaleido_lang::render(&diagnostic, "<t>", &shown));
}

#[test]
fn warnings_render_as_warnings() {
    let diagnostic = kaleido_lang::Diagnostic::warning(kaleido_lang::Span::new(9, 12), "`odd` is not defined yet");
    expect![[r#"
        <t>:1:10: warning: `odd` is not defined yet
          |
        1 | def f(x) odd(x)
          |          ^^^
    "#]]
    .assert_eq(&kaleido_lang::render(&diagnostic, "<t>", "def f(x) odd(x)"));
}
