//! Where the shell keeps its history: `$KALEIDO_HISTORY`, else `$XDG_DATA_HOME/kaleido/history`, else
//! `~/.local/share/kaleido/history`.

use std::path::{Path, PathBuf};

use rustyline::history::{FileHistory, History, SearchDirection, SearchResult};

/// The history file to use, or `None` when there is nowhere to keep it.
pub fn history_path() -> Option<PathBuf> {
    history_path_from(|name| std::env::var_os(name))
}

/// As [`history_path`], reading the environment through `var` (for tests).
pub fn history_path_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    data_file(var, "KALEIDO_HISTORY", "history")
}

/// Where kaleido keeps the per-user file `name` (the shell's history, the notebook's): the path in the
/// variable `override_var` if set, else `$XDG_DATA_HOME/kaleido/NAME`, else
/// `~/.local/share/kaleido/NAME`; `None` when there is no home either. The environment is read through
/// `var`.
pub(crate) fn data_file(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
    override_var: &str,
    name: &str,
) -> Option<PathBuf> {
    if let Some(path) = var(override_var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let data = match var("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(var("HOME").filter(|p| !p.is_empty())?).join(".local/share"),
    };
    Some(data.join("kaleido").join(name))
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

/// The shell's history: rustyline's file history, shown with continuation prompts.
///
/// A multi-line entry is kept as typed (lines joined by `\n`), but rustyline has no continuation prompts:
/// a recalled entry would show its later lines at column 0. So entries are handed to the editor with the
/// continuation prompt after each newline (match positions moved to suit), and [`strip_continuations`]
/// takes them off again when the entry is submitted.
pub struct PromptedHistory {
    inner: FileHistory,
    /// The continuation prompt of the prompt being shown now (`   ...: `).
    continuation: String,
}

impl PromptedHistory {
    /// An empty history.
    pub fn new(config: &rustyline::Config) -> PromptedHistory {
        PromptedHistory { inner: FileHistory::with_config(config), continuation: String::new() }
    }

    /// Shows recalled entries with `continuation` after each newline (it changes as entry numbers grow).
    pub fn set_continuation(&mut self, continuation: &str) {
        self.continuation = continuation.to_string();
    }

    fn shown<'a>(&self, found: Option<SearchResult<'a>>) -> Option<SearchResult<'a>> {
        let found = found?;
        if !found.entry.contains('\n') || self.continuation.is_empty() {
            return Some(found);
        }
        let newlines_before = found.entry[..found.pos.min(found.entry.len())].matches('\n').count();
        let entry = found.entry.replace('\n', &format!("\n{}", self.continuation));
        Some(SearchResult {
            entry: entry.into(),
            idx: found.idx,
            pos: found.pos + newlines_before * self.continuation.len(),
        })
    }
}

/// `entry` without the continuation prompts a recalled multi-line entry was shown with.
pub fn strip_continuations(entry: &str) -> String {
    let mut lines = entry.split('\n');
    let mut text = lines.next().unwrap_or("").to_string();
    for line in lines {
        text.push('\n');
        let after_prompt = line.trim_start_matches(' ').strip_prefix("...: ");
        text.push_str(after_prompt.unwrap_or(line));
    }
    text
}

impl History for PromptedHistory {
    fn get(&self, index: usize, dir: SearchDirection) -> rustyline::Result<Option<SearchResult<'_>>> {
        Ok(self.shown(self.inner.get(index, dir)?))
    }

    fn add(&mut self, line: &str) -> rustyline::Result<bool> {
        self.inner.add(line)
    }

    fn add_owned(&mut self, line: String) -> rustyline::Result<bool> {
        self.inner.add_owned(line)
    }

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    fn set_max_len(&mut self, len: usize) -> rustyline::Result<()> {
        self.inner.set_max_len(len)
    }

    fn ignore_dups(&mut self, yes: bool) -> rustyline::Result<()> {
        self.inner.ignore_dups(yes)
    }

    fn ignore_space(&mut self, yes: bool) {
        self.inner.ignore_space(yes);
    }

    fn save(&mut self, path: &Path) -> rustyline::Result<()> {
        self.inner.save(path)
    }

    fn append(&mut self, path: &Path) -> rustyline::Result<()> {
        self.inner.append(path)
    }

    fn load(&mut self, path: &Path) -> rustyline::Result<()> {
        self.inner.load(path)
    }

    fn clear(&mut self) -> rustyline::Result<()> {
        self.inner.clear()
    }

    fn search(&self, term: &str, start: usize, dir: SearchDirection) -> rustyline::Result<Option<SearchResult<'_>>> {
        Ok(self.shown(self.inner.search(term, start, dir)?))
    }

    fn starts_with(
        &self,
        term: &str,
        start: usize,
        dir: SearchDirection,
    ) -> rustyline::Result<Option<SearchResult<'_>>> {
        Ok(self.shown(self.inner.starts_with(term, start, dir)?))
    }
}

#[cfg(test)]
mod prompted_tests {
    use super::*;

    #[test]
    fn recalled_entries_show_continuation_prompts_that_submitting_removes() {
        let mut history = PromptedHistory::new(&rustyline::Config::default());
        history.add("def f(x)\n  x * 2").expect("added");
        history.set_continuation("    ...: ");
        let found = history.get(0, SearchDirection::Forward).expect("get").expect("an entry");
        assert_eq!(found.entry, "def f(x)\n    ...:   x * 2");
        assert_eq!(strip_continuations(&found.entry), "def f(x)\n  x * 2");
        let searched = history.search("x *", 0, SearchDirection::Forward).expect("search").expect("found");
        assert_eq!(&searched.entry[searched.pos..searched.pos + 3], "x *");
        assert_eq!(strip_continuations("1 +\n2"), "1 +\n2");
    }
}
