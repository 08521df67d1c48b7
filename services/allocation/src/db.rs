//! Helpers shared by the handlers.

use pd_domain::{AppError, Principal};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::access::Unit;
use crate::messages as msg;

pub use pd_domain::request::{body_id, ensure, path_id, ts};

pub fn db_error(e: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(d) = &e {
        match d.code().as_deref() {
            Some("23505") => return AppError::conflict(msg::DUPLICATE),
            // Text PostgreSQL cannot store (NUL, invalid encodings) is the client's.
            Some("22021") | Some("22P05") => return AppError::bad_request(msg::TEXT_INVALID),
            _ => {}
        }
    }
    pd_bus::rpc::database_error(e)
}

/// A requested page size (422 outside 1..=500).
pub fn limit(requested: i32) -> Result<i64, AppError> {
    pd_domain::request::page_limit(requested, 500)
}

pub use pd_domain::request::page_offset as offset;

/// A campaign the service knows (from the registry's calendar events):
/// its id, region and year; 404 for one it does not know or the caller
/// cannot see (another region's).
pub async fn campaign(
    conn: &mut PgConnection,
    p: &Principal,
    campaign: &str,
) -> Result<Campaign, AppError> {
    let id = path_id(campaign, msg::CAMPAIGN_NOT_FOUND)?;
    let row: Option<(Uuid, i32, Option<String>)> = sqlx::query_as(
        "SELECT c.region_id, c.year, r.pd_model FROM known_campaigns c
         LEFT JOIN known_regions r ON r.id = c.region_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    match row {
        Some((region, year, model)) if p.in_region(region) => Ok(Campaign {
            id,
            region,
            year,
            pd_model: model.unwrap_or_else(|| "un_quota".into()),
        }),
        _ => Err(AppError::not_found(msg::CAMPAIGN_NOT_FOUND)),
    }
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: Uuid,
    pub region: Uuid,
    pub year: i32,
    pub pd_model: String,
}

/// An organization of the campaign's region, as a scope unit; 404 otherwise.
pub async fn organization(
    conn: &mut PgConnection,
    region: Uuid,
    field: &str,
    id: &str,
) -> Result<Unit, AppError> {
    let org = body_id(field, id)?;
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT municipality_id, region_id FROM known_organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    match row {
        Some((municipality, r)) if r == region => Ok(Unit {
            region,
            municipality,
            organization: org,
        }),
        _ => Err(AppError::not_found(msg::ORGANIZATION_NOT_FOUND)),
    }
}

/// "Фамилия Имя Отчество" without empty parts.
pub fn full_name(last: &str, first: &str, middle: &str) -> String {
    [last, first, middle]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub use pd_units::Scope;

/// The scope a caller asked for in a campaign's region (see
/// [`pd_units::scope`]; the region's managers are allocation's).
pub async fn scope(
    conn: &mut PgConnection,
    p: &Principal,
    c: &Campaign,
    organization: &str,
    municipality: &str,
) -> Result<Scope, AppError> {
    use crate::domain::access;
    pd_units::scope(
        conn,
        p,
        c.region,
        organization,
        municipality,
        access::manages_region,
    )
    .await
}
