//! Where the shell keeps its history: `$KALEIDO_HISTORY`, else `$XDG_DATA_HOME/kaleido/history`, else
//! `~/.local/share/kaleido/history`.

use std::path::PathBuf;

/// The history file to use, or `None` when there is nowhere to keep it.
pub fn history_path() -> Option<PathBuf> {
    history_path_from(|name| std::env::var_os(name))
}

/// As [`history_path`], reading the environment through `var` (for tests).
pub fn history_path_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(path) = var("KALEIDO_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let data = match var("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(var("HOME").filter(|p| !p.is_empty())?).join(".local/share"),
    };
    Some(data.join("kaleido").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn path(vars: &[(&str, &str)]) -> Option<PathBuf> {
        history_path_from(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| OsString::from(v)))
    }

    #[test]
    fn override_then_xdg_then_home() {
        assert_eq!(path(&[("KALEIDO_HISTORY", "/tmp/h"), ("HOME", "/home/u")]), Some("/tmp/h".into()));
        assert_eq!(path(&[("XDG_DATA_HOME", "/x"), ("HOME", "/home/u")]), Some("/x/kaleido/history".into()));
        assert_eq!(path(&[("HOME", "/home/u")]), Some("/home/u/.local/share/kaleido/history".into()));
        assert_eq!(path(&[]), None);
    }
}
