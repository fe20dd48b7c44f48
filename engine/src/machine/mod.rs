//! Machine memory, the bottom layer: the code arena (`code_memory`: one memory file mapped twice, code
//! allocated and freed per function), stacks of a known size (`stack`: where JIT code runs and where
//! compiles run) and address-stable cells (`cells`). It knows nothing else of the engine.

pub(crate) mod cells;
pub(crate) mod code_memory;
pub(crate) mod process;
pub(crate) mod shared;
pub(crate) mod stack;
pub(crate) mod trampolines;
