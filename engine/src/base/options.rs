//! How an engine is configured: when definitions are compiled, and the knobs benchmarks and tests use.

use crate::base::request_error::UnknownOption;
use crate::machine::code_memory::DEFAULT_CODE_MEMORY;

/// When a definition's machine code is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitMode {
    /// On its first call (the default): loading a big script costs parsing and checking only.
    Lazy,
    /// When it is entered.
    Eager,
}

impl std::fmt::Display for JitMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JitMode::Lazy => "lazy",
            JitMode::Eager => "eager",
        })
    }
}

impl std::str::FromStr for JitMode {
    type Err = UnknownOption;

    fn from_str(text: &str) -> Result<JitMode, UnknownOption> {
        match text {
            "lazy" => Ok(JitMode::Lazy),
            "eager" => Ok(JitMode::Eager),
            other => Err(UnknownOption::JitMode(other.to_string())),
        }
    }
}

/// How hard Cranelift works on the code it generates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    /// The default: the cheapest settings that still give sound code (`opt_level=none`, the single-pass
    /// register allocator): compile time linear in a function's size; the code is about half as fast and
    /// its frames about four times larger (the evaluation stack's budget allows for that).
    #[default]
    Baseline,
    /// `opt_level=speed` with the backtracking register allocator (`--tier optimized`): for long-running
    /// numeric code, at several times the compile time (quadratic in a function's size).
    Optimized,
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        })
    }
}

impl std::str::FromStr for Tier {
    type Err = UnknownOption;

    fn from_str(text: &str) -> Result<Tier, UnknownOption> {
        match text {
            "baseline" => Ok(Tier::Baseline),
            "optimized" => Ok(Tier::Optimized),
            other => Err(UnknownOption::Tier(other.to_string())),
        }
    }
}

/// Where JIT code runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ExecutorMode {
    /// In this process: fastest, but code that crashes or calls `abort` ends the session.
    #[default]
    InProcess,
    /// In a child process forked from this one (`--executor process`): a crash, `abort`, `exit` or
    /// `kill -9` of it ends only the child, which is started again with every definition and global.
    Process,
    /// In the process a command starts (`--executor 'ssh HOST kaleido executor'`), whose standard input
    /// and output carry the protocol: code compiled here is sent there, with every change to the cells it
    /// uses. The command must run the same build of kaleido.
    Command(String),
}

impl std::fmt::Display for ExecutorMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExecutorMode::InProcess => "none",
            ExecutorMode::Process => "process",
            ExecutorMode::Command(command) => command,
        })
    }
}

impl std::str::FromStr for ExecutorMode {
    type Err = UnknownOption;

    fn from_str(text: &str) -> Result<ExecutorMode, UnknownOption> {
        match text.trim() {
            "none" => Ok(ExecutorMode::InProcess),
            "process" => Ok(ExecutorMode::Process),
            "" => Err(UnknownOption::Executor(text.to_string())),
            command => Ok(ExecutorMode::Command(command.to_string())),
        }
    }
}

/// Calls after which a baseline function is recompiled by the optimizing tier: enough that code run a
/// few times is never compiled twice, few enough that a hot recursion or loop body moves over within
/// its first milliseconds (see BENCHMARKS.md, "Tiering").
pub const DEFAULT_HOT_CALLS: u32 = 1_000;

/// Calls of a deferred function that run in tier 0 before the baseline compiles it. Measured
/// (BENCHMARKS.md, "Issue 27"): a tier-0 call of a small function costs about 0.6 µs and compiling it about
/// 21 µs, so, as in renting skis, compiling once the calls have cost about what the compile would keeps
/// the worst case within twice the best: 32 calls. A function called a few times (setup code, a chain
/// run three times) is never compiled; a hot one pays about one compile's worth of tier-0 calls.
pub const DEFAULT_TIER0_CALLS: u32 = 32;

/// How an engine starts.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Load the prelude (`!`, unary `-`, `>`, `|`, `&`, `:`).
    pub prelude: bool,
    /// Compile definitions lazily (on first call) or eagerly.
    pub jit: JitMode,
    /// How much Cranelift optimizes (`--tier`, `:set tier`).
    pub tier: Tier,
    /// Emit stack-overflow and interrupt checks. Only benchmarks turn them off, to measure their cost:
    /// without them runaway recursion crashes the process and Ctrl-C cannot stop a loop.
    pub checks: bool,
    /// Compile a function's calls to itself as direct calls (on), or through its slot like every other
    /// call (off: a benchmark hook that measures what the indirection table costs).
    pub direct_self_calls: bool,
    /// How many calls a baseline definition that can recurse or loop makes before the optimizing tier
    /// recompiles it (0: never). Only the baseline tier counts.
    pub hot_calls: u32,
    /// In lazy mode, how many calls of a deferred function without loops run in tier 0 before it is
    /// compiled (0: none, and top-level code is compiled too). Top-level code without loops runs in
    /// tier 0 whenever this is not 0. Only an in-process engine has tier 0: an executor compiles.
    pub tier0_calls: u32,
    /// Bytes of address space reserved for machine code (1 GiB). Tests make it small to see what happens
    /// when it runs out.
    pub code_memory: usize,
    /// Write `/tmp/perf-PID.map` for profilers (`--perf-map`; also on when `KALEIDO_PERF_MAP=1`).
    pub perf_map: bool,
    /// Where JIT code runs (`--executor`).
    pub executor: ExecutorMode,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            prelude: true,
            jit: JitMode::Lazy,
            tier: Tier::Baseline,
            checks: true,
            direct_self_calls: true,
            hot_calls: DEFAULT_HOT_CALLS,
            tier0_calls: DEFAULT_TIER0_CALLS,
            code_memory: DEFAULT_CODE_MEMORY,
            perf_map: std::env::var_os("KALEIDO_PERF_MAP").is_some_and(|v| v == "1"),
            executor: ExecutorMode::InProcess,
        }
    }
}
