//! Individual routes of the cumulative model (`cumulative_route`, seed
//! 004): an educator (or an operator of their scope) applies to a
//! cumulative program's group with the modules of their route; no number
//! is used, the modules' hours are drawn from the organization's
//! plan-order quota in the same transaction as the seat, the row and the
//! event. School teams draw from the same quota (`teams.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::enrollment::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::applications::{self, by_ids};
use crate::db::{body_id, db_error};
use crate::domain::access::Unit;
use crate::domain::routes::{self, RouteError};
use crate::seats;
use crate::{State, messages as msg};

/// A cumulative program's group as a route or a team needs it.
#[derive(sqlx::FromRow)]
pub(crate) struct RouteGroup {
    pub campaign_id: Uuid,
    pub region_id: Uuid,
    pub program_id: Uuid,
    pub status: String,
    pub program_kind: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub module_names: Vec<String>,
    pub module_hours: Vec<i32>,
}

impl RouteGroup {
    /// The hours of the chosen modules, by the route rules (422 otherwise).
    pub fn hours(&self, chosen: &[String]) -> Result<i32, AppError> {
        let modules: Vec<(String, i32)> = self
            .module_names
            .iter()
            .cloned()
            .zip(self.module_hours.iter().copied())
            .collect();
        routes::hours(
            &self.program_kind,
            &modules,
            chosen,
            (self.starts_on, self.ends_on),
        )
        .map_err(|e| match e {
            RouteError::NotCumulative => AppError::invalid("group_id", msg::NOT_CUMULATIVE),
            RouteError::NoModules => AppError::invalid("modules", msg::NO_MODULES),
            RouteError::UnknownModule(m) => {
                AppError::invalid("modules", format!("{}: {m}", msg::UNKNOWN_MODULE))
            }
            RouteError::RepeatedModule(m) => {
                AppError::invalid("modules", format!("{}: {m}", msg::REPEATED_MODULE))
            }
            RouteError::LongerThanSixMonths => AppError::invalid("group_id", msg::ROUTE_TOO_LONG),
        })
    }
}

/// The group (of the caller's region), open for this campaign's
/// applications now: 404, or 409 naming the phase or the cancellation.
pub(crate) async fn open_group(
    tx: &mut PgConnection,
    p: &pd_domain::Principal,
    group: Uuid,
    now: DateTime<Utc>,
) -> Result<RouteGroup, AppError> {
    let g: RouteGroup = sqlx::query_as(
        "SELECT campaign_id, region_id, program_id, status, program_kind, starts_on, ends_on,
                module_names, module_hours
         FROM groups WHERE id = $1",
    )
    .bind(group)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .filter(|g: &RouteGroup| p.in_region(g.region_id))
    .ok_or_else(|| AppError::not_found(msg::GROUP_NOT_FOUND))?;
    if g.status != "published" {
        return Err(AppError::conflict(msg::GROUP_CANCELLED).with("reason", "group_cancelled"));
    }
    pd_calendar::ensure_open(tx, g.campaign_id, &["applications"], now).await?;
    Ok(g)
}

/// Draws `hours` from the organization's plan-order quota: 409
/// `hours_exhausted` (with the hours left) when they are not there.
pub(crate) async fn draw_hours(
    tx: &mut PgConnection,
    campaign: Uuid,
    organization: Uuid,
    hours: i32,
) -> Result<(), AppError> {
    let left: Option<i32> = sqlx::query_scalar(
        "UPDATE hour_quotas SET used = used + $3
         WHERE campaign_id = $1 AND organization_id = $2 AND used + $3 <= hours
         RETURNING hours - used",
    )
    .bind(campaign)
    .bind(organization)
    .bind(hours)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if left.is_some() {
        return Ok(());
    }
    let left: Option<i32> = sqlx::query_scalar(
        "SELECT hours - used FROM hour_quotas WHERE campaign_id = $1 AND organization_id = $2",
    )
    .bind(campaign)
    .bind(organization)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    Err(AppError::conflict(msg::HOURS_EXHAUSTED)
        .with("reason", "hours_exhausted")
        .with("hours_left", left.unwrap_or(0).max(0).to_string())
        .with("hours_needed", hours.to_string()))
}

/// An educator's unit as identity has it (422 when not known, or gone).
pub(crate) async fn educator_unit(
    tx: &mut PgConnection,
    educator: Uuid,
    field: &str,
) -> Result<Unit, AppError> {
    let row: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT region_id, municipality_id, organization_id FROM known_educators
         WHERE id = $1 AND active",
    )
    .bind(educator)
    .fetch_optional(tx)
    .await
    .map_err(db_error)?;
    let (region, municipality, organization) =
        row.ok_or_else(|| AppError::invalid(field, msg::EDUCATOR_UNKNOWN))?;
    Ok(Unit {
        region,
        municipality,
        organization,
    })
}

/// Applies with an individual route: the group of a cumulative program,
/// its modules (at most 6 months), a seat or a waitlist place, and the
/// modules' hours from the organization's plan-order.
pub(crate) async fn apply(
    s: State,
    ctx: RpcContext,
    req: pb::RouteRequest,
) -> Result<pb::Application, AppError> {
    let p = ctx.principal()?;
    let group = body_id("group_id", &req.group_id)?;
    let educator = applications::applicant(p, &req.educator_id)?;
    let mut v = pd_domain::error::Validator::new();
    v.max_items(
        "modules",
        &req.modules,
        pd_domain::bounds::LIST,
        pd_domain::bounds::TITLE,
    );
    v.finish()?;
    let now = s.clock.now();
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let unit = educator_unit(&mut tx, educator, "educator_id").await?;
    let filed_by = applications::filed_by(p, educator, &unit)?;
    let g = open_group(&mut tx, p, group, now).await?;
    if g.region_id != unit.region {
        return Err(AppError::not_found(msg::GROUP_NOT_FOUND));
    }
    let hours = g.hours(&req.modules)?;
    let (seat, _) = seats::take(&mut tx, group, req.join_waitlist).await?;
    draw_hours(&mut tx, g.campaign_id, unit.organization, hours).await?;
    let id = Uuid::now_v7();
    let modules: Vec<String> = req.modules.iter().map(|m| m.trim().to_owned()).collect();
    let new = applications::NewApplication {
        id,
        campaign: g.campaign_id,
        unit,
        educator,
        group,
        program: g.program_id,
        number: None,
        seat,
        filed_by,
        filed_by_user: p.user_id,
        voucher_blocks: &[],
        modules: &modules,
        hours,
    };
    applications::insert(&mut tx, &new)
        .await
        .map_err(|e| match db_error(e) {
            e if e.kind == pd_domain::ErrorKind::Conflict => {
                AppError::conflict(msg::ALREADY_IN_GROUP).with("reason", "already_applied")
            }
            e => e,
        })?;
    let row = by_ids(&mut tx, &[id])
        .await
        .map_err(db_error)?
        .pop()
        .ok_or_else(|| AppError::internal("the route just written is missing"))?;
    applications::acknowledge(&s, &ctx, tx, row, seat).await
}
