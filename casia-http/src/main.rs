//! The `casia` binary (HTTP.md "Command line"). Today: `conformance` and
//! `catalog check`; `serve`, `migrate`, `sweep` and `token` land with the
//! SQL store and HTTP service (issues 4 and 5).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use casia_conformance::{MemoryStoreFactory, StoreFactory, run_paths};
use casia_core::catalog::Catalog;

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

#[derive(Subcommand)]
enum Cmd {
    /// Run conformance scenario files or folders (CONFORMANCE.md).
    Conformance {
        /// Scenario files or folders of `*.json`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The store each scenario runs on: `memory` (SQL stores: issue 4).
        #[arg(long, default_value = "memory")]
        store: String,
    },
    /// Catalog tools.
    Catalog {
        #[command(subcommand)]
        command: CatalogCmd,
    },
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Validate a catalog file; print every fault with its JSON path.
    Check { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Conformance { paths, store } => conformance(&paths, &store),
        Cmd::Catalog {
            command: CatalogCmd::Check { file },
        } => catalog_check(&file),
    }
}

fn conformance(paths: &[PathBuf], store: &str) -> ExitCode {
    let factory: Box<dyn StoreFactory> = match store {
        "memory" => Box::new(MemoryStoreFactory),
        other => {
            eprintln!("casia: store {other:?} is not available in this build (supported: memory)");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("casia: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let summary = runtime.block_on(run_paths(paths, factory.as_ref(), |report| {
        println!("{}", report.line());
    }));
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
            ExitCode::FAILURE
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
