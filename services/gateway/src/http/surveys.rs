//! The surveys service: `/api/v1/campaigns/{id}/competences`, the
//! questionnaires and tests (`/api/v1/instruments`, `/api/v1/windows`,
//! `/api/v1/attempts`), the needs survey's figures, priorities, coverage
//! and trajectories.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pd_domain::{AppError, ErrorKind};
use pd_proto::common::v1::Empty;
use pd_proto::ops::surveys as ops;
use pd_proto::surveys::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem, csv_cell};

/// The catalog file travels to the service in one bus message (at most
/// 1 MB by default), so it is refused above this even when the gateway's
/// import limit is larger.
const CATALOG_FILE_BYTES: usize = 512 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_competences))
        .routes(routes!(import_competences))
        .routes(routes!(put_competence, delete_competence))
        .routes(routes!(list_instruments, create_instrument))
        .routes(routes!(get_instrument, update_instrument))
        .routes(routes!(open_window))
        .routes(routes!(list_windows))
        .routes(routes!(get_window))
        .routes(routes!(get_response, submit_response))
        .routes(routes!(list_attempts, start_attempt))
        .routes(routes!(get_attempt))
        .routes(routes!(submit_attempt))
        .routes(routes!(response_rates))
        .routes(routes!(demand))
        .routes(routes!(get_priorities, publish_priorities))
        .routes(routes!(coverage))
        .routes(routes!(publish_coverage_gaps))
        .routes(routes!(trajectory))
}

// ---------- the competence catalog ----------

/// The campaign's competence catalog (anyone signed in within the
/// campaign's region).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/competences", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The catalog and its version", body = pb::CompetenceCatalog),
        (status = 404, description = "Unknown campaign, or another region's", body = Problem),
    ))]
async fn get_competences(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::CompetenceCatalog>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(
        s.send::<ops::GetCompetences>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct CompetenceImportQuery {
    /// Check the file and report every bad row without changing anything.
    dry_run: bool,
}

/// Import the campaign's competence catalog from a CSV file, replacing the
/// whole catalog (ministry, regional operator).
///
/// Columns: code, name, group_code, group_name, or their Russian headings
/// (код, наименование, код трудовой функции, трудовая функция); code and
/// name are required. Separated by `;` or `,`; UTF-8 (with or without BOM)
/// or Windows-1251 as Excel saves it. All-or-nothing: any bad row and
/// nothing is imported; a 422 then lists every bad cell as a field
/// `rows[N].column` (N the file's line, the header being line 1). Codes the
/// campaign's instruments use must stay in the file. `dry_run=true` only
/// checks the file.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/competences/imports", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), CompetenceImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 200, description = "Imported, or checked (dry run)", body = pb::CompetenceImport),
        (status = 403, description = "Not managing the campaign's region", body = Problem),
        (status = 404, description = "Unknown campaign, or another region's", body = Problem),
        (status = 413, description = "File too large", body = Problem),
        (status = 422, description = "An unreadable file, or bad rows named `rows[N].column`", body = Problem),
    ))]
async fn import_competences(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CompetenceImportQuery>,
    body: Body,
) -> Result<Json<pb::CompetenceImport>, ApiError> {
    let limit = s.import_limit.min(CATALOG_FILE_BYTES);
    let data = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError(AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("файл больше {} КБ", limit / 1024),
        ))
    })?;
    let req = pb::ImportCompetencesRequest {
        campaign_id: id,
        data: data.to_vec(),
        dry_run: q.dry_run,
    };
    Ok(Json(
        s.send::<ops::ImportCompetences>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CompetenceBody {
    name: String,
    /// The group: a labour function of the professional standard, or the
    /// region's own grouping.
    group_code: String,
    group_name: String,
}

/// Add a competence to the campaign's catalog, or rename one (ministry,
/// regional operator). The code is the path's.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/competences/{code}", tag = "surveys", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("code" = String, Path, description = "Competence code, unique within the campaign"),
    ),
    request_body = CompetenceBody,
    responses(
        (status = 200, description = "The catalog after the change", body = pb::CompetenceCatalog),
        (status = 403, description = "Not managing the campaign's region", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn put_competence(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<CompetenceBody>,
) -> Result<Json<pb::CompetenceCatalog>, ApiError> {
    let req = pb::PutCompetenceRequest {
        campaign_id: id,
        competence: Some(pb::Competence {
            code,
            name: body.name,
            group_code: body.group_code,
            group_name: body.group_name,
        }),
    };
    Ok(Json(s.send::<ops::PutCompetence>(&caller.ctx, &req).await?))
}

/// Remove a competence from the campaign's catalog (ministry, regional
/// operator); one an instrument of the campaign uses cannot be removed.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/competences/{code}", tag = "surveys", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("code" = String, Path, description = "Competence code"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not managing the campaign's region", body = Problem),
        (status = 404, description = "Unknown campaign or competence", body = Problem),
        (status = 409, description = "An instrument of the campaign uses it", body = Problem),
    ))]
async fn delete_competence(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, code)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let req = pb::DeleteCompetenceRequest {
        campaign_id: id,
        code,
    };
    let _: Empty = s.send::<ops::DeleteCompetence>(&caller.ctx, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- instruments ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct InstrumentBody {
    region_id: String,
    /// The needs survey and diagnostics of a campaign.
    campaign_id: String,
    /// questionnaire | test
    kind: String,
    /// needs_survey | diagnostic | post_course_survey | post_course_test | other
    purpose: String,
    /// Post-course instruments of one program (empty: the region's default).
    program_id: String,
    title: String,
    /// The questionnaire, or the test's question bank.
    questions: Vec<pb::Question>,
    /// Tests: questions drawn at random per attempt (0: all of the bank).
    draw_count: i32,
    /// Tests: minutes per attempt (0: no limit).
    time_limit_minutes: i32,
    /// Tests: the share of points (percent) that passes.
    pass_percent: i32,
    /// Diagnostic tests: a threshold per competence section.
    sections: Vec<pb::Section>,
}

impl InstrumentBody {
    fn into_request(self, id: String) -> pb::SaveInstrumentRequest {
        pb::SaveInstrumentRequest {
            id,
            region_id: self.region_id,
            campaign_id: self.campaign_id,
            kind: self.kind,
            purpose: self.purpose,
            program_id: self.program_id,
            title: self.title,
            questions: self.questions,
            draw_count: self.draw_count,
            time_limit_minutes: self.time_limit_minutes,
            pass_percent: self.pass_percent,
            sections: self.sections,
        }
    }
}

/// Create a questionnaire or a test: the region's (ministry, regional
/// operator) or a program's post-course one (also its provider's admins).
/// Diagnostic sections name competences of the campaign's catalog.
#[utoipa::path(post, path = "/api/v1/instruments", tag = "surveys", security(("bearer" = [])),
    request_body = InstrumentBody,
    responses(
        (status = 201, description = "Created", body = pb::Instrument),
        (status = 403, description = "Not allowed for this region or program", body = Problem),
        (status = 422, description = "Invalid fields (questions named by index)", body = Problem),
    ))]
async fn create_instrument(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<InstrumentBody>,
) -> Result<(StatusCode, Json<pb::Instrument>), ApiError> {
    let req = body.into_request(String::new());
    let i = s.send::<ops::CreateInstrument>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(i)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct InstrumentQuery {
    /// Required.
    region_id: String,
    campaign_id: String,
    /// needs_survey | diagnostic | post_course_survey | post_course_test | other
    purpose: String,
    program_id: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// A region's questionnaires and tests (its operators at every level, the
/// ministry, experts, council members and providers; not educators).
#[utoipa::path(get, path = "/api/v1/instruments", tag = "surveys", security(("bearer" = [])),
    params(InstrumentQuery),
    responses(
        (status = 200, description = "A page of instruments", body = pb::InstrumentList),
        (status = 403, description = "Not reading the region's figures", body = Problem),
        (status = 422, description = "No region, or an invalid filter", body = Problem),
    ))]
async fn list_instruments(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InstrumentQuery>,
) -> Result<Json<pb::InstrumentList>, ApiError> {
    let req = pb::ListInstrumentsRequest {
        region_id: q.region_id,
        campaign_id: q.campaign_id,
        purpose: q.purpose,
        program_id: q.program_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<ops::ListInstruments>(&caller.ctx, &req).await?,
    ))
}

/// One questionnaire or test with its questions and correct answers
/// (those who may list the region's instruments).
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id")),
    responses(
        (status = 200, description = "The instrument", body = pb::Instrument),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn get_instrument(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Instrument>, ApiError> {
    Ok(Json(
        s.send::<ops::GetInstrument>(&caller.ctx, &pb::GetInstrumentRequest { id })
            .await?,
    ))
}

/// Change a questionnaire or test (those who may create it). The body is
/// the creation's; its kind, purpose, region, campaign and program are
/// ignored (they stay as created). Once someone has responded the
/// instrument is locked.
#[utoipa::path(put, path = "/api/v1/instruments/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id")),
    request_body = InstrumentBody,
    responses(
        (status = 200, description = "The changed instrument", body = pb::Instrument),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 409, description = "Locked: someone has responded", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_instrument(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InstrumentBody>,
) -> Result<Json<pb::Instrument>, ApiError> {
    let req = body.into_request(id);
    Ok(Json(
        s.send::<ops::UpdateInstrument>(&caller.ctx, &req).await?,
    ))
}

// ---------- windows ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct WindowBody {
    /// Who may respond: educators of the caller's scope.
    educator_ids: Vec<String>,
    /// RFC 3339; empty: now.
    opens_at: String,
    /// RFC 3339.
    closes_at: String,
    /// Tests: attempts per educator (default 1).
    attempts_limit: i32,
}

/// Open a personal window of an instrument for a list of educators
/// (operators of their organization, municipality or region). The needs
/// survey's window is the campaign's phase and is not opened here.
#[utoipa::path(post, path = "/api/v1/instruments/{id}/windows", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id")),
    request_body = WindowBody,
    responses(
        (status = 201, description = "Opened", body = pb::Window),
        (status = 403, description = "An educator outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown instrument", body = Problem),
        (status = 409, description = "An instrument answered in a campaign phase only", body = Problem),
        (status = 422, description = "No educators, or invalid times", body = Problem),
    ))]
async fn open_window(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WindowBody>,
) -> Result<(StatusCode, Json<pb::Window>), ApiError> {
    let req = pb::OpenWindowRequest {
        instrument_id: id,
        educator_ids: body.educator_ids,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        attempts_limit: body.attempts_limit,
    };
    let w = s.send::<ops::OpenWindow>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct WindowQuery {
    instrument_id: String,
    campaign_id: String,
    /// open | upcoming | closed (default: all)
    status: String,
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// Windows to respond in: an educator sees their own (their region's
/// campaign phases and personal windows naming them); operators, the
/// ministry and others reading the region's figures see their region's.
#[utoipa::path(get, path = "/api/v1/windows", tag = "surveys", security(("bearer" = [])),
    params(WindowQuery),
    responses(
        (status = 200, description = "A page of windows", body = pb::WindowList),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn list_windows(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> Result<Json<pb::WindowList>, ApiError> {
    let req = pb::ListWindowsRequest {
        instrument_id: q.instrument_id,
        campaign_id: q.campaign_id,
        status: q.status,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListWindows>(&caller.ctx, &req).await?))
}

/// One window (an educator it is open to, or those reading the region's
/// figures).
#[utoipa::path(get, path = "/api/v1/windows/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 200, description = "The window", body = pb::Window),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn get_window(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Window>, ApiError> {
    let req = pb::WindowRequest { window_id: id };
    Ok(Json(s.send::<ops::GetWindow>(&caller.ctx, &req).await?))
}

// ---------- responses (questionnaires) ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct AnswersBody {
    /// One answer per question answered; required questions must be.
    answers: Vec<pb::Answer>,
}

/// The educator answers a questionnaire (the educators the window is open
/// to). One response per educator per window: answering again replaces it,
/// until the window closes.
#[utoipa::path(put, path = "/api/v1/windows/{id}/response", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Window id")),
    request_body = AnswersBody,
    responses(
        (status = 200, description = "The response as stored", body = pb::Response),
        (status = 403, description = "Not an educator", body = Problem),
        (status = 404, description = "Not a window open to the caller", body = Problem),
        (status = 409, description = "A test, or outside the window (or the campaign phase, named)", body = Problem),
        (status = 422, description = "Invalid answers, named by index", body = Problem),
    ))]
async fn submit_response(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswersBody>,
) -> Result<Json<pb::Response>, ApiError> {
    let req = pb::SubmitResponseRequest {
        window_id: id,
        answers: body.answers,
    };
    Ok(Json(
        s.send::<ops::SubmitResponse>(&caller.ctx, &req).await?,
    ))
}

/// The educator's own response in the window, and whether it may still be
/// changed (the educators the window is open to).
#[utoipa::path(get, path = "/api/v1/windows/{id}/response", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 200, description = "The response", body = pb::Response),
        (status = 404, description = "Not responded yet, or not a window open to the caller", body = Problem),
    ))]
async fn get_response(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Response>, ApiError> {
    let req = pb::WindowRequest { window_id: id };
    Ok(Json(s.send::<ops::GetResponse>(&caller.ctx, &req).await?))
}

// ---------- attempts (tests) ----------

/// The educator starts an attempt at a test (the educators the window is
/// open to): questions drawn from the bank, the time limit running. An
/// attempt still running is returned rather than a second one started.
#[utoipa::path(post, path = "/api/v1/windows/{id}/attempts", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 201, description = "The attempt, without the correct answers", body = pb::Attempt),
        (status = 403, description = "Not an educator", body = Problem),
        (status = 404, description = "Not a window open to the caller", body = Problem),
        (status = 409, description = "A questionnaire, outside the window, or no attempts left", body = Problem),
    ))]
async fn start_attempt(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<pb::Attempt>), ApiError> {
    let req = pb::WindowRequest { window_id: id };
    let a = s.send::<ops::StartAttempt>(&caller.ctx, &req).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// The educator's attempts in the window, first to last (the educators the
/// window is open to).
#[utoipa::path(get, path = "/api/v1/windows/{id}/attempts", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 200, description = "The caller's attempts", body = pb::AttemptList),
        (status = 404, description = "Not a window open to the caller", body = Problem),
    ))]
async fn list_attempts(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::AttemptList>, ApiError> {
    let req = pb::WindowRequest { window_id: id };
    Ok(Json(s.send::<ops::ListAttempts>(&caller.ctx, &req).await?))
}

/// One of the educator's own attempts; an attempt whose time ran out is
/// closed and scored on reading (the educator who made it).
#[utoipa::path(get, path = "/api/v1/attempts/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Attempt id")),
    responses(
        (status = 200, description = "The attempt (with the correct answers once closed)", body = pb::Attempt),
        (status = 404, description = "Not the caller's", body = Problem),
    ))]
async fn get_attempt(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Attempt>, ApiError> {
    let req = pb::AttemptRequest { attempt_id: id };
    Ok(Json(s.send::<ops::GetAttempt>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct AttemptBody {
    answers: Vec<pb::Answer>,
    /// Keep the answers without finishing: they are scored as they stand
    /// if the time limit runs out.
    save_only: bool,
}

/// The educator saves the answers of a running attempt, or finishes it to
/// be scored (the educator who made it).
#[utoipa::path(post, path = "/api/v1/attempts/{id}/submit", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Attempt id")),
    request_body = AttemptBody,
    responses(
        (status = 200, description = "The attempt: saved, or closed and scored", body = pb::Attempt),
        (status = 404, description = "Not the caller's", body = Problem),
        (status = 409, description = "Closed already, or its time ran out", body = Problem),
        (status = 422, description = "Invalid answers, named by index", body = Problem),
    ))]
async fn submit_attempt(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttemptBody>,
) -> Result<Json<pb::Attempt>, ApiError> {
    let req = pb::SubmitAttemptRequest {
        attempt_id: id,
        answers: body.answers,
        save_only: body.save_only,
    };
    Ok(Json(s.send::<ops::SubmitAttempt>(&caller.ctx, &req).await?))
}

// ---------- the needs survey ----------

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct RatesQuery {
    /// A municipality of the region (default: the caller's own scope).
    municipality_id: String,
    /// An organization (default: the caller's own scope).
    organization_id: String,
    /// Teachers of this subject only.
    subject: String,
    /// Page size of `not_responded`, at most 200 (default 100).
    #[param(minimum = 0, maximum = 200)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The needs survey's response rate in a scope, one level down, and who
/// has not answered yet (operators of the scope: organization, municipality
/// or region; the ministry).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/needs-survey/rates", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), RatesQuery),
    responses(
        (status = 200, description = "The rates and a page of educators not responded", body = pb::ResponseRates),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign, or no needs survey", body = Problem),
        (status = 422, description = "Invalid filter", body = Problem),
    ))]
async fn response_rates(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RatesQuery>,
) -> Result<Json<pb::ResponseRates>, ApiError> {
    let req = pb::ScopeRequest {
        campaign_id: id,
        municipality_id: q.municipality_id,
        organization_id: q.organization_id,
        subject: q.subject,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ResponseRates>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct DemandQuery {
    /// direction | topic | form | deficit
    by: String,
    /// A municipality of the region (default: the caller's own scope).
    municipality_id: String,
    /// An organization (default: the caller's own scope).
    organization_id: String,
    /// Teachers of this subject only.
    subject: String,
    /// json (default) | csv
    format: String,
}

/// The needs survey's demand in a scope: how many respondents chose each
/// direction, topic, form or deficit (operators of the scope, the
/// ministry). `format=csv` answers a `;`-separated file with the header
/// `value;label;count;share`.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/needs-survey/demand", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), DemandQuery),
    responses(
        (status = 200, description = "The demand, as JSON or (`format=csv`) as a CSV attachment",
            headers(("Content-Disposition" = String, description = "CSV only: attachment; filename=\"demand-<by>.csv\"")),
            content(
                (pb::Demand = "application/json"),
                (String = "text/csv"),
            )),
        (status = 403, description = "Outside the caller's scope", body = Problem),
        (status = 404, description = "Unknown campaign, or no needs survey", body = Problem),
        (status = 422, description = "Invalid `by`, `format` or filter", body = Problem),
    ))]
async fn demand(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DemandQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_str() {
        "" | "json" => false,
        "csv" => true,
        _ => {
            return Err(ApiError(AppError::invalid(
                "format",
                "допустимые значения: json, csv",
            )));
        }
    };
    let req = pb::DemandRequest {
        campaign_id: id,
        by: q.by,
        municipality_id: q.municipality_id,
        organization_id: q.organization_id,
        subject: q.subject,
    };
    let d = s.send::<ops::Demand>(&caller.ctx, &req).await?;
    if !csv {
        return Ok(Json(d).into_response());
    }
    let disposition = format!("attachment; filename=\"demand-{}.csv\"", d.by);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        demand_csv(&d),
    )
        .into_response())
}

/// The demand as a `;`-separated file, a header line then one line per row,
/// with a UTF-8 byte order mark so that Excel in Russia reads the Cyrillic.
fn demand_csv(d: &pb::Demand) -> String {
    let mut out = String::from("\u{FEFF}value;label;count;share\n");
    for r in &d.rows {
        out.push_str(&csv_cell(&r.value));
        out.push(';');
        out.push_str(&csv_cell(&r.label));
        out.push_str(&format!(";{};{:.4}\n", r.count, r.share));
    }
    out
}

// ---------- priorities, coverage, trajectories ----------

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct PrioritiesBody {
    /// The year's priority directions.
    directions: Vec<String>,
    /// The topic base for the call for programs.
    topics: Vec<String>,
}

/// Publish the campaign's priority directions and topic base, replacing
/// those published before (the ministry).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/priorities", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    request_body = PrioritiesBody,
    responses(
        (status = 200, description = "Published", body = pb::Priorities),
        (status = 403, description = "Not the ministry", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn publish_priorities(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PrioritiesBody>,
) -> Result<Json<pb::Priorities>, ApiError> {
    let req = pb::PublishPrioritiesRequest {
        campaign_id: id,
        directions: body.directions,
        topics: body.topics,
    };
    Ok(Json(
        s.send::<ops::PublishPriorities>(&caller.ctx, &req).await?,
    ))
}

/// The campaign's published priorities (anyone signed in within the
/// campaign's region).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/priorities", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The priorities", body = pb::Priorities),
        (status = 404, description = "Unknown campaign, or none published yet", body = Problem),
    ))]
async fn get_priorities(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Priorities>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(s.send::<ops::GetPriorities>(&caller.ctx, &req).await?))
}

/// The coverage of educators' deficits by the registry's programs, and the
/// gaps (operators at every level, the ministry, experts, council members
/// and providers of the region; not educators).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/coverage", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "A row per competence with a deficit", body = pb::Coverage),
        (status = 403, description = "Not reading the region's figures", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
    ))]
async fn coverage(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Coverage>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(s.send::<ops::Coverage>(&caller.ctx, &req).await?))
}

/// Publish the coverage gaps, the deficits no program of the registry
/// addresses, for providers to answer (ministry, regional operator).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/coverage/publish", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The coverage as published", body = pb::Coverage),
        (status = 403, description = "Not managing the campaign's region", body = Problem),
        (status = 404, description = "Unknown campaign", body = Problem),
    ))]
async fn publish_coverage_gaps(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Coverage>, ApiError> {
    let req = pb::CampaignRequest { campaign_id: id };
    Ok(Json(
        s.send::<ops::PublishCoverageGaps>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct TrajectoryQuery {
    /// Operators: whose trajectory; educators leave it empty (their own).
    educator_id: String,
}

/// An educator's trajectory: their deficits and the registry's programs
/// addressing them, those addressing more first (the educator themself, or
/// operators overseeing them).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/trajectory", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "Campaign id"), TrajectoryQuery),
    responses(
        (status = 200, description = "The deficits and the programs", body = pb::Trajectory),
        (status = 404, description = "Unknown campaign, or an educator outside the caller's scope", body = Problem),
        (status = 422, description = "No educator named (callers who are not educators)", body = Problem),
    ))]
async fn trajectory(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TrajectoryQuery>,
) -> Result<Json<pb::Trajectory>, ApiError> {
    let req = pb::TrajectoryRequest {
        campaign_id: id,
        educator_id: q.educator_id,
    };
    Ok(Json(s.send::<ops::Trajectory>(&caller.ctx, &req).await?))
}
