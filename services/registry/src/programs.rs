//! Programs: drafted and submitted by providers, checked by the technical
//! review (an automated checklist, then the regional operator's decision).

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::TEXT;
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal, Role};
use pd_proto::common::v1::Empty;
use pd_proto::registry::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::campaigns::{self, CampaignRow};
use crate::db::{body_id, db_error, ensure, limit, offset, optional_id, path_id, ts};
use crate::domain::{access, programs as rules, review};
use crate::{State, messages as msg};

#[derive(FromRow, Clone)]
pub(crate) struct ProgramRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub provider_id: Uuid,
    pub kind: String,
    pub title: String,
    pub direction: String,
    pub topic: String,
    pub annotation: String,
    pub hours: i32,
    pub form: String,
    pub target_positions: Vec<String>,
    pub target_subjects: Vec<String>,
    pub modules: sqlx::types::Json<Vec<ModuleJson>>,
    pub competences: Vec<String>,
    pub max_group_size: i32,
    pub cost_per_learner: f64,
    pub internship_site: String,
    pub status: String,
    pub remarks: String,
    pub mean_score_percent: f64,
    pub include_votes: i32,
    pub exclude_votes: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub(crate) struct ModuleJson {
    name: String,
    hours: i32,
    assessment_form: String,
}

impl ProgramRow {
    pub fn fields(&self) -> pb::ProgramFields {
        pb::ProgramFields {
            kind: self.kind.clone(),
            title: self.title.clone(),
            direction: self.direction.clone(),
            topic: self.topic.clone(),
            annotation: self.annotation.clone(),
            hours: self.hours,
            form: self.form.clone(),
            target_positions: self.target_positions.clone(),
            target_subjects: self.target_subjects.clone(),
            modules: self
                .modules
                .0
                .iter()
                .map(|m| pb::Module {
                    name: m.name.clone(),
                    hours: m.hours,
                    assessment_form: m.assessment_form.clone(),
                })
                .collect(),
            competences: self.competences.clone(),
            max_group_size: self.max_group_size,
            cost_per_learner: self.cost_per_learner,
            internship_site: self.internship_site.clone(),
        }
    }
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ProgramRow>, AppError> {
    sqlx::query_as("SELECT * FROM programs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

/// Whether a read locks the program for the rest of the transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    None,
    ForUpdate,
}

async fn load_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ProgramRow>, AppError> {
    sqlx::query_as("SELECT * FROM programs WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

pub(crate) async fn assigned_experts(
    conn: &mut PgConnection,
    program: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    sqlx::query_scalar(
        "SELECT expert_id FROM review_assignments WHERE program_id = $1 ORDER BY expert_id",
    )
    .bind(program)
    .fetch_all(conn)
    .await
    .map_err(db_error)
}

/// The program with its campaign, if the caller may see it (else 404).
pub(crate) async fn visible(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
    lock: Lock,
) -> Result<(ProgramRow, CampaignRow), AppError> {
    let id = path_id(id, msg::PROGRAM_NOT_FOUND)?;
    let row = match lock {
        Lock::ForUpdate => load_for_update(conn, id).await?,
        Lock::None => load(conn, id).await?,
    };
    let row = row.ok_or_else(|| AppError::not_found(msg::PROGRAM_NOT_FOUND))?;
    let campaign = campaigns::load(conn, row.campaign_id).await?;
    let experts = assigned_experts(conn, row.id).await?;
    // A draft is the provider's own until it is submitted.
    let staff = access::reads_all_programs(p, campaign.region_id)
        && (row.status != "draft" || p.is_admin());
    let sees = staff
        || access::acts_for_provider(p, row.provider_id)
        || (p.has_scope(Role::Expert, campaign.region_id) && experts.contains(&p.user_id));
    if sees {
        Ok((row, campaign))
    } else {
        Err(AppError::not_found(msg::PROGRAM_NOT_FOUND))
    }
}

pub(crate) async fn provider(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(Uuid, String, String)>, AppError> {
    sqlx::query_as("SELECT region_id, name, licence_number FROM known_providers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

/// The PD model of the campaign's region, as identity announced it.
pub(crate) async fn pd_model(conn: &mut PgConnection, region: Uuid) -> Result<String, AppError> {
    let model: Option<String> =
        sqlx::query_scalar("SELECT pd_model FROM known_regions WHERE id = $1")
            .bind(region)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    Ok(model.unwrap_or_default())
}

/// Writes a submission or a technical-review decision, with the fields as
/// they stand, to the program's log.
async fn log_review(
    conn: &mut PgConnection,
    row: &ProgramRow,
    action: &str,
    remarks: &str,
    actor: &str,
) -> Result<(), AppError> {
    let fields =
        serde_json::to_value(row.fields()).map_err(|e| pd_bus::rpc::internal("fields", e))?;
    sqlx::query(
        "INSERT INTO technical_review_log (id, program_id, action, remarks, actor, fields)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(row.id)
    .bind(action)
    .bind(remarks)
    .bind(actor)
    .bind(sqlx::types::Json(fields))
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Whether a returned program is resubmitted exactly as it was returned.
async fn unchanged_since_return(
    conn: &mut PgConnection,
    row: &ProgramRow,
) -> Result<bool, AppError> {
    let returned: Option<sqlx::types::Json<pb::ProgramFields>> = sqlx::query_scalar(
        "SELECT fields FROM technical_review_log WHERE program_id = $1 AND action = 'returned'
         ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(row.id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    Ok(returned.is_some_and(|f| f.0 == row.fields()))
}

/// The program as `viewer` may see it: who reviews it is not the
/// provider's business.
pub(crate) async fn to_proto_for(
    conn: &mut PgConnection,
    r: &ProgramRow,
    viewer: &Principal,
    region: Uuid,
) -> Result<pb::Program, AppError> {
    let mut out = to_proto(conn, r).await?;
    redact(&mut out, viewer, region, r.provider_id);
    Ok(out)
}

/// What a viewer outside the region's staff does not see: who reviews a
/// program (the provider), and whose program it is (an expert: the
/// scoring is blind).
fn redact(out: &mut pb::Program, viewer: &Principal, region: Uuid, provider: Uuid) {
    if access::reads_all_programs(viewer, region) {
        return;
    }
    out.expert_ids.clear();
    if !access::acts_for_provider(viewer, provider) {
        out.provider_id.clear();
        out.provider_name.clear();
    }
}

pub(crate) async fn to_proto(
    conn: &mut PgConnection,
    r: &ProgramRow,
) -> Result<pb::Program, AppError> {
    let provider = provider(conn, r.provider_id).await?.map(|p| (p.1, p.2));
    let experts = assigned_experts(conn, r.id).await?;
    Ok(assemble(r, provider, experts))
}

/// A program listed with what its page query joined in.
#[derive(sqlx::FromRow)]
struct ListedProgram {
    #[sqlx(flatten)]
    program: ProgramRow,
    campaign_region: Uuid,
    provider_name: Option<String>,
    provider_licence: Option<String>,
    expert_ids: Vec<Uuid>,
    total: i64,
}

/// The program's answer from its row, its provider (name, licence) and
/// its assigned experts.
fn assemble(r: &ProgramRow, provider: Option<(String, String)>, experts: Vec<Uuid>) -> pb::Program {
    let fields = r.fields();
    let checklist = rules::checklist(&fields, provider.as_ref().map(|p| p.1.as_str()));
    pb::Program {
        id: r.id.to_string(),
        campaign_id: r.campaign_id.to_string(),
        provider_id: r.provider_id.to_string(),
        provider_name: provider.map(|p| p.0).unwrap_or_default(),
        fields: Some(fields),
        status: r.status.clone(),
        remarks: r.remarks.clone(),
        checklist,
        mean_score_percent: review::finite(r.mean_score_percent),
        include_votes: r.include_votes,
        exclude_votes: r.exclude_votes,
        expert_ids: experts.iter().map(Uuid::to_string).collect(),
        created_at: ts(r.created_at),
        updated_at: ts(r.updated_at),
    }
}

/// Binds a program's editable fields as parameters $1..$14, in the order
/// of the columns kind … internship_site (a macro: used on both queries).
macro_rules! bind_fields {
    ($query:expr, $f:expr) => {
        $query
            .bind(&$f.kind)
            .bind(&$f.title)
            .bind(&$f.direction)
            .bind(&$f.topic)
            .bind(&$f.annotation)
            .bind($f.hours)
            .bind(&$f.form)
            .bind(&$f.target_positions)
            .bind(&$f.target_subjects)
            .bind(modules_json(&$f))
            .bind(&$f.competences)
            .bind($f.max_group_size)
            .bind($f.cost_per_learner)
            .bind(&$f.internship_site)
    };
}

fn modules_json(f: &pb::ProgramFields) -> sqlx::types::Json<Vec<ModuleJson>> {
    sqlx::types::Json(
        f.modules
            .iter()
            .map(|m| ModuleJson {
                name: m.name.clone(),
                hours: m.hours,
                assessment_form: m.assessment_form.clone(),
            })
            .collect(),
    )
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateProgramRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let provider_id = body_id("provider_id", &req.provider_id)?;
    ensure(access::acts_for_provider(p, provider_id))?;
    let campaign_id = body_id("campaign_id", &req.campaign_id)?;
    // The body nests the program under `fields`: its errors are named so.
    let mut fields = req.fields.unwrap_or_default();
    rules::validate(&mut fields)
        .map_err(|e| AppError::invalid_fields(rules::under("fields", e)))?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let campaign = campaigns::load(&mut tx, campaign_id)
        .await
        .map_err(|_| AppError::invalid("campaign_id", msg::CAMPAIGN_NOT_FOUND))?;
    match provider(&mut tx, provider_id).await? {
        None => return Err(AppError::invalid("provider_id", msg::PROVIDER_UNKNOWN)),
        Some((region, _, _)) if region != campaign.region_id => {
            return Err(AppError::invalid("provider_id", msg::PROVIDER_OTHER_REGION));
        }
        Some(_) => {}
    }
    let voucher = rules::voucher_errors(&fields, &pd_model(&mut tx, campaign.region_id).await?);
    if !voucher.is_empty() {
        return Err(AppError::invalid_fields(rules::under("fields", voucher)));
    }
    let id = Uuid::now_v7();
    let insert = sqlx::query(
        "INSERT INTO programs (kind, title, direction, topic, annotation, hours, form, target_positions,
                               target_subjects, modules, competences, max_group_size, cost_per_learner,
                               internship_site, id, campaign_id, provider_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    );
    bind_fields!(insert, fields)
        .bind(id)
        .bind(campaign_id)
        .bind(provider_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let out = reloaded(&mut tx, id).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateProgramRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (row, campaign) = visible(&mut tx, p, &req.id, Lock::ForUpdate).await?;
    ensure(access::acts_for_provider(p, row.provider_id))?;
    if !["draft", "returned"].contains(&row.status.as_str()) {
        return Err(
            AppError::conflict(msg::NOT_EDITABLE).with("current_status", row.status.clone())
        );
    }
    // The body is the program's fields themselves: `hours`, not `fields.hours`.
    let mut fields = req.fields.unwrap_or_default();
    rules::validate(&mut fields).map_err(AppError::invalid_fields)?;
    let voucher = rules::voucher_errors(&fields, &pd_model(&mut tx, campaign.region_id).await?);
    if !voucher.is_empty() {
        return Err(AppError::invalid_fields(voucher));
    }
    let update = sqlx::query(
        "UPDATE programs SET kind = $1, title = $2, direction = $3, topic = $4, annotation = $5, hours = $6, form = $7,
                target_positions = $8, target_subjects = $9, modules = $10, competences = $11, max_group_size = $12,
                cost_per_learner = $13, internship_site = $14, updated_at = now()
         WHERE id = $15",
    );
    bind_fields!(update, fields)
        .bind(row.id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    commit_and_show(tx, row.id).await
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (row, campaign) = visible(&mut conn, p, &req.id, Lock::None).await?;
    to_proto_for(&mut conn, &row, p, campaign.region_id).await
}

pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListProgramsRequest,
) -> Result<pb::ProgramList, AppError> {
    let p = ctx.principal()?;
    let campaign = optional_id("campaign_id", &req.campaign_id)?;
    let provider = optional_id("provider_id", &req.provider_id)?;
    let status = (!req.status.trim().is_empty()).then(|| req.status.trim().to_owned());
    if let Some(s) = &status
        && !rules::STATUSES.contains(&s.as_str())
    {
        return Err(AppError::invalid("status", msg::one_of(&rules::STATUSES)));
    }
    let mut all_regions: Vec<Uuid> = Vec::new();
    for role in [Role::Ministry, Role::RegionalOperator, Role::CouncilMember] {
        all_regions.extend(p.scopes(role));
    }
    let providers: Vec<Uuid> = p.scopes(Role::ProviderAdmin).collect();
    let filter = "FROM programs g JOIN campaigns c ON c.id = g.campaign_id
        LEFT JOIN known_providers k ON k.id = g.provider_id
        WHERE ($1::uuid IS NULL OR g.campaign_id = $1) AND ($2::uuid IS NULL OR g.provider_id = $2)
          AND ($3::text IS NULL OR g.status = $3)
          AND ($4 OR (c.region_id = ANY($5) AND g.status <> 'draft') OR g.provider_id = ANY($6)
               OR EXISTS (SELECT 1 FROM review_assignments a WHERE a.program_id = g.id AND a.expert_id = $7))";
    // One query per page: the region, provider and experts of each row
    // come with it, and the total with the window count.
    let page = format!(
        "SELECT g.*, c.region_id AS campaign_region, k.name AS provider_name,
                k.licence_number AS provider_licence, count(*) OVER () AS total,
                ARRAY(SELECT a.expert_id FROM review_assignments a
                      WHERE a.program_id = g.id ORDER BY a.expert_id) AS expert_ids
         {filter} ORDER BY g.direction, g.title, g.id LIMIT $8 OFFSET $9"
    );
    let (limit, offset) = (limit(req.limit)?, offset(req.offset)?);
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    // The filter's parameters $1..$7, for the page and for the count.
    macro_rules! filtered {
        ($q:expr) => {
            $q.bind(campaign)
                .bind(provider)
                .bind(&status)
                .bind(p.is_admin())
                .bind(&all_regions)
                .bind(&providers)
                .bind(p.user_id)
        };
    }
    let rows: Vec<ListedProgram> = filtered!(sqlx::query_as(sqlx::AssertSqlSafe(page)))
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let total = match rows.first() {
        Some(r) => r.total,
        // Past the last page the window count is not there: count apart.
        None if offset > 0 => filtered!(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) {filter}"
        ))))
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?,
        None => 0,
    };
    let items = rows
        .into_iter()
        .map(|r| {
            let provider = r.provider_name.zip(r.provider_licence);
            let mut out = assemble(&r.program, provider, r.expert_ids);
            redact(&mut out, p, r.campaign_region, r.program.provider_id);
            out
        })
        .collect();
    Ok(pb::ProgramList { items, total })
}

/// The program as it stands now in the transaction.
async fn reloaded(conn: &mut PgConnection, id: Uuid) -> Result<pb::Program, AppError> {
    let row = load(conn, id)
        .await?
        .ok_or_else(|| AppError::internal("program vanished"))?;
    to_proto(conn, &row).await
}

/// Commits a change and answers with the program as it now stands.
async fn commit_and_show(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    id: Uuid,
) -> Result<pb::Program, AppError> {
    let out = reloaded(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    remarks: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE programs SET status = $2, remarks = $3, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(remarks)
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn submit(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (row, _) = visible(&mut tx, p, &req.id, Lock::ForUpdate).await?;
    ensure(access::acts_for_provider(p, row.provider_id))?;
    pd_calendar::ensure_open(
        &mut tx,
        row.campaign_id,
        &["program_submission"],
        state.clock.now(),
    )
    .await?;
    if !["draft", "returned"].contains(&row.status.as_str()) {
        return Err(
            AppError::conflict(msg::NOT_SUBMITTABLE).with("current_status", row.status.clone())
        );
    }
    if row.status == "returned" && unchanged_since_return(&mut tx, &row).await? {
        return Err(AppError::conflict(msg::UNCHANGED_RESUBMISSION)
            .with("current_status", row.status.clone()));
    }
    // The last remarks stay on the program; every earlier one is in its log.
    set_status(&mut tx, row.id, "submitted", &row.remarks).await?;
    log_review(&mut tx, &row, "submitted", "", &ctx.actor()).await?;
    let out = reloaded(&mut tx, row.id).await?;
    let event = pb::ProgramSubmitted {
        program: Some(out.clone()),
    };
    state
        .outbox
        .write(&mut tx, "program_submitted", &out.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

pub(crate) async fn withdraw(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (row, _) = visible(&mut tx, p, &req.id, Lock::ForUpdate).await?;
    ensure(access::acts_for_provider(p, row.provider_id))?;
    if row.status != "submitted" {
        return Err(
            AppError::conflict(msg::NOT_WITHDRAWABLE).with("current_status", row.status.clone())
        );
    }
    set_status(&mut tx, row.id, "draft", "").await?;
    commit_and_show(tx, row.id).await
}

pub(crate) async fn technical_review(
    state: State,
    ctx: RpcContext,
    req: pb::TechnicalReviewRequest,
) -> Result<pb::Program, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (row, campaign) = visible(&mut tx, p, &req.program_id, Lock::ForUpdate).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    // Returned programs can be fixed and resubmitted while submission is open.
    pd_calendar::ensure_open(
        &mut tx,
        row.campaign_id,
        &["program_submission", "expert_review"],
        state.clock.now(),
    )
    .await?;
    if row.status != "submitted" {
        return Err(
            AppError::conflict(msg::NOT_SUBMITTED).with("current_status", row.status.clone())
        );
    }
    let (status, action) = match req.decision.trim() {
        "accept" => ("in_review", "accepted"),
        "return" if req.remarks.trim().is_empty() => {
            return Err(AppError::invalid("remarks", msg::REMARKS_REQUIRED));
        }
        "return" => ("returned", "returned"),
        _ => return Err(AppError::invalid("decision", msg::DECISION)),
    };
    check_remarks(&req.remarks)?;
    set_status(&mut tx, row.id, status, req.remarks.trim()).await?;
    log_review(&mut tx, &row, action, req.remarks.trim(), &ctx.actor()).await?;
    commit_and_show(tx, row.id).await
}

/// A program's submissions and technical-review decisions, oldest first.
pub(crate) async fn technical_history(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<pb::TechnicalReviewHistory, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (row, _) = visible(&mut conn, p, &req.id, Lock::None).await?;
    let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT action, remarks, actor, at FROM technical_review_log WHERE program_id = $1 ORDER BY at, id",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::TechnicalReviewHistory {
        items: rows
            .into_iter()
            .map(|(action, remarks, actor_id, at)| pb::TechnicalReviewEntry {
                action,
                remarks,
                actor_id,
                at: ts(at),
            })
            .collect(),
    })
}

/// A draft is deleted by its provider; anything submitted is kept.
pub(crate) async fn delete(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<Empty, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (row, _) = visible(&mut tx, p, &req.id, Lock::ForUpdate).await?;
    ensure(access::acts_for_provider(p, row.provider_id))?;
    if row.status != "draft" {
        return Err(
            AppError::conflict(msg::NOT_DELETABLE).with("current_status", row.status.clone())
        );
    }
    sqlx::query("DELETE FROM programs WHERE id = $1")
        .bind(row.id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(Empty {})
}

/// The operator's remarks: free text, bounded.
fn check_remarks(remarks: &str) -> Result<(), AppError> {
    let mut v = Validator::new();
    v.max_len("remarks", remarks.trim(), TEXT);
    v.finish()
}
