//! Behaviour that exists only on a terminal, driven through a pseudo-terminal: the numbered prompt,
//! multi-line entries with a continuation prompt, completion, Ctrl-C, Ctrl-D, and history across runs.
//!
//! Like a person, each test waits for the prompt before typing: rustyline drops keys typed while no
//! prompt is up.

use std::time::Duration;

use rexpect::session::{PtySession, spawn_command};

/// How long a step may take before the test fails: generous, because these tests run in parallel with
/// CPU-heavy ones on two cores (a stuck shell still fails, just later).
const TIMEOUT_MS: u64 = 30_000;

fn start(history: &std::path::Path) -> PtySession {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.env("KALEIDO_HISTORY", history).env("TERM", "xterm").env("NO_COLOR", "1");
    let mut session = spawn_command(command, Some(TIMEOUT_MS)).expect("kaleido starts on a pty");
    session.exp_string("In [1]: ").expect("first prompt");
    session
}

/// The session defined `keep(x) = x + 1` earlier and must still have it; then it ends with Ctrl-D.
fn still_alive(p: &mut PtySession) {
    p.send_line("keep(41)").unwrap();
    p.exp_string("42").unwrap();
    // Ctrl-D typed before the next prompt is up would be read by nothing.
    p.exp_regex(r"In \[\d+\]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

fn temp_history(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kaleido-pty-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("history")
}

#[test]
fn prompt_multi_line_entry_and_value() {
    let history = temp_history("multi");
    let mut p = start(&history);
    p.send_line("def fib(x)").unwrap();
    p.exp_string("   ...: ").expect("continuation prompt");
    p.send_line("  if x < 3 then 1 else fib(x-1) + fib(x-2)").unwrap();
    p.exp_string("defined fib(x)").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_line("fib(20)").unwrap();
    p.exp_string("6765").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line("1 + )").unwrap();
    p.exp_string("<repl:3>:1:5: error: expected an expression, found `)`").unwrap();
    p.exp_string("In [4]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn tab_completes_functions_and_commands() {
    let history = temp_history("complete");
    let mut p = start(&history);
    p.send_line("def unusual_name(x) x * 3").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // rustyline redraws only the completed suffix, so check the effect: the completed call runs.
    p.send("unusual_n\t").unwrap();
    p.send_line("(14)").unwrap();
    p.exp_string("42").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send(":he\t").unwrap();
    p.send_line("").unwrap();
    p.exp_string("leave the shell").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn ctrl_c_interrupts_a_loop_and_the_session_goes_on() {
    let history = temp_history("interrupt");
    let mut p = start(&history);
    p.send_line("def keep(x) x * 2").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_line("for i = 0, 1 in 0").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("error: interrupted").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line("1 + 1").unwrap();
    p.exp_string("2").unwrap();
    p.exp_string("In [4]: ").unwrap();
    p.send_line("keep(21)").unwrap();
    p.exp_string("42").unwrap();
    p.exp_string("In [5]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn history_survives_a_restart() {
    let history = temp_history("history");
    let mut p = start(&history);
    p.send_line("def remembered(x) x + 100").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let saved = std::fs::read_to_string(&history).expect("history file written");
    assert!(saved.contains("def remembered(x) x + 100"), "{saved}");

    let mut p = start(&history);
    // Up-arrow recalls the previous session's entry; running it defines the function again.
    p.send("\x1b[A").unwrap();
    p.send_line("").unwrap();
    p.exp_string("defined remembered(x)").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // Ctrl-R searches the history backwards.
    p.send_control('r').unwrap();
    p.exp_string("reverse-i-search").unwrap();
    p.send("rememb").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send_line("").unwrap();
    p.exp_string("redefined remembered(x) (version 2)").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn non_ascii_before_a_parenthesis_or_tab_does_not_end_the_session() {
    let history = temp_history("unicode");
    let mut p = start(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // Each of these once panicked in the parameter hint or the completer (a byte index inside `é`).
    for keys in ["é(", "def f😀(", "é\t", "x é\t"] {
        p.send(keys).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        p.send_control('c').unwrap();
        p.exp_string("In [2]: ").unwrap();
    }
    still_alive(&mut p);
}

#[test]
fn an_invalid_utf8_byte_is_reported_and_the_session_goes_on() {
    use std::io::Write;
    let history = temp_history("bad-byte");
    let mut p = start(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    let mut terminal = p.process().get_file_handle().expect("pty");
    terminal.write_all(b"1 + \xff\r").unwrap();
    p.exp_string("the input was not valid UTF-8").unwrap();
    p.exp_string("In [2]: ").unwrap();
    still_alive(&mut p);
}

#[test]
fn an_endless_history_file_is_refused_with_a_warning() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.env("KALEIDO_HISTORY", "/dev/zero").env("TERM", "xterm").env("NO_COLOR", "1");
    let mut p = spawn_command(command, Some(TIMEOUT_MS)).expect("kaleido starts on a pty");
    p.exp_string("history is off: /dev/zero cannot hold it (it is not a regular file)").unwrap();
    p.exp_string("In [1]: ").unwrap();
    p.send_line("2 + 2").unwrap();
    p.exp_string("4").unwrap();
    p.exp_regex(r"In \[\d+\]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn a_long_line_typed_without_bracketed_paste_is_taken_in_linear_time() {
    let history = temp_history("long-line");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    // Colours on: live re-highlighting is what made every key redraw the whole line.
    command.env("KALEIDO_HISTORY", &history).env("TERM", "xterm").env_remove("NO_COLOR");
    // 20 KB arriving key by key took 18 s (quadratic); allow a minute, far above linear time.
    let mut p = spawn_command(command, Some(60_000)).expect("kaleido starts on a pty");
    p.exp_string("In [1]: ").unwrap();
    p.send_line(&format!("40 + 2 # {}", "x".repeat(20_000))).unwrap();
    p.exp_string("Out[1]: 42\r\n").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn lines_typed_ahead_or_pasted_without_brackets_all_run_in_order() {
    let history = temp_history("type-ahead");
    let mut p = start(&history);
    // All at once, as a paste without bracketed-paste markers (or fast typing) delivers them.
    p.send("1 + 1\r2 + 2\r3 + 3\r").unwrap();
    p.flush().unwrap();
    p.exp_string("2").unwrap();
    p.exp_string("4").unwrap();
    p.exp_string("6").unwrap();
    p.exp_string("In [4]: ").unwrap();
    // Typed while an entry is still running: read after it, not lost.
    p.send_line("for i = 0, i < 3e7 in 0").unwrap();
    p.send("10 * 10\r").unwrap();
    p.flush().unwrap();
    p.exp_string("100").unwrap();
    p.exp_regex(r"In \[\d+\]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn ctrl_d_on_a_continuation_line_cancels_the_entry_and_keeps_the_shell() {
    let history = temp_history("ctrl-d-continue");
    let mut p = start(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_line("def unfinished(x)").unwrap();
    p.exp_string("   ...: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_string("In [2]: ").unwrap();
    still_alive(&mut p);
}

#[test]
fn interactive_flag_runs_a_file_then_stays_in_the_shell() {
    let dir = std::env::temp_dir().join(format!("kaleido-pty-i-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("defs.kal");
    std::fs::write(&script, "def keep(x) x + 1\nprintd(7)\n").expect("script");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command
        .arg("-i")
        .arg(&script)
        .env("KALEIDO_HISTORY", dir.join("history"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = spawn_command(command, Some(TIMEOUT_MS)).expect("kaleido starts on a pty");
    p.exp_string("7").unwrap();
    p.exp_string("In [1]: ").unwrap();
    still_alive(&mut p);
}

#[test]
fn diagnostics_are_coloured_on_a_terminal_and_ctrl_c_gets_its_own_line() {
    let history = temp_history("colour");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.env("KALEIDO_HISTORY", &history).env("TERM", "xterm").env_remove("NO_COLOR");
    let mut p = spawn_command(command, Some(TIMEOUT_MS)).expect("kaleido starts on a pty");
    p.exp_string("In [1]: ").unwrap();
    p.send_line("1 + )").unwrap();
    p.exp_string("\x1b[1;31merror\x1b[0m\x1b[1m: expected an expression").unwrap();
    p.send_line("def warned(x) later(x)").unwrap();
    p.exp_string("\x1b[1;33mwarning\x1b[0m\x1b[1m: `later` is not defined yet").unwrap();
    p.send_line("for i = 0, 1 in 0").unwrap();
    // rustyline has taken the whole line when it turns bracketed paste off; the loop runs from then on.
    p.exp_string("\x1b[?2004l").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    // A terminal echoes `^C` where the cursor is (this pseudo-terminal has echo off): the shell ends that
    // line before the message, so the message starts on a line of its own.
    p.exp_string("\r\n\r\n\x1b[1m<repl:3>:1:1: \x1b[1;31merror\x1b[0m\x1b[1m: interrupted").unwrap();
    p.exp_regex(r"In \[\d+\]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn each_item_shows_its_warnings_in_place_and_none_is_dropped() {
    let history = temp_history("in-place");
    let mut p = start(&history);
    // The arity warning about a caller defined earlier in the same entry is not dropped.
    p.send_line("def z1(x) x; def z2(x) z1(x); def z1(x y) x").unwrap();
    p.exp_string("defined z2(x)").unwrap();
    p.exp_string("`z1` now takes 2 arguments; `z2` still passes 1").unwrap();
    p.exp_string("redefined z1(x y) (version 2)").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // The forward-reference warning comes with `e1`, before `o1` is defined and before the value.
    p.send_line("def e1(n) o1(n); def o1(n) 1; e1(0)").unwrap();
    p.exp_string("`o1` is not defined yet").unwrap();
    p.exp_string("defined e1(n)").unwrap();
    p.exp_string("defined o1(n)").unwrap();
    p.exp_string("1\r\n").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn comment_only_lines_take_no_entry_number() {
    let history = temp_history("comment-only");
    let mut p = start(&history);
    p.send_line("# just a note").unwrap();
    p.exp_string("In [1]: ").unwrap();
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    still_alive(&mut p);
}

#[test]
fn load_completes_file_names() {
    let dir = std::env::temp_dir().join(format!("kaleido-pty-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("unusual_script_name.kal"), "def keep(x) x + 1\n").expect("script");
    let mut p = start(&temp_history("files"));
    p.send(&format!(":load {}/unusual_scr\t", dir.display())).unwrap();
    p.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_line("").unwrap();
    p.exp_string("loaded").unwrap();
    p.exp_string("unusual_script_name.kal").unwrap();
    still_alive(&mut p);
}

#[test]
fn a_recalled_multi_line_entry_shows_its_continuation_prompts_and_runs() {
    let history = temp_history("recall");
    let mut p = start(&history);
    p.send_line("def twice(x)").unwrap();
    p.exp_string("   ...: ").unwrap();
    p.send_line("  x * 2").unwrap();
    p.exp_string("defined twice(x)").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // Up recalls the whole entry, its second line behind a continuation prompt; Enter runs it again.
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("def twice(x)").unwrap();
    p.exp_string("   ...:   x * 2").expect("the recalled second line has its continuation prompt");
    p.send_line("").unwrap();
    p.exp_string("redefined twice(x) (version 2)").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line("twice(21)").unwrap();
    p.exp_string("42").unwrap();
    p.exp_regex(r"In \[\d+\]: ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn a_colour_terminal_shows_an_image_as_colour_half_blocks_and_a_plot_in_braille() {
    let history = temp_history("pictures");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.env("KALEIDO_HISTORY", &history).env("TERM", "xterm-256color").env_remove("NO_COLOR");
    let mut p = spawn_command(command, Some(30_000)).expect("kaleido starts on a pty");
    p.exp_string("In [1]: ").unwrap();
    p.send_line("pixel(0, 0, 1) + pixel(1, 0, 2) + pixel(0, 1, 3);").unwrap();
    // Two cells per character, 24-bit colour: the top cell in front, the bottom cell behind (rexpect reads
    // bytes, so the characters after the escapes are matched as what they are not: ASCII).
    p.exp_string("\x1b[38;2;68;1;84m\x1b[48;2;254;232;37m").unwrap();
    p.exp_string(" pixels; values 1 ").unwrap();
    p.send_line(":plot x * x for x in -1..1").unwrap();
    p.exp_string("x: -1 ").unwrap();
    p.exp_string(" 1; lines: \x1b[38;2;31;119;180m").unwrap();
    p.exp_string(" x * x\r\n").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// A shell whose code runs in an executor (`--executor process`).
fn start_with_executor(history: &std::path::Path) -> PtySession {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"));
    command.env("KALEIDO_HISTORY", history).env("TERM", "xterm").env("NO_COLOR", "1");
    command.args(["--executor", "process"]);
    let mut session = spawn_command(command, Some(TIMEOUT_MS)).expect("kaleido starts on a pty");
    session.exp_string("In [1]: ").expect("first prompt");
    session
}

#[test]
fn with_an_executor_abort_and_exit_keep_the_shell_and_its_definitions() {
    let history = temp_history("executor-crash");
    let mut p = start_with_executor(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_line("var g = 9").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line("extern abort()").unwrap();
    p.exp_string("In [4]: ").unwrap();
    p.send_line("putchard(65) : g = 0 : abort()").unwrap();
    p.exp_string("A").unwrap();
    p.exp_string("<repl:4>:1:1: error: the code ended the executor: SIGABRT (abort); a new executor was started")
        .unwrap();
    p.exp_string("In [5]: ").unwrap();
    p.send_line("g").unwrap();
    p.exp_string("Out[5]: 9").unwrap();
    p.exp_string("In [6]: ").unwrap();
    p.send_line("extern exit(x)").unwrap();
    p.exp_string("In [7]: ").unwrap();
    p.send_line("exit(3)").unwrap();
    p.exp_string("the code ended the executor: exit with status").unwrap();
    still_alive(&mut p);
}

#[test]
fn with_an_executor_ctrl_c_stops_a_loop_and_ends_code_stuck_in_c() {
    let history = temp_history("executor-interrupt");
    let mut p = start_with_executor(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    p.send_line("for i = 0, 1 in keep(i)").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("error: interrupted").unwrap();
    p.exp_string("In [3]: ").unwrap();
    // `pause` waits for a signal, in C, where no flag can stop it: the executor is ended after the grace.
    p.send_line("extern pause()").unwrap();
    p.exp_string("In [4]: ").unwrap();
    p.send_line("pause()").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("still running 500 ms after the interrupt (stuck in C?), so it was killed").unwrap();
    still_alive(&mut p);
}

#[test]
fn with_an_executor_a_kill_9_of_it_keeps_the_shell_and_its_definitions() {
    let history = temp_history("executor-kill");
    let mut p = start_with_executor(&history);
    p.send_line("def keep(x) x + 1").unwrap();
    p.exp_string("In [2]: ").unwrap();
    // The executor starts with the first code that runs.
    p.send_line("keep(0)").unwrap();
    p.exp_string("In [3]: ").unwrap();
    p.send_line(":executor").unwrap();
    let (_, pid) = p.exp_regex(r"in executor process (\d+)").unwrap();
    let pid = pid.trim_start_matches("in executor process ").to_string();
    // A command takes no entry number.
    p.exp_string("In [3]: ").unwrap();
    let killed = std::process::Command::new("kill").args(["-9", &pid]).status().expect("kill runs");
    assert!(killed.success());
    p.send_line("keep(1)").unwrap();
    p.exp_string("the code ended the executor: SIGKILL (killed); a new executor was started").unwrap();
    still_alive(&mut p);
}
