//! The typed errors of the engine's requests other than evaluating an entry: starting an engine,
//! choosing a tier, undoing, forgetting, listing code, compiling a deferred definition now.
//!
//! Each is data (which function, which version); its words are only in `Display` (from `thiserror`),
//! which front ends show as they are or replace with their own.

/// An engine could not be made, or could not change tier.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The code arena could not be reserved.
    #[error("cannot reserve code memory: {0}")]
    CodeMemory(std::io::Error),
    /// A stack could not be mapped.
    #[error("cannot map a stack: {0}")]
    Stack(std::io::Error),
    /// Cranelift has no usable ISA for this host with the settings asked for.
    #[error("cannot set up code generation for this machine: {0}")]
    Isa(String),
    /// Shared memory for the cells JIT code uses could not be mapped.
    #[error("cannot map shared memory: {0}")]
    SharedMemory(std::io::Error),
    /// The prelude did not compile (a bug in kaleido).
    #[error("the prelude failed: {0:?}")]
    Prelude(Vec<kaleido_lang::Diagnostic>),
}

/// A request about a function (`undo`, `forget`, `listing`, `compile_now`) that cannot be met.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No function has this name.
    #[error("no function named `{0}`")]
    NoSuchFunction(String),
    /// A builtin cannot be forgotten.
    #[error("`{0}` is a builtin and cannot be forgotten")]
    BuiltinForgotten(String),
    /// The function is known (called, or forgotten) but has no definition now.
    #[error("`{0}` is not defined")]
    NotDefined(String),
    /// Only a current user definition can be undone.
    #[error("`{0}` has no definition to undo")]
    NothingToUndo(String),
    /// Undo needs a version before the current one.
    #[error("`{0}` has only one version; `:forget {0}` removes it")]
    OnlyOneVersion(String),
    /// The version undo would restore no longer compiles (a callee it needs has gone).
    #[error("version {version} of `{name}` no longer compiles: {message}")]
    NoLongerCompiles {
        /// The function.
        name: String,
        /// The version that was to be restored.
        version: u32,
        /// The first error its source now gets.
        message: String,
    },
    /// Builtins are Rust: there is no generated code to list.
    #[error("`{0}` is a builtin: its code is kaleido's own Rust")]
    BuiltinHasNoCode(String),
    /// Externs are C: there is no generated code to list.
    #[error("`{0}` is an extern: its code is the C library's")]
    ExternHasNoCode(String),
    /// Not defined, so no code.
    #[error("`{0}` is not defined: it has no code")]
    NotDefinedNoCode(String),
    /// The version asked for does not exist.
    #[error("`{name}` has no version {version}")]
    NoSuchVersion {
        /// The function.
        name: String,
        /// The version asked for.
        version: u32,
    },
    /// The function has no machine code yet.
    #[error("`{0}` has no code yet")]
    NoCodeYet(String),
    /// Compiling a deferred definition now failed.
    #[error("compiling `{name}` failed: {reason}")]
    CompileFailed {
        /// The function.
        name: String,
        /// Why (the runtime's reason).
        reason: String,
    },
    /// The text to list does not compile; the first error, if there was one.
    #[error("{}", .0.as_deref().unwrap_or("it does not compile"))]
    DoesNotCompile(Option<String>),
    /// An interrupt stopped the compile of a listing.
    #[error("interrupted")]
    Interrupted,
    /// An expression to list made no code.
    #[error("there is no code to show")]
    NoCode,
    /// A definition's source to list defines nothing.
    #[error("the source defines nothing")]
    DefinesNothing,
}

/// A JIT mode or tier named on a command line or in `:set` that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnknownOption {
    /// Not `lazy` or `eager`.
    #[error("unknown JIT mode `{0}`; use `lazy` or `eager`")]
    JitMode(String),
    /// Not `baseline` or `optimized`.
    #[error("unknown tier `{0}`; use `baseline` or `optimized`")]
    Tier(String),
    /// Not `none` or `process`.
    #[error(
        "no executor named `{0}`; use `none` (run code in this process), `process` (in a child process) or a \
         command that runs `kaleido executor`"
    )]
    Executor(String),
}

/// Why the map for profilers is not written, when it was asked for.
#[derive(Debug, thiserror::Error)]
pub enum PerfMapProblem {
    /// Another file (or a symlink) is already at the path.
    #[error(
        "{path} exists already (left by an earlier process with this id, or put there by someone else), so \
         kaleido will not write to it; remove it to name JIT code for profilers"
    )]
    Exists {
        /// The path.
        path: String,
    },
    /// It could not be created.
    #[error("cannot create {path}: {error}")]
    Create {
        /// The path.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}
