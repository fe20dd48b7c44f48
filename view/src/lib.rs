//! kaleido's text for people: every front end (the shell, scripts, the notebook kernel) shows what the
//! engine returns through this crate, so the same outcome reads the same everywhere.
//!
//! The engine returns data (outcomes, typed errors, listings, the index); this crate turns it into text
//! and does no I/O: it knows no terminal, no socket and no file. It reads only the engine's public API.
//! - [`present`] item acknowledgements, diagnostics and runtime errors against a [`present::SourceText`],
//!   and the [`present::Names`] a session knows (completion, hints).
//! - [`report`] timing (`:time`), tier events (`:set trace-tiers`), `:stats`, what a module made, what an
//!   address is, and the names of the entries the front ends run.
//! - [`inspect`] `:show`, `:diff`, `:list`, `:deps`, `:modules`, `:table`.
//! - [`disasm`] `:asm` (annotated machine code, with iced-x86) and `:clif`.
//! - [`picture`] what a program drew (`pixel`, `plotpoint`, `:plot`) as SVG, PNG and text.
//! - [`save`] a session as a script (`:save`); [`transcript`] a session's transcript as a script
//!   (`:save --transcript`).
#![deny(missing_docs, unreachable_pub)]

pub mod disasm;
pub mod inspect;
pub mod picture;
pub mod present;
pub mod report;
pub mod save;
pub mod transcript;

pub use kaleido_engine::format_value;
