//! The engine index: every function ever named in the session, what it is and what state it is in.
//!
//! Functions are keyed by name. A function's slots are keyed by arity: a call site compiled with `n`
//! arguments always goes through the slot `(name, n)`, so code is never entered with the wrong number of
//! arguments; when the definition's arity is not `n`, that slot holds a stub that raises an error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kaleido_lang::ast::ProtoKind;

/// Identifies an entry (a REPL line, a script item, a cell): 1, 2, 3...
pub type EntryId = u32;

/// Identifies a slot of the indirection table.
pub type SlotId = u32;

/// What kind of function a name is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// Defined by the user with `def`.
    User,
    /// Defined by the prelude at start-up.
    Prelude,
    /// Provided by the runtime module (`printd`, `sin`...).
    Builtin,
    /// Bound by `extern` to a C function of the process.
    Extern,
}

/// Whether a function can be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionState {
    /// It has a current definition (or binding).
    Defined,
    /// Something calls it, but it has never been defined (a forward reference).
    NotYetDefined,
}

/// One definition of a function, current or retired.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// 1 for the first definition, growing with each redefinition.
    pub number: u32,
    /// The entry that defined it.
    pub entry: EntryId,
    /// That entry's name: `<repl:3>`, `fib.kal:12`, `<prelude>`.
    pub entry_name: String,
    /// Its parameter names.
    pub params: Vec<String>,
    /// Its source text, as written.
    pub source: String,
    /// Whether a later definition replaced it.
    pub retired: bool,
}

/// Everything the engine knows about one function name.
#[derive(Clone, Debug)]
pub struct FunctionInfo {
    /// The name (`fib`, `binary|`, `unary!`).
    pub name: String,
    /// User, prelude, builtin or extern.
    pub kind: FunctionKind,
    /// Defined, or only referenced so far.
    pub state: FunctionState,
    /// Plain function or operator (with its precedence).
    pub operator: ProtoKind,
    /// The current arity, once defined.
    pub arity: Option<usize>,
    /// Every definition, oldest first; the last one is current.
    pub history: Vec<Version>,
    /// The current code's address (0 while not defined).
    pub code: usize,
    /// The functions the current definition calls, with the number of arguments each call passes.
    pub calls: BTreeSet<(String, usize)>,
    /// Whether the current code has been generated (lazy compilation defers it).
    pub compiled: bool,
    /// The entries whose top-level code called it.
    pub called_from_entries: BTreeSet<EntryId>,
    /// The function's slots, by call arity.
    pub(crate) slots: BTreeMap<usize, SlotId>,
    /// Where the current code lives, freed once the definition is replaced.
    pub(crate) code_range: Option<crate::code_memory::CodeRange>,
    /// For an `extern` that code compiled earlier calls through a slot: the adapter the slot points at.
    pub(crate) adapter: usize,
}

impl FunctionInfo {
    /// A function that is only referenced so far.
    pub fn referenced(name: &str) -> FunctionInfo {
        FunctionInfo {
            name: name.to_string(),
            kind: FunctionKind::User,
            state: FunctionState::NotYetDefined,
            operator: ProtoKind::Plain,
            arity: None,
            history: Vec::new(),
            code: 0,
            calls: BTreeSet::new(),
            compiled: false,
            called_from_entries: BTreeSet::new(),
            slots: BTreeMap::new(),
            code_range: None,
            adapter: 0,
        }
    }

    /// The current definition, if any.
    pub fn current(&self) -> Option<&Version> {
        self.history.last().filter(|v| !v.retired)
    }

    /// The current version number (0 before the first definition).
    pub fn version(&self) -> u32 {
        self.current().map_or(0, |v| v.number)
    }

    /// The entry that defines the current version.
    pub fn defined_in(&self) -> Option<EntryId> {
        self.current().map(|v| v.entry)
    }
}

/// The queryable index of all functions, with the reverse call graph.
#[derive(Default)]
pub struct Index {
    functions: HashMap<String, FunctionInfo>,
    /// Names in the order they were first seen, so listings are stable.
    order: Vec<String>,
    /// callee -> caller -> arity the caller passes.
    callers: HashMap<String, BTreeMap<String, usize>>,
}

impl Index {
    /// The function called `name`, if the session has seen it.
    pub fn get(&self, name: &str) -> Option<&FunctionInfo> {
        self.functions.get(name)
    }

    /// The function called `name`, created as "not yet defined" if new.
    pub(crate) fn entry(&mut self, name: &str) -> &mut FunctionInfo {
        if !self.functions.contains_key(name) {
            self.order.push(name.to_string());
            self.functions.insert(name.to_string(), FunctionInfo::referenced(name));
        }
        self.functions.get_mut(name).expect("just inserted")
    }

    /// Every function, in the order first seen.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionInfo> {
        self.order.iter().filter_map(|name| self.functions.get(name))
    }

    /// How many function names the session knows.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The functions whose current definitions call `name`, with how many arguments each passes.
    pub fn callers_of(&self, name: &str) -> Vec<(String, usize)> {
        self.callers.get(name).map(|m| m.iter().map(|(c, &a)| (c.clone(), a)).collect()).unwrap_or_default()
    }

    /// Replaces `caller`'s outgoing call edges with `calls`.
    pub(crate) fn set_calls(&mut self, caller: &str, calls: BTreeSet<(String, usize)>) {
        let old = std::mem::take(&mut self.entry(caller).calls);
        for (callee, _) in &old {
            if let Some(map) = self.callers.get_mut(callee) {
                map.remove(caller);
            }
        }
        for (callee, arity) in &calls {
            self.callers.entry(callee.clone()).or_default().insert(caller.to_string(), *arity);
        }
        self.entry(caller).calls = calls;
    }
}
