//! Bearer authentication (HTTP.md "Authentication"): HS256 JWTs whose claims
//! name the caller's role and identity; a token becomes a core [`Actor`]
//! only when every id in it parses (DOMAIN.md §1), else the request is 401.

use std::fmt;

use casia_core::{Actor, AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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

/// Signs and checks tokens with one key. HS256 today; an RS256/EdDSA public
/// key would be another constructor (HTTP.md "Authentication").
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Authenticator {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Authenticator {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        Authenticator {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs `claims`.
    ///
    /// # Errors
    ///
    /// [`MintError`] when the JWT library cannot encode or sign them.
    pub fn mint(&self, claims: &Claims) -> Result<String, MintError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| MintError(e.to_string()))
    }

    /// Checks signature and expiry (30 s leeway; `exp` and `sub` required)
    /// and maps the claims to an actor; `None` for any failure (the caller
    /// answers 401).
    pub fn verify(&self, token: &str) -> Option<Actor> {
        let data =
            jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.decoding, &self.validation)
                .ok()?;
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
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
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
            assert_eq!(auth.verify(&token), Some(actor));
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
        assert_eq!(auth.verify(&auth.mint(&expired).expect("mint")), None);
        let foreign = other
            .mint(&Claims::for_actor(&user, now(), 60))
            .expect("mint");
        assert_eq!(auth.verify(&foreign), None);
        let mut bad_province = Claims::for_actor(&user, now(), 60);
        bad_province.province = Some("99".into());
        assert_eq!(auth.verify(&auth.mint(&bad_province).expect("mint")), None);
        let mut bad_role = Claims::for_actor(&user, now(), 60);
        bad_role.role = "admin".into();
        assert_eq!(auth.verify(&auth.mint(&bad_role).expect("mint")), None);
        assert_eq!(auth.verify("not.a.token"), None);
    }
}
