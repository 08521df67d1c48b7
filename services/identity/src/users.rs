//! Users, role grants, bulk logins for educators and the first admin.

use pd_bus::RpcContext;
use pd_domain::roles::ScopeKind;
use pd_domain::{AppError, Role, error::Validator};
use pd_proto::identity::v1 as pb;
use pd_runtime::settings::AuthSettings;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use pd_bus::outbox::Outbox;

use crate::auth::{hash_password, hash_password_blocking};
use crate::db::{body_id, db_error, ensure, opt_id, org_location, path_id, ts};
use crate::domain::access::{self, ScopeLocation};
use crate::domain::values;
use crate::{State, educators, messages as msg};

type UserRow = (
    Uuid,
    String,
    String,
    Option<Uuid>,
    chrono::DateTime<chrono::Utc>,
);

pub(crate) async fn load_user(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<pb::User>, AppError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, login, display_name, educator_id, created_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some((id, login, display_name, educator_id, created_at)) = row else {
        return Ok(None);
    };
    let grants: Vec<(Uuid, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, role, scope_id FROM role_grants WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(Some(pb::User {
        id: id.to_string(),
        login,
        display_name,
        educator_id: opt_id(educator_id),
        grants: grants
            .into_iter()
            .map(|(id, role, scope)| pb::RoleGrant {
                id: id.to_string(),
                role,
                scope_id: opt_id(scope),
            })
            .collect(),
        created_at: ts(created_at),
    }))
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
    tx.commit().await.map_err(db_error)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    load_user(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::internal("user vanished"))
}

async fn insert_user(
    conn: &mut PgConnection,
    outbox: &Outbox,
    login: &str,
    hash: &str,
    display_name: &str,
    educator_id: Option<Uuid>,
    granted_by: Option<Uuid>,
) -> Result<Uuid, AppError> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, login, password_hash, display_name, educator_id) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(login)
        .bind(hash)
        .bind(display_name)
        .bind(educator_id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if let Some(e) = educator_id {
        insert_grant(conn, outbox, id, Role::Educator, Some(e), granted_by).await?;
    }
    Ok(id)
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
    let event = pb::RoleGranted {
        user_id: user_id.to_string(),
        role: role.as_str().to_owned(),
        scope_id: opt_id(scope),
    };
    let actor = granted_by
        .map(|g| g.to_string())
        .unwrap_or_else(|| "system".to_owned());
    outbox
        .write(conn, "role_granted", &user_id.to_string(), &actor, &event)
        .await
        .map_err(db_error)?;
    tracing::info!(%user_id, role = role.as_str(), "role granted");
    Ok(true)
}

/// Where the scope of a grant sits; `Err` names the problem.
async fn locate_scope(
    conn: &mut PgConnection,
    role: Role,
    scope: Option<Uuid>,
) -> Result<ScopeLocation, &'static str> {
    let found = |x: Option<ScopeLocation>| x.ok_or(msg::SCOPE_NOT_FOUND);
    let db = |_| msg::SCOPE_NOT_FOUND;
    match (role.scope_kind(), scope) {
        (ScopeKind::None, None) => Ok(ScopeLocation::None),
        (ScopeKind::None, Some(_)) => Err(msg::SCOPE_FORBIDDEN),
        (_, None) => Err(msg::SCOPE_REQUIRED),
        (ScopeKind::Region, Some(id)) => {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM regions WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
            found(exists.then_some(ScopeLocation::Region(id)))
        }
        (ScopeKind::Municipality, Some(id)) => {
            let r: Option<Uuid> =
                sqlx::query_scalar("SELECT region_id FROM municipalities WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
            found(r.map(|region_id| ScopeLocation::Municipality {
                municipality_id: id,
                region_id,
            }))
        }
        (ScopeKind::Organization, Some(id)) => found(
            org_location(conn, id)
                .await
                .map_err(|_| msg::SCOPE_NOT_FOUND)?
                .map(ScopeLocation::Organization),
        ),
        (ScopeKind::Provider, Some(id)) => {
            let r: Option<Uuid> =
                sqlx::query_scalar("SELECT region_id FROM providers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
            found(r.map(|region_id| ScopeLocation::Provider { region_id }))
        }
        (ScopeKind::Educator, Some(id)) => {
            let e = educators::load(conn, id)
                .await
                .map_err(|_| msg::SCOPE_NOT_FOUND)?;
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
    let location = locate_scope(&mut tx, role, scope)
        .await
        .map_err(|m| AppError::invalid("scope_id", m))?;
    // Whether the caller may grant this comes first, so that nobody learns
    // which user ids exist by trying.
    ensure(access::can_grant(p, role, location))?;
    if load_user(&mut tx, user_id).await?.is_none() {
        return Err(AppError::not_found(msg::USER_NOT_FOUND));
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

/// Logins issued per request.
const LOGIN_BATCH: usize = 100;

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rand::Rng::gen_range(&mut rand::thread_rng(), 0..alphabet.len())] as char)
        .collect()
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
    const PASSWORD: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
    let credentials: Vec<(Uuid, String, String, String)> = pending
        .into_iter()
        .map(|(id, name)| {
            (
                id,
                format!("u-{}", random_string(LOWER, 8)),
                random_string(PASSWORD, 14),
                name,
            )
        })
        .collect();
    // Hash on both cores: Argon2id is deliberately slow.
    let mut hashed = Vec::with_capacity(credentials.len());
    let half = credentials.len().div_ceil(2).max(1);
    let tasks: Vec<_> = credentials
        .chunks(half)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            tokio::task::spawn_blocking(move || {
                chunk
                    .into_iter()
                    .map(|(id, login, pw, name)| {
                        hash_password_blocking(&pw).map(|h| (id, login, pw, name, h))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    for t in tasks {
        hashed.extend(
            t.await
                .map_err(|e| pd_bus::rpc::internal("hashing task", e))??,
        );
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
