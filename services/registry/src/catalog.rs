//! The published registry: a public, paginated catalog of the approved
//! programs, ordered by direction, with their providers and groups.

use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_domain::bounds::TITLE;
use pd_domain::error::Validator;
use pd_proto::registry::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{db_error, limit, offset, optional_id};
use crate::domain::programs as rules;
use crate::programs::ProgramRow;
use crate::{State, messages as msg, schedule};

async fn entry(
    conn: &mut PgConnection,
    r: &ProgramRow,
    published_groups_only: bool,
) -> Result<pb::CatalogEntry, AppError> {
    let provider = crate::programs::provider(conn, r.provider_id).await?;
    let groups = schedule::groups_of(conn, r.id)
        .await?
        .into_iter()
        .filter(|g| !published_groups_only || g.status == "published")
        .collect();
    Ok(pb::CatalogEntry {
        program_id: r.id.to_string(),
        campaign_id: r.campaign_id.to_string(),
        provider_id: r.provider_id.to_string(),
        provider_name: provider.map(|p| p.1).unwrap_or_default(),
        direction: r.direction.clone(),
        title: r.title.clone(),
        topic: r.topic.clone(),
        annotation: r.annotation.clone(),
        kind: r.kind.clone(),
        form: r.form.clone(),
        hours: r.hours,
        target_positions: r.target_positions.clone(),
        groups,
    })
}

/// Every approved program of the campaign, by direction and title.
pub(crate) async fn entries_of_campaign(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<Vec<pb::CatalogEntry>, AppError> {
    let rows: Vec<ProgramRow> =
        sqlx::query_as("SELECT * FROM programs WHERE campaign_id = $1 AND status = 'approved' ORDER BY direction, title, id")
            .bind(campaign)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(entry(conn, r, true).await?);
    }
    Ok(out)
}

/// Public: no sign-in needed.
pub(crate) async fn catalog(
    state: State,
    _ctx: RpcContext,
    req: pb::CatalogRequest,
) -> Result<pb::Catalog, AppError> {
    let campaign = optional_id("campaign_id", &req.campaign_id)?;
    let provider = optional_id("provider_id", &req.provider_id)?;
    let municipality = optional_id("municipality_id", &req.municipality_id)?;
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    // An unknown value of an enumerated filter is the client's mistake, not
    // an empty page.
    let mut v = Validator::new();
    for (field, value, allowed) in [
        ("form", &req.form, &rules::FORMS),
        ("kind", &req.kind, &rules::KINDS),
    ] {
        if text(value).is_some_and(|x| !allowed.contains(&x.as_str())) {
            v.add(field, msg::one_of(allowed));
        }
    }
    v.max_len("direction", req.direction.trim(), TITLE);
    v.max_len("text", req.text.trim(), TITLE);
    v.finish()?;
    let query = text(&req.text).map(|t| {
        format!(
            "%{}%",
            t.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let filter = "FROM programs g WHERE g.status = 'approved'
          AND ($1::uuid IS NULL OR g.campaign_id = $1)
          AND ($2::text IS NULL OR g.direction = $2)
          AND ($3::text IS NULL OR g.form = $3)
          AND ($4::text IS NULL OR g.kind = $4)
          AND ($5::uuid IS NULL OR g.provider_id = $5)
          AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM groups x WHERE x.program_id = g.id
                                            AND x.status = 'published' AND x.municipality_id = $6))
          AND ($7::text IS NULL OR g.title ILIKE $7 OR g.topic ILIKE $7 OR g.annotation ILIKE $7)";
    let page =
        format!("SELECT g.* {filter} ORDER BY g.direction, g.title, g.id LIMIT $8 OFFSET $9");
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let rows: Vec<ProgramRow> = sqlx::query_as(sqlx::AssertSqlSafe(page))
        .bind(campaign)
        .bind(text(&req.direction))
        .bind(text(&req.form))
        .bind(text(&req.kind))
        .bind(provider)
        .bind(municipality)
        .bind(&query)
        .bind(limit(req.limit)?)
        .bind(offset(req.offset)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {filter}")))
        .bind(campaign)
        .bind(text(&req.direction))
        .bind(text(&req.form))
        .bind(text(&req.kind))
        .bind(provider)
        .bind(municipality)
        .bind(&query)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(entry(&mut conn, r, true).await?);
    }
    Ok(pb::Catalog { items, total })
}
