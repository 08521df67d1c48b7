//! Unique numbers (and the vouchers of `voucher_hours`, which are numbers
//! with blocks of hours): writing them, the operators' lists with status,
//! checking a typed number, and the educator's own state with the reasons
//! for it.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::allocation::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::candidates::RANKED_IN_ORG;
use crate::db::{self, date, db_error, full_name, limit, offset, ts};
use crate::domain::access::{self, Unit};
use crate::domain::{eligibility, vouchers};
use crate::{State, messages as msg};
use pd_domain::unique_number as un;

/// A number about to be written.
pub(crate) struct NumberRow {
    pub id: Uuid,
    pub number: String,
    pub campaign_id: Uuid,
    pub region_id: Uuid,
    pub municipality_id: Uuid,
    pub organization_id: Uuid,
    pub educator_id: Uuid,
    /// The holder's position: it decides the voucher's blocks.
    pub position: String,
    pub assigned_by_level: String,
    pub replaces: Option<Uuid>,
    pub assigned_at: DateTime<Utc>,
}

impl NumberRow {
    pub fn to_proto(&self, status: &str, educator_name: &str, replaces: &str) -> pb::UniqueNumber {
        pb::UniqueNumber {
            id: self.id.to_string(),
            number: self.number.clone(),
            campaign_id: self.campaign_id.to_string(),
            educator_id: self.educator_id.to_string(),
            educator_name: educator_name.into(),
            organization_id: self.organization_id.to_string(),
            municipality_id: self.municipality_id.to_string(),
            status: status.into(),
            assigned_at: ts(self.assigned_at),
            assigned_by_level: self.assigned_by_level.clone(),
            replaces_number: replaces.into(),
        }
    }
}

/// Writes numbers (and, for vouchers, their blocks) in bulk.
pub(crate) async fn insert(
    tx: &mut PgConnection,
    pd_model: &str,
    rows: &[NumberRow],
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO unique_numbers (id, number, campaign_id, region_id, municipality_id, organization_id,
                                     educator_id, assigned_by_level, replaces, assigned_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
                              $7::uuid[], $8::text[], $9::uuid[], $10::timestamptz[])",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.number.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.campaign_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.region_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.municipality_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.organization_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.educator_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.assigned_by_level.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.replaces).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.assigned_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if pd_model != "voucher_hours" {
        return Ok(());
    }
    let mut ids = Vec::new();
    let mut positions = Vec::new();
    let mut kinds = Vec::new();
    let mut hours = Vec::new();
    for r in rows {
        for (i, (kind, h)) in vouchers::blocks(&r.position).iter().enumerate() {
            ids.push(r.id);
            positions.push(i as i32 + 1);
            kinds.push(*kind);
            hours.push(*h);
        }
    }
    sqlx::query(
        "INSERT INTO voucher_blocks (number_id, position, kind, hours)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[])",
    )
    .bind(ids)
    .bind(positions)
    .bind(kinds)
    .bind(hours)
    .execute(tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// The blocks of a new voucher as events carry them, in position order
/// (none outside `voucher_hours`).
pub(crate) fn new_blocks(pd_model: &str, position: &str) -> Vec<pb::VoucherBlock> {
    if pd_model != "voucher_hours" {
        return Vec::new();
    }
    vouchers::blocks(position)
        .iter()
        .map(|(kind, hours)| pb::VoucherBlock {
            kind: (*kind).into(),
            hours: *hours,
            status: "open".into(),
            application_id: String::new(),
        })
        .collect()
}

/// A number as read back: the status shown is `expired` for an unused one
/// once the campaign's application phase has closed.
#[derive(sqlx::FromRow)]
pub(crate) struct NumberView {
    pub id: Uuid,
    pub number: String,
    pub campaign_id: Uuid,
    pub educator_id: Uuid,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub organization_id: Uuid,
    pub municipality_id: Uuid,
    pub region_id: Uuid,
    pub status: String,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by_level: String,
    pub replaces_number: Option<String>,
}

impl NumberView {
    pub fn unit(&self) -> Unit {
        Unit {
            region: self.region_id,
            municipality: self.municipality_id,
            organization: self.organization_id,
        }
    }

    pub fn into_proto(self) -> pb::UniqueNumber {
        pb::UniqueNumber {
            id: self.id.to_string(),
            number: self.number,
            campaign_id: self.campaign_id.to_string(),
            educator_id: self.educator_id.to_string(),
            educator_name: full_name(&self.last_name, &self.first_name, &self.middle_name),
            organization_id: self.organization_id.to_string(),
            municipality_id: self.municipality_id.to_string(),
            status: self.status,
            assigned_at: ts(self.assigned_at),
            assigned_by_level: self.assigned_by_level,
            replaces_number: self.replaces_number.unwrap_or_default(),
        }
    }
}

/// Numbers with their holder's name and the status shown; `$1` campaign
/// (or NULL), `$2` organization, `$3` municipality, `$4` status, `$5` number,
/// `$6` educator, `$7` limit, `$8` offset, `$9` the number's id, `$10` now.
pub(crate) const NUMBERS: &str = "
    WITH shown AS (
        SELECT u.*, CASE WHEN u.status = 'assigned' AND EXISTS (
                   SELECT 1 FROM campaign_calendar k WHERE k.campaign_id = u.campaign_id
                       AND k.phase = 'applications' AND k.closes_at <= $10)
                   THEN 'expired' ELSE u.status END AS shown_status
        FROM unique_numbers u
        WHERE ($1::uuid IS NULL OR u.campaign_id = $1)
          AND ($2::uuid IS NULL OR u.organization_id = $2) AND ($3::uuid IS NULL OR u.municipality_id = $3)
          AND ($5::text IS NULL OR u.number = $5) AND ($6::uuid IS NULL OR u.educator_id = $6)
          AND ($9::uuid IS NULL OR u.id = $9)
    )
    SELECT s.id, s.number, s.campaign_id, s.educator_id, e.last_name, e.first_name, e.middle_name,
           s.organization_id, s.municipality_id, s.region_id, s.shown_status AS status, s.assigned_at,
           s.assigned_by_level, r.number AS replaces_number, count(*) OVER () AS total
    FROM shown s
    JOIN known_educators e ON e.id = s.educator_id
    LEFT JOIN unique_numbers r ON r.id = s.replaces
    WHERE ($4 = '' OR s.shown_status = $4)
    ORDER BY s.organization_id, e.last_name, e.first_name, e.middle_name, s.assigned_at, s.id
    LIMIT $7 OFFSET $8";

#[derive(sqlx::FromRow)]
struct NumberWithTotal {
    #[sqlx(flatten)]
    view: NumberView,
    total: i64,
}

/// Filters of [`NUMBERS`].
#[derive(Default)]
pub(crate) struct NumberFilter<'a> {
    pub campaign: Option<Uuid>,
    pub scope: db::Scope,
    pub status: &'a str,
    pub number: Option<&'a str>,
    pub educator: Option<Uuid>,
    pub id: Option<Uuid>,
}

pub(crate) async fn fetch(
    conn: &mut PgConnection,
    f: NumberFilter<'_>,
    now: DateTime<Utc>,
    (limit, offset): (i64, i64),
) -> Result<(i64, Vec<NumberView>), AppError> {
    let rows: Vec<NumberWithTotal> = sqlx::query_as(NUMBERS)
        .bind(f.campaign)
        .bind(f.scope.organization)
        .bind(f.scope.municipality)
        .bind(f.status)
        .bind(f.number)
        .bind(f.educator)
        .bind(limit)
        .bind(offset)
        .bind(f.id)
        .bind(now)
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    Ok((total, rows.into_iter().map(|r| r.view).collect()))
}

/// Every number of the caller's scope with its status.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListNumbersRequest,
) -> Result<pb::NumberList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let scope = db::scope(&mut conn, p, &c, &req.organization_id, &req.municipality_id).await?;
    if !matches!(
        req.status.as_str(),
        "" | "assigned" | "used" | "refused" | "reassigned" | "expired"
    ) {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let filter = NumberFilter {
        campaign: Some(c.id),
        scope,
        status: &req.status,
        ..Default::default()
    };
    let (total, rows) = fetch(
        &mut conn,
        filter,
        s.clock.now(),
        (limit(req.limit)?, offset(req.offset)?),
    )
    .await?;
    Ok(pb::NumberList {
        items: rows.into_iter().map(NumberView::into_proto).collect(),
        total,
    })
}

/// A number as typed: 422 when it is malformed or has a typo (the check
/// character catches any one wrong character), 404 when it is nobody's the
/// caller may see (their own, or one of their scope).
pub(crate) async fn check(
    s: State,
    ctx: RpcContext,
    req: pb::NumberRequest,
) -> Result<pb::UniqueNumber, AppError> {
    let p = ctx.principal()?;
    let number = un::parse(&req.number).map_err(|e| match e {
        un::NumberError::Malformed => AppError::invalid("number", msg::NUMBER_MALFORMED),
        un::NumberError::Mistyped => {
            AppError::invalid("number", msg::NUMBER_MISTYPED).with("reason", "check_character")
        }
    })?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let filter = NumberFilter {
        number: Some(&number),
        ..Default::default()
    };
    let (_, rows) = fetch(&mut conn, filter, s.clock.now(), (1, 0)).await?;
    rows.into_iter()
        .find(|n| visible(p, n))
        .map(NumberView::into_proto)
        .ok_or_else(|| AppError::not_found(msg::NUMBER_NOT_FOUND))
}

/// The educator's own state in the campaign: due or not and why, their
/// number (or voucher) and its status, or their place in the
/// organization's order, its quota, and the rule that ranked them.
pub(crate) async fn mine(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::MyAllocation, AppError> {
    let p = ctx.principal()?;
    let educator =
        access::educator_id(p).ok_or_else(|| AppError::forbidden(msg::EDUCATORS_ONLY))?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let row: Option<(bool, String, Option<chrono::NaiveDate>, Uuid)> = sqlx::query_as(
        "SELECT eligible, status, last_pd_completed_on, organization_id FROM candidates
         WHERE campaign_id = $1 AND educator_id = $2",
    )
    .bind(c.id)
    .bind(educator)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut out = pb::MyAllocation {
        campaign_id: c.id.to_string(),
        ..Default::default()
    };
    let interval: i32 = sqlx::query_scalar(
        "SELECT COALESCE(max(pd_interval_years), 3) FROM known_regions WHERE id = $1",
    )
    .bind(c.region)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let cutoff = eligibility::cutoff(c.year, interval).map(|d| d.format("%d.%m.%Y").to_string());
    let Some((eligible, status, last_pd, org)) = row.filter(|r| r.0) else {
        out.status = "not_due".into();
        out.explanation = format!(
            "Повышение квалификации за счёт бюджета в {} году положено тем, чьё последнее обучение \
             закончилось до {} (раз в {} года) или кто ещё не обучался; по вашим данным срок не наступил.",
            eligibility::training_year(c.year),
            cutoff.unwrap_or_default(),
            interval
        );
        return Ok(out);
    };
    out.candidate = eligible;
    out.last_pd_completed_on = date(last_pd);
    let filter = NumberFilter {
        campaign: Some(c.id),
        educator: Some(educator),
        ..Default::default()
    };
    let (_, numbers) = fetch(&mut conn, filter, s.clock.now(), (10, 0)).await?;
    out.refusal = crate::refusals::latest(&mut conn, c.id, educator).await?;
    let live = numbers
        .iter()
        .position(|n| matches!(n.status.as_str(), "assigned" | "used" | "expired"));
    if status == "excluded" {
        out.status = "excluded".into();
        out.explanation =
            "Организация исключила вас из списка на этот год; причину знает оператор организации."
                .into();
        return Ok(out);
    }
    if let Some(i) = live {
        let n = numbers.into_iter().nth(i).map(NumberView::into_proto);
        out.status = "funded".into();
        if c.pd_model == "voucher_hours" {
            out.voucher = match &n {
                Some(n) => Some(voucher(&mut conn, n).await?),
                None => None,
            };
        }
        out.unique_number = n;
        out.explanation =
            "Вам присвоен уникальный номер: с ним вы подаёте заявление на обучение.".into();
        return Ok(out);
    }
    if let Some(refused) = numbers
        .into_iter()
        .find(|n| n.status == "refused" || n.status == "reassigned")
    {
        out.status = "refused".into();
        out.unique_number = Some(refused.into_proto());
        out.explanation =
            "Вы отказались от обучения в этом году; номер передан другому педагогу.".into();
        return Ok(out);
    }
    // Ranked within the educator's organization only: this is read often.
    let (rank, quota, count): (Option<i64>, Option<i32>, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT max(r.rank) FILTER (WHERE r.educator_id = $3),
                (SELECT quota FROM quotas WHERE campaign_id = $1 AND level = 'organization' AND unit_id = $2),
                count(*)
         FROM ({RANKED_IN_ORG}) r"
    )))
    .bind(c.id)
    .bind(org)
    .bind(educator)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    out.status = "waiting".into();
    out.rank = rank.unwrap_or(0) as i32;
    out.organization_quota = quota.unwrap_or(0);
    out.organization_candidates = count as i32;
    let pd = match last_pd {
        Some(d) => format!(
            "последнее повышение квалификации окончено {}",
            d.format("%d.%m.%Y")
        ),
        None => "сведений о повышении квалификации нет".into(),
    };
    out.explanation = match (rank, quota) {
        (None, _) => format!(
            "Вы в списке организации ({pd}); список ещё не подтверждён оператором организации."
        ),
        (Some(r), None) => format!(
            "Ваше место в очереди организации: {r} ({pd}). Квоты ещё не распределены. {}",
            msg::RANK_RULE
        ),
        (Some(r), Some(q)) => format!(
            "Ваше место в очереди организации: {r} из {count} ({pd}); квота организации: {q}. \
             Номер может освободиться, если кто-то откажется. {}{}",
            msg::RANK_RULE,
            if c.pd_model == "voucher_hours" {
                msg::VOUCHER_QUOTA_RULE
            } else {
                ""
            }
        ),
    };
    Ok(out)
}

/// The voucher of a number: its blocks and the hours left.
async fn voucher(conn: &mut PgConnection, n: &pb::UniqueNumber) -> Result<pb::Voucher, AppError> {
    let id: Uuid =
        n.id.parse()
            .map_err(|e| pd_bus::rpc::internal("number id", e))?;
    let blocks: Vec<(String, i32, Option<Uuid>)> = sqlx::query_as(
        "SELECT kind, hours, application_id FROM voucher_blocks WHERE number_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let normative: i64 = sqlx::query_scalar(
        "SELECT COALESCE(max(normative_cost_kopecks), 0) FROM funding WHERE campaign_id = $1::uuid",
    )
    .bind(&n.campaign_id)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    let hours: i32 = blocks.iter().map(|b| b.1).sum();
    Ok(pb::Voucher {
        id: n.id.clone(),
        number: n.number.clone(),
        campaign_id: n.campaign_id.clone(),
        educator_id: n.educator_id.clone(),
        hours,
        cost_kopecks: normative * i64::from(hours),
        hours_left: blocks.iter().filter(|b| b.2.is_none()).map(|b| b.1).sum(),
        blocks: blocks
            .into_iter()
            .map(|(kind, hours, application)| pb::VoucherBlock {
                kind,
                hours,
                status: if application.is_some() {
                    "spent"
                } else {
                    "open"
                }
                .into(),
                application_id: application.map(|a| a.to_string()).unwrap_or_default(),
            })
            .collect(),
        status: if n.status == "refused" || n.status == "reassigned" {
            "refused"
        } else {
            "active"
        }
        .into(),
    })
}

/// Whether the caller may see a number: their own, or of their scope.
pub(crate) fn visible(p: &pd_domain::Principal, n: &NumberView) -> bool {
    access::educator_id(p) == Some(n.educator_id) || access::oversees(p, &n.unit())
}
