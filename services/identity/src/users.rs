//! Users, role grants, bulk logins for educators and the first admin.

use pd_bus::RpcContext;
use pd_domain::roles::ScopeKind;
use pd_domain::{AppError, Role, error::Validator};
use pd_proto::identity::v1 as pb;
use pd_runtime::settings::AuthSettings;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use pd_bus::outbox::Outbox;

use crate::auth::{argon2, hash_password, hash_password_blocking};
use crate::db::{body_id, db_error, ensure, opt_id, org_location, path_id, ts};
use crate::domain::access::{self, ScopeLocation};
use crate::domain::values;
use crate::{State, accounts, audit, educators, messages as msg};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    login: String,
    display_name: String,
    educator_id: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    active: bool,
    deactivated_at: Option<chrono::DateTime<chrono::Utc>>,
    deactivation_reason: String,
    must_change_password: bool,
    created_by: Option<Uuid>,
}

const USER_COLUMNS: &str = "id, login, display_name, educator_id, created_at, active, deactivated_at, \
     deactivation_reason, must_change_password, created_by";

fn user_proto(u: UserRow, grants: Vec<(Uuid, String, Option<Uuid>)>) -> pb::User {
    pb::User {
        id: u.id.to_string(),
        login: u.login,
        display_name: u.display_name,
        educator_id: opt_id(u.educator_id),
        grants: grants
            .into_iter()
            .map(|(id, role, scope)| pb::RoleGrant {
                id: id.to_string(),
                role,
                scope_id: opt_id(scope),
            })
            .collect(),
        created_at: ts(u.created_at),
        active: u.active,
        deactivated_at: u.deactivated_at.map(ts).unwrap_or_default(),
        deactivation_reason: u.deactivation_reason,
        must_change_password: u.must_change_password,
        created_by: opt_id(u.created_by),
    }
}

pub(crate) async fn load_user(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<pb::User>, AppError> {
    Ok(load_account(conn, id).await?.map(|(u, _)| u))
}

/// A user as shown and as the access rules see it (each grant located).
pub(crate) async fn load_account(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(pb::User, access::Account)>, AppError> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let grants: Vec<(Uuid, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, role, scope_id FROM role_grants WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut located = Vec::with_capacity(grants.len());
    for (_, role, scope) in &grants {
        let Some(role) = Role::parse(role) else {
            continue;
        };
        // A grant whose scope vanished is outside everyone's scope but an admin's.
        let at = locate_scope(conn, role, *scope)
            .await?
            .unwrap_or(ScopeLocation::None);
        located.push((role, at));
    }
    let account = access::Account {
        user_id: row.id,
        created_by: row.created_by,
        grants: located,
    };
    Ok(Some((user_proto(row, grants), account)))
}

/// Several users in the order of `ids`, with their grants: two queries.
pub(crate) async fn load_users(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<pb::User>, AppError> {
    let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let grants: Vec<(Uuid, Uuid, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT user_id, id, role, scope_id FROM role_grants WHERE user_id = ANY($1) ORDER BY created_at",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut by_user: std::collections::HashMap<Uuid, Vec<(Uuid, String, Option<Uuid>)>> =
        std::collections::HashMap::new();
    for (user, id, role, scope) in grants {
        by_user.entry(user).or_default().push((id, role, scope));
    }
    let mut rows: std::collections::HashMap<Uuid, UserRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            let row = rows.remove(id)?;
            Some(user_proto(row, by_user.remove(id).unwrap_or_default()))
        })
        .collect())
}

/// The account, if the caller may read it; unknown and unreadable are both 404.
pub(crate) async fn readable_account(
    conn: &mut PgConnection,
    p: &pd_domain::Principal,
    id: Uuid,
) -> Result<(pb::User, access::Account), AppError> {
    match load_account(conn, id).await? {
        Some((u, a)) if access::can_read_account(p, &a) => Ok((u, a)),
        _ => Err(AppError::not_found(msg::USER_NOT_FOUND)),
    }
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateUserRequest,
) -> Result<pb::User, AppError> {
    let p = ctx.principal()?;
    ensure(access::can_create_users(p))?;
    let mut v = Validator::new();
    let login = v.check("login", values::login(&req.login));
    v.check("password", values::password(&req.password));
    v.max_len("display_name", &req.display_name, pd_domain::bounds::NAME);
    let educator_id = if req.educator_id.trim().is_empty() {
        None
    } else {
        v.check(
            "educator_id",
            body_id("educator_id", &req.educator_id).map_err(|e| e.detail),
        )
    };
    v.finish()?;
    let login = login.ok_or_else(|| AppError::internal("validation"))?;
    let hash = hash_password(req.password.clone()).await?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    if let Some(e) = educator_id {
        let row = educators::load(&mut tx, e).await?;
        match row {
            Some(r) if access::can_manage_educators(p, &r.location()) => {}
            _ => return Err(AppError::invalid("educator_id", msg::EDUCATOR_NOT_FOUND)),
        }
    }
    let id = insert_user(
        &mut tx,
        &state.outbox,
        &login,
        &hash,
        req.display_name.trim(),
        educator_id,
        Some(p.user_id),
    )
    .await?;
    audit::record(
        &mut tx,
        Some(p.user_id),
        "user_created",
        id,
        serde_json::json!({"login": login}),
    )
    .await?;
    let out = load_user(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::internal("user vanished"))?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

async fn insert_user(
    conn: &mut PgConnection,
    outbox: &Outbox,
    login: &str,
    hash: &str,
    display_name: &str,
    educator_id: Option<Uuid>,
    created_by: Option<Uuid>,
) -> Result<Uuid, AppError> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, login, password_hash, display_name, created_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(login)
        .bind(hash)
        .bind(display_name)
        .bind(created_by)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if let Some(e) = educator_id {
        bind_educator(conn, id, e).await?;
        insert_grant(conn, outbox, id, Role::Educator, Some(e), created_by).await?;
    }
    Ok(id)
}

/// Makes the account the educator's one login: 409 when the educator
/// already has an account or the account already belongs to another
/// educator (the same rule for `POST /users` and for granting `educator`).
async fn bind_educator(
    conn: &mut PgConnection,
    user_id: Uuid,
    educator_id: Uuid,
) -> Result<(), AppError> {
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE educator_id = $1 AND id <> $2)
             OR EXISTS (SELECT 1 FROM role_grants WHERE role = 'educator' AND scope_id = $1 AND user_id <> $2)",
    )
    .bind(educator_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    if taken {
        return Err(AppError::conflict(msg::EDUCATOR_HAS_USER));
    }
    let bound = sqlx::query(
        "UPDATE users SET educator_id = $2 WHERE id = $1 AND (educator_id IS NULL OR educator_id = $2)",
    )
    .bind(user_id)
    .bind(educator_id)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if bound.rows_affected() == 0 {
        return Err(AppError::conflict(msg::USER_HAS_EDUCATOR));
    }
    Ok(())
}

/// Adds a grant and its `role_granted` event; `false` if it existed.
async fn insert_grant(
    conn: &mut PgConnection,
    outbox: &Outbox,
    user_id: Uuid,
    role: Role,
    scope: Option<Uuid>,
    granted_by: Option<Uuid>,
) -> Result<bool, AppError> {
    let r = sqlx::query(
        "INSERT INTO role_grants (id, user_id, role, scope_id, granted_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(role.as_str())
    .bind(scope)
    .bind(granted_by)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    let (login, display_name): (String, String) =
        sqlx::query_as("SELECT login, display_name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
    let event = pb::RoleGranted {
        user_id: user_id.to_string(),
        role: role.as_str().to_owned(),
        scope_id: opt_id(scope),
        login,
        display_name,
    };
    audit::account_changed(
        conn,
        outbox,
        granted_by,
        user_id,
        "role_granted",
        &event,
        serde_json::json!({"role": role.as_str(), "scope_id": opt_id(scope)}),
    )
    .await?;
    tracing::info!(%user_id, role = role.as_str(), "role granted");
    Ok(true)
}

/// Where the scope of a grant sits; `Err` names the problem.
async fn locate_scope(
    conn: &mut PgConnection,
    role: Role,
    scope: Option<Uuid>,
) -> Result<Result<ScopeLocation, &'static str>, AppError> {
    let found = |x: Option<ScopeLocation>| Ok(x.ok_or(msg::SCOPE_NOT_FOUND));
    match (role.scope_kind(), scope) {
        (ScopeKind::None, None) => Ok(Ok(ScopeLocation::None)),
        (ScopeKind::None, Some(_)) => Ok(Err(msg::SCOPE_FORBIDDEN)),
        (_, None) => Ok(Err(msg::SCOPE_REQUIRED)),
        (ScopeKind::Region, Some(id)) => {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM regions WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_error)?;
            found(exists.then_some(ScopeLocation::Region(id)))
        }
        (ScopeKind::Municipality, Some(id)) => {
            let r: Option<Uuid> =
                sqlx::query_scalar("SELECT region_id FROM municipalities WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error)?;
            found(r.map(|region_id| ScopeLocation::Municipality {
                municipality_id: id,
                region_id,
            }))
        }
        (ScopeKind::Organization, Some(id)) => found(
            org_location(conn, id)
                .await?
                .map(ScopeLocation::Organization),
        ),
        (ScopeKind::Provider, Some(id)) => {
            let r: Option<Uuid> =
                sqlx::query_scalar("SELECT region_id FROM providers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error)?;
            found(r.map(|region_id| ScopeLocation::Provider { region_id }))
        }
        (ScopeKind::Educator, Some(id)) => {
            let e = educators::load(conn, id).await?;
            found(e.map(|e| ScopeLocation::Educator(e.location())))
        }
    }
}

fn parse_scope(s: &str) -> Result<Option<Uuid>, AppError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        body_id("scope_id", s).map(Some)
    }
}

pub(crate) async fn grant_role(
    state: State,
    ctx: RpcContext,
    req: pb::GrantRoleRequest,
) -> Result<pb::User, AppError> {
    let p = ctx.principal()?;
    let user_id = path_id(&req.user_id, msg::USER_NOT_FOUND)?;
    let role = Role::parse(req.role.trim()).ok_or_else(|| AppError::invalid("role", msg::ROLE))?;
    let scope = parse_scope(&req.scope_id)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // A database failure is a 500, not "no such scope".
    let location = locate_scope(&mut tx, role, scope)
        .await?
        .map_err(|m| AppError::invalid("scope_id", m))?;
    // Whether the caller may grant this comes first, so that nobody learns
    // which user ids exist by trying.
    ensure(access::can_grant(p, role, location))?;
    lock_user(&mut tx, user_id).await?;
    let (user, account) = readable_account(&mut tx, p, user_id).await?;
    if user_id == p.user_id {
        return Err(AppError::forbidden(msg::NOT_TO_ONESELF));
    }
    if !access::can_manage_account(p, &account) {
        return Err(AppError::forbidden(msg::ACCOUNT_OUTSIDE_SCOPE));
    }
    if !user.active {
        return Err(AppError::conflict(msg::ACCOUNT_INACTIVE));
    }
    if access::duties_conflict(&account.grants, role, location) {
        return Err(AppError::conflict(msg::DUTIES_CONFLICT));
    }
    if let (Role::Educator, Some(e)) = (role, scope) {
        bind_educator(&mut tx, user_id, e).await?;
    }
    insert_grant(
        &mut tx,
        &state.outbox,
        user_id,
        role,
        scope,
        Some(p.user_id),
    )
    .await?;
    let user = load_user(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::internal("user vanished"))?;
    tx.commit().await.map_err(db_error)?;
    Ok(user)
}

/// Serializes changes to one account (grants, activation, passwords), so
/// two operators cannot race past the separation-of-duties check.
pub(crate) async fn lock_user(conn: &mut PgConnection, user_id: Uuid) -> Result<(), AppError> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Takes a grant away. Whoever may grant a role may revoke it; the
/// account's tokens stop working at once (they carry the old grants), and a
/// revoked `educator` grant unbinds the login from the educator.
pub(crate) async fn revoke_role(
    state: State,
    ctx: RpcContext,
    req: pb::RevokeRoleRequest,
) -> Result<pb::User, AppError> {
    let p = ctx.principal()?;
    let user_id = path_id(&req.user_id, msg::USER_NOT_FOUND)?;
    let grant_id = path_id(&req.grant_id, msg::GRANT_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // The same account rule as granting: never one's own, never an account
    // holding roles outside the caller's scope.
    accounts::manageable(&mut tx, p, user_id).await?;
    let grant: Option<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT role, scope_id FROM role_grants WHERE id = $1 AND user_id = $2")
            .bind(grant_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    let (role_name, scope) = grant.ok_or_else(|| AppError::not_found(msg::GRANT_NOT_FOUND))?;
    let role = Role::parse(&role_name).ok_or_else(|| AppError::not_found(msg::GRANT_NOT_FOUND))?;
    let location = locate_scope(&mut tx, role, scope)
        .await?
        .unwrap_or(ScopeLocation::None);
    ensure(access::can_grant(p, role, location))?;
    sqlx::query("DELETE FROM role_grants WHERE id = $1")
        .bind(grant_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if role == Role::Educator {
        sqlx::query("UPDATE users SET educator_id = NULL WHERE id = $1 AND educator_id = $2")
            .bind(user_id)
            .bind(scope)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    let event = pb::RoleRevoked {
        user_id: user_id.to_string(),
        role: role_name.clone(),
        scope_id: opt_id(scope),
    };
    audit::account_changed(
        &mut tx,
        &state.outbox,
        Some(p.user_id),
        user_id,
        "role_revoked",
        &event,
        serde_json::json!({"role": role_name, "scope_id": opt_id(scope)}),
    )
    .await?;
    accounts::revoke_sessions(&mut tx, &state.outbox, &ctx, user_id, "role_revoked", false).await?;
    let user = load_user(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::internal("user vanished"))?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(%user_id, role = %role_name, "role revoked");
    Ok(user)
}

/// Logins issued per request.
const LOGIN_BATCH: usize = 100;

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rand::Rng::gen_range(&mut rand::thread_rng(), 0..alphabet.len())] as char)
        .collect()
}

/// A password handed out once (bulk logins, resets): 14 characters without
/// look-alikes, about 80 bits.
pub(crate) fn random_password() -> String {
    const PASSWORD: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
    random_string(PASSWORD, 14)
}

/// Issues a login for every educator of an organization who has none. The
/// passwords are returned once; only their hashes are kept.
pub(crate) async fn issue_educator_logins(
    state: State,
    ctx: RpcContext,
    req: pb::IssueEducatorLoginsRequest,
) -> Result<pb::IssuedLogins, AppError> {
    let p = ctx.principal()?;
    let org = path_id(&req.organization_id, msg::ORGANIZATION_NOT_FOUND)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let loc = org_location(&mut conn, org)
        .await?
        .ok_or_else(|| AppError::not_found(msg::ORGANIZATION_NOT_FOUND))?;
    ensure(access::can_manage_educators(p, &loc))?;
    let pending: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT e.id, e.last_name || ' ' || e.first_name FROM educators e
         WHERE e.organization_id = $1 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.educator_id = e.id)
         ORDER BY e.last_name, e.first_name",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    drop(conn);
    // Argon2id is deliberately slow: a bounded batch per call keeps the
    // request well inside its deadline; the caller repeats for the rest.
    let remaining = pending.len().saturating_sub(LOGIN_BATCH) as i64;
    let pending: Vec<(Uuid, String)> = pending.into_iter().take(LOGIN_BATCH).collect();
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let credentials: Vec<(Uuid, String, String, String)> = pending
        .into_iter()
        .map(|(id, name)| {
            (
                id,
                format!("u-{}", random_string(LOWER, 8)),
                random_password(),
                name,
            )
        })
        .collect();
    // Hash on both cores (two halves side by side): Argon2id is slow by design.
    let mut hashed = Vec::with_capacity(credentials.len());
    let half = credentials.len().div_ceil(2).max(1);
    let tasks: Vec<_> = credentials
        .chunks(half)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            argon2(move || {
                chunk
                    .into_iter()
                    .map(|(id, login, pw, name)| {
                        hash_password_blocking(&pw).map(|h| (id, login, pw, name, h))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        hashed.extend(t??);
    }
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let mut items = Vec::with_capacity(hashed.len());
    for (educator_id, login, password, name, hash) in hashed {
        insert_user(
            &mut tx,
            &state.outbox,
            &login,
            &hash,
            &name,
            Some(educator_id),
            Some(p.user_id),
        )
        .await?;
        items.push(pb::IssuedLogin {
            educator_id: educator_id.to_string(),
            login,
            password,
        });
    }
    tx.commit().await.map_err(db_error)?;
    tracing::info!(organization_id = %org, issued = items.len(), "educator logins issued");
    Ok(pb::IssuedLogins { items, remaining })
}

/// Creates a user with one role directly in the database: `pd admin
/// create-user` and the configured bootstrap admin.
pub async fn create_user_direct(
    pool: &PgPool,
    subject_prefix: &str,
    login: &str,
    password: &str,
    role: &str,
    scope: Option<Uuid>,
) -> anyhow::Result<Uuid> {
    let login = values::login(login).map_err(|m| anyhow::anyhow!("login: {m}"))?;
    values::password(password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
    let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
    let hash = hash_password(password.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let mut tx = pool.begin().await?;
    locate_scope(&mut tx, role, scope)
        .await
        .map_err(|e| anyhow::anyhow!("locating the scope: {}", e.detail))?
        .map_err(|m| anyhow::anyhow!("scope: {m}"))?;
    let outbox = Outbox::with_prefix(subject_prefix, crate::SERVICE);
    let educator = (role == Role::Educator).then_some(scope).flatten();
    let id = insert_user(&mut tx, &outbox, &login, &hash, &login, educator, None)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    if role != Role::Educator {
        insert_grant(&mut tx, &outbox, id, role, scope, None)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
    }
    tx.commit().await?;
    // The running identity's relay (of this process or another) publishes now.
    pd_bus::outbox::announce(pool).await;
    Ok(id)
}

/// Creates the configured first admin when no user exists yet.
pub(crate) async fn bootstrap_admin(
    pool: &PgPool,
    subject_prefix: &str,
    auth: &AuthSettings,
) -> anyhow::Result<()> {
    if auth.bootstrap_admin_login.is_empty() || auth.bootstrap_admin_password.is_empty() {
        return Ok(());
    }
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(pool)
        .await?;
    if !any {
        create_user_direct(
            pool,
            subject_prefix,
            &auth.bootstrap_admin_login,
            &auth.bootstrap_admin_password,
            "admin",
            None,
        )
        .await?;
        tracing::info!(login = %auth.bootstrap_admin_login, "bootstrap admin created");
    }
    Ok(())
}
