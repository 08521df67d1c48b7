//! Helpers shared by the handlers.

use chrono::{DateTime, Utc};
use pd_domain::AppError;
use uuid::Uuid;

use crate::messages as msg;

pub fn db_error(e: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(d) = &e
        && d.code().as_deref() == Some("23505")
    {
        let m = match d.constraint() {
            Some("campaigns_region_id_year_key") => msg::CAMPAIGN_EXISTS,
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
    pd_bus::rpc::internal("database error", e)
}

/// An id in a request body: 422 naming the field.
pub fn body_id(field: &str, s: &str) -> Result<Uuid, AppError> {
    if s.trim().is_empty() {
        return Err(AppError::invalid(field, msg::REQUIRED));
    }
    Uuid::parse_str(s.trim())
        .map_err(|_| AppError::invalid(field, "ожидается идентификатор (UUID)"))
}

/// An id naming the resource: malformed is not found.
pub fn path_id(s: &str, not_found: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::not_found(not_found))
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn ensure(allowed: bool) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(msg::FORBIDDEN))
    }
}

pub fn limit(requested: i32) -> i64 {
    match requested {
        n if n <= 0 => 50,
        n => i64::from(n.min(200)),
    }
}

pub fn optional_id(field: &str, s: &str) -> Result<Option<Uuid>, AppError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        body_id(field, s).map(Some)
    }
}
