//! Undoing a definition and forgetting a function (`:undo`, `:forget`).
//!
//! Undo is a redefinition: the previous version's source is entered again (under the operator meanings
//! it was parsed with), becoming a new version, so it goes through the same compile and apply phases as
//! any entry (slots repointed, stale callers warned about) and is itself undoable. Globals are values, not
//! definitions: undo never changes them.

use kaleido_lang::ast::ProtoKind;

use super::{Engine, Event, Outcome};
use crate::index::{Code, FunctionKind, FunctionState, Version};

/// The name of the entry an undo runs as (`<undo: fib@2>`): the version whose source it enters again.
pub fn undo_entry_name(name: &str, version: u32) -> String {
    format!("<undo: {name}@{version}>")
}

impl Engine {
    /// Makes the version before the current one of `name` current again, as a new version with its source.
    /// `observer` hears the entry's warnings and outcome as [`Engine::eval_observed`]'s would.
    pub fn undo(&mut self, name: &str, observer: &mut dyn FnMut(Event<'_>)) -> Result<Outcome, String> {
        let previous = self.undo_target(name)?;
        let (source, meanings, number) = (previous.source.clone(), previous.parsed_under.clone(), previous.number);
        let operators = self.session.operators.clone();
        self.session.operators = operators.with_meanings(&meanings);
        let outcome = self.eval_observed(&undo_entry_name(name, number), &source, observer);
        // The table is the one before, with the restored definition's operator (if it is one) as it is now.
        self.session.operators = operators;
        if let Some(info) = self.session.index.get(name) {
            let kind = info.operator;
            self.session.operators.define(&kind);
        }
        outcome.map_err(|rejected| {
            let message = rejected.diagnostics.iter().rev().find(|d| d.is_error()).map(|d| d.message.clone());
            format!("version {number} of `{name}` no longer compiles: {}", message.unwrap_or_default())
        })
    }

    /// The version [`Engine::undo`] would make current again: the one before the current version (whose
    /// source, since the current version may itself be an undo).
    pub fn undo_target(&self, name: &str) -> Result<&Version, String> {
        let info = self.session.index.get(name).ok_or_else(|| format!("no function named `{name}`"))?;
        if !matches!(info.kind, FunctionKind::User | FunctionKind::Prelude) || info.state != FunctionState::Defined {
            return Err(format!("`{name}` has no definition to undo"));
        }
        let current = info.version() as usize;
        current
            .checked_sub(2)
            .and_then(|i| info.history.get(i))
            .ok_or_else(|| format!("`{name}` has only one version; `:forget {name}` removes it"))
    }

    /// Removes the function `name`: calls to it raise "not defined" from now on. Its history stays, so
    /// `:show` still lists its versions. An operator is removed from the operator table too.
    pub fn forget(&mut self, name: &str) -> Result<(), String> {
        let info = self.session.index.get(name).ok_or_else(|| format!("no function named `{name}`"))?;
        match (info.kind, info.state) {
            (FunctionKind::Builtin, _) => return Err(format!("`{name}` is a builtin and cannot be forgotten")),
            (_, FunctionState::NotYetDefined) => return Err(format!("`{name}` is not defined")),
            _ => {}
        }
        let operator = info.operator;
        let info = self.session.index.entry(name);
        if let Some(current) = info.history.last_mut() {
            current.retired = true;
        }
        info.state = FunctionState::NotYetDefined;
        info.kind = FunctionKind::User;
        info.operator = ProtoKind::Plain;
        info.arity = None;
        match std::mem::take(&mut info.code) {
            Code::Compiled(old) | Code::Native { adapter: Some(old), .. } => self.retired.extend(old.ranges()),
            Code::Native { adapter: None, .. } | Code::Deferred | Code::Missing => {}
        }
        self.session.index.set_calls(name, Default::default());
        for (_, slot) in self.session.slots.of_name(name) {
            let invalidated = self.lazy.borrow_mut().forget(self.session.slots.address(slot));
            self.invalidate(invalidated, name);
            self.refresh_slot(slot);
        }
        self.session.operators.remove(&operator);
        self.collect();
        Ok(())
    }
}
