//! `/api/v1/educators` and their bulk import.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use pd_domain::{AppError, ErrorKind};
use pd_proto::common::v1::{Empty, IdRequest};
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

/// A NATS message is at most 1 MB by default; files travel in pieces.
const IMPORT_CHUNK_BYTES: usize = 512 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_educators, create_educator))
        .routes(routes!(get_educator, update_educator))
        .routes(routes!(start_import, list_imports))
        .routes(routes!(educator_leaves))
        .routes(routes!(educator_history))
        .routes(routes!(get_import))
}

/// Add an educator to an organization (its operators, municipal and regional operators).
#[utoipa::path(post, path = "/api/v1/educators", tag = "educators", security(("bearer" = [])),
    request_body = pb::CreateEducatorRequest,
    responses(
        (status = 201, description = "Created", body = pb::Educator),
        (status = 403, description = "Not allowed in this organization", body = Problem),
        (status = 409, description = "SNILS already registered", body = Problem),
        (status = 422, description = "Invalid fields (SNILS checksum, dates, ...)", body = Problem),
    ))]
async fn create_educator(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateEducatorRequest>,
) -> Result<(StatusCode, Json<pb::Educator>), ApiError> {
    let e = s
        .send::<identity_ops::CreateEducator>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct EducatorQuery {
    organization_id: String,
    municipality_id: String,
    region_id: String,
    /// A SNILS, or the start of the last name (and of the first name).
    q: String,
    /// `employed` (default), `left` or `all`.
    status: String,
    /// Page size, at most 500 (default 50).
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
    /// The `next` of the previous page (keyset paging, stable while rows
    /// are added); `offset` must then be 0.
    after: String,
}

/// Educators the caller may see, optionally filtered.
#[utoipa::path(get, path = "/api/v1/educators", tag = "educators", security(("bearer" = [])),
    params(EducatorQuery),
    responses(
        (status = 200, description = "A page of educators", body = pb::EducatorList),
        (status = 403, description = "Organization outside the caller's scope", body = Problem),
    ))]
async fn list_educators(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EducatorQuery>,
) -> Result<Json<pb::EducatorList>, ApiError> {
    let req = pb::ListEducatorsRequest {
        organization_id: q.organization_id,
        municipality_id: q.municipality_id,
        region_id: q.region_id,
        limit: q.limit,
        offset: q.offset,
        q: q.q,
        status: q.status,
        after: q.after,
    };
    Ok(Json(
        s.send::<identity_ops::ListEducators>(&caller.ctx, &req)
            .await?,
    ))
}

/// One educator (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/educators/{id}", tag = "educators", security(("bearer" = [])),
    params(("id" = String, Path, description = "Educator id")),
    responses(
        (status = 200, description = "The educator", body = pb::Educator),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn get_educator(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Educator>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::GetEducator>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct EducatorPatch {
    last_name: Option<String>,
    first_name: Option<String>,
    middle_name: Option<String>,
    position: Option<String>,
    subjects: Option<Vec<String>>,
    /// Moves the educator to another organization.
    organization_id: Option<String>,
    /// YYYY-MM-DD; an empty string clears it.
    last_pd_completed_on: Option<String>,
    /// YYYY-MM-DD; an empty string clears it (ФИС ФРДО needs it).
    birth_date: Option<String>,
    /// male | female; an empty string clears it.
    sex: Option<String>,
}

/// Change an educator's record or move them to another organization.
#[utoipa::path(patch, path = "/api/v1/educators/{id}", tag = "educators", security(("bearer" = [])),
    params(("id" = String, Path, description = "Educator id")),
    request_body = EducatorPatch,
    responses(
        (status = 200, description = "The changed record", body = pb::Educator),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_educator(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EducatorPatch>,
) -> Result<Json<pb::Educator>, ApiError> {
    let req = pb::UpdateEducatorRequest {
        id,
        last_name: body.last_name,
        first_name: body.first_name,
        middle_name: body.middle_name,
        position: body.position,
        subjects: body.subjects.map(|values| pb::StringList { values }),
        organization_id: body.organization_id,
        last_pd_completed_on: body.last_pd_completed_on,
        birth_date: body.birth_date,
        sex: body.sex,
    };
    Ok(Json(
        s.send::<identity_ops::UpdateEducator>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ImportQuery {
    /// Check the file and report every bad row without importing anything.
    dry_run: bool,
    /// Put every row into this organization (then the file needs no
    /// organization_inn column).
    organization_id: String,
    /// `create` (default): a SNILS already known is a bad row. `update`: it
    /// updates that educator (names, position, subjects, organization, the
    /// last PD date when given) instead.
    #[param(inline)]
    mode: ImportMode,
}

/// What an educators import does with a SNILS already known.
#[derive(Deserialize, ToSchema, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ImportMode {
    #[default]
    Create,
    Update,
}

/// Import educators from a CSV file (`;` or `,`, UTF-8 with or without BOM,
/// or Windows-1251 as Excel saves it). Columns: snils, last_name,
/// first_name, middle_name, position, subjects (separated by `|`),
/// organization_inn, last_pd_completed_on, birth_date, sex (м/ж) — or
/// their Russian names.
/// All-or-nothing: any bad row and nothing is imported. Answers 202 at
/// once; follow `Location` for progress and the per-row report.
///
/// `mode=update` reloads a staff list: a known SNILS updates that educator
/// (`educator_updated`, or `educator_moved` when the row names another
/// organization; absent optional columns and an empty date keep what is
/// there); left educators and educators outside the caller's scope are bad
/// rows. Every job (dry run included) reports per organization of the file
/// the educators new, changed, unchanged, and `absent`: employed in that
/// organization but not in the file (reported only, never changed).
#[utoipa::path(post, path = "/api/v1/educators/imports", tag = "educators", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 202, description = "Accepted; poll Location", body = pb::ImportJob),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 413, description = "File too large", body = Problem),
        (status = 422, description = "Empty file, or an unknown organization", body = Problem),
    ))]
async fn start_import(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = read_file(body, s.import_limit).await?;
    let begin = pb::ImportBeginRequest {
        organization_id: q.organization_id,
        dry_run: q.dry_run,
        update_existing: q.mode == ImportMode::Update,
        ..Default::default()
    };
    let job: pb::ImportJob = s
        .send::<identity_ops::ImportBegin>(&caller.ctx, &begin)
        .await?;
    let chunks = upload(&s, &caller, &job.id, &bytes).await?;
    let commit = pb::ImportCommitRequest {
        import_id: job.id.clone(),
        chunks,
    };
    let job: pb::ImportJob = s
        .send::<identity_ops::ImportCommit>(&caller.ctx, &commit)
        .await?;
    let location = format!("/api/v1/educators/imports/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job),
    ))
}

/// Reads an uploaded file of at most `limit` bytes (else 413).
pub(super) async fn read_file(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError(AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("файл больше {} МБ", limit / (1024 * 1024)),
        ))
    })
}

/// Sends a begun import's file in pieces; returns how many.
pub(super) async fn upload(
    s: &AppState,
    caller: &Caller,
    import_id: &str,
    bytes: &[u8],
) -> Result<i32, ApiError> {
    let mut chunks = 0;
    for (seq, piece) in bytes.chunks(IMPORT_CHUNK_BYTES).enumerate() {
        let chunk = pb::ImportChunkRequest {
            import_id: import_id.to_owned(),
            seq: seq as i32,
            data: piece.to_vec(),
        };
        let _: Empty = s
            .send::<identity_ops::ImportChunk>(&caller.ctx, &chunk)
            .await?;
        chunks += 1;
    }
    Ok(chunks)
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ImportErrorsPage {
    /// Skip this many errors of the report (`error_count` tells how many there are).
    errors_offset: i32,
    /// Errors per page: default 1,000, at most 5,000.
    errors_limit: i32,
}

/// An import's status, progress and per-row report.
#[utoipa::path(get, path = "/api/v1/educators/imports/{id}", tag = "educators", security(("bearer" = [])),
    params(("id" = String, Path, description = "Import id"), ImportErrorsPage),
    responses(
        (status = 200, description = "The import job", body = pb::ImportJob),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn get_import(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<ImportErrorsPage>,
) -> Result<Json<pb::ImportJob>, ApiError> {
    let req = pb::GetImportRequest {
        id,
        errors_offset: page.errors_offset,
        errors_limit: page.errors_limit,
    };
    Ok(Json(
        s.send::<identity_ops::GetImport>(&caller.ctx, &req).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct Leaving {
    /// dismissal, retirement, transfer, other
    reason: String,
    /// YYYY-MM-DD
    left_on: String,
    #[schema(max_length = 10000)]
    comment: String,
}

/// The educator leaves the organization (dismissal, retirement, ...): the
/// record and its PD history are kept, marked as left; lists show only
/// employed educators unless `status=left|all`.
#[utoipa::path(post, path = "/api/v1/educators/{id}/leave", tag = "educators", security(("bearer" = [])),
    params(("id" = String, Path, description = "Educator id")),
    request_body = Leaving,
    responses(
        (status = 200, description = "The educator, marked as left", body = pb::Educator),
        (status = 404, description = "Unknown to the caller", body = Problem),
        (status = 409, description = "Already left", body = Problem),
    ))]
async fn educator_leaves(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Leaving>,
) -> Result<Json<pb::Educator>, ApiError> {
    let req = pb::EducatorLeavesRequest {
        id,
        reason: body.reason,
        left_on: body.left_on,
        comment: body.comment,
    };
    Ok(Json(
        s.send::<identity_ops::EducatorLeaves>(&caller.ctx, &req)
            .await?,
    ))
}

/// The educator's changes, oldest first (operators of their scope).
#[utoipa::path(get, path = "/api/v1/educators/{id}/history", tag = "educators", security(("bearer" = [])),
    params(("id" = String, Path, description = "Educator id")),
    responses(
        (status = 200, description = "Created, updated, moved, left", body = pb::EducatorHistory),
        (status = 404, description = "Unknown to the caller", body = Problem),
    ))]
async fn educator_history(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::EducatorHistory>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::EducatorHistory>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct ImportListQuery {
    /// Page size, at most 500 (default 50).
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// The caller's import jobs, newest first, each with its first 20 errors
/// (the job itself has the whole report).
#[utoipa::path(get, path = "/api/v1/educators/imports", tag = "educators", security(("bearer" = [])),
    params(ImportListQuery),
    responses((status = 200, description = "A page of import jobs", body = pb::ImportJobList)))]
async fn list_imports(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportListQuery>,
) -> Result<Json<pb::ImportJobList>, ApiError> {
    let req = pb::ListImportsRequest {
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        s.send::<identity_ops::ListImports>(&caller.ctx, &req)
            .await?,
    ))
}
