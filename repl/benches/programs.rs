//! Whole-program benchmarks of the `kaleido` binary, start to exit: the LLVM tutorial's Mandelbrot (its
//! three plots, output discarded); 10,000 one-line definitions and one call; and 10,000 recursive
//! definitions of which 10 are called, eager versus lazy; issue 16's compile-bound programs (a chain of
//! 10,000 definitions each calling the previous, then one call; 100,000 one-line definitions and one
//! call) and the Mandelbrot under both tiers; and how fast a running program is stopped by Ctrl-C or
//! reports a stack overflow; and issue 27's cold code, with tier 0 and without. Run with `cargo bench -p kaleido --bench programs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn run(script: &Path, jit: &str) {
    run_with(script, &["--jit", jit]);
}

fn run_with(script: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(args)
        .arg(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("kaleido runs");
    assert!(status.success(), "{} failed", script.display());
}

fn scripts() -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("kaleido-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/03-operators.kal");
    let mut mandelbrot = std::fs::read_to_string(examples).expect("the operators tutorial");
    mandelbrot.push_str("mandel(-2, -1, 0.02, 0.04)\nmandel(-0.9, -1.4, 0.02, 0.03)\n");
    let mandelbrot_path = dir.join("mandelbrot.kal");
    std::fs::write(&mandelbrot_path, mandelbrot).expect("write");
    let mut library: String =
        (0..10_000).map(|i| format!("def f{i}(x) if x < 1 then {i} else f{i}(x - 1) + x * {i}\n")).collect();
    library.extend((0..10).map(|i| format!("f{}(3)\n", i * 997)));
    let library_path = dir.join("library.kal");
    std::fs::write(&library_path, library).expect("write");
    let mut one_liners: String = (0..10_000).map(|i| format!("def f{i}(x) x + {i}\n")).collect();
    one_liners.push_str("f7(1)\n");
    let one_liners_path = dir.join("one_liners.kal");
    std::fs::write(&one_liners_path, one_liners).expect("write");
    (mandelbrot_path, library_path, one_liners_path)
}

fn programs(c: &mut Criterion) {
    let (mandelbrot, library, one_liners) = scripts();
    let mut group = c.benchmark_group("program");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("mandelbrot_3_plots", |b| b.iter(|| run(&mandelbrot, "lazy")));
    for jit in ["eager", "lazy"] {
        group.bench_function(BenchmarkId::new("10000_one_line_defs_1_call", jit), |b| b.iter(|| run(&one_liners, jit)));
        group.bench_function(BenchmarkId::new("10000_defs_10_calls", jit), |b| b.iter(|| run(&library, jit)));
    }
    group.finish();
}

/// Writes `text` as `name` in a temporary directory of this run.
fn script(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kaleido-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// Issue 16's targets that are whole programs: compile-bound scripts, start to exit, in both tiers.
fn compile_bound(c: &mut Criterion) {
    let mut chain = String::from("def c0(x) x\n");
    chain.extend((1..10_000).map(|i| format!("def c{i}(x) c{}(x) + 1\n", i - 1)));
    chain.push_str("c9999(1)\n");
    let chain = script("chain.kal", &chain);
    let mut defs: String = (0..100_000).map(|i| format!("def f{i}(x) x + {i}\n")).collect();
    defs.push_str("f7(1)\n");
    let defs = script("defs100k.kal", &defs);
    let (mandelbrot, _, _) = scripts();
    let mut group = c.benchmark_group("compile_bound");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for tier in ["baseline", "optimized"] {
        for jit in ["lazy", "eager"] {
            group.bench_function(BenchmarkId::new(format!("chain_10000_1_call/{jit}"), tier), |b| {
                b.iter(|| run_with(&chain, &["--jit", jit, "--tier", tier]))
            });
        }
        group.bench_function(BenchmarkId::new("100000_one_line_defs_1_call/lazy", tier), |b| {
            b.iter(|| run_with(&defs, &["--tier", tier]))
        });
        group.bench_function(BenchmarkId::new("mandelbrot_3_plots", tier), |b| {
            b.iter(|| run_with(&mandelbrot, &["--tier", tier]))
        });
    }
    group.finish();
}

/// Issue 27's cold code, start to exit, with tier 0 (the default number of calls) and without
/// (`--tier0-calls 0`): an
/// empty program (start-up), 10,000 cycles of redefining `f` and calling it through `g`, 10,000 one-line
/// definitions and one call, a chain of 10,000 functions called once, and fib(35). `scripts/cold-bench.py`
/// runs the same workloads against Node and LuaJIT.
fn cold_code(c: &mut Criterion) {
    let mut redefine = String::from("def f(x) x\ndef g(x) f(x) + 1\n");
    // `g(1);`: the value is not printed (as in scripts/cold-bench.py, whose Node and LuaJIT print nothing).
    redefine.extend((0..10_000).map(|i| format!("def f(x) x + {i}\ng(1);\n")));
    let mut chain = String::from("def c0(x) x\n");
    chain.extend((1..10_000).map(|i| format!("def c{i}(x) c{}(x) + 1\n", i - 1)));
    chain.push_str("c9999(1)\n");
    let mut defs: String = (0..10_000).map(|i| format!("def d{i}(x) x + {i}\n")).collect();
    defs.push_str("d9999(1)\n");
    let workloads = [
        ("empty", script("empty.kal", "")),
        ("redefine_10000_cycles", script("redefine.kal", &redefine)),
        ("10000_one_line_defs_1_call", script("defs10k.kal", &defs)),
        ("chain_10000_1_call", script("cold-chain.kal", &chain)),
        ("fib35", script("fib35.kal", "def fib(x) if x < 3 then 1 else fib(x-1) + fib(x-2)\nfib(35)\n")),
    ];
    let mut group = c.benchmark_group("cold_code");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for (name, path) in &workloads {
        let default = kaleido_engine::DEFAULT_TIER0_CALLS.to_string();
        for calls in [default.as_str(), "0"] {
            group.bench_function(BenchmarkId::new(*name, format!("tier0_calls_{calls}")), |b| {
                b.iter(|| run_with(path, &["--tier0-calls", calls]))
            });
        }
    }
    group.finish();
}

/// Issue 5's latencies, measured on the binary: how long after SIGINT a running loop (with no calls in
/// it) has stopped and the process has exited, and how long a runaway recursion takes to be reported.
fn interruption(c: &mut Criterion) {
    let mut group = c.benchmark_group("stop");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("sigint_to_exit_in_a_loop", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
                    .args(["-e", "for i = 0, 1 in 0"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("kaleido runs");
                std::thread::sleep(Duration::from_millis(150));
                let started = std::time::Instant::now();
                // SAFETY: sending SIGINT to our own child process.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
                let status = child.wait().expect("child exits");
                total += started.elapsed();
                assert_eq!(status.code(), Some(130));
            }
            total
        })
    });
    group.bench_function("stack_overflow_reported", |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_kaleido"))
                .args(["-e", "def inf(x) inf(x + 1) + 1; inf(0)"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("kaleido runs");
            assert_eq!(status.code(), Some(70));
        })
    });
    group.finish();
}

criterion_group!(benches, programs, compile_bound, cold_code, interruption);
criterion_main!(benches);
