//! The kaleido JIT engine: one Cranelift module per entry, the engine index, the indirection table.
//!
//! One folder per layer, from the bottom: `machine` (the code arena, stacks, cells), `base` (ids, typed
//! errors, options, the perf map), `runtime` (what JIT code calls: hooks, builtins, output), `codegen`
//! (AST to Cranelift IR), `tier0` (code that runs once, evaluated without compiling it), `backend` (the
//! one place machine code is made), `tables` (the index, the indirection table, globals, with rollback),
//! `tiers` (lazy compiles and tier-ups), `compile` (an entry's compile phase) and `engine` (the public API
//! and the apply phase). An entry goes `engine` → `compile` →
//! `backend` → `engine/apply.rs`. It returns data: text for people is made by the `kaleido-view` crate.
//! ARCHITECTURE.md has the map.
//!
//! Invariants:
//! - Calls go through the slot for (callee, number of arguments), calls to C functions bound by `extern`
//!   included; only a function's call to itself and calls to builtins (which nothing can rebind) are
//!   direct.
//! - No frame bigger than `stack::MAX_UNGUARDED_FRAME` is allocated before a check that it fits.
//! - A slot holds the callee's current code only if its arity matches; otherwise a stub that raises.
//! - A rejected entry changes nothing: the index, the table, the globals and the operators are as before.
//! - The engine never prints: program output goes to the sink the caller gives, everything else is returned
//!   as data or typed errors (no `String` errors, no sentences for people).
//! - Applying an entry never generates code (stubs and adapters are made in the compile phase), so it
//!   cannot fail half-way.
//! - `unsafe` lives only in `machine/code_memory.rs` (mapping the two views of code memory),
//!   `machine/stack.rs` (stacks), `machine/shared.rs` (the shared pages of cells and signals),
//!   `machine/process.rs` (forking the executor, its socket), `machine/trampolines.rs` (jumps placed at
//!   another process's addresses), `runtime/mod.rs`, `runtime/builtins.rs` and
//!   `runtime/libraries.rs` (hooks, patching a slot, `dlsym`, `dlopen`), `tier0/calls.rs` (tier 0 calling
//!   kaleido code, builtins and C functions, reading and writing cells) and `engine/apply.rs` (calling JIT
//!   code), each with a `SAFETY:` comment.
//! - With an executor (`--executor process` or a command), the controller never runs JIT code: it compiles
//!   into memory a forked executor shares, or sends the code to one in another image, which runs it
//!   (`engine/executor.rs`, `engine/remote.rs`, `engine/executor_side.rs`).
//! - Folders import only downwards, in the order above: there is no import cycle (`tests/tidy.rs`).
#![deny(missing_docs, unreachable_pub)]

mod backend;
mod base;
mod codegen;
mod compile;
mod engine;
mod machine;
mod runtime;
mod tables;
mod tier0;
mod tiers;

pub use backend::{CompileStats, StubKind, host_triple};
pub use base::drawing::{
    Drawing, DrawingError, MAX_IMAGE_SIDE, MAX_PIXELS, MAX_POINTS, MAX_SERIES, PixelImage, Series,
};
pub use base::error::{
    CallSite, ExecutorEnd, Frame, FrameKind, ProtocolError, Rejected, Restart, RuntimeError, RuntimeErrorKind,
};
pub use base::ids::{CodeAddr, EntryId};
pub use base::options::{DEFAULT_HOT_CALLS, DEFAULT_TIER0_CALLS, EngineOptions, ExecutorMode, JitMode, Tier};
pub use base::request_error::{PerfMapProblem, RequestError, StartError, UnknownOption};
pub use base::wire;
pub use engine::{
    AddressOf, Engine, EntryTiming, Event, ExecutorInfo, ItemOutcome, Listing, ListingNote, ListingOf, Made,
    ModuleRecord, Outcome, PRELUDE, ScriptItem, SlotRow, Subject, TierEvent, serve_executor_command,
};
pub use runtime::builtins::putchard_byte;
pub use runtime::libraries::LibraryError;
pub use runtime::output::CapturedOutput;
pub use runtime::{InterruptHandle, format_value, io_reason};
pub use tables::index::{FunctionInfo, FunctionKind, FunctionState, Index, Version};
pub use tables::names::Name;
pub use target_lexicon::Triple;
