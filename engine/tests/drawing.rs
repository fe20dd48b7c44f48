//! What a program draws reaches the front end with its entry's outcome: `pixel`'s image and
//! `plotpoint`'s lines, also when a runtime error stopped the entry, nothing for an entry that drew
//! nothing, and each entry its own drawing. Both JIT modes.

use kaleido_engine::{CapturedOutput, Engine, EngineOptions, JitMode, RuntimeErrorKind, Series};

fn engine(jit: JitMode) -> Engine {
    let options = EngineOptions { jit, ..EngineOptions::default() };
    Engine::new(options, Box::new(CapturedOutput::default())).expect("engine")
}

#[test]
fn an_entry_hands_over_what_it_drew_and_only_that() {
    for jit in [JitMode::Lazy, JitMode::Eager] {
        let mut engine = engine(jit);
        engine.eval("<1>", "def shade(x y) x + 10 * y").expect("defined");
        let outcome = engine.eval("<2>", "for y = 0, y < 1 in for x = 0, x < 2 in pixel(x, y, shade(x, y))").unwrap();
        let image = outcome.drawing.expect("a drawing").image.expect("an image");
        assert_eq!((image.width, image.height), (3, 2), "{jit:?}");
        assert_eq!(image.at(2, 1), 12.0);
        let outcome = engine.eval("<3>", "1 + 1").unwrap();
        assert_eq!(outcome.drawing, None, "{jit:?}: the next entry starts with nothing drawn");
        let outcome = engine.eval("<4>", "plotpoint(1, 0, 5) + plotpoint(1, 1, 6) + plotpoint(0, 2, 7)").unwrap();
        let drawing = outcome.drawing.expect("a drawing");
        assert_eq!(drawing.image, None);
        assert_eq!(
            drawing.series,
            vec![Series { id: 0, points: vec![(2.0, 7.0)] }, Series { id: 1, points: vec![(0.0, 5.0), (1.0, 6.0)] },]
        );
    }
}

#[test]
fn a_runtime_error_keeps_what_was_drawn_before_it() {
    let mut engine = engine(JitMode::Lazy);
    let outcome = engine.eval("<1>", "for x = 0, x < 5 in pixel(x, 0, 1) + (if x < 3 then 0 else nosuch(x))").unwrap();
    assert!(matches!(outcome.error.map(|e| e.kind), Some(RuntimeErrorKind::Undefined { .. })));
    assert_eq!(outcome.drawing.and_then(|d| d.image).map(|i| i.width), Some(4));
    let outcome = engine.eval("<2>", "pixel(0 - 1, 0, 1)").unwrap();
    let error = outcome.error.expect("a bad coordinate is a runtime error");
    assert_eq!(error.to_string(), "pixel's x must be a whole number from 0 to 2047, not -1");
    assert_eq!(outcome.drawing, None);
}

#[test]
fn a_rejected_entry_draws_nothing_and_the_builtins_check_their_arity() {
    let mut engine = engine(JitMode::Eager);
    let rejected = engine.eval("<1>", "pixel(0, 0)").expect_err("pixel takes three arguments");
    assert!(rejected.diagnostics[0].message.contains("takes 3 arguments"), "{:?}", rejected.diagnostics);
    assert_eq!(engine.eval("<2>", "2").unwrap().drawing, None);
}
