//! `kaleido kernel install | uninstall`: the kernelspec, where `jupyter kernelspec list` finds it.
//!
//! A kernelspec is a directory `kernels/kaleido/` holding `kernel.json`. It goes under Jupyter's data
//! directory: the user's (`--user`, the default: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter` or
//! `~/.local/share/jupyter`), the current Python environment's (`--sys-prefix`: `$VIRTUAL_ENV` or
//! `$CONDA_PREFIX`, then `share/jupyter`), or any prefix (`--prefix P`: `P/share/jupyter`).

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

/// The kernelspec's directory for `place`.
fn directory(place: &Where) -> anyhow::Result<PathBuf> {
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
    Ok(data.join("kernels").join("kaleido"))
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

/// Writes the kernelspec, pointing at this binary.
pub(crate) fn install(place: &Where) -> anyhow::Result<()> {
    let dir = directory(place)?;
    let exe = std::env::current_exe()?;
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let file = dir.join("kernel.json");
    std::fs::write(&file, kernel_json(&exe)).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    println!("installed the kaleido kernelspec in {}", dir.display());
    Ok(())
}

/// Removes the kernelspec.
pub(crate) fn uninstall(place: &Where) -> anyhow::Result<()> {
    let dir = directory(place)?;
    if !dir.join("kernel.json").exists() {
        anyhow::bail!("no kaleido kernelspec in {}", dir.display());
    }
    std::fs::remove_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", dir.display()))?;
    println!("removed the kaleido kernelspec from {}", dir.display());
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
