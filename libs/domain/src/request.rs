//! Reading a request's ids, checking permissions, writing times: the same
//! in every service.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::AppError;

const REQUIRED: &str = "обязательное поле";
const NOT_A_UUID: &str = "ожидается идентификатор (UUID)";
const FORBIDDEN: &str = "недостаточно прав для этого действия";

/// An id in a request body: 422 naming the field when missing or malformed.
pub fn body_id(field: &str, s: &str) -> Result<Uuid, AppError> {
    if s.trim().is_empty() {
        return Err(AppError::invalid(field, REQUIRED));
    }
    Uuid::parse_str(s.trim()).map_err(|_| AppError::invalid(field, NOT_A_UUID))
}

/// An optional id filter: empty means none, malformed is a 422.
pub fn optional_id(field: &str, s: &str) -> Result<Option<Uuid>, AppError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        body_id(field, s).map(Some)
    }
}

/// An id naming the resource (from the URL): malformed is simply not found.
pub fn path_id(s: &str, not_found: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::not_found(not_found))
}

/// 403 unless `allowed`.
pub fn ensure(allowed: bool) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(FORBIDDEN))
    }
}

/// A page size: 50 when not asked (0), else 1..=`max`; anything else is a
/// 422 naming `limit` (silently clamping hides a client's bug).
pub fn page_limit(requested: i32, max: i32) -> Result<i64, AppError> {
    match requested {
        0 => Ok(50.min(i64::from(max))),
        n if (1..=max).contains(&n) => Ok(i64::from(n)),
        _ => Err(AppError::invalid(
            "limit",
            format!("размер страницы: от 1 до {max}"),
        )),
    }
}

/// The largest offset a list accepts: deeper pages are reached by filters.
pub const MAX_OFFSET: i32 = 1_000_000;

/// A page offset: 0..=1,000,000, else a 422 naming `offset`.
pub fn page_offset(requested: i32) -> Result<i64, AppError> {
    if (0..=MAX_OFFSET).contains(&requested) {
        Ok(i64::from(requested))
    } else {
        Err(AppError::invalid(
            "offset",
            format!("смещение: от 0 до {MAX_OFFSET}"),
        ))
    }
}

/// A user's search text for a SQL `LIKE` pattern: `%`, `_` and `\` typed
/// by the user are matched literally.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// RFC 3339 with milliseconds, UTC.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
