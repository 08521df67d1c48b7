//! Group formation at the application window's close (seed 003:
//! комплектование групп). Once the phase has closed the rosters are
//! fixed, once per campaign whichever instance gets there first: the
//! applications still waitlisted are rejected (`window_closed`, their
//! numbers given back), and every group is `formed`, or `under_min` for
//! the regional operator to cancel (in the registry, which rejects its
//! applications here) or to merge into another group of its program.
//! Every fixed roster goes to its provider as a `roster_fixed` event and
//! can be downloaded as CSV.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::{Outbox, PendingEvent};
use pd_domain::{AppError, Principal, Role};
use pd_proto::enrollment::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::applications::by_ids;
use crate::db::{self, body_id, db_error, ensure, limit, offset, optional_id, path_id, ts};
use crate::domain::access;
use crate::seats::SeatsRow;
use crate::{State, messages as msg};

/// Who a background formation is recorded as.
const SYSTEM: &str = "system:enrollment";

/// Forms every campaign whose application phase closed before `now` and
/// whose groups are not formed yet. Run every `sweep_interval_ms`, and
/// before the formation or the rosters are read.
pub(crate) async fn form_due(s: &State, now: DateTime<Utc>) -> Result<(), AppError> {
    let due: Vec<Uuid> = sqlx::query_scalar(
        "SELECT c.campaign_id FROM campaign_calendar c
         WHERE c.phase = 'applications' AND c.closes_at <= $1
           AND NOT EXISTS (SELECT 1 FROM formations f WHERE f.campaign_id = c.campaign_id)
           AND EXISTS (SELECT 1 FROM groups g WHERE g.campaign_id = c.campaign_id)",
    )
    .bind(now)
    .fetch_all(&s.pool)
    .await
    .map_err(db_error)?;
    for campaign in due {
        form(s, campaign, SYSTEM).await?;
    }
    Ok(())
}

/// Forms a campaign's groups in one transaction; `false` when they were
/// formed already (the `formations` row is taken first, so a second
/// instance waits for the first and then does nothing).
async fn form(s: &State, campaign: Uuid, actor: &str) -> Result<bool, AppError> {
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let first: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO formations (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING campaign_id",
    )
    .bind(campaign)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if first.is_none() {
        return Ok(false);
    }
    // The groups' rows first, as everywhere (a late withdrawal holds them).
    let groups: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM groups WHERE campaign_id = $1 ORDER BY id FOR UPDATE")
            .bind(campaign)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
    let rejected: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE applications SET status = 'rejected', reason = 'window_closed', updated_at = now()
         WHERE campaign_id = $1 AND status = 'waitlisted' RETURNING id",
    )
    .bind(campaign)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    crate::applications::release_funding(&mut tx, &rejected).await?;
    sqlx::query(
        "UPDATE groups SET waitlisted = 0, roster = CASE
             WHEN status = 'cancelled' THEN 'cancelled'
             WHEN taken >= min_size THEN 'formed' ELSE 'under_min' END
         WHERE campaign_id = $1",
    )
    .bind(campaign)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query("UPDATE formations SET waitlist_rejected = $2 WHERE campaign_id = $1")
        .bind(campaign)
        .bind(rejected.len() as i32)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let mut events = Vec::new();
    for a in by_ids(&mut tx, &rejected).await.map_err(db_error)? {
        let e = pb::ApplicationWithdrawn {
            application: Some(a.snapshot()),
            reason: "window_closed".into(),
        };
        events.push(pending("application_withdrawn", a.id, &e));
    }
    events.extend(roster_events(&mut tx, &groups).await?);
    events.extend(crate::teams::close_pending(&mut tx, campaign).await?);
    s.outbox
        .write_many(&mut tx, actor, events)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    crate::metrics::closed_waitlist(rejected.len());
    tracing::info!(%campaign, groups = groups.len(), waitlist_rejected = rejected.len(), "groups formed");
    Ok(true)
}

fn pending(event_type: &'static str, aggregate: Uuid, payload: &impl Message) -> PendingEvent {
    PendingEvent {
        event_type,
        aggregate_id: aggregate.to_string(),
        payload: payload.encode_to_vec(),
    }
}

/// `roster_fixed` for each of `groups`, with its members.
async fn roster_events(
    tx: &mut PgConnection,
    groups: &[Uuid],
) -> Result<Vec<PendingEvent>, AppError> {
    let mut out = Vec::with_capacity(groups.len());
    for r in rosters(tx, groups, true).await? {
        let group = r
            .group
            .as_ref()
            .map(|g| g.group_id.clone())
            .unwrap_or_default();
        out.push(PendingEvent {
            event_type: "roster_fixed",
            aggregate_id: group,
            payload: pb::RosterFixed { roster: Some(r) }.encode_to_vec(),
        });
    }
    Ok(out)
}

/// A group cancelled in the registry after formation: its roster is
/// `cancelled` (its applications were rejected by the caller) and the
/// provider learns it. Nothing before formation, or for a merged group.
pub(crate) async fn cancelled(
    tx: &mut PgConnection,
    outbox: &Outbox,
    actor: &str,
    group: Uuid,
) -> Result<(), AppError> {
    let changed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE groups SET roster = 'cancelled'
         WHERE id = $1 AND roster IN ('formed', 'under_min') RETURNING id",
    )
    .bind(group)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if changed.is_none() {
        return Ok(());
    }
    let events = roster_events(tx, &[group]).await?;
    outbox.write_many(tx, actor, events).await.map_err(db_error)
}

/// A formed group lost a learner after formation (a number released):
/// its roster is fixed again, `under_min` when it fell below its minimum,
/// and the provider learns it. Nothing while the roster is open, or for a
/// cancelled or merged group.
pub(crate) async fn refix(
    tx: &mut PgConnection,
    outbox: &Outbox,
    actor: &str,
    group: Uuid,
) -> Result<(), AppError> {
    let changed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE groups SET roster = CASE WHEN taken >= min_size THEN 'formed' ELSE 'under_min' END
         WHERE id = $1 AND status = 'published' AND roster IN ('formed', 'under_min')
         RETURNING id",
    )
    .bind(group)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if changed.is_none() {
        return Ok(());
    }
    let events = roster_events(tx, &[group]).await?;
    outbox.write_many(tx, actor, events).await.map_err(db_error)
}

#[derive(sqlx::FromRow)]
struct RosterRow {
    #[sqlx(flatten)]
    seats: SeatsRow,
    campaign_id: Uuid,
    provider_id: Uuid,
    provider_name: String,
    min_size: i32,
    roster: String,
    merged_into: Option<Uuid>,
    total: i64,
}

impl RosterRow {
    fn into_proto(self, members: Vec<pb::RosterMember>) -> pb::GroupRoster {
        let enrolled = if self.roster == "cancelled" || self.roster == "merged" {
            0
        } else {
            self.seats.taken
        };
        pb::GroupRoster {
            group: Some(self.seats.into_proto()),
            campaign_id: self.campaign_id.to_string(),
            provider_id: self.provider_id.to_string(),
            provider_name: self.provider_name,
            min_size: self.min_size,
            enrolled,
            roster: self.roster,
            merged_into: self.merged_into.map(|g| g.to_string()).unwrap_or_default(),
            members,
        }
    }
}

const ROSTERS: &str =
    "SELECT id, region_id, program_id, program_title, starts_on, ends_on, capacity,
                              taken, waitlisted, status, online, address, campaign_id, provider_id,
                              provider_name, min_size, roster, merged_into,
                              count(*) OVER () AS total
                       FROM groups";

#[derive(sqlx::FromRow)]
struct MemberRow {
    group_id: Uuid,
    application_id: Uuid,
    educator_id: Uuid,
    educator_name: String,
    organization_id: Uuid,
    organization_name: String,
    municipality_name: String,
    moved_from: Option<Uuid>,
    modules: Vec<String>,
}

/// The rosters of `groups` (in title and date order), with their enrolled
/// members when `members`.
async fn rosters(
    conn: &mut PgConnection,
    groups: &[Uuid],
    members: bool,
) -> Result<Vec<pb::GroupRoster>, AppError> {
    let sql = format!("{ROSTERS} WHERE id = ANY($1) ORDER BY program_title, starts_on, id");
    let rows: Vec<RosterRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(groups)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let mut by_group: HashMap<Uuid, Vec<pb::RosterMember>> = HashMap::new();
    if members {
        for m in member_rows(conn, groups).await? {
            by_group
                .entry(m.group_id)
                .or_default()
                .push(pb::RosterMember {
                    application_id: m.application_id.to_string(),
                    educator_id: m.educator_id.to_string(),
                    educator_name: m.educator_name,
                    organization_id: m.organization_id.to_string(),
                    organization_name: m.organization_name,
                    municipality_name: m.municipality_name,
                    moved_from_group_id: m.moved_from.map(|g| g.to_string()).unwrap_or_default(),
                    modules: m.modules,
                });
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = by_group.remove(&r.seats.id).unwrap_or_default();
            r.into_proto(m)
        })
        .collect())
}

async fn member_rows(conn: &mut PgConnection, groups: &[Uuid]) -> Result<Vec<MemberRow>, AppError> {
    let sql = concat!(
        "SELECT a.group_id, a.id AS application_id, a.educator_id, ",
        crate::applications::educator_name!(),
        " AS educator_name, a.organization_id,
               coalesce(o.name, '') AS organization_name, coalesce(m.name, '') AS municipality_name,
               a.moved_from, coalesce(a.modules, '{}') AS modules
        FROM applications a
        LEFT JOIN unique_numbers n ON n.id = a.unique_number_id
        LEFT JOIN known_educators e ON e.id = a.educator_id
        LEFT JOIN known_organizations o ON o.id = a.organization_id
        LEFT JOIN known_municipalities m ON m.id = a.municipality_id
        WHERE a.group_id = ANY($1) AND a.status = 'enrolled'
        ORDER BY a.group_id, educator_name, a.seq"
    );
    sqlx::query_as(sql)
        .bind(groups)
        .fetch_all(conn)
        .await
        .map_err(db_error)
}

/// Forms the campaign's groups now, if its application phase has closed
/// (the regional operator; the service also does it by itself).
pub(crate) async fn form_now(
    s: State,
    ctx: RpcContext,
    req: pb::FormationRequest,
) -> Result<pb::Formation, AppError> {
    let p = ctx.principal()?;
    let campaign = managed_campaign(&s, p, &req.campaign_id, access::forms_groups).await?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    pd_calendar::ensure_closed(&mut conn, campaign, "applications", s.clock.now()).await?;
    drop(conn);
    form(&s, campaign, &ctx.actor()).await?;
    formation(&s, campaign).await
}

/// Where the formation of a campaign's groups stands (the regional
/// operator and the ministry); 409 `not_formed` before the window's close.
pub(crate) async fn get_formation(
    s: State,
    ctx: RpcContext,
    req: pb::FormationRequest,
) -> Result<pb::Formation, AppError> {
    let p = ctx.principal()?;
    let campaign = managed_campaign(&s, p, &req.campaign_id, access::manages_region).await?;
    form_due(&s, s.clock.now()).await?;
    formation(&s, campaign).await
}

/// A campaign of the caller's region where `allowed` lets the caller act
/// (404 for another region's, 403 for anyone else).
async fn managed_campaign(
    s: &State,
    p: &Principal,
    campaign: &str,
    allowed: fn(&Principal, Uuid) -> bool,
) -> Result<Uuid, AppError> {
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = db::campaign_region(&mut conn, p, campaign).await?;
    ensure(allowed(p, region))?;
    Ok(campaign)
}

async fn formation(s: &State, campaign: Uuid) -> Result<pb::Formation, AppError> {
    type Counts = (DateTime<Utc>, i32, i64, i64, i64, i64, i64);
    let row: Option<Counts> = sqlx::query_as(
        "SELECT f.formed_at, f.waitlist_rejected, count(g.id),
                count(g.id) FILTER (WHERE g.roster = 'formed'),
                count(g.id) FILTER (WHERE g.roster = 'under_min'),
                count(g.id) FILTER (WHERE g.roster = 'merged'),
                count(g.id) FILTER (WHERE g.roster = 'cancelled')
         FROM formations f LEFT JOIN groups g ON g.campaign_id = f.campaign_id
         WHERE f.campaign_id = $1 GROUP BY f.formed_at, f.waitlist_rejected",
    )
    .bind(campaign)
    .fetch_optional(&s.pool)
    .await
    .map_err(db_error)?;
    let Some((at, rejected, groups, formed, under, merged, cancelled)) = row else {
        return Err(AppError::conflict(msg::NOT_FORMED).with("reason", "not_formed"));
    };
    Ok(pb::Formation {
        campaign_id: campaign.to_string(),
        formed_at: ts(at),
        groups: groups as i32,
        formed: formed as i32,
        under_min: under as i32,
        merged: merged as i32,
        cancelled: cancelled as i32,
        waitlist_rejected: rejected,
    })
}

/// A campaign's group rosters without their members: the regional
/// operator's (filter `under_min` for the groups to decide on), or a
/// provider's own groups.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListRostersRequest,
) -> Result<pb::RosterList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = db::campaign_region(&mut conn, p, &req.campaign_id).await?;
    let asked = optional_id("provider_id", &req.provider_id)?;
    // The region's operators see every provider's groups; a provider's
    // administrators their own providers' (the one asked for, or all).
    let providers: Option<Vec<Uuid>> = if access::manages_region(p, region) {
        asked.map(|a| vec![a])
    } else {
        let own: Vec<Uuid> = p
            .scopes(Role::ProviderAdmin)
            .filter(|own| asked.is_none_or(|a| a == *own))
            .collect();
        ensure(!own.is_empty())?;
        Some(own)
    };
    let roster = match req.roster.as_str() {
        "" => None,
        "open" | "formed" | "under_min" | "merged" | "cancelled" => Some(req.roster.as_str()),
        _ => return Err(AppError::invalid("roster", msg::ROSTER)),
    };
    let (limit, offset) = (limit(req.limit)?, offset(req.offset)?);
    drop(conn);
    form_due(&s, s.clock.now()).await?;
    let sql = format!(
        "{ROSTERS} WHERE campaign_id = $1 AND ($2::text IS NULL OR roster = $2)
           AND ($3::uuid[] IS NULL OR provider_id = ANY($3))
         ORDER BY program_title, starts_on, id LIMIT $4 OFFSET $5"
    );
    let rows: Vec<RosterRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(campaign)
        .bind(roster)
        .bind(providers)
        .bind(limit)
        .bind(offset)
        .fetch_all(&s.pool)
        .await
        .map_err(db_error)?;
    Ok(pb::RosterList {
        total: rows.first().map_or(0, |r| r.total),
        items: rows.into_iter().map(|r| r.into_proto(Vec::new())).collect(),
    })
}

/// A group's roster with its members (the group's provider, the regional
/// operator; 404 for anyone else).
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::GroupRequest,
) -> Result<pb::GroupRoster, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::GROUP_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let owners: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT region_id, provider_id FROM groups WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    let sees = owners.is_some_and(|(region, provider)| {
        access::manages_region(p, region) || p.has_scope(Role::ProviderAdmin, provider)
    });
    if !sees {
        return Err(AppError::not_found(msg::GROUP_NOT_FOUND));
    }
    drop(conn);
    form_due(&s, s.clock.now()).await?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    rosters(&mut conn, &[id], true)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found(msg::GROUP_NOT_FOUND))
}

/// Merges an under-minimum group into another group of its program after
/// formation (the regional operator): its enrolled learners move with
/// their applications (`application_moved`, one each, for the
/// notifications), the source becomes `merged` and both rosters are
/// fixed again. 409 when the target has fewer free seats than learners.
pub(crate) async fn merge(
    s: State,
    ctx: RpcContext,
    req: pb::MergeGroupRequest,
) -> Result<pb::GroupRoster, AppError> {
    let p = ctx.principal()?;
    let source = path_id(&req.id, msg::GROUP_NOT_FOUND)?;
    let target = body_id("into_group_id", &req.into_group_id)?;
    if source == target {
        return Err(AppError::invalid("into_group_id", msg::MERGE_SAME));
    }
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    // Both rows, in id order (two merges the other way round cannot deadlock).
    let rows: Vec<MergeRow> = sqlx::query_as(
        "SELECT id, region_id, campaign_id, program_id, status, roster, capacity, taken
         FROM groups WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&[source, target][..])
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let find = |id: Uuid| rows.iter().find(|r| r.id == id && p.in_region(r.region_id));
    let from = find(source).ok_or_else(|| AppError::not_found(msg::GROUP_NOT_FOUND))?;
    ensure(access::forms_groups(p, from.region_id))?;
    let into =
        find(target).ok_or_else(|| AppError::invalid("into_group_id", msg::GROUP_NOT_FOUND))?;
    check_merge(from, into)?;
    let moved: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE applications SET group_id = $2, moved_from = $1, updated_at = now()
         WHERE group_id = $1 AND status = 'enrolled' RETURNING id",
    )
    .bind(source)
    .bind(target)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    // The counter said how many would move; the rows decide (all or none).
    if moved.len() as i32 > into.capacity - into.taken {
        return Err(AppError::conflict(msg::MERGE_NO_ROOM).with("reason", "not_enough_seats"));
    }
    // A school team learns together: it goes with its members.
    sqlx::query("UPDATE teams SET group_id = $2 WHERE group_id = $1 AND status = 'accepted'")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query("UPDATE groups SET taken = 0, roster = 'merged', merged_into = $2 WHERE id = $1")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "UPDATE groups SET taken = taken + $2,
             roster = CASE WHEN taken + $2 >= min_size THEN 'formed' ELSE 'under_min' END
         WHERE id = $1",
    )
    .bind(target)
    .bind(moved.len() as i32)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut events = Vec::new();
    for a in by_ids(&mut tx, &moved).await.map_err(db_error)? {
        let e = pb::ApplicationMoved {
            application: Some(a.snapshot()),
            from_group_id: source.to_string(),
        };
        events.push(pending("application_moved", a.id, &e));
    }
    events.extend(roster_events(&mut tx, &[source, target]).await?);
    s.outbox
        .write_many(&mut tx, &ctx.actor(), events)
        .await
        .map_err(db_error)?;
    let answer = rosters(&mut tx, &[target], true)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("the merged group is missing"))?;
    tx.commit().await.map_err(db_error)?;
    Ok(answer)
}

#[derive(sqlx::FromRow)]
struct MergeRow {
    id: Uuid,
    region_id: Uuid,
    campaign_id: Uuid,
    program_id: Uuid,
    status: String,
    roster: String,
    capacity: i32,
    taken: i32,
}

/// A merge takes a formed campaign's under-minimum group into a live group
/// of the same program with room for its learners.
fn check_merge(from: &MergeRow, into: &MergeRow) -> Result<(), AppError> {
    if from.roster == "open" {
        return Err(AppError::conflict(msg::NOT_FORMED).with("reason", "not_formed"));
    }
    if from.roster != "under_min" {
        return Err(AppError::conflict(msg::MERGE_NOT_UNDER_MIN).with("reason", "not_under_min"));
    }
    if into.campaign_id != from.campaign_id || into.program_id != from.program_id {
        return Err(AppError::invalid("into_group_id", msg::MERGE_OTHER_PROGRAM));
    }
    if into.status != "published" || !matches!(into.roster.as_str(), "formed" | "under_min") {
        return Err(AppError::conflict(msg::MERGE_TARGET_CLOSED).with("reason", "target_closed"));
    }
    let free = into.capacity - into.taken;
    if free < from.taken {
        return Err(AppError::conflict(msg::MERGE_NO_ROOM)
            .with("reason", "not_enough_seats")
            .with("seats_left", free.max(0).to_string())
            .with("learners", from.taken.to_string()));
    }
    Ok(())
}
