//! The command table, and how a line is recognised as a command (the one rule the shell, scripts,
//! `:time` and notebook cells share), with the hints for a command mistyped. Knows nothing of a session,
//! so the session can ask it about a line without depending on the commands that use the session.

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
        summary: "make the previous version of NAME current again (or undo the last line's definitions)",
        details: "Undo is a redefinition with the previous version's source: a new version, shown like a \
                  redefinition, and itself undoable. `:undo` alone undoes every definition made by the last \
                  source that defined something (a shell line, a cell, or a script's line), forgetting \
                  those it defined first. Globals are values, not definitions: undo never changes them, \
                  and says so.",
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
        name: ":plot",
        aliases: &[],
        usage: ":plot EXPR[, EXPR...] for x in A..B[, y in C..D]",
        summary: "draw expressions: lines over one range, a heat map over two",
        details: "`:plot sin(x), cos(x) for x in -3..3` draws a line per expression (401 points each); \
                  `:plot sin(x) * y for x in -3..3, y in -2..2` colours a 121 × 121 grid by the expression's \
                  value. The expressions may call any function of the session; `:plot` runs them as an entry \
                  of its own. In a notebook the picture is an image; in the shell it is drawn in braille or \
                  shades (`:set pictures DIR` also writes each picture as a PNG file). Programs draw too, \
                  with `pixel(x, y, v)` and `plotpoint(line, x, y)`.",
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
        name: ":executor",
        aliases: &[],
        usage: ":executor [restart]",
        summary: "where code runs (this process, or an executor process), or start a new executor",
        details: "With `kaleido --executor process` (the notebook's default) code runs in a child process: when \
                  it crashes, aborts or exits, the entry fails saying how, and a new executor starts with \
                  every definition, and every global as after the last completed entry. After 5 such ends in \
                  a row no new one is started until `:executor restart`.",
        replays: false,
    },
    Command {
        name: ":lib",
        aliases: &[],
        usage: ":lib [PATH]",
        summary: "load a C library so `extern` can bind its functions (with no path, list them)",
        details: "`:lib ./libgeom.so`, then `extern hypot3(x y z)`. A path with no `/` is searched as the \
                  dynamic loader searches (`:lib libm.so.6`). Its functions must take and return doubles. \
                  The library stays loaded (also across `:reset`); `:save` writes a `:lib` line for it. \
                  `kaleido --lib PATH` loads one at start-up.",
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
pub(super) fn command_word(line: &str) -> Option<&str> {
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
pub(super) fn meant(word: &str) -> (Vec<&'static str>, usize) {
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
pub(super) fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => quoted.concat(),
    }
}
