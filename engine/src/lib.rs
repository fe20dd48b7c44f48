//! The kaleido JIT engine: one Cranelift module per entry, the engine index, the indirection table.
//!
//! Stages, one file each: `compile` (an entry's items into one new module, staged), `codegen` (one
//! function's AST to Cranelift IR), `backend` (IR to machine code, modules, stubs), `stack` (the
//! evaluation and compile stacks), `code_memory` (the code arena), `lazy`
//! (compiling on first call), `engine` (the public API; `engine/apply.rs`, the apply phase), `index` (what
//! is known about every function), `cells` (address-stable slots and globals), `runtime` (builtins and
//! the hooks JIT code calls), `error` (typed errors).
//!
//! Invariants:
//! - Calls between kaleido functions go through the slot for (callee, number of arguments); only a
//!   function's call to itself and calls to builtins and C functions are direct.
//! - A slot holds the callee's current code only if its arity matches; otherwise a stub that raises.
//! - A rejected entry changes nothing: the index, the table, the globals and the operators are as before.
//! - The engine never prints: program output goes to the sink the caller gives, everything else is returned.
//! - Applying an entry never generates code (stubs and adapters are made in the compile phase), so it
//!   cannot fail half-way.
//! - `unsafe` lives only in `code_memory.rs` (mappings), `stack.rs` (stacks), `runtime.rs` (hooks,
//!   `dlsym`), `lazy.rs` (patching a slot) and `engine/apply.rs` (calling JIT code), each with a `SAFETY:`
//!   comment.
#![deny(unreachable_pub)]
#![deny(missing_docs)]

mod backend;
mod builtins;
mod cells;
mod code_memory;
mod codegen;
mod compile;
mod engine;
mod error;
mod globals;
mod ids;
mod index;
mod lazy;
mod options;
mod output;
pub mod present;
mod resolve;
mod runtime;
mod session;
mod slots;
mod stack;

pub use backend::{Artifacts, CompileStats, host_triple};
pub use builtins::putchard_byte;
pub use engine::{Engine, ItemOutcome, Outcome, PRELUDE};
pub use error::{Frame, FrameKind, Rejected, RuntimeError, RuntimeErrorKind};
pub use ids::{CodeAddr, EntryId};
pub use index::{FunctionInfo, FunctionKind, FunctionState, Index, Version};
pub use options::{EngineOptions, JitMode};
pub use output::CapturedOutput;
pub use runtime::{InterruptHandle, format_value, io_reason};
pub use target_lexicon::Triple;
