//! Global variables: address-stable cells holding f64 bits, and the names bound to them.
//!
//! A cell is allocated when an entry that mentions a new global compiles (its code embeds the address);
//! the name is bound to it only when the `var` item that initialises it has run. So a global whose entry
//! failed before its initialiser ran never becomes visible.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::machine::cells::StableCells;

/// The globals' cells and names.
#[derive(Default)]
pub(crate) struct GlobalTable {
    cells: StableCells<AtomicU64>,
    names: HashMap<String, u32>,
    /// Names in the order they were first bound.
    order: Vec<String>,
}

impl GlobalTable {
    /// The cell bound to `name`, if it is a global.
    pub(crate) fn cell_of(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }

    /// Whether `name` is a global.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// A new cell, bound to no name yet.
    pub(crate) fn allocate(&mut self) -> u32 {
        self.cells.push()
    }

    /// The cell's address, as JIT code embeds it.
    pub(crate) fn address(&self, cell: u32) -> usize {
        self.cells.address(cell)
    }

    /// Stores `value` in `cell` and binds `name` to it.
    pub(crate) fn bind(&mut self, name: &str, cell: u32, value: f64) {
        self.cells.get(cell).store(value.to_bits(), Ordering::SeqCst);
        if self.names.insert(name.to_string(), cell).is_none() {
            self.order.push(name.to_string());
        }
    }

    /// The value of global `name`.
    pub(crate) fn value(&self, name: &str) -> Option<f64> {
        let cell = self.cell_of(name)?;
        Some(f64::from_bits(self.cells.get(cell).load(Ordering::SeqCst)))
    }

    /// Every global and its value, in the order defined.
    pub(crate) fn all(&self) -> Vec<(String, f64)> {
        self.order.iter().map(|name| (name.clone(), self.value(name).unwrap_or(0.0))).collect()
    }

    /// Every cell's bits, in order: what an executor that dies is given back.
    pub(crate) fn snapshot(&self) -> Vec<u64> {
        (0..self.cells.len() as u32).map(|cell| self.cells.get(cell).load(Ordering::SeqCst)).collect()
    }

    /// Puts back the cells a snapshot holds (cells made since keep their values).
    pub(crate) fn restore(&self, snapshot: &[u64]) {
        for (cell, bits) in snapshot.iter().enumerate().take(self.cells.len()) {
            self.cells.get(cell as u32).store(*bits, Ordering::SeqCst);
        }
    }

    /// The cells (to copy them to an executor in another process image).
    pub(crate) fn cells(&self) -> &StableCells<AtomicU64> {
        &self.cells
    }

    /// How many cells exist (a mark to roll back to).
    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    /// Forgets the cells from `len` on; they were never bound (binding happens after compiling).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.cells.truncate(len);
    }
}
