//! Applications: applying with a unique number to a group (the seat, the
//! row and the event in one transaction), withdrawing with a reason (the
//! freed seat goes to the head of the waitlist in the same transaction),
//! and reading one's own. Operators of the educator's scope may do each
//! on the educator's behalf.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::Outbox;
use pd_domain::unique_number as un;
use pd_domain::{AppError, Principal};
use pd_proto::enrollment::v1 as pb;
use pd_runtime::batch::{Batcher, by_place};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::{self, body_id, date, db_error, optional_id, path_id, ts};
use crate::domain::access::{self, Unit};
use crate::domain::vouchers::{self, VoucherError};
use crate::domain::withdrawal::{self, ReasonError};
use crate::seats::{self, Seat};
use crate::{State, messages as msg};

/// An application as read back, with what the lists show of it.
#[derive(sqlx::FromRow, Clone)]
pub(crate) struct AppRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub region_id: Uuid,
    pub municipality_id: Uuid,
    pub organization_id: Uuid,
    pub educator_id: Uuid,
    pub educator_name: String,
    pub group_id: Uuid,
    pub program_id: Uuid,
    pub program_title: String,
    pub provider_name: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// None for routes and team members (cumulative_route).
    pub unique_number_id: Option<Uuid>,
    pub number: String,
    /// voucher_hours: the voucher's blocks (positions) it spends.
    pub voucher_blocks: Vec<i32>,
    /// cumulative_route: the route's modules and the plan-order hours drawn.
    pub modules: Vec<String>,
    pub hours: i32,
    pub team_id: Option<Uuid>,
    pub status: String,
    pub waitlist_position: i64,
    pub reason: String,
    pub note: String,
    pub filed_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The educator's name as identity has it now, else as allocation named
/// them (`e`: known_educators, `n`: unique_numbers).
macro_rules! educator_name {
    () => {
        "coalesce(nullif(concat_ws(' ', e.last_name, e.first_name, nullif(e.middle_name, '')), ''), n.educator_name)"
    };
}
pub(crate) use educator_name;

/// The application view; `WHERE`, order and paging are the caller's.
pub(crate) const APPLICATIONS: &str = concat!(
    "SELECT a.id, a.campaign_id, a.region_id, a.municipality_id, a.organization_id, a.educator_id, ",
    educator_name!(),
    " AS educator_name,
           a.group_id, a.program_id, g.program_title, g.provider_name, g.starts_on, g.ends_on,
           a.unique_number_id, coalesce(n.number, '') AS number, a.voucher_blocks,
           a.modules, a.hours, a.team_id, a.status,
           CASE WHEN a.status = 'waitlisted' THEN
               (SELECT count(*) FROM applications w
                WHERE w.group_id = a.group_id AND w.status = 'waitlisted' AND w.seq <= a.seq)
           ELSE 0 END AS waitlist_position,
           a.reason, a.note, a.filed_by, a.created_at, a.updated_at
    FROM applications a
    JOIN groups g ON g.id = a.group_id
    LEFT JOIN unique_numbers n ON n.id = a.unique_number_id
    LEFT JOIN known_educators e ON e.id = a.educator_id"
);

impl AppRow {
    pub fn unit(&self) -> Unit {
        Unit {
            region: self.region_id,
            municipality: self.municipality_id,
            organization: self.organization_id,
        }
    }

    pub fn snapshot(&self) -> pb::ApplicationSnapshot {
        pb::ApplicationSnapshot {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            educator_id: self.educator_id.to_string(),
            organization_id: self.organization_id.to_string(),
            group_id: self.group_id.to_string(),
            program_id: self.program_id.to_string(),
            unique_number_id: self
                .unique_number_id
                .map(|n| n.to_string())
                .unwrap_or_default(),
            voucher_blocks: self.voucher_blocks.clone(),
            hours: self.hours,
            status: self.status.clone(),
        }
    }

    pub fn into_proto(self) -> pb::Application {
        pb::Application {
            id: self.id.to_string(),
            campaign_id: self.campaign_id.to_string(),
            educator_id: self.educator_id.to_string(),
            educator_name: self.educator_name,
            organization_id: self.organization_id.to_string(),
            municipality_id: self.municipality_id.to_string(),
            group_id: self.group_id.to_string(),
            program_id: self.program_id.to_string(),
            program_title: self.program_title,
            group_starts_on: date(self.starts_on),
            group_ends_on: date(self.ends_on),
            unique_number: self.number,
            voucher_blocks: self.voucher_blocks,
            modules: self.modules,
            hours: self.hours,
            team_id: self.team_id.map(|t| t.to_string()).unwrap_or_default(),
            status: self.status,
            waitlist_position: self.waitlist_position as i32,
            reason: self.reason,
            note: self.note,
            filed_by: self.filed_by,
            submitted_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
            provider_name: self.provider_name,
        }
    }
}

/// Applications by id, in their order of arrival.
pub(crate) async fn by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<AppRow>, sqlx::Error> {
    // A custom plan per call (0.4 ms of planning): the generic one, through
    // `ANY((SELECT $1::uuid[])::uuid[])`, ran 2 ms a call in the December
    // window (BENCHMARKS.md), five times what the planning saves.
    let sql = format!("{APPLICATIONS} WHERE a.id = ANY($1) ORDER BY a.seq");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await
}

async fn one(conn: &mut PgConnection, id: Uuid) -> Result<Option<AppRow>, AppError> {
    Ok(by_ids(conn, &[id]).await.map_err(db_error)?.pop())
}

/// Everything applying checks, read in one round trip: the number as
/// enrollment knows it, the group, whether the application phase is open,
/// the number's active application, if any, and whether the group has a
/// seat (or, full, which of the program's groups still have one).
#[derive(sqlx::FromRow)]
pub(crate) struct Applying {
    /// The request's place in its batch (from 1).
    place: i64,
    number_id: Uuid,
    number: String,
    campaign_id: Uuid,
    educator_id: Uuid,
    educator_name: String,
    organization_id: Uuid,
    municipality_id: Uuid,
    funds: bool,
    group_campaign: Option<Uuid>,
    region_id: Option<Uuid>,
    program_id: Option<Uuid>,
    group_status: Option<String>,
    program_title: Option<String>,
    provider_name: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    program_kind: Option<String>,
    program_hours: Option<i32>,
    target_subjects: Option<Vec<String>>,
    taught: Option<Vec<String>>,
    phase_open: bool,
    /// The number's active application (a voucher's: in this group).
    active: Option<Uuid>,
    /// A voucher (voucher_hours): the application spends its blocks.
    voucher: bool,
    /// The group had a free seat and an open roster when read.
    seat_free: Option<bool>,
    /// The group was full when read: the program's other open groups with
    /// free seats, earliest first (as `seats::alternatives` orders them).
    alternatives: Option<Vec<Uuid>>,
    /// The request's fallbacks that had a seat when read, in its order
    /// (one pass over them with the next column; `None`: not one).
    fallbacks_open: Option<Vec<Uuid>>,
    /// The request's fallbacks that are no group of the number's campaign.
    fallbacks_unknown: Option<Vec<Uuid>>,
}

/// [`Applying`] of many requests in one statement: `$1` their numbers, `$2`
/// their groups, `$3` their instants, `$4` their fallback groups (ids
/// joined by commas: arrays of arrays must be of one length). Each is an index probe of the number
/// (the `LIMIT` keeps the planner from joining otherwise). The arrays are
/// read through `(SELECT $n)` so that the statement keeps one generic plan
/// (see `pd_bus::idempotency`'s key lookups).
const APPLYING: &str = concat!(
    "SELECT r.place, a.* FROM unnest((SELECT $1::text[]), (SELECT $2::uuid[]), (SELECT $3::timestamptz[]),
                                     (SELECT $4::text[]))
         WITH ORDINALITY AS r(number, group_id, at, fallbacks, place)
     CROSS JOIN LATERAL (
    SELECT n.id AS number_id, n.number, n.campaign_id, n.educator_id, ",
    educator_name!(),
    " AS educator_name, n.organization_id, n.municipality_id, n.funds,
           g.campaign_id AS group_campaign, g.region_id, g.program_id, g.status AS group_status,
           g.program_title, g.provider_name, g.starts_on, g.ends_on,
           g.program_kind, g.program_hours, g.target_subjects, e.subjects AS taught,
           EXISTS (SELECT 1 FROM voucher_blocks b WHERE b.number_id = n.id) AS voucher,
           EXISTS (SELECT 1 FROM campaign_calendar c
                   WHERE c.campaign_id = n.campaign_id AND c.phase = 'applications'
                     AND c.opens_at <= r.at AND r.at < c.closes_at) AS phase_open,
           (SELECT a.id FROM applications a
            WHERE a.unique_number_id = n.id AND a.status IN ('enrolled', 'waitlisted')
              AND (a.voucher_blocks = '{}' OR a.group_id = r.group_id) LIMIT 1) AS active,
           g.taken < g.capacity AND g.roster = 'open' AS seat_free,
           CASE WHEN g.taken >= g.capacity THEN
               ARRAY(SELECT o.id FROM groups o
                     WHERE o.program_id = g.program_id AND o.id <> g.id AND ",
    crate::seats::open_alternatives!(),
    ")
           END AS alternatives,
           fb.fallbacks_open, fb.fallbacks_unknown
    FROM unique_numbers n LEFT JOIN groups g ON g.id = r.group_id
    LEFT JOIN known_educators e ON e.id = n.educator_id
    CROSS JOIN LATERAL (
        SELECT array_agg(x.id ORDER BY x.o) FILTER (WHERE x.seat) AS fallbacks_open,
               array_agg(x.id ORDER BY x.o) FILTER (WHERE x.seat IS NULL) AS fallbacks_unknown
        FROM (SELECT u.id, u.o,
                     -- A probe per fallback (never a join: without fallbacks,
                     -- as most requests are, nothing of `groups` is read).
                     (SELECT f.status = 'published' AND f.roster = 'open' AND f.taken < f.capacity
                      FROM groups f WHERE f.id = u.id AND f.campaign_id = n.campaign_id) AS seat
              FROM unnest(string_to_array(r.fallbacks, ',')::uuid[]) WITH ORDINALITY AS u(id, o)) x) fb
    WHERE n.number = r.number LIMIT 1) a"
);

/// What one apply request reads: its number, group, instant and fallback
/// groups (comma-joined ids, empty for none).
pub(crate) type ApplyingKey = (String, Uuid, DateTime<Utc>, String);
/// The reads of concurrent apply requests, run as one statement.
pub(crate) type Readers = Batcher<ApplyingKey, Result<Option<Applying>, AppError>>;

/// Starts the batched reads of [`Applying`] (the window's busiest read:
/// every apply request, half of them answered by it alone).
pub(crate) fn readers(pool: PgPool) -> Readers {
    Batcher::start(2, 128, move |keys| read_applying(pool.clone(), keys))
}

async fn read_applying(
    pool: PgPool,
    keys: Vec<ApplyingKey>,
) -> Vec<Result<Option<Applying>, AppError>> {
    let n = keys.len();
    let (mut numbers, mut groups, mut instants, mut fallbacks) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (number, group, at, others) in keys {
        numbers.push(number);
        groups.push(group);
        instants.push(at);
        fallbacks.push(others);
    }
    let rows = sqlx::query_as(APPLYING)
        .bind(&numbers)
        .bind(&groups)
        .bind(&instants)
        .bind(&fallbacks)
        .fetch_all(&pool)
        .await
        .map_err(db_error);
    by_place(n, rows, |row: &Applying| row.place)
}

fn number_error(e: un::NumberError) -> AppError {
    match e {
        un::NumberError::Malformed => AppError::invalid("unique_number", msg::NUMBER_MALFORMED),
        un::NumberError::Mistyped => AppError::invalid("unique_number", msg::NUMBER_MISTYPED)
            .with("reason", "check_character"),
    }
}

/// Whom the application is for: the caller themself, or (operators) the
/// educator named in the request.
pub(crate) fn applicant(p: &Principal, educator_id: &str) -> Result<Uuid, AppError> {
    if let Some(me) = access::educator_id(p)
        && (educator_id.is_empty() || educator_id == me.to_string())
    {
        return Ok(me);
    }
    optional_id("educator_id", educator_id)?
        .ok_or_else(|| AppError::invalid("educator_id", msg::EDUCATOR_REQUIRED))
}

/// Who files for the educator: the educator, or an operator of their
/// scope at the level they act at (403 for anyone else).
pub(crate) fn filed_by(
    p: &Principal,
    educator: Uuid,
    unit: &Unit,
) -> Result<&'static str, AppError> {
    if access::educator_id(p) == Some(educator) {
        return Ok("educator");
    }
    db::ensure(access::oversees(p, unit))?;
    Ok(access::level(p, unit))
}

/// Applies with a unique number to a group: only in the application
/// phase, with the educator's own funding number, one active application
/// per number; the seat (or, when asked, a waitlist place) is taken in the
/// same transaction as the row and its `application_submitted` event.
///
/// When the group is full, the request's fallback groups are tried in
/// its order, as the educator ranked them: at window opening a seat is
/// then taken in one request, instead of a 409 and another request
/// while the seats run out (the way school enrolment ranks its choices).
/// With every group full, the waitlist or the 409 is the first group's.
///
/// The window's two busiest answers cost one read and one statement: a
/// free seat is taken with its row, event and recorded answer in one
/// statement ([`take_seat_at_once`]), and a full group is answered from
/// the read. Waitlists, vouchers and a seat lost between the two run in a
/// transaction that holds the group's row only over its last statements.
pub(crate) async fn apply(
    s: State,
    ctx: RpcContext,
    req: pb::ApplyRequest,
) -> Result<pb::Application, AppError> {
    let p = ctx.principal()?;
    let group = body_id("group_id", &req.group_id)?;
    let fallbacks = fallbacks(group, &req.fallback_group_ids)?;
    let number = un::parse(&req.unique_number).map_err(number_error)?;
    let educator = applicant(p, &req.educator_id)?;
    let c = read(&s, educator, &number, group, &fallbacks).await?;
    if let Some(unknown) = c.fallbacks_unknown.as_ref().and_then(|u| u.first()) {
        return Err(
            AppError::invalid("fallback_group_ids", msg::FALLBACK_UNKNOWN)
                .with("group_id", unknown.to_string()),
        );
    }
    // The fallbacks that had a seat when the group was read full (all of
    // them if it had a seat then, and lost it before the write).
    let open = match c.seat_free {
        Some(true) => fallbacks.clone(),
        _ => c.fallbacks_open.clone().unwrap_or_default(),
    };
    let waitlist_now = req.join_waitlist && fallbacks.is_empty();
    let first_error = match apply_to(&s, &ctx, c, group, waitlist_now).await {
        Err(e) if passed_over(&e) && !fallbacks.is_empty() => e,
        answer => return answer,
    };
    for fallback in open {
        let tried = match read(&s, educator, &number, fallback, &[]).await {
            Ok(c) => apply_to(&s, &ctx, c, fallback, false).await,
            Err(e) => Err(e),
        };
        match tried {
            Err(e) if passed_over(&e) || not_for_this_number(&e) => continue,
            answer => return answer,
        }
    }
    match req.join_waitlist {
        true => {
            let c = read(&s, educator, &number, group, &[]).await?;
            apply_to(&s, &ctx, c, group, true).await
        }
        false => Err(first_error),
    }
}

/// The most groups an application may fall back on.
const MAX_FALLBACKS: usize = 9;

/// The request's fallback groups: ids, at most [`MAX_FALLBACKS`], none
/// repeated or the group applied to (422 naming the field otherwise).
fn fallbacks(group: Uuid, ids: &[String]) -> Result<Vec<Uuid>, AppError> {
    const FIELD: &str = "fallback_group_ids";
    if ids.len() > MAX_FALLBACKS {
        return Err(AppError::invalid(FIELD, msg::FALLBACKS_TOO_MANY));
    }
    let mut seen = vec![group];
    for id in ids {
        let id = body_id(FIELD, id)?;
        if seen.contains(&id) {
            return Err(AppError::invalid(FIELD, msg::FALLBACKS_REPEATED));
        }
        seen.push(id);
    }
    seen.remove(0);
    Ok(seen)
}

/// A group an application falls back from: full, cancelled, or its
/// roster fixed. Any other answer (a seat, a refusal of the number, of the
/// caller or of the phase) ends the request.
fn passed_over(e: &AppError) -> bool {
    e.kind == pd_domain::ErrorKind::Conflict
        && matches!(
            e.extensions.get("reason").map(String::as_str),
            Some("group_full" | "group_cancelled" | "window_closed")
        )
}

/// Reads everything applying to `group` checks (batched with other
/// requests' reads), and which of `fallbacks` have a seat if it is full.
async fn read(
    s: &State,
    educator: Uuid,
    number: &str,
    group: Uuid,
    fallbacks: &[Uuid],
) -> Result<Applying, AppError> {
    let fallbacks = fallbacks.iter().map(Uuid::to_string).collect::<Vec<_>>();
    s.applying
        .run((number.to_owned(), group, s.clock.now(), fallbacks.join(",")))
        .await
        .ok_or_else(|| {
            pd_bus::rpc::internal("reading an application", "its batch gave no answer")
        })??
        .filter(|c: &Applying| c.educator_id == educator)
        .ok_or_else(|| AppError::invalid("unique_number", msg::NUMBER_UNKNOWN))
}

/// A fallback group the number cannot pay for (a voucher's subject,
/// internship or hours rules) or is in already (a voucher's): passed over
/// like a full one. The group applied to first answers these itself.
fn not_for_this_number(e: &AppError) -> bool {
    e.kind == pd_domain::ErrorKind::Conflict
        && matches!(
            e.extensions.get("reason").map(String::as_str),
            Some("subject_mismatch" | "internship_only" | "voucher_hours" | "already_applied")
        )
}

/// Applies to one group, as read (see [`apply`]).
async fn apply_to(
    s: &State,
    ctx: &RpcContext,
    mut c: Applying,
    group: Uuid,
    join_waitlist: bool,
) -> Result<pb::Application, AppError> {
    let p = ctx.principal()?;
    let now = s.clock.now();
    let educator = c.educator_id;
    let (region, program) = match (c.region_id, c.program_id) {
        (Some(r), Some(program)) if p.in_region(r) => (r, program),
        _ => return Err(AppError::not_found(msg::GROUP_NOT_FOUND)),
    };
    let unit = Unit {
        region,
        municipality: c.municipality_id,
        organization: c.organization_id,
    };
    let filed_by = filed_by(p, educator, &unit)?;
    check_can_apply(&s.pool, &c, now).await?;
    if let (Some(others), false, false) = (&c.alternatives, c.voucher, join_waitlist) {
        return Err(seats::full(others));
    }
    // One connection for the writes.
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let voucher = c.voucher;
    let mut row = AppRow {
        id: Uuid::now_v7(),
        campaign_id: c.campaign_id,
        region_id: region,
        municipality_id: c.municipality_id,
        organization_id: c.organization_id,
        educator_id: educator,
        educator_name: std::mem::take(&mut c.educator_name),
        group_id: group,
        program_id: program,
        program_title: c.program_title.take().unwrap_or_default(),
        provider_name: c.provider_name.take().unwrap_or_default(),
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        unique_number_id: Some(c.number_id),
        number: std::mem::take(&mut c.number),
        voucher_blocks: Vec::new(),
        modules: Vec::new(),
        hours: 0,
        team_id: None,
        status: Seat::Taken.status().to_owned(),
        waitlist_position: 0,
        reason: String::new(),
        note: String::new(),
        filed_by: filed_by.to_owned(),
        created_at: now,
        updated_at: now,
    };
    if !voucher
        && c.seat_free == Some(true)
        && let Some(answer) = take_seat_at_once(s, ctx, &mut conn, &row).await?
    {
        return Ok(answer);
    }
    // Otherwise (or when the last seat went meanwhile) in a transaction.
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(db_error)?;
    if voucher {
        row.voucher_blocks = voucher_blocks(&mut tx, &c).await?;
    }
    let (seat, position) = seats::take(&mut tx, group, join_waitlist).await?;
    if voucher {
        spend(&mut tx, c.number_id, row.id, &row.voucher_blocks).await?;
    }
    row.status = seat.status().to_owned();
    row.waitlist_position = position;
    insert(&mut tx, &NewApplication::of(&row, seat, p.user_id))
        .await
        .map_err(|e| number_taken(e, voucher))?;
    acknowledge(s, ctx, tx, row, seat).await
}

/// Names a unique violation of a new application's row: another request
/// with the same number (a voucher: for the same group) won the race.
/// Other errors (of the event's rows too) are the database's.
fn number_taken(e: sqlx::Error, voucher: bool) -> AppError {
    let on_row = matches!(&e, sqlx::Error::Database(d)
        if d.code().as_deref() == Some("23505")
            && d.constraint().is_some_and(|c| c.starts_with("applications_")));
    match on_row {
        false => db_error(e),
        true if voucher => {
            AppError::conflict(msg::ALREADY_IN_GROUP).with("reason", "already_applied")
        }
        true => AppError::conflict(msg::NUMBER_IN_USE).with("reason", "number_in_use"),
    }
}

/// Takes a free seat with the row, its `application_submitted` event and
/// the answer recorded for the request's key, in one statement: one round
/// trip and an implicit transaction, which a conflict on the number or on
/// the key rolls back whole. `None` when the group had no seat left by
/// then (nothing written).
async fn take_seat_at_once(
    s: &State,
    ctx: &RpcContext,
    conn: &mut PgConnection,
    row: &AppRow,
) -> Result<Option<pb::Application>, AppError> {
    let p = ctx.principal()?;
    let event = pb::ApplicationSubmitted {
        application: Some(row.snapshot()),
    };
    let mut q =
        sqlx::QueryBuilder::new("WITH seat AS (UPDATE groups SET taken = taken + 1 WHERE id = ");
    q.push_bind(row.group_id)
        .push(" AND status = 'published' AND roster = 'open' AND taken < capacity RETURNING id), ")
        .push("app AS (INSERT INTO applications (")
        .push(COLUMNS)
        .push(") SELECT ");
    push_values(&mut q, &NewApplication::of(row, Seat::Taken, p.user_id));
    q.push(" FROM seat RETURNING id)");
    let id = row.id.to_string();
    s.outbox
        .push_first_event(
            &mut q,
            "app",
            "application_submitted",
            &id,
            &ctx.actor(),
            &event,
        )
        .map_err(db_error)?;
    let answer = row.clone().into_proto();
    ctx.push_answer(&mut q, "app", &answer);
    q.push(" SELECT id FROM app");
    let written: Option<Uuid> = ctx
        .settle(q.build_query_scalar().fetch_optional(conn).await)?
        .map_err(|e| number_taken(e, false))?;
    if written.is_none() {
        return Ok(None);
    }
    crate::metrics::applied(Seat::Taken);
    Ok(Some(answer))
}

/// Writes the new application's `application_submitted` event and commits
/// with the answer (recorded for its idempotency key).
pub(crate) async fn acknowledge(
    s: &State,
    ctx: &RpcContext,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    row: AppRow,
    seat: Seat,
) -> Result<pb::Application, AppError> {
    let event = pb::ApplicationSubmitted {
        application: Some(row.snapshot()),
    };
    let id = row.id.to_string();
    s.outbox
        .write(&mut tx, "application_submitted", &id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    let answer = row.into_proto();
    ctx.commit(tx, &answer).await?;
    crate::metrics::applied(seat);
    Ok(answer)
}

/// A new application's row: a number's (`voucher_blocks` for a voucher),
/// or a route's (`modules`, `hours`, no number).
pub(crate) struct NewApplication<'a> {
    pub id: Uuid,
    pub campaign: Uuid,
    pub unit: Unit,
    pub educator: Uuid,
    pub group: Uuid,
    pub program: Uuid,
    pub number: Option<Uuid>,
    pub seat: Seat,
    pub filed_by: &'a str,
    pub filed_by_user: Uuid,
    pub voucher_blocks: &'a [i32],
    pub modules: &'a [String],
    pub hours: i32,
}

impl<'a> NewApplication<'a> {
    /// The row of an application as it will be answered.
    pub fn of(row: &'a AppRow, seat: Seat, filed_by_user: Uuid) -> Self {
        NewApplication {
            id: row.id,
            campaign: row.campaign_id,
            unit: row.unit(),
            educator: row.educator_id,
            group: row.group_id,
            program: row.program_id,
            number: row.unique_number_id,
            seat,
            filed_by: &row.filed_by,
            filed_by_user,
            voucher_blocks: &row.voucher_blocks,
            modules: &row.modules,
            hours: row.hours,
        }
    }
}

/// The columns a new application's row is written with, in the order of
/// [`push_values`].
const COLUMNS: &str = "id, campaign_id, region_id, municipality_id, organization_id, educator_id, \
     group_id, program_id, unique_number_id, status, filed_by, filed_by_user, voucher_blocks, \
     modules, hours";

/// The row's values, bound in the order of [`COLUMNS`].
fn push_values(q: &mut sqlx::QueryBuilder<sqlx::Postgres>, a: &NewApplication<'_>) {
    let mut v = q.separated(", ");
    v.push_bind(a.id)
        .push_bind(a.campaign)
        .push_bind(a.unit.region)
        .push_bind(a.unit.municipality)
        .push_bind(a.unit.organization)
        .push_bind(a.educator)
        .push_bind(a.group)
        .push_bind(a.program)
        .push_bind(a.number)
        .push_bind(a.seat.status())
        .push_bind(a.filed_by.to_owned())
        .push_bind(a.filed_by_user)
        .push_bind(a.voucher_blocks.to_vec())
        .push_bind(a.modules.to_vec())
        .push_bind(a.hours);
}

/// Writes the row (a unique violation is the caller's to name).
pub(crate) async fn insert(
    tx: &mut PgConnection,
    a: &NewApplication<'_>,
) -> Result<(), sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new("INSERT INTO applications (");
    q.push(COLUMNS).push(") VALUES (");
    push_values(&mut q, a);
    q.push(")");
    q.build().execute(tx).await.map(|_| ())
}

/// The number still funds, the group is open for this campaign's
/// applications, and no other application uses the number.
async fn check_can_apply(pool: &PgPool, c: &Applying, now: DateTime<Utc>) -> Result<(), AppError> {
    if !c.funds {
        return Err(AppError::conflict(msg::NUMBER_RELEASED).with("reason", "number_released"));
    }
    if c.group_campaign != Some(c.campaign_id) {
        return Err(AppError::invalid("group_id", msg::GROUP_OTHER_CAMPAIGN));
    }
    if c.group_status.as_deref() != Some("published") {
        return Err(AppError::conflict(msg::GROUP_CANCELLED).with("reason", "group_cancelled"));
    }
    if !c.phase_open {
        // The 409 that names the phase and its dates.
        let mut conn = pool.acquire().await.map_err(db_error)?;
        pd_calendar::ensure_open(&mut conn, c.campaign_id, &["applications"], now).await?;
    }
    // A voucher may pay for several applications (one per block), each
    // to another group.
    if let Some(a) = c.active {
        let (detail, reason) = if c.voucher {
            (msg::ALREADY_IN_GROUP, "already_applied")
        } else {
            (msg::NUMBER_IN_USE, "number_in_use")
        };
        return Err(AppError::conflict(detail)
            .with("reason", reason)
            .with("application_id", a.to_string()));
    }
    Ok(())
}

/// The blocks of the voucher the application is to spend, by the
/// subject-match and internship rules (409 naming the rule otherwise).
async fn voucher_blocks(tx: &mut PgConnection, c: &Applying) -> Result<Vec<i32>, AppError> {
    let rows: Vec<(i32, String, i32, bool)> = sqlx::query_as(
        "SELECT position, kind, hours, application_id IS NULL FROM voucher_blocks
         WHERE number_id = $1 ORDER BY position",
    )
    .bind(c.number_id)
    .fetch_all(tx)
    .await
    .map_err(db_error)?;
    let blocks: Vec<vouchers::Block> = rows
        .into_iter()
        .map(|(position, kind, hours, open)| vouchers::Block {
            position,
            kind,
            hours,
            open,
        })
        .collect();
    let subjects = c.target_subjects.clone().unwrap_or_default();
    let program = vouchers::Program {
        kind: c.program_kind.as_deref().unwrap_or("ordinary"),
        hours: c.program_hours.unwrap_or(0),
        subjects: &subjects,
    };
    let taught = c.taught.clone().unwrap_or_default();
    vouchers::choose(&blocks, &program, &taught).map_err(|e| match e {
        VoucherError::SubjectMismatch => {
            AppError::conflict(msg::VOUCHER_SUBJECT).with("reason", "subject_mismatch")
        }
        VoucherError::InternshipOnly => {
            AppError::conflict(msg::VOUCHER_INTERNSHIP).with("reason", "internship_only")
        }
        VoucherError::NotEnoughHours { left } => AppError::conflict(msg::VOUCHER_HOURS)
            .with("reason", "voucher_hours")
            .with("hours_left", left.to_string())
            .with("hours_needed", program.hours.to_string()),
    })
}

/// Spends the blocks for the application: each only if still open (the
/// row lock orders two applications of one voucher; the loser gets a 409).
async fn spend(
    tx: &mut PgConnection,
    number: Uuid,
    application: Uuid,
    blocks: &[i32],
) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE voucher_blocks SET application_id = $3
         WHERE number_id = $1 AND position = ANY($2) AND application_id IS NULL",
    )
    .bind(number)
    .bind(blocks)
    .bind(application)
    .execute(tx)
    .await
    .map_err(db_error)?;
    if done.rows_affected() as usize != blocks.len() {
        return Err(AppError::conflict(msg::VOUCHER_BLOCK_SPENT).with("reason", "block_spent"));
    }
    Ok(())
}

/// Gives back what the ended applications drew: the voucher blocks they
/// spent and the plan-order hours of routes and team members.
pub(crate) async fn release_funding(tx: &mut PgConnection, ended: &[Uuid]) -> Result<(), AppError> {
    sqlx::query("UPDATE voucher_blocks SET application_id = NULL WHERE application_id = ANY($1)")
        .bind(ended)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "UPDATE hour_quotas q SET used = greatest(q.used - d.hours, 0)
         FROM (SELECT campaign_id, organization_id, sum(hours)::int AS hours FROM applications
               WHERE id = ANY($1) AND hours > 0 GROUP BY campaign_id, organization_id) d
         WHERE q.campaign_id = d.campaign_id AND q.organization_id = d.organization_id",
    )
    .bind(ended)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// An application the caller may see: their own, or one in their scope
/// (404 for anything else).
async fn visible(conn: &mut PgConnection, p: &Principal, id: &str) -> Result<AppRow, AppError> {
    let id = path_id(id, msg::APPLICATION_NOT_FOUND)?;
    one(conn, id)
        .await?
        .filter(|a| access::educator_id(p) == Some(a.educator_id) || access::oversees(p, &a.unit()))
        .ok_or_else(|| AppError::not_found(msg::APPLICATION_NOT_FOUND))
}

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::ApplicationRequest,
) -> Result<pb::Application, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    Ok(visible(&mut conn, p, &req.id).await?.into_proto())
}

/// The caller's own applications (educators), newest first.
pub(crate) async fn mine(
    s: State,
    ctx: RpcContext,
    req: pb::MyApplicationsRequest,
) -> Result<pb::ApplicationList, AppError> {
    let p = ctx.principal()?;
    let Some(me) = access::educator_id(p) else {
        return Ok(pb::ApplicationList::default());
    };
    let campaign = optional_id("campaign_id", &req.campaign_id)?;
    let sql = format!(
        "{APPLICATIONS} WHERE a.educator_id = $1 AND ($2::uuid IS NULL OR a.campaign_id = $2)
         ORDER BY a.seq DESC LIMIT 100"
    );
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let rows: Vec<AppRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(me)
        .bind(campaign)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::ApplicationList {
        total: rows.len() as i64,
        items: rows.into_iter().map(AppRow::into_proto).collect(),
    })
}

/// Withdraws an application with a reason, in the application phase (the
/// educator, or an operator of their scope). A freed seat goes to the
/// head of the group's waitlist in the same transaction.
pub(crate) async fn withdraw(
    s: State,
    ctx: RpcContext,
    req: pb::WithdrawRequest,
) -> Result<pb::Application, AppError> {
    let p = ctx.principal()?;
    withdrawal::check(&req.reason, &req.note).map_err(|e| match e {
        ReasonError::Unknown => AppError::invalid("reason", msg::REASON),
        ReasonError::NoteRequired => AppError::invalid("note", msg::NOTE_REQUIRED),
    })?;
    let mut v = pd_domain::error::Validator::new();
    v.max_len("note", &req.note, pd_domain::bounds::TEXT);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let a = visible(&mut tx, p, &req.id).await?;
    pd_calendar::ensure_open(&mut tx, a.campaign_id, &["applications"], s.clock.now()).await?;
    let ended = end(
        &mut tx,
        &s.outbox,
        &ctx.actor(),
        a.id,
        Ending {
            status: "withdrawn",
            reason: &req.reason,
            note: req.note.trim(),
        },
    )
    .await?
    .ok_or_else(|| AppError::conflict(msg::NOT_ACTIVE).with("reason", "not_active"))?;
    let answer = ended.into_proto();
    tx.commit().await.map_err(db_error)?;
    Ok(answer)
}

/// How an application ends.
pub(crate) struct Ending<'a> {
    /// withdrawn | rejected
    pub status: &'a str,
    pub reason: &'a str,
    pub note: &'a str,
}

/// Ends an active application (withdrawn by its educator, rejected when
/// its group is cancelled or its number released), gives back its seat or
/// waitlist place and promotes the waitlist's head: `application_withdrawn`
/// and `application_promoted` events in the same transaction. `None` when
/// the application is no longer active.
pub(crate) async fn end(
    tx: &mut PgConnection,
    outbox: &Outbox,
    actor: &str,
    id: Uuid,
    how: Ending<'_>,
) -> Result<Option<AppRow>, AppError> {
    let group: Option<Uuid> = sqlx::query_scalar("SELECT group_id FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(mut group) = group else {
        return Ok(None);
    };
    seats::lock(tx, group).await.map_err(db_error)?;
    // A merge may have moved the application while this waited for the
    // lock (it commits first, holding both groups): follow it.
    let now_in: Uuid =
        sqlx::query_scalar("SELECT group_id FROM applications WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    if now_in != group {
        group = now_in;
        seats::lock(tx, group).await.map_err(db_error)?;
    }
    // The educator's own withdrawal only while the roster is open (one
    // that waited for the lock past the window's close finds it fixed);
    // rejections (group cancelled, number released) come at any time.
    if how.status == "withdrawn" {
        seats::ensure_open(tx, group).await?;
    }
    let before: Option<String> = sqlx::query_scalar(
        "UPDATE applications a SET status = $2, reason = $3, note = $4, updated_at = now()
         FROM (SELECT id, status FROM applications WHERE id = $1 FOR UPDATE) old
         WHERE a.id = old.id AND old.status IN ('enrolled', 'waitlisted')
         RETURNING old.status",
    )
    .bind(id)
    .bind(how.status)
    .bind(how.reason)
    .bind(how.note)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some(before) = before else {
        return Ok(None);
    };
    release_funding(tx, &[id]).await?;
    let held = if before == "enrolled" {
        Seat::Taken
    } else {
        Seat::Waitlisted
    };
    let promoted = seats::give_back(tx, group, held).await.map_err(db_error)?;
    // A withdrawal found the roster open (checked above): nothing to fix.
    if how.status != "withdrawn" {
        crate::rosters::refix(tx, outbox, actor, group).await?;
    }
    let mut rows = by_ids(tx, &[id]).await.map_err(db_error)?;
    let ended = rows
        .pop()
        .ok_or_else(|| AppError::internal("the application just ended is missing"))?;
    let event = pb::ApplicationWithdrawn {
        application: Some(ended.snapshot()),
        reason: how.reason.to_owned(),
    };
    outbox
        .write(tx, "application_withdrawn", &id.to_string(), actor, &event)
        .await
        .map_err(db_error)?;
    promote(tx, outbox, actor, &promoted).await?;
    crate::metrics::ended(held);
    Ok(Some(ended))
}

/// `application_promoted` for each application that got a seat.
pub(crate) async fn promote(
    tx: &mut PgConnection,
    outbox: &Outbox,
    actor: &str,
    promoted: &[Uuid],
) -> Result<(), AppError> {
    if promoted.is_empty() {
        return Ok(());
    }
    for row in by_ids(tx, promoted).await.map_err(db_error)? {
        let event = pb::ApplicationPromoted {
            application: Some(row.snapshot()),
        };
        outbox
            .write(
                tx,
                "application_promoted",
                &row.id.to_string(),
                actor,
                &event,
            )
            .await
            .map_err(db_error)?;
    }
    crate::metrics::promoted(promoted.len());
    Ok(())
}
