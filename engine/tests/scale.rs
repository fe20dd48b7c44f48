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

/// Changing the arity of a function with 5,000 callers names a few of them and counts the rest, rather
/// than one line naming all 5,000 (issue 23, item 11).
#[test]
fn an_arity_change_with_thousands_of_callers_is_one_short_warning() {
    let mut engine = Engine::new(EngineOptions::default(), Box::new(std::io::sink())).expect("engine");
    engine.eval("<t>", "def base(x) x").expect("base");
    let callers: Vec<String> = (0..5_000).map(|i| format!("def c{i}(x) base(x)")).collect();
    engine.eval("<t>", &callers.join("; ")).expect("callers");
    let outcome = engine.eval("<t>", "def base(x y) x").expect("redefinition");
    let [warning] = outcome.warnings.as_slice() else { panic!("one warning: {:?}", outcome.warnings) };
    assert!(
        warning.message.contains("`c0`, `c1`, `c10`, `c100`, `c1000` and 4,995 others still pass 1"),
        "{}",
        warning.message
    );
    assert!(warning.message.len() < 200, "{} bytes", warning.message.len());
}
