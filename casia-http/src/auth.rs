//! Bearer authentication (HTTP.md "Authentication"): JWTs whose claims name
//! the caller's role and identity; a token becomes a core [`Actor`] only
//! when every id in it parses (DOMAIN.md §1), else the request is 401.
//!
//! Issue 16: HS256 with a shared secret (development, single-secret
//! deployments) and RS256, ES256 and EdDSA with the keys of an identity
//! provider's JWK set ([`crate::jwks`]). For every algorithm: `exp` is
//! required and at most [`TokenPolicy::max_ttl`] ahead, `nbf` is honoured,
//! 30 s of leeway for clocks; `iss` and `aud` are checked when configured.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use casia_core::{Actor, AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::jwks::JwksKeys;

/// Seconds of clock difference tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// The shortest HS256 secret: RFC 7518 §3.2 requires a key of at least
/// 256 bits for HS256.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// What a token must say beyond its signature (`--jwt-issuer`,
/// `--jwt-audience`, `--jwt-max-ttl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// The `iss` every token must carry, when set.
    pub issuer: Option<String>,
    /// The `aud` every token must carry (one of its values), when set.
    pub audience: Option<String>,
    /// The furthest `exp` may lie ahead of now (default 24 h): a token that
    /// would live longer is refused, however it was signed.
    pub max_ttl: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            issuer: None,
            audience: None,
            max_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// The claims of a CASIA token (HTTP.md "Authentication").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user or processor id (`system` for the system).
    pub sub: String,
    /// `user`, `processor` or `system`.
    pub role: String,
    /// The autorizado's id (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The user's two-digit province code (users only); routes the user's cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// The processor's two-digit office code (processors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

impl Claims {
    /// The claims that name `actor`, valid from `now` for `ttl_secs`.
    pub fn for_actor(actor: &Actor, now: u64, ttl_secs: u64) -> Claims {
        let (sub, role, authorization, province, office) = match actor {
            Actor::User {
                authorization,
                user,
                province,
            } => (
                user.as_str().to_owned(),
                "user",
                Some(authorization.as_str().to_owned()),
                Some(province.to_string()),
                None,
            ),
            Actor::Processor { processor, office } => (
                processor.as_str().to_owned(),
                "processor",
                None,
                None,
                Some(office.to_string()),
            ),
            Actor::System => ("system".to_owned(), "system", None, None, None),
        };
        Claims {
            sub,
            role: role.to_owned(),
            authorization,
            province,
            office,
            exp: now.saturating_add(ttl_secs),
            iat: Some(now),
        }
    }

    /// The actor the claims name; `None` when a claim is missing or does
    /// not parse as the DOMAIN.md §1 identifier it stands for.
    pub fn actor(&self) -> Option<Actor> {
        match self.role.as_str() {
            "user" => Some(Actor::User {
                authorization: AuthorizationId::parse(self.authorization.as_deref()?).ok()?,
                user: UserId::parse(&self.sub).ok()?,
                province: ProvinceCode::parse(self.province.as_deref()?).ok()?,
            }),
            "processor" => Some(Actor::Processor {
                processor: ProcessorId::parse(&self.sub).ok()?,
                office: OfficeCode::parse(self.office.as_deref()?).ok()?,
            }),
            "system" => Some(Actor::System),
            _ => None,
        }
    }
}

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the token: {0}")]
pub struct MintError(String);

/// Checks tokens: HS256 with a shared secret, and/or the keys of a JWK set;
/// signs development tokens with the secret.
pub struct Authenticator {
    hs256: Option<(EncodingKey, DecodingKey)>,
    jwks: Option<Arc<JwksKeys>>,
    policy: TokenPolicy,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Authenticator {
    /// HS256 with a shared secret, the default [`TokenPolicy`]. (The binary
    /// refuses secrets shorter than [`MIN_HS256_SECRET_BYTES`].)
    pub fn hs256(secret: &[u8]) -> Authenticator {
        Authenticator {
            hs256: Some((
                EncodingKey::from_secret(secret),
                DecodingKey::from_secret(secret),
            )),
            jwks: None,
            policy: TokenPolicy::default(),
        }
    }

    /// Only the keys of a JWK set (RS256, ES256, EdDSA): no HS256 token is
    /// accepted and none can be minted.
    pub fn jwks(keys: Arc<JwksKeys>) -> Authenticator {
        Authenticator {
            hs256: None,
            jwks: Some(keys),
            policy: TokenPolicy::default(),
        }
    }

    /// Also accepts tokens signed with the keys of `keys`.
    pub fn with_jwks(mut self, keys: Arc<JwksKeys>) -> Authenticator {
        self.jwks = Some(keys);
        self
    }

    /// Checks tokens against `policy`.
    pub fn with_policy(mut self, policy: TokenPolicy) -> Authenticator {
        self.policy = policy;
        self
    }

    /// Signs `claims` with HS256.
    ///
    /// # Errors
    ///
    /// [`MintError`] when there is no HS256 secret or the JWT library cannot
    /// encode or sign them.
    pub fn mint(&self, claims: &Claims) -> Result<String, MintError> {
        let (encoding, _) = self
            .hs256
            .as_ref()
            .ok_or_else(|| MintError("no HS256 secret".into()))?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, encoding)
            .map_err(|e| MintError(e.to_string()))
    }

    /// Checks signature, `exp` (required, at most `max_ttl` ahead), `nbf`,
    /// `iss` and `aud` (when configured), with 30 s of leeway, and maps the
    /// claims to an actor; `None` for any failure (the caller answers 401).
    pub async fn verify(&self, token: &str) -> Option<Actor> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref()?.1.clone(),
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA => {
                self.jwks
                    .as_ref()?
                    .key(header.kid.as_deref()?, header.alg)
                    .await?
            }
            _ => return None,
        };
        let mut validation = Validation::new(header.alg);
        let mut required = vec!["exp", "sub"];
        if self.policy.issuer.is_some() {
            required.push("iss");
        }
        if self.policy.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        match &self.policy.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.policy.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Claims>(token.as_bytes(), &key, &validation).ok()?;
        let furthest = now_secs()
            .saturating_add(self.policy.max_ttl.as_secs())
            .saturating_add(LEEWAY_SECS);
        if data.claims.exp > furthest {
            return None;
        }
        data.claims.actor()
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authenticator(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        now_secs()
    }

    fn verify(auth: &Authenticator, token: &str) -> Option<Actor> {
        futures_executor::block_on(auth.verify(token))
    }

    #[test]
    fn tokens_round_trip_every_role() {
        let auth = Authenticator::hs256(b"0123456789abcdef0123456789abcdef");
        let actors = [
            Actor::User {
                authorization: AuthorizationId::parse("A1").expect("id"),
                user: UserId::parse("u1").expect("id"),
                province: ProvinceCode::parse("28").expect("code"),
            },
            Actor::Processor {
                processor: ProcessorId::parse("P1").expect("id"),
                office: OfficeCode::parse("08").expect("code"),
            },
            Actor::System,
        ];
        for actor in actors {
            let token = auth
                .mint(&Claims::for_actor(&actor, now(), 60))
                .expect("mint");
            assert_eq!(verify(&auth, &token), Some(actor));
        }
    }

    #[test]
    fn expired_foreign_and_ill_claimed_tokens_are_refused() {
        let auth = Authenticator::hs256(b"0123456789abcdef0123456789abcdef");
        let other = Authenticator::hs256(b"another secret, another issuer!!");
        let user = Actor::User {
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: UserId::parse("u1").expect("id"),
            province: ProvinceCode::parse("28").expect("code"),
        };
        let expired = Claims::for_actor(&user, now() - 7200, 60);
        assert_eq!(verify(&auth, &auth.mint(&expired).expect("mint")), None);
        let foreign = other
            .mint(&Claims::for_actor(&user, now(), 60))
            .expect("mint");
        assert_eq!(verify(&auth, &foreign), None);
        let mut bad_province = Claims::for_actor(&user, now(), 60);
        bad_province.province = Some("99".into());
        assert_eq!(
            verify(&auth, &auth.mint(&bad_province).expect("mint")),
            None
        );
        let mut bad_role = Claims::for_actor(&user, now(), 60);
        bad_role.role = "admin".into();
        assert_eq!(verify(&auth, &auth.mint(&bad_role).expect("mint")), None);
        assert_eq!(verify(&auth, "not.a.token"), None);
    }

    /// `exp` at most 24 h ahead (with leeway), `nbf` honoured, `iss` and
    /// `aud` when configured (issue 16).
    #[test]
    fn lifetimes_not_before_issuer_and_audience() {
        let user = Actor::User {
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: UserId::parse("u1").expect("id"),
            province: ProvinceCode::parse("28").expect("code"),
        };
        let auth = Authenticator::hs256(b"0123456789abcdef0123456789abcdef");
        let day = 24 * 3600;
        let mint = |claims: &serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                claims,
                &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
            )
            .expect("mint")
        };
        let base = |exp: u64| {
            serde_json::json!({"sub": "u1", "role": "user", "authorization": "A1",
                               "province": "28", "exp": exp})
        };
        assert_eq!(verify(&auth, &mint(&base(now() + day))), Some(user.clone()));
        assert_eq!(verify(&auth, &mint(&base(now() + day + 3600))), None);
        assert_eq!(
            verify(&auth, &mint(&base(253_402_300_799))),
            None,
            "year 9999"
        );
        let mut no_exp = base(0);
        no_exp.as_object_mut().map(|o| o.remove("exp"));
        assert_eq!(verify(&auth, &mint(&no_exp)), None);
        let mut later = base(now() + 600);
        later["nbf"] = serde_json::json!(now() + 300);
        assert_eq!(verify(&auth, &mint(&later)), None, "not yet valid");
        later["nbf"] = serde_json::json!(now() + 10);
        assert_eq!(
            verify(&auth, &mint(&later)),
            Some(user.clone()),
            "within leeway"
        );

        let strict =
            Authenticator::hs256(b"0123456789abcdef0123456789abcdef").with_policy(TokenPolicy {
                issuer: Some("https://idp.example.es".into()),
                audience: Some("casia".into()),
                ..TokenPolicy::default()
            });
        let mut good = base(now() + 600);
        good["iss"] = serde_json::json!("https://idp.example.es");
        good["aud"] = serde_json::json!(["casia", "other"]);
        assert_eq!(verify(&strict, &mint(&good)), Some(user.clone()));
        let mut wrong_iss = good.clone();
        wrong_iss["iss"] = serde_json::json!("https://evil.example");
        assert_eq!(verify(&strict, &mint(&wrong_iss)), None);
        let mut wrong_aud = good.clone();
        wrong_aud["aud"] = serde_json::json!("someone-else");
        assert_eq!(verify(&strict, &mint(&wrong_aud)), None);
        let mut no_iss = good.clone();
        no_iss.as_object_mut().map(|o| o.remove("iss"));
        assert_eq!(verify(&strict, &mint(&no_iss)), None);
        // Without a configured audience, a token's `aud` is not held against it.
        assert_eq!(verify(&auth, &mint(&good)), Some(user));
    }
}
