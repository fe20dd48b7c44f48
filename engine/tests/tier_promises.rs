//! Tiering keeps its promises (issue 23, items 12 and 13): a tier-up that failed is tried again, and a
//! mutual recursion tiers up as a self-recursion does, and recurses as deep as in the optimizing tier.

#[path = "common/mod.rs"]
mod common;

/// Where the code runs: in this process here; `tiers_in_executor.rs` runs these tests again with its own
/// `EXECUTOR` (this file is a module there, and `crate::EXECUTOR` is that crate's).
#[allow(dead_code)]
const EXECUTOR: kaleido_engine::ExecutorMode = kaleido_engine::ExecutorMode::InProcess;

use common::value;
use kaleido_engine::{Engine, EngineOptions, JitMode, RuntimeErrorKind, Tier};

const EVEN: &str = "def even(n) if n < 1 then 1 else odd(n - 1)";
const ODD: &str = "def odd(n) if n < 1 then 0 else even(n - 1)";

/// Tier 0 off: these are promises of the compiled tiers, set up by which calls compile what (with tier 0,
/// a first call compiles nothing, and `tier0.rs` tests that).
fn engine(options: EngineOptions) -> Engine {
    let options = EngineOptions { prelude: false, executor: crate::EXECUTOR, tier0_calls: 0, ..options };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

fn optimized(e: &Engine, name: &str) -> bool {
    e.index().get(name).expect("defined").is_optimized()
}

#[test]
fn mutual_recursion_reaches_the_optimizing_tier() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(EngineOptions { jit, ..EngineOptions::default() });
        e.eval("<t>", EVEN).expect("even");
        e.eval("<t>", ODD).expect("odd");
        assert_eq!(value(&mut e, "even(100000)"), 1.0);
        assert!(optimized(&e, "even") && optimized(&e, "odd"), "{jit:?}");
    }
}

#[test]
fn a_function_that_a_later_definition_makes_recursive_starts_counting() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(EngineOptions { jit, ..EngineOptions::default() });
        e.eval("<t>", EVEN).expect("even");
        // Compiled (lazily by this call, or eagerly) before anything made it recursive.
        assert_eq!(value(&mut e, "even(0)"), 1.0);
        e.eval("<t>", ODD).expect("odd closes the cycle");
        assert_eq!(value(&mut e, "even(100001)"), 0.0);
        assert!(optimized(&e, "even") && optimized(&e, "odd"), "{jit:?}");
        // A cycle of three, closed by its last definition.
        e.eval("<t>", "def a(n) if n < 1 then 0 else b(n - 1); def b(n) c(n); a(3)").expect("a, b");
        e.eval("<t>", "def c(n) a(n) + 1").expect("c closes it");
        assert_eq!(value(&mut e, "a(30000)"), 30000.0);
        assert!(["a", "b", "c"].iter().all(|f| optimized(&e, f)), "{jit:?}");
    }
}

/// How deep the mutual recursion `de`/`do` got before the stack check stopped it.
fn mutual_depth(tier: Tier) -> f64 {
    let mut e = engine(EngineOptions { tier, ..EngineOptions::default() });
    e.eval("<t>", "var depth = 0; def de(n) (depth = n) * 0 + do(n + 1)").expect("de");
    e.eval("<t>", "def do(n) (depth = n) * 0 + de(n + 1)").expect("do");
    let outcome = e.eval("<t>", "de(0)").expect("accepted");
    assert_eq!(outcome.error.map(|error| error.kind), Some(RuntimeErrorKind::StackOverflow));
    value(&mut e, "depth")
}

#[test]
fn mutual_recursion_recurses_as_deep_as_in_the_optimizing_tier() {
    let (tiered, optimized) = (mutual_depth(Tier::Baseline), mutual_depth(Tier::Optimized));
    // In the baseline alone it got a tenth as deep; once optimized, it inlines its partner and goes deeper.
    assert!(tiered >= optimized, "default tiering {tiered} levels, optimizing tier {optimized}");
}

#[test]
fn a_tier_up_that_failed_is_tried_again() {
    let mut e = engine(EngineOptions { jit: JitMode::Lazy, code_memory: 64 << 10, ..EngineOptions::default() });
    e.eval("<t>", "def fib(x) if x < 3 then 1 else fib(x - 1) + fib(x - 2)").expect("fib");
    assert_eq!(value(&mut e, "fib(5)"), 5.0);
    // Fill code memory with functions of about half a kilobyte of baseline code each, then free one: room
    // for an entry's top-level code, none for fib's optimized code (over 3 KB).
    let terms: Vec<String> = (1..40).map(|i| format!("x * {i}")).collect();
    let mut padding = Vec::new();
    for n in 0..1_000 {
        let def = format!("def pad{n}(x) {}; pad{n}(1)", terms.join(" + "));
        match e.eval("<t>", &def) {
            Ok(outcome) if outcome.error.is_none() => padding.push(format!("pad{n}")),
            _ => break,
        }
    }
    assert!(padding.len() < 1_000, "64 KiB of code memory filled up");
    e.forget(&padding.pop().expect("some padding fitted")).expect("forget");
    assert_eq!(value(&mut e, "fib(20)"), 6765.0, "the baseline code runs on");
    assert!(!optimized(&e, "fib"), "no room for the optimized code");
    for name in padding.drain(..10) {
        e.forget(&name).expect("forget");
    }
    assert_eq!(value(&mut e, "fib(20)"), 6765.0);
    assert!(optimized(&e, "fib"), "the tier-up is tried again once fib is hot again");
}
