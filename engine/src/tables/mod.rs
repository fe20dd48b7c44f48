//! The session's tables: what the user has built up, entry after entry. The engine index, the
//! indirection table, the globals, the operators and the names backtraces show.
//!
//! The compile phase of an entry adds slots, global cells and code names as it goes; if the entry is
//! rejected, [`Tables::rollback`] to the [`Mark`] taken before it gives them all back, so a rejected entry
//! leaves no trace. The index and the operators change only in the apply phase.

pub(crate) mod call_graph;
pub(crate) mod globals;
pub(crate) mod index;
pub(crate) mod names;
pub(crate) mod slots;

use std::sync::atomic::{AtomicI64, Ordering};

use kaleido_lang::ast::ProtoKind;
use kaleido_lang::{Operators, Scope, Span};

use crate::base::ids::CodeId;
use crate::machine::cells::StableCells;
use crate::tables::globals::GlobalTable;
use crate::tables::index::Index;
use crate::tables::names::{Name, Names};
use crate::tables::slots::SlotTable;
use std::rc::Rc;

/// A store of cells as an executor in another process image needs it.
pub(crate) struct StoreImage {
    /// Where its cells start (the same address in the executor).
    pub(crate) base: usize,
    /// Bytes reserved for it.
    pub(crate) bytes: usize,
    /// Each cell's bits.
    pub(crate) bits: Vec<u64>,
}

/// The session's tables.
pub(crate) struct Tables {
    /// Every function ever named, its state and history.
    pub(crate) index: Index,
    /// The indirection table.
    pub(crate) slots: SlotTable,
    /// Global variables.
    pub(crate) globals: GlobalTable,
    /// The operators defined so far (an input to parsing); changed only through
    /// [`Tables::change_operators`], which counts the changes.
    pub(crate) operators: Operators,
    /// How many times the operators have changed (a parse made before a change is stale after it).
    operators_generation: u64,
    /// What each code id is: the function it is a version of, for backtraces.
    codes: Vec<CodeOrigin>,
    /// The names every table holds, one copy each.
    names: Rc<Names>,
    /// Each code's call counter (used by baseline definitions that may become hot), by code id; cells
    /// never move, because code embeds their addresses.
    counters: StableCells<AtomicI64>,
}

impl Default for Tables {
    fn default() -> Tables {
        let names = Rc::new(Names::default());
        Tables {
            index: Index::new(names.clone()),
            slots: SlotTable::new(names.clone()),
            globals: GlobalTable::default(),
            operators: Operators::default(),
            operators_generation: 0,
            codes: Vec::new(),
            names,
            counters: StableCells::default(),
        }
    }
}

/// What a code id is the code of.
#[derive(Clone, Debug)]
pub(crate) struct CodeOrigin {
    /// The function's name.
    pub(crate) name: Name,
    /// Which of its versions (0 until the definition is applied).
    pub(crate) version: u32,
    /// The spans of its calls that can abort, relative to that version's source, by site index.
    pub(crate) call_sites: Vec<Span>,
}

impl Scope for Tables {
    fn is_global(&self, name: &str) -> bool {
        self.globals.contains(name)
    }

    fn is_function(&self, name: &str) -> bool {
        self.index.get(name).is_some_and(|f| f.state == crate::tables::index::FunctionState::Defined)
    }

    fn global_names(&self) -> Vec<String> {
        self.globals.all().into_iter().map(|(name, _)| name).collect()
    }
}

impl Tables {
    /// The defined function closest to `name`, if `name` looks like a typo of it. Sessions of more than
    /// 10,000 functions get no suggestion: the search costs the session's size for every error, and a
    /// script raising an error per item would become quadratic.
    pub(crate) fn nearest_function(&self, name: &str) -> Option<String> {
        if self.index.len() > 10_000 {
            return None;
        }
        let defined = self.index.functions().filter(|f| f.state == crate::tables::index::FunctionState::Defined);
        kaleido_lang::nearest(name, defined.map(|f| f.name.to_string()))
    }
}

/// How big the growing tables were before an entry, to roll back to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    slots: usize,
    globals: usize,
    code_names: usize,
}

impl Tables {
    /// Changes the operator table with `change`.
    pub(crate) fn change_operators(&mut self, change: impl FnOnce(&mut Operators)) {
        change(&mut self.operators);
        self.operators_generation += 1;
    }

    /// Defines the operator a prototype declares; a plain function changes nothing, so a parse made
    /// before it stays good.
    pub(crate) fn define_operator(&mut self, kind: &ProtoKind) {
        if *kind != ProtoKind::Plain {
            self.change_operators(|operators| operators.define(kind));
        }
    }

    /// Which state of the operator table this is: equal numbers, equal tables.
    pub(crate) fn operators_generation(&self) -> u64 {
        self.operators_generation
    }

    /// The one copy of `name` every table shares.
    pub(crate) fn intern(&self, name: &str) -> Name {
        self.names.intern(name)
    }

    /// Where the growing tables stand now.
    pub(crate) fn mark(&self) -> Mark {
        Mark { slots: self.slots.len(), globals: self.globals.len(), code_names: self.codes.len() }
    }

    /// Gives back everything added since `mark` (a rejected entry).
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.slots.truncate(mark.slots);
        self.globals.truncate(mark.globals);
        self.codes.truncate(mark.code_names);
        self.counters.truncate(mark.code_names);
    }

    /// A new code id, shown as `name` in backtraces.
    pub(crate) fn new_code_id(&mut self, name: &str) -> CodeId {
        self.codes.push(CodeOrigin { name: self.names.intern(name), version: 0, call_sites: Vec::new() });
        self.counters.push();
        CodeId(self.codes.len() as u32 - 1)
    }

    /// The three stores of cells JIT code uses (slots, globals, call counters), as an executor in another
    /// process image must copy them: where each is, its size, what it holds.
    pub(crate) fn store_images(&self) -> [StoreImage; 3] {
        let image = |region: (usize, usize), bits| StoreImage { base: region.0, bytes: region.1, bits };
        [
            image(self.slots.cells().region(), self.slots.cells().all_bits()),
            image(self.globals.cells().region(), self.globals.cells().all_bits()),
            image(self.counters.region(), self.counters.all_bits()),
        ]
    }

    /// The call counters' cells (to copy them to and from an executor in another process image).
    pub(crate) fn counters(&self) -> &StableCells<AtomicI64> {
        &self.counters
    }

    /// How many code ids exist.
    pub(crate) fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// The address of `code`'s call counter, set to count down from `calls`.
    pub(crate) fn counter(&self, code: CodeId, calls: u32) -> usize {
        self.counters.get(code.0).store(i64::from(calls), Ordering::SeqCst);
        self.counters.address(code.0)
    }

    /// The code whose call counter is at `address`.
    pub(crate) fn counter_at(&self, address: usize) -> Option<CodeId> {
        self.counters.index_of(address).map(CodeId)
    }

    /// The name a code id is shown as.
    pub(crate) fn code_name(&self, code: CodeId) -> &str {
        &self.codes[code.0 as usize].name
    }

    /// What `code` is the code of.
    pub(crate) fn code_origin(&self, code: CodeId) -> &CodeOrigin {
        &self.codes[code.0 as usize]
    }

    /// Records where `code`'s calls are.
    pub(crate) fn set_call_sites(&mut self, code: CodeId, sites: Vec<Span>) {
        self.codes[code.0 as usize].call_sites = sites;
    }

    /// Records which version of its function `code` is.
    pub(crate) fn set_code_version(&mut self, code: CodeId, version: u32) {
        self.codes[code.0 as usize].version = version;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_holds_the_one_copy_of_a_name() {
        let mut tables = Tables::default();
        let slot = tables.slots.get_or_create("fib", 1);
        let info_name = tables.index.entry("fib").name.clone();
        let code = tables.new_code_id("fib");
        let slot_name = tables.slots.key_name(slot);
        assert!(Rc::ptr_eq(&info_name, slot_name), "index and slot table");
        assert!(Rc::ptr_eq(&info_name, &tables.code_origin(code).name), "index and code origins");
        assert!(Rc::ptr_eq(&info_name, &tables.intern("fib")), "and anything interned later");
    }
}
