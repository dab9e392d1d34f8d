//! An S3 API server for the blob-store tests (issue 17): moto in server
//! mode (PyPI `moto[server]`), started on a free port with the Python
//! `CASIA_TEST_S3_PYTHON` names (`scripts/test` makes one), a bucket
//! created, and the `AWS_*` variables a client needs to reach it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::skip;

/// A running moto server, stopped when dropped.
pub struct S3Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The bucket created for the test.
    pub bucket: String,
}

impl S3Server {
    /// Starts moto and creates `bucket`; `None` after recording the skip
    /// when `CASIA_TEST_S3_PYTHON` is not set.
    ///
    /// # Panics
    ///
    /// When the server does not start within 20 s or refuses the bucket.
    pub fn start(test: &str, bucket: &str) -> Option<S3Server> {
        let python = match std::env::var("CASIA_TEST_S3_PYTHON") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                skip(
                    test,
                    "CASIA_TEST_S3_PYTHON not set (a Python with moto[server]; scripts/test makes one)",
                );
                return None;
            }
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let server = S3Server {
            child,
            addr: format!("127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
        };
        let start = Instant::now();
        while TcpStream::connect(&server.addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let made = crate::binary::http(&server.addr, "PUT", &format!("/{bucket}"), &[], b"");
        assert_eq!(made.status, 200, "create bucket: {}", made.text());
        Some(server)
    }

    /// The `AWS_*` variables of a client of this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://{}", self.addr)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    /// `s3://bucket/prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
