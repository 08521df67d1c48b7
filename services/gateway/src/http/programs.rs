//! `/api/v1/programs`: drafting, submission, technical and content review,
//! and the groups of the schedule.

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use pd_domain::{AppError, ErrorKind};
use pd_proto::common::v1::Empty;
use pd_proto::ops::registry as registry_ops;
use pd_proto::registry::v1 as pb;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_programs, create_program))
        .routes(routes!(get_program, update_program, delete_program))
        .routes(routes!(submit_program))
        .routes(routes!(withdraw_program))
        .routes(routes!(technical_review))
        .routes(routes!(technical_reviews))
        .routes(routes!(decline_review))
        .routes(routes!(reassign_expert))
        .routes(routes!(list_reviews))
        .routes(routes!(submit_review))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(update_group, delete_group))
        .routes(routes!(cancel_group))
        .routes(routes!(approve_cancellation))
        .routes(routes!(reject_cancellation))
}

/// A JSON body a client may leave out (these actions once took none): an
/// empty body is the defaults; anything else is read as `ApiJson` reads it.
pub(super) struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(AppError::new(
                    ErrorKind::PayloadTooLarge,
                    "тело запроса слишком велико",
                ))
            } else {
                ApiError(AppError::bad_request(e.body_text()))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json {
            return Err(ApiError(AppError::bad_request(
                "ожидается тело application/json (заголовок Content-Type)",
            )));
        }
        super::parse_json(&bytes).map(OptionalJson)
    }
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
        .send::<registry_ops::CreateProgram>(&caller.ctx, &body)
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
    /// recommended, not_recommended, approved, excluded
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
        s.send::<registry_ops::ListPrograms>(&caller.ctx, &req)
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
        s.send::<registry_ops::GetProgram>(&caller.ctx, &pb::ProgramActionRequest { id })
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
        s.send::<registry_ops::UpdateProgram>(&caller.ctx, &req)
            .await?,
    ))
}

/// Delete a draft (the provider's admin); submitted programs are kept.
#[utoipa::path(delete, path = "/api/v1/programs/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 409, description = "Not a draft", body = Problem),
    ))]
async fn delete_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let _: Empty = s
        .send::<registry_ops::DeleteProgram>(&caller.ctx, &pb::ProgramActionRequest { id })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit (or resubmit after a return) during the submission phase. A
/// returned program comes back changed.
#[utoipa::path(post, path = "/api/v1/programs/{id}/submit", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "Submitted", body = pb::Program),
        (status = 409, description = "Outside the submission phase (the problem names it and its dates), wrong status, or unchanged since its return", body = Problem),
    ))]
async fn submit_program(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Program>, ApiError> {
    Ok(Json(
        s.send::<registry_ops::SubmitProgram>(&caller.ctx, &pb::ProgramActionRequest { id })
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
        s.send::<registry_ops::WithdrawProgram>(&caller.ctx, &pb::ProgramActionRequest { id })
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
        s.send::<registry_ops::TechnicalReview>(&caller.ctx, &req)
            .await?,
    ))
}

/// A program's submissions and technical-review decisions, oldest first:
/// earlier remarks stay after a resubmission.
#[utoipa::path(get, path = "/api/v1/programs/{id}/technical-reviews", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "The history", body = pb::TechnicalReviewHistory),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn technical_reviews(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::TechnicalReviewHistory>, ApiError> {
    Ok(Json(
        s.send::<registry_ops::ListTechnicalReviews>(&caller.ctx, &pb::ProgramActionRequest { id })
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct DeclineBody {
    /// Why the expert will not review the program.
    reason: String,
    /// The expert is affiliated with the program's provider: never assigned
    /// its programs again.
    conflict_of_interest: bool,
}

/// An assigned expert declines a program, or declares a conflict of
/// interest, before submitting a review; the operator assigns another.
#[utoipa::path(post, path = "/api/v1/programs/{id}/expert-declines", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = DeclineBody,
    responses(
        (status = 200, description = "The declined assignment", body = pb::Assignment),
        (status = 403, description = "Not assigned to the program", body = Problem),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 409, description = "Review already submitted, or outside the expert review phase", body = Problem),
        (status = 422, description = "No reason", body = Problem),
    ))]
async fn decline_review(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeclineBody>,
) -> Result<Json<pb::Assignment>, ApiError> {
    let req = pb::DeclineReviewRequest {
        program_id: id,
        reason: body.reason,
        conflict_of_interest: body.conflict_of_interest,
    };
    Ok(Json(
        s.send::<registry_ops::DeclineReview>(&caller.ctx, &req)
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
        s.send::<registry_ops::ReassignExpert>(&caller.ctx, &req)
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
        s.send::<registry_ops::ListReviews>(&caller.ctx, &pb::ProgramActionRequest { id })
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
        .send::<registry_ops::SubmitReview>(&caller.ctx, &req)
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
        .send::<registry_ops::CreateGroup>(&caller.ctx, &req)
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
        s.send::<registry_ops::ListGroups>(&caller.ctx, &pb::ListGroupsRequest { program_id: id })
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
        (status = 409, description = "Cancelled, outside the schedule and application phases, or fewer seats in a published group while applications run (`reason=capacity_in_use`)", body = Problem),
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
        s.send::<registry_ops::UpdateGroup>(&caller.ctx, &req)
            .await?,
    ))
}

/// Delete an unpublished group (provider, regional operator); a published
/// group is cancelled instead.
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 409, description = "Published or cancelled", body = Problem),
    ))]
async fn delete_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let _: Empty = s
        .send::<registry_ops::DeleteGroup>(&caller.ctx, &pb::GroupActionRequest { id })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CancelBody {
    /// Required for a published group.
    reason: String,
}

/// Cancel a group. A draft goes at once; a published group needs a reason
/// and the regional operator's approval: a provider's cancellation waits
/// for it (`cancellation: requested`), the operator's own is approved as made.
#[utoipa::path(post, path = "/api/v1/groups/{id}/cancel", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    request_body(content = CancelBody, description = "Optional for a draft group"),
    responses(
        (status = 200, description = "Cancelled, or the cancellation requested", body = pb::Group),
        (status = 409, description = "Cancelled already, or a request is pending", body = Problem),
        (status = 422, description = "No reason for a published group", body = Problem),
    ))]
async fn cancel_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<pb::Group>, ApiError> {
    let req = pb::CancelGroupRequest {
        id,
        reason: body.reason,
    };
    Ok(Json(
        s.send::<registry_ops::CancelGroup>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CancellationDecisionBody {
    /// The operator's note; required to reject.
    note: String,
}

/// Approve a provider's request to cancel a published group (regional
/// operator): the group is cancelled and the change announced.
#[utoipa::path(post, path = "/api/v1/groups/{id}/cancellation/approve", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    request_body(content = CancellationDecisionBody, description = "Optional"),
    responses(
        (status = 200, description = "Cancelled", body = pb::Group),
        (status = 409, description = "No cancellation requested", body = Problem),
    ))]
async fn approve_cancellation(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancellationDecisionBody>,
) -> Result<Json<pb::Group>, ApiError> {
    let req = pb::GroupDecisionRequest {
        id,
        note: body.note,
    };
    Ok(Json(
        s.send::<registry_ops::ApproveGroupCancellation>(&caller.ctx, &req)
            .await?,
    ))
}

/// Reject a provider's request to cancel a published group, with a note
/// (regional operator): the group runs.
#[utoipa::path(post, path = "/api/v1/groups/{id}/cancellation/reject", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    request_body = CancellationDecisionBody,
    responses(
        (status = 200, description = "The group, cancellation rejected", body = pb::Group),
        (status = 409, description = "No cancellation requested", body = Problem),
        (status = 422, description = "No note", body = Problem),
    ))]
async fn reject_cancellation(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancellationDecisionBody>,
) -> Result<Json<pb::Group>, ApiError> {
    let req = pb::GroupDecisionRequest {
        id,
        note: body.note,
    };
    Ok(Json(
        s.send::<registry_ops::RejectGroupCancellation>(&caller.ctx, &req)
            .await?,
    ))
}
