//! Memory that a forked executor shares: zeroed, `MAP_SHARED` anonymous pages.
//!
//! JIT code embeds the addresses of the indirection table's slots, the globals' cells, the tier-up
//! counters and the signals it polls. When code runs in an executor (a child forked from this process,
//! `engine/executor.rs`), those addresses must name the same memory on both sides: the controller binds a
//! slot or interrupts, the executor's code sees it at once. A `MAP_SHARED` mapping made before the fork is
//! shared with every child forked after, at the same address; so every cell lives in one, in-process
//! engines included (one kind of cell, one code path). This file holds the `unsafe` of those mappings.

use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// A type that all-zero bytes are a valid value of and that can be reset to zero through a shared
/// reference (so two processes may use it at once).
///
/// # Safety
/// All-zero bytes must be a valid value of the type, and it must have no destructor that matters.
pub(crate) unsafe trait ZeroCell: Sync {
    /// Stores zero.
    fn reset(&self);
}

/// A cell of one machine word, read and written as its bits (to copy cells to another process).
pub(crate) trait WordCell: ZeroCell {
    /// Its bits.
    fn bits(&self) -> u64;
    /// Stores `bits`.
    fn set_bits(&self, bits: u64);
}

macro_rules! zero_cell {
    ($($t:ty),*) => {$(
        // SAFETY: an atomic integer's zero is all-zero bytes, and it has no destructor.
        unsafe impl ZeroCell for $t {
            fn reset(&self) {
                self.store(0, Ordering::SeqCst);
            }
        }
    )*};
}
zero_cell!(AtomicU8, AtomicU64, AtomicUsize, AtomicI64);

macro_rules! word_cell {
    ($($t:ty => $v:ty),*) => {$(
        impl WordCell for $t {
            fn bits(&self) -> u64 {
                self.load(Ordering::SeqCst) as u64
            }
            fn set_bits(&self, bits: u64) {
                self.store(bits as $v, Ordering::SeqCst);
            }
        }
    )*};
}
word_cell!(AtomicU64 => u64, AtomicUsize => usize, AtomicI64 => i64);

/// `len` zeroed values of `T` in shared pages, unmapped when dropped.
pub(crate) struct SharedArray<T: ZeroCell> {
    base: *mut T,
    len: usize,
    bytes: usize,
    _owns: PhantomData<T>,
}

// SAFETY: the memory holds `ZeroCell` values, which are `Sync` (atomics): any thread may use them.
unsafe impl<T: ZeroCell> Send for SharedArray<T> {}
// SAFETY: as above; the array hands out only shared references.
unsafe impl<T: ZeroCell> Sync for SharedArray<T> {}

impl<T: ZeroCell> SharedArray<T> {
    /// Maps `len` zeroed values (at least one page). Pages are committed only when written.
    pub(crate) fn new(len: usize) -> io::Result<SharedArray<T>> {
        let bytes = (len.max(1) * std::mem::size_of::<T>()).next_multiple_of(4096);
        // SAFETY: a new anonymous shared mapping at an address the kernel picks; it aliases nothing.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(SharedArray { base: address.cast(), len, bytes, _owns: PhantomData })
    }

    /// Maps `len` zeroed values at exactly `address` (an executor copying a controller's layout); fails if
    /// anything is mapped there already.
    pub(crate) fn new_at(address: usize, len: usize) -> io::Result<SharedArray<T>> {
        let bytes = (len.max(1) * std::mem::size_of::<T>()).next_multiple_of(4096);
        let flags = libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE;
        let protection = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: `MAP_FIXED_NOREPLACE` maps at `address` only if nothing is there: it never replaces a
        // mapping, so nothing aliases the new one.
        let got = unsafe { libc::mmap(address as *mut libc::c_void, bytes, protection, flags, -1, 0) };
        if got == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        if got as usize != address {
            // A kernel older than 4.17 takes the flag as a hint.
            // SAFETY: the mapping was just made and nothing uses it.
            unsafe { libc::munmap(got, bytes) };
            return Err(io::Error::from(io::ErrorKind::AddrInUse));
        }
        Ok(SharedArray { base: got.cast(), len, bytes, _owns: PhantomData })
    }

    /// Where the values start.
    pub(crate) fn address(&self) -> usize {
        self.base as usize
    }

    /// The values, in place.
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `base` maps `len` values, zero-filled by the kernel, which `ZeroCell` says is valid; the
        // mapping lives as long as `self`, and only shared references are ever made.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }
}

impl<T: ZeroCell> std::fmt::Debug for SharedArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedArray").field("base", &self.base).field("len", &self.len).finish()
    }
}

impl<T: ZeroCell> Drop for SharedArray<T> {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `new` and no reference into it outlives `self`.
        unsafe { libc::munmap(self.base.cast(), self.bytes) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_zeroed_and_resets() {
        let cells: SharedArray<AtomicU64> = SharedArray::new(3).expect("mapped");
        assert!(cells.as_slice().iter().all(|c| c.load(Ordering::SeqCst) == 0));
        cells.as_slice()[2].store(7, Ordering::SeqCst);
        cells.as_slice()[2].reset();
        assert_eq!(cells.as_slice()[2].load(Ordering::SeqCst), 0);
    }
}
