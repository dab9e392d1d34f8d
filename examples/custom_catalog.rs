//! A custom catalog and holiday calendar: operators change both without a
//! release (DOMAIN.md §2, §5).
//!
//!     cargo run --example custom_catalog
//!
//! Loads a one-materia catalog with a 5-business-day procedure deadline and
//! a calendar with Madrid's and Catalonia's holidays, shows a load error
//! naming its JSON path, and computes the deadline of one request for a
//! Madrid authorization before and after a transfer to Barcelona.

use std::sync::Arc;

use casia::attachment::AttachmentLimits;
use casia::calendar::HolidayCalendar;
use casia::memory::MemoryStore;
use casia::ports::FixedClock;
use casia::receipt::ReceiptKey;
use casia::{Actor, CaseRules, CaseService, Catalog, Command, SubmitInput};

const CATALOG: &str = r#"{
  "document_types": [{"code": "escritura", "label": "Escritura de constitución"}],
  "case_types": [{
    "code": "procedure",
    "deadline": {"days": 5, "unit": "business"},
    "materias": [{"code": "inscripcion_empresas", "label": "Inscripción de empresas",
      "categories": [{"code": "inscripcion", "label": "Inscripción",
        "subcategories": [{"code": "nueva", "label": "Inscripción de empresario",
                           "required_data": [["nif"]]}]}]}]
  }]
}"#;

const CALENDAR: &str = r#"{
  "national": ["2026-12-08", "2026-12-25"],
  "regional": {"ES-MD": ["2026-12-07"], "ES-CT": ["2026-12-10"], "ES-AN": ["2026-12-09"]},
  "years": [2026]
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A typo is a load error that names where it is.
    let broken = CATALOG.replace("\"required_data\"", "\"requried_data\"");
    if let Err(fault) = Catalog::from_json(&broken) {
        println!("rejected catalog: {fault}");
    }

    let rules = CaseRules {
        catalog: Catalog::from_json(CATALOG)?,
        calendar: HolidayCalendar::from_json(CALENDAR)?,
        limits: AttachmentLimits::default(),
        receipt_key: ReceiptKey::new("example"),
    };
    let clock = Arc::new(FixedClock::new("2026-12-02T10:00:00+01:00".parse()?));
    let service = CaseService::new(Arc::new(MemoryStore::new()), clock, Arc::new(rules));
    let user = Actor::User {
        authorization: "A9".parse()?,
        user: "u1".parse()?,
        province: "28".parse()?,
    };
    let madrid = Actor::Processor {
        processor: "P1".parse()?,
        office: "28".parse()?,
    };
    let barcelona = Actor::Processor {
        processor: "P8".parse()?,
        office: "08".parse()?,
    };

    futures_executor::block_on(async {
        let input = SubmitInput {
            case_type: "procedure".into(),
            materia: "inscripcion_empresas".into(),
            category: "inscripcion".into(),
            subcategory: "nueva".into(),
            title: "Inscripción".into(),
            description: "Alta de empresario individual.".into(),
            complementary_data: [("nif".to_owned(), "12345678Z".to_owned())].into(),
            ..SubmitInput::default()
        };
        let a = service.submit(&user, &input).await?.case.number;
        let b = service.submit(&user, &input).await?.case.number;

        // a: Madrid office; holidays national ∪ ES-MD (Andalucía's 9th does not count):
        // Thu 3, Fri 4, (Mon 7 ES-MD, Tue 8 national), Wed 9, Thu 10, Fri 11.
        service
            .execute(&madrid, a, &Command::Assign { processor: None })
            .await?;
        let ask = Command::RequestInformation {
            observation: "Aporte la escritura.".into(),
        };
        let deadline_a = service.execute(&madrid, a, &ask).await?.case.deadline;
        println!("{a}: requested Wed 2026-12-02 at office 28 → deadline {deadline_a:?}");

        // b: transferred to Barcelona first; holidays national ∪ ES-MD ∪ ES-CT:
        // Thu 3, Fri 4, Wed 9, (Thu 10 ES-CT), Fri 11, Mon 14.
        service
            .execute(
                &madrid,
                b,
                &Command::Transfer {
                    office: "08".into(),
                    note: None,
                },
            )
            .await?;
        service
            .execute(&barcelona, b, &Command::Assign { processor: None })
            .await?;
        let deadline_b = service.execute(&barcelona, b, &ask).await?.case.deadline;
        println!("{b}: requested the same day at office 08 → deadline {deadline_b:?}");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
