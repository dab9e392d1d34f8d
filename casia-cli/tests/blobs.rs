//! Attachment bytes in the blob store with the real binary (issue 17):
//! `serve` keeps them in a folder beside the SQLite file, downloads stream
//! with `Content-Length` and answer byte ranges, a kill -9 during a burst
//! of uploads leaves every acknowledged case readable with the right
//! hashes and no reference to a missing blob, and `casia blobs gc`
//! removes what an interrupted write left behind.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use casia_test_support::binary::{Casia, USER_TOKEN_ARGS, http, json_call, multipart_call, text};
use casia_test_support::env::postgres_url;
use casia_test_support::s3::S3Server;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_casia");
const DATABASE: &str = "sqlite:casia.db?mode=rwc";

fn pdf(seed: usize, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% documento {seed}\n").into_bytes();
    while v.len() < len {
        v.push(b'a' + ((v.len() * 7 + seed) % 26) as u8);
    }
    v
}

fn sha(bytes: &[u8]) -> String {
    casia_core::attachment::sha256_hex(bytes)
}

/// `casia blobs verify` succeeded; its report.
fn verified(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn token(dir: &Path) -> String {
    Casia::new(BIN, dir).user_token(DATABASE)
}

/// Files an inquiry with one PDF; the case number, or the HTTP status.
fn file(addr: &str, token: &str, seed: usize, len: usize) -> Result<String, u16> {
    let case = json!({
        "case_type": "inquiry", "materia": "afiliacion", "category": "altas",
        "subcategory": "plazos", "affects_current_period": false,
        "title": format!("Consulta {seed}"), "description": "Con un documento.",
        "complementary_data": {},
        "attachments": [{"part": "f", "document_type": "other", "title": "Documento"}]
    })
    .to_string();
    let body = pdf(seed, len);
    let r = multipart_call(
        addr,
        "/v1/cases",
        token,
        &[
            ("case", None, case.as_bytes()),
            ("f", Some("documento.pdf"), &body),
        ],
    );
    if r.status == 201 {
        Ok(r.json()["number"].as_str().expect("number").to_owned())
    } else {
        Err(r.status)
    }
}

#[test]
fn serve_keeps_bytes_beside_the_database_and_streams_ranges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let casia = Casia::new(BIN, dir.path());
    let server = casia.serve(&["--database", DATABASE]);
    let tok = token(dir.path());
    let number = file(&server.addr, &tok, 1, 300_000).expect("filed");
    let blobs = dir.path().join("casia.db.blobs/sha256");
    let stored: Vec<_> = walk(&blobs);
    assert_eq!(stored.len(), 1, "one blob beside the database: {stored:?}");

    let auth = format!("Bearer {tok}");
    let path = format!("/v1/cases/{number}/attachments/1");
    let whole = http(&server.addr, "GET", &path, &[("Authorization", &auth)], b"");
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, pdf(1, 300_000));
    assert_eq!(whole.header("content-length"), Some("300000"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let part = http(
        &server.addr,
        "GET",
        &path,
        &[("Authorization", &auth), ("Range", "bytes=100000-100099")],
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, pdf(1, 300_000)[100_000..100_100].to_vec());
    assert_eq!(
        part.header("content-range"),
        Some("bytes 100000-100099/300000")
    );
    let past = http(
        &server.addr,
        "GET",
        &path,
        &[("Authorization", &auth), ("Range", "bytes=300000-")],
        b"",
    );
    assert_eq!(past.status, 416);
    drop(server);

    let report = verified(&casia.run(&["blobs", "verify", "--database", DATABASE]));
    assert!(
        report.contains("1 referenced blobs checked\n0 faults"),
        "{report}"
    );
    let other = casia.run(&[
        "blobs",
        "verify",
        "--database",
        DATABASE,
        "--blobs",
        "gs://bucket/x",
    ]);
    assert!(!other.status.success());
    assert!(
        text(&other.stderr).contains("a folder or s3://bucket/prefix"),
        "{}",
        text(&other.stderr)
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_kill_during_a_burst_of_uploads_leaves_every_acknowledged_case_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let casia = Casia::new(BIN, dir.path());
    let mut server = casia.serve(&["--database", DATABASE]);
    let tok = token(dir.path());
    let addr = server.addr.clone();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, tok, acknowledged, sent) = (
                addr.clone(),
                tok.clone(),
                Arc::clone(&acknowledged),
                Arc::clone(&sent),
            );
            std::thread::spawn(move || {
                for i in 0..200 {
                    let seed = w * 1000 + i;
                    sent.fetch_add(1, Ordering::SeqCst);
                    match file(&addr, &tok, seed, 200_000) {
                        Ok(n) => acknowledged.lock().expect("lock").push((n, seed)),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then kill -9 in the middle of it.
    while acknowledged.lock().expect("lock").len() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    for w in workers {
        let _ = w.join();
    }
    let acked = acknowledged.lock().expect("lock").clone();
    assert!(
        sent.load(Ordering::SeqCst) > acked.len(),
        "the kill cut uploads short"
    );

    // Nothing references a missing or altered blob.
    let report = verified(&casia.run(&["blobs", "verify", "--database", DATABASE]));
    assert!(report.ends_with("\n0 faults\n"), "{report}");
    let referenced: usize = report
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("how many were checked");
    assert!(referenced >= acked.len(), "{referenced} < {}", acked.len());
    // Uploads cut by the kill leave at most their staging files in tmp/.
    let left_in_tmp = walk(&dir.path().join("casia.db.blobs/tmp"));
    assert!(
        left_in_tmp.iter().all(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("staged-") || name.ends_with(".tmp")
        }),
        "{left_in_tmp:?}"
    );
    eprintln!(
        "crash: {} uploads sent, {} acknowledged, {referenced} blobs referenced and verified, \
         {} staging/temporary files left by the kill",
        sent.load(Ordering::SeqCst),
        acked.len(),
        left_in_tmp.len()
    );

    // Every acknowledged case reads back with the bytes it was sent.
    let server = casia.serve(&["--database", DATABASE]);
    let auth = format!("Bearer {tok}");
    for (number, seed) in &acked {
        let case = json_call(
            &server.addr,
            "GET",
            &format!("/v1/cases/{number}"),
            &tok,
            None,
        );
        assert_eq!(case.status, 200, "{number}");
        let recorded = case.json()["attachments"][0]["sha256"]
            .as_str()
            .expect("sha")
            .to_owned();
        let got = http(
            &server.addr,
            "GET",
            &format!("/v1/cases/{number}/attachments/1"),
            &[("Authorization", &auth)],
            b"",
        );
        assert_eq!(got.status, 200, "{number}");
        assert_eq!(sha(&got.body), recorded, "{number}");
        assert_eq!(got.body, pdf(*seed, 200_000), "{number}");
    }
    drop(server);

    // What an interrupted write leaves (a blob never committed, a
    // temporary) is collected; referenced blobs stay.
    let orphan_key = sha(b"orphan bytes");
    let orphan = dir.path().join(format!(
        "casia.db.blobs/sha256/{}/{}/{orphan_key}",
        &orphan_key[..2],
        &orphan_key[2..4]
    ));
    std::fs::create_dir_all(orphan.parent().expect("parent")).expect("dir");
    std::fs::write(&orphan, b"orphan bytes").expect("orphan");
    let tmp = dir.path().join("casia.db.blobs/tmp/x.tmp");
    std::fs::write(&tmp, b"half").expect("tmp");
    // A grace under 5 minutes is refused: it could take a file whose row
    // is still being written.
    let refused = casia.run(&[
        "blobs",
        "gc",
        "--grace-minutes",
        "0",
        "--database",
        DATABASE,
    ]);
    assert!(!refused.status.success());
    // Left two hours ago, like the crash's own orphans: back-date every
    // file past the grace period (referenced ones stay whatever their age).
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for file in walk(&dir.path().join("casia.db.blobs")) {
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(two_hours_ago))
            .expect("back-date");
    }
    let gc = casia.run(&["blobs", "gc", "--database", DATABASE]);
    assert!(gc.status.success(), "{}", text(&gc.stderr));
    assert!(!orphan.exists(), "{}", text(&gc.stdout));
    assert!(!tmp.exists());
    assert!(
        walk(&dir.path().join("casia.db.blobs/tmp")).is_empty(),
        "the kill's staging files are collected too"
    );
    // Only referenced blobs are left: the crash's own orphans went too.
    assert_eq!(
        walk(&dir.path().join("casia.db.blobs/sha256")).len(),
        referenced
    );
    verified(&casia.run(&["blobs", "verify", "--database", DATABASE]));
}

#[test]
fn two_instances_on_one_postgresql_and_one_bucket_share_documents() {
    const TEST: &str = "blobs::two_instances_on_one_postgresql_and_one_bucket_share_documents";
    let Some(url) = postgres_url(TEST) else {
        return;
    };
    let Some(s3) = S3Server::start(TEST, "casia-shared") else {
        return;
    };
    let schema = format!("casia_two_{}", std::process::id());
    let made = std::process::Command::new("psql")
        .args([&url, "-q", "-c", &format!("CREATE SCHEMA {schema}")])
        .status();
    assert!(
        made.map(|s| s.success()).unwrap_or(false),
        "psql CREATE SCHEMA"
    );
    let (head, db_name) = url.rsplit_once('/').expect("a database name");
    let database = format!("{head}/{db_name}?options=-csearch_path%3D{schema}");
    let secret = "two-instances-share-this-secret-0123456789".to_owned();
    let mut env = s3.env();
    env.push(("CASIA_JWT_SECRET", secret.clone()));
    let blobs = s3.url("casia");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let a = Casia::new(BIN, dir_a.path())
        .serve_with_env(&["--database", &database, "--blobs", &blobs], &env);
    let b = Casia::new(BIN, dir_b.path())
        .serve_with_env(&["--database", &database, "--blobs", &blobs], &env);
    let tok = Casia::new(BIN, dir_a.path()).token_with_env(&database, USER_TOKEN_ARGS, &env);
    // Uploaded through one, downloaded through the other.
    let number = file(&a.addr, &tok, 7, 500_000).expect("filed through a");
    let got = http(
        &b.addr,
        "GET",
        &format!("/v1/cases/{number}/attachments/1"),
        &[("Authorization", &format!("Bearer {tok}"))],
        b"",
    );
    assert_eq!(got.status, 200, "{}", b.log());
    assert_eq!(got.body, pdf(7, 500_000));
    // No local folder was used: the bytes are in the bucket only.
    assert!(!dir_a.path().join("casia-blobs").exists());
    drop((a, b));
    let verify = Casia::new(BIN, dir_a.path())
        .command()
        .args([
            "blobs",
            "verify",
            "--database",
            &database,
            "--blobs",
            &blobs,
        ])
        .envs(s3.env().iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("verify");
    let report = verified(&verify);
    assert!(report.contains("1 referenced blobs checked"), "{report}");
    let _ = std::process::Command::new("psql")
        .args([
            &url,
            "-q",
            "-c",
            &format!("SET client_min_messages = warning; DROP SCHEMA {schema} CASCADE"),
        ])
        .status();
}
