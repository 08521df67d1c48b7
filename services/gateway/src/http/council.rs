//! `/api/v1/council-sessions` and the public `/api/v1/catalog`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use pd_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Anonymous, ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(get_session))
        .routes(routes!(vote))
        .routes(routes!(close_session))
        .routes(routes!(cancel_session))
        .routes(routes!(get_protocol))
        .routes(routes!(protocol_page))
        .routes(routes!(approve_protocol))
        .routes(routes!(catalog))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct SessionBody {
    /// YYYY-MM-DD
    held_on: String,
    /// Users with the council_member role in the region.
    member_ids: Vec<String>,
}

/// Open a council session on every program that passed the experts.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/council-sessions", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = SessionBody,
    responses(
        (status = 201, description = "The session and its agenda", body = pb::CouncilSession),
        (status = 409, description = "Nothing to decide, or outside the phase", body = Problem),
        (status = 422, description = "A member without a seat on the council", body = Problem),
    ))]
async fn create_session(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SessionBody>,
) -> Result<(StatusCode, Json<pb::CouncilSession>), ApiError> {
    let req = pb::CreateSessionRequest {
        campaign_id: id,
        held_on: body.held_on,
        member_ids: body.member_ids,
    };
    let r = s
        .call(&caller.ctx, "registry", "create_session", &req)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// A session.
#[utoipa::path(get, path = "/api/v1/council-sessions/{id}", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session", body = pb::CouncilSession)))]
async fn get_session(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::CouncilSession>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "get_session",
            &pb::SessionActionRequest { id },
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct VoteBody {
    program_id: String,
    /// for | against | abstain
    vote: String,
}

/// A member's vote on a program (may be changed until the session closes).
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/votes", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    request_body = VoteBody,
    responses(
        (status = 200, description = "Recorded", body = pb::CouncilSession),
        (status = 403, description = "No seat at this session", body = Problem),
        (status = 409, description = "Session closed", body = Problem),
    ))]
async fn vote(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VoteBody>,
) -> Result<Json<pb::CouncilSession>, ApiError> {
    let req = pb::VoteRequest {
        session_id: id,
        program_id: body.program_id,
        vote: body.vote,
    };
    Ok(Json(s.call(&caller.ctx, "registry", "vote", &req).await?))
}

/// Close the session: every program decided by majority of votes cast
/// (a tie is not a majority), the protocol written.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/close", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "The protocol", body = pb::Protocol),
        (status = 409, description = "A program lacks a quorum", body = Problem),
    ))]
async fn close_session(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Protocol>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "close_session",
            &pb::SessionActionRequest { id },
        )
        .await?,
    ))
}

/// Cancel an open session (e.g. without a quorum); its programs return to
/// the agenda of the next session.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/cancel", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Cancelled", body = pb::CouncilSession),
        (status = 409, description = "Not open", body = Problem),
    ))]
async fn cancel_session(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::CouncilSession>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "cancel_session",
            &pb::SessionActionRequest { id },
        )
        .await?,
    ))
}

/// The protocol as JSON.
#[utoipa::path(get, path = "/api/v1/council-sessions/{id}/protocol", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The protocol", body = pb::Protocol)))]
async fn get_protocol(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Protocol>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "get_protocol",
            &pb::SessionActionRequest { id },
        )
        .await?,
    ))
}

/// The protocol as a printable HTML page.
#[utoipa::path(get, path = "/api/v1/council-sessions/{id}/protocol.html", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The printable protocol", content_type = "text/html", body = String)))]
async fn protocol_page(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let p: pb::Protocol = s
        .call(
            &caller.ctx,
            "registry",
            "get_protocol",
            &pb::SessionActionRequest { id },
        )
        .await?;
    Ok(Html(p.html))
}

/// The presidium (ministry) approves the protocol; the registry is published.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/approve", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Approved", body = pb::Protocol),
        (status = 403, description = "Not the ministry", body = Problem),
        (status = 409, description = "Not closed yet, or approved already", body = Problem),
    ))]
async fn approve_protocol(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Protocol>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "approve_protocol",
            &pb::SessionActionRequest { id },
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct CatalogQuery {
    campaign_id: String,
    direction: String,
    /// full_time | distance | blended
    form: String,
    /// ordinary | internship | cumulative
    kind: String,
    provider_id: String,
    /// Programs with a published group in this municipality.
    municipality_id: String,
    /// Words of the title, topic or annotation.
    text: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The published registry: approved programs by direction, their providers
/// and published groups. Public: no sign-in.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "catalog",
    params(CatalogQuery),
    responses((status = 200, description = "A page of the registry", body = pb::Catalog)))]
async fn catalog(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    ApiQuery(q): ApiQuery<CatalogQuery>,
) -> Result<Json<pb::Catalog>, ApiError> {
    let req = pb::CatalogRequest {
        campaign_id: q.campaign_id,
        direction: q.direction,
        form: q.form,
        kind: q.kind,
        provider_id: q.provider_id,
        municipality_id: q.municipality_id,
        text: q.text,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.call(&ctx, "registry", "catalog", &req).await?))
}
