//! Helpers shared by the handlers.

use pd_domain::AppError;

use crate::messages as msg;

pub use pd_domain::request::{body_id, ensure, optional_id, path_id, ts};

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
    pd_bus::rpc::database_error(e)
}

/// A requested page size (422 outside 1..=200).
pub fn limit(requested: i32) -> Result<i64, AppError> {
    pd_domain::request::page_limit(requested, 200)
}

pub use pd_domain::request::page_offset as offset;
