//! What the registry keeps of identity: regions (time zones, PD models),
//! municipalities, providers and role grants, fed by identity's events.

use futures::FutureExt;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, HandleError};
use pd_proto::identity::v1 as identity;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

pub(crate) fn consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "identity",
        handler: Arc::new(|conn, event| apply(conn, event).boxed()),
    }
}

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

async fn apply(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    match event.event_type() {
        // A region's time zone and PD model (voucher regions take programs
        // of one voucher block). `region_updated` carries the region as
        // field 1 too, so the created message reads both.
        "region_created" | "region_updated" => {
            let e: identity::RegionCreated = event.decode()?;
            let r = e.region.unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_regions (id, time_zone, pd_model) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET time_zone = COALESCE(NULLIF($2, ''), known_regions.time_zone),
                                                pd_model = COALESCE(NULLIF($3, ''), known_regions.pd_model)",
            )
            .bind(id(&r.id)?)
            .bind(r.time_zone)
            .bind(r.pd_model)
            .execute(conn)
            .await?;
        }
        "municipality_created" => {
            let e: identity::MunicipalityCreated = event.decode()?;
            let m = e.municipality.unwrap_or_default();
            sqlx::query("INSERT INTO known_municipalities (id, region_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id(&m.id)?)
                .bind(id(&m.region_id)?)
                .execute(conn)
                .await?;
        }
        "provider_created" => {
            let e: identity::ProviderCreated = event.decode()?;
            let p = e.provider.unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_providers (id, region_id, name, licence_number) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = $3, licence_number = $4",
            )
            .bind(id(&p.id)?)
            .bind(id(&p.region_id)?)
            .bind(p.name)
            .bind(p.licence_number)
            .execute(conn)
            .await?;
        }
        "role_granted" => {
            let e: identity::RoleGranted = event.decode()?;
            if !e.scope_id.is_empty() {
                sqlx::query("INSERT INTO known_grants (user_id, role, scope_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(id(&e.user_id)?)
                    .bind(e.role)
                    .bind(id(&e.scope_id)?)
                    .execute(conn)
                    .await?;
            }
        }
        // Educators and organizations are not the registry's concern.
        _ => {}
    }
    Ok(())
}
