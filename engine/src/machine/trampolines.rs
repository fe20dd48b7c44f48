//! Jumps at another process's function addresses, for an executor in another process image.
//!
//! Code compiled by a controller calls the runtime's hooks, its builtins, libcalls and C functions at the
//! controller's addresses. An executor started as a command (not forked) has the same functions elsewhere:
//! at each controller address it places `movabs rax, TARGET; jmp rax` to its own function of the same name,
//! in pages it maps there (refusing an address where it has something already). `rax` is free at a call's
//! entry in the System V ABI. Functions are at least 16 bytes apart, so the 12-byte jumps never overlap.

use std::collections::BTreeSet;
use std::io;

const PAGE: usize = 4096;
/// Bytes of one jump.
const JUMP: usize = 12;

/// The pages of jumps placed so far.
#[derive(Default)]
pub(crate) struct Trampolines {
    pages: BTreeSet<usize>,
}

impl Trampolines {
    /// Places a jump at `at` to `target`.
    pub(crate) fn place(&mut self, at: usize, target: usize) -> io::Result<()> {
        let first = at & !(PAGE - 1);
        let last = (at + JUMP - 1) & !(PAGE - 1);
        for page in [first, last] {
            if !self.pages.contains(&page) {
                map_page(page)?;
                self.pages.insert(page);
            }
        }
        let mut jump = [0u8; JUMP];
        jump[..2].copy_from_slice(&[0x48, 0xB8]);
        jump[2..10].copy_from_slice(&(target as u64).to_le_bytes());
        jump[10..].copy_from_slice(&[0xFF, 0xE0]);
        protect(first, last, libc::PROT_READ | libc::PROT_WRITE)?;
        // SAFETY: `at..at + JUMP` lies in the pages mapped above, now writable; no code runs while an
        // executor places jumps (it does so between runs).
        unsafe { std::ptr::copy_nonoverlapping(jump.as_ptr(), at as *mut u8, JUMP) };
        protect(first, last, libc::PROT_READ | libc::PROT_EXEC)
    }
}

fn map_page(page: usize) -> io::Result<()> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE;
    // SAFETY: `MAP_FIXED_NOREPLACE` maps the page only if nothing is there, so no mapping is replaced.
    let got = unsafe { libc::mmap(page as *mut libc::c_void, PAGE, libc::PROT_READ, flags, -1, 0) };
    if got == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    if got as usize != page {
        // SAFETY: the mapping was just made at another address, and nothing uses it.
        unsafe { libc::munmap(got, PAGE) };
        return Err(io::Error::from(io::ErrorKind::AddrInUse));
    }
    Ok(())
}

fn protect(first: usize, last: usize, protection: i32) -> io::Result<()> {
    // SAFETY: the pages from `first` to `last` were mapped by `map_page`, and hold only jumps.
    if unsafe { libc::mprotect(first as *mut libc::c_void, last + PAGE - first, protection) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
