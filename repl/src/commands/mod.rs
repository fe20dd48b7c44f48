//! Shell commands: `:help`, `:quit`, `:list`, `:show`, `:load`, `:save`, `:reset`, `:set`, `:stats`.
//!
//! Commands are parsed by hand (a word and an argument); anything else starting with `:` is an unknown
//! command, reported with the nearest known one.

use std::io::Write;

use kaleido_engine::{JitMode, ListingOf};
use kaleido_view::{disasm, inspect, report};

mod files;
pub mod plot;
pub mod table;

use files::{load, save};
pub use files::{script_path, session_script, write_atomically};
pub use table::{COMMANDS, Command, command, command_names, command_typo, is_command_line};
use table::{command_word, listed, meant};

use crate::presenter::EntryStatus;
use crate::session::{Session, ShowCode};
use crate::transcript::StepKind;

/// What a command leaves for the evaluation loop to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Nothing: the command did all it does.
    Done,
    /// Leave the shell, or stop the script.
    Quit,
    /// Run this text as part of the source, and report where its time went (`:time`).
    Time(String),
    /// Run this code as part of the source, and label what it draws (`:plot`).
    Plot(plot::PlotRequest),
    /// Run this file's text as a script (`:load`).
    Load {
        /// The file.
        file: std::path::PathBuf,
        /// Its name as given.
        shown: String,
        /// Its text.
        text: String,
    },
}

/// What happens after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Go on (read the next entry, or run the next item of a script).
    Continue,
    /// The command failed (its error was shown); go on all the same in the shell.
    Failed,
    /// Code the command ran (`:plot`'s) stopped with this failure, which was shown.
    Stopped(EntryStatus),
    /// Leave the shell, or stop the script.
    Quit,
}

/// Runs the command `line`, recording it in the transcript; its error comes back, to be reported by the
/// evaluation loop (which knows where the line is).
pub(crate) fn run_command_unreported(session: &mut Session, line: &str) -> Result<Action, String> {
    session.transcript.begin();
    let result = run_unrecorded(session, line);
    let replays = command_word(line).and_then(command).is_some_and(|c| c.replays);
    session.transcript.end(line, StepKind::Command { replays });
    result
}

fn run_unrecorded(session: &mut Session, line: &str) -> Result<Action, String> {
    let line = line.trim();
    let (word, argument) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let argument = argument.trim();
    let Some(command) = command(word) else { return Err(unknown(word)) };
    match command.name {
        ":help" => help(session, argument),
        ":quit" => return Ok(Action::Quit),
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
        ":time" => return time(argument),
        ":plot" => return plot::plot_request(argument).map(Action::Plot),
        ":undo" => undo(session, argument),
        ":forget" => forget(session, argument),
        ":show" => show(session, argument),
        ":load" => return load(session, argument),
        ":lib" => lib(session, argument),
        ":executor" => executor(session, argument),
        ":save" => save(session, argument),
        ":reset" => reset(session),
        ":set" => set(session, argument),
        ":stats" => stats(session),
        other => Err(format!("`{other}` is not available here")),
    }?;
    Ok(Action::Done)
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
        Ok(inspect::Target::Function(info, version)) => ListingOf::Function { name: info.name.to_string(), version },
        Ok(inspect::Target::Global(..)) | Err(_) => ListingOf::Expression(argument.to_string()),
    };
    let listing = session.engine_mut().listing(&what).map_err(|e| e.to_string())?;
    let text =
        if asm { disasm::asm_text(session.engine(), &listing) } else { disasm::clif_text(session.engine(), &listing) };
    write_out(session, &text)
}

/// `:undo [NAME]`: the previous version of NAME, or of everything the last defining source defined (a
/// shell line or a cell runs each item as an entry of its own, all under the source's name: they are
/// undone together).
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
    // The run of entries around the last defining one that share its name: its source's items.
    let source = engine.entry_name(last);
    let same = |id: u32| engine.entry_name(kaleido_engine::EntryId(id)) == source;
    let (mut first, mut end) = (last.0, last.0);
    while first > 1 && same(first - 1) {
        first -= 1;
    }
    while same(end + 1) {
        end += 1;
    }
    let of_source = |entry: kaleido_engine::EntryId| (first..=end).contains(&entry.0);
    let names: Vec<(String, u32)> = (engine.index().functions().filter(current))
        .filter_map(|f| f.current().filter(|v| of_source(v.entry)).map(|v| (f.name.to_string(), v.number)))
        .collect();
    let globals: Vec<String> = (engine.modules().iter().filter(|m| of_source(m.entry)))
        .flat_map(|m| {
            m.made.iter().filter_map(|made| match made {
                kaleido_engine::Made::Global(name) => Some(name.to_string()),
                _ => None,
            })
        })
        .collect();
    for (name, version) in names {
        if version > 1 {
            session.undo(&name)?;
        } else {
            session.engine_mut().forget(&name).map_err(|e| e.to_string())?;
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
    session.engine_mut().forget(&name).map_err(|e| e.to_string())?;
    let callers: Vec<String> = session.engine().index().callers_of(&name).into_iter().map(|(c, _)| c).collect();
    let note = match callers.len() {
        0 => String::new(),
        _ => format!("; calls from {} now raise \"not defined\"", kaleido_lang::diagnostic::some_of(&callers)),
    };
    write_out(session, &format!("forgot {name}{note}\n"))
}

/// `:time ENTRY`: runs the entry (the evaluation loop does) and says where its time went.
fn time(argument: &str) -> Result<Action, String> {
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
    Ok(Action::Time(argument.to_string()))
}

/// `:compile [NAME|all]`: compiles deferred definitions now.
fn compile(session: &mut Session, argument: &str) -> Result<(), String> {
    let names: Vec<String> = match argument {
        "" | "all" => (session.engine().index().functions())
            .filter(|f| f.state == kaleido_engine::FunctionState::Defined && !f.is_compiled())
            .filter(|f| matches!(f.kind, kaleido_engine::FunctionKind::User | kaleido_engine::FunctionKind::Prelude))
            .map(|f| f.name.to_string())
            .collect(),
        name => vec![resolve_function(session, name)?],
    };
    let mut compiled = Vec::new();
    for name in names {
        if session.engine_mut().compile_now(&name).map_err(|e| e.to_string())? {
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
        inspect::Target::Function(info, _) => Ok(info.name.to_string()),
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
            let mode: JitMode = mode.parse().map_err(|e: kaleido_engine::UnknownOption| e.to_string())?;
            session.set_jit_mode(mode);
            let when = match mode {
                JitMode::Lazy => "when they are called again (a first call runs in tier 0, evaluated)",
                JitMode::Eager => "when they are entered",
            };
            write_out(session, &format!("jit mode {mode}: definitions are compiled {when}\n"))
        }
        (Some("tier"), Some(tier), None) => {
            let tier: kaleido_engine::Tier = tier.parse().map_err(|e: kaleido_engine::UnknownOption| e.to_string())?;
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
        (Some("pictures"), Some("off"), None) => {
            session.pictures = None;
            write_out(session, "pictures are no longer written to files\n")
        }
        (Some("pictures"), Some(_), _) => {
            let dir = argument.trim_start().strip_prefix("pictures").unwrap_or_default().trim();
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot use {dir} for pictures: {e}"))?;
            session.pictures = Some((dir.into(), 0));
            write_out(session, &format!("every picture will also be written to {dir} as a PNG file\n"))
        }
        _ => Err("usage: `:set jit lazy|eager`, `:set tier baseline|optimized`, `:set show clif|asm|off`, \
                  `:set timing on|off`, `:set trace-tiers on|off` or `:set pictures DIR|off`"
            .to_string()),
    }
}

fn stats(session: &mut Session) -> Result<(), String> {
    let text = report::stats_text(session.engine());
    write_out(session, &text)
}

fn reset(session: &mut Session) -> Result<(), String> {
    session.reset().map_err(|e| e.to_string())?;
    let libraries = match session.engine().libraries().len() {
        0 => "",
        _ => " (the C libraries loaded stay loaded)",
    };
    write_out(session, &format!("the session was reset: every definition and global is gone{libraries}\n"))
}

/// `:executor [restart]`: where code runs, or a new executor.
fn executor(session: &mut Session, argument: &str) -> Result<(), String> {
    match argument {
        "" => {}
        "restart" => match session.engine().executor_info().mode {
            kaleido_engine::ExecutorMode::InProcess => {
                return Err("code runs in this process (`kaleido --executor process` runs it in another)".into());
            }
            kaleido_engine::ExecutorMode::Process | kaleido_engine::ExecutorMode::Command(_) => {
                session.engine_mut().restart_executor().map_err(|e| format!("no executor could be started: {e}"))?;
                return write_out(session, "a new executor was started\n");
            }
        },
        other => return Err(format!("`:executor {other}`: use `:executor` or `:executor restart`")),
    }
    let text = format!("{}\n", report::executor_text(&session.engine().executor_info()));
    write_out(session, &text)
}

/// `:lib [PATH]`: loads a C library, so `extern` can bind its functions; with no path, lists them.
fn lib(session: &mut Session, argument: &str) -> Result<(), String> {
    if argument.is_empty() {
        let libraries = session.engine().libraries();
        let text = match libraries {
            [] => "no C library is loaded (`:lib PATH` loads one)\n".to_string(),
            paths => paths.iter().map(|path| format!("{}\n", path.display())).collect(),
        };
        return write_out(session, &text);
    }
    let path = files::file_path(argument);
    let new = session.engine_mut().load_library(&path).map_err(|e| e.to_string())?;
    let text = match new {
        true => format!("loaded {argument}: `extern NAME(PARAMS)` binds its functions\n"),
        false => format!("{argument} is loaded already\n"),
    };
    write_out(session, &text)
}

fn unknown(word: &str) -> String {
    let (names, _) = meant(word);
    format!("unknown command `{word}`; did you mean {}? (`:help` lists the commands)", listed(&names))
}

fn write_out(session: &mut Session, text: &str) -> Result<(), String> {
    session.out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}
