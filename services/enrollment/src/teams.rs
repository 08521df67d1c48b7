//! School-team applications of the cumulative model (seed 004: the
//! organization states the team's goals and the format of its final work,
//! chooses the route and applies; the provider may refuse, e.g. when the
//! plan-order's hours are exhausted or the goals are unclear). The
//! organization's operator submits; the group's provider accepts (every
//! member enrolled with the route's hours drawn from the organization's
//! plan-order, in one transaction) or rejects with a reason.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::bounds::{LIST, NAME, TEXT, TITLE};
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal, Role};
use pd_proto::enrollment::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::applications::by_ids;
use crate::db::{self, body_id, db_error, ensure, limit, offset, path_id, ts};
use crate::domain::access::{self, Unit};
use crate::routes::{draw_hours, educator_unit, open_group};
use crate::{State, messages as msg};

/// Members of one team: at least two (a team), at most a school's staff
/// room of a size the lists can carry.
const MIN_MEMBERS: usize = 2;

/// Why a provider may reject a team (seed 004 names the first three).
const REJECT_REASONS: [&str; 4] = ["hours_exhausted", "unclear_goals", "goals_differ", "other"];

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    campaign_id: Uuid,
    region_id: Uuid,
    municipality_id: Uuid,
    organization_id: Uuid,
    organization_name: String,
    group_id: Uuid,
    program_id: Uuid,
    program_title: String,
    provider_id: Uuid,
    provider_name: String,
    members: Vec<Uuid>,
    modules: Vec<String>,
    hours_per_member: i32,
    goals: String,
    final_work_format: String,
    status: String,
    reason: String,
    note: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    total: i64,
}

const TEAMS: &str = "SELECT t.id, t.campaign_id, t.region_id, t.municipality_id, t.organization_id,
           coalesce(o.name, '') AS organization_name, t.group_id, g.program_id, g.program_title,
           g.provider_id, g.provider_name, t.members, t.modules, t.hours_per_member, t.goals,
           t.final_work_format, t.status, t.reason, t.note, t.created_at, t.decided_at,
           count(*) OVER () AS total
    FROM teams t JOIN groups g ON g.id = t.group_id
    LEFT JOIN known_organizations o ON o.id = t.organization_id";

impl TeamRow {
    fn unit(&self) -> Unit {
        Unit {
            region: self.region_id,
            municipality: self.municipality_id,
            organization: self.organization_id,
        }
    }

    /// The team's organization's operators, the group's provider, the region.
    fn visible_to(&self, p: &Principal) -> bool {
        access::oversees(p, &self.unit()) || p.has_scope(Role::ProviderAdmin, self.provider_id)
    }
}

/// The teams with their members' names and, once accepted, applications.
async fn to_proto(conn: &mut PgConnection, rows: Vec<TeamRow>) -> Result<Vec<pb::Team>, AppError> {
    let ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|t| t.members.iter().copied())
        .collect();
    let names: HashMap<Uuid, String> = sqlx::query_as(
        "SELECT id, concat_ws(' ', last_name, first_name, nullif(middle_name, ''))
         FROM known_educators WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?
    .into_iter()
    .collect();
    let teams: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let applications: HashMap<(Uuid, Uuid), Uuid> = sqlx::query_as::<_, (Uuid, Uuid, Uuid)>(
        "SELECT team_id, educator_id, id FROM applications WHERE team_id = ANY($1)",
    )
    .bind(&teams)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?
    .into_iter()
    .map(|(team, educator, id)| ((team, educator), id))
    .collect();
    Ok(rows
        .into_iter()
        .map(|t| {
            let members = t
                .members
                .iter()
                .map(|m| pb::TeamMember {
                    educator_id: m.to_string(),
                    educator_name: names.get(m).cloned().unwrap_or_default(),
                    application_id: applications
                        .get(&(t.id, *m))
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                })
                .collect();
            pb::Team {
                id: t.id.to_string(),
                campaign_id: t.campaign_id.to_string(),
                organization_id: t.organization_id.to_string(),
                organization_name: t.organization_name,
                group_id: t.group_id.to_string(),
                program_id: t.program_id.to_string(),
                program_title: t.program_title,
                provider_id: t.provider_id.to_string(),
                provider_name: t.provider_name,
                hours_total: t.hours_per_member * t.members.len() as i32,
                members,
                modules: t.modules,
                hours_per_member: t.hours_per_member,
                goals: t.goals,
                final_work_format: t.final_work_format,
                status: t.status,
                reason: t.reason,
                note: t.note,
                submitted_at: ts(t.created_at),
                decided_at: t.decided_at.map(ts).unwrap_or_default(),
            }
        })
        .collect())
}

async fn one(conn: &mut PgConnection, id: Uuid) -> Result<Option<TeamRow>, AppError> {
    let sql = format!("{TEAMS} WHERE t.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

async fn answer(conn: &mut PgConnection, id: Uuid) -> Result<pb::Team, AppError> {
    let row = one(conn, id)
        .await?
        .ok_or_else(|| AppError::internal("the team just written is missing"))?;
    to_proto(conn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("the team just written is missing"))
}

/// The members, checked: distinct, known and employed, all of one
/// organization (the team's), of the caller's scope.
async fn members(
    tx: &mut PgConnection,
    p: &Principal,
    ids: &[String],
) -> Result<(Vec<Uuid>, Unit), AppError> {
    if ids.len() < MIN_MEMBERS || ids.len() > LIST {
        return Err(AppError::invalid("member_ids", msg::TEAM_SIZE));
    }
    let mut members = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let m = body_id(&format!("member_ids[{i}]"), id)?;
        if members.contains(&m) {
            return Err(AppError::invalid(
                format!("member_ids[{i}]"),
                msg::MEMBER_TWICE,
            ));
        }
        members.push(m);
    }
    let mut team: Option<Unit> = None;
    for (i, m) in members.iter().enumerate() {
        let field = format!("member_ids[{i}]");
        let unit = educator_unit(tx, *m, &field).await?;
        match team {
            Some(t) if t.organization != unit.organization => {
                return Err(AppError::invalid(field, msg::MEMBER_OTHER_ORGANIZATION));
            }
            _ => team = Some(unit),
        }
    }
    let unit = team.ok_or_else(|| AppError::invalid("member_ids", msg::TEAM_SIZE))?;
    // The organization applies for its team (seed 004), through its operator.
    ensure(p.is_admin() || p.has_scope(Role::OrgOperator, unit.organization))?;
    Ok((members, unit))
}

/// The organization's operator submits a school team to a cumulative
/// program's group, with its goals, the format of its final work and the
/// route's modules (every module when none are named).
pub(crate) async fn submit(
    s: State,
    ctx: RpcContext,
    req: pb::TeamRequest,
) -> Result<pb::Team, AppError> {
    let p = ctx.principal()?;
    let group = body_id("group_id", &req.group_id)?;
    let mut v = Validator::new();
    let goals = v.require("goals", &req.goals);
    let format = v.require("final_work_format", &req.final_work_format);
    v.max_len("goals", &req.goals, TEXT);
    v.max_len("final_work_format", &req.final_work_format, NAME);
    v.max_items("modules", &req.modules, LIST, TITLE);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (members, unit) = members(&mut tx, p, &req.member_ids).await?;
    let g = open_group(&mut tx, p, group, s.clock.now()).await?;
    if g.region_id != unit.region {
        return Err(AppError::not_found(msg::GROUP_NOT_FOUND));
    }
    let modules: Vec<String> = if req.modules.is_empty() {
        g.module_names.clone()
    } else {
        req.modules.iter().map(|m| m.trim().to_owned()).collect()
    };
    let hours = g.hours(&modules)?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO teams (id, campaign_id, region_id, municipality_id, organization_id, group_id,
                           members, modules, hours_per_member, goals, final_work_format, status,
                           submitted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'submitted', $12)",
    )
    .bind(id)
    .bind(g.campaign_id)
    .bind(unit.region)
    .bind(unit.municipality)
    .bind(unit.organization)
    .bind(group)
    .bind(&members)
    .bind(&modules)
    .bind(hours)
    .bind(goals.unwrap_or_default())
    .bind(format.unwrap_or_default())
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let team = answer(&mut tx, id).await?;
    let event = pb::TeamApplicationSubmitted {
        team: Some(team.clone()),
    };
    s.outbox
        .write(
            &mut tx,
            "team_application_submitted",
            &team.id,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &team).await?;
    Ok(team)
}

/// The group's provider accepts the team (seats and plan-order hours for
/// every member, or a 409 naming what is short) or rejects it with a
/// reason; once, while the application phase is open.
pub(crate) async fn decide(
    s: State,
    ctx: RpcContext,
    req: pb::TeamDecisionRequest,
) -> Result<pb::Team, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::TEAM_NOT_FOUND)?;
    let accept = match req.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return Err(AppError::invalid("decision", msg::TEAM_DECISION)),
    };
    let mut v = Validator::new();
    if !accept && !REJECT_REASONS.contains(&req.reason.as_str()) {
        v.add("reason", msg::TEAM_REJECT_REASON);
    }
    if !accept && req.reason == "other" && req.note.trim().is_empty() {
        v.add("note", msg::NOTE_REQUIRED);
    }
    v.max_len("note", &req.note, TEXT);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let t = one(&mut tx, id)
        .await?
        .filter(|t| t.visible_to(p))
        .ok_or_else(|| AppError::not_found(msg::TEAM_NOT_FOUND))?;
    ensure(p.has_scope(Role::ProviderAdmin, t.provider_id))?;
    pd_calendar::ensure_open(&mut tx, t.campaign_id, &["applications"], s.clock.now()).await?;
    // The group's row first (as every seat change), then the team's.
    crate::seats::lock(&mut tx, t.group_id)
        .await
        .map_err(db_error)?;
    let status: String = sqlx::query_scalar("SELECT status FROM teams WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    if status != "submitted" {
        return Err(AppError::conflict(msg::TEAM_DECIDED).with("reason", "already_decided"));
    }
    if accept {
        enroll(&s, &mut tx, &ctx, &t).await?;
    }
    let (reason, note) = if accept {
        ("", "")
    } else {
        (req.reason.as_str(), req.note.trim())
    };
    sqlx::query(
        "UPDATE teams SET status = $2, reason = $3, note = $4, decided_by = $5, decided_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(if accept { "accepted" } else { "rejected" })
    .bind(reason)
    .bind(note)
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let team = answer(&mut tx, id).await?;
    let event = pb::TeamApplicationDecided {
        team: Some(team.clone()),
    };
    s.outbox
        .write(
            &mut tx,
            "team_application_decided",
            &team.id,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(team)
}

/// Seats for every member (all or none), the route's hours for each from
/// the organization's plan-order, an enrolled application per member with
/// its `application_submitted` event.
async fn enroll(
    s: &State,
    tx: &mut PgConnection,
    ctx: &RpcContext,
    t: &TeamRow,
) -> Result<(), AppError> {
    let n = t.members.len() as i32;
    let seated: Option<i32> = sqlx::query_scalar(
        "UPDATE groups SET taken = taken + $2
         WHERE id = $1 AND status = 'published' AND roster = 'open' AND taken + $2 <= capacity
         RETURNING taken",
    )
    .bind(t.group_id)
    .bind(n)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if seated.is_none() {
        crate::seats::ensure_open(tx, t.group_id).await?;
        let left: i32 =
            sqlx::query_scalar("SELECT greatest(capacity - taken, 0) FROM groups WHERE id = $1")
                .bind(t.group_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        return Err(AppError::conflict(msg::TEAM_NO_SEATS)
            .with("reason", "not_enough_seats")
            .with("seats_left", left.to_string()));
    }
    draw_hours(tx, t.campaign_id, t.organization_id, t.hours_per_member * n).await?;
    let ids: Vec<Uuid> = t.members.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO applications (id, campaign_id, region_id, municipality_id, organization_id,
                                   educator_id, group_id, program_id, status, filed_by,
                                   filed_by_user, modules, hours, team_id)
         SELECT id, $2, $3, $4, $5, educator, $6, $7, 'enrolled', 'organization', $8, $9, $10, $11
         FROM unnest($1::uuid[], $12::uuid[]) AS m(id, educator)",
    )
    .bind(&ids)
    .bind(t.campaign_id)
    .bind(t.region_id)
    .bind(t.municipality_id)
    .bind(t.organization_id)
    .bind(t.group_id)
    .bind(t.program_id)
    .bind(ctx.principal()?.user_id)
    .bind(&t.modules)
    .bind(t.hours_per_member)
    .bind(t.id)
    .bind(&t.members)
    .execute(&mut *tx)
    .await
    .map_err(|e| match db_error(e) {
        e if e.kind == pd_domain::ErrorKind::Conflict => {
            AppError::conflict(msg::MEMBER_APPLIED).with("reason", "member_already_applied")
        }
        e => e,
    })?;
    for row in by_ids(tx, &ids).await.map_err(db_error)? {
        let event = pb::ApplicationSubmitted {
            application: Some(row.snapshot()),
        };
        s.outbox
            .write(
                tx,
                "application_submitted",
                &row.id.to_string(),
                &ctx.actor(),
                &event,
            )
            .await
            .map_err(db_error)?;
    }
    for _ in 0..n {
        crate::metrics::applied(crate::seats::Seat::Taken);
    }
    Ok(())
}

/// At the window's close: teams still waiting for their provider's
/// decision are rejected (`window_closed`), with their events.
pub(crate) async fn close_pending(
    tx: &mut PgConnection,
    campaign: Uuid,
) -> Result<Vec<PendingEvent>, AppError> {
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE teams SET status = 'rejected', reason = 'window_closed', decided_at = now()
         WHERE campaign_id = $1 AND status = 'submitted' RETURNING id",
    )
    .bind(campaign)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    if closed.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{TEAMS} WHERE t.id = ANY($1)");
    let rows: Vec<TeamRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&closed)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(to_proto(tx, rows)
        .await?
        .into_iter()
        .map(|team| PendingEvent {
            event_type: "team_application_decided",
            aggregate_id: team.id.clone(),
            payload: pb::TeamApplicationDecided { team: Some(team) }.encode_to_vec(),
        })
        .collect())
}

/// One team (its organization's operators, the group's provider, the region).
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::TeamIdRequest,
) -> Result<pb::Team, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::TEAM_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let row = one(&mut conn, id)
        .await?
        .filter(|t| t.visible_to(p))
        .ok_or_else(|| AppError::not_found(msg::TEAM_NOT_FOUND))?;
    Ok(to_proto(&mut conn, vec![row]).await?.remove(0))
}

/// A campaign's teams the caller may see: the region's (its operator),
/// a municipality's or an organization's (their operators), or those
/// applying to a provider's groups.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListTeamsRequest,
) -> Result<pb::TeamList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = db::campaign_region(&mut conn, p, &req.campaign_id).await?;
    let status = match req.status.as_str() {
        "" => None,
        "submitted" | "accepted" | "rejected" => Some(req.status.as_str()),
        _ => return Err(AppError::invalid("status", msg::TEAM_STATUS)),
    };
    let whole = access::manages_region(p, region);
    let orgs: Vec<Uuid> = p.scopes(Role::OrgOperator).collect();
    let munis: Vec<Uuid> = p.scopes(Role::MunicipalOperator).collect();
    let providers: Vec<Uuid> = p.scopes(Role::ProviderAdmin).collect();
    ensure(whole || !orgs.is_empty() || !munis.is_empty() || !providers.is_empty())?;
    let sql = format!(
        "{TEAMS} WHERE t.campaign_id = $1 AND ($2::text IS NULL OR t.status = $2)
           AND ($3 OR t.organization_id = ANY($4) OR t.municipality_id = ANY($5)
                OR g.provider_id = ANY($6))
         ORDER BY t.created_at LIMIT $7 OFFSET $8"
    );
    let rows: Vec<TeamRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(campaign)
        .bind(status)
        .bind(whole)
        .bind(&orgs)
        .bind(&munis)
        .bind(&providers)
        .bind(limit(req.limit)?)
        .bind(offset(req.offset)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let total = rows.first().map_or(0, |t| t.total);
    Ok(pb::TeamList {
        items: to_proto(&mut conn, rows).await?,
        total,
    })
}
