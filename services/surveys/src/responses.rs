//! Responses to questionnaires: one per educator and window, editable until
//! the window closes. The needs survey's answers also record what they
//! count towards (directions, topics, forms, deficits).

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::surveys::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{db_error, from_json, to_json, ts};
use crate::domain::instruments as rules;
use crate::windows;
use crate::{State, instruments, messages as msg};

pub(crate) async fn submit(
    s: State,
    ctx: RpcContext,
    req: pb::SubmitResponseRequest,
) -> Result<pb::Response, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (w, educator) = windows::for_respondent(&mut tx, p, &req.window_id).await?;
    if w.instrument_kind != "questionnaire" {
        return Err(AppError::conflict(msg::NOT_A_QUESTIONNAIRE));
    }
    w.ensure_open(&mut tx, s.clock.now()).await?;
    let i = instruments::load(&mut tx, w.instrument_id).await?;
    let questions = i.questions()?;
    rules::validate_answers(&questions, &req.answers, true)?;
    let chosen = if i.purpose == "needs_survey" {
        rules::chosen_values(&questions, &req.answers)
    } else {
        Vec::new()
    };
    let of = |dimension: &str| -> Vec<&str> {
        chosen
            .iter()
            .filter(|(d, _)| d == dimension)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (id, submitted_at, updated_at, first): (Uuid, DateTime<Utc>, DateTime<Utc>, bool) =
        sqlx::query_as(
            "INSERT INTO responses (id, window_id, educator_id, answers, directions, topics, forms, submitted_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (window_id, educator_id) DO UPDATE
                 SET answers = $4, directions = $5, topics = $6, forms = $7, updated_at = $8
             RETURNING id, submitted_at, updated_at, (xmax = 0)",
        )
        .bind(Uuid::now_v7())
        .bind(w.id)
        .bind(educator)
        .bind(to_json(&req.answers)?)
        .bind(of("direction"))
        .bind(of("topic"))
        .bind(of("form"))
        // The clock that judged the window open stamps the answer, which
        // monitoring compares with the window's close.
        .bind(s.clock.now())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    if let (Some(campaign), "needs_survey") = (w.campaign_id, i.purpose.as_str()) {
        record_deficits(&mut tx, campaign, educator, &of("deficit")).await?;
    }
    let event = pb::ResponseSubmitted {
        response_id: id.to_string(),
        window_id: w.id.to_string(),
        instrument_id: w.instrument_id.to_string(),
        purpose: w.purpose.clone(),
        campaign_id: w.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
        region_id: w.region_id.to_string(),
        educator_id: educator.to_string(),
        program_id: w.program_id.map(|c| c.to_string()).unwrap_or_default(),
        reference: w.reference.clone(),
        submitted_at: ts(updated_at),
        first,
        values: if i.purpose == "post_course_survey" {
            values(&i.questions()?, &req.answers)
        } else {
            Vec::new()
        },
    };
    s.outbox
        .write(
            &mut tx,
            "response_submitted",
            &id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(pb::Response {
        id: id.to_string(),
        window_id: w.id.to_string(),
        educator_id: educator.to_string(),
        answers: req.answers,
        submitted_at: ts(submitted_at),
        updated_at: ts(updated_at),
        editable: true,
    })
}

/// Answers as numbers (scales, single choices), for averages per question.
fn values(questions: &[pb::Question], answers: &[pb::Answer]) -> Vec<pb::QuestionValue> {
    answers
        .iter()
        .filter_map(|a| {
            let q = questions.iter().find(|q| q.id == a.question_id)?;
            let value = match q.kind.as_str() {
                "scale" if a.scale > 0 => a.scale,
                "single_choice" => a.choices.first()? + 1,
                _ => return None,
            };
            Some(pb::QuestionValue {
                question_id: q.id.clone(),
                text: q.text.clone(),
                value,
            })
        })
        .collect()
}

/// Replaces the deficits the educator picked in the needs survey.
async fn record_deficits(
    tx: &mut PgConnection,
    campaign: Uuid,
    educator: Uuid,
    codes: &[&str],
) -> Result<(), AppError> {
    sqlx::query("DELETE FROM educator_deficits WHERE campaign_id = $1 AND educator_id = $2 AND source = 'survey'")
        .bind(campaign)
        .bind(educator)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if codes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO educator_deficits (campaign_id, educator_id, code, source)
         SELECT $1, $2, unnest($3::text[]), 'survey' ON CONFLICT DO NOTHING",
    )
    .bind(campaign)
    .bind(educator)
    .bind(codes)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// The caller's own response in the window.
pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::WindowRequest,
) -> Result<pb::Response, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (w, educator) = windows::for_respondent(&mut conn, p, &req.window_id).await?;
    let row: Option<(Uuid, serde_json::Value, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, answers, submitted_at, updated_at FROM responses WHERE window_id = $1 AND educator_id = $2",
    )
    .bind(w.id)
    .bind(educator)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let (id, answers, submitted_at, updated_at) =
        row.ok_or_else(|| AppError::not_found(msg::RESPONSE_NOT_FOUND))?;
    Ok(pb::Response {
        id: id.to_string(),
        window_id: w.id.to_string(),
        educator_id: educator.to_string(),
        answers: from_json(answers)?,
        submitted_at: ts(submitted_at),
        updated_at: ts(updated_at),
        editable: w.status(s.clock.now()) == "open",
    })
}
