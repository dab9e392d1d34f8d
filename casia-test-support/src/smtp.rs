//! The SMTP test server (`smtp_sink.py`, aiosmtpd, run by the Python that
//! `CASIA_TEST_SMTP_PYTHON` names) and a reader for the messages it
//! received, decoding what lettre encodes (RFC 2047 subjects,
//! quoted-printable or base64 bodies). `tls/` holds its certificate for
//! 127.0.0.1 and the test CA that issued it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// A running `smtp_sink.py`: accepts mail on 127.0.0.1 and writes each
/// message to its folder; killed when dropped.
pub struct SmtpSink {
    python: String,
    dir: PathBuf,
    port: u16,
    reject: bool,
    tls: Option<SinkTls>,
    child: Option<Child>,
}

/// How a sink speaks TLS, with the test certificate of `tests/tls`
/// (issued for 127.0.0.1 by the test CA `tests/tls/ca.pem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// STARTTLS required before any mail.
    StartTls,
    /// TLS from the first byte (smtps).
    Implicit,
}

/// The test CA that issued the sink's certificate.
pub fn test_ca() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tls/ca.pem")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py")
}

impl SmtpSink {
    /// Starts a sink on a free port, writing into `dir/mail`; `reject`:
    /// answer 550 to every recipient.
    pub fn start(python: &str, dir: &Path, reject: bool) -> SmtpSink {
        SmtpSink::start_with(python, dir, reject, None)
    }

    /// A sink that speaks TLS.
    pub fn start_tls(python: &str, dir: &Path, tls: SinkTls) -> SmtpSink {
        SmtpSink::start_with(python, dir, false, Some(tls))
    }

    fn start_with(python: &str, dir: &Path, reject: bool, tls: Option<SinkTls>) -> SmtpSink {
        let mut sink = SmtpSink {
            python: python.to_owned(),
            dir: dir.to_owned(),
            port: 0,
            reject,
            tls,
            child: None,
        };
        sink.launch();
        sink
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("smtp-sink.log"))
            .expect("sink log");
        let mut command = Command::new(&self.python);
        command
            .arg(script())
            .arg("--dir")
            .arg(self.mail_dir())
            .arg("--port")
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        if self.reject {
            command.arg("--reject");
        }
        if let Some(tls) = self.tls {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tls");
            command
                .arg("--tls")
                .arg(match tls {
                    SinkTls::StartTls => "starttls",
                    SinkTls::Implicit => "implicit",
                })
                .arg("--cert")
                .arg(folder.join("server.pem"))
                .arg("--key")
                .arg(folder.join("server.key"));
        }
        let mut child = command.spawn().expect("spawn the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the sink's first line");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let log =
                    std::fs::read_to_string(self.dir.join("smtp-sink.log")).unwrap_or_default();
                panic!("the SMTP sink did not start: {line:?}\n{log}")
            });
        self.port = port;
        self.child = Some(child);
    }

    /// Stops the server: connections to its port are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// The port the sink listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `--smtp` URL of the sink: `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The folder the sink writes each message to, one `.eml` file each.
    pub fn mail_dir(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(self.mail_dir()) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files
            .iter()
            .map(|f| Received::parse(&std::fs::read(f).expect("read a message")))
            .collect()
    }

    /// Waits until at least `n` messages arrived (or `timeout` passed).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n || start.elapsed() > timeout {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One received message, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipients (RCPT TO).
    pub envelope_to: Vec<String>,
    /// Unfolded headers, raw values, in order.
    pub headers: Vec<(String, String)>,
    /// The body after its transfer encoding is undone, with `\n` line ends.
    pub body: String,
}

impl Received {
    /// Decodes a raw message as the sink stored it (CRLF or LF line ends;
    /// the sink's `X-Envelope-To` headers give the envelope recipients).
    /// Panics on a body that does not decode (tests only).
    pub fn parse(raw: &[u8]) -> Received {
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = headers.last_mut() {
                    v.push_str(line);
                }
            } else if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let envelope_to = headers
            .iter()
            .filter(|(k, _)| k == "X-Envelope-To")
            .map(|(_, v)| v.clone())
            .collect();
        let encoding = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Transfer-Encoding"))
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        let body = match encoding.as_str() {
            "quoted-printable" => {
                String::from_utf8(quoted_printable(body.as_bytes())).expect("utf-8 body")
            }
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("base64 body");
                String::from_utf8(bytes).expect("utf-8 body")
            }
            _ => body.to_owned(),
        }
        .replace("\r\n", "\n");
        Received {
            envelope_to,
            headers,
            body,
        }
    }

    /// A header's raw value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Subject with its RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        decode_words(self.header("Subject").unwrap_or(""))
    }
}

/// Undoes quoted-printable (RFC 2045 §6.7): `=XX` and soft line breaks.
pub fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'=' if input.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if input.get(i + 1) == Some(&b'\r') && input.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if i + 2 < input.len() => {
                let hex = std::str::from_utf8(&input[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`);
/// white space between two encoded words is dropped, as the RFC says.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        match rest.find("=?") {
            Some(start) => {
                let (before, from) = rest.split_at(start);
                let word = from[2..].splitn(3, '?').collect::<Vec<_>>();
                let end = word.get(2).and_then(|tail| tail.find("?="));
                let (Some(end), [charset, encoding, tail]) = (end, word.as_slice()) else {
                    out.push_str(rest);
                    break;
                };
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset}");
                let text = &tail[..end];
                let bytes = if encoding.eq_ignore_ascii_case("b") {
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .expect("base64 word")
                } else {
                    quoted_printable(text.replace('_', " ").as_bytes())
                };
                out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
                let consumed = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
                rest = &from[consumed..];
                last_was_word = true;
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}
