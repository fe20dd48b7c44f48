//! Seeing inside the engine, as text every front end shows the same way: a function's versions
//! (`:show`), the difference between two of them (`:diff`), the listing (`:list`) and dependencies
//! (`:deps`, also as a Graphviz graph). Everything here reads the engine's public API.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use kaleido_lang::ast::ProtoKind;

use kaleido_engine::{Engine, FunctionInfo, FunctionKind, FunctionState, Version, format_value};

/// What a name typed after a command means.
#[derive(Debug)]
pub enum Target<'e> {
    /// A function (or operator), and a version number when one was asked for (`fib@2`).
    Function(&'e FunctionInfo, Option<u32>),
    /// A global variable and its value.
    Global(String, f64),
}

/// Resolves `query`: a function name (`fib`, `binary|`, `unary-`), an operator by its symbol (`>`,
/// `-` for `unary-`), a global, each optionally with `@K` for a version of a function.
pub fn resolve<'e>(engine: &'e Engine, query: &str) -> Result<Target<'e>, String> {
    let (name, version) = match query.rsplit_once('@') {
        Some((name, k)) if !name.is_empty() => {
            let k: u32 = k.parse().map_err(|_| format!("`{k}` is not a version number (write `{name}@2`)"))?;
            (name, Some(k))
        }
        _ => (query, None),
    };
    let index = engine.index();
    let by_symbol = || {
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(op), None) if kaleido_lang::token::is_operator_char(op) => {
                let defined = |n: String| index.get(&n).filter(|f| f.state == FunctionState::Defined);
                defined(format!("binary{op}")).or_else(|| defined(format!("unary{op}")))
            }
            _ => None,
        }
    };
    if let Some(info) = index.get(name).filter(|f| f.state == FunctionState::Defined).or_else(by_symbol) {
        if let Some(k) = version
            && (k == 0 || k as usize > info.history.len())
        {
            let count = info.history.len();
            return Err(format!("`{}` has {count} version{}; there is no version {k}", info.name, plural(count)));
        }
        return Ok(Target::Function(info, version));
    }
    if let Some(value) = engine.global_value(name) {
        return Ok(Target::Global(name.to_string(), value));
    }
    if let Some(info) = index.get(name) {
        return Ok(Target::Function(info, None));
    }
    // `binary+` or `+`: built into the language, not a function of the session (no near name is meant).
    let symbol = name.strip_prefix("binary").unwrap_or(name);
    if let [op] = symbol.as_bytes()
        && kaleido_lang::ast::is_builtin_binary(char::from(*op))
    {
        let op = char::from(*op);
        return Err(format!(
            "`{op}` is a built-in operator, not a function: it cannot be shown, forgotten or redefined"
        ));
    }
    let near = kaleido_lang::nearest(name, index.functions().map(|f| f.name.to_string()));
    let hint = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_else(|| "; `:list` shows them all".into());
    Err(format!("no function or global named `{name}`{hint}"))
}

/// `:show`: every version of a function (or the one asked for) with where it came from, whether it is
/// compiled and current, and its callers and callees; or a global's value and who reads and writes it.
pub fn show(engine: &Engine, query: &str) -> Result<String, String> {
    match resolve(engine, query)? {
        Target::Global(name, value) => Ok(show_global(engine, &name, value)),
        Target::Function(info, Some(k)) => Ok(version_block(engine, info, &info.history[k as usize - 1])),
        Target::Function(info, None) => Ok(show_function(engine, info)),
    }
}

fn show_function(engine: &Engine, info: &FunctionInfo) -> String {
    let mut text = headline(engine, info);
    text.push_str(&relations(engine, info));
    for version in &info.history {
        text.push('\n');
        text.push_str(&version_block(engine, info, version));
    }
    text
}

/// One line saying what the name is.
fn headline(engine: &Engine, info: &FunctionInfo) -> String {
    let arity = info.arity.unwrap_or(0);
    match (info.kind, info.current()) {
        (FunctionKind::Builtin, _) => format!("{}: a builtin taking {arity} argument{}\n", info.name, plural(arity)),
        (FunctionKind::Extern, _) => {
            format!(
                "{}({}): an extern, bound to the C function `{}`\n",
                info.name,
                info.extern_params.join(" "),
                info.name
            )
        }
        (_, Some(current)) => {
            let count = info.history.len();
            let code = match info.is_compiled() {
                true => info.code_state(),
                false if runs_in_tier0(engine, info) => "lazy, its next call runs in tier 0",
                false => "lazy, not compiled yet",
            };
            format!(
                "{}({}): {count} version{}; version {} is current ({code})\n",
                info.name,
                current.params.join(" "),
                plural(count),
                current.number
            )
        }
        (_, None) => format!("{}: called, but never defined\n", info.name),
    }
}

/// Who calls the function (functions and top-level entries), what it calls, which globals it uses.
fn relations(engine: &Engine, info: &FunctionInfo) -> String {
    let index = engine.index();
    let mut callers: Vec<String> =
        index.callers_of(&info.name).into_iter().map(|(c, n)| format!("{c} ({n} arg{})", plural(n))).collect();
    callers.extend(
        info.called_from_entries.iter().filter_map(|&id| engine.entry_name(id)).map(|n| format!("{n} (top level)")),
    );
    let calls: Vec<String> = info.calls.iter().map(|(callee, n)| describe_callee(engine, callee, *n)).collect();
    let reads: Vec<&str> = info.globals.iter().filter(|(_, w)| !w).map(|(g, _)| g.as_str()).collect();
    let writes: Vec<&str> = info.globals.iter().filter(|(_, w)| *w).map(|(g, _)| g.as_str()).collect();
    let inlined = info.inlined().to_vec();
    let inlined_into = inlined_into(engine, &info.name);
    let mut text = String::new();
    let lists = [("called by", callers), ("calls", calls), ("inlined", inlined), ("inlined into", inlined_into)];
    for (label, items) in lists {
        if !items.is_empty() {
            text.push_str(&format!("{label}: {}\n", items.join(", ")));
        }
    }
    for (label, items) in [("reads", reads), ("writes", writes)] {
        if !items.is_empty() {
            text.push_str(&format!("{label}: {}\n", items.join(", ")));
        }
    }
    text
}

fn describe_callee(engine: &Engine, callee: &str, passed: usize) -> String {
    let Some(info) = engine.index().get(callee) else { return format!("{callee} (unknown)") };
    let what = match (info.kind, info.state, info.arity) {
        (FunctionKind::Builtin, ..) => "builtin".to_string(),
        (FunctionKind::Extern, ..) => "extern".to_string(),
        (_, FunctionState::NotYetDefined, _) => "not defined".to_string(),
        (_, _, Some(takes)) if takes != passed => format!("stale: passes {passed}, takes {takes}"),
        _ => format!("{passed} arg{}", plural(passed)),
    };
    format!("{callee} ({what})")
}

/// One version: its number, where it came from, its state, and its source.
pub fn version_block(engine: &Engine, info: &FunctionInfo, version: &Version) -> String {
    let state = if version.retired {
        "retired".to_string()
    } else if info.is_compiled() {
        format!("current, {}", info.code_state())
    } else if runs_in_tier0(engine, info) {
        "current, not compiled yet: its next call runs in tier 0".to_string()
    } else {
        "current, not compiled yet".to_string()
    };
    let mut text = format!("# version {} from {} ({state})\n", version.number, version.entry_name);
    text.push_str(version.source.trim_end());
    text.push('\n');
    text
}

fn show_global(engine: &Engine, name: &str, value: f64) -> String {
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for info in engine.index().functions().filter(|f| f.current().is_some()) {
        if info.globals.contains(&(name.to_string(), false)) {
            readers.push(&*info.name);
        }
        if info.globals.contains(&(name.to_string(), true)) {
            writers.push(&*info.name);
        }
    }
    let list = |names: &[&str]| if names.is_empty() { "no function".to_string() } else { names.join(", ") };
    format!(
        "{name}: a global, now {}\nread by: {}\nwritten by: {}\n",
        format_value(value),
        list(&readers),
        list(&writers)
    )
}

/// `:diff`: a line diff between two versions of a function, by default the last two.
pub fn diff(engine: &Engine, name: &str, versions: Option<(u32, u32)>) -> Result<String, String> {
    let info = match resolve(engine, name)? {
        Target::Function(info, _) => info,
        Target::Global(name, _) => return Err(format!("`{name}` is a global; globals have no versions")),
    };
    let count = info.history.len() as u32;
    let (a, b) = match versions {
        Some(pair) => pair,
        None if count >= 2 => (count - 1, count),
        None => {
            return Err(format!("`{}` has {count} version{}: nothing to compare", info.name, plural(count as usize)));
        }
    };
    let get = |k: u32| {
        info.history.get((k as usize).wrapping_sub(1)).ok_or_else(|| format!("`{}` has no version {k}", info.name))
    };
    let (old, new) = (get(a)?, get(b)?);
    let (old_text, new_text) = (format!("{}\n", old.source.trim_end()), format!("{}\n", new.source.trim_end()));
    let diff = similar::TextDiff::from_lines(&old_text, &new_text);
    let mut text = format!("--- {}@{a} ({})\n+++ {}@{b} ({})\n", info.name, old.entry_name, info.name, new.entry_name);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        text.push_str(&format!("{sign} {}", change.value()));
        if change.missing_newline() {
            text.push('\n');
        }
    }
    if old.source.trim_end() == new.source.trim_end() {
        text.push_str("(the two versions have the same text)\n");
    }
    Ok(text)
}

/// How many rows `:list` shows before summing up the rest.
pub const LIST_ROWS: usize = 40;

/// `:list [PATTERN]`: a row per function and global whose name matches the glob (all by default), with
/// a header; calls that will fail (a callee with another arity now, or never defined) are flagged on the
/// row. Builtins are summed up in one line; past [`LIST_ROWS`] rows, the rest are counted.
pub fn list(engine: &Engine, pattern: Option<&str>) -> String {
    let matches = |name: &str| pattern.is_none_or(|p| glob_match(p, name));
    let index = engine.index();
    let mut rows = Vec::new();
    let mut builtins = Vec::new();
    for info in index.functions().filter(|f| matches(&f.name)) {
        match (info.kind, info.state) {
            (FunctionKind::Builtin, _) => builtins.push(&*info.name),
            // A name only ever mentioned by calls is flagged on its callers' rows, not listed.
            (_, FunctionState::NotYetDefined) => {}
            _ => rows.push(function_row(engine, info)),
        }
    }
    for (name, value) in engine.globals().into_iter().filter(|(n, _)| matches(n)) {
        rows.push(format!("{name:<16} {:<14} {:<8} {:<10} {:<10} {}\n", "-", "-", "global", "-", format_value(value)));
    }
    let mut text =
        format!("{:<16} {:<14} {:<8} {:<10} {:<10} {}\n", "name", "params", "version", "kind", "compiled", "entry");
    let shown = rows.len().min(LIST_ROWS);
    for row in &rows[..shown] {
        text.push_str(row);
    }
    if rows.len() > shown {
        text.push_str(&format!(
            "... and {} more (narrow it down: `:list PATTERN`, e.g. `:list f*`)\n",
            rows.len() - shown
        ));
    }
    if !builtins.is_empty() {
        text.push_str(&format!("builtins: {}\n", builtins.join(" ")));
    }
    if rows.is_empty() && builtins.is_empty() {
        text.push_str(&format!("(nothing matches `{}`)\n", pattern.unwrap_or("*")));
    }
    text
}

/// Whether `info`'s next call is evaluated in tier 0 rather than compiled first.
fn runs_in_tier0(engine: &Engine, info: &FunctionInfo) -> bool {
    info.current().is_some_and(|version| engine.next_call_in_tier0(&info.name, version.params.len()))
}

fn function_row(engine: &Engine, info: &FunctionInfo) -> String {
    let params = match info.current() {
        Some(version) => format!("({})", version.params.join(" ")),
        None if !info.extern_params.is_empty() => format!("({})", info.extern_params.join(" ")),
        None => info.arity.map_or("-".to_string(), |a| format!("{a} args")),
    };
    let version = if info.version() > 0 { format!("v{}", info.version()) } else { "-".to_string() };
    let kind = match info.kind {
        FunctionKind::User => "user",
        FunctionKind::Prelude => "prelude",
        FunctionKind::Builtin => "builtin",
        FunctionKind::Extern => "extern",
    };
    let compiled = match (info.kind, info.is_compiled()) {
        (FunctionKind::Extern, _) => "native",
        (_, true) if info.is_optimized() => "optimized",
        (_, true) => "baseline",
        (_, false) if runs_in_tier0(engine, info) => "tier 0",
        (_, false) => "not yet",
    };
    let entry = info.current().map_or("-", |v| &*v.entry_name);
    let mut row = format!("{:<16} {params:<14} {version:<8} {kind:<10} {compiled:<10} {entry}", info.name);
    let problems = stale_calls(engine, info);
    if !problems.is_empty() {
        row.push_str(&format!("  [{}]", problems.join("; ")));
    }
    row.push('\n');
    row
}

/// The calls `info` makes that will fail: to a name with another arity now, or to one never defined.
pub fn stale_calls(engine: &Engine, info: &FunctionInfo) -> Vec<String> {
    let index = engine.index();
    (info.calls.iter())
        .filter_map(|(callee, passed)| {
            let target = index.get(callee)?;
            match (target.state, target.arity) {
                (FunctionState::NotYetDefined, _) => Some(format!("calls undefined `{callee}`")),
                (_, Some(takes)) if takes != *passed => Some(format!("stale: {callee} takes {takes}, passes {passed}")),
                _ => None,
            }
        })
        .collect()
}

/// Whether `name` matches the glob `pattern` (`*` any run, `?` one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// `:deps NAME`: direct and transitive callers and callees (top-level entries, builtins and externs
/// included), as text or as a Graphviz graph.
pub fn deps(engine: &Engine, name: &str, dot: bool) -> Result<String, String> {
    let info = match resolve(engine, name)? {
        Target::Function(info, _) => info,
        Target::Global(name, _) => return Err(format!("`{name}` is a global; `:show {name}` says who uses it")),
    };
    let callees =
        reach(&info.name, |n| engine.index().get(n).map(|f| f.calls.iter().map(|(c, _)| c.clone()).collect()));
    let callers = reach(&info.name, |n| Some(engine.index().callers_of(n).into_iter().map(|(c, _)| c).collect()));
    if dot {
        return Ok(dot_graph(engine, &info.name, &callers, &callees));
    }
    let mut text = format!("{}\n", headline(engine, info).trim_end());
    let label = |n: &String| match engine.index().get(n).map(|f| f.kind) {
        Some(FunctionKind::Builtin) => format!("{n} (builtin)"),
        Some(FunctionKind::Extern) => format!("{n} (extern)"),
        _ => n.clone(),
    };
    for (title, found) in [("calls", &callees), ("called by", &callers)] {
        let direct: Vec<String> = found.iter().filter(|(_, d)| **d == 1).map(|(n, _)| label(n)).collect();
        let further: Vec<String> = found.iter().filter(|(_, d)| **d > 1).map(|(n, _)| label(n)).collect();
        text.push_str(&format!("{title} directly: {}\n", or_none(&direct)));
        text.push_str(&format!("{title} through others: {}\n", or_none(&further)));
    }
    let entries = top_level_callers(engine, &info.name, &callers);
    text.push_str(&format!("reached from the top-level code of: {}\n", or_none(&entries)));
    text.push_str(&format!("its optimized code inlined: {}\n", or_none(info.inlined())));
    text.push_str(&format!("inlined into the optimized code of: {}\n", or_none(&inlined_into(engine, &info.name))));
    Ok(text)
}

/// The functions whose current optimized code inlined `name`'s body.
fn inlined_into(engine: &Engine, name: &str) -> Vec<String> {
    let functions = engine.index().functions();
    functions.filter(|f| f.inlined().iter().any(|n| n == name)).map(|f| f.name.to_string()).collect()
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}

/// Every name reachable from `start` through `next`, with its distance (1 = direct).
fn reach(start: &str, next: impl Fn(&str) -> Option<Vec<String>>) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    let mut queue = VecDeque::from([(start.to_string(), 0)]);
    while let Some((name, distance)) = queue.pop_front() {
        for other in next(&name).unwrap_or_default() {
            if other != start && !found.contains_key(&other) {
                found.insert(other.clone(), distance + 1);
                queue.push_back((other, distance + 1));
            }
        }
    }
    found
}

/// The entries whose top-level code called the function or one of its callers.
fn top_level_callers(engine: &Engine, name: &str, callers: &BTreeMap<String, usize>) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for n in std::iter::once(name).chain(callers.keys().map(String::as_str)) {
        if let Some(info) = engine.index().get(n) {
            ids.extend(info.called_from_entries.iter().copied());
        }
    }
    ids.into_iter().filter_map(|id| engine.entry_name(id)).map(str::to_string).collect()
}

fn dot_graph(
    engine: &Engine,
    name: &str,
    callers: &BTreeMap<String, usize>,
    callees: &BTreeMap<String, usize>,
) -> String {
    let index = engine.index();
    let nodes: BTreeSet<&str> = std::iter::once(name)
        .chain(callers.keys().map(String::as_str))
        .chain(callees.keys().map(String::as_str))
        .collect();
    let mut text =
        format!("digraph \"deps of {}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=monospace];\n", escape(name));
    for &node in &nodes {
        let shape = match index.get(node).map(|f| (f.kind, f.operator)) {
            Some((FunctionKind::Builtin | FunctionKind::Extern, _)) => ", style=dashed",
            Some((_, ProtoKind::Binary { .. } | ProtoKind::Unary(_))) => ", shape=ellipse",
            _ => "",
        };
        let bold = if node == name { ", penwidth=2" } else { "" };
        text.push_str(&format!("  \"{}\" [label=\"{}\"{shape}{bold}];\n", escape(node), escape(node)));
    }
    for &node in &nodes {
        let Some(info) = index.get(node) else { continue };
        for (callee, passed) in &info.calls {
            if nodes.contains(callee.as_str()) {
                let stale = index.get(callee).and_then(|f| f.arity).is_some_and(|takes| takes != *passed);
                let style = if stale { " [color=red, label=\"stale\"]" } else { "" };
                text.push_str(&format!("  \"{}\" -> \"{}\"{style};\n", escape(node), escape(callee)));
            }
        }
    }
    for entry in top_level_callers(engine, name, callers) {
        text.push_str(&format!("  \"{}\" [shape=note];\n", escape(&entry)));
        for &node in &nodes {
            let called = index
                .get(node)
                .is_some_and(|f| f.called_from_entries.iter().any(|&id| engine.entry_name(id) == Some(entry.as_str())));
            if called {
                text.push_str(&format!("  \"{}\" -> \"{}\";\n", escape(&entry), escape(node)));
            }
        }
    }
    text.push_str("}\n");
    text
}

/// `:modules`: every entry's module: what it made, its bytes of code, and whether that code is live.
pub fn modules(engine: &Engine) -> String {
    let mut text = format!("{:<6} {:<24} {:>6}  {:<9} {}\n", "entry", "name", "bytes", "code", "made");
    for module in engine.modules() {
        let live = module.definitions.iter().any(|(name, version)| {
            engine.index().get(name).is_some_and(|f| f.version() == *version && f.is_compiled())
        });
        let code = match (module.code_bytes, live) {
            (0, _) => "none",
            (_, true) => "live",
            (_, false) => "freed",
        };
        let made: Vec<String> = module.made.iter().map(crate::report::made_text).collect();
        let made = if made.is_empty() { "nothing".to_string() } else { made.join(", ") };
        text.push_str(&format!(
            "{:<6} {:<24} {:>6}  {code:<9} {made}\n",
            module.entry.0, module.name, module.code_bytes
        ));
    }
    text.push_str(
        "(top-level code is freed once it has run; a lazy definition is compiled in a module of its own on its \
         first call)\n",
    );
    text
}

/// `:table [NAME]`: the indirection table's slots (all, or those of one name): where each points now.
pub fn table(engine: &Engine, name: Option<&str>) -> String {
    let rows: Vec<kaleido_engine::SlotRow> =
        engine.table().into_iter().filter(|row| name.is_none_or(|n| row.name == n)).collect();
    if rows.is_empty() {
        return format!("no slot for `{}`: nothing has called it or defined it yet\n", name.unwrap_or("*"));
    }
    let mut text = format!("{:<20} {:<20} {}\n", "slot (name/arity)", "address", "points to");
    for row in rows {
        let key = format!("{}/{}", row.name, row.arity);
        let points_to = row.points_to.as_ref().map_or_else(|| "unknown code".to_string(), crate::report::address_text);
        text.push_str(&format!("{key:<20} {:<20} {points_to}\n", format!("{:#x}", row.address)));
    }
    text
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_runs_and_single_characters() {
        for (pattern, name, expected) in [
            ("f*", "fib", true),
            ("f*", "gib", false),
            ("*b", "fib", true),
            ("f?b", "fib", true),
            ("f?b", "fiib", false),
            ("*i*", "fib", true),
            ("binary*", "binary|", true),
            ("", "", true),
            ("*", "", true),
        ] {
            assert_eq!(glob_match(pattern, name), expected, "{pattern} ~ {name}");
        }
    }
}
