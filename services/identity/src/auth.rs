//! Logging in: Argon2id password check, access token (EdDSA JWT) and a
//! rotating refresh token; `me`.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pd_bus::RpcContext;
use pd_domain::{AppError, Grant, Principal, Role};
use pd_proto::common::v1::Empty;
use pd_proto::identity::v1 as pb;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::sync::OnceLock;
use uuid::Uuid;

use crate::db::db_error;
use crate::{State, educators, messages as msg, users};

/// Hashes a password with Argon2id (OWASP parameters); CPU-heavy, so off
/// the async threads.
pub(crate) async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(|e| pd_bus::rpc::internal("hashing task", e))?
}

pub(crate) fn hash_password_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| pd_bus::rpc::internal("hashing a password", e))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verified against when the login is unknown, so both cases take as long.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_blocking("not a password of anyone").unwrap_or_default())
}

pub(crate) async fn login(
    state: State,
    _ctx: RpcContext,
    req: pb::LoginRequest,
) -> Result<pb::TokenPair, AppError> {
    let login = req.login.trim().to_lowercase();
    if login.is_empty() || req.password.is_empty() {
        return Err(AppError::unauthenticated(msg::BAD_CREDENTIALS));
    }
    let user: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE login = $1")
            .bind(&login)
            .fetch_optional(&state.pool)
            .await
            .map_err(db_error)?;
    let password = req.password;
    let (user_id, ok) = tokio::task::spawn_blocking(move || match user {
        Some((id, hash)) => (Some(id), verify_password(&password, &hash)),
        None => {
            // Same work as for a real user, then refuse.
            let _ = verify_password(&password, dummy_hash());
            (None, false)
        }
    })
    .await
    .map_err(|e| pd_bus::rpc::internal("password check", e))?;
    match (user_id, ok) {
        (Some(id), true) => {
            tracing::info!(user_id = %id, "logged in");
            let mut conn = state.pool.acquire().await.map_err(db_error)?;
            issue_pair(&state, &mut conn, id).await
        }
        _ => Err(AppError::unauthenticated(msg::BAD_CREDENTIALS)),
    }
}

pub(crate) async fn refresh(
    state: State,
    _ctx: RpcContext,
    req: pb::RefreshRequest,
) -> Result<pb::TokenPair, AppError> {
    let hash = Sha256::digest(req.refresh_token.trim().as_bytes()).to_vec();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // Rotation: a refresh token is good for one use.
    let user: Option<Uuid> = sqlx::query_scalar(
        "UPDATE refresh_tokens SET revoked_at = now()
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING user_id",
    )
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let user = user.ok_or_else(|| AppError::unauthenticated(msg::BAD_REFRESH))?;
    let pair = issue_pair(&state, &mut tx, user).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pair)
}

/// The caller's grants as stored now.
pub(crate) async fn principal_of(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Principal, AppError> {
    let login: Option<String> = sqlx::query_scalar("SELECT login FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    let login = login.ok_or_else(|| AppError::unauthenticated(msg::BAD_CREDENTIALS))?;
    let rows: Vec<(String, Option<Uuid>)> = sqlx::query_as(
        "SELECT role, scope_id FROM role_grants WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let grants = rows
        .into_iter()
        .filter_map(|(role, scope)| Role::parse(&role).map(|role| Grant { role, scope }))
        .collect();
    Ok(Principal {
        user_id,
        login,
        grants,
    })
}

async fn issue_pair(
    state: &State,
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<pb::TokenPair, AppError> {
    let principal = principal_of(conn, user_id).await?;
    let access = state
        .tokens
        .issue(&principal)
        .map_err(|e| pd_bus::rpc::internal("signing a token", e))?;
    let secret: [u8; 32] = rand::random();
    let refresh = URL_SAFE_NO_PAD.encode(secret);
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, user_id, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3))",
    )
    .bind(Sha256::digest(refresh.as_bytes()).to_vec())
    .bind(user_id)
    .bind(state.refresh_ttl_secs as f64)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.access_ttl_secs,
    })
}

pub(crate) async fn me(state: State, ctx: RpcContext, _: Empty) -> Result<pb::Me, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let user = users::load_user(&mut conn, p.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated(msg::USER_NOT_FOUND))?;
    let educator = match user.educator_id.parse::<Uuid>() {
        Ok(id) => educators::load(&mut conn, id).await?.map(|e| e.to_proto(p)),
        Err(_) => None,
    };
    Ok(pb::Me {
        user: Some(user),
        educator,
    })
}
