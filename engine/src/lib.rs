//! The kaleido JIT engine: one Cranelift module per entry, the engine index, the indirection table.
//!
//! An entry goes `engine` (the public API) → `compile` (the compile phase, with `resolve` saying where
//! calls go and `codegen` translating to Cranelift IR) → `backend` (machine code, in per-entry units, on
//! the `stack` made for compiling) → `engine/apply.rs` (the apply phase: repoint `slots`, run code on the
//! evaluation stack). Around it: `tables` (the index, slots, globals and operators, with rollback),
//! `index`, `lazy` (compiling on first call), `runtime` and `builtins` (what JIT code calls), `code_memory`
//! (the arena), `error` and `request_error` (typed errors). It returns data: text for people is made by
//! the `kaleido-view` crate. ARCHITECTURE.md has the map.
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
//! - `unsafe` lives only in `code_memory.rs` (mapping the two views of code memory), `stack.rs` (stacks), `runtime.rs` and
//!   `builtins.rs` (hooks, patching a slot, `dlsym`) and `engine/apply.rs` (calling JIT code), each with
//!   a `SAFETY:` comment.
//! - Files import only downwards (see ARCHITECTURE.md's layers): there is no import cycle.
#![deny(missing_docs, unreachable_pub)]

mod backend;
mod builtins;
mod call_graph;
mod cells;
mod code_memory;
mod codegen;
mod compile;
mod engine;
mod error;
mod frame_guard;
mod globals;
mod ids;
mod index;
mod inliner;
mod lazy;
mod options;
mod output;
mod perf_map;
mod request_error;
mod resolve;
mod runtime;
mod slots;
mod stack;
mod tables;

pub use backend::{CompileStats, StubKind, host_triple};
pub use builtins::putchard_byte;
pub use engine::{
    AddressOf, Engine, EntryTiming, Event, ItemOutcome, Listing, ListingNote, ListingOf, Made, ModuleRecord, Outcome,
    PRELUDE, SlotRow, Subject, TierEvent,
};
pub use error::{CallSite, Frame, FrameKind, Rejected, RuntimeError, RuntimeErrorKind};
pub use ids::{CodeAddr, EntryId};
pub use index::{FunctionInfo, FunctionKind, FunctionState, Index, Version};
pub use options::{DEFAULT_HOT_CALLS, EngineOptions, JitMode, Tier};
pub use output::CapturedOutput;
pub use request_error::{PerfMapProblem, RequestError, StartError, UnknownOption};
pub use runtime::{InterruptHandle, format_value, io_reason};
pub use target_lexicon::Triple;
