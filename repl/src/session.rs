//! A session: one engine, the entry counter, the writers and the presenter its outcomes go to, and the
//! settings of what is shown (`:set show`, `:set timing`). Sources run through `evaluate::run_source`.

use std::io::Write;

use kaleido_engine::{Engine, EngineOptions, ExecutorMode, JitMode, ListingOf, Tier};
use kaleido_view::disasm;
pub use kaleido_view::present::SourceText;
use kaleido_view::report::{tier_event_line, undo_entry_name};

use crate::presenter::{ItemShower, Origin, Presenter, TextPresenter};
use crate::transcript::Transcript;

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
    /// Also write every picture as a PNG file into this directory (`--pictures`, `:set pictures`).
    pub pictures: Option<std::path::PathBuf>,
    /// Draw pictures in colour (stdout is a terminal, unless `NO_COLOR` is set).
    pub picture_color: bool,
    /// Where JIT code runs (`--executor`).
    pub executor: ExecutorMode,
    /// How many calls of a definition run in tier 0 before it is compiled (`--tier0-calls`; 0: none).
    pub tier0_calls: u32,
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
            pictures: None,
            picture_color: false,
            executor: ExecutorMode::InProcess,
            tier0_calls: kaleido_engine::DEFAULT_TIER0_CALLS,
        }
    }
}

pub use crate::presenter::EntryStatus;

/// A running session: an engine and the writers its results go to.
pub struct Session {
    pub(crate) engine: Engine,
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
    pub(crate) time_next: bool,
    /// How to label what the next entry draws (`:plot`).
    pub(crate) plot_next: Option<kaleido_view::picture::PlotFrame>,
    /// Where pictures are also written as PNG files (`:set pictures DIR`, `--pictures DIR`), and how
    /// many have been.
    pub(crate) pictures: Option<(std::path::PathBuf, u32)>,
    /// How values and failures are shown (the shell's and scripts' text, or the notebook's messages).
    pub(crate) presenter: Box<dyn Presenter>,
    /// Whether the piece running now is the last of every source around it (a cell's result).
    pub(crate) tail: bool,
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
        let pictures = options.pictures.clone().map(|dir| (dir, 0));
        Ok(Session {
            engine,
            options,
            out,
            err,
            make_program_output,
            entries: 0,
            transcript,
            time_next: false,
            plot_next: None,
            pictures,
            presenter: Box::new(TextPresenter),
            tail: true,
            scripts_running: 0,
            loading: Vec::new(),
        })
    }

    /// The same session, showing values and failures through `presenter` (the notebook kernel's).
    pub fn with_presenter(mut self, presenter: Box<dyn Presenter>) -> Session {
        self.presenter = presenter;
        self
    }

    /// The engine, for queries.
    pub fn engine(&self) -> &Engine {
        &self.engine
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
        self.engine.set_tier(tier).map_err(|e| e.to_string())?;
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
        let libraries = self.engine.libraries().to_vec();
        self.engine = new_engine(&self.options, (self.make_program_output)(), &mut self.err)?;
        crate::interrupt::register(self.engine.interrupt_handle());
        // The libraries stay loaded in the process; the new engine knows them too, so `:save` lists them.
        for library in &libraries {
            self.engine.load_library(library)?;
        }
        Ok(())
    }

    /// Shows an item's source, each line prefixed with `> ` (`--echo`).
    pub fn echo(&mut self, source: &str) {
        for line in source.trim_end().lines() {
            let _ = writeln!(self.out, "> {line}");
        }
        let _ = self.out.flush();
    }

    /// Takes the next shell entry number (`In [3]`).
    pub(crate) fn take_entry_number(&mut self) -> u32 {
        self.entries += 1;
        self.entries
    }

    /// Whether diagnostics are coloured.
    pub fn color(&self) -> bool {
        self.options.color
    }

    /// How the session was started and what it shows now.
    pub fn options(&self) -> &SessionOptions {
        &self.options
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
            let _ = self.out.write_all(tier_event_line(&event).as_bytes());
        }
    }

    /// Makes the previous version of `name` current again (`:undo NAME`), showing it as a redefinition
    /// (its warnings and acknowledgement as any entry's).
    pub fn undo(&mut self, name: &str) -> Result<(), String> {
        let previous = self.engine.undo_target(name).map_err(|e| e.to_string())?;
        let (text, number) = (previous.source.clone(), previous.number);
        let entry = undo_entry_name(name, number);
        let origin = Origin::Shell(self.entries);
        let shown = SourceText::new(&entry, &text).colored(self.options.color);
        let mut shower = ItemShower::new(&origin, &shown, 0, 1, false);
        shower.suffix = format!(" (undo: back to the source of {name}@{number})");
        let Session { engine, out, err, presenter, .. } = self;
        let outcome = engine
            .undo(name, &entry, &mut |event| shower.show(event, &mut **out, &mut **err, &mut **presenter))
            .map_err(|e| e.to_string())?;
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
    pub(crate) fn show_code_of(&mut self, names: &[String]) {
        if self.options.show_code == ShowCode::Off {
            return;
        }
        for name in names {
            let what = ListingOf::Function { name: name.clone(), version: None };
            let text = match (self.options.show_code, self.engine.listing(&what)) {
                (ShowCode::Off, _) => String::new(),
                (_, Err(error)) => format!("; no code for `{name}`: {error}\n"),
                (ShowCode::Clif, Ok(listing)) => disasm::clif_text(&self.engine, &listing),
                (ShowCode::Asm, Ok(listing)) => disasm::asm_text(&self.engine, &listing),
            };
            let _ = self.out.write_all(text.as_bytes());
        }
        let _ = self.out.flush();
    }
}

/// The executor `KALEIDO_EXECUTOR` names (`none` when it is unset).
pub fn executor_from_env() -> anyhow::Result<ExecutorMode> {
    match std::env::var("KALEIDO_EXECUTOR") {
        Ok(text) if !text.is_empty() => text.parse().map_err(|e| anyhow::anyhow!("KALEIDO_EXECUTOR: {e}")),
        _ => Ok(ExecutorMode::InProcess),
    }
}

/// A new engine for `options`; a problem that leaves it working (no perf map) is said on `err`.
fn new_engine(options: &SessionOptions, output: Box<dyn Write>, err: &mut dyn Write) -> anyhow::Result<Engine> {
    let defaults = EngineOptions::default();
    let perf_map = options.perf_map || defaults.perf_map;
    let (tier, executor, tier0_calls) = (options.tier, options.executor.clone(), options.tier0_calls);
    let engine = Engine::new(
        EngineOptions { prelude: options.prelude, jit: options.jit, perf_map, tier, executor, tier0_calls, ..defaults },
        output,
    )
    .map_err(|e| anyhow::anyhow!("cannot start the JIT engine: {e}"))?;
    if let Some(problem) = engine.perf_map_problem() {
        let _ = writeln!(err, "warning: no perf map: {problem}");
    }
    Ok(engine)
}
