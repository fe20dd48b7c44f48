//! The kernel's engine thread: each shell request, in order, against one session.
//!
//! A cell is a source of the one evaluation loop (`evaluate::run_source`), exactly as a script or a shell
//! entry is: its command lines run as commands, each item as an entry named `<cell N>`. The kernel only
//! supplies the presenter: program output (`putchard`, `printd`), listings and command output go on
//! `stream` stdout as they are flushed, warnings on stderr; each value is shown right after its item, as
//! `Out[N] (line L): v`, except a value that ends the cell, which is the `execute_result`. The first
//! failure (a rejected entry, a runtime error, a failed command) ends the cell: an `error` message at
//! once, and an error reply whose traceback is the rendered diagnostic (source line, caret, backtrace)
//! in ANSI colour and whose `evalue` is the first error's message.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jupyter_protocol::{
    CommClose, CommInfoReply, CompleteReply, DisplayData, ErrorOutput, ExecuteInput, ExecuteReply, ExecuteResult,
    ExecutionCount, HistoryReply, InspectReply, IsCompleteReply, IsCompleteReplyStatus, JupyterMessage,
    JupyterMessageContent, Media, MediaType, ReplyError, ReplyStatus, Status, StreamContent, UnknownMessage,
};
use kaleido_lang::Completeness;
use kaleido_view::format_value;
use kaleido_view::inspect;
use kaleido_view::picture::{self, Picture};
use kaleido_view::present::Names;
use tokio::sync::mpsc::UnboundedSender;

use super::history::NotebookHistory;
use super::info::kernel_info;
use super::introspect;
use super::wire::{Incoming, Outgoing, Wires};
use crate::commands::is_command_line;
use crate::evaluate::{Failure, Origin, Presenter, Shown, Source, run_source};
use crate::session::{EntryStatus, Session};

/// The message being answered, which streams written meanwhile belong to.
pub(crate) type Parent = Rc<RefCell<Option<JupyterMessage>>>;

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

    /// The presenter of a session serving these streams, and the cell state it shares with the kernel.
    pub(crate) fn presenter(&self) -> (CellPresenter, Rc<RefCell<CellState>>) {
        let state = Rc::new(RefCell::new(CellState::default()));
        let presenter =
            CellPresenter { parent: self.parent.clone(), outgoing: self.outgoing.clone(), state: state.clone() };
        (presenter, state)
    }
}

/// What the presenter knows of the cell running now, shared with the kernel.
#[derive(Default)]
pub(crate) struct CellState {
    /// The cell's execution count.
    count: usize,
    /// Whether the request is silent (no `execute_result`).
    silent: bool,
    /// The cell's first failure, already sent on iopub.
    failure: Option<ErrorOutput>,
}

/// The notebook's presenter: values as `Out[N] (line L): v` on stdout, a cell's last value as its
/// `execute_result`, the first failure as an `error` message.
pub(crate) struct CellPresenter {
    parent: Parent,
    outgoing: UnboundedSender<Outgoing>,
    state: Rc<RefCell<CellState>>,
}

impl Presenter for CellPresenter {
    fn value(&mut self, out: &mut dyn Write, shown: Shown<'_>) -> std::io::Result<()> {
        let (count, silent) = {
            let state = self.state.borrow();
            (state.count, state.silent)
        };
        match shown.origin {
            Origin::Cell(_) | Origin::Uncounted(_) if shown.last => {
                out.flush()?;
                if silent {
                    return Ok(());
                }
                let data = Media::new(vec![MediaType::Plain(format_value(shown.value))]);
                let execution_count = ExecutionCount::new(count.max(1));
                let result = ExecuteResult {
                    execution_count,
                    data,
                    metadata: Default::default(),
                    transient: Some(Default::default()),
                };
                if let Some(parent) = self.parent.borrow().as_ref() {
                    let _ = self.outgoing.send(Outgoing::IoPub(result.as_child_of(parent)));
                }
                Ok(())
            }
            Origin::Cell(_) | Origin::Uncounted(_) => {
                writeln!(out, "Out[{}] (line {}): {}", count.max(1), shown.line, format_value(shown.value))?;
                out.flush()
            }
            // A `:load`ed file shows its values as a script does.
            _ => {
                writeln!(out, "{}", format_value(shown.value))?;
                out.flush()
            }
        }
    }

    /// A picture is `display_data`: PNG and SVG for the notebook, text for consoles.
    fn picture(&mut self, out: &mut dyn Write, picture: &Picture, _colour: bool) -> std::io::Result<()> {
        out.flush()?;
        if self.state.borrow().silent {
            return Ok(());
        }
        let mut data = vec![MediaType::Plain(picture::text(picture, false))];
        let svg = picture::svg(picture);
        match picture::png_of_svg(&svg) {
            Ok(png) => data.push(MediaType::Png(base64::engine::general_purpose::STANDARD.encode(png))),
            Err(error) => writeln!(out, "cannot show the picture as an image: {error}")?,
        }
        data.push(MediaType::Svg(svg));
        let display = DisplayData::new(Media::new(data));
        if let Some(parent) = self.parent.borrow().as_ref() {
            let _ = self.outgoing.send(Outgoing::IoPub(display.as_child_of(parent)));
        }
        Ok(())
    }

    fn failure(&mut self, err: &mut dyn Write, failure: &Failure) {
        let _ = err.flush();
        let mut state = self.state.borrow_mut();
        if state.failure.is_some() {
            // A later failure is shown, not raised: a `:load` that stopped at an error reports that error,
            // then fails itself ("stopped at the error above").
            let _ = err.write_all(failure.rendered.as_bytes());
            let _ = err.flush();
            return;
        }
        let ename = match failure.status {
            EntryStatus::CompileError => "CompileError",
            EntryStatus::Interrupted => "Interrupted",
            EntryStatus::OutputFailed => "OutputError",
            _ => "RuntimeError",
        };
        let error = error_output(ename, failure.message.clone(), &failure.rendered);
        if let Some(parent) = self.parent.borrow().as_ref() {
            let _ = self.outgoing.send(Outgoing::IoPub(error.clone().as_child_of(parent)));
        }
        state.failure = Some(error);
    }
}

/// Serves shell requests until shutdown.
pub(crate) fn serve(session: &mut Session, streams: &Streams, cell: Rc<RefCell<CellState>>, wires: Wires) {
    let Wires { incoming, outgoing } = wires;
    let history = NotebookHistory::open();
    let parent = streams.parent.clone();
    let mut kernel =
        Kernel { session, parent, outgoing, incoming, count: 0, uncounted: 0, cell, history, stopping: false };
    while !kernel.stopping {
        match kernel.incoming.recv() {
            Ok(Incoming::Shell(message, _)) => kernel.handle(*message),
            Ok(Incoming::Shutdown) | Err(_) => break,
        }
    }
}

/// How long, after a cell fails with `stop_on_error`, the engine thread waits for requests the socket
/// had already received to be handed over (a handful of microseconds each).
const HANDOVER: Duration = Duration::from_millis(5);

/// How long after a cell fails with `stop_on_error` an execute request that its client made before the
/// failure may still arrive, and be aborted as queued behind it. JupyterLab's Run All makes every cell's
/// request at once, but they pass through the server one by one, and a kaleido cell can fail before the
/// next one arrives: 5 ms after the failure in the browser test on an idle machine, and more than 100 ms
/// once under CI's load (the cell then ran). The request's date is what tells; the window only bounds how
/// long a client whose clock is behind the kernel's could see a new request taken for a queued one.
const STOP_ON_ERROR_WINDOW: Duration = Duration::from_secs(1);

struct Kernel<'s> {
    session: &'s mut Session,
    parent: Parent,
    outgoing: UnboundedSender<Outgoing>,
    /// The execution count of the last cell stored in history.
    count: usize,
    /// How many requests ran that were not counted (silent, or not stored in history).
    uncounted: usize,
    /// What the presenter knows of the running cell.
    cell: Rc<RefCell<CellState>>,
    /// Requests from the socket side, in order.
    incoming: mpsc::Receiver<Incoming>,
    /// The inputs of this and earlier sessions (`history_request`).
    history: NotebookHistory,
    /// Shutdown arrived (while requests were being aborted): serve nothing more.
    stopping: bool,
}

impl Kernel<'_> {
    fn handle(&mut self, message: JupyterMessage) {
        let mut failed_at = None;
        *self.parent.borrow_mut() = Some(message.clone());
        self.iopub(Status::busy().as_child_of(&message));
        let reply: Option<JupyterMessage> = match &message.content {
            JupyterMessageContent::KernelInfoRequest(_) => Some(kernel_info().as_child_of(&message)),
            JupyterMessageContent::ExecuteRequest(request) => {
                let reply = self.execute(&request.code, request.silent, request.store_history);
                if request.stop_on_error && matches!(reply.status, ReplyStatus::Error) {
                    failed_at = Some(Instant::now());
                }
                Some(reply.as_child_of(&message))
            }
            JupyterMessageContent::IsCompleteRequest(request) => {
                Some(self.is_complete(&request.code).as_child_of(&message))
            }
            JupyterMessageContent::CompleteRequest(request) => {
                Some(self.complete(&request.code, request.cursor_pos).as_child_of(&message))
            }
            JupyterMessageContent::InspectRequest(request) => Some(
                self.inspect(&request.code, request.cursor_pos, request.detail_level.unwrap_or(0))
                    .as_child_of(&message),
            ),
            JupyterMessageContent::HistoryRequest(request) => {
                let history = self.history.answer(request);
                Some(HistoryReply { history, status: ReplyStatus::Ok, error: None }.as_child_of(&message))
            }
            // No comm target exists: the comm is closed at once, as ipykernel closes one it cannot open.
            JupyterMessageContent::CommOpen(open) => {
                let close = CommClose { comm_id: open.comm_id.clone(), data: Default::default() };
                self.iopub(close.as_child_of(&message));
                None
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
        if let Some(failed_at) = failed_at {
            self.abort_queued(failed_at);
        }
    }

    /// After a cell failed (an error or an interrupt) with `stop_on_error`, the execute requests that
    /// were queued behind it are answered `aborted` without running, as ipykernel does: Run All stops at
    /// the error. Queued means received before the failure at `failed_at`, or made by its client before
    /// then (its header's date) and received within [`STOP_ON_ERROR_WINDOW`]: a request sent once the
    /// client has seen the error runs, however soon. Other requests are answered as usual, in order.
    fn abort_queued(&mut self, failed_at: Instant) {
        let until = failed_at + STOP_ON_ERROR_WINDOW;
        let since_failure = failed_at.elapsed();
        let failed_wall = std::time::SystemTime::now()
            .checked_sub(since_failure)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(i64::MAX, |d| d.as_micros() as i64);
        let queued = |message: &JupyterMessage, received: Instant| {
            received <= failed_at || (received <= until && message.header.date.timestamp_micros() <= failed_wall)
        };
        loop {
            let wait = until.saturating_duration_since(Instant::now()).max(HANDOVER);
            let Ok(incoming) = self.incoming.recv_timeout(wait) else { return };
            let Incoming::Shell(message, received) = incoming else {
                self.stopping = true;
                return;
            };
            if !queued(&message, received) {
                return self.handle(*message);
            }
            let JupyterMessageContent::ExecuteRequest(_) = &message.content else {
                self.handle(*message);
                continue;
            };
            self.iopub(Status::busy().as_child_of(&message));
            // `{"status": "aborted"}` and nothing else, as ipykernel answers: with an execution count,
            // JupyterLab would number the cell as if it had run.
            let content = serde_json::json!({ "status": "aborted" });
            let reply = UnknownMessage { msg_type: "execute_reply".to_string(), content };
            let _ = self.outgoing.send(Outgoing::Shell(reply.as_child_of(&message)));
            self.iopub(Status::idle().as_child_of(&message));
        }
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
        let origin = if counted {
            self.count += 1;
            self.history.record(self.count, code);
            Origin::Cell(self.count)
        } else {
            self.uncounted += 1;
            Origin::Uncounted(self.uncounted)
        };
        let count = ExecutionCount::new(self.count.max(1));
        let parent = self.parent();
        if !silent {
            self.iopub(ExecuteInput { code: code.to_string(), execution_count: count }.as_child_of(&parent));
        }
        *self.cell.borrow_mut() = CellState { count: self.count, silent, failure: None };
        // An interrupt that arrived while nothing ran must not stop this cell.
        self.session.engine().interrupt_handle().clear();
        run_source(self.session, &Source::new(origin, code));
        self.flush_streams();
        let failure = self.cell.borrow_mut().failure.take();
        ExecuteReply {
            status: if failure.is_some() { ReplyStatus::Error } else { ReplyStatus::Ok },
            execution_count: count,
            payload: Vec::new(),
            user_expressions: Some(Default::default()),
            error: failure.map(|e| Box::new(ReplyError { ename: e.ename, evalue: e.evalue, traceback: e.traceback })),
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
        let (matches, cursor_start, cursor_end) = introspect::complete(code, cursor, &Names::of(self.session.engine()));
        CompleteReply {
            matches,
            cursor_start,
            cursor_end,
            metadata: Default::default(),
            status: ReplyStatus::Ok,
            error: None,
        }
    }

    /// `inspect_request`: the `:show` text of what is at the cursor (see `introspect::inspect_target`), at
    /// detail level 0 (what it is, who calls it) or 1 (every version's source too).
    fn inspect(&mut self, code: &str, cursor: usize, detail_level: usize) -> InspectReply {
        let target = introspect::inspect_target(code, cursor);
        let shown = target.and_then(|name| inspect::show(self.session.engine(), &name).ok());
        let (found, data) = match shown {
            Some(text) => (true, Media::new(vec![MediaType::Plain(introspect::at_detail(&text, detail_level))])),
            None => (false, Media::default()),
        };
        InspectReply { found, data, metadata: Default::default(), status: ReplyStatus::Ok, error: None }
    }
}

fn error_output(ename: &str, evalue: String, rendered: &str) -> ErrorOutput {
    ErrorOutput {
        ename: ename.to_string(),
        evalue,
        traceback: rendered.trim_end().lines().map(str::to_string).collect(),
    }
}
