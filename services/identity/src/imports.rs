//! Bulk import of educators from CSV. The file arrives in chunks (a NATS
//! message is at most 1 MB), is checked in the background with progress
//! kept on the job, and is imported all-or-nothing: one bad row and nothing
//! is written, with every bad row reported.

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
use crate::{State, messages as msg};

/// Rows written per statement.
const BATCH: usize = 5_000;
/// SNILS numbers checked against the database per query during validation.
const CHECK_BATCH: usize = 10_000;
/// A claim on a job older than this means its worker died.
const CLAIM_TIMEOUT: &str = "2 minutes";
/// Largest file accepted.
const MAX_FILE_BYTES: i64 = 64 * 1024 * 1024;

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    created_by: Uuid,
    grants: sqlx::types::Json<Vec<Grant>>,
    organization_id: Option<Uuid>,
    dry_run: bool,
    status: String,
    total_rows: i64,
    processed_rows: i64,
    imported_rows: i64,
    errors: sqlx::types::Json<Vec<StoredError>>,
    message: String,
    encoding: String,
    created_at: chrono::DateTime<Utc>,
    finished_at: Option<chrono::DateTime<Utc>>,
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
                encoding, created_at, finished_at, jsonb_array_length(errors)::bigint AS error_total,
                count(*) OVER () AS total
         FROM import_jobs WHERE ($1 OR created_by = $2)
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
async fn own_job(state: &State, p: &Principal, id: &str) -> Result<JobRow, AppError> {
    let id = path_id(id, msg::IMPORT_NOT_FOUND)?;
    match load_job(state, id).await? {
        Some(j) if j.created_by == p.user_id || p.is_admin() => Ok(j),
        _ => Err(AppError::not_found(msg::IMPORT_NOT_FOUND)),
    }
}

fn may_import(p: &Principal) -> bool {
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
    let org = if req.organization_id.trim().is_empty() {
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
        "INSERT INTO import_jobs (id, created_by, grants, organization_id, dry_run, status)
         VALUES ($1, $2, $3, $4, $5, 'receiving')",
    )
    .bind(id)
    .bind(p.user_id)
    .bind(sqlx::types::Json(&p.grants))
    .bind(org)
    .bind(req.dry_run)
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
            "файл больше 64 МБ",
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
    let chunks: i64 = sqlx::query_scalar("SELECT count(*) FROM import_chunks WHERE job_id = $1")
        .bind(job.id)
        .fetch_one(&state.pool)
        .await
        .map_err(db_error)?;
    if chunks != i64::from(req.chunks) {
        return Err(AppError::invalid("chunks", msg::IMPORT_CHUNKS));
    }
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
    Ok(job.into_proto(req.errors_offset.max(0) as usize, limit))
}

/// Jobs interrupted by a stop are run again: their import is one
/// transaction, so a rerun starts from a clean slate.
pub(crate) async fn resume_unfinished(state: &State) {
    let sql = format!(
        "SELECT id FROM import_jobs WHERE status = 'queued' OR (status IN ('validating', 'importing')
           AND (claimed_at IS NULL OR claimed_at < now() - interval '{CLAIM_TIMEOUT}')) ORDER BY created_at"
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
            .bind("внутренняя ошибка при импорте; попробуйте ещё раз")
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

async fn finish(
    state: &State,
    id: Uuid,
    status: &str,
    total: i64,
    errors: &[RowError],
    message: String,
    encoding: &str,
) -> anyhow::Result<()> {
    let stored: Vec<StoredError> = errors
        .iter()
        .map(|e| StoredError {
            row: e.row,
            column: e.column.clone(),
            message: e.message.clone(),
        })
        .collect();
    sqlx::query(
        "UPDATE import_jobs SET status = $2, total_rows = $3, processed_rows = $3, errors = $4,
                message = $5, encoding = $6, finished_at = clock_timestamp() WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(total)
    .bind(sqlx::types::Json(stored))
    .bind(message)
    .bind(encoding)
    .execute(&state.pool)
    .await?;
    // The file is not needed once the job has its answer.
    sqlx::query("DELETE FROM import_chunks WHERE job_id = $1")
        .bind(id)
        .execute(&state.pool)
        .await?;
    Ok(())
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
    let today = crate::educators::today();
    let parsed =
        tokio::task::spawn_blocking(move || csv_import::parse(&bytes, default_org, today)).await?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(csv_import::FileError(m)) => return finish(state, id, "rejected", 0, &[], m, "").await,
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
        id,
        &principal,
        job.organization_id,
        &parsed.rows,
        &mut errors,
    )
    .await?;
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() {
        let bad_rows = errors.iter().map(|e| e.row).collect::<HashSet<_>>().len();
        let m = format!(
            "ошибок: {} в {} строках; ничего не импортировано",
            errors.len(),
            bad_rows
        );
        return finish(state, id, "rejected", total, &errors, m, parsed.encoding).await;
    }
    if job.dry_run {
        let m = format!(
            "проверка пройдена: {} строк готовы к импорту",
            located.len()
        );
        return finish(state, id, "completed", total, &[], m, parsed.encoding).await;
    }
    set_status(state, id, "importing").await?;
    // In SNILS order, so two overlapping imports wait for each other on
    // the same row first instead of deadlocking.
    let mut located = located;
    located.sort_by(|a, b| a.0.snils.as_str().cmp(b.0.snils.as_str()));
    write_or_reject(state, &job, &located, parsed.encoding, total).await
}

/// Resolves each row's organization and checks the caller's scope and SNILS
/// uniqueness against the database; problems go to `errors`.
async fn locate_rows<'a>(
    state: &State,
    job_id: Uuid,
    principal: &Principal,
    default_org: Option<Uuid>,
    rows: &'a [ImportRow],
    errors: &mut Vec<RowError>,
) -> anyhow::Result<Vec<(&'a ImportRow, OrgLocation)>> {
    let mut by_inn: HashMap<String, OrgLocation> = HashMap::new();
    let inns: Vec<String> = rows
        .iter()
        .filter_map(|r| r.organization_inn.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found: Vec<(Uuid, String, Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, inn, municipality_id, region_id FROM organizations WHERE inn = ANY($1)",
    )
    .bind(&inns)
    .fetch_all(&state.pool)
    .await?;
    for (org_id, inn, municipality_id, region_id) in found {
        by_inn.insert(
            inn,
            OrgLocation {
                org_id,
                municipality_id,
                region_id,
            },
        );
    }
    let default_loc = match default_org {
        Some(id) => {
            let mut conn = state.pool.acquire().await?;
            org_location(&mut conn, id)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail))?
        }
        None => None,
    };
    let taken = taken_snils(state, job_id, rows).await?;
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
        if taken.contains(r.snils.as_str()) {
            bad("snils", msg::SNILS_TAKEN);
            continue;
        }
        out.push((r, loc));
    }
    Ok(out)
}

/// The file's SNILS numbers already in the database. A join against the
/// unnested batch (not `= ANY` over the whole file, whose plan degraded to
/// minutes at 250,000 rows) in batches, with the progress of the check
/// shown on the job between them.
async fn taken_snils(
    state: &State,
    job_id: Uuid,
    rows: &[ImportRow],
) -> anyhow::Result<HashSet<String>> {
    let mut taken = HashSet::new();
    let mut checked = 0i64;
    for batch in rows.chunks(CHECK_BATCH) {
        let snilses: Vec<&str> = batch.iter().map(|r| r.snils.as_str()).collect();
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT e.snils FROM unnest($1::text[]) AS f(snils) JOIN educators e ON e.snils = f.snils",
        )
        .bind(&snilses)
        .fetch_all(&state.pool)
        .await?;
        taken.extend(found);
        checked += batch.len() as i64;
        sqlx::query("UPDATE import_jobs SET processed_rows = $2, claimed_at = now() WHERE id = $1")
            .bind(job_id)
            .bind(checked)
            .execute(&state.pool)
            .await?;
    }
    Ok(taken)
}

/// Writes the rows; when another import took some of the same SNILS numbers
/// meanwhile, the job is rejected with those rows named (as a dry run would
/// have), instead of failing with an internal error.
async fn write_or_reject(
    state: &State,
    job: &JobRow,
    rows: &[(&ImportRow, OrgLocation)],
    encoding: &str,
    total: i64,
) -> anyhow::Result<()> {
    match write_rows(state, job, rows).await {
        Err(e) if is_snils_conflict(&e) => {
            let plain: Vec<ImportRow> = rows.iter().map(|(r, _)| (*r).clone()).collect();
            let taken = taken_snils(state, job.id, &plain).await?;
            let errors: Vec<RowError> = plain
                .iter()
                .filter(|r| taken.contains(r.snils.as_str()))
                .map(|r| RowError {
                    row: r.row,
                    column: "snils".to_owned(),
                    message: msg::SNILS_TAKEN.to_owned(),
                })
                .collect();
            let m = format!(
                "ошибок: {} — эти педагоги добавлены другим импортом во время этого; ничего не импортировано",
                errors.len()
            );
            finish(state, job.id, "rejected", total, &errors, m, encoding).await
        }
        other => other,
    }
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
/// on the job between batches.
async fn write_rows(
    state: &State,
    job: &JobRow,
    rows: &[(&ImportRow, OrgLocation)],
) -> anyhow::Result<()> {
    let actor = job.created_by.to_string();
    let mut tx = state.pool.begin().await?;
    let mut done = 0i64;
    for batch in rows.chunks(BATCH) {
        let ids: Vec<Uuid> = batch.iter().map(|_| Uuid::now_v7()).collect();
        let col = |f: &dyn Fn(&ImportRow) -> String| {
            batch.iter().map(|(r, _)| f(r)).collect::<Vec<String>>()
        };
        sqlx::query(
            "INSERT INTO educators (id, snils, last_name, first_name, middle_name, position, subjects,
                                    organization_id, last_pd_completed_on)
             SELECT id, snils, last_name, first_name, middle_name, position,
                    CASE WHEN subjects = '' THEN '{}'::text[] ELSE string_to_array(subjects, E'\\x1f') END,
                    organization_id, last_pd
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::uuid[], $9::date[])
                  AS t(id, snils, last_name, first_name, middle_name, position, subjects, organization_id, last_pd)",
        )
        .bind(&ids)
        .bind(col(&|r| r.snils.as_str().to_owned()))
        .bind(col(&|r| r.last_name.clone()))
        .bind(col(&|r| r.first_name.clone()))
        .bind(col(&|r| r.middle_name.clone()))
        .bind(col(&|r| r.position.clone()))
        .bind(col(&|r| r.subjects.join("\u{1f}")))
        .bind(batch.iter().map(|(_, l)| l.org_id).collect::<Vec<_>>())
        .bind(batch.iter().map(|(r, _)| r.last_pd_completed_on).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        let events = batch
            .iter()
            .zip(&ids)
            .map(|((r, loc), id)| PendingEvent {
                event_type: "educator_created",
                aggregate_id: id.to_string(),
                payload: pb::EducatorCreated {
                    educator: Some(pb::EducatorSnapshot {
                        id: id.to_string(),
                        last_name: r.last_name.clone(),
                        first_name: r.first_name.clone(),
                        middle_name: r.middle_name.clone(),
                        position: r.position.clone(),
                        subjects: r.subjects.clone(),
                        organization_id: loc.org_id.to_string(),
                        municipality_id: loc.municipality_id.to_string(),
                        region_id: loc.region_id.to_string(),
                        last_pd_completed_on: r
                            .last_pd_completed_on
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                    }),
                }
                .encode_to_vec(),
            })
            .collect();
        state.outbox.write_many(&mut tx, &actor, events).await?;
        done += batch.len() as i64;
        // Progress is visible before the import commits.
        sqlx::query("UPDATE import_jobs SET processed_rows = $2, claimed_at = now() WHERE id = $1")
            .bind(job.id)
            .bind(done)
            .execute(&state.pool)
            .await?;
    }
    // The job completes in the same transaction as its rows.
    sqlx::query(
        "UPDATE import_jobs SET status = 'completed', processed_rows = $2, imported_rows = $2,
                message = $3, finished_at = clock_timestamp() WHERE id = $1",
    )
    .bind(job.id)
    .bind(done)
    .bind(format!("импортировано педагогов: {done}"))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM import_chunks WHERE job_id = $1")
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(import_id = %job.id, rows = done, "educators imported");
    Ok(())
}
