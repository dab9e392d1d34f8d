//! Fixtures of the storage benchmarks (`benches/store.rs`).

pub mod dataset;
pub mod postgres;
pub mod rows;
pub mod sqlite;
pub mod stats;
