//! What every layer above shares: what programs draw (`drawing`), the newtype ids (`ids`), the typed errors (`error` for entries,
//! `request_error` for the other requests), the options an engine is made with (`options`) and the map of
//! JIT code for profilers (`perf_map`), and the wire format between a controller and an executor
//! (`wire`, public as `kaleido_engine::wire`).

pub(crate) mod drawing;
pub(crate) mod error;
pub(crate) mod ids;
pub(crate) mod options;
pub(crate) mod perf_map;
pub(crate) mod request_error;
pub mod wire;
