//! Real concurrency on both backends (a SQLite file, and PostgreSQL when
//! `CASIA_TEST_POSTGRES_URL` is set): gap-free numbering under 200
//! concurrent submissions, no lost attachment when two users add documents
//! to one case at once, and two parallel sweeps closing each overdue case
//! exactly once (DOMAIN.md §4, §5, §10). Each test drives two store
//! instances, as two service processes would: on SQLite two connections
//! sets on one file, contending through its locks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use casia_core::command::Command;
use casia_core::ids::CaseNumber;
use casia_core::notification::NotificationKind;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::{CaseService, SweepReport};
use casia_store_sql::SqlStore;
use chrono::Duration;

mod support;
use support::{Target, at, inquiry, pdf_attachment, postgres_url, processor, service, user};

fn service_on(store: &SqlStore, clock: &Arc<FixedClock>) -> CaseService {
    service(Arc::new(store.clone()), Arc::clone(clock))
}

// ------------------------------------------------- 200 concurrent submissions

async fn two_hundred_concurrent_submissions_are_numbered_1_to_200(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let instances = [
        service_on(&target.store, &clock),
        service_on(&target.second_instance().await, &clock),
    ];
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let svc = instances[i as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            let actor = user("A1", &format!("u{}", i % 7), "28");
            svc.submit(&actor, &inquiry(&format!("Consulta {i}")))
                .await
                .map(|o| o.case.number)
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.expect("task").expect("submission"));
    }
    let sequences: BTreeSet<u32> = numbers.iter().map(|n| n.sequence()).collect();
    assert_eq!(
        sequences.len(),
        200,
        "[{}] a number was given twice",
        target.label
    );
    assert_eq!(
        sequences,
        (1..=200).collect::<BTreeSet<u32>>(),
        "[{}] numbers are not 1..200",
        target.label
    );
    assert!(numbers.iter().all(|n| n.year() == 2026));
    for n in [1u32, 100, 200] {
        let number = CaseNumber::new(2026, n).expect("number");
        let case = target.store.get(number).await.expect("get").expect("case");
        assert_eq!(case.number, number);
        assert_eq!(case.receipt.body.number, number);
    }
    // One `case_submitted` per case, nothing else.
    let outbox = target.store.outbox_snapshot().await.expect("outbox");
    assert_eq!(outbox.len(), 200);
    let notified: BTreeSet<CaseNumber> =
        outbox.iter().map(|m| m.notification.case_number).collect();
    assert_eq!(notified, numbers.iter().copied().collect());
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_hundred_concurrent_submissions_are_numbered_1_to_200() {
    two_hundred_concurrent_submissions_are_numbered_1_to_200(
        Target::sqlite_file("numbering").await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_hundred_concurrent_submissions_are_numbered_1_to_200() {
    let Some(url) =
        postgres_url("postgres_two_hundred_concurrent_submissions_are_numbered_1_to_200")
    else {
        return;
    };
    two_hundred_concurrent_submissions_are_numbered_1_to_200(Target::postgres(&url).await).await;
}

// ------------------------------------- two users, 50 documents each, one case

async fn two_users_adding_documents_concurrently_lose_none(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service_on(&target.store, &clock);
    let first = user("A1", "ana", "28");
    let number = svc
        .submit(&first, &inquiry("Documentación por partes"))
        .await
        .expect("submit")
        .case
        .number;
    let other = service_on(&target.second_instance().await, &clock);
    let mut tasks = Vec::new();
    for (who, base, svc) in [("ana", 1_000u64, svc.clone()), ("bea", 2_000u64, other)] {
        tasks.push(tokio::spawn(async move {
            let actor = user("A1", who, "28");
            for i in 0..50u64 {
                let command = Command::AddDocumentation {
                    comment: None,
                    attachments: vec![pdf_attachment("other", &format!("{who} {i}"), base + i)],
                };
                svc.execute(&actor, number, &command)
                    .await
                    .unwrap_or_else(|e| panic!("{who} {i}: {e}"));
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let case = target.store.get(number).await.expect("get").expect("case");
    assert_eq!(
        case.attachments.len(),
        100,
        "[{}] lost attachments",
        target.label
    );
    let ids: BTreeSet<u32> = case.attachments.iter().map(|a| a.id).collect();
    assert_eq!(ids, (1..=100).collect::<BTreeSet<u32>>());
    let titles: BTreeSet<String> = case
        .attachments
        .iter()
        .map(|a| a.title.as_str().to_owned())
        .collect();
    assert_eq!(titles.len(), 100);
    // 1 submission + 100 additions, version grows by one per write.
    assert_eq!(case.history.len(), 101);
    assert_eq!(case.version, 101);
    for a in &case.attachments {
        let bytes = target
            .store
            .attachment_content(number, a.id)
            .await
            .expect("content")
            .expect("bytes stored");
        assert_eq!(bytes.len() as u64, a.size);
        assert_eq!(casia_core::attachment::sha256_hex(&bytes), a.sha256);
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_users_adding_documents_concurrently_lose_none() {
    two_users_adding_documents_concurrently_lose_none(Target::sqlite_file("documents").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_users_adding_documents_concurrently_lose_none() {
    let Some(url) = postgres_url("postgres_two_users_adding_documents_concurrently_lose_none")
    else {
        return;
    };
    two_users_adding_documents_concurrently_lose_none(Target::postgres(&url).await).await;
}

// ------------------------------------------ two sweeps over 1,000 overdue cases

const OVERDUE: usize = 1000;

/// Submits `OVERDUE` cases and asks for information on each (a processor
/// assigns, then requests), several writers at a time.
async fn prepare_overdue_cases(svc: &CaseService) -> Vec<CaseNumber> {
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let author = user("A1", &format!("u{worker}"), "28");
            let clerk = processor(&format!("p{worker}"), "28");
            let mut mine = Vec::new();
            for i in (worker..OVERDUE).step_by(8) {
                let number = svc
                    .submit(&author, &inquiry(&format!("Caso {i}")))
                    .await
                    .expect("submit")
                    .case
                    .number;
                svc.execute(&clerk, number, &Command::Assign { processor: None })
                    .await
                    .expect("assign");
                svc.execute(
                    &clerk,
                    number,
                    &Command::RequestInformation {
                        observation: "Aporte el documento".into(),
                    },
                )
                .await
                .expect("request information");
                mine.push(number);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    all
}

async fn two_parallel_sweeps_close_each_overdue_case_once(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service_on(&target.store, &clock);
    let numbers = prepare_overdue_cases(&svc).await;
    assert_eq!(numbers.len(), OVERDUE);
    // Well past every 20-calendar-day deadline.
    clock.set(at("2026-11-05T09:00:00Z") + Duration::days(60));
    let one = service_on(&target.store, &clock);
    let two = service_on(&target.second_instance().await, &clock);
    let (a, b) = tokio::join!(
        tokio::spawn(async move { one.sweep().await }),
        tokio::spawn(async move { two.sweep().await })
    );
    let a: SweepReport = a.expect("task").expect("sweep one");
    let b: SweepReport = b.expect("task").expect("sweep two");
    eprintln!(
        "[{}] sweep one closed {}, sweep two closed {}",
        target.label,
        a.closed.len(),
        b.closed.len()
    );
    let mut times_closed: BTreeMap<CaseNumber, usize> = BTreeMap::new();
    for n in a.closed.iter().chain(&b.closed) {
        *times_closed.entry(*n).or_default() += 1;
    }
    assert_eq!(
        times_closed.len(),
        OVERDUE,
        "[{}] a case was not closed",
        target.label
    );
    assert!(
        times_closed.values().all(|&k| k == 1),
        "[{}] a case was closed twice",
        target.label
    );
    assert!(a.reminded.is_empty() && b.reminded.is_empty());
    let outbox = target.store.outbox_snapshot().await.expect("outbox");
    let mut closures: BTreeMap<CaseNumber, usize> = BTreeMap::new();
    for m in &outbox {
        if m.notification.kind == NotificationKind::CaseClosedExOfficio {
            *closures.entry(m.notification.case_number).or_default() += 1;
        }
    }
    assert_eq!(closures.len(), OVERDUE);
    assert!(
        closures.values().all(|&k| k == 1),
        "[{}] a closure was notified twice",
        target.label
    );
    // And the store agrees: nothing is left waiting.
    assert!(
        target
            .store
            .awaiting_information()
            .await
            .expect("awaiting")
            .is_empty()
    );
    let counts = target.store.count_by_state().await.expect("counts");
    let closed_ex_officio = counts
        .iter()
        .find(|(s, _)| s.substatus_code() == "closed_ex_officio")
        .map(|(_, n)| *n);
    assert_eq!(closed_ex_officio, Some(OVERDUE as u64));
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_parallel_sweeps_close_each_overdue_case_once() {
    two_parallel_sweeps_close_each_overdue_case_once(Target::sqlite_file("sweep").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_parallel_sweeps_close_each_overdue_case_once() {
    let Some(url) = postgres_url("postgres_two_parallel_sweeps_close_each_overdue_case_once")
    else {
        return;
    };
    two_parallel_sweeps_close_each_overdue_case_once(Target::postgres(&url).await).await;
}

// ------------------------------------- group commit: each write settles alone

/// Many commands at once share commits (issue 15), and each still settles
/// on its own (DOMAIN.md §10): of two changes decided on the same version
/// of a case exactly one is written and the other is a `VersionConflict`;
/// a change of a case that is not there is `Corrupt`; every other change
/// lands with its history and notification, and the loser leaves nothing.
async fn writes_queued_together_settle_each_alone(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service_on(&target.store, &clock);
    let author = user("A1", "u1", "28");
    let mut cases = Vec::new();
    for i in 0..40 {
        cases.push(
            svc.submit(&author, &inquiry(&format!("Caso {i}")))
                .await
                .expect("submit")
                .case,
        );
    }
    let rules = support::rules(casia_test_support::fixtures::generous_limits());
    let now = at("2026-11-05T10:00:00Z");
    let assign = |case: &casia_core::Case, clerk: &str| {
        casia_core::command::decide(
            case,
            &processor(clerk, "28"),
            &Command::Assign { processor: None },
            &rules,
            now,
        )
        .expect("decide")
    };
    // Two changes per case for the first ten (P1 and P2 race), one for the
    // rest, and one of a case that does not exist.
    let mut changes = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        changes.push((case.number, "p1", assign(case, "p1")));
        if i < 10 {
            changes.push((case.number, "p2", assign(case, "p2")));
        }
    }
    let mut ghost = assign(&cases[0], "p3");
    ghost.case.number = CaseNumber::new(2026, 999_999).expect("number");
    let store: Arc<dyn CaseRepository> = Arc::new(target.store.clone());
    let ghost_task = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.update(&ghost).await })
    };
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|(number, clerk, change)| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { (number, clerk, store.update(&change).await) })
        })
        .collect();
    let mut winners: BTreeMap<CaseNumber, Vec<&str>> = BTreeMap::new();
    let mut conflicts = 0;
    for t in tasks {
        let (number, clerk, result) = t.await.expect("task");
        match result {
            Ok(()) => winners.entry(number).or_default().push(clerk),
            Err(casia_core::StoreError::VersionConflict) => conflicts += 1,
            Err(e) => panic!("{number} by {clerk}: {e}"),
        }
    }
    assert!(matches!(
        ghost_task.await.expect("task"),
        Err(casia_core::StoreError::Corrupt { .. })
    ));
    assert_eq!(conflicts, 10, "one loser per raced case");
    assert_eq!(winners.len(), 40);
    for (number, who) in &winners {
        assert_eq!(who.len(), 1, "{number}: {who:?}");
        let stored = store.get(*number).await.expect("get").expect("case");
        assert_eq!(stored.version, 2, "{number}");
        assert_eq!(
            stored.history.len(),
            2,
            "{number}: the loser wrote no entry"
        );
        assert_eq!(
            stored.assignee.as_ref().map(|p| p.as_str()),
            Some(who[0]),
            "{number}: the stored change is the winner's"
        );
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writes_queued_together_settle_each_alone() {
    writes_queued_together_settle_each_alone(Target::sqlite_file("batched").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_writes_queued_together_settle_each_alone() {
    let Some(url) = postgres_url("postgres_writes_queued_together_settle_each_alone") else {
        return;
    };
    writes_queued_together_settle_each_alone(Target::postgres(&url).await).await;
}

// ------------------------------------------------- idempotency keys (issue 16)

/// Fifty attempts with one key at once, on two instances: exactly one
/// reserves it; once its case is written the others get that case; a
/// different submission with the key is a mismatch; after 24 h the sweep
/// forgets it.
async fn one_key_reserved_once_under_concurrency(target: Target) {
    use casia_core::idempotency::{IdempotencyClaim, IdempotencyKey, Reservation};
    use casia_core::submission::validate_submission;

    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let now = at("2026-11-05T09:00:00Z");
    let stores: [Arc<dyn CaseRepository>; 2] = [
        Arc::new(target.store.clone()),
        Arc::new(target.second_instance().await),
    ];
    let author = user("A1", "u1", "28");
    let input = inquiry("Con clave");
    let claim = IdempotencyClaim {
        authorization: casia_core::AuthorizationId::parse("A1").expect("id"),
        user: casia_core::UserId::parse("u1").expect("id"),
        key: IdempotencyKey::parse("storm-1").expect("key"),
        fingerprint: casia_core::idempotency::fingerprint(&input),
    };
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let claim = claim.clone();
            tokio::spawn(async move { store.reserve_idempotency_key(&claim, now).await })
        })
        .collect();
    let mut reserved = 0;
    for t in tasks {
        match t.await.expect("task").expect("reserve") {
            Reservation::Reserved => reserved += 1,
            Reservation::InFlight => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reserved, 1);
    let rules = support::rules(casia_test_support::fixtures::generous_limits());
    let draft = validate_submission(&author, &input, &rules, now).expect("valid");
    let created = stores[0]
        .create(&draft.with_idempotency(claim.clone()))
        .await
        .expect("create");
    let number = created.case.number;
    for store in &stores {
        assert_eq!(
            store
                .reserve_idempotency_key(&claim, now)
                .await
                .expect("again"),
            Reservation::Completed(number)
        );
    }
    let other = IdempotencyClaim {
        fingerprint: "0".repeat(64),
        ..claim.clone()
    };
    assert_eq!(
        stores[1]
            .reserve_idempotency_key(&other, now)
            .await
            .expect("other"),
        Reservation::Mismatch
    );
    // Releasing a completed key changes nothing.
    stores[1]
        .release_idempotency_key(&claim)
        .await
        .expect("release");
    assert_eq!(
        stores[0]
            .reserve_idempotency_key(&claim, now)
            .await
            .expect("kept"),
        Reservation::Completed(number)
    );
    // A day later the sweep forgets it, and the key is new.
    let day = now + casia_core::idempotency::KEY_TTL;
    clock.set(day);
    let svc = service_on(&target.store, &clock);
    let report = svc.sweep().await.expect("sweep");
    assert_eq!(report.purged_keys, 1);
    assert_eq!(
        stores[1]
            .reserve_idempotency_key(&other, day)
            .await
            .expect("new"),
        Reservation::Reserved
    );
    // A reservation whose request died is taken over after its lease.
    let later = day + casia_core::idempotency::RESERVATION_LEASE;
    assert_eq!(
        stores[0]
            .reserve_idempotency_key(&claim, later)
            .await
            .expect("take over"),
        Reservation::Reserved
    );
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_key_reserved_once_under_concurrency() {
    one_key_reserved_once_under_concurrency(Target::sqlite_file("keys").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_key_reserved_once_under_concurrency() {
    let Some(url) = postgres_url("postgres_one_key_reserved_once_under_concurrency") else {
        return;
    };
    one_key_reserved_once_under_concurrency(Target::postgres(&url).await).await;
}
