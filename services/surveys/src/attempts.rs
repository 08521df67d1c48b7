//! Test attempts: questions drawn from the bank per attempt, a time limit,
//! up to the window's attempts limit, scored by the service with the best
//! score kept. Correct answers are shown only once the attempts are used up
//! or the window is over;
//! an attempt out of time is closed and scored as it stands.

use chrono::{DateTime, Duration, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::surveys::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{db_error, from_json, path_id, to_json, ts};
use crate::domain::{access, instruments as rules};
use crate::{State, instruments, messages as msg, windows};

#[derive(FromRow)]
struct AttemptRow {
    id: Uuid,
    window_id: Uuid,
    educator_id: Uuid,
    number: i32,
    questions: serde_json::Value,
    answers: serde_json::Value,
    started_at: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    closed_reason: Option<String>,
    score: i32,
    max_score: i32,
    percent: i32,
    passed: bool,
    sections: serde_json::Value,
}

const COLUMNS: &str =
    "id, window_id, educator_id, number, questions, answers, started_at, deadline, closed_at,
    closed_reason, score, max_score, percent, passed, sections";

async fn load(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<AttemptRow, AppError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM attempts WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?
    .ok_or_else(|| AppError::not_found(msg::ATTEMPT_NOT_FOUND))
}

/// (attempts used, best closed percent) of an educator in a window.
async fn tally(
    conn: &mut PgConnection,
    window: Uuid,
    educator: Uuid,
) -> Result<(i64, i32), AppError> {
    sqlx::query_as(
        "SELECT count(*), COALESCE(max(percent) FILTER (WHERE closed_at IS NOT NULL), 0)
         FROM attempts WHERE window_id = $1 AND educator_id = $2",
    )
    .bind(window)
    .bind(educator)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

/// The attempt as its educator sees it. Correct answers are shown once it
/// is closed and no attempt is left to use them in (or the window is over):
/// the next attempt draws from the same bank.
async fn to_proto(
    conn: &mut PgConnection,
    a: AttemptRow,
    w: &windows::WindowRow,
    now: DateTime<Utc>,
) -> Result<pb::Attempt, AppError> {
    let limit = w.attempts_limit;
    let (used, best) = tally(conn, a.window_id, a.educator_id).await?;
    let reveal = a.closed_at.is_some() && (used >= i64::from(limit) || w.status(now) == "closed");
    let mut questions: Vec<pb::Question> = from_json(a.questions)?;
    if !reveal {
        questions = questions.into_iter().map(rules::hide_answers).collect();
    }
    Ok(pb::Attempt {
        id: a.id.to_string(),
        window_id: a.window_id.to_string(),
        educator_id: a.educator_id.to_string(),
        number: a.number,
        questions,
        answers: from_json(a.answers)?,
        started_at: ts(a.started_at),
        deadline: a.deadline.map(ts).unwrap_or_default(),
        closed_at: a.closed_at.map(ts).unwrap_or_default(),
        closed_reason: a.closed_reason.unwrap_or_default(),
        score: a.score,
        max_score: a.max_score,
        percent: a.percent,
        passed: a.passed,
        sections: from_json(a.sections)?,
        best_percent: best,
        attempts_left: (i64::from(limit) - used).max(0) as i32,
    })
}

/// Starts an attempt, or returns the one still running (a retried start
/// never spends a second attempt).
pub(crate) async fn start(
    s: State,
    ctx: RpcContext,
    req: pb::WindowRequest,
) -> Result<pb::Attempt, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (w, educator) = windows::for_respondent(&mut tx, p, &req.window_id).await?;
    if w.instrument_kind != "test" {
        return Err(AppError::conflict(msg::NOT_A_TEST));
    }
    let now = s.clock.now();
    w.ensure_open(&mut tx, now).await?;
    // Serialises starts of one educator in one window.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext($2::text))")
        .bind(w.id)
        .bind(educator)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let running: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM attempts WHERE window_id = $1 AND educator_id = $2 AND closed_at IS NULL",
    )
    .bind(w.id)
    .bind(educator)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(id) = running {
        let a = load(&mut tx, id, true).await?;
        if a.deadline.is_none_or(|d| d > now) {
            let out = to_proto(&mut tx, a, &w, now).await?;
            ctx.commit(tx, &out).await?;
            return Ok(out);
        }
        close(&s, &mut tx, id, "time_limit").await?;
    }
    let (used, _) = tally(&mut tx, w.id, educator).await?;
    if used >= i64::from(w.attempts_limit) {
        tx.commit().await.map_err(db_error)?;
        return Err(AppError::conflict(msg::NO_ATTEMPTS_LEFT)
            .with("attempts_limit", w.attempts_limit.to_string()));
    }
    let i = instruments::load(&mut tx, w.instrument_id).await?;
    let drawn = rules::draw(&i.questions()?, i.draw_count, &mut rand::thread_rng());
    let limit = (i.time_limit_minutes > 0)
        .then(|| now + Duration::minutes(i64::from(i.time_limit_minutes)));
    let deadline = match (limit, w.closes_at) {
        (Some(l), Some(c)) => Some(l.min(c)),
        (l, c) => l.or(c),
    };
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO attempts (id, window_id, educator_id, number, questions, started_at, deadline)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(w.id)
    .bind(educator)
    .bind(used as i32 + 1)
    .bind(to_json(&drawn)?)
    .bind(now)
    .bind(deadline)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let a = load(&mut tx, id, false).await?;
    let out = to_proto(&mut tx, a, &w, now).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

/// The attempt if it is the caller's (404 otherwise), with its window.
async fn own(
    conn: &mut PgConnection,
    p: &pd_domain::Principal,
    id: &str,
) -> Result<(AttemptRow, windows::WindowRow), AppError> {
    let id = path_id(id, msg::ATTEMPT_NOT_FOUND)?;
    let a = load(conn, id, true).await?;
    if access::educator_id(p) != Some(a.educator_id) {
        return Err(AppError::not_found(msg::ATTEMPT_NOT_FOUND));
    }
    let w = windows::load(conn, a.window_id).await?;
    Ok((a, w))
}

/// Saves answers and, unless `save_only`, finishes and scores the attempt.
/// Answers after the time limit are refused; the attempt is then closed
/// with what it had.
pub(crate) async fn submit(
    s: State,
    ctx: RpcContext,
    req: pb::SubmitAttemptRequest,
) -> Result<pb::Attempt, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (a, w) = own(&mut tx, p, &req.attempt_id).await?;
    if a.closed_at.is_some() {
        return Err(AppError::conflict(msg::ATTEMPT_CLOSED));
    }
    let now = s.clock.now();
    if a.deadline.is_some_and(|d| d <= now) {
        close(&s, &mut tx, a.id, "time_limit").await?;
        tx.commit().await.map_err(db_error)?;
        return Err(AppError::conflict(msg::ATTEMPT_LATE)
            .with("deadline", a.deadline.map(ts).unwrap_or_default()));
    }
    let questions: Vec<pb::Question> = from_json(a.questions.clone())?;
    rules::validate_answers(&questions, &req.answers, false)?;
    sqlx::query("UPDATE attempts SET answers = $2 WHERE id = $1")
        .bind(a.id)
        .bind(to_json(&req.answers)?)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if !req.save_only {
        close(&s, &mut tx, a.id, "submitted").await?;
    }
    let a = load(&mut tx, a.id, false).await?;
    let out = to_proto(&mut tx, a, &w, now).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// One of the caller's attempts (closed on reading if its time is up).
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::AttemptRequest,
) -> Result<pb::Attempt, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (a, w) = own(&mut tx, p, &req.attempt_id).await?;
    let id = a.id;
    let now = s.clock.now();
    let a = if a.closed_at.is_none() && a.deadline.is_some_and(|d| d <= now) {
        close(&s, &mut tx, id, "time_limit").await?;
        load(&mut tx, id, false).await?
    } else {
        a
    };
    let out = to_proto(&mut tx, a, &w, now).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// The caller's attempts in a window.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::WindowRequest,
) -> Result<pb::AttemptList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (w, educator) = windows::for_respondent(&mut conn, p, &req.window_id).await?;
    let rows: Vec<AttemptRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM attempts WHERE window_id = $1 AND educator_id = $2 ORDER BY number"
    )))
    .bind(w.id)
    .bind(educator)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let (now, mut items) = (s.clock.now(), Vec::with_capacity(rows.len()));
    for a in rows {
        items.push(to_proto(&mut conn, a, &w, now).await?);
    }
    Ok(pb::AttemptList { items })
}

/// Scores an open attempt with the answers it holds and closes it; emits
/// `test_attempt_scored` (with the best so far); a diagnostic marks the
/// deficits its sections found.
pub(crate) async fn close(
    s: &State,
    tx: &mut PgConnection,
    id: Uuid,
    reason: &str,
) -> Result<(), AppError> {
    let a = load(tx, id, true).await?;
    if a.closed_at.is_some() {
        return Ok(());
    }
    let w = windows::load(tx, a.window_id).await?;
    let i = instruments::load(tx, w.instrument_id).await?;
    let questions: Vec<pb::Question> = from_json(a.questions)?;
    let answers: Vec<pb::Answer> = from_json(a.answers)?;
    let score = rules::score(&questions, &answers, i.pass_percent, &i.sections()?);
    sqlx::query(
        "UPDATE attempts SET closed_at = $8, closed_reason = $2, score = $3, max_score = $4, percent = $5,
                passed = $6, sections = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .bind(score.score)
    .bind(score.max_score)
    .bind(score.percent)
    .bind(score.passed)
    .bind(to_json(&score.sections)?)
    .bind(s.clock.now())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let deficits: Vec<String> = score
        .sections
        .iter()
        .filter(|s| s.deficit)
        .map(|s| s.competence.clone())
        .collect();
    if let (Some(campaign), "diagnostic") = (w.campaign_id, i.purpose.as_str()) {
        let measured: Vec<String> = score
            .sections
            .iter()
            .map(|s| s.competence.clone())
            .collect();
        sqlx::query(
            "DELETE FROM educator_deficits WHERE campaign_id = $1 AND educator_id = $2 AND source = 'diagnostic' AND code = ANY($3)",
        )
        .bind(campaign)
        .bind(a.educator_id)
        .bind(&measured)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO educator_deficits (campaign_id, educator_id, code, source)
             SELECT $1, $2, unnest($3::text[]), 'diagnostic' ON CONFLICT DO NOTHING",
        )
        .bind(campaign)
        .bind(a.educator_id)
        .bind(&deficits)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    let (used, best) = tally(tx, w.id, a.educator_id).await?;
    let event = pb::TestAttemptScored {
        attempt_id: id.to_string(),
        window_id: w.id.to_string(),
        instrument_id: w.instrument_id.to_string(),
        purpose: w.purpose.clone(),
        region_id: w.region_id.to_string(),
        educator_id: a.educator_id.to_string(),
        program_id: w.program_id.map(|c| c.to_string()).unwrap_or_default(),
        reference: w.reference.clone(),
        number: a.number,
        score: score.score,
        max_score: score.max_score,
        percent: score.percent,
        passed: score.passed,
        best_percent: best,
        best_passed: best >= i.pass_percent && score.max_score > 0,
        attempts_used: used as i32,
        attempts_limit: w.attempts_limit,
        closed_reason: reason.to_owned(),
        deficits,
    };
    s.outbox
        .write(tx, "test_attempt_scored", &id.to_string(), "system", &event)
        .await
        .map_err(db_error)?;
    Ok(())
}
