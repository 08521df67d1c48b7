//! Small helpers shared by the handlers: database errors, ids, times, and
//! the lookups of where an organization or educator sits.

use chrono::{DateTime, Utc};
use pd_domain::AppError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::access::OrgLocation;
use crate::messages as msg;

/// Maps a database error to what the client should see; logs the rest.
pub fn db_error(e: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(d) = &e
        && d.code().as_deref() == Some("23505")
    {
        let m = match d.constraint() {
            Some("educators_snils_key") => msg::SNILS_TAKEN,
            Some("organizations_inn_key") | Some("providers_inn_key") => msg::INN_TAKEN,
            Some("users_login_key") => msg::LOGIN_TAKEN,
            Some("users_educator_id_key") => msg::EDUCATOR_HAS_USER,
            _ => msg::DUPLICATE,
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

/// An id in a request body: 422 naming the field when malformed.
pub fn body_id(field: &str, s: &str) -> Result<Uuid, AppError> {
    if s.trim().is_empty() {
        return Err(AppError::invalid(field, msg::REQUIRED));
    }
    Uuid::parse_str(s.trim()).map_err(|_| AppError::invalid(field, msg::NOT_A_UUID))
}

/// An id naming the resource (from the URL): malformed is simply not found.
pub fn path_id(s: &str, not_found: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::not_found(not_found))
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn opt_id(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

pub async fn org_location(
    conn: &mut PgConnection,
    org_id: Uuid,
) -> Result<Option<OrgLocation>, AppError> {
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT municipality_id, region_id FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    Ok(row.map(|(municipality_id, region_id)| OrgLocation {
        org_id,
        municipality_id,
        region_id,
    }))
}

/// 403 unless `allowed`.
pub fn ensure(allowed: bool) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(msg::FORBIDDEN))
    }
}

/// Clamps a requested page size.
pub fn limit(requested: i32) -> i64 {
    match requested {
        n if n <= 0 => 50,
        n => i64::from(n.min(500)),
    }
}
