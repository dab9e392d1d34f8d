//! What the SQL stores guarantee beyond the scenarios, on a SQLite file and
//! on PostgreSQL when `CASIA_TEST_POSTGRES_URL` is set: a writer aborted
//! mid-transaction leaves nothing behind and costs no case number; a row
//! the code cannot understand is `StoreError::Corrupt` naming its case; the
//! outbox, contact and content ports; migrations are idempotent; bad URLs
//! are typed errors.

use bytes::Bytes;
use std::sync::Arc;

use casia_core::ports::{
    AttachmentContentStore, CaseRepository, ContactDirectory, DeliveryFailure, DeliveryState,
    FixedClock, Outbox,
};
use casia_core::search::SearchInput;
use casia_core::{AuthorizationId, CaseNumber, ServiceError, StoreError};
use casia_store_sql::sqlx;
use casia_store_sql::{Backend, SqlOptions, SqlStore};
use chrono::TimeDelta;

mod support;
use support::{Target, at, inquiry, nss_inquiry, postgres_url, service, user};

fn number(seq: u32) -> CaseNumber {
    CaseNumber::new(2026, seq).expect("number")
}

/// Runs one statement by hand, with text parameters.
async fn raw_exec(store: &SqlStore, statement: &'static str, args: &[&str]) -> u64 {
    match store.backend() {
        Backend::Sqlite => {
            let mut q = sqlx::query(statement);
            for a in args {
                q = q.bind(a.to_string());
            }
            q.execute(store.sqlite_pool().expect("sqlite pool"))
                .await
                .expect(statement)
                .rows_affected()
        }
        Backend::Postgres => {
            let mut q = sqlx::query(statement);
            for a in args {
                q = q.bind(a.to_string());
            }
            q.execute(store.postgres_pool().expect("postgres pool"))
                .await
                .expect(statement)
                .rows_affected()
        }
    }
}

/// `SELECT COUNT(*) …` by hand, with text parameters.
async fn raw_count(store: &SqlStore, statement: &'static str, args: &[&str]) -> i64 {
    match store.backend() {
        Backend::Sqlite => {
            let mut q = sqlx::query_scalar::<_, i64>(statement);
            for a in args {
                q = q.bind(a.to_string());
            }
            q.fetch_one(store.sqlite_pool().expect("sqlite pool"))
                .await
                .expect(statement)
        }
        Backend::Postgres => {
            let mut q = sqlx::query_scalar::<_, i64>(statement);
            for a in args {
                q = q.bind(a.to_string());
            }
            q.fetch_one(store.postgres_pool().expect("postgres pool"))
                .await
                .expect(statement)
        }
    }
}

/// The rows a case owns in every table, and the year's counter.
async fn footprint(store: &SqlStore, case: &str) -> [i64; 6] {
    [
        raw_count(
            store,
            "SELECT COUNT(*) FROM cases WHERE number = $1",
            &[case],
        )
        .await,
        raw_count(
            store,
            "SELECT COUNT(*) FROM history WHERE case_number = $1",
            &[case],
        )
        .await,
        raw_count(
            store,
            "SELECT COUNT(*) FROM attachments WHERE case_number = $1",
            &[case],
        )
        .await,
        raw_count(
            store,
            "SELECT COUNT(*) FROM attachment_contents WHERE case_number = $1",
            &[case],
        )
        .await,
        raw_count(
            store,
            "SELECT COUNT(*) FROM outbox WHERE case_number = $1",
            &[case],
        )
        .await,
        raw_count(
            store,
            "SELECT COALESCE(MAX(last_sequence), 0) FROM counters WHERE year = 2026",
            &[],
        )
        .await,
    ]
}

/// A partial copy of case 1 as case 2: what a writer had done when it died.
const PARTIAL_WRITE: [&str; 6] = [
    "UPDATE counters SET last_sequence = last_sequence + 1 WHERE year = 2026",
    "INSERT INTO cases (number, case_type, materia, category, subcategory, substatus, office, \
     assignee, authorization_id, submitted_by, province, affects_current_period, title, \
     description, complementary_data, deadline, reminder_sent, submitted_at, closed_at, \
     resolution, receipt, verification_code, version) \
     SELECT '2026-00000002', case_type, materia, category, subcategory, substatus, office, \
     assignee, authorization_id, submitted_by, province, affects_current_period, title, \
     description, complementary_data, deadline, reminder_sent, submitted_at, closed_at, \
     resolution, receipt, 'PARTIAL', version FROM cases WHERE number = '2026-00000001'",
    "INSERT INTO history (case_number, seq, at, event, substatus, actor_role, actor_id, \
     observation, visibility) SELECT '2026-00000002', seq, at, event, substatus, actor_role, \
     actor_id, observation, visibility FROM history WHERE case_number = '2026-00000001'",
    "INSERT INTO attachments (case_number, id, document_type, title, file_name, media_type, \
     size, sha256, added_at, added_by_role, added_by_id) SELECT '2026-00000002', id, \
     document_type, title, file_name, media_type, size, sha256, added_at, added_by_role, \
     added_by_id FROM attachments WHERE case_number = '2026-00000001'",
    "INSERT INTO attachment_contents (case_number, attachment_id, content) \
     SELECT '2026-00000002', attachment_id, content FROM attachment_contents \
     WHERE case_number = '2026-00000001'",
    "INSERT INTO outbox (kind, case_number, authorization_id, at, deadline, message_text, \
     delivered, attempts) SELECT kind, '2026-00000002', authorization_id, at, deadline, \
     message_text, delivered, attempts FROM outbox WHERE case_number = '2026-00000001'",
];

/// Starts a write transaction by hand, writes [`PARTIAL_WRITE`], reports
/// how many cases it sees, then hangs until its task is aborted.
async fn die_mid_transaction(store: SqlStore, written: tokio::sync::oneshot::Sender<i64>) {
    const SEEN: &str = "SELECT COUNT(*) FROM cases";
    match store.backend() {
        Backend::Sqlite => {
            let pool = store.sqlite_pool().expect("pool");
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
            for s in PARTIAL_WRITE {
                sqlx::query(s).execute(&mut *tx).await.expect(s);
            }
            let seen: i64 = sqlx::query_scalar(SEEN)
                .fetch_one(&mut *tx)
                .await
                .expect("count");
            let _ = written.send(seen);
            std::future::pending::<()>().await;
        }
        Backend::Postgres => {
            let pool = store.postgres_pool().expect("pool");
            let mut tx = pool.begin().await.expect("begin");
            for s in PARTIAL_WRITE {
                sqlx::query(s).execute(&mut *tx).await.expect(s);
            }
            let seen: i64 = sqlx::query_scalar(SEEN)
                .fetch_one(&mut *tx)
                .await
                .expect("count");
            let _ = written.send(seen);
            std::future::pending::<()>().await;
        }
    }
}

async fn an_aborted_writer_leaves_nothing_and_costs_no_number(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), clock);
    let ana = user("A1", "ana", "28");
    let first = svc
        .submit(&ana, &nss_inquiry("Primero", 1))
        .await
        .expect("submit");
    assert_eq!(first.case.number, number(1));
    assert_eq!(
        footprint(&target.store, "2026-00000001").await,
        [1, 1, 1, 1, 1, 1]
    );

    // A writer dies after writing every kind of row, before COMMIT.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let writer = tokio::spawn(die_mid_transaction(target.store.clone(), tx));
    let seen = rx.await.expect("the writer got through its statements");
    assert_eq!(seen, 2, "the dying writer saw its own partial case");
    writer.abort();
    assert!(writer.await.expect_err("aborted").is_cancelled());

    assert_eq!(
        footprint(&target.store, "2026-00000002").await,
        [0, 0, 0, 0, 0, 1],
        "[{}] partial rows survived",
        target.label
    );
    // Seen afresh, as a restarted process would.
    let reopened = target.second_instance().await;
    assert_eq!(
        CaseRepository::get(&reopened, number(2))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        footprint(&reopened, "2026-00000002").await,
        [0, 0, 0, 0, 0, 1]
    );

    // The next command works and takes the next number, no gap.
    let second = svc
        .submit(&ana, &nss_inquiry("Segundo", 2))
        .await
        .expect("submit");
    assert_eq!(second.case.number, number(2));
    assert_eq!(
        footprint(&target.store, "2026-00000002").await,
        [1, 1, 1, 1, 1, 2]
    );
    assert_eq!(
        CaseRepository::get(&target.store, number(2))
            .await
            .expect("get")
            .expect("case"),
        second.case
    );

    // A create that fails half-way (its attachment's bytes collide with a
    // row already there) rolls back whole, number included.
    target
        .store
        .put(number(3), 1, Bytes::from(b"blocker".to_vec()))
        .await
        .expect("put");
    let failed = svc.submit(&ana, &nss_inquiry("Tercero", 3)).await;
    assert!(
        matches!(failed, Err(ServiceError::Store(StoreError::Backend { .. }))),
        "{failed:?}"
    );
    assert_eq!(
        footprint(&target.store, "2026-00000003").await,
        [0, 0, 0, 1, 0, 2]
    );
    raw_exec(
        &target.store,
        "DELETE FROM attachment_contents WHERE case_number = $1",
        &["2026-00000003"],
    )
    .await;
    let third = svc
        .submit(&ana, &nss_inquiry("Tercero", 3))
        .await
        .expect("submit");
    assert_eq!(third.case.number, number(3));
    assert_eq!(
        footprint(&target.store, "2026-00000003").await,
        [1, 1, 1, 1, 1, 3]
    );
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_aborted_writer_leaves_nothing_and_costs_no_number() {
    an_aborted_writer_leaves_nothing_and_costs_no_number(Target::sqlite_file("crash").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_aborted_writer_leaves_nothing_and_costs_no_number() {
    let Some(url) = postgres_url("postgres_an_aborted_writer_leaves_nothing_and_costs_no_number")
    else {
        return;
    };
    an_aborted_writer_leaves_nothing_and_costs_no_number(Target::postgres(&url).await).await;
}

// ------------------------------------------------------------ group commit

/// Drafts queued together are written in one transaction; a draft that
/// cannot be written (here: its year has run out of numbers) fails alone,
/// and every other one is written with gap-free numbers (DOMAIN.md §4).
async fn a_submission_that_cannot_be_written_fails_alone(target: Target) {
    // 2027 has one number left.
    raw_exec(
        &target.store,
        "INSERT INTO counters (year, last_sequence) VALUES (2027, 99999998)",
        &[],
    )
    .await;
    let repo: Arc<dyn CaseRepository> = Arc::new(target.store.clone());
    let this_year = service(
        Arc::clone(&repo),
        Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z"))),
    );
    let next_year = service(
        Arc::clone(&repo),
        Arc::new(FixedClock::new(at("2027-01-04T09:00:00Z"))),
    );
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let svc = if i % 2 == 0 {
            this_year.clone()
        } else {
            next_year.clone()
        };
        tasks.push(tokio::spawn(async move {
            svc.submit(&user("A1", "ana", "28"), &inquiry(&format!("Consulta {i}")))
                .await
                .map(|o| o.case.number)
        }));
    }
    let mut written = std::collections::BTreeSet::new();
    let mut exhausted = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(n) => assert!(written.insert(n), "[{}] {n} given twice", target.label),
            Err(ServiceError::Store(StoreError::Backend { message: m, .. }))
                if m.contains("exhausted") =>
            {
                exhausted += 1;
            }
            Err(e) => panic!("[{}] unexpected error: {e}", target.label),
        }
    }
    let mut expected: std::collections::BTreeSet<CaseNumber> = (1..=20).map(number).collect();
    expected.insert(CaseNumber::new(2027, CaseNumber::MAX_SEQUENCE).expect("number"));
    assert_eq!(written, expected, "[{}]", target.label);
    assert_eq!(exhausted, 19, "[{}]", target.label);
    assert_eq!(
        raw_count(&target.store, "SELECT COUNT(*) FROM cases", &[]).await,
        21
    );
    assert_eq!(
        raw_count(&target.store, "SELECT COUNT(*) FROM history", &[]).await,
        21
    );
    assert_eq!(
        raw_count(&target.store, "SELECT COUNT(*) FROM outbox", &[]).await,
        21
    );
    assert_eq!(
        raw_count(
            &target.store,
            "SELECT last_sequence FROM counters WHERE year = 2026",
            &[]
        )
        .await,
        20
    );
    for n in &written {
        let case = CaseRepository::get(&target.store, *n)
            .await
            .expect("get")
            .expect("case");
        assert_eq!(case.receipt.body.number, *n);
        assert_eq!(case.history.len(), 1);
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_submission_that_cannot_be_written_fails_alone() {
    a_submission_that_cannot_be_written_fails_alone(Target::sqlite_file("batch").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_submission_that_cannot_be_written_fails_alone() {
    let Some(url) = postgres_url("postgres_a_submission_that_cannot_be_written_fails_alone") else {
        return;
    };
    a_submission_that_cannot_be_written_fails_alone(Target::postgres(&url).await).await;
}

// ------------------------------------------------------------- update_many

/// `update_many` writes each change whose version still matches, with its
/// history and notifications, and nothing of a stale one (DOMAIN.md §10).
async fn update_many_writes_current_changes_and_nothing_of_stale_ones(target: Target) {
    use casia_core::command::{Command, decide};
    use casia_core::ports::Clock;
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), Arc::clone(&clock));
    let ana = user("A1", "ana", "28");
    let clerk = support::processor("p1", "28");
    let mut numbers = Vec::new();
    for i in 0..3 {
        let n = svc
            .submit(&ana, &inquiry(&format!("Caso {i}")))
            .await
            .expect("submit")
            .case
            .number;
        svc.execute(&clerk, n, &Command::Assign { processor: None })
            .await
            .expect("assign");
        numbers.push(n);
    }
    let request = Command::RequestInformation {
        observation: "Aporte el documento".into(),
    };
    let mut changes = Vec::new();
    for n in &numbers {
        let case = CaseRepository::get(&target.store, *n)
            .await
            .expect("get")
            .expect("case");
        changes.push(decide(&case, &clerk, &request, &svc.rules(), clock.now()).expect("decide"));
    }
    // Someone else changes the second case first.
    let moved = svc
        .execute(
            &clerk,
            numbers[1],
            &Command::Transfer {
                office: "08".into(),
                note: None,
            },
        )
        .await
        .expect("transfer");
    let outbox_before = target.store.outbox_snapshot().await.expect("outbox").len();
    let duplicate = [changes[0].clone(), changes[0].clone()];
    assert!(matches!(
        target.store.update_many(&duplicate).await,
        Err(StoreError::Backend { .. })
    ));
    assert_eq!(
        target.store.update_many(&[]).await.expect("empty"),
        Vec::<bool>::new()
    );

    let written = target
        .store
        .update_many(&changes)
        .await
        .expect("update_many");
    assert_eq!(written, [true, false, true], "[{}]", target.label);
    for (i, change) in changes.iter().enumerate() {
        let stored = CaseRepository::get(&target.store, numbers[i])
            .await
            .expect("get")
            .expect("case");
        if i == 1 {
            assert_eq!(
                stored, moved.case,
                "[{}] the stale change leaked",
                target.label
            );
        } else {
            assert_eq!(stored, change.case, "[{}]", target.label);
        }
    }
    let outbox = target.store.outbox_snapshot().await.expect("outbox");
    let added: Vec<_> = outbox[outbox_before..]
        .iter()
        .map(|m| m.notification.clone())
        .collect();
    let expected: Vec<_> = [&changes[0], &changes[2]]
        .iter()
        .flat_map(|c| c.notifications.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(added, expected, "[{}]", target.label);
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_update_many_writes_current_changes_and_nothing_of_stale_ones() {
    update_many_writes_current_changes_and_nothing_of_stale_ones(
        Target::sqlite_file("update-many").await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_update_many_writes_current_changes_and_nothing_of_stale_ones() {
    let Some(url) =
        postgres_url("postgres_update_many_writes_current_changes_and_nothing_of_stale_ones")
    else {
        return;
    };
    update_many_writes_current_changes_and_nothing_of_stale_ones(Target::postgres(&url).await)
        .await;
}

// ------------------------------------------------------------ corrupt rows

fn corrupt_case(result: Result<impl std::fmt::Debug, StoreError>) -> (String, String) {
    match result {
        Err(StoreError::Corrupt { case, detail }) => (case, detail),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

async fn unreadable_rows_are_corrupt_errors_naming_the_case(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), clock);
    let ana = user("A1", "ana", "28");
    for i in 1..=4 {
        svc.submit(&ana, &inquiry(&format!("Caso {i}")))
            .await
            .expect("submit");
    }
    let s = &target.store;

    // An unknown substatus written by hand.
    raw_exec(
        s,
        "UPDATE cases SET substatus = 'bogus' WHERE number = $1",
        &["2026-00000001"],
    )
    .await;
    let (case, detail) = corrupt_case(CaseRepository::get(s, number(1)).await);
    assert_eq!(case, "2026-00000001");
    assert!(detail.contains("bogus"), "{detail}");
    assert!(
        CaseRepository::get(s, number(2))
            .await
            .expect("others still read")
            .is_some()
    );
    match svc.get(&ana, number(1)).await {
        Err(ServiceError::Store(StoreError::Corrupt { case, .. })) => {
            assert_eq!(case, "2026-00000001")
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    let search = SearchInput {
        status: Some("all".into()),
        from: Some("2026-11-01".into()),
        to: Some("2026-11-30".into()),
        ..SearchInput::default()
    };
    match svc.search(&ana, &search).await {
        Err(ServiceError::Store(StoreError::Corrupt { case, .. })) => {
            assert_eq!(case, "2026-00000001")
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    assert_eq!(corrupt_case(s.count_by_state().await).0, "2026-00000001");

    // An unknown history event, a receipt that is not JSON, a bad date.
    raw_exec(
        s,
        "UPDATE history SET event = 'exploded' WHERE case_number = $1",
        &["2026-00000002"],
    )
    .await;
    let (case, detail) = corrupt_case(CaseRepository::get(s, number(2)).await);
    assert_eq!(
        (case.as_str(), detail.contains("exploded")),
        ("2026-00000002", true)
    );
    raw_exec(
        s,
        "UPDATE cases SET receipt = '{not json' WHERE number = $1",
        &["2026-00000003"],
    )
    .await;
    assert_eq!(
        corrupt_case(CaseRepository::get(s, number(3)).await).0,
        "2026-00000003"
    );
    raw_exec(
        s,
        "UPDATE cases SET deadline = '2026-02-30' WHERE number = $1",
        &["2026-00000004"],
    )
    .await;
    assert_eq!(
        corrupt_case(CaseRepository::get(s, number(4)).await).0,
        "2026-00000004"
    );

    // An outbox row of an unknown kind names its case too.
    raw_exec(
        s,
        "UPDATE outbox SET kind = 'telegram' WHERE case_number = $1",
        &["2026-00000004"],
    )
    .await;
    assert_eq!(corrupt_case(s.pending(10).await).0, "2026-00000004");
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unreadable_rows_are_corrupt_errors_naming_the_case() {
    unreadable_rows_are_corrupt_errors_naming_the_case(Target::sqlite_file("corrupt").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreadable_rows_are_corrupt_errors_naming_the_case() {
    let Some(url) = postgres_url("postgres_unreadable_rows_are_corrupt_errors_naming_the_case")
    else {
        return;
    };
    unreadable_rows_are_corrupt_errors_naming_the_case(Target::postgres(&url).await).await;
}

// ------------------------------------------------------------------ ports

async fn outbox_contacts_and_contents_work_as_ports(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), clock);
    let ana = user("A1", "ana", "28");
    for i in 1..=3 {
        svc.submit(&ana, &inquiry(&format!("Caso {i}")))
            .await
            .expect("submit");
    }
    let s = &target.store;
    assert_eq!(s.backlog().await.expect("backlog"), 3);
    let now = at("2026-11-05T10:00:00Z");
    let lease = TimeDelta::minutes(10);
    let first = s.claim_due(now, 2, lease).await.expect("claim");
    assert_eq!(first.len(), 2);
    assert!(first[0].id < first[1].id, "emission order");
    assert_eq!(first[0].notification.case_number, number(1));
    assert!(first.iter().all(|m| m.attempts == 1
        && m.held_until == Some(now + lease)
        && m.state == DeliveryState::Pending));
    let second = s.claim_due(now, 10, lease).await.expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].notification.case_number, number(3));
    assert!(s.claim_due(now, 10, lease).await.expect("claim").is_empty());

    s.mark_delivered(first[0].id, "a1@example.es", now)
        .await
        .expect("delivered");
    let retry_at = now + TimeDelta::seconds(60);
    let failure = |retry_at, error: &str| DeliveryFailure {
        recipient: Some("a1@example.es".into()),
        error: error.into(),
        retry_at,
    };
    s.record_failure(first[1].id, &failure(Some(retry_at), "451 4.3.0 try later"))
        .await
        .expect("failure");
    s.record_failure(second[0].id, &failure(None, "550 5.1.1 no such user"))
        .await
        .expect("dead");
    s.mark_delivered(u64::MAX, "x@example.es", now)
        .await
        .expect("an unknown id is no error");
    // A late failure report on a delivered message changes nothing.
    s.record_failure(first[0].id, &failure(None, "late"))
        .await
        .expect("late failure");

    let left = s.pending(10).await.expect("pending");
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].id, left[0].attempts, left[0].state),
        (first[1].id, 1, DeliveryState::Pending)
    );
    assert_eq!(left[0].next_attempt_at, Some(retry_at));
    assert_eq!(left[0].held_until, None);
    assert_eq!(left[0].last_error.as_deref(), Some("451 4.3.0 try later"));
    assert_eq!(s.backlog().await.expect("backlog"), 1);
    assert_eq!(s.dead_count().await.expect("dead"), 1);
    let dead = s.list_dead(10).await.expect("dead");
    assert_eq!(
        (dead[0].id, dead[0].state, dead[0].last_error.as_deref()),
        (
            second[0].id,
            DeliveryState::Dead,
            Some("550 5.1.1 no such user")
        )
    );
    // Backoff: not before its retry instant.
    let early = retry_at - TimeDelta::microseconds(1);
    assert!(
        s.claim_due(early, 10, lease)
            .await
            .expect("claim")
            .is_empty()
    );
    let again = s.claim_due(retry_at, 10, lease).await.expect("claim");
    assert_eq!((again[0].id, again[0].attempts), (first[1].id, 2));

    assert!(s.retry(second[0].id, now).await.expect("retry"));
    assert!(!s.retry(second[0].id, now).await.expect("no longer dead"));
    assert!(!s.retry(first[0].id, now).await.expect("delivered"));
    assert!(!s.retry(u64::MAX, now).await.expect("unknown"));
    assert_eq!(s.dead_count().await.expect("dead"), 0);
    assert_eq!(s.backlog().await.expect("backlog"), 2);
    let revived = s.claim_due(now, 10, lease).await.expect("claim");
    assert_eq!((revived[0].id, revived[0].attempts), (second[0].id, 1));

    let all = s.outbox_snapshot().await.expect("snapshot");
    assert_eq!(all[0].state, DeliveryState::Delivered);
    assert_eq!(all[0].delivered_at, Some(now));
    assert_eq!(all[0].recipient.as_deref(), Some("a1@example.es"));
    assert_eq!(all[0].last_error, None);

    let a1 = AuthorizationId::parse("A1").expect("id");
    assert_eq!(s.contact(&a1).await.expect("contact"), None);
    s.set_contact(&a1, "gestoria@example.es")
        .await
        .expect("set");
    s.set_contact(&a1, "otra@example.es")
        .await
        .expect("replace");
    assert_eq!(
        s.contact(&a1).await.expect("contact").as_deref(),
        Some("otra@example.es")
    );

    let bytes: Bytes = Bytes::from(b"%PDF-1.7 contenido".to_vec());
    assert_eq!(
        AttachmentContentStore::get(s, number(9), 1)
            .await
            .expect("get"),
        None
    );
    s.put(number(9), 1, bytes.clone()).await.expect("put");
    assert_eq!(
        AttachmentContentStore::get(s, number(9), 1)
            .await
            .expect("get"),
        Some(bytes)
    );
    s.put(number(9), 1, Bytes::from(b"v2".to_vec()))
        .await
        .expect("replace");
    assert_eq!(
        AttachmentContentStore::get(s, number(9), 1)
            .await
            .expect("get")
            .as_deref(),
        Some(&b"v2"[..])
    );

    s.ping().await.expect("ping");
    s.migrate().await.expect("migrating again is a no-op");
    assert_eq!(
        CaseRepository::get(s, number(1))
            .await
            .expect("get")
            .map(|c| c.number),
        Some(number(1))
    );
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_outbox_contacts_and_contents_work_as_ports() {
    outbox_contacts_and_contents_work_as_ports(Target::sqlite_file("ports").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outbox_contacts_and_contents_work_as_ports() {
    let Some(url) = postgres_url("postgres_outbox_contacts_and_contents_work_as_ports") else {
        return;
    };
    outbox_contacts_and_contents_work_as_ports(Target::postgres(&url).await).await;
}

// ------------------------------------------------------------- connecting

#[tokio::test]
async fn bad_urls_are_typed_errors() {
    let opts = SqlOptions::default();
    for url in ["mysql://localhost/casia", "", "casia.db"] {
        match SqlStore::connect(url, &opts).await {
            Err(StoreError::Backend { message: msg, .. }) => {
                assert!(msg.contains("unsupported"), "{msg}")
            }
            other => panic!("{url:?}: expected Backend error, got {other:?}"),
        }
    }
    match SqlStore::connect("sqlite:/nonexistent-dir/sub/casia.db?mode=rw", &opts).await {
        Err(StoreError::Backend { .. }) => {}
        other => panic!("expected Backend error, got {other:?}"),
    }
    match SqlStore::connect("sqlite:casia.db?mode=bogus", &opts).await {
        Err(StoreError::Backend { .. }) => {}
        other => panic!("expected Backend error, got {other:?}"),
    }
    match SqlStore::connect_fresh("sqlite:casia.db").await {
        Err(StoreError::Backend { message: msg, .. }) => assert!(msg.contains("memory"), "{msg}"),
        other => panic!("expected Backend error, got {other:?}"),
    }
    // Nothing listens on port 1: an outage, not a bug (HTTP answers 503).
    let quick = SqlOptions {
        acquire_timeout: std::time::Duration::from_secs(2),
        ..SqlOptions::default()
    };
    match SqlStore::connect("postgres://postgres@127.0.0.1:1/test", &quick).await {
        Err(e @ StoreError::Unavailable(_)) => {
            assert!(casia_core::error::report(&e).contains("refused"), "{e:?}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn fresh_memory_stores_are_private_and_empty() {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let a = SqlStore::connect_fresh("sqlite::memory:")
        .await
        .expect("fresh");
    let b = SqlStore::connect_fresh("sqlite::memory:")
        .await
        .expect("fresh");
    assert_eq!(a.backend(), Backend::Sqlite);
    let svc = service(Arc::new(a.clone()), clock);
    svc.submit(&user("A1", "ana", "28"), &inquiry("Solo en a"))
        .await
        .expect("submit");
    assert!(
        CaseRepository::get(&a, number(1))
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(CaseRepository::get(&b, number(1)).await.expect("get"), None);
    let in_a: u64 = a
        .count_by_state()
        .await
        .expect("counts")
        .iter()
        .map(|c| c.1)
        .sum();
    let in_b: u64 = b
        .count_by_state()
        .await
        .expect("counts")
        .iter()
        .map(|c| c.1)
        .sum();
    assert_eq!((in_a, in_b), (1, 0));
    a.drop_fresh().await;
    b.drop_fresh().await;
}

#[tokio::test]
async fn a_zero_configuration_file_is_created_on_first_use() {
    let file = support::TempDb::new("zero-config");
    let url = format!("sqlite:{}?mode=rwc", file.dir.join("casia.db").display());
    let store = SqlStore::connect(&url, &SqlOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    assert!(file.dir.join("casia.db").exists());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.sqlite_pool().expect("pool"))
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.sqlite_pool().expect("pool"))
        .await
        .expect("pragma");
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.sqlite_pool().expect("pool"))
        .await
        .expect("pragma");
    assert_eq!(busy, 5000);
    assert_eq!(casia_store_sql::DEFAULT_URL, "sqlite:casia.db?mode=rwc");
    // A history row for a case that does not exist is refused: foreign keys are on.
    let orphan = sqlx::query(
        "INSERT INTO history (case_number, seq, at, event, substatus, actor_role, visibility) \
         VALUES ('2026-00000099', 0, 0, 'submitted', 'submitted', 'user', 'public')",
    )
    .execute(store.sqlite_pool().expect("pool"))
    .await;
    assert!(orphan.is_err());
    store.close().await;
}

/// Two store instances (two processes' relays) claiming at once take
/// disjoint batches, and between them every due message (PostgreSQL: `FOR
/// UPDATE SKIP LOCKED`; SQLite: one writer).
async fn concurrent_claims_never_overlap(target: Target) {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(target.store.clone()), clock);
    let ana = user("A1", "ana", "28");
    const CASES: u32 = 60;
    for i in 1..=CASES {
        svc.submit(&ana, &inquiry(&format!("Caso {i}")))
            .await
            .expect("submit");
    }
    let now = at("2026-11-05T10:00:00Z");
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let relay = |store: SqlStore| {
        let start = Arc::clone(&start);
        tokio::spawn(async move {
            start.wait().await;
            let mut taken = Vec::new();
            loop {
                let batch = store
                    .claim_due(now, 4, TimeDelta::minutes(10))
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return taken;
                }
                taken.extend(batch.into_iter().map(|m| m.id));
                // Sending the batch: the other relay claims meanwhile.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };
    let other = target.second_instance().await;
    let one = relay(target.store.clone());
    let two = relay(other);
    let (one, two) = (one.await.expect("relay one"), two.await.expect("relay two"));
    let mut all: Vec<u64> = one.iter().chain(&two).copied().collect();
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(
        before,
        all.len(),
        "[{}] a message was claimed twice",
        target.label
    );
    assert_eq!(
        all.len(),
        CASES as usize,
        "[{}] every message claimed",
        target.label
    );
    assert!(
        !one.is_empty() && !two.is_empty(),
        "[{}] both relays took a share: {} and {}",
        target.label,
        one.len(),
        two.len()
    );
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_claims_never_overlap() {
    concurrent_claims_never_overlap(Target::sqlite_file("claims").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_claims_never_overlap() {
    let Some(url) = postgres_url("postgres_concurrent_claims_never_overlap") else {
        return;
    };
    concurrent_claims_never_overlap(Target::postgres(&url).await).await;
}

/// A database written by the first schema (outbox rows pending and
/// delivered) upgrades in place: pending rows stay pending and due,
/// delivered ones delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_outbox_of_the_first_schema_upgrades() {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use std::borrow::Cow;

    let file = support::TempDb::new("upgrade");
    let store = SqlStore::connect(&file.url, &SqlOptions::default())
        .await
        .expect("open");
    let first = Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("schema"),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0001_schema.sql").into_sql_str(),
        false,
    )]);
    first
        .run(store.sqlite_pool().expect("pool"))
        .await
        .expect("first schema");
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let svc = service(Arc::new(store.clone()), clock);
    let ana = user("A1", "ana", "28");
    for i in 1..=2 {
        svc.submit(&ana, &inquiry(&format!("Caso {i}")))
            .await
            .expect("submit");
    }
    raw_exec(
        &store,
        "UPDATE outbox SET delivered = TRUE, attempts = 1 WHERE case_number = $1",
        &["2026-00000001"],
    )
    .await;
    store.migrate().await.expect("upgrade");
    let all = store.outbox_snapshot().await.expect("snapshot");
    assert_eq!(
        all.iter().map(|m| m.state).collect::<Vec<_>>(),
        [DeliveryState::Delivered, DeliveryState::Pending]
    );
    assert_eq!(all[1].next_attempt_at, None);
    assert_eq!(store.backlog().await.expect("backlog"), 1);
    let claimed = store
        .claim_due(at("2026-11-05T09:00:01Z"), 10, TimeDelta::minutes(1))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].notification.case_number, number(2));
    store.close().await;
}
