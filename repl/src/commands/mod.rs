//! Shell commands: `:help`, `:quit`, `:list`, `:show`, `:load`, `:save`, `:reset`, `:set`, `:stats`.
//!
//! Commands are parsed by hand (a word and an argument); anything else starting with `:` is an unknown
//! command, reported with the nearest known one.

use std::io::Write;

use kaleido_engine::JitMode;
use kaleido_engine::present;

mod files;

use files::{load, save};
pub use files::{script_path, session_script, write_atomically};

use crate::session::Session;
use crate::transcript::StepKind;

/// What happens after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Go on (read the next entry, or run the next item of a script).
    Continue,
    /// The command failed (its error was shown); go on all the same in the shell.
    Failed,
    /// Leave the shell, or stop the script.
    Quit,
}

/// One command: how it is typed, what it does in a line (`:help`), and more (`:help NAME`).
pub struct Command {
    /// The name, with its colon: `:show`.
    pub name: &'static str,
    /// Other names that run it: `:ls` for `:list`.
    pub aliases: &'static [&'static str],
    /// How to call it: `:show NAME[@K]`.
    pub usage: &'static str,
    /// One line for `:help`.
    pub summary: &'static str,
    /// What `:help NAME` adds.
    pub details: &'static str,
}

/// Every command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":help",
        aliases: &[":h", ":?"],
        usage: ":help [COMMAND]",
        summary: "list the commands, or explain one",
        details: "`:help show` (or `:help :show`) explains `:show`.",
    },
    Command {
        name: ":quit",
        aliases: &[":q", ":exit"],
        usage: ":quit",
        summary: "leave the shell (Ctrl-D does too)",
        details: "In a script, stops it there.",
    },
    Command {
        name: ":list",
        aliases: &[":ls"],
        usage: ":list",
        summary: "list every function: parameters, version, state, defining entry",
        details: "Builtins are summed up on the last line.",
    },
    Command {
        name: ":show",
        aliases: &[],
        usage: ":show NAME",
        summary: "show the current source of a function or operator, and who calls it",
        details: "Operators are named `binary|` or `unary-`.",
    },
    Command {
        name: ":load",
        aliases: &[],
        usage: ":load FILE",
        summary: "run a .kal script into this session",
        details: "Quotes, `~` and a missing `.kal` are fine. The script stops at its first failing item.",
    },
    Command {
        name: ":save",
        aliases: &[],
        usage: ":save [--transcript] FILE",
        summary: "write a script that rebuilds the session (or, with --transcript, every entry and its output)",
        details: "`:save FILE` writes externs, globals and the current definitions, operators and callees first, \
                  each with the parse it had; `kaleido FILE` or `:load FILE` rebuilds the session. \
                  `:save --transcript FILE` writes every entry as typed with its output as `#` comments; \
                  `kaleido --keep-going FILE` replays it.",
    },
    Command {
        name: ":reset",
        aliases: &[],
        usage: ":reset",
        summary: "start again with a fresh engine",
        details: "Every definition and global is gone; entry numbers go on.",
    },
    Command {
        name: ":set",
        aliases: &[],
        usage: ":set jit lazy|eager",
        summary: "change a setting (`jit`: compile definitions on first call, or when entered)",
        details: "`:set jit lazy` (the default) compiles a definition on its first call; `:set jit eager` when it \
                  is entered.",
    },
    Command {
        name: ":stats",
        aliases: &[],
        usage: ":stats",
        summary: "what compiling has cost: functions, bytes of code, time",
        details: "Counts every function compiled so far, eagerly or lazily.",
    },
];

/// The command named `word` (a name or an alias, with its colon).
pub fn command(word: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == word || c.aliases.contains(&word))
}

/// The command names (`:save`), each once, sorted.
pub fn command_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names
}

/// Whether `line` is a command line: a colon directly followed by a letter (`:show fib`, or a mistyped
/// `:shwo`, which then gets its "did you mean"). A line such as `: b`, a `:` sequence continued, is not.
pub fn is_command_line(line: &str) -> bool {
    let mut chars = line.trim_start().chars();
    chars.next() == Some(':') && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Runs the command `line` (which starts with `:`), recording it in the transcript.
pub fn run_command(session: &mut Session, line: &str) -> Next {
    run_command_at(session, line, None)
}

/// As [`run_command`]; an error is prefixed with `location` (`fib.kal:3`) when given.
pub fn run_command_at(session: &mut Session, line: &str, location: Option<&str>) -> Next {
    session.transcript.begin();
    let next = match run_unrecorded(session, line) {
        Ok(next) => next,
        Err(message) => {
            let prefix = location.map(|l| format!("{l}: ")).unwrap_or_default();
            let _ = writeln!(session.err, "{prefix}error: {message}");
            Next::Failed
        }
    };
    session.transcript.end(line, StepKind::Command);
    next
}

fn run_unrecorded(session: &mut Session, line: &str) -> Result<Next, String> {
    let line = line.trim();
    let (word, argument) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let argument = argument.trim();
    let Some(command) = command(word) else { return Err(unknown(word)) };
    match command.name {
        ":help" => help(session, argument),
        ":quit" => return Ok(Next::Quit),
        ":list" => list(session),
        ":show" => show(session, argument),
        ":load" => load(session, argument),
        ":save" => save(session, argument),
        ":reset" => reset(session),
        ":set" => set(session, argument),
        ":stats" => stats(session),
        other => Err(format!("`{other}` is not available here")),
    }?;
    Ok(Next::Continue)
}

fn help(session: &mut Session, argument: &str) -> Result<(), String> {
    if !argument.is_empty() {
        let word = if argument.starts_with(':') { argument.to_string() } else { format!(":{argument}") };
        let found = command(&word).ok_or_else(|| unknown(&word))?;
        let aliases = match found.aliases {
            [] => String::new(),
            aliases => format!(" (also {})", aliases.join(", ")),
        };
        let text = format!("{}{aliases}\n  {}\n\n{}\n", found.usage, found.summary, wrap(found.details, 100));
        return write_out(session, &text);
    }
    let mut text =
        String::from("Enter definitions (`def f(x) x * 2`), externs, globals (`var x = 1`) or expressions.\n");
    text.push_str("An unfinished entry continues on the next line. Commands (`:help NAME` for more):\n");
    let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
    for command in COMMANDS {
        text.push_str(&format!("  {:<width$}  {}\n", command.usage, command.summary));
    }
    write_out(session, &text)
}

/// `text` broken into lines of at most `width` columns, at spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
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
