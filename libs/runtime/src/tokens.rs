//! Access tokens: EdDSA (Ed25519) JWTs signed by identity and verified by
//! the gateway and again by every service.
//!
//! Every token names its key (`kid`, derived from the public key) and its
//! audience (`aud`). Verifiers accept `auth.verifying_key` and any of
//! `auth.verifying_keys`, so keys rotate without downtime: publish the new
//! public key to every verifier first, then switch identity's signing key,
//! and drop the old public key once the access-token lifetime has passed
//! (README, "Rotating the signing key").

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pd_domain::{AppError, Grant, Principal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

use crate::settings::AuthSettings;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub login: String,
    pub grants: Vec<Grant>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// Who the token is for: `auth.audience`.
    #[serde(default)]
    pub aud: String,
    pub jti: Uuid,
    /// Issue time in milliseconds: revocations are finer than `iat`'s
    /// seconds, so a token issued just after a revocation still works.
    #[serde(default)]
    pub iat_ms: i64,
}

/// Per user, the instant before which their access tokens are refused
/// (deactivated account, revoked grant, changed password). Fed by identity's
/// `sessions_revoked` events; entries older than the access-token lifetime
/// are pruned, since every token issued before them has expired anyway.
#[derive(Clone, Default)]
pub struct Revocations {
    inner: Arc<std::sync::RwLock<std::collections::HashMap<Uuid, i64>>>,
}

impl Revocations {
    /// Refuses `user`'s tokens issued before `not_before_ms`.
    pub fn revoke(&self, user: Uuid, not_before_ms: i64) {
        let mut m = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(user).or_insert(not_before_ms);
        *e = (*e).max(not_before_ms);
    }

    /// Whether a token of `user` issued at `issued_ms` was revoked.
    /// A poisoned lock is read all the same: a panic elsewhere must
    /// neither let revoked sessions in nor lock everyone out, and no
    /// writer leaves the map half-changed.
    pub fn is_revoked(&self, user: Uuid, issued_ms: i64) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .is_some_and(|&cutoff| issued_ms < cutoff)
    }

    /// Forgets cutoffs older than `older_than_ms`.
    pub fn prune(&self, older_than_ms: i64) {
        if let Ok(mut m) = self.inner.write() {
            m.retain(|_, cutoff| *cutoff >= older_than_ms);
        }
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fresh key pair as (base64 seed, base64 public key).
pub fn generate_keypair() -> (String, String) {
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    (B64.encode(seed), B64.encode(key.verifying_key().as_bytes()))
}

/// The key id of a public key: the first 16 hex digits of its SHA-256,
/// the same wherever it is computed, so nobody configures ids by hand.
pub fn key_id(public: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(public);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key id of a base64 public key, as `pd admin gen-keys` prints it.
pub fn public_key_id(public_b64: &str) -> anyhow::Result<String> {
    Ok(public_key("public key", public_b64)?.0)
}

/// A base64 Ed25519 public key from the settings, with its key id.
fn public_key(name: &str, b64: &str) -> anyhow::Result<(String, DecodingKey)> {
    let public = B64
        .decode(b64.trim())
        .with_context(|| format!("{name} is not base64"))?;
    anyhow::ensure!(public.len() == 32, "{name} must be 32 bytes");
    Ok((key_id(&public), DecodingKey::from_ed_der(&public)))
}

mod verified;

/// What a caller is told when their token is refused or missing (one
/// place, to translate; services say the same).
pub mod msg {
    pub const EXPIRED: &str = "срок действия токена истёк";
    pub const INVALID: &str = "недействительный токен";
    pub const REVOKED: &str = "сеанс завершён: войдите в систему снова";
    pub const SIGN_IN: &str = "требуется вход в систему";
    pub const BEARER: &str = "ожидается заголовок Authorization: Bearer";
}

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered per generation (two are kept): at most a
/// few MB. In the December window a token comes back within seconds (a
/// full group's answer sends its educator to the next group at once).
const VERIFIED_CAPACITY: usize = 4096;

/// Checks access tokens. Clones share everything (keys, revocations, the
/// verified tokens), so one per process serves every request cheaply.
#[derive(Clone)]
pub struct TokenVerifier {
    /// By key id: the current key and the others being rotated in or out.
    keys: Arc<std::collections::HashMap<String, DecodingKey>>,
    validation: Arc<Validation>,
    revocations: Revocations,
    verified: Arc<verified::Verified>,
    access_ttl_secs: i64,
}

impl TokenVerifier {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let mut keys = std::collections::HashMap::new();
        let (kid, key) = public_key("auth.verifying_key", &settings.verifying_key)?;
        keys.insert(kid, key);
        for (i, k) in settings.verifying_keys.iter().enumerate() {
            if k.trim().is_empty() {
                continue;
            }
            let (kid, key) = public_key(&format!("auth.verifying_keys[{i}]"), k)?;
            keys.insert(kid, key);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.leeway = LEEWAY_SECS as u64;
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        Ok(TokenVerifier {
            keys: Arc::new(keys),
            validation: Arc::new(validation),
            revocations: Revocations::default(),
            verified: Arc::new(verified::Verified::new(VERIFIED_CAPACITY)),
            access_ttl_secs: settings.access_ttl_secs as i64,
        })
    }

    /// The revoked sessions this verifier refuses (shared by its clones).
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// How long an access token lives: revocations older than this matter
    /// no more.
    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    /// The caller proven by a bearer token; 401 for anything else.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    /// [`TokenVerifier::verify`] at `now` (seconds): the signature is
    /// checked on a token's first use only, its expiry and revocation on
    /// every use.
    fn verify_at(&self, token: &str, now: i64) -> Result<Principal, AppError> {
        let key = verified::key(token);
        let checked = match self.verified.get(&key) {
            Some(c) => c,
            None => {
                let c = Arc::new(self.check_signature(token)?);
                self.verified.insert(key, c.clone());
                c
            }
        };
        if checked.expires < now - LEEWAY_SECS {
            return Err(AppError::unauthenticated(msg::EXPIRED));
        }
        if self
            .revocations
            .is_revoked(checked.principal.user_id, checked.issued_ms)
        {
            return Err(AppError::unauthenticated(msg::REVOKED));
        }
        Ok(checked.principal.clone())
    }

    /// Verifies the token's key, signature and claims (an expired token is
    /// refused here too, by the library's clock).
    fn check_signature(&self, token: &str) -> Result<verified::Checked, AppError> {
        let invalid = || AppError::unauthenticated(msg::INVALID);
        // The header names the key; a token of an unknown key is refused.
        let kid = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .ok_or_else(invalid)?;
        let key = self.keys.get(&kid).ok_or_else(invalid)?;
        let c = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::unauthenticated(msg::EXPIRED)
                }
                _ => invalid(),
            })?
            .claims;
        Ok(verified::Checked {
            issued_ms: if c.iat_ms > 0 { c.iat_ms } else { c.iat * 1000 },
            expires: c.exp,
            principal: Principal {
                user_id: c.sub,
                login: c.login,
                grants: c.grants,
            },
        })
    }

    /// Reads `Bearer <token>` from an Authorization header value.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Principal, AppError> {
        let value = header.ok_or_else(|| AppError::unauthenticated(msg::SIGN_IN))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AppError::unauthenticated(msg::BEARER))?;
        self.verify(token.trim())
    }
}

#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    key_id: String,
    issuer: String,
    audience: String,
    pub access_ttl_secs: i64,
}

impl TokenIssuer {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let seed = B64
            .decode(settings.signing_key.trim())
            .context("auth.signing_key is not base64")?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| anyhow::anyhow!("auth.signing_key must be 32 bytes"))?;
        let signing = SigningKey::from_bytes(&seed);
        let der = signing.to_pkcs8_der().context("encoding the signing key")?;
        Ok(TokenIssuer {
            key: EncodingKey::from_ed_der(der.as_bytes()),
            key_id: key_id(signing.verifying_key().as_bytes()),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl_secs: settings.access_ttl_secs as i64,
        })
    }

    pub fn issue(&self, principal: &Principal) -> anyhow::Result<String> {
        self.issue_with_ttl(principal, self.access_ttl_secs)
    }

    /// A token valid for `ttl_secs` from now (negative: already expired).
    pub fn issue_with_ttl(&self, principal: &Principal, ttl_secs: i64) -> anyhow::Result<String> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let now = now_ms.div_euclid(1000);
        let claims = Claims {
            sub: principal.user_id,
            login: principal.login.clone(),
            grants: principal.grants.clone(),
            iat: now,
            exp: now + ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::now_v7(),
            iat_ms: now_ms,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).context("signing a token")
    }
}

#[cfg(test)]
mod tests;
