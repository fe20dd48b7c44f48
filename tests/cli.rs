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
    let expected = format!("kaleido {} (JIT for {})\n", env!("CARGO_PKG_VERSION"), kaleido_engine::host_triple());
    assert_eq!(stdout(&version), expected);
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

/// Waits for `child` at most `seconds`, reading its output as it comes (a full pipe must not stall it); a
/// hang is a failure, not a stuck test run.
fn finish_within(child: std::process::Child, seconds: u64) -> Output {
    let pid = child.id();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(output) => output.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("kaleido did not finish within {seconds} s");
        }
    }
}

#[test]
fn a_closed_pipe_stops_the_program_with_one_plain_message() {
    for program in
        ["def forever(x) for i = 0, 1 in printd(i); forever(0)", "def spam(n) for i = 0, i < n in printd(i); spam(1e9)"]
    {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
            .args(["-e", program])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kaleido starts");
        // Read two lines, then close the pipe, as `| head -2` does.
        let mut stdout = child.stdout.take().expect("stdout");
        let mut two = [0u8; 4];
        std::io::Read::read_exact(&mut stdout, &mut two).expect("two lines");
        drop(stdout);
        let output = finish_within(child, 60);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(74), "{program}: {err}");
        assert_eq!(err, "kaleido: cannot write the output (broken pipe); stopping\n", "{program}");
    }
}

#[test]
fn output_that_cannot_be_written_is_an_io_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(["-e", "printd(1)"])
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    let output = finish_within(child, 30);
    assert_eq!(output.status.code(), Some(74));
    assert!(stderr(&output).contains("no space left on device"), "{}", stderr(&output));

    // A closed stdout (`>&-`): Rust's runtime would quietly put /dev/null there.
    let child = Command::new("sh")
        .args(["-c", "exec \"$0\" -e 'printd(1)' >&-", env!("CARGO_BIN_EXE_kaleido")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let output = finish_within(child, 30);
    assert_eq!(output.status.code(), Some(74));
    assert!(stderr(&output).contains("the output is closed"), "{}", stderr(&output));
}

#[test]
fn ctrl_c_during_a_long_compile_stops_the_script() {
    let dir = std::env::temp_dir().join(format!("kaleido-cli-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("long.kal");
    // Big enough to take seconds to compile even though compiling is linear (12,000 bindings did not).
    let bindings: Vec<String> = (1..200_000).map(|i| format!("v{i} = id(v{})", i - 1)).collect();
    let text = format!("def id(x) x\ndef huge(x) var v0 = x, {} in x\nprintd(42)\n", bindings.join(", "));
    std::fs::write(&script, text).expect("script");
    let child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(["--jit", "eager"])
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let output = finish_within(child, 60);
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "the item after the interrupted one never ran");
    assert!(stderr(&output).contains("error: interrupted"), "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recursion_depth_does_not_depend_on_the_stack_rlimit() {
    let program = "var depth = 0; def pr(n) (depth = n) + pr(n + 1); pr(0); depth";
    let depth_with = |kib: u32| {
        let command = format!("ulimit -s {kib} && exec \"$0\" --keep-going -e '{program}'");
        let output =
            Command::new("sh").args(["-c", &command, env!("CARGO_BIN_EXE_kaleido")]).output().expect("sh runs");
        assert_eq!(output.status.code(), Some(70), "{}", stderr(&output));
        stdout(&output)
    };
    assert_eq!(depth_with(1024), depth_with(65536));
}

#[test]
fn an_endless_script_file_is_refused_not_read_forever() {
    let output = kaleido(&["/dev/zero"], "");
    assert_eq!(output.status.code(), Some(74));
    assert!(stderr(&output).contains("larger than 64 MiB"), "{}", stderr(&output));
}

#[test]
fn eval_may_repeat_combine_with_a_file_and_start_with_a_minus() {
    let output = kaleido(&["-e", "-1/0"], "");
    assert_eq!((stdout(&output).as_str(), output.status.code()), ("-inf\n", Some(0)));
    let output = kaleido(&["-e", "def sq(x) x * x", "-e", "sq(3)"], "");
    assert_eq!(stdout(&output), "9\n");
    let dir = std::env::temp_dir().join(format!("kaleido-cli-e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("after.kal");
    std::fs::write(&file, "sq(4)\n").expect("file");
    let output = kaleido(&["-e", "def sq(x) x * x", file.to_str().expect("utf-8 path")], "");
    assert_eq!(stdout(&output), "16\n", "-e runs before FILE, in the same session");
    // Each `-e` is named on its own in diagnostics.
    let output = kaleido(&["-e", "1", "-e", "nothere(1)"], "");
    assert!(stderr(&output).starts_with("<-e:2>:1:1: error"), "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn echo_prints_each_item_before_its_output() {
    let output = kaleido(&["--echo", "-e", "def sq(x)\n  x * x\nprintd(sq(5))"], "");
    assert_eq!(stdout(&output), "> def sq(x)\n>   x * x\n> printd(sq(5))\n25\n0\n");
}

#[test]
fn many_diagnostics_cost_linear_time() {
    // 40,000 warnings took 12.8 s in a release build when each rendering counted lines from the file's
    // start (quadratic); this debug build takes a few seconds now. A watchdog, not a benchmark.
    let dir = std::env::temp_dir().join(format!("kaleido-cli-warnings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("warnings.kal");
    let defs: String = (0..40_000).map(|i| format!("def g{i}(x) undefined_thing(x)\n")).collect();
    std::fs::write(&script, defs).expect("script");
    let child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    let output = finish_within(child, 90);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output).matches("warning: `undefined_thing` is not defined yet").count(), 40_000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--emit asm` prints the annotated machine code of every definition as it is compiled (a lazy one is
/// compiled at once to show it), and the values still follow.
#[test]
fn emit_prints_each_definitions_code() {
    let output =
        kaleido(&["--emit", "asm", "-e", "def twice(x) sq(x) * 2", "-e", "def sq(x) x * x", "-e", "twice(3)"], "");
    let text = stdout(&output);
    assert!(text.starts_with("; twice, version 1 ("), "{text}");
    assert!(text.contains("; compiled now: it was deferred to its first call (lazy)"), "{text}");
    assert!(text.contains("call through slot sq/1"), "{text}");
    assert!(text.contains("; sq, version 1 (") && text.ends_with("18\n"), "{text}");
    let clif = stdout(&kaleido(&["--emit", "clif", "-e", "def sq(x) x * x"], ""));
    assert!(clif.contains("fmul v1, v1"), "a small body keeps its locals in SSA values: {clif}");
}

/// `--perf-map` writes `/tmp/perf-PID.map` with a line per compiled function, named as `:show` names
/// versions (`fib@1`) and top-level code by its entry; top-level code without a loop runs in tier 0 and
/// has no machine code to name.
#[test]
fn perf_map_names_compiled_code() {
    let child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args([
            "--perf-map",
            "-e",
            "def fib(x) if x < 3 then 1 else fib(x-1) + fib(x-2)",
            "-e",
            "fib(10)",
            "-e",
            "for i = 0, i < 2 in fib(i)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    let map = format!("/tmp/perf-{}.map", child.id());
    let output = child.wait_with_output().expect("kaleido finishes");
    assert_eq!(stdout(&output), "55\n0\n");
    let lines = std::fs::read_to_string(&map).expect("the perf map was written");
    let _ = std::fs::remove_file(&map);
    let names: Vec<&str> = lines.lines().filter_map(|line| line.splitn(3, ' ').nth(2)).collect();
    assert!(names.contains(&"fib@1") && names.contains(&"<-e:3>:1"), "{lines}");
    assert!(!names.contains(&"<-e:2>:1"), "top-level code without a loop is not compiled: {lines}");
    for line in lines.lines() {
        let mut fields = line.split(' ');
        let (start, size) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        assert!(usize::from_str_radix(start, 16).is_ok() && usize::from_str_radix(size, 16).is_ok(), "{line}");
    }
}

/// A failing call inside a function defined on standard input is shown at its line there, as in a file.
#[test]
fn a_call_site_on_stdin_is_shown_at_its_line() {
    let output = kaleido(&[], "def g(x) nosuch(x)\ng(8)\n");
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("<stdin>:1:10: note: in `g` (version 1), this call failed"), "{text}");
}

#[test]
fn pictures_are_also_written_as_png_files_when_asked() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    // A directory that does not exist yet is made.
    let dir = temp.path().join("new");
    let dir_arg = dir.to_str().expect("a UTF-8 path");
    let output = kaleido(&["--pictures", dir_arg, "-e", "pixel(0, 0, 1);\n:plot x for x in 0..1"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for n in 1..=2 {
        let file = dir.join(format!("picture-{n}.png"));
        assert!(out.contains(&format!("picture written to {}", file.display())), "{out}");
        let png = std::fs::read(&file).expect("the picture file");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[16..24], [0, 0, 2, 128, 0, 0, 1, 144], "640 × 400");
    }
    // `:set pictures` in a session does the same, and `off` stops it.
    let other = temp.path().join("more");
    let script = format!(":set pictures {}\npixel(0, 0, 1);\n:set pictures off\npixel(0, 0, 1);", other.display());
    let output = kaleido(&["-e", &script], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(other.join("picture-1.png").exists());
    assert!(!other.join("picture-2.png").exists());
}

#[test]
fn kernel_install_writes_the_kernelspec_logos_and_highlighting_and_uninstall_removes_them() {
    let prefix = tempfile::tempdir().expect("a temporary directory");
    let prefix_arg = prefix.path().to_str().expect("a UTF-8 path");
    let output = kaleido(&["kernel", "install", "--prefix", prefix_arg, "--no-lexer"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let data = prefix.path().join("share/jupyter");
    let spec = data.join("kernels/kaleido");
    assert!(spec.join("kernel.json").exists());
    for side in [32u8, 64] {
        let png = std::fs::read(spec.join(format!("logo-{side}x{side}.png"))).expect("the logo");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[16..24], [0, 0, 0, side, 0, 0, 0, side], "{side} × {side}");
    }
    let extension = data.join("labextensions/kaleido-jupyterlab");
    assert!(extension.join("package.json").exists());
    let statics: Vec<_> = std::fs::read_dir(extension.join("static")).expect("static").flatten().collect();
    assert!(statics.iter().any(|f| f.file_name().to_string_lossy().starts_with("remoteEntry.")), "{statics:?}");
    let output = kaleido(&["kernel", "uninstall", "--prefix", prefix_arg], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!spec.exists() && !extension.exists());
}
