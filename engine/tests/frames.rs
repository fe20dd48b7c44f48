//! Frames too large for the stack margin (issue 23, item 1): a function whose frame does not fit in the
//! room kept below the stack limit, called at the bottom of a legal deep recursion, is a stack overflow,
//! never a crash, in every tier and mode, whether or not it makes calls of its own; small leaf functions
//! still run without any check.

mod common;

use common::value;
use kaleido_engine::{Engine, EngineOptions, FrameKind, JitMode, ListingOf, RuntimeErrorKind, Tier};

/// `def NAME(x) var a0 = x+0, ... in a0 + ... (+ CALL)`: `names` live values, so a baseline frame of about
/// 16 bytes each, more than the stack margin for 30,000.
fn big(name: &str, names: usize, call: &str) -> String {
    let bindings: Vec<String> = (0..names).map(|i| format!("a{i} = x+{i}")).collect();
    let sum: Vec<String> = (0..names).map(|i| format!("a{i}")).collect();
    format!("def {name}(x) var {} in {}{call}", bindings.join(", "), sum.join(" + "))
}

fn engine(jit: JitMode, tier: Tier) -> Engine {
    // One call in tier 0: `r`'s depth limit is then measured on compiled frames, as the big leaf's is.
    let options = EngineOptions { jit, tier, prelude: false, tier0_calls: 1, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

/// How many levels `r` recurses before its own stack check stops it.
fn depth_limit(e: &mut Engine) -> u64 {
    let outcome = e.eval("<t>", "r(1e9)").expect("accepted");
    let error = outcome.error.expect("a runaway recursion overflows");
    assert_eq!(error.kind, RuntimeErrorKind::StackOverflow);
    error.backtrace.iter().find(|frame| frame.kind == FrameKind::Function("r".into())).expect("r's frames").repeat
}

/// `r(n)` recurses `n` levels, then calls `leaf` (a function with a huge frame) at the bottom: a thousand
/// levels short of the limit, the frame cannot fit, and the call must be a stack overflow that names it,
/// with the session intact; far from the limit, it runs.
fn check_deep_call(jit: JitMode, tier: Tier, leaf: &str) {
    let mut e = engine(jit, tier);
    e.eval("<t>", "def id(x) x").expect("id");
    e.eval("<t>", leaf).expect("the big function compiles");
    e.eval("<t>", "def r(n) if n < 1 then big(n) else r(n - 1)").expect("r");
    let shallow = value(&mut e, "r(10)");
    let limit = depth_limit(&mut e);
    let outcome = e.eval("<t>", &format!("r({})", limit - 1000)).expect("accepted");
    let error = outcome.error.unwrap_or_else(|| panic!("{jit:?} {tier:?}: the frame fitted {limit} levels down?"));
    assert_eq!(error.kind, RuntimeErrorKind::StackOverflow, "{jit:?} {tier:?}");
    assert_eq!(error.backtrace[0].kind, FrameKind::Function("big".into()), "{jit:?} {tier:?}: {error}");
    assert_eq!(value(&mut e, "r(10)"), shallow, "{jit:?} {tier:?}: the session goes on");
}

#[test]
fn a_huge_leaf_frame_at_the_bottom_of_a_deep_recursion_is_an_overflow_not_a_crash() {
    let leaf = big("big", 30_000, "");
    for (jit, tier) in [(JitMode::Lazy, Tier::Baseline), (JitMode::Eager, Tier::Baseline)] {
        check_deep_call(jit, tier, &leaf);
    }
}

#[test]
fn a_huge_frame_that_makes_calls_is_checked_before_it_is_allocated_too() {
    // Its own stack check would come after the frame is allocated and after its first spills.
    let with_call = big("big", 30_000, " + id(x)");
    for (jit, tier) in [(JitMode::Lazy, Tier::Baseline), (JitMode::Eager, Tier::Optimized)] {
        check_deep_call(jit, tier, &with_call);
    }
}

#[test]
fn the_guard_is_only_for_frames_too_big_for_the_margin() {
    let mut e = engine(JitMode::Eager, Tier::Baseline);
    e.eval("<t>", &big("big", 30_000, "")).expect("big");
    e.eval("<t>", "def sq(x) x * x").expect("sq");
    let big = e.listing(&ListingOf::Function { name: "big".into(), version: None }).expect("listing");
    let guarded = big
        .notes
        .iter()
        .any(|note| matches!(note, kaleido_engine::ListingNote::Guarded { frame, .. } if *frame > 64 * 1024));
    assert!(guarded, "a note says how it is entered: {:?}", big.notes);
    let sq = e.listing(&ListingOf::Function { name: "sq".into(), version: None }).expect("listing");
    assert!(sq.notes.is_empty(), "a small leaf is entered directly: {:?}", sq.notes);
    assert_eq!(value(&mut e, "big(1) - sq(3)"), 450_015_000.0 - 9.0);
}
