//! The executor's side: the loop that answers the controller, for a forked executor and for one started
//! as a command (`kaleido executor`, possibly on another machine), and how the latter copies the
//! controller's layout.
//!
//! A command executor is another process image: nothing is where the controller's code expects it. So it
//! maps, at the controller's addresses, the code arena (read-execute, with a write view the controller's
//! bytes are copied into), the three stores of cells, the signals and the runtime state, and places a jump
//! at each address where the controller has a runtime hook, a builtin, a libcall or a C function, to its
//! own function of that name (`machine/trampolines.rs`). Then the controller's code runs here unchanged.
//! A reader thread takes every message, acts on an interrupt at once and ends the process when the
//! controller goes (even while code is stuck in C).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use crate::base::wire::{Message, Opcode, WireError};
use crate::machine::code_memory::ArenaCopy;
use crate::machine::process::{adopt_standard_streams, exit_now, write_stderr};
use crate::machine::shared::SharedArray;
use crate::machine::stack::{EVAL_BUDGET, EVAL_ENTRY, EVAL_MARGIN, Stack};
use crate::machine::trampolines::Trampolines;
use crate::runtime::remote::{ExecutorOutput, Link, PendingOutput, RemoteHook, read_messages, refuse};
use crate::runtime::remote_codec::{
    TAG_BIND, TAG_INTERRUPT, TAG_LAYOUT, TAG_LOAD_LIBRARY, TAG_RUN, TAG_TAKE_DRAWING, TAG_WAKE, TAG_WRITE_CODE,
    TAG_WRITE_WORDS, push_drawing, push_frames, push_raised,
};
use crate::runtime::{InterruptHandle, RuntimeState};

use super::apply::run_on;
use super::natives::own_natives;

/// How long the executor spins for a run after a wake-up (an entry's compile phase takes tens of
/// microseconds, a big one milliseconds: that one pays the executor's wake-up, a small part of it).
const WOKEN_SPIN: Duration = Duration::from_micros(500);
/// How long an idle executor spins for its next message before it blocks.
const IDLE_SPIN: Duration = Duration::from_micros(50);

/// What only a command executor has: its copy of the arena and its jumps.
struct Copied {
    arena: ArenaCopy,
    jumps: Trampolines,
    reported: SharedReported,
}

/// Answers the controller until it hangs up or goes: runs, drawings, and (a command executor's link) the
/// writes and binds.
pub(super) fn serve_loop(link: &Link, runtime: &RuntimeState, stack: &Stack, reported: Option<SharedReported>) -> ! {
    let mut spin = IDLE_SPIN;
    loop {
        let message = link.receive_spinning(spin);
        spin = IDLE_SPIN;
        match (message.opcode, message.tag) {
            (Opcode::Call, TAG_WAKE) => spin = WOKEN_SPIN,
            (Opcode::Call, TAG_RUN) => link.send(&run(&message, runtime, stack, reported.as_ref())),
            (Opcode::Call, TAG_TAKE_DRAWING) => {
                let mut reply = Message::new(Opcode::Result, message.sequence, 0);
                push_drawing(&mut reply, runtime.take_drawing().as_ref());
                link.send(&reply);
            }
            (Opcode::Hangup, _) => exit_now(0),
            _ if link.apply_write(&message) => {}
            (opcode, tag) => refuse(&crate::base::error::ProtocolError::Unexpected { opcode, tag }),
        }
    }
}

/// The cells of a command executor as the controller last knew them (what it wrote, what it was told),
/// by store base: after a run only the cells that differ are sent back.
#[derive(Default)]
pub(super) struct Reported {
    stores: std::collections::HashMap<u64, Vec<u64>>,
    /// The controller's stores of cells, mapped here at its addresses.
    cells: Vec<SharedArray<AtomicU64>>,
}

/// The record of what the controller knows, shared by the run loop and the handler of its writes.
pub(super) type SharedReported = std::rc::Rc<std::cell::RefCell<Reported>>;

impl Reported {
    /// The cell at `at` in one of the stores, and that store's base and the cell's index.
    fn cell(&self, at: u64) -> Option<(&AtomicU64, u64, usize)> {
        let store = self.cells.iter().find(|store| {
            let base = store.address() as u64;
            (base..base + store.as_slice().len() as u64 * 8).contains(&at)
        })?;
        let index = ((at - store.address() as u64) / 8) as usize;
        Some((&store.as_slice()[index], store.address() as u64, index))
    }

    /// Writes `bits` at `at` for the controller, and notes it knows them.
    fn write(&mut self, at: u64, bits: u64) {
        let Some((cell, base, index)) = self.cell(at) else { refuse(&"a cell outside the stores") };
        cell.store(bits, Ordering::SeqCst);
        let known = self.stores.entry(base).or_default();
        if known.len() <= index {
            known.resize(index + 1, 0);
        }
        known[index] = bits;
    }

    /// The cells among the first `count` of the store at `base` that differ from what the controller
    /// knows, as (address, bits); it knows them from now on.
    fn changed(&mut self, base: u64, count: u64, changed: &mut Vec<(u64, u64)>) {
        let mut now = Vec::with_capacity(count as usize);
        for i in 0..count {
            match self.cell(base + i * 8) {
                Some((cell, ..)) => now.push(cell.load(Ordering::SeqCst)),
                None => refuse(&"a store outside the layout"),
            }
        }
        let known = self.stores.entry(base).or_default();
        known.resize(known.len().max(now.len()), 0);
        for (i, (bits, known)) in now.iter().zip(known.iter_mut()).enumerate() {
            if bits != known {
                changed.push((base + i as u64 * 8, *bits));
                *known = *bits;
            }
        }
    }
}

/// Runs the code a `RUN` names and makes its result: the value or the error and its frames, whether it
/// drew, and the cells its code changed in the stores the controller names (a command executor's:
/// globals and call counters; a fork shares them, and is asked for none).
fn run(message: &Message, runtime: &RuntimeState, stack: &Stack, reported: Option<&SharedReported>) -> Message {
    let mut fields = message.fields();
    let read = |fields: &mut crate::base::wire::Fields<'_>| -> Result<_, WireError> {
        let (code, frame, count) = (fields.u64()?, fields.u64()?, fields.u64()?);
        let stores = (0..count.min(16)).map(|_| Ok((fields.u64()?, fields.u64()?))).collect::<Result<Vec<_>, _>>()?;
        Ok((code, frame, stores))
    };
    let (code, frame, stores) = match read(&mut fields).and_then(|read| fields.finish().map(|()| read)) {
        Ok(read) => read,
        Err(error) => refuse(&error),
    };
    let mut reply = Message::new(Opcode::Result, message.sequence, 0);
    match run_on(runtime, stack, code as usize, frame as usize) {
        Ok(value) => reply.push_u64(0).push_f64(value),
        Err((raised, frames)) => {
            push_raised(reply.push_u64(1), &raised);
            push_frames(&mut reply, &frames);
            &mut reply
        }
    };
    reply.push_u64(u64::from(runtime.has_drawn()));
    let mut changed = Vec::new();
    if let Some(reported) = reported {
        let mut reported = reported.borrow_mut();
        for (base, count) in stores {
            reported.changed(base, count, &mut changed);
        }
    }
    reply.push_u64(changed.len() as u64);
    for (at, bits) in changed {
        reply.push_u64(at).push_u64(bits);
    }
    reply
}

/// A command executor's copies: code bytes, cells, jumps to C functions, libraries.
fn apply_write(copied: &mut Copied, message: &Message) -> bool {
    if message.opcode != Opcode::Call {
        return false;
    }
    let mut fields = message.fields();
    let done = match message.tag {
        TAG_WRITE_CODE => fields.u64().and_then(|at| Ok((at, fields.bytes()?))).map(|(at, bytes)| {
            copied.arena.write(at as usize, bytes).unwrap_or_else(|_| refuse(&"code outside the arena"))
        }),
        TAG_WRITE_WORDS => fields.u64().and_then(|count| {
            let mut reported = copied.reported.borrow_mut();
            for _ in 0..count {
                let (at, bits) = (fields.u64()?, fields.u64()?);
                reported.write(at, bits);
            }
            Ok(())
        }),
        TAG_BIND => fields.str().and_then(|name| Ok((name.to_string(), fields.u64()?))).map(|(name, at)| {
            let target = crate::runtime::lookup_c_symbol(&name).unwrap_or(missing_symbol as *const () as usize);
            copied.jumps.place(at as usize, target).unwrap_or_else(|_| cannot_place(&name));
        }),
        TAG_LOAD_LIBRARY => fields.str().map(|path| {
            if let Err(error) = crate::runtime::libraries::Libraries::default().load(std::path::Path::new(path)) {
                write_stderr(["kaleido executor: ", &error.to_string(), "\n"].concat().as_bytes());
            }
        }),
        _ => return false,
    };
    if let Err(error) = done.and_then(|()| fields.finish()) {
        refuse(&error);
    }
    true
}

/// Where a C function the executor's machine does not have is bound: calling it ends the executor
/// with a message, rather than jumping nowhere.
extern "C" fn missing_symbol() -> f64 {
    write_stderr(b"kaleido executor: a C function the controller bound is not in this machine's libraries\n");
    std::process::abort()
}

fn cannot_place(name: &str) -> ! {
    write_stderr(
        ["kaleido executor: cannot place `", name, "` at the controller's address (in use here)\n"].concat().as_bytes(),
    );
    exit_now(3)
}

/// The interrupt handle of a command executor, for its reader thread (set once the layout is mapped).
static INTERRUPT: OnceLock<InterruptHandle> = OnceLock::new();

/// `kaleido executor`: serves a controller on standard input and output, for ever.
pub fn serve_executor_command() -> ! {
    let connection = adopt_standard_streams().unwrap_or_else(|_| exit_now(1));
    let reader = connection.try_clone().unwrap_or_else(|_| exit_now(1));
    let (to_main, incoming) = mpsc::channel();
    std::thread::spawn(move || {
        read_messages(reader, |message| {
            if message.opcode == Opcode::Call && message.tag == TAG_INTERRUPT {
                if let Some(handle) = INTERRUPT.get() {
                    handle.interrupt();
                }
                return true;
            }
            to_main.send(message).is_ok()
        })
    });
    let pending = Arc::new(PendingOutput::new().unwrap_or_else(|_| exit_now(1)));
    let link: &'static Link = Box::leak(Box::new(Link::with_reader(connection, pending, incoming)));
    link.send(Message::new(Opcode::Setup, 0, 0).push_u64(u64::from(std::process::id())));
    let layout = link.receive_spinning(IDLE_SPIN);
    if layout.opcode != Opcode::Call || layout.tag != TAG_LAYOUT {
        refuse(&crate::base::error::ProtocolError::Unexpected { opcode: layout.opcode, tag: layout.tag });
    }
    let (runtime, mut copied) = match map_layout(link, &layout) {
        Ok(mapped) => mapped,
        Err(why) => {
            let mut reply = Message::new(Opcode::Result, layout.sequence, 0);
            reply.push_u64(1).push_str(&why.0);
            link.send(&reply);
            exit_now(3)
        }
    };
    let _ = INTERRUPT.set(runtime.interrupt_handle().clone());
    let reported = copied.reported.clone();
    link.set_writes(Box::new(move |message| apply_write(&mut copied, message)));
    link.send(Message::new(Opcode::Result, layout.sequence, 0).push_u64(0));
    let stack = Stack::new(EVAL_ENTRY + EVAL_BUDGET + EVAL_MARGIN).unwrap_or_else(|_| exit_now(1));
    serve_loop(link, runtime, &stack, Some(reported))
}

/// Why an executor cannot take the controller's layout, in words sent back to it.
struct Refused(String);

impl From<String> for Refused {
    fn from(why: String) -> Refused {
        Refused(why)
    }
}

/// Maps the controller's layout here: the arena, the stores, the signals and the runtime state at its
/// addresses, and a jump at each of its natives to ours.
fn map_layout(link: &'static Link, layout: &Message) -> Result<(&'static RuntimeState, Copied), Refused> {
    let mut fields = layout.fields();
    let bad = |e: WireError| e.to_string();
    let in_use = |what: &str, e: std::io::Error| {
        ["cannot map the ", what, " at the controller's address: ", &e.to_string()].concat()
    };
    // Everything at a fixed address first, the arena's write view (at an address the kernel picks) last,
    // so that view cannot take a place the controller's layout needs.
    let (base, size) = (fields.u64().map_err(bad)?, fields.u64().map_err(bad)?);
    let mut reported = Reported::default();
    for _ in 0..3 {
        let (at, bytes) = (fields.u64().map_err(bad)?, fields.u64().map_err(bad)?);
        let store = SharedArray::<AtomicU64>::new_at(at as usize, bytes as usize / 8);
        reported.cells.push(store.map_err(|e| in_use("cells", e))?);
    }
    let (signals, state) = (fields.u64().map_err(bad)?, fields.u64().map_err(bad)?);
    let runtime = RuntimeState::place_at(state as usize, signals as usize, Box::new(ExecutorOutput::new(link)))
        .map_err(|e| in_use("runtime state", e))?;
    let hook: &'static RemoteHook = Box::leak(Box::new(RemoteHook::new(link)));
    runtime.set_lazy_hook(hook);
    let mut jumps = Trampolines::default();
    let ours = own_natives();
    let count = fields.u64().map_err(bad)?;
    for _ in 0..count {
        let (name, at) = (fields.str().map_err(bad)?.to_string(), fields.u64().map_err(bad)?);
        let target = ours.iter().find(|(n, _)| *n == name).map(|&(_, address)| address);
        let target =
            target.ok_or_else(|| ["this executor has no `", &name, "`: is it the same build of kaleido?"].concat())?;
        jumps.place(at as usize, target).map_err(|e| in_use(&name, e))?;
    }
    fields.finish().map_err(bad)?;
    let arena = ArenaCopy::map_at(base as usize, size as usize).map_err(|e| in_use("code arena", e))?;
    let reported = std::rc::Rc::new(std::cell::RefCell::new(reported));
    Ok((runtime, Copied { arena, jumps, reported }))
}
