//! Helpers shared by the handlers.

use pd_domain::{AppError, Principal};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::messages as msg;

pub use pd_domain::request::{body_id, ensure, optional_id, path_id, ts};

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

pub fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The region of a campaign the service knows (from the registry's
/// calendar); 404 for one it does not know or the caller cannot see.
pub async fn campaign_region(
    conn: &mut PgConnection,
    p: &Principal,
    campaign: &str,
) -> Result<(Uuid, Uuid), AppError> {
    let id = path_id(campaign, msg::CAMPAIGN_NOT_FOUND)?;
    let region: Option<Uuid> = sqlx::query_scalar(
        "SELECT region_id FROM campaign_calendar WHERE campaign_id = $1 LIMIT 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    match region {
        Some(r) if p.in_region(r) => Ok((id, r)),
        _ => Err(AppError::not_found(msg::CAMPAIGN_NOT_FOUND)),
    }
}
