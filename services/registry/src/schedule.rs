//! The schedule: providers add groups to their registry programs, the
//! regional operator approves it, and every published group and later
//! change is an event with what enrollment needs.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_domain::bounds::TEXT;
use pd_domain::error::Validator;
use pd_proto::common::v1::Empty;
use pd_proto::registry::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::campaigns::{self, CampaignRow};
use crate::db::{db_error, ensure, path_id};
use crate::domain::{access, schedule as rules};
use crate::programs::{Lock, ProgramRow, visible};
use crate::{State, messages as msg};

#[derive(FromRow)]
struct GroupRow {
    id: Uuid,
    program_id: Uuid,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    online: bool,
    address: String,
    municipality_id: Option<Uuid>,
    capacity: i32,
    min_size: i32,
    language: String,
    status: String,
    cancellation: String,
    cancel_reason: String,
}

impl GroupRow {
    fn to_proto(&self) -> pb::Group {
        pb::Group {
            id: self.id.to_string(),
            program_id: self.program_id.to_string(),
            starts_on: self.starts_on.to_string(),
            ends_on: self.ends_on.to_string(),
            online: self.online,
            address: self.address.clone(),
            municipality_id: self
                .municipality_id
                .map(|m| m.to_string())
                .unwrap_or_default(),
            capacity: self.capacity,
            min_size: self.min_size,
            language: self.language.clone(),
            status: self.status.clone(),
            cancellation: self.cancellation.clone(),
            cancel_reason: self.cancel_reason.clone(),
        }
    }
}

const GROUP_COLUMNS: &str = "id, program_id, starts_on, ends_on, online, address, municipality_id, capacity, min_size, language, status, cancellation, cancel_reason";

/// When the campaign's groups may run: from the opening of applications to
/// the end of post-course monitoring, never in the past.
async fn window(
    conn: &mut PgConnection,
    campaign: &CampaignRow,
    now: DateTime<Utc>,
) -> Result<rules::Window, AppError> {
    // Held until the group is written: a calendar change (which takes the
    // campaign for update and counts the groups) waits, so no group slips
    // outside the new window between the two.
    sqlx::query("SELECT 1 FROM campaigns WHERE id = $1 FOR SHARE")
        .bind(campaign.id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let rows: Vec<(String, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT phase, starts_on, ends_on FROM campaign_calendar
         WHERE campaign_id = $1 AND phase IN ('applications', 'post_course')",
    )
    .bind(campaign.id)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let day = |phase: &str, first: bool| {
        rows.iter()
            .find(|r| r.0 == phase)
            .map(|r| if first { r.1 } else { r.2 })
            .ok_or_else(|| AppError::internal(format!("campaign without the {phase} phase")))
    };
    Ok(rules::Window {
        opens: day("applications", true)?,
        closes: day("post_course", false)?,
        today: campaigns::today(campaign, now),
    })
}

pub(crate) async fn groups_of(
    conn: &mut PgConnection,
    program: Uuid,
) -> Result<Vec<pb::Group>, AppError> {
    let rows: Vec<GroupRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE program_id = $1 ORDER BY starts_on, id"
    )))
    .bind(program)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows.iter().map(GroupRow::to_proto).collect())
}

fn snapshot(
    g: &GroupRow,
    program: &ProgramRow,
    campaign: &CampaignRow,
    provider_name: &str,
) -> pb::GroupSnapshot {
    pb::GroupSnapshot {
        group: Some(g.to_proto()),
        campaign_id: campaign.id.to_string(),
        region_id: campaign.region_id.to_string(),
        provider_id: program.provider_id.to_string(),
        program_title: program.title.clone(),
        program_kind: program.kind.clone(),
        program_hours: program.hours,
        direction: program.direction.clone(),
        provider_name: provider_name.to_owned(),
        form: program.form.clone(),
        cost_per_learner: program.cost_per_learner,
        target_positions: program.target_positions.clone(),
        target_subjects: program.target_subjects.clone(),
        modules: program.fields().modules,
    }
}

/// Binds a checked group as parameters $1..$8 (starts_on … language).
macro_rules! bind_plan {
    ($query:expr, $plan:expr) => {
        $query
            .bind($plan.starts_on)
            .bind($plan.ends_on)
            .bind($plan.online)
            .bind(&$plan.address)
            .bind($plan.municipality_id)
            .bind($plan.capacity)
            .bind($plan.min_size)
            .bind(&$plan.language)
    };
}

#[derive(Clone, Copy)]
enum GroupEvent {
    Published,
    Changed,
    Cancelled,
}

/// Writes a group's event, with everything enrollment needs, to the outbox.
async fn announce(
    state: &State,
    tx: &mut PgConnection,
    kind: GroupEvent,
    g: &GroupRow,
    program: &ProgramRow,
    campaign: &CampaignRow,
    actor: &str,
) -> Result<(), AppError> {
    let snap = Some(snapshot(
        g,
        program,
        campaign,
        &provider_name(tx, program).await?,
    ));
    let id = g.id.to_string();
    let written = match kind {
        GroupEvent::Published => {
            let e = pb::GroupPublished { group: snap };
            state
                .outbox
                .write(tx, "group_published", &id, actor, &e)
                .await
        }
        GroupEvent::Changed => {
            let e = pb::GroupChanged { group: snap };
            state
                .outbox
                .write(tx, "group_changed", &id, actor, &e)
                .await
        }
        GroupEvent::Cancelled => {
            let e = pb::GroupCancelled { group: snap };
            state
                .outbox
                .write(tx, "group_cancelled", &id, actor, &e)
                .await
        }
    };
    written.map(|_| ()).map_err(db_error)
}

async fn provider_name(conn: &mut PgConnection, program: &ProgramRow) -> Result<String, AppError> {
    Ok(crate::programs::provider(conn, program.provider_id)
        .await?
        .map(|p| p.1)
        .unwrap_or_default())
}

async fn check_municipality(
    conn: &mut PgConnection,
    plan: &rules::GroupPlan,
    region: Uuid,
) -> Result<(), AppError> {
    if let Some(m) = plan.municipality_id {
        let known: Option<Uuid> =
            sqlx::query_scalar("SELECT region_id FROM known_municipalities WHERE id = $1")
                .bind(m)
                .fetch_optional(conn)
                .await
                .map_err(db_error)?;
        if known != Some(region) {
            return Err(AppError::invalid(
                "municipality_id",
                "муниципальный район этого региона не найден",
            ));
        }
    }
    Ok(())
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateGroupRequest,
) -> Result<pb::Group, AppError> {
    let p = ctx.principal()?;
    // One instant decides the phase and the window's first day.
    let now = state.clock.now();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (program, campaign) = visible(&mut tx, p, &req.program_id, Lock::ForUpdate).await?;
    ensure(access::acts_for_provider(p, program.provider_id))?;
    pd_calendar::ensure_open(&mut tx, campaign.id, &["schedule"], now).await?;
    if program.status != "approved" {
        return Err(
            AppError::conflict(msg::NOT_IN_REGISTRY).with("current_status", program.status.clone())
        );
    }
    let fields = req.fields.unwrap_or_default();
    let window = window(&mut tx, &campaign, now).await?;
    let plan = rules::validate(
        &fields,
        &window,
        &program.kind,
        program.max_group_size,
        None,
    )
    .map_err(AppError::invalid_fields)?;
    check_municipality(&mut tx, &plan, campaign.region_id).await?;
    let insert = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO groups (starts_on, ends_on, online, address, municipality_id, capacity, min_size, language, id, program_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {GROUP_COLUMNS}"
    )));
    let row: GroupRow = bind_plan!(insert, plan)
        .bind(Uuid::now_v7())
        .bind(program.id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let out = row.to_proto();
    ctx.commit(tx, &out).await?;
    Ok(out)
}

async fn load_group(
    conn: &mut PgConnection,
    p: &pd_domain::Principal,
    id: &str,
) -> Result<(GroupRow, ProgramRow, CampaignRow), AppError> {
    let id = path_id(id, msg::GROUP_NOT_FOUND)?;
    let row: GroupRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .ok_or_else(|| AppError::not_found(msg::GROUP_NOT_FOUND))?;
    let (program, campaign) = visible(conn, p, &row.program_id.to_string(), Lock::ForUpdate)
        .await
        .map_err(|_| AppError::not_found(msg::GROUP_NOT_FOUND))?;
    Ok((row, program, campaign))
}

/// Changes a group; a published group's change is an event at once.
pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateGroupRequest,
) -> Result<pb::Group, AppError> {
    let p = ctx.principal()?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (group, program, campaign) = load_group(&mut tx, p, &req.id).await?;
    ensure(access::acts_for_provider(p, program.provider_id))?;
    if group.status == "cancelled" {
        return Err(AppError::conflict(msg::GROUP_CANCELLED));
    }
    // Groups change while the schedule is formed and applications run;
    // cancelling stays possible at any time.
    pd_calendar::ensure_open(&mut tx, campaign.id, &["schedule", "applications"], now).await?;
    let fields = req.fields.unwrap_or_default();
    let window = window(&mut tx, &campaign, now).await?;
    let plan = rules::validate(
        &fields,
        &window,
        &program.kind,
        program.max_group_size,
        Some((group.starts_on, group.ends_on)),
    )
    .map_err(AppError::invalid_fields)?;
    keeps_taken_seats(&mut tx, &group, &plan, &campaign, now).await?;
    check_municipality(&mut tx, &plan, campaign.region_id).await?;
    let update = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE groups SET starts_on = $1, ends_on = $2, online = $3, address = $4, municipality_id = $5, capacity = $6,
                min_size = $7, language = $8, updated_at = now()
         WHERE id = $9 RETURNING {GROUP_COLUMNS}"
    )));
    let row: GroupRow = bind_plan!(update, plan)
        .bind(group.id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    if row.status == "published" {
        announce(
            &state,
            &mut tx,
            GroupEvent::Changed,
            &row,
            &program,
            &campaign,
            &ctx.actor(),
        )
        .await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

/// While applications run, a published group's seats may be taken (in
/// enrollment, which counts them): its capacity may grow, never shrink, so
/// no group ends up holding more applicants than seats.
async fn keeps_taken_seats(
    conn: &mut PgConnection,
    group: &GroupRow,
    plan: &rules::GroupPlan,
    campaign: &CampaignRow,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if group.status != "published" || plan.capacity >= group.capacity {
        return Ok(());
    }
    let phase = pd_calendar::open_phase(conn, campaign.id, now)
        .await
        .map_err(db_error)?;
    match phase.as_deref() {
        Some("applications") => Err(AppError::conflict(msg::CAPACITY_IN_USE)
            .with("reason", "capacity_in_use")
            .with("capacity", group.capacity.to_string())),
        _ => Ok(()),
    }
}

/// Cancels a group. A draft goes at once; a published group needs a
/// reason and the regional operator's approval: the provider's request
/// waits for it, the operator's own cancellation is approved as made.
pub(crate) async fn cancel(
    state: State,
    ctx: RpcContext,
    req: pb::CancelGroupRequest,
) -> Result<pb::Group, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (group, program, campaign) = load_group(&mut tx, p, &req.id).await?;
    let operator = access::runs_review(p, campaign.region_id);
    ensure(access::acts_for_provider(p, program.provider_id) || operator)?;
    if group.status == "cancelled" {
        return Err(AppError::conflict(msg::GROUP_CANCELLED));
    }
    let reason = req.reason.trim();
    let mut v = Validator::new();
    if group.status == "published" && reason.is_empty() {
        v.add("reason", msg::REASON_REQUIRED);
    }
    v.max_len("reason", reason, TEXT);
    v.finish()?;
    if group.status == "published" && !operator {
        if group.cancellation == "requested" {
            return Err(AppError::conflict(msg::CANCEL_PENDING));
        }
        let row: GroupRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE groups SET cancellation = 'requested', cancel_reason = $2, cancel_requested_by = $3,
                    cancel_decided_by = NULL, cancel_note = '', updated_at = now()
             WHERE id = $1 RETURNING {GROUP_COLUMNS}"
        )))
        .bind(group.id)
        .bind(reason)
        .bind(ctx.actor())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        return Ok(row.to_proto());
    }
    let row = cancelled(&mut tx, &group, reason, &ctx.actor(), "").await?;
    if group.status == "published" {
        announce(
            &state,
            &mut tx,
            GroupEvent::Cancelled,
            &row,
            &program,
            &campaign,
            &ctx.actor(),
        )
        .await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

async fn cancelled(
    conn: &mut PgConnection,
    group: &GroupRow,
    reason: &str,
    actor: &str,
    note: &str,
) -> Result<GroupRow, AppError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE groups SET status = 'cancelled', cancellation = '', cancel_reason = $2,
                cancel_decided_by = $3, cancel_note = $4, updated_at = now()
         WHERE id = $1 RETURNING {GROUP_COLUMNS}"
    )))
    .bind(group.id)
    .bind(reason)
    .bind(actor)
    .bind(note)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

/// The regional operator decides on a provider's request to cancel a
/// published group: approved, the group is cancelled (and announced);
/// rejected (with a note), it runs.
pub(crate) async fn decide_cancellation(
    state: State,
    ctx: RpcContext,
    req: pb::GroupDecisionRequest,
    approve: bool,
) -> Result<pb::Group, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (group, program, campaign) = load_group(&mut tx, p, &req.id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    if group.status != "published" || group.cancellation != "requested" {
        return Err(
            AppError::conflict(msg::NO_CANCEL_REQUEST).with("current_status", group.status.clone())
        );
    }
    let note = req.note.trim();
    let mut v = Validator::new();
    if !approve && note.is_empty() {
        v.add("note", msg::REASON_REQUIRED);
    }
    v.max_len("note", note, TEXT);
    v.finish()?;
    let row = if approve {
        let reason = group.cancel_reason.clone();
        let row = cancelled(&mut tx, &group, &reason, &ctx.actor(), note).await?;
        announce(
            &state,
            &mut tx,
            GroupEvent::Cancelled,
            &row,
            &program,
            &campaign,
            &ctx.actor(),
        )
        .await?;
        row
    } else {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE groups SET cancellation = 'rejected', cancel_decided_by = $2, cancel_note = $3, updated_at = now()
             WHERE id = $1 RETURNING {GROUP_COLUMNS}"
        )))
        .bind(group.id)
        .bind(ctx.actor())
        .bind(note)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?
    };
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

pub(crate) async fn approve_cancellation(
    state: State,
    ctx: RpcContext,
    req: pb::GroupDecisionRequest,
) -> Result<pb::Group, AppError> {
    decide_cancellation(state, ctx, req, true).await
}

pub(crate) async fn reject_cancellation(
    state: State,
    ctx: RpcContext,
    req: pb::GroupDecisionRequest,
) -> Result<pb::Group, AppError> {
    decide_cancellation(state, ctx, req, false).await
}

/// An unpublished group is deleted; a published one is only cancelled.
pub(crate) async fn delete(
    state: State,
    ctx: RpcContext,
    req: pb::GroupActionRequest,
) -> Result<Empty, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (group, program, campaign) = load_group(&mut tx, p, &req.id).await?;
    ensure(
        access::acts_for_provider(p, program.provider_id)
            || access::runs_review(p, campaign.region_id),
    )?;
    match group.status.as_str() {
        "draft" => {}
        "published" => {
            return Err(AppError::conflict(msg::PUBLISHED_GROUP)
                .with("current_status", group.status.clone()));
        }
        _ => {
            return Err(AppError::conflict(msg::GROUP_CANCELLED)
                .with("current_status", group.status.clone()));
        }
    }
    sqlx::query("DELETE FROM groups WHERE id = $1")
        .bind(group.id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(Empty {})
}

pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListGroupsRequest,
) -> Result<pb::GroupList, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (program, _) = visible(&mut conn, p, &req.program_id, Lock::None).await?;
    Ok(pb::GroupList {
        items: groups_of(&mut conn, program.id).await?,
    })
}

/// The regional operator approves the schedule: every draft group of the
/// campaign is published, each with its event.
pub(crate) async fn approve(
    state: State,
    ctx: RpcContext,
    req: pb::ApproveScheduleRequest,
) -> Result<pb::GroupList, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.campaign_id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let campaign = campaigns::load(&mut tx, id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    pd_calendar::ensure_open(&mut tx, id, &["schedule"], state.clock.now()).await?;
    let published: Vec<GroupRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE groups SET status = 'published', updated_at = now()
         WHERE status = 'draft' AND program_id IN (SELECT id FROM programs WHERE campaign_id = $1 AND status = 'approved')
         RETURNING {GROUP_COLUMNS}"
    )))
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    for g in &published {
        let program = crate::programs::load(&mut tx, g.program_id)
            .await?
            .ok_or_else(|| AppError::internal("program vanished"))?;
        announce(
            &state,
            &mut tx,
            GroupEvent::Published,
            g,
            &program,
            &campaign,
            &ctx.actor(),
        )
        .await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(pb::GroupList {
        items: published.iter().map(GroupRow::to_proto).collect(),
    })
}
