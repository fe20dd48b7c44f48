//! Tidy checks over the whole workspace: the invariants ARCHITECTURE.md states, checked rather than
//! hoped for. Every Rust file says what it is for in its first line; `lang` and `engine` never print;
//! only `repl` depends on clap or rustyline, and `lang` knows nothing of Cranelift; `unsafe` appears only
//! at the listed boundaries, each block with a `SAFETY:` comment; the engine's files import each other only
//! downwards, in the layers ARCHITECTURE.md lists, so there is no import cycle.

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
fn lang_and_engine_never_print() {
    for dir in ["lang/src", "engine/src"] {
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
    for crate_dir in ["lang", "engine", "interp"] {
        let text = manifest(crate_dir);
        assert!(!text.contains("clap") && !text.contains("rustyline"), "{crate_dir} depends on clap or rustyline");
    }
    assert!(!manifest("lang").contains("cranelift"), "lang depends on Cranelift");
    let interp = manifest("interp");
    let dependencies = interp.split("[dev-dependencies]").next().unwrap_or("");
    assert!(!dependencies.contains("kaleido-engine"), "the reference interpreter must not use the engine it checks");
}

#[test]
fn unsafe_stays_at_the_listed_boundaries_with_a_safety_comment() {
    let allowed = [
        "engine/src/code_memory.rs",
        "engine/src/stack.rs",
        "engine/src/runtime.rs",
        "engine/src/builtins.rs",
        "engine/src/engine/apply.rs",
        "repl/src/interrupt.rs",
        "repl/src/stdio.rs",
        "engine/benches/engine.rs",
        "repl/benches/programs.rs",
    ];
    // Built at run time so this file does not match itself.
    let needle = concat!("unsafe", " {");
    for dir in ["lang", "engine", "interp", "repl", "tests"] {
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
    &["cells", "code_memory", "ids", "stack", "output", "error", "perf_map", "inliner"],
    &["slots", "globals", "options"],
    &["runtime"],
    &["builtins", "codegen", "frame_guard"],
    &["backend"],
    &["index", "lazy", "call_graph"],
    &["session"],
    &["resolve"],
    &["compile"],
    &["engine"],
    &["present", "save", "inspect", "disasm"],
];

/// The engine files `text` imports (`crate::NAME` anywhere in it).
fn engine_imports(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .match_indices("crate::")
        .map(|(at, _)| {
            let rest = &text[at + "crate::".len()..];
            rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>()
        })
        .filter(|name| !name.is_empty())
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
        for import in engine_imports(&text) {
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
    std::fs::read_to_string(path).is_ok_and(|text| engine_imports(&text).iter().any(|i| i == b))
}
