//! The binary's contract: flags, exit codes, and where output goes, checked on the real `kaleido`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kaleido(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(args)
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("kaleido finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn eval_flag_runs_code() {
    let output = kaleido(&["-e", "def sq(x) x * x; sq(12)"], "");
    assert_eq!((stdout(&output).as_str(), output.status.code()), ("144\n", Some(0)));
}

#[test]
fn pipe_mode_prints_no_prompt_and_joins_multi_line_entries() {
    let output = kaleido(&[], "def f(x)\n  x + 1\nf(1)\n");
    assert_eq!(stdout(&output), "2\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn quiet_suppresses_values_but_not_program_output() {
    let output = kaleido(&["-q", "-e", "printd(7); 8"], "");
    assert_eq!(stdout(&output), "7\n");
}

#[test]
fn exit_codes_follow_sysexits() {
    assert_eq!(kaleido(&["-e", "1 +"], "").status.code(), Some(65));
    assert_eq!(kaleido(&["-e", "nothere(1)"], "").status.code(), Some(70));
    let missing = kaleido(&["/no/such/file.kal"], "");
    assert_eq!(missing.status.code(), Some(74));
    assert!(stderr(&missing).contains("cannot read /no/such/file.kal"), "{}", stderr(&missing));
}

#[test]
fn keep_going_runs_every_item_and_still_fails() {
    let output = kaleido(&["--keep-going"], "1 +)\n2\nnope(1)\n3\n");
    assert_eq!(stdout(&output), "2\n3\n");
    assert_eq!(output.status.code(), Some(65));
}

#[test]
fn no_prelude_starts_without_operators() {
    let output = kaleido(&["--no-prelude", "-e", "!1"], "");
    assert!(stderr(&output).contains("unary operator `!` is not defined"), "{}", stderr(&output));
    assert_eq!(kaleido(&["-e", "!1"], "").status.code(), Some(0));
}

#[test]
fn help_and_version() {
    let help = kaleido(&["--help"], "");
    assert!(stdout(&help).contains("--keep-going") && stdout(&help).contains("--no-prelude"));
    let version = kaleido(&["--version"], "");
    assert_eq!(stdout(&version), format!("kaleido {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn invalid_utf8_on_stdin_is_a_compile_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    child.stdin.take().expect("stdin").write_all(b"1 + \xff\n").expect("write");
    let output = child.wait_with_output().expect("finishes");
    assert_eq!(output.status.code(), Some(65));
    assert!(stderr(&output).contains("<stdin>:1:5: error: the input is not valid UTF-8"), "{}", stderr(&output));
}

#[test]
fn ctrl_c_ends_a_script_with_exit_code_130() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(["-e", "printd(1); for i = 0, 1 in 0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    // Wait until the loop runs (its first output is printed just before it), then interrupt it.
    let mut first = [0u8; 2];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut first).expect("first output");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("finishes");
    assert_eq!(output.status.code(), Some(130));
    assert!(stderr(&output).contains("error: interrupted"), "{}", stderr(&output));
}
