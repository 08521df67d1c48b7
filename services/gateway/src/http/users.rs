//! `/api/v1/users` and role grants.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user))
        .routes(routes!(grant_role))
        .routes(routes!(revoke_role))
        .routes(routes!(deactivate))
        .routes(routes!(reactivate))
        .routes(routes!(reset_password))
        .routes(routes!(list_audit))
}

/// Ends the sessions of `user_id` in this gateway at once; the other
/// gateways learn it from identity's `sessions_revoked` event.
fn revoke_here(s: &AppState, user_id: &str) {
    s.bus.apply_session_revocation(&pb::SessionsRevoked {
        user_id: user_id.to_owned(),
        not_before_ms: chrono::Utc::now().timestamp_millis(),
        reason: String::new(),
    });
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct UserQuery {
    /// Part of the login.
    login: String,
    /// Users holding this role.
    role: String,
    /// Users with a role in this organization or bound to one of its educators.
    organization_id: String,
    /// `active` (default), `inactive` or `all`.
    status: String,
    /// Page size, at most 500 (default 50).
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Users the caller may see: the accounts they created and those holding a
/// role inside their scope (admins: all).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "A page of users", body = pb::UserList),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an operator", body = Problem),
        (status = 422, description = "Unknown role or status", body = Problem),
    ))]
async fn list_users(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<pb::UserList>, ApiError> {
    let req = pb::ListUsersRequest {
        login: q.login,
        role: q.role,
        organization_id: q.organization_id,
        limit: q.limit,
        offset: q.offset,
        status: q.status,
    };
    Ok(Json(
        s.send::<identity_ops::ListUsers>(&caller.ctx, &req).await?,
    ))
}

/// One user with their roles.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = pb::User),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 404, description = "Unknown or outside the caller's scope", body = Problem),
    ))]
async fn get_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::User>, ApiError> {
    let req = pb::GetUserRequest { user_id: id };
    Ok(Json(
        s.send::<identity_ops::GetUser>(&caller.ctx, &req).await?,
    ))
}

/// Take a role away. The user's current tokens stop working at once (they
/// carry the old roles); signing in again gives the remaining ones.
#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{grant_id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"), ("grant_id" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The user with their remaining roles", body = pb::User),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not allowed to revoke this role", body = Problem),
        (status = 404, description = "Unknown user or grant", body = Problem),
    ))]
async fn revoke_role(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, grant_id)): Path<(String, String)>,
) -> Result<Json<pb::User>, ApiError> {
    let req = pb::RevokeRoleRequest {
        user_id: id.clone(),
        grant_id,
    };
    let user: pb::User = s
        .send::<identity_ops::RevokeRole>(&caller.ctx, &req)
        .await?;
    revoke_here(&s, &id);
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct Deactivation {
    /// Why (dismissal, leave, ...); kept in the audit trail. Up to 500 characters.
    #[schema(max_length = 500)]
    reason: String,
}

/// Deactivate an account: it cannot sign in and its tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = Deactivation,
    responses(
        (status = 200, description = "The deactivated user", body = pb::User),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "One's own account, or roles outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown user", body = Problem),
        (status = 422, description = "No reason given", body = Problem),
    ))]
async fn deactivate(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Deactivation>,
) -> Result<Json<pb::User>, ApiError> {
    let req = pb::SetUserActiveRequest {
        user_id: id.clone(),
        active: false,
        reason: body.reason,
    };
    let user: pb::User = s
        .send::<identity_ops::SetUserActive>(&caller.ctx, &req)
        .await?;
    revoke_here(&s, &id);
    Ok(Json(user))
}

/// Reactivate an account; the user signs in again.
#[utoipa::path(post, path = "/api/v1/users/{id}/reactivate", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The reactivated user", body = pb::User),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "One's own account, or roles outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown user", body = Problem),
    ))]
async fn reactivate(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::User>, ApiError> {
    let req = pb::SetUserActiveRequest {
        user_id: id,
        active: true,
        reason: String::new(),
    };
    Ok(Json(
        s.send::<identity_ops::SetUserActive>(&caller.ctx, &req)
            .await?,
    ))
}

/// Reset a user's password to a one-time password (shown once). It signs in
/// only together with a new password; the user's sessions end at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The one-time password", body = pb::PasswordReset),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "One's own account, or roles outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown user", body = Problem),
    ))]
async fn reset_password(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::PasswordReset>, ApiError> {
    let req = pb::ResetPasswordRequest {
        user_id: id.clone(),
    };
    let reset: pb::PasswordReset = s
        .send::<identity_ops::ResetPassword>(&caller.ctx, &req)
        .await?;
    revoke_here(&s, &id);
    Ok(Json(reset))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct AuditQuery {
    /// Entries about this user.
    user_id: String,
    /// role_granted, role_revoked, user_created, user_deactivated,
    /// user_reactivated, password_reset, password_changed, refresh_reuse_detected
    action: String,
    /// Page size, at most 500 (default 50).
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The audit trail of accounts (admins): who granted, revoked, deactivated,
/// reset what and when, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "users", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit entries", body = pb::AuditList),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
    ))]
async fn list_audit(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<pb::AuditList>, ApiError> {
    let req = pb::ListAuditRequest {
        user_id: q.user_id,
        action: q.action,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<identity_ops::ListAudit>(&caller.ctx, &req).await?,
    ))
}

/// Create a user (operators and admins). With `educator_id` the user is
/// that educator's login and gets the educator role.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = pb::CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = pb::User),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "Login taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn create_user(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateUserRequest>,
) -> Result<(StatusCode, Json<pb::User>), ApiError> {
    let u = s
        .send::<identity_ops::CreateUser>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct NewGrant {
    /// educator, org_operator, municipal_operator, regional_operator,
    /// ministry, expert, council_member, provider_admin, admin
    role: String,
    /// The organization, municipality, region, provider or educator the
    /// role applies to; empty for admin.
    scope_id: String,
}

/// Grant a role with its scope. Takes effect at the user's next sign-in or refresh.
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = NewGrant,
    responses(
        (status = 200, description = "The user with their roles", body = pb::User),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not allowed to grant this role here, or to this account", body = Problem),
        (status = 404, description = "Unknown user", body = Problem),
        (status = 409, description = "Educator already has an account, separation of duties, or the account is deactivated", body = Problem),
        (status = 422, description = "Unknown role or scope", body = Problem),
    ))]
async fn grant_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewGrant>,
) -> Result<Json<pb::User>, ApiError> {
    let req = pb::GrantRoleRequest {
        user_id: id,
        role: body.role,
        scope_id: body.scope_id,
    };
    Ok(Json(
        s.send::<identity_ops::GrantRole>(&caller.ctx, &req).await?,
    ))
}
