//! A group's seats and its waitlist. Every change of a group's counters
//! goes through its row in `groups`, which is locked first: takers,
//! withdrawals and promotions of one group take turns across every
//! instance, and the waitlist is always served before a seat is left free.
//! Lock order everywhere: the group's row, then its applications' rows.

use chrono::NaiveDate;
use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_proto::enrollment::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{date, db_error, path_id};
use crate::{State, messages as msg};

/// What an application got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seat {
    Taken,
    Waitlisted,
}

impl Seat {
    pub fn status(self) -> &'static str {
        match self {
            Seat::Taken => "enrolled",
            Seat::Waitlisted => "waitlisted",
        }
    }
}

/// Takes a seat of a published group whose roster is still open, or a
/// place on its waitlist when `waitlist` (a 409 `group_full`, naming the
/// program's groups that still have seats, otherwise). Returns the
/// waitlist position (0 with a seat). The roster is checked under the
/// row's lock: a request that waited for the lock past the window's close
/// never gets a seat or a waitlist place in a fixed roster.
pub(crate) async fn take(
    tx: &mut PgConnection,
    group: Uuid,
    waitlist: bool,
) -> Result<(Seat, i64), AppError> {
    let seat: Option<i32> = sqlx::query_scalar(
        "UPDATE groups SET taken = taken + 1
         WHERE id = $1 AND status = 'published' AND roster = 'open' AND taken < capacity
         RETURNING taken",
    )
    .bind(group)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if seat.is_some() {
        return Ok((Seat::Taken, 0));
    }
    // Full (applying answers most of these from its read already): one
    // more query (a group formed meanwhile lists no alternatives, none
    // being open either).
    if !waitlist {
        let others = alternatives(tx, group).await?;
        return Err(full(others.iter().map(|g| &g.group_id)));
    }
    // Counting the newcomer locks the row: a seat freed meanwhile is seen
    // here, and then taken instead of waiting. The counter is exact under
    // the lock, so the newcomer's position is the count.
    let counted: Option<(i32, i32, i32)> = sqlx::query_as(
        "UPDATE groups SET waitlisted = waitlisted + 1
         WHERE id = $1 AND status = 'published' AND roster = 'open'
         RETURNING taken, capacity, waitlisted",
    )
    .bind(group)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    // Cancelled, or formed, meanwhile (after the checks).
    let Some((taken, capacity, waitlisted)) = counted else {
        ensure_open(tx, group).await?;
        return Err(AppError::conflict(msg::GROUP_CANCELLED).with("reason", "group_cancelled"));
    };
    if taken < capacity {
        sqlx::query(
            "UPDATE groups SET waitlisted = waitlisted - 1, taken = taken + 1 WHERE id = $1",
        )
        .bind(group)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        return Ok((Seat::Taken, 0));
    }
    Ok((Seat::Waitlisted, i64::from(waitlisted)))
}

/// The 409 of a full group, naming the program's groups that still have
/// seats (the alternatives' ids, earliest first).
pub(crate) fn full<I: std::fmt::Display>(alternatives: impl IntoIterator<Item = I>) -> AppError {
    let ids: Vec<String> = alternatives.into_iter().map(|id| id.to_string()).collect();
    AppError::conflict(msg::GROUP_FULL)
        .with("reason", "group_full")
        .with("alternative_groups", ids.join(","))
}

/// 409 when the group was cancelled, or its roster fixed, by the time
/// its row is locked (read after a failed conditional update of the row).
pub(crate) async fn ensure_open(tx: &mut PgConnection, group: Uuid) -> Result<(), AppError> {
    let state: Option<(String, String)> =
        sqlx::query_as("SELECT status, roster FROM groups WHERE id = $1")
            .bind(group)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    match state {
        Some((status, _)) if status != "published" => {
            Err(AppError::conflict(msg::GROUP_CANCELLED).with("reason", "group_cancelled"))
        }
        Some((_, roster)) if roster != "open" => {
            Err(AppError::conflict(msg::ROSTER_FIXED).with("reason", "window_closed"))
        }
        _ => Ok(()),
    }
}

/// Locks the group's row (before any of its applications' rows).
pub(crate) async fn lock(tx: &mut PgConnection, group: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM groups WHERE id = $1 FOR UPDATE")
        .bind(group)
        .execute(tx)
        .await
        .map(|_| ())
}

/// Gives back what an ending application held (its seat or its waitlist
/// place); a freed seat goes to the head of the waitlist. The group's row
/// must be locked already. Returns the promoted applications.
pub(crate) async fn give_back(
    tx: &mut PgConnection,
    group: Uuid,
    held: Seat,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let sql = match held {
        Seat::Taken => "UPDATE groups SET taken = greatest(taken - 1, 0) WHERE id = $1",
        Seat::Waitlisted => {
            "UPDATE groups SET waitlisted = greatest(waitlisted - 1, 0) WHERE id = $1"
        }
    };
    sqlx::query(sql).bind(group).execute(&mut *tx).await?;
    fill(tx, group).await
}

/// Promotes waitlisted applications, oldest first, while the group has
/// free seats (after a withdrawal, or when the registry enlarges it). The
/// group's row must be locked already, so this statement sees every
/// waitlisted application committed before.
pub(crate) async fn fill(tx: &mut PgConnection, group: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    let promoted: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE applications SET status = 'enrolled', updated_at = now()
         WHERE id IN (SELECT a.id FROM applications a
                      WHERE a.group_id = $1 AND a.status = 'waitlisted'
                      ORDER BY a.seq
                      LIMIT coalesce((SELECT greatest(capacity - taken, 0) FROM groups
                                      WHERE id = $1 AND status = 'published'), 0))
         RETURNING id",
    )
    .bind(group)
    .fetch_all(&mut *tx)
    .await?;
    if !promoted.is_empty() {
        let n = promoted.len() as i32;
        sqlx::query(
            "UPDATE groups SET taken = taken + $2, waitlisted = greatest(waitlisted - $2, 0) WHERE id = $1",
        )
        .bind(group)
        .bind(n)
        .execute(&mut *tx)
        .await?;
    }
    Ok(promoted)
}

/// A group's seats as the lists show them (also part of a roster).
#[derive(sqlx::FromRow)]
pub(crate) struct SeatsRow {
    pub id: Uuid,
    pub region_id: Uuid,
    pub program_id: Uuid,
    pub program_title: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub capacity: i32,
    pub taken: i32,
    pub waitlisted: i32,
    pub status: String,
    pub online: bool,
    pub address: String,
}

impl SeatsRow {
    pub fn into_proto(self) -> pb::GroupSeats {
        pb::GroupSeats {
            group_id: self.id.to_string(),
            program_id: self.program_id.to_string(),
            program_title: self.program_title,
            starts_on: date(self.starts_on),
            ends_on: date(self.ends_on),
            capacity: self.capacity,
            // A cancelled group's applications are ended, so its seats
            // would all look free: it has none to offer.
            seats_left: match self.status.as_str() {
                "cancelled" => 0,
                _ => (self.capacity - self.taken).max(0),
            },
            waitlisted: self.waitlisted,
            status: self.status,
            online: self.online,
            address: self.address,
        }
    }
}

const SEATS: &str =
    "SELECT id, region_id, program_id, program_title, starts_on, ends_on, capacity, taken,
                            waitlisted, status, online, address FROM groups";

/// Which of a program's other groups a full group's 409 offers, and in
/// what order: published, roster open, a seat free; earliest start first,
/// undated last. Columns unqualified: they name the `groups` row of the
/// query it ends. Shared by [`alternatives`] and the apply requests' read
/// (`applications::APPLYING`), which must offer the same.
macro_rules! open_alternatives {
    () => {
        "status = 'published' AND roster = 'open' AND taken < capacity
         ORDER BY starts_on NULLS LAST, id LIMIT 20"
    };
}
pub(crate) use open_alternatives;

/// The program's other published groups with free seats, earliest first.
async fn alternatives(tx: &mut PgConnection, group: Uuid) -> Result<Vec<pb::GroupSeats>, AppError> {
    let sql = format!(
        "{SEATS} WHERE program_id = (SELECT program_id FROM groups WHERE id = $1)
           AND id <> $1 AND {}",
        open_alternatives!()
    );
    let rows: Vec<SeatsRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(group)
        .fetch_all(tx)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(SeatsRow::into_proto).collect())
}

/// A program's groups and their seats, earliest first (anyone signed in of
/// the program's region): what a program screen polls while the window is
/// open, one read for all its groups instead of one a group.
pub(crate) async fn program_availability(
    s: State,
    ctx: RpcContext,
    req: pb::ProgramRequest,
) -> Result<pb::ProgramSeats, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::PROGRAM_NOT_FOUND)?;
    let sql = format!("{SEATS} WHERE program_id = $1 ORDER BY starts_on NULLS LAST, id");
    let rows: Vec<SeatsRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&s.pool)
        .await
        .map_err(db_error)?;
    // A program's groups are of one region: none seen, or another
    // region's, is the same 404.
    if rows.is_empty() || !rows.iter().all(|g| p.in_region(g.region_id)) {
        return Err(AppError::not_found(msg::PROGRAM_NOT_FOUND));
    }
    Ok(pb::ProgramSeats {
        groups: rows.into_iter().map(SeatsRow::into_proto).collect(),
    })
}

/// A group's seats and waitlist, with the program's other groups that
/// still have seats (anyone signed in of the group's region: the catalog
/// is public anyway).
pub(crate) async fn availability(
    s: State,
    ctx: RpcContext,
    req: pb::GroupRequest,
) -> Result<pb::Availability, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::GROUP_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let sql = format!("{SEATS} WHERE id = $1");
    let group: SeatsRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .filter(|g: &SeatsRow| p.in_region(g.region_id))
        .ok_or_else(|| AppError::not_found(msg::GROUP_NOT_FOUND))?;
    Ok(pb::Availability {
        group: Some(group.into_proto()),
        alternatives: alternatives(&mut conn, id).await?,
    })
}
