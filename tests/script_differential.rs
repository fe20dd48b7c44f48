//! Differential testing of scripts (issue 23, items 5 and 6): generated scripts, one item or command per
//! line (with `:undo` and `:forget` of functions, operators and externs between items, and lines that
//! start with the unary `:`), run by the script runner `kaleido FILE` uses, against the reference
//! interpreter fed the same lines one by one. They must agree on the values printed, the program's output
//! byte for byte, and the lines whose item was rejected or failed at run time.
//!
//! `KALEIDO_SCRIPT_CASES=N` runs N scripts (default 300).

use kaleido::commands::is_command_line;
use kaleido::script::{ScriptOptions, run_script};
use kaleido::session::{Session, SessionOptions};
use kaleido_engine::{CapturedOutput, JitMode, format_value};
use kaleido_interp::generate::Generator;
use kaleido_interp::{EntryResult, Interpreter, RuntimeError};
use std::collections::BTreeSet;

/// What a run shows: the values printed, the program's output, and the lines that failed.
#[derive(Debug, PartialEq)]
struct Seen {
    values: Vec<String>,
    output: String,
    failed_lines: BTreeSet<usize>,
}

fn on_script_runner(lines: &[String], jit: JitMode) -> Seen {
    let (out, err, program) = (CapturedOutput::default(), CapturedOutput::default(), CapturedOutput::default());
    let made = program.clone();
    let make: Box<dyn Fn() -> Box<dyn std::io::Write>> = Box::new(move || Box::new(made.clone()));
    let options = SessionOptions { jit, ..SessionOptions::default() };
    let mut session = Session::new(options, Box::new(out.clone()), Box::new(err.clone()), make).expect("session");
    let text = lines.join("\n") + "\n";
    run_script(&mut session, "<s>", &text, ScriptOptions { keep_going: true, echo: false });
    // The values are the lines that read as numbers; the rest are what `:undo` and `:forget` said.
    let values = out.take_string().lines().filter(|line| line.parse::<f64>().is_ok()).map(str::to_string).collect();
    let failed_lines = (err.take_string().lines())
        .filter(|line| line.contains(": error: "))
        .filter_map(|line| line.strip_prefix("<s>:")?.split(':').next()?.parse().ok())
        .filter(|&line: &usize| !is_command_line(&lines[line - 1]))
        .collect();
    Seen { values, output: program.take_string(), failed_lines }
}

/// The interpreter's view, or `None` when a line ran out of fuel (too slow to compare).
fn on_interpreter(lines: &[String]) -> Option<Seen> {
    let mut interpreter = Interpreter::new(true);
    interpreter.set_fuel_per_entry(2_000_000);
    let mut seen = Seen { values: Vec::new(), output: String::new(), failed_lines: BTreeSet::new() };
    for (number, line) in (1..).zip(lines) {
        if is_command_line(line) {
            match (line.strip_prefix(":undo "), line.strip_prefix(":forget ")) {
                (Some(name), _) => interpreter.undo(name),
                (_, Some(name)) => interpreter.forget(name),
                _ => panic!("the generator made a command it does not model: {line}"),
            };
            continue;
        }
        let result = interpreter.eval_entry(line);
        match result {
            EntryResult::Rejected(_) => {
                seen.failed_lines.insert(number);
            }
            EntryResult::Applied { items, error } => {
                // A `;` after an item keeps its value to itself (each generated line is one item).
                let silenced = line.trim_end().ends_with(';');
                for item in items {
                    if let (kaleido_interp::ItemResult::Value(value), false) = (item, silenced) {
                        seen.values.push(format_value(value));
                    }
                }
                match error {
                    Some(RuntimeError::OutOfFuel) => return None,
                    Some(_) => {
                        seen.failed_lines.insert(number);
                    }
                    None => {}
                }
            }
        }
        seen.output.push_str(&String::from_utf8_lossy(&std::mem::take(&mut interpreter.output)));
    }
    Some(seen)
}

/// The generated lines, with most expressions made to show their values: `E;` becomes `(E)` (the
/// parentheses keep a line that starts with an operator from continuing the line before it). A line that
/// starts with `:` keeps its `;`, so the test still tells commands from the unary operator `:`.
fn shown(lines: Vec<String>) -> Vec<String> {
    let keeps = |line: &str| ["def", "extern", "var", ":"].iter().any(|start| line.starts_with(start));
    lines
        .into_iter()
        .map(|line| match line.trim_end().strip_suffix(';') {
            Some(expression) if !keeps(&line) => format!("({expression})"),
            _ => line,
        })
        .collect()
}

#[test]
fn generated_scripts_agree_with_the_reference_interpreter() {
    let cases: u64 = std::env::var("KALEIDO_SCRIPT_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    // The interpreter recurses on the Rust stack: give it room.
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn(move || {
        let (mut compared, mut colon_lines, mut commands) = (0, 0, 0);
        for seed in 0..cases {
            let lines = shown(Generator::new(seed).script(12));
            let Some(reference) = on_interpreter(&lines) else { continue };
            compared += 1;
            colon_lines += lines.iter().filter(|l| l.starts_with(':') && !is_command_line(l)).count();
            commands += lines.iter().filter(|l| is_command_line(l)).count();
            for jit in [JitMode::Lazy, JitMode::Eager] {
                let seen = on_script_runner(&lines, jit);
                assert_eq!(seen, reference, "seed {seed} ({jit:?}) disagrees on the script:\n{}", lines.join("\n"));
            }
        }
        (compared, colon_lines, commands)
    });
    let (compared, colon_lines, commands) = worker.expect("thread").join().expect("no disagreement");
    assert!(compared as u64 * 10 >= cases * 9, "only {compared} of {cases} scripts compared");
    assert!(colon_lines > 0 && commands * 2 > cases as usize, "{colon_lines} unary `:` lines, {commands} commands");
}
