//! Code memory: one arena of machine code shared by every module of an engine, freed function by function.
//!
//! Cranelift's default provider gives every module its own pages and frees only whole modules. Here each
//! module gets an [`ArenaProvider`] that sub-allocates from the engine's one [`CodeArena`], so a one-line
//! definition costs its code bytes (tens of bytes) rather than a page, and the engine can free a single
//! function (a top-level expression once it has run, a definition once it is replaced).
//!
//! The arena is one shared memory object mapped twice: a read-execute view, where code runs and which
//! every address the engine hands out points into, and a read-write view at a fixed distance, where code
//! is written. No page is ever writable and executable in the same mapping, and no page changes its
//! protection: compiling, finishing and freeing code make no system call (flipping pages cost two
//! `mprotect`s per compile, 11% of a redefinition). Cranelift writes and relocates a function in the write
//! view; that is sound because every relocation kaleido's code has is either absolute to a target outside
//! the arena (the runtime, builtins, slots) or PC-relative between two points of the arena, which the
//! same distance separates in both views (`backend/mod.rs` refuses any other). Freed bytes are filled with
//! `int3`, so a stale pointer traps instead of running garbage. This file holds all of the engine's
//! `unsafe` for memory mappings.

use std::io;
use std::sync::{Arc, Mutex};

// On x86-64 the instruction cache is coherent with stores, so making a page executable is all it takes.
// Other targets (AArch64) need an icache flush and pipeline barrier after writing code, which this arena
// does not do yet; refuse to build rather than run stale instructions.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("kaleido's code arena supports x86-64 only (other targets need icache maintenance)");

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::ModuleResult;

/// How much address space an engine reserves for code by default. Reserving costs nothing until pages
/// are used.
pub(crate) const DEFAULT_CODE_MEMORY: usize = 1 << 30;

/// Every allocation is rounded up to, and aligned to, this many bytes.
const GRANULE: usize = 16;

/// A `(start, length)` range of code memory.
pub(crate) type CodeRange = (usize, usize);

/// One reserved region of code memory, mapped twice (execute view at `base`, write view at `base +
/// write_offset`), handed out in granules.
pub(crate) struct CodeArena {
    base: usize,
    size: usize,
    /// The write view's distance from the execute view (wrapping: it may lie below).
    write_offset: usize,
    /// Everything below `bump` has been handed out at least once.
    bump: usize,
    /// Freed ranges, sorted by address and coalesced.
    free: Vec<CodeRange>,
    /// Bytes currently allocated.
    live: usize,
    /// The ranges written or freed since the last `take_changes`, when an executor in another process
    /// image must be sent them.
    changes: Option<Vec<CodeRange>>,
}

/// The arena, shared by the engine and the providers of its modules.
pub(crate) type SharedArena = Arc<Mutex<CodeArena>>;

impl CodeArena {
    /// Reserves `size` bytes of code memory, mapped for execution and for writing (nothing is committed
    /// until it is written).
    pub(crate) fn new(size: usize) -> io::Result<SharedArena> {
        // SAFETY: a new anonymous memory file owned by this function; its descriptor is closed below once
        // both views map it (the mappings keep the memory alive).
        let fd = unsafe { libc::memfd_create(c"kaleido-code".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let views = map_views(fd, size);
        // SAFETY: `fd` is ours and nothing else uses it; the views hold their own references.
        unsafe { libc::close(fd) };
        let (base, write) = views?;
        let write_offset = write.wrapping_sub(base);
        let arena = CodeArena { base, size, write_offset, bump: 0, free: Vec::new(), live: 0, changes: None };
        Ok(Arc::new(Mutex::new(arena)))
    }

    /// Where the code at execute-view `address` is written.
    fn writable(&self, address: usize) -> usize {
        address.wrapping_add(self.write_offset)
    }

    /// The execute-view address of write-view `address`.
    pub(crate) fn executable(&self, address: usize) -> usize {
        address.wrapping_sub(self.write_offset)
    }

    /// Starts recording what is written and freed (for an executor that does not share this memory).
    pub(crate) fn track_changes(&mut self) {
        self.changes.get_or_insert_with(Vec::new);
    }

    /// The ranges written or freed since the last call (nothing unless tracking).
    pub(crate) fn take_changes(&mut self) -> Vec<CodeRange> {
        self.changes.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Where the arena is (its execute view) and how big it is.
    pub(crate) fn region(&self) -> CodeRange {
        (self.base, self.size)
    }

    /// Everything ever handed out, from the base: what a new executor in another image is sent.
    pub(crate) fn used(&self) -> CodeRange {
        (self.base, self.bump)
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

    /// Allocates `size` bytes aligned to `align`; returns their execute-view address.
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
        self.live += size;
        if let Some(changes) = &mut self.changes {
            changes.push((start, size));
        }
        Ok(start)
    }

    /// Frees `ranges` (execute-view addresses, as allocated). The caller guarantees no code in them runs
    /// again.
    pub(crate) fn free(&mut self, ranges: &[CodeRange]) {
        for &(start, len) in ranges {
            let len = len.max(1).next_multiple_of(GRANULE);
            // SAFETY: the range lies inside the arena (it was allocated by `allocate`), so its write view
            // is mapped read-write; the caller guarantees no code in it runs again.
            unsafe { std::ptr::write_bytes(self.writable(start) as *mut u8, 0xCC, len) };
            self.live -= len.min(self.live);
            if let Some(changes) = &mut self.changes {
                changes.push((start, len));
            }
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
}

impl Drop for CodeArena {
    fn drop(&mut self) {
        // SAFETY: the engine that owns this arena is being dropped, so no code in it runs or is called again.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.size);
            libc::munmap(self.writable(self.base) as *mut libc::c_void, self.size);
        }
    }
}

/// The memory provider of one module: allocates in the shared arena, hands Cranelift the write view, and
/// records what it allocated (execute-view addresses), so the engine can free each function on its own. It
/// frees nothing when dropped: the engine owns the code.
pub(crate) struct ArenaProvider {
    arena: SharedArena,
    allocations: Arc<Mutex<Vec<CodeRange>>>,
}

impl ArenaProvider {
    /// A provider for one module, and the list its allocations will be recorded in.
    pub(crate) fn new(arena: SharedArena, allocations: Arc<Mutex<Vec<CodeRange>>>) -> ArenaProvider {
        ArenaProvider { arena, allocations }
    }
}

impl JITMemoryProvider for ArenaProvider {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        if !matches!(kind, JITMemoryKind::Executable) {
            return Err(io::Error::other("kaleido modules define no data objects"));
        }
        let align = usize::try_from(align).unwrap_or(usize::MAX);
        let mut arena = lock(&self.arena);
        let start = arena.allocate(size, align)?;
        lock(&self.allocations).push((start, size));
        Ok(arena.writable(start) as *mut u8)
    }

    unsafe fn free_memory(&mut self) {
        let ranges: Vec<CodeRange> = lock(&self.allocations).drain(..).collect();
        lock(&self.arena).free(&ranges);
    }

    fn finalize(&mut self, _branch_protection: BranchProtection) -> ModuleResult<()> {
        // The code is executable already, through the other view; x86-64 needs no instruction-cache flush.
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

/// An executor's copy of a controller's arena, in another process image: the same addresses, read-execute,
/// and a write view where the controller's bytes are copied in.
pub(crate) struct ArenaCopy {
    base: usize,
    size: usize,
    write: usize,
}

impl ArenaCopy {
    /// Maps `size` bytes at exactly `base` for execution, and a view to write them; fails if anything is
    /// mapped there already.
    pub(crate) fn map_at(base: usize, size: usize) -> io::Result<ArenaCopy> {
        // SAFETY: a new memory file owned by this function, closed once both views map it.
        let fd = unsafe { libc::memfd_create(c"kaleido-code".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let length = libc::off_t::try_from(size).map_err(io::Error::other);
        let map = |at: usize, protection, flags| {
            // SAFETY: a new shared mapping of the memory file; with `MAP_FIXED_NOREPLACE` it never replaces
            // an existing mapping.
            let got = unsafe { libc::mmap(at as *mut libc::c_void, size, protection, libc::MAP_SHARED | flags, fd, 0) };
            if got == libc::MAP_FAILED { Err(io::Error::last_os_error()) } else { Ok(got as usize) }
        };
        let views = length.and_then(|length| {
            // SAFETY: `fd` is the memory file just made; growing it commits nothing.
            if unsafe { libc::ftruncate(fd, length) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let execute = map(base, libc::PROT_READ | libc::PROT_EXEC, libc::MAP_FIXED_NOREPLACE)?;
            if execute != base {
                return Err(io::Error::from(io::ErrorKind::AddrInUse));
            }
            Ok((execute, map(0, libc::PROT_READ | libc::PROT_WRITE, 0)?))
        });
        // SAFETY: `fd` is ours; the views hold their own references.
        unsafe { libc::close(fd) };
        let (base, write) = views?;
        Ok(ArenaCopy { base, size, write })
    }

    /// Copies `bytes` to `address` (an execute-view address); refuses a range outside the arena.
    pub(crate) fn write(&self, address: usize, bytes: &[u8]) -> io::Result<()> {
        let inside = address >= self.base && address.saturating_add(bytes.len()) <= self.base + self.size;
        if !inside {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        // SAFETY: the range lies inside the write view (checked above), which nothing else writes; the
        // executor writes code only between runs, never into code that runs.
        unsafe {
            let to = (address - self.base + self.write) as *mut u8;
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), to, bytes.len());
        }
        Ok(())
    }
}

/// Maps `size` bytes of `fd` twice: read-execute and read-write. Returns both addresses.
fn map_views(fd: libc::c_int, size: usize) -> io::Result<(usize, usize)> {
    let length = libc::off_t::try_from(size).map_err(io::Error::other)?;
    // SAFETY: `fd` is a memory file this engine just created; growing it commits nothing.
    if unsafe { libc::ftruncate(fd, length) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let map = |protection| {
        // SAFETY: a new shared mapping of the whole file at an address the kernel picks; nothing aliases
        // it except the other view, which is the point.
        let address = unsafe { libc::mmap(std::ptr::null_mut(), size, protection, libc::MAP_SHARED, fd, 0) };
        if address == libc::MAP_FAILED { Err(io::Error::last_os_error()) } else { Ok(address as usize) }
    };
    let execute = map(libc::PROT_READ | libc::PROT_EXEC)?;
    match map(libc::PROT_READ | libc::PROT_WRITE) {
        Ok(write) => Ok((execute, write)),
        Err(error) => {
            // SAFETY: the execute view was mapped just above and nothing uses it yet.
            unsafe { libc::munmap(execute as *mut libc::c_void, size) };
            Err(error)
        }
    }
}

/// Locks a mutex, recovering the data if a panic poisoned it (the arena's state stays consistent: every
/// operation completes its bookkeeping before anything can panic).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
