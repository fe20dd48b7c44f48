//! Every pass over an entry can be stopped within a few thousand steps (issue 23, item 10): lexing,
//! parsing, checking and splitting a script into items each ask whether to stop, and give up at the first
//! "yes", so Ctrl-C during a huge entry is acted on at once.

use kaleido_lang::check::{GlobalsOnly, check_until};
use kaleido_lang::lexer::{lex, lex_until};
use kaleido_lang::parser::{parse, parse_until};
use kaleido_lang::{Limits, Operators, item_spans_until};
use std::cell::Cell;

/// A `var` with `n` names and a sum of them all: big in every pass.
fn huge(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("a{i} = {i}")).collect();
    let sum: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    format!("var {} in {}\n", names.join(", "), sum.join(" + "))
}

/// A stop that says yes when first asked, and how many times it was asked.
fn stop_at_once(asked: &Cell<u32>) -> impl Fn() -> bool + '_ {
    || {
        asked.set(asked.get() + 1);
        true
    }
}

#[test]
fn each_pass_gives_up_at_the_first_yes() {
    let source = huge(50_000);
    let operators = Operators::builtin();
    let limits = Limits::default();
    let (tokens, _) = lex(&source);
    let parsed = parse(&source, &tokens, &operators, limits);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let scope = GlobalsOnly(&|_| false);

    let asked = Cell::new(0);
    assert!(lex_until(&source, &stop_at_once(&asked)).is_none());
    assert_eq!(asked.get(), 1, "lexing asked once and stopped");
    let asked = Cell::new(0);
    assert!(parse_until(&source, &tokens, &operators, limits, &stop_at_once(&asked)).is_none());
    assert_eq!(asked.get(), 1, "parsing asked once and stopped");
    let asked = Cell::new(0);
    assert!(check_until(&parsed.items, &scope, &stop_at_once(&asked)).is_none());
    assert_eq!(asked.get(), 1, "checking asked once and stopped");
    let asked = Cell::new(0);
    assert!(item_spans_until(&source, &operators, limits, &stop_at_once(&asked)).is_none());
    assert_eq!(asked.get(), 1, "splitting asked once and stopped");
}

#[test]
fn a_pass_that_is_never_stopped_asks_in_proportion_to_its_size() {
    for n in [10_000, 20_000] {
        let source = huge(n);
        let asked = Cell::new(0u32);
        let never = || {
            asked.set(asked.get() + 1);
            false
        };
        assert!(lex_until(&source, &never).is_some());
        // About one question per 4,096 tokens: 4 tokens a name, 2 a term of the sum.
        let expected = (6 * n) as u32 / 4096;
        assert!(asked.get().abs_diff(expected) <= 1, "{n} names: asked {} times", asked.get());
    }
}
