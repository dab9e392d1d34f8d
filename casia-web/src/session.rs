//! Who is browsing, and the CSRF token of their forms.
//!
//! The pages accept the API's tokens (HTTP.md "Authentication"): from
//! `Authorization: Bearer` — how a deployment behind its identity
//! provider's proxy passes them — or from the `casia_session` cookie
//! (`HttpOnly`, `SameSite=Strict`, `Secure` behind TLS) that the
//! development sign-in sets. Every form carries a CSRF token: an HMAC of
//! the session's token (or, before signing in, of a random nonce kept in
//! the `casia_csrf` cookie) under a key derived from the service's secret,
//! so a page of another site cannot post on a visitor's behalf even where
//! `SameSite` is not honoured.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use casia_core::Actor;
use casia_http::AppState;

use crate::WebConfig;

/// The session cookie: the bearer token itself.
pub const SESSION_COOKIE: &str = "casia_session";
/// The nonce the sign-in form's CSRF token is bound to.
pub const NONCE_COOKIE: &str = "casia_csrf";

/// The visitor of a page: signed in as an actor, or not.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The actor the token names, when it verifies.
    pub actor: Option<Actor>,
    /// The token it came with (binds the CSRF token).
    pub token: Option<String>,
    /// The sign-in nonce cookie, when the visitor has one.
    pub nonce: Option<String>,
}

impl Visitor {
    /// The user or processor, when signed in as one (the system has no
    /// pages).
    pub fn person(&self) -> Option<&Actor> {
        self.actor.as_ref().filter(|a| !matches!(a, Actor::System))
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        let token = bearer.or_else(|| cookie(parts, SESSION_COOKIE));
        let actor = match &token {
            Some(t) => state.auth().verify(t).await,
            None => None,
        };
        Ok(Visitor {
            token: actor.as_ref().and(token),
            actor,
            nonce: cookie(parts, NONCE_COOKIE),
        })
    }
}

/// The CSRF token of `binding` (a session token or a sign-in nonce): 32
/// hex characters of HMAC-SHA-256 under the pages' key.
pub fn csrf_token(config: &WebConfig, binding: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(&config.csrf_key) {
        Ok(m) => m,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(b"casia-web-csrf\0");
    mac.update(binding.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The CSRF token a page's forms carry for `visitor`: bound to its session,
/// or to its sign-in nonce.
pub fn form_token(config: &WebConfig, visitor: &Visitor) -> String {
    match (&visitor.token, &visitor.nonce) {
        (Some(t), _) => csrf_token(config, t),
        (None, Some(n)) => csrf_token(config, n),
        (None, None) => String::new(),
    }
}

/// Whether `sent` is the visitor's CSRF token (compared in constant time).
pub fn csrf_ok(config: &WebConfig, visitor: &Visitor, sent: &str) -> bool {
    let expected = form_token(config, visitor);
    !expected.is_empty()
        && expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A fresh random nonce for the sign-in form (32 hex characters).
pub fn new_nonce() -> String {
    let mut raw = [0u8; 16];
    if getrandom::fill(&mut raw).is_err() {
        // Without randomness the sign-in form refuses every post (its
        // token is bound to an empty nonce, which never verifies).
        return String::new();
    }
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure`
/// when the service is reached over TLS, expiring after `max_age` seconds
/// (0 deletes it).
pub fn set_cookie(config: &WebConfig, name: &str, value: &str, max_age: u64) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WebConfig {
        WebConfig {
            dev_login: true,
            csrf_key: b"0123456789abcdef0123456789abcdef".to_vec(),
            secure_cookies: false,
        }
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let c = config();
        let a = Visitor {
            actor: Some(Actor::System),
            token: Some("token-a".into()),
            nonce: None,
        };
        let b = Visitor {
            token: Some("token-b".into()),
            ..a.clone()
        };
        let t = form_token(&c, &a);
        assert_eq!(t.len(), 32);
        assert!(csrf_ok(&c, &a, &t));
        assert!(!csrf_ok(&c, &b, &t), "another session's token");
        assert!(!csrf_ok(&c, &a, ""));
        let anonymous = Visitor {
            actor: None,
            token: None,
            nonce: None,
        };
        assert!(!csrf_ok(&c, &anonymous, ""), "no binding, no token");
        let signing_in = Visitor {
            nonce: Some(new_nonce()),
            ..anonymous
        };
        let n = form_token(&c, &signing_in);
        assert!(csrf_ok(&c, &signing_in, &n));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_behind_tls() {
        let mut c = config();
        let plain = set_cookie(&c, SESSION_COOKIE, "t", 3600);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        c.secure_cookies = true;
        assert!(set_cookie(&c, SESSION_COOKIE, "t", 0).ends_with("; Secure"));
    }
}
