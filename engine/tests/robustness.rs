//! Nothing the user does ends the session: code memory running out, a lazy compile at the deepest allowed
//! recursion, and interrupts that land outside running code (issue 11's reproductions, kept as tests).

mod common;

use common::value;
use kaleido_engine::{Engine, EngineOptions, ItemOutcome, JitMode, RuntimeErrorKind};

fn engine_with(jit: JitMode, code_memory: usize) -> Engine {
    let options = EngineOptions { jit, prelude: false, code_memory, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

/// Defines big functions (each a new arity or a new name) until the arena is full; returns the first
/// rejection's message.
fn fill_code_memory(engine: &mut Engine, jit: JitMode) -> String {
    fill_with(engine, jit, "f", 60)
}

/// Defines functions named `prefix`N of `terms` terms until one is rejected; returns its message.
fn fill_with(engine: &mut Engine, jit: JitMode, prefix: &str, terms: usize) -> String {
    let body: Vec<String> = (0..terms).map(|i| format!("x * {i} + x / {}", i + 1)).collect();
    for n in 0..100_000 {
        let params: Vec<String> = (0..=(n % 40)).map(|i| format!("a{i}")).collect();
        let def = format!("def {prefix}{n}(x {}) {}", params.join(" "), body.join(" + "));
        // Two calls make sure lazy mode compiles it too (the first runs in tier 0).
        let call = format!("f{n}(1{})", ", 1".repeat(params.len()));
        match engine.eval("<fill>", &format!("{def}; {call}; {call}")) {
            Err(rejected) => return rejected.diagnostics.last().expect("an error").message.clone(),
            Ok(outcome) => match outcome.error {
                Some(error) if jit == JitMode::Lazy => return error.to_string(),
                Some(error) => panic!("unexpected runtime error: {error}"),
                None => {}
            },
        }
    }
    panic!("64 KiB of code memory never filled up");
}

#[test]
fn running_out_of_code_memory_rejects_the_entry_and_keeps_the_session() {
    for jit in [JitMode::Eager, JitMode::Lazy] {
        let mut e = engine_with(jit, 64 << 10);
        e.eval("<t>", "def keep(x) x * 2").expect("a small definition fits");
        // Called twice, so that lazy mode compiles it (the first call runs in tier 0).
        assert_eq!(value(&mut e, "keep(21); keep(21)"), 42.0);
        let message = fill_code_memory(&mut e, jit);
        assert!(message.contains("out of code memory (64 KiB)"), "{jit}: {message}");
        // Everything defined before is still there and callable.
        assert_eq!(value(&mut e, "keep(4)"), 8.0, "{jit}");
    }
}

#[test]
fn a_new_arity_when_code_memory_is_full_is_a_plain_error_not_a_panic() {
    let mut e = engine_with(JitMode::Lazy, 64 << 10);
    fill_code_memory(&mut e, JitMode::Lazy);
    // Then the gaps big functions left, with small ones, then with the smallest.
    fill_with(&mut e, JitMode::Lazy, "g", 1);
    // (Called twice, so that lazy mode compiles it; the stubs of its new arity may not fit either.)
    for n in 0..100_000 {
        match e.eval("<fill>", &format!("def t{n}(x) x; t{n}(1); t{n}(1)")) {
            Ok(outcome) if outcome.error.is_none() => {}
            _ => break,
        }
    }
    // Arity 50 was never used: its stubs must be compiled, and there is no room for them.
    let params: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    let rejected = e.eval("<t>", &format!("def wide({}) p0", params.join(" "))).expect_err("no room for stubs");
    let message = &rejected.diagnostics.last().expect("an error").message;
    assert!(message.starts_with("out of code memory (64 KiB)"), "{message}");
    assert!(e.index().get("wide").is_none(), "a rejected entry leaves no trace");
}

/// How deep `name` recursed before the stack check stopped it, read from a global it sets.
fn overflow_depth(e: &mut Engine, name: &str) -> f64 {
    let outcome = e.eval("<t>", &format!("{name}(0)")).expect("accepted");
    let error = outcome.error.expect("overflows");
    assert_eq!(error.kind, RuntimeErrorKind::StackOverflow);
    value(e, "depth")
}

#[test]
fn a_lazy_compile_at_the_deepest_recursion_has_room() {
    // Runs on the test harness's small thread: the engine must not depend on the caller's stack.
    let mut e = engine_with(JitMode::Lazy, 1 << 30);
    e.eval("<t>", "var depth = 0; var limit = 1e12").expect("globals");
    e.eval("<t>", "def down(n) (depth = n) * 0 + (if limit < n then late(n) else down(n + 1))").expect("def");
    let deepest = overflow_depth(&mut e, "down");
    // `late` is compiled lazily on its first call, at the deepest level `down` can reach.
    e.eval("<t>", "def late(n) n * 2 + 1").expect("def late");
    e.eval("<t>", &format!("limit = {}", deepest - 2.0)).expect("set limit");
    let outcome = e.eval("<t>", "down(0)").expect("accepted");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.items, vec![ItemOutcome::Value((deepest - 1.0) * 2.0 + 1.0)]);
}

#[test]
fn lazy_and_eager_code_recurse_exactly_as_deep() {
    let mut depths = Vec::new();
    // Tier 0 off: its bigger frames make a small, stated difference (engine/tests/tier0.rs).
    for jit in [JitMode::Eager, JitMode::Lazy] {
        let options = EngineOptions { jit, prelude: false, tier0_calls: 0, ..EngineOptions::default() };
        let mut e = Engine::new(options, Box::new(std::io::sink())).expect("engine");
        e.eval("<t>", "var depth = 0; def pr(n) (depth = n) + pr(n + 1)").expect("def");
        depths.push(overflow_depth(&mut e, "pr"));
    }
    assert_eq!(depths[0], depths[1], "eager vs lazy");
}

#[test]
fn an_interrupt_before_an_entry_stops_it_and_is_then_spent() {
    let mut e = engine_with(JitMode::Lazy, 1 << 30);
    e.eval("<t>", "var x = 1").expect("global");
    e.interrupt_handle().interrupt();
    let outcome = e.eval("<t>", "x = 2; def f(y) y").expect("accepted");
    assert_eq!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::Interrupted));
    assert!(outcome.items.is_empty());
    assert!(e.index().get("f").is_none(), "nothing of the entry was applied");
    assert_eq!(value(&mut e, "x"), 1.0, "the request was acted on once");
}

#[test]
fn an_interrupt_abandons_a_long_compile_and_changes_nothing() {
    let mut e = engine_with(JitMode::Eager, 1 << 30);
    // 40,000 bindings, each a call: well over the 100 ms before the interrupt, even in a release build
    // on an idle machine (12,000 once compiled in 105 ms there, and the interrupt came too late).
    e.eval("<t>", "def id(x) x").expect("def id");
    let bindings: Vec<String> = (1..40_000).map(|i| format!("v{i} = id(v{})", i - 1)).collect();
    let huge = format!("def huge(x) var v0 = x, {} in x", bindings.join(", "));
    let handle = e.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        handle.interrupt();
    });
    let started = std::time::Instant::now();
    let outcome = e.eval("<t>", &huge).expect("accepted");
    let waited = started.elapsed();
    interrupter.join().expect("interrupter");
    assert_eq!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::Interrupted), "after {waited:?}");
    assert!(e.index().get("huge").is_none(), "the entry was rejected");
    e.eval("<t>", "def small(x) x + 1").expect("the session goes on");
    assert_eq!(value(&mut e, "small(1)"), 2.0);
}

/// The deepest nesting the parser allows, of each kind (the top-level expression is one level), through
/// every pass, in both modes, on this 2 MiB test thread (where the trees are also dropped); a level more
/// is an error; and long chains are not nesting at all.
#[test]
fn the_deepest_allowed_nesting_compiles_and_runs_and_chains_are_flat() {
    let limit = 8192;
    let n = limit - 2;
    let deep = [
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("f({}1{})", "f(".repeat(n - 1), ")".repeat(n - 1)),
        format!("{}1{}", "if 1 then ".repeat(n), " else 2".repeat(n)),
        format!("def g(x) {}x; g(1)", "-".repeat(n)),
    ];
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e =
            Engine::new(EngineOptions { jit, prelude: false, ..EngineOptions::default() }, Box::new(std::io::sink()))
                .expect("engine");
        e.eval("<t>", "def f(x) x; def unary-(v) 0 - v; def binary: 1 (x y) y").expect("defined");
        for text in &deep {
            assert_eq!(value(&mut e, text), 1.0, "{jit:?}: {}", &text[..20]);
        }
        let too_deep = format!("{}1{}", "(".repeat(limit), ")".repeat(limit));
        let error = e.eval("<t>", &too_deep).expect_err("rejected");
        assert_eq!(
            error.diagnostics[0].message,
            format!("expression is nested too deeply (the limit is {limit} levels)")
        );
        assert_eq!(value(&mut e, &("1+".repeat(10_000) + "1")), 10_001.0);
        assert_eq!(value(&mut e, &("var x = 0 in ".to_string() + &"x = x + 1 : ".repeat(10_000) + "x")), 10_000.0);
    }
}

/// Code memory is one memory file mapped twice: executable where code runs, writable where it is written;
/// no mapping of the process is ever both (`code_memory.rs`).
#[test]
fn code_memory_is_never_writable_and_executable_in_one_mapping() {
    let mut e = engine_with(JitMode::Eager, 1 << 20);
    e.eval("<t>", "def fib(x) if x < 3 then 1 else fib(x - 1) + fib(x - 2)").expect("fib");
    assert_eq!(value(&mut e, "fib(20)"), 6765.0);
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    let views: Vec<&str> = maps.lines().filter(|line| line.contains("kaleido-code")).collect();
    let permissions: Vec<&str> = views.iter().filter_map(|line| line.split_whitespace().nth(1)).collect();
    assert!(permissions.contains(&"r-xs") && permissions.contains(&"rw-s"), "{views:?}");
    assert!(maps.lines().all(|line| !line.split_whitespace().nth(1).is_some_and(|p| p.contains("wx"))), "{maps}");
}
