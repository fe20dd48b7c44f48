//! `parse(print(ast)) == ast` over generated ASTs (spans aside).

use kaleido_lang::ast::*;
use kaleido_lang::printer::print_items;
use kaleido_lang::{Operators, Span, analyze};
use proptest::prelude::*;

fn expr_node(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "x", "n1", "long_name"]).prop_map(str::to_string)
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..1000, 0u32..4).prop_map(|(n, d)| expr_node(ExprKind::Number(f64::from(n) / f64::from(1 + d * 7)))),
        name().prop_map(|n| expr_node(ExprKind::Var(n))),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        let op = prop::sample::select(vec!['+', '-', '*', '/', '<', '|', '&', '>', ':']);
        prop_oneof![
            // One chain holds operators that fold together whatever the precedences (see the printer).
            (op, inner.clone(), prop::collection::vec(inner.clone(), 1..4)).prop_map(|(op, first, rhs)| {
                let class: &[char] = match op {
                    '+' | '-' => &['+', '-'],
                    '*' | '/' => &['*', '/'],
                    _ => std::slice::from_ref(&op),
                };
                let operations = (rhs.into_iter().enumerate())
                    .map(|(i, rhs)| Operation { op: class[i % class.len()], rhs })
                    .collect();
                expr_node(ExprKind::Binary(Box::new(first), operations))
            }),
            (prop::sample::select(vec!['!', '-']), inner.clone())
                .prop_map(|(op, e)| expr_node(ExprKind::Unary(op, Box::new(e)))),
            (name(), inner.clone()).prop_map(|(n, v)| expr_node(ExprKind::Assign(n, Span::default(), Box::new(v)))),
            (name(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(n, args)| expr_node(ExprKind::Call(
                n,
                Span::default(),
                args
            ))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, e)| expr_node(ExprKind::If(
                Box::new(c),
                Box::new(t),
                Box::new(e)
            ))),
            (name(), inner.clone(), inner.clone(), prop::option::of(inner.clone()), inner.clone()).prop_map(
                |(var, start, end, step, body)| expr_node(ExprKind::For(Box::new(ForLoop {
                    var,
                    var_span: Span::default(),
                    start,
                    end,
                    step,
                    body
                })))
            ),
            (prop::collection::vec((name(), prop::option::of(inner.clone())), 1..3), inner).prop_map(|(bs, body)| {
                let bindings =
                    bs.into_iter().map(|(name, init)| Binding { name, init, span: Span::default() }).collect();
                expr_node(ExprKind::VarIn(bindings, Box::new(body)))
            }),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    fn params() -> impl Strategy<Value = Vec<Param>> {
        prop::collection::btree_set(name(), 0..3)
            .prop_map(|set| set.into_iter().map(|name| Param { name, span: Span::default() }).collect())
    }
    let proto = |name: String, kind, params| Prototype {
        name,
        kind,
        params,
        span: Span::default(),
        name_span: Span::default(),
    };
    prop_oneof![
        (name(), params(), expr()).prop_map(move |(n, ps, body)| Item {
            kind: ItemKind::Def(Function { proto: proto(n, ProtoKind::Plain, ps), body }),
            span: Span::default()
        }),
        (name(), params()).prop_map(move |(n, ps)| Item {
            kind: ItemKind::Extern(proto(n, ProtoKind::Plain, ps)),
            span: Span::default()
        }),
        expr().prop_map(|e| Item { kind: ItemKind::Expr(e), span: Span::default() }),
        (name(), prop::option::of(expr())).prop_map(|(name, init)| Item {
            kind: ItemKind::Global(vec![Binding { name, init, span: Span::default() }]),
            span: Span::default()
        }),
    ]
}

fn operators() -> Operators {
    let mut ops = Operators::builtin();
    for (op, precedence) in [('>', 10), ('|', 5), ('&', 6), (':', 1)] {
        ops.define_binary(op, precedence);
    }
    ops.define_unary('!');
    ops.define_unary('-');
    ops
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn print_then_parse_gives_back_the_same_tree(items in prop::collection::vec(item(), 1..4)) {
        let text = print_items(&items);
        let parsed = analyze(&text, &operators(), &|_| true);
        let errors: Vec<_> = parsed.diagnostics.iter().map(|d| d.message.clone()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:?}");
        let reparsed: Vec<Item> = parsed.items.iter().map(Item::without_spans).collect();
        prop_assert_eq!(reparsed, items, "{}", text);
    }
}
