//! Generated code on request (`:clif`, `:asm`, `:compile`): a version's Cranelift IR and machine code, a
//! deferred definition compiled now, and what an address in generated code refers to.
//!
//! The current version's machine code is the code that runs, copied from code memory. IR is not kept (it
//! would cost every compile a printout): for the IR, a retired version or an expression, the text is
//! compiled again in a throwaway unit that keeps it, giving the same IR and code (slots and global cells
//! never move), and the session is rolled back afterwards, so nothing changes.

use kaleido_lang::Operators;

use super::Engine;
use crate::backend::CompiledFunction;
use crate::builtins::BUILTINS;
use crate::code_memory::copy_code;
use crate::compile::{CompiledItem, DefBody, StagingError};
use crate::index::{Code, FunctionKind, FunctionState};
use crate::runtime::{ABORT_OFFSET, STACK_LIMIT_OFFSET, k_frame, k_lazy_compile, k_raise, k_tier_up};

/// One function's generated code, for people.
#[derive(Clone, Debug)]
pub struct Listing {
    /// What it is: `fib, version 2`, `the top-level code of fib(30)`.
    pub title: String,
    /// How it was obtained, when that is worth saying ("compiled now: it was deferred").
    pub note: Option<String>,
    /// The Cranelift IR, as Cranelift prints it.
    pub clif: String,
    /// The machine code (with the constants Cranelift placed after it).
    pub code: Vec<u8>,
    /// Where the code starts (where it runs, or ran while it was listed).
    pub address: usize,
    /// Names of addresses the code uses that the engine no longer knows: the slots a throwaway compile
    /// made for names nothing else calls, gone when it was rolled back.
    pub names: Vec<(usize, String)>,
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
    /// What that is: `fib v2`, `lazy stub/1`, `wrong-arity stub/1`, `extern hypot`.
    pub points_to: String,
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
    pub fn listing(&mut self, what: &ListingOf) -> Result<Listing, String> {
        match what {
            ListingOf::Expression(text) => {
                let operators = self.session.operators.clone();
                let mut listings = self.compile_throwaway(text, &operators)?;
                let (_, mut listing) = listings.pop().ok_or("there is no code to show")?;
                listing.title = format!("the top-level code of `{}`", text.trim());
                Ok(listing)
            }
            ListingOf::Function { name, version } => self.function_listing(name, *version),
        }
    }

    fn function_listing(&mut self, name: &str, version: Option<u32>) -> Result<Listing, String> {
        let info = self.session.index.get(name).ok_or_else(|| format!("no function named `{name}`"))?;
        match (info.kind, info.state) {
            (FunctionKind::Builtin, _) => return Err(format!("`{name}` is a builtin: its code is kaleido's own Rust")),
            (FunctionKind::Extern, _) => return Err(format!("`{name}` is an extern: its code is the C library's")),
            (_, FunctionState::NotYetDefined) => return Err(format!("`{name}` is not defined: it has no code")),
            _ => {}
        }
        let current = info.version();
        let k = version.unwrap_or(current);
        let source = info.history.get(k as usize - 1).ok_or_else(|| format!("`{name}` has no version {k}"))?;
        let (source, meanings) = (source.source.clone(), source.parsed_under.clone());
        let title = format!("{name}, version {k}");
        if k != current {
            let operators = self.session.operators.with_meanings(&meanings);
            let (_, mut listing) = self.throwaway_definition(&source, &operators)?;
            listing.title = title;
            listing.note = Some(format!("version {k} is retired; this is the code its source compiles to"));
            return Ok(listing);
        }
        let mut note = None;
        if matches!(info.code, Code::Deferred) {
            self.compile_now(name)?;
            note = Some("compiled now: it was deferred to its first call (lazy)".to_string());
        }
        let Some(Code::Compiled(function)) = self.session.index.get(name).map(|f| &f.code) else {
            return Err(format!("`{name}` has no code yet"));
        };
        let (address, size) = function.body();
        let code = copy_code(address, size);
        if function.guarded.is_some() {
            let guard = format!(
                "its {}-byte frame is too large to go unchecked: calls enter a guard at {:#x} that checks it fits, then jump here",
                function.frame, function.code
            );
            note = Some(note.map_or(guard.clone(), |note| format!("{note}; {guard}")));
        }
        let clif = self.throwaway_definition(&source, &self.session.operators.with_meanings(&meanings))?.1.clif;
        Ok(Listing { title, note, clif, code, address, names: Vec::new() })
    }

    /// Compiles the deferred body of `name` now, as its first call would; `false` if it had none.
    pub fn compile_now(&mut self, name: &str) -> Result<bool, String> {
        let Some(info) = self.session.index.get(name) else { return Err(format!("no function named `{name}`")) };
        let (Code::Deferred, Some(arity)) = (&info.code, info.arity) else { return Ok(false) };
        let Some(slot) = self.session.slots.get(name, arity) else { return Ok(false) };
        let address = self.session.slots.address(slot);
        let compiled = crate::runtime::LazyHook::compile(&*self.lazy, address);
        compiled.map_err(|raised| format!("compiling `{name}` failed: {raised:?}"))?;
        self.record_lazily_compiled();
        self.refresh_slot(slot);
        Ok(true)
    }

    /// Compiles the definition `text` in a throwaway unit: its name and listing.
    fn throwaway_definition(&mut self, text: &str, operators: &Operators) -> Result<(String, Listing), String> {
        let mut listings = self.compile_throwaway(text, operators)?;
        listings.retain(|(name, _)| name.is_some());
        let (name, listing) = listings.pop().ok_or("the source defines nothing")?;
        Ok((name.unwrap_or_default(), listing))
    }

    /// Compiles `text` eagerly, keeping its IR, copies the code of every function it makes, then frees
    /// the code and rolls the session back: nothing changes. Definitions are named, top-level code not.
    fn compile_throwaway(
        &mut self,
        text: &str,
        operators: &Operators,
    ) -> Result<Vec<(Option<String>, Listing)>, String> {
        let mark = self.session.mark();
        let keep = self.backend.borrow().keeps_clif();
        self.backend.borrow_mut().keep_clif(true);
        let options = self.code_options(false);
        let slots_before = self.session.slots.len();
        let (compiled, _) = self.stage(text, Some(operators), options, false);
        let slots = &self.session.slots;
        let names: Vec<(usize, String)> = (slots.since(slots_before))
            .map(|slot| {
                let (name, arity) = slots.key(slot);
                (slots.address(slot), format!("slot {name}/{arity}"))
            })
            .collect();
        self.session.rollback(mark);
        self.backend.borrow_mut().keep_clif(keep);
        let entry = match compiled {
            Ok(entry) => entry,
            Err(StagingError::Rejected(diagnostics)) => {
                let error = diagnostics.iter().rev().find(|d| d.is_error()).map(|d| d.message.clone());
                return Err(error.unwrap_or_else(|| "it does not compile".to_string()));
            }
            Err(StagingError::Interrupted) => return Err("interrupted".to_string()),
        };
        let mut listings = Vec::new();
        let mut ranges = Vec::new();
        for (item, _) in entry.items {
            let (name, function): (Option<String>, CompiledFunction) = match item {
                CompiledItem::Def { function, body: DefBody::Eager(code), .. } => (Some(function.proto.name), code),
                CompiledItem::Expr { thunk, .. } => (None, thunk),
                _ => continue,
            };
            let clif = function.clif.clone().unwrap_or_default();
            let code = copy_code(function.code, function.size);
            let title = name.clone().unwrap_or_default();
            let listing = Listing { title, note: None, clif, code, address: function.code, names: names.clone() };
            listings.push((name, listing));
            ranges.extend(function.ranges());
        }
        self.backend.borrow().free(&ranges);
        Ok(listings)
    }

    /// Every slot of the indirection table, in the order they were made.
    pub fn table(&self) -> Vec<SlotRow> {
        let slots = &self.session.slots;
        (slots.since(0))
            .map(|slot| {
                let (name, arity) = slots.key(slot);
                let target = slots.target(slot);
                let points_to = self.describe_address(target).unwrap_or_else(|| "unknown code".to_string());
                SlotRow { name: name.to_string(), arity, address: slots.address(slot), target, points_to }
            })
            .collect()
    }

    /// What the address `address`, found in generated code, refers to: a slot (`slot fib/1`), a global, a
    /// runtime word, a hook, a builtin, an extern, a stub, or a function's code.
    pub fn describe_address(&self, address: usize) -> Option<String> {
        if let Some(slot) = self.session.slots.at_address(address) {
            let (name, arity) = self.session.slots.key(slot);
            return Some(format!("slot {name}/{arity}"));
        }
        let runtime = self.backend.borrow().runtime();
        let signals = [
            (runtime.signals + ABORT_OFFSET as usize, "abort word"),
            (runtime.signals + STACK_LIMIT_OFFSET as usize, "stack limit"),
            (runtime.state, "runtime state"),
            (k_raise as *const () as usize, "hook k_raise (record an error)"),
            (k_frame as *const () as usize, "hook k_frame (record this frame)"),
            (k_lazy_compile as *const () as usize, "hook k_lazy_compile"),
            (k_tier_up as *const () as usize, "hook k_tier_up (recompile a hot function)"),
        ];
        if let Some((_, what)) = signals.iter().find(|(at, _)| *at == address) {
            return Some(what.to_string());
        }
        if let Some(code) = self.session.counter_at(address) {
            return Some(format!("call counter of {}", self.session.code_name(code)));
        }
        if let Some(builtin) = BUILTINS.iter().find(|b| b.address() == address) {
            return Some(format!("builtin {}", builtin.name));
        }
        for (name, _) in self.session.globals.all() {
            if self.session.globals.cell_of(&name).map(|cell| self.session.globals.address(cell)) == Some(address) {
                return Some(format!("global {name}"));
            }
        }
        for info in self.session.index.functions() {
            match &info.code {
                Code::Compiled(function) if function.code == address => {
                    return Some(format!("{} v{}", info.name, info.version()));
                }
                Code::Native { address: native, .. } if *native == address => {
                    return Some(format!("extern {}", info.name));
                }
                Code::Native { adapter: Some(adapter), .. } if adapter.code == address => {
                    return Some(format!("extern {} (its adapter)", info.name));
                }
                _ => {}
            }
        }
        self.backend.borrow().stub_at(address)
    }
}
