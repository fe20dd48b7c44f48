//! Embeds the prebuilt JupyterLab extension (`editors/jupyterlab/labextension`, whose file names carry
//! content hashes) so `kaleido kernel install` can write it beside the kernelspec: this generates the
//! table of its files, each `include_bytes!`-ed.

use std::path::{Path, PathBuf};

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("the labextension is built").flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() { files(&path, found) } else { found.push(path) }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../editors/jupyterlab/labextension");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut found = Vec::new();
    files(&root, &mut found);
    let mut table = String::from("/// The prebuilt JupyterLab extension: (path inside it, contents).\n");
    table.push_str("pub(crate) const LABEXTENSION_FILES: &[(&str, &[u8])] = &[\n");
    for path in &found {
        let relative = path.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
        println!("cargo:rerun-if-changed={}", path.display());
        table.push_str(&format!("    ({relative:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("labextension_files.rs");
    std::fs::write(out, table).expect("OUT_DIR is writable");
}
