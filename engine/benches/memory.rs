//! Memory benchmark (prints figures, no timing): resident memory per one-line definition at 10,000 and
//! 100,000 entries, eager and lazy, and the growth after redefining one function 100,000 times.
//!
//! Each figure comes from a fresh child process (this binary re-run with an argument), so one
//! measurement's heap never inflates the next. Run with `cargo bench -p kaleido-engine --bench memory`.

use kaleido_engine::{Engine, EngineOptions, JitMode};

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn measure(case: &str) {
    let (jit, count, redefine) = match case {
        "eager-10000" => (JitMode::Eager, 10_000, false),
        "eager-100000" => (JitMode::Eager, 100_000, false),
        "lazy-10000" => (JitMode::Lazy, 10_000, false),
        "lazy-100000" => (JitMode::Lazy, 100_000, false),
        "redefine-eager-100000" => (JitMode::Eager, 100_000, true),
        "redefine-lazy-100000" => (JitMode::Lazy, 100_000, true),
        other => panic!("unknown case {other}"),
    };
    let options = EngineOptions { jit, ..EngineOptions::default() };
    let mut engine = Engine::new(options, Box::new(std::io::sink())).expect("engine");
    engine.eval("<m>", "def warm(x) x + 1; warm(1)").expect("warm up");
    let before = resident_bytes();
    for i in 0..count {
        let text = if redefine { format!("def f(x) x + {i}; f(1)") } else { format!("def f{i}(x) x + {i}") };
        engine.eval("<m>", &text).expect("entry");
    }
    let grown = resident_bytes().saturating_sub(before);
    println!(
        "{case:<24} {:>10.1} KiB total growth {:>8.0} bytes per entry",
        grown as f64 / 1024.0,
        grown as f64 / count as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(case) = args.iter().find_map(|a| a.strip_prefix("--case=")) {
        measure(case);
        return;
    }
    if args.iter().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let me = std::env::current_exe().expect("own path");
    for case in
        ["eager-10000", "eager-100000", "lazy-10000", "lazy-100000", "redefine-eager-100000", "redefine-lazy-100000"]
    {
        let output = std::process::Command::new(&me).arg(format!("--case={case}")).output().expect("child runs");
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
}
