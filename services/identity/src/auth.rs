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
use crate::domain::values;
use crate::{State, accounts, audit, educators, messages as msg, users};

/// Runs Argon2id work off the async threads, at most one computation per
/// core at a time. Each hash takes 19 MiB and tens of milliseconds of a
/// core: unbounded, a burst of sign-ins held hundreds of MiB in the
/// allocator and starved every other request; bounded, the burst queues.
pub(crate) async fn argon2<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, AppError> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| pd_bus::rpc::internal("password hashing slots", e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| pd_bus::rpc::internal("password hashing task", e))
}

/// Hashes a password with Argon2id (OWASP parameters).
pub(crate) async fn hash_password(password: String) -> Result<String, AppError> {
    argon2(move || hash_password_blocking(&password)).await?
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

/// What login finds of an account.
type LoginRow = (Uuid, String, bool, bool);

pub(crate) async fn login(
    state: State,
    _ctx: RpcContext,
    req: pb::LoginRequest,
) -> Result<pb::TokenPair, AppError> {
    let login = req.login.trim().to_lowercase();
    if login.is_empty() || req.password.is_empty() || req.password.len() > 1024 {
        return Err(AppError::unauthenticated(msg::BAD_CREDENTIALS));
    }
    let user: Option<LoginRow> = sqlx::query_as(
        "SELECT id, password_hash, active, must_change_password FROM users WHERE login = $1",
    )
    .bind(&login)
    .fetch_optional(&state.pool)
    .await
    .map_err(db_error)?;
    let password = req.password;
    let (user, ok) = argon2(move || match user {
        Some(u) => {
            let ok = verify_password(&password, &u.1);
            (Some(u), ok)
        }
        None => {
            // Same work as for a real user, then refuse.
            let _ = verify_password(&password, dummy_hash());
            (None, false)
        }
    })
    .await?;
    let Some((id, checked_hash, active, must_change)) = user.filter(|_| ok) else {
        return Err(AppError::unauthenticated(msg::BAD_CREDENTIALS));
    };
    // Told only to whoever knows the password.
    if !active {
        return Err(AppError::unauthenticated(msg::ACCOUNT_DISABLED_LOGIN)
            .with("reason", "account_disabled"));
    }
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // A reset or deactivation committed while the password was being
    // checked wins: the account is read again under a share lock.
    let now: Option<(String, bool)> =
        sqlx::query_as("SELECT password_hash, active FROM users WHERE id = $1 FOR SHARE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if now.as_ref().is_none_or(|(hash, _)| *hash != checked_hash) {
        return Err(AppError::unauthenticated(msg::BAD_CREDENTIALS));
    }
    if must_change {
        if req.new_password.is_empty() {
            return Err(AppError::forbidden(msg::PASSWORD_CHANGE_REQUIRED)
                .with("reason", "password_change_required"));
        }
        set_password(&mut tx, id, &req.new_password, "one_time_password").await?;
    }
    tracing::info!(user_id = %id, "logged in");
    let pair = issue_pair(&state, &mut tx, id, Uuid::now_v7()).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pair)
}

/// Stores a new password (checked, different from the current one) and
/// records it; the caller ends the sessions where that is wanted.
async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    new_password: &str,
    how: &str,
) -> Result<(), AppError> {
    values::password(new_password).map_err(|m| AppError::invalid("new_password", m))?;
    let current: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let candidate = new_password.to_owned();
    let same = argon2(move || verify_password(&candidate, &current)).await?;
    if same {
        return Err(AppError::invalid("new_password", msg::PASSWORD_SAME));
    }
    let hash = hash_password(new_password.to_owned()).await?;
    sqlx::query("UPDATE users SET password_hash = $2, must_change_password = false WHERE id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    audit::record(
        conn,
        Some(user_id),
        "password_changed",
        user_id,
        serde_json::json!({ "how": how }),
    )
    .await
}

/// The signed-in user changes their password: every other session ends
/// (refresh tokens revoked, older access tokens refused) and a new pair is
/// returned for this one.
pub(crate) async fn change_password(
    state: State,
    ctx: RpcContext,
    req: pb::ChangePasswordRequest,
) -> Result<pb::TokenPair, AppError> {
    let p = ctx.principal()?;
    let user_id = p.user_id;
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)?;
    let hash = hash.ok_or_else(|| AppError::unauthenticated(msg::USER_NOT_FOUND))?;
    let current = req.current_password.clone();
    let ok = !current.is_empty()
        && current.len() <= 1024
        && argon2(move || verify_password(&current, &hash)).await?;
    if !ok {
        return Err(AppError::invalid("current_password", msg::WRONG_PASSWORD));
    }
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    users::lock_user(&mut tx, user_id).await?;
    set_password(&mut tx, user_id, &req.new_password, "self").await?;
    accounts::revoke_sessions(
        &mut tx,
        &state.outbox,
        &ctx,
        user_id,
        "password_changed",
        true,
    )
    .await?;
    let pair = issue_pair(&state, &mut tx, user_id, Uuid::now_v7()).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pair)
}

/// A refresh token's row, locked.
type RefreshRow = (
    Uuid,
    Uuid,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
    bool,
);

pub(crate) async fn refresh(
    state: State,
    ctx: RpcContext,
    req: pb::RefreshRequest,
) -> Result<pb::TokenPair, AppError> {
    let hash = Sha256::digest(req.refresh_token.trim().as_bytes()).to_vec();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT user_id, family_id, used_at, revoked_at, expires_at > now()
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some((user_id, family, used_at, revoked_at, live)) = row else {
        return Err(AppError::unauthenticated(msg::BAD_REFRESH));
    };
    if used_at.is_some() {
        // Rotation means a token is exchanged once; a second exchange means
        // two parties hold it. End the whole family, the thief's and the
        // owner's tokens alike.
        revoke_family(&mut tx, family).await?;
        // The access tokens too: the thief's cannot be told from the owner's.
        accounts::revoke_sessions(
            &mut tx,
            &state.outbox,
            &ctx,
            user_id,
            "refresh_reuse_detected",
            false,
        )
        .await?;
        audit::record(
            &mut tx,
            None,
            "refresh_reuse_detected",
            user_id,
            serde_json::json!({ "family_id": family.to_string() }),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        tracing::warn!(%user_id, "refresh token reused: its family is revoked");
        return Err(AppError::unauthenticated(msg::BAD_REFRESH));
    }
    if revoked_at.is_some() || !live {
        return Err(AppError::unauthenticated(msg::BAD_REFRESH));
    }
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = now(), revoked_at = now() WHERE token_hash = $1",
    )
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let pair = issue_pair(&state, &mut tx, user_id, family).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pair)
}

async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Signing out: the refresh token and every token rotated from the same
/// sign-in stop working. Unknown tokens are accepted silently (signing out
/// twice is not an error).
pub(crate) async fn logout(
    state: State,
    _ctx: RpcContext,
    req: pb::LogoutRequest,
) -> Result<Empty, AppError> {
    let hash = Sha256::digest(req.refresh_token.trim().as_bytes()).to_vec();
    let family: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_optional(&state.pool)
            .await
            .map_err(db_error)?;
    if let Some(f) = family {
        let mut conn = state.pool.acquire().await.map_err(db_error)?;
        revoke_family(&mut conn, f).await?;
    }
    Ok(Empty {})
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
    // Each grant with the region its scope lies in (ids are UUIDs, unique
    // across the tables, so at most one join matches).
    let rows: Vec<(String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "SELECT g.role, g.scope_id,
                COALESCE(r.id, m.region_id, o.region_id, pr.region_id, eo.region_id)
         FROM role_grants g
         LEFT JOIN regions r ON r.id = g.scope_id
         LEFT JOIN municipalities m ON m.id = g.scope_id
         LEFT JOIN organizations o ON o.id = g.scope_id
         LEFT JOIN providers pr ON pr.id = g.scope_id
         LEFT JOIN educators e ON e.id = g.scope_id
         LEFT JOIN organizations eo ON eo.id = e.organization_id
         WHERE g.user_id = $1 ORDER BY g.created_at",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let grants = rows
        .into_iter()
        .filter_map(|(role, scope, region)| {
            Role::parse(&role).map(|role| Grant {
                role,
                scope,
                region,
            })
        })
        .collect();
    Ok(Principal {
        user_id,
        login,
        grants,
    })
}

/// A new access token and a refresh token of `family`; refused for a
/// deactivated account.
async fn issue_pair(
    state: &State,
    conn: &mut PgConnection,
    user_id: Uuid,
    family: Uuid,
) -> Result<pb::TokenPair, AppError> {
    // FOR SHARE waits for a deactivation in progress (it locks the row), so
    // no token is issued after the account's sessions were ended.
    let active: Option<bool> =
        sqlx::query_scalar("SELECT active FROM users WHERE id = $1 FOR SHARE")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    if active != Some(true) {
        return Err(AppError::unauthenticated(msg::ACCOUNT_DISABLED_LOGIN)
            .with("reason", "account_disabled"));
    }
    let principal = principal_of(conn, user_id).await?;
    let access = state
        .tokens
        .issue(&principal)
        .map_err(|e| pd_bus::rpc::internal("signing a token", e))?;
    let secret: [u8; 32] = rand::random();
    let refresh = URL_SAFE_NO_PAD.encode(secret);
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, user_id, expires_at, family_id)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4)",
    )
    .bind(Sha256::digest(refresh.as_bytes()).to_vec())
    .bind(user_id)
    .bind(state.refresh_ttl_secs as f64)
    .bind(family)
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
