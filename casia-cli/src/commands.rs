//! What the `casia` subcommands do (HTTP.md "Running it", "Command line"):
//! assemble the rules from files or defaults, open the store, and serve
//! (router from `casia-http`, relay from `casia-mail`), sweep, mint a token
//! or manage contacts and the outbox. `main.rs` only parses flags and calls
//! these.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use casia_core::attachment::AttachmentLimits;
use casia_core::blob::BlobStore;
use casia_core::calendar::HolidayCalendar;
use casia_core::catalog::Catalog;
use casia_core::ports::{Clock, OutboxMessage, SystemClock};
use casia_core::receipt::{ReceiptKey, madrid_timestamp};
use casia_core::{Actor, AuthorizationId, CaseRules, CaseService, StoreError, SweepReport};
use std::io::Write as _;

use casia_http::auth::{Authenticator, Claims, MintError};
use casia_http::state::AppState;
use casia_mail::message::MailIdentity;
use casia_mail::relay::{Relay, RelayConfig};
use casia_mail::smtp::{SmtpConfigError, SmtpMailer, SmtpOptions, SmtpUrl};

use crate::database::{self as store, Database, StoreOpenError, Stores};
use crate::secret::{Secret, SecretError, SecretSource};

/// Why a subcommand could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreOpenError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("catalog {path}: {detail}")]
    Catalog { path: PathBuf, detail: String },
    #[error("calendar {path}: {detail}")]
    Calendar { path: PathBuf, detail: String },
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the sweep failed")]
    Sweep(#[source] casia_core::ServiceError),
    #[error("--jwt-jwks")]
    Jwks(#[source] casia_http::jwks::JwksError),
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
    #[error("{0}")]
    Mail(String),
    /// A command-line argument that does not parse.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// Where rules come from: files, or the shipped defaults.
#[derive(Debug, Clone, Default)]
pub struct RuleFiles {
    pub catalog: Option<PathBuf>,
    pub calendar: Option<PathBuf>,
    pub limits: AttachmentLimits,
}

impl RuleFiles {
    /// Loads the catalog and calendar (defaults when no file is given).
    pub fn load(&self, receipt_key: ReceiptKey) -> Result<CaseRules, StartError> {
        let catalog = match &self.catalog {
            None => Catalog::default_catalog(),
            Some(path) => {
                let text = read(path).map_err(|detail| StartError::Catalog {
                    path: path.clone(),
                    detail,
                })?;
                Catalog::from_json(&text).map_err(|e| StartError::Catalog {
                    path: path.clone(),
                    detail: e.to_string(),
                })?
            }
        };
        let calendar = match &self.calendar {
            None => HolidayCalendar::default_calendar(),
            Some(path) => {
                let text = read(path).map_err(|detail| StartError::Calendar {
                    path: path.clone(),
                    detail,
                })?;
                HolidayCalendar::from_json(&text).map_err(|e| StartError::Calendar {
                    path: path.clone(),
                    detail: e.to_string(),
                })?
            }
        };
        Ok(CaseRules {
            catalog,
            calendar,
            limits: self.limits,
            receipt_key,
        })
    }
}

/// Re-reads the catalog and calendar files and puts them in force
/// (`serve` on SIGHUP, HTTP.md); the limits and the receipt key stay. On
/// any error the rules in force are kept. Returns what changed, one line
/// per difference (`catalog …`, `calendar …`).
pub fn reload_rules(service: &CaseService, files: &RuleFiles) -> Result<Vec<String>, StartError> {
    let current = service.rules();
    let mut fresh = files.load(current.receipt_key.clone())?;
    fresh.limits = current.limits;
    let mut changes: Vec<String> = fresh
        .catalog
        .changes_since(&current.catalog)
        .into_iter()
        .map(|c| format!("catalog {c}"))
        .collect();
    changes.extend(
        fresh
            .calendar
            .changes_since(&current.calendar)
            .into_iter()
            .map(|c| format!("calendar {c}")),
    );
    service.replace_rules(fresh);
    Ok(changes)
}

/// SIGHUP reloads the rule files; once a day (and at once) the calendar's
/// coverage is checked so the operator learns, from 1 October, that next
/// year's holidays are missing (DOMAIN.md §5).
async fn watch_rules(
    service: CaseService,
    files: RuleFiles,
    mut hangup: Option<tokio::signal::unix::Signal>,
) {
    let mut daily = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    daily.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let hangup_received = async {
            match hangup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = daily.tick() => warn_about_coverage(&service),
            _ = hangup_received => {
                match reload_rules(&service, &files) {
                    Ok(changes) if changes.is_empty() => {
                        tracing::info!("SIGHUP: catalog and calendar reloaded, nothing changed");
                    }
                    Ok(changes) => {
                        tracing::info!(changes = changes.len(), "SIGHUP: catalog and calendar reloaded");
                        for change in changes {
                            tracing::info!("reloaded: {change}");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "SIGHUP: reload failed; the rules in force are kept"),
                }
                warn_about_coverage(&service);
            }
        }
    }
}

fn warn_about_coverage(service: &CaseService) {
    let today = casia_core::calendar::madrid_date(SystemClock.now());
    let rules = service.rules();
    match rules.calendar.coverage_warning(today) {
        Some(warning) => tracing::warn!(
            last_covered_year = rules.calendar.last_covered_year(),
            "{warning}"
        ),
        None => tracing::debug!("holiday calendar covers this year and, from October, the next"),
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// The database and where its development secret is kept.
#[derive(Debug, Clone)]
pub struct DatabaseChoice {
    pub url: String,
    /// Overrides the secret file beside the database.
    pub secret_file: Option<PathBuf>,
    /// `--blobs`: a folder or `s3://bucket/prefix`; default beside the
    /// database.
    pub blobs: Option<String>,
}

impl DatabaseChoice {
    pub fn database(&self) -> Result<Database, StartError> {
        Ok(Database::parse(&self.url)?)
    }

    pub fn secret_path(&self, db: &Database) -> PathBuf {
        self.secret_file.clone().unwrap_or_else(|| db.secret_path())
    }

    /// The blob store (issue 17): `--blobs`, else the database's default.
    pub async fn blob_store(&self, db: &Database) -> Result<Arc<dyn BlobStore>, StartError> {
        let location = match &self.blobs {
            Some(l) => l.clone(),
            None => match db.default_blobs() {
                Some(path) => {
                    if matches!(db, Database::Postgres { .. }) {
                        tracing::warn!(
                            folder = %path.display(),
                            "attachment blobs in a local folder: several instances need a shared store (--blobs s3://…)"
                        );
                    }
                    path.display().to_string()
                }
                None => return Ok(Arc::new(casia_core::blob::MemoryBlobStore::new())),
            },
        };
        if location.starts_with("s3://") {
            let s3 = casia_blobs::s3::S3BlobStore::from_url(&location).map_err(|e| {
                StartError::Invalid(format!(
                    "--blobs {location}: {}",
                    casia_core::error::report(&e)
                ))
            })?;
            return Ok(Arc::new(s3));
        }
        if location.contains("://") {
            return Err(StartError::Invalid(format!(
                "--blobs {location}: a folder or s3://bucket/prefix"
            )));
        }
        Ok(Arc::new(casia_blobs::LocalDirBlobStore::open(&location)?))
    }
}

/// What `casia blobs` does.
#[derive(Debug, Clone, Copy)]
pub enum BlobAction {
    /// `gc`: delete orphans older than `grace`.
    Collect { grace: chrono::TimeDelta },
    /// `verify`: re-hash what the database references.
    Verify,
    /// `migrate`: move database-kept bytes to the blob store.
    Migrate { batch: usize },
}

/// `casia blobs …`: the report and whether all is well.
pub async fn blobs(
    database: &DatabaseChoice,
    action: BlobAction,
) -> Result<(String, bool), StartError> {
    let db = database.database()?;
    // The default folder for PostgreSQL is relative to where `serve`
    // runs; a command run elsewhere (cron, systemd) would use another one.
    if matches!(db, Database::Postgres { .. }) && database.blobs.is_none() {
        return Err(StartError::Invalid(
            "name the blob store serve uses with --blobs (a folder or s3://bucket/prefix)".into(),
        ));
    }
    let stores = store::open_existing(&db).await?;
    let blobs = database.blob_store(&db).await?;
    let service = CaseService::new(
        stores.repository.clone(),
        Arc::new(SystemClock),
        Arc::new(casia_core::CaseRules::with_defaults(ReceiptKey::new(
            Vec::new(),
        ))),
    )
    .with_blobs(blobs);
    let result = match action {
        BlobAction::Collect { grace } => service.collect_blobs(grace).await.map(|r| {
            (
                format!("{} blobs stored, {} orphans deleted", r.stored, r.deleted),
                true,
            )
        }),
        BlobAction::Verify => service.verify_blobs().await.map(|r| {
            let mut text = format!("{} referenced blobs checked", r.checked);
            for fault in &r.faults {
                match fault {
                    casia_core::blob::BlobFault::Missing(key) => {
                        text.push_str(&format!("\nmissing\t{key}"));
                    }
                    casia_core::blob::BlobFault::Corrupt { key, actual } => {
                        text.push_str(&format!("\ncorrupt\t{key}\thashes to {actual}"));
                    }
                    casia_core::blob::BlobFault::Unreadable { key, error } => {
                        text.push_str(&format!("\nunreadable\t{key}\t{error}"));
                    }
                }
            }
            text.push_str(&format!("\n{} faults", r.faults.len()));
            (text, r.faults.is_empty())
        }),
        BlobAction::Migrate { batch } => {
            let (mut moved, mut mismatched, mut after) = (0, Vec::new(), None);
            loop {
                match service.migrate_blobs(after, batch).await {
                    Ok(step) => {
                        moved += step.moved;
                        mismatched.extend(step.mismatched);
                        if step.last.is_none() {
                            break;
                        }
                        after = step.last;
                        tracing::info!(moved, "blobs migrate: batch done");
                    }
                    Err(e) => {
                        stores.close().await;
                        return Err(e.into());
                    }
                }
            }
            let mut text = format!("{moved} attachments moved to the blob store");
            for (number, id) in &mismatched {
                text.push_str(&format!(
                    "\nleft in the database\t{number}/{id}\tits bytes do not match its SHA-256"
                ));
            }
            Ok((text, mismatched.is_empty()))
        }
    };
    stores.close().await;
    Ok(result?)
}

fn env_secret() -> Option<String> {
    std::env::var("CASIA_JWT_SECRET")
        .ok()
        .filter(|v| !v.is_empty())
}

/// How `serve` sends notifications (README "Sending e-mail").
#[derive(Debug, Clone)]
pub struct MailOptions {
    /// The SMTP relay URL; `None`: notifications wait in the outbox.
    pub smtp: Option<String>,
    /// The From mailbox.
    pub from: String,
    /// The Message-ID domain and EHLO name (default: the From domain).
    pub domain: Option<String>,
    /// The longest one message's delivery may take.
    pub timeout: Duration,
    /// Extra trusted root certificates (PEM) for the relay's TLS.
    pub ca_file: Option<PathBuf>,
    pub relay: RelayConfig,
}

impl Default for MailOptions {
    fn default() -> Self {
        MailOptions {
            smtp: None,
            from: casia_mail::message::DEFAULT_FROM.to_owned(),
            domain: None,
            timeout: casia_mail::smtp::DEFAULT_TIMEOUT,
            ca_file: None,
            relay: RelayConfig::default(),
        }
    }
}

/// The relay `serve` runs when `--smtp` is given, checked before the
/// service starts so a bad setting fails at once.
fn relay_for(
    mail: &MailOptions,
    smtp: &str,
    stores: &Stores,
    service: CaseService,
) -> Result<Relay, StartError> {
    let url = SmtpUrl::parse(smtp)?;
    let identity =
        MailIdentity::new(&mail.from, mail.domain.as_deref()).map_err(StartError::Mail)?;
    mail.relay.check(mail.timeout).map_err(StartError::Mail)?;
    let mailer = SmtpMailer::new(
        &url,
        &SmtpOptions {
            timeout: mail.timeout,
            hello: identity.domain().to_owned(),
            ca_file: mail.ca_file.clone(),
        },
    )?;
    tracing::info!(
        relay = %url.redacted(),
        from = %identity.from(),
        batch = mail.relay.batch_size,
        max_attempts = mail.relay.max_attempts,
        "outbox relay: notifications are sent by e-mail"
    );
    Ok(Relay::new(
        stores.outbox.clone(),
        stores.contacts.clone(),
        service,
        Arc::new(mailer),
        identity,
        Arc::new(SystemClock),
        mail.relay.clone(),
    ))
}

/// Everything `casia serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: String,
    pub database: DatabaseChoice,
    pub rules: RuleFiles,
    pub mail: MailOptions,
    /// `None`: no periodic sweep.
    pub sweep_interval: Option<Duration>,
    pub request_timeout: Duration,
    /// The base URL receipts print (`--public-url`); default
    /// `http://LISTEN`.
    pub public_url: Option<String>,
    /// Header-read timeout, connection cap, shutdown grace (issue 16).
    pub server: casia_http::server::ServerLimits,
    /// Request-body bytes held in memory across all requests.
    pub body_budget_bytes: u64,
    /// Receipt verifications per second and burst, per client address.
    pub receipt_rate: (u32, u32),
    /// Which tokens are accepted.
    pub tokens: TokenOptions,
    /// `--dev-login`: the web pages' development sign-in (issue 18).
    pub dev_login: bool,
}

/// Which tokens `serve` accepts: HS256 with the service's secret, and the
/// keys of a JWK set when one is given; the policy for all of them.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// `--jwt-jwks`: a file or URL.
    pub jwks: Option<String>,
    /// `iss`, `aud`, the longest lifetime.
    pub policy: casia_http::auth::TokenPolicy,
}

/// Serves until `shutdown` resolves; prints `casia listening on http://ADDR`
/// once the socket is bound.
pub async fn serve(
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let db = options.database.database()?;
    // The address first: a port in use must not leave a database or a
    // secret file behind (issue 14).
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: options.listen.clone(),
            source,
        })?;
    let addr: SocketAddr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: options.listen.clone(),
        source,
    })?;
    // The rule files next: a malformed one fails before anything is written.
    let rule_check = options.rules.load(ReceiptKey::new(Vec::new()))?;
    drop(rule_check);
    // The identity provider's keys before the secret and the database: a
    // wrong --jwt-jwks fails before anything is written.
    let jwks = match &options.tokens.jwks {
        Some(source) => {
            let keys =
                casia_http::jwks::JwksKeys::load(casia_http::jwks::JwksSource::parse(source))
                    .await
                    .map_err(StartError::Jwks)?;
            tracing::info!(source = %source, "accepting RS256/ES256/EdDSA tokens of the JWK set");
            Some(keys)
        }
        None => None,
    };
    // The development sign-in mints tokens for anyone who asks: never with
    // a production secret or an identity provider (issue 18).
    if options.dev_login && (env_secret().is_some() || options.tokens.jwks.is_some()) {
        return Err(StartError::Invalid(
            "--dev-login needs the development secret: unset CASIA_JWT_SECRET and --jwt-jwks"
                .into(),
        ));
    }
    let secret_path = options.database.secret_path(&db);
    let (secret, source) = Secret::for_serve(env_secret().as_deref(), &secret_path)?;
    match &source {
        SecretSource::Environment => tracing::info!("signing secret from CASIA_JWT_SECRET"),
        SecretSource::File(p) => {
            tracing::info!(file = %p.display(), "signing secret read from file");
        }
        SecretSource::Generated(p) => {
            tracing::warn!(file = %p.display(), "no CASIA_JWT_SECRET: generated a development signing secret");
        }
    }
    let rules = options.rules.load(secret.receipt_key())?;
    let stores = store::open(&db).await?;
    tracing::info!(database = %db.display_name(), "store open, migrations applied");
    let blobs = options.database.blob_store(&db).await?;
    let service = CaseService::new(
        stores.repository.clone(),
        Arc::new(SystemClock),
        Arc::new(rules),
    )
    .with_blobs(blobs);
    let relay = match &options.mail.smtp {
        Some(smtp) => Some(relay_for(&options.mail, smtp, &stores, service.clone())?),
        None => {
            tracing::info!("no --smtp: notifications wait in the outbox (casia_outbox_backlog)");
            None
        }
    };
    let public_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let mut auth =
        Authenticator::hs256(&secret.jwt_key()).with_policy(options.tokens.policy.clone());
    if let Some(keys) = &jwks {
        auth = auth.with_jwks(Arc::clone(keys));
    }
    let state = AppState::with_options(
        service.clone(),
        stores.outbox.clone(),
        Some(stores.contacts.clone()),
        auth,
        casia_http::state::HttpOptions {
            request_timeout: options.request_timeout,
            public_url: public_url.clone(),
            body_budget_bytes: options.body_budget_bytes,
            receipt_rate_per_second: options.receipt_rate.0,
            receipt_rate_burst: options.receipt_rate.1,
        },
    );
    let web = casia_web::WebConfig {
        dev_login: options.dev_login,
        csrf_key: secret.web_key(),
        secure_cookies: public_url.starts_with("https://"),
    };
    if options.dev_login {
        tracing::warn!("--dev-login: anyone who reaches /entrar can sign in as anyone");
    }
    drop(secret);
    // Installed before the address is printed, so a SIGHUP sent as soon as
    // the service listens reloads instead of ending the process.
    let hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: rule files are not reloaded");
            None
        }
    };
    // HTTP.md: this line goes to standard output in every log format;
    // scripts wait for it.
    println!("casia listening on http://{addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, %public_url, "listening");
    let watcher = tokio::spawn(watch_rules(service.clone(), options.rules.clone(), hangup));
    let collector = tokio::spawn(collect_blobs_hourly(service.clone()));
    let sweeper = options
        .sweep_interval
        .map(|every| tokio::spawn(sweep_periodically(service, every)));
    // Stopped by abort: a send cut short is sent again, with the same
    // Message-ID, once its lease ends.
    let relay = relay.map(|r| tokio::spawn(r.run()));
    let refresher = jwks
        .filter(|_| {
            options
                .tokens
                .jwks
                .as_deref()
                .is_some_and(|s| s.starts_with("http"))
        })
        .map(|keys| tokio::spawn(keys.refresh_hourly()));
    // Issue 16: stop accepting, let in-flight requests finish (bounded),
    // then stop the background loops and close the store; every write a
    // request was answered for is committed (answers come after commits).
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
    };
    let drained = casia_http::server::serve(
        listener,
        casia_http::app_with(state, casia_web::pages(web)),
        options.server,
        shutdown,
    )
    .await;
    if drained == casia_http::server::Drained::TimedOut {
        tracing::warn!(
            grace_s = options.server.shutdown_grace.as_secs(),
            "in-flight requests did not finish within the grace period; their connections were closed"
        );
    }
    for task in [Some(watcher), Some(collector), sweeper, relay, refresher]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
    // Closing waits for queued writes, then the pools; SQLite checkpoints
    // its WAL into the database file, so a copy of `casia.db` after a clean
    // stop is complete.
    stores.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The background deadline sweep (HTTP.md: `serve` sweeps periodically).
/// Safe alongside other instances: the core's sweep is idempotent.
/// Collects orphan blobs hourly, in a task of its own so a long listing
/// never delays the deadline sweep.
async fn collect_blobs_hourly(service: CaseService) {
    let mut ticker = tokio::time::interval(Duration::from_secs(3600));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match service.collect_blobs(casia_core::blob::DEFAULT_GRACE).await {
            Ok(r) if r.deleted > 0 || r.temporaries > 0 => tracing::info!(
                stored = r.stored,
                deleted = r.deleted,
                temporaries = r.temporaries,
                "blobs collected"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %casia_core::error::report(&e), "blob collection failed");
            }
        }
    }
}

async fn sweep_periodically(service: CaseService, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match service.sweep().await {
            Ok(r) if r.closed.is_empty() && r.reminded.is_empty() => {}
            Ok(r) => tracing::info!(
                closed = r.closed.len(),
                reminded = r.reminded.len(),
                "sweep"
            ),
            Err(e) => tracing::error!(error = %e, "sweep failed"),
        }
    }
}

/// `casia migrate`.
pub async fn migrate(database: &DatabaseChoice) -> Result<String, StartError> {
    let db = database.database()?;
    match store::migrate(&db).await? {
        store::Migrated::NothingToDo => Ok(format!(
            "{}: nothing to migrate (the memory store keeps no schema)",
            db.display_name()
        )),
        store::Migrated::UpToDate => Ok(format!("{}: schema up to date", db.display_name())),
    }
}

/// `casia sweep`: one sweep as the system actor.
pub async fn sweep_once(
    database: &DatabaseChoice,
    rules: &RuleFiles,
) -> Result<SweepReport, StartError> {
    let db = database.database()?;
    // The sweep issues no receipts; the key matters only for consistency.
    let key = match Secret::existing(env_secret().as_deref(), &database.secret_path(&db)) {
        Ok(s) => s.receipt_key(),
        Err(_) => Secret::generate()?.receipt_key(),
    };
    let stores = store::open_existing(&db).await?;
    let service = CaseService::new(
        stores.repository.clone(),
        Arc::new(SystemClock),
        Arc::new(rules.load(key)?),
    );
    let report = service.sweep().await.map_err(StartError::Sweep);
    stores.close().await;
    report
}

/// `casia token`: a signed token for `actor`, valid for `ttl`.
pub fn mint_token(
    database: &DatabaseChoice,
    actor: &Actor,
    ttl: Duration,
) -> Result<String, StartError> {
    let db = database.database()?;
    let secret = Secret::existing(env_secret().as_deref(), &database.secret_path(&db))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = Claims::for_actor(actor, now, ttl.as_secs());
    Ok(Authenticator::hs256(&secret.jwt_key()).mint(&claims)?)
}

fn authorization_arg(raw: &str) -> Result<AuthorizationId, StartError> {
    AuthorizationId::parse(raw).map_err(|e| StartError::Invalid(e.to_string()))
}

/// `casia contact set`: records the address notifications of an
/// authorization go to (DOMAIN.md §9), as the system; returns it as stored.
pub async fn set_contact(
    database: &DatabaseChoice,
    authorization: &str,
    email: &str,
) -> Result<String, StartError> {
    let authorization = authorization_arg(authorization)?;
    let address = casia_core::contact::ContactAddress::parse(email).map_err(|_| {
        StartError::Invalid(format!("{email:?} is not an e-mail address (local@domain)"))
    })?;
    let stores = store::open_existing(&database.database()?).await?;
    let set = casia_core::contact::set_contact(
        stores.contacts.as_ref(),
        &Actor::System,
        &authorization,
        address.as_str(),
    )
    .await
    .map_err(|e| StartError::Invalid(e.to_string()));
    stores.close().await;
    set?;
    Ok(address.to_string())
}

/// `casia contact get`.
pub async fn get_contact(
    database: &DatabaseChoice,
    authorization: &str,
) -> Result<Option<String>, StartError> {
    let authorization = authorization_arg(authorization)?;
    let stores = store::open_existing(&database.database()?).await?;
    let contact = stores.contacts.contact(&authorization).await;
    stores.close().await;
    Ok(contact?)
}

/// `casia outbox list [--dead]`: pending (or dead) notifications, oldest first.
pub async fn outbox_list(
    database: &DatabaseChoice,
    dead: bool,
    limit: usize,
) -> Result<Vec<OutboxMessage>, StartError> {
    let stores = store::open_existing(&database.database()?).await?;
    let listed = if dead {
        stores.outbox.list_dead(limit).await
    } else {
        stores.outbox.pending(limit).await
    };
    stores.close().await;
    Ok(listed?)
}

/// `casia outbox retry ID`: a dead notification becomes pending again,
/// due now, with its attempts reset; `false` when `id` is not dead.
pub async fn outbox_retry(database: &DatabaseChoice, id: u64) -> Result<bool, StartError> {
    let stores = store::open_existing(&database.database()?).await?;
    let retried = stores.outbox.retry(id, SystemClock.now()).await;
    stores.close().await;
    Ok(retried?)
}

/// `casia backup --to FILE`: a consistent copy of a live SQLite database
/// (`VACUUM INTO`); PostgreSQL is backed up with `pg_dump` (README).
pub async fn backup(database: &DatabaseChoice, to: &Path) -> Result<(), StartError> {
    let db = database.database()?;
    if !matches!(db, store::Database::Sqlite { .. }) {
        return Err(StartError::Invalid(format!(
            "casia backup copies SQLite databases; {} is backed up with its own tools (PostgreSQL: pg_dump, README \"Backups\")",
            db.display_name()
        )));
    }
    let stores = store::open_existing(&db).await?;
    let done = match stores.sql() {
        Some(sql) => sql.backup_to(to).await.map_err(StartError::from),
        None => Ok(()),
    };
    stores.close().await;
    done
}

/// The header of [`outbox_line`]'s columns.
pub const OUTBOX_HEADER: &str =
    "id\tstate\tkind\tcase\tauthorization\tattempts\tnext_attempt\trecipient\tlast_error";

/// One outbox message as a tab-separated line; instants in Madrid time.
pub fn outbox_line(m: &OutboxMessage) -> String {
    let n = &m.notification;
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        m.id,
        m.state.as_str(),
        n.kind.as_str(),
        n.case_number,
        n.authorization,
        m.attempts,
        or_dash(m.next_attempt_at.map(madrid_timestamp)),
        or_dash(m.recipient.clone()),
        or_dash(
            m.last_error
                .as_ref()
                .map(|e| e.replace(['\t', '\n', '\r'], " "))
        ),
    )
}
