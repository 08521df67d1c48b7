//! What operators see of their scope's applications (seed 000: the
//! current statuses, the reasons of refusals, the applications
//! themselves): the list with filters, and counts by organization or
//! municipality with the reasons.

use pd_bus::RpcContext;
use pd_domain::{AppError, Principal};
use pd_proto::enrollment::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::applications::{APPLICATIONS, AppRow};
use crate::db::{self, db_error, limit, offset, optional_id};
use crate::domain::access;
use crate::{State, messages as msg};

use pd_units::Scope;

/// The scope asked for, checked (see [`pd_units::scope`]; the region's
/// managers are enrollment's).
async fn scope(
    conn: &mut PgConnection,
    p: &Principal,
    region: Uuid,
    organization: &str,
    municipality: &str,
) -> Result<Scope, AppError> {
    pd_units::scope(
        conn,
        p,
        region,
        organization,
        municipality,
        access::manages_region,
    )
    .await
}

const STATUSES: [&str; 4] = ["enrolled", "waitlisted", "withdrawn", "rejected"];

/// A campaign's applications in a scope, oldest first (operators).
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListApplicationsRequest,
) -> Result<pb::ApplicationList, AppError> {
    let p = ctx.principal()?;
    let (limit, offset) = (limit(req.limit)?, offset(req.offset)?);
    if !req.status.is_empty() && !STATUSES.contains(&req.status.as_str()) {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let group = optional_id("group_id", &req.group_id)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = db::campaign_region(&mut conn, p, &req.campaign_id).await?;
    let sc = scope(
        &mut conn,
        p,
        region,
        &req.organization_id,
        &req.municipality_id,
    )
    .await?;
    let filter = "a.campaign_id = $1 AND ($2::uuid IS NULL OR a.organization_id = $2)
        AND ($3::uuid IS NULL OR a.municipality_id = $3) AND ($4::uuid IS NULL OR a.group_id = $4)
        AND ($5 = '' OR a.status = $5)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM applications a WHERE {filter}"
    )))
    .bind(campaign)
    .bind(sc.organization)
    .bind(sc.municipality)
    .bind(group)
    .bind(&req.status)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let sql = format!("{APPLICATIONS} WHERE {filter} ORDER BY a.seq LIMIT $6 OFFSET $7");
    let rows: Vec<AppRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(campaign)
        .bind(sc.organization)
        .bind(sc.municipality)
        .bind(group)
        .bind(&req.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::ApplicationList {
        items: rows.into_iter().map(AppRow::into_proto).collect(),
        total,
    })
}

/// Counts by status and the reasons of withdrawals and rejections, per
/// organization or per municipality of the caller's scope.
pub(crate) async fn summary(
    s: State,
    ctx: RpcContext,
    req: pb::SummaryRequest,
) -> Result<pb::Summary, AppError> {
    let p = ctx.principal()?;
    let by = match req.by.as_str() {
        "" | "organization" => "organization",
        "municipality" => "municipality",
        _ => return Err(AppError::invalid("by", msg::SUMMARY_BY)),
    };
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = db::campaign_region(&mut conn, p, &req.campaign_id).await?;
    let sc = scope(&mut conn, p, region, "", &req.municipality_id).await?;
    let (unit, names) = match by {
        "organization" => ("a.organization_id", "known_organizations"),
        _ => ("a.municipality_id", "known_municipalities"),
    };
    let sql = format!(
        "SELECT {unit} AS unit, coalesce(max(u.name), '') AS name,
                count(*) FILTER (WHERE a.status = 'enrolled'),
                count(*) FILTER (WHERE a.status = 'waitlisted'),
                count(*) FILTER (WHERE a.status = 'withdrawn'),
                count(*) FILTER (WHERE a.status = 'rejected'),
                coalesce(array_agg(a.reason) FILTER (WHERE a.reason <> ''), '{{}}')
         FROM applications a LEFT JOIN {names} u ON u.id = {unit}
         WHERE a.campaign_id = $1 AND ($2::uuid IS NULL OR a.organization_id = $2)
           AND ($3::uuid IS NULL OR a.municipality_id = $3)
         GROUP BY {unit} ORDER BY name, unit"
    );
    type Row = (Uuid, String, i64, i64, i64, i64, Vec<String>);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(campaign)
        .bind(sc.organization)
        .bind(sc.municipality)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let days = per_day(&mut conn, campaign, &sc, &req.time_zone).await?;
    Ok(pb::Summary {
        by: by.to_owned(),
        days,
        rows: rows
            .into_iter()
            .map(
                |(id, name, enrolled, waitlisted, withdrawn, rejected, reasons)| pb::SummaryRow {
                    unit_id: id.to_string(),
                    unit_name: name,
                    enrolled: enrolled as i32,
                    waitlisted: waitlisted as i32,
                    withdrawn: withdrawn as i32,
                    rejected: rejected as i32,
                    reasons: reason_counts(reasons),
                },
            )
            .collect(),
    })
}

/// Applications filed per day of `zone`'s calendar in the scope.
async fn per_day(
    conn: &mut PgConnection,
    campaign: Uuid,
    sc: &Scope,
    zone: &str,
) -> Result<Vec<pb::DayCount>, AppError> {
    let zone = match zone.trim() {
        "" => "Europe/Moscow",
        z => z,
    };
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)")
            .bind(zone)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
    if !known {
        return Err(AppError::invalid("time_zone", msg::TIME_ZONE));
    }
    let rows: Vec<(chrono::NaiveDate, i64)> = sqlx::query_as(
        "SELECT (a.created_at AT TIME ZONE $4)::date AS day, count(*)
         FROM applications a
         WHERE a.campaign_id = $1 AND ($2::uuid IS NULL OR a.organization_id = $2)
           AND ($3::uuid IS NULL OR a.municipality_id = $3)
         GROUP BY day ORDER BY day",
    )
    .bind(campaign)
    .bind(sc.organization)
    .bind(sc.municipality)
    .bind(zone)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(day, n)| pb::DayCount {
            day: day.to_string(),
            submitted: n as i32,
        })
        .collect())
}

/// "reason=count" for each reason, most frequent first.
fn reason_counts(reasons: Vec<String>) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(r, n)| format!("{r}={n}")).collect()
}
