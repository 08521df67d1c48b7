//! Temporary refusals and the redistribution of freed places (seed 002,
//! sixth stage): the educator asks, the organization's operator approves
//! or rejects; an approved refusal frees the place, which the
//! organization's operator gives to another confirmed candidate of the
//! organization, failing that (after `organization_days`) the municipal
//! operator within the municipality, failing that (after a further
//! `municipality_days`) the regional operator anywhere in the region
//! (`domain::cascade`). Each step is an event. All of it ends with the
//! application phase: a number handed on after it could not be used.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::TEXT;
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal, Role};
use pd_proto::allocation::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{self, Campaign, db_error, ensure, full_name, limit, offset, path_id, ts};
use crate::domain::access::{self, Unit};
use crate::domain::cascade::{self, Level, Windows};
use crate::numbers::{self, NumberFilter, NumberRow};
use crate::{State, messages as msg};
use pd_domain::unique_number as un;

/// The phase a unique number is used in: refusing it and handing it on
/// make sense only until that phase is over.
const APPLICATIONS: &str = "applications";

#[derive(sqlx::FromRow, Clone)]
struct RefusalRow {
    id: Uuid,
    campaign_id: Uuid,
    educator_id: Uuid,
    last_name: String,
    first_name: String,
    middle_name: String,
    organization_id: Uuid,
    municipality_id: Uuid,
    region_id: Uuid,
    number: String,
    number_id: Uuid,
    reason: String,
    status: String,
    decision_note: String,
    requested_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

impl RefusalRow {
    fn unit(&self) -> Unit {
        Unit {
            region: self.region_id,
            municipality: self.municipality_id,
            organization: self.organization_id,
        }
    }

    fn into_proto(self) -> pb::Refusal {
        pb::Refusal {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            educator_id: self.educator_id.to_string(),
            educator_name: full_name(&self.last_name, &self.first_name, &self.middle_name),
            organization_id: self.organization_id.to_string(),
            number: self.number,
            reason: self.reason,
            status: self.status,
            decision_note: self.decision_note,
            requested_at: ts(self.requested_at),
            decided_at: self.decided_at.map(ts).unwrap_or_default(),
        }
    }
}

const REFUSALS: &str = "
    SELECT f.id, f.campaign_id, f.educator_id, e.last_name, e.first_name, e.middle_name,
           u.organization_id, u.municipality_id, u.region_id, u.number, f.number_id, f.reason, f.status,
           f.decision_note, f.requested_at, f.decided_at, count(*) OVER () AS total
    FROM refusals f
    JOIN unique_numbers u ON u.id = f.number_id
    JOIN known_educators e ON e.id = f.educator_id";

#[derive(sqlx::FromRow)]
struct RefusalWithTotal {
    #[sqlx(flatten)]
    row: RefusalRow,
    total: i64,
}

async fn refusal(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<RefusalRow>, AppError> {
    if lock {
        // Row locks cannot be taken by the query with a window function.
        sqlx::query("SELECT 1 FROM refusals WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    let row: Option<RefusalWithTotal> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{REFUSALS} WHERE f.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    Ok(row.map(|r| r.row))
}

/// The educator's latest refusal in a campaign, if any.
pub(crate) async fn latest(
    conn: &mut PgConnection,
    campaign: Uuid,
    educator: Uuid,
) -> Result<Option<pb::Refusal>, AppError> {
    let row: Option<RefusalWithTotal> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REFUSALS} WHERE f.campaign_id = $1 AND f.educator_id = $2 ORDER BY f.requested_at DESC LIMIT 1"
    )))
    .bind(campaign)
    .bind(educator)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    Ok(row.map(|r| r.row.into_proto()))
}

/// An educator with a number asks to refuse this year's PD, with a reason;
/// or an operator who decides for the educator's organization records the
/// refusal on their behalf (seed 002: the regional operator "фиксирует в
/// системе временный отказ"), approved as it is recorded.
pub(crate) async fn request(
    s: State,
    ctx: RpcContext,
    req: pb::RequestRefusalRequest,
) -> Result<pb::Refusal, AppError> {
    let p = ctx.principal()?;
    let on_behalf = !req.educator_id.trim().is_empty();
    let educator = match on_behalf {
        true => db::body_id("educator_id", &req.educator_id)?,
        false => access::educator_id(p).ok_or_else(|| AppError::forbidden(msg::EDUCATORS_ONLY))?,
    };
    let mut v = Validator::new();
    if req.reason.trim().is_empty() {
        v.add("reason", msg::NOTE_REQUIRED);
    }
    v.max_len("reason", &req.reason, TEXT);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let c = db::campaign(&mut tx, p, &req.campaign_id).await?;
    let live: Option<(Uuid, String, Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, status, region_id, municipality_id, organization_id FROM unique_numbers
         WHERE campaign_id = $1 AND educator_id = $2 AND status IN ('assigned', 'used') FOR UPDATE",
    )
    .bind(c.id)
    .bind(educator)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if on_behalf {
        // The number's organization, as for every later step of the
        // refusal (the educator may have moved since it was assigned).
        let unit = live.as_ref().map(|l| Unit {
            region: l.2,
            municipality: l.3,
            organization: l.4,
        });
        records_for(&mut tx, p, educator, unit).await?;
    }
    // A number is refused so that another educator applies with it.
    pd_calendar::ensure_not_over(&mut tx, c.id, APPLICATIONS, s.clock.now()).await?;
    let not_funded = if on_behalf {
        msg::EDUCATOR_NOT_FUNDED
    } else {
        msg::NOT_FUNDED
    };
    let (number, status, ..) = live.ok_or_else(|| AppError::conflict(not_funded))?;
    if status == "used" {
        return Err(AppError::conflict(msg::NUMBER_USED));
    }
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO refusals (id, campaign_id, number_id, educator_id, reason, requested_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(c.id)
    .bind(number)
    .bind(educator)
    .bind(req.reason.trim())
    .bind(s.clock.now())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::conflict(msg::REFUSAL_OPEN));
    }
    let row = refusal(&mut tx, id, false)
        .await?
        .ok_or_else(|| AppError::not_found(msg::REFUSAL_NOT_FOUND))?;
    let event = pb::RefusalRequested {
        refusal: Some(row.clone().into_proto()),
    };
    s.outbox
        .write(
            &mut tx,
            "refusal_requested",
            &id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    let answer = match on_behalf {
        true => settle(&s, &mut tx, &ctx, &row, true, "").await?,
        false => row.into_proto(),
    };
    ctx.commit(tx, &answer).await?;
    Ok(answer)
}

/// An operator records a refusal only for an educator whose number's
/// organization they decide for (or, with no number, the educator's own):
/// 404 for one they cannot see, 403 for one they only see.
async fn records_for(
    conn: &mut PgConnection,
    p: &Principal,
    educator: Uuid,
    number: Option<Unit>,
) -> Result<(), AppError> {
    let unit = match number {
        Some(u) => Some(u),
        None => sqlx::query_as::<_, (Uuid, Uuid, Uuid)>(
            "SELECT region_id, municipality_id, organization_id FROM known_educators WHERE id = $1",
        )
        .bind(educator)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .map(|(region, municipality, organization)| Unit {
            region,
            municipality,
            organization,
        }),
    };
    let unit = unit
        .filter(|u| access::oversees(p, u))
        .ok_or_else(|| AppError::not_found(msg::EDUCATOR_NOT_FOUND))?;
    ensure(access::decides_for_org(p, &unit))
}

/// The organization's operator approves (the place is freed) or rejects
/// (with a note) a refusal.
pub(crate) async fn decide(
    s: State,
    ctx: RpcContext,
    req: pb::DecideRefusalRequest,
) -> Result<pb::Refusal, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::REFUSAL_NOT_FOUND)?;
    let mut v = Validator::new();
    if !req.approve && req.note.trim().is_empty() {
        v.add("note", msg::NOTE_REQUIRED);
    }
    v.max_len("note", &req.note, TEXT);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let r = refusal(&mut tx, id, true)
        .await?
        .filter(|r| access::oversees(p, &r.unit()))
        .ok_or_else(|| AppError::not_found(msg::REFUSAL_NOT_FOUND))?;
    ensure(access::decides_for_org(p, &r.unit()))?;
    if r.status != "requested" {
        return Err(AppError::conflict(msg::REFUSAL_DECIDED));
    }
    if req.approve {
        pd_calendar::ensure_not_over(&mut tx, r.campaign_id, APPLICATIONS, s.clock.now()).await?;
    }
    let answer = settle(&s, &mut tx, &ctx, &r, req.approve, req.note.trim()).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(answer)
}

/// Records the decision on a requested refusal (approval frees its place)
/// and its event; the refusal as it now stands.
async fn settle(
    s: &State,
    tx: &mut PgConnection,
    ctx: &RpcContext,
    r: &RefusalRow,
    approve: bool,
    note: &str,
) -> Result<pb::Refusal, AppError> {
    let p = ctx.principal()?;
    let status = if approve { "approved" } else { "rejected" };
    sqlx::query(
        "UPDATE refusals SET status = $2, decision_note = $3, decided_by = $4, decided_at = $5 WHERE id = $1",
    )
    .bind(r.id)
    .bind(status)
    .bind(note)
    .bind(p.user_id)
    .bind(s.clock.now())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if approve {
        free_place(s, tx, ctx, r).await?;
    }
    let answer = refusal(tx, r.id, false)
        .await?
        .ok_or_else(|| AppError::not_found(msg::REFUSAL_NOT_FOUND))?
        .into_proto();
    let event = pb::RefusalDecided {
        refusal: Some(answer.clone()),
    };
    s.outbox
        .write(
            tx,
            "refusal_decided",
            &r.id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    Ok(answer)
}

/// The refused number stops funding its holder; its place waits, free, for
/// the organization's operator.
async fn free_place(
    s: &State,
    tx: &mut PgConnection,
    ctx: &RpcContext,
    r: &RefusalRow,
) -> Result<(), AppError> {
    // The place's handover windows run from this instant.
    let now = s.clock.now();
    // An application may have used the number since the request.
    let refused = sqlx::query(
        "UPDATE unique_numbers SET status = 'refused' WHERE id = $1 AND status = 'assigned'",
    )
    .bind(r.number_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if refused.rows_affected() == 0 {
        return Err(AppError::conflict(msg::NUMBER_USED));
    }
    let place = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO free_places (id, campaign_id, region_id, municipality_id, organization_id, freed_number, freed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(place)
    .bind(r.campaign_id)
    .bind(r.region_id)
    .bind(r.municipality_id)
    .bind(r.organization_id)
    .bind(r.number_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let released = number_by_id(tx, r.number_id, now).await?;
    s.outbox
        .write(
            tx,
            "unique_number_released",
            &r.number_id.to_string(),
            &ctx.actor(),
            &pb::UniqueNumberReleased {
                unique_number: Some(released),
            },
        )
        .await
        .map_err(db_error)?;
    let freed = free_places(tx, s.windows, PlaceFilter::one(place), (1, 0), now)
        .await?
        .1
        .into_iter()
        .next();
    s.outbox
        .write(
            tx,
            "place_freed",
            &place.to_string(),
            &ctx.actor(),
            &pb::PlaceFreed { place: freed },
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn number_by_id(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<pb::UniqueNumber, AppError> {
    let filter = NumberFilter {
        id: Some(id),
        ..Default::default()
    };
    numbers::fetch(conn, filter, now, (1, 0))
        .await?
        .1
        .into_iter()
        .next()
        .map(numbers::NumberView::into_proto)
        .ok_or_else(|| AppError::not_found(msg::NUMBER_NOT_FOUND))
}

/// Refusals of the caller's scope.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListRefusalsRequest,
) -> Result<pb::RefusalList, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let scope = db::scope(&mut conn, p, &c, &req.organization_id, &req.municipality_id).await?;
    if !matches!(
        req.status.as_str(),
        "" | "requested" | "approved" | "rejected"
    ) {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let rows: Vec<RefusalWithTotal> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REFUSALS} WHERE f.campaign_id = $1 AND ($2::uuid IS NULL OR u.organization_id = $2)
           AND ($3::uuid IS NULL OR u.municipality_id = $3) AND ($4 = '' OR f.status = $4)
         ORDER BY f.requested_at LIMIT $5 OFFSET $6"
    )))
    .bind(c.id)
    .bind(scope.organization)
    .bind(scope.municipality)
    .bind(&req.status)
    .bind(limit(req.limit)?)
    .bind(offset(req.offset)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::RefusalList {
        total: rows.first().map(|r| r.total).unwrap_or(0),
        items: rows.into_iter().map(|r| r.row.into_proto()).collect(),
    })
}

// ---------- free places ----------

/// Records and publishes every handover due at `now`: open places whose
/// window ended move to the next level (`place_escalated`), one transaction each,
/// skipping places another instance is handling.
pub(crate) async fn escalate(s: &State, now: DateTime<Utc>) -> Result<(), AppError> {
    let (org, muni) = (
        i64::from(s.windows.organization_days),
        i64::from(s.windows.municipality_days),
    );
    loop {
        let mut tx = s.pool.begin().await.map_err(db_error)?;
        let due: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT id, level FROM free_places
             WHERE taken_by IS NULL AND organization_id IS NOT NULL
               AND ((level = 'organization' AND freed_at + make_interval(days => $1::int) <= $3)
                 OR (level = 'municipality' AND freed_at + make_interval(days => ($1 + $2)::int) <= $3))
             ORDER BY freed_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(org)
        .bind(muni)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some((id, from)) = due else { return Ok(()) };
        let place = place_rows(&mut tx, &PlaceFilter::one(id), (1, 0), false)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(msg::PLACE_NOT_FOUND))?;
        let level = place.level(s.windows, now);
        sqlx::query("UPDATE free_places SET level = $2 WHERE id = $1")
            .bind(id)
            .bind(level.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let event = pb::PlaceEscalated {
            place: Some(place.into_proto(s.windows, now)),
            from_level: from,
        };
        s.outbox
            .write(
                &mut tx,
                "place_escalated",
                &id.to_string(),
                "system",
                &event,
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
    }
}

#[derive(sqlx::FromRow)]
struct PlaceRow {
    id: Uuid,
    campaign_id: Uuid,
    region_id: Uuid,
    organization_id: Option<Uuid>,
    municipality_id: Option<Uuid>,
    freed_number: Option<String>,
    freed_at: DateTime<Utc>,
    taken_by_number: Option<String>,
    total: i64,
}

impl PlaceRow {
    fn reserve(&self) -> bool {
        self.organization_id.is_none()
    }

    fn level(&self, w: Windows, now: DateTime<Utc>) -> Level {
        cascade::level_at(self.freed_at, self.reserve(), w, now)
    }

    fn into_proto(self, w: Windows, now: DateTime<Utc>) -> pb::FreePlace {
        let (org_until, muni_until) = cascade::deadlines(self.freed_at, w);
        let reserve = self.reserve();
        pb::FreePlace {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            organization_id: self
                .organization_id
                .map(|o| o.to_string())
                .unwrap_or_default(),
            municipality_id: self
                .municipality_id
                .map(|m| m.to_string())
                .unwrap_or_default(),
            level: self.level(w, now).as_str().into(),
            freed_number: self.freed_number.unwrap_or_default(),
            freed_at: ts(self.freed_at),
            organization_until: if reserve {
                String::new()
            } else {
                ts(org_until)
            },
            municipality_until: if reserve {
                String::new()
            } else {
                ts(muni_until)
            },
            status: if self.taken_by_number.is_some() {
                "taken"
            } else {
                "open"
            }
            .into(),
            taken_by_number: self.taken_by_number.unwrap_or_default(),
        }
    }
}

#[derive(Default)]
struct PlaceFilter {
    id: Option<Uuid>,
    campaign: Option<Uuid>,
    scope: db::Scope,
    status: String,
}

impl PlaceFilter {
    fn one(id: Uuid) -> Self {
        PlaceFilter {
            id: Some(id),
            ..Default::default()
        }
    }
}

async fn free_places(
    conn: &mut PgConnection,
    w: Windows,
    f: PlaceFilter,
    (limit, offset): (i64, i64),
    now: DateTime<Utc>,
) -> Result<(i64, Vec<pb::FreePlace>), AppError> {
    let rows = place_rows(conn, &f, (limit, offset), false).await?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    Ok((
        total,
        rows.into_iter().map(|r| r.into_proto(w, now)).collect(),
    ))
}

async fn place_rows(
    conn: &mut PgConnection,
    f: &PlaceFilter,
    (limit, offset): (i64, i64),
    lock: bool,
) -> Result<Vec<PlaceRow>, AppError> {
    if lock && let Some(id) = f.id {
        // Row locks cannot be taken by the query with a window function.
        sqlx::query("SELECT 1 FROM free_places WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    // Reserve places have no organization or municipality: only a
    // region-wide view shows them.
    sqlx::query_as(
        "SELECT p.id, p.campaign_id, p.region_id, p.organization_id, p.municipality_id,
                fu.number AS freed_number, p.freed_at, tu.number AS taken_by_number,
                count(*) OVER () AS total
         FROM free_places p
         LEFT JOIN unique_numbers fu ON fu.id = p.freed_number
         LEFT JOIN unique_numbers tu ON tu.id = p.taken_by
         WHERE ($1::uuid IS NULL OR p.id = $1) AND ($2::uuid IS NULL OR p.campaign_id = $2)
           AND ($3::uuid IS NULL OR p.organization_id = $3) AND ($4::uuid IS NULL OR p.municipality_id = $4)
           AND ($5 = '' OR ($5 = 'taken') = (p.taken_by IS NOT NULL))
         ORDER BY p.freed_at, p.id LIMIT $6 OFFSET $7",
    )
    .bind(f.id)
        .bind(f.campaign)
        .bind(f.scope.organization)
        .bind(f.scope.municipality)
        .bind(&f.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await
        .map_err(db_error)
}

/// Freed places of the caller's scope, with whose turn it is and until when.
pub(crate) async fn list_places(
    s: State,
    ctx: RpcContext,
    req: pb::ListFreePlacesRequest,
) -> Result<pb::FreePlaceList, AppError> {
    let p = ctx.principal()?;
    // Handovers due are recorded before anyone reads whose turn it is, by
    // the instant the list then shows.
    let now = s.clock.now();
    escalate(&s, now).await?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let c = db::campaign(&mut conn, p, &req.campaign_id).await?;
    let scope = db::scope(&mut conn, p, &c, &req.organization_id, &req.municipality_id).await?;
    if !matches!(req.status.as_str(), "" | "open" | "taken") {
        return Err(AppError::invalid("status", msg::STATUS));
    }
    let filter = PlaceFilter {
        campaign: Some(c.id),
        scope,
        status: req.status,
        ..Default::default()
    };
    let (total, items) = free_places(
        &mut conn,
        s.windows,
        filter,
        (limit(req.limit)?, offset(req.offset)?),
        now,
    )
    .await?;
    Ok(pb::FreePlaceList { items, total })
}

/// Whether the caller may give the place away now: the level whose turn
/// it is, and only that level (the windows are enforced both ways).
fn may_reassign(p: &Principal, level: Level, place: &PlaceRow) -> bool {
    match level {
        Level::Organization => place
            .organization_id
            .is_some_and(|o| p.has_scope(Role::OrgOperator, o)),
        Level::Municipality => place
            .municipality_id
            .is_some_and(|m| p.has_scope(Role::MunicipalOperator, m)),
        Level::Region => access::manages_region(p, place.region_id),
    }
}

/// Gives a free place to a confirmed candidate without a number, within the
/// organization, municipality or region whose turn it is: a new number for
/// them, the refused one marked reassigned.
pub(crate) async fn reassign(
    s: State,
    ctx: RpcContext,
    req: pb::ReassignRequest,
) -> Result<pb::UniqueNumber, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.place_id, msg::PLACE_NOT_FOUND)?;
    let educator = db::body_id("educator_id", &req.educator_id)?;
    // One instant records the handovers due and decides whose turn it is.
    let now = s.clock.now();
    escalate(&s, now).await?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let place = place_rows(&mut tx, &PlaceFilter::one(id), (1, 0), true)
        .await?
        .into_iter()
        .next()
        .filter(|r| p.in_region(r.region_id))
        .ok_or_else(|| AppError::not_found(msg::PLACE_NOT_FOUND))?;
    let c = db::campaign(&mut tx, p, &place.campaign_id.to_string()).await?;
    let level = place.level(s.windows, now);
    if !may_reassign(p, level, &place) {
        let visible = place.organization_id.is_some_and(|o| {
            access::oversees(
                p,
                &Unit {
                    region: place.region_id,
                    municipality: place.municipality_id.unwrap_or_default(),
                    organization: o,
                },
            )
        }) || access::manages_region(p, place.region_id);
        if !visible {
            return Err(AppError::not_found(msg::PLACE_NOT_FOUND));
        }
        return Err(AppError::forbidden(msg::NOT_YOUR_TURN).with("level", level.as_str()));
    }
    if place.taken_by_number.is_some() {
        return Err(AppError::conflict(msg::PLACE_TAKEN));
    }
    pd_calendar::ensure_not_over(&mut tx, c.id, APPLICATIONS, now).await?;
    let holder = new_holder(&mut tx, &c, &place, level, educator).await?;
    let freed: Option<Uuid> =
        sqlx::query_scalar("SELECT freed_number FROM free_places WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    let row = NumberRow {
        id: Uuid::now_v7(),
        number: un::generate(&mut rand::thread_rng()),
        campaign_id: c.id,
        region_id: c.region,
        municipality_id: holder.1,
        organization_id: holder.0,
        educator_id: educator,
        position: holder.2,
        assigned_by_level: level.as_str().into(),
        replaces: freed,
        assigned_at: now,
    };
    numbers::insert(&mut tx, &c.pd_model, std::slice::from_ref(&row)).await?;
    if let Some(old) = freed {
        sqlx::query("UPDATE unique_numbers SET status = 'reassigned' WHERE id = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    if c.pd_model == "voucher_hours" {
        crate::funding::ensure_vouchers_within_budget(&mut tx, c.id).await?;
    }
    sqlx::query("UPDATE free_places SET taken_by = $2, taken_at = $3 WHERE id = $1")
        .bind(id)
        .bind(row.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let number = number_by_id(&mut tx, row.id, now).await?;
    let taken = free_places(&mut tx, s.windows, PlaceFilter::one(id), (1, 0), now)
        .await?
        .1
        .into_iter()
        .next();
    s.outbox
        .write(
            &mut tx,
            "unique_number_assigned",
            &row.id.to_string(),
            &ctx.actor(),
            &pb::UniqueNumberAssigned {
                unique_number: Some(number.clone()),
                voucher_blocks: numbers::new_blocks(&c.pd_model, &row.position),
            },
        )
        .await
        .map_err(db_error)?;
    s.outbox
        .write(
            &mut tx,
            "place_reassigned",
            &id.to_string(),
            &ctx.actor(),
            &pb::PlaceReassigned {
                place: taken,
                unique_number: Some(number.clone()),
            },
        )
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &number).await?;
    Ok(number)
}

/// The new holder: a confirmed candidate of the campaign without a
/// number (live or refused this year), in the place's organization, municipality or region as the
/// level allows. Returns their organization, municipality and position.
async fn new_holder(
    tx: &mut PgConnection,
    c: &Campaign,
    place: &PlaceRow,
    level: Level,
    educator: Uuid,
) -> Result<(Uuid, Uuid, String), AppError> {
    // A confirmed candidate: due, included, their organization's list confirmed.
    let row: Option<(Uuid, Uuid, String, bool, bool)> = sqlx::query_as(
        "SELECT c.organization_id, c.municipality_id, e.position,
                EXISTS (SELECT 1 FROM unique_numbers u WHERE u.campaign_id = $1 AND u.educator_id = $2
                                                       AND u.status IN ('assigned', 'used')),
                EXISTS (SELECT 1 FROM unique_numbers u WHERE u.campaign_id = $1 AND u.educator_id = $2
                                                       AND u.status IN ('refused', 'reassigned'))
         FROM candidates c
         JOIN known_educators e ON e.id = c.educator_id
         JOIN candidate_lists l ON l.campaign_id = c.campaign_id AND l.organization_id = c.organization_id
         WHERE c.campaign_id = $1 AND c.educator_id = $2 AND c.eligible AND c.status = 'included'",
    )
    .bind(c.id)
    .bind(educator)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let (org, muni, position, funded, refused) =
        row.ok_or_else(|| AppError::invalid("educator_id", msg::NOT_CONFIRMED))?;
    if funded {
        return Err(AppError::conflict(msg::ALREADY_FUNDED));
    }
    // A refusal is for the year: the place goes to someone else.
    if refused {
        return Err(AppError::conflict(msg::REFUSED_THIS_YEAR));
    }
    let inside = match level {
        Level::Organization => place.organization_id == Some(org),
        Level::Municipality => place.municipality_id == Some(muni),
        Level::Region => true,
    };
    if !inside {
        return Err(AppError::invalid("educator_id", msg::OUT_OF_PLACE_SCOPE));
    }
    Ok((org, muni, position))
}
