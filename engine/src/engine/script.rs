//! A script's items, each parsed once: the parse that finds where an item ends is the parse the engine
//! checks and compiles (`kaleido_lang::next_item`).
//!
//! A runner asks for the next item, which is parsed under the operators the session has at that moment
//! (so an operator a failed item did not define is not assumed), then evaluates it at once. The tree is
//! kept here between the two calls, with the state of the operator table it was parsed under; if the
//! table changed in between, or the tree is not the item's, the item's text is analyzed again, as any
//! entry is, so a stale parse can never run.

use kaleido_lang::Span;
use kaleido_lang::next_item::{next_item_start, parse_next_item};
use kaleido_lang::parser::Parsed;
use kaleido_lang::span::MAX_SOURCE_LEN;

use super::{Engine, Event, Outcome, entry_limits};
use crate::base::error::Rejected;
use crate::tables::index::FunctionKind;

/// An item of a script, found by [`Engine::next_script_item`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptItem {
    /// Where it stands in the script: from its first token to its last (or, after a syntax error, to where
    /// the next item starts).
    pub span: Span,
}

/// The tree of the item last found, waiting to be evaluated.
pub(crate) struct PendingParse {
    span: Span,
    generation: u64,
    tree: Parsed,
}

impl Engine {
    /// The next item of the script `text` at or after byte `from` (`Some(None)`: there is none), parsed
    /// under the operators the session has now, on the compile stack. `None`: an interrupt stopped the
    /// parse (it stays pending, so the next entry reports it). Evaluate the item with
    /// [`Engine::eval_script_item`] next.
    pub fn next_script_item(&self, text: &str, from: usize) -> Option<Option<ScriptItem>> {
        let start = next_item_start(text, from);
        let interrupt = self.runtime.interrupt_handle();
        let stop = || interrupt.is_requested();
        let (operators, generation) = (&self.tables.operators, self.tables.operators_generation());
        self.compile_stack.run(|| {
            // The tree of an item never evaluated is dropped here, where its depth is safe.
            drop(self.pending_parse.take());
            if start == text.len() {
                return Some(None);
            }
            let next = parse_next_item(&text[start..], operators, entry_limits(), &stop)?;
            let span = Span::new(start, start + next.len);
            if let Some(tree) = next.parsed.filter(|_| next.len <= MAX_SOURCE_LEN) {
                *self.pending_parse.borrow_mut() = Some(PendingParse { span, generation, tree });
            }
            Some(Some(ScriptItem { span }))
        })
    }

    /// Evaluates `item` (from [`Engine::next_script_item`]) as the entry `source_name` of text `text`: the
    /// item's text, with the comment that ends its line if any. Its tree is checked and compiled as it
    /// was parsed when the operators have not changed since; otherwise, and for an item with any
    /// diagnostic, `text` is analyzed as [`Engine::eval_observed`] does.
    pub fn eval_script_item(
        &mut self,
        source_name: &str,
        text: &str,
        item: ScriptItem,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Outcome, Rejected> {
        let pending = self.pending_parse.take();
        let generation = self.tables.operators_generation();
        let (fresh, stale) = match pending {
            Some(p) if p.span == item.span && p.generation == generation && text.len() >= item.span.range().len() => {
                (Some(p.tree), None)
            }
            other => (None, other),
        };
        self.compile_stack.run(|| drop(stale));
        self.eval_as(source_name, text, FunctionKind::User, fresh, observer)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineOptions};

    fn engine() -> Engine {
        Engine::new(EngineOptions::default(), Box::new(std::io::sink())).expect("engine")
    }

    /// The tree `next_script_item` parsed is the one `eval_script_item` takes, for a clean item; an item
    /// with a diagnostic leaves no tree (its text is analyzed as an entry's).
    #[test]
    fn a_clean_item_is_parsed_once_and_its_tree_taken() {
        let script = "def f(x) x * 2\ndef g(x) x _\n";
        let mut e = engine();
        let item = e.next_script_item(script, 0).expect("not interrupted").expect("an item");
        assert!(e.pending_parse.borrow().is_some(), "the tree waits for its evaluation");
        e.eval_script_item("<s>", &script[item.span.range()], item, &mut |_| {}).expect("defines f");
        assert!(e.pending_parse.borrow().is_none(), "and was taken");
        let bad = e.next_script_item(script, item.span.end as usize).expect("not interrupted").expect("an item");
        assert!(e.pending_parse.borrow().is_none(), "a bad item keeps no tree");
        assert!(e.eval_script_item("<s>", &script[bad.span.range()], bad, &mut |_| {}).is_err());
    }
}
