//! The controller's side of an executor started as a command (`--executor 'ssh HOST kaleido executor'`):
//! another process image, which shares no memory with this one.
//!
//! At start the executor is given this process's layout (`executor_side.rs` maps it at the same
//! addresses, with jumps at this process's native functions), then everything: every byte of code ever
//! handed out, every cell, the C libraries and the C functions `extern` bound. Before each run, and
//! before answering a lazy compile or a tier-up, what changed since is sent: the arena's written and freed
//! ranges (it records them in this mode) and the cells whose bits differ from a shadow of what the
//! executor has. After each run the executor sends the globals' cells back.

use std::collections::BTreeSet;

use super::Engine;
use super::natives::own_natives;
use crate::base::error::ExecutorEnd;
use crate::base::wire::{Message, Opcode};
use crate::machine::code_memory::{copy_code, lock};
use crate::runtime::remote_codec::{TAG_BIND, TAG_LAYOUT, TAG_LOAD_LIBRARY, TAG_WRITE_CODE, TAG_WRITE_WORDS};
use crate::tables::index::{Code, FunctionKind};

/// The most code bytes one message carries.
const CODE_CHUNK: usize = 8 << 20;
/// The most cells one message carries.
const WORDS_CHUNK: usize = 1 << 20;

/// What an executor in another image has been sent.
#[derive(Default)]
pub(super) struct Copying {
    /// Each store's cells as the executor has them.
    shadow: [Vec<u64>; 3],
    /// The addresses of the C functions bound there.
    bound: BTreeSet<usize>,
    /// How many of the session's C libraries it has loaded.
    libraries: usize,
}

impl Engine {
    /// Gives a new executor in another image this process's layout, then everything it must hold.
    pub(super) fn set_up_copy(&mut self) -> Result<(), ExecutorEnd> {
        let mut layout = Message::new(Opcode::Call, 0, TAG_LAYOUT);
        let (base, size) = lock(self.backend.borrow().arena()).region();
        layout.push_u64(base as u64).push_u64(size as u64);
        for store in self.tables.store_images() {
            layout.push_u64(store.base as u64).push_u64(store.bytes as u64);
        }
        let signals = self.runtime.interrupt_handle().signals_address();
        layout.push_u64(signals as u64).push_u64(&*self.runtime as *const _ as u64);
        let natives = own_natives();
        layout.push_u64(natives.len() as u64);
        for (name, address) in &natives {
            layout.push_str(name).push_u64(*address as u64);
        }
        let reply = self.call_child(layout)?;
        let mut fields = reply.fields();
        if fields.u64() != Ok(0) {
            let why = fields.str().unwrap_or("it did not say why").to_string();
            return Err(ExecutorEnd::NotStarted(why));
        }
        if let Some(executor) = &mut self.executor {
            executor.copying = Some(Copying::default());
        }
        // Everything ever handed out, freed ranges too (their poison is what they hold).
        let (base, used) = lock(self.backend.borrow().arena()).used();
        lock(self.backend.borrow().arena()).take_changes();
        for start in (base..base + used).step_by(CODE_CHUNK) {
            self.send_code(start, CODE_CHUNK.min(base + used - start))?;
        }
        self.sync_copy()
    }

    /// Sends an executor in another image what changed since it was last sent anything.
    pub(super) fn sync_copy(&mut self) -> Result<(), ExecutorEnd> {
        let Some(mut copying) = self.executor.as_mut().and_then(|executor| executor.copying.take()) else {
            return Ok(());
        };
        let result = self.send_changes(&mut copying);
        if let Some(executor) = &mut self.executor {
            executor.copying = Some(copying);
        }
        result
    }

    fn send_changes(&mut self, copying: &mut Copying) -> Result<(), ExecutorEnd> {
        let paths: Vec<String> = self.libraries.paths()[copying.libraries..]
            .iter()
            .map(|path| path.to_string_lossy().into_owned())
            .collect();
        for path in paths {
            let mut message = Message::new(Opcode::Call, 0, TAG_LOAD_LIBRARY);
            message.push_str(&path);
            self.send_child(&message)?;
            copying.libraries += 1;
        }
        let externs: Vec<(String, usize)> = (self.tables.index.functions())
            .filter(|info| info.kind == FunctionKind::Extern)
            .filter_map(|info| match info.code {
                Code::Native { address, .. } => Some((info.name.to_string(), address)),
                _ => None,
            })
            .collect();
        for (name, address) in externs {
            if copying.bound.insert(address) {
                let mut message = Message::new(Opcode::Call, 0, TAG_BIND);
                message.push_str(&name).push_u64(address as u64);
                self.send_child(&message)?;
            }
        }
        let changes = lock(self.backend.borrow().arena()).take_changes();
        for (start, len) in changes {
            self.send_code(start, len.max(1).next_multiple_of(16))?;
        }
        let mut words = Vec::new();
        for (store, shadow) in self.tables.store_images().into_iter().zip(&mut copying.shadow) {
            shadow.resize(store.bits.len(), 0);
            for (i, (bits, known)) in store.bits.iter().zip(shadow.iter_mut()).enumerate() {
                if bits != known {
                    words.push((store.base + i * 8, *bits));
                    *known = *bits;
                }
            }
        }
        for chunk in words.chunks(WORDS_CHUNK) {
            let mut message = Message::new(Opcode::Call, 0, TAG_WRITE_WORDS);
            message.push_u64(chunk.len() as u64);
            for &(at, bits) in chunk {
                message.push_u64(at as u64).push_u64(bits);
            }
            self.send_child(&message)?;
        }
        Ok(())
    }

    fn send_code(&mut self, start: usize, len: usize) -> Result<(), ExecutorEnd> {
        let mut message = Message::new(Opcode::Call, 0, TAG_WRITE_CODE);
        message.push_u64(start as u64).push_bytes(&copy_code(start, len));
        self.send_child(&message)
    }

    /// Records the cells the executor's code changed (globals, call counters: it sent them back), so
    /// this side agrees and the next sync does not send them again.
    pub(super) fn copy_back(&mut self, changed: &[(u64, u64)]) {
        let Some(copying) = self.executor.as_mut().and_then(|executor| executor.copying.as_mut()) else { return };
        let stores = [(1, self.tables.globals.cells().region()), (2, self.tables.counters().region())];
        for &(at, bits) in changed {
            let at = at as usize;
            let Some(&(store, (base, _))) =
                stores.iter().find(|(_, (base, bytes))| (*base..base + bytes).contains(&at))
            else {
                continue;
            };
            let index = (at - base) / 8;
            match store {
                1 if index < self.tables.globals.cells().len() => self.tables.globals.cells().set_bits(index, bits),
                2 if index < self.tables.counters().len() => self.tables.counters().set_bits(index, bits),
                _ => continue,
            }
            let shadow = &mut copying.shadow[store];
            if shadow.len() <= index {
                shadow.resize(index + 1, 0);
            }
            shadow[index] = bits;
        }
    }

    /// The stores whose changed cells the executor must send back after a run, as (base, count): the
    /// globals and the call counters, which its code writes.
    pub(super) fn stores_to_copy_back(&self) -> Vec<(u64, u64)> {
        if !self.copying() {
            return Vec::new();
        }
        let globals = self.tables.globals.cells();
        let counters = self.tables.counters();
        vec![(globals.region().0 as u64, globals.len() as u64), (counters.region().0 as u64, counters.len() as u64)]
    }

    /// Whether the executor is in another process image.
    pub(super) fn copying(&self) -> bool {
        self.executor.as_ref().is_some_and(|executor| executor.copying.is_some())
    }
}
