//! Shared fixtures of the integration tests: a small inline catalog (inquiry
//! 20 calendar days, procedure 10 business days), a small holiday calendar,
//! actors, attachments and a service over the memory store.
// Each test crate uses a different subset of these fixtures.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;

use casia_core::attachment::{AttachmentLimits, NewAttachment};
use casia_core::calendar::HolidayCalendar;
use casia_core::catalog::Catalog;
use casia_core::ports::{CaseRepository, FixedClock};
use casia_core::receipt::ReceiptKey;
use casia_core::{
    Actor, AuthorizationId, CaseRules, CaseService, ProcessorId, ProvinceCode, SubmitInput, UserId,
};
use chrono::{DateTime, NaiveDate, Utc};

/// The catalog every integration test runs with. `inquiry` counts 20
/// calendar days, `procedure` 10 business days (DOMAIN.md §5); `incident` is
/// omitted on purpose (a catalog may omit a type, DOMAIN.md §2).
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
         {"code": "aplazamientos", "label": "Aplazamientos", "subcategories": [
           {"code": "solicitud", "label": "Solicitud de aplazamiento",
            "not_handled": "La solicitud de aplazamiento no se presenta por CASIA."},
           {"code": "consulta", "label": "Consulta sobre aplazamientos"}
         ]}
       ]}
     ]},
    {"code": "procedure", "deadline": {"days": 10, "unit": "business"},
     "materias": [
       {"code": "inscripcion", "label": "Inscripción de empresas", "categories": [
         {"code": "empresas", "label": "Empresas", "subcategories": [
           {"code": "alta", "label": "Alta de empresa", "required_documents": ["other"]},
           {"code": "baja", "label": "Baja de empresa"}
         ]}
       ]},
       {"code": "afiliacion", "label": "Afiliación", "categories": [
         {"code": "altas", "label": "Altas", "subcategories": [
           {"code": "nss", "label": "Número de Seguridad Social",
            "required_data": [["naf", "nif"]], "required_documents": ["identity"]}
         ]}
       ]}
     ]}
  ]
}"#;

/// National holidays of the test calendar (a subset of the published ones).
pub const NATIONAL: &[&str] = &[
    "2025-01-01",
    "2025-01-06",
    "2025-04-18",
    "2025-05-01",
    "2025-08-15",
    "2025-12-08",
    "2025-12-25",
    "2026-01-01",
    "2026-01-06",
    "2026-04-03",
    "2026-05-01",
    "2026-10-12",
    "2026-12-08",
    "2026-12-25",
];

/// Regional holidays by ISO 3166-2 community code.
pub const REGIONAL: &[(&str, &[&str])] = &[
    (
        "ES-MD",
        &["2025-05-02", "2025-11-10", "2026-03-19", "2026-11-09"],
    ),
    (
        "ES-CT",
        &["2025-06-24", "2025-09-11", "2026-06-24", "2026-09-11"],
    ),
    ("ES-AN", &["2025-02-28", "2026-03-02", "2026-12-07"]),
];

/// The community of each office/province the tests use (DOMAIN.md §5,
/// art. 30.6), written here independently of the crate's table.
pub fn community(province: &str) -> &'static str {
    match province {
        "28" => "ES-MD",
        "08" => "ES-CT",
        "41" => "ES-AN",
        other => panic!("no community for province {other} in the tests"),
    }
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// The test calendar covers 2025 and 2026; a deadline that runs into 2027
/// still skips the national days no community can move (RD 2001/1983 art.
/// 45.1, DOMAIN.md §5), written out here by hand for the model.
const UNMOVABLE_2027: [&str; 9] = [
    "2027-01-01",
    "2027-03-26",
    "2027-05-01",
    "2027-08-15",
    "2027-10-12",
    "2027-11-01",
    "2027-12-06",
    "2027-12-08",
    "2027-12-25",
];

/// National ∪ both communities' holidays, as the model counts them.
pub fn holidays_for(province: &str, office: &str) -> BTreeSet<NaiveDate> {
    let mut set: BTreeSet<NaiveDate> = NATIONAL
        .iter()
        .chain(UNMOVABLE_2027.iter())
        .map(|d| date(d))
        .collect();
    for wanted in [community(province), community(office)] {
        for (code, days) in REGIONAL {
            if *code == wanted {
                set.extend(days.iter().map(|d| date(d)));
            }
        }
    }
    set
}

pub fn calendar() -> HolidayCalendar {
    let regional: serde_json::Map<String, serde_json::Value> = REGIONAL
        .iter()
        .map(|(code, days)| ((*code).to_owned(), serde_json::json!(days)))
        .collect();
    let json = serde_json::json!({
        "national": NATIONAL,
        "regional": regional,
        "years": [2025, 2026],
    });
    HolidayCalendar::from_json(&json.to_string()).expect("calendar")
}

pub fn catalog() -> Catalog {
    Catalog::from_json(CATALOG_JSON).expect("catalog")
}

pub fn rules(limits: AttachmentLimits) -> CaseRules {
    CaseRules {
        catalog: catalog(),
        calendar: calendar(),
        limits,
        receipt_key: ReceiptKey::new(b"casia-integration-tests".to_vec()),
    }
}

pub fn service_over(
    repo: Arc<dyn CaseRepository>,
    clock: Arc<FixedClock>,
    limits: AttachmentLimits,
) -> CaseService {
    CaseService::new(repo, clock, Arc::new(rules(limits)))
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

/// A small PDF-signed file whose bytes depend on `seed` (content decides
/// the format, DOMAIN.md §6).
pub fn pdf_bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% seed {seed}\n").into_bytes();
    while v.len() < len {
        v.push(b'0' + (v.len() % 10) as u8);
    }
    v
}

pub fn attachment(document_type: &str, title: &str, content: Vec<u8>) -> NewAttachment {
    NewAttachment {
        document_type: document_type.to_owned(),
        title: title.to_owned(),
        file_name: "documento.pdf".to_owned(),
        content: content.into(),
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
