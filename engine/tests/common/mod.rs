//! Helpers shared by the engine's integration tests.

use kaleido_engine::{Engine, ItemOutcome};

/// Evaluates `text`, which must succeed, and returns the value of its last item.
pub fn value(engine: &mut Engine, text: &str) -> f64 {
    let outcome = engine.eval("<t>", text).expect("accepted");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    match outcome.items.last() {
        Some(ItemOutcome::Value(v)) => *v,
        other => panic!("no value: {other:?}"),
    }
}
