//! `/api/v1/council-sessions` and the public `/api/v1/catalog`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use pd_proto::ops::registry as registry_ops;
use pd_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::programs::OptionalJson;
use super::{Anonymous, ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, create_session))
        .routes(routes!(get_session))
        .routes(routes!(vote))
        .routes(routes!(close_session))
        .routes(routes!(cancel_session))
        .routes(routes!(get_protocol))
        .routes(routes!(protocol_page))
        .routes(routes!(approve_protocol))
        .routes(routes!(return_protocol))
        .routes(routes!(exclude_program))
        .routes(routes!(catalog))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct SessionBody {
    /// YYYY-MM-DD
    held_on: String,
    /// Users with the council_member role in the region.
    member_ids: Vec<String>,
    /// The chair, one of the members (may be named when closing instead).
    chair_id: String,
    /// The secretary, one of the members (may be named when closing instead).
    secretary_id: String,
}

/// Open a council session on every program that finished expert review:
/// those the experts passed and those they rejected, with their conclusions.
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
        chair_id: body.chair_id,
        secretary_id: body.secretary_id,
    };
    let r = s
        .send::<registry_ops::CreateSession>(&caller.ctx, &req)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct SessionQuery {
    /// open, closed, approved, cancelled
    status: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The council sessions of a campaign, in the order they were formed.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/council-sessions", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), SessionQuery),
    responses(
        (status = 200, description = "A page of sessions", body = pb::SessionList),
        (status = 403, description = "Not taking part in the review", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_sessions(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<Json<pb::SessionList>, ApiError> {
    let req = pb::ListSessionsRequest {
        campaign_id: id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<registry_ops::ListSessions>(&caller.ctx, &req)
            .await?,
    ))
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
        s.send::<registry_ops::GetSession>(&caller.ctx, &pb::SessionActionRequest { id })
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
    Ok(Json(s.send::<registry_ops::Vote>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CloseBody {
    /// Members present; by default the chair, the secretary and every member who voted.
    present_member_ids: Vec<String>,
    /// The chair, when not named as the session was formed (or another member).
    chair_id: String,
    /// The secretary, when not named as the session was formed (or another member).
    secretary_id: String,
}

/// Close the session: every program decided by majority of votes cast
/// (a tie is not a majority; the experts' rejection may be overturned so),
/// the numbered, dated protocol written with the attendance and each vote.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/close", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    request_body(content = CloseBody, description = "Optional"),
    responses(
        (status = 200, description = "The protocol", body = pb::Protocol),
        (status = 409, description = "A program lacks a quorum", body = Problem),
        (status = 422, description = "No chair or secretary, or a voter not marked present", body = Problem),
    ))]
async fn close_session(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CloseBody>,
) -> Result<Json<pb::Protocol>, ApiError> {
    let req = pb::CloseSessionRequest {
        id,
        present_member_ids: body.present_member_ids,
        chair_id: body.chair_id,
        secretary_id: body.secretary_id,
    };
    Ok(Json(
        s.send::<registry_ops::CloseSession>(&caller.ctx, &req)
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
        s.send::<registry_ops::CancelSession>(&caller.ctx, &pb::SessionActionRequest { id })
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
        s.send::<registry_ops::GetProtocol>(&caller.ctx, &pb::SessionActionRequest { id })
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
        .send::<registry_ops::GetProtocol>(&caller.ctx, &pb::SessionActionRequest { id })
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
        s.send::<registry_ops::ApproveProtocol>(&caller.ctx, &pb::SessionActionRequest { id })
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

/// The presidium (ministry) returns the protocol to the council with a
/// reason: the session is open again for the council to reconsider.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/return", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The session, open again", body = pb::CouncilSession),
        (status = 403, description = "Not the ministry", body = Problem),
        (status = 409, description = "No protocol awaiting approval, or outside the phases", body = Problem),
        (status = 422, description = "No reason", body = Problem),
    ))]
async fn return_protocol(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<pb::CouncilSession>, ApiError> {
    let req = pb::ReturnProtocolRequest {
        id,
        reason: body.reason,
    };
    Ok(Json(
        s.send::<registry_ops::ReturnProtocol>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ProgramExclusionBody {
    /// A program the council included.
    program_id: String,
    reason: String,
}

/// The presidium (ministry) excludes a program the council included, with
/// a reason: it stays out of the registry when the protocol is approved.
#[utoipa::path(post, path = "/api/v1/council-sessions/{id}/exclusions", tag = "council", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    request_body = ProgramExclusionBody,
    responses(
        (status = 200, description = "The protocol", body = pb::Protocol),
        (status = 403, description = "Not the ministry", body = Problem),
        (status = 409, description = "Not included by the council, excluded already, or no protocol awaiting approval", body = Problem),
        (status = 422, description = "Not on the protocol, or no reason", body = Problem),
    ))]
async fn exclude_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProgramExclusionBody>,
) -> Result<Json<pb::Protocol>, ApiError> {
    let req = pb::ExcludeProgramRequest {
        session_id: id,
        program_id: body.program_id,
        reason: body.reason,
    };
    Ok(Json(
        s.send::<registry_ops::ExcludeProgram>(&caller.ctx, &req)
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
    /// Programs for teachers of this subject (one of target_subjects).
    subject: String,
    /// Programs addressing this competence (one of competences).
    competence: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The published registry: approved programs by direction, their providers,
/// subjects, modules, competences, internship site, cost and group size,
/// and published groups. Public: no sign-in.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "catalog",
    params(CatalogQuery),
    responses(
        (status = 200, description = "A page of the registry", body = pb::Catalog),
        (status = 429, description = "Too many requests from this client", body = Problem),
    ))]
async fn catalog(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    ApiQuery(q): ApiQuery<CatalogQuery>,
) -> Result<Json<pb::Catalog>, ApiError> {
    s.check_public_rate(ctx.client_ip.as_deref())?;
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
        subject: q.subject,
        competence: q.competence,
    };
    Ok(Json(s.send::<registry_ops::Catalog>(&ctx, &req).await?))
}
