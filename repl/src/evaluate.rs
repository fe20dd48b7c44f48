//! The one evaluation loop every front end drives: a shell entry, a script, `-e`, a pipe, a `:load`ed
//! file, `:time`'s text and a notebook cell all run through [`run_source`].
//!
//! A source is split into pieces: its command lines and its top-level items ([`pieces`]). Each item is
//! an entry of its own, analyzed against the session as the items before it left it, so a later item
//! may use an operator an earlier one defined and a bad item rejects only itself. What happens is
//! reported as it happens, in order: warnings and program output as the engine produces them, each
//! item's value right after that item (through the session's [`Presenter`], which is the only part that
//! differs between the shell, scripts and the notebook), then the code listing (`:set show`), the timing
//! (`:set timing`, `:time`) and the tier events (`:set trace-tiers`). A `;` after an item keeps its value
//! to itself. The first failure (a rejected entry, a runtime error, a failed command) stops the source,
//! unless the script runs with `--keep-going`.

use std::io::Write;
use std::path::Path;

use kaleido_engine::{Drawing, Rejected, RuntimeErrorKind, ScriptItem, io_reason};
use kaleido_lang::Span;
use kaleido_lang::next_item::next_item_start;
use kaleido_view::picture;
use kaleido_view::present::SourceText;
use kaleido_view::report::timing_line;

use crate::commands::table::{command_typo, is_command_line};
use crate::commands::{Action, Next, run_command_unreported};
use crate::presenter::ItemShower;
pub use crate::presenter::{EntryStatus, Failure, Origin, Presenter, Shown, TextPresenter};
use crate::session::Session;
use crate::transcript::StepKind;

/// A source to run: its origin, its text, and how a script runs.
pub struct Source<'t> {
    /// Where it comes from.
    pub origin: Origin,
    /// Its text.
    pub text: &'t str,
    /// Run every piece even after one fails (`--keep-going`); the first failure is still reported.
    pub keep_going: bool,
    /// Print each piece's source, lines prefixed with `> `, before its output (`--echo`).
    pub echo: bool,
}

impl<'t> Source<'t> {
    /// A source that stops at its first failure and echoes nothing.
    pub fn new(origin: Origin, text: &'t str) -> Source<'t> {
        Source { origin, text, keep_going: false, echo: false }
    }
}

/// How a source ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    /// The first failure's status (`Ok` if none).
    pub status: EntryStatus,
    /// Whether a `:quit` asked to stop.
    pub quit: bool,
}

/// Runs `source` in `session`, piece by piece, showing what happens as it happens.
pub fn run_source(session: &mut Session, source: &Source<'_>) -> Ran {
    let name = source.origin.name();
    let whole = SourceText::new(&name, source.text).colored(session.color());
    let mut pieces = Pieces::new(source.text);
    let enclosing_tail = session.tail;
    let mut ran = Ran { status: EntryStatus::Ok, quit: false };
    loop {
        let Some(piece) = pieces.next(session) else {
            interrupted_reading(session, &source.origin);
            ran.status = EntryStatus::Interrupted;
            break;
        };
        let Some(piece) = piece else { break };
        session.tail = enclosing_tail && pieces.after_last();
        let span = match piece.item {
            Some(item) => kaleido_lang::with_trailing_comment(source.text, item.span),
            None => piece.span,
        };
        let text = &source.text[span.range()];
        if source.echo {
            session.echo(text);
        }
        let line = whole.line_of(span.start as usize);
        let status = match piece.item {
            None => match run_command_piece(session, &source.origin, text, line) {
                Next::Quit => {
                    ran.quit = true;
                    break;
                }
                Next::Failed => EntryStatus::CompileError,
                Next::Stopped(status) => status,
                Next::Continue => EntryStatus::Ok,
            },
            Some(item) => run_item(session, &source.origin, &whole, (span, item), line),
        };
        if status == EntryStatus::Ok {
            continue;
        }
        if ran.status == EntryStatus::Ok {
            ran.status = status;
        }
        if !source.keep_going || matches!(status, EntryStatus::Interrupted | EntryStatus::OutputFailed) {
            break;
        }
    }
    session.tail = enclosing_tail;
    let _ = session.out.flush();
    let _ = session.err.flush();
    ran
}

/// Says that an interrupt stopped the parse of a source's next item; nothing from there on ran.
fn interrupted_reading(session: &mut Session, origin: &Origin) {
    session.engine().interrupt_handle().clear();
    let message = "interrupted while reading the script; nothing more of it ran".to_string();
    let rendered = format!("{}: error: {message}\n", origin.name());
    report(session, &Failure { status: EntryStatus::Interrupted, message, rendered });
}

/// Runs a command line of a source; its failure is reported like any other (prefixed with where it
/// is, in a file). `:time` and `:load` ask the loop to run a source, as part of this one.
fn run_command_piece(session: &mut Session, origin: &Origin, line_text: &str, line: usize) -> Next {
    let result = run_command_unreported(session, line_text).and_then(|action| match action {
        Action::Done => Ok(Next::Continue),
        Action::Quit => Ok(Next::Quit),
        Action::Time(text) => {
            session.time_next = true;
            run_as_part(session, origin, ":time", &text);
            session.time_next = false;
            Ok(Next::Continue)
        }
        Action::Plot(request) => {
            session.plot_next = Some(request.frame);
            let status = run_as_part(session, origin, ":plot", &request.code);
            session.plot_next = None;
            match status {
                EntryStatus::Ok => Ok(Next::Continue),
                status => Ok(Next::Stopped(status)),
            }
        }
        Action::Load { file, shown, text } => {
            let status = run_file(session, &file, &shown, &text, false, false)?;
            match status {
                EntryStatus::Ok => {
                    let _ = writeln!(session.out, "loaded {shown}");
                    Ok(Next::Continue)
                }
                _ => Err(format!("{shown} stopped at the error above")),
            }
        }
    });
    // `:undo`, `:forget` and `:compile` can change tiers too.
    session.show_tier_events();
    let _ = session.out.flush();
    match result {
        Ok(next) => next,
        Err(message) => {
            let prefix = match origin {
                Origin::File(name) => format!("{name}:{line}: "),
                _ => String::new(),
            };
            let rendered = format!("{prefix}error: {message}\n");
            report(session, &Failure { status: EntryStatus::CompileError, message, rendered });
            Next::Failed
        }
    }
}

/// Runs `text` for the command `command` (`:time`, `:plot`): as part of the source that ran the command (a
/// notebook cell, a script, where its entries are named `<:time>`), or as a new shell entry when typed at
/// the prompt.
fn run_as_part(session: &mut Session, origin: &Origin, command: &str, text: &str) -> EntryStatus {
    match origin {
        Origin::File(_) => run_source(session, &Source::new(Origin::File(format!("<{command}>")), text)).status,
        Origin::Cell(_) | Origin::Uncounted(_) => run_source(session, &Source::new(origin.clone(), text)).status,
        Origin::Shell(_) | Origin::ShellCommand => shell_entry_unrecorded(session, text),
    }
}

/// Evaluates one shell entry, named `<repl:N>`, and shows what happened.
pub fn eval_shell_entry(session: &mut Session, text: &str) -> EntryStatus {
    recorded(session, text, |session| shell_entry_unrecorded(session, text))
}

/// Runs `run` as one step of the transcript (`:save --transcript`), whose text is `text`: a step begun
/// inside another (a `:load`'s items, a shell entry's) is part of it.
fn recorded(session: &mut Session, text: &str, run: impl FnOnce(&mut Session) -> EntryStatus) -> EntryStatus {
    session.transcript.begin();
    let status = run(session);
    let kind = if status == EntryStatus::CompileError { StepKind::Rejected } else { StepKind::Ran };
    session.transcript.end(text, kind);
    status
}

fn shell_entry_unrecorded(session: &mut Session, text: &str) -> EntryStatus {
    let number = session.take_entry_number();
    // The shell keeps going, within a line as across lines: each item of `fib 10` is tried, as in a
    // script run with `--keep-going` (a cell, like a script, stops at its first error).
    let source = Source { keep_going: true, ..Source::new(Origin::Shell(number), text) };
    let status = run_source(session, &source).status;
    // Someone typing the name of a command without its colon is looking for the command.
    let hint = match text.trim().trim_end_matches(['(', ')', ';']) {
        "quit" | "exit" | "q" | "bye" => Some("type `:quit` or press Ctrl-D to leave the shell"),
        "help" | "?" => Some("type `:help` for help"),
        _ => None,
    };
    if let (EntryStatus::CompileError | EntryStatus::RuntimeError, Some(hint)) = (status, hint) {
        let _ = writeln!(session.err, "hint: {hint}");
    }
    status
}

/// Runs the command `line` (which starts with `:`) as a source of its own, as the shell does with a
/// command typed at the prompt: its failure is shown as any failure is.
pub fn run_command(session: &mut Session, line: &str) -> Next {
    // The caller says it is a command: an unknown one (`:lsit`) is an unknown command, not code.
    let next = run_command_piece(session, &Origin::ShellCommand, line.trim(), 1);
    let _ = session.out.flush();
    let _ = session.err.flush();
    next
}

/// How many script files may be loading at once, one inside the other (`kaleido a.kal`, whose `:load b`
/// loads `c`...): each level holds the files' text and a few Rust frames, so the bound keeps the native
/// stack and memory safe whatever the files do.
pub const MAX_LOAD_DEPTH: usize = 32;

/// Runs the script file `file` (named `shown` in messages), whose text is `text`, in `session`. A file
/// already being loaded (a `:load` of itself, or of a file that loads it back) and loads nested past
/// [`MAX_LOAD_DEPTH`] are refused, wherever the load comes from (a script, the shell, `-e`, a notebook
/// cell), since they would recurse until the stack ran out.
pub fn run_file(
    session: &mut Session,
    file: &Path,
    shown: &str,
    text: &str,
    keep_going: bool,
    echo: bool,
) -> Result<EntryStatus, String> {
    let identity = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let chain = |session: &Session| {
        let names = session.loading.iter().map(|(_, name)| name.as_str()).chain(std::iter::once(shown));
        names.collect::<Vec<_>>().join(" → ")
    };
    if session.loading.iter().any(|(loading, _)| *loading == identity) {
        return Err(format!("{shown} is already being loaded (`:load` cycle: {})", chain(session)));
    }
    if session.loading.len() >= MAX_LOAD_DEPTH {
        return Err(format!(
            "loads nest too deeply: {MAX_LOAD_DEPTH} files are loading, one inside the other ({})",
            chain(session)
        ));
    }
    session.loading.push((identity, shown.to_string()));
    let status = run_script_text(session, shown, text, keep_going, echo);
    session.loading.pop();
    Ok(status)
}

/// Runs the script `text` named `name`: every item an entry of its own, commands between them.
pub fn run_script_text(session: &mut Session, name: &str, text: &str, keep_going: bool, echo: bool) -> EntryStatus {
    let _busy = crate::interrupt::busy();
    session.scripts_running += 1;
    let source = Source { origin: Origin::File(name.to_string()), text, keep_going, echo };
    let ran = run_source(session, &source);
    session.scripts_running -= 1;
    ran.status
}

/// Tells the presenter about a failure, after flushing what came before it.
pub(crate) fn report(session: &mut Session, failure: &Failure) {
    let _ = session.out.flush();
    session.presenter.failure(&mut *session.err, failure);
}

/// Runs one item (`whole.text[span]`, found as `item`) as an entry and shows what happened.
fn run_item(
    session: &mut Session,
    origin: &Origin,
    whole: &SourceText<'_>,
    (span, item): (Span, ScriptItem),
    line: usize,
) -> EntryStatus {
    let entry_name = origin.entry_name(line);
    recorded(session, &whole.text[span.range()], |session| {
        eval_and_show(session, origin, &entry_name, whole, (span, item), line)
    })
}

/// Evaluates one entry and shows its warnings, values and failure as they come, then its code, timing
/// and tier events.
fn eval_and_show(
    session: &mut Session,
    origin: &Origin,
    entry_name: &str,
    whole: &SourceText<'_>,
    (span, item): (Span, ScriptItem),
    line: usize,
) -> EntryStatus {
    let (text, offset) = (&whole.text[span.range()], span.start as usize);
    let silenced = followed_by_semicolon(&whole.text[span.end as usize..]);
    let mut shower = ItemShower::new(origin, whole, offset, line, session.tail && !silenced);
    shower.silenced = silenced || session.options().quiet;
    let result = {
        let Session { engine, out, err, presenter, .. } = &mut *session;
        engine.eval_script_item(entry_name, text, item, &mut |event| {
            shower.show(event, &mut **out, &mut **err, &mut **presenter)
        })
    };
    let ItemShower { defined, last_value, write_failed, .. } = shower;
    session.show_code_of(&defined);
    if let (Origin::Shell(_) | Origin::Cell(_) | Origin::Uncounted(_), Some(value)) = (origin, last_value) {
        session.engine_mut().set_global("ans", value);
    }
    if let Some(error) = write_failed {
        return output_failed(session, &io_reason(&error));
    }
    match result {
        Err(Rejected { diagnostics }) => {
            let mut rendered = whole.render_all(&diagnostics, offset);
            // `:shwo fib` is code (no command is called that), but it was surely meant as `:show`.
            if let Some((word, meant)) = command_typo(text) {
                rendered.push_str(&format!("hint: `{word}` is not a command; did you mean {meant}?\n"));
            }
            let message = diagnostics.iter().find(|d| d.is_error()).map(|d| d.message.clone()).unwrap_or_default();
            report(session, &Failure { status: EntryStatus::CompileError, message, rendered });
            EntryStatus::CompileError
        }
        Ok(outcome) => {
            if let Some(drawing) = &outcome.drawing
                && let Err(error) = show_pictures(session, drawing)
            {
                return output_failed(session, &io_reason(&error));
            }
            if session.options().timing || std::mem::take(&mut session.time_next) {
                let _ = session.out.write_all(timing_line(&outcome.timing).as_bytes());
            }
            session.show_tier_events();
            let Some(error) = outcome.error else { return EntryStatus::Ok };
            if let RuntimeErrorKind::OutputFailed { reason } = &error.kind {
                return output_failed(session, reason);
            }
            let mut rendered = String::new();
            if matches!(origin, Origin::Shell(_)) && error.kind == RuntimeErrorKind::Interrupted {
                // The terminal echoed `^C` where the cursor was: end that line before the message.
                rendered.push('\n');
            }
            rendered.push_str(&whole.render_runtime_error(&error, offset, session.engine()));
            let status = match error.kind {
                RuntimeErrorKind::Interrupted => EntryStatus::Interrupted,
                _ => EntryStatus::RuntimeError,
            };
            report(session, &Failure { status, message: error.to_string(), rendered });
            status
        }
    }
}

/// Shows what an entry drew, labelled by `:plot` when it asked; with `:set pictures DIR`, each picture is
/// also written there as a PNG file, named in the output.
fn show_pictures(session: &mut Session, drawing: &Drawing) -> std::io::Result<()> {
    let pictures = match &session.plot_next {
        Some(frame) => frame.pictures(drawing),
        None => picture::pictures_of(drawing),
    };
    let colour = session.options().picture_color;
    for picture in &pictures {
        let Session { out, presenter, .. } = &mut *session;
        presenter.picture(&mut **out, picture, colour)?;
        if let Some((dir, count)) = &mut session.pictures {
            *count += 1;
            let file = dir.join(format!("picture-{count}.png"));
            // `--pictures DIR` names a directory that may not exist yet (`:set pictures` made its own).
            let written = std::fs::create_dir_all(dir.as_path())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))
                .and_then(|()| picture::png(picture).map_err(|e| format!("cannot draw {}: {e}", file.display())))
                .and_then(|png| crate::commands::write_atomically(&file, &png));
            match written {
                Ok(()) => writeln!(session.out, "picture written to {}", file.display())?,
                Err(reason) => writeln!(session.err, "warning: {reason}")?,
            }
        }
    }
    session.out.flush()
}

/// Says once, plainly, that output cannot be written; whoever runs the session then stops.
fn output_failed(session: &mut Session, reason: &str) -> EntryStatus {
    let message = format!("cannot write the output ({reason}); stopping");
    let rendered = format!("kaleido: {message}\n");
    report(session, &Failure { status: EntryStatus::OutputFailed, message, rendered });
    EntryStatus::OutputFailed
}

/// One thing a source does: a command line, or an item (run as an entry).
struct Piece {
    /// Where it stands in the source (an item's span is [`ScriptItem::span`]).
    span: Span,
    /// The item, found and parsed by the engine; `None` for a command line.
    item: Option<ScriptItem>,
}

/// The pieces of a source, found one at a time: the engine parses each item when the loop reaches it,
/// under the operators the session has then, and that parse is the one it runs. A command line (see
/// [`is_command_line`]) stands between items: it ends the item before it, as a `;` would, so
/// `def f(x) x * 2`, `:list f`, `+ 1` is a definition, a command and a (bad) item of its own, never one
/// item with the command inside. Items are found in a copy of the text with each command line masked as
/// a `;` and blanks, so offsets stay put and the parse splits exactly where the loop runs the command.
struct Pieces {
    masked: String,
    /// The command lines not run yet, last first.
    commands: Vec<Span>,
    /// Where the next item would start (past blanks, comments and `;`), found once per gap.
    next_start: usize,
}

impl Pieces {
    fn new(text: &str) -> Pieces {
        let mut commands = command_lines(text);
        let mut masked = text.to_string();
        for span in &commands {
            let blank: String = std::iter::once(';').chain(std::iter::repeat_n(' ', span.range().len() - 1)).collect();
            masked.replace_range(span.range(), &blank);
        }
        commands.reverse();
        let next_start = next_item_start(&masked, 0);
        Pieces { masked, commands, next_start }
    }

    /// The next piece (`Some(None)`: there are no more); `None` when an interrupt stopped the parse.
    fn next(&mut self, session: &Session) -> Option<Option<Piece>> {
        if let Some(&command) = self.commands.last()
            && (command.start as usize) < self.next_start
        {
            self.commands.pop();
            self.next_start = next_item_start(&self.masked, command.end as usize);
            return Some(Some(Piece { span: command, item: None }));
        }
        let item = session.engine().next_script_item(&self.masked, self.next_start)?;
        Some(item.map(|item| {
            self.next_start = next_item_start(&self.masked, item.span.end as usize);
            Piece { span: item.span, item: Some(item) }
        }))
    }

    /// Whether the piece just found is the source's last.
    fn after_last(&self) -> bool {
        self.commands.is_empty() && self.next_start == self.masked.len()
    }
}

/// Where the command lines of `text` are: each line's text from its colon to its end (line ends of any
/// kind, `\n`, `\r\n` or a lone `\r`, as the lexer has them).
pub fn command_lines(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let starts: Vec<usize> = std::iter::once(0).chain(kaleido_lang::line_ends::line_starts(text)).collect();
    for (i, &start) in starts.iter().enumerate() {
        let line = &text[start..starts.get(i + 1).copied().unwrap_or(text.len())];
        let content = line.trim_end_matches(['\n', '\r']);
        if is_command_line(content) {
            let at = start + (content.len() - content.trim_start().len());
            spans.push(Span::new(at, start + content.trim_end().len()));
        }
    }
    spans
}

/// Whether the next thing after an item (past spaces and `#` comments) is a `;`, which silences the
/// item's value. Only the text up to that token is read, so a script of many items costs linear time.
pub(crate) fn followed_by_semicolon(rest: &str) -> bool {
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => return true,
            '#' => while chars.next_if(|&c| c != '\n' && c != '\r').is_some() {},
            c if c.is_whitespace() => {}
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::followed_by_semicolon;

    #[test]
    fn a_semicolon_after_spaces_and_comments_silences() {
        for (rest, silenced) in [
            ("; 2", true),
            ("  # note\n ;", true),
            ("\r\n;", true),
            (" 2;", false),
            ("", false),
            ("# only a comment", false),
        ] {
            assert_eq!(followed_by_semicolon(rest), silenced, "{rest:?}");
        }
    }
}
