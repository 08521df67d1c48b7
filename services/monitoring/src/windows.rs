//! Post-course windows (stage 11, seed 001): each completed learner gets
//! one, open for the region's days (10 by default). This service opens it
//! (`post_course_window_opened`: surveys runs the questionnaire and the
//! test, 2 attempts, inside) and closes it on time by its own clock; a
//! window that fell due while the service was down closes at its first
//! sweep after the start. One closed without the questionnaire is missed.

use chrono::{DateTime, Duration, Utc};
use pd_bus::RpcContext;
use pd_domain::{AppError, Principal};
use pd_proto::monitoring::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::completions::{Group, pending};
use crate::db::{self, db_error, ensure, path_id, ts};
use crate::domain::access::{self, Unit};
use crate::messages as msg;
use crate::{State, documents, educator_name};

/// Windows closed per transaction by a sweep.
const CLOSE_BATCH: i64 = 500;

/// The region's days and attempts (the service's defaults when unset).
async fn settings(
    s: &State,
    conn: &mut PgConnection,
    region: Uuid,
) -> Result<(i32, i32), AppError> {
    let row: Option<(i32, i32)> = sqlx::query_as(
        "SELECT window_days, test_attempts FROM region_settings WHERE region_id = $1",
    )
    .bind(region)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    Ok(row.unwrap_or((
        s.settings.window_days as i32,
        s.settings.test_attempts as i32,
    )))
}

/// Opens a completed learner's window; the event for surveys.
pub(crate) async fn open(
    s: &State,
    tx: &mut PgConnection,
    g: &Group,
    educator: Uuid,
    completion: Uuid,
    now: DateTime<Utc>,
) -> Result<pb::PostCourseWindowOpened, AppError> {
    let (days, attempts) = settings(s, tx, g.region_id).await?;
    let closes = now + Duration::days(days.into());
    sqlx::query(
        "INSERT INTO post_course_windows (completion_id, educator_id, region_id, opens_at, closes_at, attempts_limit)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(completion)
    .bind(educator)
    .bind(g.region_id)
    .bind(now)
    .bind(closes)
    .bind(attempts)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok(pb::PostCourseWindowOpened {
        completion_id: completion.to_string(),
        region_id: g.region_id.to_string(),
        program_id: g.program_id.to_string(),
        educator_id: educator.to_string(),
        opens_at: ts(now),
        closes_at: ts(closes),
        attempts_limit: attempts,
    })
}

/// Closes every window whose time is up by the service's clock, in
/// batches; several instances share the work (`SKIP LOCKED`).
pub(crate) async fn close_due(s: &State) -> Result<(), AppError> {
    loop {
        let now = s.clock.now();
        let mut tx = s.pool.begin().await.map_err(db_error)?;
        let due: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE post_course_windows SET closed_at = $1, missed = survey_done_at IS NULL
             WHERE completion_id IN (SELECT completion_id FROM post_course_windows
                                     WHERE closed_at IS NULL AND closes_at <= $1
                                     ORDER BY closes_at LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING completion_id",
        )
        .bind(now)
        .bind(CLOSE_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        if due.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(due.len());
        for w in load_many(&mut tx, &due, now).await? {
            let id =
                Uuid::parse_str(&w.completion_id).map_err(|e| pd_bus::rpc::internal("id", e))?;
            events.push(pending(
                "post_course_window_closed",
                id,
                &pb::PostCourseWindowClosed { window: Some(w) },
            ));
        }
        s.outbox
            .write_many(&mut tx, "system", events)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(closed = due.len(), "post-course windows closed");
    }
}

/// Surveys' `response_submitted` of the post-course questionnaire: the
/// window's questionnaire is done (if answered before it closed), and the
/// certificate or transcript is issued.
pub(crate) async fn survey_done(
    s: &State,
    conn: &mut PgConnection,
    completion: Uuid,
    at: DateTime<Utc>,
    values: serde_json::Value,
) -> Result<(), AppError> {
    // A changed answer (the questionnaire is editable while open) replaces the values.
    let first: Option<bool> = sqlx::query_scalar(
        "UPDATE post_course_windows SET survey_done_at = coalesce(survey_done_at, $2), missed = false,
                survey_values = $3
         WHERE completion_id = $1 AND $2 <= closes_at
         RETURNING survey_done_at = $2",
    )
    .bind(completion)
    .bind(at)
    .bind(values)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    if first == Some(true) {
        documents::issue(s, conn, completion).await?;
    }
    Ok(())
}

/// Surveys' `test_attempt_scored`: the best attempt so far (seed 001: the
/// best of two counts).
pub(crate) async fn scored(
    conn: &mut PgConnection,
    completion: Uuid,
    e: &pd_proto::surveys::v1::TestAttemptScored,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE post_course_windows SET best_percent = greatest(best_percent, $2),
                best_passed = best_passed OR $3, attempts_used = greatest(attempts_used, $4)
         WHERE completion_id = $1",
    )
    .bind(completion)
    .bind(e.best_percent)
    .bind(e.best_passed)
    .bind(e.attempts_used)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    completion_id: Uuid,
    educator_id: Uuid,
    educator_name: String,
    organization_id: Option<Uuid>,
    municipality_id: Option<Uuid>,
    region_id: Uuid,
    program_id: Uuid,
    program_title: String,
    group_id: Uuid,
    provider_id: Uuid,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    survey_done_at: Option<DateTime<Utc>>,
    best_percent: i32,
    best_passed: bool,
    attempts_used: i32,
    attempts_limit: i32,
    missed: bool,
    closed_at: Option<DateTime<Utc>>,
    document_id: Option<Uuid>,
}

impl Row {
    /// The window as of `now`: one whose time is up reads closed (and
    /// missed without the questionnaire) before the sweep records it, so
    /// reading never has to write.
    fn at(self, now: DateTime<Utc>) -> pb::PostCourseWindow {
        let r = self;
        let closed_at = r.closed_at.or((r.closes_at <= now).then_some(r.closes_at));
        let missed = r.missed || (closed_at.is_some() && r.survey_done_at.is_none());
        let o = |x: Option<Uuid>| x.map(|x| x.to_string()).unwrap_or_default();
        pb::PostCourseWindow {
            completion_id: r.completion_id.to_string(),
            educator_id: r.educator_id.to_string(),
            educator_name: r.educator_name,
            organization_id: o(r.organization_id),
            municipality_id: o(r.municipality_id),
            region_id: r.region_id.to_string(),
            program_id: r.program_id.to_string(),
            program_title: r.program_title,
            group_id: r.group_id.to_string(),
            provider_id: r.provider_id.to_string(),
            opens_at: ts(r.opens_at),
            closes_at: ts(r.closes_at),
            status: if closed_at.is_some() {
                "closed"
            } else {
                "open"
            }
            .into(),
            survey_done_at: r.survey_done_at.map(ts).unwrap_or_default(),
            best_percent: r.best_percent,
            best_passed: r.best_passed,
            attempts_used: r.attempts_used,
            attempts_limit: r.attempts_limit,
            missed,
            closed_at: closed_at.map(ts).unwrap_or_default(),
            document_id: o(r.document_id),
        }
    }
}

const SELECT: &str = concat!(
    "SELECT w.completion_id, w.educator_id, ",
    educator_name!(),
    " AS educator_name, e.organization_id, e.municipality_id, w.region_id, c.program_id,
            coalesce(g.program_title, '') AS program_title, c.group_id, c.provider_id, w.opens_at,
            w.closes_at, w.survey_done_at, w.best_percent, w.best_passed, w.attempts_used,
            w.attempts_limit, w.missed, w.closed_at, d.id AS document_id
     FROM post_course_windows w
     JOIN completions c ON c.id = w.completion_id
     LEFT JOIN known_groups g ON g.id = c.group_id
     LEFT JOIN known_educators e ON e.id = w.educator_id
     LEFT JOIN documents d ON d.completion_id = w.completion_id"
);

async fn load_many(
    conn: &mut PgConnection,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<pb::PostCourseWindow>, AppError> {
    let sql = format!("{SELECT} WHERE w.completion_id = ANY($1) ORDER BY w.closes_at");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(|r| r.at(now)).collect())
}

/// The educator sees their own window; operators those of their scope.
fn sees(p: &Principal, w: &pb::PostCourseWindow) -> bool {
    let own = access::educator_id(p).is_some_and(|e| e.to_string() == w.educator_id);
    let unit = || -> Option<Unit> {
        Some(Unit {
            region: Uuid::parse_str(&w.region_id).ok()?,
            municipality: Uuid::parse_str(&w.municipality_id).ok()?,
            organization: Uuid::parse_str(&w.organization_id).ok()?,
        })
    };
    own || unit().is_some_and(|u| access::oversees(p, &u))
}

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::CompletionRequest,
) -> Result<pb::PostCourseWindow, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.completion_id, msg::WINDOW_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let w = load_many(&mut conn, &[id], s.clock.now()).await?.pop();
    match w {
        Some(w) if sees(p, &w) => Ok(w),
        _ => Err(AppError::not_found(msg::WINDOW_NOT_FOUND)),
    }
}

/// An educator's own windows, or the windows of an operator's scope (who
/// is in which state of the window: open, closed, missed).
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListWindowsRequest,
) -> Result<pb::PostCourseWindowList, AppError> {
    let p = ctx.principal()?;
    let now = s.clock.now();
    let limit = db::limit(req.limit)?;
    let offset = db::offset(req.offset)?;
    if !["", "open", "closed", "missed"].contains(&req.status.as_str()) {
        return Err(AppError::invalid("status", msg::WINDOW_STATUS));
    }
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (region, educator, scope) = if req.region_id.is_empty() {
        // An educator's own list.
        let Some(me) = access::educator_id(p) else {
            return Err(AppError::invalid("region_id", msg::REGION_NOT_FOUND));
        };
        (None, Some(me), pd_units::Scope::default())
    } else {
        let region = pd_domain::request::body_id("region_id", &req.region_id)?;
        ensure(p.in_region(region))?;
        let scope = pd_units::scope(
            &mut conn,
            p,
            region,
            &req.organization_id,
            &req.municipality_id,
            access::manages_region,
        )
        .await?;
        let educator = db::optional_id("educator_id", &req.educator_id)?;
        (Some(region), educator, scope)
    };
    let condition = "($1::uuid IS NULL OR w.region_id = $1) AND ($2::uuid IS NULL OR w.educator_id = $2)
           AND ($3::uuid IS NULL OR e.organization_id = $3) AND ($4::uuid IS NULL OR e.municipality_id = $4)
           AND ($5 = '' OR ($5 = 'open' AND w.closed_at IS NULL AND w.closes_at > $6)
                OR ($5 = 'closed' AND (w.closed_at IS NOT NULL OR w.closes_at <= $6))
                OR ($5 = 'missed' AND (w.missed OR (w.closed_at IS NULL AND w.closes_at <= $6
                                                    AND w.survey_done_at IS NULL))))";
    let sql = format!(
        "{SELECT} WHERE {condition} ORDER BY w.closes_at DESC, w.completion_id LIMIT $7 OFFSET $8"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(region)
        .bind(educator)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(&req.status)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let count = format!(
        "SELECT count(*) FROM post_course_windows w LEFT JOIN known_educators e ON e.id = w.educator_id WHERE {condition}"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
        .bind(region)
        .bind(educator)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(&req.status)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::PostCourseWindowList {
        items: rows.into_iter().map(|r| r.at(now)).collect(),
        total,
    })
}

pub(crate) async fn get_settings(
    s: State,
    ctx: RpcContext,
    req: pb::RegionSettingsRequest,
) -> Result<pb::RegionSettings, AppError> {
    let p = ctx.principal()?;
    let region = path_id(&req.region_id, msg::REGION_NOT_FOUND)?;
    if !p.in_region(region) {
        return Err(AppError::not_found(msg::REGION_NOT_FOUND));
    }
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (days, attempts) = settings(&s, &mut conn, region).await?;
    Ok(pb::RegionSettings {
        region_id: region.to_string(),
        window_days: days,
        test_attempts: attempts,
    })
}

/// The regional operator sets the region's window; windows already open
/// keep theirs.
pub(crate) async fn put_settings(
    s: State,
    ctx: RpcContext,
    req: pb::RegionSettings,
) -> Result<pb::RegionSettings, AppError> {
    let p = ctx.principal()?;
    let region = path_id(&req.region_id, msg::REGION_NOT_FOUND)?;
    ensure(access::sets_region(p, region))?;
    let mut v = pd_domain::error::Validator::new();
    v.in_range("window_days", req.window_days.into(), 1, 90);
    v.in_range("test_attempts", req.test_attempts.into(), 1, 10);
    v.finish()?;
    sqlx::query(
        "INSERT INTO region_settings (region_id, window_days, test_attempts) VALUES ($1, $2, $3)
         ON CONFLICT (region_id) DO UPDATE SET window_days = $2, test_attempts = $3, updated_at = now()",
    )
    .bind(region)
    .bind(req.window_days)
    .bind(req.test_attempts)
    .execute(&s.pool)
    .await
    .map_err(db_error)?;
    Ok(pb::RegionSettings {
        region_id: region.to_string(),
        window_days: req.window_days,
        test_attempts: req.test_attempts,
    })
}
