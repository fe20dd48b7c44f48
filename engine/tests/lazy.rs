//! Lazy compilation: code is generated on the first call, once, and never for a body replaced unused.
//! Tier 0 is off here (`tier0_calls: 0`), so the first call is the one that compiles.

mod common;

use common::value;
use kaleido_engine::{Engine, EngineOptions, JitMode};

fn engine(jit: JitMode) -> Engine {
    let options = EngineOptions { jit, prelude: false, tier0_calls: 0, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

fn compiled(engine: &Engine, name: &str) -> bool {
    engine.index().get(name).expect("known").is_compiled()
}

#[test]
fn definitions_compile_on_first_call_and_only_once() {
    let mut e = engine(JitMode::Lazy);
    e.eval("<t>", "def h(x) x + 1; def g(x) h(x) * 2; def f(x) g(x) + g(x)").expect("defs");
    let before = e.stats().functions;
    assert!(!compiled(&e, "f") && !compiled(&e, "g") && !compiled(&e, "h"));
    // The first call compiles f, which on its first run compiles g, which compiles h: nested lazy compiles.
    assert_eq!(value(&mut e, "f(1)"), 8.0);
    assert!(compiled(&e, "f") && compiled(&e, "g") && compiled(&e, "h"));
    let after_first = e.stats().functions;
    assert_eq!(after_first - before, 4, "f, g, h and the top-level expression");
    assert_eq!(value(&mut e, "f(2)"), 12.0);
    assert_eq!(e.stats().functions - after_first, 1, "only the new top-level expression");
}

#[test]
fn a_definition_replaced_before_any_call_is_never_compiled() {
    let mut e = engine(JitMode::Lazy);
    let before = e.stats().functions;
    for i in 0..50 {
        e.eval("<t>", &format!("def f(x) x + {i}")).expect("def");
    }
    e.eval("<t>", "def f(x y) x * y").expect("arity change");
    assert_eq!(e.stats().functions, before, "nothing compiled yet");
    assert_eq!(value(&mut e, "f(6, 7)"), 42.0);
    assert_eq!(e.stats().functions - before, 2, "the last f and the expression");
}

#[test]
fn eager_mode_compiles_at_definition() {
    let mut e = engine(JitMode::Eager);
    let before = e.stats().functions;
    e.eval("<t>", "def f(x) x").expect("def");
    assert!(compiled(&e, "f"));
    assert_eq!(e.stats().functions - before, 1);
    assert!(e.stats().code_bytes > 0);
}

#[test]
fn switching_modes_mid_session() {
    let mut e = engine(JitMode::Eager);
    e.eval("<t>", "def a(x) x + 1").expect("eager def");
    e.set_jit_mode(JitMode::Lazy);
    e.eval("<t>", "def b(x) a(x) * 10").expect("lazy def");
    assert!(compiled(&e, "a") && !compiled(&e, "b"));
    assert_eq!(value(&mut e, "b(1)"), 20.0);
    assert!(compiled(&e, "b"));
}

#[test]
fn deep_recursion_inside_lazily_compiled_code_overflows_cleanly() {
    let mut e = engine(JitMode::Lazy);
    e.eval("<t>", "def down(n) if n < 1 then 0 else down2(n - 1) + 1; def down2(n) down(n)").expect("defs");
    let outcome = e.eval("<t>", "down(1e9)").expect("accepted");
    assert_eq!(outcome.error.expect("overflow").to_string(), "stack overflow");
    assert_eq!(value(&mut e, "down(10)"), 10.0);
}
