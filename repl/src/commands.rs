//! Shell commands: `:help`, `:quit`, `:list`, `:show`, `:load`, `:save`, `:reset`, `:set`, `:stats`.
//!
//! Commands are parsed by hand (a word and an argument); anything else starting with `:` is an unknown
//! command, reported with the nearest known one.

use std::io::Write;
use std::path::Path;

use kaleido_engine::JitMode;
use kaleido_engine::present;

use crate::script::{ScriptOptions, run_script};
use crate::session::Session;
use crate::source_file::{MAX_SCRIPT_BYTES, read_interruptible};
use crate::transcript::StepKind;

/// What the shell does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Read the next entry.
    Continue,
    /// Leave the shell.
    Quit,
}

/// Every command with a one-line description, for `:help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    (":help", "show this help"),
    (":quit", "leave the shell (Ctrl-D does too)"),
    (":list", "list every function: parameters, version, state, defining entry"),
    (":show NAME", "show the current source of a function or operator, and who calls it"),
    (":load FILE", "run a .kal script into this session"),
    (":save FILE", "write the session's definitions and globals as a script that rebuilds it"),
    (":save --transcript FILE", "write every entry as typed, with its output as comments"),
    (":reset", "start again with a fresh engine"),
    (":set jit MODE", "compile definitions `lazy` (on first call, the default) or `eager`"),
    (":stats", "what compiling has cost: functions, bytes of code, time"),
];

/// The command names (`:save`), each once, sorted.
pub fn command_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|(c, _)| c.split(' ').next().unwrap_or(c)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Runs the command `line` (which starts with `:`), recording it in the transcript.
pub fn run_command(session: &mut Session, line: &str) -> Next {
    session.transcript.begin();
    let next = run_unrecorded(session, line);
    session.transcript.end(line, StepKind::Command);
    next
}

fn run_unrecorded(session: &mut Session, line: &str) -> Next {
    let line = line.trim();
    let (word, argument) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let argument = argument.trim();
    let result = match word {
        ":help" | ":h" | ":?" => help(session),
        ":quit" | ":q" | ":exit" => return Next::Quit,
        ":list" | ":ls" => list(session),
        ":show" => show(session, argument),
        ":load" => load(session, argument),
        ":save" => save(session, argument),
        ":reset" => reset(session),
        ":set" => set(session, argument),
        ":stats" => stats(session),
        _ => Err(unknown(word)),
    };
    if let Err(message) = result {
        let _ = writeln!(session.err, "error: {message}");
    }
    Next::Continue
}

fn help(session: &mut Session) -> Result<(), String> {
    let mut text =
        String::from("Enter definitions (`def f(x) x * 2`), externs, globals (`var x = 1`) or expressions.\n");
    text.push_str("An unfinished entry continues on the next line. Commands:\n");
    let width = COMMANDS.iter().map(|(command, _)| command.len()).max().unwrap_or(0);
    for (command, what) in COMMANDS {
        text.push_str(&format!("  {command:<width$}  {what}\n"));
    }
    write_out(session, &text)
}

fn list(session: &mut Session) -> Result<(), String> {
    let text = present::function_list(session.engine());
    write_out(session, &text)
}

fn show(session: &mut Session, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`:show` needs a name, e.g. `:show fib` or `:show binary|`".to_string());
    }
    let text = present::function_source(session.engine(), name)
        .ok_or_else(|| format!("no function named `{name}`; `:list` shows them all"))?;
    write_out(session, &text)
}

fn load(session: &mut Session, argument: &str) -> Result<(), String> {
    if argument.is_empty() {
        return Err("`:load` needs a file name".to_string());
    }
    let file = script_path(argument);
    let path = file.to_string_lossy().into_owned();
    let path = path.as_str();
    let interrupt = session.engine().interrupt_handle();
    let bytes =
        read_interruptible(&file, MAX_SCRIPT_BYTES, &interrupt).map_err(|e| format!("cannot read {path}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not valid UTF-8"))?;
    let code = run_script(session, path, &text, ScriptOptions::default());
    if code == 0 {
        write_out(session, &format!("loaded {path}\n"))
    } else {
        Err(format!("{path} stopped at the error above"))
    }
}

/// The file a `:load` argument names: quotes removed (`"my file.kal"`), `~` expanded, and `.kal` added
/// when the name has no extension and only the `.kal` file exists.
pub fn script_path(argument: &str) -> std::path::PathBuf {
    let path = file_path(argument);
    if path.extension().is_none() && !path.exists() {
        let with_extension = path.with_extension("kal");
        if with_extension.exists() {
            return with_extension;
        }
    }
    path
}

/// The file a command's argument names: quotes removed (`"my file.kal"`) and `~` expanded.
fn file_path(argument: &str) -> std::path::PathBuf {
    let unquoted = match argument.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if argument.len() >= 2 => &argument[1..argument.len() - 1],
        _ => argument,
    };
    match (unquoted.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            std::path::PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => std::path::PathBuf::from(unquoted),
    }
}

fn save(session: &mut Session, argument: &str) -> Result<(), String> {
    let (transcript, path) = match argument.strip_prefix("--transcript") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => (true, rest.trim()),
        _ => (false, argument),
    };
    if path.is_empty() {
        return Err("`:save` needs a file name: `:save FILE` or `:save --transcript FILE`".to_string());
    }
    let script = if transcript { session.transcript.render() } else { session_script(session) };
    write_atomically(&file_path(path), script.as_bytes())?;
    write_out(session, &format!("saved to {path}\n"))
}

/// A script that rebuilds the session (what `:save` writes).
pub fn session_script(session: &Session) -> String {
    kaleido_engine::save::session_script(session.engine())
}

/// Writes `bytes` to `path` so that a crash never leaves a half-written file: into a new temporary file
/// beside the target (created exclusively, with an unpredictable name, so nobody who can write the
/// directory can make kaleido write elsewhere), then renamed over it. A symlink is written through to its
/// target; an existing file keeps its permissions; anything but a regular file (a device, a FIFO, a
/// directory) is refused. Errors name `path` as the user gave it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|e| format!("cannot write {shown}: it is a symlink whose target cannot be reached ({e})"))?,
        _ => path.to_path_buf(),
    };
    let existing = match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => {
            return Err(format!("cannot write {shown}: it is not a regular file (`:save` replaces only files)"));
        }
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = target.file_name().ok_or_else(|| format!("cannot write {shown}: the path names no file"))?;
    let fail = |e: std::io::Error| format!("cannot write {shown}: {e}");
    // A new file gets the usual 0666 less the umask; an existing one keeps its mode exactly.
    let mode = existing.as_ref().map_or(0o666, |p| p.mode() & 0o7777);
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(fail)?;
    if let Some(permissions) = existing {
        temp.as_file().set_permissions(permissions).map_err(fail)?;
    }
    temp.write_all(bytes).and_then(|()| temp.as_file().sync_all()).map_err(fail)?;
    temp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

fn set(session: &mut Session, argument: &str) -> Result<(), String> {
    let mut words = argument.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("jit"), Some(mode), None) => {
            let mode: JitMode = mode.parse()?;
            session.set_jit_mode(mode);
            let when = match mode {
                JitMode::Lazy => "on their first call",
                JitMode::Eager => "when they are entered",
            };
            write_out(session, &format!("jit mode {mode}: definitions are compiled {when}\n"))
        }
        _ => Err("usage: `:set jit lazy` or `:set jit eager`".to_string()),
    }
}

fn stats(session: &mut Session) -> Result<(), String> {
    let engine = session.engine();
    let stats = engine.stats();
    let text = format!(
        "jit mode: {}\nfunctions compiled: {}\nmachine code generated: {} bytes\ntime compiling: {:.3} ms\ncode memory in use: {} bytes (high-water mark {} bytes)\n",
        engine.jit_mode(),
        stats.functions,
        stats.code_bytes,
        stats.time.as_secs_f64() * 1000.0,
        engine.code_bytes(),
        engine.code_footprint(),
    );
    write_out(session, &text)
}

fn reset(session: &mut Session) -> Result<(), String> {
    session.reset().map_err(|e| e.to_string())?;
    write_out(session, "the session was reset: every definition and global is gone\n")
}

fn unknown(word: &str) -> String {
    let names = command_names();
    let starting: Vec<String> = names.iter().filter(|name| name.starts_with(word)).map(|n| format!("`{n}`")).collect();
    let suggestion = match starting.as_slice() {
        [] => {
            // Optimal string alignment: swapping two neighbouring letters, the commonest typo, is one edit.
            let nearest = names.iter().min_by_key(|name| strsim::osa_distance(word, name)).copied();
            format!("`{}`", nearest.unwrap_or(":help"))
        }
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!("unknown command `{word}`; did you mean {suggestion}? (`:help` lists the commands)")
}

fn write_out(session: &mut Session, text: &str) -> Result<(), String> {
    session.out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}
