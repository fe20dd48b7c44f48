//! The executor started as a command (`--executor 'kaleido executor'`): another process image, over a
//! pipe, sent the code and every cell it uses. The golden suite runs in this mode too (`golden.rs`); here,
//! what only this mode must show: a crash, `exit` and a kill in it lose no definition or global, a C
//! library loaded there binds its functions, output written before a crash arrives, and an interrupt
//! reaches code running there and ends code stuck in C.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn executor() -> String {
    [env!("CARGO_BIN_EXE_kaleido"), " executor"].concat()
}

fn kaleido(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.arg("--executor").arg(executor()).args(args).output().expect("kaleido runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A library whose `triple(x)` returns, and whose `die(signal)` sends its own process a signal.
fn build_library(dir: &Path) -> PathBuf {
    let source = dir.join("remote.c");
    std::fs::write(
        &source,
        "#include <signal.h>\n#include <unistd.h>\ndouble triple(double x) { return 3 * x; }\n\
         double die(double s) { kill(getpid(), (int)s); return 0; }\n",
    )
    .expect("write the C source");
    let library = dir.join("libremote.so");
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&library).arg(&source).status();
    assert!(status.expect("cc runs").success(), "cc failed");
    library
}

#[test]
fn a_crash_exit_or_kill_there_loses_no_definition_or_global() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = build_library(dir.path());
    let script = format!(
        "def keep(x) x * 2\nvar g = 21\nextern abort()\nextern exit(s)\n:lib {}\nextern triple(x)\nextern die(s)\n\
         printd(triple(g)) : g = 0 : abort()\nkeep(g)\nexit(1)\nkeep(g) + 1\nprintd(7) : die(9)\nkeep(g) + 2\n:executor\n",
        library.display()
    );
    let output = kaleido(&["--keep-going", "-e", &script]);
    assert_eq!(output.status.code(), Some(70), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (values, executor) = stdout.split_once("code runs: in the executor process ").expect("where code runs");
    assert_eq!(
        values,
        format!("loaded {}: `extern NAME(PARAMS)` binds its functions\n63\n42\n43\n7\n44\n", library.display())
    );
    // One start for the first run, one after `:lib` (a new executor loads the library), one per death.
    assert!(executor.ends_with("executors started: 5, ended by the code: 3\n"), "{executor}");
    let stderr = text(&output.stderr);
    for (line, how) in [(8, "SIGABRT (abort)"), (10, "exit with status"), (12, "SIGKILL (killed)")] {
        let expected = format!("<-e>:{line}:1: error: the code ended the executor: {how}");
        assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    }
}

/// Starts `kaleido --executor 'kaleido executor' -e CODE`, interrupts it (SIGINT, as Ctrl-C does) after
/// a moment, and returns what it printed and how long the interrupt took to end it.
fn interrupted(code: &str) -> (Output, Duration) {
    let child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .arg("--executor")
        .arg(executor())
        .args(["-e", code])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("kaleido ends");
    (output, signalled.elapsed())
}

#[test]
fn an_interrupt_reaches_code_there_and_ends_code_stuck_in_c() {
    let (output, took) = interrupted("def keep(x) x\nfor i = 0, 1 in keep(i)");
    assert!(text(&output.stderr).contains("error: interrupted"), "{}", text(&output.stderr));
    assert_eq!(output.status.code(), Some(130));
    assert!(took < Duration::from_secs(3), "{took:?}");
    let (output, took) = interrupted("extern pause()\npause()");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("still running 500 ms after the interrupt (stuck in C?), so it was killed"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
