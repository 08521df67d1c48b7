//! What the registry keeps of identity: regions (time zones, PD models),
//! municipalities, providers and role grants, fed by identity's events;
//! and of the surveys service: the campaign's published priorities.
//! Snapshots (regions, providers) apply only when newer than what is held
//! (`Event::is_newest`); grants keep their version per row, so a grant and
//! its revocation delivered out of order end as identity left them.

use futures::FutureExt;
use pd_bus::Bus;
use pd_bus::consumer::{Consumer, Event, HandleError};
use pd_proto::identity::v1 as identity;
use pd_proto::surveys::v1 as surveys;
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
        batch_handler: None,
    }
}

/// The surveys service's published priorities, shown with the campaign.
pub(crate) fn surveys_consumer(bus: &Bus, pool: &PgPool) -> Consumer {
    Consumer {
        bus: bus.clone(),
        pool: pool.clone(),
        consumer: crate::SERVICE,
        source: "surveys",
        handler: Arc::new(|conn, event| apply_surveys(conn, event).boxed()),
        batch_handler: None,
    }
}

async fn apply_surveys(conn: &mut PgConnection, event: Event) -> Result<(), HandleError> {
    if event.event_type() == "priorities_published" && event.is_newest(conn).await? {
        let e: surveys::PrioritiesPublished = event.decode()?;
        let at = chrono::DateTime::parse_from_rfc3339(&e.published_at)
            .map_err(|err| HandleError::Reject(format!("published_at: {err}")))?;
        sqlx::query(
            "INSERT INTO campaign_priorities (campaign_id, directions, topics, published_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (campaign_id) DO UPDATE SET directions = $2, topics = $3, published_at = $4",
        )
        .bind(id(&e.campaign_id)?)
        .bind(e.directions)
        .bind(e.topics)
        .bind(at)
        .execute(conn)
        .await?;
    }
    Ok(())
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
            if !event.is_newest(conn).await? {
                return Ok(());
            }
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
            if !event.is_newest(conn).await? {
                return Ok(());
            }
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
            record_grant(conn, &event, &e.user_id, e.role.clone(), &e.scope_id, true).await?;
            if !e.scope_id.is_empty() {
                sqlx::query(
                    "UPDATE known_grants SET login = $4, display_name = $5
                     WHERE user_id = $1 AND role = $2 AND scope_id = $3",
                )
                .bind(id(&e.user_id)?)
                .bind(e.role)
                .bind(id(&e.scope_id)?)
                .bind(e.login)
                .bind(e.display_name)
                .execute(conn)
                .await?;
            }
        }
        "grants_snapshot" => {
            let e: identity::GrantsSnapshot = event.decode()?;
            apply_grants_snapshot(conn, &event, e).await?;
        }
        "role_revoked" => {
            let e: identity::RoleRevoked = event.decode()?;
            record_grant(conn, &event, &e.user_id, e.role, &e.scope_id, false).await?;
        }
        // Educators and organizations are not the registry's concern.
        _ => {}
    }
    Ok(())
}

/// Sets a grant active or not, unless a newer event of the same account
/// set it already. Grants without a scope (admin) are not the registry's
/// concern.
async fn record_grant(
    conn: &mut PgConnection,
    event: &Event,
    user_id: &str,
    role: String,
    scope_id: &str,
    active: bool,
) -> Result<(), HandleError> {
    if scope_id.is_empty() {
        return Ok(());
    }
    let version = i64::try_from(event.version())
        .map_err(|_| HandleError::Reject("version out of range".to_owned()))?;
    sqlx::query(
        "INSERT INTO known_grants (user_id, role, scope_id, version, active) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, role, scope_id) DO UPDATE SET version = EXCLUDED.version, active = EXCLUDED.active
         WHERE known_grants.version < EXCLUDED.version OR EXCLUDED.version = 0",
    )
    .bind(id(user_id)?)
    .bind(role)
    .bind(id(scope_id)?)
    .bind(version)
    .bind(active)
    .execute(conn)
    .await?;
    Ok(())
}

/// Exactly the listed grants active for the account, as of the snapshot's
/// version; grants changed by newer events stay as those left them.
async fn apply_grants_snapshot(
    conn: &mut PgConnection,
    event: &Event,
    e: identity::GrantsSnapshot,
) -> Result<(), HandleError> {
    let user = id(&e.user_id)?;
    let version = i64::try_from(event.version())
        .map_err(|_| HandleError::Reject("version out of range".to_owned()))?;
    sqlx::query(
        "UPDATE known_grants SET active = false, version = $2 WHERE user_id = $1 AND version < $2",
    )
    .bind(user)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    for g in e.grants {
        sqlx::query(
            "INSERT INTO known_grants (user_id, role, scope_id, version, active, login, display_name)
             VALUES ($1, $2, $3, $4, true, $5, $6)
             ON CONFLICT (user_id, role, scope_id) DO UPDATE
                SET active = true, version = EXCLUDED.version, login = EXCLUDED.login,
                    display_name = EXCLUDED.display_name
             WHERE known_grants.version <= EXCLUDED.version",
        )
        .bind(user)
        .bind(&g.role)
        .bind(id(&g.scope_id)?)
        .bind(version)
        .bind(&e.login)
        .bind(&e.display_name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
