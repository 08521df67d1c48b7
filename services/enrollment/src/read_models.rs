//! What the enrollment service keeps of other services, fed by their
//! events only, so that applying needs no call to another service:
//! identity's municipalities, organizations and educators; the registry's
//! calendars and published groups; allocation's unique numbers. A group
//! cancelled, or a number released, ends the applications that used it.

use futures::FutureExt;
use futures::future::BoxFuture;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, EventHandler, HandleError};
use pd_bus::outbox::Outbox;
use pd_proto::allocation::v1 as allocation;
use pd_proto::identity::v1 as identity;
use pd_proto::registry::v1 as registry;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

use crate::applications::{self, Ending};
use crate::seats;

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

fn optional_id(s: &str) -> Result<Option<Uuid>, HandleError> {
    if s.is_empty() {
        Ok(None)
    } else {
        id(s).map(Some)
    }
}

fn date(s: &str) -> Result<Option<chrono::NaiveDate>, HandleError> {
    if s.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| HandleError::Reject(format!("bad date {s:?}: {e}")))
}

/// Ends with a retry what the service's own code refuses (a bug, or a
/// database error); never dead-letters an event that only needs a retry.
fn retry(e: pd_domain::AppError) -> HandleError {
    HandleError::Retry(e.detail)
}

pub(crate) fn identity_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    let one: EventHandler = Arc::new(apply_identity);
    consumer(bus, pool, "identity", one, "educator_", educators)
}

/// A consumer of `source` whose batches apply runs of events whose type
/// starts with `prefix` together with `run`, every other event with `one`.
fn consumer(
    bus: &Bus,
    pool: &PgPool,
    source: &'static str,
    one: EventHandler,
    prefix: &'static str,
    run: RunFn,
) -> Consumer {
    let each = one.clone();
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source,
        handler: one,
        batch_handler: Some(Arc::new(move |conn, events| {
            let each = each.clone();
            async move { in_runs(conn, events, prefix, run, &each).await }.boxed()
        })),
    }
}

/// Ending applications writes events: the consumers of the registry and of
/// allocation keep an outbox (the relay publishes after commit).
pub(crate) fn registry_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    let outbox = Outbox::new(bus, crate::SERVICE);
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "registry",
        handler: Arc::new(move |conn, event| apply_registry(conn, event, outbox.clone()).boxed()),
        batch_handler: None,
    }
}

pub(crate) fn allocation_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    let outbox = Outbox::new(bus, crate::SERVICE);
    let one: EventHandler =
        Arc::new(move |conn, event| apply_allocation(conn, event, outbox.clone()).boxed());
    consumer(
        bus,
        pool,
        "allocation",
        one,
        "unique_number_assigned",
        numbers,
    )
}

type RunFn = for<'a> fn(&'a mut PgConnection, Vec<Event>) -> BoxFuture<'a, Result<(), HandleError>>;

/// A batch in order: runs of events whose type starts with `prefix` are
/// applied together by `run` (an import or an allocation run sends tens of
/// thousands), every other event by `one`.
async fn in_runs(
    conn: &mut PgConnection,
    events: Vec<Event>,
    prefix: &'static str,
    run: RunFn,
    one: &EventHandler,
) -> Result<(), HandleError> {
    let mut batch = Vec::new();
    for event in events {
        if event.event_type().starts_with(prefix) {
            batch.push(event);
        } else {
            if !batch.is_empty() {
                run(conn, std::mem::take(&mut batch)).await?;
            }
            one(conn, event).await?;
        }
    }
    if batch.is_empty() {
        Ok(())
    } else {
        run(conn, batch).await
    }
}

fn apply_identity(conn: &mut PgConnection, event: Event) -> BoxFuture<'_, Result<(), HandleError>> {
    async move {
        if pd_units::apply(conn, &event).await? {
            return Ok(());
        }
        match event.event_type() {
            t if t.starts_with("educator_") => educators(conn, vec![event]).await?,
            _ => {}
        }
        Ok(())
    }
    .boxed()
}

/// Educator snapshots (`educator_created`, `_updated`, `_moved`: employed;
/// `educator_left`: not), the newest of each, written in one statement.
fn educators(conn: &mut PgConnection, run: Vec<Event>) -> BoxFuture<'_, Result<(), HandleError>> {
    async move {
        let run: Vec<Event> = run
            .into_iter()
            .filter(|e| {
                matches!(
                    e.event_type(),
                    "educator_created" | "educator_updated" | "educator_moved" | "educator_left"
                )
            })
            .collect();
        if run.is_empty() {
            return Ok(());
        }
        let mut cols: (Vec<Uuid>, Vec<Uuid>, Vec<Uuid>, Vec<Uuid>) = Default::default();
        let mut names: (Vec<String>, Vec<String>, Vec<String>, Vec<String>) = Default::default();
        let (mut subjects, mut active) = (Vec::new(), Vec::new());
        for event in pd_bus::consumer::newest_of(conn, run).await? {
            active.push(event.event_type() != "educator_left");
            // Each carries the educator's snapshot as field 1.
            let e = event
                .decode::<identity::EducatorCreated>()?
                .educator
                .unwrap_or_default();
            cols.0.push(id(&e.id)?);
            cols.1.push(id(&e.region_id)?);
            cols.2.push(id(&e.municipality_id)?);
            cols.3.push(id(&e.organization_id)?);
            names.0.push(e.last_name);
            names.1.push(e.first_name);
            names.2.push(e.middle_name);
            names.3.push(e.position);
            // PostgreSQL has no arrays of arrays: joined by the unit separator.
            subjects.push(e.subjects.join("\u{1f}"));
        }
        sqlx::query(
            "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, last_name,
                                          first_name, middle_name, position, subjects, active)
             SELECT id, r, m, o, ln, fn, mn, pos, string_to_array(subj, chr(31)), act
             FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::bool[])
                  AS t(id, r, m, o, ln, fn, mn, pos, subj, act)
             ON CONFLICT (id) DO UPDATE SET region_id = EXCLUDED.region_id,
                 municipality_id = EXCLUDED.municipality_id, organization_id = EXCLUDED.organization_id,
                 last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
                 middle_name = EXCLUDED.middle_name, position = EXCLUDED.position,
                 subjects = EXCLUDED.subjects, active = EXCLUDED.active",
        )
        .bind(&cols.0)
        .bind(&cols.1)
        .bind(&cols.2)
        .bind(&cols.3)
        .bind(&names.0)
        .bind(&names.1)
        .bind(&names.2)
        .bind(&names.3)
        .bind(&subjects)
        .bind(&active)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
    .boxed()
}

async fn apply_registry(
    conn: &mut PgConnection,
    event: Event,
    outbox: Outbox,
) -> Result<(), HandleError> {
    match event.event_type() {
        "campaign_calendar_changed" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let e: registry::CampaignCalendarChanged = event.decode()?;
            pd_calendar::apply(conn, &e).await?;
        }
        // Each carries the group's snapshot as field 1.
        "group_published" | "group_changed" | "group_cancelled" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let g = event
                .decode::<registry::GroupPublished>()?
                .group
                .unwrap_or_default();
            group(conn, &event, g, &outbox).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A group as the registry has it now. Enrollment keeps its own seat
/// counters; a larger capacity serves the waitlist, a cancellation
/// rejects every active application of the group.
async fn group(
    conn: &mut PgConnection,
    event: &Event,
    s: registry::GroupSnapshot,
    outbox: &Outbox,
) -> Result<(), HandleError> {
    let g = s.group.unwrap_or_default();
    let group = id(&g.id)?;
    // Draft groups are not open to applications; only what was published counts.
    let status = if g.status == "cancelled" || event.event_type() == "group_cancelled" {
        "cancelled"
    } else {
        "published"
    };
    sqlx::query(
        "INSERT INTO groups (id, campaign_id, region_id, program_id, provider_id, provider_name,
                             program_title, program_hours, starts_on, ends_on, online, address,
                             municipality_id, capacity, min_size, status, program_kind,
                             target_subjects, module_names, module_hours)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20)
         ON CONFLICT (id) DO UPDATE SET provider_name = $6, program_title = $7, program_hours = $8,
             starts_on = $9, ends_on = $10, online = $11, address = $12, municipality_id = $13,
             capacity = $14, min_size = $15, status = $16, program_kind = $17,
             target_subjects = $18, module_names = $19, module_hours = $20",
    )
    .bind(group)
    .bind(id(&s.campaign_id)?)
    .bind(id(&s.region_id)?)
    .bind(id(&g.program_id)?)
    .bind(id(&s.provider_id)?)
    .bind(&s.provider_name)
    .bind(&s.program_title)
    .bind(s.program_hours)
    .bind(date(&g.starts_on)?)
    .bind(date(&g.ends_on)?)
    .bind(g.online)
    .bind(&g.address)
    .bind(optional_id(&g.municipality_id)?)
    .bind(g.capacity.max(0))
    .bind(g.min_size.max(0))
    .bind(status)
    .bind(if s.program_kind.is_empty() {
        "ordinary"
    } else {
        s.program_kind.as_str()
    })
    .bind(&s.target_subjects)
    .bind(
        s.modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(s.modules.iter().map(|m| m.hours).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    let actor = event.envelope.actor.clone();
    if status == "cancelled" {
        let active: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM applications
             WHERE group_id = $1 AND status IN ('enrolled', 'waitlisted') ORDER BY seq",
        )
        .bind(group)
        .fetch_all(&mut *conn)
        .await?;
        for a in active {
            let how = Ending {
                status: "rejected",
                reason: "group_cancelled",
                note: "",
            };
            applications::end(conn, outbox, &actor, a, how)
                .await
                .map_err(retry)?;
        }
        // After formation: the provider learns the roster is gone.
        return crate::rosters::cancelled(conn, outbox, &actor, group)
            .await
            .map_err(retry);
    }
    seats::lock(conn, group).await?;
    let promoted = seats::fill(conn, group).await?;
    applications::promote(conn, outbox, &actor, &promoted)
        .await
        .map_err(retry)
}

fn apply_allocation(
    conn: &mut PgConnection,
    event: Event,
    outbox: Outbox,
) -> BoxFuture<'_, Result<(), HandleError>> {
    async move {
        match event.event_type() {
            "unique_number_assigned" => numbers(conn, vec![event]).await?,
            "hour_quota_set" => {
                if !event.is_newest(conn).await? {
                    return Ok(());
                }
                let q: allocation::HourQuotaSet = event.decode()?;
                // What is drawn stays: only the quota changes.
                sqlx::query(
                    "INSERT INTO hour_quotas (campaign_id, organization_id, hours)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (campaign_id, organization_id) DO UPDATE SET hours = $3",
                )
                .bind(id(&q.campaign_id)?)
                .bind(id(&q.organization_id)?)
                .bind(q.hours.max(0))
                .execute(&mut *conn)
                .await?;
            }
            "unique_number_released" => {
                if !event.is_newest(conn).await? {
                    return Ok(());
                }
                let n = event
                    .decode::<allocation::UniqueNumberReleased>()?
                    .unique_number
                    .unwrap_or_default();
                upsert_numbers(conn, &[n], false).await?;
                release(conn, &event, &outbox).await?;
            }
            _ => {}
        }
        Ok(())
    }
    .boxed()
}

/// A released number's active applications (one, or one per voucher
/// block; in group order, as formation locks groups) are rejected: the number no longer funds them (allocation
/// refuses a refusal once a number is used, so this happens only when the
/// two crossed).
async fn release(
    conn: &mut PgConnection,
    event: &Event,
    outbox: &Outbox,
) -> Result<(), HandleError> {
    let n = id(&event.envelope.aggregate_id)?;
    let active: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM applications
         WHERE unique_number_id = $1 AND status IN ('enrolled', 'waitlisted')
         ORDER BY group_id",
    )
    .bind(n)
    .fetch_all(&mut *conn)
    .await?;
    for a in active {
        let how = Ending {
            status: "rejected",
            reason: "number_released",
            note: "",
        };
        applications::end(conn, outbox, &event.envelope.actor, a, how)
            .await
            .map_err(retry)?;
    }
    Ok(())
}

/// Assigned numbers (with their voucher blocks), the newest snapshot of
/// each, in one statement each.
fn numbers(conn: &mut PgConnection, run: Vec<Event>) -> BoxFuture<'_, Result<(), HandleError>> {
    async move {
        let mut snapshots = Vec::new();
        let mut blocks: (Vec<Uuid>, Vec<i32>, Vec<String>, Vec<i32>) = Default::default();
        for event in pd_bus::consumer::newest_of(conn, run).await? {
            let e = event.decode::<allocation::UniqueNumberAssigned>()?;
            let n = e.unique_number.unwrap_or_default();
            for (i, b) in e.voucher_blocks.into_iter().enumerate() {
                blocks.0.push(id(&n.id)?);
                blocks.1.push(i as i32 + 1);
                blocks.2.push(b.kind);
                blocks.3.push(b.hours);
            }
            snapshots.push(n);
        }
        upsert_numbers(conn, &snapshots, true).await?;
        if blocks.0.is_empty() {
            return Ok(());
        }
        // Spending is enrollment's own: a replay never reopens a block.
        sqlx::query(
            "INSERT INTO voucher_blocks (number_id, position, kind, hours)
             SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[])
             ON CONFLICT (number_id, position) DO NOTHING",
        )
        .bind(&blocks.0)
        .bind(&blocks.1)
        .bind(&blocks.2)
        .bind(&blocks.3)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
    .boxed()
}

async fn upsert_numbers(
    conn: &mut PgConnection,
    numbers: &[allocation::UniqueNumber],
    funds: bool,
) -> Result<(), HandleError> {
    if numbers.is_empty() {
        return Ok(());
    }
    // Columns for unnest: ids (number, campaign, educator, organization,
    // municipality), then the number's text and the holder's name.
    let mut ids: [Vec<Uuid>; 5] = Default::default();
    let (mut text, mut names) = (Vec::new(), Vec::new());
    for n in numbers {
        let row = [
            &n.id,
            &n.campaign_id,
            &n.educator_id,
            &n.organization_id,
            &n.municipality_id,
        ];
        for (col, value) in ids.iter_mut().zip(row) {
            col.push(id(value)?);
        }
        text.push(n.number.as_str());
        names.push(n.educator_name.as_str());
    }
    sqlx::query(
        "INSERT INTO unique_numbers (id, campaign_id, educator_id, organization_id, municipality_id,
                                     number, educator_name, funds)
         SELECT id, c, e, o, m, num, name, $8
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[])
              AS t(id, c, e, o, m, num, name)
         ON CONFLICT (id) DO UPDATE SET educator_id = EXCLUDED.educator_id,
             organization_id = EXCLUDED.organization_id, municipality_id = EXCLUDED.municipality_id,
             educator_name = EXCLUDED.educator_name, funds = EXCLUDED.funds",
    )
    .bind(&ids[0])
    .bind(&ids[1])
    .bind(&ids[2])
    .bind(&ids[3])
    .bind(&ids[4])
    .bind(&text)
    .bind(&names)
    .bind(funds)
    .execute(conn)
    .await?;
    Ok(())
}
