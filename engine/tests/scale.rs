//! A session of 10,000 definitions: every one stays callable, and a redefinition reaches them all.

mod common;

use common::value;
use kaleido_engine::{Engine, EngineOptions};

#[test]
fn ten_thousand_definitions_stay_callable() {
    let mut engine = Engine::new(EngineOptions::default(), Box::new(std::io::sink())).expect("engine");
    engine.eval("<t>", "def base(x) x").expect("base");
    for i in 0..10_000 {
        engine.eval("<t>", &format!("def f{i}(x) base(x) + {i}")).expect("definition");
    }
    let sum: f64 = (0..10_000).step_by(997).map(|i| value(&mut engine, &format!("f{i}(1)"))).sum();
    let expected: f64 = (0..10_000).step_by(997).map(|i| f64::from(i + 1)).sum();
    assert_eq!(sum, expected);
    // One redefinition of the shared callee is seen by every one of the 10,000 callers.
    engine.eval("<t>", "def base(x) x * 1000").expect("redefinition");
    assert_eq!(value(&mut engine, "f0(1) + f9999(1)"), 1000.0 + 1000.0 + 9999.0);
    assert_eq!(engine.index().callers_of("base").len(), 10_000);
}

#[test]
fn top_level_code_and_replaced_definitions_are_freed() {
    let mut engine = Engine::new(EngineOptions::default(), Box::new(std::io::sink())).expect("engine");
    engine.eval("<t>", "def f(x) x + 5000; f(1)").expect("warm up the stubs");
    let before = engine.code_bytes();
    for i in 0..1000 {
        value(&mut engine, &format!("{i} + 1"));
        // A mixed entry: its definition stays, its top-level code is released after it ran.
        engine.eval("<t>", &format!("def f(x) x + {}; f(1)", i + 1000)).expect("mixed entry");
    }
    assert_eq!(engine.code_bytes(), before, "only the current f is live");
    assert!(engine.code_footprint() < 64 * 1024, "freed code is reused: footprint {}", engine.code_footprint());
}
