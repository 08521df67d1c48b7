//! The monitoring service: providers push completions
//! (`/api/v1/providers/{id}/completions`, with an API key or a provider
//! admin's token), post-course windows and their scores, certificates and
//! transcripts (printable, and publicly verifiable at `/verify/{code}`),
//! PD records and their verification.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use pd_proto::ops::monitoring as ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::tables::{self, Format3};
use super::{Anonymous, ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_completions))
        .routes(routes!(list_completions))
        .routes(routes!(list_post_course_windows))
        .routes(routes!(get_post_course_window))
        .routes(routes!(get_post_course_settings, put_post_course_settings))
        .routes(routes!(list_documents))
        .routes(routes!(get_document))
        .routes(routes!(print_document))
        .routes(routes!(document_pdf))
        .routes(routes!(revoke_document))
        .routes(routes!(verify_document))
        .routes(routes!(list_pd_records, declare_pd_record))
        .routes(routes!(decide_pd_record))
        .routes(routes!(export_frdo))
        .routes(routes!(quality))
        .routes(routes!(window_states))
}

/// Pages outside the API: the public verification page a certificate's
/// QR code and link lead to.
pub fn pages() -> axum::Router<AppState> {
    axum::Router::new().route("/verify/{code}", get(verify_page))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct CompletionsBody {
    /// The group of every learner that names none.
    group_id: String,
    /// Learners of the groups' rosters (at most 1,000); each may name its
    /// own `group_id`, so one batch may cover several of the provider's groups.
    learners: Vec<pb::LearnerCompletion>,
}

/// A provider pushes its learners' results (for one group, or for several
/// with a `group_id` per learner): completed (with
/// the document: type, series, number, issue date, hours; module credits
/// in the cumulative model) or not completed (with the reason).
/// Authenticate with the provider's `X-Api-Key` (or a provider admin's
/// bearer token). The batch is accepted or refused as a whole: a 422
/// names each learner at fault (`learners[3].educator_id`: not on the
/// roster). Sending the same completion again records nothing
/// (`unchanged`). Each completed learner's post-course window opens.
#[utoipa::path(post, path = "/api/v1/providers/{id}/completions", tag = "monitoring",
    security(("provider_key" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "Provider id")),
    request_body = CompletionsBody,
    responses(
        (status = 200, description = "Every learner's outcome: recorded or unchanged", body = pb::CompletionBatchResult),
        (status = 401, description = "No key, or a key unknown, revoked or of another provider", body = Problem),
        (status = 403, description = "The group is another provider's", body = Problem),
        (status = 409, description = "The group's roster is not fixed yet, or the group was cancelled or merged", body = Problem),
        (status = 422, description = "The batch refused whole: each learner at fault named in `errors`", body = Problem),
    ))]
async fn push_completions(
    State(s): State<AppState>,
    Anonymous(mut ctx): Anonymous,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompletionsBody>,
) -> Result<Json<pb::CompletionBatchResult>, ApiError> {
    if let Some(key) = headers.get("x-api-key") {
        // The key is traded for a short-lived token of its provider at
        // each call, so a revoked key stops working at once.
        let req = identity::ExchangeProviderKeyRequest {
            provider_id: id.clone(),
            key: String::from_utf8_lossy(key.as_bytes()).into_owned(),
        };
        let token = s
            .send::<identity_ops::ExchangeProviderKey>(&ctx, &req)
            .await?;
        ctx.authorization = Some(format!("Bearer {}", token.access_token));
    } else {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        s.verifier.verify_header(auth).map_err(ApiError)?;
        ctx.authorization = auth.map(str::to_owned);
    }
    let req = pb::CompletionBatch {
        provider_id: id,
        group_id: body.group_id,
        learners: body.learners,
    };
    Ok(Json(s.send::<ops::PushCompletions>(&ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct CompletionsQuery {
    /// Operators: the region (required unless a provider lists its own).
    region_id: String,
    /// completed | not_completed
    status: String,
    /// A provider's own completions (its admins need no region).
    provider_id: String,
    group_id: String,
    organization_id: String,
    municipality_id: String,
    limit: i32,
    offset: i32,
}

/// Completions of the caller's scope, newest first: a provider's own, or
/// an operator's (`status=not_completed`: who did not complete, and why).
#[utoipa::path(get, path = "/api/v1/completions", tag = "monitoring", security(("bearer" = [])),
    params(CompletionsQuery),
    responses((status = 200, description = "A page of completions", body = pb::CompletionList)))]
async fn list_completions(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CompletionsQuery>,
) -> Result<Json<pb::CompletionList>, ApiError> {
    let req = pb::ListCompletionsRequest {
        region_id: q.region_id,
        status: q.status,
        provider_id: q.provider_id,
        group_id: q.group_id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<ops::ListCompletions>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct WindowsQuery {
    /// Operators: the region; an educator leaves it out for their own.
    region_id: String,
    organization_id: String,
    municipality_id: String,
    /// open | closed | missed
    status: String,
    educator_id: String,
    limit: i32,
    offset: i32,
}

/// Post-course windows: an educator's own, or those of an operator's
/// scope, with who answered the questionnaire, the best test score and
/// the attempts used (seed 001).
#[utoipa::path(get, path = "/api/v1/post-course-windows", tag = "monitoring", security(("bearer" = [])),
    params(WindowsQuery),
    responses((status = 200, description = "A page of windows", body = pb::PostCourseWindowList)))]
async fn list_post_course_windows(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WindowsQuery>,
) -> Result<Json<pb::PostCourseWindowList>, ApiError> {
    let req = pb::ListWindowsRequest {
        region_id: q.region_id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        status: q.status,
        educator_id: q.educator_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListWindows>(&caller.ctx, &req).await?))
}

/// One completion's post-course window (its educator, operators of their scope).
#[utoipa::path(get, path = "/api/v1/post-course-windows/{completion_id}", tag = "monitoring", security(("bearer" = [])),
    params(("completion_id" = String, Path, description = "Completion id")),
    responses((status = 200, description = "The window", body = pb::PostCourseWindow)))]
async fn get_post_course_window(
    State(s): State<AppState>,
    caller: Caller,
    Path(completion_id): Path<String>,
) -> Result<Json<pb::PostCourseWindow>, ApiError> {
    let req = pb::CompletionRequest { completion_id };
    Ok(Json(s.send::<ops::GetWindow>(&caller.ctx, &req).await?))
}

/// A region's post-course window: days open and test attempts (10 and 2
/// unless set).
#[utoipa::path(get, path = "/api/v1/regions/{id}/post-course-settings", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    responses((status = 200, description = "The settings", body = pb::RegionSettings)))]
async fn get_post_course_settings(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::RegionSettings>, ApiError> {
    let req = pb::RegionSettingsRequest { region_id: id };
    Ok(Json(
        s.send::<ops::GetRegionSettings>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct SettingsBody {
    /// 1..=90
    window_days: i32,
    /// 1..=10
    test_attempts: i32,
}

/// Set a region's post-course window (its regional operator); windows
/// already open keep theirs.
#[utoipa::path(put, path = "/api/v1/regions/{id}/post-course-settings", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    request_body = SettingsBody,
    responses((status = 200, description = "The settings", body = pb::RegionSettings)))]
async fn put_post_course_settings(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<pb::RegionSettings>, ApiError> {
    let req = pb::RegionSettings {
        region_id: id,
        window_days: body.window_days,
        test_attempts: body.test_attempts,
    };
    Ok(Json(
        s.send::<ops::PutRegionSettings>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct DocumentsQuery {
    /// Operators: an educator of their scope; educators leave it out.
    educator_id: String,
}

/// An educator's certificates and transcripts.
#[utoipa::path(get, path = "/api/v1/documents", tag = "monitoring", security(("bearer" = [])),
    params(DocumentsQuery),
    responses((status = 200, description = "The documents, newest first", body = pb::DocumentList)))]
async fn list_documents(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DocumentsQuery>,
) -> Result<Json<pb::DocumentList>, ApiError> {
    let req = pb::MyDocumentsRequest {
        educator_id: q.educator_id,
    };
    Ok(Json(s.send::<ops::MyDocuments>(&caller.ctx, &req).await?))
}

/// One certificate or transcript (its holder, operators of their scope, its provider).
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document", body = pb::Document)))]
async fn get_document(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Document>, ApiError> {
    Ok(Json(
        s.send::<ops::GetDocument>(&caller.ctx, &pb::DocumentRequest { id })
            .await?,
    ))
}

/// The document as a printable HTML page, with its verification code and link.
#[utoipa::path(get, path = "/api/v1/documents/{id}/print", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The printable document", content_type = "text/html", body = String)))]
async fn print_document(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let d = s
        .send::<ops::GetDocument>(&caller.ctx, &pb::DocumentRequest { id })
        .await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let link = crate::documents::link(&d, &s.public_url, host);
    Ok(Html(crate::documents::printable(&d, &link)))
}

/// The document as a PDF (A4), with its verification code, link and QR code.
#[utoipa::path(get, path = "/api/v1/documents/{id}/pdf", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = String)))]
async fn document_pdf(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = s
        .send::<ops::GetDocument>(&caller.ctx, &pb::DocumentRequest { id })
        .await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let link = crate::documents::link(&d, &s.public_url, host);
    let bytes = crate::documents::pdf(&d, &link)
        .map_err(|e| ApiError(pd_bus::rpc::internal("rendering a PDF", e)))?;
    let disposition = format!("attachment; filename=\"{}-{}.pdf\"", d.kind, d.code);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RevokeBody {
    reason: String,
}

/// Revoke a document (its provider, the regional operator, an admin): the
/// public page says so from then on.
#[utoipa::path(post, path = "/api/v1/documents/{id}/revoke", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Document id")),
    request_body = RevokeBody,
    responses((status = 200, description = "The document, revoked", body = pb::Document)))]
async fn revoke_document(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> Result<Json<pb::Document>, ApiError> {
    let req = pb::RevokeDocumentRequest {
        id,
        reason: body.reason,
    };
    Ok(Json(
        s.send::<ops::RevokeDocument>(&caller.ctx, &req).await?,
    ))
}

/// Public, no sign-in: what a verification code stands for (`valid`,
/// `revoked` or `unknown`), with the holder's name masked.
#[utoipa::path(get, path = "/api/v1/verify/{code}", tag = "monitoring",
    params(("code" = String, Path, description = "Verification code, e.g. 7KQ2-XM4P-9DRW")),
    responses(
        (status = 200, description = "The verification", body = pb::Verification),
        (status = 429, description = "Too many requests from this client", body = Problem),
    ))]
async fn verify_document(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    Path(code): Path<String>,
) -> Result<Json<pb::Verification>, ApiError> {
    s.check_public_rate(ctx.client_ip.as_deref())?;
    Ok(Json(
        s.send::<ops::Verify>(&ctx, &pb::VerifyRequest { code })
            .await?,
    ))
}

async fn verify_page(
    State(s): State<AppState>,
    Anonymous(ctx): Anonymous,
    Path(code): Path<String>,
) -> Response {
    if let Err(e) = s.check_public_rate(ctx.client_ip.as_deref()) {
        return e.into_response();
    }
    match s
        .send::<ops::Verify>(&ctx, &pb::VerifyRequest { code })
        .await
    {
        Ok(v) => {
            let status = if v.status == "unknown" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            (status, Html(crate::documents::verification_page(&v))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct RecordsQuery {
    /// An educator's history (their own, or one of the caller's scope).
    educator_id: String,
    /// Operators: the records of their scope in the region.
    region_id: String,
    /// verified | pending | rejected
    status: String,
    organization_id: String,
    municipality_id: String,
    limit: i32,
    offset: i32,
}

/// PD records: an educator's history, or (`region_id`) those of an
/// operator's scope; `status=pending` lists what waits for verification.
#[utoipa::path(get, path = "/api/v1/pd-records", tag = "monitoring", security(("bearer" = [])),
    params(RecordsQuery),
    responses((status = 200, description = "A page of records", body = pb::PdRecordList)))]
async fn list_pd_records(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> Result<Json<pb::PdRecordList>, ApiError> {
    let req = pb::ListRecordsRequest {
        educator_id: q.educator_id,
        region_id: q.region_id,
        status: q.status,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(s.send::<ops::ListRecords>(&caller.ctx, &req).await?))
}

/// Declare a PD taken outside the regional system, with its document (the
/// educator, or a municipal or regional operator for an educator of their
/// scope). It waits for an operator's verification before it counts.
#[utoipa::path(post, path = "/api/v1/pd-records", tag = "monitoring", security(("bearer" = [])),
    request_body = pb::DeclareRecordRequest,
    responses((status = 201, description = "The record, pending", body = pb::PdRecord)))]
async fn declare_pd_record(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::DeclareRecordRequest>,
) -> Result<(StatusCode, Json<pb::PdRecord>), ApiError> {
    let r = s.send::<ops::DeclareRecord>(&caller.ctx, &body).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RecordDecisionBody {
    /// verify | reject
    decision: String,
    /// Required to reject.
    reason: String,
}

/// Verify or reject a declared record (operators over the educator). A
/// verified record counts for next year's eligibility.
#[utoipa::path(post, path = "/api/v1/pd-records/{id}/decision", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Record id")),
    request_body = RecordDecisionBody,
    responses(
        (status = 200, description = "The record, verified or rejected", body = pb::PdRecord),
        (status = 409, description = "Decided already", body = Problem),
    ))]
async fn decide_pd_record(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecordDecisionBody>,
) -> Result<Json<pb::PdRecord>, ApiError> {
    let req = pb::DecideRecordRequest {
        id,
        decision: body.decision,
        reason: body.reason,
    };
    Ok(Json(s.send::<ops::DecideRecord>(&caller.ctx, &req).await?))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct FrdoQuery {
    /// YYYY-MM-DD: documents issued from this day on.
    issued_from: String,
    /// YYYY-MM-DD: documents issued up to this day.
    issued_to: String,
    provider_id: String,
    /// json (one page, with the problems of its rows) | csv | xlsx (every
    /// row ready for upload) | report (CSV of every row's problems)
    format: String,
    limit: i32,
    offset: i32,
}

/// Pages a file export reads at a time.
const FRDO_PAGE: i32 = 1000;

/// The region's documents of further professional education in the ФИС
/// ФРДО upload template (the regional operator): each row checked first;
/// a row missing what the registry requires (SNILS, birth date, the
/// registration number, …) is left out of the file and listed, with the
/// column at fault, in the JSON page and in `format=report`.
#[utoipa::path(get, path = "/api/v1/regions/{id}/frdo-export", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id"), FrdoQuery),
    responses(
        (status = 200, description = "A page as JSON, or the upload file (CSV, XLSX), or the report (CSV)",
            content(
                (pb::FrdoExport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "Not the region's operator", body = Problem),
    ))]
async fn export_frdo(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FrdoQuery>,
) -> Result<Response, ApiError> {
    let report = q.format == "report";
    let f = if report {
        Format3::Csv
    } else {
        tables::format(&q.format)?
    };
    let mut req = pb::FrdoExportRequest {
        region_id: id,
        issued_from: q.issued_from,
        issued_to: q.issued_to,
        provider_id: q.provider_id,
        limit: q.limit,
        offset: q.offset,
    };
    if f == Format3::Json {
        return Ok(Json(s.send::<ops::ExportFrdo>(&caller.ctx, &req).await?).into_response());
    }
    // A file holds every page.
    req.limit = FRDO_PAGE;
    req.offset = 0;
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    let mut columns;
    loop {
        let page = s.send::<ops::ExportFrdo>(&caller.ctx, &req).await?;
        columns = page.columns;
        rows.extend(page.rows.into_iter().map(|r| r.cells));
        for p in page.problems {
            problems.push(vec![
                p.row.to_string(),
                p.document_number,
                p.educator_id,
                p.column,
                p.message,
            ]);
        }
        req.offset += FRDO_PAGE;
        if i64::from(req.offset) >= page.total {
            break;
        }
    }
    if report {
        let header: Vec<String> = ["row", "document_number", "educator_id", "column", "problem"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        return tables::file("frdo-report", Format3::Csv, &header, &problems);
    }
    tables::file("frdo", f, &columns, &rows)
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct QualityQuery {
    /// A provider's own programs (its admins must name it).
    provider_id: String,
    /// json | csv | xlsx
    format: String,
}

/// Quality per program of the region (its operators and ministry; a
/// provider its own): learners enrolled and completed, the post-course
/// questionnaire's averages per question, best test scores in five bands
/// (0–19 … 80–100 %), completions by municipality. CSV and XLSX have a
/// row per program.
#[utoipa::path(get, path = "/api/v1/regions/{id}/quality", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id"), QualityQuery),
    responses(
        (status = 200, description = "Per program, as JSON or a CSV / XLSX file",
            content(
                (pb::QualityReport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "Neither the region's operator nor the provider", body = Problem),
    ))]
async fn quality(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<QualityQuery>,
) -> Result<Response, ApiError> {
    let f = tables::format(&q.format)?;
    let req = pb::QualityRequest {
        region_id: id,
        provider_id: q.provider_id,
    };
    let report = s.send::<ops::Quality>(&caller.ctx, &req).await?;
    if f == Format3::Json {
        return Ok(Json(report).into_response());
    }
    let header: Vec<String> = [
        "provider",
        "program",
        "enrolled",
        "completed",
        "not_completed",
        "completion_percent",
        "surveyed",
        "question_averages",
        "tested",
        "score_0_19",
        "score_20_39",
        "score_40_59",
        "score_60_79",
        "score_80_100",
        "passed",
        "by_municipality",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    let rows: Vec<Vec<String>> = report
        .programs
        .iter()
        .map(|p| {
            let questions: Vec<String> = p
                .questions
                .iter()
                .map(|q| format!("{}: {:.2}", q.text, q.average))
                .collect();
            let municipalities: Vec<String> = p
                .municipalities
                .iter()
                .map(|m| format!("{}: {}/{}", m.unit_name, m.completed, m.not_completed))
                .collect();
            let mut row = vec![
                p.provider_name.clone(),
                p.program_title.clone(),
                p.enrolled.to_string(),
                p.completed.to_string(),
                p.not_completed.to_string(),
                p.completion_percent.to_string(),
                p.surveyed.to_string(),
                questions.join(" | "),
                p.tested.to_string(),
            ];
            row.extend(p.score_bands.iter().map(|b| b.to_string()));
            row.push(p.passed.to_string());
            row.push(municipalities.join(" | "));
            row
        })
        .collect();
    tables::file("quality", f, &header, &rows)
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct StatesQuery {
    organization_id: String,
    municipality_id: String,
    /// organization (default) | municipality
    by: String,
    /// json | csv | xlsx
    format: String,
}

/// Who is in which state of the post-course window, per organization (or
/// municipality) of the caller's scope: open, questionnaire answered,
/// tested, missed.
#[utoipa::path(get, path = "/api/v1/regions/{id}/post-course-states", tag = "monitoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id"), StatesQuery),
    responses(
        (status = 200, description = "Per unit, as JSON or a CSV / XLSX file",
            content(
                (pb::WindowStates = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
    ))]
async fn window_states(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StatesQuery>,
) -> Result<Response, ApiError> {
    let f = tables::format(&q.format)?;
    let req = pb::WindowStatesRequest {
        region_id: id,
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        by: q.by,
    };
    let states = s.send::<ops::WindowStates>(&caller.ctx, &req).await?;
    if f == Format3::Json {
        return Ok(Json(states).into_response());
    }
    let header: Vec<String> = [
        "unit_id", "unit", "open", "answered", "tested", "missed", "total",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    let rows: Vec<Vec<String>> = states
        .rows
        .iter()
        .map(|r| {
            vec![
                r.unit_id.clone(),
                r.unit_name.clone(),
                r.open.to_string(),
                r.answered.to_string(),
                r.tested.to_string(),
                r.missed.to_string(),
                r.total.to_string(),
            ]
        })
        .collect();
    tables::file("post-course-states", f, &header, &rows)
}
