//! Certificates and transcripts (stage 11, seeds 001 and 004). A document
//! is issued once the post-course questionnaire is answered: a
//! certificate, or on a cumulative route whose modules were not all
//! credited within six months, a transcript of the credited modules. Its
//! code is checked publicly (`verify`), showing a masked holder only.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::monitoring::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::State;
use crate::completions::credit_to_proto;
use crate::db::{self, db_error, ensure, path_id, ts};
use crate::domain::access;
use crate::domain::completions::Credit;
use crate::domain::documents::{self as rules, Earned};
use crate::messages as msg;

/// The public page's path for a code (the gateway serves it).
pub fn verify_path(code: &str) -> String {
    format!("/verify/{code}")
}

/// What issuing needs of the completion.
#[derive(sqlx::FromRow)]
struct Source {
    educator_id: Uuid,
    group_id: Uuid,
    program_id: Uuid,
    provider_id: Uuid,
    hours: i32,
    program_title: String,
    program_kind: String,
    provider_name: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    group_modules: serde_json::Value,
    last_name: String,
    first_name: String,
    middle_name: String,
}

/// Issues the completion's document (once; a second call does nothing).
pub(crate) async fn issue(
    s: &State,
    conn: &mut PgConnection,
    completion: Uuid,
) -> Result<(), AppError> {
    let src: Option<Source> = sqlx::query_as(
        "SELECT c.educator_id, c.group_id, c.program_id, c.provider_id, c.hours, g.program_title,
                g.program_kind, g.provider_name, g.starts_on, g.ends_on, g.modules AS group_modules,
                coalesce(e.last_name, '') AS last_name, coalesce(e.first_name, '') AS first_name,
                coalesce(e.middle_name, '') AS middle_name
         FROM completions c JOIN known_groups g ON g.id = c.group_id
         LEFT JOIN known_educators e ON e.id = c.educator_id
         WHERE c.id = $1 AND c.status = 'completed'",
    )
    .bind(completion)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(src) = src else {
        return Ok(());
    };
    let (kind, hours, starts_on, ends_on, modules) = if src.program_kind == "cumulative" {
        let route = route(conn, &src).await?;
        let credits = credits(conn, src.group_id, src.educator_id).await?;
        let earned = rules::cumulative(&route, &credits);
        let hours = match earned {
            Earned::Certificate => src.hours.max(rules::credited_hours(&credits)),
            Earned::Transcript => rules::credited_hours(&credits),
        };
        let first = rules::first_credit(&credits).unwrap_or(src.starts_on);
        let last = credits
            .iter()
            .map(|c| c.credited_on)
            .max()
            .unwrap_or(src.ends_on);
        (earned, hours, first, last, credits)
    } else {
        (
            Earned::Certificate,
            src.hours,
            src.starts_on,
            src.ends_on,
            Vec::new(),
        )
    };
    let holder = [&src.last_name, &src.first_name, &src.middle_name]
        .iter()
        .filter(|x| !x.is_empty())
        .map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let id = Uuid::now_v7();
    let issued = sqlx::query(
        "INSERT INTO documents (id, code, kind, completion_id, educator_id, holder_name, program_id,
                                program_title, hours, starts_on, ends_on, provider_id, provider_name,
                                modules, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (completion_id) DO NOTHING",
    )
    .bind(id)
    .bind(rules::new_code())
    .bind(kind.as_str())
    .bind(completion)
    .bind(src.educator_id)
    .bind(holder)
    .bind(src.program_id)
    .bind(&src.program_title)
    .bind(hours)
    .bind(starts_on)
    .bind(ends_on)
    .bind(src.provider_id)
    .bind(&src.provider_name)
    .bind(serde_json::to_value(&modules).map_err(|e| pd_bus::rpc::internal("modules", e))?)
    .bind(s.clock.now())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if issued.rows_affected() == 0 {
        return Ok(());
    }
    let document = load(conn, id).await?;
    s.outbox
        .write(
            conn,
            "document_issued",
            &document.id,
            "system",
            &pb::DocumentIssued {
                document: Some(document.clone()),
            },
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The route's modules: the roster's (an individual route), else every
/// module of the program.
async fn route(conn: &mut PgConnection, src: &Source) -> Result<Vec<String>, AppError> {
    let own: Option<Vec<String>> = sqlx::query_scalar(
        "SELECT modules FROM roster_members WHERE group_id = $1 AND educator_id = $2",
    )
    .bind(src.group_id)
    .bind(src.educator_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    if let Some(own) = own.filter(|m| !m.is_empty()) {
        return Ok(own);
    }
    Ok(src
        .group_modules
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Every module the learner was credited with in the group: those of
/// the completion, and of any other document the provider issued them
/// in it (each document is its own completion, record and window).
async fn credits(
    conn: &mut PgConnection,
    group: Uuid,
    educator: Uuid,
) -> Result<Vec<Credit>, AppError> {
    let all: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT modules FROM completions WHERE group_id = $1 AND educator_id = $2 AND status = 'completed'",
    )
    .bind(group)
    .bind(educator)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    let mut out: Vec<Credit> = Vec::new();
    for v in all {
        let list: Vec<Credit> = serde_json::from_value(v).unwrap_or_default();
        for c in list {
            if !out
                .iter()
                .any(|o| o.name.to_lowercase() == c.name.to_lowercase())
            {
                out.push(c);
            }
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    code: String,
    completion_id: Uuid,
    educator_id: Uuid,
    holder_name: String,
    program_id: Uuid,
    program_title: String,
    hours: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    provider_id: Uuid,
    provider_name: String,
    modules: serde_json::Value,
    issued_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoke_reason: String,
    document_type: String,
    document_series: String,
    document_number: String,
    issued_on: Option<NaiveDate>,
    region_id: Uuid,
}

impl From<Row> for pb::Document {
    fn from(r: Row) -> Self {
        let modules: Vec<Credit> = serde_json::from_value(r.modules).unwrap_or_default();
        pb::Document {
            id: r.id.to_string(),
            kind: r.kind,
            verify_path: verify_path(&r.code),
            code: r.code,
            educator_id: r.educator_id.to_string(),
            holder_name: r.holder_name,
            program_id: r.program_id.to_string(),
            program_title: r.program_title,
            hours: r.hours,
            starts_on: db::date(Some(r.starts_on)),
            ends_on: db::date(Some(r.ends_on)),
            provider_id: r.provider_id.to_string(),
            provider_name: r.provider_name,
            document_type: r.document_type,
            document_series: r.document_series,
            document_number: r.document_number,
            issued_on: db::date(r.issued_on),
            modules: modules.into_iter().map(credit_to_proto).collect(),
            completion_id: r.completion_id.to_string(),
            issued_at: ts(r.issued_at),
            revoked_at: r.revoked_at.map(ts).unwrap_or_default(),
            revoke_reason: r.revoke_reason,
        }
    }
}

const SELECT: &str = "SELECT d.id, d.kind, d.code, d.completion_id, d.educator_id, d.holder_name, d.program_id,
            d.program_title, d.hours, d.starts_on, d.ends_on, d.provider_id, d.provider_name, d.modules,
            d.issued_at, d.revoked_at, d.revoke_reason, c.document_type, c.document_series,
            c.document_number, c.issued_on, c.region_id
     FROM documents d JOIN completions c ON c.id = d.completion_id";

async fn row(conn: &mut PgConnection, id: Uuid) -> Result<Option<Row>, AppError> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<pb::Document, AppError> {
    row(conn, id)
        .await?
        .map(Into::into)
        .ok_or_else(|| AppError::not_found(msg::DOCUMENT_NOT_FOUND))
}

/// The holder, the operators over them, the issuing provider.
async fn sees(
    conn: &mut PgConnection,
    p: &pd_domain::Principal,
    r: &Row,
) -> Result<bool, AppError> {
    if access::educator_id(p) == Some(r.educator_id) || access::is_provider(p, r.provider_id) {
        return Ok(true);
    }
    Ok(db::educator(conn, r.educator_id)
        .await?
        .is_some_and(|e| access::oversees(p, &e.unit)))
}

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::DocumentRequest,
) -> Result<pb::Document, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::DOCUMENT_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    match row(&mut conn, id).await? {
        Some(r) if sees(&mut conn, p, &r).await? => Ok(r.into()),
        _ => Err(AppError::not_found(msg::DOCUMENT_NOT_FOUND)),
    }
}

/// An educator's documents (their own, or for operators one of their scope).
pub(crate) async fn mine(
    s: State,
    ctx: RpcContext,
    req: pb::MyDocumentsRequest,
) -> Result<pb::DocumentList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let educator = if req.educator_id.is_empty() {
        access::educator_id(p)
            .ok_or_else(|| AppError::invalid("educator_id", msg::EDUCATOR_NOT_FOUND))?
    } else {
        let id = path_id(&req.educator_id, msg::EDUCATOR_NOT_FOUND)?;
        let e = db::educator(&mut conn, id).await?;
        let own = access::educator_id(p) == Some(id);
        if !own && !e.is_some_and(|e| access::oversees(p, &e.unit)) {
            return Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND));
        }
        id
    };
    let sql = format!("{SELECT} WHERE d.educator_id = $1 ORDER BY d.issued_at DESC");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(educator)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::DocumentList {
        items: rows.into_iter().map(Into::into).collect(),
    })
}

/// Anyone, signed in or not: what a code stands for.
pub(crate) async fn verify(
    s: State,
    _ctx: RpcContext,
    req: pb::VerifyRequest,
) -> Result<pb::Verification, AppError> {
    let unknown = pb::Verification {
        status: "unknown".into(),
        code: req.code.chars().take(32).collect(),
        ..Default::default()
    };
    let Some(code) = rules::normalize_code(&req.code) else {
        return Ok(unknown);
    };
    let sql = format!("{SELECT} WHERE d.code = $1");
    let found: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&code)
        .fetch_optional(&s.pool)
        .await
        .map_err(db_error)?;
    let Some(r) = found else {
        return Ok(unknown);
    };
    let mut parts = r.holder_name.split_whitespace();
    let (last, first, middle) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    Ok(pb::Verification {
        status: if r.revoked_at.is_some() {
            "revoked"
        } else {
            "valid"
        }
        .into(),
        holder: rules::masked_name(last, first, middle),
        kind: r.kind,
        program_title: r.program_title,
        hours: r.hours,
        starts_on: db::date(Some(r.starts_on)),
        ends_on: db::date(Some(r.ends_on)),
        provider_name: r.provider_name,
        document_number: r.document_number,
        issued_on: db::date(r.issued_on),
        revoked_at: r.revoked_at.map(ts).unwrap_or_default(),
        revoke_reason: r.revoke_reason,
        code,
    })
}

pub(crate) async fn revoke(
    s: State,
    ctx: RpcContext,
    req: pb::RevokeDocumentRequest,
) -> Result<pb::Document, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::DOCUMENT_NOT_FOUND)?;
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", msg::REVOKE_REASON));
    }
    if reason.chars().count() > pd_domain::bounds::TEXT {
        return Err(AppError::invalid(
            "reason",
            pd_domain::bounds::too_long(pd_domain::bounds::TEXT),
        ));
    }
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let Some(r) = row(&mut tx, id).await? else {
        return Err(AppError::not_found(msg::DOCUMENT_NOT_FOUND));
    };
    if !sees(&mut tx, p, &r).await? {
        return Err(AppError::not_found(msg::DOCUMENT_NOT_FOUND));
    }
    ensure(access::revokes(p, r.provider_id, r.region_id))?;
    if r.revoked_at.is_none() {
        sqlx::query("UPDATE documents SET revoked_at = $2, revoke_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(s.clock.now())
            .bind(reason)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    let document = load(&mut tx, id).await?;
    if r.revoked_at.is_none() {
        s.outbox
            .write(
                &mut tx,
                "document_revoked",
                &document.id,
                &ctx.actor(),
                &pb::DocumentRevoked {
                    document: Some(document.clone()),
                },
            )
            .await
            .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(document)
}
