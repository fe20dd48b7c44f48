//! `:save` round trip: generated sessions (redefinitions, new arities, operators redefined with new
//! precedences, globals, externs, chains whose meaning depends on precedence) are saved as a script, the
//! script is loaded into a fresh engine the way `kaleido FILE` runs it, and both engines must then agree on
//! every function, operator and global. The script must load without a rejected item or a runtime error,
//! and warn "not defined yet" only about names that really are undefined.
//!
//! `KALEIDO_SAVE_CASES=N` runs N sessions (default 400).

use kaleido_engine::{Engine, EngineOptions, Event, FunctionKind, JitMode};
use kaleido_interp::generate::Generator;
use kaleido_lang::ast::ProtoKind;

fn engine(jit: JitMode) -> Engine {
    Engine::new(EngineOptions { jit, ..EngineOptions::default() }, Box::new(std::io::sink())).expect("engine")
}

/// Loads `script` item by item, as `kaleido FILE` does; returns the names warned about as not yet
/// defined, or the first problem.
fn load(engine: &mut Engine, script: &str) -> Result<Vec<String>, String> {
    let mut undefined = Vec::new();
    for span in engine.item_spans(script) {
        let item = &script[span.range()];
        let mut observe = |event: Event<'_>| {
            if let Event::Warning(warning) = event
                && let Some(name) = warning.message.strip_suffix("` is not defined yet")
            {
                undefined.push(name.trim_start_matches('`').to_string());
            }
        };
        let outcome = engine.eval_observed("<saved>", item, &mut observe);
        match outcome {
            Err(rejected) => return Err(format!("rejected: {item}\n{:?}", rejected.diagnostics)),
            Ok(outcome) if outcome.error.is_some() => return Err(format!("failed: {item}: {:?}", outcome.error)),
            Ok(_) => {}
        }
    }
    Ok(undefined)
}

/// Expressions that probe everything the session defined: each function called, each operator applied,
/// each global read.
fn probes(engine: &Engine) -> Vec<String> {
    let mut probes = Vec::new();
    for info in engine.index().functions().filter(|f| f.kind == FunctionKind::User && f.current().is_some()) {
        let args = ["2", "0.5", "3"];
        match info.operator {
            ProtoKind::Plain => {
                let arity = info.arity.unwrap_or(0);
                probes.push(format!("{}({})", info.name, args[..arity].join(", ")));
            }
            ProtoKind::Binary { op, .. } => probes.push(format!("(2 {op} 3)")),
            ProtoKind::Unary(op) => probes.push(format!("{op}(2)")),
        }
    }
    probes.extend(engine.globals().into_iter().map(|(name, _)| name));
    probes
}

/// What evaluating `probe` gives: the value's bits (every NaN alike) or the error.
fn observe(engine: &mut Engine, probe: &str) -> String {
    match engine.eval("<probe>", probe) {
        Err(rejected) => format!("rejected {:?}", rejected.diagnostics.first().map(|d| &d.message)),
        Ok(outcome) => match (outcome.error, outcome.items.last()) {
            // Whether an arity "changed" is history, which a saved script does not replay.
            (Some(error), _) => format!("error {:?}", error.kind).replace(", changed: true", ", changed: false"),
            (None, Some(kaleido_engine::ItemOutcome::Value(v))) if v.is_nan() => "NaN".to_string(),
            (None, Some(kaleido_engine::ItemOutcome::Value(v))) => format!("{:x}", v.to_bits()),
            (None, other) => format!("{other:?}"),
        },
    }
}

#[test]
fn a_saved_session_loads_back_to_the_same_state() {
    let cases: u64 = std::env::var("KALEIDO_SAVE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    // Deep generated expressions and the engines' own stacks: a roomy thread.
    let worker = std::thread::Builder::new().stack_size(64 << 20).spawn(move || {
        let mut canonical = 0;
        for seed in 0..cases {
            let jit = if seed % 2 == 0 { JitMode::Lazy } else { JitMode::Eager };
            let mut original = engine(jit);
            for entry in Generator::new(seed).session(12) {
                match (entry.strip_prefix(":undo "), entry.strip_prefix(":forget ")) {
                    (Some(name), _) => drop(original.undo(name, &mut |_| {})),
                    (_, Some(name)) => drop(original.forget(name)),
                    _ => drop(original.eval("<gen>", &entry)),
                }
            }
            let script = kaleido_engine::save::session_script(&original);
            canonical += (original.index().functions())
                .filter_map(|f| f.current())
                .filter(|version| !original.operators().agrees_with(&version.parsed_under))
                .count();
            let mut reloaded = engine(jit);
            let undefined = load(&mut reloaded, &script).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{script}"));
            for name in undefined {
                let defined = original.index().get(&name).and_then(|f| f.current()).is_some();
                assert!(!defined, "seed {seed}: a spurious warning about `{name}`\n{script}");
            }
            for probe in probes(&original) {
                let (before, after) = (observe(&mut original, &probe), observe(&mut reloaded, &probe));
                assert_eq!(before, after, "seed {seed}: `{probe}` differs after reloading\n{script}");
            }
        }
        canonical
    });
    let canonical = worker.expect("thread starts").join().expect("round trips hold");
    eprintln!("{canonical} definitions printed from their parse");
    assert!(canonical > 0, "no session needed a definition printed from its parse");
}
