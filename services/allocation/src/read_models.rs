//! What the allocation service keeps of other services, fed by their
//! events only (a fresh database catches up from the streams): identity's
//! regions (PD model and interval), municipalities, organizations and
//! educators (with the last completed PD of the historical import), and
//! the registry's campaigns; enrollment's applications (the balances) and
//! monitoring's PD records. Every change that can make someone due or not
//! due recomputes the candidates it touches.

use futures::FutureExt;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, HandleError};
use pd_proto::enrollment::v1 as enrollment;
use pd_proto::identity::v1 as identity;
use pd_proto::monitoring::v1 as monitoring;
use pd_proto::registry::v1 as registry;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

use crate::balances;
use crate::candidates::{self, Refresh};

pub(crate) fn identity_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "identity",
        handler: Arc::new(|conn, event| apply_identity(conn, event).boxed()),
        batch_handler: Some(Arc::new(|conn, events| {
            apply_identity_batch(conn, events).boxed()
        })),
    }
}

/// Enrollment's applications: numbers used, voucher blocks spent, hours drawn.
pub(crate) fn enrollment_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "enrollment",
        handler: Arc::new(|conn, event| apply_enrollment(conn, event).boxed()),
        batch_handler: None,
    }
}

/// Monitoring's PD records: the last completed PD of each educator.
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

async fn apply_enrollment(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    // Both carry the application's snapshot as field 1.
    if matches!(
        event.event_type(),
        "application_submitted" | "application_withdrawn"
    ) {
        if !event.is_newest(conn).await? {
            return Ok(());
        }
        let e: enrollment::ApplicationSubmitted = event.decode()?;
        balances::apply_application(conn, &e.application.unwrap_or_default()).await?;
    }
    Ok(())
}

async fn apply_monitoring(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() == "pd_record_changed" {
        if !event.is_newest(conn).await? {
            return Ok(());
        }
        let e: monitoring::PdRecordChanged = event.decode()?;
        balances::apply_pd_record(conn, &e).await?;
    }
    Ok(())
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

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

fn date(s: &str) -> Result<Option<chrono::NaiveDate>, HandleError> {
    if s.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| HandleError::Reject(format!("bad date {s:?}: {e}")))
}

async fn apply_identity(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if pd_units::apply(conn, &event).await? {
        return Ok(());
    }
    match event.event_type() {
        // Both carry the region as field 1.
        "region_created" | "region_updated" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let r = event
                .decode::<identity::RegionCreated>()?
                .region
                .unwrap_or_default();
            let region = id(&r.id)?;
            sqlx::query(
                "INSERT INTO known_regions (id, pd_model, pd_interval_years) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET pd_model = $2, pd_interval_years = $3",
            )
            .bind(region)
            .bind(&r.pd_model)
            .bind(if r.pd_interval_years > 0 {
                r.pd_interval_years
            } else {
                3
            })
            .execute(&mut *conn)
            .await?;
            candidates::refresh(conn, Refresh::Region(region)).await?;
        }
        "educator_created" | "educator_updated" | "educator_moved" | "educator_left" => {
            educators_at_once(conn, vec![event]).await?;
        }
        _ => {}
    }
    Ok(())
}

/// identity's events of a batch in order, runs of educator snapshots
/// applied together (a region's yearly reload is tens of thousands).
async fn apply_identity_batch(
    conn: &mut PgConnection,
    events: Vec<Event>,
) -> Result<(), HandleError> {
    let mut run = Vec::new();
    for event in events {
        if event.event_type().starts_with("educator_") {
            run.push(event);
        } else {
            educators_at_once(conn, std::mem::take(&mut run)).await?;
            apply_identity(conn, event).await?;
        }
    }
    educators_at_once(conn, run).await
}

/// Educator snapshots (`educator_created`, `_updated`, `_moved`: employed;
/// `educator_left`: not), the newest of each educator only, written in one
/// statement, then the candidacies they touch recomputed at once.
async fn educators_at_once(conn: &mut PgConnection, run: Vec<Event>) -> Result<(), HandleError> {
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
    let mut rows = EducatorRows::default();
    for event in pd_bus::consumer::newest_of(conn, run).await? {
        // Each carries the educator's snapshot as field 1.
        let active = event.event_type() != "educator_left";
        let snapshot = event.decode::<identity::EducatorCreated>()?.educator;
        rows.push(snapshot.unwrap_or_default(), active)?;
    }
    sqlx::query(
        "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, last_name, first_name,
                                      middle_name, position, subjects, last_pd_completed_on, active)
         SELECT id, r, m, o, ln, fn, mn, pos, string_to_array(subj, chr(31)), pd, act
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::date[], $11::bool[])
              AS t(id, r, m, o, ln, fn, mn, pos, subj, pd, act)
         ON CONFLICT (id) DO UPDATE SET region_id = EXCLUDED.region_id,
             municipality_id = EXCLUDED.municipality_id, organization_id = EXCLUDED.organization_id,
             last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
             middle_name = EXCLUDED.middle_name, position = EXCLUDED.position,
             subjects = EXCLUDED.subjects, last_pd_completed_on = EXCLUDED.last_pd_completed_on,
             active = EXCLUDED.active",
    )
    .bind(&rows.id)
    .bind(&rows.region)
    .bind(&rows.municipality)
    .bind(&rows.organization)
    .bind(&rows.last_name)
    .bind(&rows.first_name)
    .bind(&rows.middle_name)
    .bind(&rows.position)
    .bind(&rows.subjects)
    .bind(&rows.last_pd)
    .bind(&rows.active)
    .execute(&mut *conn)
    .await?;
    candidates::refresh(conn, Refresh::Educators(rows.id)).await?;
    Ok(())
}

/// Educator snapshots as columns (PostgreSQL has no arrays of arrays:
/// subjects travel joined by the unit separator).
#[derive(Default)]
struct EducatorRows {
    id: Vec<Uuid>,
    region: Vec<Uuid>,
    municipality: Vec<Uuid>,
    organization: Vec<Uuid>,
    last_name: Vec<String>,
    first_name: Vec<String>,
    middle_name: Vec<String>,
    position: Vec<String>,
    subjects: Vec<String>,
    last_pd: Vec<Option<chrono::NaiveDate>>,
    active: Vec<bool>,
}

impl EducatorRows {
    fn push(&mut self, e: identity::EducatorSnapshot, active: bool) -> Result<(), HandleError> {
        self.id.push(id(&e.id)?);
        self.region.push(id(&e.region_id)?);
        self.municipality.push(id(&e.municipality_id)?);
        self.organization.push(id(&e.organization_id)?);
        self.last_pd.push(date(&e.last_pd_completed_on)?);
        self.last_name.push(e.last_name);
        self.first_name.push(e.first_name);
        self.middle_name.push(e.middle_name);
        self.position.push(e.position);
        self.subjects.push(e.subjects.join("\u{1f}"));
        self.active.push(active);
        Ok(())
    }
}

async fn apply_registry(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() == "campaign_calendar_changed" {
        // A snapshot: a late, older calendar must not replace a newer one.
        if !event.is_newest(conn).await? {
            return Ok(());
        }
        let e: registry::CampaignCalendarChanged = event.decode()?;
        pd_calendar::apply(conn, &e).await?;
        let campaign = id(&e.campaign_id)?;
        sqlx::query(
            "INSERT INTO known_campaigns (id, region_id, year) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET year = $3",
        )
        .bind(campaign)
        .bind(id(&e.region_id)?)
        .bind(e.year)
        .execute(&mut *conn)
        .await?;
        candidates::refresh(conn, Refresh::Campaign(campaign)).await?;
    }
    Ok(())
}
