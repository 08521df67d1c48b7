//! The expert council: sessions on every program that finished expert
//! review (the rejected ones with the experts' conclusions, which the
//! council may overturn by majority), votes, the numbered protocol, and the
//! presidium, which approves it (publishing the registry), returns it to
//! the council or excludes a program, with a reason.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::bounds::{LIST, TEXT, too_many};
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal, Role};
use pd_proto::registry::v1 as pb;
use prost::Message;
use sqlx::{FromRow, PgConnection};
use std::collections::HashMap;
use uuid::Uuid;

use crate::campaigns::{self, CampaignRow};
use crate::db::{body_id, db_error, ensure, limit, offset, path_id, ts};
use crate::domain::{access, council, review};
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
    chair_id: Option<Uuid>,
    secretary_id: Option<Uuid>,
    present_ids: Vec<Uuid>,
    protocol_number: Option<i32>,
    return_reason: String,
    returned_at: Option<chrono::DateTime<Utc>>,
}

fn opt(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

fn ids(v: &[Uuid]) -> Vec<String> {
    v.iter().map(Uuid::to_string).collect()
}

impl SessionRow {
    fn to_proto(&self) -> pb::CouncilSession {
        pb::CouncilSession {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            held_on: self.held_on.to_string(),
            member_ids: ids(&self.member_ids),
            program_ids: ids(&self.program_ids),
            status: self.status.clone(),
            quorum: self.quorum,
            chair_id: opt(self.chair_id),
            secretary_id: opt(self.secretary_id),
            present_member_ids: ids(&self.present_ids),
            protocol_number: self
                .protocol_number
                .map(|n| n.to_string())
                .unwrap_or_default(),
            return_reason: self.return_reason.clone(),
            returned_at: self.returned_at.map(ts).unwrap_or_default(),
            agenda: Vec::new(),
        }
    }
}

/// The session and its campaign, if the caller takes part in the review
/// (else 404), locked for the transaction: votes, closing and approval
/// serialize.
async fn load(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
) -> Result<(SessionRow, CampaignRow), AppError> {
    load_as(conn, p, id, true).await
}

/// [`load`], locking the row only when `lock` (a read, polled by every
/// member following the tally, must not queue behind the votes).
async fn load_as(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
    lock: bool,
) -> Result<(SessionRow, CampaignRow), AppError> {
    let id = path_id(id, msg::SESSION_NOT_FOUND)?;
    let sql = if lock {
        "SELECT * FROM council_sessions WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM council_sessions WHERE id = $1"
    };
    let row: SessionRow = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| AppError::not_found(msg::SESSION_NOT_FOUND))?;
    let campaign = campaigns::load(conn, row.campaign_id).await?;
    if !access::takes_part_in_review(p, campaign.region_id) {
        return Err(AppError::not_found(msg::SESSION_NOT_FOUND));
    }
    Ok((row, campaign))
}

/// Serializes protocol numbering and the registry's approval with other
/// changes of the campaign.
async fn lock_campaign(conn: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    sqlx::query("SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// An optional member of the session named in `field` (chair, secretary).
fn seated(field: &str, value: &str, members: &[Uuid]) -> Result<Option<Uuid>, AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let id = body_id(field, value)?;
    if !members.contains(&id) {
        return Err(AppError::invalid(field, msg::NOT_SEATED));
    }
    Ok(Some(id))
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
    let mut members: Vec<Uuid> = given.iter().map(|(_, m)| *m).collect();
    let chair = seated("chair_id", &req.chair_id, &members)?;
    let secretary = seated("secretary_id", &req.secretary_id, &members)?;
    pd_calendar::ensure_open(&mut tx, id, &["expert_review"], state.clock.now()).await?;
    // One session is formed at a time per campaign, so agendas never overlap.
    lock_campaign(&mut tx, id).await?;
    let on_council: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM known_grants WHERE user_id = ANY($1) AND role = 'council_member' AND scope_id = $2 AND active",
    )
    .bind(&members)
    .bind(campaign.region_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut v = Validator::new();
    for (i, m) in &given {
        if !on_council.contains(m) {
            v.add(format!("member_ids[{i}]"), msg::MEMBER_UNKNOWN);
        }
    }
    v.finish()?;
    members.sort();
    // The agenda: every program that finished expert review, passed or
    // rejected (the council considers the experts' conclusions), that no
    // session has taken.
    let agenda: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM programs p WHERE campaign_id = $1 AND status IN ('reviewed', 'expert_rejected')
           AND NOT EXISTS (SELECT 1 FROM council_sessions s WHERE p.id = ANY(s.program_ids) AND s.status <> 'cancelled')
         ORDER BY direction, title",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    if agenda.is_empty() {
        return Err(AppError::conflict(msg::NOTHING_CONSIDERED));
    }
    let quorum = council::quorum(members.len(), state.settings.council_quorum_fraction);
    let row: SessionRow = sqlx::query_as(
        "INSERT INTO council_sessions (id, campaign_id, held_on, member_ids, program_ids, quorum, chair_id, secretary_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(id)
    .bind(held_on)
    .bind(&members)
    .bind(&agenda)
    .bind(quorum)
    .bind(chair)
    .bind(secretary)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let out = row.to_proto();
    ctx.commit(tx, &out).await?;
    Ok(out)
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: pb::SessionActionRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let session = load_as(&mut conn, p, &req.id, false).await?.0;
    with_agenda(&mut conn, &session, p.user_id).await
}

#[derive(FromRow)]
struct AgendaRow {
    program_id: Uuid,
    title: String,
    provider_name: Option<String>,
    status: String,
    votes_for: i64,
    votes_against: i64,
    votes_abstain: i64,
    my_vote: Option<String>,
}

/// The session with its agenda and the votes cast so far: the council
/// follows the tally live while it votes; `me`'s own vote is marked.
async fn with_agenda(
    conn: &mut PgConnection,
    session: &SessionRow,
    me: Uuid,
) -> Result<pb::CouncilSession, AppError> {
    let rows: Vec<AgendaRow> = sqlx::query_as(
        "SELECT p.id AS program_id, p.title, kp.name AS provider_name, p.status,
                count(v.vote) FILTER (WHERE v.vote = 'for') AS votes_for,
                count(v.vote) FILTER (WHERE v.vote = 'against') AS votes_against,
                count(v.vote) FILTER (WHERE v.vote = 'abstain') AS votes_abstain,
                max(v.vote) FILTER (WHERE v.member_id = $2) AS my_vote
         FROM programs p
         LEFT JOIN known_providers kp ON kp.id = p.provider_id
         LEFT JOIN council_votes v ON v.program_id = p.id AND v.session_id = $1
         WHERE p.id = ANY($3)
         GROUP BY p.id, kp.name ORDER BY p.title, p.id",
    )
    .bind(session.id)
    .bind(me)
    .bind(&session.program_ids)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out = session.to_proto();
    out.agenda = rows
        .into_iter()
        .map(|r| pb::AgendaItem {
            program_id: r.program_id.to_string(),
            title: r.title,
            provider_name: r.provider_name.unwrap_or_default(),
            status: r.status,
            votes_for: r.votes_for as i32,
            votes_against: r.votes_against as i32,
            votes_abstain: r.votes_abstain as i32,
            my_vote: r.my_vote.unwrap_or_default(),
        })
        .collect();
    Ok(out)
}

#[derive(FromRow)]
struct ListedSession {
    #[sqlx(flatten)]
    session: SessionRow,
    total: i64,
}

/// The council sessions of a campaign, in the order they were formed.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListSessionsRequest,
) -> Result<pb::SessionList, AppError> {
    let p = ctx.principal()?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let campaign =
        campaigns::for_read(&mut conn, p, &req.campaign_id, access::takes_part_in_review).await?;
    let status = (!req.status.trim().is_empty()).then(|| req.status.trim().to_owned());
    if status
        .as_deref()
        .is_some_and(|s| !council::STATUSES.contains(&s))
    {
        return Err(AppError::invalid("status", msg::one_of(&council::STATUSES)));
    }
    let (limit, offset) = (limit(req.limit)?, offset(req.offset)?);
    let rows: Vec<ListedSession> = sqlx::query_as(
        "SELECT *, count(*) OVER () AS total FROM council_sessions
         WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at, id LIMIT $3 OFFSET $4",
    )
    .bind(campaign.id)
    .bind(&status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let total = match rows.first() {
        Some(r) => r.total,
        // Past the last page the window has no row to count on.
        None if offset > 0 => sqlx::query_scalar(
            "SELECT count(*) FROM council_sessions WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)",
        )
        .bind(campaign.id)
        .bind(&status)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?,
        None => 0,
    };
    Ok(pb::SessionList {
        items: rows.iter().map(|r| r.session.to_proto()).collect(),
        total,
    })
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
    // A protocol the ministry returned is reconsidered in the same phases
    // it may be closed in.
    pd_calendar::ensure_open(
        &mut tx,
        campaign.id,
        &["expert_review", "schedule"],
        state.clock.now(),
    )
    .await?;
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
    let out = with_agenda(&mut tx, &session, p.user_id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

/// A program on the agenda with its expert results.
#[derive(FromRow)]
struct Considered {
    id: Uuid,
    title: String,
    direction: String,
    provider_name: Option<String>,
    status: String,
    mean: f64,
    inc: i32,
    exc: i32,
}

/// Who sat, who presided and kept the minutes, who was present.
struct Attendance {
    chair: Uuid,
    secretary: Uuid,
    present: Vec<Uuid>,
}

/// The attendance of a session being closed: members present as given
/// (else those who voted), the chair and the secretary always among them.
fn attendance(
    session: &SessionRow,
    req: &pb::CloseSessionRequest,
    voters: &[Uuid],
) -> Result<Attendance, AppError> {
    let members = &session.member_ids;
    let chair = seated("chair_id", &req.chair_id, members)?.or(session.chair_id);
    let secretary = seated("secretary_id", &req.secretary_id, members)?.or(session.secretary_id);
    let mut v = Validator::new();
    if chair.is_none() {
        v.add("chair_id", msg::CHAIR_REQUIRED);
    }
    if secretary.is_none() {
        v.add("secretary_id", msg::SECRETARY_REQUIRED);
    }
    let mut present: Vec<Uuid> = Vec::new();
    if req.present_member_ids.is_empty() {
        present.extend(voters);
    } else if req.present_member_ids.len() > LIST {
        v.add("present_member_ids", too_many(LIST));
    } else {
        for (i, s) in req.present_member_ids.iter().enumerate() {
            let field = format!("present_member_ids[{i}]");
            match Uuid::parse_str(s.trim()) {
                Ok(m) if members.contains(&m) => present.push(m),
                Ok(_) => v.add(field, msg::NOT_SEATED),
                Err(_) => v.add(field, "ожидается идентификатор (UUID)"),
            }
        }
        if voters.iter().any(|m| !present.contains(m)) {
            v.add("present_member_ids", msg::VOTER_ABSENT);
        }
    }
    v.finish()?;
    let (Some(chair), Some(secretary)) = (chair, secretary) else {
        return Err(AppError::internal("chair checked above"));
    };
    present.extend([chair, secretary]);
    present.sort();
    present.dedup();
    Ok(Attendance {
        chair,
        secretary,
        present,
    })
}

/// Each expert's conclusion on the programs, and their scores by criterion.
type Conclusions = HashMap<Uuid, (Vec<pb::ExpertConclusion>, Vec<HashMap<String, i32>>)>;

async fn conclusions(conn: &mut PgConnection, programs: &[Uuid]) -> Result<Conclusions, AppError> {
    type Row = (
        Uuid,
        Uuid,
        String,
        f64,
        String,
        sqlx::types::Json<HashMap<String, i32>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT program_id, expert_id, conclusion, score_percent, comment, scores FROM reviews
         WHERE program_id = ANY($1) ORDER BY submitted_at, expert_id",
    )
    .bind(programs)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out = Conclusions::new();
    for (program, expert, conclusion, percent, comment, scores) in rows {
        let e = out.entry(program).or_default();
        e.0.push(pb::ExpertConclusion {
            expert_id: expert.to_string(),
            conclusion,
            score_percent: review::finite(percent),
            comment,
        });
        e.1.push(scores.0);
    }
    Ok(out)
}

/// Every program considered, decided by the votes cast (a tie is not a
/// majority), with the experts' conclusions and each member's vote;
/// refused while a program lacks a quorum.
async fn decide(
    conn: &mut PgConnection,
    session: &SessionRow,
    campaign: &CampaignRow,
    votes: &[(Uuid, Uuid, String)],
) -> Result<Vec<pb::ProtocolEntry>, AppError> {
    let programs: Vec<Considered> = sqlx::query_as(
        "SELECT g.id, g.title, g.direction, k.name AS provider_name, g.status, g.mean_score_percent AS mean,
                g.include_votes AS inc, g.exclude_votes AS exc
         FROM programs g LEFT JOIN known_providers k ON k.id = g.provider_id
         WHERE g.id = ANY($1) ORDER BY g.direction, g.title, g.id",
    )
    .bind(&session.program_ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut experts = conclusions(&mut *conn, &session.program_ids).await?;
    let criteria = campaigns::criteria(&mut *conn, campaign.id).await?;
    let mut entries = Vec::new();
    let mut lacking = Vec::new();
    for g in programs {
        let member_votes: Vec<pb::MemberVote> = votes
            .iter()
            .filter(|v| v.0 == g.id)
            .map(|v| pb::MemberVote {
                member_id: v.1.to_string(),
                vote: v.2.clone(),
            })
            .collect();
        let count = |kind: &str| member_votes.iter().filter(|v| v.vote == kind).count() as i32;
        let (vf, va, vab) = (count("for"), count("against"), count("abstain"));
        let Some(included) = council::decide(vf, va, vab, session.quorum) else {
            lacking.push(g.title);
            continue;
        };
        let passed = g.status == "reviewed";
        let (expert_conclusions, scores) = experts.remove(&g.id).unwrap_or_default();
        entries.push(pb::ProtocolEntry {
            criterion_means: review::criterion_means(&criteria, &scores),
            program_id: g.id.to_string(),
            title: g.title,
            provider_name: g.provider_name.unwrap_or_default(),
            direction: g.direction,
            mean_score_percent: review::finite(g.mean),
            expert_include: g.inc,
            expert_exclude: g.exc,
            votes_for: vf,
            votes_against: va,
            votes_abstain: vab,
            decision: if included { "included" } else { "not_included" }.to_owned(),
            expert_outcome: if passed { "passed" } else { "rejected" }.to_owned(),
            expert_conclusions,
            member_votes,
            overturned: included != passed,
            excluded: false,
            exclusion_reason: String::new(),
        });
    }
    if !lacking.is_empty() {
        return Err(
            AppError::conflict(format!("{}: {}", msg::NO_QUORUM, lacking.join("; ")))
                .with("quorum", session.quorum.to_string()),
        );
    }
    Ok(entries)
}

/// The next protocol number of the campaign: protocols are numbered in
/// the order they are closed; a returned protocol's number is not given
/// again.
async fn next_number(conn: &mut PgConnection, campaign: Uuid) -> Result<i32, AppError> {
    lock_campaign(conn, campaign).await?;
    sqlx::query_scalar(
        "SELECT GREATEST(
                (SELECT COALESCE(max(protocol_number), 0) FROM council_sessions WHERE campaign_id = $1),
                (SELECT COALESCE(max(NULLIF(r.protocol->>'number', '')::int), 0)
                 FROM council_protocol_returns r JOIN council_sessions s ON s.id = r.session_id
                 WHERE s.campaign_id = $1)) + 1",
    )
    .bind(campaign)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

/// Tallies the votes, decides every program considered and writes the
/// numbered protocol; refused while a program lacks a quorum.
pub(crate) async fn close(
    state: State,
    ctx: RpcContext,
    req: pb::CloseSessionRequest,
) -> Result<pb::Protocol, AppError> {
    let p = ctx.principal()?;
    // One instant decides the phase and dates the protocol.
    let now = state.clock.now();
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, campaign) = load(&mut tx, p, &req.id).await?;
    ensure(access::runs_review(p, campaign.region_id))?;
    if session.status != "open" {
        return Err(AppError::conflict(msg::SESSION_CLOSED));
    }
    pd_calendar::ensure_open(&mut tx, campaign.id, &["expert_review", "schedule"], now).await?;
    let votes: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT program_id, member_id, vote FROM council_votes WHERE session_id = $1 ORDER BY member_id",
    )
    .bind(session.id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut voters: Vec<Uuid> = votes.iter().map(|v| v.1).collect();
    voters.sort();
    voters.dedup();
    let who = attendance(&session, &req, &voters)?;
    let entries = decide(&mut tx, &session, &campaign, &votes).await?;
    let included_ids: Vec<Uuid> = entries
        .iter()
        .filter(|e| e.decision == "included")
        .filter_map(|e| Uuid::parse_str(&e.program_id).ok())
        .collect();
    sqlx::query(
        "UPDATE programs SET status = CASE WHEN id = ANY($2) THEN 'recommended' ELSE 'not_recommended' END,
                updated_at = now()
         WHERE id = ANY($1)",
    )
    .bind(&session.program_ids)
    .bind(&included_ids)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let number = next_number(&mut tx, campaign.id).await?;
    let dated = campaigns::today(&campaign, now);
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
        number: number.to_string(),
        dated: dated.to_string(),
        attendance: named(
            &mut tx,
            campaign.region_id,
            council::attendance(&session.member_ids, who.chair, who.secretary, &who.present),
        )
        .await?,
        chair_id: who.chair.to_string(),
        secretary_id: who.secretary.to_string(),
        criteria: campaigns::criteria(&mut tx, campaign.id).await?,
        present: who.present.len() as i32,
    };
    let json = serde_json::to_value(&protocol).map_err(|e| pd_bus::rpc::internal("protocol", e))?;
    sqlx::query(
        "UPDATE council_sessions SET status = 'closed', protocol = $2, chair_id = $3, secretary_id = $4,
                present_ids = $5, protocol_number = $6, protocol_date = $7
         WHERE id = $1",
    )
    .bind(session.id)
    .bind(sqlx::types::Json(json))
    .bind(who.chair)
    .bind(who.secretary)
    .bind(&who.present)
    .bind(number)
    .bind(dated)
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

async fn save_protocol(
    conn: &mut PgConnection,
    session: Uuid,
    protocol: &pb::Protocol,
) -> Result<(), AppError> {
    let mut stored = protocol.clone();
    stored.html.clear();
    let json = serde_json::to_value(&stored).map_err(|e| pd_bus::rpc::internal("protocol", e))?;
    sqlx::query("UPDATE council_sessions SET protocol = $2 WHERE id = $1")
        .bind(session)
        .bind(sqlx::types::Json(json))
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
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

/// A protocol awaiting the presidium, for the ministry's decision on it.
async fn awaiting_approval(
    conn: &mut PgConnection,
    p: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(SessionRow, CampaignRow), AppError> {
    let (session, campaign) = load(conn, p, id).await?;
    ensure(access::approves_protocol(p, campaign.region_id))?;
    match session.status.as_str() {
        "closed" => {}
        "open" => return Err(AppError::conflict(msg::SESSION_OPEN)),
        "approved" => return Err(AppError::conflict(msg::ALREADY_APPROVED)),
        _ => return Err(AppError::conflict(msg::NOT_AWAITING_APPROVAL)),
    }
    pd_calendar::ensure_open(conn, campaign.id, &["expert_review", "schedule"], now).await?;
    Ok((session, campaign))
}

/// A reason the ministry gives: required, bounded.
fn reason(text: &str) -> Result<&str, AppError> {
    let text = text.trim();
    let mut v = Validator::new();
    if text.is_empty() {
        v.add("reason", msg::REASON_REQUIRED);
    } else {
        v.max_len("reason", text, TEXT);
    }
    v.finish().map(|_| text)
}

/// The presidium returns the protocol to the council with a reason: the
/// session opens again (votes kept, members may change them), its programs
/// are back where the experts left them, the returned protocol is kept.
pub(crate) async fn return_protocol(
    state: State,
    ctx: RpcContext,
    req: pb::ReturnProtocolRequest,
) -> Result<pb::CouncilSession, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, _) = awaiting_approval(&mut tx, p, &req.id, state.clock.now()).await?;
    let reason = reason(&req.reason)?;
    let protocol = stored_protocol(&session)?;
    let (passed, rejected): (Vec<_>, Vec<_>) = protocol
        .entries
        .iter()
        .partition(|e| e.expert_outcome != "rejected");
    let ids = |v: Vec<&pb::ProtocolEntry>| -> Vec<Uuid> {
        v.iter()
            .filter_map(|e| Uuid::parse_str(&e.program_id).ok())
            .collect()
    };
    sqlx::query(
        "UPDATE programs SET status = CASE WHEN id = ANY($1) THEN 'reviewed' ELSE 'expert_rejected' END,
                updated_at = now()
         WHERE id = ANY($1) OR id = ANY($2)",
    )
    .bind(ids(passed))
    .bind(ids(rejected))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO council_protocol_returns (session_id, protocol, reason, returned_by)
         SELECT id, protocol, $2, $3 FROM council_sessions WHERE id = $1",
    )
    .bind(session.id)
    .bind(reason)
    .bind(ctx.actor())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let row: SessionRow = sqlx::query_as(
        "UPDATE council_sessions SET status = 'open', protocol = NULL, protocol_number = NULL, protocol_date = NULL,
                present_ids = '{}', return_reason = $2, returned_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(session.id)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto())
}

/// The presidium excludes a program the council included, with a reason:
/// it stays out of the registry when the protocol is approved.
pub(crate) async fn exclude(
    state: State,
    ctx: RpcContext,
    req: pb::ExcludeProgramRequest,
) -> Result<pb::Protocol, AppError> {
    let p = ctx.principal()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let (session, _) = awaiting_approval(&mut tx, p, &req.session_id, state.clock.now()).await?;
    let program = body_id("program_id", &req.program_id)?;
    let reason = reason(&req.reason)?;
    let mut protocol = stored_protocol(&session)?;
    let entry = protocol
        .entries
        .iter_mut()
        .find(|e| e.program_id == program.to_string())
        .ok_or_else(|| AppError::invalid("program_id", msg::NOT_ON_PROTOCOL))?;
    if entry.excluded {
        return Err(AppError::conflict(msg::ALREADY_EXCLUDED));
    }
    if entry.decision != "included" {
        return Err(AppError::conflict(msg::NOT_INCLUDED).with("decision", entry.decision.clone()));
    }
    entry.excluded = true;
    entry.exclusion_reason = reason.to_owned();
    sqlx::query("UPDATE programs SET status = 'excluded', updated_at = now() WHERE id = $1")
        .bind(program)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    save_protocol(&mut tx, session.id, &protocol).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(with_html(protocol))
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
    let (session, campaign) = awaiting_approval(&mut tx, p, &req.id, state.clock.now()).await?;
    lock_campaign(&mut tx, campaign.id).await?;
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
    publish_registry(&state, &mut tx, &campaign, entries, &ctx.actor()).await?;
    let protocol = stored_protocol(&session)?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(campaign_id = %campaign.id, "registry published");
    Ok(protocol)
}

/// One `registry_entry_published` per program, then `registry_published`
/// with the count: each event stays small however large the registry.
async fn publish_registry(
    state: &State,
    tx: &mut PgConnection,
    campaign: &CampaignRow,
    entries: Vec<pb::CatalogEntry>,
    actor: &str,
) -> Result<(), AppError> {
    let campaign_id = campaign.id.to_string();
    let region_id = campaign.region_id.to_string();
    let entry_count = i32::try_from(entries.len()).unwrap_or(i32::MAX);
    let events = entries
        .into_iter()
        .map(|entry| PendingEvent {
            event_type: "registry_entry_published",
            aggregate_id: entry.program_id.clone(),
            payload: pb::RegistryEntryPublished {
                campaign_id: campaign_id.clone(),
                region_id: region_id.clone(),
                entry: Some(entry),
            }
            .encode_to_vec(),
        })
        .collect();
    state
        .outbox
        .write_many(tx, actor, events)
        .await
        .map_err(db_error)?;
    let event = pb::RegistryPublished {
        campaign_id: campaign_id.clone(),
        region_id,
        entry_count,
    };
    state
        .outbox
        .write(tx, "registry_published", &campaign_id, actor, &event)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The members' names as identity announced them (display name, else
/// login), for the protocol a person reads.
async fn named(
    conn: &mut PgConnection,
    region: Uuid,
    mut seats: Vec<pb::ProtocolMember>,
) -> Result<Vec<pb::ProtocolMember>, AppError> {
    let ids: Vec<Uuid> = seats
        .iter()
        .filter_map(|m| m.user_id.parse().ok())
        .collect();
    let names: HashMap<Uuid, String> = sqlx::query_as::<_, (Uuid, String)>(
        "SELECT user_id, COALESCE(NULLIF(display_name, ''), login) FROM known_grants
         WHERE user_id = ANY($1) AND role = 'council_member' AND scope_id = $2",
    )
    .bind(&ids)
    .bind(region)
    .fetch_all(conn)
    .await
    .map_err(db_error)?
    .into_iter()
    .collect();
    for m in &mut seats {
        if let Some(name) = m.user_id.parse().ok().and_then(|id: Uuid| names.get(&id)) {
            m.name = name.clone();
        }
    }
    Ok(seats)
}
