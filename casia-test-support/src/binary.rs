//! The real `casia` binary in a temporary directory: commands with no
//! `CASIA_*` variable inherited, `serve` on a free port (the address read
//! from its `casia listening on http://ADDR` line), and HTTP/1.1 over a
//! `TcpStream` — a few lines, so the tests need no HTTP client crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary and the working directory its commands run in.
#[derive(Debug, Clone)]
pub struct Casia {
    /// The `casia` executable.
    pub bin: PathBuf,
    /// The working directory every command runs in (database, secret, logs).
    pub dir: PathBuf,
}

/// The `casia token` arguments of the black-box tests' autorizado: user
/// `u1` of authorization `A1` in province 28.
pub const USER_TOKEN_ARGS: &[&str] = &[
    "--role",
    "user",
    "--authorization",
    "A1",
    "--user",
    "u1",
    "--province",
    "28",
];

impl Casia {
    /// `bin` is the test's `env!("CARGO_BIN_EXE_casia")`.
    pub fn new(bin: &str, dir: &Path) -> Casia {
        Casia {
            bin: PathBuf::from(bin),
            dir: dir.to_owned(),
        }
    }

    /// A command in the directory with no `CASIA_*` variable inherited.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.current_dir(&self.dir);
        for (k, _) in std::env::vars() {
            if k.starts_with("CASIA_") {
                c.env_remove(k);
            }
        }
        c
    }

    /// Runs `args` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run casia")
    }

    /// `casia token ARGS --database DATABASE`, trimmed; panics on failure.
    pub fn token(&self, database: &str, args: &[&str]) -> String {
        self.token_with_env(database, args, &[])
    }

    /// [`Casia::token`] with extra environment variables (a shared
    /// `CASIA_JWT_SECRET`, say).
    pub fn token_with_env(&self, database: &str, args: &[&str], env: &[(&str, String)]) -> String {
        let out = self
            .command()
            .arg("token")
            .args(args)
            .args(["--database", database])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("casia token");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    }

    /// A token of user `u1` of authorization `A1` in province 28 (the
    /// black-box tests' autorizado) for `database`.
    pub fn user_token(&self, database: &str) -> String {
        self.token(database, USER_TOKEN_ARGS)
    }

    /// `casia serve --listen 127.0.0.1:0 ARGS`, its log in `server.log` of
    /// the directory; returns once it printed the address it listens on.
    pub fn serve(&self, args: &[&str]) -> Server {
        self.serve_with_env(args, &[])
    }

    /// [`Casia::serve`] with extra environment variables (`AWS_*`, a
    /// shared `CASIA_JWT_SECRET`), its log in `server.log`.
    pub fn serve_with_env(&self, args: &[&str], env: &[(&str, String)]) -> Server {
        let log_path = self.dir.join("server.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("CASIA_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn casia serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("casia listening on http://")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                )
            })
            .to_owned();
        Server {
            child,
            addr,
            log: log_path,
        }
    }
}

/// A running `casia serve`, killed when dropped.
pub struct Server {
    /// The `casia serve` process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The file its standard error (the log) goes to: `server.log` in the directory.
    pub log: PathBuf,
}

impl Server {
    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal (`HUP`, `TERM`, …) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits until `needle` appears in the log more than `seen_before`
    /// times (20 s at most).
    pub fn wait_for_log(&self, needle: &str, seen_before: usize) {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.matches(needle).count() > seen_before {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{needle:?} not logged: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lossy UTF-8 of a command's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, names as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics (showing the body) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as JSON, or `Null`.
    pub fn json_or_null(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        text(&self.body)
    }
}

fn decode_chunked(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&raw[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .expect("chunk size");
        raw = &raw[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read reply");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        decode_chunked(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A request with a bearer token and, when given, a JSON body.
pub fn json_call(addr: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    let auth = format!("Bearer {token}");
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut headers = vec![("Authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    http(addr, method, path, &headers, payload.as_bytes())
}

/// A `multipart/form-data` body of `(name, file name, bytes)` parts (a
/// `None` file name makes a JSON field; a file part is
/// `application/octet-stream`); the content type with its boundary.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "casia-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
            ),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A multipart `POST` with a bearer token.
pub fn multipart_call(
    addr: &str,
    path: &str,
    token: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> Reply {
    let (content_type, body) = multipart(parts);
    let auth = format!("Bearer {token}");
    http(
        addr,
        "POST",
        path,
        &[("Authorization", &auth), ("Content-Type", &content_type)],
        &body,
    )
}
