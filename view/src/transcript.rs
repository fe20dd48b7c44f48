//! A session's transcript as a script (`:save --transcript`): every entry and command as typed, with
//! what it printed as `#` comments. Entries that ran stay live (with `--keep-going` past those that failed
//! at run time), and so do the commands that change the session; everything else is a comment, with its
//! control characters escaped, so program output can never become code. Recording the steps is the
//! front end's (`repl/src/transcript.rs`); this is only their text.

/// What one recorded step was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// An entry that was compiled and ran (perhaps to a runtime error).
    Ran,
    /// An entry the compiler rejected: it changed nothing.
    Rejected,
    /// A `:` command; `replays` when running it again is part of rebuilding the session.
    Command {
        /// It changes the session (`:load`, `:forget`...), rather than only showing it or writing a file.
        replays: bool,
    },
}

/// One entry or command and what it printed.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// What it was.
    pub kind: StepKind,
    /// Its text, as typed.
    pub text: &'a str,
    /// What it printed (colours stripped).
    pub output: &'a str,
}

/// The transcript of `steps` as a script: entries live, everything else as comments.
pub fn transcript_text<'a>(steps: impl IntoIterator<Item = Step<'a>>) -> String {
    let mut text = String::from(
        "# A kaleido transcript (`:save --transcript`): every entry as typed, what it printed as `#` comments.\n\
         # Run it with `kaleido --keep-going FILE` (an entry that failed at run time fails again).\n",
    );
    for step in steps {
        text.push('\n');
        match step.kind {
            StepKind::Ran | StepKind::Command { replays: true } => text.push_str(&format!("{}\n", step.text)),
            StepKind::Rejected => text.push_str(&commented(step.text, "(rejected) ")),
            StepKind::Command { replays: false } => text.push_str(&commented(step.text, "")),
        }
        text.push_str(&commented(step.output.trim_end(), ""));
    }
    text
}

/// `text` with every line turned into a comment, the first one prefixed with `label`. Every control
/// character but the line ends (`\n`, `\r\n`) is written as an escape (a lone `\r` as `\r`, an escape
/// character as `\u{1b}`): the lexer ends a comment at any `\r`, so nothing of `text` may stay raw.
fn commented(text: &str, label: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let label = if i == 0 { label } else { "" };
        let line: String = line.chars().map(escape_control).collect();
        out.push_str(format!("# {label}{line}").trim_end());
        out.push('\n');
    }
    out
}

/// A control character (a tab aside) as an escape: `\r`, `\u{7}`.
fn escape_control(c: char) -> String {
    match c {
        '\t' => "\t".to_string(),
        c if c.is_control() => c.escape_default().to_string(),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::commented;

    #[test]
    fn lines_are_commented_and_control_characters_escaped() {
        assert_eq!(commented("a\n  b\n", "(rejected) "), "# (rejected) a\n#   b\n");
        assert_eq!(commented("50%\rdone", ""), "# 50%\\rdone\n");
    }
}
