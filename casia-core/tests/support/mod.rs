//! The core's integration tests run on the shared fixtures
//! (`casia-test-support`) with the small test calendar.
// Each test crate uses a different subset of these fixtures.
#![allow(dead_code, unused_imports)]

use std::sync::Arc;

use casia_core::attachment::AttachmentLimits;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::{CaseRules, CaseService};

pub use casia_test_support::fixtures::*;
pub use casia_test_support::test_calendar::*;

/// The test catalog and calendar with `limits`.
pub fn rules(limits: AttachmentLimits) -> CaseRules {
    rules_with(limits, calendar())
}

pub fn service_over(
    repo: Arc<dyn CaseRepository>,
    clock: Arc<FixedClock>,
    limits: AttachmentLimits,
) -> CaseService {
    service_with(repo, clock, limits, calendar())
}
