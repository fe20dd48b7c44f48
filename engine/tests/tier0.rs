//! Tier 0 (issue 27): code that runs once is evaluated, not compiled, and means what compiled code
//! means: the same values, output, errors and backtraces, the table's rules unchanged, and a stack
//! depth that differs only by the size of the tier-0 frames.

mod common;

use common::value;
use kaleido_engine::{CapturedOutput, Engine, EngineOptions, ItemOutcome, JitMode, RuntimeErrorKind};

fn engine(jit: JitMode, tier0_calls: u32) -> Engine {
    let options = EngineOptions { jit, tier0_calls, prelude: false, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

/// Each entry's values, error (with its backtrace and call site) and output, one line per entry.
fn transcript(tier0_calls: u32, entries: &[&str]) -> String {
    let output = CapturedOutput::default();
    let options = EngineOptions { tier0_calls, ..EngineOptions::default() };
    let mut e = Engine::new(options, Box::new(output.clone())).expect("engine");
    let mut lines = String::new();
    for entry in entries {
        let line = match e.eval("<t>", entry) {
            Ok(outcome) => {
                let values: Vec<String> = outcome
                    .items
                    .iter()
                    .filter_map(|item| match item {
                        ItemOutcome::Value(v) => Some(v.to_string()),
                        _ => None,
                    })
                    .collect();
                format!("{values:?} {:?} {:?}", outcome.error, output.take_string())
            }
            Err(rejected) => format!("rejected {:?}", rejected.diagnostics.len()),
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    lines
}

/// How deep `pr` recurses before the stack overflows.
fn recursion_depth(jit: JitMode, tier0_calls: u32) -> f64 {
    let mut e = engine(jit, tier0_calls);
    e.eval("<t>", "var depth = 0").expect("global");
    e.eval("<t>", "def pr(n) (depth = n) + pr(n + 1)").expect("pr");
    let outcome = e.eval("<t>", "pr(0)").expect("accepted");
    assert_eq!(outcome.error.map(|error| error.kind), Some(RuntimeErrorKind::StackOverflow));
    value(&mut e, "depth")
}

/// The stated difference: a recursion's first call (and the top level) run in tier 0, in frames bigger
/// than compiled ones, so it overflows a little sooner than with tier 0 off; with tier 0 off, lazy and
/// eager code recurse exactly as deep.
#[test]
fn a_recursion_loses_only_the_levels_its_first_tier0_frames_take() {
    let eager = recursion_depth(JitMode::Eager, 0);
    let compiled_first = recursion_depth(JitMode::Lazy, 0);
    let tier0_first = recursion_depth(JitMode::Lazy, 1);
    assert_eq!(compiled_first, eager);
    assert!(tier0_first < eager, "tier-0 frames take room: {tier0_first} vs {eager}");
    assert!(eager - tier0_first < 0.01 * eager, "only the first frames: {tier0_first} vs {eager}");
}

/// A chain of distinct functions each called once runs wholly in tier 0 (nothing is compiled, and the
/// statistics count every call); calling it again compiles each function, with the same value.
#[test]
fn a_chain_called_once_is_never_compiled() {
    let mut e = engine(JitMode::Lazy, 1);
    e.eval("<t>", "def c0(x) x").expect("c0");
    for i in 1..2000 {
        e.eval("<t>", &format!("def c{i}(x) c{}(x) + 1", i - 1)).expect("a link");
    }
    let before = e.stats();
    assert_eq!(value(&mut e, "c1999(0.5)"), 1999.5);
    let once = e.stats();
    assert_eq!(once.functions, before.functions, "nothing compiled");
    assert_eq!(once.tier0_calls - before.tier0_calls, 2000);
    assert_eq!(once.tier0_top_level - before.tier0_top_level, 1);
    assert_eq!(value(&mut e, "c1999(0.5)"), 1999.5);
    assert_eq!(e.stats().functions - once.functions, 2000, "the second call compiles each");
}

/// Runtime errors, their backtraces and call sites, and output are the same whether the code runs in
/// tier 0 (for one or three calls) or is compiled at once; so are redefinition, arity changes, forward
/// references and externs.
#[test]
fn tier0_tells_the_same_story_as_compiled_code() {
    let entries = [
        "def top(x) mid(x) * 2",
        "top(1)",
        "def mid(x) leaf(x, x) + 1",
        "def leaf(x y) if x < 2 then nosuch(y) else x * y",
        "top(3)",
        "top(1)",
        "def leaf(x) x",
        "top(3)",
        "def mid(x) leaf(x) + printd(x)",
        "top(4)",
        "extern sin(x)",
        "def mid(x) sin(x) + putchard(65)",
        "top(0); top(0); top(0)",
        "def deep(n) if n < 1 then 0 / 0 + nosuch2(n) else deep(n - 1)",
        "deep(5)",
    ];
    let compiled = transcript(0, &entries);
    assert!(compiled.contains("ArityMismatch") && compiled.contains("Undefined"), "{compiled}");
    for tier0_calls in [1, 3] {
        assert_eq!(transcript(tier0_calls, &entries), compiled, "tier 0 for {tier0_calls} calls");
    }
}

/// Top-level code with a loop is compiled (by the optimizing tier) and a function with a loop is
/// compiled at its first call: a loop is worth compiling even when it runs once.
#[test]
fn loops_are_compiled_at_once() {
    let mut e = engine(JitMode::Lazy, 1);
    e.eval("<t>", "def spin(n) var s = 0 in (for i = 0, i < n in s = s + i) + s").expect("spin");
    let before = e.stats();
    assert_eq!(value(&mut e, "spin(10)"), 55.0);
    assert_eq!(e.stats().functions - before.functions, 1, "spin compiled at its first call");
    assert_eq!(e.stats().tier0_top_level - before.tier0_top_level, 1, "the call itself has no loop");
    let before = e.stats();
    assert_eq!(value(&mut e, "var t = 0 in (for i = 0, i < 3 in t = t + spin(i)) + t"), 10.0);
    assert_eq!(e.stats().tier0_top_level, before.tier0_top_level, "a top-level loop is compiled");
}

/// Ctrl-C reaches code running in tier 0: a recursion evaluated wholly in tier 0 (every call is a tier-0
/// call) stops at the interrupt with the runtime error compiled code gives, nothing was compiled, and
/// the session goes on with every definition and global intact.
#[test]
fn an_interrupt_stops_code_running_in_tier0() {
    let mut e = engine(JitMode::Lazy, u32::MAX);
    e.eval("<t>", "var calls = 0").expect("global");
    e.eval("<t>", "def fib(x) (calls = calls + 1) * 0 + if x < 3 then 1 else fib(x - 1) + fib(x - 2)").expect("fib");
    let before = e.stats();
    let handle = e.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        handle.interrupt();
    });
    // fib(60) would take years; only the interrupt ends it.
    let outcome = e.eval("<t>", "fib(60)").expect("accepted");
    interrupter.join().expect("interrupter");
    let error = outcome.error.expect("interrupted");
    assert_eq!(error.kind, RuntimeErrorKind::Interrupted);
    assert!(error.backtrace.len() >= 2, "the tier-0 frames are in the backtrace: {:?}", error.backtrace);
    assert_eq!(e.stats().functions, before.functions, "it ran in tier 0 only");
    assert!(value(&mut e, "calls") > 1000.0, "it ran for a while first");
    assert_eq!(value(&mut e, "fib(10)"), 55.0, "the session goes on");
}
