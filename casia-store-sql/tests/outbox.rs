//! The outbox lifecycle (DOMAIN.md §9) of both SQL stores checked step by
//! step against the core's pure functions, by the one shared test of
//! `casia-test-support` that also runs on the memory store.

mod support;

use std::sync::Arc;

use casia_core::ports::FixedClock;
use casia_test_support::outbox::check_lifecycle;
use support::{Target, at, postgres_url, service};

async fn on(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), Arc::clone(&clock));
    check_lifecycle(&svc, &target.store, &clock).await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_outbox_follows_the_core_lifecycle() {
    on(Target::sqlite_file("outbox").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_outbox_follows_the_core_lifecycle() {
    let Some(url) = postgres_url("the_postgres_outbox_follows_the_core_lifecycle") else {
        return;
    };
    on(Target::postgres(&url).await).await;
}
