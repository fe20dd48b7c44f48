//! Tier 0's call boundary: Rust calling kaleido code (through an entry stub) and builtins or C functions
//! (at their addresses, with the C calling convention). The only `unsafe` of tier 0.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The most arguments tier 0 passes a builtin or C function (all in registers on x86-64 and AArch64);
/// code that calls one with more is compiled instead.
pub(crate) const MAX_NATIVE_ARGS: usize = 8;

/// Calls what the slot at `slot` points at now with `args`, through `enter`, the entry stub of
/// `args.len()` parameters.
pub(crate) fn call_slot(enter: usize, slot: usize, args: &[f64]) -> f64 {
    // SAFETY: `slot` is the address of one of the engine's slots, recorded when the code was lowered; slots
    // are atomic words that never move or go away while the engine lives.
    let code = unsafe { &*(slot as *const AtomicUsize) }.load(Ordering::Acquire);
    // SAFETY: `enter` is the entry stub of `args.len()` parameters (`backend/stubs.rs`), compiled with this
    // signature and the host's C calling convention, and never freed; it reads exactly `args.len()` values.
    let enter: extern "C" fn(usize, usize, *const f64) -> f64 = unsafe { std::mem::transmute(enter) };
    enter(slot, code, args.as_ptr())
}

/// Calls the builtin or C function at `address` with `args` (at most [`MAX_NATIVE_ARGS`]), with `state`
/// first when it takes the runtime state.
pub(crate) fn call_native(address: usize, state: Option<usize>, args: &[f64]) -> f64 {
    macro_rules! call {
        ($($arg:ident),*) => {{
            let [$($arg),*] = args else { unreachable!("matched on the length") };
            match state {
                Some(state) => {
                    // SAFETY: `address` is a builtin taking the state first, or a C function, declared with
                    // this many f64 parameters and an f64 result (`extern` checked the arity); builtins are
                    // `extern "C"`.
                    let f: extern "C" fn(usize $(, call!(@f64 $arg))*) -> f64 = unsafe { std::mem::transmute(address) };
                    f(state $(, *$arg)*)
                }
                None => {
                    // SAFETY: as above, without the state.
                    let f: extern "C" fn($(call!(@f64 $arg)),*) -> f64 = unsafe { std::mem::transmute(address) };
                    f($(*$arg),*)
                }
            }
        }};
        (@f64 $arg:ident) => { f64 };
    }
    match args.len() {
        0 => call!(),
        1 => call!(a),
        2 => call!(a, b),
        3 => call!(a, b, c),
        4 => call!(a, b, c, d),
        5 => call!(a, b, c, d, e),
        6 => call!(a, b, c, d, e, f),
        7 => call!(a, b, c, d, e, f, g),
        8 => call!(a, b, c, d, e, f, g, h),
        _ => unreachable!("lowering compiles calls of more than MAX_NATIVE_ARGS arguments"),
    }
}

/// Reads the global whose cell is at `cell`.
pub(crate) fn read_cell(cell: usize) -> f64 {
    // SAFETY: `cell` is the address of one of the engine's global cells, recorded when the code was
    // lowered; cells are 8-byte words that never move or go away while the engine lives.
    f64::from_bits(unsafe { &*(cell as *const AtomicU64) }.load(Ordering::Relaxed))
}

/// Writes `value` to the global whose cell is at `cell`.
pub(crate) fn write_cell(cell: usize, value: f64) {
    // SAFETY: as in `read_cell`.
    unsafe { &*(cell as *const AtomicU64) }.store(value.to_bits(), Ordering::Relaxed);
}
