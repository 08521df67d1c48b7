//! The life of an account after it is created: finding users in one's
//! scope, deactivating and reactivating, an operator's password reset, and
//! ending an account's sessions at once.

use pd_bus::RpcContext;
use pd_bus::outbox::Outbox;
use pd_domain::{AppError, Principal, Role};
use pd_proto::identity::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::hash_password;
use crate::db::{db_error, ensure, limit, offset, path_id};
use crate::domain::access::{self, educator_scope};
use crate::users::{self, lock_user, readable_account};
use crate::{State, audit, messages as msg};
use pd_domain::request::like_escape;

/// Ends the account's sessions: access tokens issued before now are refused
/// by every verifier (through `sessions_revoked`) and, unless only its
/// grants changed, its refresh tokens stop working too.
pub(crate) async fn revoke_sessions(
    conn: &mut PgConnection,
    outbox: &Outbox,
    ctx: &RpcContext,
    user_id: Uuid,
    reason: &str,
    refresh_tokens_too: bool,
) -> Result<(), AppError> {
    let now = chrono::Utc::now();
    sqlx::query("UPDATE users SET tokens_valid_after = $2 WHERE id = $1")
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if refresh_tokens_too {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    let event = pb::SessionsRevoked {
        user_id: user_id.to_string(),
        not_before_ms: now.timestamp_millis(),
        reason: reason.to_owned(),
    };
    outbox
        .write(
            conn,
            pd_bus::sessions::EVENT,
            &user_id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The account, locked, if the caller may change it: 404 when they may
/// not even see it, 403 when it is theirs or holds roles outside their scope.
pub(crate) async fn manageable(
    conn: &mut PgConnection,
    p: &Principal,
    user_id: Uuid,
) -> Result<pb::User, AppError> {
    lock_user(conn, user_id).await?;
    let (user, account) = readable_account(conn, p, user_id).await?;
    if user_id == p.user_id {
        return Err(AppError::forbidden(msg::NOT_TO_ONESELF));
    }
    if !access::can_manage_account(p, &account) {
        return Err(AppError::forbidden(msg::ACCOUNT_OUTSIDE_SCOPE));
    }
    Ok(user)
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: pb::GetUserRequest,
) -> Result<pb::User, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.user_id, msg::USER_NOT_FOUND)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    Ok(readable_account(&mut conn, p, id).await?.0)
}

/// Users the caller may read (see `access::can_read_account`), one query
/// for the page and one for its grants.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListUsersRequest,
) -> Result<pb::UserList, AppError> {
    let p = ctx.principal()?;
    ensure(access::can_create_users(p))?;
    let role = req.role.trim();
    if !role.is_empty() && Role::parse(role).is_none() {
        return Err(AppError::invalid("role", msg::ROLE));
    }
    let org = pd_domain::request::optional_id("organization_id", &req.organization_id)?;
    let status = match req.status.trim() {
        "" | "active" => Some(true),
        "inactive" => Some(false),
        "all" => None,
        _ => return Err(AppError::invalid("status", msg::USER_STATUS)),
    };
    let scope = educator_scope(p);
    let ministry: Vec<Uuid> = p.scopes(Role::Ministry).collect();
    let regional: Vec<Uuid> = p.scopes(Role::RegionalOperator).collect();
    let pattern = format!("%{}%", like_escape(&req.login.trim().to_lowercase()));
    let offset = offset(req.offset)?;
    // The same filter twice: for the page, and for the total when the page
    // is past the end (no row to carry the window count).
    macro_rules! filtered {
        ($q:expr) => {
            $q.bind(scope.all)
                .bind(p.user_id)
                .bind(&regional)
                .bind(&scope.municipalities)
                .bind(&scope.orgs)
                .bind(&ministry)
                .bind(&pattern)
                .bind(role)
                .bind(org)
                .bind(status)
        };
    }
    let page = format!(
        "SELECT u.id, count(*) OVER () {USERS_FILTER} ORDER BY u.login LIMIT $11 OFFSET $12"
    );
    let ids: Vec<(Uuid, i64)> = filtered!(sqlx::query_as(sqlx::AssertSqlSafe(page)))
        .bind(limit(req.limit)?)
        .bind(offset)
        .fetch_all(&state.pool)
        .await
        .map_err(db_error)?;
    let total = match ids.first() {
        Some(r) => r.1,
        None if offset > 0 => {
            let count = format!("SELECT count(*) {USERS_FILTER}");
            filtered!(sqlx::query_scalar(sqlx::AssertSqlSafe(count)))
                .fetch_one(&state.pool)
                .await
                .map_err(db_error)?
        }
        None => 0,
    };
    let ids: Vec<Uuid> = ids.into_iter().map(|r| r.0).collect();
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let items = users::load_users(&mut conn, &ids).await?;
    Ok(pb::UserList { items, total })
}

/// A grant `g` the caller sees: within its regions ($3), municipalities
/// ($4) or organizations ($5), or a ministry's region ($6).
macro_rules! visible_grant {
    () => {
        "(
             (g.role = 'regional_operator' AND g.scope_id = ANY($3))
          OR (g.role = 'municipal_operator' AND EXISTS (SELECT 1 FROM municipalities m
                WHERE m.id = g.scope_id AND (m.region_id = ANY($3) OR m.id = ANY($4))))
          OR (g.role = 'org_operator' AND EXISTS (SELECT 1 FROM organizations o
                WHERE o.id = g.scope_id AND (o.region_id = ANY($3) OR o.municipality_id = ANY($4) OR o.id = ANY($5))))
          OR (g.role = 'educator' AND EXISTS (SELECT 1 FROM educators e JOIN organizations o ON o.id = e.organization_id
                WHERE e.id = g.scope_id AND (o.region_id = ANY($3) OR o.municipality_id = ANY($4) OR o.id = ANY($5))))
          OR (g.role IN ('ministry', 'expert', 'council_member') AND g.scope_id = ANY($6))
          -- The regional operator runs the review: it seats the experts and
          -- convenes the council of its region.
          OR (g.role IN ('expert', 'council_member') AND g.scope_id = ANY($3))
          OR (g.role = 'provider_admin' AND EXISTS (SELECT 1 FROM providers pr
                WHERE pr.id = g.scope_id AND pr.region_id = ANY($6))))"
    };
}

/// The users a caller may list. A role filter ($8) matches a grant of that
/// role the caller sees: a municipal operator asking for council members
/// does not get the clerk of its school who sits on the region's council.
const USERS_FILTER: &str = concat!(
    "
FROM users u
WHERE ($1 OR u.id = $2 OR u.created_by = $2 OR EXISTS (
        SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND ",
    visible_grant!(),
    "))
  AND u.login LIKE $7
  AND ($8 = '' OR EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.role = $8
        AND ($1 OR ",
    visible_grant!(),
    ")))
  AND ($9::uuid IS NULL OR EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND (
           (g.role = 'org_operator' AND g.scope_id = $9)
        OR (g.role = 'educator' AND EXISTS (SELECT 1 FROM educators e WHERE e.id = g.scope_id AND e.organization_id = $9)))))
  AND ($10::bool IS NULL OR u.active = $10)"
);

/// The longest reason for a deactivation (the API's schema says the same).
const DEACTIVATION_REASON: usize = 500;

pub(crate) async fn set_active(
    state: State,
    ctx: RpcContext,
    req: pb::SetUserActiveRequest,
) -> Result<pb::User, AppError> {
    let p = ctx.principal()?;
    let user_id = path_id(&req.user_id, msg::USER_NOT_FOUND)?;
    let reason = req.reason.trim();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // Permission first: a caller who may not act learns nothing from 422s.
    let user = manageable(&mut tx, p, user_id).await?;
    if !req.active && reason.is_empty() {
        return Err(AppError::invalid("reason", msg::REASON_REQUIRED));
    }
    if reason.chars().count() > DEACTIVATION_REASON {
        return Err(AppError::invalid(
            "reason",
            pd_domain::bounds::too_long(DEACTIVATION_REASON),
        ));
    }
    if user.active != req.active {
        if req.active {
            reactivate(&mut tx, &state.outbox, p, user_id).await?;
        } else {
            deactivate(&mut tx, &state.outbox, &ctx, p, user_id, reason).await?;
        }
    }
    let user = users::load_user(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::internal("user vanished"))?;
    tx.commit().await.map_err(db_error)?;
    Ok(user)
}

async fn deactivate(
    conn: &mut PgConnection,
    outbox: &Outbox,
    ctx: &RpcContext,
    p: &Principal,
    user_id: Uuid,
    reason: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE users SET active = false, deactivated_at = now(), deactivation_reason = $2 WHERE id = $1",
    )
    .bind(user_id)
    .bind(reason)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    let event = pb::UserDeactivated {
        user_id: user_id.to_string(),
        reason: reason.to_owned(),
    };
    audit::account_changed(
        conn,
        outbox,
        Some(p.user_id),
        user_id,
        "user_deactivated",
        &event,
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    revoke_sessions(conn, outbox, ctx, user_id, "user_deactivated", true).await?;
    tracing::info!(%user_id, "account deactivated");
    Ok(())
}

async fn reactivate(
    conn: &mut PgConnection,
    outbox: &Outbox,
    p: &Principal,
    user_id: Uuid,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE users SET active = true, deactivated_at = NULL, deactivation_reason = '' WHERE id = $1",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    let event = pb::UserReactivated {
        user_id: user_id.to_string(),
    };
    audit::account_changed(
        conn,
        outbox,
        Some(p.user_id),
        user_id,
        "user_reactivated",
        &event,
        serde_json::json!({}),
    )
    .await?;
    tracing::info!(%user_id, "account reactivated");
    Ok(())
}

/// An operator gives the user a one-time password: it signs in only to set
/// a new one; the account's sessions end at once.
pub(crate) async fn reset_password(
    state: State,
    ctx: RpcContext,
    req: pb::ResetPasswordRequest,
) -> Result<pb::PasswordReset, AppError> {
    let p = ctx.principal()?;
    let user_id = path_id(&req.user_id, msg::USER_NOT_FOUND)?;
    let one_time = users::random_password();
    let hash = hash_password(one_time.clone()).await?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    manageable(&mut tx, p, user_id).await?;
    sqlx::query("UPDATE users SET password_hash = $2, must_change_password = true WHERE id = $1")
        .bind(user_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let event = pb::PasswordWasReset {
        user_id: user_id.to_string(),
    };
    audit::account_changed(
        &mut tx,
        &state.outbox,
        Some(p.user_id),
        user_id,
        "password_reset",
        &event,
        serde_json::json!({}),
    )
    .await?;
    revoke_sessions(
        &mut tx,
        &state.outbox,
        &ctx,
        user_id,
        "password_reset",
        true,
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(%user_id, "password reset by an operator");
    Ok(pb::PasswordReset {
        user_id: user_id.to_string(),
        one_time_password: one_time,
    })
}
