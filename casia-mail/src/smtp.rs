//! The SMTP relay the outbox relay sends through (`--smtp`): its URL —
//! `smtp://host:port` (plain), `smtp://host:port?tls=starttls` (STARTTLS
//! required), `smtps://host:port` (TLS from the first byte), each with an
//! optional `user:password@` — and a lettre transport over tokio with
//! timeouts. Whether a failure is permanent (5xx) is reported, never
//! decided here: the relay's policy decides what to do with it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::transport::{Mailer, SendError};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS: for a relay on the same host or a trusted network.
    Plain,
    /// Plain connect, then `STARTTLS`, required.
    StartTls,
    /// TLS from the first byte (`smtps`, usually port 465).
    Tls,
}

/// A parsed `--smtp` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// The relay's host name or address.
    pub host: String,
    /// The port (default 25 plain, 587 STARTTLS, 465 TLS).
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// User and password (percent-decoded).
    pub credentials: Option<(String, String)>,
}

/// Why an SMTP setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--smtp: {0}")]
pub struct SmtpConfigError(pub String);

fn bad(detail: impl Into<String>) -> SmtpConfigError {
    SmtpConfigError(detail.into())
}

fn decoded(part: &str, what: &str) -> Result<String, SmtpConfigError> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| bad(format!("the {what} is not UTF-8 once percent-decoded")))
}

impl SmtpUrl {
    /// Parses `smtp://[user:password@]host[:port][?tls=starttls]` or
    /// `smtps://[user:password@]host[:port]`. Default ports: 25 (plain),
    /// 587 (STARTTLS), 465 (TLS).
    ///
    /// # Errors
    ///
    /// [`SmtpConfigError`] for anything else (not a URL, another scheme, …).
    pub fn parse(raw: &str) -> Result<SmtpUrl, SmtpConfigError> {
        let url = url::Url::parse(raw.trim())
            .map_err(|e| bad(format!("not a URL ({e}); use smtp://host:port")))?;
        let mut security = match url.scheme() {
            "smtp" => SmtpSecurity::Plain,
            "smtps" => SmtpSecurity::Tls,
            other => {
                return Err(bad(format!(
                    "unsupported scheme {other:?}: use smtp:// or smtps://"
                )));
            }
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), security) {
                ("tls", "starttls", SmtpSecurity::Plain) => security = SmtpSecurity::StartTls,
                ("tls", "none", SmtpSecurity::Plain) => {}
                ("tls", _, SmtpSecurity::Tls) => {
                    return Err(bad("smtps:// is TLS already; drop the tls parameter"));
                }
                ("tls", v, _) => {
                    return Err(bad(format!("tls={v:?}: use tls=starttls or tls=none")));
                }
                (k, _, _) => return Err(bad(format!("unknown parameter {k:?}"))),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the URL names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !matches!(url.path(), "" | "/") {
            return Err(bad("an SMTP URL has no path"));
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Plain => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        });
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => {
                Some((decoded(user, "user")?, decoded(password, "password")?))
            }
            _ => return Err(bad("give both user and password (user:password@host)")),
        };
        Ok(SmtpUrl {
            host,
            port,
            security,
            credentials,
        })
    }

    /// The URL for logs: never the password.
    pub fn redacted(&self) -> String {
        let scheme = if self.security == SmtpSecurity::Tls {
            "smtps"
        } else {
            "smtp"
        };
        let user = match &self.credentials {
            Some((user, _)) => format!("{user}:***@"),
            None => String::new(),
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let query = if self.security == SmtpSecurity::StartTls {
            "?tls=starttls"
        } else {
            ""
        };
        format!("{scheme}://{user}{host}:{}{query}", self.port)
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// How the transport behaves beyond the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpOptions {
    /// The longest one message's delivery may take, connection included.
    pub timeout: Duration,
    /// The EHLO name (the Message-ID domain).
    pub hello: String,
    /// A PEM file of extra root certificates to trust (a private CA),
    /// beside the public web roots.
    pub ca_file: Option<PathBuf>,
}

/// Default `--smtp-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends through one SMTP relay, a new connection per message.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
    relay: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpMailer({})", self.relay)
    }
}

impl SmtpMailer {
    /// A mailer for `url` with `options` (timeout, EHLO name, extra root certificates).
    ///
    /// # Errors
    ///
    /// [`SmtpConfigError`] when the CA file cannot be read or parsed, or
    /// the TLS settings cannot be built.
    pub fn new(url: &SmtpUrl, options: &SmtpOptions) -> Result<SmtpMailer, SmtpConfigError> {
        let tls = match url.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(&url.host, options)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(&url.host, options)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            .port(url.port)
            .tls(tls)
            .timeout(Some(options.timeout))
            .hello_name(ClientId::Domain(options.hello.clone()));
        if let Some((user, password)) = &url.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            timeout: options.timeout,
            relay: url.redacted(),
        })
    }
}

fn tls_parameters(host: &str, options: &SmtpOptions) -> Result<TlsParameters, SmtpConfigError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = &options.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| bad(format!("--smtp-ca-file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| bad(format!("--smtp-ca-file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| bad(format!("TLS settings for {host}: {e}")))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let raw = message.formatted();
        let sending = self.transport.send_raw(message.envelope(), &raw);
        match tokio::time::timeout(self.timeout, sending).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(SendError {
                permanent: e.is_permanent(),
                detail: format!("{}: {e}", self.relay),
            }),
            Err(_) => Err(SendError {
                permanent: false,
                detail: format!(
                    "{}: no answer within {} s",
                    self.relay,
                    self.timeout.as_secs_f64()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_url_forms_parse() {
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525").expect("plain");
        assert_eq!(
            (
                plain.host.as_str(),
                plain.port,
                plain.security,
                &plain.credentials
            ),
            ("127.0.0.1", 2525, SmtpSecurity::Plain, &None)
        );
        let starttls = SmtpUrl::parse("smtp://casia:s%40cr%2Bt@mail.example.es?tls=starttls")
            .expect("starttls");
        assert_eq!(starttls.security, SmtpSecurity::StartTls);
        assert_eq!(starttls.port, 587);
        assert_eq!(
            starttls.credentials,
            Some(("casia".to_owned(), "s@cr+t".to_owned()))
        );
        assert_eq!(
            starttls.redacted(),
            "smtp://casia:***@mail.example.es:587?tls=starttls"
        );
        assert!(!format!("{starttls:?}").contains("s@cr+t"));
        let tls = SmtpUrl::parse("smtps://mail.example.es").expect("tls");
        assert_eq!((tls.port, tls.security), (465, SmtpSecurity::Tls));
        let v6 = SmtpUrl::parse("smtp://[::1]:25").expect("ipv6");
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.redacted(), "smtp://[::1]:25");
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("mail.example.es", "not a URL"),
            ("http://mail.example.es", "unsupported scheme"),
            ("smtp://mail.example.es?tls=maybe", "tls=\"maybe\""),
            ("smtps://mail.example.es?tls=starttls", "TLS already"),
            ("smtp://mail.example.es?timeout=3", "unknown parameter"),
            ("smtp://user@mail.example.es", "both user and password"),
            ("smtp://mail.example.es/inbox", "no path"),
        ] {
            let e = SmtpUrl::parse(url).expect_err(url);
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn a_missing_ca_file_is_a_configuration_error() {
        let url = SmtpUrl::parse("smtps://mail.example.es").expect("url");
        let options = SmtpOptions {
            timeout: DEFAULT_TIMEOUT,
            hello: "example.es".into(),
            ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
        };
        let e = SmtpMailer::new(&url, &options).expect_err("no file");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let none = SmtpOptions {
            ca_file: None,
            ..options
        };
        assert!(SmtpMailer::new(&url, &none).is_ok());
    }
}
