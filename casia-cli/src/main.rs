//! The `casia` binary (HTTP.md "Command line"): `serve`, `migrate`,
//! `sweep`, `token`, `contact`, `outbox`, `conformance`, `catalog check`,
//! `calendar check` and `calendar deadline`. Flags are parsed here; the work
//! is in [`commands`] and `casia-conformance`.
#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use casia_conformance::{MemoryStoreFactory, run_paths};
use casia_core::attachment::AttachmentLimits;
use casia_core::calendar::{Coverage, HolidayCalendar, NonBusinessReason};
use casia_core::catalog::Catalog;
use casia_core::deadline::DeadlineQuery;
use casia_core::ids::Community;
use casia_core::{Actor, AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};
use casia_mail::relay::RelayConfig;

use crate::commands::{self as server, DatabaseChoice, MailOptions, RuleFiles, ServeOptions};

mod commands;
mod database;
mod secret;

/// mimalloc: a request allocates many small, short-lived values; glibc's
/// malloc spent a fifth of a search page's CPU on them (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default `--database`: an SQLite file in the working directory.
const DEFAULT_DATABASE: &str = "sqlite:casia.db?mode=rwc";

#[derive(Parser)]
#[command(
    name = "casia",
    version,
    about = "CASIA case service for autorizados del Sistema RED"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct DatabaseArgs {
    /// `memory`, `sqlite:FILE?mode=rwc` or `postgres://…`.
    #[arg(long, env = "CASIA_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    database: String,
    /// Where the development signing secret is kept when CASIA_JWT_SECRET
    /// is unset (default: beside the database, e.g. `casia.db.secret`).
    #[arg(long, env = "CASIA_SECRET_FILE")]
    secret_file: Option<PathBuf>,
    /// Where attachment bytes are kept: a folder, or `s3://bucket/prefix`
    /// (endpoint and credentials from the usual AWS_* variables). Default:
    /// beside the SQLite file (`casia.db.blobs`), or `casia-blobs` in the
    /// working directory for PostgreSQL.
    #[arg(long, env = "CASIA_BLOBS")]
    blobs: Option<String>,
}

impl DatabaseArgs {
    fn choice(&self) -> DatabaseChoice {
        DatabaseChoice {
            url: self.database.clone(),
            secret_file: self.secret_file.clone(),
            blobs: self.blobs.clone().filter(|b| !b.trim().is_empty()),
        }
    }
}

#[derive(Args, Clone)]
struct RuleArgs {
    /// Catalog file (JSON, DOMAIN.md §2); default: the shipped catalog.
    #[arg(long, env = "CASIA_CATALOG")]
    catalog: Option<PathBuf>,
    /// Holiday calendar file (JSON, DOMAIN.md §5); default: the shipped one.
    #[arg(long, env = "CASIA_CALENDAR")]
    calendar: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct LimitArgs {
    /// Largest single attachment, bytes.
    #[arg(long, env = "CASIA_MAX_ATTACHMENT_BYTES", default_value_t = AttachmentLimits::default().max_attachment_bytes)]
    max_attachment_bytes: u64,
    /// Most attachments one case may hold.
    #[arg(long, env = "CASIA_MAX_ATTACHMENTS", default_value_t = AttachmentLimits::default().max_attachments)]
    max_attachments: usize,
    /// Largest total of one case's attachments, bytes; the request body
    /// limit is this plus 1 MiB.
    #[arg(long, env = "CASIA_MAX_TOTAL_BYTES", default_value_t = AttachmentLimits::default().max_total_bytes)]
    max_total_bytes: u64,
}

/// How `serve` sends notifications (README "Sending e-mail").
#[derive(Args, Clone)]
struct MailArgs {
    /// SMTP relay for notifications: `smtp://host:port` (plain),
    /// `smtp://host:port?tls=starttls`, `smtps://host:port` (TLS), each
    /// with an optional `user:password@`. Without it notifications wait in
    /// the outbox.
    #[arg(long, env = "CASIA_SMTP_URL")]
    smtp: Option<String>,
    /// The From of notification mail, e.g. `CASIA <avisos@example.es>`.
    #[arg(long, env = "CASIA_MAIL_FROM", default_value = casia_mail::message::DEFAULT_FROM)]
    mail_from: String,
    /// Domain of Message-IDs and the EHLO name (default: the From domain).
    #[arg(long, env = "CASIA_MAIL_DOMAIN")]
    mail_domain: Option<String>,
    /// Seconds one message's delivery may take, connection included.
    #[arg(long, env = "CASIA_SMTP_TIMEOUT", default_value_t = 30)]
    smtp_timeout: u64,
    /// PEM file of extra root certificates to trust for the relay's TLS.
    #[arg(long, env = "CASIA_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// Notifications claimed per relay pass.
    #[arg(long, env = "CASIA_RELAY_BATCH", default_value_t = RelayConfig::default().batch_size)]
    relay_batch: usize,
    /// Seconds between relay passes when the outbox is drained.
    #[arg(long, env = "CASIA_RELAY_INTERVAL", default_value_t = RelayConfig::default().poll_interval.as_secs())]
    relay_interval: u64,
    /// Seconds a claimed batch is held by this relay (> batch × timeout).
    #[arg(long, env = "CASIA_RELAY_LEASE", default_value_t = RelayConfig::default().lease.as_secs())]
    relay_lease: u64,
    /// Attempts before a notification is dead.
    #[arg(long, env = "CASIA_RELAY_MAX_ATTEMPTS", default_value_t = RelayConfig::default().max_attempts)]
    relay_max_attempts: u32,
    /// Seconds to wait after the first failed attempt; doubles each time.
    #[arg(long, env = "CASIA_RELAY_BACKOFF", default_value_t = RelayConfig::default().backoff_base.as_secs())]
    relay_backoff: u64,
    /// The longest wait between attempts, seconds.
    #[arg(long, env = "CASIA_RELAY_BACKOFF_CAP", default_value_t = RelayConfig::default().backoff_cap.as_secs())]
    relay_backoff_cap: u64,
}

impl MailArgs {
    fn options(self) -> MailOptions {
        MailOptions {
            smtp: self.smtp.filter(|s| !s.trim().is_empty()),
            from: self.mail_from,
            domain: self.mail_domain,
            timeout: Duration::from_secs(self.smtp_timeout.max(1)),
            ca_file: self.smtp_ca_file,
            relay: RelayConfig {
                batch_size: self.relay_batch,
                lease: Duration::from_secs(self.relay_lease),
                max_attempts: self.relay_max_attempts,
                backoff_base: Duration::from_secs(self.relay_backoff),
                backoff_cap: Duration::from_secs(self.relay_backoff_cap),
                poll_interval: Duration::from_secs(self.relay_interval.max(1)),
            },
        }
    }
}

/// How `serve` bounds connections, memory and the open receipt endpoint
/// (issue 16; casia-http/README.md "Limits").
#[derive(Args, Clone)]
struct ConnectionArgs {
    /// Seconds a connection may take to send a complete request head, from
    /// connecting or from its previous response; then it is closed.
    #[arg(long, env = "CASIA_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout: u64,
    /// Most connections open at once; further ones wait to be accepted.
    #[arg(long, env = "CASIA_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds in-flight requests may take to finish after SIGTERM/SIGINT.
    #[arg(long, env = "CASIA_SHUTDOWN_GRACE", default_value_t = 30)]
    shutdown_grace: u64,
    /// MiB of request bodies held in memory across all requests; over it,
    /// new requests are answered 503 with Retry-After.
    #[arg(long, env = "CASIA_BODY_BUDGET_MIB", default_value_t = 256)]
    body_budget_mib: u64,
    /// Receipt verifications per second per client address.
    #[arg(long, env = "CASIA_RECEIPT_RATE", default_value_t = 10)]
    receipt_rate: u32,
    /// The burst of receipt verifications per client address.
    #[arg(long, env = "CASIA_RECEIPT_BURST", default_value_t = 50)]
    receipt_burst: u32,
}

/// Which tokens `serve` accepts (issue 16; HTTP.md "Authentication").
#[derive(Args, Clone)]
struct TokenArgs {
    /// An identity provider's JWK set, a file or an http(s) URL: RS256,
    /// ES256 and EdDSA tokens whose `kid` it holds are accepted (a URL is
    /// fetched again on an unknown kid, at most once a minute, and hourly).
    #[arg(long, env = "CASIA_JWT_JWKS")]
    jwt_jwks: Option<String>,
    /// The `iss` every token must carry.
    #[arg(long, env = "CASIA_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The `aud` every token must carry.
    #[arg(long, env = "CASIA_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// Seconds a token's `exp` may lie ahead of now at most.
    #[arg(long, env = "CASIA_JWT_MAX_TTL", default_value_t = 86_400)]
    jwt_max_ttl: u64,
}

/// How `serve` writes its log (standard error).
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (request id, route, status, problem code,
    /// latency in ms as a number), for log collectors.
    Json,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// An autorizado's user (needs --authorization, --user, --province).
    User,
    /// A processor at a provincial office (needs --processor and --office).
    Processor,
    /// The system itself (sweeps, outbox).
    System,
}

// `Serve` carries every flag of the service; the value is parsed once.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Serve the HTTP API (migrates on start, sweeps in the background).
    Serve {
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "CASIA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        mail: MailArgs,
        /// Seconds between background deadline sweeps; 0 disables them.
        #[arg(long, env = "CASIA_SWEEP_INTERVAL", default_value_t = 60)]
        sweep_interval: u64,
        /// Seconds a request may take before it is answered 503.
        #[arg(long, env = "CASIA_REQUEST_TIMEOUT", default_value_t = 30)]
        request_timeout: u64,
        /// The base URL people reach the service at, e.g.
        /// `https://casia.example.es`: receipts print their verification
        /// link (and its QR code) under it. Default: `http://LISTEN`.
        #[arg(long, env = "CASIA_PUBLIC_URL")]
        public_url: Option<String>,
        /// Log format on standard error; the `casia listening on` line goes
        /// to standard output in either.
        #[arg(long, env = "CASIA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        #[command(flatten)]
        connections: ConnectionArgs,
        #[command(flatten)]
        tokens: TokenArgs,
        /// Offer the development sign-in form of the web pages at
        /// `/entrar` (pick a role and identity, no password). Refused with
        /// CASIA_JWT_SECRET or --jwt-jwks: only with the development
        /// secret kept beside the database.
        #[arg(long, env = "CASIA_DEV_LOGIN")]
        dev_login: bool,
    },
    /// Apply the database migrations.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Run the deadline sweep once and print what it closed and reminded.
    Sweep {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Mint a development token signed with the service's secret.
    Token {
        /// Whose token: a user (autorizado), a processor or the system.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The authorization id (users).
        #[arg(long)]
        authorization: Option<String>,
        /// The user id (users).
        #[arg(long)]
        user: Option<String>,
        /// Two-digit province of the authorization (users).
        #[arg(long)]
        province: Option<String>,
        /// The processor id (processors).
        #[arg(long)]
        processor: Option<String>,
        /// Two-digit office code (processors).
        #[arg(long)]
        office: Option<String>,
        /// Validity in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// The e-mail address notifications of an authorization go to.
    Contact {
        #[command(subcommand)]
        command: ContactCmd,
    },
    /// The notification outbox: list pending or dead ones, retry dead ones.
    Outbox {
        #[command(subcommand)]
        command: OutboxCmd,
    },
    /// Run conformance scenario files or folders (CONFORMANCE.md).
    Conformance {
        /// Scenario files or folders of `*.json`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The store each scenario runs on: `memory`, `sqlite::memory:` or
        /// `postgres://…` (a fresh database or schema per scenario).
        #[arg(long, default_value = "memory")]
        store: String,
    },
    /// Catalog tools.
    Catalog {
        #[command(subcommand)]
        command: CatalogCmd,
    },
    /// Holiday calendar tools: check a file, explain a deadline.
    Calendar {
        #[command(subcommand)]
        command: CalendarCmd,
    },
    /// A consistent copy of a live SQLite database into a new file
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// The new file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// The attachment blob store: collect orphans, verify, migrate bytes
    /// out of the database.
    Blobs {
        #[command(subcommand)]
        command: BlobsCmd,
    },
    /// Shell completions for bash, zsh or fish, printed on standard output.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Validate a calendar file; print the years it covers, per community
    /// (exit 1 on a malformed file, naming the JSON path of the fault).
    Check {
        /// The calendar file (JSON, DOMAIN.md §5).
        file: PathBuf,
    },
    /// The documentation deadline of a request (DOMAIN.md §5), with every
    /// non-business day skipped and why.
    Deadline {
        /// The Madrid date of the request, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// How many days (1–365).
        #[arg(long)]
        days: String,
        /// `business` or `calendar`.
        #[arg(long)]
        unit: String,
        /// The authorization's province (01–52).
        #[arg(long)]
        province: String,
        /// The office, by its province code (01–52).
        #[arg(long)]
        office: String,
        /// Holiday calendar file (default: the shipped one).
        #[arg(long, env = "CASIA_CALENDAR")]
        calendar: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ContactCmd {
    /// Set (or replace) the address of an authorization.
    Set {
        /// The authorization id (DOMAIN.md §1), e.g. `A0000001`.
        authorization: String,
        /// The notification address, `local@domain`, at most 254 bytes.
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the address of an authorization (exit 1 when there is none).
    Get {
        /// The authorization id (DOMAIN.md §1).
        authorization: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum OutboxCmd {
    /// Pending notifications (or dead ones with --dead), oldest first, as
    /// tab-separated lines.
    List {
        /// Dead notifications instead of pending ones.
        #[arg(long)]
        dead: bool,
        /// The most notifications to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Make a dead notification pending again (attempts reset).
    Retry {
        /// The notification id, as `outbox list` prints it.
        id: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Validate a catalog file; print every fault with its JSON path.
    Check {
        /// The catalog file (JSON, DOMAIN.md §2).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum BlobsCmd {
    /// Delete blobs no attachment references and nothing put for the grace
    /// period (the orphans of commands that failed after writing a file).
    Gc {
        /// Minutes an unreferenced blob is kept after it was last put (at
        /// least 5: a command between its file and its row must not lose
        /// the file).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..))]
        grace_minutes: u32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Re-hash every blob the database references; exit 1 on any missing
    /// or corrupt one.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Move attachment bytes kept in the database into the blob store, in
    /// batches; safe to interrupt, resume, and run while serving.
    Migrate {
        /// Attachments moved per batch (each up to the per-file limit in
        /// memory at once).
        #[arg(long, default_value_t = 16)]
        batch: usize,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Serve {
            listen,
            database,
            rules,
            limits,
            mail,
            sweep_interval,
            request_timeout,
            public_url,
            log_format,
            connections,
            tokens,
            dev_login,
        } => serve(
            log_format,
            ServeOptions {
                listen,
                database: database.choice(),
                rules: rule_files(&rules, &limits),
                mail: mail.options(),
                sweep_interval: (sweep_interval > 0).then(|| Duration::from_secs(sweep_interval)),
                request_timeout: Duration::from_secs(request_timeout.max(1)),
                public_url,
                server: casia_http::server::ServerLimits {
                    header_read_timeout: Duration::from_secs(connections.header_timeout.max(1)),
                    max_connections: connections.max_connections.max(1),
                    shutdown_grace: Duration::from_secs(connections.shutdown_grace),
                },
                body_budget_bytes: connections.body_budget_mib.saturating_mul(1024 * 1024),
                receipt_rate: (connections.receipt_rate, connections.receipt_burst),
                tokens: server::TokenOptions {
                    jwks: tokens.jwt_jwks.filter(|s| !s.trim().is_empty()),
                    policy: casia_http::auth::TokenPolicy {
                        issuer: tokens.jwt_issuer.filter(|s| !s.trim().is_empty()),
                        audience: tokens.jwt_audience.filter(|s| !s.trim().is_empty()),
                        max_ttl: Duration::from_secs(tokens.jwt_max_ttl.max(1)),
                    },
                },
                dev_login,
            },
        ),
        Cmd::Migrate { database } => {
            with_runtime(
                |rt| match rt.block_on(server::migrate(&database.choice())) {
                    Ok(message) => {
                        println!("{message}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail_start(&e),
                },
            )
        }
        Cmd::Sweep { database, rules } => with_runtime(|rt| {
            let files = RuleFiles {
                catalog: rules.catalog,
                calendar: rules.calendar,
                limits: AttachmentLimits::default(),
            };
            match rt.block_on(server::sweep_once(&database.choice(), &files)) {
                Ok(report) => {
                    let list = |v: &[casia_core::CaseNumber]| {
                        v.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    println!("closed: {} {}", report.closed.len(), list(&report.closed));
                    println!(
                        "reminded: {} {}",
                        report.reminded.len(),
                        list(&report.reminded)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail_start(&e),
            }
        }),
        Cmd::Token {
            role,
            authorization,
            user,
            province,
            processor,
            office,
            ttl,
            database,
        } => {
            let actor = match token_actor(role, authorization, user, province, processor, office) {
                Ok(a) => a,
                Err(message) => {
                    eprintln!("casia: {message}");
                    return ExitCode::from(2);
                }
            };
            match server::mint_token(&database.choice(), &actor, Duration::from_secs(ttl)) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail_start(&e),
            }
        }
        Cmd::Contact { command } => contact(command),
        Cmd::Outbox { command } => outbox(command),
        Cmd::Conformance { paths, store } => conformance(&paths, &store),
        Cmd::Catalog {
            command: CatalogCmd::Check { file },
        } => catalog_check(&file),
        Cmd::Calendar {
            command: CalendarCmd::Check { file },
        } => calendar_check(&file),
        Cmd::Backup { to, database } => {
            with_runtime(
                |rt| match rt.block_on(server::backup(&database.choice(), &to)) {
                    Ok(()) => {
                        println!("backup written to {}", to.display());
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail_start(&e),
                },
            )
        }
        Cmd::Blobs { command } => with_runtime(|rt| {
            let (database, action) = match command {
                BlobsCmd::Gc {
                    grace_minutes,
                    database,
                } => (
                    database,
                    server::BlobAction::Collect {
                        grace: chrono::TimeDelta::minutes(i64::from(grace_minutes)),
                    },
                ),
                BlobsCmd::Verify { database } => (database, server::BlobAction::Verify),
                BlobsCmd::Migrate { batch, database } => {
                    (database, server::BlobAction::Migrate { batch })
                }
            };
            match rt.block_on(server::blobs(&database.choice(), action)) {
                Ok((text, ok)) => {
                    println!("{text}");
                    if ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => fail_start(&e),
            }
        }),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "casia",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Cmd::Calendar {
            command:
                CalendarCmd::Deadline {
                    from,
                    days,
                    unit,
                    province,
                    office,
                    calendar,
                },
        } => calendar_deadline(
            [&from, &days, &unit, &province, &office],
            calendar.as_deref(),
        ),
    }
}

fn read_calendar(file: &std::path::Path) -> Result<HolidayCalendar, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    HolidayCalendar::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))
}

fn calendar_check(file: &std::path::Path) -> ExitCode {
    let calendar = match read_calendar(file) {
        Ok(c) => c,
        Err(e) => {
            println!("{e}");
            println!("1 fault(s)");
            return ExitCode::FAILURE;
        }
    };
    let years: Vec<i32> = match calendar.coverage() {
        Coverage::Every => {
            println!(
                "{}: ok (no dates: no holidays in any year, weekends only)",
                file.display()
            );
            return ExitCode::SUCCESS;
        }
        Coverage::Years(y) => y.iter().copied().collect(),
    };
    println!("{}: ok", file.display());
    for year in &years {
        let source = calendar.sources().get(year).map_or_else(
            || "source not given".to_owned(),
            |s| format!("{}: {}", s.status.as_str(), s.reference),
        );
        println!(
            "{year}: {} national days ({source})",
            calendar.national_count(*year)
        );
    }
    let mut gaps = 0;
    for community in Community::ALL {
        let covered: Vec<String> = years
            .iter()
            .map(|y| match calendar.regional_count(community, *y) {
                0 => {
                    gaps += 1;
                    format!("{y}: none")
                }
                n => format!("{y}: {n}"),
            })
            .collect();
        println!(
            "{} {}: {}",
            community.iso_code(),
            community.name(),
            covered.join(", ")
        );
    }
    for year in &years {
        for (province, n) in calendar.local_counts(*year) {
            println!("local {province} {year}: {n}");
        }
    }
    if gaps > 0 {
        println!(
            "warning: {gaps} community-year(s) list no regional day; check them against the BOE list"
        );
    }
    ExitCode::SUCCESS
}

fn calendar_deadline(args: [&str; 5], file: Option<&std::path::Path>) -> ExitCode {
    let [from, days, unit, province, office] = args;
    let query = match DeadlineQuery::parse(from, days, unit, province, office) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("casia: --{}: {e}", e.field().unwrap_or("from"));
            return ExitCode::from(2);
        }
    };
    let calendar = match file {
        None => HolidayCalendar::default_calendar(),
        Some(f) => match read_calendar(f) {
            Ok(c) => c,
            Err(e) => return fail(&e),
        },
    };
    let e = query.explain(&calendar);
    println!("deadline: {}", e.deadline);
    for day in &e.skipped {
        let reasons: Vec<String> = day.reasons.iter().map(describe_reason).collect();
        println!(
            "skipped: {} {} {}",
            day.date,
            day.date.format("%a"),
            reasons.join("; ")
        );
    }
    for year in &e.uncovered_years {
        println!(
            "warning: the calendar does not cover {year}: only weekends and the unmovable national days counted"
        );
    }
    ExitCode::SUCCESS
}

fn describe_reason(r: &NonBusinessReason) -> String {
    let named = |what: String, name: &Option<String>| match name {
        Some(n) => format!("{what}: {n}"),
        None => what,
    };
    match r {
        NonBusinessReason::Weekend => "weekend".into(),
        NonBusinessReason::National { name } => named("national".into(), name),
        NonBusinessReason::Regional { community, name } => {
            named(format!("regional {}", community.iso_code()), name)
        }
        NonBusinessReason::Local { province, name } => named(format!("local {province}"), name),
        NonBusinessReason::Unmovable { name } => format!("unmovable national day: {name}"),
    }
}

fn contact(command: ContactCmd) -> ExitCode {
    with_runtime(|rt| match command {
        ContactCmd::Set {
            authorization,
            email,
            database,
        } => match rt.block_on(server::set_contact(
            &database.choice(),
            &authorization,
            &email,
        )) {
            Ok(address) => {
                println!("{authorization}: {address}");
                ExitCode::SUCCESS
            }
            Err(e) => fail_start(&e),
        },
        ContactCmd::Get {
            authorization,
            database,
        } => match rt.block_on(server::get_contact(&database.choice(), &authorization)) {
            Ok(Some(address)) => {
                println!("{address}");
                ExitCode::SUCCESS
            }
            Ok(None) => {
                eprintln!("casia: no contact address for authorization {authorization}");
                ExitCode::FAILURE
            }
            Err(e) => fail_start(&e),
        },
    })
}

fn outbox(command: OutboxCmd) -> ExitCode {
    with_runtime(|rt| match command {
        OutboxCmd::List {
            dead,
            limit,
            database,
        } => match rt.block_on(server::outbox_list(&database.choice(), dead, limit)) {
            Ok(messages) => {
                println!("{}", server::OUTBOX_HEADER);
                for m in &messages {
                    println!("{}", server::outbox_line(m));
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail_start(&e),
        },
        OutboxCmd::Retry { id, database } => {
            match rt.block_on(server::outbox_retry(&database.choice(), id)) {
                Ok(true) => {
                    println!("notification {id} is pending again");
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    eprintln!("casia: notification {id} is not dead (or does not exist)");
                    ExitCode::FAILURE
                }
                Err(e) => fail_start(&e),
            }
        }
    })
}

/// A failed command: bad arguments exit 2, anything else 1.
fn fail_start(e: &server::StartError) -> ExitCode {
    eprintln!("casia: {}", casia_core::error::report(e));
    if matches!(e, server::StartError::Invalid(_)) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn rule_files(rules: &RuleArgs, limits: &LimitArgs) -> RuleFiles {
    RuleFiles {
        catalog: rules.catalog.clone(),
        calendar: rules.calendar.clone(),
        limits: AttachmentLimits {
            max_attachment_bytes: limits.max_attachment_bytes,
            max_attachments: limits.max_attachments,
            max_total_bytes: limits.max_total_bytes,
        },
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("casia: {e}");
    ExitCode::FAILURE
}

fn with_runtime(f: impl FnOnce(&tokio::runtime::Runtime) -> ExitCode) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => f(&rt),
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    }
}

/// The actor a `token` command names; every id must parse (DOMAIN.md §1).
fn token_actor(
    role: RoleArg,
    authorization: Option<String>,
    user: Option<String>,
    province: Option<String>,
    processor: Option<String>,
    office: Option<String>,
) -> Result<Actor, String> {
    fn need(v: Option<String>, flag: &str) -> Result<String, String> {
        v.ok_or_else(|| format!("--{flag} is required for this role"))
    }
    match role {
        RoleArg::User => Ok(Actor::User {
            authorization: AuthorizationId::parse(&need(authorization, "authorization")?)
                .map_err(|e| e.to_string())?,
            user: UserId::parse(&need(user, "user")?).map_err(|e| e.to_string())?,
            province: ProvinceCode::parse(&need(province, "province")?)
                .map_err(|e| e.to_string())?,
        }),
        RoleArg::Processor => Ok(Actor::Processor {
            processor: ProcessorId::parse(&need(processor, "processor")?)
                .map_err(|e| e.to_string())?,
            office: OfficeCode::parse(&need(office, "office")?).map_err(|e| e.to_string())?,
        }),
        RoleArg::System => Ok(Actor::System),
    }
}

fn serve(log_format: LogFormat, options: ServeOptions) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CASIA_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(server::serve(options, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail_start(&e),
    }
}

/// Resolves on Ctrl-C or SIGTERM: graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn conformance(paths: &[PathBuf], store: &str) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("casia: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let summary = runtime.block_on(async {
        let print = |report: &casia_conformance::ScenarioReport| println!("{}", report.line());
        if store == "memory" {
            run_paths(paths, &MemoryStoreFactory, print).await
        } else if store.starts_with("sqlite:") || store.starts_with("postgres") {
            let factory = database::FreshSqlStores::new(store);
            let summary = run_paths(paths, &factory, print).await;
            factory.finish().await;
            summary
        } else {
            Err(format!(
                "unknown store {store:?}: use memory, sqlite::memory: or postgres://…"
            ))
        }
    });
    match summary {
        Ok(summary) => {
            println!("{}", summary.closing_line());
            if summary.all_passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("casia: {e}");
            ExitCode::from(2)
        }
    }
}

fn catalog_check(file: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("casia: {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match Catalog::check_json(&text) {
        Ok(c) => {
            let subcategories: usize = c
                .case_types
                .iter()
                .flat_map(|t| &t.materias)
                .flat_map(|m| &m.categories)
                .map(|c| c.subcategories.len())
                .sum();
            println!(
                "{}: ok ({} case types, {} subcategories, {} document types)",
                file.display(),
                c.case_types.len(),
                subcategories,
                c.document_types.len()
            );
            ExitCode::SUCCESS
        }
        Err(faults) => {
            for f in &faults {
                println!("{}: {f}", file.display());
            }
            println!("{} fault(s)", faults.len());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and every argument says what it is for in `--help`
    /// (issue 14); clap's own `--help`/`--version` are documented by clap.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && path.contains(' ') && !path.ends_with(" help") {
                missing.push(format!("{path}: no about"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}: no help"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut cli = Cli::command();
        cli.build();
        let mut missing = Vec::new();
        walk(&cli, "", &mut missing);
        assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
        cli.debug_assert();
    }
}
