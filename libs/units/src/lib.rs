//! Identity's municipalities and organizations, as every service that
//! shows units by name or checks a scope keeps them (`known_municipalities`
//! and `known_organizations`, in each service's own migrations): one place
//! that applies identity's events to them.

use pd_bus::consumer::{Event, HandleError};
use pd_proto::identity::v1 as identity;
use sqlx::PgConnection;
use uuid::Uuid;

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

/// Applies `municipality_created`, `organization_created` and
/// `organization_updated` (the newest snapshot of an organization wins);
/// `false` for any other event, which is the caller's.
pub async fn apply(conn: &mut PgConnection, event: &Event) -> Result<bool, HandleError> {
    match event.event_type() {
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
                return Ok(true);
            }
            let o = event
                .decode::<identity::OrganizationCreated>()?
                .organization
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO known_organizations (id, region_id, municipality_id, name)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET municipality_id = $3, name = $4",
            )
            .bind(id(&o.id)?)
            .bind(id(&o.region_id)?)
            .bind(id(&o.municipality_id)?)
            .bind(o.name)
            .execute(conn)
            .await?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
