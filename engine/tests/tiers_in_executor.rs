//! The tier tests (`tiers.rs`, `tier_promises.rs`) again, with the code in an executor process: tier-ups,
//! invalidations, retried tier-ups and interrupts of optimized code across the process boundary.

/// Where the code runs in these tests.
const EXECUTOR: kaleido_engine::ExecutorMode = kaleido_engine::ExecutorMode::Process;

#[path = "tiers.rs"]
mod tiers;

// Each file brings its own copy of the shared helpers, as it does when it is a test of its own.
#[allow(clippy::duplicate_mod)]
#[path = "tier_promises.rs"]
mod tier_promises;
