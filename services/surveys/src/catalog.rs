//! The competence catalog of a campaign: loaded from CSV (all-or-nothing,
//! every bad row reported) and edited one competence at a time by the
//! ministry or the regional operator; read by everyone in the region
//! (educators pick their deficits from it).

use pd_bus::RpcContext;
use pd_domain::bounds::{CODE, NAME};
use pd_domain::error::Validator;
use pd_domain::{AppError, FieldError};
use pd_proto::common::v1::Empty;
use pd_proto::surveys::v1 as pb;
use sqlx::PgConnection;
use std::collections::HashSet;
use uuid::Uuid;

use crate::db::{campaign_region, db_error, ensure, from_json, ts};
use crate::domain::{access, catalog_csv, instruments as rules};
use crate::{State, messages as msg};

/// Row errors reported at most (the count is in the detail).
const MAX_REPORTED: usize = 1_000;

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::CompetenceCatalog, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, _) = campaign_region(&mut conn, p, &req.campaign_id).await?;
    load(&mut conn, campaign).await
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<pb::CompetenceCatalog, AppError> {
    let head: Option<(i32, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT version, updated_at FROM competence_catalogs WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let items: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT code, name, group_code, group_name FROM competences WHERE campaign_id = $1 ORDER BY position, code",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(pb::CompetenceCatalog {
        campaign_id: campaign.to_string(),
        items: items
            .into_iter()
            .map(|(code, name, group_code, group_name)| pb::Competence {
                code,
                name,
                group_code,
                group_name,
            })
            .collect(),
        version: head.map(|h| h.0).unwrap_or(0),
        updated_at: head.map(|h| ts(h.1)).unwrap_or_default(),
    })
}

/// Replaces the catalog with the file's rows, or changes nothing and
/// reports every bad row (422, `rows[N].column`).
pub(crate) async fn import(
    s: State,
    ctx: RpcContext,
    req: pb::ImportCompetencesRequest,
) -> Result<pb::CompetenceImport, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut tx, p, &req.campaign_id).await?;
    ensure(access::manages_region(p, region))?;
    let parsed = catalog_csv::parse(&req.data).map_err(|m| AppError::invalid("file", m))?;
    let mut errors = parsed.errors;
    // Codes the campaign's instruments name must stay in the catalog.
    let kept: HashSet<&str> = parsed.rows.iter().map(|c| c.code.as_str()).collect();
    for code in used_codes(&mut tx, campaign).await? {
        if !kept.contains(code.as_str()) {
            errors.push(FieldError {
                field: format!("codes[{code}]"),
                message: msg::CATALOG_USED.to_owned(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(rejected(errors));
    }
    if req.dry_run {
        return Ok(pb::CompetenceImport {
            status: "checked".into(),
            rows: parsed.rows.len() as i32,
            encoding: parsed.encoding.into(),
            version: load(&mut tx, campaign).await?.version,
            ..Default::default()
        });
    }
    sqlx::query("DELETE FROM competences WHERE campaign_id = $1")
        .bind(campaign)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let version = bump(&mut tx, campaign, region).await?;
    let column = |f: fn(&pb::Competence) -> &String| -> Vec<&str> {
        parsed.rows.iter().map(|c| f(c).as_str()).collect()
    };
    sqlx::query(
        "INSERT INTO competences (campaign_id, code, name, group_code, group_name, position)
         SELECT $1, c, n, gc, gn, o::int FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
             WITH ORDINALITY AS t(c, n, gc, gn, o)",
    )
    .bind(campaign)
    .bind(column(|c| &c.code))
    .bind(column(|c| &c.name))
    .bind(column(|c| &c.group_code))
    .bind(column(|c| &c.group_name))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    changed(&s, &ctx, &mut tx, campaign, region, version).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pb::CompetenceImport {
        status: "imported".into(),
        rows: parsed.rows.len() as i32,
        encoding: parsed.encoding.into(),
        version,
        ..Default::default()
    })
}

/// A 422 listing the rows' errors as fields `rows[N].column`, and codes
/// the file would drop while in use as `codes[CODE]`.
fn rejected(mut errors: Vec<FieldError>) -> AppError {
    let total = errors.len();
    errors.truncate(MAX_REPORTED);
    let mut err = AppError::invalid_fields(errors);
    err.detail = format!("{} ({total})", msg::IMPORT_REJECTED);
    err.with("error_count", total.to_string())
}

/// Adds or renames one competence.
pub(crate) async fn put(
    s: State,
    ctx: RpcContext,
    req: pb::PutCompetenceRequest,
) -> Result<pb::CompetenceCatalog, AppError> {
    let p = ctx.principal()?;
    let c = req.competence.unwrap_or_default();
    let mut v = Validator::new();
    if v.require("competence.code", &c.code).is_some() {
        v.max_len("competence.code", &c.code, CODE);
    }
    if v.require("competence.name", &c.name).is_some() {
        v.max_len("competence.name", &c.name, NAME);
    }
    v.max_len("competence.group_code", &c.group_code, CODE);
    v.max_len("competence.group_name", &c.group_name, NAME);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut tx, p, &req.campaign_id).await?;
    ensure(access::manages_region(p, region))?;
    let version = bump(&mut tx, campaign, region).await?;
    sqlx::query(
        "INSERT INTO competences (campaign_id, code, name, group_code, group_name, position)
         VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(max(position), 0) + 1 FROM competences WHERE campaign_id = $1))
         ON CONFLICT (campaign_id, code) DO UPDATE SET name = $3, group_code = $4, group_name = $5",
    )
    .bind(campaign)
    .bind(c.code.trim())
    .bind(c.name.trim())
    .bind(c.group_code.trim())
    .bind(c.group_name.trim())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    changed(&s, &ctx, &mut tx, campaign, region, version).await?;
    let out = load(&mut tx, campaign).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// Removes a competence no instrument of the campaign names.
pub(crate) async fn delete(
    s: State,
    ctx: RpcContext,
    req: pb::DeleteCompetenceRequest,
) -> Result<Empty, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut tx, p, &req.campaign_id).await?;
    ensure(access::manages_region(p, region))?;
    if used_codes(&mut tx, campaign).await?.contains(&req.code) {
        return Err(AppError::conflict(msg::CATALOG_USED));
    }
    let gone = sqlx::query("DELETE FROM competences WHERE campaign_id = $1 AND code = $2")
        .bind(campaign)
        .bind(&req.code)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::not_found(msg::COMPETENCE_NOT_FOUND));
    }
    let version = bump(&mut tx, campaign, region).await?;
    changed(&s, &ctx, &mut tx, campaign, region, version).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Empty {})
}

/// Raises the catalog's version (creating it), serialising its writers.
async fn bump(conn: &mut PgConnection, campaign: Uuid, region: Uuid) -> Result<i32, AppError> {
    sqlx::query_scalar(
        "INSERT INTO competence_catalogs (campaign_id, region_id, version) VALUES ($1, $2, 1)
         ON CONFLICT (campaign_id) DO UPDATE SET version = competence_catalogs.version + 1, updated_at = now()
         RETURNING version",
    )
    .bind(campaign)
    .bind(region)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

async fn changed(
    s: &State,
    ctx: &RpcContext,
    tx: &mut PgConnection,
    campaign: Uuid,
    region: Uuid,
    version: i32,
) -> Result<(), AppError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM competences WHERE campaign_id = $1")
        .bind(campaign)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let event = pb::CompetenceCatalogChanged {
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        version,
        count: count as i32,
    };
    s.outbox
        .write(
            tx,
            "competence_catalog_changed",
            &campaign.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The codes the campaign's instruments name (deficit options, sections,
/// questions' competences).
async fn used_codes(conn: &mut PgConnection, campaign: Uuid) -> Result<HashSet<String>, AppError> {
    let rows: Vec<(serde_json::Value, serde_json::Value, String)> = sqlx::query_as(
        "SELECT questions, sections, purpose FROM instruments WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out = HashSet::new();
    for (questions, sections, purpose) in rows {
        let req = pb::SaveInstrumentRequest {
            purpose,
            questions: from_json(questions)?,
            sections: from_json(sections)?,
            ..Default::default()
        };
        out.extend(rules::referenced_codes(&req).into_iter().map(|(_, c)| c));
    }
    Ok(out)
}

/// Each code an instrument names must be in the campaign's catalog: 422
/// naming the fields that are not.
pub(crate) async fn ensure_in_catalog(
    conn: &mut PgConnection,
    campaign: Uuid,
    req: &pb::SaveInstrumentRequest,
) -> Result<(), AppError> {
    let refs = rules::referenced_codes(req);
    if refs.is_empty() {
        return Ok(());
    }
    let known: Vec<String> =
        sqlx::query_scalar("SELECT code FROM competences WHERE campaign_id = $1")
            .bind(campaign)
            .fetch_all(conn)
            .await
            .map_err(db_error)?;
    let known: HashSet<String> = known.into_iter().collect();
    let mut v = Validator::new();
    for (field, code) in refs {
        if !known.contains(code.trim()) {
            v.add(field, msg::NOT_IN_CATALOG);
        }
    }
    v.finish()
}
