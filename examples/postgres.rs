//! Running against PostgreSQL: the same service over a shared database, as
//! several `casia` instances would use it.
//!
//!     CASIA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!         cargo run --example postgres --features postgres
//!
//! Works in a fresh schema of that database (dropped at the end), submits
//! 20 cases from 20 concurrent tasks and shows that the numbers are 1..20
//! with no gap, then runs two sweeps at once.

use std::sync::Arc;

use casia::ports::SystemClock;
use casia::receipt::ReceiptKey;
use casia::store_sql::SqlStore;
use casia::{Actor, CaseRules, CaseService, SubmitInput};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("CASIA_DATABASE_URL") else {
        eprintln!("set CASIA_DATABASE_URL=postgres://USER@HOST:5432/DB to run this example");
        return Ok(());
    };
    // A fresh, migrated schema of its own, so the example never touches your data.
    let store = SqlStore::connect_fresh(&url).await?;
    let rules = Arc::new(CaseRules::with_defaults(ReceiptKey::new("example")));
    let service = CaseService::new(Arc::new(store.clone()), Arc::new(SystemClock), rules);

    let mut tasks = Vec::new();
    for i in 0..20 {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let user = Actor::User {
                authorization: format!("A{}", i % 4).parse().map_err(|e| format!("{e}"))?,
                user: format!("u{i}").parse().map_err(|e| format!("{e}"))?,
                province: "41".parse().map_err(|e| format!("{e}"))?,
            };
            let input = SubmitInput {
                case_type: "incident".into(),
                materia: "tecnicas".into(),
                category: "transmisiones".into(),
                subcategory: "envio".into(),
                title: format!("Incidencia {i}"),
                description: "Error al transmitir el fichero.".into(),
                complementary_data: [("submission_code".to_owned(), format!("ENV{i:04}"))].into(),
                ..SubmitInput::default()
            };
            service
                .submit(&user, &input)
                .await
                .map(|o| o.case.number)
                .map_err(|e| e.to_string())
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await??);
    }
    numbers.sort();
    let shown: Vec<String> = numbers.iter().map(ToString::to_string).collect();
    println!("20 concurrent submissions got: {}", shown.join(", "));

    let (a, b) = tokio::join!(service.sweep(), service.sweep());
    println!(
        "two concurrent sweeps: closed {} + {}",
        a?.closed.len(),
        b?.closed.len()
    );
    store.drop_fresh().await;
    Ok(())
}
