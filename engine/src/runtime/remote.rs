//! The executor's side of the runtime: its connection to the controller, the lazy hook that asks the
//! controller to compile, and program output sent as messages, including the output a crash would
//! otherwise lose.
//!
//! Everything here runs in the executor only. It trusts the controller as much as its own parent (it is
//! a fork of it) but still checks what it reads: a message it cannot read ends it with a line on standard
//! error, never a guess.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::io::{self, Write};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use crate::base::error::ProtocolError;
use crate::base::wire::{Decoder, Message, Opcode};
use crate::machine::process::{Connection, Received, exit_now, write_all};
use crate::runtime::remote_codec::{CodecError, TAG_LAZY_COMPILE, TAG_OUTPUT, TAG_TIER_UP, read_raised};
use crate::runtime::{LazyHook, Raised};

/// The executor's connection: messages out, messages in, sequence numbers for its own calls.
pub(crate) struct Link {
    connection: Connection,
    decoder: RefCell<Decoder>,
    sequence: Cell<u64>,
    /// Where reads land: on the heap, because a hook may run near the end of the evaluation stack, whose
    /// margin has room for small frames only.
    buffer: RefCell<Vec<u8>>,
}

impl Link {
    /// Wraps the connection the fork left.
    pub(crate) fn new(connection: Connection) -> Link {
        PENDING.fd.store(connection.raw(), Ordering::SeqCst);
        let buffer = RefCell::new(vec![0; 64 * 1024]);
        Link { connection, decoder: RefCell::new(Decoder::default()), sequence: Cell::new(0), buffer }
    }

    /// Sends `message`, after the program output written before it. A controller that is gone ends the
    /// executor.
    pub(crate) fn send(&self, message: &Message) {
        flush_pending();
        if self.connection.send(&message.encode()).is_err() {
            exit_now(0);
        }
    }

    /// The next message from the controller; its end ends the executor.
    pub(crate) fn receive(&self) -> Message {
        let mut buffer = self.buffer.borrow_mut();
        loop {
            match self.decoder.borrow_mut().next_message() {
                Ok(Some(message)) => return message,
                Ok(None) => {}
                Err(error) => refuse(&error),
            }
            match self.connection.receive(&mut buffer, None) {
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
        let reply = self.receive();
        if reply.opcode != Opcode::Result || reply.sequence != sequence {
            refuse(&ProtocolError::Unexpected { opcode: reply.opcode, tag: reply.tag });
        }
        reply
    }
}

/// Ends the executor over a message it cannot accept, saying why on standard error (the words are the
/// error's `Display`).
pub(crate) fn refuse(why: &dyn std::fmt::Display) -> ! {
    let line = ["kaleido executor: a bad message from the controller: ", &why.to_string(), "\n"].concat();
    let _ = io::stderr().write_all(line.as_bytes());
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

/// Program output not sent yet. A static, so the crash handler can send it with `write(2)` alone.
struct PendingOutput {
    bytes: UnsafeCell<[u8; PENDING_CAPACITY]>,
    len: AtomicUsize,
    fd: AtomicI32,
}

// SAFETY: only the executor's one thread writes `bytes` (its main thread, in `ExecutorOutput`), and the
// crash handler that reads them runs on that same thread, interrupting it: it reads at most `len` bytes,
// which are always written before `len` is raised.
unsafe impl Sync for PendingOutput {}

static PENDING: PendingOutput =
    PendingOutput { bytes: UnsafeCell::new([0; PENDING_CAPACITY]), len: AtomicUsize::new(0), fd: AtomicI32::new(-1) };

/// The header and length field of an output message of `n` bytes.
fn output_header(n: usize) -> [u8; 40] {
    let mut header = [0u8; 40];
    let words = [(40 + n) as u64, Opcode::Call as u64, 0, TAG_OUTPUT, n as u64];
    for (i, word) in words.iter().enumerate() {
        header[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
    }
    header
}

/// Sends the pending output, if any, with `write(2)` only (async-signal-safe).
fn flush_pending() {
    let len = PENDING.len.load(Ordering::SeqCst);
    let fd = PENDING.fd.load(Ordering::SeqCst);
    if len == 0 || fd < 0 {
        return;
    }
    // SAFETY: see `PendingOutput`: the first `len` bytes are written and nothing writes them now.
    let bytes = unsafe { &(&*PENDING.bytes.get())[..len] };
    let _ = write_all(fd, &output_header(len)).and_then(|()| write_all(fd, bytes));
    PENDING.len.store(0, Ordering::SeqCst);
}

/// The executor's program output: kept in the pending buffer, sent before every message the executor
/// sends, when the buffer fills, and by the crash handler.
pub(crate) struct ExecutorOutput;

impl Write for ExecutorOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let len = PENDING.len.load(Ordering::SeqCst);
        if len + data.len() > PENDING_CAPACITY {
            flush_pending();
        }
        if data.len() > PENDING_CAPACITY {
            let fd = PENDING.fd.load(Ordering::SeqCst);
            write_all(fd, &output_header(data.len()))?;
            write_all(fd, data)?;
            return Ok(data.len());
        }
        let len = PENDING.len.load(Ordering::SeqCst);
        // SAFETY: see `PendingOutput`; `len + data.len()` fits, checked above.
        unsafe { (&mut *PENDING.bytes.get())[len..len + data.len()].copy_from_slice(data) };
        PENDING.len.store(len + data.len(), Ordering::SeqCst);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_pending();
        Ok(())
    }
}

extern "C" fn on_fatal_signal(signal: libc::c_int) {
    flush_pending();
    // SAFETY: `raise` is async-signal-safe; the handler was reset to the default on entry
    // (`SA_RESETHAND`), so the signal, delivered when this handler returns, ends the process as it would
    // have.
    unsafe { libc::raise(signal) };
}

extern "C" fn on_exit() {
    flush_pending();
}

/// Makes a crash, `abort`, `SIGTERM` or `exit` send the output written before it (on an alternate stack,
/// so a stack overflow in C code is covered too).
pub(crate) fn install_crash_handlers() {
    const ALTERNATE_STACK: usize = 64 * 1024;
    let stack = Box::leak(vec![0u8; ALTERNATE_STACK].into_boxed_slice());
    // SAFETY: the alternate stack is leaked, so it lives as long as the process; `sigaction` is given a
    // fully initialised struct; the handler only calls async-signal-safe functions (`write`, `raise`).
    unsafe {
        let alternate = libc::stack_t { ss_sp: stack.as_mut_ptr().cast(), ss_flags: 0, ss_size: ALTERNATE_STACK };
        libc::sigaltstack(&alternate, std::ptr::null_mut());
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_fatal_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_ONSTACK | libc::SA_RESETHAND;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT, libc::SIGTERM] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        libc::atexit(on_exit);
    }
}
