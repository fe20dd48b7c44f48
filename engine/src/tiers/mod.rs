//! Compiling while code runs: the lazy compiler behind the runtime's `LazyHook` (`lazy`), which compiles a
//! deferred definition on its first call, recompiles a hot one with the optimizing tier (inlining small
//! callees), and invalidates optimized callers when a function they inlined changes.

pub(crate) mod lazy;
