//! Tidy checks over the whole workspace: the invariants ARCHITECTURE.md states, checked rather than
//! hoped for. Every Rust file says what it is for in its first line; `lang`, `engine` and `view` never
//! print; only `repl` depends on clap or rustyline, and `lang` knows nothing of Cranelift; the engine makes
//! no text for people (its words are in its errors' `Display` and its diagnostics) and depends on no
//! disassembler or diff crate; `unsafe` appears only at the listed boundaries, each block with a `SAFETY:`
//! comment; no crate's files import each other in a loop (`crate::` and `super::` paths, in `use`
//! declarations and inline alike), and the engine's files import only downwards, in the layers
//! ARCHITECTURE.md lists.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root")
}

fn files_under(dir: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&root().join(dir), &mut files);
    files.into_iter().map(|path| (path.clone(), std::fs::read_to_string(&path).unwrap_or_default())).collect()
}

#[test]
fn every_rust_file_opens_with_a_module_doc_comment() {
    let mut files = Vec::new();
    rust_files(root(), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let undocumented: Vec<String> = files
        .iter()
        .filter(|path| !std::fs::read_to_string(path).unwrap_or_default().starts_with("//!"))
        .map(|path| path.display().to_string())
        .collect();
    assert!(undocumented.is_empty(), "files without a leading `//!` line: {undocumented:?}");
}

#[test]
fn lang_engine_and_view_never_print() {
    for dir in ["lang/src", "engine/src", "view/src"] {
        for (path, text) in files_under(dir) {
            for needle in
                ["print!(", "println!(", "eprint!(", "eprintln!(", "dbg!(", "std::io::stdout", "std::io::stderr"]
            {
                assert!(!text.contains(needle), "{} uses `{needle}`: the engine and lang never print", path.display());
            }
        }
    }
}

#[test]
fn only_repl_depends_on_the_terminal_crates_and_lang_on_no_backend() {
    let manifest =
        |crate_dir: &str| std::fs::read_to_string(root().join(crate_dir).join("Cargo.toml")).expect("manifest");
    for crate_dir in ["lang", "engine", "view", "interp"] {
        let text = manifest(crate_dir);
        assert!(!text.contains("clap") && !text.contains("rustyline"), "{crate_dir} depends on clap or rustyline");
    }
    assert!(!manifest("lang").contains("cranelift"), "lang depends on Cranelift");
    let interp = manifest("interp");
    let dependencies = interp.split("[dev-dependencies]").next().unwrap_or("");
    assert!(!dependencies.contains("kaleido-engine"), "the reference interpreter must not use the engine it checks");
    let engine = manifest("engine");
    let dependencies = engine.split("[dev-dependencies]").next().unwrap_or("");
    assert!(!dependencies.contains("kaleido-interp"), "tier 0 is the engine's own: the oracle stays independent");
}

#[test]
fn unsafe_stays_at_the_listed_boundaries_with_a_safety_comment() {
    let allowed = [
        "engine/src/machine/code_memory.rs",
        "engine/src/machine/stack.rs",
        "engine/src/runtime/mod.rs",
        "engine/src/runtime/builtins.rs",
        "engine/src/runtime/libraries.rs",
        "engine/src/machine/shared.rs",
        "engine/src/machine/process.rs",
        "engine/src/machine/trampolines.rs",
        "engine/src/tier0/calls.rs",
        "engine/src/engine/apply.rs",
        "repl/src/interrupt.rs",
        "repl/src/stdio.rs",
        "engine/benches/engine.rs",
        "repl/benches/programs.rs",
    ];
    // Built at run time so this file does not match itself.
    let needle = concat!("unsafe", " {");
    for dir in ["lang", "engine", "view", "interp", "repl", "tests"] {
        for (path, text) in files_under(dir) {
            let relative = path.strip_prefix(root()).expect("inside the workspace").to_string_lossy().into_owned();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if !code.contains(needle) {
                    continue;
                }
                assert!(
                    allowed.contains(&relative.as_str()),
                    "{relative}:{}: `unsafe` outside the listed boundaries",
                    i + 1
                );
                let commented = lines[i.saturating_sub(4)..=i].iter().any(|l| l.contains("SAFETY:"));
                assert!(commented, "{relative}:{}: `unsafe` block without a `// SAFETY:` comment", i + 1);
            }
        }
    }
}

/// The engine's files from the bottom up, as ARCHITECTURE.md lists them: a file may use files of its own
/// layer or below, never above.
const ENGINE_LAYERS: &[&[&str]] = &[
    &["machine"],
    &["base"],
    &["runtime"],
    &["codegen"],
    &["tier0"],
    &["backend"],
    &["tables"],
    &["tiers"],
    &["compile"],
    &["engine"],
];

/// The engine's top-level modules `text` (the file of module `module`) imports: `crate::NAME`, the
/// names in `use crate::{...}`, and `super::NAME` from a submodule (its parent's siblings), anywhere in it.
fn engine_imports(text: &str, module: &str, depth: usize) -> Vec<String> {
    let mut found: Vec<String> = module_paths(text, module, depth)
        .into_iter()
        .filter_map(|path| path.split("::").next().map(str::to_string))
        // `crate::RuntimeError` names an item the crate root re-exports, not a module.
        .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_engine_imports_only_downwards_so_it_has_no_import_cycle() {
    let layer_of = |module: &str| ENGINE_LAYERS.iter().position(|layer| layer.contains(&module));
    let mut checked = 0;
    for (path, text) in files_under("engine/src") {
        let relative = path.strip_prefix(root().join("engine/src")).expect("inside engine/src");
        // `engine/apply.rs` is part of `engine`; `lib.rs` is the table of contents.
        let module = relative.iter().next().and_then(|c| c.to_str()).unwrap_or("").trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let own = layer_of(&module).unwrap_or_else(|| panic!("engine/src/{module}.rs is in no layer of ENGINE_LAYERS"));
        let path = module_path_of(relative);
        let depth = path.matches("::").count();
        for import in engine_imports(&text, &path, depth) {
            let theirs = layer_of(&import).unwrap_or_else(|| panic!("{module} imports unknown module {import}"));
            assert!(theirs <= own, "{module} (layer {own}) imports {import} (layer {theirs}), which is above it");
            assert!(
                theirs < own
                    || import == module
                    || ENGINE_LAYERS[own].len() == 1
                    || !same_layer_cycle(&import, &module),
                "{module} and {import} import each other"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "checked only {checked} files");
}

/// Whether `a` (in `b`'s layer) imports `b` back.
fn same_layer_cycle(a: &str, b: &str) -> bool {
    let path = root().join("engine/src").join(format!("{a}.rs"));
    std::fs::read_to_string(path).is_ok_and(|text| engine_imports(&text, a, 0).iter().any(|i| i == b))
}

/// The module path of a file under a crate's `src/` (`kernel/wire.rs` → `kernel::wire`, `lib.rs` → ``).
fn module_path_of(relative: &Path) -> String {
    let mut parts: Vec<String> =
        relative.iter().map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.last().is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str())) {
        parts.pop();
    }
    parts.join("::")
}

/// Every module path `text` (the file of `module`, `depth` levels down) names: `crate::a::b`, the items of
/// `use crate::{a, b::c}`, and `super::a` (resolved against the parent), in `use` declarations and inline
/// paths alike; code after `#[cfg(test)]` is left out (tests may reach anywhere).
fn module_paths(text: &str, module: &str, depth: usize) -> Vec<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let path_chars = |rest: &str| -> String {
        rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect::<String>()
    };
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = group.split('}').next().unwrap_or("");
            found.extend(inside.split(',').map(|item| path_chars(item.trim())));
        } else {
            found.push(path_chars(rest));
        }
    }
    let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
    for (at, _) in text.match_indices("super::") {
        if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') || depth == 0 {
            continue;
        }
        let rest = path_chars(&text[at + "super::".len()..]);
        found.push(if parent.is_empty() { rest } else { format!("{parent}::{rest}") });
    }
    found.into_iter().map(|p| p.trim_end_matches(':').to_string()).filter(|p| !p.is_empty()).collect()
}

/// The loops among the files of the crate at `src` (each a set of two or more module paths).
fn import_loops(src: &str) -> Vec<Vec<String>> {
    let files = files_under(src);
    let modules: Vec<String> =
        files.iter().map(|(path, _)| module_path_of(path.strip_prefix(root().join(src)).expect("inside"))).collect();
    // A path names the file of its longest module prefix (`crate::kernel::wire::Outgoing` → `kernel::wire`).
    let resolve = |path: &str| -> Option<usize> {
        let segments: Vec<&str> = path.split("::").collect();
        (1..=segments.len()).rev().find_map(|k| modules.iter().position(|m| *m == segments[..k].join("::")))
    };
    let edges: Vec<Vec<usize>> = files
        .iter()
        .zip(&modules)
        .enumerate()
        .map(|(me, ((_, text), module))| {
            let depth = if module.is_empty() { 0 } else { module.matches("::").count() + 1 };
            let mut to: Vec<usize> = (module_paths(text, module, depth).iter().filter_map(|p| resolve(p)))
                .filter(|&to| to != me && !module.is_empty())
                .collect();
            to.sort();
            to.dedup();
            to
        })
        .collect();
    strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.into_iter().map(|i| modules[i].clone()).collect())
        .collect()
}

/// Tarjan's strongly connected components of the graph `edges` (iterative, so any size is fine).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let (mut index, mut low, mut on_stack) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut components, mut next) = (Vec::new(), Vec::new(), 0);
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, the next edge to follow, the tree child just finished).
        let mut work: Vec<(usize, usize, Option<usize>)> = vec![(start, 0, None)];
        while let Some((v, edge, finished)) = work.pop() {
            if edge == 0 && finished.is_none() {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(child) = finished {
                low[v] = low[v].min(low[child]);
            }
            if let Some(&w) = edges[v].get(edge) {
                if index[w] == usize::MAX {
                    work.push((v, edge + 1, Some(w)));
                    work.push((w, 0, None));
                } else {
                    if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    work.push((v, edge + 1, None));
                }
                continue;
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[test]
fn no_crate_has_an_import_loop() {
    for src in ["lang/src", "engine/src", "view/src", "interp/src", "repl/src"] {
        let loops = import_loops(src);
        assert!(loops.is_empty(), "{src}: files that import each other in a loop: {loops:?}");
    }
}

#[test]
fn the_loop_finder_sees_inline_paths_and_super() {
    let text = "fn f() { super::execute::kernel_info(); }";
    assert_eq!(module_paths(text, "kernel::wire", 2), vec!["kernel::execute::kernel_info".to_string()]);
    let grouped = "use crate::{a::B, c};";
    assert_eq!(module_paths(grouped, "d", 1), vec!["a::B".to_string(), "c".to_string()]);
    let loops = |edges: &[Vec<usize>]| strongly_connected(edges).into_iter().filter(|c| c.len() > 1).count();
    assert_eq!(loops(&[vec![1], vec![0], vec![]]), 1);
    assert_eq!(loops(&[vec![1, 2], vec![2], vec![]]), 0);
    assert_eq!(loops(&[vec![1], vec![2], vec![0, 3], vec![]]), 1);
}

#[test]
fn the_engine_makes_no_text_for_people() {
    let manifest = std::fs::read_to_string(root().join("engine/Cargo.toml")).expect("manifest");
    let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or("");
    for text_crate in ["iced-x86", "similar"] {
        assert!(!dependencies.contains(text_crate), "the engine depends on {text_crate}: that belongs in view");
    }
    // The only engine files that make text, and why: the words of typed errors and diagnostics, the
    // language's own number format (`printd`), and a profiler's file format.
    let may_format = [
        "base/error.rs",          // `Display` of runtime errors and backtraces
        "base/request_error.rs",  // `Display` of the requests' typed errors
        "compile/mod.rs",         // diagnostics (compile errors and warnings)
        "compile/resolve.rs",     // diagnostics (warnings about calls)
        "tiers/lazy.rs",          // an internal-error diagnostic
        "backend/mod.rs",         // the detail of `CodegenError`s, Cranelift's own words
        "machine/code_memory.rs", // the detail of an allocation's `io::Error`
        "base/ids.rs",            // `Display` of a code address, in hex
        "base/perf_map.rs",       // the perf map's `START SIZE NAME` lines, for profilers
        "runtime/mod.rs",         // `format_value`, the language's number format (`printd` prints it)
        "runtime/builtins.rs",    // `printd`
    ];
    for (path, text) in files_under("engine/src") {
        let relative = path.strip_prefix(root().join("engine/src")).expect("inside").to_string_lossy().into_owned();
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        let string_error = code.lines().any(|line| line.contains("Result<") && line.contains(", String>"));
        assert!(!string_error, "engine/src/{relative} has a `Result<_, String>`: errors are typed");
        let formats = ["format!(", "write!(", "writeln!("].iter().any(|m| code.contains(m));
        assert!(
            !formats || may_format.contains(&relative.as_str()),
            "engine/src/{relative} formats text: text for people belongs in view (or in an error's Display)"
        );
    }
}
