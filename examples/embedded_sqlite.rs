//! Embedding casia with SQLite: the service over a SQLite file, in your own
//! tokio program — no HTTP.
//!
//!     cargo run --example embedded_sqlite --features sqlite
//!
//! Creates `casia-example.db` in a temporary folder, applies the migrations,
//! submits two cases, searches them and reads one back after reopening the
//! file: numbering and everything else survive restarts.

use std::collections::BTreeMap;
use std::sync::Arc;

use casia::ports::SystemClock;
use casia::receipt::ReceiptKey;
use casia::search::SearchInput;
use casia::store_sql::{SqlOptions, SqlStore};
use casia::{Actor, CaseRules, CaseService, SubmitInput};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("casia-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite:{}?mode=rwc", dir.join("casia-example.db").display());
    let rules = Arc::new(CaseRules::with_defaults(ReceiptKey::new(
        "keep this secret",
    )));
    let user = Actor::User {
        authorization: "A1".parse()?,
        user: "u1".parse()?,
        province: "46".parse()?,
    };

    let store = SqlStore::connect(&url, &SqlOptions::default()).await?;
    store.migrate().await?;
    let service = CaseService::new(
        Arc::new(store.clone()),
        Arc::new(SystemClock),
        rules.clone(),
    );
    for title in ["Alta fuera de plazo", "Bases de cotización de octubre"] {
        let outcome = service
            .submit(
                &user,
                &SubmitInput {
                    case_type: "inquiry".into(),
                    materia: "afiliacion".into(),
                    category: "altas".into(),
                    subcategory: "plazos".into(),
                    affects_current_period: false,
                    title: title.into(),
                    description: "Consulta enviada desde un programa que integra casia.".into(),
                    complementary_data: BTreeMap::new(),
                    attachments: Vec::new(),
                },
            )
            .await?;
        println!(
            "submitted {} (office {})",
            outcome.case.number, outcome.case.office
        );
    }
    let page = service
        .search(
            &user,
            &SearchInput {
                status: Some("open".into()),
                ..SearchInput::default()
            },
        )
        .await?;
    println!("open cases this month: {}", page.items.len());
    store.close().await;

    // Reopen the file: the cases and the per-year counter are still there.
    let reopened = SqlStore::connect(&url, &SqlOptions::default()).await?;
    let service = CaseService::new(Arc::new(reopened), Arc::new(SystemClock), rules);
    if let Some(first) = page.items.last() {
        let case = service.get(&user, first.number).await?;
        println!(
            "read back {}: {} — {}",
            case.number,
            case.state.label_es(),
            case.title
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
