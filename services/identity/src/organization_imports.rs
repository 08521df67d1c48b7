//! Bulk import of a region's organizations from CSV: a known INN updates
//! that organization (`organization_updated`), a new one creates it
//! (`organization_created`), all in one transaction with their events, or
//! nothing when any row is bad (a 422 naming every bad cell as
//! `rows[N].column`). The file arrives in the educators import's chunks (a
//! region's ~2,000 organizations with their official names exceed one NATS
//! message), and is imported synchronously: a few thousand rows take well
//! under the caller's deadline.

use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::error::FieldError;
use pd_domain::{AppError, Principal, Role};
use pd_proto::identity::v1 as pb;
use prost::Message;
use std::collections::HashMap;
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure};
use crate::domain::access;
use crate::domain::csv_import::{FileError, RowError};
use crate::domain::org_import::{self, KnownOrg, OrgDecision, OrgRow};
use crate::imports::{self, ORGANIZATIONS};
use crate::organizations::OrganizationRow;
use crate::{State, messages as msg};

/// Bad cells named in a rejection (their count is in `error_count`).
const MAX_REPORTED: usize = 1_000;

/// The region of an organizations import: it exists (else 422), and the
/// caller may add organizations somewhere in it (admin, its regional
/// operator, a municipal operator of one of its municipalities), else 403.
pub(crate) async fn check_region(
    state: &State,
    p: &Principal,
    region_id: &str,
) -> Result<Uuid, AppError> {
    let region = body_id("region_id", region_id)?;
    let municipalities: Vec<Uuid> = p.scopes(Role::MunicipalOperator).collect();
    let (exists, operates): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM regions WHERE id = $1),
                EXISTS (SELECT 1 FROM municipalities WHERE region_id = $1 AND id = ANY($2))",
    )
    .bind(region)
    .bind(&municipalities)
    .fetch_one(&state.pool)
    .await
    .map_err(db_error)?;
    if !exists {
        return Err(AppError::invalid("region_id", msg::REGION_NOT_FOUND));
    }
    ensure(access::can_administer_region(p, region) || operates)?;
    Ok(region)
}

pub(crate) async fn import(
    state: State,
    ctx: RpcContext,
    req: pb::ImportOrganizationsRequest,
) -> Result<pb::OrganizationImport, AppError> {
    let p = ctx.principal()?;
    let job = imports::own_job(&state, p, &req.import_id).await?;
    if job.kind != ORGANIZATIONS {
        return Err(AppError::conflict(msg::IMPORT_OTHER_KIND));
    }
    if job.status != "receiving" {
        return Err(AppError::conflict(msg::IMPORT_STATE));
    }
    let region = job
        .region_id
        .ok_or_else(|| AppError::internal("organizations import without a region"))?;
    if req.chunks != 0 {
        imports::check_chunks(&state, job.id, req.chunks).await?;
    }
    let chunks: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM import_chunks WHERE job_id = $1 ORDER BY seq")
            .bind(job.id)
            .fetch_all(&state.pool)
            .await
            .map_err(db_error)?;
    // Taking the file ends the job: the answer goes to this call alone.
    let taken = sqlx::query("DELETE FROM import_jobs WHERE id = $1 AND status = 'receiving'")
        .bind(job.id)
        .execute(&state.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
    if taken != 1 {
        return Err(AppError::conflict(msg::IMPORT_STATE));
    }
    if req.chunks == 0 {
        return Err(AppError::invalid("file", msg::IMPORT_EMPTY));
    }
    let bytes = chunks.concat();
    let parsed = tokio::task::spawn_blocking(move || org_import::parse(&bytes))
        .await
        .map_err(|e| pd_bus::rpc::internal("parsing an organizations file", e))?
        .map_err(|FileError(m)| AppError::invalid("file", m))?;
    let mut errors = parsed.errors;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let municipalities: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, name, code FROM municipalities WHERE region_id = $1")
            .bind(region)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
    let known = known_organizations(&mut tx, &parsed.rows).await?;
    let planned = org_import::plan(
        &parsed.rows,
        region,
        &org_import::municipality_index(&municipalities),
        &known,
        p,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(rejected(errors));
    }
    let created: Vec<(&OrgRow, Uuid, &str)> = planned
        .iter()
        .filter_map(|(r, d)| match d {
            OrgDecision::Create {
                municipality_id,
                kind,
            } => Some((*r, *municipality_id, kind.as_str())),
            _ => None,
        })
        .collect();
    let updated: Vec<(&OrgRow, Uuid, &str)> = planned
        .iter()
        .filter_map(|(r, d)| match d {
            OrgDecision::Update { id, kind } => Some((*r, *id, kind.as_str())),
            _ => None,
        })
        .collect();
    let unchanged = planned.len() - created.len() - updated.len();
    let fill = |template: &str| {
        template
            .replace("{created}", &created.len().to_string())
            .replace("{updated}", &updated.len().to_string())
            .replace("{unchanged}", &unchanged.to_string())
    };
    let mut answer = pb::OrganizationImport {
        status: "checked".into(),
        rows: planned.len() as i32,
        created: created.len() as i32,
        updated: updated.len() as i32,
        unchanged: unchanged as i32,
        encoding: parsed.encoding.into(),
        message: fill(msg::ORG_IMPORT_CHECKED),
        dry_run: job.dry_run,
    };
    if job.dry_run {
        return Ok(answer);
    }
    let mut events = insert_organizations(&mut tx, region, &created).await?;
    events.extend(update_organizations(&mut tx, &updated).await?);
    state
        .outbox
        .write_many(&mut tx, &ctx.actor(), events)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(
        region_id = %region,
        created = created.len(),
        updated = updated.len(),
        unchanged,
        "organizations imported"
    );
    answer.status = "imported".into();
    answer.message = fill(msg::ORG_IMPORT_DONE);
    Ok(answer)
}

/// The organizations with the file's INNs, locked (in INN order) until the
/// import commits, so that what was decided still holds then.
async fn known_organizations(
    conn: &mut sqlx::PgConnection,
    rows: &[OrgRow],
) -> Result<HashMap<String, KnownOrg>, AppError> {
    let inns: Vec<&str> = rows.iter().map(|r| r.inn.as_str()).collect();
    let found: Vec<(String, Uuid, Uuid, Uuid, String, String)> = sqlx::query_as(
        "SELECT inn, id, region_id, municipality_id, name, kind FROM organizations
         WHERE inn = ANY($1) ORDER BY inn FOR UPDATE",
    )
    .bind(&inns)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(found
        .into_iter()
        .map(|(inn, id, region_id, municipality_id, name, kind)| {
            let k = KnownOrg {
                id,
                region_id,
                municipality_id,
                name,
                kind,
            };
            (inn, k)
        })
        .collect())
}

/// A 422 naming every bad cell as `rows[N].column` (the first
/// `MAX_REPORTED`; `error_count` says how many there are).
fn rejected(mut errors: Vec<RowError>) -> AppError {
    errors.sort_by_key(|e| e.row);
    let total = errors.len();
    let fields = errors
        .into_iter()
        .take(MAX_REPORTED)
        .map(|e| FieldError {
            field: if e.column.is_empty() {
                format!("rows[{}]", e.row)
            } else {
                format!("rows[{}].{}", e.row, e.column)
            },
            message: e.message,
        })
        .collect();
    let mut err = AppError::invalid_fields(fields);
    err.detail = msg::ORG_IMPORT_REJECTED.replace("{errors}", &total.to_string());
    err.with("error_count", total.to_string())
}

const RETURNING: &str = "id, region_id, municipality_id, name, kind, inn, created_at";

/// Creates the new organizations; their `organization_created` events.
async fn insert_organizations(
    tx: &mut sqlx::PgConnection,
    region: Uuid,
    rows: &[(&OrgRow, Uuid, &str)],
) -> Result<Vec<PendingEvent>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO organizations (id, region_id, municipality_id, name, kind, inn)
         SELECT id, $2, municipality_id, name, kind, inn
         FROM UNNEST($1::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
              AS t(id, municipality_id, name, kind, inn)
         RETURNING {RETURNING}"
    );
    let created: Vec<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(rows.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
        .bind(region)
        .bind(rows.iter().map(|(_, m, _)| *m).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(r, _, _)| r.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, k)| *k).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(r, _, _)| r.inn.as_str())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(created
        .into_iter()
        .map(|row| {
            let org = pb::Organization::from(row);
            PendingEvent {
                event_type: "organization_created",
                aggregate_id: org.id.clone(),
                payload: pb::OrganizationCreated {
                    organization: Some(org),
                }
                .encode_to_vec(),
            }
        })
        .collect())
}

/// Renames known organizations or changes their kind, as
/// `UpdateOrganization` does; their `organization_updated` events.
async fn update_organizations(
    tx: &mut sqlx::PgConnection,
    rows: &[(&OrgRow, Uuid, &str)],
) -> Result<Vec<PendingEvent>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let returning = RETURNING
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE organizations o SET name = t.name, kind = t.kind
         FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS t(id, name, kind)
         WHERE o.id = t.id
         RETURNING {returning}"
    );
    let updated: Vec<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(rows.iter().map(|(_, id, _)| *id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(r, _, _)| r.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, k)| *k).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(updated
        .into_iter()
        .map(|row| {
            let org = pb::Organization::from(row);
            PendingEvent {
                event_type: "organization_updated",
                aggregate_id: org.id.clone(),
                payload: pb::OrganizationUpdated {
                    organization: Some(org),
                }
                .encode_to_vec(),
            }
        })
        .collect())
}
