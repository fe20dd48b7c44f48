//! Undoing a definition and forgetting a function (`:undo`, `:forget`).
//!
//! Undo is a redefinition: the previous version's source is entered again (under the operator meanings
//! it was parsed with), becoming a new version, so it goes through the same compile and apply phases as
//! any entry (slots repointed, stale callers warned about) and is itself undoable. Globals are values, not
//! definitions: undo never changes them.

use super::{Engine, Event, Outcome};
use crate::base::request_error::RequestError;
use crate::tables::index::{Binding, FunctionKind, FunctionState, Version};

impl Engine {
    /// Makes the version before the current one of `name` current again, as a new version with its source.
    /// The entry runs named `entry_name` (the front end's name for it, such as `<undo: fib@2>`);
    /// `observer` hears the entry's warnings and outcome as [`Engine::eval_observed`]'s would.
    pub fn undo(
        &mut self,
        name: &str,
        entry_name: &str,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Outcome, RequestError> {
        let previous = self.undo_target(name)?;
        let (source, meanings, number) = (previous.source.clone(), previous.parsed_under.clone(), previous.number);
        let operators = self.tables.operators.clone();
        self.tables.change_operators(|table| *table = operators.with_meanings(&meanings));
        let outcome = self.eval_observed(entry_name, &source, observer);
        // The table is the one before, with the restored definition's operator (if it is one) as it is now.
        let kind = self.tables.index.get(name).map(|info| info.operator);
        self.tables.change_operators(|table| {
            *table = operators;
            kind.iter().for_each(|kind| table.define(kind));
        });
        outcome.map_err(|rejected| {
            let message = rejected.diagnostics.iter().rev().find(|d| d.is_error()).map(|d| d.message.clone());
            RequestError::NoLongerCompiles {
                name: name.to_string(),
                version: number,
                message: message.unwrap_or_default(),
            }
        })
    }

    /// The version [`Engine::undo`] would make current again: the one before the current version (whose
    /// source, since the current version may itself be an undo).
    pub fn undo_target(&self, name: &str) -> Result<&Version, RequestError> {
        let info = self.tables.index.get(name).ok_or_else(|| RequestError::NoSuchFunction(name.to_string()))?;
        if !matches!(info.kind, FunctionKind::User | FunctionKind::Prelude) || info.state != FunctionState::Defined {
            return Err(RequestError::NothingToUndo(name.to_string()));
        }
        let current = info.version() as usize;
        current
            .checked_sub(2)
            .and_then(|i| info.history.get(i))
            .ok_or_else(|| RequestError::OnlyOneVersion(name.to_string()))
    }

    /// Removes the function `name`: calls to it raise "not defined" from now on. Its history stays, so
    /// `:show` still lists its versions. An operator is removed from the operator table too.
    pub fn forget(&mut self, name: &str) -> Result<(), RequestError> {
        let info = self.tables.index.get(name).ok_or_else(|| RequestError::NoSuchFunction(name.to_string()))?;
        match (info.kind, info.state) {
            (FunctionKind::Builtin, _) => return Err(RequestError::BuiltinForgotten(name.to_string())),
            (_, FunctionState::NotYetDefined) => return Err(RequestError::NotDefined(name.to_string())),
            _ => {}
        }
        let operator = info.operator;
        let invalidated = self.applier().forget_bodies(name);
        if let Some(current) = self.tables.index.entry(name).history.last_mut() {
            current.retired = true;
        }
        self.applier().bind(name, Binding::Unbound);
        self.tables.index.set_calls(name, Default::default());
        self.applier().invalidate(invalidated, name);
        self.tables.change_operators(|table| table.remove(&operator));
        self.collect();
        Ok(())
    }
}
