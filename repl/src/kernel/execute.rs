//! The kernel's engine thread: each shell request, in order, against one session.
//!
//! A cell is run as the shell runs what is typed: its command lines (`:show fib`) as commands, the code
//! between them as entries. Program output (`putchard`, `printd`) is sent on `stream` stdout as it is
//! flushed, item by item, so it arrives while the cell runs and in order with values. Each value is shown
//! as `Out[N] (line L): v` as it comes, except the cell's last, which is the `execute_result`. Warnings go
//! to stderr. A compile or runtime error ends the cell: an `error` message and reply whose traceback is
//! the rendered diagnostic (source line, caret, backtrace) in ANSI colour.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use jupyter_protocol::{
    CodeMirrorMode, CommInfoReply, CompleteReply, ErrorOutput, ExecuteInput, ExecuteReply, ExecuteResult,
    ExecutionCount, HelpLink, HistoryReply, InspectReply, IsCompleteReply, IsCompleteReplyStatus, JupyterMessage,
    JupyterMessageContent, KernelInfoReply, LanguageInfo, Media, MediaType, ReplyError, ReplyStatus, Status,
    StreamContent,
};
use kaleido_engine::present::{Names, SourceText, describe_item};
use kaleido_engine::{Event, ItemOutcome, Rejected, RuntimeErrorKind, format_value, inspect};
use kaleido_lang::Completeness;
use tokio::sync::mpsc::UnboundedSender;

use super::wire::{Incoming, Outgoing, Wires};
use crate::commands::{is_command_line, run_command};
use crate::helper::{completions, word_start};
use crate::session::{Session, silenced};

/// The `kernel_info_reply`: what Jupyter shows about kaleido and how it highlights cells.
pub(crate) fn kernel_info() -> KernelInfoReply {
    let version = env!("CARGO_PKG_VERSION");
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".to_string(),
        implementation: "kaleido".to_string(),
        implementation_version: version.to_string(),
        language_info: LanguageInfo {
            name: "kaleido".to_string(),
            version: version.to_string(),
            mimetype: Some("text/x-kaleido".to_string()),
            file_extension: Some(".kal".to_string()),
            // Python's lexers know `def`, `if`/`else`, `for`/`in`, numbers and `#` comments, which is
            // most of what a kaleido cell holds.
            pygments_lexer: Some("python".to_string()),
            codemirror_mode: Some(CodeMirrorMode::Simple("python".to_string())),
            nbconvert_exporter: None,
        },
        banner: format!(
            "kaleido {version}: a notebook JIT for a Kaleidoscope-like language (every value is an f64). \
             Lines starting with `:` are commands: `:help` lists them."
        ),
        help_links: vec![HelpLink {
            text: "The LLVM Kaleidoscope tutorial".to_string(),
            url: "https://llvm.org/docs/tutorial/MyFirstLanguageFrontend/index.html".to_string(),
        }],
        debugger: false,
        error: None,
    }
}

/// The message being answered, which streams written meanwhile belong to.
type Parent = Rc<RefCell<Option<JupyterMessage>>>;

/// A writer that sends what is written as `stream` messages (on flush, or past 4 KiB).
pub(crate) struct StreamWriter {
    stdout: bool,
    parent: Parent,
    outgoing: UnboundedSender<Outgoing>,
    buffer: Vec<u8>,
}

impl Write for StreamWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() > 4096 {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
        let content = if self.stdout { StreamContent::stdout(&text) } else { StreamContent::stderr(&text) };
        if let Some(parent) = self.parent.borrow().as_ref() {
            let _ = self.outgoing.send(Outgoing::IoPub(content.as_child_of(parent)));
        }
        Ok(())
    }
}

/// The writers a kernel session is made with, all tied to the message being answered.
#[derive(Clone)]
pub(crate) struct Streams {
    parent: Parent,
    outgoing: UnboundedSender<Outgoing>,
}

impl Streams {
    pub(crate) fn new(outgoing: UnboundedSender<Outgoing>) -> Streams {
        Streams { parent: Rc::new(RefCell::new(None)), outgoing }
    }

    /// A writer to stdout (`true`) or stderr.
    pub(crate) fn writer(&self, stdout: bool) -> Box<dyn Write> {
        let (parent, outgoing) = (self.parent.clone(), self.outgoing.clone());
        Box::new(StreamWriter { stdout, parent, outgoing, buffer: Vec::new() })
    }
}

/// Serves shell requests until shutdown.
pub(crate) fn serve(session: &mut Session, streams: &Streams, wires: Wires) {
    let mut kernel = Kernel { session, parent: streams.parent.clone(), outgoing: wires.outgoing, count: 0 };
    while let Ok(Incoming::Shell(message)) = wires.incoming.recv() {
        kernel.handle(*message);
    }
}

struct Kernel<'s> {
    session: &'s mut Session,
    parent: Parent,
    outgoing: UnboundedSender<Outgoing>,
    /// The execution count of the last cell stored in history.
    count: usize,
}

impl Kernel<'_> {
    fn handle(&mut self, message: JupyterMessage) {
        *self.parent.borrow_mut() = Some(message.clone());
        self.iopub(Status::busy().as_child_of(&message));
        let reply: Option<JupyterMessage> = match &message.content {
            JupyterMessageContent::KernelInfoRequest(_) => Some(kernel_info().as_child_of(&message)),
            JupyterMessageContent::ExecuteRequest(request) => {
                Some(self.execute(&request.code, request.silent, request.store_history).as_child_of(&message))
            }
            JupyterMessageContent::IsCompleteRequest(request) => {
                Some(self.is_complete(&request.code).as_child_of(&message))
            }
            JupyterMessageContent::CompleteRequest(request) => {
                Some(self.complete(&request.code, request.cursor_pos).as_child_of(&message))
            }
            JupyterMessageContent::InspectRequest(request) => {
                Some(self.inspect(&request.code, request.cursor_pos).as_child_of(&message))
            }
            JupyterMessageContent::HistoryRequest(_) => {
                Some(HistoryReply { history: Vec::new(), status: ReplyStatus::Ok, error: None }.as_child_of(&message))
            }
            JupyterMessageContent::CommInfoRequest(_) => Some(
                CommInfoReply { status: ReplyStatus::Ok, comms: Default::default(), error: None }.as_child_of(&message),
            ),
            _ => None,
        };
        self.flush_streams();
        if let Some(reply) = reply {
            let _ = self.outgoing.send(Outgoing::Shell(reply));
        }
        self.iopub(Status::idle().as_child_of(&message));
    }

    fn iopub(&self, message: JupyterMessage) {
        let _ = self.outgoing.send(Outgoing::IoPub(message));
    }

    fn flush_streams(&mut self) {
        let _ = self.session.out.flush();
        let _ = self.session.err.flush();
    }

    fn parent(&self) -> JupyterMessage {
        self.parent.borrow().clone().unwrap_or_else(|| Status::idle().into())
    }

    /// `execute_request`: the cell's commands and code, in order, stopping at the first error.
    fn execute(&mut self, code: &str, silent: bool, store_history: bool) -> ExecuteReply {
        let counted = store_history && !silent;
        if counted {
            self.count += 1;
        }
        let count = ExecutionCount::new(self.count.max(1));
        let parent = self.parent();
        if !silent {
            self.iopub(ExecuteInput { code: code.to_string(), execution_count: count }.as_child_of(&parent));
        }
        // An interrupt that arrived while nothing ran must not stop this cell.
        self.session.engine().interrupt_handle().clear();
        let mut last_value = None;
        for segment in segments(code) {
            let result = match segment {
                Segment::Command(line) => {
                    let _ = run_command(self.session, line);
                    self.flush_streams();
                    last_value = None;
                    Ok(())
                }
                Segment::Code { text, first_line } => self.run_code(text, first_line, count, &mut last_value),
            };
            if let Err(error) = result {
                self.flush_streams();
                self.iopub(error.clone().as_child_of(&parent));
                let failure = ReplyError { ename: error.ename, evalue: error.evalue, traceback: error.traceback };
                return ExecuteReply {
                    status: ReplyStatus::Error,
                    execution_count: count,
                    payload: Vec::new(),
                    user_expressions: Some(Default::default()),
                    error: Some(Box::new(failure)),
                };
            }
        }
        self.flush_streams();
        if let (Some(value), false) = (last_value, silent) {
            let data = Media::new(vec![MediaType::Plain(format_value(value))]);
            let transient = Some(Default::default());
            let result = ExecuteResult { execution_count: count, data, metadata: Default::default(), transient };
            self.iopub(result.as_child_of(&parent));
        }
        ExecuteReply {
            status: ReplyStatus::Ok,
            execution_count: count,
            payload: Vec::new(),
            user_expressions: Some(Default::default()),
            error: None,
        }
    }

    /// Runs one stretch of code as an entry. Values are shown as they come, each labelled with its line;
    /// the last one waits in `last_value` (it becomes the `execute_result` if nothing follows it).
    fn run_code(
        &mut self,
        text: &str,
        first_line: usize,
        count: ExecutionCount,
        last_value: &mut Option<f64>,
    ) -> Result<(), ErrorOutput> {
        let name = format!("In[{}]", count.value());
        let source = SourceText::new(&name, text).colored(true);
        let (engine, out, err) = self.session.parts();
        let mut pending: Option<(usize, f64)> = None;
        let mut observe = |event: Event<'_>| match event {
            Event::Warning(warning) => {
                let _ = out.flush();
                let _ = err.write_all(source.render(warning, 0).as_bytes());
                let _ = err.flush();
            }
            Event::Item(item, span) => {
                if let Some((line, value)) = pending.take() {
                    let _ = writeln!(out, "Out[{}] (line {line}): {}", count.value(), format_value(value));
                }
                match item {
                    ItemOutcome::Value(value) if !silenced(&text[span.end as usize..]) => {
                        pending = Some((first_line + source.line_of(span.start as usize) - 1, *value));
                    }
                    ItemOutcome::Value(_) => {}
                    item => {
                        if let Some(line) = describe_item(item, true) {
                            let _ = writeln!(out, "{line}");
                        }
                    }
                }
                let _ = out.flush();
            }
        };
        let result = engine.eval_observed(&name, text, &mut observe);
        *last_value = pending.map(|(_, value)| value);
        if let Some(value) = *last_value {
            engine.set_global("ans", value);
        }
        match result {
            Err(Rejected { diagnostics }) => {
                let evalue = diagnostics.iter().rev().find(|d| d.is_error()).map(|d| d.message.clone());
                let traceback = source.render_all(&diagnostics, 0);
                Err(error_output("CompileError", evalue.unwrap_or_default(), &traceback))
            }
            Ok(outcome) => match outcome.error {
                None => Ok(()),
                Some(error) => {
                    *last_value = None;
                    let ename =
                        if error.kind == RuntimeErrorKind::Interrupted { "Interrupted" } else { "RuntimeError" };
                    let traceback = source.render_runtime_error(&error, 0, engine);
                    Err(error_output(ename, error.to_string(), &traceback))
                }
            },
        }
    }

    /// `is_complete_request`, from the front end's completeness check (command lines are complete).
    fn is_complete(&mut self, code: &str) -> IsCompleteReply {
        let code_lines: Vec<&str> = code.lines().filter(|line| !is_command_line(line)).collect();
        let status = match self.session.engine().completeness(&code_lines.join("\n")) {
            Completeness::Complete => IsCompleteReplyStatus::Complete,
            Completeness::Incomplete => IsCompleteReplyStatus::Incomplete,
            Completeness::Invalid => IsCompleteReplyStatus::Invalid,
        };
        let indent = if matches!(status, IsCompleteReplyStatus::Incomplete) { "  " } else { "" };
        IsCompleteReply { status, indent: indent.to_string() }
    }

    /// `complete_request`: commands at the start of a line, else keywords, functions and globals. Cursor
    /// positions count characters (Unicode code points), as Jupyter's do.
    fn complete(&mut self, code: &str, cursor: usize) -> CompleteReply {
        let before: String = code.chars().take(cursor).collect();
        let start = word_start(&before, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let word = &before[start..];
        let line_start = before[..start].rfind('\n').map_or(0, |i| i + 1);
        let at_line_start = before[line_start..start].trim().is_empty();
        let matches = completions(word, &Names::of(self.session.engine()), at_line_start);
        let cursor_start = before[..start].chars().count();
        CompleteReply {
            matches,
            cursor_start,
            cursor_end: cursor,
            metadata: Default::default(),
            status: ReplyStatus::Ok,
            error: None,
        }
    }

    /// `inspect_request`: the `:show` text of the name under the cursor.
    fn inspect(&mut self, code: &str, cursor: usize) -> InspectReply {
        let chars: Vec<char> = code.chars().collect();
        let in_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let cursor = cursor.min(chars.len());
        let start = (0..cursor).rev().take_while(|&i| in_word(chars[i])).last().unwrap_or(cursor);
        let end = (cursor..chars.len()).take_while(|&i| in_word(chars[i])).last().map_or(cursor, |i| i + 1);
        let name: String = chars[start..end].iter().collect();
        match inspect::show(self.session.engine(), &name) {
            Ok(text) if !name.is_empty() => InspectReply {
                found: true,
                data: Media::new(vec![MediaType::Plain(text)]),
                metadata: Default::default(),
                status: ReplyStatus::Ok,
                error: None,
            },
            _ => InspectReply {
                found: false,
                data: Media::default(),
                metadata: Default::default(),
                status: ReplyStatus::Ok,
                error: None,
            },
        }
    }
}

fn error_output(ename: &str, evalue: String, rendered: &str) -> ErrorOutput {
    ErrorOutput {
        ename: ename.to_string(),
        evalue,
        traceback: rendered.trim_end().lines().map(str::to_string).collect(),
    }
}

/// A piece of a cell.
enum Segment<'c> {
    /// A command line.
    Command(&'c str),
    /// Code between commands, starting on line `first_line` of the cell.
    Code { text: &'c str, first_line: usize },
}

/// The cell's command lines and the stretches of code between them, in order.
fn segments(cell: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut code_start: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (index, line) in cell.split_inclusive('\n').enumerate() {
        if is_command_line(line) {
            if let Some((start, first_line)) = code_start.take() {
                segments.push(Segment::Code { text: &cell[start..offset], first_line });
            }
            segments.push(Segment::Command(line.trim_end()));
        } else if code_start.is_none() && !line.trim().is_empty() {
            code_start = Some((offset, index + 1));
        }
        offset += line.len();
    }
    if let Some((start, first_line)) = code_start {
        segments.push(Segment::Code { text: &cell[start..], first_line });
    }
    segments
}
