//! A tree-walking reference interpreter of kaleido: the oracle the JIT is tested against.
//!
//! It is written from `docs/language.md` and shares only the front end (`kaleido-lang`: parser, checks,
//! AST) with the engine, so a mistake in the engine's code generation, slots, stubs or session handling
//! shows up as a disagreement. It favours being obviously right over being fast.
//!
//! Parts: [`interpreter`] (entries, definitions, globals, the checks the engine makes at compile time),
//! [`eval`] (evaluating expressions), [`builtins`] (the runtime functions), and [`generate`] (random
//! well-formed sessions for differential testing).
#![deny(unreachable_pub)]
#![deny(missing_docs)]

pub mod builtins;
pub mod eval;
pub mod generate;
pub mod interpreter;

pub use interpreter::{EntryResult, Interpreter, ItemResult, RuntimeError};
