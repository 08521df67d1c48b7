//! Small helpers shared by the handlers: database errors, ids, times, and
//! the lookups of where an organization or educator sits.

use pd_domain::AppError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::access::OrgLocation;
use crate::messages as msg;

pub use pd_domain::request::{body_id, ensure, path_id, ts};

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
    pd_bus::rpc::database_error(e)
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

/// A requested page size (422 outside 1..=500).
pub fn limit(requested: i32) -> Result<i64, AppError> {
    pd_domain::request::page_limit(requested, 500)
}

pub use pd_domain::request::page_offset as offset;
