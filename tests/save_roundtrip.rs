//! `:save` round trip: generated sessions (redefinitions, new arities, operators redefined with new
//! precedences, globals, externs, chains whose meaning depends on precedence, `:undo` and `:forget` of
//! functions, operators and externs) are saved as a script, the script is loaded into a fresh session by
//! the script runner `kaleido FILE` uses, and both must then agree on every function, operator and global
//! (a definition whose callee or operator is gone fails when called, in both). The script must load
//! without a rejected item or a runtime error, and warn "not defined yet" only about names that really
//! are undefined.
//!
//! `KALEIDO_SAVE_CASES=N` runs N sessions (default 400).

use kaleido::commands::{is_command_line, session_script};
use kaleido::evaluate::run_command;
use kaleido::script::{ScriptOptions, run_script};
use kaleido::session::{Session, SessionOptions};
use kaleido_engine::{CapturedOutput, Engine, FunctionKind, JitMode};
use kaleido_interp::generate::Generator;
use kaleido_lang::ast::ProtoKind;

/// A session whose output (values, diagnostics, program output) all goes to the returned buffer.
fn session(jit: JitMode) -> (Session, CapturedOutput) {
    let out = CapturedOutput::default();
    let (values, errors, program) = (out.clone(), out.clone(), out.clone());
    let options = SessionOptions { jit, ..SessionOptions::default() };
    let program: Box<dyn Fn() -> Box<dyn std::io::Write>> = Box::new(move || Box::new(program.clone()));
    (Session::new(options, Box::new(values), Box::new(errors), program).expect("session"), out)
}

/// Loads `script` as `kaleido FILE` does; returns the names warned about as not yet defined, or what
/// went wrong.
fn load(session: &mut Session, out: &CapturedOutput, script: &str) -> Result<Vec<String>, String> {
    out.take_string();
    let code = run_script(session, "<saved>", script, ScriptOptions::default());
    let shown = out.take_string();
    if code != 0 {
        return Err(format!("exit {code}:\n{shown}"));
    }
    let undefined = (shown.lines())
        .filter_map(|line| line.split("warning: `").nth(1)?.strip_suffix("` is not defined yet"))
        .map(str::to_string)
        .collect();
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
fn observe(session: &mut Session, probe: &str) -> String {
    let engine = session.engine_mut();
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
        let (mut canonical, mut forgotten) = (0, 0);
        for seed in 0..cases {
            let jit = if seed % 2 == 0 { JitMode::Lazy } else { JitMode::Eager };
            let (mut original, _) = session(jit);
            for entry in Generator::new(seed).session(12) {
                match is_command_line(&entry) {
                    true => drop(run_command(&mut original, &entry)),
                    false => drop(kaleido::evaluate::eval_shell_entry(&mut original, &entry)),
                }
            }
            let script = session_script(&original);
            let engine = original.engine();
            canonical += (engine.index().functions())
                .filter_map(|f| f.current())
                .filter(|version| !engine.operators().agrees_with(&version.parsed_under))
                .count();
            forgotten += script.matches("\n:forget ").count();
            let (mut reloaded, out) = session(jit);
            let undefined = load(&mut reloaded, &out, &script).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{script}"));
            for name in undefined {
                let defined = original.engine().index().get(&name).and_then(|f| f.current()).is_some();
                assert!(!defined, "seed {seed}: a spurious warning about `{name}`\n{script}");
            }
            assert_eq!(session_script(&reloaded), script, "seed {seed}: saving the reloaded session changed it");
            for probe in probes(original.engine()) {
                let (before, after) = (observe(&mut original, &probe), observe(&mut reloaded, &probe));
                assert_eq!(before, after, "seed {seed}: `{probe}` differs after reloading\n{script}");
            }
        }
        (canonical, forgotten)
    });
    let (canonical, forgotten) = worker.expect("thread starts").join().expect("round trips hold");
    eprintln!("{canonical} definitions printed from their parse, {forgotten} operators forgotten again");
    assert!(canonical > 0, "no session needed a definition printed from its parse");
    assert!(forgotten > 0, "no saved session forgot an operator");
}
