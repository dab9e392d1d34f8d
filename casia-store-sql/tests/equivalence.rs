//! The SQL stores behave as the in-memory reference store: the same
//! commands, run on both at the same instants, give the same outcomes, the
//! same cases read back (every field set: attachments, complementary data,
//! survey, resolution, deadline, reminder flag, internal history), the same
//! outbox, and the same search pages and work queues for every scope and
//! filter. SQLite in memory and on a file; PostgreSQL when
//! `CASIA_TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use casia_core::command::Command;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::search::SearchInput;
use casia_core::{Actor, CaseNumber, CaseService, OfficeCode, ServiceError, SubmitInput};
use casia_store_sql::SqlStore;
use chrono::{DateTime, Duration, Utc};

mod support;
use support::{
    Target, at, inquiry, nss_inquiry, pdf_attachment, postgres_url, processor, service, user,
};

/// The same service over the memory store and over a SQL store, one clock.
struct Twin {
    clock: Arc<FixedClock>,
    memory: Arc<MemoryStore>,
    sql: SqlStore,
    on_memory: CaseService,
    on_sql: CaseService,
    label: &'static str,
}

/// An outcome both sides can be compared on.
fn comparable<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> Result<T, String> {
    r.map_err(|e| match e.as_rule() {
        Some(rule) => rule.code().as_str().to_owned(),
        None => panic!("store failure: {e}"),
    })
}

impl Twin {
    fn new(sql: SqlStore, label: &'static str) -> Twin {
        let clock = Arc::new(FixedClock::new(at("2026-11-02T09:00:00Z")));
        let memory = Arc::new(MemoryStore::new());
        Twin {
            on_memory: service(memory.clone(), Arc::clone(&clock)),
            on_sql: service(Arc::new(sql.clone()), Arc::clone(&clock)),
            clock,
            memory,
            sql,
            label,
        }
    }

    fn set(&self, now: DateTime<Utc>) {
        self.clock.set(now);
    }

    fn advance(&self, by: Duration) {
        self.clock.set(self.clock_now() + by);
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use casia_core::ports::Clock;
        self.clock.now()
    }

    async fn submit(&self, actor: &Actor, input: &SubmitInput) -> CaseNumber {
        let m = comparable(self.on_memory.submit(actor, input).await);
        let s = comparable(self.on_sql.submit(actor, input).await);
        assert_eq!(m, s, "[{}] submit differs", self.label);
        m.expect("submission accepted").case.number
    }

    async fn run(&self, actor: &Actor, number: CaseNumber, command: Command) -> Result<(), String> {
        let m = comparable(self.on_memory.execute(actor, number, &command).await);
        let s = comparable(self.on_sql.execute(actor, number, &command).await);
        assert_eq!(m, s, "[{}] {command:?} differs", self.label);
        m.map(|_| ())
    }

    async fn ok(&self, actor: &Actor, number: CaseNumber, command: Command) {
        let shown = format!("{command:?}");
        self.run(actor, number, command)
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
    }

    async fn sweep(&self) -> casia_core::SweepReport {
        let m = comparable(self.on_memory.sweep().await);
        let s = comparable(self.on_sql.sweep().await);
        assert_eq!(m, s, "[{}] sweep differs", self.label);
        m.expect("sweep")
    }

    /// Every case, the outbox, counts and contents read back equal.
    async fn assert_same_state(&self, numbers: &[CaseNumber]) {
        for &n in numbers {
            let m = self.memory.get(n).await.expect("memory get");
            let s = CaseRepository::get(&self.sql, n).await.expect("sql get");
            assert!(m.is_some());
            assert_eq!(m, s, "[{}] case {n} reads back differently", self.label);
            let case = m.expect("case");
            for a in &case.attachments {
                assert_eq!(
                    self.memory
                        .attachment_content(n, a.id)
                        .await
                        .expect("memory"),
                    self.sql.attachment_content(n, a.id).await.expect("sql"),
                    "[{}] bytes of {n}/{}",
                    self.label,
                    a.id
                );
            }
            let code = &case.receipt.verification_code;
            assert_eq!(
                self.sql
                    .find_by_receipt_code(code)
                    .await
                    .expect("find")
                    .map(|c| c.number),
                Some(n)
            );
        }
        assert_eq!(
            self.memory.outbox_snapshot(),
            self.sql.outbox_snapshot().await.expect("outbox"),
            "[{}] outbox differs",
            self.label
        );
        assert_eq!(
            self.memory.count_by_state().await.expect("memory"),
            self.sql.count_by_state().await.expect("sql")
        );
        assert_eq!(
            self.memory.awaiting_information().await.expect("memory"),
            self.sql.awaiting_information().await.expect("sql")
        );
        assert_eq!(
            self.sql.find_by_receipt_code("NOPE").await.expect("find"),
            None
        );
    }

    /// Every page of a search, following cursors, equal on both sides.
    async fn assert_same_search(&self, actor: &Actor, input: &SearchInput) -> usize {
        let mut input = input.clone();
        let mut seen = 0;
        loop {
            let m = comparable(self.on_memory.search(actor, &input).await);
            let s = comparable(self.on_sql.search(actor, &input).await);
            assert_eq!(m, s, "[{}] search {input:?} as {actor:?}", self.label);
            let Ok(page) = m else { return seen };
            seen += page.items.len();
            match page.next_cursor {
                Some(c) => input.cursor = Some(c),
                None => return seen,
            }
        }
    }

    async fn assert_same_queue(&self, actor: &Actor) -> usize {
        let m = comparable(self.on_memory.queue(actor).await);
        let s = comparable(self.on_sql.queue(actor).await);
        assert_eq!(m, s, "[{}] queue of {actor:?}", self.label);
        m.map(|q| q.len()).unwrap_or(0)
    }
}

fn procedure(title: &str) -> SubmitInput {
    SubmitInput {
        case_type: "procedure".into(),
        materia: "inscripcion".into(),
        category: "empresas".into(),
        subcategory: "baja".into(),
        ..inquiry(title)
    }
}

// ------------------------------------------------------------- round trip

async fn every_field_round_trips_as_in_memory(twin: Twin) {
    let ana = user("A1", "ana", "28");
    let bea = user("A2", "bea", "08");
    let p1 = processor("p1", "28");
    let p2 = processor("p2", "28");
    let p3 = processor("p3", "08");

    // Case X: resolved and surveyed, with internal notes, a transfer and
    // a reclassification on the way.
    let x = twin.submit(&ana, &nss_inquiry("Alta con NAF", 11)).await;
    twin.advance(Duration::minutes(5));
    twin.ok(
        &ana,
        x,
        Command::AddDocumentation {
            comment: Some("  Adjunto el TA.1  ".into()),
            attachments: vec![pdf_attachment("other", "Modelo TA.1", 12)],
        },
    )
    .await;
    twin.ok(&p1, x, Command::Assign { processor: None }).await;
    twin.ok(
        &p1,
        x,
        Command::Escalate {
            note: "Nota interna".into(),
        },
    )
    .await;
    twin.ok(
        &p1,
        x,
        Command::Assign {
            processor: Some("p2".into()),
        },
    )
    .await;
    twin.ok(
        &p2,
        x,
        Command::Transfer {
            office: "08".into(),
            note: Some("Traslado".into()),
        },
    )
    .await;
    twin.ok(&p3, x, Command::Assign { processor: None }).await;
    twin.ok(
        &p3,
        x,
        Command::Reclassify {
            materia: "cotizacion".into(),
            category: "bases".into(),
            subcategory: "calculo".into(),
        },
    )
    .await;
    twin.advance(Duration::hours(3));
    twin.ok(
        &p3,
        x,
        Command::Resolve {
            resolution: "Resuelto: alta tramitada".into(),
        },
    )
    .await;
    twin.advance(Duration::days(2));
    twin.ok(
        &ana,
        x,
        Command::Survey {
            rating: 4,
            comment: Some("Rápido".into()),
        },
    )
    .await;
    assert_eq!(
        twin.run(
            &ana,
            x,
            Command::Survey {
                rating: 5,
                comment: None
            }
        )
        .await,
        Err("survey_already_submitted".into())
    );

    // Case Y: information requested, reminded, closed ex officio (deadline
    // and reminder flag kept).
    twin.set(at("2026-11-09T10:00:00Z"));
    let y = twin.submit(&bea, &procedure("Baja de empresa")).await;
    twin.ok(&p3, y, Command::Assign { processor: None }).await;
    twin.ok(
        &p3,
        y,
        Command::RequestInformation {
            observation: "Aporte la escritura".into(),
        },
    )
    .await;
    let deadline = twin
        .memory
        .get(y)
        .await
        .expect("get")
        .expect("case")
        .deadline
        .expect("deadline");
    twin.set(
        deadline
            .pred_opt()
            .expect("day before")
            .and_hms_opt(11, 0, 0)
            .expect("time")
            .and_utc(),
    );
    assert_eq!(twin.sweep().await.reminded, vec![y]);
    twin.set(deadline.and_hms_opt(12, 0, 0).expect("time").and_utc() + Duration::days(2));
    assert_eq!(twin.sweep().await.closed, vec![y]);

    // Case Z: cancelled by its author; W: still waiting in a queue.
    let z = twin.submit(&ana, &inquiry("Me equivoqué")).await;
    twin.ok(
        &ana,
        z,
        Command::Cancel {
            reason: Some("Duplicado".into()),
        },
    )
    .await;
    let w = twin.submit(&bea, &inquiry("Pendiente")).await;
    assert_eq!(
        twin.run(&p1, w, Command::Assign { processor: None }).await,
        Err("not_found".into())
    );

    let sql_x = CaseRepository::get(&twin.sql, x)
        .await
        .expect("get")
        .expect("case");
    assert_eq!(sql_x.attachments.len(), 2);
    assert!(sql_x.survey.is_some() && sql_x.resolution.is_some() && sql_x.closed_at.is_some());
    assert!(
        sql_x
            .history
            .iter()
            .any(|e| e.visibility == casia_core::Visibility::Internal)
    );
    assert!(sql_x.assignee.is_some() && sql_x.affects_current_period);
    let sql_y = CaseRepository::get(&twin.sql, y)
        .await
        .expect("get")
        .expect("case");
    assert_eq!(
        (sql_y.deadline, sql_y.reminder_sent),
        (Some(deadline), true)
    );
    twin.assert_same_state(&[x, y, z, w]).await;
    twin.sql.clone().drop_fresh().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_every_field_round_trips_as_in_memory() {
    let sql = SqlStore::connect_fresh("sqlite::memory:")
        .await
        .expect("fresh");
    every_field_round_trips_as_in_memory(Twin::new(sql, "sqlite::memory:")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_every_field_round_trips_as_in_memory() {
    let target = Target::sqlite_file("round-trip").await;
    every_field_round_trips_as_in_memory(Twin::new(target.store.clone(), "sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_field_round_trips_as_in_memory() {
    let Some(url) = postgres_url("postgres_every_field_round_trips_as_in_memory") else {
        return;
    };
    let target = Target::postgres(&url).await;
    every_field_round_trips_as_in_memory(Twin::new(target.store.clone(), "postgres")).await;
}

// ------------------------------------------------------- search and queue

/// Cases of two authorizations in two offices, at instants around the
/// Madrid month boundary and with ties, in every substate.
async fn populate(twin: &Twin) -> Vec<CaseNumber> {
    let ana = user("A1", "ana", "28");
    let luis = user("A1", "luis", "28");
    let bea = user("A2", "bea", "08");
    let p28 = processor("p1", "28");
    let p08 = processor("p3", "08");
    let instants = [
        "2026-10-31T22:59:59Z", // 31 Oct in Madrid
        "2026-10-31T23:00:00Z", // 1 Nov in Madrid
        "2026-11-03T10:00:00Z",
        "2026-11-03T10:00:00Z", // a tie: number decides
        "2026-11-03T10:00:00Z",
        "2026-11-10T08:30:00.123456Z",
        "2026-11-20T17:00:00Z",
        "2026-11-30T22:59:59.999999Z", // 30 Nov in Madrid
        "2026-11-30T23:00:00Z",        // 1 Dec in Madrid
    ];
    let mut numbers = Vec::new();
    for (i, instant) in instants.iter().enumerate() {
        twin.set(at(instant));
        for (k, author) in [&ana, &luis, &bea].into_iter().enumerate() {
            let mut input = match (i + k) % 3 {
                0 => inquiry(&format!("Consulta {i}-{k}")),
                1 => procedure(&format!("Trámite {i}-{k}")),
                _ => SubmitInput {
                    materia: "cotizacion".into(),
                    category: "bases".into(),
                    subcategory: "calculo".into(),
                    ..inquiry(&format!("Bases {i}-{k}"))
                },
            };
            input.affects_current_period = (i * 3 + k) % 4 == 0;
            let n = twin.submit(author, &input).await;
            let clerk = if k == 2 { &p08 } else { &p28 };
            match (i * 3 + k) % 7 {
                0 => {}
                1 => twin.ok(clerk, n, Command::Assign { processor: None }).await,
                2 => {
                    twin.ok(clerk, n, Command::Assign { processor: None }).await;
                    twin.ok(
                        clerk,
                        n,
                        Command::Escalate {
                            note: "Nota".into(),
                        },
                    )
                    .await;
                }
                3 => {
                    twin.ok(clerk, n, Command::Assign { processor: None }).await;
                    twin.ok(
                        clerk,
                        n,
                        Command::RequestInformation {
                            observation: "Falta".into(),
                        },
                    )
                    .await;
                }
                4 => twin.ok(author, n, Command::Cancel { reason: None }).await,
                5 => {
                    twin.ok(clerk, n, Command::Assign { processor: None }).await;
                    twin.ok(
                        clerk,
                        n,
                        Command::Resolve {
                            resolution: "Hecho".into(),
                        },
                    )
                    .await;
                }
                _ => {
                    let to = if k == 2 { "28" } else { "08" };
                    twin.ok(
                        clerk,
                        n,
                        Command::Transfer {
                            office: to.into(),
                            note: None,
                        },
                    )
                    .await;
                }
            }
            numbers.push(n);
        }
    }
    numbers
}

async fn search_and_queue_match_memory(twin: Twin) {
    let numbers = populate(&twin).await;
    twin.assert_same_state(&numbers).await;
    twin.set(at("2026-11-15T12:00:00Z"));
    let actors = [
        user("A1", "ana", "28"),
        user("A2", "bea", "08"),
        processor("p1", "28"),
        processor("p3", "08"),
        processor("p9", "41"),
        Actor::System,
    ];
    let ranges: [(Option<&str>, Option<&str>); 5] = [
        (None, None),
        (Some("2026-11-01"), Some("2026-11-30")),
        (Some("2026-10-01"), Some("2026-10-31")),
        (Some("2026-11-03"), Some("2026-11-10")),
        (Some("2026-12-01"), Some("2026-12-31")),
    ];
    let mut searches = 0;
    let mut found = 0;
    for actor in &actors {
        for status in ["all", "open", "closed", "bogus"] {
            for substatus in [
                None,
                Some("submitted"),
                Some("information_requested"),
                Some("cancelled"),
            ] {
                for (from, to) in ranges {
                    let input = SearchInput {
                        status: Some(status.into()),
                        substatus: substatus.map(Into::into),
                        from: from.map(Into::into),
                        to: to.map(Into::into),
                        limit: Some(2),
                        ..SearchInput::default()
                    };
                    found += twin.assert_same_search(actor, &input).await;
                    searches += 1;
                }
            }
        }
        for (field, value) in [
            ("case_type", "procedure"),
            ("case_type", "inquiry"),
            ("materia", "cotizacion"),
            ("created_by", "luis"),
            ("created_by", "nobody"),
        ] {
            let mut input = SearchInput {
                status: Some("all".into()),
                from: Some("2026-11-01".into()),
                to: Some("2026-11-30".into()),
                ..SearchInput::default()
            };
            match field {
                "case_type" => input.case_type = Some(value.into()),
                "materia" => input.materia = Some(value.into()),
                _ => input.created_by = Some(value.into()),
            }
            found += twin.assert_same_search(actor, &input).await;
            searches += 1;
        }
    }
    eprintln!(
        "[{}] {searches} searches, {found} results compared",
        twin.label
    );
    assert!(found > 200, "the grid should find cases, found {found}");
    let mut queued = 0;
    for office in ["28", "08", "41"] {
        queued += twin.assert_same_queue(&processor("p0", office)).await;
    }
    assert!(queued > 5, "the queues should hold cases, held {queued}");
    assert_eq!(
        twin.assert_same_queue(&user("A1", "ana", "28")).await,
        0,
        "users have no queue"
    );
    let office: OfficeCode = "28".parse().expect("office");
    assert_eq!(
        twin.memory.queue(office).await.expect("memory"),
        twin.sql.queue(office).await.expect("sql")
    );
    twin.sql.clone().drop_fresh().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_search_and_queue_match_memory() {
    let sql = SqlStore::connect_fresh("sqlite::memory:")
        .await
        .expect("fresh");
    search_and_queue_match_memory(Twin::new(sql, "sqlite::memory:")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_search_and_queue_match_memory() {
    let Some(url) = postgres_url("postgres_search_and_queue_match_memory") else {
        return;
    };
    let target = Target::postgres(&url).await;
    search_and_queue_match_memory(Twin::new(target.store.clone(), "postgres")).await;
}
