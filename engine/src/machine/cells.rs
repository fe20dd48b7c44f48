//! Address-stable storage: the indirection table's slots and the global variables' cells.
//!
//! JIT code embeds the address of a slot or a cell as a constant, so a cell must never move for the life
//! of the engine. Each store reserves room for all the cells it can ever have, in shared pages
//! (`shared.rs`), so an executor forked from this process sees every cell at the same address, the ones
//! made after the fork included. Only this file decides where a cell lives; nothing here
//! is `unsafe`.

use crate::machine::shared::{SharedArray, WordCell, ZeroCell};

/// How many cells one store can hold: address space reserved up front (8 bytes a cell, 128 MiB, none of
/// it used until written), because a mapping made after an executor was forked would not be shared with it.
pub(crate) const CAPACITY: usize = 1 << 24;

/// A growable array whose elements never move once created.
pub(crate) struct StableCells<T: ZeroCell> {
    cells: SharedArray<T>,
    len: usize,
}

impl<T: ZeroCell> Default for StableCells<T> {
    /// # Panics
    /// When the system refuses the reservation (no address space left), as an allocation would.
    fn default() -> Self {
        let cells = SharedArray::new(CAPACITY).unwrap_or_else(|error| panic!("no memory for cells: {error}"));
        StableCells { cells, len: 0 }
    }
}

impl<T: ZeroCell> StableCells<T> {
    /// Appends a cell holding zero and returns its index.
    ///
    /// # Panics
    /// Past [`CAPACITY`] cells (sixteen million functions, globals or code ids).
    pub(crate) fn push(&mut self) -> u32 {
        assert!(self.len < CAPACITY, "more than {CAPACITY} cells");
        self.len += 1;
        (self.len - 1) as u32
    }

    /// The cell at `index`.
    pub(crate) fn get(&self, index: u32) -> &T {
        let index = index as usize;
        assert!(index < self.len, "cell {index} out of range");
        &self.cells.as_slice()[index]
    }

    /// The cell's address, as JIT code embeds it.
    pub(crate) fn address(&self, index: u32) -> usize {
        self.get(index) as *const T as usize
    }

    /// The index of the cell at `address`, if it is one of ours.
    pub(crate) fn index_of(&self, address: usize) -> Option<u32> {
        let size = std::mem::size_of::<T>();
        let offset = address.checked_sub(self.cells.as_slice().as_ptr() as usize)?;
        let index = offset / size;
        (offset % size == 0 && index < self.len).then_some(index as u32)
    }

    /// Where the store's cells start, and how many bytes it reserves.
    pub(crate) fn region(&self) -> (usize, usize) {
        (self.cells.address(), CAPACITY * std::mem::size_of::<T>())
    }

    /// How many cells exist.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Forgets the cells from `len` on (an entry that failed to compile gives back what it took). The
    /// memory stays; the cells are reset and handed out again.
    pub(crate) fn truncate(&mut self, len: usize) {
        for cell in &self.cells.as_slice()[len.min(self.len)..self.len] {
            cell.reset();
        }
        self.len = self.len.min(len);
    }
}

impl<T: WordCell> StableCells<T> {
    /// Every cell's bits, in order.
    pub(crate) fn all_bits(&self) -> Vec<u64> {
        self.cells.as_slice()[..self.len].iter().map(WordCell::bits).collect()
    }

    /// Sets the cell at `index` (which must exist) to `bits`.
    pub(crate) fn set_bits(&self, index: usize, bits: u64) {
        self.cells.as_slice()[..self.len][index].set_bits(bits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn addresses_survive_growth_and_map_back_to_indices() {
        let mut cells: StableCells<AtomicUsize> = StableCells::default();
        let first = cells.push();
        let address = cells.address(first);
        for _ in 0..5000 {
            cells.push();
        }
        assert_eq!(cells.address(first), address);
        assert_eq!(cells.index_of(cells.address(4321)), Some(4321));
        assert_eq!(cells.index_of(address + 1), None);
        assert_eq!(cells.index_of(0), None);
    }
}
