//! Instruments: the region's questionnaires and tests (the needs survey,
//! diagnostics, post-course questionnaires and test banks). Questions can
//! change until someone has responded.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::{AppError, Principal};
use pd_proto::surveys::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{
    body_id, campaign_region, db_error, ensure, from_json, optional_id, path_id, to_json, ts,
};
use crate::domain::{access, instruments as rules};
use crate::{State, catalog, messages as msg};

#[derive(FromRow, Clone)]
pub(crate) struct InstrumentRow {
    pub id: Uuid,
    pub region_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub kind: String,
    pub purpose: String,
    pub program_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub title: String,
    pub questions: serde_json::Value,
    pub draw_count: i32,
    pub time_limit_minutes: i32,
    pub pass_percent: i32,
    pub sections: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, region_id, campaign_id, kind, purpose, program_id, provider_id, title, questions,
    draw_count, time_limit_minutes, pass_percent, sections, created_at, updated_at";

impl InstrumentRow {
    pub fn questions(&self) -> Result<Vec<pb::Question>, AppError> {
        from_json(self.questions.clone())
    }
    pub fn sections(&self) -> Result<Vec<pb::Section>, AppError> {
        from_json(self.sections.clone())
    }
    /// Whether `p` may read it: its maintainers; the region's operators
    /// the region's own instruments (not a provider's bank).
    pub fn readable_by(&self, p: &Principal) -> bool {
        self.maintained_by(p)
            || (self.provider_id.is_none() && access::operates_in(p, self.region_id))
    }

    /// Whether `p` maintains it (and so sees its correct answers).
    pub fn maintained_by(&self, p: &Principal) -> bool {
        match self.provider_id {
            Some(provider) => access::maintains_program(p, self.region_id, provider, &self.purpose),
            None => access::manages_region(p, self.region_id),
        }
    }
}

pub(crate) async fn load(conn: &mut PgConnection, id: Uuid) -> Result<InstrumentRow, AppError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM instruments WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?
    .ok_or_else(|| AppError::not_found(msg::INSTRUMENT_NOT_FOUND))
}

/// Whether anyone has responded (a response or an attempt in any window).
async fn locked(conn: &mut PgConnection, id: Uuid) -> Result<bool, AppError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM windows w WHERE w.instrument_id = $1 AND (
             EXISTS (SELECT 1 FROM responses r WHERE r.window_id = w.id)
             OR EXISTS (SELECT 1 FROM attempts a WHERE a.window_id = w.id)))",
    )
    .bind(id)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

pub(crate) async fn to_proto(
    conn: &mut PgConnection,
    row: InstrumentRow,
    show_answers: bool,
) -> Result<pb::Instrument, AppError> {
    let mut questions = row.questions()?;
    if !show_answers {
        questions = questions.into_iter().map(rules::hide_answers).collect();
    }
    Ok(pb::Instrument {
        id: row.id.to_string(),
        region_id: row.region_id.to_string(),
        campaign_id: row.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
        kind: row.kind.clone(),
        purpose: row.purpose.clone(),
        program_id: row.program_id.map(|c| c.to_string()).unwrap_or_default(),
        provider_id: row.provider_id.map(|c| c.to_string()).unwrap_or_default(),
        title: row.title.clone(),
        sections: row.sections()?,
        questions,
        draw_count: row.draw_count,
        time_limit_minutes: row.time_limit_minutes,
        pass_percent: row.pass_percent,
        locked: locked(conn, row.id).await?,
        created_at: ts(row.created_at),
        updated_at: ts(row.updated_at),
    })
}

/// Where a new instrument belongs and whether the caller may create it:
/// (region, campaign, program, provider).
async fn placement(
    conn: &mut PgConnection,
    p: &Principal,
    req: &pb::SaveInstrumentRequest,
) -> Result<(Uuid, Option<Uuid>, Option<Uuid>, Option<Uuid>), AppError> {
    let post_course = req.purpose.starts_with("post_course");
    if !post_course && !req.program_id.is_empty() {
        return Err(AppError::invalid(
            "program_id",
            msg::PROGRAM_FOR_POST_COURSE,
        ));
    }
    if let Some(program) = optional_id("program_id", &req.program_id)? {
        let found: Option<(Uuid, Uuid)> =
            sqlx::query_as("SELECT region_id, provider_id FROM known_programs WHERE id = $1")
                .bind(program)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?;
        let (region, provider) = match found {
            Some(f) if p.in_region(f.0) => f,
            _ => return Err(AppError::invalid("program_id", msg::PROGRAM_NOT_FOUND)),
        };
        ensure(access::maintains_program(p, region, provider, &req.purpose))?;
        return Ok((region, None, Some(program), Some(provider)));
    }
    if matches!(req.purpose.as_str(), "needs_survey" | "diagnostic") {
        if req.campaign_id.is_empty() {
            return Err(AppError::invalid("campaign_id", msg::CAMPAIGN_REQUIRED));
        }
        let (campaign, region) = campaign_region(conn, p, &req.campaign_id).await?;
        ensure(access::manages_region(p, region))?;
        return Ok((region, Some(campaign), None, None));
    }
    let region = body_id("region_id", &req.region_id)?;
    if !p.in_region(region) {
        return Err(AppError::invalid("region_id", msg::CAMPAIGN_NOT_FOUND));
    }
    let manages = access::manages_region(p, region);
    if !manages && post_course && p.has_role(pd_domain::Role::ProviderAdmin) {
        return Err(AppError::invalid(
            "program_id",
            msg::PROGRAM_REQUIRED_FOR_PROVIDER,
        ));
    }
    ensure(manages)?;
    Ok((region, None, None, None))
}

pub(crate) async fn create(
    s: State,
    ctx: RpcContext,
    mut req: pb::SaveInstrumentRequest,
) -> Result<pb::Instrument, AppError> {
    let p = ctx.principal()?.clone();
    rules::validate(&mut req)?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (region, campaign, program, provider) = placement(&mut tx, &p, &req).await?;
    if let Some(c) = campaign {
        catalog::ensure_in_catalog(&mut tx, c, &req).await?;
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO instruments (id, region_id, campaign_id, kind, purpose, program_id, provider_id, title,
                                  questions, draw_count, time_limit_minutes, pass_percent, sections, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(id)
    .bind(region)
    .bind(campaign)
    .bind(&req.kind)
    .bind(&req.purpose)
    .bind(program)
    .bind(provider)
    .bind(req.title.trim())
    .bind(to_json(&req.questions)?)
    .bind(req.draw_count)
    .bind(req.time_limit_minutes)
    .bind(req.pass_percent)
    .bind(to_json(&req.sections)?)
    .bind(p.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    // The needs survey is answered in its campaign phase: its window
    // follows the calendar.
    if req.purpose == "needs_survey" {
        sqlx::query(
            "INSERT INTO windows (id, instrument_id, kind, region_id, campaign_id, phase, source, created_by)
             VALUES ($1, $2, 'phase', $3, $4, 'needs_survey', 'campaign', $5)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(region)
        .bind(campaign)
        .bind(p.user_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    let row = load(&mut tx, id).await?;
    let out = to_proto(&mut tx, row, true).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

/// Changes the title, questions and test settings (not what it is for or
/// whose it is) until someone has responded.
pub(crate) async fn update(
    s: State,
    ctx: RpcContext,
    mut req: pb::SaveInstrumentRequest,
) -> Result<pb::Instrument, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::INSTRUMENT_NOT_FOUND)?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let row = visible(&mut tx, p, id).await?;
    ensure(row.maintained_by(p))?;
    req.kind = row.kind.clone();
    req.purpose = row.purpose.clone();
    rules::validate(&mut req)?;
    if let Some(c) = row.campaign_id {
        catalog::ensure_in_catalog(&mut tx, c, &req).await?;
    }
    sqlx::query("SELECT 1 FROM instruments WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if locked(&mut tx, id).await? {
        return Err(AppError::conflict(msg::INSTRUMENT_LOCKED));
    }
    sqlx::query(
        "UPDATE instruments SET title = $2, questions = $3, draw_count = $4, time_limit_minutes = $5,
                pass_percent = $6, sections = $7, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(req.title.trim())
    .bind(to_json(&req.questions)?)
    .bind(req.draw_count)
    .bind(req.time_limit_minutes)
    .bind(req.pass_percent)
    .bind(to_json(&req.sections)?)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let row = load(&mut tx, id).await?;
    let out = to_proto(&mut tx, row, true).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// The instrument if the caller may see it: 404 outside their region or
/// for educators (they meet instruments only through their windows).
async fn visible(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
) -> Result<InstrumentRow, AppError> {
    let row = load(conn, id).await?;
    if !row.readable_by(p) {
        return Err(AppError::not_found(msg::INSTRUMENT_NOT_FOUND));
    }
    Ok(row)
}

/// The instrument; correct answers only to those who maintain it.
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::GetInstrumentRequest,
) -> Result<pb::Instrument, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::INSTRUMENT_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let row = visible(&mut conn, p, id).await?;
    let show = row.maintained_by(p);
    to_proto(&mut conn, row, show).await
}

pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListInstrumentsRequest,
) -> Result<pb::InstrumentList, AppError> {
    let p = ctx.principal()?;
    let limit = crate::db::limit(if req.limit == 0 { 50 } else { req.limit })?;
    let offset = crate::db::offset(req.offset)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let region = match optional_id("campaign_id", &req.campaign_id)? {
        Some(_) => Some(campaign_region(&mut conn, p, &req.campaign_id).await?.1),
        None => optional_id("region_id", &req.region_id)?,
    };
    let Some(region) = region else {
        return Err(AppError::invalid("region_id", msg::REQUIRED));
    };
    ensure(access::reads_region_figures(p, region))?;
    let program = optional_id("program_id", &req.program_id)?;
    let campaign = optional_id("campaign_id", &req.campaign_id)?;
    // As `readable_by`: managers all; operators the region's own; providers
    // their programs'.
    let filter = "region_id = $1 AND ($2::uuid IS NULL OR campaign_id = $2)
                  AND ($3 = '' OR purpose = $3) AND ($4::uuid IS NULL OR program_id = $4)
                  AND ($5 OR (provider_id IS NULL AND $6) OR provider_id = ANY($7))";
    let manages = access::manages_region(p, region);
    let operates = access::operates_in(p, region);
    let providers: Vec<Uuid> = p.scopes(pd_domain::Role::ProviderAdmin).collect();
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM instruments WHERE {filter}"
    )))
    .bind(region)
    .bind(campaign)
    .bind(&req.purpose)
    .bind(program)
    .bind(manages)
    .bind(operates)
    .bind(&providers)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let rows: Vec<InstrumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM instruments WHERE {filter} ORDER BY created_at, id LIMIT $8 OFFSET $9"
    )))
    .bind(region)
    .bind(campaign)
    .bind(&req.purpose)
    .bind(program)
    .bind(manages)
    .bind(operates)
    .bind(&providers)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let show = row.maintained_by(p);
        items.push(to_proto(&mut conn, row, show).await?);
    }
    Ok(pb::InstrumentList { items, total })
}

/// The post-course instrument of `purpose` for a program: its own, else the
/// region's default; the region's default questionnaire is created from
/// seeds/001's five questions when the region has none.
pub(crate) async fn post_course(
    conn: &mut PgConnection,
    region: Uuid,
    program: Option<Uuid>,
    purpose: &str,
) -> Result<Option<InstrumentRow>, AppError> {
    let found: Option<InstrumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM instruments WHERE region_id = $1 AND purpose = $2
           AND (program_id = $3 OR program_id IS NULL)
         ORDER BY program_id IS NULL LIMIT 1"
    )))
    .bind(region)
    .bind(purpose)
    .bind(program)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    if found.is_some() || purpose != "post_course_survey" {
        return Ok(found);
    }
    let questions: Vec<pb::Question> = msg::DEFAULT_POST_COURSE
        .iter()
        .enumerate()
        .map(|(i, text)| pb::Question {
            id: format!("q{}", i + 1),
            kind: "scale".into(),
            text: (*text).into(),
            required: true,
            ..Default::default()
        })
        .collect();
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO instruments (id, region_id, kind, purpose, title, questions)
         VALUES ($1, $2, 'questionnaire', 'post_course_survey', $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(region)
    .bind(msg::DEFAULT_POST_COURSE_TITLE)
    .bind(to_json(&questions)?)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Box::pin(post_course(conn, region, None, purpose)).await
}
