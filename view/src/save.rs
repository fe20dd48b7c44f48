//! A session written as a script that rebuilds it (what the shell's `:save` writes).
//!
//! The script must load back, in a fresh engine with the prelude, to the same state, with no spurious
//! warnings. So: externs, then globals (by value), then every current user definition in an order where
//! each operator is defined before any text that uses it (a parse needs it) and, wherever no mutual
//! recursion forbids it, each callee before its callers. A definition whose operators meant something else
//! when it was entered (an operator redefined with a new precedence since) is printed from the parse it
//! had, fully parenthesized, so it reads back with that meaning.
//!
//! Forgotten operators come back as forgotten: a definition that uses one (it fails when called, as it
//! did in the session) needs it to parse, so the script defines a placeholder for it first (`def binary%
//! 50 (a0 a1) 0`, with the precedence the definition was parsed under) and forgets it at the end
//! (`:forget binary%`); so does a forgotten operator of the prelude, which the fresh engine defines.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kaleido_lang::Operators;
use kaleido_lang::ast::{ItemKind, ProtoKind, binary_name, unary_name};
use kaleido_lang::printer::{print_item, print_prototype};

use kaleido_engine::{Engine, FunctionInfo, FunctionKind, FunctionState, Version, format_value};

/// A script that rebuilds `engine`'s session.
pub fn session_script(engine: &Engine) -> String {
    let mut text = String::from("# Saved by kaleido's :save. Load it with `kaleido FILE` or `:load FILE`.\n");
    for library in engine.libraries() {
        let path = library.display().to_string();
        let path = if path.contains(char::is_whitespace) { format!("\"{path}\"") } else { path };
        text.push_str(&format!(":lib {path}\n"));
    }
    for info in engine.index().functions().filter(|info| info.kind == FunctionKind::Extern) {
        text.push_str(&format!("extern {}({});\n", info.name, info.extern_params.join(" ")));
    }
    for (name, value) in engine.globals() {
        text.push_str(&format!("var {name} = {};\n", value_literal(value)));
    }
    let definitions = current_definitions(engine);
    let gone = forgotten_operators(engine, &definitions);
    for (name, placeholder) in &gone {
        if let Some(operator) = *placeholder {
            text.push_str(&format!("def {} 0;\n", placeholder_prototype(name, operator)));
        }
    }
    let operators = engine.operators();
    for step in definition_order(&definitions) {
        let (info, version) = definitions[step.index];
        let line = match step.kind {
            StepKind::Placeholder => {
                format!("def {} 0", placeholder_prototype(&info.name, (info.operator, info.arity.unwrap_or(0))))
            }
            StepKind::Definition => definition_text(engine, operators, version),
        };
        text.push_str(&line);
        text.push_str(";\n");
    }
    for (name, _) in gone {
        text.push_str(&format!(":forget {name}\n"));
    }
    text
}

/// The operators that are not defined now but must be forgotten again after a reload, by name: those a
/// current definition uses (each with the operator and arity of a placeholder to define before it), and
/// the prelude's (which a fresh engine defines; no placeholder).
fn forgotten_operators(
    engine: &Engine,
    definitions: &[(&FunctionInfo, &Version)],
) -> Vec<(String, Option<(ProtoKind, usize)>)> {
    let index = engine.index();
    let is_gone = |name: &str| index.get(name).is_none_or(|f| f.state != FunctionState::Defined);
    let from_prelude =
        |name: &str| index.get(name).and_then(|f| f.history.first()).is_some_and(|v| &*v.entry_name == "<prelude>");
    let mut gone: BTreeMap<String, Option<(ProtoKind, usize)>> = BTreeMap::new();
    for (info, version) in definitions {
        let meanings = &version.parsed_under;
        let infix = (meanings.infix().iter())
            .map(|&(op, precedence)| (binary_name(op), ProtoKind::Binary { op, precedence }, 2));
        let prefix = meanings.prefix().iter().map(|&op| (unary_name(op), ProtoKind::Unary(op), 1));
        for (name, kind, arity) in infix.chain(prefix) {
            // A definition may use its own operator: defining it defines that.
            if *name != *info.name && is_gone(&name) {
                let placeholder = (!from_prelude(&name)).then_some((kind, arity));
                gone.entry(name).or_insert(placeholder);
            }
        }
    }
    for info in index.functions().filter(|f| f.state != FunctionState::Defined && from_prelude(&f.name)) {
        gone.entry(info.name.to_string()).or_insert(None);
    }
    gone.into_iter().collect()
}

/// Every user definition in force, in the order of the entries that made them.
fn current_definitions(engine: &Engine) -> Vec<(&FunctionInfo, &Version)> {
    let mut definitions: Vec<(&FunctionInfo, &Version)> = (engine.index().functions())
        .filter(|info| info.kind == FunctionKind::User)
        .filter_map(|info| Some((info, info.current()?)))
        .collect();
    definitions.sort_by_key(|(_, version)| (version.entry, version.number));
    definitions
}

/// The text of a definition as entered, when it parses the same under the operators in force at the end
/// of the script; otherwise printed from the parse it had then.
fn definition_text(engine: &Engine, operators: &Operators, version: &Version) -> String {
    let as_written = version.source.trim().trim_end_matches(';').to_string();
    if operators.agrees_with(&version.parsed_under) {
        return as_written;
    }
    let then = operators.with_meanings(&version.parsed_under);
    let printed = engine.with_parse(&version.source, &then, |parsed| match parsed.items.first() {
        Some(item) if parsed.diagnostics.is_empty() && matches!(item.kind, ItemKind::Def(_)) => Some(print_item(item)),
        _ => None,
    });
    printed.unwrap_or(as_written)
}

/// A definition that only declares an operator (precedence and arity), for the rare session whose
/// operators use each other in a cycle (the real definition follows later), or for a forgotten one that
/// a definition uses (forgotten again at the end).
fn placeholder_prototype(name: &str, (kind, arity): (ProtoKind, usize)) -> String {
    let params =
        (0..arity).map(|i| kaleido_lang::ast::Param { name: format!("a{i}"), span: kaleido_lang::Span::default() });
    let proto = kaleido_lang::ast::Prototype {
        name: name.to_string(),
        kind,
        params: params.collect(),
        span: kaleido_lang::Span::default(),
        name_span: kaleido_lang::Span::default(),
    };
    print_prototype(&proto)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepKind {
    /// Declare an operator early with a body of 0.
    Placeholder,
    /// The definition itself.
    Definition,
}

#[derive(Clone, Copy, Debug)]
struct Step {
    index: usize,
    kind: StepKind,
}

/// A topological order of `definitions` (indices into it), earliest entry first among those that are
/// ready. Using an operator is a hard dependency (the text does not parse without it); calling a function
/// is a soft one (it only warns), broken when mutual recursion leaves no other way. A cycle of hard
/// dependencies (operators whose bodies use each other) is broken by declaring one operator early.
fn definition_order(definitions: &[(&FunctionInfo, &Version)]) -> Vec<Step> {
    let position: HashMap<&str, usize> =
        definitions.iter().enumerate().map(|(i, (info, _))| (&*info.name, i)).collect();
    let n = definitions.len();
    let (mut hard_dependents, mut soft_dependents) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    let (mut hard_left, mut soft_left) = (vec![0usize; n], vec![0usize; n]);
    for (i, (info, _)) in definitions.iter().enumerate() {
        let callees: BTreeSet<usize> = (info.calls.iter())
            .filter_map(|(callee, _)| position.get(callee.as_str()).copied())
            .filter(|&callee| callee != i)
            .collect();
        for callee in callees {
            if definitions[callee].0.operator == ProtoKind::Plain {
                soft_dependents[callee].push(i);
                soft_left[i] += 1;
            } else {
                hard_dependents[callee].push(i);
                hard_left[i] += 1;
            }
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut defined = 0;
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| hard_left[i] == 0 && soft_left[i] == 0).collect();
    let mut parsable: BTreeSet<usize> = (0..n).filter(|&i| hard_left[i] == 0).collect();
    let mut declared = vec![false; n];
    let mut emitted = vec![false; n];
    while defined < n {
        let next = ready.pop_first().or_else(|| parsable.pop_first());
        let Some(i) = next else {
            // Every remaining definition waits on an operator: declare the earliest waited-on one.
            let waiting = (0..n).find(|&i| !emitted[i]).unwrap_or(0);
            let operator = (0..n).find(|&o| !declared[o] && hard_dependents[o].contains(&waiting)).unwrap_or(waiting);
            order.push(Step { index: operator, kind: StepKind::Placeholder });
            declare(operator, &mut declared, &hard_dependents, &mut hard_left, &soft_left, &mut ready, &mut parsable);
            continue;
        };
        ready.remove(&i);
        parsable.remove(&i);
        if emitted[i] {
            continue;
        }
        emitted[i] = true;
        defined += 1;
        order.push(Step { index: i, kind: StepKind::Definition });
        declare(i, &mut declared, &hard_dependents, &mut hard_left, &soft_left, &mut ready, &mut parsable);
        for &dependent in &soft_dependents[i] {
            soft_left[dependent] -= 1;
            if soft_left[dependent] == 0 && hard_left[dependent] == 0 && !emitted[dependent] {
                ready.insert(dependent);
            }
        }
    }
    order
}

/// Marks operator `i` as usable by the text after it.
fn declare(
    i: usize,
    declared: &mut [bool],
    hard_dependents: &[Vec<usize>],
    hard_left: &mut [usize],
    soft_left: &[usize],
    ready: &mut BTreeSet<usize>,
    parsable: &mut BTreeSet<usize>,
) {
    if std::mem::replace(&mut declared[i], true) {
        return;
    }
    for &dependent in &hard_dependents[i] {
        hard_left[dependent] -= 1;
        if hard_left[dependent] == 0 {
            parsable.insert(dependent);
            if soft_left[dependent] == 0 {
                ready.insert(dependent);
            }
        }
    }
}

/// An expression that evaluates to exactly `value` without the prelude.
fn value_literal(value: f64) -> String {
    match value {
        v if v.is_nan() => "0/0".to_string(),
        v if v == f64::INFINITY => "1/0".to_string(),
        v if v == f64::NEG_INFINITY => "0 - 1/0".to_string(),
        v if v == 0.0 && v.is_sign_negative() => "(0 - 1) * 0".to_string(),
        v if v < 0.0 => format!("0 - {}", format_value(-v)),
        v => format_value(v),
    }
}
