//! The service on the open internet (issue 16), black-box on the real
//! binary: connections that never finish a request head are closed, an
//! unread body closes its connection, receipt verification is rate
//! limited, secrets that are too short or readable by others stop `serve`,
//! a database outage is 503 and the service recovers, and SIGTERM under
//! submit load exits 0 losing nothing — unanswered submissions retried with
//! their `Idempotency-Key` are filed exactly once.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use casia_test_support::binary::{Casia, Reply, http, text};
use casia_test_support::env::postgres_url;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_casia");
const DATABASE: &str = "sqlite:casia.db?mode=rwc";

fn casia(dir: &Path) -> Casia {
    Casia::new(BIN, dir)
}

fn user_token(dir: &Path, database: &str) -> String {
    casia(dir).user_token(database)
}

fn inquiry(title: &str) -> Value {
    json!({
        "case_type": "inquiry", "materia": "afiliacion", "category": "altas",
        "subcategory": "plazos", "title": title,
        "description": "¿Cuál es el plazo para comunicar un alta?"
    })
}

fn submit(addr: &str, token: &str, title: &str, key: Option<&str>) -> std::io::Result<Reply> {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    if let Some(k) = key {
        headers.push(("Idempotency-Key", k));
    }
    let body = inquiry(title).to_string();
    std::panic::catch_unwind(|| http(addr, "POST", "/v1/cases", &headers, body.as_bytes()))
        .map_err(|_| std::io::Error::other("no answer"))
}

/// Seconds until the server closes `stream` (reads return 0 or fail).
fn closed_after(mut stream: TcpStream, started: Instant) -> f64 {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return started.elapsed().as_secs_f64(),
            Ok(_) => {}
        }
    }
}

#[test]
fn connections_that_never_finish_a_request_head_are_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&["--database", DATABASE, "--header-timeout", "2"]);
    // Sends nothing.
    let silent = TcpStream::connect(&server.addr).expect("connect");
    let started = Instant::now();
    let silent_closed = closed_after(silent, started);
    // Sends half a head and stops (slowloris).
    let mut partial = TcpStream::connect(&server.addr).expect("connect");
    let started = Instant::now();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: casia\r\nX-Slow: ")
        .expect("write");
    let partial_closed = closed_after(partial, started);
    // Finishes a request, then sits idle on the kept-alive connection.
    let mut idle = TcpStream::connect(&server.addr).expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: casia\r\n\r\n")
        .expect("write");
    let mut first = [0u8; 512];
    let n = idle.read(&mut first).expect("response");
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let idle_closed = closed_after(idle, started);
    for (what, secs) in [
        ("silent", silent_closed),
        ("partial head", partial_closed),
        ("idle keep-alive", idle_closed),
    ] {
        assert!(
            (1.5..5.0).contains(&secs),
            "{what}: closed after {secs:.2} s"
        );
    }
    // The service still answers.
    assert_eq!(http(&server.addr, "GET", "/healthz", &[], b"").status, 200);
}

#[test]
fn an_unread_body_closes_its_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    let r = http(
        &server.addr,
        "POST",
        "/healthz",
        &[("Content-Type", "text/plain")],
        b"a body nobody reads",
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.header("connection"), Some("close"));
    let unauthenticated = http(
        &server.addr,
        "POST",
        "/v1/cases",
        &[("Content-Type", "application/json")],
        inquiry("x").to_string().as_bytes(),
    );
    assert_eq!(unauthenticated.status, 401);
    assert_eq!(unauthenticated.header("connection"), Some("close"));
}

#[test]
fn receipt_verification_is_limited_per_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&[
        "--database",
        DATABASE,
        "--receipt-rate",
        "1",
        "--receipt-burst",
        "3",
    ]);
    let path = "/v1/receipts/AAAA-BBBB-CCCC-DDDD-EEEE";
    for _ in 0..3 {
        assert_eq!(http(&server.addr, "GET", path, &[], b"").status, 404);
    }
    let limited = http(&server.addr, "GET", path, &[], b"");
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert_eq!(limited.json()["code"], "too_many_requests");
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&wait), "{wait}");
    // Other endpoints are not limited.
    assert_eq!(http(&server.addr, "GET", "/healthz", &[], b"").status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(http(&server.addr, "GET", path, &[], b"").status, 404);
}

#[test]
fn serve_refuses_short_secrets_and_secret_files_others_can_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let short = casia(dir.path())
        .command()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", DATABASE])
        .env("CASIA_JWT_SECRET", "only-twenty-bytes-xx")
        .output()
        .expect("run");
    assert_eq!(short.status.code(), Some(1));
    assert!(
        text(&short.stderr).contains("at least 32 bytes"),
        "{}",
        text(&short.stderr)
    );
    assert!(!dir.path().join("casia.db").exists(), "nothing created");

    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    drop(server);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secret = dir.path().join("casia.db.secret");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let exposed =
            casia(dir.path()).run(&["serve", "--listen", "127.0.0.1:0", "--database", DATABASE]);
        assert_eq!(exposed.status.code(), Some(1));
        let err = text(&exposed.stderr);
        assert!(
            err.contains("chmod 600") && err.lines().count() == 1,
            "{err}"
        );
    }
}

/// A TCP forwarder from a local port to PostgreSQL that can be cut and
/// restored, to take the database away from a running service.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(port: u16, target: String) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("proxy port");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, streams2) = (up.clone(), streams.clone());
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            while up2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(&target) else {
                            continue;
                        };
                        let mut all = streams2.lock().expect("lock");
                        for (mut from, mut to) in [
                            (
                                client.try_clone().expect("clone"),
                                server.try_clone().expect("clone"),
                            ),
                            (
                                server.try_clone().expect("clone"),
                                client.try_clone().expect("clone"),
                            ),
                        ] {
                            std::thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut to);
                                let _ = to.shutdown(Shutdown::Both);
                            });
                        }
                        all.push(client);
                        all.push(server);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy { port, up, streams }
    }

    /// Closes the listener and every forwarded connection: the database is
    /// gone (connection refused).
    fn cut(self) -> u16 {
        self.up.store(false, Ordering::SeqCst);
        for s in self.streams.lock().expect("lock").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        std::thread::sleep(Duration::from_millis(100));
        self.port
    }
}

#[test]
fn a_database_outage_is_503_and_the_service_recovers() {
    let Some(url) = postgres_url("a_database_outage_is_503_and_the_service_recovers") else {
        return;
    };
    let target = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let db_name = url.rsplit('/').next().unwrap_or("test").to_owned();
    let user = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .unwrap_or("postgres")
        .to_owned();
    let schema = format!("casia_outage_{}", std::process::id());
    let admin = std::process::Command::new("psql")
        .args([&url, "-q", "-c", &format!("CREATE SCHEMA {schema}")])
        .status();
    assert!(
        admin.map(|s| s.success()).unwrap_or(false),
        "psql CREATE SCHEMA"
    );

    let proxy = Proxy::start(0, target.clone());
    let database = format!(
        "postgres://{user}@127.0.0.1:{}/{db_name}?options=-csearch_path%3D{schema}",
        proxy.port
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path())
        .command()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .env("CASIA_DB_ACQUIRE_TIMEOUT", "2")
        .env("CASIA_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let server = ServerProcess::wait(server);
    let token = user_token(dir.path(), &database);
    let first = submit(&server.addr, &token, "Antes del corte", None).expect("answer");
    assert_eq!(first.status, 201, "{}", first.text());

    let port = proxy.cut();
    for title in ["Durante el corte 1", "Durante el corte 2"] {
        let r = submit(&server.addr, &token, title, None).expect("answer");
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.json()["code"], "unavailable");
        assert!(r.header("retry-after").is_some());
    }
    assert_eq!(http(&server.addr, "GET", "/readyz", &[], b"").status, 503);

    let _back = Proxy::start(port, target);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = submit(&server.addr, &token, "Después del corte", None).expect("answer");
        if r.status == 201 {
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(Instant::now() < deadline, "did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(server);
    let _ = std::process::Command::new("psql")
        .args([&url, "-q", "-c", &format!("DROP SCHEMA {schema} CASCADE")])
        .status();
}

/// A `casia serve` started by hand, killed when dropped.
struct ServerProcess {
    child: std::process::Child,
    addr: String,
}

impl ServerProcess {
    fn wait(mut child: std::process::Child) -> ServerProcess {
        use std::io::BufRead;
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("listening line");
        let addr = line
            .trim()
            .strip_prefix("casia listening on http://")
            .unwrap_or_else(|| panic!("unexpected {line:?}"))
            .to_owned();
        ServerProcess { child, addr }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sigterm_under_submit_load_loses_nothing_and_retries_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    let token = user_token(dir.path(), DATABASE);
    let addr = server.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    // Each writer submits with its own keys until told to stop; every
    // attempt is remembered with its key and whether it was answered 201.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, token, stop) = (addr.clone(), token.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut attempts: Vec<(String, Option<String>)> = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) && i < 400 {
                    let key = format!("w{w}-k{i}");
                    let number = match submit(&addr, &token, &key, Some(&key)) {
                        Ok(r) if r.status == 201 => r.json()["number"].as_str().map(str::to_owned),
                        _ => None,
                    };
                    let failed = number.is_none();
                    attempts.push((key, number));
                    if failed {
                        break; // the server is going away
                    }
                    i += 1;
                }
                attempts
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(600));
    let mut server = server;
    server.signal("TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "no exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::SeqCst);
    let attempts: Vec<(String, Option<String>)> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    assert!(status.success(), "exit status {status}: {}", server.log());
    let answered: Vec<&(String, Option<String>)> =
        attempts.iter().filter(|(_, n)| n.is_some()).collect();
    assert!(
        answered.len() >= 20,
        "load before the signal: {}",
        answered.len()
    );
    drop(server);

    // After a restart, every answered case is there, and every unanswered
    // attempt retried with its key is filed exactly once.
    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    let auth = format!("Bearer {token}");
    for (key, number) in &attempts {
        let n = match number {
            Some(n) => {
                let r = http(
                    &server.addr,
                    "GET",
                    &format!("/v1/cases/{n}"),
                    &[("Authorization", &auth)],
                    b"",
                );
                assert_eq!(r.status, 200, "{n} answered 201 but missing");
                n.clone()
            }
            None => {
                let r = submit(&server.addr, &token, key, Some(key)).expect("answer");
                assert_eq!(r.status, 201, "{key}: {}", r.text());
                r.json()["number"].as_str().expect("number").to_owned()
            }
        };
        // Once more with the same key: the same case, not a new one.
        let again = submit(&server.addr, &token, key, Some(key)).expect("answer");
        assert_eq!(again.status, 201);
        assert_eq!(again.json()["number"].as_str(), Some(n.as_str()), "{key}");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    let metrics = http(&server.addr, "GET", "/metrics", &[], b"").text();
    let cases: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("casia_cases{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(
        cases as usize,
        attempts.len(),
        "one case per key: {metrics}"
    );
}
