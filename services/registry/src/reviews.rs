//! Content review: experts assigned by load and without conflicts of
//! interest, each scoring every criterion blind to the others' scores.

use chrono::Utc;
use pd_bus::RpcContext;
use pd_domain::bounds::LIST;
use pd_domain::error::Validator;
use pd_domain::{AppError, Role};
use pd_proto::registry::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::campaigns;
use crate::db::{body_id, db_error, ensure, path_id, ts};
use crate::domain::{access, review};
use crate::programs::{self, Lock, visible};
use crate::{State, messages as msg};

async fn pool(conn: &mut PgConnection, campaign: Uuid) -> Result<Vec<review::Candidate>, AppError> {
    let rows: Vec<(Uuid, Vec<Uuid>, i64)> = sqlx::query_as(
        "SELECT e.user_id,
                e.affiliated_provider_ids || ARRAY(SELECT g.scope_id FROM known_grants g
                                                   WHERE g.user_id = e.user_id AND g.role = 'provider_admin'),
                (SELECT count(*) FROM review_assignments a JOIN programs p ON p.id = a.program_id
                 WHERE a.expert_id = e.user_id AND p.campaign_id = e.campaign_id)
         FROM campaign_experts e WHERE e.campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, affiliated, load)| review::Candidate {
            id,
            affiliated,
            load: load as usize,
        })
        .collect())
}

async fn assignments(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<pb::AssignmentList, AppError> {
    let rows: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
        "SELECT a.program_id, a.expert_id,
                EXISTS (SELECT 1 FROM reviews r WHERE r.program_id = a.program_id AND r.expert_id = a.expert_id)
         FROM review_assignments a JOIN programs p ON p.id = a.program_id
         WHERE p.campaign_id = $1 ORDER BY a.program_id, a.expert_id",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(pb::AssignmentList {
        items: rows
            .into_iter()
            .map(|(program, expert, submitted)| pb::Assignment {
                program_id: program.to_string(),
                expert_id: expert.to_string(),
                submitted,
            })
            .collect(),
    })
}

/// Gives every program on content review its experts, least loaded first.
pub(crate) async fn assign(
    state: State,
    ctx: RpcContext,
    req: pb::AssignExpertsRequest,
) -> Result<pb::AssignmentList, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.campaign_id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let campaign = campaigns::load(&mut tx, id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    let per_program = if req.per_program > 0 {
        req.per_program
    } else {
        state.settings.experts_per_program
    };
    let mut v = Validator::new();
    v.in_range("per_program", per_program.into(), 2, LIST as i64);
    v.finish()?;
    pd_calendar::ensure_open(&mut tx, id, &["expert_review"], Utc::now()).await?;
    let programs: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT id, provider_id, title FROM programs WHERE campaign_id = $1 AND status = 'in_review' ORDER BY id FOR UPDATE",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    for (program, provider, title) in programs {
        let already = programs::assigned_experts(&mut tx, program).await?;
        let missing = (per_program as usize).saturating_sub(already.len());
        if missing == 0 {
            continue;
        }
        let candidates = pool(&mut tx, id).await?;
        let picked = review::pick(&candidates, provider, &already, missing).ok_or_else(|| {
            AppError::conflict(format!("{}: «{title}»", msg::NOT_ENOUGH_EXPERTS))
                .with("program_id", program.to_string())
        })?;
        for expert in picked {
            sqlx::query("INSERT INTO review_assignments (program_id, expert_id) VALUES ($1, $2)")
                .bind(program)
                .bind(expert)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
    }
    let out = assignments(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// Replaces one expert of a program by another (the operator's call).
pub(crate) async fn reassign(
    state: State,
    ctx: RpcContext,
    req: pb::ReassignRequest,
) -> Result<pb::AssignmentList, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (program, campaign) = visible(&mut tx, p, &req.program_id, Lock::ForUpdate).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    let from = body_id("from_expert_id", &req.from_expert_id)?;
    let to = body_id("to_expert_id", &req.to_expert_id)?;
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], Utc::now()).await?;
    let already = programs::assigned_experts(&mut tx, program.id).await?;
    if !already.contains(&from) {
        return Err(AppError::invalid("from_expert_id", msg::NOT_ASSIGNED));
    }
    let submitted: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reviews WHERE program_id = $1 AND expert_id = $2)",
    )
    .bind(program.id)
    .bind(from)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if submitted {
        return Err(AppError::conflict(msg::ALREADY_REVIEWED));
    }
    let candidate = pool(&mut tx, campaign.id)
        .await?
        .into_iter()
        .find(|c| c.id == to);
    match candidate {
        None => return Err(AppError::invalid("to_expert_id", msg::EXPERT_UNKNOWN)),
        Some(c) if c.affiliated.contains(&program.provider_id) => {
            return Err(AppError::invalid("to_expert_id", msg::CONFLICT_OF_INTEREST));
        }
        Some(_) if already.contains(&to) => {
            return Err(AppError::invalid("to_expert_id", "эксперт уже назначен"));
        }
        Some(_) => {}
    }
    sqlx::query("UPDATE review_assignments SET expert_id = $3, assigned_at = now() WHERE program_id = $1 AND expert_id = $2")
        .bind(program.id)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let out = assignments(&mut tx, campaign.id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

pub(crate) async fn submit(
    state: State,
    ctx: RpcContext,
    req: pb::SubmitReviewRequest,
) -> Result<pb::Review, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (program, campaign) = visible(&mut tx, p, &req.program_id, Lock::ForUpdate).await?;
    let experts = programs::assigned_experts(&mut tx, program.id).await?;
    ensure(p.has_scope(Role::Expert, campaign.region_id) && experts.contains(&p.user_id))?;
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], Utc::now()).await?;
    // Affiliations may have changed since the assignment.
    let conflicted = pool(&mut tx, campaign.id)
        .await?
        .iter()
        .any(|c| c.id == p.user_id && c.affiliated.contains(&program.provider_id));
    if conflicted {
        return Err(AppError::conflict(msg::CONFLICT_OF_INTEREST));
    }
    if program.status != "in_review" {
        return Err(
            AppError::conflict(msg::NOT_IN_REVIEW).with("current_status", program.status.clone())
        );
    }
    let criteria = campaigns::criteria(&mut tx, campaign.id).await?;
    if criteria.is_empty() {
        return Err(AppError::conflict(msg::NO_CRITERIA));
    }
    let (percent, mut errors) = match review::score_percent(&criteria, &req.scores) {
        Ok(percent) => (percent, Vec::new()),
        Err(e) => (0.0, e),
    };
    errors.extend(review::validate_conclusion(&req.conclusion, &req.comment));
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let conclusion = req.conclusion.trim();
    let scores = serde_json::to_value(
        req.scores
            .iter()
            .map(|s| (s.criterion.clone(), s.score))
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .map_err(|e| pd_bus::rpc::internal("scores", e))?;
    let inserted = sqlx::query(
        "INSERT INTO reviews (program_id, expert_id, scores, conclusion, comment, score_percent)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(program.id)
    .bind(p.user_id)
    .bind(&scores)
    .bind(conclusion)
    .bind(req.comment.trim())
    .bind(percent)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::conflict(msg::ALREADY_REVIEWED));
    }
    // When the last assigned expert has submitted, the program's content
    // review is over.
    let (count, mean, include, exclude): (i64, Option<f64>, i64, i64) = sqlx::query_as(
        "SELECT count(*), avg(score_percent), count(*) FILTER (WHERE conclusion = 'include'),
                count(*) FILTER (WHERE conclusion = 'exclude')
         FROM reviews WHERE program_id = $1 AND expert_id = ANY($2)",
    )
    .bind(program.id)
    .bind(&experts)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if count as usize >= experts.len() {
        let mean = review::finite(mean.unwrap_or(0.0));
        let means = review::criterion_means(
            &criteria,
            &expert_scores(&mut tx, program.id, &experts).await?,
        );
        let passed = review::passes(
            mean,
            include as i32,
            exclude as i32,
            campaign.pass_threshold_percent,
        ) && review::meets_minimums(&criteria, &means);
        sqlx::query(
            "UPDATE programs SET status = $2, mean_score_percent = $3, include_votes = $4, exclude_votes = $5, updated_at = now()
             WHERE id = $1",
        )
        .bind(program.id)
        .bind(if passed { "reviewed" } else { "expert_rejected" })
        .bind((mean * 10.0).round() / 10.0)
        .bind(include as i32)
        .bind(exclude as i32)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(pb::Review {
        program_id: program.id.to_string(),
        expert_id: p.user_id.to_string(),
        scores: req.scores,
        conclusion: conclusion.to_owned(),
        comment: req.comment.trim().to_owned(),
        score_percent: percent,
        submitted_at: ts(Utc::now()),
    })
}

/// Each assigned expert's scores of a program, by criterion.
pub(crate) async fn expert_scores(
    conn: &mut PgConnection,
    program: Uuid,
    experts: &[Uuid],
) -> Result<Vec<std::collections::HashMap<String, i32>>, AppError> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT scores FROM reviews WHERE program_id = $1 AND expert_id = ANY($2)",
    )
    .bind(program)
    .bind(experts)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|v| {
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, s)| (k.clone(), s.as_i64().unwrap_or(0) as i32))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect())
}

/// The reviews of a program. An expert sees the others' only after
/// submitting their own; the operators see all; providers none.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ProgramActionRequest,
) -> Result<pb::ReviewList, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (program, campaign) = visible(&mut conn, p, &req.id, Lock::None).await?;
    let rows: Vec<(
        Uuid,
        serde_json::Value,
        String,
        String,
        f64,
        chrono::DateTime<Utc>,
    )> = sqlx::query_as(
        "SELECT expert_id, scores, conclusion, comment, score_percent, submitted_at FROM reviews
         WHERE program_id = $1 ORDER BY submitted_at",
    )
    .bind(program.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let sees_all =
        access::reads_all_programs(p, campaign.region_id) || rows.iter().any(|r| r.0 == p.user_id);
    if !sees_all && !p.has_scope(Role::Expert, campaign.region_id) {
        return Err(AppError::forbidden(msg::FORBIDDEN));
    }
    let items = rows
        .into_iter()
        .filter(|r| sees_all || r.0 == p.user_id)
        .map(
            |(expert, scores, conclusion, comment, percent, at)| pb::Review {
                program_id: program.id.to_string(),
                expert_id: expert.to_string(),
                scores: scores
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| pb::Score {
                                criterion: k.clone(),
                                score: v.as_i64().unwrap_or(0) as i32,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                conclusion,
                comment,
                score_percent: review::finite(percent),
                submitted_at: ts(at),
            },
        )
        .collect();
    Ok(pb::ReviewList { items })
}
