//! The front end never panics and never overflows the stack, whatever bytes it is given.
//!
//! These run on the test harness's 2 MiB threads in debug builds, the least stack the parser ever gets.

use kaleido_lang::{Completeness, Limits, Operators, analyze, completeness, decode, render_all};
use proptest::prelude::*;

fn first_error(source: &str) -> String {
    let analysis = analyze(source, &Operators::builtin(), &|_| false);
    let first = analysis.diagnostics.first().expect("a diagnostic");
    first.message.clone()
}

#[test]
fn hundred_thousand_nested_parentheses_are_an_error_not_a_crash() {
    let source = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(first_error(&source), "expression is nested too deeply (the limit is 256 levels)");
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let source = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let analysis = analyze(&source, &Operators::builtin(), &|_| false);
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);
}

#[test]
fn a_ten_megabyte_line_of_additions_is_bounded_by_the_operand_limit() {
    let source = "1+".repeat(5_000_000) + "1";
    assert_eq!(first_error(&source), "this item has more than 1000000 operands, the most one item may have");
}

#[test]
fn chains_and_sequences_are_not_nesting() {
    let ops = prelude_like_operators();
    for source in ["1+".repeat(10_000) + "1", "x = 1 : ".repeat(10_000) + "x", "1-2*3+".repeat(3_000) + "1"] {
        let analysis = kaleido_lang::analyze(&source, &ops, &|_| true);
        assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics.first());
    }
}

#[test]
fn the_nesting_limit_follows_the_stack() {
    assert_eq!(Limits::default().nesting, 256);
    assert_eq!(Limits::for_stack(64 * 1024 * 1024).nesting, 8192);
    let ops = Operators::builtin();
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    let with = |limits| kaleido_lang::analyze_in(&deep, &ops, &kaleido_lang::check::GlobalsOnly(&|_| false), limits);
    assert!(with(Limits::for_stack(4 * 1024 * 1024)).diagnostics.is_empty());
    assert_eq!(
        with(Limits::default()).diagnostics[0].message,
        "expression is nested too deeply (the limit is 256 levels)"
    );
}

fn prelude_like_operators() -> Operators {
    let mut ops = Operators::builtin();
    ops.define_binary(':', 1);
    ops
}

#[test]
fn a_ten_megabyte_comment_and_a_long_literal_are_fine() {
    let source = format!("#{}\n{}", "x".repeat(10_000_000), "1".repeat(300));
    let analysis = analyze(&source, &Operators::builtin(), &|_| false);
    assert!(analysis.diagnostics.is_empty());
}

#[test]
fn a_long_line_renders_a_window_around_the_caret() {
    let source = format!("{} + y", "1 + ".repeat(50) + "x".repeat(1_000_000).as_str());
    let analysis = analyze(&source, &Operators::builtin(), &|_| false);
    let rendered = render_all(&analysis.diagnostics, "<t>", &source);
    assert!(rendered.len() < 2_000, "rendered {} bytes", rendered.len());
    assert!(rendered.contains("..."));
}

#[test]
fn nul_bytes_and_control_characters_are_reported() {
    let source = "1 +\0 2";
    let analysis = analyze(source, &Operators::builtin(), &|_| false);
    assert_eq!(analysis.diagnostics[0].message, "unexpected character '\\0'");
    let rendered = render_all(&analysis.diagnostics, "<t>", source);
    assert!(!rendered.contains('\0'));
}

#[test]
fn completeness_of_partial_entries() {
    let ops = Operators::builtin();
    let cases = [
        ("def f(x) x + 1", Completeness::Complete),
        ("", Completeness::Complete),
        ("def f(x)", Completeness::Incomplete),
        ("(1 +", Completeness::Incomplete),
        ("1 +", Completeness::Incomplete),
        ("if x then", Completeness::Incomplete),
        ("f(1,", Completeness::Incomplete),
        ("1 + )", Completeness::Invalid),
        ("def 1", Completeness::Invalid),
        ("1 $ 2", Completeness::Invalid),
    ];
    for (source, expected) in cases {
        assert_eq!(completeness(source, &ops, Limits::default()), expected, "{source:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let source = match decode(&bytes) {
            Ok(source) => source.to_string(),
            Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        let analysis = analyze(&source, &Operators::builtin(), &|_| false);
        let _ = render_all(&analysis.diagnostics, "<fuzz>", &source);
        let _ = completeness(&source, &Operators::builtin(), Limits::default());
    }

    #[test]
    fn arbitrary_token_soup_never_panics(words in proptest::collection::vec(
        prop::sample::select(vec!["def", "extern", "if", "then", "else", "for", "in", "var", "binary", "unary",
            "x", "f", "(", ")", ",", ";", "=", "+", "<", "|", "!", "1", ".5", "1e3", "#c\n", "\n"]), 0..60)) {
        let source = words.join(" ");
        let analysis = analyze(&source, &Operators::builtin(), &|_| true);
        let _ = render_all(&analysis.diagnostics, "<fuzz>", &source);
    }
}
