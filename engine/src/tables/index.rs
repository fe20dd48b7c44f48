//! The engine index: every function ever named in the session, what it is and what state it is in.
//!
//! Functions are keyed by name. Calls reach them through the indirection table (`tables/slots.rs`), one slot per
//! (name, number of arguments passed); the index says what each name is and what code it has now.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use kaleido_lang::OperatorMeanings;
use kaleido_lang::ast::ProtoKind;

use crate::backend::CompiledFunction;
use crate::base::ids::{CodeAddr, EntryId};
use crate::tables::names::{Name, Names};
use std::rc::Rc;

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
    pub entry_name: Name,
    /// Its parameter names (interned: most functions name theirs `x`, `a`, `b`...).
    pub params: Box<[Name]>,
    /// Its source text, as written.
    pub source: String,
    /// What its parse depended on in the operator table (so `:save` can tell whether the text still
    /// parses the same, and print it in a form that does if not).
    pub parsed_under: OperatorMeanings,
    /// Whether a later definition replaced it.
    pub retired: bool,
}

/// Everything the engine knows about one function name.
#[derive(Clone, Debug)]
pub struct FunctionInfo {
    /// The name (`fib`, `binary|`, `unary!`), interned.
    pub name: Name,
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
    /// The functions the current definition calls, with the number of arguments each call passes.
    pub calls: BTreeSet<(String, usize)>,
    /// The globals the current definition reads (`false`) and writes (`true`).
    pub globals: BTreeSet<(String, bool)>,
    /// The entries whose top-level code called it.
    pub called_from_entries: BTreeSet<EntryId>,
    /// For an `extern`: the parameter names it was declared with.
    pub extern_params: Vec<String>,
    /// Its current code.
    pub(crate) code: Code,
}

/// What a function's current code is.
#[derive(Clone, Debug, Default)]
pub(crate) enum Code {
    /// None: it is not defined (calls raise "not defined").
    #[default]
    Missing,
    /// Defined, but its machine code is generated on its first call (its slot points at the lazy stub).
    Deferred,
    /// Machine code the engine owns, freed once replaced (boxed: most functions of a big session are
    /// deferred, and an inline record would make every one of them 128 bytes bigger).
    Compiled(Box<CompiledFunction>),
    /// A builtin (called directly at `address`, since nothing can rebind it) or a C function bound by
    /// `extern`, whose calls all go through the name's slots to `adapter`, a function of the kaleido
    /// signature that calls it (so forgetting or redefining the name reaches every caller).
    Native { address: usize, adapter: Option<Box<CompiledFunction>> },
}

/// What a name is bound to. Only [`FunctionInfo::bind`] changes a name's kind, state, operator, arity and
/// code, from one of these, so the five always agree: define, redefine, undo (a redefinition), `extern`,
/// `:forget` and the builtins at start-up all come through it.
pub(crate) enum Binding {
    /// A definition (the user's or the prelude's) of `arity` parameters, with its code.
    Definition { kind: FunctionKind, operator: ProtoKind, arity: usize, code: Code },
    /// A C function bound by `extern`, reached through `adapter`.
    Extern { arity: usize, params: Vec<String>, address: usize, adapter: Option<CompiledFunction> },
    /// A builtin of the runtime module, called directly at `address`.
    Builtin { arity: usize, address: usize },
    /// Nothing: calls raise "not defined" (`:forget`).
    Unbound,
}

impl FunctionInfo {
    /// Binds the name to `binding`; returns the code it replaces, which the caller frees once no frame
    /// can be in it.
    pub(crate) fn bind(&mut self, binding: Binding) -> Code {
        let (kind, state, arity, code) = match binding {
            Binding::Definition { kind, operator, arity, code } => {
                self.operator = operator;
                (kind, FunctionState::Defined, Some(arity), code)
            }
            Binding::Extern { arity, params, address, adapter } => {
                self.extern_params = params;
                (
                    FunctionKind::Extern,
                    FunctionState::Defined,
                    Some(arity),
                    Code::Native { address, adapter: adapter.map(Box::new) },
                )
            }
            Binding::Builtin { arity, address } => {
                (FunctionKind::Builtin, FunctionState::Defined, Some(arity), Code::Native { address, adapter: None })
            }
            Binding::Unbound => {
                self.operator = ProtoKind::Plain;
                (FunctionKind::User, FunctionState::NotYetDefined, None, Code::Missing)
            }
        };
        (self.kind, self.state, self.arity) = (kind, state, arity);
        std::mem::replace(&mut self.code, code)
    }

    /// Replaces the code of the current binding, which stays what it is: a lazy compile, a tier-up, or an
    /// optimized function sent back to its lazy stub. Returns the code replaced.
    pub(crate) fn recompiled(&mut self, code: Code) -> Code {
        std::mem::replace(&mut self.code, code)
    }

    /// A function that is only referenced so far.
    pub(crate) fn referenced(name: Name) -> FunctionInfo {
        FunctionInfo {
            name,
            kind: FunctionKind::User,
            state: FunctionState::NotYetDefined,
            operator: ProtoKind::Plain,
            arity: None,
            history: Vec::new(),
            calls: BTreeSet::new(),
            globals: BTreeSet::new(),
            called_from_entries: BTreeSet::new(),
            extern_params: Vec::new(),
            code: Code::Missing,
        }
    }

    /// Whether its current machine code exists (lazy compilation defers it to the first call).
    pub fn is_compiled(&self) -> bool {
        matches!(self.code, Code::Compiled(_) | Code::Native { .. })
    }

    /// Whether its current code was compiled by the optimizing tier (hot, or `--tier optimized`).
    pub fn is_optimized(&self) -> bool {
        matches!(&self.code, Code::Compiled(function) if function.optimized)
    }

    /// The functions whose bodies its current (optimized) code inlined.
    pub fn inlined(&self) -> &[String] {
        match &self.code {
            Code::Compiled(function) => &function.inlined,
            _ => &[],
        }
    }

    /// "compiled, optimized", "compiled, baseline" or "lazy, not compiled yet": its code's state, for people.
    pub fn code_state(&self) -> &'static str {
        match &self.code {
            Code::Compiled(function) if function.optimized => "compiled, optimized",
            Code::Compiled(_) => "compiled, baseline",
            Code::Native { .. } => "native",
            Code::Deferred | Code::Missing => "not compiled yet",
        }
    }

    /// Where its current machine code starts, once it exists.
    pub fn code_address(&self) -> Option<CodeAddr> {
        match &self.code {
            Code::Compiled(function) => Some(CodeAddr(function.code)),
            Code::Native { address, .. } => Some(CodeAddr(*address)),
            Code::Missing | Code::Deferred => None,
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
pub struct Index {
    /// Boxed: growing the table then moves pointers, not whole records (which made `entry` a sixth of
    /// loading 100,000 definitions), and its spare buckets cost a pointer each.
    functions: HashMap<Name, Box<FunctionInfo>>,
    /// Names in the order they were first seen, so listings are stable.
    order: Vec<Name>,
    /// callee -> caller -> arity the caller passes.
    callers: HashMap<Name, BTreeMap<Name, usize>>,
    /// Where its names come from.
    names: Rc<Names>,
}

impl Index {
    /// The function called `name`, if the session has seen it.
    pub fn get(&self, name: &str) -> Option<&FunctionInfo> {
        self.functions.get(name).map(|info| &**info)
    }

    /// An empty index whose names are interned in `names`.
    pub(crate) fn new(names: Rc<Names>) -> Index {
        Index { functions: HashMap::default(), order: Vec::new(), callers: HashMap::default(), names }
    }

    /// The function called `name`, created as "not yet defined" if new.
    pub(crate) fn entry(&mut self, name: &str) -> &mut FunctionInfo {
        if !self.functions.contains_key(name) {
            let name = self.names.intern(name);
            self.order.push(name.clone());
            self.functions.insert(name.clone(), Box::new(FunctionInfo::referenced(name)));
        }
        self.functions.get_mut(name).expect("just inserted")
    }

    /// Every function, in the order first seen.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionInfo> {
        self.order.iter().filter_map(|name| self.functions.get(name).map(|info| &**info))
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
        self.callers.get(name).map(|m| m.iter().map(|(c, &a)| (c.to_string(), a)).collect()).unwrap_or_default()
    }

    /// Replaces `caller`'s outgoing call edges with `calls`.
    pub(crate) fn set_calls(&mut self, caller: &str, calls: BTreeSet<(String, usize)>) {
        let info = self.entry(caller);
        if info.calls.is_empty() && calls.is_empty() {
            return;
        }
        let old = std::mem::take(&mut info.calls);
        for (callee, _) in &old {
            if let Some(map) = self.callers.get_mut(callee.as_str()) {
                map.remove(caller);
            }
        }
        let caller_name = self.names.intern(caller);
        for (callee, arity) in &calls {
            let callee = self.names.intern(callee);
            self.callers.entry(callee).or_default().insert(caller_name.clone(), *arity);
        }
        self.entry(caller).calls = calls;
    }
}
