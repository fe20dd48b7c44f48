//! The session's tables: what the user has built up, entry after entry. The engine index, the
//! indirection table, the globals, the operators and the names backtraces show.
//!
//! The compile phase of an entry adds slots, global cells and code names as it goes; if the entry is
//! rejected, [`Session::rollback`] to the [`Mark`] taken before it gives them all back, so a rejected entry
//! leaves no trace. The index and the operators change only in the apply phase.

use kaleido_lang::{Operators, Scope};

use crate::globals::GlobalTable;
use crate::ids::CodeId;
use crate::index::Index;
use crate::slots::SlotTable;

/// The session's tables.
#[derive(Default)]
pub(crate) struct Session {
    /// Every function ever named, its state and history.
    pub(crate) index: Index,
    /// The indirection table.
    pub(crate) slots: SlotTable,
    /// Global variables.
    pub(crate) globals: GlobalTable,
    /// The operators defined so far (an input to parsing).
    pub(crate) operators: Operators,
    /// What each code id is called in a backtrace: the function's name.
    code_names: Vec<String>,
}

impl Scope for Session {
    fn is_global(&self, name: &str) -> bool {
        self.globals.contains(name)
    }

    fn is_function(&self, name: &str) -> bool {
        self.index.get(name).is_some_and(|f| f.state == crate::index::FunctionState::Defined)
    }

    fn global_names(&self) -> Vec<String> {
        self.globals.all().into_iter().map(|(name, _)| name).collect()
    }
}

impl Session {
    /// The defined function closest to `name`, if `name` looks like a typo of it. Sessions of more than
    /// 10,000 functions get no suggestion: the search costs the session's size for every error, and a
    /// script raising an error per item would become quadratic.
    pub(crate) fn nearest_function(&self, name: &str) -> Option<String> {
        if self.index.len() > 10_000 {
            return None;
        }
        let defined = self.index.functions().filter(|f| f.state == crate::index::FunctionState::Defined);
        kaleido_lang::nearest(name, defined.map(|f| f.name.clone()))
    }
}

/// How big the growing tables were before an entry, to roll back to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    slots: usize,
    globals: usize,
    code_names: usize,
}

impl Session {
    /// Where the growing tables stand now.
    pub(crate) fn mark(&self) -> Mark {
        Mark { slots: self.slots.len(), globals: self.globals.len(), code_names: self.code_names.len() }
    }

    /// Gives back everything added since `mark` (a rejected entry).
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.slots.truncate(mark.slots);
        self.globals.truncate(mark.globals);
        self.code_names.truncate(mark.code_names);
    }

    /// A new code id, shown as `name` in backtraces.
    pub(crate) fn new_code_id(&mut self, name: &str) -> CodeId {
        self.code_names.push(name.to_string());
        CodeId(self.code_names.len() as u32 - 1)
    }

    /// The name a code id is shown as.
    pub(crate) fn code_name(&self, code: CodeId) -> &str {
        &self.code_names[code.0 as usize]
    }
}
