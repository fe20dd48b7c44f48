//! Fuzz target: generated sessions with redefinitions run in a shell session, then `:save` and `:load`
//! into a fresh session. Nothing may crash, the saved script always loads without an error, and saving the
//! reloaded session gives the same script again (the round trip is a fixpoint).
#![no_main]

use kaleido::commands::{is_command_line, session_script};
use kaleido::evaluate::run_command;
use kaleido::session::{Session, SessionOptions};
use kaleido_engine::{CapturedOutput, JitMode};
use kaleido_interp::generate::Generator;
use libfuzzer_sys::fuzz_target;

fn session(jit: JitMode) -> (Session, CapturedOutput) {
    let out = CapturedOutput::default();
    let program = out.clone();
    let options = SessionOptions { jit, ..SessionOptions::default() };
    let session = Session::new(options, Box::new(out.clone()), Box::new(out.clone()), Box::new(move || Box::new(program.clone())))
        .expect("session");
    (session, out)
}

fuzz_target!(|bytes: &[u8]| {
    let mut seed = [0u8; 8];
    for (i, byte) in bytes.iter().take(8).enumerate() {
        seed[i] = *byte;
    }
    let entries = Generator::new(u64::from_le_bytes(seed)).session(4 + bytes.len() % 12);
    let jit = if bytes.len() % 2 == 0 { JitMode::Lazy } else { JitMode::Eager };
    let (mut original, _) = session(jit);
    for entry in &entries {
        if is_command_line(entry) {
            run_command(&mut original, entry);
        } else {
            kaleido::evaluate::eval_shell_entry(&mut original, entry);
        }
    }
    let dir = std::env::temp_dir().join(format!("kaleido-fuzz-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("saved.kal");
    run_command(&mut original, &format!(":save {}", path.display()));
    let saved = session_script(&original);
    let (mut reloaded, out) = session(jit);
    out.take();
    run_command(&mut reloaded, &format!(":load {}", path.display()));
    let shown = out.take_string();
    assert!(!shown.contains("error:"), "the saved script did not load:\n{saved}\n{shown}");
    assert_eq!(session_script(&reloaded), saved, "saving the reloaded session changed it");
});
