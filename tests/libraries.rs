//! C libraries (`--lib`, `:lib`): a small library the test builds with the machine's `cc`, loaded into
//! the process so `extern` binds its functions; errors for what cannot be loaded; `:save` writes the
//! `:lib` line back, and the saved script rebuilds the session. With `--executor process`, a library loaded
//! while an executor runs reaches it, and its function that segfaults ends only the executor: the session
//! goes on with every definition and global, and the library bound again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Builds `libkaltest.so` (with `triple(x)`, `hypot3(x y z)` and `crash(x)`, which writes through a null
/// pointer) in `dir` with `cc`.
fn build_library(dir: &Path) -> PathBuf {
    let source = dir.join("kaltest.c");
    std::fs::write(
        &source,
        "#include <math.h>\ndouble triple(double x) { return 3 * x; }\n\
         double hypot3(double x, double y, double z) { return sqrt(x * x + y * y + z * z); }\n\
         double crash(double x) { *(volatile double *)0 = x; return x; }\n",
    )
    .expect("write the C source");
    let library = dir.join("libkaltest.so");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-lm")
        .status()
        .expect("cc runs (the machine's C compiler)");
    assert!(status.success(), "cc failed");
    library
}

fn kaleido(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaleido")).args(args).output().expect("kaleido runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_library_loaded_at_start_binds_its_functions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = build_library(dir.path());
    let path = library.to_str().expect("UTF-8");
    let output = kaleido(&["--lib", path, "-e", "extern triple(x)\nextern hypot3(x y z)\ntriple(14)\nhypot3(2, 3, 6)"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "42\n7\n");
    // Without the library the extern is the clear error it always was.
    let output = kaleido(&["-e", "extern triple(x)"]);
    assert_eq!(output.status.code(), Some(65));
    assert!(
        text(&output.stderr).contains("no builtin or C function named `triple` exists"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn lib_in_a_session_loads_lists_and_is_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = build_library(dir.path());
    let saved = dir.path().join("saved.kal");
    let script = format!(
        ":lib {}\n:lib {0}\n:lib\nextern triple(x)\ndef nine(x) triple(triple(x))\n:save {}\n",
        library.display(),
        saved.display()
    );
    let output = kaleido(&["-e", &script]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let canonical = std::fs::canonicalize(&library).expect("canonical");
    assert_eq!(
        text(&output.stdout),
        format!(
            "loaded {0}: `extern NAME(PARAMS)` binds its functions\n{0} is loaded already\n{1}\nsaved to {2}\n",
            library.display(),
            canonical.display(),
            saved.display()
        )
    );
    let script = std::fs::read_to_string(&saved).expect("saved script");
    assert!(script.contains(&format!(":lib {}\n", canonical.display())), "{script}");
    // The saved script rebuilds the session in a fresh process: the library first, then the extern.
    let output = kaleido(&["-e", &format!(":load {}\nnine(2)", saved.display())]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).ends_with("18\n"), "{}", text(&output.stdout));
}

#[test]
fn what_cannot_be_loaded_is_a_clear_error_and_nothing_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_a_library = dir.path().join("notes.txt");
    std::fs::write(&not_a_library, "not a shared library").expect("write");
    let missing = dir.path().join("libmissing.so");
    let script = format!(":lib {}\n:lib {}\n:lib\n", missing.display(), not_a_library.display());
    let output = kaleido(&["--keep-going", "-e", &script]);
    assert_eq!(output.status.code(), Some(65));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("error: cannot load {}: ", missing.display())), "{stderr}");
    assert!(stderr.contains("No such file or directory"), "{stderr}");
    assert!(stderr.contains(&format!("error: cannot load {}: ", not_a_library.display())), "{stderr}");
    assert_eq!(text(&output.stdout), "no C library is loaded (`:lib PATH` loads one)\n");
    // At start-up, the same error ends the run before anything runs.
    let output = kaleido(&["--lib", missing.to_str().expect("UTF-8"), "-e", "printd(1)"]);
    assert_eq!(output.status.code(), Some(74));
    assert!(text(&output.stderr).starts_with("kaleido: cannot load "), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn a_reset_keeps_the_libraries_loaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = build_library(dir.path());
    let script = format!(":lib {}\n:reset\n:lib\nextern triple(x)\ntriple(1)", library.display());
    let output = kaleido(&["-e", &script]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("every definition and global is gone (the C libraries loaded stay loaded)\n"), "{stdout}");
    let canonical = std::fs::canonicalize(&library).expect("canonical");
    assert!(stdout.ends_with(&format!("{}\n3\n", canonical.display())), "{stdout}");
}

#[test]
fn in_an_executor_a_library_that_crashes_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = build_library(dir.path());
    // The executor is running (`1 + 1`) before the library is loaded: loading it replaces the executor.
    let script = format!(
        "var kept = 5\n1 + 1\n:lib {}\nextern triple(x)\nextern crash(x)\ndef nine(x) triple(triple(x))\n\
         kept = 6\nprintd(11) : kept = 7 : crash(1)\nnine(kept)\n:executor\n",
        library.display()
    );
    let output = kaleido(&["--executor", "process", "--keep-going", "-e", &script]);
    assert_eq!(output.status.code(), Some(70), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (before, executor) = stdout.rsplit_once("code runs: in executor process ").expect("where code runs");
    assert_eq!(
        before,
        format!("2\nloaded {}: `extern NAME(PARAMS)` binds its functions\n6\n11\n54\n", library.display())
    );
    assert!(executor.ends_with("; executors started: 3, ended by the code: 1\n"), "{executor}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "<-e>:8:1: error: the code ended the executor: SIGSEGV (segmentation fault); a new executor was \
             started with every definition, and every global as after the last completed entry"
        ),
        "{stderr}"
    );
}
