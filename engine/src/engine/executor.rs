//! Running JIT code in an executor process (`--executor process`), and surviving its death.
//!
//! The executor is a child forked from this process (`machine/process.rs`), so every address the code
//! embeds means the same there. What the two sides share, and how:
//! - **code**: the arena is one memory file mapped `MAP_SHARED`; the controller writes code through its
//!   write view, and the child runs it through the execute view it inherited. No code bytes are copied.
//! - **cells**: slots, globals, tier-up counters and the signals are shared pages (`machine/shared.rs`):
//!   binding a slot or interrupting is a store the child sees at once; no message.
//! - **everything else** is the child's own copy: its runtime state (error, frames, drawing), its
//!   evaluation stack. The controller never runs JIT code while an executor is in use.
//!
//! The protocol (`base/wire.rs`, tags in `runtime/remote_codec.rs`): the controller calls `RUN` (the top-level
//! code's address) and `TAKE_DRAWING`; during a run the executor calls `LAZY_COMPILE` and `TIER_UP` (the
//! controller compiles into the shared arena and answers with the address) and sends `OUTPUT`. The
//! controller checks every address and id the executor sends against its tables before using it.
//!
//! When the executor dies (a signal, `exit`, `kill -9`, a broken message, or stuck in C past the grace
//! period after an interrupt), the run fails with `ExecutorEnded`, a new child is forked (code and slots
//! are shared, so every definition is still in place) and the globals are put back as they were after the
//! last completed entry (a snapshot the controller takes after each entry: a copy of the cells).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Engine;
use super::executor_side::serve_loop;
use crate::base::error::{ExecutorEnd, ProtocolError, Restart};
use crate::base::wire::{Decoder, Message, Opcode, WireError};
use crate::machine::process::{
    ChildProcess, Connection, Ended, Forked, Received, exit_now, fork_executor, spawn_executor,
};
use crate::runtime::remote::{ExecutorOutput, Link, PendingOutput, RemoteHook};
use crate::runtime::remote_codec::{
    CodecError, TAG_INTERRUPT, TAG_LAZY_COMPILE, TAG_OUTPUT, TAG_RUN, TAG_TAKE_DRAWING, TAG_TIER_UP, TAG_WAKE,
    push_raised, read_drawing, read_frames, read_raised,
};
use crate::runtime::{LazyHook, Raised, RawFrames};

/// Crashes in a row (with no completed entry between) after which no new executor is started.
pub(crate) const MAX_CRASHES_IN_A_ROW: u32 = 5;
/// How long code may go on after an interrupt before the executor is killed (it is stuck in C: running
/// kaleido code stops within milliseconds).
pub(crate) const INTERRUPT_GRACE: Duration = Duration::from_millis(500);
/// The most frames an error's backtrace may bring back (a runaway recursion passes millions).
const MAX_FRAMES: usize = 1 << 26;
/// The most changed cells a run's result may bring back (all the globals and counters there can be).
const MAX_CHANGED: u64 = 2 * crate::machine::cells::CAPACITY as u64;
/// How many command executors are started, one after another, before giving up on placing the layout.
const LAYOUT_ATTEMPTS: u32 = 5;
/// How often the controller looks at the interrupt flag while the executor runs.
const POLL: Duration = Duration::from_millis(10);
/// How long the controller waits awake for the executor's next message before it blocks (it has nothing
/// else to do while the code runs, and a lazy compile's request often comes after the executor woke).
const CONTROLLER_SPIN: Duration = Duration::from_micros(200);
/// How long a new executor may take to say it is ready.
const SETUP_PATIENCE: Duration = Duration::from_secs(10);

/// The controller's side of the executor: the child, if one runs, and what survives it.
pub(crate) struct Executor {
    child: Option<Running>,
    /// The program output the executor has not sent yet, in shared pages.
    pending: Arc<PendingOutput>,
    /// Executors started, the first included.
    pub(crate) starts: u32,
    /// Executors that died.
    pub(crate) deaths: u32,
    /// Deaths since the last completed entry.
    deaths_in_row: u32,
    /// The globals' cells as after the last completed entry.
    snapshot: Vec<u64>,
    /// Whether the executor's code drew something in this entry (it says so in each run's result).
    drew: bool,
    /// The command that starts the executor, when it is not a fork of this process.
    command: Option<String>,
    /// What an executor in another image has been sent (none for a fork, which shares the memory).
    pub(super) copying: Option<super::remote::Copying>,
}

/// A live child and its connection's state.
struct Running {
    process: ChildProcess,
    decoder: Decoder,
    sequence: u64,
    buffer: Vec<u8>,
}

/// What waiting for the executor got.
enum Heard {
    Message(Message),
    Timeout,
    Died(ExecutorEnd),
}

impl Running {
    fn send(&mut self, message: &Message) -> Result<(), ExecutorEnd> {
        self.process.connection.send(&message.encode()).map_err(|_| self.died())
    }

    fn call(&mut self, tag: u64, fill: impl FnOnce(&mut Message)) -> Result<u64, ExecutorEnd> {
        self.sequence += 1;
        let mut message = Message::new(Opcode::Call, self.sequence, tag);
        fill(&mut message);
        self.send(&message)?;
        Ok(self.sequence)
    }

    fn hear(&mut self, timeout: Option<Duration>) -> Heard {
        loop {
            match self.decoder.next_message() {
                Ok(Some(message)) => return Heard::Message(message),
                Ok(None) => {}
                Err(error) => return Heard::Died(self.kill(protocol(&error))),
            }
            match self.process.connection.receive(&mut self.buffer, timeout, CONTROLLER_SPIN) {
                Ok(Received::Bytes(n)) => self.decoder.push(&self.buffer[..n]),
                Ok(Received::Timeout) => return Heard::Timeout,
                Ok(Received::Closed) | Err(_) => return Heard::Died(self.died()),
            }
        }
    }

    /// How it ended, once its connection is gone.
    fn died(&self) -> ExecutorEnd {
        match self.process.reap(Duration::from_secs(2)) {
            Ended::Signal(number) => ExecutorEnd::Signal(number),
            Ended::Exit(status) => ExecutorEnd::Exit(status),
        }
    }

    /// Kills it for `why`.
    fn kill(&self, why: ExecutorEnd) -> ExecutorEnd {
        self.process.signal(libc::SIGKILL);
        self.process.reap(Duration::from_secs(2));
        why
    }

    /// Waits for the result of call `sequence`, with the message that answers it.
    fn result(&mut self, sequence: u64) -> Result<Message, ExecutorEnd> {
        match self.hear(Some(SETUP_PATIENCE)) {
            Heard::Message(m) if m.opcode == Opcode::Result && m.sequence == sequence => Ok(m),
            Heard::Message(m) => Err(self.kill(unexpected(&m))),
            Heard::Timeout => Err(self.kill(ExecutorEnd::Protocol(ProtocolError::NoAnswer))),
            Heard::Died(end) => Err(end),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.process.signal(libc::SIGKILL);
        self.process.reap(Duration::from_secs(2));
    }
}

fn protocol(error: &dyn std::fmt::Display) -> ExecutorEnd {
    ExecutorEnd::Protocol(ProtocolError::Malformed(error.to_string()))
}

fn unexpected(message: &Message) -> ExecutorEnd {
    ExecutorEnd::Protocol(ProtocolError::Unexpected { opcode: message.opcode, tag: message.tag })
}

impl Executor {
    /// Tells the executor code is about to run (it waits awake, ready for the run, while the entry
    /// compiles, rather than be woken by the run itself).
    pub(crate) fn wake(&mut self) {
        let Some(child) = &mut self.child else { return };
        let message = Message::new(Opcode::Call, 0, TAG_WAKE);
        // A dead executor is found out by the run that follows, with its cause.
        let _ = child.process.connection.send(&message.encode());
    }

    /// No executor yet, with the shared memory every one of them will use.
    pub(crate) fn new(command: Option<String>) -> std::io::Result<Executor> {
        let pending = Arc::new(PendingOutput::new()?);
        let (starts, deaths, deaths_in_row, snapshot, drew) = (0, 0, 0, Vec::new(), false);
        Ok(Executor { child: None, pending, starts, deaths, deaths_in_row, snapshot, drew, command, copying: None })
    }

    /// The running child's process id.
    pub(crate) fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|child| child.process.pid)
    }
}

impl Engine {
    /// Starts an executor if none runs (and the crash limit allows).
    fn ensure_executor(&mut self) -> Result<(), Raised> {
        let Some(executor) = &self.executor else { return Ok(()) };
        if executor.child.is_some() {
            return Ok(());
        }
        if executor.deaths_in_row >= MAX_CRASHES_IN_A_ROW {
            return Err(Raised::ExecutorStopped(executor.deaths_in_row));
        }
        self.start_executor().map_err(|end| Raised::ExecutorEnded(end, Restart::Failed))
    }

    /// Starts a new executor (a fork, or the command) and waits until it is ready. In a forked child this
    /// never returns.
    pub(crate) fn start_executor(&mut self) -> Result<(), ExecutorEnd> {
        let command = self.executor.as_ref().and_then(|executor| executor.command.clone());
        if command.is_none() {
            return self.start_once(None);
        }
        // A command executor maps this process's layout at its addresses, which its own mappings (placed at
        // random, as ours) take now and then (a few times in a thousand): a new process is placed elsewhere.
        let mut attempt = 0;
        loop {
            match self.start_once(command.as_deref()) {
                Err(ExecutorEnd::NotStarted(_)) if attempt + 1 < LAYOUT_ATTEMPTS => attempt += 1,
                done => return done,
            }
        }
    }

    /// Starts one executor: a fork, or the command.
    fn start_once(&mut self, command: Option<&str>) -> Result<(), ExecutorEnd> {
        let process = match command {
            Some(command) => spawn_executor(command).map_err(|error| ExecutorEnd::NotStarted(error.to_string()))?,
            None => match fork_executor().map_err(|error| ExecutorEnd::NotStarted(error.to_string()))? {
                Forked::Child(connection) => self.serve(connection),
                Forked::Parent(process) => process,
            },
        };
        let buffer = vec![0; 64 * 1024];
        let mut running = Running { process, decoder: Decoder::default(), sequence: 0, buffer };
        match running.hear(Some(SETUP_PATIENCE)) {
            Heard::Message(m) if m.opcode == Opcode::Setup => {}
            Heard::Message(m) => return Err(running.kill(unexpected(&m))),
            Heard::Timeout => return Err(running.kill(ExecutorEnd::Protocol(ProtocolError::NoAnswer))),
            Heard::Died(end) => return Err(end),
        }
        if let Some(executor) = &mut self.executor {
            executor.child = Some(running);
            executor.copying = None;
        }
        if command.is_some()
            && let Err(end) = self.set_up_copy()
        {
            let end = self.kill_for(end);
            if let Some(executor) = &mut self.executor {
                executor.child = None;
            }
            return Err(end);
        }
        if let Some(executor) = &mut self.executor {
            executor.starts += 1;
        }
        Ok(())
    }

    /// Calls the executor and waits for the result.
    pub(super) fn call_child(&mut self, mut message: Message) -> Result<Message, ExecutorEnd> {
        let child = self.child()?;
        child.sequence += 1;
        message.sequence = child.sequence;
        child.send(&message)?;
        let sequence = child.sequence;
        child.result(sequence)
    }

    /// Sends the executor a message that has no result.
    pub(super) fn send_child(&mut self, message: &Message) -> Result<(), ExecutorEnd> {
        self.child()?.send(message)
    }

    /// Stops the executor, if one runs, and starts a new one with the crash count cleared
    /// (`:executor restart`). Globals keep their values.
    pub fn restart_executor(&mut self) -> Result<(), crate::ExecutorEnd> {
        let Some(executor) = &mut self.executor else { return Ok(()) };
        executor.child = None;
        executor.deaths_in_row = 0;
        self.start_executor()
    }

    /// Ends the executor, if one runs, between entries: the next run forks a new one (which then has
    /// whatever this process loaded since, such as a C library).
    pub(super) fn retire_executor(&mut self) {
        if let Some(executor) = &mut self.executor {
            executor.child = None;
        }
    }

    /// Runs top-level code in the executor, serving its calls until it answers.
    pub(super) fn run_in_executor(&mut self, code: usize, frame: usize) -> Result<f64, (Raised, RawFrames)> {
        self.ensure_executor().map_err(|raised| (raised, Vec::new()))?;
        let result = self.converse(code, frame);
        match result {
            Ok(done) => done,
            Err(end) => Err((self.executor_died(end), Vec::new())),
        }
    }

    /// One run: `Ok` with its result when the executor answered, `Err` when it died.
    #[allow(clippy::type_complexity)]
    fn converse(&mut self, code: usize, frame: usize) -> Result<Result<f64, (Raised, RawFrames)>, ExecutorEnd> {
        self.sync_copy()?;
        let stores = self.stores_to_copy_back();
        let sequence = self.child()?.call(TAG_RUN, |m| {
            m.push_u64(code as u64).push_u64(frame as u64).push_u64(stores.len() as u64);
            for (base, count) in stores {
                m.push_u64(base).push_u64(count);
            }
        })?;
        let mut interrupted_at: Option<Instant> = None;
        loop {
            let heard = self.child()?.hear(Some(POLL));
            let message = match heard {
                Heard::Message(message) => message,
                Heard::Died(end) => return Err(end),
                Heard::Timeout => {
                    if self.runtime.interrupt_handle().is_requested() {
                        if interrupted_at.is_none() && self.copying() {
                            // An executor in another image polls its own signals: tell it.
                            self.send_child(&Message::new(Opcode::Call, 0, TAG_INTERRUPT))?;
                        }
                        let since = *interrupted_at.get_or_insert_with(Instant::now);
                        if since.elapsed() > INTERRUPT_GRACE {
                            self.runtime.interrupt_handle().clear();
                            let child = self.child()?;
                            child.process.signal(libc::SIGTERM);
                            std::thread::sleep(Duration::from_millis(50));
                            let grace_ms = INTERRUPT_GRACE.as_millis() as u64;
                            return Err(child.kill(ExecutorEnd::Stuck { grace_ms }));
                        }
                    }
                    continue;
                }
            };
            match (message.opcode, message.tag) {
                (Opcode::Result, _) if message.sequence == sequence => return self.read_run_result(&message),
                (Opcode::Call, TAG_OUTPUT) => {
                    let mut fields = message.fields();
                    let bytes = fields.bytes().map_err(|e| self.kill_for(protocol(&e)))?;
                    self.runtime.write(bytes);
                }
                (Opcode::Call, TAG_LAZY_COMPILE) => self.serve_lazy_compile(&message)?,
                (Opcode::Call, TAG_TIER_UP) => self.serve_tier_up(&message)?,
                _ => return Err(self.kill_for(unexpected(&message))),
            }
        }
    }

    fn child(&mut self) -> Result<&mut Running, ExecutorEnd> {
        let running = self.executor.as_mut().and_then(|executor| executor.child.as_mut());
        running.ok_or(ExecutorEnd::Protocol(ProtocolError::NoAnswer))
    }

    /// Kills the child over a message it should not have sent.
    fn kill_for(&mut self, why: ExecutorEnd) -> ExecutorEnd {
        match self.child() {
            Ok(child) => child.kill(why),
            Err(end) => end,
        }
    }

    fn known_slot(&self, slot: u64) -> Option<usize> {
        let slot = usize::try_from(slot).ok()?;
        self.tables.slots.at_address(slot).map(|_| slot)
    }

    fn serve_lazy_compile(&mut self, message: &Message) -> Result<(), ExecutorEnd> {
        let mut fields = message.fields();
        let slot = fields.u64().ok().and_then(|slot| self.known_slot(slot));
        let Some(slot) = slot.filter(|_| fields.finish().is_ok()) else {
            return Err(self.kill_for(ExecutorEnd::Protocol(ProtocolError::UnknownAddress)));
        };
        let mut reply = Message::new(Opcode::Result, message.sequence, 0);
        let compiled = LazyHook::compile(&*self.lazy, slot);
        if let Ok(code) = compiled {
            self.repoint_for_copy(slot, code)?;
        }
        match compiled {
            Ok(code) => reply.push_u64(0).push_u64(code as u64),
            Err(raised) => {
                push_raised(reply.push_u64(1), &raised);
                &mut reply
            }
        };
        self.child()?.send(&reply)
    }

    fn serve_tier_up(&mut self, message: &Message) -> Result<(), ExecutorEnd> {
        let mut fields = message.fields();
        let slot = fields.u64().ok().and_then(|slot| self.known_slot(slot));
        let code = fields.u64().ok().and_then(|code| u32::try_from(code).ok());
        let code = code.filter(|code| (*code as usize) < self.tables.code_count());
        let (Some(slot), Some(code), Ok(())) = (slot, code, fields.finish()) else {
            return Err(self.kill_for(ExecutorEnd::Protocol(ProtocolError::UnknownAddress)));
        };
        let mut reply = Message::new(Opcode::Result, message.sequence, 0);
        let tiered = LazyHook::tier_up(&*self.lazy, slot, code);
        if let Ok(Some(code)) = tiered {
            self.repoint_for_copy(slot, code)?;
        }
        match tiered {
            Ok(None) => reply.push_u64(0),
            Ok(Some(code)) => reply.push_u64(1).push_u64(code as u64),
            Err(raised) => {
                push_raised(reply.push_u64(2), &raised);
                &mut reply
            }
        };
        self.child()?.send(&reply)
    }

    /// In another image the executor points its own slot at new code; this side's slot (which a fork
    /// shares) must say the same, and the code be sent before the answer.
    fn repoint_for_copy(&mut self, slot: usize, code: usize) -> Result<(), ExecutorEnd> {
        if !self.copying() {
            return Ok(());
        }
        if let Some(id) = self.tables.slots.at_address(slot) {
            self.tables.slots.repoint(id, code);
        }
        self.sync_copy()
    }

    #[allow(clippy::type_complexity)]
    fn read_run_result(&mut self, message: &Message) -> Result<Result<f64, (Raised, RawFrames)>, ExecutorEnd> {
        #[allow(clippy::type_complexity)]
        let decoded = (|| -> Result<(Result<f64, (Raised, RawFrames)>, bool, Vec<(u64, u64)>), CodecError> {
            let mut fields = message.fields();
            let result = match fields.u64()? {
                0 => Ok(fields.f64()?),
                _ => {
                    let raised = read_raised(&mut fields)?;
                    Err((raised, read_frames(&mut fields, MAX_FRAMES)?))
                }
            };
            let drew = fields.u64()? != 0;
            let count = fields.u64()?;
            if count > MAX_CHANGED {
                return Err(CodecError::OutOfRange("changed cells"));
            }
            let changed =
                (0..count).map(|_| Ok((fields.u64()?, fields.u64()?))).collect::<Result<Vec<_>, WireError>>()?;
            fields.finish()?;
            Ok((result, drew, changed))
        })();
        let (result, drew, changed) = decoded.map_err(|error| self.kill_for(protocol(&error)))?;
        if self.copying() {
            self.copy_back(&changed);
            if matches!(result, Err((Raised::Interrupted, _))) {
                // The executor acted on the interrupt this side asked for.
                self.runtime.interrupt_handle().clear();
            }
        }
        if let Err((raised, frames)) = &result {
            let slot_ok = |slot: usize| self.tables.slots.at_address(slot).is_some();
            let raised_ok = match raised {
                Raised::Undefined { slot } | Raised::ArityMismatch { slot } | Raised::CompileFailed { slot, .. } => {
                    slot_ok(*slot)
                }
                _ => true,
            };
            let frames_ok = frames.iter().all(|&(code, ..)| (code as usize) < self.tables.code_count());
            if !raised_ok || !frames_ok {
                return Err(self.kill_for(ExecutorEnd::Protocol(ProtocolError::UnknownAddress)));
            }
        }
        if let Some(executor) = &mut self.executor {
            executor.deaths_in_row = 0;
            executor.drew |= drew;
        }
        Ok(result)
    }

    /// After the executor died: counts it, starts a new one and gives it the globals back.
    fn executor_died(&mut self, end: ExecutorEnd) -> Raised {
        let Some(executor) = &mut self.executor else { return Raised::ExecutorEnded(end, Restart::Failed) };
        executor.child = None;
        // What it wrote and had not sent yet is still in the shared buffer.
        let unsent = executor.pending.take();
        self.runtime.write(&unsent);
        let Some(executor) = &mut self.executor else { return Raised::ExecutorEnded(end, Restart::Failed) };
        executor.deaths += 1;
        executor.deaths_in_row += 1;
        if executor.deaths_in_row >= MAX_CRASHES_IN_A_ROW {
            return Raised::ExecutorEnded(end, Restart::GaveUp);
        }
        self.tables.globals.restore(&executor.snapshot);
        let restarted = match self.start_executor() {
            Ok(()) => Restart::Restored,
            Err(_) => Restart::Failed,
        };
        Raised::ExecutorEnded(end, restarted)
    }

    /// After a completed entry: what a dead executor's successor gets back.
    pub(super) fn snapshot_globals(&mut self) {
        if let Some(executor) = &mut self.executor {
            executor.snapshot = self.tables.globals.snapshot();
        }
    }

    /// What the executor's code drew in this entry (none if it died).
    pub(super) fn take_executor_drawing(&mut self) -> Option<crate::base::drawing::Drawing> {
        let executor = self.executor.as_mut()?;
        if !std::mem::take(&mut executor.drew) {
            return None;
        }
        let child = self.child().ok()?;
        let sequence = child.call(TAG_TAKE_DRAWING, |_| {}).ok()?;
        let reply = child.result(sequence).ok()?;
        let mut fields = reply.fields();
        match read_drawing(&mut fields).and_then(|d| fields.finish().map(|()| d).map_err(CodecError::from)) {
            Ok(drawing) => drawing,
            Err(error) => {
                // A broken drawing is the executor's fault: it is replaced, and the entry shows nothing.
                let end = self.kill_for(protocol(&error));
                self.executor_died(end);
                None
            }
        }
    }

    /// A forked executor's life: answer the controller until it hangs up or goes.
    fn serve(&mut self, connection: Connection) -> ! {
        let pending = match &self.executor {
            Some(executor) => executor.pending.clone(),
            None => exit_now(2),
        };
        let link: &'static Link = Box::leak(Box::new(Link::new(connection, pending)));
        let hook: &'static RemoteHook = Box::leak(Box::new(RemoteHook::new(link)));
        self.runtime.set_lazy_hook(hook);
        // The parent's sink is not dropped: dropping it could take a lock another thread of the parent held
        // when it forked (a notebook's stream writer), which no thread here will ever release.
        std::mem::forget(self.runtime.set_output(Box::new(ExecutorOutput::new(link))));
        link.send(Message::new(Opcode::Setup, 0, 0).push_u64(u64::from(std::process::id())));
        serve_loop(link, &self.runtime, &self.eval_stack, None)
    }
}

/// Where an engine's code runs, for `:stats` and the kernel's `kernel_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutorInfo {
    /// In this process, or in an executor.
    pub mode: crate::ExecutorMode,
    /// The executor's process id, while one runs.
    pub pid: Option<i32>,
    /// Executors started so far.
    pub starts: u32,
    /// Executors that died (crashed, exited, were killed).
    pub deaths: u32,
}

impl Engine {
    /// Where code runs, and how the executor has fared.
    pub fn executor_info(&self) -> ExecutorInfo {
        match &self.executor {
            None => ExecutorInfo { mode: crate::ExecutorMode::InProcess, pid: None, starts: 0, deaths: 0 },
            Some(executor) => ExecutorInfo {
                mode: match &executor.command {
                    Some(command) => crate::ExecutorMode::Command(command.clone()),
                    None => crate::ExecutorMode::Process,
                },
                pid: executor.pid(),
                starts: executor.starts,
                deaths: executor.deaths,
            },
        }
    }
}
