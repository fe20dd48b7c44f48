//! Ctrl-C during a long compile is acted on at once (issue 23, items 10 and 12): the lazy compile of a
//! function with 200,000 locals is interrupted while its body is translated, the call reports the
//! interrupt having done a small part of the work, and the next call compiles it (the interrupted
//! compile is retried, not remembered as failed).
//!
//! Work is counted, not timed: the bytes the interrupted call allocated against those of a whole compile.
//! The interrupt comes 20 ms into the call, while the body is translated (about the first 60 ms of a
//! release build's compile; longer in a debug build): undo the translator's poll and the test fails.

use kaleido_engine::{Engine, EngineOptions, RuntimeErrorKind};

fn huge_definition(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("a{i} = x + {i}")).collect();
    format!("def big(x) var {} in a0 + a{}", names.join(", "), n - 1)
}

#[test]
fn an_interrupted_lazy_compile_stops_early_and_is_retried() {
    let options = EngineOptions::default();
    let mut whole = Engine::new(options.clone(), Box::new(std::io::sink())).expect("engine");
    let definition = huge_definition(200_000);
    whole.eval("<t>", &definition).expect("defined, not compiled");
    let full = allocation_counter::measure(|| {
        assert!(whole.eval("<t>", "big(1)").expect("runs").error.is_none());
    });

    let mut e = Engine::new(options, Box::new(std::io::sink())).expect("engine");
    e.eval("<t>", &definition).expect("defined, not compiled");
    let handle = e.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        handle.interrupt();
    });
    let mut outcome = None;
    let interrupted = allocation_counter::measure(|| outcome = Some(e.eval("<t>", "big(1)").expect("accepted")));
    interrupter.join().expect("interrupter");
    let error = outcome.and_then(|o| o.error).expect("the call was interrupted");
    assert!(matches!(error.kind, RuntimeErrorKind::Interrupted), "{error:?}");
    assert!(
        interrupted.bytes_total * 2 < full.bytes_total,
        "the interrupt was acted on late: {} of {} bytes of work done",
        interrupted.bytes_total,
        full.bytes_total
    );
    let retried = e.eval("<t>", "big(1)").expect("runs");
    assert!(retried.error.is_none(), "{:?}", retried.error);
}
