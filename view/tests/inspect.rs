//! The inspection API every front end shares (issue 14): listings, the table, modules, undo and forget,
//! in both JIT modes.

use kaleido_engine::{Engine, EngineOptions, ItemOutcome, JitMode, ListingNote, ListingOf};
use kaleido_view::{disasm, inspect};

/// Evaluates `text`, which must succeed, and returns the value of its last item.
fn value(engine: &mut Engine, text: &str) -> f64 {
    let outcome = engine.eval("<t>", text).expect("accepted");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    match outcome.items.last() {
        Some(ItemOutcome::Value(v)) => *v,
        other => panic!("no value: {other:?}"),
    }
}

fn engine(jit: JitMode) -> Engine {
    // One call in tier 0, so a function's second call compiles it.
    let options = EngineOptions { jit, tier0_calls: 1, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

fn function(name: &str) -> ListingOf {
    ListingOf::Function { name: name.to_string(), version: None }
}

#[test]
fn a_callers_code_calls_through_the_slot_and_survives_a_redefinition_unchanged() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        value(&mut e, "def area(r) 3 * r * r; def ring(a b) area(a) - area(b); ring(2, 1)");
        let before = e.listing(&function("ring")).expect("ring's code");
        let asm = disasm::asm_text(&e, &before);
        assert!(asm.contains("call through slot area/1"), "{asm}");
        assert!(asm.contains("the abort test"), "{asm}");
        assert!(asm.contains("the stack and interrupt check"), "{asm}");
        assert_eq!(value(&mut e, "def area(r) 4 * r * r; ring(2, 1)"), 12.0);
        let after = e.listing(&function("ring")).expect("ring's code");
        assert_eq!((before.address, &before.code), (after.address, &after.code), "{jit:?}: ring was not recompiled");
        let row = e.table().into_iter().find(|row| row.name == "area").expect("a slot");
        assert_eq!(row.points_to, Some(kaleido_engine::AddressOf::Function("area".into(), 2)));
    }
}

#[test]
fn a_lazy_definition_is_compiled_for_its_listing_and_a_retired_one_recompiled() {
    let mut e = engine(JitMode::Lazy);
    e.eval("<t>", "def sq(x) x * x; def sq(x) x * x * x").expect("defined");
    assert!(!e.index().get("sq").expect("sq").is_compiled());
    let current = e.listing(&function("sq")).expect("listing");
    assert_eq!(current.notes, vec![ListingNote::CompiledNow]);
    assert!(e.index().get("sq").expect("sq").is_compiled());
    let old = e.listing(&ListingOf::Function { name: "sq".into(), version: Some(1) }).expect("version 1");
    assert_eq!(old.notes, vec![ListingNote::Retired { version: 1 }]);
    assert_eq!(old.clif.matches("fmul").count(), 1, "{}", old.clif);
    let thunk = e.listing(&ListingOf::Expression("sq(3) + 1".into())).expect("thunk");
    assert!(disasm::asm_text(&e, &thunk).contains("call through slot sq/1"));
    assert_eq!(value(&mut e, "sq(3)"), 27.0, "listings change nothing");
}

#[test]
fn a_top_level_loop_inlines_a_small_callee_with_no_call_and_no_abort_test() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        value(&mut e, "def sq(x) x * x + 1; var s = 0; s");
        let looped = e.listing(&ListingOf::Expression("for i = 0, i < 3 in s = s + sq(i)".into())).expect("loop");
        let asm = disasm::asm_text(&e, &looped);
        assert!(!asm.contains("slot sq/1"), "{jit:?}: sq is inlined\n{asm}");
        assert!(!asm.contains("the abort test"), "{jit:?}: arithmetic cannot raise\n{asm}");
        assert!(asm.contains("the stack and interrupt check"), "{jit:?}: the back-edge keeps its check\n{asm}");
        // Without a loop, top-level code stays in the baseline tier and calls through the slot.
        let once = e.listing(&ListingOf::Expression("s + sq(2)".into())).expect("expression");
        assert!(disasm::asm_text(&e, &once).contains("call through slot sq/1"), "{jit:?}");
    }
}

#[test]
fn undo_and_forget_through_the_api() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut e = engine(jit);
        value(&mut e, "def f(x) x + 1; def g(x) f(x) * 10; def f(x) x + 2; g(1)");
        let outcome = e.undo("f", "<undo>", &mut |_| {}).expect("undone");
        assert!(outcome.error.is_none());
        assert_eq!(value(&mut e, "g(1)"), 20.0);
        assert_eq!(e.index().get("f").expect("f").history.len(), 3);
        e.forget("f").expect("forgotten");
        let error = e.eval("<t>", "g(1)").expect("accepted").error.expect("an error");
        assert_eq!(error.to_string(), "`f` is not defined");
        assert!(e.forget("sin").is_err());
        assert!(inspect::list(&e, Some("f")).contains("(nothing matches `f`)"));
    }
}

#[test]
fn modules_record_what_each_entry_made() {
    let mut e = engine(JitMode::Eager);
    value(&mut e, "def f(x) x; f(1)");
    let module = e.modules().last().expect("a module");
    let made: Vec<String> = module.made.iter().map(kaleido_view::report::made_text).collect();
    assert_eq!(made, ["f v1", "an expression"]);
    assert!(module.code_bytes > 0);
    assert!(inspect::modules(&e).contains("live"));
}
