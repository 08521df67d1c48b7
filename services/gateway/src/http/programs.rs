//! `/api/v1/programs`: drafting, submission, technical and content review,
//! and the groups of the schedule.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_programs, create_program))
        .routes(routes!(get_program, update_program))
        .routes(routes!(submit_program))
        .routes(routes!(withdraw_program))
        .routes(routes!(technical_review))
        .routes(routes!(reassign_expert))
        .routes(routes!(list_reviews))
        .routes(routes!(submit_review))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(update_group))
        .routes(routes!(cancel_group))
}

/// Draft a program (the provider's admin).
#[utoipa::path(post, path = "/api/v1/programs", tag = "programs", security(("bearer" = [])),
    request_body = pb::CreateProgramRequest,
    responses(
        (status = 201, description = "Created as a draft", body = pb::Program),
        (status = 403, description = "Not this provider's admin", body = Problem),
        (status = 422, description = "Invalid fields (e.g. module hours that do not add up)", body = Problem),
    ))]
async fn create_program(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateProgramRequest>,
) -> Result<(StatusCode, Json<pb::Program>), ApiError> {
    let p = s
        .call(&caller.ctx, "registry", "create_program", &body)
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ProgramQuery {
    campaign_id: String,
    provider_id: String,
    /// draft, submitted, returned, in_review, expert_rejected, reviewed,
    /// recommended, not_recommended, approved
    status: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Programs the caller may see.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs", security(("bearer" = [])),
    params(ProgramQuery),
    responses((status = 200, description = "A page of programs", body = pb::ProgramList)))]
async fn list_programs(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ProgramQuery>,
) -> Result<Json<pb::ProgramList>, ApiError> {
    let req = pb::ListProgramsRequest {
        campaign_id: q.campaign_id,
        provider_id: q.provider_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.call(&caller.ctx, "registry", "list_programs", &req)
            .await?,
    ))
}

/// One program with its technical checklist.
#[utoipa::path(get, path = "/api/v1/programs/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "The program", body = pb::Program),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn get_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Program>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "get_program",
            &pb::ProgramActionRequest { id },
        )
        .await?,
    ))
}

/// Replace a draft's or a returned program's fields.
#[utoipa::path(put, path = "/api/v1/programs/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = pb::ProgramFields,
    responses(
        (status = 200, description = "The program", body = pb::Program),
        (status = 409, description = "Not editable in its status", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<pb::ProgramFields>,
) -> Result<Json<pb::Program>, ApiError> {
    let req = pb::UpdateProgramRequest {
        id,
        fields: Some(body),
    };
    Ok(Json(
        s.call(&caller.ctx, "registry", "update_program", &req)
            .await?,
    ))
}

/// Submit (or resubmit after a return) during the submission phase.
#[utoipa::path(post, path = "/api/v1/programs/{id}/submit", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "Submitted", body = pb::Program),
        (status = 409, description = "Outside the submission phase (the problem names it and its dates) or wrong status", body = Problem),
    ))]
async fn submit_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Program>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "submit_program",
            &pb::ProgramActionRequest { id },
        )
        .await?,
    ))
}

/// Withdraw a submitted program before its review (back to draft).
#[utoipa::path(post, path = "/api/v1/programs/{id}/withdraw", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "Withdrawn", body = pb::Program),
        (status = 409, description = "Already under review", body = Problem),
    ))]
async fn withdraw_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Program>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "withdraw_program",
            &pb::ProgramActionRequest { id },
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct TechnicalDecision {
    /// accept | return
    decision: String,
    /// Required when returning.
    remarks: String,
}

/// The regional operator accepts a submitted program or returns it with remarks.
#[utoipa::path(post, path = "/api/v1/programs/{id}/technical-review", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = TechnicalDecision,
    responses(
        (status = 200, description = "Decided", body = pb::Program),
        (status = 409, description = "Not submitted, or outside the phases", body = Problem),
    ))]
async fn technical_review(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TechnicalDecision>,
) -> Result<Json<pb::Program>, ApiError> {
    let req = pb::TechnicalReviewRequest {
        program_id: id,
        decision: body.decision,
        remarks: body.remarks,
    };
    Ok(Json(
        s.call(&caller.ctx, "registry", "technical_review", &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct Reassignment {
    from_expert_id: String,
    to_expert_id: String,
}

/// Replace one of a program's experts (regional operator).
#[utoipa::path(post, path = "/api/v1/programs/{id}/expert-reassignment", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = Reassignment,
    responses(
        (status = 200, description = "All assignments of the campaign", body = pb::AssignmentList),
        (status = 422, description = "Not assigned, not an expert, or a conflict of interest", body = Problem),
    ))]
async fn reassign_expert(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reassignment>,
) -> Result<Json<pb::AssignmentList>, ApiError> {
    let req = pb::ReassignRequest {
        program_id: id,
        from_expert_id: body.from_expert_id,
        to_expert_id: body.to_expert_id,
    };
    Ok(Json(
        s.call(&caller.ctx, "registry", "reassign_expert", &req)
            .await?,
    ))
}

/// A program's expert reviews. Experts see the others' only after their own.
#[utoipa::path(get, path = "/api/v1/programs/{id}/reviews", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, description = "Reviews", body = pb::ReviewList)))]
async fn list_reviews(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::ReviewList>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "list_reviews",
            &pb::ProgramActionRequest { id },
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ReviewBody {
    scores: Vec<pb::Score>,
    /// include | exclude
    conclusion: String,
    comment: String,
}

/// An assigned expert scores every criterion and concludes.
#[utoipa::path(post, path = "/api/v1/programs/{id}/reviews", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "Submitted", body = pb::Review),
        (status = 403, description = "Not assigned", body = Problem),
        (status = 409, description = "Already submitted, or outside the phase", body = Problem),
        (status = 422, description = "Scores missing or out of range", body = Problem),
    ))]
async fn submit_review(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<(StatusCode, Json<pb::Review>), ApiError> {
    let req = pb::SubmitReviewRequest {
        program_id: id,
        scores: body.scores,
        conclusion: body.conclusion,
        comment: body.comment,
    };
    let r = s
        .call(&caller.ctx, "registry", "submit_review", &req)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Add a group to a registry program during the schedule phase (provider).
#[utoipa::path(post, path = "/api/v1/programs/{id}/groups", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = pb::GroupFields,
    responses(
        (status = 201, description = "Created as a draft", body = pb::Group),
        (status = 409, description = "Not a registry program, or outside the phase", body = Problem),
        (status = 422, description = "Invalid fields (dates, capacity, place)", body = Problem),
    ))]
async fn create_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<pb::GroupFields>,
) -> Result<(StatusCode, Json<pb::Group>), ApiError> {
    let req = pb::CreateGroupRequest {
        program_id: id,
        fields: Some(body),
    };
    let g = s
        .call(&caller.ctx, "registry", "create_group", &req)
        .await?;
    Ok((StatusCode::CREATED, Json(g)))
}

/// A program's groups.
#[utoipa::path(get, path = "/api/v1/programs/{id}/groups", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, description = "Groups", body = pb::GroupList)))]
async fn list_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::GroupList>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "list_groups",
            &pb::ListGroupsRequest { program_id: id },
        )
        .await?,
    ))
}

/// Change a group (its capacity, dates, place); a published group's change
/// is announced at once.
#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    request_body = pb::GroupFields,
    responses(
        (status = 200, description = "The group", body = pb::Group),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<pb::GroupFields>,
) -> Result<Json<pb::Group>, ApiError> {
    let req = pb::UpdateGroupRequest {
        id,
        fields: Some(body),
    };
    Ok(Json(
        s.call(&caller.ctx, "registry", "update_group", &req)
            .await?,
    ))
}

/// Cancel a group.
#[utoipa::path(post, path = "/api/v1/groups/{id}/cancel", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    responses((status = 200, description = "Cancelled", body = pb::Group)))]
async fn cancel_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Group>, ApiError> {
    Ok(Json(
        s.call(
            &caller.ctx,
            "registry",
            "cancel_group",
            &pb::GroupActionRequest { id },
        )
        .await?,
    ))
}
