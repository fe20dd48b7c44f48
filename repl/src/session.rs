//! A session: one engine, the entry counter, and how outcomes are shown to people.
//!
//! The shell and the script runner show the same things in the same format; they differ only in what a
//! script leaves out (definitions print nothing in a script) and in how an entry is named.

use std::io::Write;

pub use kaleido_engine::present::SourceText;
use kaleido_engine::present::describe_item;
use kaleido_engine::{
    Engine, EngineOptions, Event, ItemOutcome, JitMode, Outcome, Rejected, RuntimeErrorKind, format_value, io_reason,
};
use kaleido_engine::{ListingOf, Tier, TierEvent, disasm, undo_entry_name};
use kaleido_lang::Span;
use kaleido_lang::token::TokenKind;

use crate::transcript::{StepKind, Transcript};

/// Where a session's entries come from, which decides what is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The interactive shell: definitions are acknowledged.
    Shell,
    /// A script or a pipe: only values, warnings and errors.
    Script,
}

/// How a session starts and what it shows.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Load the prelude of operators.
    pub prelude: bool,
    /// Do not print values of top-level expressions.
    pub quiet: bool,
    /// When definitions are compiled.
    pub jit: JitMode,
    /// Colour diagnostics (on a terminal, unless `NO_COLOR` is set).
    pub color: bool,
    /// Print the code of every new definition (`:set show`, `--emit`).
    pub show_code: ShowCode,
    /// Report where every entry's time went (`:set timing on`).
    pub timing: bool,
    /// Write `/tmp/perf-PID.map` for profilers (`--perf-map`).
    pub perf_map: bool,
    /// How much Cranelift optimizes (`--tier`).
    pub tier: Tier,
}

/// Which code to print for every new definition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShowCode {
    /// None (the default).
    #[default]
    Off,
    /// Its Cranelift IR.
    Clif,
    /// Its machine code, annotated.
    Asm,
}

impl std::str::FromStr for ShowCode {
    type Err = String;

    fn from_str(text: &str) -> Result<ShowCode, String> {
        match text {
            "off" => Ok(ShowCode::Off),
            "clif" => Ok(ShowCode::Clif),
            "asm" => Ok(ShowCode::Asm),
            other => Err(format!("`{other}` is not `clif`, `asm` or `off`")),
        }
    }
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            prelude: true,
            quiet: false,
            jit: JitMode::Lazy,
            color: false,
            show_code: ShowCode::Off,
            timing: false,
            perf_map: false,
            tier: Tier::Baseline,
        }
    }
}

/// How an entry ended, for exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// Everything ran.
    Ok,
    /// It was rejected (parse, check or compile error): exit code 65 in a script.
    CompileError,
    /// It stopped with a runtime error: exit code 70.
    RuntimeError,
    /// It was interrupted (Ctrl-C): exit code 130.
    Interrupted,
    /// Output could not be written (a closed pipe, a full disk): exit code 74.
    OutputFailed,
}

/// A running session: an engine and the writers its results go to.
pub struct Session {
    engine: Engine,
    options: SessionOptions,
    /// Values and acknowledgements.
    pub out: Box<dyn Write>,
    /// Warnings and errors.
    pub err: Box<dyn Write>,
    make_program_output: Box<dyn Fn() -> Box<dyn Write>>,
    entries: u32,
    /// Every shell entry and command, with what it printed (`:save --transcript`).
    pub transcript: Transcript,
    /// Report the timing of the next entry (`:time`).
    time_next: bool,
    /// How many scripts are running (a `:load` inside a script counts twice): commands then act as in a
    /// script, printing values without `Out[N]` labels.
    pub(crate) scripts_running: u32,
    /// The script files loading now, outermost first: each file's canonical path and its name as given
    /// (see `commands::run_file`).
    pub(crate) loading: Vec<(std::path::PathBuf, String)>,
}

impl Session {
    /// A session writing results to `out`, diagnostics to `err`, and program output (`putchard`,
    /// `printd`) to what `program_output` makes (called again on `:reset`).
    pub fn new(
        options: SessionOptions,
        out: Box<dyn Write>,
        err: Box<dyn Write>,
        program_output: Box<dyn Fn() -> Box<dyn Write>>,
    ) -> anyhow::Result<Session> {
        // Everything the session prints also goes to the transcript while a shell step is recorded.
        let transcript = Transcript::default();
        let recorder = transcript.recorder().clone();
        let (out, err) = (recorder.tee(out), recorder.tee(err));
        let make_program_output: Box<dyn Fn() -> Box<dyn Write>> = Box::new(move || recorder.tee(program_output()));
        let mut err = err;
        let engine = new_engine(&options, make_program_output(), &mut err)?;
        crate::interrupt::register(engine.interrupt_handle());
        Ok(Session {
            engine,
            options,
            out,
            err,
            make_program_output,
            entries: 0,
            transcript,
            time_next: false,
            scripts_running: 0,
            loading: Vec::new(),
        })
    }

    /// The engine, for queries.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine and the two writers at once (a front end that runs entries itself, as the notebook
    /// kernel does, writes while the engine runs).
    pub fn parts(&mut self) -> (&mut Engine, &mut Box<dyn Write>, &mut Box<dyn Write>) {
        (&mut self.engine, &mut self.out, &mut self.err)
    }

    /// The engine, for commands that act on it (`:compile`, `:asm` of a lazy definition).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The number the next shell entry gets (`In [3]`).
    pub fn next_entry_number(&self) -> u32 {
        self.entries + 1
    }

    /// Chooses how much Cranelift optimizes code compiled from now on (`:set tier`); kept across `:reset`.
    pub fn set_tier(&mut self, tier: Tier) -> Result<(), String> {
        self.engine.set_tier(tier)?;
        self.options.tier = tier;
        Ok(())
    }

    /// Chooses when definitions entered from now on are compiled (`:set jit lazy|eager`); kept across
    /// `:reset`.
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
        self.engine.set_jit_mode(mode);
    }

    /// Replaces the engine with a fresh one (`:reset`); entry numbers go on.
    pub fn reset(&mut self) -> anyhow::Result<()> {
        self.engine = new_engine(&self.options, (self.make_program_output)(), &mut self.err)?;
        crate::interrupt::register(self.engine.interrupt_handle());
        Ok(())
    }

    /// Shows an item's source, each line prefixed with `> ` (`--echo`).
    pub fn echo(&mut self, source: &str) {
        for line in source.trim_end().lines() {
            let _ = writeln!(self.out, "> {line}");
        }
        let _ = self.out.flush();
    }

    /// Evaluates one shell entry, named `<repl:N>`, and shows what happened.
    pub fn eval_shell_entry(&mut self, text: &str) -> EntryStatus {
        self.transcript.begin();
        let status = self.eval_shell_entry_unrecorded(text);
        let kind = if status == EntryStatus::CompileError { StepKind::Rejected } else { StepKind::Ran };
        self.transcript.end(text, kind);
        status
    }

    fn eval_shell_entry_unrecorded(&mut self, text: &str) -> EntryStatus {
        self.entries += 1;
        let name = format!("<repl:{}>", self.entries);
        let source = SourceText::new(&name, text).colored(self.options.color);
        let status = self.eval_and_show(&name, text, 0, &source, Mode::Shell);
        // Someone typing the name of a command without its colon is looking for the command.
        let hint = match text.trim().trim_end_matches(['(', ')', ';']) {
            "quit" | "exit" | "q" | "bye" => Some("type `:quit` or press Ctrl-D to leave the shell"),
            "help" | "?" => Some("type `:help` for help"),
            _ => None,
        };
        if let (EntryStatus::CompileError | EntryStatus::RuntimeError, Some(hint)) = (status, hint) {
            let _ = writeln!(self.err, "hint: {hint}");
        }
        status
    }

    /// Whether diagnostics are coloured.
    pub fn color(&self) -> bool {
        self.options.color
    }

    /// Evaluates `file.text[span]` as one entry, and shows what happened, with diagnostics pointing into
    /// the whole file.
    pub fn eval_file_item(&mut self, file: &SourceText, span: Span, mode: Mode) -> EntryStatus {
        let entry_name = format!("{}:{}", file.name, file.line_of(span.start as usize));
        self.eval_and_show(&entry_name, &file.text[span.range()], span.start as usize, file, mode)
    }

    fn eval_and_show(
        &mut self,
        entry_name: &str,
        entry: &str,
        offset: usize,
        whole: &SourceText,
        mode: Mode,
    ) -> EntryStatus {
        let quiet = self.options.quiet;
        let out = &mut self.out;
        let mut write_failed = None;
        let err = &mut self.err;
        let entry_number = self.entries;
        let mut last_value = None;
        let mut defined = Vec::new();
        let mut show = |event: Event<'_>| match event {
            // A warning is shown in place, before the item it concerns; stdout is flushed first so the two
            // streams interleave in order on a terminal.
            Event::Warning(warning) => {
                let _ = out.flush();
                let _ = err.write_all(whole.render(warning, offset).as_bytes());
                let _ = err.flush();
            }
            Event::Item(item, span) => {
                if let ItemOutcome::Defined { name, .. } = item {
                    defined.push(name.clone());
                }
                let shown = match item {
                    ItemOutcome::Value(_) if quiet => None,
                    // In the shell, a `;` after the last expression keeps its value to itself, as in
                    // IPython and Julia.
                    ItemOutcome::Value(_) if mode == Mode::Shell && silenced(&entry[span.end as usize..]) => None,
                    // The shell labels a value with its entry, so a reader can match them up.
                    ItemOutcome::Value(value) if mode == Mode::Shell => {
                        last_value = Some(*value);
                        Some(format!("Out[{}]: {}", entry_number, format_value(*value)))
                    }
                    item => describe_item(item, mode == Mode::Shell),
                };
                if let Some(line) = shown
                    && write_failed.is_none()
                    && let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush())
                {
                    write_failed = Some(error);
                }
            }
        };
        let result = self.engine.eval_observed(entry_name, entry, &mut show);
        self.show_code_of(&defined);
        // In the shell, `ans` is the last value shown (see docs/language.md).
        if let (Mode::Shell, Some(value)) = (mode, last_value) {
            self.engine.set_global("ans", value);
        }
        if let Some(error) = write_failed {
            self.report_output_failure(&io_reason(&error));
            return EntryStatus::OutputFailed;
        }
        match result {
            Err(Rejected { diagnostics }) => {
                let _ = self.err.write_all(whole.render_all(&diagnostics, offset).as_bytes());
                // `:shwo fib` is code (no command is called that), but it was surely meant as `:show`.
                if let Some((word, meant)) = crate::commands::table::command_typo(entry) {
                    let _ = writeln!(self.err, "hint: `{word}` is not a command; did you mean {meant}?");
                }
                EntryStatus::CompileError
            }
            Ok(outcome) => {
                if self.options.timing || std::mem::take(&mut self.time_next) {
                    let _ = self.out.write_all(timing_line(&outcome.timing).as_bytes());
                }
                self.show_tier_events();
                self.show_outcome(outcome, whole, offset, mode)
            }
        }
    }

    /// Shows how an entry ended (its warnings and values were shown as they came).
    fn show_outcome(&mut self, outcome: Outcome, whole: &SourceText, offset: usize, mode: Mode) -> EntryStatus {
        let Some(error) = outcome.error else { return EntryStatus::Ok };
        if let RuntimeErrorKind::OutputFailed { reason } = &error.kind {
            self.report_output_failure(reason);
            return EntryStatus::OutputFailed;
        }
        if mode == Mode::Shell && error.kind == RuntimeErrorKind::Interrupted {
            // The terminal echoed `^C` where the cursor was: end that line before the message.
            let _ = writeln!(self.err);
        }
        let _ = self.err.write_all(whole.render_runtime_error(&error, offset, &self.engine).as_bytes());
        let _ = self.err.flush();
        match error.kind {
            RuntimeErrorKind::Interrupted => EntryStatus::Interrupted,
            _ => EntryStatus::RuntimeError,
        }
    }

    /// Evaluates `text` as a shell entry and reports where its time went (`:time`).
    pub fn eval_timed(&mut self, text: &str) -> EntryStatus {
        self.time_next = true;
        let status = if self.scripts_running > 0 {
            let source = SourceText::new("<:time>", text).colored(self.options.color);
            self.eval_and_show("<:time>", text, 0, &source, Mode::Script)
        } else {
            self.eval_shell_entry_unrecorded(text)
        };
        self.time_next = false;
        status
    }

    /// Reports where every entry's time goes, or stops (`:set timing`).
    pub fn set_timing(&mut self, on: bool) {
        self.options.timing = on;
    }

    /// Reports every tier change from now on, or stops (`:set trace-tiers`).
    pub fn set_trace_tiers(&mut self, on: bool) {
        self.engine.set_trace_tiers(on);
    }

    /// Prints the tier changes since the last time (nothing unless `:set trace-tiers on`).
    pub fn show_tier_events(&mut self) {
        for event in self.engine.take_tier_events() {
            let line = match event {
                TierEvent::Optimized { name, inlined } if inlined.is_empty() => {
                    format!("tier: {name} recompiled by the optimizing tier\n")
                }
                TierEvent::Optimized { name, inlined } => {
                    format!("tier: {name} recompiled by the optimizing tier (inlined: {})\n", inlined.join(", "))
                }
                TierEvent::Invalidated { name, changed } => {
                    format!("tier: {name} sent back to the baseline (it had inlined {changed}, which changed)\n")
                }
            };
            let _ = self.out.write_all(line.as_bytes());
        }
    }

    /// Makes the previous version of `name` current again (`:undo NAME`), showing it as a redefinition.
    pub fn undo(&mut self, name: &str) -> Result<(), String> {
        let previous = self.engine.undo_target(name)?;
        let (text, restored) = (previous.source.clone(), format!("{name}@{}", previous.number));
        let entry = undo_entry_name(name, previous.number);
        let (out, err, color) = (&mut self.out, &mut self.err, self.options.color);
        let shown = SourceText::new(&entry, &text).colored(color);
        let mut observe = |event: Event<'_>| match event {
            Event::Warning(warning) => {
                let _ = err.write_all(shown.render(warning, 0).as_bytes());
            }
            Event::Item(item, _) => {
                if let Some(line) = describe_item(item, true) {
                    let _ = writeln!(out, "{line} (undo: back to the source of {restored})");
                }
            }
        };
        let outcome = self.engine.undo(name, &mut observe)?;
        if let Some(error) = outcome.error {
            return Err(error.to_string());
        }
        Ok(())
    }

    /// Chooses which code to print for every new definition (`:set show`).
    pub fn set_show_code(&mut self, show: ShowCode) {
        self.options.show_code = show;
    }

    /// Prints the code of the definitions `names`, as `:set show` asks.
    fn show_code_of(&mut self, names: &[String]) {
        if self.options.show_code == ShowCode::Off {
            return;
        }
        for name in names {
            let what = ListingOf::Function { name: name.clone(), version: None };
            let text = match (self.options.show_code, self.engine.listing(&what)) {
                (ShowCode::Off, _) => String::new(),
                (_, Err(message)) => format!("; no code for `{name}`: {message}\n"),
                (ShowCode::Clif, Ok(listing)) => disasm::clif_text(&self.engine, &listing),
                (ShowCode::Asm, Ok(listing)) => disasm::asm_text(&self.engine, &listing),
            };
            let _ = self.out.write_all(text.as_bytes());
        }
        let _ = self.out.flush();
    }

    /// Says once, plainly, that output cannot be written; whoever runs the session then stops.
    fn report_output_failure(&mut self, reason: &str) {
        let _ = writeln!(self.err, "kaleido: cannot write the output ({reason}); stopping");
        let _ = self.err.flush();
    }
}

/// Whether what follows an item ends the entry with a `;` (and nothing else but spaces and comments).
pub(crate) fn silenced(rest: &str) -> bool {
    let (tokens, _) = kaleido_lang::lexer::lex(rest);
    let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
    kinds.first() == Some(&TokenKind::Semi) && kinds[1..].iter().all(|k| matches!(k, TokenKind::Semi | TokenKind::Eof))
}

/// A new engine for `options`; a problem that leaves it working (no perf map) is said on `err`.
fn new_engine(options: &SessionOptions, output: Box<dyn Write>, err: &mut dyn Write) -> anyhow::Result<Engine> {
    let defaults = EngineOptions::default();
    let perf_map = options.perf_map || defaults.perf_map;
    let tier = options.tier;
    let engine =
        Engine::new(EngineOptions { prelude: options.prelude, jit: options.jit, perf_map, tier, ..defaults }, output)
            .map_err(|e| anyhow::anyhow!("cannot start the JIT engine: {e}"))?;
    if let Some(problem) = engine.perf_map_problem() {
        let _ = writeln!(err, "warning: no perf map: {problem}");
    }
    Ok(engine)
}

/// `time: 0.012 ms analyzing, 0.310 ms compiling 2 functions, 1.204 ms running (1 function compiled lazily
/// and 1 hot one optimized, in 0.200 ms)`.
fn timing_line(timing: &kaleido_engine::EntryTiming) -> String {
    let ms = |d: std::time::Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let own = timing.functions - timing.lazy_functions;
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let mut line = format!(
        "time: {} analyzing, {} compiling {own} function{}, {} running",
        ms(timing.analyze),
        ms(timing.compile),
        plural(own),
        ms(timing.run)
    );
    let (lazy, hot) = (timing.lazy_functions - timing.tier_ups, timing.tier_ups);
    let while_running = match (lazy, hot) {
        (0, 0) => None,
        (n, 0) => Some(format!("{n} function{} compiled lazily", plural(n))),
        (0, h) => Some(format!("{h} hot function{} optimized", plural(h))),
        (n, h) => Some(format!("{n} function{} compiled lazily and {h} hot one{} optimized", plural(n), plural(h))),
    };
    if let Some(what) = while_running {
        line.push_str(&format!(" ({what}, in {})", ms(timing.lazy)));
    }
    line.push('\n');
    line
}
