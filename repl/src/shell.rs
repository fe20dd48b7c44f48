//! The interactive shell: prompts, multi-line entries, history, and the loop that drives a session.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

use kaleido_lang::Completeness;
use kaleido_view::present::Names;
use rustyline::completion::FilenameCompleter;
use rustyline::error::ReadlineError;
use rustyline::{CompletionType, Config, Editor};

use crate::commands::{Next, is_command_line};
use crate::evaluate::{eval_shell_entry, run_command};
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
        let Some((entry, command)) = read_entry(&mut editor, &prompt, session)? else { break };
        if run_entry(session, &mut editor, history.as_deref(), &entry)? == Next::Quit {
            break;
        }
        // A command typed on a continuation line ended the entry before it; it runs next.
        if let Some(command) = command
            && run_entry(session, &mut editor, history.as_deref(), &command)? == Next::Quit
        {
            break;
        }
    }
    Ok(())
}

/// Runs one entry or command line as typed (and keeps it in the history).
fn run_entry(
    session: &mut Session,
    editor: &mut Editor<KalHelper, PromptedHistory>,
    history: Option<&std::path::Path>,
    entry: &str,
) -> anyhow::Result<Next> {
    if entry.trim().is_empty() {
        return Ok(Next::Continue);
    }
    let _ = editor.add_history_entry(entry);
    // A line with only a comment is kept in history but is no entry: it consumes no number.
    let (tokens, problems) = kaleido_lang::lexer::lex(entry);
    if problems.is_empty() && tokens.iter().all(|t| t.kind == kaleido_lang::token::TokenKind::Eof) {
        return Ok(Next::Continue);
    }
    if let Some(path) = history {
        let _ = editor.append_history(path);
    }
    let next = match is_command_line(entry) {
        true => run_command(session, entry),
        false => {
            eval_shell_entry(session, entry);
            Next::Continue
        }
    };
    session.out.flush()?;
    session.err.flush()?;
    Ok(next)
}

/// Reads one entry: lines are joined while `lang` says the entry is incomplete. A blank line submits an
/// incomplete entry anyway (so its error is shown), and so does a command line, which stands between
/// entries as it does in a script: the entry so far comes back with the command to run after it. `None`
/// means end of input (Ctrl-D).
fn read_entry(
    editor: &mut Editor<KalHelper, PromptedHistory>,
    prompt: &str,
    session: &mut Session,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    let continuation = format!("{:>width$}: ", "...", width = prompt.len() - 2);
    editor.history_mut().set_continuation(&continuation);
    let mut text = String::new();
    loop {
        let line = match editor.readline(if text.is_empty() { prompt } else { &continuation }) {
            // A recalled multi-line entry comes back with the continuation prompts it was shown with.
            Ok(line) => strip_continuations(&line),
            // Ctrl-C at the prompt clears the line (and any unfinished entry), as shells do.
            Err(ReadlineError::Interrupted) => return Ok(Some((String::new(), None))),
            // Ctrl-D quits at the prompt, but on a continuation line it cancels the entry, as Ctrl-C does.
            Err(ReadlineError::Eof) if !text.is_empty() => return Ok(Some((String::new(), None))),
            Err(ReadlineError::Eof) => return Ok(None),
            // A byte that is not UTF-8 (a Latin-1 terminal, a stray 0xFF): say so and drop the line, as
            // Ctrl-C does; the session goes on.
            Err(ReadlineError::Io(error)) if error.kind() == std::io::ErrorKind::InvalidData => {
                writeln!(session.err, "error: the input was not valid UTF-8; the line was dropped")?;
                writeln!(session.err, "  = note: is the terminal set to UTF-8? (`locale` shows the encoding)")?;
                return Ok(Some((String::new(), None)));
            }
            Err(error) => return Err(error.into()),
        };
        let blank = line.trim().is_empty();
        if is_command_line(&line) {
            return Ok(Some(match text.is_empty() {
                true => (line, None),
                false => (text, Some(line)),
            }));
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&line);
        if (blank && !text.trim().is_empty()) || session.engine().completeness(&text) != Completeness::Incomplete {
            return Ok(Some((text, None)));
        }
    }
}

fn refresh_known(session: &Session, known: &Rc<RefCell<Known>>) {
    *known.borrow_mut() = Names::of(session.engine());
}
