//! Generated code on request (`:clif`, `:asm`, `:compile`): a version's Cranelift IR and machine code, a
//! deferred definition compiled now, and what an address in generated code refers to.
//!
//! The current version's machine code is the code that runs, copied from code memory. IR is not kept (it
//! would cost every compile a printout): for the IR, a retired version or an expression, the text is
//! compiled again in a throwaway unit that keeps it, giving the same IR and code (slots and global cells
//! never move), and the session is rolled back afterwards, so nothing changes.

use kaleido_lang::Operators;

use super::Engine;
use crate::backend::{CompiledFunction, StubKind};
use crate::base::request_error::RequestError;
use crate::compile::{CompiledItem, DefBody, StagingError, TopLevel};
use crate::machine::code_memory::copy_code;
use crate::runtime::builtins::BUILTINS;
use crate::runtime::{ABORT_OFFSET, HOOKS, Raised, STACK_LIMIT_OFFSET};
use crate::tables::index::{Code, FunctionKind, FunctionState};

/// One function's generated code.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Whose code it is.
    pub subject: Subject,
    /// How it was obtained or how it is entered, when that is worth saying.
    pub notes: Vec<ListingNote>,
    /// The Cranelift IR, as Cranelift prints it.
    pub clif: String,
    /// The machine code (with the constants Cranelift placed after it).
    pub code: Vec<u8>,
    /// Where the code starts (where it runs, or ran while it was listed).
    pub address: usize,
    /// What addresses the code uses refer to when the engine no longer knows them: the slots a throwaway
    /// compile made for names nothing else calls, gone when it was rolled back.
    pub names: Vec<(usize, AddressOf)>,
}

/// Whose code a [`Listing`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Version `version` of the function `name`.
    Function {
        /// The function.
        name: String,
        /// The version.
        version: u32,
    },
    /// The top-level code of this expression (compiled for the listing, never run).
    Expression(String),
}

/// Something worth saying about a [`Listing`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListingNote {
    /// The definition was deferred to its first call (lazy) and was compiled now, for good.
    CompiledNow,
    /// The version is retired; this is the code its source compiles to now.
    Retired {
        /// The version.
        version: u32,
    },
    /// Its frame is too large to go unchecked: calls enter a guard at `guard` that checks it fits.
    Guarded {
        /// The frame's size in bytes.
        frame: usize,
        /// Where the guard is.
        guard: usize,
    },
}

/// One slot of the indirection table (`:table`).
#[derive(Clone, Debug)]
pub struct SlotRow {
    /// The function name callers use.
    pub name: String,
    /// The number of arguments callers pass.
    pub arity: usize,
    /// Where the slot is.
    pub address: usize,
    /// Where it points.
    pub target: usize,
    /// What that is (`None`: code the engine does not know, which would be a bug).
    pub points_to: Option<AddressOf>,
}

/// What an address found in generated code refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressOf {
    /// The slot of (name, arity).
    Slot(String, usize),
    /// The runtime's abort word.
    AbortWord,
    /// The runtime's stack limit.
    StackLimit,
    /// The runtime state.
    RuntimeState,
    /// A runtime hook (`k_raise`, `k_frame`, `k_lazy_enter`, `k_tier_up`).
    Hook(&'static str),
    /// The call counter of a code (named as backtraces name it).
    CallCounter(String),
    /// A builtin.
    Builtin(&'static str),
    /// A global's cell.
    Global(String),
    /// A version of a function's code.
    Function(String, u32),
    /// A C function bound by `extern`.
    Extern(String),
    /// The adapter through which callers reach an extern.
    ExternAdapter(String),
    /// A stub shared by every slot of an arity.
    Stub(StubKind, usize),
}

/// What to list.
#[derive(Clone, Debug)]
pub enum ListingOf {
    /// Version `version` (the current one when `None`) of the function `name`.
    Function {
        /// The function's name (`fib`, `binary|`).
        name: String,
        /// The version; the current one when `None`.
        version: Option<u32>,
    },
    /// The top-level code of an expression (compiled for the listing, never run).
    Expression(String),
}

impl Engine {
    /// The generated code of `what`. A deferred (lazy) definition is compiled now, for good, and the
    /// listing says so.
    pub fn listing(&mut self, what: &ListingOf) -> Result<Listing, RequestError> {
        match what {
            ListingOf::Expression(text) => {
                let operators = self.tables.operators.clone();
                let mut listings = self.compile_throwaway(text, &operators)?;
                let (_, mut listing) = listings.pop().ok_or(RequestError::NoCode)?;
                listing.subject = Subject::Expression(text.trim().to_string());
                Ok(listing)
            }
            ListingOf::Function { name, version } => self.function_listing(name, *version),
        }
    }

    fn function_listing(&mut self, name: &str, version: Option<u32>) -> Result<Listing, RequestError> {
        let info = self.tables.index.get(name).ok_or_else(|| RequestError::NoSuchFunction(name.to_string()))?;
        match (info.kind, info.state) {
            (FunctionKind::Builtin, _) => return Err(RequestError::BuiltinHasNoCode(name.to_string())),
            (FunctionKind::Extern, _) => return Err(RequestError::ExternHasNoCode(name.to_string())),
            (_, FunctionState::NotYetDefined) => return Err(RequestError::NotDefinedNoCode(name.to_string())),
            _ => {}
        }
        let current = info.version();
        let k = version.unwrap_or(current);
        let no_version = || RequestError::NoSuchVersion { name: name.to_string(), version: k };
        let source = (k as usize).checked_sub(1).and_then(|i| info.history.get(i)).ok_or_else(no_version)?;
        let (source, meanings) = (source.source.clone(), source.parsed_under.clone());
        let subject = Subject::Function { name: name.to_string(), version: k };
        if k != current {
            let operators = self.tables.operators.with_meanings(&meanings);
            let (_, mut listing) = self.throwaway_definition(&source, &operators)?;
            listing.subject = subject;
            listing.notes = vec![ListingNote::Retired { version: k }];
            return Ok(listing);
        }
        let mut notes = Vec::new();
        if matches!(info.code, Code::Deferred) {
            self.compile_now(name)?;
            notes.push(ListingNote::CompiledNow);
        }
        let Some(Code::Compiled(function)) = self.tables.index.get(name).map(|f| &f.code) else {
            return Err(RequestError::NoCodeYet(name.to_string()));
        };
        let (address, size) = function.body();
        let code = copy_code(address, size);
        if function.guarded.is_some() {
            notes.push(ListingNote::Guarded { frame: function.frame as usize, guard: function.code });
        }
        let clif = self.throwaway_definition(&source, &self.tables.operators.with_meanings(&meanings))?.1.clif;
        Ok(Listing { subject, notes, clif, code, address, names: Vec::new() })
    }

    /// Compiles the deferred body of `name` now, as its first call would; `false` if it had none.
    pub fn compile_now(&mut self, name: &str) -> Result<bool, RequestError> {
        let Some(info) = self.tables.index.get(name) else {
            return Err(RequestError::NoSuchFunction(name.to_string()));
        };
        let (Code::Deferred, Some(arity)) = (&info.code, info.arity) else { return Ok(false) };
        let Some(slot) = self.tables.slots.get(name, arity) else { return Ok(false) };
        let address = self.tables.slots.address(slot);
        let compiled = crate::runtime::LazyHook::compile(&*self.lazy, address);
        compiled.map_err(|raised| match raised {
            Raised::Interrupted => RequestError::Interrupted,
            Raised::CompileFailed { reason, .. } => RequestError::CompileFailed { name: name.to_string(), reason },
            // The lazy hook raises nothing else; should it, the request still fails rather than lie.
            _ => RequestError::CompileFailed { name: name.to_string(), reason: String::new() },
        })?;
        let mut applier = self.applier();
        applier.record_lazily_compiled();
        applier.refresh_slot(slot);
        Ok(true)
    }

    /// Compiles the definition `text` in a throwaway unit: its name and listing.
    fn throwaway_definition(&mut self, text: &str, operators: &Operators) -> Result<(String, Listing), RequestError> {
        let mut listings = self.compile_throwaway(text, operators)?;
        listings.retain(|(name, _)| name.is_some());
        let (name, listing) = listings.pop().ok_or(RequestError::DefinesNothing)?;
        Ok((name.unwrap_or_default(), listing))
    }

    /// Compiles `text` eagerly, keeping its IR, copies the code of every function it makes, then frees
    /// the code and rolls the session back: nothing changes. Definitions are named, top-level code not.
    fn compile_throwaway(
        &mut self,
        text: &str,
        operators: &Operators,
    ) -> Result<Vec<(Option<String>, Listing)>, RequestError> {
        let mark = self.tables.mark();
        let keep = self.backend.borrow().keeps_clif();
        self.backend.borrow_mut().keep_clif(true);
        let options = self.code_options(false);
        let slots_before = self.tables.slots.len();
        let (compiled, _) = self.stage(text, super::Parse::Text(Some(operators)), options, false);
        let slots = &self.tables.slots;
        let names: Vec<(usize, AddressOf)> = (slots.since(slots_before))
            .map(|slot| {
                let (name, arity) = slots.key(slot);
                (slots.address(slot), AddressOf::Slot(name.to_string(), arity))
            })
            .collect();
        self.tables.rollback(mark);
        self.backend.borrow_mut().keep_clif(keep);
        let entry = match compiled {
            Ok(entry) => entry,
            Err(StagingError::Rejected(diagnostics)) => {
                let error = diagnostics.iter().rev().find(|d| d.is_error()).map(|d| d.message.clone());
                return Err(RequestError::DoesNotCompile(error));
            }
            Err(StagingError::Interrupted) => return Err(RequestError::Interrupted),
        };
        let mut listings = Vec::new();
        let mut ranges = Vec::new();
        for (item, _) in entry.items {
            let (name, function): (Option<String>, CompiledFunction) = match item {
                CompiledItem::Def { function, body: DefBody::Eager(code), .. } => (Some(function.proto.name), code),
                CompiledItem::Expr { thunk: TopLevel::Compiled(thunk), .. } => (None, thunk),
                _ => continue,
            };
            let clif = function.clif.clone().unwrap_or_default();
            let code = copy_code(function.code, function.size);
            let subject = Subject::Expression(String::new());
            let (address, names) = (function.code, names.clone());
            let listing = Listing { subject, notes: Vec::new(), clif, code, address, names };
            listings.push((name, listing));
            ranges.extend(function.ranges());
        }
        self.backend.borrow().free(&ranges);
        Ok(listings)
    }

    /// Every slot of the indirection table, in the order they were made.
    pub fn table(&self) -> Vec<SlotRow> {
        let slots = &self.tables.slots;
        (slots.since(0))
            .map(|slot| {
                let (name, arity) = slots.key(slot);
                let target = slots.target(slot);
                let points_to = self.describe_address(target);
                SlotRow { name: name.to_string(), arity, address: slots.address(slot), target, points_to }
            })
            .collect()
    }

    /// What the address `address`, found in generated code, refers to: a slot, a global, a runtime word,
    /// a hook, a builtin, an extern, a stub, or a function's code.
    pub fn describe_address(&self, address: usize) -> Option<AddressOf> {
        if let Some(slot) = self.tables.slots.at_address(address) {
            let (name, arity) = self.tables.slots.key(slot);
            return Some(AddressOf::Slot(name.to_string(), arity));
        }
        let runtime = self.backend.borrow().runtime();
        let signals = [
            (runtime.signals + ABORT_OFFSET as usize, AddressOf::AbortWord),
            (runtime.signals + STACK_LIMIT_OFFSET as usize, AddressOf::StackLimit),
            (runtime.state, AddressOf::RuntimeState),
            (HOOKS.raise(), AddressOf::Hook("k_raise")),
            (HOOKS.frame(), AddressOf::Hook("k_frame")),
            (HOOKS.lazy_enter(), AddressOf::Hook("k_lazy_enter")),
            (HOOKS.tier_up(), AddressOf::Hook("k_tier_up")),
        ];
        if let Some((_, what)) = signals.into_iter().find(|(at, _)| *at == address) {
            return Some(what);
        }
        if let Some(code) = self.tables.counter_at(address) {
            return Some(AddressOf::CallCounter(self.tables.code_name(code).to_string()));
        }
        if let Some(builtin) = BUILTINS.iter().find(|b| b.address() == address) {
            return Some(AddressOf::Builtin(builtin.name));
        }
        for (name, _) in self.tables.globals.all() {
            if self.tables.globals.cell_of(&name).map(|cell| self.tables.globals.address(cell)) == Some(address) {
                return Some(AddressOf::Global(name));
            }
        }
        for info in self.tables.index.functions() {
            match &info.code {
                Code::Compiled(function) if function.code == address => {
                    return Some(AddressOf::Function(info.name.to_string(), info.version()));
                }
                Code::Native { address: native, .. } if *native == address => {
                    return Some(AddressOf::Extern(info.name.to_string()));
                }
                Code::Native { adapter: Some(adapter), .. } if adapter.code == address => {
                    return Some(AddressOf::ExternAdapter(info.name.to_string()));
                }
                _ => {}
            }
        }
        self.backend.borrow().stub_at(address).map(|(kind, arity)| AddressOf::Stub(kind, arity))
    }
}
