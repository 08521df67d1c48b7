//! Completions pushed by providers (stage 10). A batch names one group;
//! every learner must be on the group's fixed roster, and the batch is
//! accepted or refused as a whole. Each new completed learner gets a PD
//! record and a post-course window; the same completion sent again
//! records nothing (`unchanged`).

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal};
use pd_proto::monitoring::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::db::{self, db_error, ensure, path_id, ts};
use crate::domain::access;
use crate::domain::completions::{self as rules, Credit, Learner};
use crate::messages as msg;
use crate::{State, educator_name, records, windows};

/// What a completion needs of its group.
#[derive(sqlx::FromRow, Clone)]
pub(crate) struct Group {
    pub id: Uuid,
    pub program_id: Uuid,
    pub region_id: Uuid,
    pub provider_id: Uuid,
    pub provider_name: String,
    pub program_title: String,
    pub direction: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: String,
}

async fn groups(conn: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Group>, AppError> {
    let rows: Vec<Group> = sqlx::query_as(
        "SELECT id, program_id, region_id, provider_id, provider_name, program_title, direction,
                starts_on, ends_on, status
         FROM known_groups WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows.into_iter().map(|g| (g.id, g)).collect())
}

/// Issue dates may be "today" anywhere in Russia (up to UTC+12).
fn latest_issue_date(now: DateTime<Utc>) -> NaiveDate {
    pd_domain::dates::latest_today(now)
}

pub(crate) async fn push(
    s: State,
    ctx: RpcContext,
    req: pb::CompletionBatch,
) -> Result<pb::CompletionBatchResult, AppError> {
    let p = ctx.principal()?.clone();
    let provider = path_id(&req.provider_id, msg::PROVIDER_NOT_FOUND)?;
    ensure(access::is_provider(&p, provider))?;
    let batch_group = if req.group_id.is_empty() {
        None
    } else {
        Some(
            path_id(&req.group_id, msg::GROUP_NOT_FOUND)
                .map_err(|_| AppError::invalid("group_id", msg::GROUP_NOT_FOUND))?,
        )
    };
    let now = s.clock.now();
    let learners =
        rules::parse_batch(batch_group, &req.learners, latest_issue_date(now)).map_err(refused)?;
    let mut ids: Vec<Uuid> = learners.iter().map(|l| l.group).collect();
    ids.sort();
    ids.dedup();
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let groups = groups(&mut tx, &ids).await?;
    known_groups(&learners, &groups, batch_group)?;
    if groups.values().any(|g| g.provider_id != provider) {
        return Err(AppError::forbidden(msg::OTHER_PROVIDER));
    }
    if let Some(g) = groups.values().find(|g| g.status == "cancelled") {
        return Err(AppError::conflict(format!(
            "{}: {}",
            msg::GROUP_CANCELLED,
            g.id
        )));
    }
    // One batch of a group at a time (locks taken in id order, so two
    // batches never wait on each other): two pushes of the same learner
    // cannot both find them new.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('completions:' || g::text)) FROM unnest($1::uuid[]) AS g")
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let roster = roster(&mut tx, &ids).await?;
    let known = existing(&mut tx, provider, &ids).await?;
    let plan = plan(&learners, &roster, &known)?;
    let mut out = pb::CompletionBatchResult {
        provider_id: provider.to_string(),
        group_id: batch_group.map(|g| g.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let mut events = Vec::new();
    for (l, previous) in learners.iter().zip(plan) {
        let (outcome, id, closes) = match previous {
            Some((id, closes)) => {
                out.unchanged += 1;
                ("unchanged", id, closes)
            }
            None => {
                out.recorded += 1;
                let g = groups
                    .get(&l.group)
                    .ok_or_else(|| AppError::internal("group vanished"))?;
                let (id, closes) = record(&s, &mut tx, g, l, now, &mut events).await?;
                ("recorded", id, closes)
            }
        };
        out.learners.push(pb::LearnerOutcome {
            educator_id: l.educator.to_string(),
            group_id: l.group.to_string(),
            outcome: outcome.into(),
            completion_id: id.to_string(),
            window_closes_at: closes.map(ts).unwrap_or_default(),
        });
    }
    s.outbox
        .write_many(&mut tx, &ctx.actor(), events)
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

/// A refused batch says so before its learners' errors.
fn refused(mut e: AppError) -> AppError {
    if !e.fields.is_empty() {
        e.detail = format!("{}: {}", msg::BATCH_REFUSED, e.detail);
    }
    e
}

/// Every learner's group is one the service knows (422 naming the learner).
fn known_groups(
    learners: &[Learner],
    groups: &HashMap<Uuid, Group>,
    batch_group: Option<Uuid>,
) -> Result<(), AppError> {
    if let Some(g) = batch_group
        && !groups.contains_key(&g)
        && learners.iter().all(|l| l.group == g)
    {
        return Err(AppError::invalid("group_id", msg::GROUP_NOT_FOUND));
    }
    let mut v = Validator::new();
    for (i, l) in learners.iter().enumerate() {
        if !groups.contains_key(&l.group) {
            v.add(format!("learners[{i}].group_id"), msg::GROUP_NOT_FOUND);
        }
    }
    v.finish().map_err(refused)
}

/// The groups' fixed rosters: (group, educator) → route modules. 409
/// before a roster is fixed or once its group was merged away or cancelled.
async fn roster(
    conn: &mut PgConnection,
    groups: &[Uuid],
) -> Result<HashMap<(Uuid, Uuid), Vec<String>>, AppError> {
    let status: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT group_id, roster FROM rosters WHERE group_id = ANY($1)")
            .bind(groups)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    let status: HashMap<Uuid, String> = status.into_iter().collect();
    for g in groups {
        match status.get(g).map(String::as_str) {
            None | Some("open") => {
                return Err(AppError::conflict(format!(
                    "{}: {g}",
                    msg::ROSTER_NOT_FIXED
                )));
            }
            Some("merged") | Some("cancelled") => {
                return Err(AppError::conflict(format!("{}: {g}", msg::ROSTER_ENDED)));
            }
            _ => {}
        }
    }
    let rows: Vec<(Uuid, Uuid, Vec<String>)> = sqlx::query_as(
        "SELECT group_id, educator_id, modules FROM roster_members WHERE group_id = ANY($1)",
    )
    .bind(groups)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows.into_iter().map(|(g, e, m)| ((g, e), m)).collect())
}

/// What a completion was recorded as, to tell a repeat from a change.
#[derive(sqlx::FromRow)]
struct Known {
    id: Uuid,
    group_id: Uuid,
    educator_id: Uuid,
    document_number: String,
    status: String,
    reason: String,
    document_type: String,
    document_series: String,
    issued_on: Option<NaiveDate>,
    registration_number: String,
    hours: i32,
    modules: serde_json::Value,
    closes_at: Option<DateTime<Utc>>,
}

impl Known {
    fn same_as(&self, l: &Learner) -> bool {
        let modules: Vec<Credit> = serde_json::from_value(self.modules.clone()).unwrap_or_default();
        self.status
            == if l.completed {
                "completed"
            } else {
                "not_completed"
            }
            && self.reason == l.reason
            && self.document_type == l.document_type
            && self.document_series == l.document_series
            && self.issued_on == l.issued_on
            && self.registration_number == l.registration_number
            && self.hours == l.hours
            && modules == l.modules
    }
}

async fn existing(
    conn: &mut PgConnection,
    provider: Uuid,
    groups: &[Uuid],
) -> Result<HashMap<(Uuid, Uuid, String), Known>, AppError> {
    let rows: Vec<Known> = sqlx::query_as(
        "SELECT c.id, c.group_id, c.educator_id, c.document_number, c.status, c.reason, c.document_type,
                c.document_series, c.issued_on, c.registration_number, c.hours, c.modules, w.closes_at
         FROM completions c LEFT JOIN post_course_windows w ON w.completion_id = c.id
         WHERE c.provider_id = $1 AND c.group_id = ANY($2)",
    )
    .bind(provider)
    .bind(groups)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|k| ((k.group_id, k.educator_id, k.document_number.clone()), k))
        .collect())
}

type Previous = Option<(Uuid, Option<DateTime<Utc>>)>;

/// Per learner: the completion already recorded (sent again), or `None`
/// to record. Refuses the whole batch, naming each learner, when one is
/// not on the roster or re-sends a document with other data.
fn plan(
    learners: &[Learner],
    roster: &HashMap<(Uuid, Uuid), Vec<String>>,
    known: &HashMap<(Uuid, Uuid, String), Known>,
) -> Result<Vec<Previous>, AppError> {
    let mut v = Validator::new();
    let mut out = Vec::with_capacity(learners.len());
    for (i, l) in learners.iter().enumerate() {
        if !roster.contains_key(&(l.group, l.educator)) {
            v.add(format!("learners[{i}].educator_id"), msg::NOT_ON_ROSTER);
        }
        // "Not completed" after a completion would contradict the document
        // already issued; the other way round, a completion supersedes it.
        let completed_before = known.values().any(|k| {
            k.group_id == l.group && k.educator_id == l.educator && k.status == "completed"
        });
        if !l.completed && completed_before {
            v.add(format!("learners[{i}].status"), msg::ALREADY_COMPLETED);
        }
        match known.get(&(l.group, l.educator, l.document_number.clone())) {
            Some(k) if k.same_as(l) => out.push(Some((k.id, k.closes_at))),
            Some(_) => {
                v.add(
                    format!("learners[{i}].document_number"),
                    msg::DOCUMENT_CHANGED,
                );
                out.push(None);
            }
            None => out.push(None),
        }
    }
    v.finish().map_err(refused)?;
    Ok(out)
}

/// Writes one new completion, and for a completed learner their PD record
/// and post-course window. Returns the completion and when its window closes.
async fn record(
    s: &State,
    tx: &mut PgConnection,
    g: &Group,
    l: &Learner,
    now: DateTime<Utc>,
    events: &mut Vec<PendingEvent>,
) -> Result<(Uuid, Option<DateTime<Utc>>), AppError> {
    if l.completed {
        // A completion supersedes the learner's earlier "not completed"
        // (which has no window, record or document).
        sqlx::query(
            "DELETE FROM completions WHERE group_id = $1 AND educator_id = $2 AND status = 'not_completed'",
        )
        .bind(g.id)
        .bind(l.educator)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO completions (id, provider_id, group_id, educator_id, region_id, program_id, status,
                                  reason, document_type, document_series, document_number, issued_on,
                                  registration_number, hours, modules, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(id)
    .bind(g.provider_id)
    .bind(g.id)
    .bind(l.educator)
    .bind(g.region_id)
    .bind(g.program_id)
    .bind(if l.completed { "completed" } else { "not_completed" })
    .bind(&l.reason)
    .bind(&l.document_type)
    .bind(&l.document_series)
    .bind(&l.document_number)
    .bind(l.issued_on)
    .bind(&l.registration_number)
    .bind(l.hours)
    .bind(serde_json::to_value(&l.modules).map_err(|e| pd_bus::rpc::internal("modules", e))?)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let completion = load(tx, id).await?;
    events.push(pending(
        "completion_recorded",
        id,
        &pb::CompletionRecorded {
            completion: Some(completion),
        },
    ));
    if !l.completed {
        return Ok((id, None));
    }
    let record = records::from_completion(tx, g, l, id, now).await?;
    events.push(pending("pd_record_changed", record.0, &record.1));
    let opened = windows::open(s, tx, g, l.educator, id, now).await?;
    let closes = opened.closes_at.clone();
    events.push(pending("post_course_window_opened", id, &opened));
    let closes = DateTime::parse_from_rfc3339(&closes)
        .map(|t| t.with_timezone(&Utc))
        .ok();
    Ok((id, closes))
}

pub(crate) fn pending(
    event_type: &'static str,
    aggregate: Uuid,
    payload: &impl Message,
) -> PendingEvent {
    PendingEvent {
        event_type,
        aggregate_id: aggregate.to_string(),
        payload: payload.encode_to_vec(),
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    provider_id: Uuid,
    provider_name: String,
    group_id: Uuid,
    program_id: Uuid,
    program_title: String,
    educator_id: Uuid,
    educator_name: String,
    organization_id: Option<Uuid>,
    municipality_id: Option<Uuid>,
    region_id: Uuid,
    status: String,
    reason: String,
    document_type: String,
    document_series: String,
    document_number: String,
    issued_on: Option<NaiveDate>,
    registration_number: String,
    hours: i32,
    modules: serde_json::Value,
    received_at: DateTime<Utc>,
}

impl From<Row> for pb::Completion {
    fn from(r: Row) -> Self {
        let modules: Vec<Credit> = serde_json::from_value(r.modules).unwrap_or_default();
        pb::Completion {
            id: r.id.to_string(),
            provider_id: r.provider_id.to_string(),
            provider_name: r.provider_name,
            group_id: r.group_id.to_string(),
            program_id: r.program_id.to_string(),
            program_title: r.program_title,
            educator_id: r.educator_id.to_string(),
            educator_name: r.educator_name,
            organization_id: r.organization_id.map(|x| x.to_string()).unwrap_or_default(),
            municipality_id: r.municipality_id.map(|x| x.to_string()).unwrap_or_default(),
            region_id: r.region_id.to_string(),
            status: r.status,
            reason: r.reason,
            document_type: r.document_type,
            document_series: r.document_series,
            document_number: r.document_number,
            issued_on: db::date(r.issued_on),
            registration_number: r.registration_number,
            hours: r.hours,
            modules: modules.into_iter().map(credit_to_proto).collect(),
            received_at: ts(r.received_at),
        }
    }
}

pub(crate) fn credit_to_proto(c: Credit) -> pb::ModuleCredit {
    pb::ModuleCredit {
        name: c.name,
        hours: c.hours,
        credited_on: c.credited_on.format("%Y-%m-%d").to_string(),
    }
}

const SELECT: &str = concat!(
    "SELECT c.id, c.provider_id, coalesce(g.provider_name, '') AS provider_name, c.group_id, c.program_id,
            coalesce(g.program_title, '') AS program_title, c.educator_id, ",
    educator_name!(),
    " AS educator_name, e.organization_id, e.municipality_id, c.region_id, c.status, c.reason,
            c.document_type, c.document_series, c.document_number, c.issued_on, c.registration_number,
            c.hours, c.modules, c.received_at
     FROM completions c
     LEFT JOIN known_groups g ON g.id = c.group_id
     LEFT JOIN known_educators e ON e.id = c.educator_id"
);

pub(crate) async fn load(conn: &mut PgConnection, id: Uuid) -> Result<pb::Completion, AppError> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    Ok(row.into())
}

/// A provider sees its own completions; operators those of their scope
/// (seed 002: the regional operator sees who did not complete).
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListCompletionsRequest,
) -> Result<pb::CompletionList, AppError> {
    let p = ctx.principal()?;
    let limit = db::limit(req.limit)?;
    let offset = db::offset(req.offset)?;
    if !["", "completed", "not_completed"].contains(&req.status.as_str()) {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let filter = filter(&mut conn, p, &req).await?;
    let group = db::optional_id("group_id", &req.group_id)?;
    let sql = format!(
        "{SELECT} WHERE ($1::uuid IS NULL OR c.region_id = $1) AND ($2::uuid IS NULL OR c.provider_id = $2)
           AND ($3::uuid IS NULL OR e.organization_id = $3) AND ($4::uuid IS NULL OR e.municipality_id = $4)
           AND ($5 = '' OR c.status = $5) AND ($6::uuid IS NULL OR c.group_id = $6)
         ORDER BY c.received_at DESC, c.id LIMIT $7 OFFSET $8"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(filter.region)
        .bind(filter.provider)
        .bind(filter.scope.organization)
        .bind(filter.scope.municipality)
        .bind(&req.status)
        .bind(group)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM completions c LEFT JOIN known_educators e ON e.id = c.educator_id
         WHERE ($1::uuid IS NULL OR c.region_id = $1) AND ($2::uuid IS NULL OR c.provider_id = $2)
           AND ($3::uuid IS NULL OR e.organization_id = $3) AND ($4::uuid IS NULL OR e.municipality_id = $4)
           AND ($5 = '' OR c.status = $5) AND ($6::uuid IS NULL OR c.group_id = $6)",
    )
    .bind(filter.region)
    .bind(filter.provider)
    .bind(filter.scope.organization)
    .bind(filter.scope.municipality)
    .bind(&req.status)
    .bind(group)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::CompletionList {
        items: rows.into_iter().map(Into::into).collect(),
        total,
    })
}

struct Filter {
    region: Option<Uuid>,
    provider: Option<Uuid>,
    scope: pd_units::Scope,
}

/// A provider's own list, or an operator's scope in a region.
async fn filter(
    conn: &mut PgConnection,
    p: &Principal,
    req: &pb::ListCompletionsRequest,
) -> Result<Filter, AppError> {
    let provider = db::optional_id("provider_id", &req.provider_id)?;
    if let Some(pr) = provider.filter(|pr| access::is_provider(p, *pr)) {
        return Ok(Filter {
            region: None,
            provider: Some(pr),
            scope: Default::default(),
        });
    }
    let region = pd_domain::request::body_id("region_id", &req.region_id)?;
    ensure(p.in_region(region))?;
    let scope = pd_units::scope(
        conn,
        p,
        region,
        &req.organization_id,
        &req.municipality_id,
        access::manages_region,
    )
    .await?;
    Ok(Filter {
        region: Some(region),
        provider,
        scope,
    })
}
