//! Candidates: the campaign's educators due for PD (recomputed from the
//! read-models whenever a campaign, a region's interval or an educator
//! changes), each organization's list with its exclusions and reasons, and
//! the list's confirmation by the organization's operator; the state of
//! every list in a municipal or regional operator's scope.

use chrono::Utc;
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_domain::bounds::TEXT;
use pd_domain::error::Validator;
use pd_proto::allocation::v1 as pb;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::db::{self, Campaign, Scope, date, db_error, ensure, full_name, limit, offset, ts};
use crate::domain::access::{self, Unit};
use crate::{State, messages as msg};

/// What a change touches.
pub(crate) enum Refresh {
    Campaign(Uuid),
    Region(Uuid),
    Educators(Vec<Uuid>),
}

/// Recomputes who is due in the campaigns `what` touches: an educator is
/// due when employed and their last PD (the later of identity's date and
/// monitoring's records that count) ended before 1 January of the
/// training year (the campaign's + 1) minus the region's interval
/// (`domain::eligibility`), or
/// they have none. Rows are kept when someone stops being due, so a
/// decision taken on them stays on record.
pub(crate) async fn refresh(conn: &mut PgConnection, what: Refresh) -> Result<(), sqlx::Error> {
    // Identity's and the registry's consumers both write candidacies; two
    // statements inserting the same keys in different orders would
    // deadlock, so refreshes take turns (until their transaction ends).
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('allocation.candidates'))")
        .execute(&mut *conn)
        .await?;
    // The educators are picked first (by primary key when named), so a
    // batch of a reload costs its own rows, not a scan of the region.
    let (educators, campaigns, ids) = match what {
        Refresh::Campaign(id) => ("true", "k.id = ANY($1)", vec![id]),
        Refresh::Region(id) => ("e.region_id = ANY($1)", "true", vec![id]),
        Refresh::Educators(ids) => ("e.id = ANY($1)", "true", ids),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH e AS MATERIALIZED (
             SELECT e.id, e.region_id, e.municipality_id, e.organization_id, e.active,
                    GREATEST(e.last_pd_completed_on,
                             (SELECT max(ended_on) FROM pd_records p WHERE p.educator_id = e.id AND p.counts)) AS last_pd
             FROM known_educators e WHERE {educators}
         )
         INSERT INTO candidates (campaign_id, educator_id, region_id, municipality_id, organization_id,
                                 last_pd_completed_on, eligible)
         SELECT k.id, e.id, e.region_id, e.municipality_id, e.organization_id, e.last_pd,
                e.active AND (e.last_pd IS NULL
                    OR e.last_pd < make_date(k.year + 1 - COALESCE(r.pd_interval_years, 3), 1, 1))
         FROM e
         JOIN known_campaigns k ON k.region_id = e.region_id
         LEFT JOIN known_regions r ON r.id = k.region_id
         WHERE {campaigns}
         ON CONFLICT (campaign_id, educator_id) DO UPDATE SET
             municipality_id = EXCLUDED.municipality_id, organization_id = EXCLUDED.organization_id,
             last_pd_completed_on = EXCLUDED.last_pd_completed_on, eligible = EXCLUDED.eligible"
    )))
    .bind(ids)
    // Planned for these ids each time: a cached generic plan may scan
    // every educator for a batch of 64.
    .persistent(false)
    .execute(conn)
    .await?;
    Ok(())
}

/// The published order of an organization's candidates
/// (`messages::RANK_RULE`): no PD on record first, then the earliest last
/// PD, then surname, name, patronymic and id.
macro_rules! rank_order {
    () => {
        "c.last_pd_completed_on ASC NULLS FIRST, e.last_name, e.first_name, e.middle_name, c.educator_id"
    };
}

/// Confirmed candidates (included, due, their organization's list
/// confirmed) with their place in the organization's order; `$1` is the
/// campaign, `$filter` more conditions.
macro_rules! ranked {
    ($filter:literal) => {
        concat!(
            "SELECT c.educator_id, c.organization_id, c.municipality_id, c.last_pd_completed_on,
                    row_number() OVER (PARTITION BY c.organization_id ORDER BY ",
            rank_order!(),
            ") AS rank
             FROM candidates c
             JOIN known_educators e ON e.id = c.educator_id
             JOIN candidate_lists l ON l.campaign_id = c.campaign_id AND l.organization_id = c.organization_id
             WHERE c.campaign_id = $1 AND c.eligible AND c.status = 'included'",
            $filter
        )
    };
}

/// The campaign's confirmed candidates ranked ([`ranked!`]).
pub(crate) const RANKED: &str = ranked!("");
/// One organization's (`$2`) confirmed candidates ranked.
pub(crate) const RANKED_IN_ORG: &str = ranked!(" AND c.organization_id = $2");

#[derive(sqlx::FromRow)]
struct CandidateRow {
    educator_id: Uuid,
    organization_id: Uuid,
    municipality_id: Uuid,
    last_name: String,
    first_name: String,
    middle_name: String,
    position: String,
    last_pd_completed_on: Option<chrono::NaiveDate>,
    status: String,
    exclusion_reason: Option<String>,
    exclusion_note: String,
    rank: Option<i64>,
    number: Option<String>,
}

impl CandidateRow {
    fn into_proto(self, campaign: Uuid) -> pb::Candidate {
        pb::Candidate {
            educator_id: self.educator_id.to_string(),
            campaign_id: campaign.to_string(),
            organization_id: self.organization_id.to_string(),
            municipality_id: self.municipality_id.to_string(),
            name: full_name(&self.last_name, &self.first_name, &self.middle_name),
            position: self.position,
            last_pd_completed_on: date(self.last_pd_completed_on),
            status: self.status,
            exclusion_reason: self.exclusion_reason.unwrap_or_default(),
            exclusion_note: self.exclusion_note,
            rank: self.rank.unwrap_or(0) as i32,
            unique_number: self.number.unwrap_or_default(),
        }
    }
}

/// The candidates of a scope, each with their place in the order (ranks
/// count included candidates; an excluded one has none).
const LIST: &str = concat!(
    "
    WITH scoped AS (
        SELECT c.*, e.last_name, e.first_name, e.middle_name, e.position,
               CASE WHEN c.status = 'included' THEN row_number() OVER (
                   PARTITION BY c.organization_id, c.status ORDER BY ",
    rank_order!(),
    ") END AS rank
        FROM candidates c JOIN known_educators e ON e.id = c.educator_id
        WHERE c.campaign_id = $1 AND c.eligible
          AND ($2::uuid IS NULL OR c.organization_id = $2)
          AND ($3::uuid IS NULL OR c.municipality_id = $3)
    )
    SELECT s.educator_id, s.organization_id, s.municipality_id, s.last_name, s.first_name, s.middle_name,
           s.position, s.last_pd_completed_on, s.status, s.exclusion_reason, s.exclusion_note, s.rank,
           u.number, count(*) OVER () AS total
    FROM scoped s
    LEFT JOIN unique_numbers u ON u.campaign_id = s.campaign_id AND u.educator_id = s.educator_id
                              AND u.status IN ('assigned', 'used')
    WHERE ($4 = '' OR s.status = $4)
      AND (NOT $5 OR NOT EXISTS (SELECT 1 FROM unique_numbers x
                                 WHERE x.campaign_id = s.campaign_id AND x.educator_id = s.educator_id))
      AND ($8::uuid IS NULL OR s.educator_id = $8)
    ORDER BY s.organization_id, s.rank NULLS LAST, s.last_name, s.first_name, s.educator_id
    LIMIT $6 OFFSET $7"
);

pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListCandidatesRequest,
) -> Result<pb::CandidateList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let scope = db::scope(&mut conn, p, &c, &req.organization_id, &req.municipality_id).await?;
    if !matches!(req.status.as_str(), "" | "included" | "excluded") {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let rows: Vec<(i64, CandidateRow)> = fetch(
        &mut conn,
        c.id,
        scope,
        &req.status,
        req.unfunded_only,
        None,
        (limit(req.limit)?, offset(req.offset)?),
    )
    .await?;
    Ok(pb::CandidateList {
        total: rows.first().map(|r| r.0).unwrap_or(0),
        items: rows.into_iter().map(|r| r.1.into_proto(c.id)).collect(),
    })
}

async fn fetch(
    conn: &mut PgConnection,
    campaign: Uuid,
    scope: Scope,
    status: &str,
    unfunded_only: bool,
    educator: Option<Uuid>,
    (limit, offset): (i64, i64),
) -> Result<Vec<(i64, CandidateRow)>, AppError> {
    let rows = sqlx::query_as::<_, CandidateWithTotal>(LIST)
        .bind(campaign)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(status)
        .bind(unfunded_only)
        .bind(limit)
        .bind(offset)
        .bind(educator)
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(|r| (r.total, r.row)).collect())
}

#[derive(sqlx::FromRow)]
struct CandidateWithTotal {
    #[sqlx(flatten)]
    row: CandidateRow,
    total: i64,
}

/// One candidate of the campaign as its organization's operator sees it.
async fn one(
    conn: &mut PgConnection,
    c: &Campaign,
    educator: Uuid,
) -> Result<pb::Candidate, AppError> {
    let org: Option<Uuid> = sqlx::query_scalar(
        "SELECT organization_id FROM candidates WHERE campaign_id = $1 AND educator_id = $2 AND eligible",
    )
    .bind(c.id)
    .bind(educator)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let scope = Scope {
        organization: org,
        municipality: None,
    };
    fetch(conn, c.id, scope, "", false, Some(educator), (1, 0))
        .await?
        .into_iter()
        .next()
        .map(|r| r.1.into_proto(c.id))
        .ok_or_else(|| AppError::not_found(msg::NOT_A_CANDIDATE))
}

/// A candidate of the campaign, locked, with the unit deciding on them;
/// 404 for one who is not due (or is in another region), 403 for callers
/// who do not decide for the organization, 409 once its list is confirmed.
async fn decidable(
    conn: &mut PgConnection,
    p: &pd_domain::Principal,
    c: &Campaign,
    educator: &str,
) -> Result<Uuid, AppError> {
    let id = db::body_id("educator_id", educator)?;
    let row: Option<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT organization_id, municipality_id FROM candidates
         WHERE campaign_id = $1 AND educator_id = $2 AND eligible FOR UPDATE",
    )
    .bind(c.id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let (organization, municipality) =
        row.ok_or_else(|| AppError::not_found(msg::NOT_A_CANDIDATE))?;
    // Asked once the row is ours: a confirmation holding it has committed by now.
    let confirmed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM candidate_lists WHERE campaign_id = $1 AND organization_id = $2)",
    )
    .bind(c.id)
    .bind(organization)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let unit = Unit {
        region: c.region,
        municipality,
        organization,
    };
    if !access::oversees(p, &unit) {
        return Err(AppError::not_found(msg::NOT_A_CANDIDATE));
    }
    ensure(access::decides_for_org(p, &unit))?;
    if confirmed {
        return Err(AppError::conflict(msg::LIST_CONFIRMED));
    }
    Ok(id)
}

/// Takes a candidate off the organization's list with a reason (leave,
/// dismissal, other with a note), before the list is confirmed.
pub(crate) async fn exclude(
    s: State,
    ctx: RpcContext,
    req: pb::ExcludeCandidateRequest,
) -> Result<pb::Candidate, AppError> {
    let p = ctx.principal()?;
    let mut v = Validator::new();
    if !matches!(req.reason.as_str(), "leave" | "dismissal" | "other") {
        v.add("reason", msg::EXCLUSION_REASON);
    }
    if req.reason == "other" && req.note.trim().is_empty() {
        v.add("note", msg::NOTE_REQUIRED);
    }
    v.max_len("note", &req.note, TEXT);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    let educator = decidable(&mut tx, p, &c, &req.educator_id).await?;
    sqlx::query(
        "UPDATE candidates SET status = 'excluded', exclusion_reason = $3, exclusion_note = $4,
                               decided_by = $5, decided_at = now()
         WHERE campaign_id = $1 AND educator_id = $2",
    )
    .bind(c.id)
    .bind(educator)
    .bind(&req.reason)
    .bind(req.note.trim())
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let answer = one(&mut tx, &c, educator).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(answer)
}

/// Puts an excluded candidate back on the list, before it is confirmed.
pub(crate) async fn include(
    s: State,
    ctx: RpcContext,
    req: pb::CandidateRequest,
) -> Result<pb::Candidate, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    let educator = decidable(&mut tx, p, &c, &req.educator_id).await?;
    sqlx::query(
        "UPDATE candidates SET status = 'included', exclusion_reason = NULL, exclusion_note = '',
                               decided_by = $3, decided_at = now()
         WHERE campaign_id = $1 AND educator_id = $2",
    )
    .bind(c.id)
    .bind(educator)
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let answer = one(&mut tx, &c, educator).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(answer)
}

/// The organization's operator confirms its list as it stands: its
/// included candidates count for the quotas.
pub(crate) async fn confirm(
    s: State,
    ctx: RpcContext,
    req: pb::OrganizationListRequest,
) -> Result<pb::ListState, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    let unit = db::organization(&mut tx, c.region, "organization_id", &req.organization_id).await?;
    ensure(access::decides_for_org(p, &unit))?;
    // Places are shared among the lists confirmed before the run.
    let allocated: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM funding WHERE campaign_id = $1 AND allocated_at IS NOT NULL)",
    )
    .bind(c.id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if allocated {
        return Err(AppError::conflict(msg::ALLOCATED));
    }
    // Exclusions and inclusions lock the candidates' rows: confirming
    // waits for them, and they wait for it (then find the list confirmed).
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE status = 'included') FROM (
             SELECT status FROM candidates WHERE campaign_id = $1 AND organization_id = $2 AND eligible
             FOR UPDATE) x",
    )
    .bind(c.id)
    .bind(unit.organization)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let done = sqlx::query(
        "INSERT INTO candidate_lists (campaign_id, organization_id, confirmed_by, confirmed_at, confirmed_count)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(c.id)
    .bind(unit.organization)
    .bind(p.user_id)
    .bind(s.clock.now())
    .bind(count as i32)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(msg::LIST_CONFIRMED));
    }
    let scope = Scope {
        organization: Some(unit.organization),
        municipality: None,
    };
    let state = states(&mut tx, &c, scope, "", (1, 0))
        .await?
        .items
        .into_iter()
        .next()
        .unwrap_or_default();
    let event = pb::CandidateListConfirmed {
        campaign_id: c.id.to_string(),
        list: Some(state.clone()),
    };
    let aggregate = format!("{}:{}", c.id, unit.organization);
    s.outbox
        .write(
            &mut tx,
            "candidate_list_confirmed",
            &aggregate,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(state)
}

/// Every organization's list in the caller's scope: confirmed or not,
/// counts, exclusions by reason; totals over the whole scope.
pub(crate) async fn list_states(
    s: State,
    ctx: RpcContext,
    req: pb::ListStatesRequest,
) -> Result<pb::ListStates, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let scope = db::scope(&mut conn, p, &c, "", &req.municipality_id).await?;
    if !matches!(req.state.as_str(), "" | "confirmed" | "unconfirmed") {
        return Err(AppError::invalid("state", msg::STATUS));
    }
    states(
        &mut conn,
        &c,
        scope,
        &req.state,
        (limit(req.limit)?, offset(req.offset)?),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct StateRow {
    id: Uuid,
    name: String,
    municipality_id: Uuid,
    candidates: i64,
    included: i64,
    excluded: i64,
    confirmed_at: Option<chrono::DateTime<Utc>>,
    confirmed_count: Option<i32>,
}

async fn states(
    conn: &mut PgConnection,
    c: &Campaign,
    scope: Scope,
    state: &str,
    (limit, offset): (i64, i64),
) -> Result<pb::ListStates, AppError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT o.id, o.name, o.municipality_id,
                count(k.educator_id) AS candidates,
                count(k.educator_id) FILTER (WHERE k.status = 'included') AS included,
                count(k.educator_id) FILTER (WHERE k.status = 'excluded') AS excluded,
                l.confirmed_at, l.confirmed_count
         FROM known_organizations o
         LEFT JOIN candidates k ON k.campaign_id = $1 AND k.organization_id = o.id AND k.eligible
         LEFT JOIN candidate_lists l ON l.campaign_id = $1 AND l.organization_id = o.id
         WHERE o.region_id = $2 AND ($3::uuid IS NULL OR o.id = $3) AND ($4::uuid IS NULL OR o.municipality_id = $4)
           AND ($5 = '' OR ($5 = 'confirmed') = (l.confirmed_at IS NOT NULL))
         GROUP BY o.id, l.confirmed_at, l.confirmed_count
         ORDER BY o.name, o.id LIMIT $6 OFFSET $7",
    )
    .bind(c.id)
    .bind(c.region)
    .bind(scope.organization)
    .bind(scope.municipality)
    .bind(state)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut reasons = reasons_by_org(conn, c.id, rows.iter().map(|r| r.id).collect()).await?;
    let totals: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT o.id), count(DISTINCT l.organization_id), count(k.educator_id),
                count(k.educator_id) FILTER (WHERE k.status = 'included'),
                count(k.educator_id) FILTER (WHERE k.status = 'excluded')
         FROM known_organizations o
         LEFT JOIN candidates k ON k.campaign_id = $1 AND k.organization_id = o.id AND k.eligible
         LEFT JOIN candidate_lists l ON l.campaign_id = $1 AND l.organization_id = o.id
         WHERE o.region_id = $2 AND ($3::uuid IS NULL OR o.id = $3) AND ($4::uuid IS NULL OR o.municipality_id = $4)",
    )
    .bind(c.id)
    .bind(c.region)
    .bind(scope.organization)
    .bind(scope.municipality)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let total = match state {
        "confirmed" => totals.1,
        "unconfirmed" => totals.0 - totals.1,
        _ => totals.0,
    };
    Ok(pb::ListStates {
        items: rows
            .into_iter()
            .map(|r| pb::ListState {
                organization_id: r.id.to_string(),
                organization_name: r.name,
                municipality_id: r.municipality_id.to_string(),
                candidates: r.candidates as i32,
                included: r.included as i32,
                excluded: r.excluded as i32,
                reasons: reasons.remove(&r.id).unwrap_or_default(),
                confirmed: r.confirmed_at.is_some(),
                confirmed_at: r.confirmed_at.map(ts).unwrap_or_default(),
                confirmed_count: r.confirmed_count.unwrap_or(0),
            })
            .collect(),
        total,
        organizations: totals.0 as i32,
        confirmed_organizations: totals.1 as i32,
        candidates: totals.2 as i32,
        included: totals.3 as i32,
        excluded: totals.4 as i32,
    })
}

/// Exclusions by reason of each organization of a page.
async fn reasons_by_org(
    conn: &mut PgConnection,
    campaign: Uuid,
    orgs: Vec<Uuid>,
) -> Result<HashMap<Uuid, HashMap<String, i32>>, AppError> {
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT organization_id, exclusion_reason, count(*) FROM candidates
         WHERE campaign_id = $1 AND organization_id = ANY($2) AND eligible AND status = 'excluded'
         GROUP BY 1, 2",
    )
    .bind(campaign)
    .bind(orgs)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out: HashMap<Uuid, HashMap<String, i32>> = HashMap::new();
    for (org, reason, n) in rows {
        out.entry(org).or_default().insert(reason, n as i32);
    }
    Ok(out)
}
