//! What the needs survey yields for operators: response rates with who has
//! not answered yet, and demand by direction, topic, form of study and
//! deficit — for the region, a municipality, an organization, or the
//! teachers of one subject.

use pd_bus::RpcContext;
use pd_domain::{AppError, Principal, Role};
use pd_proto::surveys::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{campaign_region, db_error, ensure, optional_id};
use crate::domain::access;
use crate::{State, messages as msg};

/// Whose answers: the region, narrowed to a municipality, an organization
/// or a subject.
pub(crate) struct Scope {
    pub campaign: Uuid,
    pub region: Uuid,
    pub municipality: Option<Uuid>,
    pub organization: Option<Uuid>,
    pub subject: String,
}

/// `e` is `known_educators`; binds $1 region, $2 municipality, $3
/// organization, $4 subject.
const IN_SCOPE: &str = "e.region_id = $1 AND ($2::uuid IS NULL OR e.municipality_id = $2)
    AND ($3::uuid IS NULL OR e.organization_id = $3) AND ($4 = '' OR $4 = ANY(e.subjects))";

/// The scope asked for, checked against the caller's grants. Without a
/// scope, an operator of one organization or municipality gets theirs.
async fn resolve(
    conn: &mut PgConnection,
    p: &Principal,
    campaign: &str,
    municipality: &str,
    organization: &str,
    subject: &str,
) -> Result<Scope, AppError> {
    let (campaign, region) = campaign_region(conn, p, campaign).await?;
    let mut municipality = optional_id("municipality_id", municipality)?;
    let mut organization = optional_id("organization_id", organization)?;
    if municipality.is_none() && organization.is_none() && !access::manages_region(p, region) {
        let orgs: Vec<Uuid> = p.scopes(Role::OrgOperator).collect();
        let munis: Vec<Uuid> = p.scopes(Role::MunicipalOperator).collect();
        match (orgs.as_slice(), munis.as_slice()) {
            ([], [m]) => municipality = Some(*m),
            ([o], []) => organization = Some(*o),
            _ => {}
        }
    }
    let allowed = match (municipality, organization) {
        (_, Some(o)) => {
            let m: Option<Uuid> = sqlx::query_scalar(
                "SELECT municipality_id FROM known_organizations WHERE id = $1 AND region_id = $2",
            )
            .bind(o)
            .bind(region)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            let Some(m) = m else {
                return Err(AppError::not_found(msg::ORGANIZATION_NOT_FOUND));
            };
            if municipality.is_some_and(|asked| asked != m) {
                return Err(AppError::invalid("organization_id", msg::SCOPE_MISMATCH));
            }
            access::oversees(
                p,
                &access::Workplace {
                    region,
                    municipality: m,
                    organization: o,
                },
            )
        }
        (Some(m), None) => {
            access::manages_region(p, region) || p.has_scope(Role::MunicipalOperator, m)
        }
        (None, None) => access::manages_region(p, region),
    };
    ensure(allowed)?;
    Ok(Scope {
        campaign,
        region,
        municipality,
        organization,
        subject: subject.trim().to_owned(),
    })
}

/// The campaign's needs-survey window.
async fn survey_window(conn: &mut PgConnection, campaign: Uuid) -> Result<Uuid, AppError> {
    sqlx::query_scalar(
        "SELECT w.id FROM windows w JOIN instruments i ON i.id = w.instrument_id
         WHERE i.campaign_id = $1 AND i.purpose = 'needs_survey' AND w.kind = 'phase'",
    )
    .bind(campaign)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?
    .ok_or_else(|| AppError::not_found(msg::NO_NEEDS_SURVEY))
}

pub(crate) async fn rates(
    s: State,
    ctx: RpcContext,
    req: pb::ScopeRequest,
) -> Result<pb::ResponseRates, AppError> {
    let p = ctx.principal()?;
    let limit = crate::db::limit(if req.limit == 0 { 100 } else { req.limit })?;
    let offset = crate::db::offset(req.offset)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let sc = resolve(
        &mut conn,
        p,
        &req.campaign_id,
        &req.municipality_id,
        &req.organization_id,
        &req.subject,
    )
    .await?;
    let window = survey_window(&mut conn, sc.campaign).await?;
    // One level down: municipalities of the region, organizations of a municipality.
    let (part, names) = match (sc.municipality, sc.organization) {
        (_, Some(_)) => (None, ""),
        (Some(_), None) => (Some("e.organization_id"), "known_organizations"),
        (None, None) => (Some("e.municipality_id"), "known_municipalities"),
    };
    let responded =
        "EXISTS (SELECT 1 FROM responses r WHERE r.window_id = $5 AND r.educator_id = e.id)";
    let (educators, answered): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), count(*) FILTER (WHERE {responded}) FROM known_educators e WHERE e.active AND {IN_SCOPE}"
    )))
    .bind(sc.region)
    .bind(sc.municipality)
    .bind(sc.organization)
    .bind(&sc.subject)
    .bind(window)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let parts: Vec<(Uuid, String, i64, i64)> = match part {
        Some(column) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {column}, COALESCE(n.name, ''), count(*), count(*) FILTER (WHERE {responded})
             FROM known_educators e LEFT JOIN {names} n ON n.id = {column}
             WHERE e.active AND {IN_SCOPE} GROUP BY {column}, n.name ORDER BY n.name, {column}"
        )))
        .bind(sc.region)
        .bind(sc.municipality)
        .bind(sc.organization)
        .bind(&sc.subject)
        .bind(window)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?,
        None => Vec::new(),
    };
    let missing: Vec<(Uuid, String, Uuid)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.id, e.name, e.organization_id FROM known_educators e
         WHERE e.active AND {IN_SCOPE} AND NOT {responded} ORDER BY e.name, e.id LIMIT $6 OFFSET $7"
    )))
    .bind(sc.region)
    .bind(sc.municipality)
    .bind(sc.organization)
    .bind(&sc.subject)
    .bind(window)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::ResponseRates {
        educators,
        responded: answered,
        rate: if educators > 0 {
            answered as f64 / educators as f64
        } else {
            0.0
        },
        parts: parts
            .into_iter()
            .map(|(id, name, educators, responded)| pb::ScopeRate {
                id: id.to_string(),
                name,
                educators,
                responded,
            })
            .collect(),
        not_responded: missing
            .into_iter()
            .map(|(id, name, org)| pb::EducatorRef {
                id: id.to_string(),
                name,
                organization_id: org.to_string(),
            })
            .collect(),
        not_responded_total: educators - answered,
    })
}

/// How many educators of the scope chose each direction, topic, form or
/// deficit (deficits: picked in the survey or found by a diagnostic).
pub(crate) async fn demand(
    s: State,
    ctx: RpcContext,
    req: pb::DemandRequest,
) -> Result<pb::Demand, AppError> {
    let p = ctx.principal()?;
    if !["direction", "topic", "form", "deficit"].contains(&req.by.as_str()) {
        return Err(AppError::invalid("by", msg::BY));
    }
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let sc = resolve(
        &mut conn,
        p,
        &req.campaign_id,
        &req.municipality_id,
        &req.organization_id,
        &req.subject,
    )
    .await?;
    let window = survey_window(&mut conn, sc.campaign).await?;
    // Deficits count those who answered the survey or took a diagnostic of
    // the campaign, so that a share never exceeds 1.
    let diagnosed = if req.by == "deficit" {
        "OR EXISTS (SELECT 1 FROM attempts a JOIN windows w ON w.id = a.window_id
                    JOIN instruments i ON i.id = w.instrument_id
                    WHERE i.campaign_id = $6 AND i.purpose = 'diagnostic'
                      AND a.educator_id = e.id AND a.closed_at IS NOT NULL)"
    } else {
        ""
    };
    let respondents: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM known_educators e WHERE {IN_SCOPE} AND (
             EXISTS (SELECT 1 FROM responses r WHERE r.window_id = $5 AND r.educator_id = e.id) {diagnosed})"
    )))
    .bind(sc.region)
    .bind(sc.municipality)
    .bind(sc.organization)
    .bind(&sc.subject)
    .bind(window)
    .bind(sc.campaign)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let rows: Vec<(String, String, i64)> = if req.by == "deficit" {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT d.code, COALESCE(c.name, ''), count(DISTINCT d.educator_id) AS n
             FROM educator_deficits d JOIN known_educators e ON e.id = d.educator_id
             LEFT JOIN competences c ON c.campaign_id = d.campaign_id AND c.code = d.code
             WHERE d.campaign_id = $5 AND {IN_SCOPE}
             GROUP BY d.code, c.name ORDER BY n DESC, d.code"
        )))
        .bind(sc.region)
        .bind(sc.municipality)
        .bind(sc.organization)
        .bind(&sc.subject)
        .bind(sc.campaign)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
    } else {
        // `by` is one of three column names, checked above.
        let column = match req.by.as_str() {
            "direction" => "directions",
            "topic" => "topics",
            _ => "forms",
        };
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT v, v, count(*) AS n
             FROM responses r JOIN known_educators e ON e.id = r.educator_id
             CROSS JOIN LATERAL unnest(r.{column}) AS v
             WHERE r.window_id = $5 AND {IN_SCOPE}
             GROUP BY v ORDER BY n DESC, v"
        )))
        .bind(sc.region)
        .bind(sc.municipality)
        .bind(sc.organization)
        .bind(&sc.subject)
        .bind(window)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
    };
    Ok(pb::Demand {
        by: req.by,
        respondents,
        rows: rows
            .into_iter()
            .map(|(value, label, count)| pb::DemandRow {
                value,
                label,
                count,
                share: if respondents > 0 {
                    count as f64 / respondents as f64
                } else {
                    0.0
                },
            })
            .collect(),
    })
}
