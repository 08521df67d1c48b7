//! Bulk import of educators from CSV. The file arrives in chunks (a NATS
//! message is at most 1 MB), is checked in the background with progress
//! kept on the job, and is imported all-or-nothing: one bad row and nothing
//! is written, with every bad row reported.
//!
//! In update mode a SNILS already known updates that educator (moving them
//! when the row names another organization) instead of being an error. Every
//! job reports, per organization of the file, the educators it creates,
//! changes and leaves as they are, and the employed educators of that
//! organization the file does not list ("absent": reported, never changed).
//! Organizations files use the same chunks (`organization_imports`).

use chrono::Utc;
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::{AppError, Grant, Principal, Role};
use pd_proto::common::v1::Empty;
use pd_proto::identity::v1 as pb;
use prost::Message;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure, limit, offset, org_location, path_id, ts};
use crate::domain::access::{self, OrgLocation};
use crate::domain::csv_import::{self, ImportRow, RowError};
use crate::domain::educator_sync::{
    self, Change, Columns, Decision, Fields, Known, OrgDiff, Planned,
};
use crate::{State, messages as msg};

/// Rows written per statement.
const BATCH: usize = 5_000;
/// SNILS numbers checked against the database per query during validation.
const CHECK_BATCH: usize = 10_000;
/// A claim on a job older than this means its worker died.
const CLAIM_TIMEOUT: &str = "2 minutes";
/// Largest file accepted.
const MAX_FILE_BYTES: i64 = 64 * 1024 * 1024;

/// What a job imports.
pub(crate) const EDUCATORS: &str = "educators";
pub(crate) const ORGANIZATIONS: &str = "organizations";

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: Uuid,
    pub created_by: Uuid,
    grants: sqlx::types::Json<Vec<Grant>>,
    organization_id: Option<Uuid>,
    pub dry_run: bool,
    pub status: String,
    total_rows: i64,
    processed_rows: i64,
    imported_rows: i64,
    errors: sqlx::types::Json<Vec<StoredError>>,
    message: String,
    encoding: String,
    created_at: chrono::DateTime<Utc>,
    finished_at: Option<chrono::DateTime<Utc>>,
    pub kind: String,
    pub region_id: Option<Uuid>,
    update_existing: bool,
    report: sqlx::types::Json<Vec<StoredDiff>>,
}

/// A report entry as the job keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDiff {
    #[serde(flatten)]
    diff: OrgDiff,
    organization_inn: String,
}

impl From<StoredDiff> for pb::ImportDiff {
    fn from(d: StoredDiff) -> Self {
        pb::ImportDiff {
            organization_id: d.diff.organization_id.to_string(),
            organization_inn: d.organization_inn,
            new: d.diff.new,
            changed: d.diff.changed,
            moved_in: d.diff.moved_in,
            unchanged: d.diff.unchanged,
            absent: d.diff.absent,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredError {
    row: i32,
    column: String,
    message: String,
}

/// Errors shown on a job unless the caller pages through them.
const DEFAULT_ERROR_PAGE: usize = 1_000;
const MAX_ERROR_PAGE: usize = 5_000;

impl JobRow {
    fn into_proto(self, errors_offset: usize, errors_limit: usize) -> pb::ImportJob {
        let error_count = self.errors.0.len() as i64;
        pb::ImportJob {
            id: self.id.to_string(),
            status: self.status,
            dry_run: self.dry_run,
            total_rows: self.total_rows,
            processed_rows: self.processed_rows,
            imported_rows: self.imported_rows,
            errors: self
                .errors
                .0
                .into_iter()
                .skip(errors_offset)
                .take(errors_limit)
                .map(|e| pb::RowError {
                    row: e.row,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
            message: self.message,
            encoding: self.encoding,
            created_at: ts(self.created_at),
            finished_at: self.finished_at.map(ts).unwrap_or_default(),
            error_count,
            update_existing: self.update_existing,
            report: self.report.0.into_iter().map(Into::into).collect(),
        }
    }
}

/// A job of a listed page: its first errors only, with their count.
#[derive(sqlx::FromRow)]
struct JobPageRow {
    #[sqlx(flatten)]
    job: JobRow,
    error_total: i64,
    total: i64,
}

/// Errors shown per job in the list; the job itself has the whole report.
const LISTED_ERRORS: usize = 20;

/// The caller's import jobs (an admin's: everyone's), newest first.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListImportsRequest,
) -> Result<pb::ImportJobList, AppError> {
    let p = ctx.principal()?;
    ensure(may_import(p))?;
    let rows: Vec<JobPageRow> = sqlx::query_as(
        "SELECT id, created_by, grants, organization_id, dry_run, status, total_rows, processed_rows,
                imported_rows, jsonb_path_query_array(errors, '$[0 to 19]') AS errors, message,
                encoding, created_at, finished_at, kind, region_id, update_existing,
                jsonb_path_query_array(report, '$[0 to 19]') AS report,
                jsonb_array_length(errors)::bigint AS error_total, count(*) OVER () AS total
         FROM import_jobs WHERE ($1 OR created_by = $2) AND kind = 'educators'
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(p.is_admin())
    .bind(p.user_id)
    .bind(limit(req.limit)?)
    .bind(offset(req.offset)?)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    Ok(pb::ImportJobList {
        items: rows
            .into_iter()
            .map(|r| {
                let mut job = r.job.into_proto(0, LISTED_ERRORS);
                job.error_count = r.error_total;
                job
            })
            .collect(),
        total,
    })
}

impl From<JobRow> for pb::ImportJob {
    fn from(j: JobRow) -> Self {
        j.into_proto(0, DEFAULT_ERROR_PAGE)
    }
}

async fn load_job(state: &State, id: Uuid) -> Result<Option<JobRow>, AppError> {
    sqlx::query_as("SELECT * FROM import_jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)
}

/// The caller's own job, else 404.
pub(crate) async fn own_job(state: &State, p: &Principal, id: &str) -> Result<JobRow, AppError> {
    let id = path_id(id, msg::IMPORT_NOT_FOUND)?;
    match load_job(state, id).await? {
        Some(j) if j.created_by == p.user_id || p.is_admin() => Ok(j),
        _ => Err(AppError::not_found(msg::IMPORT_NOT_FOUND)),
    }
}

pub(crate) fn may_import(p: &Principal) -> bool {
    p.is_admin()
        || p.has_role(Role::RegionalOperator)
        || p.has_role(Role::MunicipalOperator)
        || p.has_role(Role::OrgOperator)
}

pub(crate) async fn begin(
    state: State,
    ctx: RpcContext,
    req: pb::ImportBeginRequest,
) -> Result<pb::ImportJob, AppError> {
    let p = ctx.principal()?;
    let region = match req.kind.trim() {
        "" | EDUCATORS => {
            if !req.region_id.trim().is_empty() {
                return Err(AppError::invalid(
                    "region_id",
                    msg::IMPORT_REGION_FOR_ORGANIZATIONS,
                ));
            }
            None
        }
        ORGANIZATIONS => {
            if !req.organization_id.trim().is_empty() {
                return Err(AppError::invalid(
                    "organization_id",
                    msg::IMPORT_ORGANIZATION_FOR_EDUCATORS,
                ));
            }
            Some(crate::organization_imports::check_region(&state, p, &req.region_id).await?)
        }
        _ => return Err(AppError::invalid("kind", msg::IMPORT_KIND)),
    };
    let kind = if region.is_some() {
        ORGANIZATIONS
    } else {
        EDUCATORS
    };
    let org = if region.is_some() {
        None
    } else if req.organization_id.trim().is_empty() {
        ensure(may_import(p))?;
        None
    } else {
        let id = body_id("organization_id", &req.organization_id)?;
        let mut conn = state.pool.acquire().await.map_err(db_error)?;
        let loc = org_location(&mut conn, id)
            .await?
            .ok_or_else(|| AppError::invalid("organization_id", msg::ORGANIZATION_NOT_FOUND))?;
        ensure(access::can_manage_educators(p, &loc))?;
        Some(id)
    };
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO import_jobs (id, created_by, grants, organization_id, dry_run, status, kind,
                                  region_id, update_existing)
         VALUES ($1, $2, $3, $4, $5, 'receiving', $6, $7, $8)",
    )
    .bind(id)
    .bind(p.user_id)
    .bind(sqlx::types::Json(&p.grants))
    .bind(org)
    .bind(req.dry_run)
    .bind(kind)
    .bind(region)
    .bind(req.update_existing && region.is_none())
    .execute(&state.pool)
    .await
    .map_err(db_error)?;
    load_job(&state, id)
        .await?
        .map(Into::into)
        .ok_or_else(|| AppError::internal("job vanished"))
}

pub(crate) async fn chunk(
    state: State,
    ctx: RpcContext,
    req: pb::ImportChunkRequest,
) -> Result<Empty, AppError> {
    let p = ctx.principal()?;
    let job = own_job(&state, p, &req.import_id).await?;
    if job.status != "receiving" {
        return Err(AppError::conflict(msg::IMPORT_STATE));
    }
    let size: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(length(data)), 0)::bigint FROM import_chunks WHERE job_id = $1",
    )
    .bind(job.id)
    .fetch_one(&state.pool)
    .await
    .map_err(db_error)?;
    if size + req.data.len() as i64 > MAX_FILE_BYTES {
        return Err(AppError::new(
            pd_domain::ErrorKind::PayloadTooLarge,
            msg::FILE_TOO_LARGE.replace("{mb}", &(MAX_FILE_BYTES / (1024 * 1024)).to_string()),
        ));
    }
    // A retried chunk replaces itself.
    sqlx::query(
        "INSERT INTO import_chunks (job_id, seq, data) VALUES ($1, $2, $3)
         ON CONFLICT (job_id, seq) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(job.id)
    .bind(req.seq)
    .bind(req.data)
    .execute(&state.pool)
    .await
    .map_err(db_error)?;
    Ok(Empty {})
}

pub(crate) async fn commit(
    state: State,
    ctx: RpcContext,
    req: pb::ImportCommitRequest,
) -> Result<pb::ImportJob, AppError> {
    let p = ctx.principal()?;
    let job = own_job(&state, p, &req.import_id).await?;
    if job.kind != EDUCATORS {
        return Err(AppError::conflict(msg::IMPORT_OTHER_KIND));
    }
    if job.status != "receiving" {
        return Err(AppError::conflict(msg::IMPORT_STATE));
    }
    if req.chunks == 0 {
        // Nothing was uploaded: say so now instead of queueing an empty job.
        sqlx::query("DELETE FROM import_jobs WHERE id = $1")
            .bind(job.id)
            .execute(&state.pool)
            .await
            .map_err(db_error)?;
        return Err(AppError::invalid("file", msg::IMPORT_EMPTY));
    }
    check_chunks(&state, job.id, req.chunks).await?;
    let claimed = sqlx::query(
        "UPDATE import_jobs SET status = 'queued' WHERE id = $1 AND status = 'receiving'",
    )
    .bind(job.id)
    .execute(&state.pool)
    .await
    .map_err(db_error)?
    .rows_affected();
    if claimed != 1 {
        return Err(AppError::conflict(msg::IMPORT_STATE));
    }
    spawn(state.clone(), job.id);
    load_job(&state, job.id)
        .await?
        .map(Into::into)
        .ok_or_else(|| AppError::internal("job vanished"))
}

/// Every chunk the uploader counted has arrived.
pub(crate) async fn check_chunks(state: &State, job: Uuid, expected: i32) -> Result<(), AppError> {
    let chunks: i64 = sqlx::query_scalar("SELECT count(*) FROM import_chunks WHERE job_id = $1")
        .bind(job)
        .fetch_one(&state.pool)
        .await
        .map_err(db_error)?;
    if chunks != i64::from(expected) {
        return Err(AppError::invalid("chunks", msg::IMPORT_CHUNKS));
    }
    Ok(())
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: pb::GetImportRequest,
) -> Result<pb::ImportJob, AppError> {
    let p = ctx.principal()?;
    let limit = match req.errors_limit {
        n if n <= 0 => DEFAULT_ERROR_PAGE,
        n => (n as usize).min(MAX_ERROR_PAGE),
    };
    let job = own_job(&state, p, &req.id).await?;
    // An organizations file is answered when imported, never a job to poll.
    if job.kind != EDUCATORS {
        return Err(AppError::not_found(msg::IMPORT_NOT_FOUND));
    }
    Ok(job.into_proto(req.errors_offset.max(0) as usize, limit))
}

/// Jobs interrupted by a stop are run again: their import is one
/// transaction, so a rerun starts from a clean slate.
pub(crate) async fn resume_unfinished(state: &State) {
    let sql = format!(
        "SELECT id FROM import_jobs WHERE kind = 'educators' AND (status = 'queued'
           OR (status IN ('validating', 'importing')
               AND (claimed_at IS NULL OR claimed_at < now() - interval '{CLAIM_TIMEOUT}')))
         ORDER BY created_at"
    );
    let ids: Vec<Uuid> = match sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(&state.pool)
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for unfinished imports");
            return;
        }
    };
    for id in ids {
        tracing::info!(import_id = %id, "resuming import");
        spawn(state.clone(), id);
    }
}

fn spawn(state: State, id: Uuid) {
    tokio::spawn(async move {
        if let Err(e) = process(&state, id).await {
            tracing::error!(import_id = %id, error = %e, "import failed");
            // Never over a job that finished (e.g. taken over by another instance).
            let _ = sqlx::query(
                "UPDATE import_jobs SET status = 'failed', message = $2, finished_at = now()
                 WHERE id = $1 AND status NOT IN ('completed', 'rejected')",
            )
            .bind(id)
            .bind(msg::IMPORT_INTERNAL)
            .execute(&state.pool)
            .await;
        }
    });
}

async fn set_status(state: &State, id: Uuid, status: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE import_jobs SET status = $2, claimed_at = now() WHERE id = $1")
        .bind(id)
        .bind(status)
        .execute(&state.pool)
        .await?;
    Ok(())
}

/// A job's answer: its status, the bad rows, the report and a message.
struct Outcome<'a> {
    status: &'a str,
    total: i64,
    errors: &'a [RowError],
    report: Vec<StoredDiff>,
    message: String,
    encoding: &'a str,
}

async fn finish(state: &State, id: Uuid, o: Outcome<'_>) -> anyhow::Result<()> {
    let stored: Vec<StoredError> = o
        .errors
        .iter()
        .map(|e| StoredError {
            row: e.row,
            column: e.column.clone(),
            message: e.message.clone(),
        })
        .collect();
    sqlx::query(
        "UPDATE import_jobs SET status = $2, total_rows = $3, processed_rows = $3, errors = $4,
                message = $5, encoding = $6, report = $7, finished_at = clock_timestamp()
         WHERE id = $1",
    )
    .bind(id)
    .bind(o.status)
    .bind(o.total)
    .bind(sqlx::types::Json(stored))
    .bind(o.message)
    .bind(o.encoding)
    .bind(sqlx::types::Json(o.report))
    .execute(&state.pool)
    .await?;
    // The file is not needed once the job has its answer.
    sqlx::query("DELETE FROM import_chunks WHERE job_id = $1")
        .bind(id)
        .execute(&state.pool)
        .await?;
    Ok(())
}

/// The file's rows placed in their organizations, with those
/// organizations' INNs for the report.
struct Located<'a> {
    rows: Vec<(&'a ImportRow, OrgLocation)>,
    inns: HashMap<Uuid, String>,
}

impl Located<'_> {
    /// The diffs with their organizations' INNs (`others`: of those the
    /// file does not name).
    fn report(&self, diffs: Vec<OrgDiff>, others: &HashMap<Uuid, String>) -> Vec<StoredDiff> {
        diffs
            .into_iter()
            .map(|diff| StoredDiff {
                organization_inn: self
                    .inns
                    .get(&diff.organization_id)
                    .or_else(|| others.get(&diff.organization_id))
                    .cloned()
                    .unwrap_or_default(),
                diff,
            })
            .collect()
    }
}

fn rejected_message(errors: &[RowError]) -> String {
    let bad_rows = errors.iter().map(|e| e.row).collect::<HashSet<_>>().len();
    msg::IMPORT_REJECTED
        .replace("{errors}", &errors.len().to_string())
        .replace("{rows}", &bad_rows.to_string())
}

/// Counts of a plan: new, changed, unchanged.
fn counts(planned: &[Planned<'_>]) -> (usize, usize, usize) {
    planned
        .iter()
        .fold((0, 0, 0), |(n, c, u), p| match p.decision {
            Decision::Create => (n + 1, c, u),
            Decision::Change { .. } => (n, c + 1, u),
            Decision::Unchanged { .. } => (n, c, u + 1),
        })
}

fn fill(template: &str, (new, changed, unchanged): (usize, usize, usize)) -> String {
    template
        .replace("{new}", &new.to_string())
        .replace("{changed}", &changed.to_string())
        .replace("{unchanged}", &unchanged.to_string())
}

async fn process(state: &State, id: Uuid) -> anyhow::Result<()> {
    let job = load_job(state, id)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .ok_or_else(|| anyhow::anyhow!("import job {id} not found"))?;
    // Claim the job, so that two instances never work on it at once.
    let claim = format!(
        "UPDATE import_jobs SET status = 'validating', claimed_at = now()
         WHERE id = $1 AND (status = 'queued' OR (status IN ('validating', 'importing')
           AND (claimed_at IS NULL OR claimed_at < now() - interval '{CLAIM_TIMEOUT}')))"
    );
    let claimed = sqlx::query(sqlx::AssertSqlSafe(claim))
        .bind(id)
        .execute(&state.pool)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(());
    }
    let chunks: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM import_chunks WHERE job_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&state.pool)
            .await?;
    let bytes = chunks.concat();
    let default_org = job.organization_id.is_some();
    let today = crate::educators::today(state.clock.now());
    let parsed =
        tokio::task::spawn_blocking(move || csv_import::parse(&bytes, default_org, today)).await?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(csv_import::FileError(m)) => {
            let o = Outcome {
                status: "rejected",
                total: 0,
                errors: &[],
                report: Vec::new(),
                message: m,
                encoding: "",
            };
            return finish(state, id, o).await;
        }
    };
    let total = (parsed.rows.len()
        + parsed
            .errors
            .iter()
            .map(|e| e.row)
            .collect::<HashSet<_>>()
            .len()) as i64;
    sqlx::query("UPDATE import_jobs SET total_rows = $2, encoding = $3 WHERE id = $1")
        .bind(id)
        .bind(total)
        .bind(parsed.encoding)
        .execute(&state.pool)
        .await?;
    let principal = Principal {
        user_id: job.created_by,
        login: String::new(),
        grants: job.grants.0.clone(),
    };
    let mut errors = parsed.errors;
    let located = locate_rows(
        state,
        &principal,
        job.organization_id,
        &parsed.rows,
        &mut errors,
    )
    .await?;
    let known = {
        let mut conn = state.pool.acquire().await?;
        let snils: Vec<&str> = parsed.rows.iter().map(|r| r.snils.as_str()).collect();
        known_educators(&mut conn, &snils, false, Some((state, id))).await?
    };
    let planned = educator_sync::plan(
        &located.rows,
        &known,
        job.update_existing,
        parsed.columns,
        &principal,
        &mut errors,
    );
    let reload = (job.update_existing && job.organization_id.is_none()).then_some(&principal);
    let employed = {
        let mut conn = state.pool.acquire().await?;
        employed_counts(&mut conn, &planned, reload).await?
    };
    let report = located.report(
        educator_sync::report(&planned, &known, &employed.counts),
        &employed.inns,
    );
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() {
        let o = Outcome {
            status: "rejected",
            total,
            errors: &errors,
            report,
            message: rejected_message(&errors),
            encoding: parsed.encoding,
        };
        return finish(state, id, o).await;
    }
    if job.dry_run {
        let message = fill(msg::IMPORT_CHECKED, counts(&planned))
            .replace("{rows}", &planned.len().to_string());
        let o = Outcome {
            status: "completed",
            total,
            errors: &[],
            report,
            message,
            encoding: parsed.encoding,
        };
        return finish(state, id, o).await;
    }
    set_status(state, id, "importing").await?;
    // In SNILS order, so two overlapping imports wait for each other on
    // the same row first instead of deadlocking.
    let mut rows = located.rows.clone();
    rows.sort_by(|a, b| a.0.snils.as_str().cmp(b.0.snils.as_str()));
    let import = Import {
        job: &job,
        principal: &principal,
        columns: parsed.columns,
        located: &located,
        known_before: &known,
    };
    write_or_reject(state, &import, &rows, parsed.encoding, total).await
}

/// Resolves each row's organization and checks the caller's scope over it;
/// problems go to `errors`.
async fn locate_rows<'a>(
    state: &State,
    principal: &Principal,
    default_org: Option<Uuid>,
    rows: &'a [ImportRow],
    errors: &mut Vec<RowError>,
) -> anyhow::Result<Located<'a>> {
    let mut by_inn: HashMap<String, OrgLocation> = HashMap::new();
    let inns: Vec<String> = rows
        .iter()
        .filter_map(|r| r.organization_inn.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found: Vec<(Uuid, String, Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, inn, municipality_id, region_id FROM organizations
         WHERE inn = ANY($1) OR id = $2",
    )
    .bind(&inns)
    .bind(default_org)
    .fetch_all(&state.pool)
    .await?;
    let mut org_inns = HashMap::new();
    let mut default_loc = None;
    for (org_id, inn, municipality_id, region_id) in found {
        let loc = OrgLocation {
            org_id,
            municipality_id,
            region_id,
        };
        if default_org == Some(org_id) {
            default_loc = Some(loc);
        }
        org_inns.insert(org_id, inn.clone());
        by_inn.insert(inn, loc);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut bad = |column: &str, message: &str| {
            errors.push(RowError {
                row: r.row,
                column: column.to_owned(),
                message: message.to_owned(),
            })
        };
        let loc = match (&r.organization_inn, default_loc) {
            (Some(inn), _) => by_inn.get(inn).copied(),
            (None, d) => d,
        };
        let Some(loc) = loc else {
            bad("organization_inn", msg::IMPORT_ORG_UNKNOWN);
            continue;
        };
        if !access::can_manage_educators(principal, &loc) {
            bad("organization_inn", msg::IMPORT_NO_ORG_ACCESS);
            continue;
        }
        out.push((r, loc));
    }
    Ok(Located {
        rows: out,
        inns: org_inns,
    })
}

/// An educator found under a SNILS of the file.
#[derive(sqlx::FromRow)]
struct KnownRow {
    snils: String,
    id: Uuid,
    organization_id: Uuid,
    municipality_id: Uuid,
    region_id: Uuid,
    last_name: String,
    first_name: String,
    middle_name: String,
    position: String,
    subjects: Vec<String>,
    last_pd_completed_on: Option<chrono::NaiveDate>,
    birth_date: Option<chrono::NaiveDate>,
    sex: String,
    employed: bool,
}

impl KnownRow {
    fn into_known(self) -> (String, Known) {
        let known = Known {
            id: self.id,
            location: OrgLocation {
                org_id: self.organization_id,
                municipality_id: self.municipality_id,
                region_id: self.region_id,
            },
            fields: Fields {
                last_name: self.last_name,
                first_name: self.first_name,
                middle_name: self.middle_name,
                position: self.position,
                subjects: self.subjects,
                organization_id: self.organization_id,
                last_pd_completed_on: self.last_pd_completed_on,
                birth_date: self.birth_date,
                sex: self.sex,
            },
            employed: self.employed,
        };
        (self.snils, known)
    }
}

macro_rules! known_educators_sql {
    () => {
        "SELECT e.snils, e.id, e.organization_id, o.municipality_id, o.region_id, e.last_name,
                e.first_name, e.middle_name, e.position, e.subjects, e.last_pd_completed_on,
                e.birth_date, e.sex, e.employment_status = 'employed' AS employed
         FROM unnest($1::text[]) AS f(snils)
         JOIN educators e ON e.snils = f.snils
         JOIN organizations o ON o.id = e.organization_id"
    };
}

/// The educators the database has under the file's SNILS numbers. A join
/// against the unnested batch (not `= ANY` over the whole file, whose plan
/// degraded to minutes at 250,000 rows) in batches; `lock` takes them for
/// update (in SNILS order), `progress` shows the check on the job.
async fn known_educators(
    conn: &mut sqlx::PgConnection,
    snils: &[&str],
    lock: bool,
    progress: Option<(&State, Uuid)>,
) -> anyhow::Result<HashMap<String, Known>> {
    let mut known = HashMap::new();
    let mut checked = 0i64;
    for batch in snils.chunks(CHECK_BATCH) {
        let sql = if lock {
            concat!(known_educators_sql!(), " ORDER BY e.snils FOR UPDATE OF e")
        } else {
            known_educators_sql!()
        };
        let found: Vec<KnownRow> = sqlx::query_as(sql)
            .bind(batch)
            .fetch_all(&mut *conn)
            .await?;
        known.extend(found.into_iter().map(KnownRow::into_known));
        checked += batch.len() as i64;
        if let Some((state, job_id)) = progress {
            sqlx::query(
                "UPDATE import_jobs SET processed_rows = $2, claimed_at = now() WHERE id = $1",
            )
            .bind(job_id)
            .bind(checked)
            .execute(&state.pool)
            .await?;
        }
    }
    Ok(known)
}

/// Employed educators of each organization the plan names and, when the
/// file reloads the importer's whole scope (update mode without a default
/// organization), of every other organization of that scope: one the
/// file leaves out has all its educators absent. With the INNs of the
/// organizations the file does not name.
struct Employed {
    counts: HashMap<Uuid, i64>,
    inns: HashMap<Uuid, String>,
}

async fn employed_counts(
    conn: &mut sqlx::PgConnection,
    planned: &[Planned<'_>],
    reload: Option<&Principal>,
) -> anyhow::Result<Employed> {
    let named: HashSet<Uuid> = planned.iter().map(|p| p.loc.org_id).collect();
    let orgs: Vec<Uuid> = named.iter().copied().collect();
    let (mut regions, mut munis, mut own) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(p) = reload {
        regions = p.scopes(Role::RegionalOperator).collect();
        if p.is_admin() {
            regions.extend(planned.iter().map(|p| p.loc.region_id));
        }
        munis = p.scopes(Role::MunicipalOperator).collect();
        own = p.scopes(Role::OrgOperator).collect();
    }
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT o.id, o.inn, count(*)
         FROM organizations o
         JOIN educators e ON e.organization_id = o.id AND e.employment_status = 'employed'
         WHERE o.id = ANY($1) OR o.region_id = ANY($2) OR o.municipality_id = ANY($3)
            OR o.id = ANY($4)
         GROUP BY o.id, o.inn",
    )
    .bind(&orgs)
    .bind(&regions)
    .bind(&munis)
    .bind(&own)
    .fetch_all(conn)
    .await?;
    let mut out = Employed {
        counts: HashMap::new(),
        inns: HashMap::new(),
    };
    for (org, inn, n) in rows {
        if !named.contains(&org) {
            out.inns.insert(org, inn);
        }
        out.counts.insert(org, n);
    }
    Ok(out)
}

/// What the writing of a checked file needs.
struct Import<'a> {
    job: &'a JobRow,
    principal: &'a Principal,
    columns: Columns,
    located: &'a Located<'a>,
    /// The educators known when the file was checked.
    known_before: &'a HashMap<String, Known>,
}

/// Writes the rows. When another import took some of the same SNILS numbers
/// meanwhile, or the educators to update changed so that a row no longer
/// holds, the job is rejected with those rows named (as a dry run would
/// have), instead of failing with an internal error.
async fn write_or_reject(
    state: &State,
    import: &Import<'_>,
    rows: &[(&ImportRow, OrgLocation)],
    encoding: &str,
    total: i64,
) -> anyhow::Result<()> {
    let job = import.job;
    let (errors, message) = match write_rows(state, import, rows).await {
        Ok(None) => return Ok(()),
        Ok(Some(errors)) => {
            let m = msg::IMPORT_CHANGED_MEANWHILE.replace("{errors}", &errors.len().to_string());
            (errors, m)
        }
        Err(e) if is_snils_conflict(&e) => {
            // Rows meant to create educators whose SNILS is now taken.
            let mut conn = state.pool.acquire().await?;
            let snils: Vec<&str> = rows.iter().map(|(r, _)| r.snils.as_str()).collect();
            let now_known = known_educators(&mut conn, &snils, false, None).await?;
            let errors: Vec<RowError> = rows
                .iter()
                .filter(|(r, _)| {
                    now_known.contains_key(r.snils.as_str())
                        && !import.known_before.contains_key(r.snils.as_str())
                })
                .map(|(r, _)| RowError {
                    row: r.row,
                    column: "snils".to_owned(),
                    message: msg::SNILS_TAKEN.to_owned(),
                })
                .collect();
            let m = msg::IMPORT_TAKEN_MEANWHILE.replace("{errors}", &errors.len().to_string());
            (errors, m)
        }
        Err(e) => return Err(e),
    };
    let mut errors = errors;
    errors.sort_by_key(|e| e.row);
    let o = Outcome {
        status: "rejected",
        total,
        errors: &errors,
        report: Vec::new(),
        message,
        encoding,
    };
    finish(state, job.id, o).await
}

/// Another import took some of the same SNILS numbers: a unique violation,
/// or a deadlock between the two writes (the loser is rolled back).
fn is_snils_conflict(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>().is_some_and(|e| {
        matches!(e, sqlx::Error::Database(d)
            if (d.code().as_deref() == Some("23505") && d.constraint() == Some("educators_snils_key"))
                || d.code().as_deref() == Some("40P01"))
    })
}

/// Writes every row and its event in one transaction, reporting progress
/// on the job between batches. In update mode the known educators are
/// locked and every row decided again against them first: `Some(errors)`
/// when a row no longer holds (nothing is written then).
async fn write_rows(
    state: &State,
    import: &Import<'_>,
    rows: &[(&ImportRow, OrgLocation)],
) -> anyhow::Result<Option<Vec<RowError>>> {
    let job = import.job;
    let actor = job.created_by.to_string();
    let mut tx = state.pool.begin().await?;
    let known = if job.update_existing {
        let snils: Vec<&str> = rows.iter().map(|(r, _)| r.snils.as_str()).collect();
        known_educators(&mut tx, &snils, true, None).await?
    } else {
        HashMap::new()
    };
    let mut errors = Vec::new();
    let planned = educator_sync::plan(
        rows,
        &known,
        job.update_existing,
        import.columns,
        import.principal,
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(Some(errors));
    }
    let reload = (job.update_existing && job.organization_id.is_none()).then_some(import.principal);
    let employed = employed_counts(&mut tx, &planned, reload).await?;
    let report = import.located.report(
        educator_sync::report(&planned, &known, &employed.counts),
        &employed.inns,
    );
    let mut done = 0i64;
    for batch in planned.chunks(BATCH) {
        let creates: Vec<&Planned> = batch
            .iter()
            .filter(|p| p.decision == Decision::Create)
            .collect();
        insert_educators(state, &mut tx, &actor, &creates).await?;
        let changes: Vec<(&Change, OrgLocation)> = batch
            .iter()
            .filter_map(|p| match &p.decision {
                Decision::Change(c) => Some((&**c, p.loc)),
                _ => None,
            })
            .collect();
        update_educators(state, &mut tx, job.created_by, &changes).await?;
        done += batch.len() as i64;
        // Progress is visible before the import commits.
        sqlx::query("UPDATE import_jobs SET processed_rows = $2, claimed_at = now() WHERE id = $1")
            .bind(job.id)
            .bind(done)
            .execute(&state.pool)
            .await?;
    }
    let (new, changed, unchanged) = counts(&planned);
    // The job completes in the same transaction as its rows.
    sqlx::query(
        "UPDATE import_jobs SET status = 'completed', processed_rows = $2, imported_rows = $3,
                message = $4, report = $5, finished_at = clock_timestamp() WHERE id = $1",
    )
    .bind(job.id)
    .bind(done)
    .bind((new + changed) as i64)
    .bind(fill(msg::IMPORT_DONE, (new, changed, unchanged)))
    .bind(sqlx::types::Json(report))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM import_chunks WHERE job_id = $1")
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(import_id = %job.id, new, changed, unchanged, "educators imported");
    Ok(None)
}

/// The record a row creates.
fn new_fields(r: &ImportRow, loc: &OrgLocation) -> Fields {
    Fields {
        last_name: r.last_name.clone(),
        first_name: r.first_name.clone(),
        middle_name: r.middle_name.clone(),
        position: r.position.clone(),
        subjects: r.subjects.clone(),
        organization_id: loc.org_id,
        last_pd_completed_on: r.last_pd_completed_on,
        birth_date: r.birth_date,
        sex: r.sex.clone(),
    }
}

/// Creates the educators of a batch, each with its `educator_created`.
async fn insert_educators(
    state: &State,
    tx: &mut sqlx::PgConnection,
    actor: &str,
    batch: &[&Planned<'_>],
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = batch.iter().map(|_| Uuid::now_v7()).collect();
    let col =
        |f: &dyn Fn(&ImportRow) -> String| batch.iter().map(|p| f(p.row)).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO educators (id, snils, last_name, first_name, middle_name, position, subjects,
                                organization_id, last_pd_completed_on, birth_date, sex)
         SELECT id, snils, last_name, first_name, middle_name, position,
                CASE WHEN subjects = '' THEN '{}'::text[] ELSE string_to_array(subjects, E'\\x1f') END,
                organization_id, last_pd, birth_date, sex
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::uuid[], $9::date[], $10::date[], $11::text[])
              AS t(id, snils, last_name, first_name, middle_name, position, subjects, organization_id, last_pd,
                   birth_date, sex)",
    )
    .bind(&ids)
    .bind(col(&|r| r.snils.as_str().to_owned()))
    .bind(col(&|r| r.last_name.clone()))
    .bind(col(&|r| r.first_name.clone()))
    .bind(col(&|r| r.middle_name.clone()))
    .bind(col(&|r| r.position.clone()))
    .bind(col(&|r| r.subjects.join("\u{1f}")))
    .bind(batch.iter().map(|p| p.loc.org_id).collect::<Vec<_>>())
    .bind(batch.iter().map(|p| p.row.last_pd_completed_on).collect::<Vec<_>>())
    .bind(batch.iter().map(|p| p.row.birth_date).collect::<Vec<_>>())
    .bind(col(&|r| r.sex.clone()))
    .execute(&mut *tx)
    .await?;
    let events = batch
        .iter()
        .zip(&ids)
        .map(|(p, id)| PendingEvent {
            event_type: "educator_created",
            aggregate_id: id.to_string(),
            payload: pb::EducatorCreated {
                educator: Some(crate::educators::snapshot(
                    *id,
                    &new_fields(p.row, &p.loc),
                    &p.loc,
                )),
            }
            .encode_to_vec(),
        })
        .collect();
    state.outbox.write_many(tx, actor, events).await?;
    Ok(())
}

/// Changes the known educators of a batch as `UpdateEducator` does: the
/// record, a history entry ("moved" or "updated", with the fields that
/// changed) and `educator_moved` or `educator_updated` with the same
/// snapshot.
async fn update_educators(
    state: &State,
    tx: &mut sqlx::PgConnection,
    actor: Uuid,
    changes: &[(&Change, OrgLocation)],
) -> anyhow::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&Fields) -> String| {
        changes
            .iter()
            .map(|(c, _)| f(&c.after))
            .collect::<Vec<String>>()
    };
    let ids: Vec<Uuid> = changes.iter().map(|(c, _)| c.id).collect();
    sqlx::query(
        "UPDATE educators e
         SET last_name = t.last_name, first_name = t.first_name, middle_name = t.middle_name,
             position = t.position,
             subjects = CASE WHEN t.subjects = '' THEN '{}'::text[]
                             ELSE string_to_array(t.subjects, E'\\x1f') END,
             organization_id = t.organization_id, last_pd_completed_on = t.last_pd,
             birth_date = t.birth_date, sex = t.sex, updated_at = now()
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::uuid[], $8::date[], $9::date[], $10::text[])
              AS t(id, last_name, first_name, middle_name, position, subjects, organization_id, last_pd,
                   birth_date, sex)
         WHERE e.id = t.id",
    )
    .bind(&ids)
    .bind(col(&|f| f.last_name.clone()))
    .bind(col(&|f| f.first_name.clone()))
    .bind(col(&|f| f.middle_name.clone()))
    .bind(col(&|f| f.position.clone()))
    .bind(col(&|f| f.subjects.join("\u{1f}")))
    .bind(changes.iter().map(|(c, _)| c.after.organization_id).collect::<Vec<_>>())
    .bind(changes.iter().map(|(c, _)| c.after.last_pd_completed_on).collect::<Vec<_>>())
    .bind(changes.iter().map(|(c, _)| c.after.birth_date).collect::<Vec<_>>())
    .bind(col(&|f| f.sex.clone()))
    .execute(&mut *tx)
    .await?;
    let kind = |c: &Change| {
        if c.moved_from.is_some() {
            "moved"
        } else {
            "updated"
        }
    };
    sqlx::query(
        "INSERT INTO educator_history (id, educator_id, actor_id, change, details)
         SELECT id, educator_id, $3, change, details::jsonb
         FROM UNNEST($1::uuid[], $2::uuid[], $4::text[], $5::text[]) AS t(id, educator_id, change, details)",
    )
    .bind(changes.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(&ids)
    .bind(actor)
    .bind(changes.iter().map(|(c, _)| kind(c).to_owned()).collect::<Vec<_>>())
    .bind(
        changes
            .iter()
            .map(|(c, _)| educator_sync::changed_fields(&c.before, &c.after).to_string())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    let events = changes
        .iter()
        .map(|(c, loc)| {
            let educator = Some(crate::educators::snapshot(c.id, &c.after, loc));
            match c.moved_from {
                Some(from) => PendingEvent {
                    event_type: "educator_moved",
                    aggregate_id: c.id.to_string(),
                    payload: pb::EducatorMoved {
                        educator,
                        from_organization_id: from.to_string(),
                    }
                    .encode_to_vec(),
                },
                None => PendingEvent {
                    event_type: "educator_updated",
                    aggregate_id: c.id.to_string(),
                    payload: pb::EducatorUpdated { educator }.encode_to_vec(),
                },
            }
        })
        .collect();
    state
        .outbox
        .write_many(tx, &actor.to_string(), events)
        .await?;
    Ok(())
}
