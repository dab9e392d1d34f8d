//! Service-level tests of `CaseService`: version conflicts and their retry
//! (DOMAIN.md §10), real threads on one case, the sweep's idempotence also
//! when two sweeps race (§5), the receipt (§8), history redaction (§7) and
//! attachment reads (§1 visibility, §6).

mod support;

use bytes::Bytes;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread;

use async_trait::async_trait;
use casia_core::attachment::{AttachmentLimits, NewAttachment};
use casia_core::command::Change;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::search::SearchFilter;
use casia_core::submission::{CaseDraft, NewCase};
use casia_core::{
    Actor, Case, CaseNumber, CaseService, CaseState, Command, HistoryEvent, NotificationKind,
    OfficeCode, ServiceError, StoreError, Visibility,
};
use futures_executor::block_on;
use support::{at, attachment, date, inquiry, pdf, processor, user};

fn u1() -> Actor {
    user("A1", "u1", "28")
}

fn u2() -> Actor {
    user("A1", "u2", "28")
}

fn other_user() -> Actor {
    user("A2", "u3", "08")
}

fn p1() -> Actor {
    processor("P1", "28")
}

fn code<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e
            .as_rule()
            .unwrap_or_else(|| panic!("a store failure: {e}"))
            .code()
            .as_str(),
    }
}

fn document(seed: u32) -> NewAttachment {
    attachment("other", &format!("Documento {seed}"), pdf(seed.into(), 40))
}

fn add_documentation(seed: u32) -> Command {
    Command::AddDocumentation {
        comment: Some(format!("Envío {seed}")),
        attachments: vec![document(seed)],
    }
}

fn memory_service(limits: AttachmentLimits) -> (CaseService, Arc<FixedClock>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at("2026-11-02T09:00:00Z")));
    let service = support::service_over(store.clone(), clock.clone(), limits);
    (service, clock, store)
}

fn submit(service: &CaseService, actor: &Actor) -> CaseNumber {
    block_on(service.submit(actor, &inquiry("Consulta sobre altas")))
        .expect("submit")
        .case
        .number
}

fn stored(service: &CaseService, number: CaseNumber) -> Case {
    block_on(service.get(&Actor::System, number)).expect("case")
}

fn run(service: &CaseService, actor: &Actor, number: CaseNumber, command: Command) -> Case {
    block_on(service.execute(actor, number, &command))
        .unwrap_or_else(|e| panic!("{command:?}: {e}"))
        .case
}

fn events(case: &Case) -> Vec<HistoryEvent> {
    case.history.iter().map(|e| e.event).collect()
}

fn count_kind(store: &MemoryStore, kind: NotificationKind) -> usize {
    store
        .outbox_snapshot()
        .iter()
        .filter(|m| m.notification.kind == kind)
        .count()
}

// ---------------------------------------------------------------------------
// A store that lets another command through just before a write.

/// Another command that slips in on the same case right before the next
/// `update`, through a service over the same inner store.
struct Racer {
    service: CaseService,
    actor: Actor,
    command: Command,
}

/// Wraps `MemoryStore`; when armed, the next `update` first runs the racer,
/// so the original write is based on a stale version.
struct RacingStore {
    inner: Arc<MemoryStore>,
    racer: Mutex<Option<Racer>>,
    updates: AtomicUsize,
}

impl RacingStore {
    fn arm(&self, racer: Racer) {
        *self.racer.lock().unwrap_or_else(PoisonError::into_inner) = Some(racer);
    }

    fn updates(&self) -> usize {
        self.updates.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CaseRepository for RacingStore {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        self.inner.get(number).await
    }

    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        self.inner.create(draft).await
    }

    async fn update(&self, change: &Change) -> Result<(), StoreError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        let racer = self
            .racer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(r) = racer {
            r.service
                .execute(&r.actor, change.case.number, &r.command)
                .await
                .expect("the racing command succeeds");
        }
        self.inner.update(change).await
    }

    async fn search(&self, filter: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        self.inner.search(filter).await
    }

    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        self.inner.queue(office).await
    }

    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        self.inner.awaiting_information().await
    }

    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError> {
        self.inner.find_by_receipt_code(code).await
    }

    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Bytes>, StoreError> {
        self.inner.attachment_content(number, attachment).await
    }

    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        self.inner.count_by_state().await
    }
}

/// The service under test (over the racing store), a second service over the
/// inner store for the racer, the racing store and the inner store.
struct Race {
    service: CaseService,
    other: CaseService,
    racing: Arc<RacingStore>,
    inner: Arc<MemoryStore>,
    clock: Arc<FixedClock>,
}

fn race(limits: AttachmentLimits) -> Race {
    let inner = Arc::new(MemoryStore::new());
    let racing = Arc::new(RacingStore {
        inner: inner.clone(),
        racer: Mutex::new(None),
        updates: AtomicUsize::new(0),
    });
    let clock = Arc::new(FixedClock::new(at("2026-11-02T09:00:00Z")));
    Race {
        service: support::service_over(racing.clone(), clock.clone(), limits),
        other: support::service_over(inner.clone(), clock.clone(), limits),
        racing,
        inner,
        clock,
    }
}

impl Race {
    fn arm(&self, actor: Actor, command: Command) {
        self.racing.arm(Racer {
            service: self.other.clone(),
            actor,
            command,
        });
    }
}

// (a)
#[test]
fn a_version_conflict_is_retried_and_neither_document_is_lost() {
    let r = race(AttachmentLimits::default());
    let n = submit(&r.service, &u1());
    r.arm(u2(), add_documentation(2));
    let updates_before = r.racing.updates();

    let outcome = block_on(r.service.execute(&u1(), n, &add_documentation(1)))
        .expect("the service retries the conflict");

    assert_eq!(
        r.racing.updates() - updates_before,
        2,
        "one stale write, one retried write"
    );
    let case = stored(&r.service, n);
    assert_eq!(outcome.case, case.clone().redacted_for(&u1()));
    assert_eq!(case.version, 3);
    assert_eq!(
        events(&case),
        [
            HistoryEvent::Submitted,
            HistoryEvent::DocumentationAdded,
            HistoryEvent::DocumentationAdded
        ]
    );
    let who: Vec<Option<&str>> = case.history.iter().map(|e| e.actor.id.as_deref()).collect();
    assert_eq!(who, [Some("u1"), Some("u2"), Some("u1")]);
    assert_eq!(case.attachments.len(), 2);
    for (meta, seed) in case.attachments.iter().zip([2, 1]) {
        let bytes = block_on(r.inner.attachment_content(n, meta.id))
            .expect("read")
            .expect("stored");
        assert_eq!(&bytes[..], &pdf(seed, 40)[..]);
    }
    let ids: BTreeSet<u32> = case.attachments.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 2, "distinct attachment ids");
}

// (b)
#[test]
fn a_command_that_lost_the_race_gets_the_new_verdict() {
    let r = race(AttachmentLimits::default());
    let n = submit(&r.service, &u1());
    run(&r.service, &p1(), n, Command::Assign { processor: None });
    r.arm(
        u2(),
        Command::Cancel {
            reason: Some("Ya no es necesario".into()),
        },
    );

    let lost = block_on(r.service.execute(
        &p1(),
        n,
        &Command::Resolve {
            resolution: "Resuelto".into(),
        },
    ));

    assert_eq!(code(lost), "case_closed");
    let case = stored(&r.service, n);
    assert_eq!(case.state.substatus_code(), "cancelled");
    assert_eq!(
        events(&case),
        [
            HistoryEvent::Submitted,
            HistoryEvent::Assigned,
            HistoryEvent::Cancelled
        ]
    );
    assert_eq!(case.resolution, None);
    assert_eq!(count_kind(&r.inner, NotificationKind::CaseResolved), 0);
}

// (c)
#[test]
fn execute_at_a_stale_version_is_a_conflict_and_changes_nothing() {
    let r = race(AttachmentLimits::default());
    let n = submit(&r.service, &u1());
    run(&r.service, &u2(), n, add_documentation(1));
    let before = stored(&r.service, n);
    let outbox = r.inner.outbox_snapshot();
    let updates = r.racing.updates();
    assert_eq!(before.version, 2);

    let stale = block_on(
        r.service
            .execute_at_version(&u1(), n, &add_documentation(2), 1),
    );

    assert_eq!(code(stale), "version_conflict");
    assert_eq!(stored(&r.service, n), before);
    assert_eq!(r.inner.outbox_snapshot(), outbox);
    assert_eq!(
        r.racing.updates(),
        updates,
        "a stale version is not written"
    );
}

/// The precondition comes before the rules (RFC 9110 §13.2.1), after
/// visibility: a stale version on a command the actor may not run is
/// `version_conflict`; on a case the actor cannot see, `not_found`.
#[test]
fn a_stale_version_is_reported_before_a_rule_and_after_visibility() {
    let r = race(AttachmentLimits::default());
    let n = submit(&r.service, &u1());
    run(&r.service, &u2(), n, add_documentation(1));
    let assign = Command::Assign { processor: None };
    let forbidden = block_on(r.service.execute_at_version(&u1(), n, &assign, 1));
    assert_eq!(code(forbidden), "version_conflict");
    let current = block_on(r.service.execute_at_version(&u1(), n, &assign, 2));
    assert_eq!(code(current), "forbidden");
    let hidden = block_on(r.service.execute_at_version(&other_user(), n, &assign, 1));
    assert_eq!(code(hidden), "not_found");
}

// (c) with the version current when read but stale when written.
#[test]
fn execute_at_version_does_not_retry_a_conflict_at_write_time() {
    let r = race(AttachmentLimits::default());
    let n = submit(&r.service, &u1());
    r.arm(u2(), add_documentation(2));
    let updates = r.racing.updates();

    let lost = block_on(
        r.service
            .execute_at_version(&u1(), n, &add_documentation(1), 1),
    );

    assert_eq!(code(lost), "version_conflict");
    assert_eq!(r.racing.updates() - updates, 1, "no retry");
    let case = stored(&r.service, n);
    assert_eq!(case.version, 2, "only the racer's write happened");
    assert_eq!(case.attachments.len(), 1);
    assert_eq!(case.attachments[0].title.as_str(), "Documento 2");
}

// (d)
#[test]
fn two_threads_adding_documents_to_one_case_lose_nothing() {
    let limits = AttachmentLimits {
        max_attachments: 100,
        ..AttachmentLimits::default()
    };
    let (service, _clock, store) = memory_service(limits);
    let n = submit(&service, &u1());
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [(u1(), 0u32), (u2(), 1000u32)]
        .into_iter()
        .map(|(actor, base)| {
            let service = service.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for i in 0..25 {
                    block_on(service.execute(&actor, n, &add_documentation(base + i)))
                        .unwrap_or_else(|e| panic!("document {}: {e}", base + i));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }

    let case = stored(&service, n);
    assert_eq!(case.attachments.len(), 50);
    assert_eq!(case.history.len(), 51);
    assert_eq!(case.version, 51);
    let ids: BTreeSet<u32> = case.attachments.iter().map(|a| a.id).collect();
    assert_eq!(ids, (1..=50).collect());
    let titles: BTreeSet<String> = case
        .attachments
        .iter()
        .map(|a| a.title.as_str().to_owned())
        .collect();
    let expected: BTreeSet<String> = (0..25)
        .chain(1000..1025)
        .map(|s| format!("Documento {s}"))
        .collect();
    assert_eq!(titles, expected);
    for a in &case.attachments {
        let seed: u32 = a.title.as_str()["Documento ".len()..]
            .parse()
            .expect("seed");
        let bytes = block_on(store.attachment_content(n, a.id))
            .expect("read")
            .expect("stored");
        assert_eq!(&bytes[..], &pdf(seed.into(), 40)[..], "attachment {}", a.id);
    }
}

/// Submits, assigns to P1 and requests information at the clock's instant.
fn awaiting_information(service: &CaseService) -> CaseNumber {
    let n = submit(service, &u1());
    run(service, &p1(), n, Command::Assign { processor: None });
    run(
        service,
        &p1(),
        n,
        Command::RequestInformation {
            observation: "Aporte el modelo TA.2".into(),
        },
    );
    n
}

// (e)
#[test]
fn a_second_sweep_at_the_same_instant_closes_and_reminds_nothing() {
    let (service, clock, store) = memory_service(AttachmentLimits::default());
    // Monday 2026-11-02 + 20 calendar days = Sunday 22 → Monday 23.
    let early = awaiting_information(&service);
    assert_eq!(stored(&service, early).deadline, Some(date("2026-11-23")));
    // Wednesday 2026-11-04 + 20 = Tuesday 24; reminder day Monday 23.
    clock.set(at("2026-11-04T09:00:00Z"));
    let late = [
        awaiting_information(&service),
        awaiting_information(&service),
    ];
    assert_eq!(stored(&service, late[0]).deadline, Some(date("2026-11-24")));

    clock.set(at("2026-11-24T08:00:00Z"));
    let first = block_on(service.sweep()).expect("sweep");
    assert_eq!(first.closed, [early]);
    assert_eq!(first.reminded, late);
    let kinds: Vec<NotificationKind> = first.notifications.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::CaseClosedExOfficio,
            NotificationKind::DeadlineApproaching,
            NotificationKind::DeadlineApproaching
        ]
    );
    let outbox = store.outbox_snapshot();
    let cases: Vec<Case> = [early, late[0], late[1]]
        .iter()
        .map(|n| stored(&service, *n))
        .collect();

    let second = block_on(service.sweep()).expect("sweep");

    assert!(second.closed.is_empty() && second.reminded.is_empty());
    assert!(second.notifications.is_empty());
    assert_eq!(store.outbox_snapshot(), outbox);
    for c in &cases {
        assert_eq!(&stored(&service, c.number), c, "{} changed", c.number);
    }

    // The next day the reminded cases are overdue: closed, not reminded again.
    clock.set(at("2026-11-24T23:00:00Z"));
    let third = block_on(service.sweep()).expect("sweep");
    assert_eq!(third.closed, late);
    assert!(third.reminded.is_empty());
    assert_eq!(count_kind(&store, NotificationKind::DeadlineApproaching), 2);
    assert_eq!(count_kind(&store, NotificationKind::CaseClosedExOfficio), 3);
}

// (e) with two sweeps racing.
#[test]
fn two_racing_sweeps_close_each_overdue_case_exactly_once() {
    let (service, clock, store) = memory_service(AttachmentLimits::default());
    let numbers: Vec<CaseNumber> = (0..200).map(|_| awaiting_information(&service)).collect();
    clock.set(at("2026-12-01T09:00:00Z"));
    let start = Arc::new(Barrier::new(2));
    let sweeps: Vec<_> = (0..2)
        .map(|_| {
            let service = service.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                block_on(service.sweep()).expect("sweep")
            })
        })
        .collect();
    let reports: Vec<_> = sweeps
        .into_iter()
        .map(|s| s.join().expect("sweep thread"))
        .collect();

    let mut closed: Vec<CaseNumber> = reports.iter().flat_map(|r| r.closed.clone()).collect();
    closed.sort();
    assert_eq!(closed, numbers, "each case closed by exactly one sweep");
    assert!(reports.iter().all(|r| r.reminded.is_empty()));
    let notified: Vec<CaseNumber> = store
        .outbox_snapshot()
        .iter()
        .filter(|m| m.notification.kind == NotificationKind::CaseClosedExOfficio)
        .map(|m| m.notification.case_number)
        .collect();
    assert_eq!(notified.len(), 200);
    assert_eq!(
        notified.iter().copied().collect::<BTreeSet<_>>(),
        numbers.iter().copied().collect::<BTreeSet<_>>()
    );
    for n in &numbers {
        let case = stored(&service, *n);
        assert_eq!(case.state.substatus_code(), "closed_ex_officio");
        assert_eq!(
            events(&case),
            [
                HistoryEvent::Submitted,
                HistoryEvent::Assigned,
                HistoryEvent::InformationRequested,
                HistoryEvent::ClosedExOfficio
            ]
        );
        assert_eq!(case.version, 4);
    }
    let again = block_on(service.sweep()).expect("sweep");
    assert!(again.closed.is_empty() && again.reminded.is_empty());
}

/// The sweep writes its closures a chunk at a time; a case answered between
/// the sweep's read and its write is not closed (the lost race is decided
/// again on the fresh case), and the others are, in ascending order (§5).
#[test]
fn a_case_answered_while_the_sweep_runs_is_not_closed() {
    let r = race(AttachmentLimits::default());
    let numbers: Vec<CaseNumber> = (0..3).map(|_| awaiting_information(&r.service)).collect();
    r.clock.set(at("2026-12-01T09:00:00Z"));
    // The user answers the first case just before the sweep writes it.
    r.arm(u1(), add_documentation(9));

    let report = block_on(r.service.sweep()).expect("sweep");

    assert_eq!(report.closed, numbers[1..]);
    let answered = stored(&r.service, numbers[0]);
    assert_eq!(
        events(&answered).last(),
        Some(&HistoryEvent::DocumentationAdded)
    );
    assert_ne!(answered.state.substatus_code(), "closed_ex_officio");
    for n in &numbers[1..] {
        assert_eq!(
            stored(&r.service, *n).state.substatus_code(),
            "closed_ex_officio"
        );
    }
    assert_eq!(
        count_kind(&r.inner, NotificationKind::CaseClosedExOfficio),
        2
    );
}

/// More overdue cases than one chunk: all closed, once, ascending (§5).
#[test]
fn a_sweep_over_more_than_one_chunk_closes_every_overdue_case_in_order() {
    let (service, clock, store) = memory_service(AttachmentLimits::default());
    let count = casia_core::service::SWEEP_CHUNK * 2 + 7;
    let numbers: Vec<CaseNumber> = (0..count).map(|_| awaiting_information(&service)).collect();
    clock.set(at("2026-12-01T09:00:00Z"));
    let report = block_on(service.sweep()).expect("sweep");
    assert_eq!(report.closed, numbers);
    assert_eq!(report.notifications.len(), count);
    assert_eq!(
        count_kind(&store, NotificationKind::CaseClosedExOfficio),
        count
    );
    assert!(block_on(service.sweep()).expect("sweep").closed.is_empty());
}

/// Each information request earns its own reminder (§5 "one reminder per
/// information request").
#[test]
fn a_new_information_request_is_reminded_again() {
    let (service, clock, store) = memory_service(AttachmentLimits::default());
    let n = awaiting_information(&service);
    // Deadline Monday 2026-11-23, reminder on Friday 20.
    clock.set(at("2026-11-20T08:00:00Z"));
    assert_eq!(block_on(service.sweep()).expect("sweep").reminded, [n]);
    assert!(
        block_on(service.sweep())
            .expect("sweep")
            .reminded
            .is_empty()
    );
    run(&service, &u1(), n, add_documentation(1));
    assert_eq!(stored(&service, n).deadline, None);
    run(
        &service,
        &p1(),
        n,
        Command::RequestInformation {
            observation: "Falta la firma".into(),
        },
    );
    // Friday 20 + 20 = Thursday 2026-12-10; reminder on Wednesday 9.
    assert_eq!(stored(&service, n).deadline, Some(date("2026-12-10")));
    clock.set(at("2026-12-08T08:00:00Z"));
    assert!(
        block_on(service.sweep())
            .expect("sweep")
            .reminded
            .is_empty()
    );
    clock.set(at("2026-12-09T08:00:00Z"));
    assert_eq!(block_on(service.sweep()).expect("sweep").reminded, [n]);
    assert_eq!(count_kind(&store, NotificationKind::DeadlineApproaching), 2);
}

// (f)
#[test]
fn the_receipt_verifies_and_a_tampered_code_does_not() {
    let (service, clock, _store) = memory_service(AttachmentLimits::default());
    let mut input = inquiry("Alta de un trabajador");
    input.attachments = vec![document(7)];
    let n = block_on(service.submit(&u1(), &input))
        .expect("submit")
        .case
        .number;
    let receipt = block_on(service.receipt(&u2(), n)).expect("receipt");
    assert_eq!(receipt.body.number, n);
    assert_eq!(receipt.body.attachments.len(), 1);
    assert_eq!(
        block_on(service.receipt(&p1(), n)).expect("office"),
        receipt
    );
    assert_eq!(
        code(block_on(service.receipt(&other_user(), n))),
        "not_found"
    );

    let code_text = receipt.verification_code.clone();
    assert_eq!(
        block_on(service.verify_receipt(&code_text)).expect("verify"),
        Some(receipt.clone())
    );
    let typed = code_text.to_lowercase().replace('-', " ");
    assert_eq!(
        block_on(service.verify_receipt(&typed)).expect("verify"),
        Some(receipt.clone()),
        "as a person types it"
    );
    let mut tampered: Vec<char> = code_text.chars().collect();
    tampered[0] = if tampered[0] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert_eq!(
        block_on(service.verify_receipt(&tampered)).expect("verify"),
        None
    );
    assert_eq!(
        block_on(service.verify_receipt("not a code")).expect("verify"),
        None
    );

    clock.set(at("2026-11-03T10:00:00Z"));
    run(
        &service,
        &p1(),
        n,
        Command::Reclassify {
            materia: "cotizacion".into(),
            category: "aplazamientos".into(),
            subcategory: "consulta".into(),
        },
    );
    assert_eq!(stored(&service, n).subcategory, "consulta");
    assert_eq!(
        block_on(service.receipt(&u1(), n)).expect("receipt"),
        receipt,
        "the receipt certifies the submission, not the current classification"
    );
    assert_eq!(
        block_on(service.verify_receipt(&code_text)).expect("verify"),
        Some(receipt)
    );
}

// (g)
#[test]
fn a_user_reads_every_history_entry_without_internal_notes() {
    let (service, _clock, _store) = memory_service(AttachmentLimits::default());
    let n = submit(&service, &u1());
    run(&service, &p1(), n, Command::Assign { processor: None });
    run(
        &service,
        &p1(),
        n,
        Command::Escalate {
            note: "Nota interna de escalado".into(),
        },
    );
    run(&service, &u1(), n, add_documentation(1));
    run(
        &service,
        &p1(),
        n,
        Command::Transfer {
            office: "08".into(),
            note: Some("Nota interna de traslado".into()),
        },
    );

    let full = block_on(service.history(&Actor::System, n)).expect("system");
    let office = block_on(service.history(&processor("P2", "08"), n)).expect("new office");
    let users = block_on(service.history(&u2(), n)).expect("user");
    assert_eq!(office, full, "processors read the notes");
    assert_eq!(users.len(), full.len(), "no entry is hidden");
    for (u, f) in users.iter().zip(&full) {
        assert_eq!(
            (u.at, u.event, u.state, &u.actor),
            (f.at, f.event, f.state, &f.actor)
        );
        match f.visibility {
            Visibility::Internal => assert_eq!(u.observation, None, "{:?}", f.event),
            Visibility::Public => assert_eq!(u.observation, f.observation),
        }
    }
    let internal: Vec<HistoryEvent> = full
        .iter()
        .filter(|e| e.visibility == Visibility::Internal)
        .map(|e| e.event)
        .collect();
    assert_eq!(
        internal,
        [HistoryEvent::Escalated, HistoryEvent::Transferred]
    );
    assert_eq!(
        full[2].observation.as_deref(),
        Some("Nota interna de escalado")
    );
    assert_eq!(users[3].observation.as_deref(), Some("Envío 1"));
    assert_eq!(
        block_on(service.get(&u1(), n)).expect("detail").history,
        users,
        "the detail is redacted the same way"
    );
    assert_eq!(
        code(block_on(service.history(&p1(), n))),
        "not_found",
        "the old office no longer sees the case"
    );
}

// (h)
#[test]
fn attachment_bytes_are_served_to_whoever_sees_the_case() {
    let (service, _clock, _store) = memory_service(AttachmentLimits::default());
    let mut input = inquiry("Con anexo");
    input.attachments = vec![document(3)];
    let n = block_on(service.submit(&u1(), &input))
        .expect("submit")
        .case
        .number;
    let id = stored(&service, n).attachments[0].id;

    for actor in [u1(), u2(), p1(), processor("P3", "28"), Actor::System] {
        let (meta, bytes) = block_on(service.attachment(&actor, n, id))
            .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
        assert_eq!(&bytes[..], &pdf(3, 40)[..]);
        assert_eq!(meta.title.as_str(), "Documento 3");
        assert_eq!(meta.size, 40);
    }
    for actor in [other_user(), processor("P1", "08")] {
        assert_eq!(
            code(block_on(service.attachment(&actor, n, id))),
            "not_found",
            "{actor:?}"
        );
    }
    assert_eq!(
        code(block_on(service.attachment(&u1(), n, id + 1))),
        "not_found"
    );
    let missing = CaseNumber::new(2026, 999).expect("number");
    assert_eq!(
        code(block_on(service.attachment(&Actor::System, missing, id))),
        "not_found"
    );
}

/// A staged upload (issue 17) reaches the case whole with or without a blob
/// store: moved into the blob store, or read into the case store's write.
#[test]
fn a_staged_upload_is_filed_with_or_without_a_blob_store() {
    use casia_core::attachment::{AttachmentContent, StagedContent, sha256_hex};
    let dir = tempfile::tempdir().expect("dir");
    let bytes = pdf(9, 70_000);
    let stage = |name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        NewAttachment {
            content: AttachmentContent::Staged(
                StagedContent::judge(path, casia_core::blob::BlobKey::of(&bytes)).expect("judged"),
            ),
            ..attachment("other", "Escaneado", Vec::new())
        }
    };
    let (plain, _clock, _store) = memory_service(AttachmentLimits::default());
    let blobs = Arc::new(casia_core::blob::MemoryBlobStore::new());
    let (with_blobs, _clock, store) = memory_service(AttachmentLimits::default());
    let with_blobs = with_blobs.with_blobs(blobs.clone());
    for (service, name) in [(&plain, "a.tmp"), (&with_blobs, "b.tmp")] {
        let mut input = inquiry("Con anexo escaneado");
        input.attachments = vec![stage(name)];
        let n = block_on(service.submit(&u1(), &input))
            .expect("submit")
            .case
            .number;
        let (meta, read) = block_on(service.attachment(&u1(), n, 1)).expect("read");
        assert_eq!(&read[..], &bytes[..], "{name}");
        assert_eq!(meta.sha256, sha256_hex(&bytes));
    }
    let key = casia_core::blob::BlobKey::of(&bytes);
    assert!(block_on(casia_core::blob::BlobStore::exists(&*blobs, &key)).expect("exists"));
    // With the blob store the case store kept no bytes; the file was read
    // (not moved) by the in-memory store's default `put_file`.
    let in_database = block_on(casia_core::ports::CaseRepository::stored_contents(
        &*store, None, 10,
    ))
    .expect("contents");
    assert!(
        in_database.is_empty(),
        "{} rows of bytes",
        in_database.len()
    );
}
