//! The memory store's outbox follows the lifecycle of `casia_core::outbox`,
//! checked by the shared test the SQL stores run too.

mod support;

use std::sync::Arc;

use casia_core::memory::MemoryStore;
use casia_core::ports::FixedClock;
use casia_test_support::outbox::check_lifecycle;
use support::{at, generous_limits, service_over};

#[test]
fn the_memory_outbox_follows_the_core_lifecycle() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let service = service_over(store.clone(), Arc::clone(&clock), generous_limits());
    futures_executor::block_on(check_lifecycle(&service, store.as_ref(), &clock));
}
