//! What the engine reports, as text: where an entry's time went, tier changes, the compile statistics,
//! what an entry's module made, what an address in generated code is, and how entries are named.

use kaleido_engine::{
    AddressOf, Engine, EntryTiming, ExecutorInfo, ExecutorMode, ListingNote, Made, StubKind, Subject, TierEvent,
};

/// `time: 0.012 ms analyzing, 0.310 ms compiling 2 functions, 1.204 ms running (1 function compiled lazily
/// and 1 hot one optimized, in 0.200 ms)`, with its line end. Top-level code and calls that ran in tier 0
/// (evaluated without being compiled) are said so: `compiling 0 functions (top level in tier 0)`,
/// `running (2 calls in tier 0; 1 function compiled lazily, in 0.100 ms)`.
pub fn timing_line(timing: &EntryTiming) -> String {
    let ms = |d: std::time::Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let own = timing.functions - timing.lazy_functions;
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let mut line = format!(
        "time: {} analyzing, {} compiling {own} function{}{}, {} running",
        ms(timing.analyze),
        ms(timing.compile),
        plural(own),
        if timing.tier0_top_level { " (top level in tier 0)" } else { "" },
        ms(timing.run)
    );
    let (lazy, hot) = (timing.lazy_functions - timing.tier_ups, timing.tier_ups);
    let compiled = match (lazy, hot) {
        (0, 0) => None,
        (n, 0) => Some(format!("{n} function{} compiled lazily", plural(n))),
        (0, h) => Some(format!("{h} hot function{} optimized", plural(h))),
        (n, h) => Some(format!("{n} function{} compiled lazily and {h} hot one{} optimized", plural(n), plural(h))),
    };
    let tier0 = (timing.tier0_calls > 0)
        .then(|| format!("{} call{} in tier 0", timing.tier0_calls, plural(timing.tier0_calls)));
    let while_running = match (tier0, compiled) {
        (None, None) => None,
        (Some(tier0), None) => Some(tier0),
        (None, Some(compiled)) => Some(format!("{compiled}, in {}", ms(timing.lazy))),
        (Some(tier0), Some(compiled)) => Some(format!("{tier0}; {compiled}, in {}", ms(timing.lazy))),
    };
    if let Some(what) = while_running {
        line.push_str(&format!(" ({what})"));
    }
    line.push('\n');
    line
}

/// A tier change (`:set trace-tiers on`) as one line, with its line end.
pub fn tier_event_line(event: &TierEvent) -> String {
    match event {
        TierEvent::Optimized { name, inlined } if inlined.is_empty() => {
            format!("tier: {name} recompiled by the optimizing tier\n")
        }
        TierEvent::Optimized { name, inlined } => {
            format!("tier: {name} recompiled by the optimizing tier (inlined: {})\n", inlined.join(", "))
        }
        TierEvent::Invalidated { name, changed } => {
            format!("tier: {name} sent back to the baseline (it had inlined {changed}, which changed)\n")
        }
    }
}

/// `:stats`: the JIT mode and tier, and what compiling has cost so far.
pub fn stats_text(engine: &Engine) -> String {
    let stats = engine.stats();
    format!(
        "jit mode: {}, tier: {}\nfunctions compiled: {}\n\
         calls run in tier 0 (evaluated, not compiled): {}; top-level entries run in tier 0: {}\nhot functions recompiled by the optimizing tier: {}\n\
         optimized functions sent back to the baseline (a function they inlined changed): {}\n\
         machine code generated: {} bytes\ntime compiling: {:.3} ms\n\
         code memory in use: {} bytes (high-water mark {} bytes)\n{}\n",
        engine.jit_mode(),
        engine.tier(),
        stats.functions,
        stats.tier0_calls,
        stats.tier0_top_level,
        stats.tier_ups,
        stats.invalidations,
        stats.code_bytes,
        stats.time.as_secs_f64() * 1000.0,
        engine.code_bytes(),
        engine.code_footprint(),
        executor_text(&engine.executor_info()),
    )
}

/// Where code runs: `code runs: in this process`, or in an executor with its history.
pub fn executor_text(info: &ExecutorInfo) -> String {
    let history = format!("executors started: {}, ended by the code: {}", info.starts, info.deaths);
    let now = |what: &str| match info.pid {
        Some(pid) => format!("in {what} {pid}"),
        None => format!("in {what} (none running now)"),
    };
    match &info.mode {
        ExecutorMode::InProcess => "code runs: in this process (--executor none)".to_string(),
        ExecutorMode::Process => format!("code runs: {}; {history}", now("executor process")),
        ExecutorMode::Command(command) => {
            format!("code runs: {} started by `{command}`; {history}", now("the executor process"))
        }
    }
}

/// What one item of a module made: `fib v2`, `extern sin`, `var x`, `an expression`.
pub fn made_text(made: &Made) -> String {
    match made {
        Made::Definition(name, version) => format!("{name} v{version}"),
        Made::Extern(name) => format!("extern {name}"),
        Made::Global(name) => format!("var {name}"),
        Made::Expression => "an expression".to_string(),
    }
}

/// What an address in generated code is, as listings name it: `slot fib/1`, `abort word`, `fib v2`.
pub fn address_text(address: &AddressOf) -> String {
    match address {
        AddressOf::Slot(name, arity) => format!("slot {name}/{arity}"),
        AddressOf::AbortWord => "abort word".to_string(),
        AddressOf::StackLimit => "stack limit".to_string(),
        AddressOf::RuntimeState => "runtime state".to_string(),
        AddressOf::Hook("k_raise") => "hook k_raise (record an error)".to_string(),
        AddressOf::Hook("k_frame") => "hook k_frame (record this frame)".to_string(),
        AddressOf::Hook("k_tier_up") => "hook k_tier_up (recompile a hot function)".to_string(),
        AddressOf::Hook(hook) => format!("hook {hook}"),
        AddressOf::CallCounter(code) => format!("call counter of {code}"),
        AddressOf::Builtin(name) => format!("builtin {name}"),
        AddressOf::Global(name) => format!("global {name}"),
        AddressOf::Function(name, version) => format!("{name} v{version}"),
        AddressOf::Extern(name) => format!("extern {name}"),
        AddressOf::ExternAdapter(name) => format!("extern {name} (its adapter)"),
        AddressOf::Stub(kind, arity) => {
            let what = match kind {
                StubKind::Undefined => "not-defined stub",
                StubKind::ArityMismatch => "wrong-arity stub",
                StubKind::Lazy => "lazy stub",
                StubKind::Enter => "tier-0 entry stub",
            };
            format!("{what}/{arity}")
        }
    }
}

/// What `address` is, as [`address_text`] says, if the engine knows it.
pub fn describe_address(engine: &Engine, address: usize) -> Option<String> {
    engine.describe_address(address).as_ref().map(address_text)
}

/// A listing's title: `fib, version 2`, ``the top-level code of `fib(30)` ``.
pub fn subject_text(subject: &Subject) -> String {
    match subject {
        Subject::Function { name, version } => format!("{name}, version {version}"),
        Subject::Expression(text) => format!("the top-level code of `{text}`"),
    }
}

/// A listing's notes in one sentence, if it has any.
pub fn notes_text(notes: &[ListingNote]) -> Option<String> {
    let said: Vec<String> = notes
        .iter()
        .map(|note| match note {
            ListingNote::CompiledNow => "compiled now: it was deferred to its first call (lazy)".to_string(),
            ListingNote::Retired { version } => {
                format!("version {version} is retired; this is the code its source compiles to")
            }
            ListingNote::Guarded { frame, guard } => format!(
                "its {frame}-byte frame is too large to go unchecked: calls enter a guard at {guard:#x} that \
                 checks it fits, then jump here"
            ),
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// The name of the entry an undo runs as (`<undo: fib@2>`): the version whose source it enters again.
pub fn undo_entry_name(name: &str, version: u32) -> String {
    format!("<undo: {name}@{version}>")
}
