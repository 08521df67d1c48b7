//! Identity's municipalities and organizations, as every service that
//! shows units by name or checks a scope keeps them (`known_municipalities`
//! and `known_organizations`, in each service's own migrations): one place
//! that applies identity's events to them, and one that resolves the part
//! of a region an operator's list shows.

use pd_bus::consumer::{Event, HandleError};
use pd_domain::request::{body_id, ensure};
use pd_domain::{AppError, Principal, Role};
use pd_proto::identity::v1 as identity;
use sqlx::PgConnection;
use uuid::Uuid;

fn id(s: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(s).map_err(|e| HandleError::Reject(format!("bad id {s:?}: {e}")))
}

/// Applies `municipality_created` / `_updated`, `organization_created` and
/// `organization_updated` (the newest snapshot of an organization wins);
/// `false` for any other event, which is the caller's.
pub async fn apply(conn: &mut PgConnection, event: &Event) -> Result<bool, HandleError> {
    match event.event_type() {
        // `municipality_updated` carries the municipality as field 1 too.
        "municipality_created" | "municipality_updated" => {
            if !event.is_newest(conn).await? {
                return Ok(true);
            }
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

/// The part of a region a list shows: one organization, one municipality,
/// or the whole region (both `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    pub organization: Option<Uuid>,
    pub municipality: Option<Uuid>,
}

/// User-facing strings of the scope checks.
mod messages {
    pub const ORGANIZATION_NOT_FOUND: &str = "организация не найдена";
    pub const MUNICIPALITY_NOT_FOUND: &str = "муниципалитет не найден";
    pub const NAME_A_UNIT: &str = "укажите организацию или муниципалитет";
}

fn db_error(e: sqlx::Error) -> AppError {
    pd_bus::rpc::database_error(e)
}

/// The scope a caller asked for (`organization_id`, `municipality_id`),
/// checked: 403 outside the caller's scope, 404 for units of another
/// region. With neither, the whole region for those who manage it
/// (`manages`: the service's rule), else the caller's one organization or
/// municipality. The region's managers, then municipal and organization
/// operators, see their units.
pub async fn scope(
    conn: &mut PgConnection,
    p: &Principal,
    region: Uuid,
    organization: &str,
    municipality: &str,
    manages: fn(&Principal, Uuid) -> bool,
) -> Result<Scope, AppError> {
    if !organization.is_empty() {
        let org = body_id("organization_id", organization)?;
        let row: Option<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT municipality_id, region_id FROM known_organizations WHERE id = $1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
        let Some((muni, _)) = row.filter(|(_, r)| *r == region) else {
            return Err(AppError::not_found(messages::ORGANIZATION_NOT_FOUND));
        };
        ensure(
            manages(p, region)
                || p.has_scope(Role::MunicipalOperator, muni)
                || p.has_scope(Role::OrgOperator, org),
        )?;
        return Ok(Scope {
            organization: Some(org),
            municipality: None,
        });
    }
    if !municipality.is_empty() {
        let m = body_id("municipality_id", municipality)?;
        let r: Option<Uuid> =
            sqlx::query_scalar("SELECT region_id FROM known_municipalities WHERE id = $1")
                .bind(m)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?;
        if r != Some(region) {
            return Err(AppError::not_found(messages::MUNICIPALITY_NOT_FOUND));
        }
        ensure(manages(p, region) || p.has_scope(Role::MunicipalOperator, m))?;
        return Ok(Scope {
            organization: None,
            municipality: Some(m),
        });
    }
    if manages(p, region) {
        return Ok(Scope::default());
    }
    let orgs: Vec<Uuid> = p.scopes(Role::OrgOperator).collect();
    let munis: Vec<Uuid> = p.scopes(Role::MunicipalOperator).collect();
    match (orgs.as_slice(), munis.as_slice()) {
        ([], [m]) => Ok(Scope {
            organization: None,
            municipality: Some(*m),
        }),
        ([o], []) => Ok(Scope {
            organization: Some(*o),
            municipality: None,
        }),
        _ => Err(AppError::forbidden(messages::NAME_A_UNIT)),
    }
}
