//! PD history (stage 12): every completion is a verified, funded record;
//! educators and municipal operators declare PD taken elsewhere, with its
//! document, which the operators over the educator verify or reject.
//! `pd_record_changed` feeds allocation's eligibility (the last PD).

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_domain::bounds::{CODE, TITLE};
use pd_domain::error::Validator;
use pd_proto::monitoring::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::completions::Group;
use crate::db::{self, db_error, ensure, path_id, ts};
use crate::domain::access;
use crate::domain::completions::{Learner, MAX_HOURS, document_type_name};
use crate::messages as msg;
use crate::{State, educator_name};

/// The record of a completed learner (in the completion's transaction).
pub(crate) async fn from_completion(
    tx: &mut PgConnection,
    g: &Group,
    l: &Learner,
    completion: Uuid,
    now: DateTime<Utc>,
) -> Result<(Uuid, pb::PdRecordChanged), AppError> {
    let unit = db::educator(tx, l.educator).await?.map(|e| e.unit);
    let ended = l.issued_on.unwrap_or(g.ends_on);
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO pd_records (id, educator_id, region_id, organization_id, municipality_id, started_on,
                                 ended_on, document_type, document_series, document_number, program_title,
                                 topic, hours, provider_name, funded, source, status, completion_id,
                                 created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, true, 'completion', 'verified',
                 $15, 'provider', $16)",
    )
    .bind(id)
    .bind(l.educator)
    .bind(g.region_id)
    .bind(unit.map(|u| u.organization).unwrap_or_default())
    .bind(unit.map(|u| u.municipality).unwrap_or_default())
    .bind(g.starts_on.min(ended))
    .bind(ended)
    .bind(&l.document_type)
    .bind(&l.document_series)
    .bind(&l.document_number)
    .bind(&g.program_title)
    .bind(&g.direction)
    .bind(l.hours)
    .bind(&g.provider_name)
    .bind(completion)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok((
        id,
        pb::PdRecordChanged {
            record_id: id.to_string(),
            educator_id: l.educator.to_string(),
            region_id: g.region_id.to_string(),
            ended_on: ended.format("%Y-%m-%d").to_string(),
            counts: true,
        },
    ))
}

fn date(v: &mut Validator, field: &str, raw: &str) -> Option<NaiveDate> {
    if raw.trim().is_empty() {
        v.add(field, msg::REQUIRED);
        return None;
    }
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
    if d.is_none() {
        v.add(field, msg::DATE);
    }
    d
}

struct Declared {
    started_on: NaiveDate,
    ended_on: NaiveDate,
    document_type: String,
    program_title: String,
    provider_name: String,
}

fn parse(req: &pb::DeclareRecordRequest, today: NaiveDate) -> Result<Declared, AppError> {
    let mut v = Validator::new();
    let started = date(&mut v, "started_on", &req.started_on);
    let ended = date(&mut v, "ended_on", &req.ended_on);
    if let (Some(s), Some(e)) = (started, ended) {
        if e < s {
            v.add("ended_on", msg::RECORD_DATES);
        } else if e > today {
            v.add("ended_on", msg::RECORD_IN_FUTURE);
        }
    }
    // Non-funded PD may come with any ДПО document; the type is free text
    // when it is not one of the known codes.
    let document_type = v.require("document_type", &req.document_type);
    v.max_len("document_type", &req.document_type, CODE);
    v.require("document_number", &req.document_number);
    v.max_len("document_number", &req.document_number, CODE);
    v.max_len("document_series", &req.document_series, CODE);
    let title = v.require("program_title", &req.program_title);
    v.max_len("program_title", &req.program_title, TITLE);
    v.max_len("topic", &req.topic, TITLE);
    let provider = v.require("provider_name", &req.provider_name);
    v.max_len("provider_name", &req.provider_name, TITLE);
    v.in_range("hours", req.hours.into(), 1, MAX_HOURS.into());
    v.finish()?;
    match (started, ended, document_type, title, provider) {
        (Some(s), Some(e), Some(d), Some(t), Some(p)) => Ok(Declared {
            started_on: s,
            ended_on: e,
            document_type: d,
            program_title: t,
            provider_name: p,
        }),
        _ => Err(AppError::internal("validation")),
    }
}

/// A non-funded PD declared by the educator, or on their behalf by an
/// operator who may (municipal, regional): pending until verified.
pub(crate) async fn declare(
    s: State,
    ctx: RpcContext,
    req: pb::DeclareRecordRequest,
) -> Result<pb::PdRecord, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let educator = if req.educator_id.is_empty() {
        access::educator_id(p).ok_or_else(|| AppError::invalid("educator_id", msg::REQUIRED))?
    } else {
        path_id(&req.educator_id, msg::EDUCATOR_NOT_FOUND)
            .map_err(|_| AppError::invalid("educator_id", msg::EDUCATOR_NOT_FOUND))?
    };
    let Some(e) = db::educator(&mut tx, educator).await? else {
        return Err(AppError::invalid("educator_id", msg::EDUCATOR_NOT_FOUND));
    };
    let own = access::educator_id(p) == Some(educator);
    if !own && !access::oversees(p, &e.unit) {
        return Err(AppError::invalid("educator_id", msg::EDUCATOR_NOT_FOUND));
    }
    ensure(own || access::declares_for(p, &e.unit))?;
    let d = parse(&req, pd_domain::dates::latest_today(s.clock.now()))?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO pd_records (id, educator_id, region_id, organization_id, municipality_id, started_on,
                                 ended_on, document_type, document_series, document_number, program_title,
                                 topic, hours, provider_name, funded, source, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, false, 'declared', 'pending',
                 $15, $16)",
    )
    .bind(id)
    .bind(educator)
    .bind(e.unit.region)
    .bind(e.unit.organization)
    .bind(e.unit.municipality)
    .bind(d.started_on)
    .bind(d.ended_on)
    .bind(&d.document_type)
    .bind(req.document_series.trim())
    .bind(req.document_number.trim())
    .bind(&d.program_title)
    .bind(req.topic.trim())
    .bind(req.hours)
    .bind(&d.provider_name)
    .bind(p.user_id.to_string())
    .bind(s.clock.now())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let out = load(&mut tx, id).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

/// An operator over the educator verifies (the record counts from now on)
/// or rejects (with the reason) a declared record.
pub(crate) async fn decide(
    s: State,
    ctx: RpcContext,
    req: pb::DecideRecordRequest,
) -> Result<pb::PdRecord, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::RECORD_NOT_FOUND)?;
    let verify = match req.decision.as_str() {
        "verify" => true,
        "reject" => false,
        _ => return Err(AppError::invalid("decision", msg::DECISION)),
    };
    let reason = req.reason.trim();
    if !verify && reason.is_empty() {
        return Err(AppError::invalid("reason", msg::REJECT_REASON));
    }
    if reason.chars().count() > pd_domain::bounds::TEXT {
        return Err(AppError::invalid(
            "reason",
            pd_domain::bounds::too_long(pd_domain::bounds::TEXT),
        ));
    }
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let row: Option<(Uuid, Uuid, Uuid, String, String)> = sqlx::query_as(
        "SELECT region_id, municipality_id, organization_id, status, created_by FROM pd_records WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some((region, municipality, organization, status, declared_by)) = row else {
        return Err(AppError::not_found(msg::RECORD_NOT_FOUND));
    };
    let unit = access::Unit {
        region,
        municipality,
        organization,
    };
    if !access::oversees(p, &unit) {
        return Err(AppError::not_found(msg::RECORD_NOT_FOUND));
    }
    ensure(access::verifies_records(p, &unit))?;
    // Another pair of eyes: an operator who declared a record (for an
    // educator) does not verify it too; withdrawing it by a rejection stays
    // theirs.
    if verify && declared_by == p.user_id.to_string() {
        return Err(AppError::forbidden(msg::OWN_DECLARATION));
    }
    if status != "pending" {
        return Err(AppError::conflict(msg::RECORD_DECIDED));
    }
    sqlx::query(
        "UPDATE pd_records SET status = $2, reject_reason = $3, decided_by = $4, decided_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(if verify { "verified" } else { "rejected" })
    .bind(if verify { "" } else { reason })
    .bind(p.user_id)
    .bind(s.clock.now())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let out = load(&mut tx, id).await?;
    let event = pb::PdRecordChanged {
        record_id: out.id.clone(),
        educator_id: out.educator_id.clone(),
        region_id: out.region_id.clone(),
        ended_on: out.ended_on.clone(),
        counts: verify,
    };
    s.outbox
        .write(&mut tx, "pd_record_changed", &out.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    educator_id: Uuid,
    educator_name: String,
    region_id: Uuid,
    organization_id: Uuid,
    municipality_id: Uuid,
    started_on: NaiveDate,
    ended_on: NaiveDate,
    document_type: String,
    document_series: String,
    document_number: String,
    program_title: String,
    topic: String,
    hours: i32,
    provider_name: String,
    funded: bool,
    source: String,
    status: String,
    reject_reason: String,
    completion_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<Row> for pb::PdRecord {
    fn from(r: Row) -> Self {
        // Known codes read as their names; free text as typed.
        let document_type = match document_type_name(&r.document_type) {
            "" => r.document_type,
            name => name.to_owned(),
        };
        pb::PdRecord {
            id: r.id.to_string(),
            educator_id: r.educator_id.to_string(),
            educator_name: r.educator_name,
            region_id: r.region_id.to_string(),
            organization_id: r.organization_id.to_string(),
            municipality_id: r.municipality_id.to_string(),
            started_on: db::date(Some(r.started_on)),
            ended_on: db::date(Some(r.ended_on)),
            document_type,
            document_series: r.document_series,
            document_number: r.document_number,
            program_title: r.program_title,
            topic: r.topic,
            hours: r.hours,
            provider_name: r.provider_name,
            funded: r.funded,
            source: r.source,
            status: r.status,
            reject_reason: r.reject_reason,
            completion_id: r.completion_id.map(|c| c.to_string()).unwrap_or_default(),
            created_at: ts(r.created_at),
        }
    }
}

const SELECT: &str = concat!(
    "SELECT r.id, r.educator_id, ",
    educator_name!(),
    " AS educator_name, r.region_id, r.organization_id, r.municipality_id, r.started_on, r.ended_on,
            r.document_type, r.document_series, r.document_number, r.program_title, r.topic, r.hours,
            r.provider_name, r.funded, r.source, r.status, r.reject_reason, r.completion_id, r.created_at
     FROM pd_records r LEFT JOIN known_educators e ON e.id = r.educator_id"
);

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<pb::PdRecord, AppError> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    Ok(row.into())
}

/// An educator's history (their own, or one of an operator's scope), or
/// the records of an operator's scope in a region (`status=pending`: what
/// waits for verification).
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListRecordsRequest,
) -> Result<pb::PdRecordList, AppError> {
    let p = ctx.principal()?;
    let limit = db::limit(req.limit)?;
    let offset = db::offset(req.offset)?;
    if !["", "verified", "pending", "rejected"].contains(&req.status.as_str()) {
        return Err(AppError::invalid("status", msg::RECORD_STATUS));
    }
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let educator = db::optional_id("educator_id", &req.educator_id)?;
    let (region, educator, scope) = match (educator, req.region_id.is_empty()) {
        (None, true) => {
            let me = access::educator_id(p)
                .ok_or_else(|| AppError::invalid("region_id", msg::REGION_NOT_FOUND))?;
            (None, Some(me), pd_units::Scope::default())
        }
        (Some(e), true) => {
            let known = db::educator(&mut conn, e).await?;
            let own = access::educator_id(p) == Some(e);
            if !own && !known.is_some_and(|k| access::oversees(p, &k.unit)) {
                return Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND));
            }
            (None, Some(e), pd_units::Scope::default())
        }
        (e, false) => {
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
            (Some(region), e, scope)
        }
    };
    let condition = "($1::uuid IS NULL OR r.region_id = $1) AND ($2::uuid IS NULL OR r.educator_id = $2)
           AND ($3::uuid IS NULL OR r.organization_id = $3) AND ($4::uuid IS NULL OR r.municipality_id = $4)
           AND ($5 = '' OR r.status = $5)";
    let sql =
        format!("{SELECT} WHERE {condition} ORDER BY r.ended_on DESC, r.id LIMIT $6 OFFSET $7");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(region)
        .bind(educator)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(&req.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let count = format!("SELECT count(*) FROM pd_records r WHERE {condition}");
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
        .bind(region)
        .bind(educator)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(&req.status)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::PdRecordList {
        items: rows.into_iter().map(Into::into).collect(),
        total,
    })
}
