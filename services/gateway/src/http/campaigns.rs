//! `/api/v1/campaigns`: the yearly cycle, its criteria and experts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::common::v1::IdRequest;
use pd_proto::ops::registry as registry_ops;
use pd_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign))
        .routes(routes!(set_criteria))
        .routes(routes!(add_expert))
        .routes(routes!(list_assignments, assign_experts))
        .routes(routes!(calendar_changes))
        .routes(routes!(approve_schedule))
}

/// Create a region's campaign for a year with its six dated phases
/// (ministry, admin). Phases follow the cycle and do not overlap.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body = pb::CreateCampaignRequest,
    responses(
        (status = 201, description = "Created", body = pb::Campaign),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "The region has a campaign this year", body = Problem),
        (status = 422, description = "Invalid fields (phases named by index)", body = Problem),
    ))]
async fn create_campaign(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateCampaignRequest>,
) -> Result<(StatusCode, Json<pb::Campaign>), ApiError> {
    let c = s
        .send::<registry_ops::CreateCampaign>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct CampaignQuery {
    region_id: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// A page of campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    params(CampaignQuery),
    responses((status = 200, description = "Campaigns", body = pb::CampaignList)))]
async fn list_campaigns(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CampaignQuery>,
) -> Result<Json<pb::CampaignList>, ApiError> {
    let req = pb::ListCampaignsRequest {
        region_id: q.region_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<registry_ops::ListCampaigns>(&caller.ctx, &req)
            .await?,
    ))
}

/// One campaign with its calendar, criteria, experts and the phase open now.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = pb::Campaign),
        (status = 404, description = "Unknown", body = Problem),
    ))]
async fn get_campaign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Campaign>, ApiError> {
    Ok(Json(
        s.send::<registry_ops::GetCampaign>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CampaignPatch {
    title: Option<String>,
    /// When given, all six phases, replacing the calendar.
    phases: Vec<pb::Phase>,
}

/// Change a campaign's title or calendar (ministry, admin). A change once
/// a phase has started is recorded; program submission never reopens once
/// the registry is published.
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = CampaignPatch,
    responses(
        (status = 200, description = "The campaign", body = pb::Campaign),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "Would reopen program submission after the registry was published", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_campaign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CampaignPatch>,
) -> Result<Json<pb::Campaign>, ApiError> {
    let req = pb::UpdateCampaignRequest {
        id,
        title: body.title,
        phases: body.phases,
    };
    Ok(Json(
        s.send::<registry_ops::UpdateCampaign>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CriteriaBody {
    criteria: Vec<pb::Criterion>,
    /// Mean weighted score (percent of the maximum) a program needs.
    pass_threshold_percent: f64,
}

/// Set the year's content-review criteria and the pass threshold (the
/// expert council's members, the ministry).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/criteria", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = CriteriaBody,
    responses(
        (status = 200, description = "The campaign", body = pb::Campaign),
        (status = 409, description = "Reviews already use the criteria", body = Problem),
        (status = 422, description = "Invalid criteria", body = Problem),
    ))]
async fn set_criteria(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CriteriaBody>,
) -> Result<Json<pb::Campaign>, ApiError> {
    let req = pb::SetCriteriaRequest {
        campaign_id: id,
        criteria: body.criteria,
        pass_threshold_percent: body.pass_threshold_percent,
    };
    Ok(Json(
        s.send::<registry_ops::SetCriteria>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ExpertBody {
    /// A user with the expert role in the campaign's region.
    user_id: String,
    /// Providers the expert is affiliated with (never assigned their programs).
    affiliated_provider_ids: Vec<String>,
}

/// Add an expert to the campaign's pool (ministry, regional operator).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/experts", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = ExpertBody,
    responses(
        (status = 200, description = "The campaign", body = pb::Campaign),
        (status = 422, description = "Not an expert of the region", body = Problem),
    ))]
async fn add_expert(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExpertBody>,
) -> Result<Json<pb::Campaign>, ApiError> {
    let req = pb::AddExpertRequest {
        campaign_id: id,
        user_id: body.user_id,
        affiliated_provider_ids: body.affiliated_provider_ids,
    };
    Ok(Json(
        s.send::<registry_ops::AddExpert>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct AssignBody {
    /// Experts per program, at least 2 (default from configuration).
    per_program: i32,
}

/// Assign experts to every program accepted by the technical review,
/// balanced by load and never affiliated with the program's provider.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/expert-assignments", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "All assignments of the campaign", body = pb::AssignmentList),
        (status = 409, description = "Outside the expert review phase, or too few experts", body = Problem),
    ))]
async fn assign_experts(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<pb::AssignmentList>, ApiError> {
    let req = pb::AssignExpertsRequest {
        campaign_id: id,
        per_program: body.per_program,
    };
    Ok(Json(
        s.send::<registry_ops::AssignExperts>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct AssignmentQuery {
    program_id: String,
    expert_id: String,
    /// assigned (not reviewed yet), submitted, declined, conflict_of_interest
    state: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The campaign's expert assignments with the review's progress: who
/// reviews what, who has not reviewed yet (`state=assigned`), who declined
/// (regional operator, ministry).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/expert-assignments", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), AssignmentQuery),
    responses(
        (status = 200, description = "A page of assignments and the campaign's totals", body = pb::AssignmentList),
        (status = 403, description = "Not running the review", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_assignments(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> Result<Json<pb::AssignmentList>, ApiError> {
    let req = pb::ListAssignmentsRequest {
        campaign_id: id,
        program_id: q.program_id,
        expert_id: q.expert_id,
        state: q.state,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<registry_ops::ListAssignments>(&caller.ctx, &req)
            .await?,
    ))
}

/// Changes of the calendar made once a phase had started: who, when, which
/// phases moved (regional operator, ministry).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/calendar-changes", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The changes, newest first", body = pb::CalendarChangeList),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
    ))]
async fn calendar_changes(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::CalendarChangeList>, ApiError> {
    Ok(Json(
        s.send::<registry_ops::ListCalendarChanges>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

/// Approve the schedule: every draft group of the campaign's registry
/// programs is published (regional operator).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/schedule/approve", tag = "schedule", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The groups published now", body = pb::GroupList),
        (status = 409, description = "Outside the schedule phase", body = Problem),
    ))]
async fn approve_schedule(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::GroupList>, ApiError> {
    let req = pb::ApproveScheduleRequest { campaign_id: id };
    Ok(Json(
        s.send::<registry_ops::ApproveSchedule>(&caller.ctx, &req)
            .await?,
    ))
}
