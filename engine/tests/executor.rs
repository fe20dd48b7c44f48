//! Code run in an executor process (`ExecutorMode::Process`): the same answers as in process, program
//! output and drawings come back, laziness and tier-up go across the boundary, and when the executor dies
//! (abort, exit, a segfault, kill -9, stuck in C after an interrupt) the entry fails with what happened and
//! the next entry finds every definition, and every global as after the last completed entry.

use std::time::{Duration, Instant};

use kaleido_engine::{
    CapturedOutput, Engine, EngineOptions, ExecutorEnd, ExecutorMode, JitMode, Outcome, Restart, RuntimeErrorKind,
};

fn engine(jit: JitMode) -> (Engine, CapturedOutput) {
    let output = CapturedOutput::default();
    let options = EngineOptions { jit, executor: ExecutorMode::Process, hot_calls: 3, ..EngineOptions::default() };
    (Engine::new(options, Box::new(output.clone())).expect("engine"), output)
}

fn value(engine: &mut Engine, text: &str) -> f64 {
    let outcome = engine.eval("<test>", text).expect("compiles");
    assert_eq!(outcome.error, None, "{text}");
    match outcome.items.last() {
        Some(kaleido_engine::ItemOutcome::Value(v)) => *v,
        other => panic!("{text}: {other:?}"),
    }
}

fn ended(outcome: &Outcome) -> (ExecutorEnd, Restart) {
    match outcome.error.as_ref().map(|e| &e.kind) {
        Some(RuntimeErrorKind::ExecutorEnded { end, restarted }) => (end.clone(), *restarted),
        other => panic!("expected the executor to end, got {other:?}"),
    }
}

#[test]
fn code_runs_in_another_process_with_the_same_answers() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let (mut engine, output) = engine(jit);
        engine.eval("<1>", "def fib(n) if n < 2 then n else fib(n-1) + fib(n-2)").unwrap();
        assert_eq!(value(&mut engine, "fib(20)"), 6765.0, "{jit:?}: lazily compiled and tiered up across");
        engine.eval("<3>", "def twice(x) 2 * x").unwrap();
        engine.eval("<4>", "def g(x) twice(x) + 1").unwrap();
        assert_eq!(value(&mut engine, "g(4)"), 9.0);
        engine.eval("<6>", "def twice(x) 3 * x").unwrap();
        assert_eq!(value(&mut engine, "g(4)"), 13.0, "a redefinition reaches the executor's callers");
        engine.eval("<8>", "var total = 5").unwrap();
        value(&mut engine, "total = total + 1");
        assert_eq!(value(&mut engine, "total"), 6.0);
        value(&mut engine, "putchard(104) + putchard(105) + putchard(10) + printd(2.5)");
        assert_eq!(output.take(), b"hi\n2.5\n");
        let outcome = engine.eval("<9>", "pixel(1, 0, 7)").unwrap();
        assert_eq!(outcome.drawing.and_then(|d| d.image).map(|i| i.width), Some(2));
        let outcome = engine.eval("<10>", "nosuch(1)").unwrap();
        assert!(matches!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::Undefined { .. })));
        let outcome = engine.eval("<11>", "def deep(n) deep(n + 1)\ndeep(0)").unwrap();
        assert_eq!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::StackOverflow));
        let info = engine.executor_info();
        assert_eq!((info.mode, info.starts, info.deaths), (ExecutorMode::Process, 1, 0));
        assert_ne!(info.pid, Some(std::process::id() as i32));
    }
}

#[test]
fn abort_exit_and_kill_lose_no_definition_or_global() {
    let (mut engine, output) = engine(JitMode::Lazy);
    engine.eval("<1>", "def keep(x) x * 2").unwrap();
    engine.eval("<2>", "var g = 10").unwrap();
    engine.eval("<3>", "extern abort()").unwrap();
    engine.eval("<4>", "extern exit(x)").unwrap();
    // The crashing entry changes the global first: the change is undone with the crash.
    let outcome = engine.eval("<5>", "g = 99 : printd(1) : abort()").unwrap();
    assert_eq!(ended(&outcome), (ExecutorEnd::Signal(libc::SIGABRT), Restart::Restored));
    assert_eq!(output.take(), b"1\n", "output written before the crash arrives");
    assert_eq!(value(&mut engine, "keep(g)"), 20.0);
    let outcome = engine.eval("<7>", "exit(3)").unwrap();
    assert!(matches!(ended(&outcome).0, ExecutorEnd::Exit(_)));
    assert_eq!(value(&mut engine, "keep(21)"), 42.0);
    let pid = engine.executor_info().pid.expect("an executor runs");
    let killed = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let outcome = engine.eval("<10>", "keep(1)").unwrap();
    assert_eq!(ended(&outcome), (ExecutorEnd::Signal(libc::SIGKILL), Restart::Restored));
    assert_eq!(value(&mut engine, "keep(g) + 1"), 21.0);
    let info = engine.executor_info();
    assert!(info.deaths >= 3 && info.starts == info.deaths + 1, "{info:?}");
}

#[test]
fn output_written_before_a_kill_9_is_not_lost() {
    let (mut engine, output) = engine(JitMode::Lazy);
    engine.eval("<1>", "extern pause()").unwrap();
    engine.eval("<2>", "1").unwrap();
    let pid = engine.executor_info().pid.expect("an executor runs");
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill runs")
    });
    // The output is still in the executor's buffer when it is killed: the controller takes it from there.
    let outcome = engine.eval("<3>", "printd(7) : putchard(33) : pause()").unwrap();
    assert!(killer.join().unwrap().success());
    assert_eq!(ended(&outcome), (ExecutorEnd::Signal(libc::SIGKILL), Restart::Restored));
    assert_eq!(output.take(), b"7\n!");
}

#[test]
fn an_interrupt_stops_code_in_the_executor_and_one_stuck_in_c_is_killed() {
    let (mut engine, _) = engine(JitMode::Lazy);
    engine.eval("<1>", "def spin(n) for i = 0, 1 in n").unwrap();
    engine.eval("<2>", "var g = 4").unwrap();
    let handle = engine.interrupt_handle();
    let started = Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        handle.interrupt();
    });
    let outcome = engine.eval("<3>", "spin(1)").unwrap();
    stopper.join().unwrap();
    assert_eq!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::Interrupted));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(engine.executor_info().deaths, 0, "running kaleido code stops without a kill");
    engine.eval("<4>", "extern pause()").unwrap();
    let handle = engine.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        handle.interrupt();
    });
    // `pause` waits for a signal: code stuck in C, which no flag can stop.
    let outcome = engine.eval("<5>", "pause()").unwrap();
    stopper.join().unwrap();
    assert!(matches!(ended(&outcome), (ExecutorEnd::Stuck { .. }, Restart::Restored)), "{outcome:?}");
    assert_eq!(value(&mut engine, "g"), 4.0);
}

#[test]
fn repeated_crashes_stop_after_the_limit_until_restarted() {
    let (mut engine, _) = engine(JitMode::Lazy);
    engine.eval("<1>", "extern abort()").unwrap();
    engine.eval("<2>", "def one() 1").unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(ended(&engine.eval("<n>", "abort()").unwrap()).1);
    }
    assert_eq!(last, Some(Restart::GaveUp));
    let outcome = engine.eval("<n>", "one()").unwrap();
    assert_eq!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::ExecutorStopped { crashes: 5 }));
    engine.restart_executor().expect("restarts");
    assert_eq!(value(&mut engine, "one()"), 1.0);
}
