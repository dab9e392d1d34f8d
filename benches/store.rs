//! Storage benchmarks (issue 7 targets), hand-timed: divan measures one
//! closure on one thread, and these need 16 concurrent submitters, p99
//! latencies and datasets of a million cases.
//!
//! - SQLite file (WAL): submitting one case per transaction, no
//!   attachments, from one task ≥ 3,000/s and ≥ 50 % of raw INSERTs of the
//!   same rows in the same run; search option 2 over 1,000,000 cases
//!   (10,000 authorizations) p99 ≤ 5 ms.
//! - PostgreSQL (`CASIA_TEST_POSTGRES_URL`; a visible skip line when
//!   unset): submitting from 16 concurrent tasks ≥ 2,000/s and ≥ 50 % of
//!   raw; the same search p99 ≤ 5 ms; sweeping 100,000 overdue cases
//!   ≤ 10 s.
//!
//! ```sh
//! CASIA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench --features sqlite,postgres --bench store
//! ```
//!
//! Without `--bench` (`cargo test --features sqlite,postgres --bench
//! store`) it is a small smoke run with the same checks. Sizes:
//! `CASIA_BENCH_CASES` (1,000,000), `CASIA_BENCH_AUTHORIZATIONS` (10,000),
//! `CASIA_BENCH_SEARCHES` (2,000), `CASIA_BENCH_SUBMISSIONS` per round
//! (2,000), `CASIA_BENCH_ROUNDS` (5), `CASIA_BENCH_TASKS` (16),
//! `CASIA_BENCH_OVERDUE` (100,000);
//! `CASIA_BENCH_ONLY=sqlite-submit,sqlite-search,pg-submit,pg-search,pg-sweep`
//! picks phases; `CASIA_BENCH_VARIANTS=0` skips the runs with the
//! durability settings under discussion; `CASIA_BENCH_DIR` holds the SQLite
//! files (default: the temp dir). Results and the machine are recorded in
//! docs/PERFORMANCE.md.
#![forbid(unsafe_code)]

mod support;

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

use casia::ports::{CaseRepository, Clock, FixedClock};
use casia::search::SearchInput;
use casia::store_sql::sqlx::{self, AssertSqlSafe, Row};
use casia::store_sql::{SqlOptions, SqlStore};
use casia::submission::validate_submission;
use casia::{Actor, CaseNumber, CaseRules, CaseService, CaseState, ClosedSubstatus, SubmitInput};
use chrono::{DateTime, Utc};

use casia_store_sql::writes::WriteRows;
use support::dataset::{
    self, Lived, OverdueSet, SearchSet, YEAR, at, mix, office_processor, province, rules,
};
use support::load;
use support::stats::{Latencies, median, ms, rate, verdict};
use support::{postgres as pg, sqlite};

// ------------------------------------------------------------------ config

struct Config {
    cases: u64,
    authorizations: u32,
    searches: usize,
    submissions: usize,
    rounds: usize,
    tasks: usize,
    overdue: u64,
    variants: bool,
    only: Option<Vec<String>>,
}

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|e| panic!("{name}={v:?}: {e}")),
        Err(_) => default,
    }
}

impl Config {
    fn from_env(full: bool) -> Config {
        // The smoke run (no `--bench`) checks everything on small sizes.
        let pick = |big: u64, small: u64| if full { big } else { small };
        let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Config {
            cases: env_num("CASIA_BENCH_CASES", pick(1_000_000, 3_000)).max(1),
            authorizations: u32::try_from(env_num("CASIA_BENCH_AUTHORIZATIONS", pick(10_000, 30)))
                .unwrap_or(u32::MAX)
                .max(1),
            searches: to_usize(env_num("CASIA_BENCH_SEARCHES", pick(2_000, 50))).max(1),
            submissions: to_usize(env_num("CASIA_BENCH_SUBMISSIONS", pick(2_000, 40))).max(1),
            rounds: to_usize(env_num("CASIA_BENCH_ROUNDS", pick(5, 2))).max(1),
            tasks: to_usize(env_num("CASIA_BENCH_TASKS", 16)).max(1),
            overdue: env_num("CASIA_BENCH_OVERDUE", pick(100_000, 300)).max(1),
            variants: env_num("CASIA_BENCH_VARIANTS", 1) != 0,
            only: std::env::var("CASIA_BENCH_ONLY")
                .ok()
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect()),
        }
    }

    fn wants(&self, phase: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|p| p == phase))
    }

    /// Submissions made before the measured rounds (statement caches, pool).
    fn warmup(&self) -> usize {
        self.submissions.min(50)
    }

    fn total_submissions(&self) -> usize {
        self.warmup() + self.rounds * self.submissions
    }
}

// ----------------------------------------------------------------- results

/// One line of the final table.
struct Outcome {
    backend: &'static str,
    benchmark: String,
    target: &'static str,
    measured: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Report(Vec<Outcome>);

impl Report {
    fn add(
        &mut self,
        backend: &'static str,
        benchmark: impl Into<String>,
        target: &'static str,
        measured: impl Into<String>,
        met: Option<bool>,
    ) {
        let o = Outcome {
            backend,
            benchmark: benchmark.into(),
            target,
            measured: measured.into(),
            met,
        };
        println!(
            "RESULT [{}] {}: {} (target {}) {}",
            o.backend,
            o.benchmark,
            o.measured,
            o.target,
            o.met.map(verdict).unwrap_or("")
        );
        self.0.push(o);
    }

    fn print(&self) {
        println!();
        println!("| backend | benchmark | target | measured | |");
        println!("| --- | --- | --- | --- | --- |");
        for o in &self.0 {
            println!(
                "| {} | {} | {} | {} | {} |",
                o.backend,
                o.benchmark,
                o.target,
                o.measured,
                o.met.map(verdict).unwrap_or("")
            );
        }
    }
}

// ------------------------------------------------------------------- main

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let config = Config::from_env(full);
    println!(
        "casia store benchmarks ({}): {} cores ({}), load average at start {}",
        if full {
            "full"
        } else {
            "smoke run; pass --bench for the full one"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        load_average()
    );
    println!(
        "sizes: search {} cases / {} authorizations / {} searches; submissions {} rounds × {} \
         (+{} warm-up) per side, {} PostgreSQL tasks; sweep {} overdue cases",
        config.cases,
        config.authorizations,
        config.searches,
        config.rounds,
        config.submissions,
        config.warmup(),
        config.tasks,
        config.overdue
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let report = runtime.block_on(run(&config));
    report.print();
    println!("load average at end {}", load_average());
}

async fn run(config: &Config) -> Report {
    let mut report = Report::default();
    if config.wants("sqlite-submit") {
        sqlite_submit(config, &mut report).await;
    }
    if config.wants("sqlite-search") {
        sqlite_search(config, &mut report).await;
    }
    let postgres = ["pg-submit", "pg-search", "pg-sweep"]
        .iter()
        .any(|p| config.wants(p));
    if postgres {
        match std::env::var("CASIA_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                pg::drop_stale(&url).await;
                if config.wants("pg-submit") {
                    pg_submit(config, &url, &mut report).await;
                }
                if config.wants("pg-search") {
                    pg_search(config, &url, &mut report).await;
                }
                if config.wants("pg-sweep") {
                    pg_sweep(config, &url, &mut report).await;
                }
            }
            _ => eprintln!("store benchmarks, postgres: skipped: CASIA_TEST_POSTGRES_URL not set"),
        }
    }
    report
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ------------------------------------------------------------- submitting

/// The instant every benchmarked submission is made at.
fn submit_instant() -> DateTime<Utc> {
    at("2026-11-05T09:00:00Z")
}

/// The submissions of the run, by index: who submits and what.
fn submission_inputs(config: &Config) -> Arc<Vec<(Actor, SubmitInput)>> {
    Arc::new(
        (0..config.total_submissions() as u64)
            .map(|k| {
                let a = u32::try_from(k % u64::from(config.authorizations)).unwrap_or(0);
                (dataset::user(a, k), dataset::submission(k))
            })
            .collect(),
    )
}

/// What the store writes for submission `k` under number `k + 1`: the raw
/// baseline inserts these (`rows[n - 1]` for the number `n` it takes), and
/// `lived[n - 1]` is what reading number `n` back must give.
fn precomputed(
    rules: &CaseRules,
    inputs: &[(Actor, SubmitInput)],
) -> (Vec<Lived>, Arc<Vec<WriteRows>>) {
    let lived: Vec<Lived> = inputs
        .iter()
        .enumerate()
        .map(|(k, (actor, input))| {
            let draft = validate_submission(actor, input, rules, submit_instant())
                .unwrap_or_else(|e| panic!("submission {k}: {e}"));
            let sequence = u32::try_from(k + 1).unwrap_or(u32::MAX);
            let number =
                CaseNumber::new(draft.year(), sequence).unwrap_or_else(|| panic!("number"));
            let created = draft.complete(number);
            Lived {
                case: created.case,
                notifications: created.notifications,
            }
        })
        .collect();
    let rows = lived.iter().map(Lived::rows).collect();
    (lived, Arc::new(rows))
}

type Op = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Runs `op(k)` for every `k` of `range` from `tasks` concurrent tasks;
/// returns the wall time and each operation's latency.
async fn drive(op: &Op, tasks: usize, range: Range<usize>) -> (Duration, Latencies) {
    let next = Arc::new(AtomicUsize::new(range.start));
    let end = range.end;
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let op = Arc::clone(op);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut latencies = Latencies::new();
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= end {
                        return latencies;
                    }
                    let t = Instant::now();
                    op(k).await;
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut all = Latencies::new();
    for h in handles {
        all.extend(h.await.unwrap_or_else(|e| panic!("submitting task: {e}")));
    }
    (started.elapsed(), all)
}

/// The measured submission rates of one configuration.
struct SubmitRates {
    store: f64,
    raw: f64,
    store_latency: Latencies,
    raw_latency: Latencies,
}

/// Warm-up, then `rounds` rounds of `submissions` per side, alternating
/// which side goes first; rates are the medians of the rounds.
async fn compare_submissions(config: &Config, tasks: usize, store: &Op, raw: &Op) -> SubmitRates {
    let warm = config.warmup();
    drive(store, tasks, 0..warm).await;
    drive(raw, tasks, 0..warm).await;
    let (mut store_rates, mut raw_rates) = (Vec::new(), Vec::new());
    let (mut store_latency, mut raw_latency) = (Latencies::new(), Latencies::new());
    for round in 0..config.rounds {
        let range = warm + round * config.submissions..warm + (round + 1) * config.submissions;
        let n = config.submissions as u64;
        let order: [(&Op, bool); 2] = if round % 2 == 0 {
            [(store, true), (raw, false)]
        } else {
            [(raw, false), (store, true)]
        };
        for (op, is_store) in order {
            let (elapsed, latencies) = drive(op, tasks, range.clone()).await;
            let r = rate(n, elapsed);
            if is_store {
                store_rates.push(r);
                store_latency.extend(latencies);
            } else {
                raw_rates.push(r);
                raw_latency.extend(latencies);
            }
        }
        println!(
            "  round {}: store {:.0}/s, raw {:.0}/s",
            round + 1,
            store_rates.last().copied().unwrap_or_default(),
            raw_rates.last().copied().unwrap_or_default()
        );
    }
    SubmitRates {
        store: median(&store_rates),
        raw: median(&raw_rates),
        store_latency,
        raw_latency,
    }
}

fn submit_op(service: &CaseService, inputs: &Arc<Vec<(Actor, SubmitInput)>>) -> Op {
    let service = service.clone();
    let inputs = Arc::clone(inputs);
    Arc::new(move |k| {
        let service = service.clone();
        let inputs = Arc::clone(&inputs);
        Box::pin(async move {
            let (actor, input) = &inputs[k];
            service
                .submit(actor, input)
                .await
                .unwrap_or_else(|e| panic!("submission {k}: {e}"));
        })
    })
}

fn service_on(store: &SqlStore, clock: Arc<dyn Clock>, rules: &Arc<CaseRules>) -> CaseService {
    CaseService::new(Arc::new(store.clone()), clock, Arc::clone(rules))
}

/// Both sides wrote every submission, and the raw rows read back through
/// the store as exactly the cases they were computed from.
async fn check_submissions(store: &SqlStore, raw: &SqlStore, lived: &[Lived], label: &str) {
    let submitted = CaseState::Open(casia::OpenSubstatus::Submitted);
    for (side, s) in [("store", store), ("raw", raw)] {
        let counts = s.count_by_state().await.unwrap_or_else(|e| panic!("{e}"));
        let n = counts
            .iter()
            .find(|(st, _)| *st == submitted)
            .map(|(_, n)| *n);
        assert_eq!(n, Some(lived.len() as u64), "[{label}] {side} submissions");
    }
    for k in [0, lived.len() / 2, lived.len() - 1] {
        let expected = &lived[k].case;
        let got = raw
            .get(expected.number)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got.as_ref(),
            Some(expected),
            "[{label}] raw row of {} differs",
            expected.number
        );
    }
}

fn record_submissions(
    report: &mut Report,
    backend: &'static str,
    setting: &str,
    who: &str,
    rates: &SubmitRates,
    target_rate: f64,
    target: &'static str,
) {
    println!("  store latency {}", rates.store_latency.summary());
    println!("  raw latency   {}", rates.raw_latency.summary());
    report.add(
        backend,
        format!("submit, {who}, {setting}: store"),
        target,
        format!(
            "{:.0}/s (p50 {}, p99 {})",
            rates.store,
            ms(rates.store_latency.percentile(50.0)),
            ms(rates.store_latency.percentile(99.0))
        ),
        Some(rates.store >= target_rate),
    );
    let ratio = rates.store / rates.raw.max(1e-9);
    report.add(
        backend,
        format!("submit, {who}, {setting}: store / raw"),
        "≥ 50 %",
        format!("{:.0} % (raw {:.0}/s)", ratio * 100.0, rates.raw),
        Some(ratio >= 0.5),
    );
}

async fn sqlite_submit(config: &Config, report: &mut Report) {
    println!("\n== SQLite: submitting from one task, one transaction per case");
    let rules = rules();
    let inputs = submission_inputs(config);
    let (lived, rows) = precomputed(&rules, &inputs);
    let mut settings: Vec<(&str, Option<&str>)> = vec![("as is", None)];
    if config.variants {
        settings.push(("synchronous=NORMAL", Some("NORMAL")));
    }
    for (setting, synchronous) in settings {
        let dir = sqlite::TempDir::new();
        let store = open_sqlite(&dir.url("store")).await;
        let raw = open_sqlite(&dir.url("raw")).await;
        let pools = [sqlite_writer(&store), sqlite_writer(&raw)];
        for pool in &pools {
            if let Some(mode) = synchronous {
                sqlx::query(AssertSqlSafe(format!("PRAGMA synchronous = {mode}")))
                    .execute(pool)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let before = synchronous_setting(&pools).await;
        println!(
            "  [{setting}] writer connections: PRAGMA synchronous = {before}, journal_mode = WAL"
        );
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(submit_instant()));
        let service = service_on(&store, clock, &rules);
        let store_op = submit_op(&service, &inputs);
        let raw_store = raw.clone();
        let raw_rows = Arc::clone(&rows);
        let raw_op: Op = Arc::new(move |k| {
            let store = raw_store.clone();
            let rows = Arc::clone(&raw_rows);
            Box::pin(async move {
                load::raw_submit(&store, YEAR, &rows)
                    .await
                    .unwrap_or_else(|e| panic!("raw submission {k}: {e}"));
            })
        });
        let rates = compare_submissions(config, 1, &store_op, &raw_op).await;
        // The setting held for the whole run (the writer was not replaced).
        assert_eq!(
            synchronous_setting(&pools).await,
            before,
            "PRAGMA synchronous changed"
        );
        check_submissions(&store, &raw, &lived, "sqlite").await;
        let label = format!("synchronous={before}");
        record_submissions(
            report,
            "sqlite",
            &label,
            "1 task",
            &rates,
            3000.0,
            "≥ 3,000/s",
        );
        if synchronous.is_none() {
            let mut conn = pools[1].acquire().await.unwrap_or_else(|e| panic!("{e}"));
            let mut trips = Latencies::new();
            for _ in 0..ROUND_TRIPS {
                let t = Instant::now();
                sqlx::query("SELECT 1")
                    .execute(&mut *conn)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                trips.push(t.elapsed());
            }
            record_round_trip(report, "sqlite", &trips);
        }
        store.close().await;
        raw.close().await;
    }
}

/// How many `SELECT 1` round trips the latency floor is measured over.
const ROUND_TRIPS: usize = 2_000;

/// One statement's round trip through sqlx on a held connection: the floor
/// under every statement of a submission (not a target; it explains the
/// raw baseline).
fn record_round_trip(report: &mut Report, backend: &'static str, trips: &Latencies) {
    println!("  `SELECT 1` round trip: {}", trips.summary());
    report.add(
        backend,
        "one statement's round trip (`SELECT 1`, held connection)",
        "—",
        format!(
            "p50 {}, p99 {}",
            ms(trips.percentile(50.0)),
            ms(trips.percentile(99.0))
        ),
        None,
    );
}

async fn open_sqlite(url: &str) -> SqlStore {
    let store = SqlStore::connect(url, &SqlOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    store
}

fn sqlite_writer(store: &SqlStore) -> sqlx::SqlitePool {
    store
        .sqlite_pool()
        .cloned()
        .unwrap_or_else(|| panic!("not a SQLite store"))
}

/// The `synchronous` setting of the writer connections, by name.
async fn synchronous_setting(pools: &[sqlx::SqlitePool]) -> String {
    let mut names = Vec::new();
    for pool in pools {
        let v: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        names.push(match v {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            _ => "?",
        });
    }
    names.dedup();
    names.join("/")
}

async fn pg_submit(config: &Config, url: &str, report: &mut Report) {
    let tasks = config.tasks;
    println!("\n== PostgreSQL: submitting from {tasks} concurrent tasks, one transaction per case");
    let rules = rules();
    let inputs = submission_inputs(config);
    let (lived, rows) = precomputed(&rules, &inputs);
    let mut settings: Vec<(&str, &[(&str, &str)])> = vec![("synchronous_commit=on", &[])];
    if config.variants {
        settings.push(("synchronous_commit=off", &[("synchronous_commit", "off")]));
    }
    let options = SqlOptions {
        max_connections: u32::try_from(tasks).unwrap_or(u32::MAX),
        ..SqlOptions::default()
    };
    for (setting, server) in settings {
        let store_schema = pg::Schema::create(url, "submit_store").await;
        let raw_schema = pg::Schema::create(url, "submit_raw").await;
        let store = open_postgres(&store_schema.url(server), &options).await;
        let raw = open_postgres(&raw_schema.url(server), &options).await;
        let shown: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(postgres_pool(&store))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        println!("  [{setting}] pool of {tasks}, server synchronous_commit = {shown}");
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(submit_instant()));
        let service = service_on(&store, clock, &rules);
        let store_op = submit_op(&service, &inputs);
        let raw_store = raw.clone();
        let raw_rows = Arc::clone(&rows);
        let raw_op: Op = Arc::new(move |k| {
            let store = raw_store.clone();
            let rows = Arc::clone(&raw_rows);
            Box::pin(async move {
                load::raw_submit(&store, YEAR, &rows)
                    .await
                    .unwrap_or_else(|e| panic!("raw submission {k}: {e}"));
            })
        });
        let rates = compare_submissions(config, tasks, &store_op, &raw_op).await;
        check_submissions(&store, &raw, &lived, "postgres").await;
        let who = format!("{tasks} tasks");
        record_submissions(
            report,
            "postgres",
            setting,
            &who,
            &rates,
            2000.0,
            "≥ 2,000/s",
        );
        if server.is_empty() {
            let mut conn = postgres_pool(&raw)
                .acquire()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut trips = Latencies::new();
            for _ in 0..ROUND_TRIPS {
                let t = Instant::now();
                sqlx::query("SELECT 1")
                    .execute(&mut *conn)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                trips.push(t.elapsed());
            }
            record_round_trip(report, "postgres", &trips);
        }
        store.close().await;
        raw.close().await;
        store_schema.drop().await;
        raw_schema.drop().await;
    }
}

async fn open_postgres(url: &str, options: &SqlOptions) -> SqlStore {
    let store = SqlStore::connect(url, options)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    store
}

fn postgres_pool(store: &SqlStore) -> &sqlx::PgPool {
    store
        .postgres_pool()
        .unwrap_or_else(|| panic!("not a PostgreSQL store"))
}

// ---------------------------------------------------------------- loading

const BATCH: u64 = 1_000;

/// Generates the rows of cases `0..total` on a thread of its own, in
/// batches, while the caller inserts the previous ones.
fn generate<F>(total: u64, make: F) -> Receiver<Vec<WriteRows>>
where
    F: Fn(&CaseRules, u64) -> Lived + Send + 'static,
{
    let (tx, rx) = sync_channel(8);
    std::thread::spawn(move || {
        let rules = rules();
        let mut start = 0;
        while start < total {
            let end = (start + BATCH).min(total);
            let batch = (start..end).map(|i| make(&rules, i).rows()).collect();
            if tx.send(batch).is_err() {
                return;
            }
            start = end;
        }
    });
    rx
}

fn next_batch(rx: &Receiver<Vec<WriteRows>>) -> impl FnMut() -> Option<Vec<WriteRows>> + '_ {
    || tokio::task::block_in_place(|| rx.recv().ok())
}

fn print_load(what: &str, loaded: u64, elapsed: Duration) {
    println!(
        "  loaded {loaded} {what} with the store's multi-row INSERTs in {:.1} s ({:.0} cases/s)",
        elapsed.as_secs_f64(),
        rate(loaded, elapsed)
    );
}

/// Some loaded cases read back through the store as the cases they were
/// computed from: the bulk rows are the store's rows.
async fn check_loaded(store: &SqlStore, total: u64, make: impl Fn(&CaseRules, u64) -> Lived) {
    let rules = rules();
    let picks = [0, total / 2, total - 1]
        .into_iter()
        .chain((0..10).map(|s| mix(s + 77) % total));
    for i in picks {
        let expected = make(&rules, i).case;
        let got = store
            .get(expected.number)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got.as_ref(),
            Some(&expected),
            "loaded row of {} differs",
            expected.number
        );
    }
}

// -------------------------------------------------------------- searching

/// How many cases of authorization `a` were submitted in `month`.
fn expected_hits(set: &SearchSet, a: u32, month: u32) -> usize {
    (u64::from(a)..set.cases)
        .step_by(set.authorizations as usize)
        .filter(|&i| set.month(i) == month)
        .count()
}

fn month_input(month: u32) -> SearchInput {
    let first = chrono::NaiveDate::from_ymd_opt(YEAR, month, 1).unwrap_or_default();
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    SearchInput {
        status: Some("all".into()),
        from: Some(first.to_string()),
        to: Some(last.to_string()),
        ..SearchInput::default()
    }
}

/// `count` searches by random users for random months (after an unmeasured
/// tenth as warm-up); every page is checked against the dataset.
async fn user_searches(service: &CaseService, set: &SearchSet, count: usize) -> Latencies {
    let mut latencies = Latencies::new();
    let warm = count / 10;
    for s in 0..(warm + count) as u64 {
        let r = mix(s ^ 0x5EA2C4);
        let a = u32::try_from(r % u64::from(set.authorizations)).unwrap_or(0);
        let month = u32::try_from((r >> 32) % 12).unwrap_or(0) + 1;
        let actor = dataset::user(a, s);
        let input = month_input(month);
        let t = Instant::now();
        let page = service
            .search(&actor, &input)
            .await
            .unwrap_or_else(|e| panic!("search: {e}"));
        let elapsed = t.elapsed();
        if s >= warm as u64 {
            latencies.push(elapsed);
        }
        let expected = expected_hits(set, a, month).min(50);
        assert_eq!(page.items.len(), expected, "search A{a:05} month {month}");
        let authorization = dataset::authorization(a);
        assert!(page.items.iter().all(|c| c.authorization == authorization));
    }
    latencies
}

/// Searches by the processors of random offices (not a target: a
/// processor's month is ~1/52 of all cases, a full page of 50).
async fn office_searches(service: &CaseService, count: usize) -> Latencies {
    let mut latencies = Latencies::new();
    for s in 0..count as u64 {
        let r = mix(s ^ 0x0FF1CE);
        let office = province(u32::try_from(r % 52).unwrap_or(0));
        let month = u32::try_from((r >> 32) % 12).unwrap_or(0) + 1;
        let t = Instant::now();
        let page = service
            .search(&office_processor(office), &month_input(month))
            .await
            .unwrap_or_else(|e| panic!("search: {e}"));
        latencies.push(t.elapsed());
        assert!(page.items.iter().all(|c| c.office == office));
    }
    latencies
}

/// The `cases` query the store runs for a user's search (its text in
/// `Repo::search`), for the plans.
const USER_SEARCH_SQL: &str = "SELECT number FROM cases WHERE submitted_at >= $1 \
     AND submitted_at < $2 AND authorization_id = $3 \
     ORDER BY submitted_at DESC, number DESC LIMIT $4";

fn search_service(store: &SqlStore, rules: &Arc<CaseRules>) -> CaseService {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(at("2027-01-10T09:00:00Z")));
    service_on(store, clock, rules)
}

async fn search_phase(
    config: &Config,
    backend: &'static str,
    store: &SqlStore,
    set: &SearchSet,
    report: &mut Report,
) {
    let rules = rules();
    let service = search_service(store, &rules);
    let latencies = user_searches(&service, set, config.searches).await;
    println!("  user searches: {}", latencies.summary());
    let p99 = latencies.percentile(99.0);
    report.add(
        backend,
        format!(
            "search option 2, a user's month, {} cases / {} authorizations",
            set.cases, set.authorizations
        ),
        "p99 ≤ 5 ms",
        format!("p50 {}, p99 {}", ms(latencies.percentile(50.0)), ms(p99)),
        Some(p99 <= Duration::from_millis(5)),
    );
    let offices = office_searches(&service, (config.searches / 10).max(10)).await;
    println!("  office searches (50 per page): {}", offices.summary());
    report.add(
        backend,
        "search option 2, a processor's month (page of 50)",
        "—",
        format!(
            "p50 {}, p99 {}",
            ms(offices.percentile(50.0)),
            ms(offices.percentile(99.0))
        ),
        None,
    );
}

async fn sqlite_search(config: &Config, report: &mut Report) {
    let set = SearchSet {
        cases: config.cases,
        authorizations: config.authorizations,
    };
    println!("\n== SQLite: search option 2 over {} cases", set.cases);
    let dir = sqlite::TempDir::new();
    let store = open_sqlite(&dir.url("search")).await;
    let pool = sqlite_writer(&store);
    let started = Instant::now();
    let rx = generate(set.cases, move |r, i| set.case(r, i));
    let loaded = load::load_batches(&store, YEAR, next_batch(&rx), true)
        .await
        .unwrap_or_else(|e| panic!("bulk load: {e}"));
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    print_load("cases", loaded, started.elapsed());
    println!(
        "  database file {:.0} MiB (no ANALYZE: the store does not run one)",
        dir.size("search") as f64 / 1048576.0
    );
    check_loaded(&store, set.cases, |r, i| set.case(r, i)).await;
    let plan = sqlx::query(AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {USER_SEARCH_SQL}"
    )))
    .bind(0_i64)
    .bind(i64::MAX)
    .bind("A00001")
    .bind(51_i64)
    .fetch_all(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for row in plan {
        let detail: String = row.try_get("detail").unwrap_or_default();
        println!("  plan: {detail}");
    }
    search_phase(config, "sqlite", &store, &set, report).await;
    store.close().await;
}

async fn pg_search(config: &Config, url: &str, report: &mut Report) {
    let set = SearchSet {
        cases: config.cases,
        authorizations: config.authorizations,
    };
    println!("\n== PostgreSQL: search option 2 over {} cases", set.cases);
    let schema = pg::Schema::create(url, "search").await;
    let store = open_postgres(&schema.url(&[]), &SqlOptions::default()).await;
    let pool = postgres_pool(&store).clone();
    let started = Instant::now();
    let rx = generate(set.cases, move |r, i| set.case(r, i));
    let loaded = load::load_batches(&store, YEAR, next_batch(&rx), true)
        .await
        .unwrap_or_else(|e| panic!("bulk load: {e}"));
    print_load("cases", loaded, started.elapsed());
    vacuum_analyze(&pool).await;
    check_loaded(&store, set.cases, |r, i| set.case(r, i)).await;
    let plan: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "EXPLAIN (ANALYZE, BUFFERS) {USER_SEARCH_SQL}"
    )))
    .bind(0_i64)
    .bind(i64::MAX)
    .bind("A00001")
    .bind(51_i64)
    .fetch_all(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for line in plan {
        println!("  plan: {line}");
    }
    search_phase(config, "postgres", &store, &set, report).await;
    store.close().await;
    schema.drop().await;
}

/// What autovacuum and the checkpointer would have done by the time a
/// loaded database serves (statistics, visibility map, the load's dirty
/// pages written out), done now rather than waited for.
async fn vacuum_analyze(pool: &sqlx::PgPool) {
    let started = Instant::now();
    sqlx::query("VACUUM (ANALYZE) cases, history, outbox, counters")
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("vacuum: {e}"));
    // CHECKPOINT needs a superuser or pg_checkpoint; without it the
    // checkpointer catches up during the measurement.
    let checkpoint = match sqlx::query("CHECKPOINT").execute(pool).await {
        Ok(_) => "CHECKPOINT",
        Err(_) => "no CHECKPOINT (not allowed for this role)",
    };
    println!(
        "  VACUUM (ANALYZE), {checkpoint} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// --------------------------------------------------------------- sweeping

async fn pg_sweep(config: &Config, url: &str, report: &mut Report) {
    let set = OverdueSet {
        cases: config.overdue,
        authorizations: config.authorizations,
    };
    println!("\n== PostgreSQL: sweeping {} overdue cases", set.cases);
    let schema = pg::Schema::create(url, "sweep").await;
    let store = open_postgres(&schema.url(&[]), &SqlOptions::default()).await;
    let pool = postgres_pool(&store).clone();
    let started = Instant::now();
    let rx = generate(set.cases, move |r, i| set.case(r, i));
    let loaded = load::load_batches(&store, YEAR, next_batch(&rx), true)
        .await
        .unwrap_or_else(|e| panic!("bulk load: {e}"));
    print_load("overdue cases", loaded, started.elapsed());
    vacuum_analyze(&pool).await;
    check_loaded(&store, set.cases, |r, i| set.case(r, i)).await;

    let t = Instant::now();
    let waiting = store
        .awaiting_information()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read_all = t.elapsed();
    assert_eq!(waiting.len() as u64, set.cases);
    drop(waiting);
    println!(
        "  awaiting_information() alone (the sweep's first read): {:.2} s",
        read_all.as_secs_f64()
    );

    let rules = rules();
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(set.sweep_at()));
    let service = service_on(&store, clock, &rules);
    let t = Instant::now();
    let swept = service
        .sweep()
        .await
        .unwrap_or_else(|e| panic!("sweep: {e}"));
    let elapsed = t.elapsed();
    assert_eq!(
        swept.closed.len() as u64,
        set.cases,
        "every overdue case closed"
    );
    assert!(swept.reminded.is_empty());
    let closed = CaseState::Closed(ClosedSubstatus::ClosedExOfficio);
    let counts = store
        .count_by_state()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let n = counts.iter().find(|(s, _)| *s == closed).map(|(_, n)| *n);
    assert_eq!(n, Some(set.cases), "closed_ex_officio in the store");
    println!(
        "  sweep closed {} cases in {:.2} s ({:.0} cases/s)",
        swept.closed.len(),
        elapsed.as_secs_f64(),
        rate(set.cases, elapsed)
    );
    report.add(
        "postgres",
        format!("sweep, {} overdue cases (CaseService::sweep)", set.cases),
        "≤ 10 s",
        format!(
            "{:.2} s ({:.0} cases/s)",
            elapsed.as_secs_f64(),
            rate(set.cases, elapsed)
        ),
        Some(elapsed <= Duration::from_secs(10)),
    );
    store.close().await;
    schema.drop().await;
}
