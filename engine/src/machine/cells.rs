//! Address-stable storage: the indirection table's slots and the global variables' cells.
//!
//! JIT code embeds the address of a slot or a cell as a constant, so a cell must never move for the life
//! of the engine. Cells live in fixed-size chunks that are allocated once and never reallocated; growing
//! the store adds a chunk. Only this file decides where a cell lives; nothing here is `unsafe`.

/// How many cells one chunk holds.
const CHUNK: usize = 1024;

/// A growable array whose elements never move once created.
pub(crate) struct StableCells<T> {
    chunks: Vec<Box<[T]>>,
    len: usize,
}

impl<T: Default> Default for StableCells<T> {
    fn default() -> Self {
        StableCells { chunks: Vec::new(), len: 0 }
    }
}

impl<T: Default> StableCells<T> {
    /// Appends a cell holding `T::default()` and returns its index.
    pub(crate) fn push(&mut self) -> u32 {
        if self.len == self.chunks.len() * CHUNK {
            self.chunks.push((0..CHUNK).map(|_| T::default()).collect());
        }
        self.len += 1;
        (self.len - 1) as u32
    }

    /// The cell at `index`.
    pub(crate) fn get(&self, index: u32) -> &T {
        let index = index as usize;
        assert!(index < self.len, "cell {index} out of range");
        &self.chunks[index / CHUNK][index % CHUNK]
    }

    /// The cell's address, as JIT code embeds it.
    pub(crate) fn address(&self, index: u32) -> usize {
        self.get(index) as *const T as usize
    }

    /// The index of the cell at `address`, if it is one of ours.
    pub(crate) fn index_of(&self, address: usize) -> Option<u32> {
        let size = std::mem::size_of::<T>();
        self.chunks.iter().enumerate().find_map(|(chunk_index, chunk)| {
            let base = chunk.as_ptr() as usize;
            let offset = address.checked_sub(base)?;
            let within = offset / size;
            let index = chunk_index * CHUNK + within;
            (offset % size == 0 && within < CHUNK && index < self.len).then_some(index as u32)
        })
    }

    /// How many cells exist.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Forgets the cells from `len` on (an entry that failed to compile gives back what it took). The
    /// memory stays; the cells are reset and handed out again.
    pub(crate) fn truncate(&mut self, len: usize) {
        for index in len..self.len {
            self.chunks[index / CHUNK][index % CHUNK] = T::default();
        }
        self.len = self.len.min(len);
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
