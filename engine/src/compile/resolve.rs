//! What an entry's code sees while it compiles: where each call goes and where each global lives, with the
//! entry's own earlier items taken into account, and the warnings that calls deserve.
//!
//! The resolver adds slots and global cells to the session as code needs them; they stay unregistered
//! (no index entry, no bound name) until the entry is applied, and a rejected entry rolls them back.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use kaleido_lang::diagnostic::shorten;
use kaleido_lang::{Diagnostic, Span};

use crate::codegen::{Callee, MathInstruction, Resolve};
use crate::runtime::builtins::builtin;
use crate::tables::Tables;
use crate::tables::call_graph::CallGraph;
use crate::tables::index::{Code, FunctionKind, FunctionState};

/// The resolver of one entry's compile phase.
pub(crate) struct EntryResolver<'s> {
    pub(crate) tables: &'s mut Tables,
    /// Functions defined by earlier items of this entry, with their arity.
    pub(crate) entry_defs: HashMap<String, usize>,
    /// What each function defined by this entry so far calls (its latest definition in the entry).
    entry_calls: HashMap<String, BTreeSet<(String, usize)>>,
    /// The other way round: for a function, the entry's definitions whose calls named it (perhaps in a
    /// definition the entry replaced since: check `entry_calls`).
    entry_callers: HashMap<String, Vec<String>>,
    /// Functions bound by earlier `extern` items of this entry: arity and address.
    pub(crate) entry_externs: HashMap<String, (usize, usize)>,
    /// Global cells allocated by this entry, by name.
    new_globals: HashMap<String, u32>,
    /// Warnings found so far.
    pub(crate) warnings: Vec<Diagnostic>,
    /// The calls made by the function being compiled.
    pub(crate) calls: BTreeSet<(String, usize)>,
    /// The globals the function being compiled reads (`false`) and writes (`true`).
    pub(crate) globals_used: BTreeSet<(String, bool)>,
    /// The arities of calls through the table, whose stubs must exist before the entry is applied.
    pub(crate) call_arities: BTreeSet<usize>,
    /// Whether the code being compiled is a definition (warnings) or top-level code (no warnings: it
    /// runs at once and reports real errors).
    pub(crate) in_definition: bool,
    /// The definition being compiled (name and arity): its recursive calls need no warning.
    pub(crate) defining: Option<(String, usize)>,
}

impl<'s> EntryResolver<'s> {
    /// A resolver over `session`.
    pub(crate) fn new(tables: &'s mut Tables) -> EntryResolver<'s> {
        EntryResolver {
            tables,
            entry_defs: HashMap::default(),
            entry_calls: HashMap::default(),
            entry_callers: HashMap::default(),
            entry_externs: HashMap::default(),
            new_globals: HashMap::default(),
            warnings: Vec::new(),
            calls: BTreeSet::new(),
            globals_used: BTreeSet::new(),
            call_arities: BTreeSet::new(),
            in_definition: false,
            defining: None,
        }
    }

    /// The arity `name` has as this entry's item sees it (defined or bound by an `extern` earlier in the
    /// entry, or before).
    pub(crate) fn arity_of(&self, name: &str) -> Option<usize> {
        if let Some(&arity) = self.entry_defs.get(name) {
            return Some(arity);
        }
        if let Some(&(arity, _)) = self.entry_externs.get(name) {
            return Some(arity);
        }
        self.tables.index.get(name).filter(|f| f.state == FunctionState::Defined).and_then(|f| f.arity)
    }

    /// Records that this entry's definition of `name` calls `calls`.
    pub(crate) fn note_calls(&mut self, name: &str, calls: BTreeSet<(String, usize)>) {
        for (callee, _) in &calls {
            self.entry_callers.entry(callee.clone()).or_default().push(name.to_string());
        }
        self.entry_calls.insert(name.to_string(), calls);
    }

    /// What this entry's definitions so far call, by caller.
    pub(crate) fn entry_calls(&self) -> &HashMap<String, BTreeSet<(String, usize)>> {
        &self.entry_calls
    }

    /// `name`'s `extern` binding as this item sees it: arity and address.
    pub(crate) fn extern_binding(&self, name: &str) -> Option<(usize, usize)> {
        if let Some(&binding) = self.entry_externs.get(name) {
            return Some(binding);
        }
        let info = self.tables.index.get(name).filter(|f| f.kind == FunctionKind::Extern)?;
        match info.code {
            Code::Native { address, .. } => Some((info.arity?, address)),
            _ => None,
        }
    }

    /// The cell of global `name`, allocated (unbound) if the entry introduces it.
    pub(crate) fn global_cell(&mut self, name: &str) -> u32 {
        if let Some(&cell) = self.new_globals.get(name) {
            return cell;
        }
        if let Some(cell) = self.tables.globals.cell_of(name) {
            return cell;
        }
        let cell = self.tables.globals.allocate();
        self.new_globals.insert(name.to_string(), cell);
        cell
    }

    fn warn_about_call(&mut self, name: &str, arity: usize, span: Span) {
        let shown = shorten(name);
        match self.arity_of(name) {
            // No "did you mean" here: finding the nearest name costs the session's size, and a script
            // defining callers before callees warns once per call. The error a real call raises suggests.
            None => self.warnings.push(
                Diagnostic::warning(span, format!("`{shown}` is not defined yet"))
                    .with_note("calling it fails until it is defined"),
            ),
            Some(takes) if takes != arity => self.warnings.push(Diagnostic::warning(
                span,
                format!(
                    "`{shown}` takes {takes} argument{}, but this call passes {arity}",
                    if takes == 1 { "" } else { "s" }
                ),
            )),
            Some(_) => {}
        }
    }
}

/// The call graph as an item of the entry sees it: the session's, with the entry's earlier definitions,
/// and `name` (being defined) calling `calls`.
pub(crate) struct EntryGraph<'a, 's> {
    /// The resolver of the entry.
    pub(crate) resolver: &'a EntryResolver<'s>,
    /// The function being defined.
    pub(crate) name: &'a str,
    /// What its new definition calls.
    pub(crate) calls: &'a BTreeSet<String>,
}

impl CallGraph for EntryGraph<'_, '_> {
    fn callees(&self, name: &str) -> Vec<String> {
        if name == self.name {
            return self.calls.iter().cloned().collect();
        }
        match self.resolver.entry_calls.get(name) {
            Some(calls) => calls.iter().map(|(callee, _)| callee.clone()).collect(),
            None => self.resolver.tables.index.callees(name),
        }
    }

    fn callers(&self, name: &str) -> Vec<String> {
        let resolver = self.resolver;
        // The session's callers, but those this entry redefines (and the one being defined), whose calls
        // are the entry's now; then the entry's own.
        let mut callers: Vec<String> = (resolver.tables.index.callers(name).into_iter())
            .filter(|caller| caller != self.name && !resolver.entry_calls.contains_key(caller))
            .collect();
        let of_entry = resolver.entry_callers.get(name).into_iter().flatten();
        callers.extend(
            of_entry
                .filter(|caller| {
                    *caller != self.name
                        && resolver.entry_calls.get(*caller).is_some_and(|c| c.iter().any(|(n, _)| n == name))
                })
                .cloned(),
        );
        if self.calls.contains(name) {
            callers.push(self.name.to_string());
        }
        callers.sort();
        callers.dedup();
        callers
    }
}

impl Resolve for EntryResolver<'_> {
    /// A builtin is called at its address (or is an instruction): no binding can replace it. Everything else
    /// goes through the slot of (name, arity), externs included, so a `:forget` or a later `def` of the
    /// name reaches every caller compiled before it.
    fn callee(&mut self, name: &str, arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        if let Some(builtin) = builtin(name) {
            if builtin.arity() != arity {
                return Err(Diagnostic::error(span, arity_message(name, builtin.arity(), arity)));
            }
            if let Some(instruction) = MathInstruction::of(name) {
                return Ok(Callee::Instruction(instruction));
            }
            return Ok(Callee::Native { address: builtin.address(), takes_state: builtin.takes_state() });
        }
        let recursive = self.defining.as_ref().is_some_and(|(own, takes)| own == name && *takes == arity);
        if self.in_definition {
            if !recursive {
                self.warn_about_call(name, arity, span);
            }
        } else if let Some(takes) = self.arity_of(name)
            && takes != arity
        {
            // Top-level code runs at once: a call that cannot work is an error now, as for a builtin.
            return Err(Diagnostic::error(span, arity_message(name, takes, arity)));
        }
        self.calls.insert((name.to_string(), arity));
        self.call_arities.insert(arity);
        let slot = self.tables.slots.get_or_create(name, arity);
        Ok(Callee::Slot { address: self.tables.slots.address(slot) })
    }

    fn global(&mut self, name: &str, write: bool) -> usize {
        self.globals_used.insert((name.to_string(), write));
        let cell = self.global_cell(name);
        self.tables.globals.address(cell)
    }
}

/// "`fib` takes 1 argument, but 2 were given".
fn arity_message(name: &str, takes: usize, given: usize) -> String {
    let s = if takes == 1 { "" } else { "s" };
    let were = if given == 1 { "was" } else { "were" };
    format!("`{}` takes {takes} argument{s}, but {given} {were} given", shorten(name))
}
