//! `/api/v1/users` and role grants.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::identity::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(grant_role))
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
        .call(&caller.ctx, "identity", "create_user", &body)
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
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
        (status = 403, description = "Not allowed to grant this role here", body = Problem),
        (status = 404, description = "Unknown user", body = Problem),
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
        s.call(&caller.ctx, "identity", "grant_role", &req).await?,
    ))
}
