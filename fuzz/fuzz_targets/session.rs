//! Fuzz target: well-formed sessions, generated from the input bytes, run on the engine in both JIT
//! modes. The engine must never crash, and eager and lazy compilation must show the same values.
#![no_main]

use kaleido_engine::{Engine, EngineOptions, JitMode};
use kaleido_interp::generate::Generator;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut seed = [0u8; 8];
    for (i, byte) in bytes.iter().take(8).enumerate() {
        seed[i] = *byte;
    }
    let entries = Generator::new(u64::from_le_bytes(seed)).session(4 + bytes.len() % 8);
    let mut outcomes = Vec::new();
    for jit in [JitMode::Eager, JitMode::Lazy] {
        let options = EngineOptions { jit, ..EngineOptions::default() };
        let mut engine = Engine::new(options, Box::new(std::io::sink())).expect("engine");
        let mut run = |e: &String| match (e.strip_prefix(":undo "), e.strip_prefix(":forget ")) {
            (Some(name), _) => format!("{:?}", engine.undo(name, "<undo>", &mut |_| {}).map(|o| o.items)),
            (_, Some(name)) => format!("{:?}", engine.forget(name)),
            _ => format!("{:?}", engine.eval("<fuzz>", e).map(|o| o.items)),
        };
        let results: Vec<String> = entries.iter().map(&mut run).collect();
        outcomes.push(results);
    }
    assert_eq!(outcomes[0], outcomes[1], "eager and lazy disagree on {entries:?}");
});
