//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pd_proto::common::v1::Empty;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Anonymous, ApiError, ApiJson, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(me))
        .routes(routes!(logout))
        .routes(routes!(change_password))
}

/// Sign out: the refresh token, and every token rotated from the same
/// sign-in, stop working. Signing out twice is not an error.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = pb::LogoutRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "Malformed body", body = Problem),
    ))]
async fn logout(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    ApiJson(body): ApiJson<pb::LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    let _: Empty = s.send::<identity_ops::Logout>(&ctx, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change one's own password. Every other session ends; the answer is a new
/// token pair for this one.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = pb::ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed; new tokens", body = pb::TokenPair),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 422, description = "Wrong current password, or a weak or unchanged new one", body = Problem),
    ))]
async fn change_password(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::ChangePasswordRequest>,
) -> Result<Json<pb::TokenPair>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::ChangePassword>(&caller.ctx, &body)
            .await?,
    ))
}

/// Sign in with a login and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = pb::LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = pb::TokenPair),
        (status = 401, description = "Wrong login or password, or the account is deactivated", body = Problem),
        (status = 403, description = "A one-time password: sign in again with `new_password`", body = Problem),
        (status = 422, description = "The new password is too weak", body = Problem),
        (status = 429, description = "Too many attempts", body = Problem),
    ))]
async fn login(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    ApiJson(body): ApiJson<pb::LoginRequest>,
) -> Result<Json<pb::TokenPair>, ApiError> {
    s.check_login_rate(&body.login, ctx.client_ip.as_deref())?;
    Ok(Json(s.send::<identity_ops::Login>(&ctx, &body).await?))
}

/// Exchange a refresh token for a new pair (each refresh token works once).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = pb::RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = pb::TokenPair),
        (status = 401, description = "Invalid or used refresh token", body = Problem),
    ))]
async fn refresh(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    ApiJson(body): ApiJson<pb::RefreshRequest>,
) -> Result<Json<pb::TokenPair>, ApiError> {
    Ok(Json(s.send::<identity_ops::Refresh>(&ctx, &body).await?))
}

/// The signed-in user, their roles and, for an educator, their record.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = pb::Me),
        (status = 401, description = "Not signed in", body = Problem),
    ))]
async fn me(State(s): State<AppState>, caller: Caller) -> Result<Json<pb::Me>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::Me>(&caller.ctx, &Empty {}).await?,
    ))
}
