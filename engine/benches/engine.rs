//! Engine benchmarks (Criterion): entry latency, script load, call cost against direct calls and C (and
//! the optimized tier), the cost of the stack/interrupt checks, redefinition with many callers (eager and
//! lazy), one expression making thousands of calls (both tiers), and lazy first calls.
//!
//! Timings on a shared 2-core machine drift, so BENCHMARKS.md reports ratios between benchmarks of the
//! same run. Run with `cargo bench -p kaleido-engine --bench engine`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use kaleido_engine::{Engine, EngineOptions, ItemOutcome, JitMode, Tier};

const FIB: &str = "def fib(x) if x < 3 then 1 else fib(x - 1) + fib(x - 2)";
const LOOP: &str = "def spin(n) var s = 0 in (for i = 0, i < n in s = s + i * 0.5) : s";

fn engine(options: EngineOptions) -> Engine {
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

fn eager() -> EngineOptions {
    EngineOptions { jit: JitMode::Eager, ..EngineOptions::default() }
}

fn value(engine: &mut Engine, text: &str) -> f64 {
    let outcome = engine.eval("<bench>", text).expect("accepted");
    match outcome.items.last() {
        Some(ItemOutcome::Value(v)) => *v,
        other => panic!("no value: {other:?} {:?}", outcome.error),
    }
}

/// A function of twenty lines: nested conditionals, a loop and locals.
fn twenty_line_function(name: &str) -> String {
    let mut text = format!("def {name}(a b c)\n  var t = 0, u = 1 in (\n");
    for i in 0..16 {
        text.push_str(&format!("    (if a < {i} then t = t + b * {i} else u = u * c + {i}) :\n"));
    }
    text.push_str("    (for i = 0, i < 3 in t = t + i) : t + u)\n");
    text
}

fn entry_latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("entry_latency");
    group.measurement_time(Duration::from_secs(3));
    for (label, options) in [("eager", eager()), ("lazy", EngineOptions::default())] {
        let mut e = engine(options.clone());
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("one_line_def", label), |b| {
            b.iter(|| {
                n += 1;
                e.eval("<bench>", &format!("def f{n}(x) x * 2 + 1")).expect("def")
            })
        });
        let mut e = engine(options);
        group.bench_function(BenchmarkId::new("twenty_line_def", label), |b| {
            b.iter(|| {
                n += 1;
                e.eval("<bench>", &twenty_line_function(&format!("g{n}"))).expect("def")
            })
        });
    }
    group.finish();
}

fn script_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("script_load");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for count in [1_000usize, 10_000] {
        let defs: Vec<String> = (0..count).map(|i| format!("def f{i}(x) x + {i}")).collect();
        for (label, options) in [("eager", eager()), ("lazy", EngineOptions::default())] {
            group.bench_function(BenchmarkId::new(label, count), |b| {
                b.iter(|| {
                    let mut e = engine(options.clone());
                    for def in &defs {
                        e.eval("<bench>", def).expect("def");
                    }
                    value(&mut e, "f7(1)")
                })
            });
        }
    }
    group.finish();
}

fn call_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("fib30");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    // The call mechanisms are compared in the optimizing tier; then the default (baseline code that tiers
    // up once hot) and the baseline alone.
    let optimized = EngineOptions { tier: Tier::Optimized, ..eager() };
    let table = EngineOptions { direct_self_calls: false, ..optimized.clone() };
    let unchecked = EngineOptions { checks: false, ..optimized.clone() };
    let baseline_only = EngineOptions { hot_calls: 0, ..eager() };
    let cases = [
        ("table", table),
        ("direct", optimized),
        ("direct_no_checks", unchecked),
        ("default_tiering", eager()),
        ("baseline_only", baseline_only),
    ];
    for (label, options) in cases {
        let mut e = engine(options);
        e.eval("<bench>", FIB).expect("fib");
        group.bench_function(label, |b| b.iter(|| value(&mut e, black_box("fib(30)"))));
    }
    let c_fib = c_fib();
    match c_fib {
        Some(fib) => {
            group.bench_function("c_O2", |b| b.iter(|| fib(black_box(30.0))));
        }
        None => eprintln!("fib30/c_O2 skipped: no C compiler (`cc`) found"),
    }
    group.finish();
    fib35(c, c_fib);
}

/// fib(35), 11 times the calls of fib(30): the default tiering against the C compiler, as issue 17 asks.
fn fib35(c: &mut Criterion, c_fib: Option<extern "C" fn(f64) -> f64>) {
    let mut group = c.benchmark_group("fib35");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let mut e = engine(eager());
    e.eval("<bench>", FIB).expect("fib");
    group.bench_function("default_tiering", |b| b.iter(|| value(&mut e, black_box("fib(35)"))));
    if let Some(fib) = c_fib {
        group.bench_function("c_O2", |b| b.iter(|| fib(black_box(35.0))));
    }
    group.finish();
}

fn check_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("loop_1e6");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    let checked = EngineOptions { tier: Tier::Optimized, ..eager() };
    let unchecked = EngineOptions { checks: false, ..checked.clone() };
    for (label, options) in [("checks", checked), ("no_checks", unchecked)] {
        let mut e = engine(options);
        e.eval("<bench>", LOOP).expect("loop");
        group.bench_function(label, |b| b.iter(|| value(&mut e, black_box("spin(1000000)"))));
    }
    group.finish();
}

fn redefinition(c: &mut Criterion) {
    let mut group = c.benchmark_group("redefine_and_call");
    group.measurement_time(Duration::from_secs(3));
    for (label, callers, options) in [
        ("callers", 1usize, eager()),
        ("callers", 1_000, eager()),
        ("lazy_callers", 1, EngineOptions::default()),
        ("lazy_callers", 1_000, EngineOptions::default()),
    ] {
        let mut e = engine(options);
        e.eval("<bench>", "def f(x) x").expect("f");
        for i in 0..callers {
            e.eval("<bench>", &format!("def caller{i}(x) f(x) + {i}")).expect("caller");
        }
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new(label, callers), |b| {
            b.iter(|| {
                n += 1;
                e.eval("<bench>", &format!("def f(x) x + {}", n % 7)).expect("redefine");
                value(&mut e, "caller0(1)")
            })
        });
    }
    group.finish();
}

/// One top-level expression making K calls through the table (issue 16: linear in K), in both tiers.
fn expression_calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("expression_calls");
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for tier in [Tier::Baseline, Tier::Optimized] {
        let mut e = engine(EngineOptions { tier, ..EngineOptions::default() });
        e.eval("<bench>", "def f(x) x").expect("f");
        for calls in [1_000usize, 2_000, 4_000] {
            let text = vec!["f(1)"; calls].join(" + ");
            group.bench_function(BenchmarkId::new(tier.to_string(), calls), |b| b.iter(|| value(&mut e, &text)));
        }
    }
    group.finish();
}

/// Redefining a function that N optimized functions inlined sends each back to the baseline (issue 17:
/// ≤ 5 µs per dependent). Each sample sets up N hot dependents, then times the one redefinition.
fn invalidation(c: &mut Criterion) {
    let mut group = c.benchmark_group("invalidation");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for dependents in [0usize, 100] {
        let setup = || {
            let mut e = engine(EngineOptions::default());
            e.eval("<bench>", "def g(x) x + 1").expect("g");
            for i in 0..dependents {
                e.eval("<bench>", &format!("def f{i}(k) var s = 0 in (for j = 0, j < k in s = s + g(j)) : s"))
                    .expect("f");
                // One call whose loop runs past the threshold (a top-level loop calling `f` would inline it
                // instead, and `f` would never become hot itself).
                e.eval("<bench>", &format!("f{i}(1001)")).expect("heat");
            }
            assert_eq!(e.stats().tier_ups, dependents as u64, "every dependent is optimized");
            e
        };
        group.bench_function(BenchmarkId::new("redefine_inlined", dependents), |b| {
            b.iter_batched(setup, |mut e| e.eval("<bench>", "def g(x) x + 2").expect("redefine"), BatchSize::LargeInput)
        });
    }
    group.finish();
}

fn lazy_calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("lazy_call");
    group.measurement_time(Duration::from_secs(3));
    let mut e = engine(EngineOptions::default());
    let mut n = 0u64;
    group.bench_function("first_call_through_stub", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                n += 1;
                e.eval("<bench>", &format!("def h{n}(x) if x < 1 then 0 else x * 2 + 1")).expect("def");
                let started = std::time::Instant::now();
                value(&mut e, &format!("h{n}(3)"));
                total += started.elapsed();
            }
            total
        })
    });
    e.eval("<bench>", "def warm(x) if x < 1 then 0 else x * 2 + 1; warm(1)").expect("warm");
    group.bench_function("later_call", |b| b.iter(|| value(&mut e, "warm(3)")));
    group.finish();
}

/// `fib` compiled from the same source shape by the system C compiler with `-O2`, loaded in-process.
fn c_fib() -> Option<extern "C" fn(f64) -> f64> {
    let dir = std::env::temp_dir().join(format!("kaleido-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let (source, library) = (dir.join("fib.c"), dir.join("libfib.so"));
    std::fs::write(&source, "double fib(double x) { if (x < 3) return 1; return fib(x - 1) + fib(x - 2); }\n").ok()?;
    let status = std::process::Command::new("cc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let path = std::ffi::CString::new(library.to_str()?).ok()?;
    // SAFETY: dlopen/dlsym on a library we just built; the symbol has the C signature double(double), and
    // the library stays loaded for the life of the process.
    unsafe {
        let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW);
        if handle.is_null() {
            return None;
        }
        let symbol = libc::dlsym(handle, c"fib".as_ptr());
        (!symbol.is_null()).then(|| std::mem::transmute::<*mut libc::c_void, extern "C" fn(f64) -> f64>(symbol))
    }
}

criterion_group!(
    benches,
    entry_latency,
    script_load,
    call_cost,
    check_cost,
    redefinition,
    expression_calls,
    invalidation,
    lazy_calls
);
criterion_main!(benches);
