//! Code memory: one arena of machine code shared by every module of an engine, freed function by function.
//!
//! Cranelift's default provider gives every module its own pages and frees only whole modules. Here each
//! module gets an [`ArenaProvider`] that sub-allocates from the engine's one [`CodeArena`], so a one-line
//! definition costs its code bytes (tens of bytes) rather than a page, and the engine can free a single
//! function (a top-level expression once it has run, a definition once it is replaced).
//!
//! A page is never writable and executable at once: pages are flipped to read-write while code is
//! written into them and back to read-execute when the module is finalized. Code sharing a page with new
//! code is briefly not executable, which is safe because the engine is single-threaded and no JIT frame
//! runs on another thread. Freed bytes are filled with `int3`, so a stale pointer traps instead of running
//! garbage. This file holds all of the engine's `unsafe` for memory mappings.

use std::io;
use std::sync::{Arc, Mutex};

// On x86-64 the instruction cache is coherent with stores, so making a page executable is all it takes.
// Other targets (AArch64) need an icache flush and pipeline barrier after writing code, which this arena
// does not do yet; refuse to build rather than run stale instructions.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("kaleido's code arena supports x86-64 only (other targets need icache maintenance)");

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::{ModuleError, ModuleResult};
use region::Protection;

/// How much address space an engine reserves for code by default. Reserving costs nothing until pages
/// are used.
pub(crate) const DEFAULT_CODE_MEMORY: usize = 1 << 30;

/// Every allocation is rounded up to, and aligned to, this many bytes.
const GRANULE: usize = 16;

/// A `(start, length)` range of code memory.
pub(crate) type CodeRange = (usize, usize);

/// One reserved region of address space, handed out in granules.
pub(crate) struct CodeArena {
    base: usize,
    size: usize,
    page: usize,
    /// Everything below `bump` has been handed out at least once.
    bump: usize,
    /// Freed ranges, sorted by address and coalesced.
    free: Vec<CodeRange>,
    /// Bytes currently allocated.
    live: usize,
}

/// The arena, shared by the engine and the providers of its modules.
pub(crate) type SharedArena = Arc<Mutex<CodeArena>>;

impl CodeArena {
    /// Reserves `size` bytes of address space for code (no memory is committed yet).
    pub(crate) fn new(size: usize) -> io::Result<SharedArena> {
        // A plain reservation rather than `region::alloc`: `MAP_NORESERVE` keeps the kernel from charging
        // every page flipped to writable against the commit limit, which measured twice as slow per flip.
        // SAFETY: an anonymous private mapping with no access rights; nothing aliases it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let arena =
            CodeArena { base: base as usize, size, page: region::page::size(), bump: 0, free: Vec::new(), live: 0 };
        Ok(Arc::new(Mutex::new(arena)))
    }

    /// Bytes of code currently allocated.
    pub(crate) fn live_bytes(&self) -> usize {
        self.live
    }

    /// How many bytes of code the arena can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.size
    }

    /// The highest offset ever handed out: the arena's footprint.
    pub(crate) fn high_water(&self) -> usize {
        self.bump
    }

    /// Allocates `size` bytes aligned to `align` and makes their pages writable.
    fn allocate(&mut self, size: usize, align: usize) -> io::Result<usize> {
        if align > GRANULE {
            return Err(io::Error::other(format!("code alignment {align} is larger than {GRANULE}")));
        }
        let size = size.max(1).next_multiple_of(GRANULE);
        let start = match self.free.iter().position(|&(_, len)| len >= size) {
            Some(i) => {
                let (start, len) = self.free[i];
                if len == size {
                    self.free.remove(i);
                } else {
                    self.free[i] = (start + size, len - size);
                }
                start
            }
            None if self.bump + size <= self.size => {
                self.bump += size;
                self.base + self.bump - size
            }
            None => {
                let message = format!("no room for {size} more bytes of machine code");
                return Err(io::Error::new(io::ErrorKind::OutOfMemory, message));
            }
        };
        self.protect((start, size), Protection::READ_WRITE)?;
        self.live += size;
        Ok(start)
    }

    /// Makes `range` executable (and no longer writable).
    pub(crate) fn make_executable(&mut self, range: CodeRange) -> io::Result<()> {
        self.protect(range, Protection::READ_EXECUTE)
    }

    /// Frees `ranges` (as returned by allocations). The caller guarantees no code in them runs again.
    ///
    /// The freed bytes are poisoned with `int3` under one flip of the pages the ranges span: flipping
    /// each range's page on its own splits and re-merges the kernel's mappings twice per range, which
    /// made redefinition slower the more code a session had.
    pub(crate) fn free(&mut self, ranges: &[CodeRange]) {
        let ranges: Vec<CodeRange> = ranges.iter().map(|&(s, l)| (s, l.max(1).next_multiple_of(GRANULE))).collect();
        let (Some(first), Some(last)) = (ranges.iter().map(|r| r.0).min(), ranges.iter().map(|r| r.0 + r.1).max())
        else {
            return;
        };
        if self.protect((first, last - first), Protection::READ_WRITE).is_ok() {
            for &(start, len) in &ranges {
                // SAFETY: the range lies inside our mapping, was allocated by `allocate`, and its pages
                // were just made writable; the caller guarantees no code in it runs again.
                unsafe { std::ptr::write_bytes(start as *mut u8, 0xCC, len) };
            }
            let _ = self.protect((first, last - first), Protection::READ_EXECUTE);
        }
        for (start, len) in ranges {
            self.live -= len.min(self.live);
            self.release(start, len);
        }
    }

    /// Returns `start..start + len` to the free list, coalescing with its neighbours.
    fn release(&mut self, start: usize, len: usize) {
        let at = self.free.partition_point(|&(s, _)| s < start);
        self.free.insert(at, (start, len));
        if at + 1 < self.free.len() && self.free[at].0 + self.free[at].1 == self.free[at + 1].0 {
            self.free[at].1 += self.free.remove(at + 1).1;
        }
        if at > 0 && self.free[at - 1].0 + self.free[at - 1].1 == self.free[at].0 {
            self.free[at - 1].1 += self.free.remove(at).1;
        }
    }

    fn protect(&self, (start, len): CodeRange, protection: Protection) -> io::Result<()> {
        let first = start & !(self.page - 1);
        let end = (start + len).next_multiple_of(self.page);
        // SAFETY: the pages lie inside the region this arena mapped and owns; code on them runs only on
        // this thread, which is not running JIT code while the arena is borrowed.
        unsafe { region::protect(first as *const u8, end - first, protection) }.map_err(io::Error::other)
    }
}

impl Drop for CodeArena {
    fn drop(&mut self) {
        // SAFETY: the engine that owns this arena is being dropped, so no code in it runs or is called again.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

/// The memory provider of one module: allocates in the shared arena and records what it allocated, so the
/// engine can free each function on its own. It frees nothing when dropped: the engine owns the code.
pub(crate) struct ArenaProvider {
    arena: SharedArena,
    allocations: Arc<Mutex<Vec<CodeRange>>>,
    pending: Vec<CodeRange>,
}

impl ArenaProvider {
    /// A provider for one module, and the list its allocations will be recorded in.
    pub(crate) fn new(arena: SharedArena) -> (ArenaProvider, Arc<Mutex<Vec<CodeRange>>>) {
        let allocations = Arc::new(Mutex::new(Vec::new()));
        (ArenaProvider { arena, allocations: allocations.clone(), pending: Vec::new() }, allocations)
    }
}

impl JITMemoryProvider for ArenaProvider {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        if !matches!(kind, JITMemoryKind::Executable) {
            return Err(io::Error::other("kaleido modules define no data objects"));
        }
        let align = usize::try_from(align).unwrap_or(usize::MAX);
        let start = lock(&self.arena).allocate(size, align)?;
        self.pending.push((start, size));
        lock(&self.allocations).push((start, size));
        Ok(start as *mut u8)
    }

    unsafe fn free_memory(&mut self) {
        let ranges: Vec<CodeRange> = lock(&self.allocations).drain(..).collect();
        lock(&self.arena).free(&ranges);
    }

    fn finalize(&mut self, _branch_protection: BranchProtection) -> ModuleResult<()> {
        let mut arena = lock(&self.arena);
        for range in self.pending.drain(..) {
            arena.make_executable(range).map_err(|e| ModuleError::Backend(e.into()))?;
        }
        Ok(())
    }
}

/// A copy of the `size` bytes of machine code at `code` (to disassemble them).
///
/// The caller passes the entry point and size of a function whose code is live: allocated in the arena,
/// finalized, and not freed (the engine frees code only between evaluations, never while a listing is made).
pub(crate) fn copy_code(code: usize, size: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; size];
    // SAFETY: `code..code + size` lies inside a live allocation of the arena (see above), whose pages are
    // readable (read-execute once finalized); nothing writes them while this copy is made (the engine is
    // single-threaded and only writes code for a module that is being compiled, which this is not).
    unsafe { std::ptr::copy_nonoverlapping(code as *const u8, bytes.as_mut_ptr(), size) };
    bytes
}

/// Locks a mutex, recovering the data if a panic poisoned it (the arena's state stays consistent: every
/// operation completes its bookkeeping before anything can panic).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
