//! Engine sessions as data: each case is a list of entries, and the expectation is the transcript (program
//! output, values, definitions, warnings and errors, in order). Regenerate with `UPDATE_EXPECT=1`.

use expect_test::{Expect, expect};
use kaleido_engine::{CapturedOutput, Engine, EngineOptions, ItemOutcome, JitMode, format_value};

fn transcript(entries: &[&str], jit: JitMode) -> String {
    let buffer = CapturedOutput::default();
    let options = EngineOptions { jit, ..EngineOptions::default() };
    let mut engine = Engine::new(options, Box::new(buffer.clone())).expect("engine");
    let mut out = String::new();
    for (n, entry) in entries.iter().enumerate() {
        let name = format!("<e{}>", n + 1);
        let result = engine.eval(&name, entry);
        out.push_str(&buffer.take_string());
        match result {
            Err(rejected) => out.push_str(&kaleido_lang::render_all(&rejected.diagnostics, &name, entry)),
            Ok(outcome) => {
                out.push_str(&kaleido_lang::render_all(&outcome.warnings, &name, entry));
                for item in outcome.items {
                    out.push_str(&match item {
                        ItemOutcome::Value(v) => format!("{}\n", format_value(v)),
                        ItemOutcome::Defined { name, params, version } => {
                            format!("defined {name}({}) v{version}\n", params.join(" "))
                        }
                        ItemOutcome::Declared { name, .. } => format!("extern {name}\n"),
                        ItemOutcome::Global { name, value } => {
                            format!("{name} = {}\n", format_value(value))
                        }
                    });
                }
                if let Some(mut error) = outcome.error {
                    // Deep recursion's depth depends on the thread's stack; show it as a lower bound.
                    let deep = error.backtrace.iter().any(|f| f.repeat >= 1000);
                    error.backtrace.iter_mut().filter(|f| f.repeat >= 1000).for_each(|f| f.repeat = 1000);
                    let line = error.backtrace_line().replace("×1000", "×1000+");
                    out.push_str(&format!("error: {error}\n  in {line}{}\n", if deep { " (deep)" } else { "" }));
                }
            }
        }
    }
    out
}

/// Checks the transcript with lazy compilation, and that eager compilation gives exactly the same.
fn check(entries: &[&str], expect: Expect) {
    let lazy = transcript(entries, JitMode::Lazy);
    assert_eq!(transcript(entries, JitMode::Eager), lazy, "eager and lazy sessions differ");
    expect.assert_eq(&lazy);
}

#[test]
fn arithmetic_and_value_format() {
    check(
        &["1 + 2 * 3", "0.1 + 0.2", "1 / 0", "0 / 0", "-(2)", "1 < 2", "2 < 1"],
        expect![[r#"
        7
        0.30000000000000004
        inf
        NaN
        -2
        1
        0
    "#]],
    );
}

#[test]
fn fib_recursive() {
    check(
        &["def fib(x) if x < 3 then 1 else fib(x-1) + fib(x-2)", "fib(30)"],
        expect![[r#"
        defined fib(x) v1
        832040
    "#]],
    );
}

#[test]
fn redefinition_is_seen_by_callers_in_earlier_entries() {
    check(
        &["def f(x) x + 1", "def g(x) f(x) * 10", "g(1)", "def f(x) x + 2", "g(1)"],
        expect![[r#"
        defined f(x) v1
        defined g(x) v1
        20
        defined f(x) v2
        30
    "#]],
    );
}

#[test]
fn arity_change_warns_fails_at_the_call_and_heals() {
    check(
        &[
            "def f(x) x",
            "def g(x) f(x) + 1",
            "def f(a b) a + b",
            "g(1)",
            "def g(x) f(x, 10) + 1",
            "g(1)",
            "def f(x) x",
            "g(1)",
        ],
        expect![[r#"
            defined f(x) v1
            defined g(x) v1
            <e3>:1:1: warning: `f` now takes 2 arguments; `g` still passes 1 and will fail when called
              |
            1 | def f(a b) a + b
              | ^^^^^^^^^^
              |
              = note: redefine either side so the argument counts agree again
            defined f(a b) v2
            error: `g` calls `f` with 1 argument, but `f` now takes 2
              in `g` ← <e4>
            defined g(x) v2
            12
            <e7>:1:1: warning: `f` now takes 1 argument; `g` still passes 2 and will fail when called
              |
            1 | def f(x) x
              | ^^^^^^^^
              |
              = note: redefine either side so the argument counts agree again
            defined f(x) v3
            error: `g` calls `f` with 2 arguments, but `f` now takes 1
              in `g` ← <e8>
        "#]],
    );
}

#[test]
fn forward_references_and_mutual_recursion_across_entries() {
    check(
        &[
            "def even(n) if n < 1 then 1 else odd(n - 1)",
            "even(4)",
            "def odd(n) if n < 1 then 0 else even(n - 1)",
            "even(10) + odd(7) * 10",
        ],
        expect![[r#"
            <e1>:1:34: warning: `odd` is not defined yet
              |
            1 | def even(n) if n < 1 then 1 else odd(n - 1)
              |                                  ^^^
              |
              = note: calling it fails until it is defined
            defined even(n) v1
            error: `odd` is not defined
              in `even` ← <e2>
            defined odd(n) v1
            11
        "#]],
    );
}

#[test]
fn globals_are_read_assigned_and_reinitialised() {
    check(
        &["var x = 5", "def bump(d) x = x + d", "bump(2)", "x", "var x = 1, y = x + 1", "bump(y) + x"],
        expect![[r#"
        x = 5
        defined bump(d) v1
        7
        7
        x = 1
        y = 2
        6
    "#]],
    );
}

#[test]
fn builtins_externs_and_c_symbols() {
    check(
        &[
            "printd(42)",
            "putchard(72) : putchard(105) : putchard(10)",
            "extern sin(x); sin(0)",
            "extern hypot(x y)",
            "hypot(3, 4)",
            "extern nope_nope(x)",
            "sqrt(1, 2)",
        ],
        expect![[r#"
            42
            0
            Hi
            0
            extern sin
            0
            extern hypot
            5
            <e6>:1:8: error: no builtin or C function named `nope_nope` exists
              |
            1 | extern nope_nope(x)
              |        ^^^^^^^^^
              |
              = note: builtins: putchard printd pixel plotpoint sin cos tan asin acos atan atan2 sinh cosh tanh exp log log10 pow sqrt floor ceil fabs fmod
            <e7>:1:1: error: `sqrt` takes 1 argument, but 2 were given
              |
            1 | sqrt(1, 2)
              | ^^^^
        "#]],
    );
}

#[test]
fn a_failed_entry_leaves_no_trace() {
    check(
        &[
            "def f(x) 1",
            "def f(x) 2; def g(x) h(x); extern nope_nope(y)",
            "f(0)",
            "g(1)",
            "def binary% 9 (a b) a; sqrt(1,2)",
            "1 % 2",
        ],
        expect![[r#"
            defined f(x) v1
            <e2>:1:22: warning: `h` is not defined yet
              |
            1 | def f(x) 2; def g(x) h(x); extern nope_nope(y)
              |                      ^
              |
              = note: calling it fails until it is defined
            <e2>:1:35: error: no builtin or C function named `nope_nope` exists
              |
            1 | def f(x) 2; def g(x) h(x); extern nope_nope(y)
              |                                   ^^^^^^^^^
              |
              = note: builtins: putchard printd pixel plotpoint sin cos tan asin acos atan atan2 sinh cosh tanh exp log log10 pow sqrt floor ceil fabs fmod
            1
            error: `g` is not defined
              in <e4>
            <e5>:1:24: error: `sqrt` takes 1 argument, but 2 were given
              |
            1 | def binary% 9 (a b) a; sqrt(1,2)
              |                        ^^^^
            <e6>:1:3: error: binary operator `%` is not defined
              |
            1 | 1 % 2
              |   ^
              |
              = note: define it first, e.g. `def binary% 30 (a b) ...`
        "#]],
    );
}

#[test]
fn items_before_a_runtime_error_keep_their_effects_and_output_is_in_order() {
    check(
        &["var a = 1; printd(1); printd(2) : missing(0); a = 5", "a"],
        expect![[r#"
        1
        2
        a = 1
        0
        error: `missing` is not defined
          in <e1>
        1
    "#]],
    );
}

#[test]
fn for_loops_follow_the_tutorial() {
    check(
        &[
            "for i = 0, i < 3 in printd(i)",
            "def count(n) var c = 0 in (for i = 1, i < n in c = c + 1) : c",
            "count(5)",
            "for i = 0, 0 in printd(i)",
        ],
        expect![[r#"
            0
            1
            2
            3
            0
            defined count(n) v1
            5
            0
            0
        "#]],
    );
}

#[test]
fn iterative_fib_with_var() {
    check(
        &["def fibi(x) var a = 1, b = 1, c in (for i = 3, i < x in c = a + b : a = b : b = c) : b", "fibi(10)"],
        expect![[r#"
            defined fibi(x) v1
            55
        "#]],
    );
}

#[test]
fn user_operators_and_redefining_a_prelude_operator() {
    check(
        &["def binary% 50 (a b) fmod(a, b)", "7 % 4 + 1", "def unary!(v) 42", "!0", "def binary| 5 (a b) 7", "0 | 0"],
        expect![[r#"
        defined binary%(a b) v1
        4
        defined unary!(v) v2
        42
        defined binary|(a b) v2
        7
    "#]],
    );
}

#[test]
fn stack_overflow_is_an_error_and_the_session_survives() {
    check(
        &["def inf(x) inf(x + 1) + 1", "inf(0)", "def ok(x) x * 2", "ok(21)"],
        expect![[r#"
        defined inf(x) v1
        error: stack overflow
          in `inf` ×1000+ ← <e2> (deep)
        defined ok(x) v1
        42
    "#]],
    );
}

#[test]
fn a_compile_error_inside_a_definition_leaves_the_engine_usable() {
    // Regression (found by the differential test): translation abandoned half-way left Cranelift's
    // builder context dirty, and the next entry panicked.
    check(
        &["def f(x) sqrt(1, 2) + x", "def g(x) x * 2", "g(21)"],
        expect![[r#"
        <e1>:1:10: error: `sqrt` takes 1 argument, but 2 were given
          |
        1 | def f(x) sqrt(1, 2) + x
          |          ^^^^
        defined g(x) v1
        42
    "#]],
    );
}

#[test]
fn an_arity_error_names_its_caller_even_deep_in_a_folded_cycle() {
    // Regression: the caller was read off the folded backtrace, whose first line was the cycle
    // `(g ← h) ×3`, so the error blamed the top-level expression.
    check(
        &["def f(a b) a", "def g(n) if n < 1 then f(1) else h(n - 1); def h(n) g(n)", "g(3)"],
        expect![[r#"
            defined f(a b) v1
            <e2>:1:24: warning: `f` takes 2 arguments, but this call passes 1
              |
            1 | def g(n) if n < 1 then f(1) else h(n - 1); def h(n) g(n)
              |                        ^
            <e2>:1:34: warning: `h` is not defined yet
              |
            1 | def g(n) if n < 1 then f(1) else h(n - 1); def h(n) g(n)
              |                                  ^
              |
              = note: calling it fails until it is defined
            defined g(n) v1
            defined h(n) v1
            error: `g` calls `f` with 1 argument, but `f` takes 2
              in (`g` ← `h`) ×3 ← `g` ← <e3>
        "#]],
    );
}
