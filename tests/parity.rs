//! One program, three front ends, the same story (issue 24): every golden program (`tests/programs/`,
//! `examples/`) runs through the script runner (`kaleido FILE`, stdout and stderr in one pipe), the shell
//! on a pseudo-terminal (typed line by line, echo off) and the notebook kernel (the whole program as one
//! cell, through a real Jupyter client), and the three must tell the same sequence of values, program
//! output, command output and errors, decoration aside: prompts, `Out[N]:` labels, the shell's and the
//! notebook's acknowledgements (`defined f(x)`), entry names, colours, a diagnostic's source lines and
//! carets, timings and addresses. A front end that drops, delays or reorders an item fails it.
//!
//! The shell keeps going after an error, as a script with `--keep-going` does; a cell stops at its
//! first error, so the kernel is compared with the script run without `--keep-going`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jupyter_protocol::{ExecuteRequest, JupyterMessage, JupyterMessageContent, MediaType};
use jupyter_zmq_client::{ClientIoPubConnection, ClientShellConnection};
use tokio::time::timeout;

#[path = "kernel_client.rs"]
mod kernel_client;

/// A script file is itself being loaded while it runs; a shell line or a cell is not a file, so a `:load`
/// cycle through the program is found one load later there.
const LOADS_ITSELF: &str = "the script runner's own file is on the `:load` chain, a shell line or a cell is not";

/// Programs whose shell run differs from their script run for a reason that is not a front end's
/// fault, each with that reason. Everything else must agree.
const SHELL_DIFFERS: &[(&str, &str)] = &[
    ("tests/programs/nesting/long_chains.kal", "its lines are longer than a terminal's 4,096-byte line buffer"),
    ("tests/programs/scripts/load_cycle_a.kal", LOADS_ITSELF),
    ("tests/programs/scripts/load_cycle_b.kal", LOADS_ITSELF),
    ("tests/programs/scripts/loads_itself.kal", LOADS_ITSELF),
];

/// Programs whose notebook run differs from their script run, and why.
const NOTEBOOK_DIFFERS: &[(&str, &str)] = &[
    ("tests/programs/scripts/load_cycle_a.kal", LOADS_ITSELF),
    ("tests/programs/scripts/load_cycle_b.kal", LOADS_ITSELF),
    ("tests/programs/scripts/loads_itself.kal", LOADS_ITSELF),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Every golden program, sorted, as paths relative to the workspace root.
fn programs() -> Vec<String> {
    let mut found = Vec::new();
    for dir in ["tests/programs", "examples"] {
        collect(&root().join(dir), &mut found);
    }
    let mut relative: Vec<String> =
        found.iter().map(|p| p.strip_prefix(root()).expect("inside").to_string_lossy().into_owned()).collect();
    relative.sort();
    relative
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, found);
        } else if path.extension().is_some_and(|e| e == "kal") {
            found.push(path);
        }
    }
}

/// Where the program's code runs: in an executor process, as the notebook's kernel always does. Tier 0
/// does not run in an executor yet (issue 27), so in process a first call is evaluated where the kernel
/// compiles it, and `:list`, `:show` and `:modules` say so; the three front ends are compared where
/// they run the same tiers. The goldens check the script runner in process.
fn executor_of(_program: &str) -> &'static str {
    "process"
}

/// `kaleido [--keep-going] FILE` with stdout and stderr in one pipe, so their order is kept.
fn script(program: &str, keep_going: bool) -> String {
    let flag = if keep_going { "--keep-going " } else { "" };
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec '{}' {flag}'{program}' 2>&1", env!("CARGO_BIN_EXE_kaleido")))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("KALEIDO_EXECUTOR", executor_of(program))
        .env_remove("KALEIDO_HISTORY")
        .output()
        .expect("kaleido runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The shell on a pseudo-terminal with echo off, the program typed line by line, then Ctrl-D.
fn shell(program: &str) -> String {
    let text = std::fs::read_to_string(root().join(program)).expect("program");
    let mut command = std::process::Command::new("sh");
    let history = std::env::temp_dir().join(format!("kaleido-parity-history-{}", std::process::id()));
    command
        .arg("-c")
        .arg(format!("stty -echo; exec '{}'", env!("CARGO_BIN_EXE_kaleido")))
        .current_dir(root())
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .env("KALEIDO_EXECUTOR", executor_of(program))
        .env("KALEIDO_HISTORY", &history);
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).expect("a pty");
    session.exp_string("In [1]: ").expect("the first prompt");
    // Canonical mode (TERM=dumb) buffers what is typed ahead, so the whole program can be sent at once;
    // a blank line after it submits an unfinished last entry, as a person would.
    let mut typed = text.replace("\r\n", "\n");
    typed.push_str("\n\u{4}");
    session.send(&typed).expect("typed");
    session.flush().expect("flushed");
    let rest = session.exp_eof().expect("the shell ends at Ctrl-D");
    let _ = std::fs::remove_file(history);
    // rexpect hands back each byte as a char: put the UTF-8 back together.
    let bytes: Vec<u8> = rest.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The program as one cell: the iopub messages' text in order (streams, results, tracebacks).
async fn cell(shell: &mut ClientShellConnection, iopub: &mut ClientIoPubConnection, code: &str) -> String {
    let request: JupyterMessage = ExecuteRequest::new(code.to_string()).into();
    shell.send(request.clone()).await.expect("send");
    let mut text = String::new();
    loop {
        let message = timeout(Duration::from_secs(60), iopub.read()).await.expect("iopub in time").expect("iopub");
        if message.parent_header.as_ref().map(|h| &h.msg_id) != Some(&request.header.msg_id) {
            continue;
        }
        match &message.content {
            // Stdout and stderr (warnings) alike: the shell's terminal shows both, in order.
            JupyterMessageContent::StreamContent(stream) => text.push_str(&stream.text),
            JupyterMessageContent::ExecuteResult(result) => {
                for media in &result.data.content {
                    if let MediaType::Plain(value) = media {
                        text.push_str(&format!("Out[{}]: {value}\n", result.execution_count.value()));
                    }
                }
            }
            // A picture's text form is what the shell and scripts print for it.
            JupyterMessageContent::DisplayData(display) => {
                for media in &display.data.content {
                    if let MediaType::Plain(picture) = media {
                        text.push_str(picture);
                    }
                }
            }
            JupyterMessageContent::ErrorOutput(error) => {
                text.push_str(&error.traceback.join("\n"));
                text.push('\n');
            }
            JupyterMessageContent::Status(status)
                if status.execution_state == jupyter_protocol::ExecutionState::Idle =>
            {
                break;
            }
            _ => {}
        }
    }
    let _ = timeout(Duration::from_secs(60), shell.read()).await.expect("reply in time").expect("reply");
    text
}

/// What a front end told, decoration aside, one line per value, output line, command line or error.
fn story(text: &str) -> Vec<String> {
    let plain = strip_ansi(text).replace('\r', "");
    let prompts = regex::Regex::new(r"In \[\d+\]: |\s+\.\.\.: ").expect("regex");
    // Anywhere on a line: a value follows program output that did not end its line (`putchard`).
    let label = regex::Regex::new(r"Out\[\d+\](?: \(line \d+\))?: ").expect("regex");
    let entry =
        regex::Regex::new(r"<repl:\d+>|<repl>|<cell \d+>|<silent \d+>|<:time>|[\w./-]+\.kal:\d+").expect("regex");
    let acknowledgement = regex::Regex::new(
        r"^(defined|redefined) \S+\(.*\)|^extern \S+\(.*\) bound to the (builtin|C function)|^[A-Za-z_]\w* = \S+$",
    )
    .expect("regex");
    let decoration =
        regex::Regex::new(r"^\s*(\d+ )?\|| *\^|^\s*= |^hint: |: warning: |: note: |^kaleido \d").expect("regex");
    let address = regex::Regex::new(r"0x[0-9a-f]+").expect("regex");
    let mut lines = Vec::new();
    for line in prompts.replace_all(&plain, "").lines() {
        let line = label.replace(line, "");
        if line.trim().is_empty() || acknowledgement.is_match(&line) || decoration.is_match(&line) {
            continue;
        }
        if line.starts_with("time: ") {
            continue;
        }
        let line = match line.find("error: ") {
            Some(at) => format!("ERROR {}", &line[at + "error: ".len()..]),
            None => line.to_string(),
        };
        let named = entry.replace_all(&line, "ENTRY").into_owned();
        let line = address.replace_all(&named, "ADDR");
        lines.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    lines
}

/// `story` up to and including its first error.
fn until_first_error(story: &[String]) -> Vec<String> {
    match story.iter().position(|line| line.starts_with("ERROR ")) {
        Some(at) => story[..=at].to_vec(),
        None => story.to_vec(),
    }
}

fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The first line where two stories part, for the failure message.
fn first_difference(a: &[String], b: &[String]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    format!("line {}: {:?} vs {:?}", at + 1, a.get(at), b.get(at))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_golden_program_tells_the_same_story_in_the_script_runner_the_shell_and_the_notebook() {
    let kernel = kernel_client::start_kernel("parity-goldens").await;
    let (mut shell_socket, mut iopub) = kernel_client::clients(&kernel.info).await;
    let mut failures = Vec::new();
    let programs = programs();
    assert!(programs.len() >= 30, "only {} golden programs", programs.len());
    for program in &programs {
        let code = std::fs::read_to_string(root().join(program)).expect("program");
        let keep_going = code.lines().next().is_some_and(|l| l.starts_with("# args:") && l.contains("--keep-going"));
        let whole = story(&script(program, keep_going));
        let shell_story = story(&shell(program));
        let shell_story = if keep_going { shell_story } else { until_first_error(&shell_story) };
        if whole != shell_story && !SHELL_DIFFERS.iter().any(|(p, _)| p == program) {
            failures.push(format!("{program}: the shell differs, {}", first_difference(&whole, &shell_story)));
        }
        cell(&mut shell_socket, &mut iopub, ":reset").await;
        let first = until_first_error(&story(&script(program, false)));
        let notebook = story(&cell(&mut shell_socket, &mut iopub, &code).await);
        if first != notebook && !NOTEBOOK_DIFFERS.iter().any(|(p, _)| p == program) {
            failures.push(format!("{program}: the notebook differs, {}", first_difference(&first, &notebook)));
        }
    }
    assert!(failures.is_empty(), "{} of {} programs differ:\n{}", failures.len(), programs.len(), failures.join("\n"));
}

/// The comparison is not blind: a story with a value moved after the next item's output, or dropped,
/// differs from the original.
#[test]
fn a_delayed_or_dropped_value_is_a_difference() {
    let shown = story("1\nOut[3]: 0\n2\nOut[4]: 0\n");
    let delayed = story("1\n2\nOut[3]: 0\nOut[4]: 0\n");
    let dropped = story("1\n2\nOut[4]: 0\n");
    assert_eq!(shown, ["1", "0", "2", "0"]);
    assert_ne!(shown, delayed);
    assert_ne!(shown, dropped);
}
