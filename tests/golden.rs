//! Golden programs: every `.kal` under `tests/programs/` and `examples/` (and, fed on stdin, under
//! `tests/pipe/`) is run by the real `kaleido` binary, and what a user sees is compared exactly with a
//! checked-in `.out` file: stdout, then `--- stderr` and stderr if any, then `--- exit N` if not 0.
//!
//! Every program runs twice, with lazy compilation (the default) and with `--jit eager`, and both runs
//! must show exactly the same thing, except where a `NAME.eager.out` holds what the eager run shows (a
//! program that lists what is compiled). Each also runs a third time, lazily with `--executor process`
//! (the code in a child process), and a fourth with `--executor 'kaleido executor'` (in another process
//! image, over a pipe), which must both show what the lazy run shows, or its `NAME.executor.out` (a
//! program that asks where code runs). A first line `# args: ...` passes command-line flags. Regenerate the
//! `.out` files with `KALEIDO_BLESS=1 cargo test --test golden`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repl crate sits in the workspace").to_path_buf()
}

/// Runs `program` (relative to the workspace root) with `jit` (`lazy` or `eager`) and renders what the
/// user sees.
fn observe(program: &Path, via_stdin: bool, jit: &str, executor: &str) -> datatest_stable::Result<String> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(program))?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.current_dir(&root).env("TERM", "dumb").env("NO_COLOR", "1").env_remove("KALEIDO_HISTORY");
    // Through the environment, so a program's own `# args: --executor ...` wins.
    command.args(["--jit", jit]).env("KALEIDO_EXECUTOR", executor);
    if let Some(args) = text.lines().next().and_then(|line| line.strip_prefix("# args:")) {
        command.args(args.split_whitespace());
    }
    let output = if via_stdin {
        command.stdin(Stdio::from(std::fs::File::open(root.join(program))?)).output()?
    } else {
        command.arg(program).stdin(Stdio::null()).output()?
    };
    let mut seen = hide_addresses(&String::from_utf8_lossy(&output.stdout));
    if !output.stderr.is_empty() {
        seen.push_str("--- stderr\n");
        seen.push_str(&fold_depths(&String::from_utf8_lossy(&output.stderr)));
    }
    match output.status.code() {
        Some(0) => {}
        Some(code) => seen.push_str(&format!("--- exit {code}\n")),
        None => seen.push_str("--- killed by a signal\n"),
    }
    Ok(seen)
}

/// Addresses (`0x55d3c2a1b160` in `:table`) change from run to run: each is shown as `0x…`.
fn hide_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        let digits = rest[at + 2..].len() - rest[at + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit()).len();
        out.push_str(&rest[..at]);
        out.push_str(if digits >= 8 { "0x…" } else { &rest[at..at + 2 + digits] });
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

/// How deep a runaway recursion got depends on the stack's size and what is below it; a backtrace's
/// repeat counts of 1,000 or more are shown as `×N`.
fn fold_depths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('×') {
        let after = &rest[at + '×'.len_utf8()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&rest[..at + '×'.len_utf8()]);
        if digits >= 4 {
            out.push('N');
        } else {
            out.push_str(&after[..digits]);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

fn compare(program: &Path, expected_path: &Path, via_stdin: bool) -> datatest_stable::Result<()> {
    let lazy = observe(program, via_stdin, "lazy", "none")?;
    let eager = observe(program, via_stdin, "eager", "none")?;
    let forked = observe(program, via_stdin, "lazy", "process")?;
    // An executor started as a command: another process image, sent the code and every cell it uses.
    let command = [env!("CARGO_BIN_EXE_kaleido"), " executor"].concat();
    let copied = observe(program, via_stdin, "lazy", &command)?;
    let expected_file = workspace_root().join(expected_path);
    // A program that shows compile state (`:list`, `:show`, `:asm` of a lazy definition) may differ between
    // the modes: its eager run then has a `.eager.out` file of its own.
    let eager_file = expected_file.with_extension("eager.out");
    let executor_file = expected_file.with_extension("executor.out");
    if std::env::var_os("KALEIDO_BLESS").is_some() {
        std::fs::write(&expected_file, &lazy)?;
        for (file, seen) in [(&eager_file, &eager), (&executor_file, &forked)] {
            if *seen != lazy {
                std::fs::write(file, seen)?;
            } else if file.exists() {
                std::fs::remove_file(file)?;
            }
        }
        return Ok(());
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e} (bless with KALEIDO_BLESS=1)", path.display()))
    };
    let expected = read(&expected_file)?;
    let expected_eager = if eager_file.exists() { read(&eager_file)? } else { expected.clone() };
    let expected_executor = if executor_file.exists() { read(&executor_file)? } else { expected.clone() };
    let runs = [
        ("lazy", &lazy, &expected),
        ("eager", &eager, &expected_eager),
        ("lazy, --executor process", &forked, &expected_executor),
        ("lazy, --executor 'kaleido executor'", &copied, &expected_executor),
    ];
    for (mode, seen, expected) in runs {
        if seen != expected {
            return Err(format!(
                "{} ({mode}) differs from {}\n--- expected\n{expected}\n--- seen\n{seen}",
                program.display(),
                expected_path.display()
            )
            .into());
        }
    }
    Ok(())
}

/// The path relative to the workspace root, from the path datatest gives (relative to `repl/`).
fn from_root(path: &Path) -> PathBuf {
    path.strip_prefix("..").unwrap_or(path).to_path_buf()
}

fn program(path: &Path) -> datatest_stable::Result<()> {
    let program = from_root(path);
    compare(&program, &program.with_extension("out"), false)
}

fn example(path: &Path) -> datatest_stable::Result<()> {
    let program = from_root(path);
    let stem = program.file_stem().ok_or("an example has a name")?;
    compare(&program, &Path::new("tests/examples").join(stem).with_extension("out"), false)
}

fn piped(path: &Path) -> datatest_stable::Result<()> {
    let program = from_root(path);
    compare(&program, &program.with_extension("out"), true)
}

datatest_stable::harness! {
    { test = program, root = "../tests/programs", pattern = r"\.kal$" },
    { test = example, root = "../examples", pattern = r"\.kal$" },
    { test = piped, root = "../tests/pipe", pattern = r"\.kal$" },
}
