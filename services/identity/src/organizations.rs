//! Municipalities, organizations (schools, kindergartens, colleges, ...) and
//! providers of PD programs.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_domain::bounds::{CODE, NAME, TITLE};
use pd_domain::{AppError, Inn, error::Validator};
use pd_proto::common::v1::IdRequest;
use pd_proto::identity::v1 as pb;
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::{body_id, db_error, ensure, limit, offset, path_id, ts};
use crate::domain::{access, values};
use crate::{State, messages as msg};
use pd_domain::request::like_escape;

// ---------- municipalities ----------

#[derive(FromRow)]
pub(crate) struct MunicipalityRow {
    id: Uuid,
    region_id: Uuid,
    name: String,
    code: String,
    created_at: DateTime<Utc>,
}

impl From<MunicipalityRow> for pb::Municipality {
    fn from(r: MunicipalityRow) -> Self {
        pb::Municipality {
            id: r.id.to_string(),
            region_id: r.region_id.to_string(),
            name: r.name,
            code: r.code,
            created_at: ts(r.created_at),
        }
    }
}

async fn region_exists(state: &State, id: Uuid) -> Result<bool, AppError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM regions WHERE id = $1)")
        .bind(id)
        .fetch_one(&state.pool)
        .await
        .map_err(db_error)
}

pub(crate) async fn create_municipality(
    state: State,
    ctx: RpcContext,
    req: pb::CreateMunicipalityRequest,
) -> Result<pb::Municipality, AppError> {
    let p = ctx.principal()?;
    // The region comes from the URL: unknown is 404.
    let region_id = path_id(&req.region_id, msg::REGION_NOT_FOUND)?;
    if !region_exists(&state, region_id).await? {
        return Err(AppError::not_found(msg::REGION_NOT_FOUND));
    }
    let mut v = Validator::new();
    let name = v.check("name", values::required_text(&req.name, NAME));
    let code = v.check("code", values::municipality_code(&req.code));
    v.finish()?;
    let (Some(name), Some(code)) = (name, code) else {
        return Err(AppError::internal("validation"));
    };
    ensure(access::can_administer_region(p, region_id))?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: MunicipalityRow = sqlx::query_as(
        "INSERT INTO municipalities (id, region_id, name, code) VALUES ($1, $2, $3, $4)
         RETURNING id, region_id, name, code, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(region_id)
    .bind(name)
    .bind(code)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let m = pb::Municipality::from(row);
    let event = pb::MunicipalityCreated {
        municipality: Some(m.clone()),
    };
    state
        .outbox
        .write(&mut tx, "municipality_created", &m.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &m).await?;
    Ok(m)
}

/// Renames a municipality or sets its OKTMO code (admin, the region's
/// operator): regions that existed before codes give theirs this way.
pub(crate) async fn update_municipality(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateMunicipalityRequest,
) -> Result<pb::Municipality, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::MUNICIPALITY_NOT_FOUND)?;
    let mut v = Validator::new();
    let name = if req.name.trim().is_empty() {
        None
    } else {
        v.check("name", values::required_text(&req.name, NAME))
    };
    let code = v.check("code", values::municipality_code(&req.code));
    v.finish()?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let region: Option<Uuid> =
        sqlx::query_scalar("SELECT region_id FROM municipalities WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    let region = region.ok_or_else(|| AppError::not_found(msg::MUNICIPALITY_NOT_FOUND))?;
    ensure(access::can_administer_region(p, region))?;
    let row: MunicipalityRow = sqlx::query_as(
        "UPDATE municipalities SET name = coalesce($2, name),
                code = CASE WHEN $3 = '' THEN code ELSE $3 END
         WHERE id = $1 RETURNING id, region_id, name, code, created_at",
    )
    .bind(id)
    .bind(name)
    .bind(code.unwrap_or_default())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let m = pb::Municipality::from(row);
    let event = pb::MunicipalityUpdated {
        municipality: Some(m.clone()),
    };
    state
        .outbox
        .write(&mut tx, "municipality_updated", &m.id, &ctx.actor(), &event)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(m)
}

pub(crate) async fn list_municipalities(
    state: State,
    ctx: RpcContext,
    req: pb::ListMunicipalitiesRequest,
) -> Result<pb::MunicipalityList, AppError> {
    ctx.principal()?;
    let region_id = path_id(&req.region_id, msg::REGION_NOT_FOUND)?;
    let rows: Vec<MunicipalityRow> = sqlx::query_as(
        "SELECT id, region_id, name, code, created_at FROM municipalities WHERE region_id = $1 ORDER BY name",
    )
    .bind(region_id)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    Ok(pb::MunicipalityList {
        items: rows.into_iter().map(Into::into).collect(),
    })
}

// ---------- organizations ----------

#[derive(FromRow)]
pub(crate) struct OrganizationRow {
    id: Uuid,
    region_id: Uuid,
    municipality_id: Uuid,
    name: String,
    kind: String,
    inn: String,
    created_at: DateTime<Utc>,
}

/// A row of a listed page with the size of the whole list.
#[derive(FromRow)]
struct OrganizationPageRow {
    #[sqlx(flatten)]
    org: OrganizationRow,
    total: i64,
}

impl From<OrganizationRow> for pb::Organization {
    fn from(r: OrganizationRow) -> Self {
        pb::Organization {
            id: r.id.to_string(),
            region_id: r.region_id.to_string(),
            municipality_id: r.municipality_id.to_string(),
            name: r.name,
            kind: r.kind,
            inn: r.inn,
            created_at: ts(r.created_at),
        }
    }
}

macro_rules! org_columns {
    () => {
        "id, region_id, municipality_id, name, kind, inn, created_at"
    };
}

pub(crate) async fn create(
    state: State,
    ctx: RpcContext,
    req: pb::CreateOrganizationRequest,
) -> Result<pb::Organization, AppError> {
    let p = ctx.principal()?;
    let mut v = Validator::new();
    let municipality_id = v.check(
        "municipality_id",
        body_id("municipality_id", &req.municipality_id).map_err(|e| e.detail),
    );
    let name = v.check("name", values::required_text(&req.name, TITLE));
    let kind = v.check("kind", values::org_kind(&req.kind));
    let inn = v.check("inn", Inn::parse(&req.inn));
    v.finish()?;
    let (Some(municipality_id), Some(name), Some(kind), Some(inn)) =
        (municipality_id, name, kind, inn)
    else {
        return Err(AppError::internal("validation"));
    };
    let region_id: Option<Uuid> =
        sqlx::query_scalar("SELECT region_id FROM municipalities WHERE id = $1")
            .bind(municipality_id)
            .fetch_optional(&state.pool)
            .await
            .map_err(db_error)?;
    let region_id = region_id
        .ok_or_else(|| AppError::invalid("municipality_id", msg::MUNICIPALITY_NOT_FOUND))?;
    ensure(access::can_add_organization(p, municipality_id, region_id))?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: OrganizationRow = sqlx::query_as(concat!(
        "INSERT INTO organizations (id, region_id, municipality_id, name, kind, inn)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        org_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(region_id)
    .bind(municipality_id)
    .bind(name)
    .bind(kind)
    .bind(inn.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let org = pb::Organization::from(row);
    let event = pb::OrganizationCreated {
        organization: Some(org.clone()),
    };
    state
        .outbox
        .write(
            &mut tx,
            "organization_created",
            &org.id,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &org).await?;
    Ok(org)
}

/// Organizations are public facts (names, INNs): any signed-in user may
/// list them; the people in them are what scopes protect.
pub(crate) async fn list(
    state: State,
    ctx: RpcContext,
    req: pb::ListOrganizationsRequest,
) -> Result<pb::OrganizationList, AppError> {
    ctx.principal()?;
    let region = optional_filter("region_id", &req.region_id)?;
    let municipality = optional_filter("municipality_id", &req.municipality_id)?;
    let q = req.q.trim();
    if q.chars().count() > TITLE {
        return Err(AppError::invalid("q", pd_domain::bounds::too_long(TITLE)));
    }
    // Digits search the INN by its start; anything else the name.
    let (inn, name) = match q {
        "" => (None, None),
        q if q.chars().all(|c| c.is_ascii_digit()) => (Some(format!("{q}%")), None),
        q => (None, Some(format!("%{}%", like_escape(&q.to_lowercase())))),
    };
    let rows: Vec<OrganizationPageRow> = sqlx::query_as(concat!(
        "SELECT ",
        org_columns!(),
        ", count(*) OVER () AS total FROM organizations
          WHERE ($1::uuid IS NULL OR region_id = $1) AND ($2::uuid IS NULL OR municipality_id = $2)
            AND ($5::text IS NULL OR inn LIKE $5) AND ($6::text IS NULL OR lower(name) LIKE $6)
          ORDER BY name COLLATE \"ru-x-icu\", id LIMIT $3 OFFSET $4"
    ))
    .bind(region)
    .bind(municipality)
    .bind(limit(req.limit)?)
    .bind(offset(req.offset)?)
    .bind(inn)
    .bind(name)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let rows = rows.into_iter().map(|r| r.org);
    Ok(pb::OrganizationList {
        items: rows.map(Into::into).collect(),
        total,
    })
}

pub(crate) async fn get(
    state: State,
    ctx: RpcContext,
    req: IdRequest,
) -> Result<pb::Organization, AppError> {
    ctx.principal()?;
    let id = path_id(&req.id, msg::ORGANIZATION_NOT_FOUND)?;
    let row: Option<OrganizationRow> = sqlx::query_as(concat!(
        "SELECT ",
        org_columns!(),
        " FROM organizations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(db_error)?;
    row.map(Into::into)
        .ok_or_else(|| AppError::not_found(msg::ORGANIZATION_NOT_FOUND))
}

/// Renames an organization or changes its kind (the operators who add
/// organizations there); `organization_updated` tells the other services.
pub(crate) async fn update(
    state: State,
    ctx: RpcContext,
    req: pb::UpdateOrganizationRequest,
) -> Result<pb::Organization, AppError> {
    let p = ctx.principal()?;
    let id = path_id(&req.id, msg::ORGANIZATION_NOT_FOUND)?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let current: Option<OrganizationRow> = sqlx::query_as(concat!(
        "SELECT ",
        org_columns!(),
        " FROM organizations WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let current = current.ok_or_else(|| AppError::not_found(msg::ORGANIZATION_NOT_FOUND))?;
    ensure(access::can_add_organization(
        p,
        current.municipality_id,
        current.region_id,
    ))?;
    let mut v = Validator::new();
    let name = req
        .name
        .as_deref()
        .and_then(|n| v.check("name", values::required_text(n, TITLE)));
    let kind = req
        .kind
        .as_deref()
        .and_then(|k| v.check("kind", values::org_kind(k)));
    v.finish()?;
    let row: OrganizationRow = sqlx::query_as(concat!(
        "UPDATE organizations SET name = COALESCE($2, name), kind = COALESCE($3, kind) WHERE id = $1 RETURNING ",
        org_columns!()
    ))
    .bind(id)
    .bind(name)
    .bind(kind)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let org = pb::Organization::from(row);
    let event = pb::OrganizationUpdated {
        organization: Some(org.clone()),
    };
    state
        .outbox
        .write(
            &mut tx,
            "organization_updated",
            &org.id,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(org)
}

/// An optional id filter: empty means none, malformed is a 422.
pub(crate) use pd_domain::request::optional_id as optional_filter;

// ---------- providers ----------

#[derive(FromRow)]
pub(crate) struct ProviderRow {
    id: Uuid,
    region_id: Uuid,
    name: String,
    inn: String,
    licence_number: String,
    created_at: DateTime<Utc>,
}

impl From<ProviderRow> for pb::Provider {
    fn from(r: ProviderRow) -> Self {
        pb::Provider {
            id: r.id.to_string(),
            region_id: r.region_id.to_string(),
            name: r.name,
            inn: r.inn,
            licence_number: r.licence_number,
            created_at: ts(r.created_at),
        }
    }
}

pub(crate) async fn create_provider(
    state: State,
    ctx: RpcContext,
    req: pb::CreateProviderRequest,
) -> Result<pb::Provider, AppError> {
    let p = ctx.principal()?;
    let mut v = Validator::new();
    let region_id = v.check(
        "region_id",
        body_id("region_id", &req.region_id).map_err(|e| e.detail),
    );
    let name = v.check("name", values::required_text(&req.name, TITLE));
    let inn = v.check("inn", Inn::parse(&req.inn));
    // The education licence: "Л035-01298-16/00123456" and older spellings.
    let licence = v.check(
        "licence_number",
        values::required_text(&req.licence_number, CODE),
    );
    v.finish()?;
    let (Some(region_id), Some(name), Some(inn), Some(licence)) = (region_id, name, inn, licence)
    else {
        return Err(AppError::internal("validation"));
    };
    if !region_exists(&state, region_id).await? {
        return Err(AppError::invalid("region_id", msg::REGION_NOT_FOUND));
    }
    ensure(access::can_administer_region(p, region_id))?;
    let mut tx = state.pool.begin().await.map_err(db_error)?;
    let row: ProviderRow = sqlx::query_as(
        "INSERT INTO providers (id, region_id, name, inn, licence_number) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, region_id, name, inn, licence_number, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(region_id)
    .bind(name)
    .bind(inn.as_str())
    .bind(licence)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let provider = pb::Provider::from(row);
    let event = pb::ProviderCreated {
        provider: Some(provider.clone()),
    };
    state
        .outbox
        .write(
            &mut tx,
            "provider_created",
            &provider.id,
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    ctx.commit(tx, &provider).await?;
    Ok(provider)
}

pub(crate) async fn list_providers(
    state: State,
    ctx: RpcContext,
    req: pb::ListProvidersRequest,
) -> Result<pb::ProviderList, AppError> {
    ctx.principal()?;
    let region = optional_filter("region_id", &req.region_id)?;
    let rows: Vec<ProviderRow> = sqlx::query_as(
        "SELECT id, region_id, name, inn, licence_number, created_at FROM providers
         WHERE ($1::uuid IS NULL OR region_id = $1) ORDER BY name",
    )
    .bind(region)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    Ok(pb::ProviderList {
        items: rows.into_iter().map(Into::into).collect(),
    })
}
