//! A script split one item at a time ([`kaleido_lang::next_item`]) splits exactly where the whole-script
//! parse ([`kaleido_lang::item_spans`]) does, and hands over a tree only for items without diagnostics,
//! the same tree an entry of that item's text parses to.

use kaleido_lang::ast::ItemKind;
use kaleido_lang::next_item::{next_item_start, parse_next_item};
use kaleido_lang::{Limits, Operators, Span, item_spans, lexer, parser};

/// The items of `source`, one at a time, each parsed under the operators the items before it defined.
fn one_at_a_time(source: &str) -> Vec<(Span, bool)> {
    let mut operators = Operators::default();
    let mut items = Vec::new();
    let mut pos = 0;
    loop {
        let start = next_item_start(source, pos);
        if start == source.len() {
            return items;
        }
        let next = parse_next_item(&source[start..], &operators, Limits::default(), &|| false).expect("not stopped");
        let span = Span::new(start, start + next.len);
        let text = &source[span.range()];
        // A definition that fails to parse on its own defines no operator; one that parses does.
        let (tokens, lexed) = lexer::lex(text);
        let alone = parser::parse(text, &tokens, &operators, Limits::default());
        match &next.parsed {
            Some(parsed) => {
                assert!(lexed.is_empty() && alone.diagnostics.is_empty(), "{text:?} parsed cleanly, alone too");
                assert_eq!(parsed.items, alone.items, "{text:?}: the tree is the entry's tree");
            }
            None => assert!(!lexed.is_empty() || !alone.diagnostics.is_empty(), "{text:?} has a diagnostic"),
        }
        for item in &alone.items {
            if let ItemKind::Def(function) = &item.kind {
                operators.define(&function.proto.kind);
            }
        }
        items.push((span, next.parsed.is_some()));
        pos = span.end as usize;
    }
}

#[test]
fn splits_where_the_whole_script_parse_splits() {
    let scripts = [
        "def f(x) x * 2\nf(3)\n",
        "def f(x) x; f(1); f(2)\n\n# a comment\nf(3) # after\n",
        "def f(x)\n  if x < 1 then 0\n  else f(x - 1)\nf(4)",
        "def f(x) x _ 3\nf(1)",
        "_\ndef g(x) x\n@ g(2)",
        "def f(x) x; _ \ng(1) $ ; ?\n",
        "def f(x x) 1\ndef g(x) 2\ng(1)\n",
        "def (x) 1\n1 +\n2\n",
        "def binary| 5 (a b) if a then 1 else b\n1 | 0\n",
        "def binary= 9 (a b) a\n1\n",
        "extern sin(x)\nvar a = 1, b\na + b\n;;;\n",
        "def f(x) 1.2.3\nf(1); 1e\n",
        "",
        "  \n# only a comment\n;\n",
    ];
    for source in scripts {
        let split: Vec<Span> = one_at_a_time(source).into_iter().map(|(span, _)| span).collect();
        let whole = item_spans(source, &Operators::default(), Limits::default());
        assert_eq!(split, whole, "{source:?}");
    }
}

#[test]
fn only_clean_items_come_with_a_tree() {
    let trees: Vec<bool> =
        one_at_a_time("def f(x) x\ndef g(x) x _\n1 + )\nf(1)\n").into_iter().map(|(_, tree)| tree).collect();
    assert_eq!(trees, [true, false, false, true]);
}
