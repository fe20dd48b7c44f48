//! `:save --transcript` replays to the same session, and nothing in it but the user's own entries is
//! ever run (issue 23, item 7): a `:load` is replayed as a load, a script's items are recorded as well as
//! its commands, and program output (a lone `\r`, a line that looks like code) stays inside comments.

use kaleido::commands::session_script;
use kaleido::evaluate::run_command;
use kaleido::script::{ScriptOptions, run_script};
use kaleido::session::{Session, SessionOptions};
use kaleido_engine::CapturedOutput;
use std::path::PathBuf;

fn session() -> (Session, CapturedOutput) {
    let out = CapturedOutput::default();
    let program = out.clone();
    let program: Box<dyn Fn() -> Box<dyn std::io::Write>> = Box::new(move || Box::new(program.clone()));
    (
        Session::new(SessionOptions::default(), Box::new(out.clone()), Box::new(out.clone()), program)
            .expect("session"),
        out,
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kaleido-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `putchard` calls that print `text`, joined with the prelude's `:`.
fn printing(text: &str) -> String {
    let calls: Vec<String> = text.bytes().map(|b| format!("putchard({b})")).collect();
    calls.join(" : ")
}

/// `s` saved as a script, without the shell's `ans` (the last value shown at the prompt, which a
/// transcript replayed as a script does not set).
fn without_ans(s: &Session) -> String {
    session_script(s).lines().filter(|line| !line.starts_with("var ans = ")).collect::<Vec<_>>().join("\n")
}

/// Saves `s`'s transcript to `path` and returns its text.
fn transcript(s: &mut Session, out: &CapturedOutput, path: &std::path::Path) -> String {
    run_command(s, &format!(":save --transcript {}", path.display()));
    assert_eq!(out.take_string(), format!("saved to {}\n", path.display()));
    std::fs::read_to_string(path).expect("saved")
}

#[test]
fn a_transcript_with_a_load_and_hostile_output_replays_to_the_same_session() {
    let dir = temp_dir("transcript-load");
    let library = dir.join("lib.kal");
    std::fs::write(&library, "def from_lib(x) x + 1\nvar counter = 5\n").expect("write lib");
    let (mut s, out) = session();
    run_command(&mut s, &format!(":load {}", library.display()));
    kaleido::evaluate::eval_shell_entry(&mut s, "def twice(x) from_lib(x) * 2");
    // Output with a lone carriage return, then text that is code: on replay it must stay a comment.
    kaleido::evaluate::eval_shell_entry(&mut s, &format!("{}; 0", printing("50%\rprintd(666)\n")));
    kaleido::evaluate::eval_shell_entry(&mut s, "twice(counter)");
    out.take_string();
    let text = transcript(&mut s, &out, &dir.join("t.kal"));
    assert!(text.contains(&format!("\n:load {}\n", library.display())), "the load is replayed:\n{text}");
    assert!(!text.contains('\r'), "no control character outside an escape:\n{text:?}");
    assert!(text.contains("# 50%\\rprintd(666)"), "{text:?}");

    let (mut replayed, replay_out) = session();
    run_command(&mut replayed, &format!(":load {}", dir.join("t.kal").display()));
    let shown = replay_out.take_string();
    assert!(!shown.contains("666\n") && !shown.contains("error"), "only the user's entries run:\n{shown:?}");
    assert_eq!(without_ans(&replayed), without_ans(&s), "the replay rebuilds the session");
}

#[test]
fn a_script_run_is_recorded_item_by_item() {
    let dir = temp_dir("transcript-script");
    let (mut s, out) = session();
    let script = "def f(x) x * 3\n:list f\nf(2)\nvar g = f(4)\n";
    assert_eq!(run_script(&mut s, "<script>", script, ScriptOptions::default()), 0);
    out.take_string();
    let text = transcript(&mut s, &out, &dir.join("t.kal"));
    for item in ["\ndef f(x) x * 3\n", "\nf(2)\n# 6\n", "\nvar g = f(4)\n", "\n# :list f\n"] {
        assert!(text.contains(item), "{item:?} is not in the transcript:\n{text}");
    }
    let (mut replayed, replay_out) = session();
    run_command(&mut replayed, &format!(":load {}", dir.join("t.kal").display()));
    assert!(!replay_out.take_string().contains("error"));
    assert_eq!(without_ans(&replayed), without_ans(&s));
}
