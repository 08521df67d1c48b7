//! The audit trail: every grant, revocation, account creation,
//! deactivation, password reset and change is kept with who did it and
//! when, in the same transaction as the change; the admin reads it.

use pd_bus::RpcContext;
use pd_bus::outbox::Outbox;
use pd_domain::AppError;
use pd_proto::identity::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{db_error, ensure, limit, offset, opt_id, ts};
use crate::domain::access;
use crate::{State, messages as msg};

/// The actions the trail records (the table's CHECK lists the same).
pub const ACTIONS: [&str; 8] = [
    "role_granted",
    "role_revoked",
    "user_created",
    "user_deactivated",
    "user_reactivated",
    "password_reset",
    "password_changed",
    "refresh_reuse_detected",
];

/// A change to an account that other services hear of: its event (type =
/// the trail's action) and its line in the trail, both in the caller's
/// transaction.
pub(crate) async fn account_changed<M: prost::Message>(
    conn: &mut PgConnection,
    outbox: &Outbox,
    actor: Option<Uuid>,
    user_id: Uuid,
    action: &str,
    event: &M,
    details: serde_json::Value,
) -> Result<(), AppError> {
    let by = actor.map_or_else(|| "system".to_owned(), |a| a.to_string());
    outbox
        .write(conn, action, &user_id.to_string(), &by, event)
        .await
        .map_err(db_error)?;
    record(conn, actor, action, user_id, details).await
}

pub(crate) async fn record(
    conn: &mut PgConnection,
    actor: Option<Uuid>,
    action: &str,
    user_id: Uuid,
    details: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO audit_log (id, actor_id, action, user_id, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(actor)
    .bind(action)
    .bind(user_id)
    .bind(details)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

type Row = (
    Uuid,
    chrono::DateTime<chrono::Utc>,
    Option<Uuid>,
    String,
    Uuid,
    serde_json::Value,
    i64,
);

/// Newest first, filtered by account and action.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListAuditRequest,
) -> Result<pb::AuditList, AppError> {
    let p = ctx.principal()?;
    ensure(access::can_read_audit(p))?;
    let user = pd_domain::request::optional_id("user_id", &req.user_id)?;
    let action = req.action.trim();
    if !action.is_empty() && !ACTIONS.contains(&action) {
        return Err(AppError::invalid("action", msg::AUDIT_ACTION));
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, actor_id, action, user_id, details, count(*) OVER ()
         FROM audit_log
         WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2 = '' OR action = $2)
         ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(user)
    .bind(action)
    .bind(limit(req.limit)?)
    .bind(offset(req.offset)?)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    let total = rows.first().map(|r| r.6).unwrap_or(0);
    Ok(pb::AuditList {
        items: rows
            .into_iter()
            .map(|(id, at, actor, action, user, details, _)| pb::AuditEntry {
                id: id.to_string(),
                at: ts(at),
                actor_id: opt_id(actor),
                action,
                user_id: user.to_string(),
                details: details.to_string(),
            })
            .collect(),
        total,
    })
}
