//! Notifications delivered (DOMAIN.md §9) against a real SMTP server
//! process on 127.0.0.1 (`casia-test-support/smtp_sink.py`, aiosmtpd): a case service
//! over the SQL store goes through every notification kind, the outbox
//! relay sends them, and the test reads what the server received. Also:
//! the server down (case changes succeed, mail waits, then arrives), a
//! permanent 5xx (dead after the configured attempts, then an operator
//! retry), a relay dying mid-send, and two relays on one database (each
//! message once). Needs `CASIA_TEST_SMTP_PYTHON` (a Python with aiosmtpd;
//! `.ci/run` makes one); the two-relay test on PostgreSQL also needs
//! `CASIA_TEST_POSTGRES_URL`. Without them the tests print `skipped:`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use casia_core::calendar::madrid_start_of_day;
use casia_core::ports::{Clock, ContactDirectory, DeliveryState, FixedClock, Outbox};
use casia_core::receipt::{ReceiptKey, madrid_timestamp};
use casia_core::{
    Actor, AuthorizationId, CaseNumber, CaseRules, CaseService, Command, NotificationKind,
    OfficeCode, ProcessorId, ProvinceCode, SubmitInput, UserId,
};
use casia_mail::message::{MailIdentity, long_date, short_date};
use casia_mail::relay::{Relay, RelayConfig};
use casia_mail::smtp::{SmtpMailer, SmtpOptions, SmtpUrl};
use casia_store_sql::{SqlOptions, SqlStore};
use casia_test_support::env::{postgres_url, smtp_python};
use casia_test_support::smtp::{
    Received, SinkTls, SmtpSink, decode_words, quoted_printable, test_ca,
};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

const FROM: &str = "CASIA <avisos@casia.test>";
const OBSERVATION: &str = "Aporte el informe de vida laboral del trabajador.";
const RESOLUTION: &str = "Se ha tramitado el alta con efectos del día 2.";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

fn user_of(authorization: &str, user: &str) -> Actor {
    Actor::User {
        authorization: AuthorizationId::parse(authorization).expect("id"),
        user: UserId::parse(user).expect("id"),
        province: ProvinceCode::parse("28").expect("province"),
    }
}

fn processor() -> Actor {
    Actor::Processor {
        processor: ProcessorId::parse("P1").expect("id"),
        office: OfficeCode::parse("28").expect("office"),
    }
}

fn authorization(id: &str) -> AuthorizationId {
    AuthorizationId::parse(id).expect("id")
}

fn inquiry(title: &str) -> SubmitInput {
    SubmitInput {
        case_type: "inquiry".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: "plazos".into(),
        title: title.into(),
        description: "¿Cuál es el plazo para comunicar el alta?".into(),
        ..SubmitInput::default()
    }
}

/// 09:00 in Madrid on `date`.
fn madrid_morning(date: NaiveDate) -> DateTime<Utc> {
    madrid_start_of_day(date) + TimeDelta::hours(9)
}

/// A case service over one store, with a clock the test moves.
struct World {
    store: SqlStore,
    clock: Arc<FixedClock>,
    service: CaseService,
}

fn world(store: SqlStore) -> World {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let rules = CaseRules::with_defaults(ReceiptKey::new("notification-tests"));
    let service = CaseService::new(
        Arc::new(store.clone()),
        clock.clone() as Arc<dyn Clock>,
        Arc::new(rules),
    );
    World {
        store,
        clock,
        service,
    }
}

async fn sqlite_world() -> World {
    world(
        SqlStore::connect_fresh("sqlite::memory:")
            .await
            .expect("fresh SQLite"),
    )
}

impl World {
    fn advance(&self, by: TimeDelta) {
        self.clock.set(self.clock.now() + by);
    }

    async fn submit(&self, authorization: &str, title: &str) -> CaseNumber {
        self.service
            .submit(&user_of(authorization, "u1"), &inquiry(title))
            .await
            .expect("submit")
            .case
            .number
    }

    async fn run(&self, number: CaseNumber, command: Command) -> casia_core::Case {
        self.service
            .execute(&processor(), number, &command)
            .await
            .unwrap_or_else(|e| panic!("{command:?}: {e}"))
            .case
    }

    async fn set_contact(&self, id: &str, email: &str) {
        self.store
            .set_contact(&authorization(id), email)
            .await
            .expect("set contact");
    }

    /// The relay of this world on `store` (another instance of the same
    /// database, for the two-relay tests), sending to `url`.
    fn relay(&self, store: &SqlStore, url: &str, config: RelayConfig) -> Relay {
        self.relay_trusting(store, url, config, None)
    }

    /// A relay that also trusts the roots of `ca_file`.
    fn relay_trusting(
        &self,
        store: &SqlStore,
        url: &str,
        config: RelayConfig,
        ca_file: Option<PathBuf>,
    ) -> Relay {
        let mailer = SmtpMailer::new(
            &SmtpUrl::parse(url).expect("url"),
            &SmtpOptions {
                timeout: Duration::from_secs(10),
                hello: "casia.test".into(),
                ca_file,
            },
        )
        .expect("mailer");
        Relay::new(
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            self.service.clone(),
            Arc::new(mailer),
            MailIdentity::new(FROM, None).expect("identity"),
            self.clock.clone(),
            config,
        )
    }

    /// What `/metrics` shows of the outbox: pending and dead messages.
    async fn gauges(&self) -> (u64, u64) {
        (
            self.store.backlog().await.expect("backlog"),
            self.store.dead_count().await.expect("dead count"),
        )
    }
}

fn config() -> RelayConfig {
    RelayConfig {
        batch_size: 5,
        lease: Duration::from_secs(600),
        max_attempts: 3,
        backoff_base: Duration::from_secs(60),
        backoff_cap: Duration::from_secs(600),
        poll_interval: Duration::from_secs(1),
    }
}

fn message_id(id: u64) -> String {
    format!("<casia-notification-{id}@casia.test>")
}

/// The received message with the Message-ID of outbox entry `id`.
fn mail_of(received: &[Received], id: u64) -> &Received {
    let wanted = message_id(id);
    let found: Vec<&Received> = received
        .iter()
        .filter(|m| m.header("Message-ID") == Some(wanted.as_str()))
        .collect();
    assert_eq!(found.len(), 1, "messages with {wanted}");
    found[0]
}

fn assert_body_has(mail: &Received, needles: &[&str]) {
    for needle in needles {
        assert!(
            mail.body.contains(needle),
            "{needle:?} not in the body of {:?}:\n{}",
            mail.subject(),
            mail.body
        );
    }
}

#[test]
fn the_test_decoders_undo_what_lettre_encodes() {
    assert_eq!(
        decode_words("=?utf-8?b?c2Ugc29saWNpdGEgaW5mb3JtYWNpw7Nu?= (plazo)"),
        "se solicita información (plazo)"
    );
    assert_eq!(
        decode_words("CASIA =?utf-8?q?informaci=C3=B3n?= =?utf-8?q?_y_m=C3=A1s?="),
        "CASIA información y más"
    );
    assert_eq!(
        quoted_printable(b"N=C3=BAmero =\nlargo"),
        "Número largo".as_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_arrives_with_its_recipient_subject_and_body() {
    let Some(python) = smtp_python("every_kind_arrives_with_its_recipient_subject_and_body") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(&python, dir.path(), false);
    let w = sqlite_world().await;
    w.set_contact("A1", "gestoria@example.com").await;

    // One case through submission, information request, reminder and
    // closing de oficio; another through resolution.
    let one = w.submit("A1", "Plazos de alta").await;
    w.run(one, Command::Assign { processor: None }).await;
    let requested = w
        .run(
            one,
            Command::RequestInformation {
                observation: OBSERVATION.into(),
            },
        )
        .await;
    let deadline = requested.deadline.expect("a deadline");
    w.clock.set(madrid_morning(deadline));
    let reminded = w.service.sweep().await.expect("sweep");
    assert_eq!(reminded.reminded, [one]);
    let next_day = deadline.checked_add_days(Days::new(1)).expect("date");
    w.clock.set(madrid_morning(next_day));
    let closed = w.service.sweep().await.expect("sweep");
    assert_eq!(closed.closed, [one]);
    let two = w.submit("A1", "Alta de un trabajador").await;
    w.run(two, Command::Assign { processor: None }).await;
    w.run(
        two,
        Command::Resolve {
            resolution: RESOLUTION.into(),
        },
    )
    .await;
    // An authorization without a contact address.
    let three = w.submit("B2", "Sin dirección").await;

    let relay = w.relay(&w.store, &sink.url(), config());
    let report = relay.run_until_idle().await.expect("relay");
    assert_eq!((report.delivered, report.dead), (6, 1), "{report:?}");

    let outbox = w.store.outbox_snapshot().await.expect("outbox");
    let received = sink.messages();
    assert_eq!(received.len(), 6);
    let first = mail_of(&received, 1);
    assert_body_has(first, &["Fecha del aviso: 2026-11-05 10:00:00 CET"]);
    let mut kinds = Vec::new();
    for m in outbox
        .iter()
        .filter(|m| m.state == DeliveryState::Delivered)
    {
        let n = &m.notification;
        let mail = mail_of(&received, m.id);
        kinds.push(n.kind);
        assert_eq!(mail.envelope_to, ["gestoria@example.com"]);
        assert_eq!(mail.header("To"), Some("gestoria@example.com"));
        assert_eq!(mail.header("From"), Some("CASIA <avisos@casia.test>"));
        assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
        assert_eq!(mail.header("X-CASIA-Notification"), Some(n.kind.as_str()));
        assert_eq!(m.recipient.as_deref(), Some("gestoria@example.com"));
        assert_eq!(m.attempts, 1);
        let number = n.case_number;
        let subject = mail.subject();
        if number == one {
            assert_body_has(mail, &["Asunto: Plazos de alta"]);
        }
        let deadline_line = format!(
            "hasta las 23:59 del {}, inclusive (hora de Madrid).",
            long_date(deadline)
        );
        match n.kind {
            NotificationKind::CaseSubmitted => {
                assert_eq!(subject, format!("CASIA {number}: caso registrado"));
                let title = if number == one {
                    "Asunto: Plazos de alta"
                } else {
                    "Asunto: Alta de un trabajador"
                };
                assert_body_has(
                    mail,
                    &[
                        &format!("Su caso {number} ha quedado registrado en CASIA."),
                        "Clasificación: Consulta › Afiliación › Altas, bajas y variaciones de datos › Plazos de alta y baja",
                        title,
                        "Autorización: A1",
                        &format!("Fecha del aviso: {}", madrid_timestamp(n.at)),
                    ],
                );
            }
            NotificationKind::InformationRequested => {
                assert_eq!(
                    subject,
                    format!(
                        "CASIA {one}: se solicita información (plazo: {})",
                        short_date(deadline)
                    )
                );
                assert_body_has(
                    mail,
                    &[
                        &format!("  {OBSERVATION}\n"),
                        &format!("Plazo para aportarla: {deadline_line}"),
                        &format!("a partir de las 00:00 del {}", long_date(next_day)),
                    ],
                );
            }
            NotificationKind::DeadlineApproaching => {
                assert_eq!(
                    subject,
                    format!(
                        "CASIA {one}: el plazo para aportar información vence el {}",
                        short_date(deadline)
                    )
                );
                assert_body_has(mail, &[&format!("Puede aportarla {deadline_line}")]);
            }
            NotificationKind::CaseClosedExOfficio => {
                assert_eq!(subject, format!("CASIA {one}: caso cerrado de oficio"));
                assert_body_has(
                    mail,
                    &[&format!(
                        "que venció a las 23:59 del {} (hora de Madrid)",
                        long_date(deadline)
                    )],
                );
            }
            NotificationKind::CaseResolved => {
                assert_eq!(subject, format!("CASIA {two}: caso resuelto"));
                assert_body_has(mail, &[&format!("Resolución:\n  {RESOLUTION}\n")]);
            }
        }
    }
    assert_eq!(
        kinds,
        [
            NotificationKind::CaseSubmitted,
            NotificationKind::InformationRequested,
            NotificationKind::DeadlineApproaching,
            NotificationKind::CaseClosedExOfficio,
            NotificationKind::CaseSubmitted,
            NotificationKind::CaseResolved,
        ]
    );
    // The subject with a non-ASCII word travelled encoded (RFC 2047).
    let request = outbox
        .iter()
        .find(|m| m.notification.kind == NotificationKind::InformationRequested)
        .expect("request");
    let raw_subject = mail_of(&received, request.id)
        .header("Subject")
        .expect("subject");
    assert!(raw_subject.contains("=?utf-8?"), "{raw_subject}");

    // No address: dead at once, with the reason; the case is unaffected.
    let dead = w.store.list_dead(10).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].notification.case_number, three);
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("no contact address for authorization B2")
    );
    assert_eq!(dead[0].attempts, 1);
    // The operator sets the address and retries: it arrives.
    w.set_contact("B2", "b2@example.org").await;
    assert!(
        w.store
            .retry(dead[0].id, w.clock.now())
            .await
            .expect("retry")
    );
    let report = relay.run_until_idle().await.expect("relay");
    assert_eq!(report.delivered, 1);
    let received = sink.messages();
    let late = mail_of(&received, dead[0].id);
    assert_eq!(late.envelope_to, ["b2@example.org"]);
    assert_eq!(late.subject(), format!("CASIA {three}: caso registrado"));
    assert_eq!(w.store.dead_count().await.expect("dead"), 0);
    assert_eq!(w.store.backlog().await.expect("backlog"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_server_down_changes_succeed_and_every_notification_arrives_later() {
    let Some(python) =
        smtp_python("with_the_server_down_changes_succeed_and_every_notification_arrives_later")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sink = SmtpSink::start(&python, dir.path(), false);
    sink.stop();
    let w = sqlite_world().await;
    w.set_contact("A1", "gestoria@example.com").await;
    let relay = w.relay(&w.store, &sink.url(), config());

    let one = w.submit("A1", "Plazos de alta").await;
    let first = relay.run_once().await.expect("relay");
    assert_eq!((first.claimed, first.retrying, first.delivered), (1, 1, 0));
    // Mail is down; cases still change, and their notifications wait.
    w.run(one, Command::Assign { processor: None }).await;
    let requested = w
        .run(
            one,
            Command::RequestInformation {
                observation: OBSERVATION.into(),
            },
        )
        .await;
    assert!(requested.deadline.is_some());
    let second = relay.run_once().await.expect("relay");
    assert_eq!(
        (second.claimed, second.retrying),
        (1, 1),
        "only the new one is due"
    );
    let pending = w.store.pending(10).await.expect("pending");
    assert_eq!(pending.len(), 2);
    let retry_at = w.clock.now() + TimeDelta::seconds(60);
    for m in &pending {
        assert_eq!(m.attempts, 1);
        assert_eq!(m.next_attempt_at, Some(retry_at));
        let error = m.last_error.as_deref().unwrap_or_default();
        assert!(
            error.contains(&format!("127.0.0.1:{}", sink.port())),
            "{error}"
        );
    }
    assert_eq!(w.gauges().await, (2, 0), "backlog, dead");

    sink.restart();
    // Back, but the backoff is not over: nothing is sent yet.
    assert_eq!(relay.run_once().await.expect("relay").claimed, 0);
    assert!(sink.messages().is_empty());
    w.advance(TimeDelta::seconds(60));
    let report = relay.run_until_idle().await.expect("relay");
    assert_eq!(report.delivered, 2);
    let received = sink.messages();
    assert_eq!(received.len(), 2);
    let subjects: Vec<String> = received.iter().map(Received::subject).collect();
    assert!(subjects.contains(&format!("CASIA {one}: caso registrado")));
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("se solicita información"))
    );
    let outbox = w.store.outbox_snapshot().await.expect("outbox");
    assert!(
        outbox
            .iter()
            .all(|m| m.state == DeliveryState::Delivered && m.attempts == 2)
    );
    assert_eq!(w.store.backlog().await.expect("backlog"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_rejection_ends_dead_after_the_configured_attempts() {
    let Some(python) = smtp_python("a_permanent_rejection_ends_dead_after_the_configured_attempts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let rejecting = SmtpSink::start(&python, dir.path(), true);
    let w = sqlite_world().await;
    w.set_contact("A1", "gestoria@example.com").await;
    let relay = w.relay(&w.store, &rejecting.url(), config());
    let one = w.submit("A1", "Plazos de alta").await;

    let start = w.clock.now();
    let first = relay.run_once().await.expect("relay");
    assert_eq!(first.retrying, 1);
    let after_one = w.store.pending(1).await.expect("pending");
    assert_eq!(
        after_one[0].next_attempt_at,
        Some(start + TimeDelta::seconds(60))
    );
    let error = after_one[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("550"), "{error}");
    w.advance(TimeDelta::seconds(60));
    let second = relay.run_once().await.expect("relay");
    assert_eq!(second.retrying, 1);
    // The wait doubles.
    let after_two = w.store.pending(1).await.expect("pending");
    assert_eq!(
        after_two[0].next_attempt_at,
        Some(w.clock.now() + TimeDelta::seconds(120))
    );
    w.advance(TimeDelta::seconds(119));
    assert_eq!(relay.run_once().await.expect("relay").claimed, 0);
    w.advance(TimeDelta::seconds(1));
    let third = relay.run_once().await.expect("relay");
    assert_eq!((third.retrying, third.dead), (0, 1));

    let dead = w.store.list_dead(10).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].notification.case_number, one);
    assert_eq!(dead[0].attempts, 3);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{:?}",
        dead[0].last_error
    );
    assert_eq!(w.store.backlog().await.expect("backlog"), 0);
    w.advance(TimeDelta::days(1));
    assert_eq!(
        relay.run_once().await.expect("relay").claimed,
        0,
        "dead stays dead"
    );
    assert!(rejecting.messages().is_empty());
    assert_eq!(w.gauges().await, (0, 1), "backlog, dead");

    // The operator fixes the cause (here: another relay) and retries.
    let accepting_dir = tempfile::tempdir().expect("temp dir");
    let accepting = SmtpSink::start(&python, accepting_dir.path(), false);
    let fixed = w.relay(&w.store, &accepting.url(), config());
    assert!(
        w.store
            .retry(dead[0].id, w.clock.now())
            .await
            .expect("retry")
    );
    assert_eq!(fixed.run_until_idle().await.expect("relay").delivered, 1);
    assert_eq!(accepting.messages().len(), 1);
    assert_eq!(w.store.dead_count().await.expect("dead"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_dies_mid_send_is_replaced_once_its_lease_ends() {
    let Some(python) = smtp_python("a_relay_that_dies_mid_send_is_replaced_once_its_lease_ends")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(&python, dir.path(), false);
    let w = sqlite_world().await;
    w.set_contact("A1", "gestoria@example.com").await;
    w.submit("A1", "Plazos de alta").await;
    // A relay claims the message and dies before recording anything.
    let lost = w
        .store
        .claim_due(w.clock.now(), 10, TimeDelta::minutes(10))
        .await
        .expect("claim");
    assert_eq!(lost.len(), 1);
    let relay = w.relay(&w.store, &sink.url(), config());
    assert_eq!(relay.run_once().await.expect("relay").claimed, 0, "held");
    w.advance(TimeDelta::minutes(10));
    assert_eq!(relay.run_once().await.expect("relay").delivered, 1);
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    // The same Message-ID the dead relay would have used.
    assert_eq!(
        received[0].header("Message-ID"),
        Some(message_id(lost[0].id).as_str())
    );
    let outbox = w.store.outbox_snapshot().await.expect("outbox");
    assert_eq!(
        (outbox[0].state, outbox[0].attempts),
        (DeliveryState::Delivered, 2)
    );
}

/// STARTTLS and TLS relays: the certificate is verified (an unknown issuer
/// is a failed attempt), and trusted with `--smtp-ca-file`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_tls_relays_verify_the_certificate() {
    let Some(python) = smtp_python("starttls_and_tls_relays_verify_the_certificate") else {
        return;
    };
    for tls in [SinkTls::StartTls, SinkTls::Implicit] {
        let dir = tempfile::tempdir().expect("temp dir");
        let sink = SmtpSink::start_tls(&python, dir.path(), tls);
        let url = match tls {
            SinkTls::StartTls => format!("smtp://127.0.0.1:{}?tls=starttls", sink.port()),
            SinkTls::Implicit => format!("smtps://127.0.0.1:{}", sink.port()),
        };
        let w = sqlite_world().await;
        w.set_contact("A1", "gestoria@example.com").await;
        let one = w.submit("A1", "Plazos de alta").await;

        let untrusting = w.relay(&w.store, &url, config());
        let refused = untrusting.run_once().await.expect("relay");
        assert_eq!(refused.retrying, 1, "{tls:?}: {refused:?}");
        let pending = w.store.pending(1).await.expect("pending");
        let error = pending[0].last_error.clone().unwrap_or_default();
        assert!(
            error.to_lowercase().contains("certificate"),
            "{tls:?}: {error}"
        );
        assert!(sink.messages().is_empty());

        w.advance(TimeDelta::seconds(60));
        let trusting = w.relay_trusting(&w.store, &url, config(), Some(test_ca()));
        let report = trusting.run_until_idle().await.expect("relay");
        assert_eq!(report.delivered, 1, "{tls:?}: {report:?}");
        let received = sink.messages();
        assert_eq!(received.len(), 1);
        assert_eq!(
            received[0].subject(),
            format!("CASIA {one}: caso registrado")
        );
    }
}

/// Two relays, each on its own store instance of one database, drain the
/// outbox together: every message arrives exactly once.
async fn two_relays_deliver_each_message_once(python: &str, w: World, other: SqlStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(python, dir.path(), false);
    w.set_contact("A1", "gestoria@example.com").await;
    const CASES: usize = 40;
    for i in 0..CASES {
        w.submit("A1", &format!("Caso {i}")).await;
    }
    let small = RelayConfig {
        batch_size: 3,
        ..config()
    };
    let one = Arc::new(w.relay(&w.store, &sink.url(), small.clone()));
    let two = Arc::new(w.relay(&other, &sink.url(), small));
    let run = |relay: Arc<Relay>| tokio::spawn(async move { relay.run_until_idle().await });
    let (a, b) = (run(one), run(two));
    let a = a.await.expect("relay one").expect("relay one");
    let b = b.await.expect("relay two").expect("relay two");
    assert_eq!(a.delivered + b.delivered, CASES, "{a:?} {b:?}");
    assert!(
        a.delivered > 0 && b.delivered > 0,
        "both relays sent: {a:?} {b:?}"
    );

    let received = sink.messages();
    assert_eq!(received.len(), CASES, "each message once");
    let ids: BTreeSet<&str> = received
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), CASES, "distinct Message-IDs");
    let outbox = w.store.outbox_snapshot().await.expect("outbox");
    assert!(
        outbox
            .iter()
            .all(|m| m.state == DeliveryState::Delivered && m.attempts == 1),
        "each message claimed once"
    );
    for m in &outbox {
        assert!(ids.contains(message_id(m.id).as_str()));
    }
    other.close().await;
    w.store.drop_fresh().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_sqlite_file_deliver_each_message_once() {
    let Some(python) = smtp_python("two_relays_on_one_sqlite_file_deliver_each_message_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("casia.db").display());
    let open = || async {
        let store = SqlStore::connect(&url, &SqlOptions::default())
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        store
    };
    let (first, second) = (open().await, open().await);
    two_relays_deliver_each_message_once(&python, world(first), second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_postgres_deliver_each_message_once() {
    let test = "two_relays_on_one_postgres_deliver_each_message_once";
    let (Some(python), Some(url)) = (smtp_python(test), postgres_url(test)) else {
        return;
    };
    let first = SqlStore::connect_fresh(&url).await.expect("fresh schema");
    // A second pool on the same schema, as a second `casia serve` has.
    let pool = first.postgres_pool().expect("pool");
    let schema: String = casia_store_sql::sqlx::query_scalar("SELECT current_schema()::TEXT")
        .fetch_one(pool)
        .await
        .expect("schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    let second_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let second = SqlStore::connect(&second_url, &SqlOptions::default())
        .await
        .expect("second instance");
    two_relays_deliver_each_message_once(&python, world(first), second).await;
}
