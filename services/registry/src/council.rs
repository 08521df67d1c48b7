//! The expert council: sessions, votes, the protocol and its approval by
//! the presidium, which publishes the registry.

use chrono::{NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::{LIST, too_many};
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal, Role};
use pd_proto::registry::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::campaigns::{self, CampaignRow};
use crate::db::{body_id, db_error, ensure, path_id, ts};
use crate::domain::{access, council};
use crate::{State, catalog, messages as msg};

#[derive(FromRow)]
struct SessionRow {
    id: Uuid,
    campaign_id: Uuid,
    held_on: NaiveDate,
    member_ids: Vec<Uuid>,
    program_ids: Vec<Uuid>,
    quorum: i32,
    status: String,
    protocol: Option<sqlx::types::Json<serde_json::Value>>,
    approved_at: Option<chrono::DateTime<Utc>>,
}

impl SessionRow {
    fn to_proto(&self) -> pb::CouncilSession {
        pb::CouncilSession {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            held_on: self.held_on.to_string(),
            member_ids: self.member_ids.iter().map(Uuid::to_string).collect(),
            program_ids: self.program_ids.iter().map(Uuid::to_string).collect(),
            status: self.status.clone(),
            quorum: self.quorum,
        }
    }
}

/// The session and its campaign, if the caller takes part in the review (else 404).
async fn load(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
) -> Result<(SessionRow, CampaignRow), AppError> {
    let id = path_id(id, msg::SESSION_NOT_FOUND)?;
    // Locked for the transaction: votes, closing and approval serialize.
    let row: SessionRow = sqlx::query_as("SELECT * FROM council_sessions WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| AppError::not_found(msg::SESSION_NOT_FOUND))?;
    let campaign = campaigns::load(conn, row.campaign_id).await?;
    let region = campaign.region_id;
    let involved = access::reads_all_programs(p, region) || p.has_scope(Role::Expert, region);
    if !involved {
        return Err(AppError::not_found(msg::SESSION_NOT_FOUND));
    }
    Ok((row, campaign))
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateSessionRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.campaign_id, msg::CAMPAIGN_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let campaign = campaigns::load(&mut tx, id).await?;
    // Who may not form sessions at all learns that first (403, not 422).
    ensure(access::runs_review(p, campaign.region_id))?;
    let held_on = NaiveDate::parse_from_str(req.held_on.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("held_on", msg::DATE))?;
    if req.member_ids.len() > LIST {
        return Err(AppError::invalid("member_ids", too_many(LIST)));
    }
    // Each member keeps the index it has in the request, for error names.
    let mut given: Vec<(usize, Uuid)> = Vec::new();
    for (i, m) in req.member_ids.iter().enumerate() {
        let member = body_id(&format!("member_ids[{i}]"), m)?;
        if !given.iter().any(|(_, g)| *g == member) {
            given.push((i, member));
        }
    }
    if given.is_empty() {
        return Err(AppError::invalid("member_ids", msg::MEMBERS_REQUIRED));
    }
    pd_calendar::ensure_open(&mut tx, id, &["expert_review"], Utc::now()).await?;
    // One session is formed at a time per campaign, so agendas never overlap.
    sqlx::query("SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let mut v = Validator::new();
    for (i, m) in &given {
        let seated: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM known_grants WHERE user_id = $1 AND role = 'council_member' AND scope_id = $2)",
        )
        .bind(m)
        .bind(campaign.region_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if !seated {
            v.add(format!("member_ids[{i}]"), msg::MEMBER_UNKNOWN);
        }
    }
    v.finish()?;
    let mut members: Vec<Uuid> = given.into_iter().map(|(_, m)| m).collect();
    members.sort();
    // The agenda: programs that passed the experts and no session has taken.
    let agenda: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM programs p WHERE campaign_id = $1 AND status = 'reviewed'
           AND NOT EXISTS (SELECT 1 FROM council_sessions s WHERE p.id = ANY(s.program_ids) AND s.status <> 'cancelled')
         ORDER BY direction, title",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    if agenda.is_empty() {
        return Err(AppError::conflict(msg::NOTHING_TO_REVIEW));
    }
    let quorum = council::quorum(members.len(), state.settings.council_quorum_fraction);
    let row: SessionRow = sqlx::query_as(
        "INSERT INTO council_sessions (id, campaign_id, held_on, member_ids, program_ids, quorum)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(id)
    .bind(held_on)
    .bind(&members)
    .bind(&agenda)
    .bind(quorum)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    Ok(load(&mut conn, p, &req.id).await?.0.to_proto())
}

pub(crate) async fn vote(
    state: State,
    ctx: RpcContext,
    req: pb::VoteRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, campaign) = load(&mut tx, p, &req.session_id).await?;
    // Only the members seated at this session vote.
    if !session.member_ids.contains(&p.user_id)
        || !p.has_scope(Role::CouncilMember, campaign.region_id)
    {
        return Err(AppError::forbidden(msg::NOT_A_MEMBER));
    }
    if session.status != "open" {
        return Err(AppError::conflict(msg::SESSION_CLOSED));
    }
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review"], Utc::now()).await?;
    let program = body_id("program_id", &req.program_id)?;
    if !session.program_ids.contains(&program) {
        return Err(AppError::invalid("program_id", msg::NOT_ON_AGENDA));
    }
    let vote = req.vote.trim();
    if !["for", "against", "abstain"].contains(&vote) {
        return Err(AppError::invalid("vote", msg::VOTE));
    }
    // A member may change their vote until the session closes.
    sqlx::query(
        "INSERT INTO council_votes (session_id, program_id, member_id, vote) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, program_id, member_id) DO UPDATE SET vote = $4, cast_at = now()",
    )
    .bind(session.id)
    .bind(program)
    .bind(p.user_id)
    .bind(vote)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(session.to_proto())
}

/// A program on the agenda with its expert results and votes.
#[derive(FromRow)]
struct Tally {
    id: Uuid,
    title: String,
    direction: String,
    provider: Uuid,
    mean: f64,
    inc: i32,
    exc: i32,
    vf: i64,
    va: i64,
    vab: i64,
}

/// Tallies the votes, decides every program on the agenda and writes the
/// protocol; refused while a program lacks a quorum.
pub(crate) async fn close(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::Protocol, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, campaign) = load(&mut tx, p, &req.id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    if session.status != "open" {
        return Err(AppError::conflict(msg::SESSION_CLOSED));
    }
    pd_calendar::ensure_open(
        &mut tx,
        campaign.id,
        &["expert_review", "schedule"],
        Utc::now(),
    )
    .await?;
    let rows: Vec<Tally> = sqlx::query_as(
        "SELECT g.id, g.title, g.direction, g.provider_id AS provider, g.mean_score_percent AS mean,
                g.include_votes AS inc, g.exclude_votes AS exc,
                count(v.*) FILTER (WHERE v.vote = 'for') AS vf, count(v.*) FILTER (WHERE v.vote = 'against') AS va,
                count(v.*) FILTER (WHERE v.vote = 'abstain') AS vab
         FROM programs g LEFT JOIN council_votes v ON v.program_id = g.id AND v.session_id = $1
         WHERE g.id = ANY($2)
         GROUP BY g.id ORDER BY g.direction, g.title",
    )
    .bind(session.id)
    .bind(&session.program_ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let criteria = campaigns::criteria(&mut tx, campaign.id).await?;
    let mut entries = Vec::new();
    let mut lacking = Vec::new();
    for t in rows {
        let Tally {
            id,
            title,
            direction,
            provider,
            mean,
            inc,
            exc,
            vf,
            va,
            vab,
        } = t;
        let (vf, va, vab) = (vf as i32, va as i32, vab as i32);
        let Some(included) = council::decide(vf, va, vab, session.quorum) else {
            lacking.push(title);
            continue;
        };
        let provider_name = crate::programs::provider(&mut tx, provider)
            .await?
            .map(|p| p.1)
            .unwrap_or_default();
        sqlx::query("UPDATE programs SET status = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(if included {
                "recommended"
            } else {
                "not_recommended"
            })
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let experts = crate::programs::assigned_experts(&mut tx, id).await?;
        let scores = crate::reviews::expert_scores(&mut tx, id, &experts).await?;
        let criterion_means = crate::domain::review::criterion_means(&criteria, &scores);
        entries.push(pb::ProtocolEntry {
            criterion_means,
            program_id: id.to_string(),
            title,
            provider_name,
            direction,
            mean_score_percent: crate::domain::review::finite(mean),
            expert_include: inc,
            expert_exclude: exc,
            votes_for: vf,
            votes_against: va,
            votes_abstain: vab,
            decision: if included { "included" } else { "not_included" }.to_owned(),
        });
    }
    if !lacking.is_empty() {
        return Err(
            AppError::conflict(format!("{}: {}", msg::NO_QUORUM, lacking.join("; ")))
                .with("quorum", session.quorum.to_string()),
        );
    }
    let protocol = pb::Protocol {
        session_id: session.id.to_string(),
        campaign_id: campaign.id.to_string(),
        campaign_title: campaign.title.clone(),
        held_on: session.held_on.to_string(),
        members: session.member_ids.len() as i32,
        quorum: session.quorum,
        entries,
        status: "awaiting_approval".to_owned(),
        approved_at: String::new(),
        html: String::new(),
    };
    let json = serde_json::to_value(&protocol).map_err(|e| pd_bus::rpc::internal("protocol", e))?;
    sqlx::query("UPDATE council_sessions SET status = 'closed', protocol = $2 WHERE id = $1")
        .bind(session.id)
        .bind(sqlx::types::Json(json))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(with_html(protocol))
}

fn with_html(mut p: pb::Protocol) -> pb::Protocol {
    p.html = council::html(&p);
    p
}

fn stored_protocol(session: &SessionRow) -> Result<pb::Protocol, AppError> {
    let value = session
        .protocol
        .as_ref()
        .ok_or_else(|| AppError::conflict(msg::SESSION_OPEN))?;
    let mut p: pb::Protocol = serde_json::from_value(value.0.clone())
        .map_err(|e| pd_bus::rpc::internal("stored protocol", e))?;
    if let Some(at) = session.approved_at {
        p.status = "approved".into();
        p.approved_at = ts(at);
    }
    Ok(with_html(p))
}

pub(crate) async fn protocol(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::Protocol, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (session, campaign) = load(&mut conn, p, &req.id).await?;
    ensure(access::reads_all_programs(p, campaign.region_id))?;
    stored_protocol(&session)
}

/// Cancels an open session (e.g. it cannot reach a quorum): its programs
/// go back on the agenda of the next one.
pub(crate) async fn cancel(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, campaign) = load(&mut tx, p, &req.id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    if session.status != "open" {
        return Err(AppError::conflict(msg::SESSION_CLOSED));
    }
    let row: SessionRow = sqlx::query_as(
        "UPDATE council_sessions SET status = 'cancelled' WHERE id = $1 RETURNING *",
    )
    .bind(session.id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM council_votes WHERE session_id = $1")
        .bind(session.id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

/// The presidium approves the protocol: the recommended programs enter the
/// registry, which is published.
pub(crate) async fn approve(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::Protocol, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, campaign) = load(&mut tx, p, &req.id).await?;
    ensure(access::approves_protocol(p, campaign.region_id))?;
    match session.status.as_str() {
        "open" => return Err(AppError::conflict(msg::SESSION_OPEN)),
        "approved" => return Err(AppError::conflict(msg::ALREADY_APPROVED)),
        _ => {}
    }
    pd_calendar::ensure_open(
        &mut tx,
        campaign.id,
        &["expert_review", "schedule"],
        Utc::now(),
    )
    .await?;
    sqlx::query("UPDATE programs SET status = 'approved', updated_at = now() WHERE id = ANY($1) AND status = 'recommended'")
        .bind(&session.program_ids)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let session: SessionRow =
        sqlx::query_as("UPDATE council_sessions SET status = 'approved', approved_at = now() WHERE id = $1 RETURNING *")
            .bind(session.id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    let entries = catalog::entries_of_campaign(&mut tx, campaign.id).await?;
    let event = pb::RegistryPublished {
        campaign_id: campaign.id.to_string(),
        region_id: campaign.region_id.to_string(),
        entries,
    };
    state
        .outbox
        .write(
            &mut tx,
            "registry_published",
            &campaign.id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    let protocol = stored_protocol(&session)?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(campaign_id = %campaign.id, "registry published");
    Ok(protocol)
}
