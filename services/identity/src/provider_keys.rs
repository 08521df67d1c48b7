//! Keys providers' systems push completions with (issue 11): issued,
//! listed and revoked by an admin; stored as a SHA-256 only. The gateway
//! trades a key for a short-lived token scoped to its provider, so the
//! monitoring service checks a provider's caller like any other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::{AppError, Grant, Principal, Role};
use pd_proto::identity::v1 as pb;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use uuid::Uuid;

use crate::State;
use crate::db::{db_error, ensure, path_id, ts};
use crate::messages as msg;

/// What every key starts with (so a leaked one is easy to grep for).
const KEY_PREFIX: &str = "pdk_";
/// Seconds a traded token lives: the gateway trades the key per call.
const TOKEN_TTL_SECS: i64 = 300;
const LABEL_MAX: usize = 200;

#[derive(FromRow)]
struct KeyRow {
    id: Uuid,
    provider_id: Uuid,
    label: String,
    prefix: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for pb::ProviderKey {
    fn from(r: KeyRow) -> Self {
        pb::ProviderKey {
            id: r.id.to_string(),
            provider_id: r.provider_id.to_string(),
            label: r.label,
            prefix: r.prefix,
            created_at: ts(r.created_at),
            revoked_at: r.revoked_at.map(ts).unwrap_or_default(),
            secret: String::new(),
        }
    }
}

fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

/// The provider's region, or 404.
async fn provider_region(state: &State, raw: &str) -> Result<(Uuid, Uuid), AppError> {
    let id = path_id(raw, msg::PROVIDER_NOT_FOUND)?;
    let region: Option<Uuid> = sqlx::query_scalar("SELECT region_id FROM providers WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)?;
    region
        .map(|r| (id, r))
        .ok_or_else(|| AppError::not_found(msg::PROVIDER_NOT_FOUND))
}

pub(crate) async fn issue(
    state: State,
    ctx: RpcContext,
    req: pb::IssueProviderKeyRequest,
) -> Result<pb::ProviderKey, AppError> {
    let p = ctx.principal()?;
    ensure(p.is_admin())?;
    let (provider, _) = provider_region(&state, &req.provider_id).await?;
    let label = req.label.trim();
    if label.chars().count() > LABEL_MAX {
        return Err(AppError::invalid(
            "label",
            pd_domain::bounds::too_long(LABEL_MAX),
        ));
    }
    let secret: [u8; 30] = rand::random();
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let prefix: String = key.chars().take(12).collect();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: KeyRow = sqlx::query_as(
        "INSERT INTO provider_api_keys (id, provider_id, label, prefix, key_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, provider_id, label, prefix, created_at, revoked_at",
    )
    .bind(Uuid::now_v7())
    .bind(provider)
    .bind(label)
    .bind(&prefix)
    .bind(hash(&key))
    .bind(p.user_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut out = pb::ProviderKey::from(row);
    // The only answer that carries the key; it is not stored anywhere
    // (the operation takes no Idempotency-Key: a retry issues another).
    out.secret = key;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ProviderKeysRequest,
) -> Result<pb::ProviderKeyList, AppError> {
    ensure(ctx.principal()?.is_admin())?;
    let (provider, _) = provider_region(&state, &req.provider_id).await?;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, provider_id, label, prefix, created_at, revoked_at FROM provider_api_keys
         WHERE provider_id = $1 ORDER BY created_at",
    )
    .bind(provider)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    Ok(pb::ProviderKeyList {
        items: rows.into_iter().map(Into::into).collect(),
    })
}

pub(crate) async fn revoke(
    state: State,
    ctx: RpcContext,
    req: pb::RevokeProviderKeyRequest,
) -> Result<pb::ProviderKey, AppError> {
    ensure(ctx.principal()?.is_admin())?;
    let (provider, _) = provider_region(&state, &req.provider_id).await?;
    let key = path_id(&req.key_id, msg::PROVIDER_KEY_NOT_FOUND)?;
    let row: Option<KeyRow> = sqlx::query_as(
        "UPDATE provider_api_keys SET revoked_at = COALESCE(revoked_at, now())
         WHERE id = $1 AND provider_id = $2
         RETURNING id, provider_id, label, prefix, created_at, revoked_at",
    )
    .bind(key)
    .bind(provider)
    .fetch_optional(&state.pool)
    .await
    .map_err(db_error)?;
    row.map(Into::into)
        .ok_or_else(|| AppError::not_found(msg::PROVIDER_KEY_NOT_FOUND))
}

/// Anyone may call it: the key is the credential. 401 for a key that is
/// unknown, revoked, or another provider's.
pub(crate) async fn exchange(
    state: State,
    _ctx: RpcContext,
    req: pb::ExchangeProviderKeyRequest,
) -> Result<pb::ProviderKeyToken, AppError> {
    let refused = || AppError::unauthenticated(msg::PROVIDER_KEY_INVALID);
    let provider = Uuid::parse_str(&req.provider_id).map_err(|_| refused())?;
    if !req.key.starts_with(KEY_PREFIX) || req.key.len() > 200 {
        return Err(refused());
    }
    let found: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT k.id, p.region_id, k.prefix FROM provider_api_keys k JOIN providers p ON p.id = k.provider_id
         WHERE k.key_hash = $1 AND k.provider_id = $2 AND k.revoked_at IS NULL",
    )
    .bind(hash(&req.key))
    .bind(provider)
    .fetch_optional(&state.pool)
    .await
    .map_err(db_error)?;
    let (key_id, region, prefix) = found.ok_or_else(refused)?;
    let principal = Principal {
        user_id: key_id,
        login: format!("provider-key:{prefix}"),
        grants: vec![Grant {
            role: Role::ProviderAdmin,
            scope: Some(provider),
            region: Some(region),
        }],
    };
    let access_token = state
        .tokens
        .issue_with_ttl(&principal, TOKEN_TTL_SECS)
        .map_err(|e| pd_bus::rpc::internal("signing a provider token", e))?;
    Ok(pb::ProviderKeyToken {
        access_token,
        expires_in: TOKEN_TTL_SECS,
    })
}
