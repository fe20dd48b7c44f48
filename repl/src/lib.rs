//! The `kaleido` shell and script runner, as a library so tests can drive a session in-process.
//!
//! Parts, one file each: [`evaluate`] (the one evaluation loop, and the presenter a front end supplies),
//! [`session`] (an engine, its writers and settings), [`script`] (running a file), [`commands`] (`:help`, `:list`, `:save`...), [`shell`] (the rustyline loop),
//! [`helper`] (highlighting, completion, multi-line validation), [`history`] (where history is kept),
//! [`interrupt`] (Ctrl-C while code runs), [`kernel`] (`kaleido kernel`, for Jupyter), [`transcript`] (what `:save --transcript` writes).
//!
//! Only this crate prints, reads terminals or files, or knows about clap and rustyline.
#![deny(unreachable_pub)]

pub mod commands;
pub mod evaluate;
pub mod helper;
pub mod history;
pub mod interrupt;
pub mod kernel;
pub mod presenter;
pub mod script;
pub mod session;
pub mod shell;
pub mod source_file;
pub mod stdio;
pub mod transcript;

pub use session::{Session, SessionOptions};
