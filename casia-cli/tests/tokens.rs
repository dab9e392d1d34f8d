//! Tokens of an identity provider (issue 16), black-box: `serve` with
//! `--jwt-jwks` (a file, and a URL served by a local HTTP server) accepts
//! RS256, ES256 and EdDSA tokens whose `kid` the set holds, refuses an
//! unknown signer, a lifetime over `--jwt-max-ttl`, a token not yet valid,
//! and a wrong issuer or audience; HS256 development tokens keep working.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use casia_test_support::binary::{Casia, http};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_casia");
const DATABASE: &str = "sqlite:casia.db?mode=rwc";

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../casia-test-support/jwt")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn claims(exp: u64) -> Value {
    json!({"sub": "u1", "role": "user", "authorization": "A1", "province": "28",
           "iss": "https://idp.example.es", "aud": "casia", "exp": exp, "iat": now()})
}

fn sign(algorithm: Algorithm, pem: &str, kid: &str, claims: &Value) -> String {
    let bytes = std::fs::read(keys().join(pem)).expect("test key");
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&bytes),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&bytes),
        _ => EncodingKey::from_ed_pem(&bytes),
    }
    .expect("key");
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn status(addr: &str, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    http(addr, "GET", "/v1/catalog", &[("Authorization", &auth)], b"").status
}

/// Serves `body` as `application/json` to every request, on a thread.
fn serve_file(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/.well-known/jwks.json")
}

fn check_provider_tokens(jwks: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Casia::new(BIN, dir.path()).serve(&[
        "--database",
        DATABASE,
        "--jwt-jwks",
        jwks,
        "--jwt-issuer",
        "https://idp.example.es",
        "--jwt-audience",
        "casia",
    ]);
    let a = &server.addr;
    let hour = now() + 3600;
    for (alg, pem, kid) in [
        (Algorithm::RS256, "rsa.pem", "rsa-1"),
        (Algorithm::ES256, "ec.pem", "ec-1"),
        (Algorithm::EdDSA, "ed25519.pem", "ed-1"),
    ] {
        assert_eq!(status(a, &sign(alg, pem, kid, &claims(hour))), 200, "{kid}");
    }
    // A signer the set does not hold, under a kid it does hold or not.
    assert_eq!(
        status(
            a,
            &sign(Algorithm::ES256, "ec-other.pem", "ec-1", &claims(hour))
        ),
        401
    );
    assert_eq!(
        status(
            a,
            &sign(Algorithm::ES256, "ec-other.pem", "ec-9", &claims(hour))
        ),
        401
    );
    // A key used with another algorithm than its own.
    assert_eq!(
        status(a, &sign(Algorithm::ES256, "ec.pem", "rsa-1", &claims(hour))),
        401
    );
    // Lifetimes: over 24 h, expired, not yet valid.
    assert_eq!(
        status(
            a,
            &sign(
                Algorithm::RS256,
                "rsa.pem",
                "rsa-1",
                &claims(now() + 2 * 86_400)
            )
        ),
        401
    );
    assert_eq!(
        status(
            a,
            &sign(Algorithm::RS256, "rsa.pem", "rsa-1", &claims(now() - 600))
        ),
        401
    );
    let mut later = claims(hour);
    later["nbf"] = json!(now() + 600);
    assert_eq!(
        status(a, &sign(Algorithm::RS256, "rsa.pem", "rsa-1", &later)),
        401
    );
    // Issuer and audience.
    let mut other_iss = claims(hour);
    other_iss["iss"] = json!("https://other.example");
    assert_eq!(
        status(
            a,
            &sign(Algorithm::EdDSA, "ed25519.pem", "ed-1", &other_iss)
        ),
        401
    );
    let mut other_aud = claims(hour);
    other_aud["aud"] = json!("not-casia");
    assert_eq!(
        status(
            a,
            &sign(Algorithm::EdDSA, "ed25519.pem", "ed-1", &other_aud)
        ),
        401
    );
}

#[test]
fn tokens_of_a_jwk_set_file() {
    check_provider_tokens(&keys().join("jwks.json").display().to_string());
}

#[test]
fn tokens_of_a_jwk_set_url() {
    let body = std::fs::read(keys().join("jwks.json")).expect("jwks");
    check_provider_tokens(&serve_file(body));
}

#[test]
fn a_jwk_set_that_cannot_be_had_stops_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = Casia::new(BIN, dir.path()).run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        DATABASE,
        "--jwt-jwks",
        "/nonexistent/jwks.json",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("--jwt-jwks") && err.contains("/nonexistent/jwks.json"),
        "{err}"
    );
    assert!(!dir.path().join("casia.db").exists());
    let empty = serve_file(b"{\"keys\": []}".to_vec());
    let no_keys = Casia::new(BIN, dir.path()).run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        DATABASE,
        "--jwt-jwks",
        &empty,
    ]);
    assert_eq!(no_keys.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_keys.stderr).contains("no RS256, ES256 or EdDSA key"));
}

#[test]
fn development_tokens_still_work_beside_a_jwk_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let casia = Casia::new(BIN, dir.path());
    let server = casia.serve(&[
        "--database",
        DATABASE,
        "--jwt-jwks",
        &keys().join("jwks.json").display().to_string(),
    ]);
    let token = casia.user_token(DATABASE);
    assert_eq!(status(&server.addr, &token), 200);
    // `casia token --ttl` over 24 h mints a token the service refuses.
    let long = casia.token(DATABASE, &["--role", "system", "--ttl", "172800"]);
    assert_eq!(status(&server.addr, &long), 401);
}
