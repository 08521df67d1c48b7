//! The enrollment service: applying with a unique number
//! (`/api/v1/applications`), withdrawing, the educator's own applications,
//! a group's seats, the operators' lists and counts (JSON or CSV), and
//! group formation at the window's close (rosters, merges, CSV rosters),
//! and the cumulative model's individual routes and school teams.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pd_domain::AppError;
use pd_proto::enrollment::v1 as pb;
use pd_proto::ops::enrollment as ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem, csv_cell};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(get_application))
        .routes(routes!(withdraw))
        .routes(routes!(my_applications))
        .routes(routes!(list_applications))
        .routes(routes!(summary))
        .routes(routes!(availability))
        .routes(routes!(program_availability))
        .routes(routes!(form_groups, get_formation))
        .routes(routes!(list_rosters))
        .routes(routes!(get_roster))
        .routes(routes!(merge_group))
        .routes(routes!(apply_route))
        .routes(routes!(submit_team))
        .routes(routes!(get_team))
        .routes(routes!(decide_team))
        .routes(routes!(list_teams))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ApplyBody {
    group_id: String,
    /// The unique number, e.g. `7KQ2-XM4P-0D9R-WT3F` (case, spaces and dashes do not matter).
    unique_number: String,
    /// When the group is full: join its waitlist instead of being refused.
    join_waitlist: bool,
    /// Operators only: the educator (of their scope) to apply for.
    educator_id: String,
    /// When `group_id` is full: groups (of any program of the campaign) to
    /// take a seat in instead, in this order, at most 9. Full, cancelled and
    /// formed groups are passed over, and those a voucher cannot pay for;
    /// when every group is, the answer is `group_id`'s.
    fallback_group_ids: Vec<String>,
}

/// Apply to a group with a unique number, in the application phase. The
/// seat is taken with the application; a full group answers 409
/// (`reason=group_full`, `alternative_groups` naming the program's groups
/// with seats) unless `join_waitlist`, which answers the waitlist position.
/// With `fallback_group_ids`, a full group is followed by the first of them
/// with a seat (the application names the group it got); a fallback that is
/// no group of the campaign is a 422 naming it in `group_id`, before
/// anything is tried. Send an `Idempotency-Key`: a
/// retry with the same key and body gets the same answer and never a
/// second application.
#[utoipa::path(post, path = "/api/v1/applications", tag = "enrollment", security(("bearer" = [])),
    request_body = ApplyBody,
    responses(
        (status = 201, description = "The application: enrolled, or waitlisted with its position", body = pb::Application),
        (status = 403, description = "Not an operator of the educator's scope", body = Problem),
        (status = 404, description = "Unknown group", body = Problem),
        (status = 409, description = "Outside the application phase, group full (reason=group_full) or cancelled, number released or already used", body = Problem),
        (status = 422, description = "Malformed or unknown unique number, group of another campaign, more than 9, repeated or unknown fallback groups, the same key with another body", body = Problem),
        (status = 429, description = "Too many requests from this client", body = Problem),
        (status = 503, description = "Overloaded: retry after the Retry-After seconds", body = Problem),
    ))]
async fn apply(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ApplyBody>,
) -> Result<(StatusCode, Json<pb::Application>), ApiError> {
    let req = pb::ApplyRequest {
        group_id: body.group_id,
        unique_number: body.unique_number,
        join_waitlist: body.join_waitlist,
        educator_id: body.educator_id,
        fallback_group_ids: body.fallback_group_ids,
    };
    let a = s.send::<ops::Apply>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// One application (its educator, operators of their scope).
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = pb::Application),
        (status = 404, description = "Unknown, or not the caller's to see", body = Problem),
    ))]
async fn get_application(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Application>, ApiError> {
    let req = pb::ApplicationRequest { id };
    Ok(Json(
        s.send::<ops::GetApplication>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct WithdrawalBody {
    /// illness | work | family | schedule | other
    reason: String,
    /// Required for `other`.
    note: String,
}

/// Withdraw an application with a reason, in the application phase (its
/// educator, or an operator of their scope). The freed seat goes to the
/// head of the group's waitlist at once.
#[utoipa::path(post, path = "/api/v1/applications/{id}/withdrawal", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    request_body = WithdrawalBody,
    responses(
        (status = 200, description = "The application, withdrawn", body = pb::Application),
        (status = 404, description = "Unknown, or not the caller's", body = Problem),
        (status = 409, description = "Withdrawn already, or outside the application phase", body = Problem),
        (status = 422, description = "Invalid reason or note", body = Problem),
    ))]
async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WithdrawalBody>,
) -> Result<Json<pb::Application>, ApiError> {
    let req = pb::WithdrawRequest {
        id,
        reason: body.reason,
        note: body.note,
    };
    Ok(Json(s.send::<ops::Withdraw>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct MineQuery {
    /// One campaign only.
    campaign_id: String,
}

/// The caller's own applications, newest first, with their status and
/// waitlist position (educators).
#[utoipa::path(get, path = "/api/v1/me/applications", tag = "enrollment", security(("bearer" = [])),
    params(MineQuery),
    responses(
        (status = 200, description = "The caller's applications", body = pb::ApplicationList),
        (status = 422, description = "Invalid campaign id", body = Problem),
    ))]
async fn my_applications(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MineQuery>,
) -> Result<Json<pb::ApplicationList>, ApiError> {
    let req = pb::MyApplicationsRequest {
        campaign_id: q.campaign_id,
    };
    Ok(Json(
        s.send::<ops::MyApplications>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ListQuery {
    /// An organization of the region (default: the caller's own scope).
    organization_id: String,
    /// A municipality of the region (default: the caller's own scope).
    municipality_id: String,
    group_id: String,
    /// enrolled | waitlisted | withdrawn | rejected
    status: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
    /// json (default) | csv
    format: String,
}

fn wants_csv(format: &str) -> Result<bool, ApiError> {
    match format {
        "" | "json" => Ok(false),
        "csv" => Ok(true),
        _ => Err(ApiError(AppError::invalid(
            "format",
            "допустимые значения: json, csv",
        ))),
    }
}

fn csv_response(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A campaign's applications in the caller's scope (operators), oldest
/// first, with status, waitlist position and withdrawal reason.
/// `format=csv` answers a `;`-separated file (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/applications", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), ListQuery),
    responses(
        (status = 200, description = "A page of applications, as JSON or (`format=csv`) as a CSV attachment",
            headers(("Content-Disposition" = String, description = "CSV only: attachment; filename=\"applications.csv\"")),
            content(
                (pb::ApplicationList = "application/json"),
                (String = "text/csv"),
            )),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or unit", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_applications(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q.format)?;
    let req = pb::ListApplicationsRequest {
        campaign_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        group_id: q.group_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    let list = s.send::<ops::ListApplications>(&caller.ctx, &req).await?;
    if !csv {
        return Ok(Json(list).into_response());
    }
    let mut out = String::from(
        "\u{FEFF}id;educator;organization_id;municipality_id;program;group_id;starts_on;status;waitlist_position;reason;note;filed_by;submitted_at\n",
    );
    for a in &list.items {
        let cells = [
            a.id.clone(),
            csv_cell(&a.educator_name),
            a.organization_id.clone(),
            a.municipality_id.clone(),
            csv_cell(&a.program_title),
            a.group_id.clone(),
            a.group_starts_on.clone(),
            a.status.clone(),
            a.waitlist_position.to_string(),
            a.reason.clone(),
            csv_cell(&a.note),
            a.filed_by.clone(),
            a.submitted_at.clone(),
        ];
        out.push_str(&cells.join(";"));
        out.push('\n');
    }
    Ok(csv_response("applications", out))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct SummaryQuery {
    /// organization (default) | municipality
    by: String,
    /// One municipality of the region (default: the caller's scope).
    municipality_id: String,
    /// json (default) | csv
    format: String,
    /// IANA zone the per-day counts are in (default Europe/Moscow).
    time_zone: String,
}

/// Counts of a campaign's applications by status, with the reasons of
/// withdrawals and rejections, per organization or municipality of the
/// caller's scope. `format=csv` answers a `;`-separated file.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/applications/summary", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), SummaryQuery),
    responses(
        (status = 200, description = "The counts, as JSON or (`format=csv`) as a CSV attachment",
            headers(("Content-Disposition" = String, description = "CSV only: attachment; filename=\"applications-<by>.csv\"")),
            content(
                (pb::Summary = "application/json"),
                (String = "text/csv"),
            )),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign or municipality", body = Problem),
        (status = 422, description = "Invalid `by`, `format` or `time_zone`", body = Problem),
    ))]
async fn summary(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q.format)?;
    let req = pb::SummaryRequest {
        campaign_id: id,
        by: q.by,
        municipality_id: q.municipality_id,
        time_zone: q.time_zone,
    };
    let sum = s.send::<ops::Summary>(&caller.ctx, &req).await?;
    if !csv {
        return Ok(Json(sum).into_response());
    }
    let mut out =
        String::from("\u{FEFF}unit_id;unit_name;enrolled;waitlisted;withdrawn;rejected;reasons\n");
    for r in &sum.rows {
        out.push_str(&format!(
            "{};{};{};{};{};{};{}\n",
            r.unit_id,
            csv_cell(&r.unit_name),
            r.enrolled,
            r.waitlisted,
            r.withdrawn,
            r.rejected,
            csv_cell(&r.reasons.join(", "))
        ));
    }
    Ok(csv_response(&format!("applications-{}", sum.by), out))
}

/// A group's seats left and waitlist length, with the program's other
/// groups that still have seats. Polled by screens, it runs only with
/// slots to spare (503 with `Retry-After: 5` at the window's peak).
#[utoipa::path(get, path = "/api/v1/groups/{id}/availability", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id")),
    responses(
        (status = 200, description = "Seats and alternatives", body = pb::Availability),
        (status = 404, description = "Unknown group", body = Problem),
        (status = 503, description = "Busy with applications: retry after the Retry-After seconds", body = Problem),
    ))]
async fn availability(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Availability>, ApiError> {
    let req = pb::GroupRequest { id };
    Ok(Json(s.send::<ops::Availability>(&caller.ctx, &req).await?))
}

/// A program's groups with their seats left and waitlist lengths, earliest
/// first: what a program screen reads every few seconds while the window
/// is open, one read for all its groups. Like the group's, this read runs
/// only with slots to spare (503 with `Retry-After: 5` at the window's
/// peak: keep the last figure and come back then).
#[utoipa::path(get, path = "/api/v1/programs/{id}/availability", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses(
        (status = 200, description = "The program's groups and their seats", body = pb::ProgramSeats),
        (status = 404, description = "Unknown program, or one without groups", body = Problem),
        (status = 503, description = "Busy with applications: retry after the Retry-After seconds", body = Problem),
    ))]
async fn program_availability(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::ProgramSeats>, ApiError> {
    let req = pb::ProgramRequest { id };
    Ok(Json(
        s.send::<ops::ProgramAvailability>(&caller.ctx, &req)
            .await?,
    ))
}

/// Form the campaign's groups now that its application phase has closed
/// (the regional operator; the service also does it by itself shortly
/// after the close): rosters are fixed, applications still waitlisted are
/// rejected (`window_closed`), groups under their minimum size are listed
/// as `under_min`. Forming again changes nothing.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/formation", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The formation's counts", body = pb::Formation),
        (status = 403, description = "Not the region's operator", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 409, description = "The application phase has not closed (reason=phase_not_closed)", body = Problem),
    ))]
async fn form_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Formation>, ApiError> {
    let req = pb::FormationRequest { campaign_id: id };
    Ok(Json(s.send::<ops::FormGroups>(&caller.ctx, &req).await?))
}

/// Where the formation of the campaign's groups stands: groups formed,
/// under their minimum, merged, cancelled (the regional operator, the ministry).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/formation", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The formation's counts", body = pb::Formation),
        (status = 403, description = "Not the region's operator", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 409, description = "Not formed yet: the window is still open (reason=not_formed)", body = Problem),
    ))]
async fn get_formation(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Formation>, ApiError> {
    let req = pb::FormationRequest { campaign_id: id };
    Ok(Json(s.send::<ops::GetFormation>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct RostersQuery {
    /// open | formed | under_min | merged | cancelled
    roster: String,
    /// One provider's groups (providers see only their own).
    provider_id: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
    /// json (default) | csv
    format: String,
}

/// A campaign's groups with their roster state and counts, without the
/// members: `roster=under_min` lists the groups the regional operator is
/// to cancel or merge; a provider sees its own groups.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/rosters", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), RostersQuery),
    responses(
        (status = 200, description = "A page of rosters, as JSON or (`format=csv`) as a CSV attachment",
            headers(("Content-Disposition" = String, description = "CSV only: attachment; filename=\"rosters.csv\"")),
            content(
                (pb::RosterList = "application/json"),
                (String = "text/csv"),
            )),
        (status = 403, description = "Neither the region's operator nor a provider", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_rosters(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RostersQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q.format)?;
    let req = pb::ListRostersRequest {
        campaign_id: id,
        roster: q.roster,
        provider_id: q.provider_id,
        limit: q.limit,
        offset: q.offset,
    };
    let list = s.send::<ops::ListRosters>(&caller.ctx, &req).await?;
    if !csv {
        return Ok(Json(list).into_response());
    }
    let mut out = String::from(
        "\u{FEFF}group_id;program;provider;starts_on;ends_on;capacity;min_size;enrolled;roster;merged_into\n",
    );
    for r in &list.items {
        let g = r.group.clone().unwrap_or_default();
        let cells = [
            g.group_id,
            csv_cell(&g.program_title),
            csv_cell(&r.provider_name),
            g.starts_on,
            g.ends_on,
            g.capacity.to_string(),
            r.min_size.to_string(),
            r.enrolled.to_string(),
            r.roster.clone(),
            r.merged_into.clone(),
        ];
        out.push_str(&cells.join(";"));
        out.push('\n');
    }
    Ok(csv_response("rosters", out))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct RosterQuery {
    /// json (default) | csv
    format: String,
}

/// A group's roster with its learners (the group's provider, the regional
/// operator): final once `roster` is `formed`. `format=csv` answers a
/// `;`-separated file.
#[utoipa::path(get, path = "/api/v1/groups/{id}/roster", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id"), RosterQuery),
    responses(
        (status = 200, description = "The roster, as JSON or (`format=csv`) as a CSV attachment",
            headers(("Content-Disposition" = String, description = "CSV only: attachment; filename=\"roster-<group>.csv\"")),
            content(
                (pb::GroupRoster = "application/json"),
                (String = "text/csv"),
            )),
        (status = 404, description = "Unknown group, or not the caller's", body = Problem),
        (status = 422, description = "Invalid format", body = Problem),
    ))]
async fn get_roster(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RosterQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q.format)?;
    let req = pb::GroupRequest { id };
    let r = s.send::<ops::GetRoster>(&caller.ctx, &req).await?;
    if !csv {
        return Ok(Json(r).into_response());
    }
    // The educator's and the group's ids close each line: a provider's
    // completions name the learner by them.
    let mut out = String::from(
        "\u{FEFF}n;educator;organization;municipality;application_id;moved_from_group_id;educator_id;group_id\n",
    );
    let group = r
        .group
        .as_ref()
        .map(|g| g.group_id.clone())
        .unwrap_or_default();
    for (i, m) in r.members.iter().enumerate() {
        let cells = [
            (i + 1).to_string(),
            csv_cell(&m.educator_name),
            csv_cell(&m.organization_name),
            csv_cell(&m.municipality_name),
            m.application_id.clone(),
            m.moved_from_group_id.clone(),
            m.educator_id.clone(),
            group.clone(),
        ];
        out.push_str(&cells.join(";"));
        out.push('\n');
    }
    Ok(csv_response(&format!("roster-{group}"), out))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct MergeBody {
    /// A formed or under-minimum group of the same program with room for the learners.
    into_group_id: String,
}

/// Merge a group that stayed under its minimum size into another group of
/// its program (the regional operator, after formation): its learners
/// move with their applications (each gets an `application_moved`
/// notification) and both rosters are fixed again. To cancel the group
/// instead, cancel it in the registry (`POST /api/v1/groups/{id}/cancel`).
#[utoipa::path(post, path = "/api/v1/groups/{id}/merge", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "The under-minimum group")),
    request_body = MergeBody,
    responses(
        (status = 200, description = "The roster of the group the learners joined", body = pb::GroupRoster),
        (status = 403, description = "Not the region's operator", body = Problem),
        (status = 404, description = "Unknown group", body = Problem),
        (status = 409, description = "Not formed yet, not under its minimum, target closed or without room (reason=not_enough_seats)", body = Problem),
        (status = 422, description = "Target of another program, unknown or the same group", body = Problem),
    ))]
async fn merge_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<pb::GroupRoster>, ApiError> {
    let req = pb::MergeGroupRequest {
        id,
        into_group_id: body.into_group_id,
    };
    Ok(Json(s.send::<ops::MergeGroup>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RouteBody {
    /// A group of a cumulative program running at most 6 months.
    group_id: String,
    /// Names of the program's modules making the route.
    modules: Vec<String>,
    /// When the group is full: join its waitlist instead of being refused.
    join_waitlist: bool,
    /// Operators only: the educator (of their scope) to apply for.
    educator_id: String,
}

/// Apply with an individual educational route (`cumulative_route`): the
/// chosen modules of a cumulative program's group, their hours drawn from
/// the organization's plan-order with the seat. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/routes", tag = "enrollment", security(("bearer" = [])),
    request_body = RouteBody,
    responses(
        (status = 201, description = "The route's application: enrolled, or waitlisted", body = pb::Application),
        (status = 403, description = "Not an operator of the educator's scope", body = Problem),
        (status = 404, description = "Unknown group", body = Problem),
        (status = 409, description = "Outside the application phase, group full or cancelled, plan-order hours exhausted (reason=hours_exhausted), applied already", body = Problem),
        (status = 422, description = "Not a cumulative program, unknown or repeated module, longer than 6 months", body = Problem),
        (status = 429, description = "Too many requests from this client", body = Problem),
        (status = 503, description = "Overloaded: retry after the Retry-After seconds", body = Problem),
    ))]
async fn apply_route(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RouteBody>,
) -> Result<(StatusCode, Json<pb::Application>), ApiError> {
    let req = pb::RouteRequest {
        group_id: body.group_id,
        modules: body.modules,
        join_waitlist: body.join_waitlist,
        educator_id: body.educator_id,
    };
    let a = s.send::<ops::ApplyRoute>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct TeamBody {
    /// A group of a cumulative program.
    group_id: String,
    /// Educators of one organization (2 to 100).
    member_ids: Vec<String>,
    /// What the team is to achieve (the organization's development goals).
    goals: String,
    /// The format of the team's final work.
    final_work_format: String,
    /// The route's modules; empty: the whole program.
    modules: Vec<String>,
}

/// Submit a school team's application (the organization's operator): the
/// group's provider accepts or rejects it.
#[utoipa::path(post, path = "/api/v1/teams", tag = "enrollment", security(("bearer" = [])),
    request_body = TeamBody,
    responses(
        (status = 201, description = "The team's application, submitted", body = pb::Team),
        (status = 403, description = "Not an operator of the members' organization", body = Problem),
        (status = 404, description = "Unknown group", body = Problem),
        (status = 409, description = "Outside the application phase, group cancelled", body = Problem),
        (status = 422, description = "Invalid members, goals, format or modules", body = Problem),
    ))]
async fn submit_team(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<pb::Team>), ApiError> {
    let req = pb::TeamRequest {
        group_id: body.group_id,
        member_ids: body.member_ids,
        goals: body.goals,
        final_work_format: body.final_work_format,
        modules: body.modules,
    };
    let t = s.send::<ops::SubmitTeam>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// One team's application (its organization's operators, the group's
/// provider, the region's operator).
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team application id")),
    responses(
        (status = 200, description = "The team's application", body = pb::Team),
        (status = 404, description = "Unknown, or not the caller's to see", body = Problem),
    ))]
async fn get_team(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Team>, ApiError> {
    let req = pb::TeamIdRequest { id };
    Ok(Json(s.send::<ops::GetTeam>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct TeamDecisionBody {
    /// accept | reject
    decision: String,
    /// To reject: hours_exhausted | unclear_goals | goals_differ | other
    reason: String,
    /// Required with `other`.
    note: String,
}

/// The group's provider accepts a team (every member enrolled, the hours
/// drawn from the organization's plan-order) or rejects it with a reason.
#[utoipa::path(post, path = "/api/v1/teams/{id}/decision", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team application id")),
    request_body = TeamDecisionBody,
    responses(
        (status = 200, description = "The team's application, accepted or rejected", body = pb::Team),
        (status = 403, description = "Not the group's provider", body = Problem),
        (status = 404, description = "Unknown team application", body = Problem),
        (status = 409, description = "Decided already, outside the application phase, not enough seats or plan-order hours", body = Problem),
        (status = 422, description = "Invalid decision or reason", body = Problem),
    ))]
async fn decide_team(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TeamDecisionBody>,
) -> Result<Json<pb::Team>, ApiError> {
    let req = pb::TeamDecisionRequest {
        id,
        decision: body.decision,
        reason: body.reason,
        note: body.note,
    };
    Ok(Json(s.send::<ops::DecideTeam>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct TeamsQuery {
    /// submitted | accepted | rejected
    status: String,
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// A campaign's team applications the caller may see: the region's, a
/// municipality's or an organization's (their operators), or those to a
/// provider's groups.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/teams", tag = "enrollment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), TeamsQuery),
    responses(
        (status = 200, description = "A page of team applications", body = pb::TeamList),
        (status = 403, description = "Neither an operator nor a provider", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_teams(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TeamsQuery>,
) -> Result<Json<pb::TeamList>, ApiError> {
    let req = pb::ListTeamsRequest {
        campaign_id: id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListTeams>(&caller.ctx, &req).await?))
}
