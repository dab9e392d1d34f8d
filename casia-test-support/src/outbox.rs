//! One test of the outbox lifecycle (DOMAIN.md §9) for every store: the
//! memory store applies the core's pure functions
//! ([`casia_core::outbox::OutboxMessage::claim`], `deliver`, `fail`,
//! `retry`); the SQL stores implement the same in SQL. This drives a store
//! through claims, leases, failures with and without a retry, deliveries
//! (of a dead message too), operator retries and unknown ids, and after
//! every step compares what the store lists with the pure functions applied
//! to a model.

use casia_core::CaseService;
use casia_core::ports::{DeliveryFailure, DeliveryState, FixedClock, Outbox, OutboxMessage};
use chrono::{DateTime, TimeDelta, Utc};

use crate::fixtures::{at, inquiry, user};

/// The model: the messages as the pure functions leave them.
struct Model {
    messages: Vec<OutboxMessage>,
}

impl Model {
    fn get(&mut self, id: u64) -> Option<&mut OutboxMessage> {
        self.messages.iter_mut().find(|m| m.id == id)
    }

    fn claim(&mut self, now: DateTime<Utc>, limit: usize, lease: TimeDelta) -> Vec<u64> {
        let mut claimed = Vec::new();
        for m in &mut self.messages {
            if claimed.len() == limit {
                break;
            }
            if m.claim(now, lease) {
                claimed.push(m.id);
            }
        }
        claimed
    }

    fn listed(&self, state: DeliveryState) -> Vec<OutboxMessage> {
        self.messages
            .iter()
            .filter(|m| m.state == state)
            .cloned()
            .collect()
    }
}

async fn same(step: &str, outbox: &dyn Outbox, model: &Model) {
    let pending = outbox.pending(1000).await.expect("pending");
    assert_eq!(
        pending,
        model.listed(DeliveryState::Pending),
        "{step}: pending"
    );
    let dead = outbox.list_dead(1000).await.expect("dead");
    assert_eq!(dead, model.listed(DeliveryState::Dead), "{step}: dead");
    let count = |s| model.messages.iter().filter(|m| m.state == s).count() as u64;
    assert_eq!(
        outbox.backlog().await.expect("backlog"),
        count(DeliveryState::Pending),
        "{step}: backlog"
    );
    assert_eq!(
        outbox.dead_count().await.expect("dead count"),
        count(DeliveryState::Dead),
        "{step}: dead count"
    );
}

/// Claims on the store and on the model; both must take the same messages.
async fn claim_both(
    step: &str,
    outbox: &dyn Outbox,
    model: &mut Model,
    now: DateTime<Utc>,
    limit: usize,
    lease: TimeDelta,
) {
    let got: Vec<u64> = outbox
        .claim_due(now, limit, lease)
        .await
        .expect("claim")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(got, model.claim(now, limit, lease), "{step}");
    same(step, outbox, model).await;
}

fn failure(retry_at: Option<DateTime<Utc>>, error: &str) -> DeliveryFailure {
    DeliveryFailure {
        recipient: Some("gestoria@example.es".into()),
        error: error.into(),
        retry_at,
    }
}

/// Drives `outbox` (an empty store behind `service`, whose clock is
/// `clock`) through the lifecycle and checks it step by step against the
/// pure functions. Panics, naming the step, on the first difference.
pub async fn check_lifecycle(service: &CaseService, outbox: &dyn Outbox, clock: &FixedClock) {
    let t0 = at("2026-11-05T09:00:00Z");
    clock.set(t0);
    let a1 = user("A1", "u1", "28");
    for i in 0..4 {
        service
            .submit(&a1, &inquiry(&format!("Consulta {i}")))
            .await
            .expect("submit");
    }
    // The case writes left four pending messages, due now, never tried.
    let written = outbox.pending(1000).await.expect("pending");
    assert_eq!(written.len(), 4, "four case_submitted notifications");
    let mut model = Model {
        messages: written
            .iter()
            .map(|m| OutboxMessage::new(m.id, m.notification.clone()))
            .collect(),
    };
    same("written", outbox, &model).await;
    let ids: Vec<u64> = model.messages.iter().map(|m| m.id).collect();
    let lease = TimeDelta::minutes(10);

    // Claims: oldest first, up to the limit, each an attempt, held.
    for (step, limit) in [("claim 2", 2), ("claim the rest", 10), ("claim none", 10)] {
        claim_both(step, outbox, &mut model, t0, limit, lease).await;
    }

    // A failure with a retry, one without (dead), a delivery, a failure
    // reported after the delivery (ignored), unknown ids (no error).
    let later = t0 + TimeDelta::minutes(5);
    let steps: [(&str, u64, Option<DeliveryFailure>); 4] = [
        (
            "fail, retry later",
            ids[0],
            Some(failure(Some(later), "421 try later")),
        ),
        (
            "fail for good",
            ids[1],
            Some(failure(None, "550 no such user")),
        ),
        ("deliver", ids[2], None),
        (
            "fail after delivery",
            ids[2],
            Some(failure(Some(later), "late")),
        ),
    ];
    for (step, id, outcome) in steps {
        match &outcome {
            Some(f) => {
                outbox.record_failure(id, f).await.expect("record failure");
                if let Some(m) = model.get(id) {
                    m.fail(f);
                }
            }
            None => {
                outbox
                    .mark_delivered(id, "gestoria@example.es", t0)
                    .await
                    .expect("deliver");
                if let Some(m) = model.get(id) {
                    m.deliver("gestoria@example.es", t0);
                }
            }
        }
        same(step, outbox, &model).await;
    }
    outbox
        .mark_delivered(u64::MAX / 2, "x@example.es", t0)
        .await
        .expect("unknown id delivered: no error");
    outbox
        .record_failure(u64::MAX / 2, &failure(None, "x"))
        .await
        .expect("unknown id failed: no error");
    same("unknown ids", outbox, &model).await;

    // The backoff ends: the first is due again; the fourth is still held.
    claim_both(
        "claim after the backoff",
        outbox,
        &mut model,
        later,
        10,
        lease,
    )
    .await;
    // The lease ends (the relay died mid-send): claimable again, a second
    // attempt counted.
    let after_lease = t0 + lease + TimeDelta::seconds(1);
    claim_both(
        "claim after the lease",
        outbox,
        &mut model,
        after_lease,
        10,
        lease,
    )
    .await;

    // An operator retries the dead one (attempts reset); retrying a pending
    // or unknown one does nothing.
    for (step, id) in [
        ("retry dead", ids[1]),
        ("retry pending", ids[0]),
        ("retry unknown", u64::MAX / 2),
    ] {
        let done = outbox.retry(id, after_lease).await.expect("retry");
        let expected = model.get(id).is_some_and(|m| m.retry(after_lease));
        assert_eq!(done, expected, "{step}");
        same(step, outbox, &model).await;
    }

    // A dead message whose uncertain send did arrive settles as delivered.
    let dead = failure(None, "timeout after DATA");
    outbox.record_failure(ids[3], &dead).await.expect("fail");
    if let Some(m) = model.get(ids[3]) {
        m.fail(&dead);
    }
    same("the fourth dies", outbox, &model).await;
    outbox
        .mark_delivered(ids[3], "gestoria@example.es", after_lease)
        .await
        .expect("deliver");
    if let Some(m) = model.get(ids[3]) {
        m.deliver("gestoria@example.es", after_lease);
    }
    same("a dead one delivered after all", outbox, &model).await;
}
