//! The ФИС ФРДО export (issue 11): the region's documents of further
//! professional education as rows of the registry's upload template. The
//! personal data (SNILS, birth date, sex) are asked of identity on the
//! caller's behalf, so only those the caller may see come back; a row
//! that lacks anything the registry requires is reported, not exported.

use chrono::NaiveDate;
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use std::collections::HashMap;
use uuid::Uuid;

use crate::State;
use crate::db::{self, db_error, ensure};
use crate::domain::access;
use crate::domain::frdo::{self, Person, Source};
use crate::messages as msg;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    educator_id: Uuid,
    document_type: String,
    document_series: String,
    document_number: String,
    issued_on: Option<NaiveDate>,
    registration_number: String,
    hours: i32,
    program_title: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    form: Option<String>,
}

fn date(field: &str, raw: &str) -> Result<Option<NaiveDate>, AppError> {
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| AppError::invalid(field, msg::DATE))
}

pub(crate) async fn export(
    s: State,
    ctx: RpcContext,
    req: pb::FrdoExportRequest,
) -> Result<pb::FrdoExport, AppError> {
    let p = ctx.principal()?;
    let region = pd_domain::request::body_id("region_id", &req.region_id)?;
    // The region's operator (identity shows them the personal data).
    ensure(access::sets_region(p, region))?;
    let from = date("issued_from", &req.issued_from)?;
    let to = date("issued_to", &req.issued_to)?;
    let provider = db::optional_id("provider_id", &req.provider_id)?;
    let limit = pd_domain::request::page_limit(if req.limit == 0 { 500 } else { req.limit }, 1000)?;
    let offset = db::offset(req.offset)?;
    let condition = "c.region_id = $1 AND c.status = 'completed'
           AND ($2::date IS NULL OR c.issued_on >= $2) AND ($3::date IS NULL OR c.issued_on <= $3)
           AND ($4::uuid IS NULL OR c.provider_id = $4)";
    let sql = format!(
        "SELECT c.id, c.educator_id, c.document_type, c.document_series, c.document_number, c.issued_on,
                c.registration_number, c.hours, g.program_title, g.starts_on, g.ends_on, g.form
         FROM completions c LEFT JOIN known_groups g ON g.id = c.group_id
         WHERE {condition} ORDER BY c.issued_on, c.document_number, c.id LIMIT $5 OFFSET $6"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(region)
        .bind(from)
        .bind(to)
        .bind(provider)
        .bind(limit)
        .bind(offset)
        .fetch_all(&s.pool)
        .await
        .map_err(db_error)?;
    let count = format!("SELECT count(*) FROM completions c WHERE {condition}");
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
        .bind(region)
        .bind(from)
        .bind(to)
        .bind(provider)
        .fetch_one(&s.pool)
        .await
        .map_err(db_error)?;
    let people = personal(&s, &ctx, &rows).await?;
    let mut out = pb::FrdoExport {
        columns: frdo::COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        total,
        ..Default::default()
    };
    for (i, r) in rows.into_iter().enumerate() {
        let source = Source {
            document_type: r.document_type,
            series: r.document_series,
            number: r.document_number.clone(),
            issued_on: r.issued_on,
            registration_number: r.registration_number,
            program_title: r.program_title.unwrap_or_default(),
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            hours: r.hours,
            form: r.form.unwrap_or_default(),
            person: people.get(&r.educator_id).cloned(),
        };
        let (cells, problems) = frdo::row(&source);
        if problems.is_empty() {
            out.valid += 1;
            out.rows.push(pb::FrdoRow {
                completion_id: r.id.to_string(),
                cells,
            });
            continue;
        }
        out.invalid += 1;
        for problem in problems {
            out.problems.push(pb::FrdoProblem {
                row: (offset as i32) + i as i32 + 1,
                completion_id: r.id.to_string(),
                educator_id: r.educator_id.to_string(),
                document_number: r.document_number.clone(),
                column: problem.column.to_owned(),
                message: problem.message.to_owned(),
            });
        }
    }
    Ok(out)
}

/// Identity's personal data of the rows' educators, as the caller may see them.
async fn personal(
    s: &State,
    ctx: &RpcContext,
    rows: &[Row],
) -> Result<HashMap<Uuid, Person>, AppError> {
    let mut ids: Vec<String> = rows.iter().map(|r| r.educator_id.to_string()).collect();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let req = identity::EducatorsPersonalRequest { ids };
    let found = s
        .bus
        .call::<identity_ops::EducatorsPersonal>(&req, &ctx.on_behalf())
        .await?;
    for e in found.items {
        let Ok(id) = Uuid::parse_str(&e.id) else {
            continue;
        };
        out.insert(
            id,
            Person {
                last_name: e.last_name,
                first_name: e.first_name,
                middle_name: e.middle_name,
                birth_date: e.birth_date,
                sex: e.sex,
                snils: e.snils,
            },
        );
    }
    Ok(out)
}
