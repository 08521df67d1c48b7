//! Windows: who may respond to an instrument, and when. A phase window
//! (the needs survey) follows its campaign phase in the calendar and is
//! open to every educator of the region; a personal window (diagnostics,
//! post-course) has its own instants, its members and an attempts limit.
//! Windows whose time is up are closed here (`window_closed` with who did
//! not respond), by a sweeper and whenever someone touches them.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::{AppError, Principal, Role};
use pd_proto::Message;
use pd_proto::surveys::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure, instant, optional_id, path_id, ts};
use crate::domain::access;
use crate::{State, attempts, instruments, messages as msg};

/// Test attempts in a post-course window when monitoring names none (seeds/001).
const DEFAULT_POST_COURSE_ATTEMPTS: i32 = 2;

/// Educators named per `window_not_responded` event (36-byte ids: about
/// 190 KB, within the outbox's 256 KiB).
const NOT_RESPONDED_PER_EVENT: usize = 5_000;

/// Educators one request may open a window for (its `window_closed` event
/// may list them all, within the outbox's 256 KiB).
const MAX_MEMBERS: usize = 3_000;

#[derive(FromRow, Clone)]
pub(crate) struct WindowRow {
    pub id: Uuid,
    pub instrument_id: Uuid,
    pub kind: String,
    pub region_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub phase: Option<String>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub attempts_limit: i32,
    pub source: String,
    pub reference: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub title: String,
    pub instrument_kind: String,
    pub purpose: String,
    pub program_id: Option<Uuid>,
}

/// Windows with their effective instants (a phase window's from the calendar).
const SELECT: &str = "SELECT w.id, w.instrument_id, w.kind, w.region_id, w.campaign_id, w.phase,
        COALESCE(w.opens_at, c.opens_at) AS opens_at, COALESCE(w.closes_at, c.closes_at) AS closes_at,
        w.attempts_limit, w.source, w.reference, w.closed_at, w.created_by,
        i.title, i.kind AS instrument_kind, i.purpose, i.program_id
    FROM windows w JOIN instruments i ON i.id = w.instrument_id
    LEFT JOIN campaign_calendar c ON c.campaign_id = w.campaign_id AND c.phase = w.phase";

impl WindowRow {
    /// open | upcoming | closed at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        match (self.opens_at, self.closes_at) {
            (Some(o), Some(c)) if o <= now && now < c => "open",
            (_, Some(c)) if c <= now => "closed",
            _ => "upcoming",
        }
    }

    /// `Ok` while open; a 409 otherwise (naming the phase for phase
    /// windows). Then holds the window (`FOR SHARE`) until the caller's
    /// transaction ends, so that closing it waits for answers being
    /// written and never reports as missing one stored after it.
    pub async fn ensure_open(
        &self,
        conn: &mut PgConnection,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let status = self.status(now);
        if let (Some(campaign), Some(phase), false) =
            (self.campaign_id, self.phase.as_deref(), status == "open")
        {
            // The row already carries the phase's instants; the calendar is
            // asked only for the 409 that names the phase and its dates.
            pd_calendar::ensure_open(conn, campaign, &[phase], now).await?;
        } else if self.phase.is_none() {
            match status {
                "open" => {}
                "upcoming" => {
                    return Err(AppError::conflict(msg::WINDOW_NOT_OPEN_YET)
                        .with("opens_at", self.opens_at.map(ts).unwrap_or_default()));
                }
                _ => {
                    return Err(AppError::conflict(msg::WINDOW_CLOSED)
                        .with("closes_at", self.closes_at.map(ts).unwrap_or_default()));
                }
            }
        }
        let closed: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT closed_at FROM windows WHERE id = $1 FOR SHARE")
                .bind(self.id)
                .fetch_one(conn)
                .await
                .map_err(db_error)?;
        match closed {
            None => Ok(()),
            Some(at) => Err(AppError::conflict(msg::WINDOW_CLOSED).with("closes_at", ts(at))),
        }
    }
}

pub(crate) async fn load(conn: &mut PgConnection, id: Uuid) -> Result<WindowRow, AppError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE w.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| AppError::not_found(msg::WINDOW_NOT_FOUND))
}

/// Whether `educator` may respond in the window.
async fn is_member(
    conn: &mut PgConnection,
    w: &WindowRow,
    educator: Uuid,
    p: &Principal,
) -> Result<bool, AppError> {
    if w.kind == "phase" {
        return Ok(p.grants.iter().any(|g| {
            g.role == Role::Educator && g.scope == Some(educator) && g.region == Some(w.region_id)
        }));
    }
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM window_members WHERE window_id = $1 AND educator_id = $2)",
    )
    .bind(w.id)
    .bind(educator)
    .fetch_one(conn)
    .await
    .map_err(db_error)
}

/// The window an educator responds in, with their id: 404 when it is not
/// theirs (never telling whose it is).
pub(crate) async fn for_respondent(
    conn: &mut PgConnection,
    p: &Principal,
    window: &str,
) -> Result<(WindowRow, Uuid), AppError> {
    let id = path_id(window, msg::WINDOW_NOT_FOUND)?;
    let educator =
        access::educator_id(p).ok_or_else(|| AppError::forbidden(msg::NOT_AN_EDUCATOR))?;
    let w = load(conn, id).await?;
    if !is_member(conn, &w, educator, p).await? {
        return Err(AppError::not_found(msg::WINDOW_NOT_FOUND));
    }
    Ok((w, educator))
}

async fn to_proto(
    conn: &mut PgConnection,
    w: WindowRow,
    p: &Principal,
    now: DateTime<Utc>,
) -> Result<pb::Window, AppError> {
    let members = if w.kind == "personal"
        && (access::manages_region(p, w.region_id) || w.created_by == Some(p.user_id))
    {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT educator_id FROM window_members WHERE window_id = $1 ORDER BY educator_id",
        )
        .bind(w.id)
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
        ids.iter().map(Uuid::to_string).collect()
    } else if w.kind == "personal" {
        access::educator_id(p)
            .map(|e| vec![e.to_string()])
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(pb::Window {
        id: w.id.to_string(),
        instrument_id: w.instrument_id.to_string(),
        status: w.status(now).into(),
        kind: w.kind,
        campaign_id: w.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
        phase: w.phase.unwrap_or_default(),
        opens_at: w.opens_at.map(ts).unwrap_or_default(),
        closes_at: w.closes_at.map(ts).unwrap_or_default(),
        attempts_limit: w.attempts_limit,
        source: w.source,
        closed_at: w.closed_at.map(ts).unwrap_or_default(),
        educator_ids: members,
        region_id: w.region_id.to_string(),
        title: w.title,
        instrument_kind: w.instrument_kind,
        purpose: w.purpose,
        program_id: w.program_id.map(|c| c.to_string()).unwrap_or_default(),
        reference: w.reference,
        questions: Vec::new(),
    })
}

/// An operator opens a window of a (diagnostic or other) instrument for a
/// list of educators of their scope.
pub(crate) async fn open(
    s: State,
    ctx: RpcContext,
    req: pb::OpenWindowRequest,
) -> Result<pb::Window, AppError> {
    let p = ctx.principal()?.clone();
    let instrument = path_id(&req.instrument_id, msg::INSTRUMENT_NOT_FOUND)?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let i = instruments::load(&mut tx, instrument).await?;
    if !i.readable_by(&p) {
        return Err(AppError::not_found(msg::INSTRUMENT_NOT_FOUND));
    }
    // The needs survey follows its phase; post-course windows are opened
    // by monitoring's completions (never with more attempts by hand).
    match i.purpose.as_str() {
        "needs_survey" => return Err(AppError::conflict(msg::WINDOW_PHASE_ONLY)),
        "post_course_survey" | "post_course_test" => {
            return Err(AppError::conflict(msg::WINDOW_POST_COURSE));
        }
        _ => {}
    }
    ensure(access::operates_in(&p, i.region_id))?;
    let now = s.clock.now();
    let opens = if req.opens_at.is_empty() {
        now
    } else {
        instant("opens_at", &req.opens_at)?
    };
    let closes = instant("closes_at", &req.closes_at)?;
    if closes <= opens || closes <= now {
        return Err(AppError::invalid("closes_at", msg::WINDOW_TIMES));
    }
    let attempts = if req.attempts_limit == 0 {
        1
    } else {
        req.attempts_limit
    };
    if !(1..=10).contains(&attempts) {
        return Err(AppError::invalid(
            "attempts_limit",
            pd_domain::bounds::out_of_range(1, 10),
        ));
    }
    let members = members(&mut tx, &p, i.region_id, &req.educator_ids).await?;
    let window = (opens, closes);
    let out = open_personal(
        &mut tx,
        &i,
        &members,
        window,
        attempts,
        ("operator", ""),
        Some(p.user_id),
    )
    .await?;
    let out = to_proto(&mut tx, out, &p, now).await?;
    ctx.commit(tx, &out).await?;
    Ok(out)
}

/// The educators named, each known, in the region and in the caller's
/// scope (422 naming those that are not).
async fn members(
    conn: &mut PgConnection,
    p: &Principal,
    region: Uuid,
    ids: &[String],
) -> Result<Vec<Uuid>, AppError> {
    if ids.is_empty() {
        return Err(AppError::invalid("educator_ids", msg::EDUCATORS_REQUIRED));
    }
    if ids.len() > MAX_MEMBERS {
        return Err(AppError::invalid(
            "educator_ids",
            pd_domain::bounds::too_many(MAX_MEMBERS),
        ));
    }
    let mut v = pd_domain::error::Validator::new();
    let mut out = Vec::with_capacity(ids.len());
    for (n, raw) in ids.iter().enumerate() {
        let field = format!("educator_ids[{n}]");
        let Ok(id) = Uuid::parse_str(raw) else {
            v.add(field, msg::EDUCATOR_NOT_FOUND);
            continue;
        };
        let place: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
            "SELECT region_id, municipality_id, organization_id FROM known_educators WHERE id = $1 AND active",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
        match place {
            Some((r, m, o)) if r == region => {
                let w = access::Workplace {
                    region: r,
                    municipality: m,
                    organization: o,
                };
                if access::oversees(p, &w) {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                } else {
                    v.add(field, msg::EDUCATOR_NOT_FOUND);
                }
            }
            _ => v.add(field, msg::EDUCATOR_NOT_FOUND),
        }
    }
    v.finish()?;
    Ok(out)
}

/// Writes a personal window and its members (operators now, monitoring's
/// post-course events later).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn open_personal(
    tx: &mut PgConnection,
    i: &instruments::InstrumentRow,
    members: &[Uuid],
    (opens, closes): (DateTime<Utc>, DateTime<Utc>),
    attempts: i32,
    (source, reference): (&str, &str),
    creator: Option<Uuid>,
) -> Result<WindowRow, AppError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO windows (id, instrument_id, kind, region_id, campaign_id, opens_at, closes_at, attempts_limit,
                              source, reference, created_by)
         VALUES ($1, $2, 'personal', $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(i.id)
    .bind(i.region_id)
    .bind(i.campaign_id)
    .bind(opens)
    .bind(closes)
    .bind(attempts)
    .bind(source)
    .bind(reference)
    .bind(creator)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO window_members (window_id, educator_id) SELECT $1, unnest($2::uuid[])",
    )
    .bind(id)
    .bind(members)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    load(tx, id).await
}

/// Monitoring's completion opened a post-course window: the educator
/// answers the program's post-course questionnaire (the region's default
/// when it has none) and takes its test, if there is one, with the
/// event's attempts limit. A window already opened for the completion is
/// not opened twice.
pub(crate) async fn open_post_course(
    conn: &mut PgConnection,
    e: &pd_proto::monitoring::v1::PostCourseWindowOpened,
) -> Result<(), AppError> {
    let region = body_id("region_id", &e.region_id)?;
    let educator = body_id("educator_id", &e.educator_id)?;
    let program = optional_id("program_id", &e.program_id)?;
    let opens = instant("opens_at", &e.opens_at)?;
    let closes = instant("closes_at", &e.closes_at)?;
    if closes <= opens {
        return Err(AppError::invalid("closes_at", msg::WINDOW_TIMES));
    }
    // Two deliveries of one completion (a replay, two instances) open it once.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('post_course:' || $1))")
        .bind(&e.completion_id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    for purpose in ["post_course_survey", "post_course_test"] {
        let Some(i) = instruments::post_course(conn, region, program, purpose).await? else {
            continue;
        };
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM windows WHERE instrument_id = $1 AND source = 'monitoring' AND reference = $2
                              AND EXISTS (SELECT 1 FROM window_members m WHERE m.window_id = windows.id AND m.educator_id = $3))",
        )
        .bind(i.id)
        .bind(&e.completion_id)
        .bind(educator)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        if exists {
            continue;
        }
        let attempts = match (purpose, e.attempts_limit) {
            ("post_course_test", 0) => DEFAULT_POST_COURSE_ATTEMPTS,
            ("post_course_test", n) => n.clamp(1, 10),
            _ => 1,
        };
        open_personal(
            conn,
            &i,
            &[educator],
            (opens, closes),
            attempts,
            ("monitoring", &e.completion_id),
            None,
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::WindowRequest,
) -> Result<pb::Window, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.window_id, msg::WINDOW_NOT_FOUND)?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let w = load(&mut conn, id).await?;
    let visible = oversees_window(&w, p)
        || match access::educator_id(p) {
            Some(e) => is_member(&mut conn, &w, e, p).await?,
            None => false,
        };
    if !visible {
        return Err(AppError::not_found(msg::WINDOW_NOT_FOUND));
    }
    // A questionnaire's questions come with its window (a test's with each attempt).
    let questions = if w.instrument_kind == "questionnaire" {
        instruments::load(&mut conn, w.instrument_id)
            .await?
            .questions()?
    } else {
        Vec::new()
    };
    let mut out = to_proto(&mut conn, w, p, s.clock.now()).await?;
    out.questions = questions;
    Ok(out)
}

/// Operators who see a window: those who manage its region, whoever opened
/// it, and the region's operators the needs survey's (phase) window.
fn oversees_window(w: &WindowRow, p: &Principal) -> bool {
    access::manages_region(p, w.region_id)
        || w.created_by == Some(p.user_id)
        || (w.kind == "phase" && access::operates_in(p, w.region_id))
}

/// An educator's windows (those of their region's campaign phases and
/// their personal ones); for operators, the region's windows.
pub(crate) async fn list(
    s: State,
    ctx: RpcContext,
    req: pb::ListWindowsRequest,
) -> Result<pb::WindowList, AppError> {
    let p = ctx.principal()?;
    let limit = crate::db::limit(if req.limit == 0 { 50 } else { req.limit })?;
    let offset = crate::db::offset(req.offset)?;
    if !["", "open", "upcoming", "closed"].contains(&req.status.as_str()) {
        return Err(AppError::invalid(
            "status",
            msg::one_of(&["open", "upcoming", "closed"]),
        ));
    }
    let instrument = optional_id("instrument_id", &req.instrument_id)?;
    let campaign = optional_id("campaign_id", &req.campaign_id)?;
    let educator = access::educator_id(p);
    let regions: Vec<Uuid> = p.grants.iter().filter_map(|g| g.region).collect();
    let admin = p.is_admin();
    // As `get`: the regions the caller manages, the windows they opened,
    // the phase windows of regions where they operate or teach, and their
    // personal windows.
    let readable: Vec<Uuid> = regions
        .iter()
        .copied()
        .filter(|r| access::manages_region(p, *r))
        .collect();
    let educator_regions: Vec<Uuid> = p
        .grants
        .iter()
        .filter(|g| {
            g.role == Role::Educator || access::operates_in(p, g.region.unwrap_or_default())
        })
        .filter_map(|g| g.region)
        .collect();
    let filter = "($1 OR w.region_id = ANY($2) OR w.created_by = $8
                   OR (w.kind = 'phase' AND w.region_id = ANY($3))
                   OR (w.kind = 'personal' AND EXISTS (SELECT 1 FROM window_members m WHERE m.window_id = w.id AND m.educator_id = $4)))
              AND ($5::uuid IS NULL OR w.instrument_id = $5) AND ($6::uuid IS NULL OR w.campaign_id = $6)
              AND ($7 = '' OR ($7 = 'open' AND COALESCE(w.opens_at, c.opens_at) <= $9 AND $9 < COALESCE(w.closes_at, c.closes_at))
                          OR ($7 = 'closed' AND COALESCE(w.closes_at, c.closes_at) <= $9)
                          OR ($7 = 'upcoming' AND (COALESCE(w.opens_at, c.opens_at) IS NULL OR COALESCE(w.opens_at, c.opens_at) > $9)))";
    let now = s.clock.now();
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let count_sql = format!(
        "SELECT count(*) FROM windows w LEFT JOIN campaign_calendar c ON c.campaign_id = w.campaign_id AND c.phase = w.phase WHERE {filter}"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
        .bind(admin)
        .bind(&readable)
        .bind(&educator_regions)
        .bind(educator)
        .bind(instrument)
        .bind(campaign)
        .bind(&req.status)
        .bind(p.user_id)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let rows: Vec<WindowRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY COALESCE(w.closes_at, c.closes_at) DESC NULLS FIRST, w.id LIMIT $10 OFFSET $11"
    )))
    .bind(admin)
    .bind(&readable)
    .bind(&educator_regions)
    .bind(educator)
    .bind(instrument)
    .bind(campaign)
    .bind(&req.status)
    .bind(p.user_id)
    .bind(now)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut items = Vec::with_capacity(rows.len());
    for w in rows {
        items.push(to_proto(&mut conn, w, p, now).await?);
    }
    Ok(pb::WindowList { items, total })
}

/// One pass: attempts out of time, then windows out of time. Each is closed
/// in its own transaction, skipping rows another instance is closing.
pub(crate) async fn sweep(s: &State) -> Result<(), AppError> {
    let now = s.clock.now();
    loop {
        let mut tx = s.pool.begin().await.map_err(db_error)?;
        let due: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM attempts WHERE closed_at IS NULL AND deadline <= $1
             ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(id) = due else { break };
        attempts::close(s, &mut tx, id, "time_limit").await?;
        tx.commit().await.map_err(db_error)?;
    }
    // A calendar moved later reopens a phase window that had closed.
    sqlx::query(
        "UPDATE windows w SET closed_at = NULL FROM campaign_calendar c
         WHERE w.kind = 'phase' AND w.closed_at IS NOT NULL
           AND c.campaign_id = w.campaign_id AND c.phase = w.phase AND c.closes_at > $1",
    )
    .bind(now)
    .execute(&s.pool)
    .await
    .map_err(db_error)?;
    loop {
        let mut tx = s.pool.begin().await.map_err(db_error)?;
        let due: Option<Uuid> = sqlx::query_scalar(
            "SELECT w.id FROM windows w LEFT JOIN campaign_calendar c ON c.campaign_id = w.campaign_id AND c.phase = w.phase
             WHERE w.closed_at IS NULL AND COALESCE(w.closes_at, c.closes_at) <= $1
             LIMIT 1 FOR UPDATE OF w SKIP LOCKED",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(id) = due else { break };
        close(s, &mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
    }
    Ok(())
}

/// Closes a window: its open attempts are scored as they stand, and
/// `window_closed` says who responded and who did not.
async fn close(s: &State, tx: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    let w = load(tx, id).await?;
    let open: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM attempts WHERE window_id = $1 AND closed_at IS NULL")
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
    for a in open {
        attempts::close(s, tx, a, "window_closed").await?;
    }
    let responded: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT educator_id) FROM (
             SELECT educator_id FROM responses WHERE window_id = $1
             UNION SELECT educator_id FROM attempts WHERE window_id = $1) r",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let (not_responded, count): (Vec<String>, i64) = if w.kind == "personal" {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT m.educator_id FROM window_members m WHERE m.window_id = $1
               AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.window_id = $1 AND r.educator_id = m.educator_id)
               AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.window_id = $1 AND a.educator_id = m.educator_id)
             ORDER BY m.educator_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let n = ids.len() as i64;
        (ids.iter().map(Uuid::to_string).collect(), n)
    } else {
        // A whole region's list does not fit one event (256 KiB): it goes
        // out in parts before the summary.
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT e.id FROM known_educators e WHERE e.region_id = $1 AND e.active
               AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.window_id = $2 AND r.educator_id = e.id)
             ORDER BY e.id",
        )
        .bind(w.region_id)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let parts = ids.chunks(NOT_RESPONDED_PER_EVENT);
        let count = parts.len() as i32;
        let events = parts
            .enumerate()
            .map(|(n, chunk)| PendingEvent {
                event_type: "window_not_responded",
                aggregate_id: id.to_string(),
                payload: pb::WindowNotResponded {
                    window_id: id.to_string(),
                    purpose: w.purpose.clone(),
                    campaign_id: w.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
                    region_id: w.region_id.to_string(),
                    educator_ids: chunk.iter().map(Uuid::to_string).collect(),
                    part: n as i32 + 1,
                    parts: count,
                }
                .encode_to_vec(),
            })
            .collect();
        s.outbox
            .write_many(tx, "system", events)
            .await
            .map_err(db_error)?;
        (Vec::new(), ids.len() as i64)
    };
    let event = pb::WindowClosed {
        window_id: id.to_string(),
        instrument_id: w.instrument_id.to_string(),
        purpose: w.purpose.clone(),
        campaign_id: w.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
        region_id: w.region_id.to_string(),
        reference: w.reference.clone(),
        responded,
        not_responded_count: count,
        not_responded,
    };
    s.outbox
        .write(tx, "window_closed", &id.to_string(), "system", &event)
        .await
        .map_err(db_error)?;
    sqlx::query("UPDATE windows SET closed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(s.clock.now())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(())
}
