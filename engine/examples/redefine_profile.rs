//! Profiling aid: redefines `f` and calls it, in a session where `f` has `N` callers (first argument), or,
//! with `UNRELATED=1` set, `N` functions that do not call `f` (to tell session size from caller count).
//! `cargo run --release -p kaleido-engine --example redefine_profile -- 1000 20000`

use kaleido_engine::{Engine, EngineOptions, JitMode};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap_or(1));
    let (callers, rounds) = (args.next().unwrap_or(1), args.next().unwrap_or(10_000));
    let options = EngineOptions { jit: JitMode::Eager, ..EngineOptions::default() };
    let mut engine = Engine::new(options, Box::new(std::io::sink())).expect("engine");
    engine.eval("<p>", "def f(x) x").expect("f");
    for i in 0..callers {
        let body = if std::env::var_os("UNRELATED").is_some() { format!("x + {i}") } else { format!("f(x) + {i}") };
        engine.eval("<p>", &format!("def caller{i}(x) {body}")).expect("caller");
    }
    let (mut define, mut call) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for n in 0..rounds {
        let started = std::time::Instant::now();
        engine.eval("<p>", &format!("def f(x) x + {}", n % 7)).expect("redefine");
        define += started.elapsed();
        let started = std::time::Instant::now();
        engine.eval("<p>", "caller0(1)").expect("call");
        call += started.elapsed();
    }
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / rounds as f64;
    println!("{callers} callers: redefine {:.1} µs, call {:.1} µs", per(define), per(call));
}
