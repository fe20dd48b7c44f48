//! What running code in an executor process costs (issue 26, item 8), against running it in process, in
//! one run: a one-line definition plus a call (with 100 globals, so the per-entry snapshot is in it), the
//! redefine cycle, an expression after a pause (the executor asleep, as at a prompt), a lazy first call, fib(35), and a crash of a session of 1,000 definitions and 100
//! globals: detecting it, forking a new executor and restoring the globals. Run with
//! `cargo bench -p kaleido-engine --bench executor`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kaleido_engine::{Engine, EngineOptions, ExecutorMode, ItemOutcome, RuntimeErrorKind};

const MODES: [(&str, ExecutorMode); 2] = [("in_process", ExecutorMode::InProcess), ("executor", ExecutorMode::Process)];

fn engine(executor: ExecutorMode) -> Engine {
    let options = EngineOptions { executor, ..EngineOptions::default() };
    let mut engine = Engine::new(options, Box::new(std::io::sink())).expect("engine");
    for i in 0..100 {
        engine.eval("<setup>", &format!("var global{i} = {i}")).expect("global");
    }
    engine
}

fn value(engine: &mut Engine, text: &str) -> f64 {
    let outcome = engine.eval("<bench>", text).expect("accepted");
    match outcome.items.last() {
        Some(ItemOutcome::Value(v)) => *v,
        other => panic!("no value: {other:?} {:?}", outcome.error),
    }
}

fn entries(c: &mut Criterion) {
    let mut group = c.benchmark_group("executor");
    group.measurement_time(Duration::from_secs(3));
    for (label, mode) in MODES {
        let mut e = engine(mode.clone());
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("one_line_def_and_call", label), |b| {
            b.iter(|| {
                n += 1;
                e.eval("<bench>", &format!("def f{n}(x) x * 2 + 1")).expect("def");
                value(&mut e, &format!("f{n}(3)"))
            })
        });
        let mut e = engine(mode.clone());
        e.eval("<bench>", "def f(x) x + 1").expect("def");
        e.eval("<bench>", "def g(x) f(x) * 2").expect("def");
        group.bench_function(BenchmarkId::new("redefine_cycle", label), |b| {
            b.iter(|| {
                n += 1;
                e.eval("<bench>", &format!("def f(x) x + {n}")).expect("redefine");
                value(&mut e, "g(1)")
            })
        });
        // As at a prompt or in a notebook: the entry comes after a pause, with the executor asleep.
        let mut e = engine(mode.clone());
        group.bench_function(BenchmarkId::new("expression_after_a_pause", label), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    std::thread::sleep(Duration::from_millis(2));
                    let started = Instant::now();
                    value(&mut e, "1 + 1");
                    total += started.elapsed();
                }
                total
            })
        });
        let mut e = engine(mode.clone());
        group.bench_function(BenchmarkId::new("lazy_first_call", label), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    n += 1;
                    e.eval("<bench>", &format!("def h{n}(x) if x < 1 then 0 else x * 2 + 1")).expect("def");
                    let started = Instant::now();
                    value(&mut e, &format!("h{n}(3)"));
                    total += started.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

fn fib35(c: &mut Criterion) {
    let mut group = c.benchmark_group("executor_fib35");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for (label, mode) in MODES {
        let mut e = engine(mode.clone());
        e.eval("<bench>", "def fib(x) if x < 3 then 1 else fib(x - 1) + fib(x - 2)").expect("def");
        value(&mut e, "fib(25)");
        group.bench_function(label, |b| b.iter(|| value(&mut e, black_box("fib(35)"))));
    }
    group.finish();
}

/// The crash of a session of 1,000 definitions and 100 globals, until the next entry has run: the entry
/// that aborts, the death seen, a new executor forked, the globals put back, and a call.
fn crash_and_restore(c: &mut Criterion) {
    let mut group = c.benchmark_group("executor_restart");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    let mut e = engine(ExecutorMode::Process);
    for i in 0..1000 {
        e.eval("<setup>", &format!("def d{i}(x) x + {i}")).expect("def");
    }
    e.eval("<setup>", "extern abort()").expect("extern");
    value(&mut e, "d999(1)");
    group.bench_function("abort_restore_1000_defs_100_globals", |b| {
        b.iter(|| {
            let outcome = e.eval("<bench>", "abort()").expect("runs");
            assert!(matches!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::ExecutorEnded { .. })));
            // A completed entry after each crash, or the fifth crash in a row would stop restarts.
            value(&mut e, "d1(1)")
        })
    });
    assert_eq!(value(&mut e, "d500(1) + global99"), 600.0);
    group.finish();
}

criterion_group!(benches, entries, fib35, crash_and_restore);
criterion_main!(benches);
