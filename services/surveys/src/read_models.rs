//! What the surveys service keeps of other services, fed by their events:
//! identity's municipalities, organizations and educators (whose answers
//! count where, who has not answered), and the registry's calendar (the
//! needs survey follows its phase) and published programs (coverage,
//! trajectories, post-course instruments of a program).

use futures::FutureExt;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, HandleError};
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as monitoring;
use pd_proto::registry::v1 as registry;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

pub(crate) fn identity_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "identity",
        handler: Arc::new(|conn, event| apply_identity(conn, event).boxed()),
        batch_handler: None,
    }
}

pub(crate) fn registry_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "registry",
        handler: Arc::new(|conn, event| apply_registry(conn, event).boxed()),
        batch_handler: None,
    }
}

/// Monitoring's post-course windows: each completion opens the educator's
/// window on the program's post-course questionnaire and test.
pub(crate) fn monitoring_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "monitoring",
        handler: Arc::new(|conn, event| apply_monitoring(conn, event).boxed()),
        batch_handler: None,
    }
}

async fn apply_monitoring(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() == "post_course_window_opened" {
        let e: monitoring::PostCourseWindowOpened = event.decode()?;
        crate::windows::open_post_course(conn, &e)
            .await
            .map_err(|err| match err.kind {
                pd_domain::ErrorKind::Internal => HandleError::Retry(err.detail),
                _ => HandleError::Reject(err.detail),
            })?;
    }
    Ok(())
}

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

async fn apply_identity(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if pd_units::apply(conn, &event).await? {
        return Ok(());
    }
    match event.event_type() {
        // Each carries the educator's snapshot as field 1.
        "educator_created" | "educator_updated" | "educator_moved" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let e = event.decode::<identity::EducatorCreated>()?;
            upsert_educator(conn, e.educator.unwrap_or_default(), true).await?;
        }
        "educator_left" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let e = event.decode::<identity::EducatorLeft>()?;
            upsert_educator(conn, e.educator.unwrap_or_default(), false).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn upsert_educator(
    conn: &mut PgConnection,
    e: identity::EducatorSnapshot,
    active: bool,
) -> Result<(), HandleError> {
    let name = [&e.last_name, &e.first_name, &e.middle_name]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    sqlx::query(
        "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, name, subjects, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET region_id = $2, municipality_id = $3, organization_id = $4,
                                        name = $5, subjects = $6, active = $7",
    )
    .bind(id(&e.id)?)
    .bind(id(&e.region_id)?)
    .bind(id(&e.municipality_id)?)
    .bind(id(&e.organization_id)?)
    .bind(name)
    .bind(e.subjects)
    .bind(active)
    .execute(conn)
    .await?;
    Ok(())
}

async fn apply_registry(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    match event.event_type() {
        "campaign_calendar_changed" => {
            let e: registry::CampaignCalendarChanged = event.decode()?;
            pd_calendar::apply(conn, &e).await?;
        }
        "registry_entry_published" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let e: registry::RegistryEntryPublished = event.decode()?;
            let p = e.entry.unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_programs (id, campaign_id, region_id, provider_id, provider_name, title,
                                             direction, form, hours, competences)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET provider_name = $5, title = $6, direction = $7, form = $8,
                                                hours = $9, competences = $10",
            )
            .bind(id(&p.program_id)?)
            .bind(id(&e.campaign_id)?)
            .bind(id(&e.region_id)?)
            .bind(id(&p.provider_id)?)
            .bind(p.provider_name)
            .bind(p.title)
            .bind(p.direction)
            .bind(p.form)
            .bind(p.hours)
            .bind(p.competences)
            .execute(conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
