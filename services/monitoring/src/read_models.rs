//! What the monitoring service keeps of other services, fed by their
//! events only: identity's units and educators, the registry's groups,
//! enrollment's fixed rosters (a completion is accepted for a learner of
//! the roster only), and surveys' post-course answers and test scores,
//! which make documents available and keep the best score.

use futures::FutureExt;
use futures::future::BoxFuture;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, HandleError};
use pd_proto::enrollment::v1 as enrollment;
use pd_proto::identity::v1 as identity;
use pd_proto::registry::v1 as registry;
use pd_proto::surveys::v1 as surveys;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

use crate::{State, windows};

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

fn date(s: &str) -> Result<chrono::NaiveDate, HandleError> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| HandleError::Reject(format!("bad date {s:?}: {e}")))
}

/// What the service's own code refuses is retried, never dead-lettered.
fn retry(e: pd_domain::AppError) -> HandleError {
    HandleError::Retry(e.detail)
}

fn consumer(
    bus: &Bus,
    pool: &PgPool,
    source: &'static str,
    handler: pd_bus::consumer::EventHandler,
) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source,
        handler,
        batch_handler: None,
    }
}

pub(crate) fn identity_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    let mut c = consumer(bus, pool, "identity", Arc::new(apply_identity));
    // An import sends tens of thousands of educators: a batch is applied
    // in one statement.
    c.batch_handler = Some(Arc::new(|conn, events| {
        async move {
            let mut run = Vec::new();
            for event in events {
                if event.event_type().starts_with("educator_") {
                    run.push(event);
                } else {
                    if !run.is_empty() {
                        educators(conn, std::mem::take(&mut run)).await?;
                    }
                    apply_identity(conn, event).await?;
                }
            }
            if run.is_empty() {
                Ok(())
            } else {
                educators(conn, run).await
            }
        }
        .boxed()
    }));
    c
}

pub(crate) fn registry_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    consumer(
        bus,
        pool,
        "registry",
        Arc::new(|conn, event| apply_registry(conn, event).boxed()),
    )
}

pub(crate) fn enrollment_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    consumer(
        bus,
        pool,
        "enrollment",
        Arc::new(|conn, event| apply_enrollment(conn, event).boxed()),
    )
}

/// Surveys' answers issue documents, which writes events: the state's outbox.
pub(crate) fn surveys_consumer(state: &State, bus: &Bus) -> Consumer {
    let s = state.clone();
    consumer(
        bus,
        &state.pool,
        "surveys",
        Arc::new(move |conn, event| apply_surveys(s.clone(), conn, event).boxed()),
    )
}

fn apply_identity(conn: &mut PgConnection, event: Event) -> BoxFuture<'_, Result<(), HandleError>> {
    async move {
        if pd_units::apply(conn, &event).await? {
            return Ok(());
        }
        if event.event_type().starts_with("educator_") {
            educators(conn, vec![event]).await?;
        }
        Ok(())
    }
    .boxed()
}

/// Educator snapshots (created, updated, moved, left: each carries the
/// snapshot as field 1), the newest of each. One who left keeps their
/// history: the row stays.
async fn educators(conn: &mut PgConnection, run: Vec<Event>) -> Result<(), HandleError> {
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
    let mut ids: (Vec<Uuid>, Vec<Uuid>, Vec<Uuid>, Vec<Uuid>) = Default::default();
    let mut names: (Vec<String>, Vec<String>, Vec<String>) = Default::default();
    for event in pd_bus::consumer::newest_of(conn, run).await? {
        let e = event
            .decode::<identity::EducatorCreated>()?
            .educator
            .unwrap_or_default();
        ids.0.push(id(&e.id)?);
        ids.1.push(id(&e.region_id)?);
        ids.2.push(id(&e.municipality_id)?);
        ids.3.push(id(&e.organization_id)?);
        names.0.push(e.last_name);
        names.1.push(e.first_name);
        names.2.push(e.middle_name);
    }
    sqlx::query(
        "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, last_name, first_name, middle_name)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[])
         ON CONFLICT (id) DO UPDATE SET region_id = EXCLUDED.region_id,
             municipality_id = EXCLUDED.municipality_id, organization_id = EXCLUDED.organization_id,
             last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
             middle_name = EXCLUDED.middle_name",
    )
    .bind(&ids.0)
    .bind(&ids.1)
    .bind(&ids.2)
    .bind(&ids.3)
    .bind(&names.0)
    .bind(&names.1)
    .bind(&names.2)
    .execute(&mut *conn)
    .await?;
    // Records written before the educator was known carry no unit yet.
    sqlx::query(
        "UPDATE pd_records r SET organization_id = e.organization_id, municipality_id = e.municipality_id
         FROM known_educators e
         WHERE e.id = r.educator_id AND r.educator_id = ANY($1)
           AND r.organization_id = '00000000-0000-0000-0000-000000000000'",
    )
    .bind(&ids.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn apply_registry(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if !matches!(
        event.event_type(),
        "group_published" | "group_changed" | "group_cancelled"
    ) || !event.is_newest(conn).await?
    {
        return Ok(());
    }
    // Each carries the group's snapshot as field 1.
    let snap = event
        .decode::<registry::GroupPublished>()?
        .group
        .unwrap_or_default();
    let g = snap.group.clone().unwrap_or_default();
    let status = if event.event_type() == "group_cancelled" {
        "cancelled".to_owned()
    } else {
        g.status.clone()
    };
    let modules: Vec<serde_json::Value> = snap
        .modules
        .iter()
        .map(|m| serde_json::json!({"name": m.name, "hours": m.hours}))
        .collect();
    sqlx::query(
        "INSERT INTO known_groups (id, program_id, campaign_id, region_id, provider_id, provider_name,
                                   program_title, program_kind, program_hours, direction, starts_on,
                                   ends_on, modules, status, form)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO UPDATE SET provider_name = $6, program_title = $7, program_kind = $8,
             program_hours = $9, direction = $10, starts_on = $11, ends_on = $12, modules = $13,
             status = $14, form = $15",
    )
    .bind(id(&g.id)?)
    .bind(id(&g.program_id)?)
    .bind(id(&snap.campaign_id)?)
    .bind(id(&snap.region_id)?)
    .bind(id(&snap.provider_id)?)
    .bind(&snap.provider_name)
    .bind(&snap.program_title)
    .bind(&snap.program_kind)
    .bind(snap.program_hours)
    .bind(&snap.direction)
    .bind(date(&g.starts_on)?)
    .bind(date(&g.ends_on)?)
    .bind(serde_json::Value::Array(modules))
    .bind(status)
    .bind(&snap.form)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A fixed roster replaces the group's members (a merge or a rejection
/// fixes it again).
async fn apply_enrollment(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() != "roster_fixed" || !event.is_newest(conn).await? {
        return Ok(());
    }
    let roster = event
        .decode::<enrollment::RosterFixed>()?
        .roster
        .unwrap_or_default();
    let group = id(&roster.group.unwrap_or_default().group_id)?;
    sqlx::query(
        "INSERT INTO rosters (group_id, roster) VALUES ($1, $2)
         ON CONFLICT (group_id) DO UPDATE SET roster = $2",
    )
    .bind(group)
    .bind(&roster.roster)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM roster_members WHERE group_id = $1")
        .bind(group)
        .execute(&mut *conn)
        .await?;
    let (mut educators, mut applications, mut modules) = (Vec::new(), Vec::new(), Vec::new());
    for m in &roster.members {
        educators.push(id(&m.educator_id)?);
        applications.push(id(&m.application_id)?);
        // PostgreSQL has no arrays of arrays: joined by the unit separator.
        modules.push(m.modules.join("\u{1f}"));
    }
    sqlx::query(
        "INSERT INTO roster_members (group_id, educator_id, application_id, modules)
         SELECT $1, e, a, CASE WHEN m = '' THEN '{}'::text[] ELSE string_to_array(m, chr(31)) END
         FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS t(e, a, m)
         ON CONFLICT DO NOTHING",
    )
    .bind(group)
    .bind(&educators)
    .bind(&applications)
    .bind(&modules)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn apply_surveys(
    state: State,
    conn: &mut PgConnection,
    event: Event,
) -> Result<(), HandleError> {
    match event.event_type() {
        "response_submitted" => {
            let e: surveys::ResponseSubmitted = event.decode()?;
            if e.purpose != "post_course_survey" {
                return Ok(());
            }
            let Ok(completion) = Uuid::parse_str(&e.reference) else {
                return Ok(());
            };
            let at = chrono::DateTime::parse_from_rfc3339(&e.submitted_at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_else(|_| state.clock.now());
            let values: Vec<serde_json::Value> = e
                .values
                .iter()
                .map(|v| serde_json::json!({"question_id": v.question_id, "text": v.text, "value": v.value}))
                .collect();
            windows::survey_done(
                &state,
                conn,
                completion,
                at,
                serde_json::Value::Array(values),
            )
            .await
            .map_err(retry)?;
        }
        "test_attempt_scored" => {
            let e: surveys::TestAttemptScored = event.decode()?;
            if e.purpose != "post_course_test" {
                return Ok(());
            }
            let Ok(completion) = Uuid::parse_str(&e.reference) else {
                return Ok(());
            };
            windows::scored(conn, completion, &e).await.map_err(retry)?;
        }
        _ => {}
    }
    Ok(())
}
