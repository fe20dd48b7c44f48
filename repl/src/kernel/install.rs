//! `kaleido kernel install | uninstall`: the kernelspec, where `jupyter kernelspec list` finds it.
//!
//! A kernelspec is a directory `kernels/kaleido/` holding `kernel.json`. It goes under Jupyter's data
//! directory: the user's (`--user`, the default: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter` or
//! `~/.local/share/jupyter`), the current Python environment's (`--sys-prefix`: `$VIRTUAL_ENV` or
//! `$CONDA_PREFIX`, then `share/jupyter`), or any prefix (`--prefix P`: `P/share/jupyter`). Beside it go
//! the logos Jupyter shows in its launcher (a Mandelbrot set, drawn by kaleido's own picture code), and
//! in the same data directory's `labextensions/kaleido-jupyterlab` kaleido's CodeMirror language for
//! JupyterLab (`editors/jupyterlab`, prebuilt and embedded by `build.rs`), which colours kaleido cells.
//!
//! Install also puts kaleido's Pygments lexer (`editors/pygments`, built into this binary) into a Python
//! environment with pip (`--python`, default `$KALEIDO_PYTHON` or `python3`), so nbconvert's HTML export
//! colours kaleido cells; `--no-lexer` skips that, and a failure only warns (the kernel works without it).

use std::path::{Path, PathBuf};

use clap::Args;

/// Where the kernelspec goes.
#[derive(Args, Debug)]
pub(crate) struct Where {
    /// The user's Jupyter data directory (the default).
    #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
    user: bool,
    /// The active Python environment (`$VIRTUAL_ENV` or `$CONDA_PREFIX`).
    #[arg(long, conflicts_with = "prefix")]
    sys_prefix: bool,
    /// Under `PREFIX/share/jupyter`.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<PathBuf>,
}

/// What `install` adds beside the kernelspec.
#[derive(Args, Debug)]
pub(crate) struct Extras {
    /// The Python whose environment gets the Pygments lexer (default: `$KALEIDO_PYTHON`, else `python3`).
    #[arg(long, value_name = "PYTHON")]
    python: Option<PathBuf>,
    /// Do not install the Pygments lexer.
    #[arg(long)]
    no_lexer: bool,
}

include!(concat!(env!("OUT_DIR"), "/labextension_files.rs"));

/// The lexer package's files, as `editors/pygments` holds them.
const LEXER_FILES: &[(&str, &str)] = &[
    ("pyproject.toml", include_str!("../../../editors/pygments/pyproject.toml")),
    ("kaleido_pygments/__init__.py", include_str!("../../../editors/pygments/kaleido_pygments/__init__.py")),
];

/// The kernelspec's directory for `place`.
fn directory(place: &Where) -> anyhow::Result<PathBuf> {
    Ok(data_directory(place)?.join("kernels").join("kaleido"))
}

/// The JupyterLab extension's directory for `place`.
fn labextension_directory(place: &Where) -> anyhow::Result<PathBuf> {
    Ok(data_directory(place)?.join("labextensions").join("kaleido-jupyterlab"))
}

/// Jupyter's data directory for `place`.
fn data_directory(place: &Where) -> anyhow::Result<PathBuf> {
    let data = if let Some(prefix) = &place.prefix {
        prefix.join("share/jupyter")
    } else if place.sys_prefix {
        let prefix = std::env::var_os("VIRTUAL_ENV").or_else(|| std::env::var_os("CONDA_PREFIX"));
        let prefix =
            prefix.ok_or_else(|| anyhow::anyhow!("--sys-prefix needs an active environment ($VIRTUAL_ENV)"))?;
        PathBuf::from(prefix).join("share/jupyter")
    } else {
        user_data_dir()?
    };
    Ok(data)
}

/// Jupyter's data directory for the user, as `jupyter --paths` computes it on Linux.
fn user_data_dir() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("JUPYTER_DATA_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_DATA_HOME") {
        return Ok(dir.join("jupyter"));
    }
    let home = var("HOME").ok_or_else(|| anyhow::anyhow!("$HOME is not set; use --prefix"))?;
    Ok(home.join(".local/share/jupyter"))
}

/// The `kernel.json` for the binary at `exe`.
fn kernel_json(exe: &Path) -> String {
    let spec = serde_json::json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "kaleido",
        "language": "kaleido",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    });
    format!("{:#}\n", spec)
}

/// Writes the kernelspec, pointing at this binary, with its logos; then installs the lexer.
pub(crate) fn install(place: &Where, extras: &Extras) -> anyhow::Result<()> {
    let dir = directory(place)?;
    let exe = std::env::current_exe()?;
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let file = dir.join(name);
        std::fs::write(&file, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))
    };
    write("kernel.json", kernel_json(&exe).as_bytes())?;
    for side in [32, 64] {
        write(&format!("logo-{side}x{side}.png"), &kaleido_view::picture::logo_png(side)?)?;
    }
    println!("installed the kaleido kernelspec in {}", dir.display());
    let extension = labextension_directory(place)?;
    write_files(&extension, LABEXTENSION_FILES.iter().copied())?;
    println!("installed kaleido's JupyterLab highlighting in {}", extension.display());
    if !extras.no_lexer {
        install_lexer(extras.python.clone());
    }
    Ok(())
}

/// Writes each `(path inside root, contents)`, making the directories on the way.
fn write_files<'a>(root: &Path, files: impl Iterator<Item = (&'a str, &'a [u8])>) -> anyhow::Result<()> {
    for (name, bytes) in files {
        let file = root.join(name);
        std::fs::create_dir_all(file.parent().unwrap_or(root))
            .and_then(|()| std::fs::write(&file, bytes))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    }
    Ok(())
}

/// Installs the Pygments lexer with `python -m pip`; says so, or warns why not.
fn install_lexer(python: Option<PathBuf>) {
    let python = python
        .or_else(|| std::env::var_os("KALEIDO_PYTHON").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let result = (|| -> anyhow::Result<()> {
        let package = tempfile::tempdir()?;
        write_files(package.path(), LEXER_FILES.iter().map(|&(name, text)| (name, text.as_bytes())))?;
        let status = std::process::Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg(package.path())
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", python.display()))?;
        anyhow::ensure!(status.success(), "pip exited with {status}");
        Ok(())
    })();
    match result {
        Ok(()) => println!("installed the kaleido Pygments lexer into {}'s environment", python.display()),
        Err(error) => eprintln!(
            "warning: the Pygments lexer (HTML export highlighting) was not installed: {error:#}; \
             `kaleido kernel install --python PATH` names the Python to use"
        ),
    }
}

/// Removes the kernelspec.
pub(crate) fn uninstall(place: &Where) -> anyhow::Result<()> {
    let dir = directory(place)?;
    if !dir.join("kernel.json").exists() {
        anyhow::bail!("no kaleido kernelspec in {}", dir.display());
    }
    std::fs::remove_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", dir.display()))?;
    println!("removed the kaleido kernelspec from {}", dir.display());
    let extension = labextension_directory(place)?;
    if extension.exists() {
        std::fs::remove_dir_all(&extension)
            .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", extension.display()))?;
        println!("removed kaleido's JupyterLab highlighting from {}", extension.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernelspec_runs_this_binary_with_the_connection_file() {
        let json: serde_json::Value = serde_json::from_str(&kernel_json(Path::new("/opt/kaleido"))).expect("json");
        assert_eq!(
            json["argv"],
            serde_json::json!(["/opt/kaleido", "kernel", "--connection-file", "{connection_file}"])
        );
        assert_eq!(json["language"], "kaleido");
        assert_eq!(json["interrupt_mode"], "message");
    }
}
