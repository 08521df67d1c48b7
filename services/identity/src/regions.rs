//! Regions and their PD model settings.

use pd_bus::RpcContext;
use pd_domain::bounds::NAME;
use pd_domain::{AppError, error::Validator};
use pd_proto::common::v1::{Empty, IdRequest};
use pd_proto::identity::v1 as pb;
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::{db_error, ensure, path_id, ts};
use crate::domain::values;
use crate::{State, messages as msg};

#[derive(FromRow)]
pub(crate) struct RegionRow {
    id: Uuid,
    code: String,
    name: String,
    time_zone: String,
    pd_model: String,
    pd_interval_years: i32,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<RegionRow> for pb::Region {
    fn from(r: RegionRow) -> Self {
        pb::Region {
            id: r.id.to_string(),
            code: r.code,
            name: r.name,
            time_zone: r.time_zone,
            pd_model: r.pd_model,
            pd_interval_years: r.pd_interval_years,
            created_at: ts(r.created_at),
        }
    }
}

macro_rules! columns {
    () => {
        "id, code, name, time_zone, pd_model, pd_interval_years, created_at"
    };
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateRegionRequest,
) -> Result<pb::Region, AppError> {
    let p = ctx.principal()?;
    ensure(p.is_admin())?;
    let mut v = Validator::new();
    let code = v.check("code", values::region_code(&req.code));
    let name = v.check("name", values::required_text(&req.name, NAME));
    let time_zone = v.check("time_zone", values::time_zone(&req.time_zone));
    let pd_model = v.check("pd_model", values::pd_model(&req.pd_model));
    let interval = req.pd_interval_years.unwrap_or(3);
    if !(1..=10).contains(&interval) {
        v.add("pd_interval_years", msg::PD_INTERVAL);
    }
    v.finish()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: RegionRow = sqlx::query_as(concat!(
        "INSERT INTO regions (id, code, name, time_zone, pd_model, pd_interval_years)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(code)
    .bind(name)
    .bind(time_zone)
    .bind(pd_model)
    .bind(interval)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let region = pb::Region::from(row);
    let event = pb::RegionCreated {
        region: Some(region.clone()),
    };
    state
        .outbox
        .write(&mut tx, "region_created", &region.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &region).await?;
    Ok(region)
}

/// Regions are not secret: any signed-in user may list them.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    _: Empty,
) -> Result<pb::RegionList, AppError> {
    ctx.principal()?;
    let rows: Vec<RegionRow> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM regions ORDER BY name"
    ))
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    Ok(pb::RegionList {
        items: rows.into_iter().map(Into::into).collect(),
    })
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::Region, AppError> {
    ctx.principal()?;
    let id = path_id(&req.id, msg::REGION_NOT_FOUND)?;
    let row: Option<RegionRow> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM regions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(db_error)?;
    row.map(Into::into)
        .ok_or_else(|| AppError::not_found(msg::REGION_NOT_FOUND))
}

/// Renames a region, corrects its time zone or its PD interval (admins);
/// `region_updated` tells the other services.
pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateRegionRequest,
) -> Result<pb::Region, AppError> {
    let p = ctx.principal()?;
    ensure(p.is_admin())?;
    let id = path_id(&req.id, msg::REGION_NOT_FOUND)?;
    let mut v = Validator::new();
    let name = req
        .name
        .as_deref()
        .and_then(|n| v.check("name", values::required_text(n, NAME)));
    let time_zone = req
        .time_zone
        .as_deref()
        .and_then(|t| v.check("time_zone", values::time_zone(t)));
    if let Some(i) = req.pd_interval_years
        && !(1..=10).contains(&i)
    {
        v.add("pd_interval_years", msg::PD_INTERVAL);
    }
    v.finish()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: Option<RegionRow> = sqlx::query_as(concat!(
        "UPDATE regions SET name = COALESCE($2, name), time_zone = COALESCE($3, time_zone),
                pd_interval_years = COALESCE($4, pd_interval_years)
         WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(name)
    .bind(time_zone)
    .bind(req.pd_interval_years)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let region: pb::Region = row
        .map(Into::into)
        .ok_or_else(|| AppError::not_found(msg::REGION_NOT_FOUND))?;
    let event = pb::RegionUpdated {
        region: Some(region.clone()),
    };
    state
        .outbox
        .write(&mut tx, "region_updated", &region.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(region)
}
