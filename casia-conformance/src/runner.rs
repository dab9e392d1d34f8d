//! Runs scenarios against a case service over a fresh store each, and
//! reports `ok NAME` / `FAILED NAME: step K: expected …, got …` and the
//! closing `N passed, M failed` (CONFORMANCE.md).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::Utc;

use casia_core::attachment::NewAttachment;
use casia_core::calendar::HolidayCalendar;
use casia_core::case::Case;
use casia_core::catalog::Catalog;
use casia_core::command::Command;
use casia_core::ids::CaseNumber;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::receipt::ReceiptKey;
use casia_core::search::SearchInput;
use casia_core::{Actor, CaseRules, CaseService, CasiaError, ServiceError, SubmitInput};

use crate::scenario::{
    AttachmentSpec, CaseRef, Expect, Scenario, Step, StepInput, Synthetic, SyntheticFormat, Verb,
};

/// Makes an empty store for each scenario, so SQL stores plug in without
/// touching the runner.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// A new, empty store for one scenario.
    ///
    /// # Errors
    ///
    /// Why the store could not be opened (the scenario is then reported
    /// broken).
    async fn fresh_store(&self) -> Result<Arc<dyn CaseRepository>, String>;
}

/// Fresh in-memory stores.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStoreFactory;

#[async_trait]
impl StoreFactory for MemoryStoreFactory {
    async fn fresh_store(&self) -> Result<Arc<dyn CaseRepository>, String> {
        Ok(Arc::new(MemoryStore::new()))
    }
}

/// The verdict on one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step held.
    Passed,
    /// 1-based step number and what differed.
    Failed {
        /// The failing step, 1-based.
        step: usize,
        /// `expected …, got …`.
        message: String,
    },
    /// The file could not be read or parsed, or the store failed to start.
    Broken {
        /// Why it could not run.
        message: String,
    },
}

/// The outcome of one scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The file's path as shown (or the name given to [`run_text`]).
    pub name: String,
    /// Whether it passed.
    pub verdict: Verdict,
}

impl ScenarioReport {
    /// The output line of CONFORMANCE.md.
    pub fn line(&self) -> String {
        match &self.verdict {
            Verdict::Passed => format!("ok {}", self.name),
            Verdict::Failed { step, message } => {
                format!("FAILED {}: step {step}: {message}", self.name)
            }
            Verdict::Broken { message } => format!("FAILED {}: {message}", self.name),
        }
    }

    /// Whether the scenario passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}

/// The totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// One report per scenario, in the order run.
    pub reports: Vec<ScenarioReport>,
}

impl Summary {
    /// How many scenarios passed.
    pub fn passed(&self) -> usize {
        self.reports.iter().filter(|r| r.passed()).count()
    }

    /// How many failed (or were broken).
    pub fn failed(&self) -> usize {
        self.reports.len() - self.passed()
    }

    /// The closing line: `N passed, M failed`.
    pub fn closing_line(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// Whether the run succeeds (exit 0): at least one scenario, and none failed.
    pub fn all_passed(&self) -> bool {
        self.failed() == 0 && !self.reports.is_empty()
    }
}

/// The scenario files under the given paths (folders: their `*.json`,
/// sorted), in order.
///
/// # Errors
///
/// A message naming a path that is neither a file nor a readable folder.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(files)
}

/// Runs every scenario file under `paths`, calling `on_report` as each ends.
///
/// # Errors
///
/// As [`collect_files`]; a scenario that fails or cannot be read is a
/// report, not an error.
pub async fn run_paths(
    paths: &[PathBuf],
    factory: &dyn StoreFactory,
    mut on_report: impl FnMut(&ScenarioReport),
) -> Result<Summary, String> {
    let files = collect_files(paths)?;
    let mut summary = Summary::default();
    for file in files {
        let report = run_file(&file, factory).await;
        on_report(&report);
        summary.reports.push(report);
    }
    Ok(summary)
}

/// Runs one scenario file.
pub async fn run_file(file: &Path, factory: &dyn StoreFactory) -> ScenarioReport {
    let shown = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return ScenarioReport {
                name: shown,
                verdict: Verdict::Broken {
                    message: e.to_string(),
                },
            };
        }
    };
    match Scenario::parse(&shown, &text) {
        Ok(s) => run_scenario(&s, factory).await,
        Err(e) => ScenarioReport {
            name: shown,
            verdict: Verdict::Broken {
                message: e.to_string(),
            },
        },
    }
}

/// The receipt secret scenarios run with.
const SCENARIO_RECEIPT_KEY: &[u8] = b"casia-conformance";

/// Runs one parsed scenario on a fresh store.
pub async fn run_scenario(scenario: &Scenario, factory: &dyn StoreFactory) -> ScenarioReport {
    let verdict = match factory.fresh_store().await {
        Err(e) => Verdict::Broken {
            message: format!("could not open a fresh store: {e}"),
        },
        Ok(store) => {
            let first = scenario
                .steps
                .first()
                .map_or_else(Utc::now, |s| s.at.with_timezone(&Utc));
            let clock = Arc::new(FixedClock::new(first));
            let rules = CaseRules {
                catalog: scenario
                    .catalog
                    .clone()
                    .unwrap_or_else(Catalog::default_catalog),
                calendar: scenario
                    .calendar
                    .clone()
                    .unwrap_or_else(HolidayCalendar::default_calendar),
                limits: scenario.limits,
                receipt_key: ReceiptKey::new(SCENARIO_RECEIPT_KEY),
            };
            // As `casia serve` runs (issue 17): attachment bytes in a blob
            // store, the case store keeping metadata only.
            let service = CaseService::new(store, clock.clone(), Arc::new(rules))
                .with_blobs(Arc::new(casia_core::blob::MemoryBlobStore::new()));
            let mut run = Run {
                service,
                clock,
                aliases: HashMap::new(),
                names: HashMap::new(),
            };
            let mut verdict = Verdict::Passed;
            for (i, step) in scenario.steps.iter().enumerate() {
                if let Err(message) = run.step(step).await {
                    verdict = Verdict::Failed {
                        step: i + 1,
                        message,
                    };
                    break;
                }
            }
            verdict
        }
    };
    ScenarioReport {
        name: scenario.name.clone(),
        verdict,
    }
}

struct Run {
    service: CaseService,
    clock: Arc<FixedClock>,
    aliases: HashMap<String, CaseNumber>,
    names: HashMap<CaseNumber, String>,
}

/// What a successful step produced.
#[derive(Default)]
struct Produced {
    case: Option<Case>,
    notifications: Vec<String>,
    results: Option<Vec<CaseNumber>>,
    history: Option<Vec<String>>,
    closed: Option<Vec<CaseNumber>>,
    reminded: Option<Vec<CaseNumber>>,
}

fn text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

impl Run {
    fn number(&self, case: &Option<CaseRef>) -> Result<Option<CaseNumber>, String> {
        match case {
            None => Ok(None),
            Some(CaseRef::Alias(a)) => self
                .aliases
                .get(a)
                .copied()
                .map(Some)
                .ok_or_else(|| format!("unknown case alias {a:?}")),
            Some(CaseRef::Number(n)) => CaseNumber::parse(n)
                .map(Some)
                .map_err(|e| format!("case_number: {e}")),
        }
    }

    fn name_of(&self, n: CaseNumber) -> String {
        self.names.get(&n).cloned().unwrap_or_else(|| n.to_string())
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        self.clock.set(step.at.with_timezone(&Utc));
        let number = self.number(&step.case)?;
        let outcome = self.perform(step, number).await;
        let outcome = match outcome {
            Ok(p) => Ok(p),
            Err(ServiceError::Rule(e)) => Err(e),
            Err(ServiceError::Store(e)) => return Err(format!("store failure: {e}")),
            // Scenarios send no Idempotency-Key.
            Err(e @ ServiceError::Idempotency(_)) => return Err(e.to_string()),
        };
        if let (Ok(p), Some(alias)) = (&outcome, &step.save_as)
            && let Some(case) = &p.case
        {
            self.aliases.insert(alias.clone(), case.number);
            self.names.insert(case.number, alias.clone());
        }
        self.check(step, number, outcome).await
    }

    async fn perform(
        &mut self,
        step: &Step,
        number: Option<CaseNumber>,
    ) -> Result<Produced, ServiceError> {
        let actor = &step.actor;
        let svc = &self.service;
        let case_number = || number.ok_or(ServiceError::Rule(CasiaError::NotFound));
        let command = match &step.input {
            StepInput::Submit(w) => {
                let input = SubmitInput {
                    case_type: text(&w.case_type),
                    materia: text(&w.materia),
                    category: text(&w.category),
                    subcategory: text(&w.subcategory),
                    affects_current_period: w.affects_current_period.unwrap_or(false),
                    title: text(&w.title),
                    description: text(&w.description),
                    complementary_data: w.complementary_data.clone().unwrap_or_default(),
                    attachments: attachments(&w.attachments)
                        .map_err(|e| ServiceError::Store(casia_core::StoreError::backend(e)))?,
                };
                let o = svc.submit(actor, &input).await?;
                return Ok(Produced {
                    notifications: kinds(&o.notifications),
                    case: Some(o.case),
                    ..Produced::default()
                });
            }
            StepInput::Search(w) => {
                let mut all = Vec::new();
                let mut cursor = None;
                loop {
                    let page = svc
                        .search(
                            actor,
                            &SearchInput {
                                status: w.status.clone(),
                                from: w.from.clone(),
                                to: w.to.clone(),
                                substatus: w.substatus.clone(),
                                case_type: w.case_type.clone(),
                                materia: w.materia.clone(),
                                created_by: w.created_by.clone(),
                                limit: None,
                                cursor: cursor.take(),
                            },
                        )
                        .await?;
                    all.extend(page.items.iter().map(|c| c.number));
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                return Ok(Produced {
                    results: Some(all),
                    ..Produced::default()
                });
            }
            StepInput::AddDocumentation(w) => Command::AddDocumentation {
                comment: w.comment.clone(),
                attachments: attachments(&w.attachments)
                    .map_err(|e| ServiceError::Store(casia_core::StoreError::backend(e)))?,
            },
            StepInput::Cancel(w) => Command::Cancel {
                reason: w.reason.clone(),
            },
            StepInput::Assign(w) => Command::Assign {
                processor: w.processor.clone(),
            },
            StepInput::RequestInformation(w) => Command::RequestInformation {
                observation: text(&w.observation),
            },
            StepInput::Escalate(w) => Command::Escalate {
                note: text(&w.note),
            },
            StepInput::Transfer(w) => Command::Transfer {
                office: text(&w.office),
                note: w.note.clone(),
            },
            StepInput::Reclassify(w) => Command::Reclassify {
                materia: text(&w.materia),
                category: text(&w.category),
                subcategory: text(&w.subcategory),
            },
            StepInput::Resolve(w) => Command::Resolve {
                resolution: text(&w.resolution),
            },
            StepInput::Survey(w) => Command::Survey {
                // A missing or non-integer rating is out of range, like 0.
                rating: w
                    .rating
                    .as_ref()
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0),
                comment: w.comment.clone(),
            },
            StepInput::None => match step.verb {
                Verb::Get => {
                    let case = svc.get(actor, case_number()?).await?;
                    return Ok(Produced {
                        case: Some(case),
                        ..Produced::default()
                    });
                }
                Verb::History => {
                    let h = svc.history(actor, case_number()?).await?;
                    return Ok(Produced {
                        history: Some(h.iter().map(|e| e.event.as_str().to_owned()).collect()),
                        ..Produced::default()
                    });
                }
                Verb::Receipt => {
                    let r = svc.receipt(actor, case_number()?).await?;
                    let verified = svc.verify_receipt(&r.verification_code).await?;
                    if verified.as_ref() != Some(&r) {
                        return Err(ServiceError::Store(casia_core::StoreError::backend(
                            "the receipt's verification code does not verify",
                        )));
                    }
                    return Ok(Produced::default());
                }
                Verb::Queue => {
                    let q = svc.queue(actor).await?;
                    return Ok(Produced {
                        results: Some(q.iter().map(|c| c.number).collect()),
                        ..Produced::default()
                    });
                }
                Verb::Sweep => {
                    let r = svc.sweep_as(actor).await?;
                    return Ok(Produced {
                        notifications: kinds(&r.notifications),
                        closed: Some(r.closed),
                        reminded: Some(r.reminded),
                        ..Produced::default()
                    });
                }
                Verb::CloseExOfficio => Command::CloseExOfficio,
                other => {
                    return Err(ServiceError::Store(casia_core::StoreError::backend(
                        format!("verb {other:?} is missing its input"),
                    )));
                }
            },
        };
        let o = svc.execute(actor, case_number()?, &command).await?;
        Ok(Produced {
            notifications: kinds(&o.notifications),
            case: Some(o.case),
            ..Produced::default()
        })
    }

    /// Every key of `expect` must hold.
    async fn check(
        &self,
        step: &Step,
        number: Option<CaseNumber>,
        outcome: Result<Produced, CasiaError>,
    ) -> Result<(), String> {
        let e = &step.expect;
        let produced = match (outcome, &e.error) {
            (Ok(p), None) => p,
            (Ok(_), Some(code)) => return Err(format!("expected error {code}, got success")),
            (Err(err), None) => {
                return Err(format!("expected success, got error {}", describe(&err)));
            }
            (Err(err), Some(code)) => {
                if err.code().as_str() != code {
                    return Err(format!(
                        "expected error {code}, got error {}",
                        describe(&err)
                    ));
                }
                check_error_details(e, &err)?;
                Produced::default()
            }
        };
        if let Some(expected) = &e.notifications {
            expect_eq("notifications", expected, &produced.notifications)?;
        }
        if let Some(expected) = &e.results {
            let got: Vec<String> = produced
                .results
                .iter()
                .flatten()
                .map(|n| self.name_of(*n))
                .collect();
            if produced.results.is_none() {
                return Err("expected results, but this verb returns none".into());
            }
            expect_eq("results", expected, &got)?;
        }
        if let Some(expected) = e.count {
            let got = produced
                .results
                .as_ref()
                .map(Vec::len)
                .ok_or("expected a count, but this verb returns no results")?;
            expect_eq("count", &expected, &got)?;
        }
        for (key, expected, got) in [
            ("closed", &e.closed, &produced.closed),
            ("reminded", &e.reminded, &produced.reminded),
        ] {
            if let Some(expected) = expected {
                let mut want = expected.clone();
                let mut have: Vec<String> = got
                    .as_ref()
                    .ok_or_else(|| format!("expected {key}, but this verb is no sweep"))?
                    .iter()
                    .map(|n| self.name_of(*n))
                    .collect();
                want.sort();
                have.sort();
                expect_eq(key, &want, &have)?;
            }
        }
        if let Some(expected) = &e.history {
            let got = match produced.history {
                Some(h) => h,
                None => {
                    let n = produced
                        .case
                        .as_ref()
                        .map(|c| c.number)
                        .or(number)
                        .ok_or("expected history, but the step names no case")?;
                    self.service
                        .history(&step.actor, n)
                        .await
                        .map_err(|err| format!("reading history: {err}"))?
                        .iter()
                        .map(|h| h.event.as_str().to_owned())
                        .collect()
                }
            };
            expect_eq("history", expected, &got)?;
        }
        let wants_case = e.status.is_some()
            || e.substatus.is_some()
            || e.number.is_some()
            || e.deadline.is_some()
            || e.assignee.is_some()
            || e.office.is_some()
            || e.attachments.is_some();
        if wants_case {
            let case = match produced.case {
                Some(c) => c,
                None => {
                    // The case after a step that returns none: read it back.
                    let n = number.ok_or("expected case fields, but the step names no case")?;
                    self.service
                        .get(&Actor::System, n)
                        .await
                        .map_err(|err| format!("reading the case back: {err}"))?
                }
            };
            check_case(e, &case)?;
        }
        Ok(())
    }
}

fn describe(e: &CasiaError) -> String {
    let mut s = e.code().as_str().to_owned();
    if let Some(r) = e.reason() {
        let _ = write!(s, " (reason {})", r.as_str());
    } else if !e.fields().is_empty() {
        let _ = write!(s, " (field {})", e.fields().join("|"));
    }
    s
}

fn check_error_details(e: &Expect, err: &CasiaError) -> Result<(), String> {
    if let Some(field) = &e.field {
        let fields = err.fields();
        let ok = match err {
            CasiaError::MissingComplementaryData { .. }
            | CasiaError::MissingRequiredDocuments { .. } => fields.contains(&field.as_str()),
            _ => err.field() == Some(field.as_str()),
        };
        if !ok {
            return Err(format!("expected field {field}, got {}", describe(err)));
        }
    }
    if let Some(reason) = &e.reason {
        let got = err.reason().map(|r| r.as_str()).unwrap_or("none");
        if got != reason {
            return Err(format!("expected reason {reason}, got {got}"));
        }
    }
    Ok(())
}

fn check_case(e: &Expect, case: &Case) -> Result<(), String> {
    if let Some(s) = &e.status {
        expect_eq("status", s.as_str(), case.state.status().as_str())?;
    }
    if let Some(s) = &e.substatus {
        expect_eq("substatus", s.as_str(), case.state.substatus_code())?;
    }
    if let Some(n) = &e.number {
        expect_eq("number", n, &case.number.to_string())?;
    }
    if let Some(d) = &e.deadline {
        expect_eq("deadline", d, &case.deadline.map(|d| d.to_string()))?;
    }
    if let Some(a) = &e.assignee {
        expect_eq(
            "assignee",
            a,
            &case.assignee.as_ref().map(|p| p.as_str().to_owned()),
        )?;
    }
    if let Some(o) = &e.office {
        expect_eq("office", o, &case.office.to_string())?;
    }
    if let Some(n) = e.attachments {
        expect_eq("attachments", &n, &case.attachments.len())?;
    }
    Ok(())
}

fn expect_eq<T: std::fmt::Debug + PartialEq + ?Sized>(
    key: &str,
    expected: &T,
    got: &T,
) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("expected {key} {expected:?}, got {got:?}"))
    }
}

fn kinds(n: &[casia_core::Notification]) -> Vec<String> {
    n.iter().map(|n| n.kind.as_str().to_owned()).collect()
}

fn attachments(specs: &Option<Vec<AttachmentSpec>>) -> Result<Vec<NewAttachment>, String> {
    specs
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            Ok(NewAttachment {
                document_type: a.document_type.clone(),
                title: a.title.clone(),
                file_name: a.filename.clone(),
                content: bytes_of(a)
                    .map_err(|e| format!("attachment {}: {e}", i + 1))?
                    .into(),
            })
        })
        .collect()
}

/// The bytes an attachment spec stands for: exactly one source.
///
/// # Errors
///
/// A message when none or several sources are given, or the base64 does
/// not decode.
pub fn bytes_of(a: &AttachmentSpec) -> Result<Vec<u8>, String> {
    match (&a.content_text, &a.content_base64, &a.synthetic) {
        (Some(t), None, None) => Ok(t.as_bytes().to_vec()),
        (None, Some(b), None) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| format!("content_base64: {e}")),
        (None, None, Some(s)) => Ok(synthetic_bytes(s)),
        _ => Err("give exactly one of content_text, content_base64, synthetic".into()),
    }
}

/// N bytes beginning with the format's signature, the rest filled
/// deterministically from the seed (printable ASCII for `txt`).
pub fn synthetic_bytes(s: &Synthetic) -> Vec<u8> {
    let signature: &[u8] = match s.format {
        SyntheticFormat::Pdf => b"%PDF-1.7\n",
        SyntheticFormat::Png => b"\x89PNG\r\n\x1a\n",
        SyntheticFormat::Jpeg => b"\xFF\xD8\xFF\xE0",
        SyntheticFormat::Exe => b"MZ",
        SyntheticFormat::Zip => b"PK\x03\x04",
        SyntheticFormat::Txt => b"",
    };
    let format_tag = match s.format {
        SyntheticFormat::Pdf => 1u64,
        SyntheticFormat::Png => 2,
        SyntheticFormat::Jpeg => 3,
        SyntheticFormat::Txt => 4,
        SyntheticFormat::Exe => 5,
        SyntheticFormat::Zip => 6,
    };
    let mut state = s.seed ^ (format_tag << 56) ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(s.size);
    out.extend_from_slice(&signature[..signature.len().min(s.size)]);
    while out.len() < s.size {
        let r = next();
        if s.format == SyntheticFormat::Txt {
            // Printable ASCII (CONFORMANCE.md): letters and some spaces.
            let b = match r % 64 {
                0..=8 => b' ',
                _ => b'a' + (r >> 8) as u8 % 26,
            };
            out.push(b);
        } else {
            out.extend(r.to_le_bytes().iter().take(s.size - out.len()));
        }
    }
    out
}

/// Runs a scenario given as text (for tests of the runner itself).
pub async fn run_text(name: &str, text: &str, factory: &dyn StoreFactory) -> ScenarioReport {
    match Scenario::parse(name, text) {
        Ok(s) => run_scenario(&s, factory).await,
        Err(e) => ScenarioReport {
            name: name.to_owned(),
            verdict: Verdict::Broken {
                message: e.to_string(),
            },
        },
    }
}
