//! Parser tests as data: each case is an entry and the expected dump (items printed back, fully
//! parenthesised, then every rendered diagnostic). Regenerate expectations with `UPDATE_EXPECT=1`.

use expect_test::{Expect, expect};
use kaleido_lang::{Operators, analyze, printer::print_items, render_all};

/// The prelude's operators, as the shell starts with them.
fn prelude_operators() -> Operators {
    let mut ops = Operators::builtin();
    for (op, precedence) in [('>', 10), ('|', 5), ('&', 6), (':', 1)] {
        ops.define_binary(op, precedence);
    }
    ops.define_unary('!');
    ops.define_unary('-');
    ops
}

fn check(source: &str, expect: Expect) {
    let is_global = |name: &str| name == "g";
    let analysis = analyze(source, &prelude_operators(), &is_global);
    let mut dump = print_items(&analysis.items);
    dump.push_str(&render_all(&analysis.diagnostics, "<t>", source));
    expect.assert_eq(&dump);
}

#[test]
fn literals_and_arithmetic() {
    check(
        "1 + 2 * 3 - .5 / 1e3 + 2.5e-3 + 1E+2",
        expect![[r#"
            (1 + (2 * 3) - (0.5 / 1000) + 0.0025 + 100);
        "#]],
    );
}

#[test]
fn comparison_binds_looser_than_arithmetic() {
    check(
        "1 + 2 < 3 * 4",
        expect![[r#"
        ((1 + 2) < (3 * 4));
    "#]],
    );
}

#[test]
fn definitions_externs_and_calls() {
    check(
        "def f(a b) a*b + g; extern sin(x); f(1, sin(2))",
        expect![[r#"
        def f(a b) ((a * b) + g);
        extern sin(x);
        f(1, sin(2));
    "#]],
    );
}

#[test]
fn semicolons_are_optional_between_items() {
    check(
        "def id(x) x id(3)",
        expect![[r#"
        def id(x) x;
        id(3);
    "#]],
    );
}

#[test]
fn if_then_else_and_for() {
    check(
        "def f(n) if n < 2 then n else for i = 1, i < n, 2 in f(i)",
        expect![[r#"
        def f(n) (if (n < 2) then n else (for i = 1, (i < n), 2 in f(i)));
    "#]],
    );
}

#[test]
fn var_in_and_assignment() {
    check(
        "def f(x) var a = 1, b in (b = a + x) : b",
        expect![[r#"
        def f(x) (var a = 1, b in ((b = (a + x)) : b));
    "#]],
    );
}

#[test]
fn global_definitions_and_top_level_var_expressions() {
    check(
        "var x = 5, y; var t = 1 in t + x + y; x = 3",
        expect![[r#"
            var x = 5, y;
            (var t = 1 in (t + x + y));
            (x = 3);
        "#]],
    );
}

#[test]
fn prelude_operators_and_precedence() {
    check(
        "!a | b & c > -d : 1",
        expect![[r#"
            ((!a | (b & (c > -d))) : 1);
            <t>:1:2: error: unknown variable `a`
              |
            1 | !a | b & c > -d : 1
              |  ^ not a parameter, a local or a global
              |
              = note: define a global first with `var a = ...`
            <t>:1:6: error: unknown variable `b`
              |
            1 | !a | b & c > -d : 1
              |      ^ not a parameter, a local or a global
              |
              = note: define a global first with `var b = ...`
            <t>:1:10: error: unknown variable `c`
              |
            1 | !a | b & c > -d : 1
              |          ^ not a parameter, a local or a global
              |
              = note: define a global first with `var c = ...`
            <t>:1:15: error: unknown variable `d`
              |
            1 | !a | b & c > -d : 1
              |               ^ not a parameter, a local or a global
              |
              = note: define a global first with `var d = ...`
        "#]],
    );
}

#[test]
fn user_operators_are_usable_by_later_items_and_their_own_body() {
    check(
        "def binary% 50 (a b) if b < 1 then a else (a - b) % b; 7 % 2 + 1; def unary~(v) 0 - v; ~1",
        expect![[r#"
        def binary% 50 (a b) (if (b < 1) then a else ((a - b) % b));
        ((7 % 2) + 1);
        def unary~(v) (0 - v);
        ~1;
    "#]],
    );
}

#[test]
fn binary_operators_default_to_precedence_30() {
    check(
        "def binary^ (a b) a * b; 1 + 2 ^ 3 * 4",
        expect![[r#"
        def binary^ 30 (a b) (a * b);
        (1 + (2 ^ (3 * 4)));
    "#]],
    );
}

#[test]
fn comments_are_skipped() {
    check(
        "# a comment\n1 # another\n+ 2",
        expect![[r#"
        (1 + 2);
    "#]],
    );
}

#[test]
fn a_chain_prints_flat_where_any_precedences_read_it_back_the_same() {
    // `+` then `:` in one chain: the part before the change of operator is parenthesized, so the text
    // reads back the same even after `:` is redefined tighter than `+`.
    check(
        "def f(a b c) a + b : c + a * b - c; g | g | g : g > g : g",
        expect![[r#"
            def f(a b c) ((a + b) : (c + (a * b) - c));
            ((g | g | g) : (g > g) : g);
        "#]],
    );
}
