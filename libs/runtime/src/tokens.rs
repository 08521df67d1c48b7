//! Access tokens: EdDSA (Ed25519) JWTs signed by identity and verified by
//! the gateway and again by every service.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pd_domain::{AppError, Grant, Principal};
use serde::{Deserialize, Serialize};
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
    pub jti: Uuid,
}

/// A fresh key pair as (base64 seed, base64 public key).
pub fn generate_keypair() -> (String, String) {
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    (B64.encode(seed), B64.encode(key.verifying_key().as_bytes()))
}

#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let public = B64
            .decode(settings.verifying_key.trim())
            .context("auth.verifying_key is not base64")?;
        anyhow::ensure!(public.len() == 32, "auth.verifying_key must be 32 bytes");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Ok(TokenVerifier {
            key: DecodingKey::from_ed_der(&public),
            validation,
        })
    }

    /// The caller proven by a bearer token; 401 for anything else.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::unauthenticated("срок действия токена истёк")
                }
                _ => AppError::unauthenticated("недействительный токен"),
            },
        )?;
        Ok(Principal {
            user_id: data.claims.sub,
            login: data.claims.login,
            grants: data.claims.grants,
        })
    }

    /// Reads `Bearer <token>` from an Authorization header value.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Principal, AppError> {
        let value = header.ok_or_else(|| AppError::unauthenticated("требуется вход в систему"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                AppError::unauthenticated("ожидается заголовок Authorization: Bearer")
            })?;
        self.verify(token.trim())
    }
}

#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: String,
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
        let der = SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .context("encoding the signing key")?;
        Ok(TokenIssuer {
            key: EncodingKey::from_ed_der(der.as_bytes()),
            issuer: settings.issuer.clone(),
            access_ttl_secs: settings.access_ttl_secs as i64,
        })
    }

    pub fn issue(&self, principal: &Principal) -> anyhow::Result<String> {
        self.issue_with_ttl(principal, self.access_ttl_secs)
    }

    /// A token valid for `ttl_secs` from now (negative: already expired).
    pub fn issue_with_ttl(&self, principal: &Principal, ttl_secs: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: principal.user_id,
            login: principal.login.clone(),
            grants: principal.grants.clone(),
            iat: now,
            exp: now + ttl_secs,
            iss: self.issuer.clone(),
            jti: Uuid::now_v7(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)
            .context("signing a token")
    }
}

#[cfg(test)]
mod tests;
