//! The executor's side of the runtime: its connection to the controller, the lazy hook that asks the
//! controller to compile, and program output sent as messages from a buffer the controller shares, so a
//! crash loses none of it.
//!
//! Everything here runs in the executor only. It trusts the controller as much as its own parent (it is
//! a fork of it) but still checks what it reads: a message it cannot read ends it with a line on standard
//! error, never a guess.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use crate::base::error::ProtocolError;
use crate::base::wire::{Decoder, Message, Opcode};
use crate::machine::process::{Connection, Received, exit_now, write_stderr};
use crate::machine::shared::SharedArray;
use crate::runtime::remote_codec::{CodecError, TAG_LAZY_COMPILE, TAG_OUTPUT, TAG_TIER_UP, read_raised};
use crate::runtime::{LazyHook, Raised};

/// How long the executor spins for an answer to its own call (a compile takes tens of microseconds).
pub(crate) const ANSWER_SPIN: Duration = Duration::from_micros(200);

/// The executor's connection: messages out, messages in, sequence numbers for its own calls.
pub(crate) struct Link {
    connection: Connection,
    pending: Arc<PendingOutput>,
    decoder: RefCell<Decoder>,
    sequence: Cell<u64>,
    /// Where reads land: on the heap, because a hook may run near the end of the evaluation stack, whose
    /// margin has room for small frames only.
    buffer: RefCell<Vec<u8>>,
    /// For an executor started as a command: messages from its reader thread (which also acts on
    /// interrupts at once, and ends the process when the controller goes), instead of reading here.
    incoming: Option<std::sync::mpsc::Receiver<Message>>,
    /// Sends program output at once rather than keep it (a command executor: its buffer is not shared
    /// with the controller, so output kept when it crashed would be lost).
    eager_output: Cell<bool>,
    /// What a command executor does with the controller's writes (code, cells, binds), which may come at
    /// any time, also while it waits for the answer to its own call.
    writes: RefCell<Option<Writes>>,
}

/// A handler of the controller's writes: takes a message, says whether it was one.
pub(crate) type Writes = Box<dyn FnMut(&Message) -> bool>;

impl Link {
    /// Wraps the connection the fork left, with the pending output it shares with the controller.
    pub(crate) fn new(connection: Connection, pending: Arc<PendingOutput>) -> Link {
        let buffer = RefCell::new(vec![0; 64 * 1024]);
        let decoder = RefCell::new(Decoder::default());
        let writes = RefCell::new(None);
        let eager_output = Cell::new(false);
        Link { connection, pending, decoder, sequence: Cell::new(0), buffer, incoming: None, writes, eager_output }
    }

    /// A link whose messages arrive from a reader thread.
    pub(crate) fn with_reader(
        connection: Connection,
        pending: Arc<PendingOutput>,
        incoming: std::sync::mpsc::Receiver<Message>,
    ) -> Link {
        let link = Link { incoming: Some(incoming), ..Link::new(connection, pending) };
        link.eager_output.set(true);
        link
    }

    /// Sets what is done with the controller's writes.
    pub(crate) fn set_writes(&self, writes: Writes) {
        self.writes.replace(Some(writes));
    }

    /// Applies `message` if it is one of the controller's writes; says whether it was.
    pub(crate) fn apply_write(&self, message: &Message) -> bool {
        self.writes.borrow_mut().as_mut().is_some_and(|writes| writes(message))
    }

    /// Sends `message`, after the program output written before it. A controller that is gone ends the
    /// executor.
    pub(crate) fn send(&self, message: &Message) {
        self.flush_pending();
        if self.connection.send(&message.encode()).is_err() {
            exit_now(0);
        }
    }

    /// Sends the pending output, if any.
    fn flush_pending(&self) {
        let bytes = self.pending.take();
        if !bytes.is_empty() && self.connection.send(&output_message(&bytes)).is_err() {
            exit_now(0);
        }
    }

    /// The next message from the controller; its end ends the executor. Waiting, it spins for `spin`
    /// before it blocks.
    pub(crate) fn receive_spinning(&self, spin: Duration) -> Message {
        if let Some(incoming) = &self.incoming {
            return incoming.recv().unwrap_or_else(|_| exit_now(0));
        }
        let mut buffer = self.buffer.borrow_mut();
        loop {
            match self.decoder.borrow_mut().next_message() {
                Ok(Some(message)) => return message,
                Ok(None) => {}
                Err(error) => refuse(&error),
            }
            match self.connection.receive(&mut buffer, None, spin) {
                Ok(Received::Bytes(n)) => self.decoder.borrow_mut().push(&buffer[..n]),
                Ok(Received::Closed) | Err(_) => exit_now(0),
                Ok(Received::Timeout) => {}
            }
        }
    }

    /// Calls the controller and waits for its result.
    fn call(&self, tag: u64, fill: impl FnOnce(&mut Message)) -> Message {
        let sequence = self.sequence.get() + 1;
        self.sequence.set(sequence);
        let mut message = Message::new(Opcode::Call, sequence, tag);
        fill(&mut message);
        self.send(&message);
        loop {
            let reply = self.receive_spinning(ANSWER_SPIN);
            if reply.opcode == Opcode::Result && reply.sequence == sequence {
                return reply;
            }
            // Before it answers, the controller sends what the answer needs (the new code, cells).
            if !self.apply_write(&reply) {
                refuse(&ProtocolError::Unexpected { opcode: reply.opcode, tag: reply.tag });
            }
        }
    }
}

/// Reads messages from `connection` for ever, handing each to `deliver` (which returns whether it took it
/// or acted on it itself); the connection's end, or a message that cannot be read, ends the process.
pub(crate) fn read_messages(connection: Connection, mut deliver: impl FnMut(Message) -> bool) -> ! {
    let (mut decoder, mut buffer) = (Decoder::default(), vec![0u8; 64 * 1024]);
    loop {
        match connection.receive(&mut buffer, None, Duration::ZERO) {
            Ok(Received::Bytes(n)) => decoder.push(&buffer[..n]),
            Ok(Received::Timeout) => continue,
            Ok(Received::Closed) | Err(_) => exit_now(0),
        }
        loop {
            match decoder.next_message() {
                Ok(Some(message)) => {
                    if !deliver(message) {
                        exit_now(0);
                    }
                }
                Ok(None) => break,
                Err(error) => refuse(&error),
            }
        }
    }
}

/// Ends the executor over a message it cannot accept, saying why on standard error (the words are the
/// error's `Display`).
pub(crate) fn refuse(why: &dyn std::fmt::Display) -> ! {
    let line = ["kaleido executor: a bad message from the controller: ", &why.to_string(), "\n"].concat();
    // Straight to descriptor 2: Rust's `stderr` has a lock a thread of the parent may have held at the fork.
    write_stderr(line.as_bytes());
    exit_now(2)
}

/// The lazy hook of an executor: the controller compiles, places the code in the shared arena and points
/// the shared slot at it; the executor only calls.
pub(crate) struct RemoteHook {
    link: &'static Link,
}

impl RemoteHook {
    /// A hook calling through `link`.
    pub(crate) fn new(link: &'static Link) -> RemoteHook {
        RemoteHook { link }
    }
}

impl LazyHook for RemoteHook {
    fn compile(&self, slot: usize) -> Result<usize, Raised> {
        let reply = self.link.call(TAG_LAZY_COMPILE, |m| {
            m.push_u64(slot as u64);
        });
        let mut fields = reply.fields();
        let decoded = match fields.u64() {
            Ok(0) => fields.u64().map(|code| Ok(code as usize)).map_err(CodecError::from),
            Ok(_) => read_raised(&mut fields).map(Err),
            Err(error) => Err(error.into()),
        };
        decoded.unwrap_or_else(|why| refuse(&why))
    }

    fn tier_up(&self, slot: usize, code: u32) -> Result<Option<usize>, Raised> {
        let reply = self.link.call(TAG_TIER_UP, |m| {
            m.push_u64(slot as u64).push_u64(u64::from(code));
        });
        let mut fields = reply.fields();
        let decoded = match fields.u64() {
            Ok(0) => Ok(Ok(None)),
            Ok(1) => fields.u64().map(|code| Ok(Some(code as usize))).map_err(CodecError::from),
            Ok(_) => read_raised(&mut fields).map(Err),
            Err(error) => Err(error.into()),
        };
        decoded.unwrap_or_else(|why| refuse(&why))
    }
}

/// Bytes of program output kept before they are sent.
const PENDING_CAPACITY: usize = 64 * 1024;

/// Program output the executor has written and not sent yet, in pages shared with the controller
/// (mapped before the fork): when the executor dies, however it dies (`kill -9` included), the controller
/// takes what is left here, so no output written before a crash is lost.
pub(crate) struct PendingOutput {
    bytes: SharedArray<AtomicU8>,
    len: SharedArray<AtomicU64>,
}

impl PendingOutput {
    /// An empty buffer.
    pub(crate) fn new() -> io::Result<PendingOutput> {
        Ok(PendingOutput { bytes: SharedArray::new(PENDING_CAPACITY)?, len: SharedArray::new(1)? })
    }

    fn len(&self) -> usize {
        self.len.as_slice()[0].load(Ordering::SeqCst) as usize
    }

    /// Takes what is pending (the controller, after a death; the executor, to send it).
    pub(crate) fn take(&self) -> Vec<u8> {
        let len = self.len().min(PENDING_CAPACITY);
        let bytes = self.bytes.as_slice()[..len].iter().map(|b| b.load(Ordering::Relaxed)).collect();
        self.len.as_slice()[0].store(0, Ordering::SeqCst);
        bytes
    }

    /// Appends `data`, which must fit.
    fn append(&self, data: &[u8]) {
        let len = self.len();
        for (cell, byte) in self.bytes.as_slice()[len..len + data.len()].iter().zip(data) {
            cell.store(*byte, Ordering::Relaxed);
        }
        // The bytes are stored before the length that makes them visible.
        self.len.as_slice()[0].store((len + data.len()) as u64, Ordering::SeqCst);
    }
}

/// An output message carrying `bytes`.
fn output_message(bytes: &[u8]) -> Vec<u8> {
    let mut message = Message::new(Opcode::Call, 0, TAG_OUTPUT);
    message.push_bytes(bytes);
    message.encode()
}

/// The executor's program output: kept in the pending buffer, sent before every message the executor
/// sends and when the buffer fills.
pub(crate) struct ExecutorOutput {
    link: &'static Link,
}

impl ExecutorOutput {
    /// Output sent through `link`.
    pub(crate) fn new(link: &'static Link) -> ExecutorOutput {
        ExecutorOutput { link }
    }
}

impl Write for ExecutorOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let pending = &self.link.pending;
        if pending.len() + data.len() > PENDING_CAPACITY {
            self.link.flush_pending();
        }
        if data.len() > PENDING_CAPACITY {
            self.link.connection.send(&output_message(data))?;
        } else {
            pending.append(data);
            if self.link.eager_output.get() {
                self.link.flush_pending();
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.link.flush_pending();
        Ok(())
    }
}
