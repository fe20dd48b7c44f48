//! Identifiers: small newtypes, so an entry number, a slot, a code id and a code address cannot be mixed up.

use std::fmt;

/// Identifies an entry (a REPL line, a script item, a notebook cell): 1, 2, 3... in the order applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub u32);

/// Identifies a slot of the indirection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SlotId(pub(crate) u32);

/// Identifies a piece of compiled code in backtraces (what `k_frame` records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CodeId(pub(crate) u32);

/// The address of machine code (a function's entry point). Shown in hexadecimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodeAddr(pub(crate) usize);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for CodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl CodeId {
    /// What top-level code is given: it records no frame (the engine knows which entry runs).
    pub(crate) const TOP_LEVEL: CodeId = CodeId(u32::MAX);
}

impl SlotId {
    /// The slot's position in the table.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// The address of a slot of the indirection table: what a stub passes as its hidden argument, and what
/// the lazy compiler keys its bodies by (a plain `usize` there could be any address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SlotAddr(pub(crate) usize);
