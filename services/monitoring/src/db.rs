//! Helpers shared by the handlers.

use pd_domain::AppError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::access::Unit;
use crate::messages as msg;

pub use pd_domain::request::{ensure, optional_id, path_id, ts};

pub fn db_error(e: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(d) = &e {
        match d.code().as_deref() {
            Some("23505") => return AppError::conflict(msg::DUPLICATE),
            Some("22021") | Some("22P05") => return AppError::bad_request(msg::TEXT_INVALID),
            _ => {}
        }
    }
    pd_bus::rpc::database_error(e)
}

/// A requested page size (422 outside 1..=500).
pub fn limit(requested: i32) -> Result<i64, AppError> {
    pd_domain::request::page_limit(if requested == 0 { 50 } else { requested }, 500)
}

pub use pd_domain::request::page_offset as offset;

pub fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The unit of an educator the service knows.
pub struct Educator {
    pub unit: Unit,
}

pub async fn educator(conn: &mut PgConnection, id: Uuid) -> Result<Option<Educator>, AppError> {
    let row: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT region_id, municipality_id, organization_id FROM known_educators WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    Ok(row.map(|(r, m, o)| Educator {
        unit: Unit {
            region: r,
            municipality: m,
            organization: o,
        },
    }))
}

/// SQL of an educator's full name from `known_educators e` (empty when unknown).
#[macro_export]
macro_rules! educator_name {
    () => {
        "coalesce(trim(concat_ws(' ', e.last_name, e.first_name, nullif(e.middle_name, ''))), '')"
    };
}
