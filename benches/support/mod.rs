//! Fixtures of the storage benchmarks (`benches/store.rs`).

pub mod dataset;
pub mod load;
pub mod postgres;
pub mod sqlite;
pub mod stats;
