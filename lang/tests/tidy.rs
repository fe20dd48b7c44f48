//! Tidy checks over the whole workspace: the invariants ARCHITECTURE.md states, checked rather than
//! hoped for. Every Rust file says what it is for in its first line; `lang` and `engine` never print;
//! only `repl` depends on clap or rustyline, and `lang` knows nothing of Cranelift; `unsafe` appears only
//! at the listed boundaries, each block with a `SAFETY:` comment.

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
        "engine/src/lazy.rs",
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
