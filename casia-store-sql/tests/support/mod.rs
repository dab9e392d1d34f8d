//! Fixtures shared by the SQL store's integration tests: a small catalog,
//! actors, PDF-signed attachments, services over any repository, the
//! backends to run on (SQLite always, PostgreSQL when
//! `CASIA_TEST_POSTGRES_URL` is set) and temporary SQLite files.
// Each test crate uses a different subset of these fixtures.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use casia_core::attachment::{AttachmentLimits, NewAttachment};
use casia_core::calendar::HolidayCalendar;
use casia_core::catalog::Catalog;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::receipt::ReceiptKey;
use casia_core::{
    Actor, AuthorizationId, CaseRules, CaseService, ProcessorId, ProvinceCode, SubmitInput, UserId,
};
use casia_store_sql::{SqlOptions, SqlStore};
use chrono::{DateTime, Utc};

/// `inquiry` (20 calendar days) and `procedure` (10 business days), two
/// materias each, a subcategory that needs complementary data.
pub const CATALOG_JSON: &str = r#"{
  "document_types": [
    {"code": "identity", "label": "Documento de identidad"},
    {"code": "other", "label": "Otros"}
  ],
  "case_types": [
    {"code": "inquiry", "deadline": {"days": 20, "unit": "calendar"},
     "materias": [
       {"code": "afiliacion", "label": "Afiliación", "categories": [
         {"code": "altas", "label": "Altas", "subcategories": [
           {"code": "general", "label": "Consulta general"},
           {"code": "nss", "label": "Número de Seguridad Social",
            "required_data": [["naf", "nif"]], "required_documents": ["identity"]}
         ]}
       ]},
       {"code": "cotizacion", "label": "Cotización", "categories": [
         {"code": "bases", "label": "Bases", "subcategories": [
           {"code": "calculo", "label": "Cálculo de bases"}
         ]}
       ]}
     ]},
    {"code": "procedure", "deadline": {"days": 10, "unit": "business"},
     "materias": [
       {"code": "inscripcion", "label": "Inscripción de empresas", "categories": [
         {"code": "empresas", "label": "Empresas", "subcategories": [
           {"code": "baja", "label": "Baja de empresa"}
         ]}
       ]}
     ]}
  ]
}"#;

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// Limits high enough for the concurrency tests (the default allows 20).
pub fn generous_limits() -> AttachmentLimits {
    AttachmentLimits {
        max_attachment_bytes: 1024 * 1024,
        max_attachments: 1000,
        max_total_bytes: 512 * 1024 * 1024,
    }
}

pub fn rules(limits: AttachmentLimits) -> CaseRules {
    CaseRules {
        catalog: Catalog::from_json(CATALOG_JSON).expect("catalog"),
        calendar: HolidayCalendar::default_calendar(),
        limits,
        receipt_key: ReceiptKey::new(b"casia-store-sql-tests".to_vec()),
    }
}

pub fn service(repo: Arc<dyn CaseRepository>, clock: Arc<FixedClock>) -> CaseService {
    CaseService::new(repo, clock, Arc::new(rules(generous_limits())))
}

pub fn user(authorization: &str, user: &str, province: &str) -> Actor {
    Actor::User {
        authorization: AuthorizationId::parse(authorization).expect("authorization"),
        user: UserId::parse(user).expect("user"),
        province: ProvinceCode::parse(province).expect("province"),
    }
}

pub fn processor(id: &str, office: &str) -> Actor {
    Actor::Processor {
        processor: ProcessorId::parse(id).expect("processor"),
        office: ProvinceCode::parse(office).expect("office"),
    }
}

/// A PDF-signed file whose bytes depend on `seed`.
pub fn pdf(seed: u64, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% seed {seed}\n").into_bytes();
    while v.len() < len {
        v.push(b'0' + (v.len() % 10) as u8);
    }
    v
}

pub fn attachment(document_type: &str, title: &str, seed: u64) -> NewAttachment {
    NewAttachment {
        document_type: document_type.to_owned(),
        title: title.to_owned(),
        file_name: format!("documento-{seed}.pdf"),
        content: pdf(seed, 200).into(),
    }
}

/// A valid `inquiry › afiliacion › altas › general` submission.
pub fn inquiry(title: &str) -> SubmitInput {
    SubmitInput {
        case_type: "inquiry".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: "general".into(),
        affects_current_period: false,
        title: title.into(),
        description: "Descripción de la consulta".into(),
        ..SubmitInput::default()
    }
}

/// `inquiry › afiliacion › altas › nss`: complementary data and a required
/// identity document.
pub fn nss_inquiry(title: &str, seed: u64) -> SubmitInput {
    SubmitInput {
        subcategory: "nss".into(),
        affects_current_period: true,
        complementary_data: BTreeMap::from([
            ("naf".to_owned(), "281234567840".to_owned()),
            ("reference".to_owned(), "REF-2026/7".to_owned()),
        ]),
        attachments: vec![attachment("identity", "DNI del trabajador", seed)],
        ..inquiry(title)
    }
}

/// The PostgreSQL URL, or `None` after printing the visible skip line.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("CASIA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{test}: skipped: CASIA_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// A SQLite file in a folder of its own, removed with the value.
pub struct TempDb {
    pub dir: PathBuf,
    pub url: String,
}

impl TempDb {
    pub fn new(name: &str) -> TempDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "casia-store-sql-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite:{}?mode=rwc", dir.join("casia.db").display());
        TempDb { dir, url }
    }

    /// A migrated store on this file.
    pub async fn open(&self) -> SqlStore {
        let store = SqlStore::connect(&self.url, &SqlOptions::default())
            .await
            .expect("open SQLite file");
        store.migrate().await.expect("migrate");
        store
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a test runs: a SQLite file (kept alive by `_file`) or a fresh
/// PostgreSQL schema.
pub struct Target {
    pub store: SqlStore,
    pub label: &'static str,
    _file: Option<TempDb>,
}

impl Target {
    pub async fn sqlite_file(name: &str) -> Target {
        let file = TempDb::new(name);
        Target {
            store: file.open().await,
            label: "sqlite",
            _file: Some(file),
        }
    }

    pub async fn postgres(url: &str) -> Target {
        Target {
            store: SqlStore::connect_fresh(url)
                .await
                .expect("fresh PostgreSQL schema"),
            label: "postgres",
            _file: None,
        }
    }

    /// Another instance of the same store, as a second service process
    /// would have: a SQLite file opened again (its own writer connection,
    /// so the two contend through SQLite's locks), or the same PostgreSQL
    /// pool (whose connections already contend through PostgreSQL's).
    pub async fn second_instance(&self) -> SqlStore {
        match &self._file {
            Some(file) => file.open().await,
            None => self.store.clone(),
        }
    }

    pub async fn finish(self) {
        self.store.drop_fresh().await;
    }
}
