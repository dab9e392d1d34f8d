//! The test catalog, actors, instants, submissions and attachments.

use std::collections::BTreeMap;
use std::sync::Arc;

use casia_core::attachment::{AttachmentLimits, NewAttachment};
use casia_core::calendar::HolidayCalendar;
use casia_core::catalog::Catalog;
use casia_core::ports::{CaseRepository, Clock};
use casia_core::receipt::ReceiptKey;
use casia_core::{
    Actor, AuthorizationId, CaseRules, CaseService, ProcessorId, ProvinceCode, SubmitInput, UserId,
};
use chrono::{DateTime, NaiveDate, Utc};

/// The catalog every integration test runs with. `inquiry` counts 20
/// calendar days, `procedure` 10 business days (DOMAIN.md §5); `incident` is
/// omitted on purpose (a catalog may omit a type, DOMAIN.md §2). It has a
/// `not_handled` subcategory, subcategories that require complementary data
/// and documents, and two materias per type.
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
         ]},
         {"code": "bases", "label": "Bases", "subcategories": [
           {"code": "calculo", "label": "Cálculo de bases"}
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

/// [`CATALOG_JSON`], loaded.
pub fn catalog() -> Catalog {
    Catalog::from_json(CATALOG_JSON).expect("catalog")
}

/// The test catalog, `calendar`, `limits` and a fixed receipt key.
pub fn rules_with(limits: AttachmentLimits, calendar: HolidayCalendar) -> CaseRules {
    CaseRules {
        catalog: catalog(),
        calendar,
        limits,
        receipt_key: ReceiptKey::new(b"casia-integration-tests".to_vec()),
    }
}

/// A service over `repo` with the test catalog and `calendar`.
pub fn service_with(
    repo: Arc<dyn CaseRepository>,
    clock: Arc<dyn Clock>,
    limits: AttachmentLimits,
    calendar: HolidayCalendar,
) -> CaseService {
    CaseService::new(repo, clock, Arc::new(rules_with(limits, calendar)))
}

/// Limits high enough for the concurrency tests (the default allows 20).
pub fn generous_limits() -> AttachmentLimits {
    AttachmentLimits {
        max_attachment_bytes: 1024 * 1024,
        max_attachments: 1000,
        max_total_bytes: 512 * 1024 * 1024,
    }
}

/// A date from `YYYY-MM-DD`; panics on anything else (tests only).
pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// An instant from RFC 3339 text, e.g. `2026-11-02T09:30:00+01:00`; panics on anything else (tests
/// only).
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// A user actor of `authorization` in `province`; panics on an invalid id (tests only).
pub fn user(authorization: &str, user: &str, province: &str) -> Actor {
    Actor::User {
        authorization: AuthorizationId::parse(authorization).expect("authorization"),
        user: UserId::parse(user).expect("user"),
        province: ProvinceCode::parse(province).expect("province"),
    }
}

/// A processor actor of `office`; panics on an invalid id (tests only).
pub fn processor(id: &str, office: &str) -> Actor {
    Actor::Processor {
        processor: ProcessorId::parse(id).expect("processor"),
        office: ProvinceCode::parse(office).expect("office"),
    }
}

/// A PDF-signed file of `len` bytes whose bytes depend on `seed` (content
/// decides the format, DOMAIN.md §6).
pub fn pdf(seed: u64, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% seed {seed}\n").into_bytes();
    while v.len() < len {
        v.push(b'0' + (v.len() % 10) as u8);
    }
    v
}

/// An attachment named `documento.pdf` holding `content`.
pub fn attachment(document_type: &str, title: &str, content: Vec<u8>) -> NewAttachment {
    NewAttachment {
        document_type: document_type.to_owned(),
        title: title.to_owned(),
        file_name: "documento.pdf".to_owned(),
        content: content.into(),
    }
}

/// A 200-byte PDF-signed attachment whose bytes depend on `seed`.
pub fn pdf_attachment(document_type: &str, title: &str, seed: u64) -> NewAttachment {
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
        attachments: vec![pdf_attachment("identity", "DNI del trabajador", seed)],
        ..inquiry(title)
    }
}
