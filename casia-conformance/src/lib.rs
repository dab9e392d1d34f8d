//! Conformance scenarios (CONFORMANCE.md): the file format and a runner that
//! drives [`casia_core::CaseService`] over any store through a
//! [`runner::StoreFactory`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod runner;
pub mod scenario;

pub use runner::{MemoryStoreFactory, ScenarioReport, StoreFactory, Summary, Verdict, run_paths};
pub use scenario::{Scenario, ScenarioError};
