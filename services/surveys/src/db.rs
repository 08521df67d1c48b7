//! Helpers shared by the handlers.

use pd_domain::AppError;

use crate::messages as msg;

pub use pd_domain::request::{body_id, ensure, optional_id, path_id, ts};

pub fn db_error(e: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(d) = &e
        && d.code().as_deref() == Some("23505")
    {
        let m = match d.constraint() {
            Some("instruments_one_needs_survey" | "instruments_one_post_course") => {
                msg::INSTRUMENT_EXISTS
            }
            _ => "такая запись уже существует",
        };
        return AppError::conflict(m);
    }
    // Text PostgreSQL cannot store (NUL, invalid encodings) is the client's.
    if let sqlx::Error::Database(d) = &e
        && matches!(d.code().as_deref(), Some("22021") | Some("22P05"))
    {
        return AppError::bad_request("текст содержит недопустимые символы");
    }
    pd_bus::rpc::database_error(e)
}

/// A requested page size (422 outside 1..=200).
pub fn limit(requested: i32) -> Result<i64, AppError> {
    pd_domain::request::page_limit(requested, 200)
}

pub use pd_domain::request::page_offset as offset;

/// The region of a campaign the service knows (from the registry's
/// calendar events); 404 for one it does not know or the caller cannot
/// see (another region's).
pub async fn campaign_region(
    conn: &mut sqlx::PgConnection,
    p: &pd_domain::Principal,
    campaign: &str,
) -> Result<(uuid::Uuid, uuid::Uuid), AppError> {
    let id = path_id(campaign, msg::CAMPAIGN_NOT_FOUND)?;
    let region: Option<uuid::Uuid> = sqlx::query_scalar(
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

/// JSON stored in a column, decoded; a row the service wrote itself that
/// cannot be read is a 500.
pub fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(v).map_err(|e| pd_bus::rpc::internal("stored JSON", e))
}

pub fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(v).map_err(|e| pd_bus::rpc::internal("JSON", e))
}

/// An RFC 3339 instant of a request, or 422 naming the field.
pub fn instant(field: &str, s: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&chrono::Utc))
        .map_err(|_| AppError::invalid(field, msg::BAD_INSTANT))
}
