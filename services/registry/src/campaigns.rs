//! Campaigns: one per region and year, with dated phases, review criteria
//! and the pool of experts.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::{LIST, TITLE, too_many};
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal};
use pd_proto::common::v1::IdRequest;
use pd_proto::registry::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure, path_id, ts};
use crate::domain::{access, calendar, review};
use crate::{State, messages as msg};

#[derive(FromRow, Clone)]
pub(crate) struct CampaignRow {
    pub id: Uuid,
    pub region_id: Uuid,
    pub year: i32,
    pub title: String,
    pub time_zone: String,
    pub pass_threshold_percent: f64,
    pub created_at: DateTime<Utc>,
}

pub(crate) async fn load(conn: &mut PgConnection, id: Uuid) -> Result<CampaignRow, AppError> {
    sqlx::query_as("SELECT id, region_id, year, title, time_zone, pass_threshold_percent, created_at FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| AppError::not_found(msg::CAMPAIGN_NOT_FOUND))
}

/// The day `now` falls on in the campaign's region.
pub(crate) fn today(c: &CampaignRow, now: DateTime<Utc>) -> NaiveDate {
    let tz: chrono_tz::Tz = c.time_zone.parse().unwrap_or(chrono_tz::Europe::Moscow);
    now.with_timezone(&tz).date_naive()
}

/// The campaign for a read restricted to `allowed`: unknown outside the
/// caller's region (404), forbidden inside it (403).
pub(crate) async fn for_read(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
    allowed: fn(&Principal, Uuid) -> bool,
) -> Result<CampaignRow, AppError> {
    let id = path_id(id, msg::CAMPAIGN_NOT_FOUND)?;
    let c = load(conn, id).await?;
    if !p.in_region(c.region_id) {
        return Err(AppError::not_found(msg::CAMPAIGN_NOT_FOUND));
    }
    ensure(allowed(p, c.region_id))?;
    Ok(c)
}

/// The campaign's calendar as it stands.
async fn calendar_of(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<Vec<calendar::PhaseDates>, AppError> {
    let rows: Vec<(String, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT phase, starts_on, ends_on FROM campaign_calendar WHERE campaign_id = $1 ORDER BY starts_on",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(phase, starts_on, ends_on)| calendar::PhaseDates {
            phase,
            starts_on,
            ends_on,
        })
        .collect())
}

/// Whether the presidium has approved a protocol: the registry is out.
pub(crate) async fn registry_published(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<bool, AppError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM council_sessions WHERE campaign_id = $1 AND status = 'approved')",
    )
    .bind(campaign)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

pub(crate) async fn criteria(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<Vec<pb::Criterion>, AppError> {
    let rows: Vec<(String, String, i32, f64, i32)> = sqlx::query_as(
        "SELECT code, name, max_score, weight, min_score FROM campaign_criteria WHERE campaign_id = $1 ORDER BY position",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(code, name, max_score, weight, min_score)| pb::Criterion {
            code,
            name,
            max_score,
            weight,
            min_score,
        })
        .collect())
}

/// The campaign as `viewer` may see it: another region's people see only
/// its public fields (id, region, year, title); the expert pool (with
/// affiliations) only those who run the review.
async fn to_proto_for(
    conn: &mut PgConnection,
    c: CampaignRow,
    viewer: &pd_domain::Principal,
    now: DateTime<Utc>,
) -> Result<pb::Campaign, AppError> {
    let region = c.region_id;
    if !viewer.in_region(region) {
        return Ok(public_fields(c));
    }
    let mut out = to_proto(conn, c, now).await?;
    if !access::runs_review(viewer, region) {
        out.experts.clear();
    }
    Ok(out)
}

/// What anyone signed in may see of any campaign: id, region, year,
/// title, time zone (no calendar, criteria or experts).
fn public_fields(c: CampaignRow) -> pb::Campaign {
    pb::Campaign {
        id: c.id.to_string(),
        region_id: c.region_id.to_string(),
        year: c.year,
        title: c.title,
        time_zone: c.time_zone,
        created_at: ts(c.created_at),
        ..Default::default()
    }
}

async fn to_proto(
    conn: &mut PgConnection,
    c: CampaignRow,
    now: DateTime<Utc>,
) -> Result<pb::Campaign, AppError> {
    let phases: Vec<(String, chrono::NaiveDate, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT phase, starts_on, ends_on FROM campaign_calendar WHERE campaign_id = $1 ORDER BY starts_on",
    )
    .bind(c.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let experts: Vec<(Uuid, Vec<Uuid>)> = sqlx::query_as(
        "SELECT user_id, affiliated_provider_ids FROM campaign_experts WHERE campaign_id = $1 ORDER BY user_id",
    )
    .bind(c.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let current = pd_calendar::open_phase(conn, c.id, now)
        .await
        .map_err(db_error)?;
    let priorities: Option<(Vec<String>, Vec<String>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT directions, topics, published_at FROM campaign_priorities WHERE campaign_id = $1",
    )
    .bind(c.id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::Campaign {
        id: c.id.to_string(),
        region_id: c.region_id.to_string(),
        year: c.year,
        title: c.title,
        time_zone: c.time_zone,
        phases: phases
            .into_iter()
            .map(|(phase, s, e)| pb::Phase {
                phase,
                starts_on: s.to_string(),
                ends_on: e.to_string(),
            })
            .collect(),
        criteria: criteria(conn, c.id).await?,
        pass_threshold_percent: review::finite(c.pass_threshold_percent),
        experts: experts
            .into_iter()
            .map(|(user, affiliated)| pb::Expert {
                user_id: user.to_string(),
                affiliated_provider_ids: affiliated.iter().map(Uuid::to_string).collect(),
            })
            .collect(),
        created_at: ts(c.created_at),
        current_phase: current.unwrap_or_default(),
        priorities: priorities.map(|(directions, topics, at)| pb::CampaignPriorities {
            directions,
            topics,
            published_at: ts(at),
        }),
    })
}

/// Writes the calendar read-model and its event in the caller's transaction.
async fn publish_calendar(
    state: &State,
    tx: &mut PgConnection,
    c: &CampaignRow,
    phases: &[calendar::PhaseDates],
    actor: &str,
) -> Result<(), AppError> {
    let tz: chrono_tz::Tz = c.time_zone.parse().unwrap_or(chrono_tz::Europe::Moscow);
    let event = pb::CampaignCalendarChanged {
        campaign_id: c.id.to_string(),
        region_id: c.region_id.to_string(),
        year: c.year,
        time_zone: c.time_zone.clone(),
        phases: calendar::windows(phases, tz),
    };
    pd_calendar::apply(tx, &event).await.map_err(db_error)?;
    state
        .outbox
        .write(
            tx,
            "campaign_calendar_changed",
            &c.id.to_string(),
            actor,
            &event,
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;

/// A campaign's title: required, bounded.
fn check_title(v: &mut Validator, title: &str) {
    if title.trim().is_empty() {
        v.add("title", msg::REQUIRED);
    } else {
        v.max_len("title", title.trim(), TITLE);
    }
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateCampaignRequest,
) -> Result<pb::Campaign, AppError> {
    let p = ctx.principal()?;
    let region = body_id("region_id", &req.region_id)?;
    ensure(access::manages_campaigns(p, region))?;
    let mut v = Validator::new();
    if !(MIN_YEAR..=MAX_YEAR).contains(&req.year) {
        v.add("year", msg::YEAR);
    }
    check_title(&mut v, &req.title);
    let mut errors = v.into_fields();
    let phases = calendar::validate(&req.phases, req.year)
        .map_err(|e| errors.extend(e))
        .ok();
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let phases = phases.unwrap_or_default();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let tz: Option<String> =
        sqlx::query_scalar("SELECT time_zone FROM known_regions WHERE id = $1")
            .bind(region)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    let tz = tz.ok_or_else(|| AppError::invalid("region_id", msg::REGION_UNKNOWN))?;
    let row: CampaignRow = sqlx::query_as(
        "INSERT INTO campaigns (id, region_id, year, title, time_zone) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, region_id, year, title, time_zone, pass_threshold_percent, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(region)
    .bind(req.year)
    .bind(req.title.trim())
    .bind(tz)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    publish_calendar(&state, &mut tx, &row, &phases, &ctx.actor()).await?;
    let out = to_proto(&mut tx, row, state.clock.now()).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateCampaignRequest,
) -> Result<pb::Campaign, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::CAMPAIGN_NOT_FOUND)?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    // Serializes with other changes and with the registry's approval.
    let mut row = load_for_update(&mut tx, id).await?;
    ensure(access::manages_campaigns(p, row.region_id))?;
    if let Some(title) = &req.title {
        let mut v = Validator::new();
        check_title(&mut v, title);
        v.finish()?;
        sqlx::query("UPDATE campaigns SET title = $2 WHERE id = $1")
            .bind(id)
            .bind(title.trim())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        row.title = title.trim().to_owned();
    }
    if !req.phases.is_empty() {
        let phases = calendar::validate(&req.phases, row.year).map_err(AppError::invalid_fields)?;
        keeps_groups_in_window(&mut tx, &row, &phases).await?;
        audit_calendar(&mut tx, &row, &phases, &ctx.actor(), now).await?;
        publish_calendar(&state, &mut tx, &row, &phases, &ctx.actor()).await?;
    }
    let out = to_proto(&mut tx, row, now).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// Groups run from the opening of applications to the end of post-course
/// monitoring: a calendar that would leave a scheduled (not cancelled)
/// group outside is refused, naming how many, instead of stranding them.
async fn keeps_groups_in_window(
    conn: &mut PgConnection,
    c: &CampaignRow,
    phases: &[calendar::PhaseDates],
) -> Result<(), AppError> {
    let day = |phase: &str, first: bool| {
        phases
            .iter()
            .find(|p| p.phase == phase)
            .map(|p| if first { p.starts_on } else { p.ends_on })
    };
    let (Some(opens), Some(closes)) = (day("applications", true), day("post_course", false)) else {
        return Ok(());
    };
    let outside: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM groups g JOIN programs p ON p.id = g.program_id
         WHERE p.campaign_id = $1 AND g.status <> 'cancelled'
           AND (g.starts_on < $2 OR g.ends_on > $3)",
    )
    .bind(c.id)
    .bind(opens)
    .bind(closes)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    if outside > 0 {
        return Err(AppError::conflict(msg::GROUPS_OUTSIDE_WINDOW)
            .with("reason", "groups_outside_window")
            .with("groups", outside.to_string()));
    }
    Ok(())
}

async fn load_for_update(conn: &mut PgConnection, id: Uuid) -> Result<CampaignRow, AppError> {
    sqlx::query_as("SELECT id, region_id, year, title, time_zone, pass_threshold_percent, created_at FROM campaigns WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| AppError::not_found(msg::CAMPAIGN_NOT_FOUND))
}

/// A calendar change once a phase has started is recorded (who, when,
/// what); program submission never reopens after the registry is out.
async fn audit_calendar(
    tx: &mut PgConnection,
    c: &CampaignRow,
    phases: &[calendar::PhaseDates],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let old = calendar_of(tx, c.id).await?;
    let today = today(c, now);
    let changes = calendar::changes(&old, phases);
    if calendar::reopens_submission(&changes, today) && registry_published(tx, c.id).await? {
        return Err(
            AppError::conflict(msg::SUBMISSION_REOPENED).with("phase", "program_submission")
        );
    }
    let started = calendar::started(&old, today);
    if changes.is_empty() || started.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_value(&changes).map_err(|e| pd_bus::rpc::internal("changes", e))?;
    sqlx::query(
        "INSERT INTO campaign_calendar_changes (id, campaign_id, changed_by, started_phases, changes)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(c.id)
    .bind(actor)
    .bind(&started)
    .bind(sqlx::types::Json(json))
    .execute(tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// The audited calendar changes of a campaign, newest first.
pub(crate) async fn calendar_changes(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::CalendarChangeList, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let c = for_read(&mut conn, p, &req.id, access::runs_review).await?;
    type Row = (
        Uuid,
        String,
        DateTime<Utc>,
        Vec<String>,
        sqlx::types::Json<Vec<pb::PhaseChange>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, changed_by, changed_at, started_phases, changes FROM campaign_calendar_changes
         WHERE campaign_id = $1 ORDER BY changed_at DESC, id DESC",
    )
    .bind(c.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::CalendarChangeList {
        items: rows
            .into_iter()
            .map(|(id, by, at, started, changes)| pb::CalendarChange {
                id: id.to_string(),
                changed_by: by,
                changed_at: ts(at),
                changes: changes.0,
                started_phases: started,
            })
            .collect(),
    })
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::Campaign, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let row = load(&mut conn, id).await?;
    to_proto_for(&mut conn, row, p, state.clock.now()).await
}

pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListCampaignsRequest,
) -> Result<pb::CampaignList, AppError> {
    let p = ctx.principal()?;
    let region = crate::db::optional_id("region_id", &req.region_id)?;
    let (limit, offset) = (crate::db::limit(req.limit)?, crate::db::offset(req.offset)?);
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    // One query per page: calendars, experts, criteria and the open phase
    // are aggregated per row.
    let rows: Vec<ListedCampaign> = sqlx::query_as(
        "SELECT c.id, c.region_id, c.year, c.title, c.time_zone, c.pass_threshold_percent, c.created_at,
                count(*) OVER () AS total,
                COALESCE((SELECT json_agg(json_build_object('phase', k.phase, 'starts_on', k.starts_on::text,
                                                           'ends_on', k.ends_on::text) ORDER BY k.starts_on)
                          FROM campaign_calendar k WHERE k.campaign_id = c.id), '[]') AS phases,
                COALESCE((SELECT json_agg(json_build_object('user_id', e.user_id::text,
                                                           'affiliated_provider_ids', e.affiliated_provider_ids::text[])
                                          ORDER BY e.user_id)
                          FROM campaign_experts e WHERE e.campaign_id = c.id), '[]') AS experts,
                COALESCE((SELECT json_agg(json_build_object('code', r.code, 'name', r.name, 'max_score', r.max_score,
                                                           'weight', r.weight, 'min_score', r.min_score)
                                          ORDER BY r.position)
                          FROM campaign_criteria r WHERE r.campaign_id = c.id), '[]') AS criteria,
                (SELECT k.phase FROM campaign_calendar k
                 WHERE k.campaign_id = c.id AND k.opens_at <= $4 AND $4 < k.closes_at LIMIT 1) AS current_phase
         FROM campaigns c
         WHERE ($1::uuid IS NULL OR c.region_id = $1)
         ORDER BY c.year DESC, c.created_at DESC, c.id LIMIT $2 OFFSET $3",
    )
    .bind(region)
    .bind(limit)
    .bind(offset)
    .bind(state.clock.now())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let total = match rows.first() {
        Some(r) => r.total,
        None if offset > 0 => sqlx::query_scalar(
            "SELECT count(*) FROM campaigns WHERE ($1::uuid IS NULL OR region_id = $1)",
        )
        .bind(region)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?,
        None => 0,
    };
    let items = rows.into_iter().map(|r| r.for_viewer(p)).collect();
    Ok(pb::CampaignList { items, total })
}

/// A campaign listed with what its page query aggregated.
#[derive(sqlx::FromRow)]
struct ListedCampaign {
    #[sqlx(flatten)]
    campaign: CampaignRow,
    total: i64,
    phases: sqlx::types::Json<Vec<pb::Phase>>,
    experts: sqlx::types::Json<Vec<pb::Expert>>,
    criteria: sqlx::types::Json<Vec<pb::Criterion>>,
    current_phase: Option<String>,
}

impl ListedCampaign {
    /// As `to_proto_for` shows a campaign, without a query.
    fn for_viewer(self, viewer: &pd_domain::Principal) -> pb::Campaign {
        let c = self.campaign;
        let (region, threshold) = (c.region_id, c.pass_threshold_percent);
        let mut out = public_fields(c);
        if !viewer.in_region(region) {
            return out;
        }
        out.phases = self.phases.0;
        out.criteria = self.criteria.0;
        out.pass_threshold_percent = review::finite(threshold);
        if access::runs_review(viewer, region) {
            out.experts = self.experts.0;
        }
        out.current_phase = self.current_phase.unwrap_or_default();
        out
    }
}

pub(crate) async fn set_criteria(
    state: State,
    ctx: RpcContext,
    req: pb::SetCriteriaRequest,
) -> Result<pb::Campaign, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.campaign_id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row = load(&mut tx, id).await?;
    ensure(access::sets_criteria(p, row.region_id))?;
    let criteria = review::validate_criteria(&req.criteria, req.pass_threshold_percent)
        .map_err(AppError::invalid_fields)?;
    let reviewed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reviews r JOIN programs p ON p.id = r.program_id WHERE p.campaign_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if reviewed {
        return Err(AppError::conflict(
            "эксперты уже оценивают программы по этим критериям",
        ));
    }
    sqlx::query("DELETE FROM campaign_criteria WHERE campaign_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    for (i, c) in criteria.iter().enumerate() {
        sqlx::query(
            "INSERT INTO campaign_criteria (campaign_id, position, code, name, max_score, weight, min_score)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(i as i32)
        .bind(&c.code)
        .bind(&c.name)
        .bind(c.max_score)
        .bind(c.weight)
        .bind(c.min_score)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    sqlx::query("UPDATE campaigns SET pass_threshold_percent = $2 WHERE id = $1")
        .bind(id)
        .bind(req.pass_threshold_percent)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let row = load(&mut tx, id).await?;
    let out = to_proto_for(&mut tx, row, p, state.clock.now()).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

pub(crate) async fn add_expert(
    state: State,
    ctx: RpcContext,
    req: pb::AddExpertRequest,
) -> Result<pb::Campaign, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.campaign_id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row = load(&mut tx, id).await?;
    ensure(access::runs_review(p, row.region_id))?;
    let user = body_id("user_id", &req.user_id)?;
    if req.affiliated_provider_ids.len() > LIST {
        return Err(AppError::invalid("affiliated_provider_ids", too_many(LIST)));
    }
    let mut given = Vec::new();
    for (i, s) in req.affiliated_provider_ids.iter().enumerate() {
        given.push(body_id(&format!("affiliated_provider_ids[{i}]"), s)?);
    }
    // Only providers the registry knows: a mistyped id would protect nobody.
    let known: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM known_providers WHERE id = ANY($1)")
        .bind(&given)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    let mut v = Validator::new();
    let mut affiliated = Vec::new();
    for (i, provider) in given.into_iter().enumerate() {
        if !known.contains(&provider) {
            v.add(
                format!("affiliated_provider_ids[{i}]"),
                msg::PROVIDER_UNKNOWN,
            );
        } else if !affiliated.contains(&provider) {
            affiliated.push(provider);
        }
    }
    v.finish()?;
    let is_expert: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM known_grants WHERE user_id = $1 AND role = 'expert' AND scope_id = $2 AND active)",
    )
    .bind(user)
    .bind(row.region_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if !is_expert {
        return Err(AppError::invalid("user_id", msg::EXPERT_UNKNOWN));
    }
    // Someone who administers a provider is affiliated with it as well, and
    // stays so after the grant is revoked (no `active` filter): a conflict
    // of interest does not end with the role.
    let administers: Vec<Uuid> = sqlx::query_scalar(
        "SELECT scope_id FROM known_grants WHERE user_id = $1 AND role = 'provider_admin'",
    )
    .bind(user)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    for a in administers {
        if !affiliated.contains(&a) {
            affiliated.push(a);
        }
    }
    sqlx::query(
        "INSERT INTO campaign_experts (campaign_id, user_id, affiliated_provider_ids) VALUES ($1, $2, $3)
         ON CONFLICT (campaign_id, user_id) DO UPDATE SET affiliated_provider_ids = $3",
    )
    .bind(id)
    .bind(user)
    .bind(&affiliated)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let out = to_proto(&mut tx, row, state.clock.now()).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}
