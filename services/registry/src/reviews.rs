//! Content review: experts assigned by load and without conflicts of
//! interest, each scoring every criterion blind to the others' scores.

use chrono::Utc;
use pd_bus::RpcContext;
use pd_domain::bounds::{LIST, TEXT};
use pd_domain::error::Validator;
use pd_domain::{AppError, Role};
use pd_proto::registry::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::campaigns;
use crate::db::{body_id, db_error, ensure, limit, offset, optional_id, path_id, ts};
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

/// Filters of an assignment list.
#[derive(Default)]
struct AssignmentFilter {
    program: Option<Uuid>,
    expert: Option<Uuid>,
    state: Option<String>,
    /// `None`: every row.
    limit: Option<i64>,
    offset: i64,
}

/// A row of the assignment list, with the campaign's totals beside it (a
/// page past the end still has one row, of totals only).
#[derive(sqlx::FromRow)]
struct AssignmentRow {
    total: i64,
    submitted: i64,
    pending: i64,
    declined: i64,
    program_id: Option<Uuid>,
    title: Option<String>,
    expert_id: Option<Uuid>,
    assigned_at: Option<chrono::DateTime<Utc>>,
    submitted_at: Option<chrono::DateTime<Utc>>,
    state: Option<String>,
    reason: Option<String>,
}

/// The states an assignment may be in.
const ASSIGNMENT_STATES: [&str; 4] = ["assigned", "submitted", "declined", "conflict_of_interest"];

/// The campaign's assignments (declined ones included) with the review's
/// progress, in one query.
async fn assignments_page(
    conn: &mut PgConnection,
    campaign: Uuid,
    f: &AssignmentFilter,
) -> Result<pb::AssignmentList, AppError> {
    let rows: Vec<AssignmentRow> = sqlx::query_as(
        "WITH rows AS (
             SELECT a.program_id, p.title, a.expert_id, a.assigned_at, r.submitted_at,
                    CASE WHEN r.program_id IS NULL THEN 'assigned' ELSE 'submitted' END AS state, '' AS reason
             FROM review_assignments a JOIN programs p ON p.id = a.program_id
             LEFT JOIN reviews r ON r.program_id = a.program_id AND r.expert_id = a.expert_id
             WHERE p.campaign_id = $1
             UNION ALL
             SELECT d.program_id, p.title, d.expert_id, d.assigned_at, NULL,
                    CASE WHEN d.conflict_of_interest THEN 'conflict_of_interest' ELSE 'declined' END, d.reason
             FROM review_declines d JOIN programs p ON p.id = d.program_id
             WHERE p.campaign_id = $1),
         filtered AS (
             SELECT * FROM rows WHERE ($2::uuid IS NULL OR program_id = $2)
               AND ($3::uuid IS NULL OR expert_id = $3) AND ($4::text IS NULL OR state = $4)),
         totals AS (
             SELECT (SELECT count(*) FROM filtered) AS total,
                    count(*) FILTER (WHERE state = 'submitted') AS submitted,
                    count(*) FILTER (WHERE state = 'assigned') AS pending,
                    count(*) FILTER (WHERE state IN ('declined', 'conflict_of_interest')) AS declined
             FROM rows)
         SELECT t.total, t.submitted, t.pending, t.declined, f.program_id, f.title, f.expert_id,
                f.assigned_at, f.submitted_at, f.state, f.reason
         FROM totals t LEFT JOIN LATERAL (
             SELECT * FROM filtered ORDER BY title, program_id, state, expert_id LIMIT $5 OFFSET $6) f ON true",
    )
    .bind(campaign)
    .bind(f.program)
    .bind(f.expert)
    .bind(&f.state)
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out = pb::AssignmentList::default();
    if let Some(r) = rows.first() {
        (out.total, out.submitted, out.pending, out.declined) =
            (r.total, r.submitted, r.pending, r.declined);
    }
    out.items = rows
        .into_iter()
        .filter_map(|r| {
            let state = r.state?;
            Some(pb::Assignment {
                program_id: r.program_id?.to_string(),
                expert_id: r.expert_id?.to_string(),
                submitted: state == "submitted",
                program_title: r.title.unwrap_or_default(),
                assigned_at: r.assigned_at.map(ts).unwrap_or_default(),
                submitted_at: r.submitted_at.map(ts).unwrap_or_default(),
                state,
                reason: r.reason.unwrap_or_default(),
            })
        })
        .collect();
    Ok(out)
}

/// Every assignment of the campaign (the reply to assigning).
async fn assignments(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<pb::AssignmentList, AppError> {
    assignments_page(conn, campaign, &AssignmentFilter::default()).await
}

/// The operator's list: who reviews what, who has not reviewed yet, who declined.
pub(crate) async fn list_assignments(
    state: State,
    ctx: RpcContext,
    req: pb::ListAssignmentsRequest,
) -> Result<pb::AssignmentList, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let campaign = campaigns::for_read(&mut conn, p, &req.campaign_id, access::runs_review).await?;
    let state_filter = (!req.state.trim().is_empty()).then(|| req.state.trim().to_owned());
    if state_filter
        .as_deref()
        .is_some_and(|s| !ASSIGNMENT_STATES.contains(&s))
    {
        return Err(AppError::invalid("state", msg::one_of(&ASSIGNMENT_STATES)));
    }
    let filter = AssignmentFilter {
        program: optional_id("program_id", &req.program_id)?,
        expert: optional_id("expert_id", &req.expert_id)?,
        state: state_filter,
        limit: Some(limit(req.limit)?),
        offset: offset(req.offset)?,
    };
    assignments_page(&mut conn, campaign.id, &filter).await
}

/// Experts who declined the program: never assigned to it again.
async fn declined_experts(conn: &mut PgConnection, program: Uuid) -> Result<Vec<Uuid>, AppError> {
    sqlx::query_scalar("SELECT expert_id FROM review_declines WHERE program_id = $1")
        .bind(program)
        .fetch_all(conn)
        .await
        .map_err(db_error)
}

/// An assigned expert declines the program, or declares a conflict of
/// interest with its provider; the operator assigns someone else.
pub(crate) async fn decline(
    state: State,
    ctx: RpcContext,
    req: pb::DeclineReviewRequest,
) -> Result<pb::Assignment, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (program, campaign) = visible(&mut tx, p, &req.program_id, Lock::ForUpdate).await?;
    let experts = programs::assigned_experts(&mut tx, program.id).await?;
    ensure(p.has_scope(Role::Expert, campaign.region_id) && experts.contains(&p.user_id))?;
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], state.clock.now()).await?;
    let reason = req.reason.trim();
    let mut v = Validator::new();
    if reason.is_empty() {
        v.add("reason", msg::REASON_REQUIRED);
    } else {
        v.max_len("reason", reason, TEXT);
    }
    v.finish()?;
    let submitted: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reviews WHERE program_id = $1 AND expert_id = $2)",
    )
    .bind(program.id)
    .bind(p.user_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if submitted {
        return Err(AppError::conflict(msg::REVIEW_SUBMITTED));
    }
    let assigned_at: chrono::DateTime<Utc> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM review_assignments WHERE program_id = $1 AND expert_id = $2 RETURNING assigned_at)
         INSERT INTO review_declines (program_id, expert_id, reason, conflict_of_interest, assigned_at)
         SELECT $1, $2, $3, $4, assigned_at FROM gone RETURNING assigned_at",
    )
    .bind(program.id)
    .bind(p.user_id)
    .bind(reason)
    .bind(req.conflict_of_interest)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    if req.conflict_of_interest {
        sqlx::query(
            "UPDATE campaign_experts SET affiliated_provider_ids = array_append(affiliated_provider_ids, $3)
             WHERE campaign_id = $1 AND user_id = $2 AND NOT ($3 = ANY(affiliated_provider_ids))",
        )
        .bind(campaign.id)
        .bind(p.user_id)
        .bind(program.provider_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(pb::Assignment {
        program_id: program.id.to_string(),
        expert_id: p.user_id.to_string(),
        submitted: false,
        program_title: program.title,
        assigned_at: ts(assigned_at),
        submitted_at: String::new(),
        state: if req.conflict_of_interest {
            "conflict_of_interest"
        } else {
            "declined"
        }
        .to_owned(),
        reason: reason.to_owned(),
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
    pd_calendar::ensure_open(&mut tx, id, &["expert_review"], state.clock.now()).await?;
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
        let mut excluded = declined_experts(&mut tx, program).await?;
        excluded.extend(&already);
        let picked = review::pick(&candidates, provider, &excluded, missing).ok_or_else(|| {
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
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], state.clock.now()).await?;
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
        Some(_) if declined_experts(&mut tx, program.id).await?.contains(&to) => {
            return Err(AppError::invalid(
                "to_expert_id",
                "эксперт отказался от экспертизы этой программы",
            ));
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
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], state.clock.now()).await?;
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
    let out = pb::Review {
        program_id: program.id.to_string(),
        expert_id: p.user_id.to_string(),
        scores: req.scores,
        conclusion: conclusion.to_owned(),
        comment: req.comment.trim().to_owned(),
        score_percent: percent,
        submitted_at: ts(Utc::now()),
    };
    ctx.commit(tx, &out).await?;
    Ok(out)
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
