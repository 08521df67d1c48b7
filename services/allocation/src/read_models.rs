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
        "municipality_created" => {
            let m = event
                .decode::<identity::MunicipalityCreated>()?
                .municipality
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_municipalities (id, region_id, name) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = $3",
            )
            .bind(id(&m.id)?)
            .bind(id(&m.region_id)?)
            .bind(m.name)
            .execute(conn)
            .await?;
        }
        // `organization_updated` carries the organization as field 1 too.
        "organization_created" | "organization_updated" => {
            if !event.is_newest(conn).await? {
                return Ok(());
            }
            let o = event
                .decode::<identity::OrganizationCreated>()?
                .organization
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_organizations (id, region_id, municipality_id, name) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET municipality_id = $3, name = $4",
            )
            .bind(id(&o.id)?)
            .bind(id(&o.region_id)?)
            .bind(id(&o.municipality_id)?)
            .bind(o.name)
            .execute(conn)
            .await?;
        }
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
    let educator = id(&e.id)?;
    sqlx::query(
        "INSERT INTO known_educators (id, region_id, municipality_id, organization_id, last_name, first_name,
                                      middle_name, position, subjects, last_pd_completed_on, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET region_id = $2, municipality_id = $3, organization_id = $4,
             last_name = $5, first_name = $6, middle_name = $7, position = $8, subjects = $9,
             last_pd_completed_on = $10, active = $11",
    )
    .bind(educator)
    .bind(id(&e.region_id)?)
    .bind(id(&e.municipality_id)?)
    .bind(id(&e.organization_id)?)
    .bind(e.last_name)
    .bind(e.first_name)
    .bind(e.middle_name)
    .bind(e.position)
    .bind(e.subjects)
    .bind(date(&e.last_pd_completed_on)?)
    .bind(active)
    .execute(&mut *conn)
    .await?;
    candidates::refresh(conn, Refresh::Educator(educator)).await?;
    Ok(())
}

async fn apply_registry(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() == "campaign_calendar_changed" {
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
