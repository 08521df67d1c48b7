//! Funding and quotas: the ministry's budget and normative cost give the
//! funded places (with an optional regional reserve); the allocation run
//! shares them among municipalities, then organizations, by the largest
//! remainder over confirmed candidates, and assigns each organization's
//! quota to its candidates in the published order — a unique number each
//! (`un_quota`) or a named voucher (`voucher_hours`); in `cumulative_route`
//! the quotas are the organizations' hours of the plan-order.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::AppError;
use pd_domain::error::Validator;
use pd_proto::allocation::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::candidates::RANKED;
use crate::db::{self, Campaign, db_error, ensure, limit, offset, ts};
use crate::domain::{access, quotas, vouchers};
use crate::numbers::{self as numbers_mod, NumberRow};
use crate::{State, messages as msg};
use pd_domain::unique_number as un;

#[derive(sqlx::FromRow)]
struct FundingRow {
    pd_model: String,
    budget_kopecks: i64,
    normative_cost_kopecks: i64,
    reserve_percent: i32,
    funded_places: i32,
    reserve_places: i32,
    set_at: DateTime<Utc>,
    allocated_at: Option<DateTime<Utc>>,
}

impl FundingRow {
    fn into_proto(self, campaign: Uuid) -> pb::Funding {
        let unit = match self.pd_model.as_str() {
            "un_quota" => "место (уникальный номер) стоит норматив на одного педагога".to_owned(),
            "voucher_hours" => format!(
                "место (именной чек на {} ч) стоит норматив за час × {}",
                vouchers::STANDARD_HOURS,
                vouchers::STANDARD_HOURS
            ),
            _ => "место — час плана-заказа, стоит норматив за час".to_owned(),
        };
        pb::Funding {
            campaign_id: campaign.to_string(),
            explanation: format!(
                "Мест: ⌊{} / {}⌋ = {} ({unit}); резерв региона: ⌊{} × {} %⌋ = {}; к распределению: {}.",
                self.budget_kopecks,
                place_cost(&self.pd_model, self.normative_cost_kopecks),
                self.funded_places,
                self.funded_places,
                self.reserve_percent,
                self.reserve_places,
                self.funded_places - self.reserve_places
            ),
            pd_model: self.pd_model,
            budget_kopecks: self.budget_kopecks,
            normative_cost_kopecks: self.normative_cost_kopecks,
            reserve_percent: self.reserve_percent,
            funded_places: self.funded_places,
            reserve_places: self.reserve_places,
            set_at: ts(self.set_at),
            allocated_at: self.allocated_at.map(ts).unwrap_or_default(),
        }
    }
}

/// What one funded place costs, in kopecks.
fn place_cost(model: &str, normative: i64) -> i64 {
    match model {
        "voucher_hours" => normative.saturating_mul(vouchers::STANDARD_HOURS),
        _ => normative,
    }
}

/// Funded places at most (a region has tens of thousands of educators).
const MAX_PLACES: i64 = 1_000_000;

const FUNDING: &str = "SELECT pd_model, budget_kopecks, normative_cost_kopecks, reserve_percent, funded_places,
                              reserve_places, set_at, allocated_at FROM funding WHERE campaign_id = $1";

/// The ministry sets (or changes, until the allocation run) the budget,
/// the normative cost and the reserve share.
pub(crate) async fn set(
    s: State,
    ctx: RpcContext,
    req: pb::SetFundingRequest,
) -> Result<pb::Funding, AppError> {
    let p = ctx.principal()?;
    let mut v = Validator::new();
    if req.budget_kopecks < 0 {
        v.add("budget_kopecks", msg::BUDGET);
    }
    if req.normative_cost_kopecks <= 0 {
        v.add("normative_cost_kopecks", msg::NORMATIVE);
    }
    if !(0..=50).contains(&req.reserve_percent) {
        v.add("reserve_percent", msg::RESERVE);
    }
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    ensure(access::funds(p, c.region))?;
    if let Some(f) = load(&mut tx, c.id, true).await?
        && f.allocated_at.is_some()
    {
        return Err(AppError::conflict(msg::ALLOCATED));
    }
    let places = req.budget_kopecks / place_cost(&c.pd_model, req.normative_cost_kopecks);
    if places > MAX_PLACES {
        return Err(AppError::invalid("budget_kopecks", msg::PLACES_TOO_MANY));
    }
    let reserve = places * i64::from(req.reserve_percent) / 100;
    let (places, reserve) = (places as i32, reserve as i32);
    sqlx::query(
        "INSERT INTO funding (campaign_id, region_id, pd_model, budget_kopecks, normative_cost_kopecks,
                              reserve_percent, funded_places, reserve_places, set_by, set_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (campaign_id) DO UPDATE SET pd_model = $3, budget_kopecks = $4,
             normative_cost_kopecks = $5, reserve_percent = $6, funded_places = $7,
             reserve_places = $8, set_by = $9, set_at = now()",
    )
    .bind(c.id)
    .bind(c.region)
    .bind(&c.pd_model)
    .bind(req.budget_kopecks)
    .bind(req.normative_cost_kopecks)
    .bind(req.reserve_percent)
    .bind(places)
    .bind(reserve)
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let funding = load(&mut tx, c.id, false)
        .await?
        .ok_or_else(|| AppError::not_found(msg::NO_FUNDING))?
        .into_proto(c.id);
    let event = pb::FundingSet {
        funding: Some(funding.clone()),
    };
    s.outbox
        .write(
            &mut tx,
            "funding_set",
            &c.id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(funding)
}

async fn load(
    conn: &mut PgConnection,
    campaign: Uuid,
    lock: bool,
) -> Result<Option<FundingRow>, AppError> {
    let sql = if lock {
        format!("{FUNDING} FOR UPDATE")
    } else {
        FUNDING.to_owned()
    };
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(campaign)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

/// The campaign's funding: everyone operating in the region sees it.
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::Funding, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    ensure(access::operates_in(p, c.region))?;
    Ok(load(&mut conn, c.id, false)
        .await?
        .ok_or_else(|| AppError::not_found(msg::NO_FUNDING))?
        .into_proto(c.id))
}

/// The allocation run, once: quotas to municipalities and organizations,
/// then numbers (or vouchers) to each organization's first candidates;
/// the reserve and the places nobody could take wait, free, for the region.
pub(crate) async fn allocate(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::Allocation, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    ensure(access::manages_region(p, c.region))?;
    let f = load(&mut tx, c.id, true)
        .await?
        .ok_or_else(|| AppError::conflict(msg::NO_FUNDING))?;
    if f.allocated_at.is_some() {
        return Err(AppError::conflict(msg::ALLOCATED));
    }
    // No list changes while places are shared (confirmations lock the same rows).
    sqlx::query("LOCK TABLE candidate_lists IN SHARE MODE")
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let now = s.clock.now();
    let distributable = i64::from(f.funded_places - f.reserve_places);
    // Read once, so the quotas and the numbers come from the same list
    // whatever identity's events change meanwhile.
    let ranked = ranked(&mut tx, &c).await?;
    let shares = share_places(&mut tx, &c, &ranked, distributable).await?;
    let assigned = if c.pd_model == "cumulative_route" {
        announce_hours(&s, &mut tx, &ctx, &c, &shares.organizations).await?;
        0
    } else {
        // Vouchers are paid by the hour: the quotas' vouchers must fit in
        // the budget less the region's reserve.
        let hours = f.budget_kopecks / f.normative_cost_kopecks.max(1)
            - i64::from(f.reserve_places) * vouchers::STANDARD_HOURS;
        let funded = funded(&c, ranked, &shares.organizations, hours);
        assign(&s, &mut tx, &ctx, &c, funded, now).await?
    };
    let municipality_unused = shares.unused;
    let free = i64::from(f.reserve_places) + municipality_unused;
    sqlx::query(
        "INSERT INTO free_places (id, campaign_id, region_id, freed_at)
         SELECT gen_random_uuid(), $1, $2, $3 FROM generate_series(1, $4)",
    )
    .bind(c.id)
    .bind(c.region)
    .bind(now)
    .bind(if c.pd_model == "cumulative_route" {
        0
    } else {
        free
    })
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query("UPDATE funding SET allocated_at = $2 WHERE campaign_id = $1")
        .bind(c.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let answer = pb::Allocation {
        campaign_id: c.id.to_string(),
        funded_places: f.funded_places,
        reserve_places: f.reserve_places,
        municipalities: shares.municipalities as i32,
        organizations: shares.organizations.len() as i32,
        numbers_assigned: assigned as i32,
        unused_places: municipality_unused as i32,
        allocated_at: ts(now),
    };
    let event = pb::AllocationCompleted {
        allocation: Some(answer.clone()),
    };
    s.outbox
        .write(
            &mut tx,
            "allocation_completed",
            &c.id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &answer).await?;
    tracing::info!(campaign = %c.id, assigned, "allocation run done");
    Ok(answer)
}

/// The candidates each organization's quota funds, in the published
/// order: its first `quota`; with vouchers (voucher_hours), as many of
/// them as the budget's hours pay for.
fn funded(
    c: &Campaign,
    ranked: Vec<Ranked>,
    quotas: &HashMap<Uuid, i64>,
    budget_hours: i64,
) -> Vec<Ranked> {
    let quota = |org: &Uuid| quotas.get(org).copied().unwrap_or(0);
    let within: Vec<Ranked> = ranked.into_iter().filter(|r| r.4 <= quota(&r.1)).collect();
    if c.pd_model != "voucher_hours" {
        return within;
    }
    let costs: Vec<(i64, i32)> = within
        .iter()
        .map(|r| (r.4, vouchers::hours(vouchers::blocks(&r.3))))
        .collect();
    let keep = vouchers::within_budget(&costs, budget_hours);
    within
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

/// voucher_hours: 409 `over_budget` when the campaign's live vouchers
/// (assigned or used) would cost more than its budget, as after handing
/// a freed 72-hour place to a holder of a 90-hour voucher.
pub(crate) async fn ensure_vouchers_within_budget(
    tx: &mut PgConnection,
    campaign: Uuid,
) -> Result<(), AppError> {
    // Two reassignments at once take turns here, each counting the other's voucher.
    sqlx::query("SELECT 1 FROM funding WHERE campaign_id = $1 FOR UPDATE")
        .bind(campaign)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let (budget, cost): (i64, i64) = sqlx::query_as(
        "SELECT f.budget_kopecks,
                f.normative_cost_kopecks * (SELECT coalesce(sum(b.hours), 0)::bigint
                    FROM voucher_blocks b JOIN unique_numbers n ON n.id = b.number_id
                    WHERE n.campaign_id = $1 AND n.status IN ('assigned', 'used'))
         FROM funding f WHERE f.campaign_id = $1",
    )
    .bind(campaign)
    .fetch_one(tx)
    .await
    .map_err(db_error)?;
    if cost > budget {
        return Err(AppError::conflict(msg::OVER_BUDGET)
            .with("reason", "over_budget")
            .with("budget_kopecks", budget.to_string())
            .with("cost_kopecks", cost.to_string()));
    }
    Ok(())
}

/// cumulative_route: each organization's plan-order hours, one
/// `hour_quota_set` event each (enrollment draws routes and teams from them).
async fn announce_hours(
    s: &State,
    tx: &mut PgConnection,
    ctx: &RpcContext,
    c: &Campaign,
    quotas: &HashMap<Uuid, i64>,
) -> Result<(), AppError> {
    let events = quotas
        .iter()
        .map(|(org, hours)| PendingEvent {
            event_type: "hour_quota_set",
            aggregate_id: format!("{}/{org}", c.id),
            payload: pb::HourQuotaSet {
                campaign_id: c.id.to_string(),
                organization_id: org.to_string(),
                hours: i32::try_from(*hours).unwrap_or(i32::MAX),
            }
            .encode_to_vec(),
        })
        .collect();
    s.outbox
        .write_many(tx, &ctx.actor(), events)
        .await
        .map_err(db_error)
}

/// What the places were shared into.
struct Shares {
    municipalities: usize,
    /// Each organization's quota.
    organizations: HashMap<Uuid, i64>,
    /// Places nobody could take.
    unused: i64,
}

/// A confirmed candidate in the published order: educator, organization,
/// municipality, position, place in the organization's order.
type Ranked = (Uuid, Uuid, Uuid, String, i64);

/// Every confirmed candidate of the campaign, ordered by municipality,
/// organization and rank: one scan and sort, whatever the planner knows of
/// tables filled a moment ago.
async fn ranked(tx: &mut PgConnection, c: &Campaign) -> Result<Vec<Ranked>, AppError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.educator_id, r.organization_id, r.municipality_id, e.position, r.rank
         FROM ({RANKED}) r JOIN known_educators e ON e.id = r.educator_id
         ORDER BY r.municipality_id, r.organization_id, r.rank"
    )))
    .bind(c.id)
    .fetch_all(tx)
    .await
    .map_err(db_error)
}

/// Quotas of municipalities, then of the organizations of each, written
/// with how each was computed.
async fn share_places(
    tx: &mut PgConnection,
    c: &Campaign,
    ranked: &[Ranked],
    places: i64,
) -> Result<Shares, AppError> {
    // Confirmed candidates by (municipality, organization), in that order.
    let mut counts: Vec<(Uuid, Uuid, i64)> = Vec::new();
    for r in ranked {
        match counts.last_mut() {
            Some(last) if last.0 == r.2 && last.1 == r.1 => last.2 += 1,
            _ => counts.push((r.2, r.1, 1)),
        }
    }
    let mut municipalities: Vec<(Uuid, i64)> = Vec::new();
    for &(m, _, n) in &counts {
        match municipalities.last_mut() {
            Some(last) if last.0 == m => last.1 += n,
            _ => municipalities.push((m, n)),
        }
    }
    // Hours of a plan-order are shared whole; places of people at most one each.
    let capped = c.pd_model != "cumulative_route";
    let (m_shares, unused) = quotas::largest_remainder(places, &municipalities, capped);
    let total: i64 = municipalities.iter().map(|m| m.1).sum();
    let mut rows = Vec::new();
    for m in &m_shares {
        rows.push(QuotaRow::of("municipality", m.unit, m, total, places));
        let orgs: Vec<(Uuid, i64)> = counts
            .iter()
            .filter(|o| o.0 == m.unit)
            .map(|o| (o.1, o.2))
            .collect();
        // A capped municipality's quota never exceeds its candidates: nothing is left over here.
        let (o_shares, _) = quotas::largest_remainder(m.quota, &orgs, capped);
        for o in &o_shares {
            rows.push(QuotaRow::of(
                "organization",
                m.unit,
                o,
                m.candidates,
                m.quota,
            ));
        }
    }
    let shares = Shares {
        municipalities: m_shares.len(),
        organizations: rows
            .iter()
            .filter(|r| r.level == "organization")
            .map(|r| (r.unit, r.share.quota))
            .collect(),
        unused,
    };
    insert_quotas(tx, c.id, rows).await?;
    Ok(shares)
}

struct QuotaRow {
    level: &'static str,
    unit: Uuid,
    municipality: Uuid,
    share: quotas::Share,
    candidates_total: i64,
    places_total: i64,
}

impl QuotaRow {
    fn of(
        level: &'static str,
        municipality: Uuid,
        s: &quotas::Share,
        total: i64,
        places: i64,
    ) -> Self {
        QuotaRow {
            level,
            unit: s.unit,
            municipality,
            share: s.clone(),
            candidates_total: total,
            places_total: places,
        }
    }
}

async fn insert_quotas(
    tx: &mut PgConnection,
    campaign: Uuid,
    rows: Vec<QuotaRow>,
) -> Result<(), AppError> {
    let col = |f: fn(&QuotaRow) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    sqlx::query(
        "INSERT INTO quotas (campaign_id, level, unit_id, municipality_id, candidates, candidates_total,
                             places_total, floor, remainder_rank, extra_place, quota)
         SELECT $1, l, u, m, c::int, ct::int, pt::int, f::int, rr::int, x, q::int
         FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::bigint[], $7::bigint[],
                     $8::bigint[], $9::bigint[], $10::bool[], $11::bigint[])
              AS t(l, u, m, c, ct, pt, f, rr, x, q)",
    )
    .bind(campaign)
    .bind(rows.iter().map(|r| r.level).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.unit).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.municipality).collect::<Vec<_>>())
    .bind(col(|r| r.share.candidates))
    .bind(col(|r| r.candidates_total))
    .bind(col(|r| r.places_total))
    .bind(col(|r| r.share.floor))
    .bind(col(|r| r.share.remainder_rank))
    .bind(rows.iter().map(|r| r.share.extra).collect::<Vec<_>>())
    .bind(col(|r| r.share.quota))
    .execute(tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// A number (or voucher) for each funded candidate (see [`funded`]); one
/// `unique_number_assigned` event each.
async fn assign(
    s: &State,
    tx: &mut PgConnection,
    ctx: &RpcContext,
    c: &Campaign,
    funded: Vec<Ranked>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let rows: Vec<NumberRow> = funded
        .into_iter()
        .map(|(educator, org, muni, position, _)| NumberRow {
            id: Uuid::now_v7(),
            number: un::generate(&mut rand::thread_rng()),
            campaign_id: c.id,
            region_id: c.region,
            municipality_id: muni,
            organization_id: org,
            educator_id: educator,
            position,
            assigned_by_level: "quota".into(),
            replaces: None,
            assigned_at: now,
        })
        .collect();
    numbers_mod::insert(tx, &c.pd_model, &rows).await?;
    let events = rows
        .iter()
        .map(|r| PendingEvent {
            event_type: "unique_number_assigned",
            aggregate_id: r.id.to_string(),
            payload: pb::UniqueNumberAssigned {
                unique_number: Some(r.to_proto("assigned", "", "")),
                voucher_blocks: numbers_mod::new_blocks(&c.pd_model, &r.position),
            }
            .encode_to_vec(),
        })
        .collect();
    s.outbox
        .write_many(tx, &ctx.actor(), events)
        .await
        .map_err(db_error)?;
    Ok(rows.len())
}

/// The quotas of a level and how each was computed; organizations of one
/// municipality with `municipality_id`.
pub(crate) async fn list_quotas(
    s: State,
    ctx: RpcContext,
    req: pb::ListQuotasRequest,
) -> Result<pb::QuotaList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    ensure(access::operates_in(p, c.region))?;
    let level = match req.level.as_str() {
        "" | "municipality" => "municipality",
        "organization" => "organization",
        _ => return Err(AppError::invalid("level", msg::LEVEL)),
    };
    // Everyone operating in the region sees the municipalities' shares (the
    // rule is public); organizations' quotas within their own scope.
    let scope = if level == "organization" {
        db::scope(&mut conn, p, &c, "", &req.municipality_id).await?
    } else {
        db::Scope::default()
    };
    let rows: Vec<QuotaView> = sqlx::query_as(
        "SELECT q.level, q.unit_id, COALESCE(o.name, m.name, '') AS unit_name, q.municipality_id,
                q.candidates, q.candidates_total, q.places_total, q.floor, q.remainder_rank,
                q.extra_place, q.quota,
                (SELECT count(*) FROM unique_numbers u WHERE u.campaign_id = q.campaign_id
                    AND (u.organization_id = q.unit_id OR u.municipality_id = q.unit_id)
                    AND u.status IN ('assigned', 'used')) AS assigned,
                (SELECT COALESCE(sum(h.hours), 0) FROM hour_draws h
                    JOIN known_organizations ho ON ho.id = h.organization_id
                    WHERE h.campaign_id = q.campaign_id AND h.active
                      AND (h.organization_id = q.unit_id OR ho.municipality_id = q.unit_id)) AS hours_used,
                count(*) OVER () AS total
         FROM quotas q
         LEFT JOIN known_organizations o ON o.id = q.unit_id
         LEFT JOIN known_municipalities m ON m.id = q.unit_id
         WHERE q.campaign_id = $1 AND q.level = $2
           AND ($3::uuid IS NULL OR q.unit_id = $3) AND ($4::uuid IS NULL OR q.municipality_id = $4)
         ORDER BY unit_name, q.unit_id LIMIT $5 OFFSET $6",
    )
    .bind(c.id)
    .bind(level)
    .bind(scope.organization)
    .bind(scope.municipality)
    .bind(limit(req.limit)?)
    .bind(offset(req.offset)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::QuotaList {
        total: rows.first().map(|r| r.total).unwrap_or(0),
        items: rows
            .into_iter()
            .map(|q| q.into_proto(c.pd_model == "cumulative_route"))
            .collect(),
        rule: msg::QUOTA_RULE.into(),
    })
}

#[derive(sqlx::FromRow)]
struct QuotaView {
    level: String,
    unit_id: Uuid,
    unit_name: String,
    municipality_id: Uuid,
    candidates: i32,
    candidates_total: i32,
    places_total: i32,
    floor: i32,
    remainder_rank: i32,
    extra_place: bool,
    quota: i32,
    assigned: i64,
    hours_used: i64,
    total: i64,
}

impl QuotaView {
    /// `hours`: the quota is in plan-order hours (cumulative_route).
    fn into_proto(self, hours: bool) -> pb::Quota {
        // What was shared: hours whole, places at most one per candidate.
        let shared = if hours {
            self.places_total
        } else {
            self.places_total.min(self.candidates_total)
        };
        let (hours_used, hours_left) = if hours {
            (self.hours_used as i32, self.quota - self.hours_used as i32)
        } else {
            (0, 0)
        };
        pb::Quota {
            hours_used,
            hours_left,
            exact_share: quotas::decimal(
                i64::from(shared) * i64::from(self.candidates),
                i64::from(self.candidates_total),
            ),
            level: self.level,
            unit_id: self.unit_id.to_string(),
            unit_name: self.unit_name,
            municipality_id: self.municipality_id.to_string(),
            candidates: self.candidates,
            candidates_total: self.candidates_total,
            places_total: self.places_total,
            floor: self.floor,
            remainder_rank: self.remainder_rank,
            extra_place: self.extra_place,
            quota: self.quota,
            assigned: self.assigned as i32,
        }
    }
}
