//! Shell commands: `:help`, `:quit`, `:list`, `:show`, `:load`, `:save`, `:reset`, `:set`, `:stats`.
//!
//! Commands are parsed by hand (a word and an argument); anything else starting with `:` is an unknown
//! command, reported with the nearest known one.

use std::io::Write;

use kaleido_engine::JitMode;
use kaleido_engine::{ListingOf, disasm, inspect};

mod files;

pub use files::{MAX_LOAD_DEPTH, run_file, script_path, session_script, write_atomically};
use files::{load, save};

use crate::session::{Session, ShowCode};
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
    /// Whether running it again is part of rebuilding the session (it changes the session, rather than
    /// only showing it or writing a file): a transcript keeps it live.
    pub replays: bool,
}

/// Every command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":help",
        aliases: &[":h", ":?"],
        usage: ":help [COMMAND]",
        summary: "list the commands, or explain one",
        details: "`:help show` (or `:help :show`) explains `:show`.",
        replays: false,
    },
    Command {
        name: ":quit",
        aliases: &[":q", ":exit"],
        usage: ":quit",
        summary: "leave the shell (Ctrl-D does too)",
        details: "In a script, stops it there.",
        replays: false,
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
        replays: false,
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
        replays: false,
    },
    Command {
        name: ":diff",
        aliases: &[],
        usage: ":diff NAME [A B]",
        summary: "a line diff between two versions of a function (the last two by default)",
        details: "`:diff fib` compares the last two versions; `:diff fib 1 3` versions 1 and 3.",
        replays: false,
    },
    Command {
        name: ":deps",
        aliases: &[],
        usage: ":deps NAME [--dot]",
        summary: "what a function calls and what calls it, directly and through others",
        details: "Builtins, externs and the top-level entries that called it are included. With `--dot`, \
                  a Graphviz graph (`dot -Tsvg`): stale calls in red, builtins and externs dashed.",
        replays: false,
    },
    Command {
        name: ":clif",
        aliases: &[],
        usage: ":clif NAME[@K] | EXPR",
        summary: "the Cranelift IR of a function's version, or of an expression's top-level code",
        details: "A lazy definition not compiled yet is compiled now (and says so). A retired version, or \
                  an expression, is compiled for the listing and thrown away: nothing changes.",
        replays: false,
    },
    Command {
        name: ":asm",
        aliases: &[],
        usage: ":asm NAME[@K] | EXPR",
        summary: "the machine code of a function's version (or an expression), annotated",
        details: "Disassembled with iced-x86. Addresses are named (`slot fib/1`, `builtin sin`, `abort \
                  word`); comments mark the stack and interrupt check, each call through a slot (which \
                  function and arity), the abort test after it, and direct self-calls. The current \
                  version's code is the code that runs; a lazy one is compiled now.",
        replays: false,
    },
    Command {
        name: ":undo",
        aliases: &[],
        usage: ":undo [NAME]",
        summary: "make the previous version of NAME current again (or undo the last entry's definitions)",
        details: "Undo is a redefinition with the previous version's source: a new version, shown like a \
                  redefinition, and itself undoable. `:undo` alone undoes every definition the last \
                  defining entry made (forgetting those it defined first). Globals are values, not \
                  definitions: undo never changes them, and says so.",
        replays: true,
    },
    Command {
        name: ":forget",
        aliases: &[],
        usage: ":forget NAME",
        summary: "remove a function: calls to it raise \"not defined\" from now on",
        details: "Its versions stay visible in `:show`. Forgetting an operator removes it from the grammar.",
        replays: true,
    },
    Command {
        name: ":compile",
        aliases: &[],
        usage: ":compile [NAME|all]",
        summary: "compile deferred (lazy) definitions now instead of on their first call",
        details: "`:compile` or `:compile all` compiles every definition not compiled yet; `:compile fib` one.",
        replays: true,
    },
    Command {
        name: ":modules",
        aliases: &[],
        usage: ":modules",
        summary: "every entry's module: what it made, bytes of machine code, live or freed",
        details: "Each entry is compiled as a Cranelift module of its own. Its code stays live while a \
                  definition it compiled is current; top-level code is freed once it has run.",
        replays: false,
    },
    Command {
        name: ":table",
        aliases: &[],
        usage: ":table [NAME]",
        summary: "the indirection table: each slot (name/arity), its address, and where it points now",
        details: "Callers call through a slot, so redefining a function repoints its slot and every caller \
                  sees the new code. A slot points at a version's code, the lazy stub (compile on first \
                  call), a not-defined stub, or a wrong-arity stub.",
        replays: false,
    },
    Command {
        name: ":time",
        aliases: &[],
        usage: ":time ENTRY",
        summary: "run an entry and say where its time went: analyzing, compiling (how many functions), running",
        details: "Functions compiled lazily while it ran are counted and timed too. `:set timing on` does \
                  this for every entry.",
        replays: true,
    },
    Command {
        name: ":load",
        aliases: &[],
        usage: ":load FILE",
        summary: "run a .kal script into this session",
        details: "Quotes, `~` and a missing `.kal` are fine. The script stops at its first failing item.",
        replays: true,
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
        replays: false,
    },
    Command {
        name: ":reset",
        aliases: &[],
        usage: ":reset",
        summary: "start again with a fresh engine",
        details: "Every definition and global is gone; entry numbers go on.",
        replays: true,
    },
    Command {
        name: ":set",
        aliases: &[],
        usage: ":set jit lazy|eager | tier baseline|optimized | show clif|asm|off | timing on|off | trace-tiers on|off",
        summary: "when definitions compile (`jit`); print each new definition's IR or machine code (`show`)",
        details: "`:set jit lazy` (the default) compiles a definition on its first call; `:set jit eager` when it \
                  is entered. `:set show asm` prints the annotated machine code of every new definition as \
                  it is compiled (a lazy one is compiled at once to show it), `:set show clif` its \
                  Cranelift IR, as the LLVM tutorial's REPL prints IR; `:set show off` stops. \
                  `kaleido --emit asm FILE` does the same for a script. `:set timing on` reports where every \
                  entry's time goes, as `:time` does for one. `:set trace-tiers on` prints a line each time \
                  a hot function is recompiled by the optimizing tier (with what it inlined) and each time \
                  one goes back to the baseline because a function it inlined changed.",
        replays: true,
    },
    Command {
        name: ":stats",
        aliases: &[],
        usage: ":stats",
        summary: "what compiling has cost: functions, bytes of code, time",
        details: "Counts every function compiled so far, eagerly or lazily.",
        replays: false,
    },
];

/// The command named `word` (with its colon): a name, an alias, or the start of exactly one command's
/// name (`:sh` is `:show`; `:s` could be `:show`, `:save`, `:set` or `:stats`, so it is none of them).
pub fn command(word: &str) -> Option<&'static Command> {
    if let Some(exact) = COMMANDS.iter().find(|c| c.name == word || c.aliases.contains(&word)) {
        return Some(exact);
    }
    let mut starting = COMMANDS.iter().filter(|c| word.len() > 1 && c.name.starts_with(word));
    match (starting.next(), starting.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// The command names (`:save`), each once, sorted.
pub fn command_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names
}

/// Whether `line` is a command line: a colon, then a command's name, an alias or the start of exactly one
/// command's name (see [`command`]), then the end of the line or a blank. Anything else that starts with a
/// colon is code: the prelude's unary `:` (`:if x then 1 else 2`), or a `:` sequence continued (`: b`).
/// A mistyped command (`:shwo fib`) is code too, whose error then suggests the command (see
/// [`command_typo`]). The shell, scripts, `:time` and notebook cells all decide with this one function.
pub fn is_command_line(line: &str) -> bool {
    command_word(line).is_some_and(|word| command(word).is_some())
}

/// The word a line would name a command with: `:show` of `:show fib`, if the line starts with a colon
/// and a letter (or is `:?`).
fn command_word(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let word = line.split(char::is_whitespace).next().unwrap_or("");
    let mut chars = word.chars();
    (chars.next() == Some(':') && (word == ":?" || chars.next().is_some_and(|c| c.is_ascii_alphabetic())))
        .then_some(word)
}

/// The command a line of code that failed to compile was probably meant to be, for a hint after its
/// error: the first line that starts with a colon and a word of letters a typo away from a command's name
/// (`:shwo fib` gives `:shwo` and `:show`; it may have joined the item before it, as a `:` sequence).
pub fn command_typo(text: &str) -> Option<(&str, String)> {
    text.lines().find_map(|line| {
        let word = command_word(line).filter(|word| word[1..].chars().all(|c| c.is_ascii_alphabetic()))?;
        let (names, distance) = meant(word);
        (distance <= 2 && distance < word.len() - 1).then(|| (word, listed(&names)))
    })
}

/// The commands `word` (with its colon) was probably meant as, and how far it is from them: every
/// command it starts (`:l` gives `:list` and `:load`, at distance 0), or else the nearest name.
fn meant(word: &str) -> (Vec<&'static str>, usize) {
    let names = command_names();
    let starting: Vec<&'static str> = names.iter().copied().filter(|name| name.starts_with(word)).collect();
    if !starting.is_empty() {
        return (starting, 0);
    }
    // Optimal string alignment: swapping two neighbouring letters, the commonest typo, is one edit.
    let nearest = names.iter().copied().map(|name| (strsim::osa_distance(word, name), name)).min();
    nearest.map_or((vec![":help"], usize::MAX), |(distance, name)| (vec![name], distance))
}

/// `names` for a sentence: "`:list`", "`:list` or `:load`".
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => quoted.concat(),
    }
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
    let replays = command_word(line).and_then(command).is_some_and(|c| c.replays);
    session.transcript.end(line, StepKind::Command { replays });
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
        ":clif" => code(session, argument, false),
        ":asm" => code(session, argument, true),
        ":compile" => compile(session, argument),
        ":modules" => write_out(session, &inspect::modules(session.engine())),
        ":table" => {
            let text = inspect::table(session.engine(), (!argument.is_empty()).then_some(argument));
            write_out(session, &text)
        }
        ":time" => time(session, argument),
        ":undo" => undo(session, argument),
        ":forget" => forget(session, argument),
        ":show" => show(session, argument),
        ":load" => load(session, argument),
        ":save" => save(session, argument),
        ":reset" => reset(session),
        ":set" => set(session, argument),
        ":stats" => stats(session),
        other => Err(format!("`{other}` is not available here")),
    }?;
    // `:undo`, `:forget` and `:compile` can change tiers too.
    session.show_tier_events();
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

/// `:clif`/`:asm`: a function's version (`fib`, `fib@2`, `>`) or, for anything else, an expression.
fn code(session: &mut Session, argument: &str, asm: bool) -> Result<(), String> {
    if argument.is_empty() {
        let command = if asm { ":asm" } else { ":clif" };
        return Err(format!("usage: `{command} NAME[@K]` or `{command} EXPRESSION`, e.g. `{command} fib(30)`"));
    }
    let what = match inspect::resolve(session.engine(), argument) {
        Ok(inspect::Target::Function(info, version)) => ListingOf::Function { name: info.name.clone(), version },
        Ok(inspect::Target::Global(..)) | Err(_) => ListingOf::Expression(argument.to_string()),
    };
    let listing = session.engine_mut().listing(&what)?;
    let text =
        if asm { disasm::asm_text(session.engine(), &listing) } else { disasm::clif_text(session.engine(), &listing) };
    write_out(session, &text)
}

/// `:undo [NAME]`: the previous version of NAME, or of everything the last defining entry defined.
fn undo(session: &mut Session, argument: &str) -> Result<(), String> {
    if !argument.is_empty() {
        let name = resolve_function(session, argument)?;
        return session.undo(&name);
    }
    let engine = session.engine();
    let current =
        |f: &&kaleido_engine::FunctionInfo| f.kind == kaleido_engine::FunctionKind::User && f.current().is_some();
    let last = (engine.index().functions().filter(current)).filter_map(|f| f.current()).map(|v| v.entry).max();
    let Some(last) = last else { return Err("there is no definition to undo".to_string()) };
    let names: Vec<(String, u32)> = (engine.index().functions().filter(current))
        .filter_map(|f| f.current().filter(|v| v.entry == last).map(|v| (f.name.clone(), v.number)))
        .collect();
    let globals: Vec<String> = (engine.modules().iter().filter(|m| m.entry == last))
        .flat_map(|m| {
            m.made.iter().filter_map(|made| match made {
                kaleido_engine::Made::Global(name) => Some(name.clone()),
                _ => None,
            })
        })
        .collect();
    for (name, version) in names {
        if version > 1 {
            session.undo(&name)?;
        } else {
            session.engine_mut().forget(&name)?;
            write_out(session, &format!("forgot {name} (it had one version)\n"))?;
        }
    }
    if !globals.is_empty() {
        let note = format!("globals keep their values (undo does not restore values): {}\n", globals.join(", "));
        write_out(session, &note)?;
    }
    Ok(())
}

/// `:forget NAME`: removes a function.
fn forget(session: &mut Session, argument: &str) -> Result<(), String> {
    if argument.is_empty() {
        return Err("usage: `:forget NAME`".to_string());
    }
    let name = resolve_function(session, argument)?;
    session.engine_mut().forget(&name)?;
    let callers: Vec<String> = session.engine().index().callers_of(&name).into_iter().map(|(c, _)| c).collect();
    let note = match callers.len() {
        0 => String::new(),
        _ => format!("; calls from {} now raise \"not defined\"", kaleido_lang::diagnostic::some_of(&callers)),
    };
    write_out(session, &format!("forgot {name}{note}\n"))
}

/// `:time ENTRY`: runs the entry and says where its time went.
fn time(session: &mut Session, argument: &str) -> Result<(), String> {
    if argument.is_empty() {
        return Err("usage: `:time ENTRY`, e.g. `:time fib(30)` (`:set timing on` times every entry)".to_string());
    }
    if is_command_line(argument) {
        let word = argument.split_whitespace().next().unwrap_or(argument);
        return Err(format!(
            "`{word}` is a command, not an entry: `:time` runs and times code (`:time fib(30)`); `:set timing on` \
             times every entry"
        ));
    }
    session.eval_timed(argument);
    Ok(())
}

/// `:compile [NAME|all]`: compiles deferred definitions now.
fn compile(session: &mut Session, argument: &str) -> Result<(), String> {
    let names: Vec<String> = match argument {
        "" | "all" => (session.engine().index().functions())
            .filter(|f| f.state == kaleido_engine::FunctionState::Defined && !f.is_compiled())
            .filter(|f| matches!(f.kind, kaleido_engine::FunctionKind::User | kaleido_engine::FunctionKind::Prelude))
            .map(|f| f.name.clone())
            .collect(),
        name => vec![resolve_function(session, name)?],
    };
    let mut compiled = Vec::new();
    for name in names {
        if session.engine_mut().compile_now(&name)? {
            compiled.push(name);
        }
    }
    let text = match compiled.as_slice() {
        [] => "nothing to compile: every definition asked for is compiled already\n".to_string(),
        names => format!(
            "compiled {} definition{}: {}\n",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
    };
    write_out(session, &text)
}

fn resolve_function(session: &Session, name: &str) -> Result<String, String> {
    match inspect::resolve(session.engine(), name)? {
        inspect::Target::Function(info, _) => Ok(info.name.clone()),
        inspect::Target::Global(name, _) => Err(format!("`{name}` is a global, not a function")),
    }
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
        (Some("tier"), Some(tier), None) => {
            let tier: kaleido_engine::Tier = tier.parse()?;
            session.set_tier(tier)?;
            let what = match tier {
                kaleido_engine::Tier::Baseline => "cheap to compile (opt_level none, single-pass register allocation)",
                kaleido_engine::Tier::Optimized => "optimized (opt_level speed, backtracking register allocation)",
            };
            write_out(session, &format!("tier {tier}: code compiled from now on is {what}\n"))
        }
        (Some("timing"), Some(switch @ ("on" | "off")), None) => {
            session.set_timing(switch == "on");
            write_out(session, &format!("timing {switch}\n"))
        }
        (Some("trace-tiers"), Some(switch @ ("on" | "off")), None) => {
            session.set_trace_tiers(switch == "on");
            let what = match switch {
                "on" => "every recompile by the optimizing tier and every invalidation will be shown",
                _ => "tier changes are no longer shown (:stats counts them)",
            };
            write_out(session, &format!("trace-tiers {switch}: {what}\n"))
        }
        (Some("show"), Some(what), None) => {
            let show: ShowCode = what.parse()?;
            session.set_show_code(show);
            let text = match show {
                ShowCode::Off => "new definitions are shown without their code\n".to_string(),
                _ => format!("the {what} of every new definition will be shown as it is compiled\n"),
            };
            write_out(session, &text)
        }
        _ => Err("usage: `:set jit lazy|eager`, `:set tier baseline|optimized`, `:set show clif|asm|off`, \
                  `:set timing on|off` or `:set trace-tiers on|off`"
            .to_string()),
    }
}

fn stats(session: &mut Session) -> Result<(), String> {
    let engine = session.engine();
    let stats = engine.stats();
    let text = format!(
        "jit mode: {}, tier: {}\nfunctions compiled: {}\nhot functions recompiled by the optimizing tier: {}\noptimized functions sent back to the baseline (a function they inlined changed): {}\nmachine code generated: {} bytes\ntime compiling: {:.3} ms\ncode memory in use: {} bytes (high-water mark {} bytes)\n",
        engine.jit_mode(),
        engine.tier(),
        stats.functions,
        stats.tier_ups,
        stats.invalidations,
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
    let (names, _) = meant(word);
    format!("unknown command `{word}`; did you mean {}? (`:help` lists the commands)", listed(&names))
}

fn write_out(session: &mut Session, text: &str) -> Result<(), String> {
    session.out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}
