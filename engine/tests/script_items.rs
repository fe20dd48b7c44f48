//! A script's items parsed once (issue 27): the tree `next_script_item` parses is the one
//! `eval_script_item` runs, unless the operators changed in between, when the text is analyzed again.

use kaleido_engine::{Engine, EngineOptions, ItemOutcome, RuntimeErrorKind, ScriptItem};

fn engine() -> Engine {
    Engine::new(EngineOptions::default(), Box::new(std::io::sink())).expect("engine")
}

fn value_of(engine: &mut Engine, text: &str, item: ScriptItem) -> f64 {
    let outcome = engine.eval_script_item("<s>", &text[item.span.range()], item, &mut |_| {}).expect("compiles");
    match outcome.items.as_slice() {
        [ItemOutcome::Value(v)] => *v,
        other => panic!("not one value: {other:?}"),
    }
}

#[test]
fn an_item_runs_as_parsed_and_a_changed_table_parses_it_again() {
    let script = "  # a comment\n  2 % 1 * 3 ; ";
    let mut e = engine();
    e.eval("<s>", "def binary% 50 (a b) a - b").expect("defines");
    let item = e.next_script_item(script, 0).expect("not interrupted").expect("an item");
    assert_eq!(&script[item.span.range()], "2 % 1 * 3");
    assert_eq!(value_of(&mut e, script, item), 3.0, "(2 % 1) * 3 under precedence 50");
    assert_eq!(e.next_script_item(script, item.span.end as usize), Some(None), "nothing follows");

    let item = e.next_script_item(script, 0).expect("not interrupted").expect("an item");
    e.eval("<s>", "def binary% 10 (a b) a - b").expect("redefines with a lower precedence");
    assert_eq!(value_of(&mut e, script, item), -1.0, "2 % (1 * 3): parsed again under the new table");
}

#[test]
fn a_bad_item_is_reported_as_its_own_entry_would_be() {
    let script = "def f(x) x _\nf(2)\n";
    let mut e = engine();
    let bad = e.next_script_item(script, 0).expect("not interrupted").expect("an item");
    assert_eq!(&script[bad.span.range()], "def f(x) x _", "the unreadable character joins the item on its line");
    let rejected = e.eval_script_item("<s>", &script[bad.span.range()], bad, &mut |_| {}).expect_err("rejected");
    let entry = e.eval("<s>", "def f(x) x _").expect_err("rejected");
    assert_eq!(rejected.diagnostics, entry.diagnostics);
    let next = e.next_script_item(script, bad.span.end as usize).expect("not interrupted").expect("an item");
    let outcome = e.eval_script_item("<s>", &script[next.span.range()], next, &mut |_| {}).expect("compiles");
    let error = outcome.error.expect("f was never defined");
    assert!(matches!(error.kind, RuntimeErrorKind::Undefined { ref name, .. } if name == "f"), "{error:?}");
}
