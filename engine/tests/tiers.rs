//! Tiering: baseline code that becomes hot is recompiled by the optimizing tier, its slot repointed;
//! changes afterwards reach every caller, and errors and interrupts in optimized code behave as in the
//! baseline.

#[path = "common/mod.rs"]
mod common;

/// Where the code runs: in this process here; `tiers_in_executor.rs` runs these tests again with its own
/// `EXECUTOR` (this file is a module there, and `crate::EXECUTOR` is that crate's).
#[allow(dead_code)]
const EXECUTOR: kaleido_engine::ExecutorMode = kaleido_engine::ExecutorMode::InProcess;

use std::time::Duration;

use common::value;
use kaleido_engine::{Engine, EngineOptions, JitMode, RuntimeErrorKind, Tier};

const FIB: &str = "def fib(x) if x < 3 then 1 else fib(x - 1) + fib(x - 2)";

fn engine(options: EngineOptions) -> Engine {
    Engine::new(EngineOptions { executor: crate::EXECUTOR, ..options }, Box::new(std::io::sink())).expect("engine")
}

/// A fresh engine with the default options, in each JIT mode.
fn each_mode() -> impl Iterator<Item = (JitMode, Engine)> {
    [JitMode::Lazy, JitMode::Eager]
        .into_iter()
        .map(|jit| (jit, engine(EngineOptions { jit, ..EngineOptions::default() })))
}

fn optimized(e: &Engine, name: &str) -> bool {
    e.index().get(name).expect("defined").is_optimized()
}

#[test]
fn a_hot_function_is_recompiled_by_the_optimizing_tier_and_a_redefinition_starts_over() {
    for (jit, mut e) in each_mode() {
        e.eval("<t>", FIB).expect("fib");
        // fib(10) makes 109 calls: not hot yet.
        assert_eq!(value(&mut e, "fib(10)"), 55.0);
        assert!(!optimized(&e, "fib"), "{jit}");
        assert_eq!(e.stats().tier_ups, 0);
        // fib(20) makes 13,529: the count runs out inside the recursion, which goes on in optimized code.
        assert_eq!(value(&mut e, "fib(20)"), 6765.0);
        assert!(optimized(&e, "fib"), "{jit}");
        assert_eq!(e.stats().tier_ups, 1);
        assert_eq!(value(&mut e, "fib(25)"), 75025.0);
        assert_eq!(e.stats().tier_ups, 1, "{jit}: once optimized, it stays");
        // A new version starts in the baseline and counts again.
        e.eval("<t>", "def fib(x) if x < 3 then 2 else fib(x - 1) + fib(x - 2)").expect("redefined");
        assert_eq!(value(&mut e, "fib(10)"), 110.0);
        assert!(!optimized(&e, "fib"), "{jit}");
        assert_eq!(value(&mut e, "fib(20)"), 13530.0);
        assert!(optimized(&e, "fib"), "{jit}");
        assert_eq!(e.stats().tier_ups, 2);
    }
}

#[test]
fn loop_iterations_count_so_one_long_call_makes_the_next_call_optimized() {
    for (jit, mut e) in each_mode() {
        e.eval("<t>", "def spin(n) var s = 0 in (for i = 0, i < n in s = s + 1) : s").expect("spin");
        // One call and 501 iterations: under the threshold of 1,000.
        assert_eq!(value(&mut e, "spin(500)"), 501.0);
        assert!(!optimized(&e, "spin"), "{jit}");
        // One more call, whose loop runs past it: the tier-up happens inside the loop.
        assert_eq!(value(&mut e, "spin(5000)"), 5001.0);
        assert!(optimized(&e, "spin"), "{jit}: iterations count as calls");
        assert_eq!(e.stats().tier_ups, 1);
        assert_eq!(value(&mut e, "spin(5000)"), 5001.0, "{jit}: the optimized code gives the same value");
        assert_eq!(e.stats().tier_ups, 1);
    }
}

#[test]
fn a_top_level_loop_inlines_the_current_bodies_of_what_it_calls() {
    for (jit, mut e) in each_mode() {
        e.eval("<t>", "def sq(x) x * x").expect("sq");
        e.eval("<t>", "var s = 0").expect("s");
        // Top-level code runs once: a loop in it is optimized at once, with `sq` inlined.
        assert_eq!(value(&mut e, "for i = 0, i < 3 in s = s + sq(i)"), 0.0);
        assert_eq!(value(&mut e, "s"), 14.0, "{jit}");
        // An earlier item of the same entry redefines `sq`: the loop must not inline the body it replaces.
        assert_eq!(value(&mut e, "def sq(x) x * 10; for i = 0, i < 3 in s = s + sq(i)"), 0.0);
        assert_eq!(value(&mut e, "s"), 74.0, "{jit}: 14 + 0 + 10 + 20 + 30");
        // A later item's redefinition comes after the loop has run.
        assert_eq!(value(&mut e, "for i = 0, i < 1 in s = s + sq(i); def sq(x) x + 1000; s"), 84.0, "{jit}");
        assert_eq!(value(&mut e, "for i = 0, i < 1 in s = s + sq(i)"), 0.0);
        assert_eq!(value(&mut e, "s"), 84.0 + 1000.0 + 1001.0, "{jit}");
        // The same for an operator, in the same entry as its redefinition: `t = (t + i) ~ 2` for i = 1, 2, 3
        // gives 22 with `*` (and 0 with the old `-`).
        e.eval("<t>", "def binary ~ 20 (a b) a - b").expect("~");
        assert_eq!(value(&mut e, "def binary ~ 20 (a b) a * b; var t = 0; for i = 1, i < 3 in t = t + i ~ 2; t"), 22.0);
    }
}

#[test]
fn the_threshold_is_an_option_and_the_optimized_tier_counts_nothing() {
    let mut never = engine(EngineOptions { hot_calls: 0, ..EngineOptions::default() });
    never.eval("<t>", FIB).expect("fib");
    assert_eq!(value(&mut never, "fib(22)"), 17711.0);
    assert!(!optimized(&never, "fib"));
    // Tier 0 off: the first call is then compiled code, which counts it.
    let mut at_once = engine(EngineOptions { hot_calls: 1, tier0_calls: 0, ..EngineOptions::default() });
    at_once.eval("<t>", FIB).expect("fib");
    assert_eq!(value(&mut at_once, "fib(3)"), 2.0);
    assert!(optimized(&at_once, "fib"), "the first call asks for the optimizing tier");
    let mut optimizing = engine(EngineOptions { tier: Tier::Optimized, ..EngineOptions::default() });
    optimizing.eval("<t>", FIB).expect("fib");
    assert_eq!(value(&mut optimizing, "fib(22)"), 17711.0);
    assert!(optimized(&optimizing, "fib"));
    assert_eq!(optimizing.stats().tier_ups, 0, "nothing to recompile");
}

#[test]
fn a_stack_overflow_through_optimized_frames_is_reported_and_the_session_goes_on() {
    let mut e = engine(EngineOptions::default());
    e.eval("<t>", "def down(x) if x < 1 then 0 else 1 + down(x - 1)").expect("down");
    let outcome = e.eval("<t>", "down(100000000)").expect("accepted");
    let error = outcome.error.expect("overflows");
    assert_eq!(error.kind, RuntimeErrorKind::StackOverflow);
    assert!(optimized(&e, "down"), "the recursion moved to optimized code on its way down");
    assert!(error.to_string().contains("stack overflow"), "{error}");
    assert_eq!(value(&mut e, "down(1000)"), 1000.0);
}

#[test]
fn ctrl_c_stops_a_loop_in_optimized_code() {
    let mut e = engine(EngineOptions::default());
    e.eval("<t>", "def spin(n) var s = 0 in (for i = 0, i < n in s = s + 1) : s").expect("spin");
    e.eval("<t>", "def drive(k) var s = 0 in (for i = 0, i < k in s = s + spin(1)) : s").expect("drive");
    assert_eq!(value(&mut e, "drive(2000)"), 4002.0);
    assert!(optimized(&e, "spin"));
    let handle = e.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.interrupt();
    });
    let outcome = e.eval("<t>", "spin(1e15)").expect("accepted");
    interrupter.join().expect("interrupter");
    assert_eq!(outcome.error.expect("interrupted").kind, RuntimeErrorKind::Interrupted);
    assert_eq!(value(&mut e, "spin(3)"), 4.0, "the session goes on");
}
