//! Shell commands: `:help`, `:quit`, `:list`, `:show`, `:load`, `:save`, `:reset`, `:set`, `:stats`.
//!
//! Commands are parsed by hand (a word and an argument); anything else starting with `:` is an unknown
//! command, reported with the nearest known one.

use std::io::Write;

use kaleido_engine::JitMode;
use kaleido_engine::inspect;

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
        usage: ":list [PATTERN]",
        summary: "list functions and globals: parameters, version, kind, compiled, defining entry",
        details: "A glob narrows the list (`:list f*`, `:list binary?`). A row ends with what will fail: \
                  `[stale: ring takes 2, passes 1]` for a call whose callee now has another arity, \
                  `[calls undefined `g`]`. Names only ever called get no row. Past 40 rows the rest are \
                  counted. Builtins are summed up on the last line.",
    },
    Command {
        name: ":show",
        aliases: &[],
        usage: ":show NAME[@K]",
        summary: "every version of a function (or version K), its callers and callees; or a global",
        details: "Each version shows its number, the entry that defined it (`<repl:3>` or `FILE:LINE`), \
                  whether it is current or retired and compiled, and its source. Operators are named by \
                  symbol (`:show >`, `:show unary-`). For a global (`:show x`): its value and which \
                  functions read and write it.",
    },
    Command {
        name: ":diff",
        aliases: &[],
        usage: ":diff NAME [A B]",
        summary: "a line diff between two versions of a function (the last two by default)",
        details: "`:diff fib` compares the last two versions; `:diff fib 1 3` versions 1 and 3.",
    },
    Command {
        name: ":deps",
        aliases: &[],
        usage: ":deps NAME [--dot]",
        summary: "what a function calls and what calls it, directly and through others",
        details: "Builtins, externs and the top-level entries that called it are included. With `--dot`, \
                  a Graphviz graph (`dot -Tsvg`): stale calls in red, builtins and externs dashed.",
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
        ":list" => list(session, argument),
        ":diff" => diff(session, argument),
        ":deps" => deps(session, argument),
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

fn list(session: &mut Session, pattern: &str) -> Result<(), String> {
    let text = inspect::list(session.engine(), (!pattern.is_empty()).then_some(pattern));
    write_out(session, &text)
}

fn show(session: &mut Session, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`:show` needs a name, e.g. `:show fib`, `:show fib@2`, `:show >` or `:show x`".to_string());
    }
    let text = inspect::show(session.engine(), name)?;
    write_out(session, &text)
}

fn diff(session: &mut Session, argument: &str) -> Result<(), String> {
    let words: Vec<&str> = argument.split_whitespace().collect();
    let number = |word: &str| word.parse::<u32>().map_err(|_| format!("`{word}` is not a version number"));
    let (name, versions) = match words.as_slice() {
        [name] => (*name, None),
        [name, a, b] => (*name, Some((number(a)?, number(b)?))),
        _ => return Err("usage: `:diff NAME` (the last two versions) or `:diff NAME A B`".to_string()),
    };
    let text = inspect::diff(session.engine(), name, versions)?;
    write_out(session, &text)
}

fn deps(session: &mut Session, argument: &str) -> Result<(), String> {
    let words: Vec<&str> = argument.split_whitespace().collect();
    let (name, dot) = match words.as_slice() {
        [name] => (*name, false),
        [name, "--dot"] | ["--dot", name] => (*name, true),
        _ => return Err("usage: `:deps NAME` or `:deps NAME --dot` (a Graphviz graph)".to_string()),
    };
    let text = inspect::deps(session.engine(), name, dot)?;
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
