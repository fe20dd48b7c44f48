//! Every caller sees the current binding of a name, whatever it is bound to (issue 23, item 3): calls
//! to a C function go through the name's slot, so `:forget` and a later `def` reach code compiled before
//! them, in both modes, also when the caller is first compiled after the change.

mod common;

use common::value;
use kaleido_engine::{Engine, EngineOptions, JitMode, RuntimeErrorKind};

fn engine(jit: JitMode) -> Engine {
    Engine::new(EngineOptions { jit, prelude: false, ..EngineOptions::default() }, Box::new(std::io::sink()))
        .expect("engine")
}

fn undefined(e: &mut Engine, text: &str) -> String {
    let outcome = e.eval("<t>", text).expect("accepted");
    match outcome.error.map(|error| error.kind) {
        Some(RuntimeErrorKind::Undefined { name, .. }) => name,
        other => panic!("`{text}`: expected a not-defined error, got {other:?}"),
    }
}

#[test]
fn forgetting_and_redefining_an_extern_reaches_its_callers() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        e.eval("<t>", "extern hypot(x y)").expect("extern");
        e.eval("<t>", "def f(x) hypot(3, 4) + x").expect("f");
        assert_eq!(value(&mut e, "f(0)"), 5.0, "{jit:?}");
        e.forget("hypot").expect("forget");
        assert_eq!(undefined(&mut e, "f(0)"), "hypot", "{jit:?}");
        e.eval("<t>", "def hypot(x y) 1").expect("a def of the name, once it is free");
        assert_eq!(value(&mut e, "f(0)"), 1.0, "{jit:?}");
        assert_eq!(value(&mut e, "hypot(3, 4)"), 1.0, "{jit:?}");
        // And back to the C function, after forgetting the definition.
        e.forget("hypot").expect("forget the def");
        e.eval("<t>", "extern hypot(x y)").expect("extern again");
        assert_eq!(value(&mut e, "f(10)"), 15.0, "{jit:?}");
    }
}

#[test]
fn a_caller_first_compiled_after_the_forget_sees_it_too() {
    let mut e = engine(JitMode::Lazy);
    e.eval("<t>", "extern hypot(x y); def f(x) hypot(3, 4) + x").expect("defined, not compiled");
    e.forget("hypot").expect("forget");
    assert_eq!(undefined(&mut e, "f(0)"), "hypot");
    e.eval("<t>", "def hypot(x y) x * y").expect("def");
    assert_eq!(value(&mut e, "f(1)"), 13.0);
}

#[test]
fn a_forward_reference_and_a_second_extern_keep_one_binding() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        e.eval("<t>", "def g(x) cbrt(x)").expect("a call before the extern");
        assert_eq!(undefined(&mut e, "g(8)"), "cbrt", "{jit:?}");
        e.eval("<t>", "extern cbrt(x)").expect("extern");
        e.eval("<t>", "extern cbrt(y)").expect("declared again, same arity");
        let direct = value(&mut e, "cbrt(27)");
        assert!((direct - 3.0).abs() < 1e-12 && value(&mut e, "g(27)") == direct, "{jit:?}");
        let rejected = e.eval("<t>", "def cbrt(x) x").expect_err("bound to C");
        assert!(rejected.diagnostics[0].message.contains("bound to a C function"), "{:?}", rejected.diagnostics);
        let rejected = e.eval("<t>", "cbrt(1, 2)").expect_err("a C function's arity is fixed while bound");
        assert!(rejected.diagnostics[0].message.contains("takes 1 argument"), "{:?}", rejected.diagnostics);
    }
}

#[test]
fn forgetting_an_extern_frees_its_adapter() {
    let mut e = engine(JitMode::Eager);
    e.eval("<t>", "extern hypot(x y); hypot(1, 1)").expect("warm up");
    e.forget("hypot").expect("forget");
    let before = e.code_bytes();
    for _ in 0..50 {
        e.eval("<t>", "extern hypot(x y)").expect("extern");
        e.forget("hypot").expect("forget");
    }
    assert_eq!(e.code_bytes(), before, "no adapter is left behind");
}

/// A definition may call a bound C function with another arity, as it may call a definition so (a
/// warning; the call fails when it runs), and a later binding of that arity heals it. Found by the `:save`
/// round-trip fuzz target: a saved session declares its externs first, so such a definition must load.
#[test]
fn a_definition_that_calls_a_bound_extern_with_another_arity_is_a_warning() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        e.eval("<t>", "extern hypot(x y)").expect("extern");
        let outcome = e.eval("<t>", "def h(x) hypot(x, 2, 3)").expect("accepted, with a warning");
        assert!(outcome.warnings[0].message.contains("`hypot` takes 2 arguments, but this call passes 3"));
        let failed = e.eval("<t>", "h(1)").expect("accepted").error.expect("fails when called");
        assert!(matches!(failed.kind, RuntimeErrorKind::ArityMismatch { .. }), "{failed:?}");
        e.forget("hypot").expect("forget");
        e.eval("<t>", "def hypot(a b c) a + b + c").expect("def");
        assert_eq!(value(&mut e, "h(1)"), 6.0, "{jit:?}");
    }
}
