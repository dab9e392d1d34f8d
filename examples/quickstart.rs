//! Quickstart: a case through its whole life on the in-memory store.
//!
//!     cargo run --example quickstart
//!
//! A user of autorizado A1 (Madrid) files a procedure request with its two
//! required documents, a processor of office 28 assigns it and asks for
//! information (10 business days), the user answers, the processor resolves
//! and the user rates the service.

use casia::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

use casia::attachment::NewAttachment;
use casia::memory::MemoryStore;
use casia::ports::FixedClock;
use casia::receipt::{ReceiptKey, madrid_timestamp};
use casia::{Actor, CaseRules, CaseService, Command, SubmitInput};
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
}

fn pdf(text: &str) -> Bytes {
    format!("%PDF-1.7\n{text}\n%%EOF\n").into_bytes().into()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at("2026-12-01T09:00:00+01:00")));
    let rules = Arc::new(CaseRules::with_defaults(ReceiptKey::new("example secret")));
    let service = CaseService::new(store.clone(), clock.clone(), rules);

    let user = Actor::User {
        authorization: "A1".parse()?,
        user: "u1".parse()?,
        province: "28".parse()?,
    };
    let processor = Actor::Processor {
        processor: "P1".parse()?,
        office: "28".parse()?,
    };

    futures_executor::block_on(async {
        let submitted = service
            .submit(
                &user,
                &SubmitInput {
                    case_type: "procedure".into(),
                    materia: "afiliacion".into(),
                    category: "altas".into(),
                    subcategory: "nss".into(),
                    affects_current_period: false,
                    title: "Solicitud de NSS".into(),
                    description: "Trabajador sin número de afiliación.".into(),
                    complementary_data: BTreeMap::from([(
                        "nif".to_owned(),
                        "12345678Z".to_owned(),
                    )]),
                    attachments: vec![
                        NewAttachment {
                            document_type: "ta1".into(),
                            title: "TA.1 firmado".into(),
                            file_name: "ta1.pdf".into(),
                            content: pdf("TA.1").into(),
                        },
                        NewAttachment {
                            document_type: "identity".into(),
                            title: "DNI".into(),
                            file_name: "dni.pdf".into(),
                            content: pdf("DNI").into(),
                        },
                    ],
                },
            )
            .await?;
        let number = submitted.case.number;
        println!("submitted {number}: {}", submitted.case.state.label_es());
        println!(
            "  receipt code {}",
            submitted.case.receipt.verification_code
        );

        service
            .execute(&processor, number, &Command::Assign { processor: None })
            .await?;
        let asked = service
            .execute(
                &processor,
                number,
                &Command::RequestInformation {
                    observation: "Aporte el TA.1 firmado por el trabajador.".into(),
                },
            )
            .await?;
        println!(
            "information requested; deadline {} (10 business days)",
            asked.case.deadline.map_or("none".into(), |d| d.to_string())
        );

        clock.set(at("2026-12-10T12:00:00+01:00"));
        service
            .execute(
                &user,
                number,
                &Command::AddDocumentation {
                    comment: Some("Adjunto el modelo firmado.".into()),
                    attachments: vec![],
                },
            )
            .await?;
        service
            .execute(
                &processor,
                number,
                &Command::Resolve {
                    resolution: "Número asignado.".into(),
                },
            )
            .await?;
        service
            .execute(
                &user,
                number,
                &Command::Survey {
                    rating: 5,
                    comment: Some("Rápido.".into()),
                },
            )
            .await?;

        let case = service.get(&user, number).await?;
        println!(
            "final state: {} / {}",
            case.state.status().as_str(),
            case.state.substatus_code()
        );
        for entry in service.history(&user, number).await? {
            println!(
                "  {} {:<22} {}",
                madrid_timestamp(entry.at),
                entry.event.as_str(),
                entry.observation.unwrap_or_default()
            );
        }
        for m in store.outbox_snapshot() {
            println!(
                "  notification {} for {}",
                m.notification.kind.as_str(),
                m.notification.authorization
            );
        }
        let verified = service
            .verify_receipt(&case.receipt.verification_code)
            .await?;
        println!("receipt verifies: {}", verified.is_some());
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
