//! The allocation service: candidates and their lists
//! (`/api/v1/campaigns/{id}/candidates`, `…/candidate-lists`), funding and
//! quotas, the allocation run, unique numbers, the educator's own state,
//! refusals and freed places.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::allocation::v1 as pb;
use pd_proto::ops::allocation as ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_candidates))
        .routes(routes!(exclude_candidate, include_candidate))
        .routes(routes!(confirm_list))
        .routes(routes!(list_states))
        .routes(routes!(get_funding, set_funding))
        .routes(routes!(allocate))
        .routes(routes!(list_quotas))
        .routes(routes!(list_numbers))
        .routes(routes!(check_number))
        .routes(routes!(my_allocation))
        .routes(routes!(list_refusals, request_refusal))
        .routes(routes!(decide_refusal))
        .routes(routes!(list_free_places))
        .routes(routes!(reassign))
}

// ---------- candidates ----------

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct CandidateQuery {
    /// An organization of the region (default: the caller's own scope).
    organization_id: String,
    /// A municipality of the region (default: the caller's own scope).
    municipality_id: String,
    /// included | excluded (default: both)
    status: String,
    /// Only candidates without a unique number.
    unfunded_only: bool,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The campaign's candidates (educators due for PD) of an organization, a
/// municipality or the region, each with their place in the organization's
/// order and their unique number once funded (operators of the scope).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/candidates", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), CandidateQuery),
    responses(
        (status = 200, description = "A page of candidates", body = pb::CandidateList),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or unit, or another region's", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_candidates(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CandidateQuery>,
) -> Result<Json<pb::CandidateList>, ApiError> {
    let req = pb::ListCandidatesRequest {
        campaign_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        status: q.status,
        unfunded_only: q.unfunded_only,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<ops::ListCandidates>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CandidateExclusionBody {
    /// leave | dismissal | other
    reason: String,
    /// Required for `other`.
    note: String,
}

/// Exclude a candidate from the organization's list with a reason, before
/// the list is confirmed (the organization's operator; the regional
/// operator may stand in).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/candidates/{educator_id}/exclusion", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), ("educator_id" = String, Path, description = "Educator id")),
    request_body = CandidateExclusionBody,
    responses(
        (status = 200, description = "The candidate, excluded", body = pb::Candidate),
        (status = 403, description = "Not the organization's operator", body = Problem),
        (status = 404, description = "Not a candidate of the caller's scope", body = Problem),
        (status = 409, description = "The list is confirmed already", body = Problem),
        (status = 422, description = "Invalid reason or note", body = Problem),
    ))]
async fn exclude_candidate(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, educator_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CandidateExclusionBody>,
) -> Result<Json<pb::Candidate>, ApiError> {
    let req = pb::ExcludeCandidateRequest {
        campaign_id: id,
        educator_id,
        reason: body.reason,
        note: body.note,
    };
    Ok(Json(
        s.send::<ops::ExcludeCandidate>(&caller.ctx, &req).await?,
    ))
}

/// Put an excluded candidate back on the list, before it is confirmed.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/candidates/{educator_id}/exclusion", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), ("educator_id" = String, Path, description = "Educator id")),
    responses(
        (status = 200, description = "The candidate, included", body = pb::Candidate),
        (status = 403, description = "Not the organization's operator", body = Problem),
        (status = 404, description = "Not a candidate of the caller's scope", body = Problem),
        (status = 409, description = "The list is confirmed already", body = Problem),
    ))]
async fn include_candidate(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, educator_id)): Path<(String, String)>,
) -> Result<Json<pb::Candidate>, ApiError> {
    let req = pb::CandidateRequest {
        campaign_id: id,
        educator_id,
    };
    Ok(Json(
        s.send::<ops::IncludeCandidate>(&caller.ctx, &req).await?,
    ))
}

/// Confirm the organization's list as it stands: its included candidates
/// count for the quotas (the organization's operator).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/candidate-lists/{organization_id}/confirmation", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), ("organization_id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The list's state, confirmed", body = pb::ListState),
        (status = 403, description = "Not the organization's operator", body = Problem),
        (status = 404, description = "Unknown campaign or organization", body = Problem),
        (status = 409, description = "Confirmed already", body = Problem),
    ))]
async fn confirm_list(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, organization_id)): Path<(String, String)>,
) -> Result<Json<pb::ListState>, ApiError> {
    let req = pb::OrganizationListRequest {
        campaign_id: id,
        organization_id,
    };
    Ok(Json(s.send::<ops::ConfirmList>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ListStateQuery {
    /// A municipality of the region (default: the caller's own scope).
    municipality_id: String,
    /// confirmed | unconfirmed (default: both)
    state: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The state of every organization's list in the caller's scope:
/// confirmed or not, counts, exclusions by reason, with totals (municipal
/// and regional operators; an organization's operator sees their own).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/candidate-lists", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), ListStateQuery),
    responses(
        (status = 200, description = "A page of lists and the scope's totals", body = pb::ListStates),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or municipality", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_states(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListStateQuery>,
) -> Result<Json<pb::ListStates>, ApiError> {
    let req = pb::ListStatesRequest {
        campaign_id: id,
        municipality_id: q.municipality_id,
        state: q.state,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListStates>(&caller.ctx, &req).await?))
}

// ---------- funding and quotas ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct FundingBody {
    /// The budget, in kopecks.
    budget_kopecks: i64,
    /// Per educator (un_quota) or per hour (voucher_hours, cumulative_route), in kopecks.
    normative_cost_kopecks: i64,
    /// The region's reserve, 0–50 % of the funded places.
    reserve_percent: i32,
}

/// Set the campaign's budget, normative cost and reserve share until the
/// allocation run (the ministry).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/funding", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = FundingBody,
    responses(
        (status = 200, description = "The funding and the funded places it gives", body = pb::Funding),
        (status = 403, description = "Not the region's ministry", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 409, description = "Places are allocated already", body = Problem),
        (status = 422, description = "Invalid amounts", body = Problem),
    ))]
async fn set_funding(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FundingBody>,
) -> Result<Json<pb::Funding>, ApiError> {
    let req = pb::SetFundingRequest {
        campaign_id: id,
        budget_kopecks: body.budget_kopecks,
        normative_cost_kopecks: body.normative_cost_kopecks,
        reserve_percent: body.reserve_percent,
    };
    Ok(Json(s.send::<ops::SetFunding>(&caller.ctx, &req).await?))
}

/// The campaign's funding and how the funded places were computed
/// (operators of the region and the ministry).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/funding", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The funding", body = pb::Funding),
        (status = 403, description = "Not an operator of the region", body = Problem),
        (status = 404, description = "Unknown campaign, or no funding set", body = Problem),
    ))]
async fn get_funding(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Funding>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(s.send::<ops::GetFunding>(&caller.ctx, &req).await?))
}

/// Run the allocation once: quotas to municipalities and organizations by
/// the largest remainder over confirmed candidates, then a unique number
/// (or voucher) to each organization's first candidates in the published
/// order; the reserve waits for the regional operator (ministry, regional
/// operator).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/allocation", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "Allocated", body = pb::Allocation),
        (status = 403, description = "Not managing the region", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 409, description = "No funding set, or allocated already", body = Problem),
    ))]
async fn allocate(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<pb::Allocation>), ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    let a = s.send::<ops::Allocate>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct QuotaQuery {
    /// municipality (default) | organization
    level: String,
    /// Organizations of this municipality (default: the caller's own scope).
    municipality_id: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Quotas of municipalities, or of organizations in the caller's scope,
/// each with how it was computed: candidates, exact share, floor, the
/// remainder's rank and whether it got one more place.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/quotas", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), QuotaQuery),
    responses(
        (status = 200, description = "A page of quotas and the rule", body = pb::QuotaList),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 422, description = "Invalid level", body = Problem),
    ))]
async fn list_quotas(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<QuotaQuery>,
) -> Result<Json<pb::QuotaList>, ApiError> {
    let req = pb::ListQuotasRequest {
        campaign_id: id,
        level: q.level,
        municipality_id: q.municipality_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListQuotas>(&caller.ctx, &req).await?))
}

// ---------- unique numbers ----------

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct NumberQuery {
    organization_id: String,
    municipality_id: String,
    /// assigned | used | refused | reassigned | expired (default: all)
    status: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Every unique number of the caller's scope with its holder and status.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/unique-numbers", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), NumberQuery),
    responses(
        (status = 200, description = "A page of numbers", body = pb::NumberList),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or unit", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_numbers(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<NumberQuery>,
) -> Result<Json<pb::NumberList>, ApiError> {
    let req = pb::ListNumbersRequest {
        campaign_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListNumbers>(&caller.ctx, &req).await?))
}

/// Check a unique number as typed (case, spaces and dashes do not matter):
/// 422 with `reason: check_character` for a typo, the number and its status
/// when it is the caller's own or of their scope.
#[utoipa::path(get, path = "/api/v1/unique-numbers/{number}", tag = "allocation", security(("bearer" = [])),
    params(("number" = String, Path, description = "The number, e.g. 7KQ2-XM4P-0D9R-WT3F")),
    responses(
        (status = 200, description = "The number", body = pb::UniqueNumber),
        (status = 404, description = "Nobody's the caller may see", body = Problem),
        (status = 422, description = "Malformed, or a typo caught by the check character", body = Problem),
    ))]
async fn check_number(
    State(s): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<pb::UniqueNumber>, ApiError> {
    let req = pb::NumberRequest { number };
    Ok(Json(s.send::<ops::CheckNumber>(&caller.ctx, &req).await?))
}

/// The educator's own state in the campaign: due or not and why, their
/// unique number or voucher and its status, or their place in the
/// organization's order with the rule that ranked them.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/allocation/me", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The educator's state", body = pb::MyAllocation),
        (status = 403, description = "Not an educator", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
    ))]
async fn my_allocation(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::MyAllocation>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(s.send::<ops::MyAllocation>(&caller.ctx, &req).await?))
}

// ---------- refusals and freed places ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RefusalBody {
    reason: String,
    /// For an operator recording an educator's refusal (the organization's
    /// or the region's): whose. Approved as recorded. Empty for the
    /// educator's own.
    educator_id: String,
}

/// The educator refuses this year's PD for now (temporary refusal), with a
/// reason, and the organization's operator decides; or an operator who
/// decides for the educator's organization records it, approved at once.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/refusals", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = RefusalBody,
    responses(
        (status = 201, description = "Requested", body = pb::Refusal),
        (status = 403, description = "Not an educator, nor an operator deciding for the educator's organization", body = Problem),
        (status = 404, description = "Unknown campaign, or an educator outside the operator's scope", body = Problem),
        (status = 409, description = "No unique number, used already, a request is open, or the application phase is over (`reason=phase_over`)", body = Problem),
        (status = 422, description = "No reason", body = Problem),
    ))]
async fn request_refusal(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefusalBody>,
) -> Result<(StatusCode, Json<pb::Refusal>), ApiError> {
    let req = pb::RequestRefusalRequest {
        campaign_id: id,
        reason: body.reason,
        educator_id: body.educator_id,
    };
    let r = s.send::<ops::RequestRefusal>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct RefusalQuery {
    organization_id: String,
    municipality_id: String,
    /// requested | approved | rejected (default: all)
    status: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Refusals of the caller's scope.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/refusals", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), RefusalQuery),
    responses(
        (status = 200, description = "A page of refusals", body = pb::RefusalList),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or unit", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_refusals(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RefusalQuery>,
) -> Result<Json<pb::RefusalList>, ApiError> {
    let req = pb::ListRefusalsRequest {
        campaign_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListRefusals>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RefusalDecisionBody {
    approve: bool,
    /// Required when rejecting.
    note: String,
}

/// Approve a refusal (the number is released and its place freed for the
/// organization to reassign) or reject it with a note (the organization's
/// operator; the regional operator may stand in).
#[utoipa::path(post, path = "/api/v1/refusals/{id}/decision", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Refusal id")),
    request_body = RefusalDecisionBody,
    responses(
        (status = 200, description = "Decided", body = pb::Refusal),
        (status = 403, description = "Not the organization's operator", body = Problem),
        (status = 404, description = "Not a refusal of the caller's scope", body = Problem),
        (status = 409, description = "Decided already, or (approving) the application phase is over (`reason=phase_over`)", body = Problem),
        (status = 422, description = "A rejection without a note", body = Problem),
    ))]
async fn decide_refusal(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefusalDecisionBody>,
) -> Result<Json<pb::Refusal>, ApiError> {
    let req = pb::DecideRefusalRequest {
        id,
        approve: body.approve,
        note: body.note,
    };
    Ok(Json(s.send::<ops::DecideRefusal>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct PlaceQuery {
    organization_id: String,
    municipality_id: String,
    /// open | taken (default: both)
    status: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Freed places (and the region's reserve) of the caller's scope, with
/// whose turn it is to reassign each and until when.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/free-places", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), PlaceQuery),
    responses(
        (status = 200, description = "A page of places", body = pb::FreePlaceList),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or unit", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_free_places(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PlaceQuery>,
) -> Result<Json<pb::FreePlaceList>, ApiError> {
    let req = pb::ListFreePlacesRequest {
        campaign_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<ops::ListFreePlaces>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct AssignmentBody {
    /// A confirmed candidate without a number, of the organization,
    /// municipality or region whose turn it is.
    educator_id: String,
}

/// Give a free place to a confirmed candidate: a new unique number for
/// them. The organization's operator within the organization first; after
/// its window the municipal operator within the municipality; then the
/// regional operator anywhere in the region.
#[utoipa::path(post, path = "/api/v1/free-places/{id}/assignment", tag = "allocation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Free place id")),
    request_body = AssignmentBody,
    responses(
        (status = 201, description = "The new number", body = pb::UniqueNumber),
        (status = 403, description = "Not this level's turn, or not its operator", body = Problem),
        (status = 404, description = "Not a place of the caller's scope", body = Problem),
        (status = 409, description = "Taken already, the educator holds a number, or the application phase is over (`reason=phase_over`)", body = Problem),
        (status = 422, description = "Not a confirmed candidate of the place's unit", body = Problem),
    ))]
async fn reassign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignmentBody>,
) -> Result<(StatusCode, Json<pb::UniqueNumber>), ApiError> {
    let req = pb::ReassignRequest {
        place_id: id,
        educator_id: body.educator_id,
    };
    let n = s.send::<ops::Reassign>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(n)))
}
