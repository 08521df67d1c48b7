//! Balances kept exact from enrollment's events: a unique number used by an
//! application (and given back when it is withdrawn or rejected), the
//! voucher blocks an application spends, the plan-order hours a team
//! application draws. Each event carries the application's whole snapshot
//! and is applied only when newer than what was applied (outbox versions),
//! so a replay or a late delivery changes nothing.

use pd_bus::consumer::HandleError;
use pd_proto::enrollment::v1 as enrollment;
use pd_proto::monitoring::v1 as monitoring;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::candidates::{self, Refresh};

fn id(field: &str, s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad {field} {s:?}: {e}")))
}

/// Takes or gives back what the application uses, as its status says.
pub(crate) async fn apply_application(
    conn: &mut PgConnection,
    a: &enrollment::ApplicationSnapshot,
) -> Result<(), HandleError> {
    let application = id("application id", &a.id)?;
    let gives_back = matches!(a.status.as_str(), "withdrawn" | "rejected");
    if !a.unique_number_id.is_empty() {
        let number = id("unique_number_id", &a.unique_number_id)?;
        if a.voucher_blocks.is_empty() {
            use_number(conn, number, application, gives_back).await?;
        } else {
            spend_blocks(conn, number, application, &a.voucher_blocks, gives_back).await?;
        }
    }
    if a.hours > 0 {
        sqlx::query(
            "INSERT INTO hour_draws (application_id, campaign_id, organization_id, hours, active)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (application_id) DO UPDATE SET hours = $4, active = $5",
        )
        .bind(application)
        .bind(id("campaign_id", &a.campaign_id)?)
        .bind(id("organization_id", &a.organization_id)?)
        .bind(a.hours)
        .bind(!gives_back)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A number becomes `used` by the application, or `assigned` again.
async fn use_number(
    conn: &mut PgConnection,
    number: Uuid,
    application: Uuid,
    gives_back: bool,
) -> Result<(), sqlx::Error> {
    let sql = if gives_back {
        "UPDATE unique_numbers SET status = 'assigned', application_id = NULL
         WHERE id = $1 AND status = 'used' AND application_id = $2"
    } else {
        "UPDATE unique_numbers SET status = 'used', application_id = $2
         WHERE id = $1 AND status IN ('assigned', 'used')"
    };
    let done = sqlx::query(sql)
        .bind(number)
        .bind(application)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 && !gives_back {
        // Refused or reassigned meanwhile: enrollment learns it from our
        // events; the application is its to settle.
        tracing::warn!(%number, %application, "an application names a number that no longer funds");
    }
    Ok(())
}

/// The voucher's blocks at `positions` are spent by the application (and
/// no others of it), or all of its blocks open again; the voucher is
/// `used` while any block is spent.
async fn spend_blocks(
    conn: &mut PgConnection,
    number: Uuid,
    application: Uuid,
    positions: &[i32],
    gives_back: bool,
) -> Result<(), sqlx::Error> {
    let kept: &[i32] = if gives_back { &[] } else { positions };
    sqlx::query(
        "UPDATE voucher_blocks SET application_id = NULL
         WHERE number_id = $1 AND application_id = $2 AND NOT (position = ANY($3))",
    )
    .bind(number)
    .bind(application)
    .bind(kept)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE voucher_blocks SET application_id = $2
         WHERE number_id = $1 AND position = ANY($3) AND application_id IS NULL",
    )
    .bind(number)
    .bind(application)
    .bind(kept)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE unique_numbers SET status = CASE WHEN EXISTS (
             SELECT 1 FROM voucher_blocks b WHERE b.number_id = $1 AND b.application_id IS NOT NULL)
             THEN 'used' ELSE 'assigned' END
         WHERE id = $1 AND status IN ('assigned', 'used')",
    )
    .bind(number)
    .execute(conn)
    .await?;
    Ok(())
}

/// A PD record that counts (or no longer does): the educator's candidacy
/// is recomputed with the latest of their records and identity's date.
pub(crate) async fn apply_pd_record(
    conn: &mut PgConnection,
    r: &monitoring::PdRecordChanged,
) -> Result<(), HandleError> {
    let educator = id("educator_id", &r.educator_id)?;
    let ended = chrono::NaiveDate::parse_from_str(&r.ended_on, "%Y-%m-%d")
        .map_err(|e| HandleError::Reject(format!("bad ended_on {:?}: {e}", r.ended_on)))?;
    sqlx::query(
        "INSERT INTO pd_records (record_id, educator_id, ended_on, counts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (record_id) DO UPDATE SET educator_id = $2, ended_on = $3, counts = $4",
    )
    .bind(id("record_id", &r.record_id)?)
    .bind(educator)
    .bind(ended)
    .bind(r.counts)
    .execute(&mut *conn)
    .await?;
    candidates::refresh(conn, Refresh::Educators(vec![educator])).await?;
    Ok(())
}
