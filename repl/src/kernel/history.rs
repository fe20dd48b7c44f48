//! The notebook's input history across sessions, for `history_request` (`jupyter console`'s arrow keys,
//! JupyterLab's console): every cell run with `store_history`, as `(session, line, input)`.
//!
//! It is kept per user beside the shell's history, in a file of its own:
//! `$KALEIDO_NOTEBOOK_HISTORY`, else `$XDG_DATA_HOME/kaleido/notebook-history.jsonl`, else
//! `~/.local/share/kaleido/notebook-history.jsonl`. Not in the shell's file: that one holds lines as
//! typed (continuation prompts and all) without sessions or line numbers, and a notebook's cells in the
//! shell's arrow-up history would bury what was typed there. One JSON object per line, appended as each
//! cell runs, so two kernels at once interleave whole lines; the file is read once, at start-up, and at
//! most its last [`MAX_HISTORY_BYTES`] (older lines are skipped, never loaded). Outputs are not kept: a
//! request with `output` gets an empty output for each input.

use std::io::Write;
use std::path::{Path, PathBuf};

use jupyter_protocol::{HistoryEntry, HistoryRequest};

use crate::history::data_file;
use crate::source_file::MAX_HISTORY_BYTES;

/// One stored input.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    session: usize,
    line: usize,
    input: String,
}

/// The history: what earlier sessions stored, and this session's cells.
pub(crate) struct NotebookHistory {
    lines: Vec<Line>,
    /// This kernel's session number: one more than any in the file.
    session: usize,
    /// The file, opened for appending once, at start-up (`None`: there is none, or it cannot be written).
    file: Option<std::fs::File>,
}

impl NotebookHistory {
    /// The history in the user's file (none when there is nowhere to keep one).
    pub(crate) fn open() -> NotebookHistory {
        NotebookHistory::at(data_file(
            |name| std::env::var_os(name),
            "KALEIDO_NOTEBOOK_HISTORY",
            "notebook-history.jsonl",
        ))
    }

    /// The history kept in `file`.
    fn at(path: Option<PathBuf>) -> NotebookHistory {
        let lines = path.as_deref().map(load).unwrap_or_default();
        let session = lines.iter().map(|l| l.session).max().unwrap_or(0) + 1;
        let file = path.and_then(|path| open_for_appending(&path).ok());
        NotebookHistory { lines, session, file }
    }

    /// Records that cell `line` of this session was `input`; a file that cannot be written is left alone.
    pub(crate) fn record(&mut self, line: usize, input: &str) {
        let entry = Line { session: self.session, line, input: input.to_string() };
        if let Some(file) = &mut self.file {
            let json = serde_json::json!({"session": entry.session, "line": entry.line, "input": entry.input});
            // One `write` per line, in append mode: kernels sharing the file interleave whole lines.
            let _ = file.write_all(format!("{json}\n").as_bytes());
        }
        self.lines.push(entry);
    }

    /// The answer to `request`: `tail` (the last `n`), `range` (lines `start..stop` of a session: 0 or
    /// none is this one, a negative number counts back from it) or `search` (a glob with `*` and `?`, the
    /// last `n` matches, each input once when `unique`).
    pub(crate) fn answer(&self, request: &HistoryRequest) -> Vec<HistoryEntry> {
        let (found, output): (Vec<&Line>, bool) = match request {
            HistoryRequest::Tail { n, output, .. } => (last(self.lines.iter().collect(), *n), *output),
            HistoryRequest::Range { session, start, stop, output, .. } => {
                let wanted = match session.unwrap_or(0) {
                    s if s <= 0 => self.session as i64 + s as i64,
                    s => s as i64,
                };
                let (start, stop) = (*start as i64, *stop as i64);
                let found = self.lines.iter().filter(|l| l.session as i64 == wanted);
                let found = found.filter(|l| l.line as i64 >= start && (stop <= 0 || (l.line as i64) < stop));
                (found.collect(), *output)
            }
            HistoryRequest::Search { pattern, unique, n, output, .. } => {
                let mut found: Vec<&Line> = self.lines.iter().filter(|l| glob(pattern, &l.input)).collect();
                if *unique {
                    // The latest occurrence of each input stays.
                    let mut seen = std::collections::HashSet::new();
                    found.reverse();
                    found.retain(|l| seen.insert(l.input.as_str()));
                    found.reverse();
                }
                (last(found, *n), *output)
            }
        };
        (found.into_iter())
            .map(|l| match output {
                true => HistoryEntry::InputOutput(l.session, l.line, (l.input.clone(), String::new())),
                false => HistoryEntry::Input(l.session, l.line, l.input.clone()),
            })
            .collect()
    }
}

/// The last `n` of `lines` (all when `n` is not positive).
fn last(lines: Vec<&Line>, n: i32) -> Vec<&Line> {
    match usize::try_from(n) {
        Ok(n) if n > 0 && n < lines.len() => lines[lines.len() - n..].to_vec(),
        _ => lines,
    }
}

/// Whether `text` matches the glob `pattern` (`*` any run of characters, `?` one character), as IPython's
/// history search does.
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer match with one backtrack point: linear in practice, never exponential.
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            (p, t) = (p + 1, t + 1);
        } else if p < pattern.len() && pattern[p] == '*' {
            (star, mark, p) = (Some(p), t, p + 1);
        } else if let Some(s) = star {
            (p, mark, t) = (s + 1, mark + 1, mark + 1);
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The lines of the history file (its last [`MAX_HISTORY_BYTES`] when it is larger); a line that is not
/// an entry is skipped.
fn load(file: &Path) -> Vec<Line> {
    let Ok(bytes) = read_tail(file) else { return Vec::new() };
    let text = String::from_utf8_lossy(&bytes);
    (text.lines())
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|entry| {
            let session = entry.get("session")?.as_u64()? as usize;
            let line = entry.get("line")?.as_u64()? as usize;
            let input = entry.get("input")?.as_str()?.to_string();
            Some(Line { session, line, input })
        })
        .collect()
}

/// The last [`MAX_HISTORY_BYTES`] of `file`, from the first whole line on (all of it when it is smaller).
fn read_tail(file: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut handle = std::fs::File::open(file)?;
    let skipped = handle.metadata()?.len().saturating_sub(MAX_HISTORY_BYTES);
    handle.seek(SeekFrom::Start(skipped))?;
    let mut bytes = Vec::new();
    handle.take(MAX_HISTORY_BYTES).read_to_end(&mut bytes)?;
    if skipped == 0 {
        return Ok(bytes);
    }
    let first_line = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1);
    Ok(bytes.split_off(first_line))
}

/// `file` opened for appending, its directory made if needed.
fn open_for_appending(file: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).open(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(history: &NotebookHistory, request: HistoryRequest) -> Vec<(usize, usize, String)> {
        (history.answer(&request).into_iter())
            .map(|entry| match entry {
                HistoryEntry::Input(s, l, input) | HistoryEntry::InputOutput(s, l, (input, _)) => (s, l, input),
            })
            .collect()
    }

    #[test]
    fn sessions_go_on_across_kernels_and_requests_find_what_ran() {
        let dir = std::env::temp_dir().join(format!("kaleido-notebook-history-{}", std::process::id()));
        let file = dir.join("h.jsonl");
        let _ = std::fs::remove_file(&file);
        let mut first = NotebookHistory::at(Some(file.clone()));
        first.record(1, "def f(x) x");
        first.record(2, "f(2)");
        let mut second = NotebookHistory::at(Some(file.clone()));
        assert_eq!(second.session, 2);
        second.record(1, "f(3)");
        second.record(2, "f(3)");
        let tail = HistoryRequest::Tail { n: 2, output: false, raw: true };
        assert_eq!(entries(&second, tail), [(2, 1, "f(3)".into()), (2, 2, "f(3)".into())]);
        let earlier = HistoryRequest::Range { session: Some(-1), start: 1, stop: 0, output: false, raw: true };
        assert_eq!(entries(&second, earlier), [(1, 1, "def f(x) x".into()), (1, 2, "f(2)".into())]);
        let search = HistoryRequest::Search { pattern: "f(?)".into(), unique: true, n: 0, output: false, raw: true };
        assert_eq!(entries(&second, search), [(1, 2, "f(2)".into()), (2, 2, "f(3)".into())]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn globs_match_as_ipython_s_history_search() {
        for (pattern, text, matches) in [
            ("*", "", true),
            ("f*", "fib(3)", true),
            ("*(?)", "fib(3)", true),
            ("?", "ab", false),
            ("a*b*c", "axbyc", true),
        ] {
            assert_eq!(glob(pattern, text), matches, "{pattern} {text}");
        }
    }
}
