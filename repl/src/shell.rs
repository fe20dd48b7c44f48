//! The interactive shell: prompts, multi-line entries, history, and the loop that drives a session.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

use kaleido_engine::present::Names;
use kaleido_lang::Completeness;
use rustyline::completion::FilenameCompleter;
use rustyline::error::ReadlineError;
use rustyline::{CompletionType, Config, Editor};

use crate::commands::{Next, run_command};
use crate::helper::{KalHelper, Known};
use crate::history::{PromptedHistory, strip_continuations};
use crate::session::Session;
use crate::source_file::check_history_file;

/// Runs the shell until `:quit` or Ctrl-D. `history` is where history is loaded from and saved to.
pub fn run_shell(session: &mut Session, history: Option<PathBuf>) -> anyhow::Result<()> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .max_history_size(10_000)?
        .completion_type(CompletionType::List)
        .build();
    let history_list = PromptedHistory::new(&config);
    let mut editor: Editor<KalHelper, PromptedHistory> = Editor::with_history(config, history_list)?;
    let known = Rc::new(RefCell::new(Known::default()));
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    editor.set_helper(Some(KalHelper { known: known.clone(), color, files: FilenameCompleter::new() }));
    let history = history.filter(|path| match check_history_file(path) {
        Ok(()) => true,
        Err(reason) => {
            let _ = writeln!(session.err, "warning: history is off: {} cannot hold it ({reason})", path.display());
            false
        }
    });
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.load_history(path);
    }
    let (version, target) = (env!("CARGO_PKG_VERSION"), kaleido_engine::host_triple());
    writeln!(session.out, "kaleido {version} ({target}) -- type :help for help, Ctrl-D to quit")?;
    loop {
        refresh_known(session, &known);
        let prompt = format!("In [{}]: ", session.next_entry_number());
        // A Ctrl-C that nothing acted on (it came while output was printed) must not stop the next entry.
        session.engine().interrupt_handle().clear();
        let Some(entry) = read_entry(&mut editor, &prompt, session)? else { break };
        if entry.trim().is_empty() {
            continue;
        }
        // A line with only a comment is kept in history but is no entry: it consumes no number.
        let (tokens, problems) = kaleido_lang::lexer::lex(&entry);
        if problems.is_empty() && tokens.iter().all(|t| t.kind == kaleido_lang::token::TokenKind::Eof) {
            let _ = editor.add_history_entry(entry.as_str());
            continue;
        }
        let _ = editor.add_history_entry(entry.as_str());
        if let Some(path) = &history {
            let _ = editor.append_history(path);
        }
        if entry.trim_start().starts_with(':') {
            if run_command(session, &entry) == Next::Quit {
                break;
            }
        } else {
            session.eval_shell_entry(&entry);
        }
        session.out.flush()?;
        session.err.flush()?;
    }
    Ok(())
}

/// Reads one entry: lines are joined while `lang` says the entry is incomplete. A blank line submits an
/// incomplete entry anyway (so its error is shown). `None` means end of input (Ctrl-D).
fn read_entry(
    editor: &mut Editor<KalHelper, PromptedHistory>,
    prompt: &str,
    session: &mut Session,
) -> anyhow::Result<Option<String>> {
    let continuation = format!("{:>width$}: ", "...", width = prompt.len() - 2);
    editor.history_mut().set_continuation(&continuation);
    let mut text = String::new();
    loop {
        let line = match editor.readline(if text.is_empty() { prompt } else { &continuation }) {
            // A recalled multi-line entry comes back with the continuation prompts it was shown with.
            Ok(line) => strip_continuations(&line),
            // Ctrl-C at the prompt clears the line (and any unfinished entry), as shells do.
            Err(ReadlineError::Interrupted) => return Ok(Some(String::new())),
            // Ctrl-D quits at the prompt, but on a continuation line it cancels the entry, as Ctrl-C does.
            Err(ReadlineError::Eof) if !text.is_empty() => return Ok(Some(String::new())),
            Err(ReadlineError::Eof) => return Ok(None),
            // A byte that is not UTF-8 (a Latin-1 terminal, a stray 0xFF): say so and drop the line, as
            // Ctrl-C does; the session goes on.
            Err(ReadlineError::Io(error)) if error.kind() == std::io::ErrorKind::InvalidData => {
                writeln!(session.err, "error: the input was not valid UTF-8; the line was dropped")?;
                writeln!(session.err, "  = note: is the terminal set to UTF-8? (`locale` shows the encoding)")?;
                return Ok(Some(String::new()));
            }
            Err(error) => return Err(error.into()),
        };
        let blank = line.trim().is_empty();
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&line);
        if text.trim_start().starts_with(':') || (blank && !text.trim().is_empty()) {
            return Ok(Some(text));
        }
        if session.engine().completeness(&text) != Completeness::Incomplete {
            return Ok(Some(text));
        }
    }
}

fn refresh_known(session: &Session, known: &Rc<RefCell<Known>>) {
    *known.borrow_mut() = Names::of(session.engine());
}
