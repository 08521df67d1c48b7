//! Educators: the people whose PD the platform runs. SNILS is unique and
//! never logged; roles that do not need it see it masked.

use chrono::{DateTime, NaiveDate, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::{NAME, PERSON_NAME};
use pd_domain::{AppError, Principal, Snils, error::Validator};
use pd_proto::common::v1::IdRequest;
use pd_proto::identity::v1 as pb;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure, limit, offset, opt_id, org_location, path_id, ts};
use crate::domain::access::{self, OrgLocation};
use crate::domain::{educator_sync, values};
use crate::organizations::optional_filter;
use crate::{State, messages as msg};

#[derive(FromRow, Clone)]
pub(crate) struct EducatorRow {
    pub id: Uuid,
    pub snils: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub subjects: Vec<String>,
    pub organization_id: Uuid,
    pub last_pd_completed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub municipality_id: Uuid,
    pub region_id: Uuid,
    pub user_id: Option<Uuid>,
    pub employment_status: String,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
}

macro_rules! select_educators {
    () => {
        "SELECT e.id, e.snils, e.last_name, e.first_name, e.middle_name, e.position, e.subjects,
                e.organization_id, e.last_pd_completed_on, e.created_at, e.updated_at,
                o.municipality_id, o.region_id, u.id AS user_id,
                e.employment_status, e.left_on, e.leave_reason, e.birth_date, e.sex
         FROM educators e
         JOIN organizations o ON o.id = e.organization_id
         LEFT JOIN users u ON u.educator_id = e.id "
    };
}

impl EducatorRow {
    pub fn location(&self) -> OrgLocation {
        OrgLocation {
            org_id: self.organization_id,
            municipality_id: self.municipality_id,
            region_id: self.region_id,
        }
    }

    /// The record as `viewer` may see it.
    pub fn to_proto(&self, viewer: &Principal) -> pb::Educator {
        // Who sees the full SNILS sees the other personal data too.
        let personal = access::sees_full_snils(viewer, &self.location(), self.id);
        let snils = match Snils::parse(&self.snils) {
            Ok(s) if personal => s.formatted(),
            Ok(s) => s.masked(),
            Err(_) => String::new(),
        };
        pb::Educator {
            id: self.id.to_string(),
            snils,
            last_name: self.last_name.clone(),
            first_name: self.first_name.clone(),
            middle_name: self.middle_name.clone(),
            position: self.position.clone(),
            subjects: self.subjects.clone(),
            organization_id: self.organization_id.to_string(),
            last_pd_completed_on: date(self.last_pd_completed_on),
            user_id: opt_id(self.user_id),
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
            employment_status: self.employment_status.clone(),
            left_on: date(self.left_on),
            leave_reason: self.leave_reason.clone(),
            birth_date: if personal {
                date(self.birth_date)
            } else {
                String::new()
            },
            sex: if personal {
                self.sex.clone()
            } else {
                String::new()
            },
        }
    }

    /// The record as an import may change it.
    pub fn fields(&self) -> educator_sync::Fields {
        educator_sync::Fields {
            last_name: self.last_name.clone(),
            first_name: self.first_name.clone(),
            middle_name: self.middle_name.clone(),
            position: self.position.clone(),
            subjects: self.subjects.clone(),
            organization_id: self.organization_id,
            last_pd_completed_on: self.last_pd_completed_on,
            birth_date: self.birth_date,
            sex: self.sex.clone(),
        }
    }

    /// What consumers of educator events keep.
    pub fn snapshot(&self) -> pb::EducatorSnapshot {
        snapshot(self.id, &self.fields(), &self.location())
    }
}

/// What consumers of educator events keep: the one builder of every
/// educator event's payload (single changes and imports alike).
pub(crate) fn snapshot(
    id: Uuid,
    f: &educator_sync::Fields,
    loc: &OrgLocation,
) -> pb::EducatorSnapshot {
    pb::EducatorSnapshot {
        id: id.to_string(),
        last_name: f.last_name.clone(),
        first_name: f.first_name.clone(),
        middle_name: f.middle_name.clone(),
        position: f.position.clone(),
        subjects: f.subjects.clone(),
        organization_id: f.organization_id.to_string(),
        municipality_id: loc.municipality_id.to_string(),
        region_id: loc.region_id.to_string(),
        last_pd_completed_on: date(f.last_pd_completed_on),
    }
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The latest date accepted as "not in the future" at `now`: today in
/// the easternmost Russian time zone.
pub(crate) fn today(now: DateTime<Utc>) -> NaiveDate {
    pd_domain::dates::latest_today(now)
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<EducatorRow>, AppError> {
    sqlx::query_as(concat!(select_educators!(), "WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

/// Loads and locks the record for a read-modify-write.
async fn load_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<EducatorRow>, AppError> {
    sqlx::query_as(concat!(
        select_educators!(),
        "WHERE e.id = $1 FOR UPDATE OF e"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateEducatorRequest,
) -> Result<pb::Educator, AppError> {
    let p = ctx.principal()?;
    let today = today(state.clock.now());
    let mut v = Validator::new();
    let snils = v.check("snils", Snils::parse(&req.snils));
    let last_name = v.check(
        "last_name",
        values::required_text(&req.last_name, PERSON_NAME),
    );
    let first_name = v.check(
        "first_name",
        values::required_text(&req.first_name, PERSON_NAME),
    );
    let middle_name = v.check(
        "middle_name",
        values::optional_text(&req.middle_name, PERSON_NAME),
    );
    let position = v.check("position", values::required_text(&req.position, NAME));
    let subjects = v.check("subjects", values::subject_list(&req.subjects));
    let last_pd = v.check(
        "last_pd_completed_on",
        values::optional_past_date(&req.last_pd_completed_on, today),
    );
    let org_id = v.check(
        "organization_id",
        body_id("organization_id", &req.organization_id).map_err(|e| e.detail),
    );
    let birth_date = v
        .check(
            "birth_date",
            values::optional_birth_date(&req.birth_date, today),
        )
        .flatten();
    let sex = v.check("sex", values::sex(&req.sex)).unwrap_or_default();
    v.finish()?;
    let (
        Some(snils),
        Some(last_name),
        Some(first_name),
        Some(middle_name),
        Some(position),
        Some(subjects),
        Some(last_pd),
        Some(org_id),
    ) = (
        snils,
        last_name,
        first_name,
        middle_name,
        position,
        subjects,
        last_pd,
        org_id,
    )
    else {
        return Err(AppError::internal("validation"));
    };
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let loc = org_location(&mut tx, org_id)
        .await?
        .ok_or_else(|| AppError::invalid("organization_id", msg::ORGANIZATION_NOT_FOUND))?;
    ensure(access::can_manage_educators(p, &loc))?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO educators (id, snils, last_name, first_name, middle_name, position, subjects,
                                organization_id, last_pd_completed_on, birth_date, sex)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(snils.as_str())
    .bind(last_name)
    .bind(first_name)
    .bind(middle_name)
    .bind(position)
    .bind(subjects)
    .bind(org_id)
    .bind(last_pd)
    .bind(birth_date)
    .bind(sex)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    record_history(
        &mut tx,
        id,
        Some(p.user_id),
        "created",
        serde_json::json!({}),
    )
    .await?;
    let row = load(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::internal("educator vanished"))?;
    let event = pb::EducatorCreated {
        educator: Some(row.snapshot()),
    };
    state
        .outbox
        .write(
            &mut tx,
            "educator_created",
            &row.id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    let out = row.to_proto(p);
    ctx.commit(tx, &out).await?;
    tracing::info!(educator_id = %row.id, "educator created");
    Ok(out)
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::Educator, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::EDUCATOR_NOT_FOUND)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let row = load(&mut conn, id).await?;
    match row {
        Some(r) if access::can_read_educator(p, &r.location(), r.id) => Ok(r.to_proto(p)),
        // Outside the caller's scope an educator does not exist.
        _ => Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND)),
    }
}

pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateEducatorRequest,
) -> Result<pb::Educator, AppError> {
    let p = ctx.principal()?;
    let today = today(state.clock.now());
    let id = path_id(&req.id, msg::EDUCATOR_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let current = match load_for_update(&mut tx, id).await? {
        Some(r) if access::can_read_educator(p, &r.location(), r.id) => r,
        _ => return Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND)),
    };
    ensure(access::can_manage_educators(p, &current.location()))?;

    let mut v = Validator::new();
    let mut next = current.clone();
    let mut text =
        |field: &str, value: &Option<String>, target: &mut String, max: usize, required: bool| {
            if let Some(x) = value {
                let parsed = if required {
                    values::required_text(x, max)
                } else {
                    values::optional_text(x, max)
                };
                if let Some(x) = v.check(field, parsed) {
                    *target = x;
                }
            }
        };
    text(
        "last_name",
        &req.last_name,
        &mut next.last_name,
        PERSON_NAME,
        true,
    );
    text(
        "first_name",
        &req.first_name,
        &mut next.first_name,
        PERSON_NAME,
        true,
    );
    text(
        "middle_name",
        &req.middle_name,
        &mut next.middle_name,
        PERSON_NAME,
        false,
    );
    text("position", &req.position, &mut next.position, NAME, true);
    if let Some(list) = &req.subjects
        && let Some(subjects) = v.check("subjects", values::subject_list(&list.values))
    {
        next.subjects = subjects;
    }
    if let Some(d) = &req.last_pd_completed_on
        && let Some(d) = v.check("last_pd_completed_on", values::optional_past_date(d, today))
    {
        next.last_pd_completed_on = d;
    }
    if let Some(d) = &req.birth_date
        && let Some(d) = v.check("birth_date", values::optional_birth_date(d, today))
    {
        next.birth_date = d;
    }
    if let Some(x) = &req.sex
        && let Some(x) = v.check("sex", values::sex(x))
    {
        next.sex = x;
    }
    let target_org = match &req.organization_id {
        Some(s) => v.check(
            "organization_id",
            body_id("organization_id", s).map_err(|e| e.detail),
        ),
        None => None,
    };
    v.finish()?;
    let moved_from = match target_org {
        Some(org) if org != current.organization_id => {
            let loc = org_location(&mut tx, org)
                .await?
                .ok_or_else(|| AppError::invalid("organization_id", msg::ORGANIZATION_NOT_FOUND))?;
            // Moving needs the right to manage both organizations.
            ensure(access::can_manage_educators(p, &loc))?;
            next.organization_id = org;
            Some(current.organization_id)
        }
        _ => None,
    };
    sqlx::query(
        "UPDATE educators SET last_name = $2, first_name = $3, middle_name = $4, position = $5,
                subjects = $6, organization_id = $7, last_pd_completed_on = $8, birth_date = $9,
                sex = $10, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&next.last_name)
    .bind(&next.first_name)
    .bind(&next.middle_name)
    .bind(&next.position)
    .bind(&next.subjects)
    .bind(next.organization_id)
    .bind(next.last_pd_completed_on)
    .bind(next.birth_date)
    .bind(&next.sex)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let row = load(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::internal("educator vanished"))?;
    let change = if moved_from.is_some() {
        "moved"
    } else {
        "updated"
    };
    let changed = changed_fields(&current, &row);
    record_history(&mut tx, id, Some(p.user_id), change, changed).await?;
    let actor = ctx.actor();
    let aggregate = row.id.to_string();
    match moved_from {
        Some(from) => {
            let event = pb::EducatorMoved {
                educator: Some(row.snapshot()),
                from_organization_id: from.to_string(),
            };
            state
                .outbox
                .write(&mut tx, "educator_moved", &aggregate, &actor, &event)
                .await
        }
        None => {
            let event = pb::EducatorUpdated {
                educator: Some(row.snapshot()),
            };
            state
                .outbox
                .write(&mut tx, "educator_updated", &aggregate, &actor, &event)
                .await
        }
    }
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(row.to_proto(p))
}

pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListEducatorsRequest,
) -> Result<pb::EducatorList, AppError> {
    let p = ctx.principal()?;
    let org = optional_filter("organization_id", &req.organization_id)?;
    let municipality = optional_filter("municipality_id", &req.municipality_id)?;
    let region = optional_filter("region_id", &req.region_id)?;
    if let Some(org) = org {
        let mut conn = state.pool.acquire().await.map_err(db_error)?;
        let loc = org_location(&mut conn, org)
            .await?
            .ok_or_else(|| AppError::not_found(msg::ORGANIZATION_NOT_FOUND))?;
        let readable = access::can_manage_educators(p, &loc)
            || p.has_scope(pd_domain::Role::Ministry, loc.region_id);
        ensure(readable)?;
    }
    let scope = access::educator_scope(p);
    let search = Search::parse(&req.q)?;
    let status = match req.status.trim() {
        "" | "employed" => Some("employed"),
        "left" => Some("left"),
        "all" => None,
        _ => return Err(AppError::invalid("status", msg::EMPLOYMENT_STATUS)),
    };
    // The cursor is an educator the caller may see (else a 422: nobody
    // learns where an unseen person's name sorts).
    let after = optional_filter("after", &req.after)?;
    if let Some(a) = after {
        let visible: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM educators e JOIN organizations o ON o.id = e.organization_id
             WHERE e.id = $6 AND ($1 OR e.organization_id = ANY($2) OR o.municipality_id = ANY($3)
                                  OR o.region_id = ANY($4) OR e.id = ANY($5)))",
        )
        .bind(scope.all)
        .bind(&scope.orgs)
        .bind(&scope.municipalities)
        .bind(&scope.regions)
        .bind(&scope.educators)
        .bind(a)
        .fetch_one(&state.pool)
        .await
        .map_err(db_error)?;
        if !visible {
            return Err(AppError::invalid("after", msg::CURSOR_UNKNOWN));
        }
    }
    let offset = offset(req.offset)?;
    if after.is_some() && offset > 0 {
        return Err(AppError::invalid("offset", msg::OFFSET_WITH_AFTER));
    }
    let filter = "WHERE ($1 OR e.organization_id = ANY($2) OR o.municipality_id = ANY($3)
                        OR o.region_id = ANY($4) OR e.id = ANY($5))
                   AND ($6::uuid IS NULL OR e.organization_id = $6)
                   AND ($7::uuid IS NULL OR o.municipality_id = $7)
                   AND ($8::uuid IS NULL OR o.region_id = $8)
                   AND ($9::text IS NULL OR e.snils = $9)
                   AND ($10::text IS NULL OR lower(e.last_name) LIKE $10)
                   AND ($11::text IS NULL OR lower(e.first_name) LIKE $11)
                   AND ($12::text IS NULL OR e.employment_status = $12) ";
    // Russian order: Ё sorts with Е, not before А as in the C collation.
    // After a given educator: the rows past it in that order.
    let page_sql = format!(
        "{}{filter}AND ($15::uuid IS NULL OR
                  (e.last_name COLLATE \"ru-x-icu\", e.first_name COLLATE \"ru-x-icu\", e.id) >
                  (SELECT a.last_name COLLATE \"ru-x-icu\", a.first_name COLLATE \"ru-x-icu\", a.id
                   FROM educators a JOIN organizations ao ON ao.id = a.organization_id
                   WHERE a.id = $15 AND ($1 OR a.organization_id = ANY($2) OR ao.municipality_id = ANY($3)
                                         OR ao.region_id = ANY($4) OR a.id = ANY($5))))
         ORDER BY e.last_name COLLATE \"ru-x-icu\", e.first_name COLLATE \"ru-x-icu\", e.id
         LIMIT $13 OFFSET $14",
        select_educators!()
    );
    let limit = limit(req.limit)?;
    let rows: Vec<EducatorRow> = sqlx::query_as(sqlx::AssertSqlSafe(page_sql))
        .bind(scope.all)
        .bind(&scope.orgs)
        .bind(&scope.municipalities)
        .bind(&scope.regions)
        .bind(&scope.educators)
        .bind(org)
        .bind(municipality)
        .bind(region)
        .bind(&search.snils)
        .bind(&search.last_name)
        .bind(&search.first_name)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .bind(after)
        .fetch_all(&state.pool)
        .await
        .map_err(db_error)?;
    let count_sql = format!(
        "SELECT count(*) FROM educators e JOIN organizations o ON o.id = e.organization_id {filter}"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
        .bind(scope.all)
        .bind(&scope.orgs)
        .bind(&scope.municipalities)
        .bind(&scope.regions)
        .bind(&scope.educators)
        .bind(org)
        .bind(municipality)
        .bind(region)
        .bind(&search.snils)
        .bind(&search.last_name)
        .bind(&search.first_name)
        .bind(status)
        .fetch_one(&state.pool)
        .await
        .map_err(db_error)?;
    // A full page may have a following one.
    let next = match rows.last() {
        Some(last) if rows.len() as i64 == limit => last.id.to_string(),
        _ => String::new(),
    };
    Ok(pb::EducatorList {
        items: rows.iter().map(|r| r.to_proto(p)).collect(),
        total,
        next,
    })
}

/// What `q` of the educator list searches for: a whole SNILS, or the
/// start of the last name and optionally of the first name.
#[derive(Default)]
struct Search {
    snils: Option<String>,
    last_name: Option<String>,
    first_name: Option<String>,
}

impl Search {
    fn parse(q: &str) -> Result<Search, AppError> {
        let q = q.trim();
        if q.is_empty() {
            return Ok(Search::default());
        }
        if q.chars().count() > NAME {
            return Err(AppError::invalid("q", pd_domain::bounds::too_long(NAME)));
        }
        if q.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
        {
            let snils = Snils::parse(q).map_err(|e| AppError::invalid("q", e.to_string()))?;
            return Ok(Search {
                snils: Some(snils.as_str().to_owned()),
                ..Search::default()
            });
        }
        let prefix = |s: &str| format!("{}%", pd_domain::request::like_escape(&s.to_lowercase()));
        let mut words = q.split_whitespace();
        Ok(Search {
            snils: None,
            last_name: words.next().map(prefix),
            first_name: words.next().map(prefix),
        })
    }
}

/// Records a change of an educator in their history (same transaction).
pub(crate) async fn record_history(
    conn: &mut PgConnection,
    educator_id: Uuid,
    actor: Option<Uuid>,
    change: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO educator_history (id, educator_id, actor_id, change, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(educator_id)
    .bind(actor)
    .bind(change)
    .bind(details)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

const LEAVE_REASONS: [&str; 4] = ["dismissal", "retirement", "transfer", "other"];

/// An educator leaves their organization: the record stays (with its PD
/// history, which next years' eligibility and certificates need), marked
/// `left` with the reason and date; lists show only the employed unless
/// asked; `educator_left` tells the other services.
pub(crate) async fn leave(
    state: State,
    ctx: RpcContext,
    req: pb::EducatorLeavesRequest,
) -> Result<pb::Educator, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::EDUCATOR_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let current = match load_for_update(&mut tx, id).await? {
        Some(r) if access::can_read_educator(p, &r.location(), r.id) => r,
        _ => return Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND)),
    };
    ensure(access::can_manage_educators(p, &current.location()))?;
    let mut v = Validator::new();
    let reason = req.reason.trim();
    if !LEAVE_REASONS.contains(&reason) {
        v.add("reason", msg::LEAVE_REASON);
    }
    let left_on = v.check(
        "left_on",
        values::past_date(&req.left_on, today(state.clock.now())),
    );
    v.max_len("comment", &req.comment, pd_domain::bounds::TEXT);
    v.finish()?;
    let left_on = left_on.ok_or_else(|| AppError::internal("validation"))?;
    if current.employment_status == "left" {
        return Err(AppError::conflict(msg::EDUCATOR_ALREADY_LEFT));
    }
    sqlx::query(
        "UPDATE educators SET employment_status = 'left', left_on = $2, leave_reason = $3,
                updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(left_on)
    .bind(reason)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    record_history(
        &mut tx,
        id,
        Some(p.user_id),
        "left",
        serde_json::json!({"reason": reason, "left_on": left_on.to_string(), "comment": req.comment.trim()}),
    )
    .await?;
    let row = load(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::internal("educator vanished"))?;
    let event = pb::EducatorLeft {
        educator: Some(row.snapshot()),
        reason: reason.to_owned(),
        left_on: left_on.to_string(),
    };
    state
        .outbox
        .write(
            &mut tx,
            "educator_left",
            &id.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    tracing::info!(educator_id = %id, "educator left their organization");
    Ok(row.to_proto(p))
}

/// The educator's changes, oldest first (operators of their scope).
pub(crate) async fn history(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::EducatorHistory, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::EDUCATOR_NOT_FOUND)?;
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    match load(&mut conn, id).await? {
        Some(r) if access::can_manage_educators(p, &r.location()) => {}
        _ => return Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND)),
    }
    let rows: Vec<(DateTime<Utc>, Option<Uuid>, String, serde_json::Value)> = sqlx::query_as(
        "SELECT at, actor_id, change, details FROM educator_history WHERE educator_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::EducatorHistory {
        items: rows
            .into_iter()
            .map(|(at, actor, change, details)| pb::EducatorHistoryEntry {
                at: ts(at),
                actor_id: opt_id(actor),
                change,
                details: details.to_string(),
            })
            .collect(),
    })
}

/// The fields an update changed, as history keeps them (no SNILS: it never changes).
fn changed_fields(before: &EducatorRow, after: &EducatorRow) -> serde_json::Value {
    educator_sync::changed_fields(&before.fields(), &after.fields())
}

/// Most ids one request for personal data names.
const PERSONAL_MAX: usize = 1000;

/// Personal data (full SNILS, birth date, sex) of the educators named
/// whom the caller may see in full; the others are left out, so a
/// registry export reports them as missing rather than failing.
pub(crate) async fn personal(
    state: State,
    ctx: RpcContext,
    req: pb::EducatorsPersonalRequest,
) -> Result<pb::EducatorsPersonal, AppError> {
    let p = ctx.principal()?;
    if req.ids.len() > PERSONAL_MAX {
        return Err(AppError::invalid(
            "ids",
            pd_domain::bounds::too_many(PERSONAL_MAX),
        ));
    }
    let ids: Vec<Uuid> = req
        .ids
        .iter()
        .filter_map(|i| Uuid::parse_str(i).ok())
        .collect();
    let rows: Vec<EducatorRow> =
        sqlx::query_as(concat!(select_educators!(), "WHERE e.id = ANY($1)"))
            .bind(&ids)
            .fetch_all(&state.pool)
            .await
            .map_err(db_error)?;
    Ok(pb::EducatorsPersonal {
        items: rows
            .iter()
            .filter(|r| access::sees_full_snils(p, &r.location(), r.id))
            .map(|r| r.to_proto(p))
            .collect(),
    })
}
