//! `/api/v1/regions` and their municipalities.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::common::v1::{Empty, IdRequest};
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region, update_region))
        .routes(routes!(list_municipalities, create_municipality))
        .routes(routes!(update_municipality))
}

/// Create a region with its PD model (admin).
#[utoipa::path(post, path = "/api/v1/regions", tag = "regions", security(("bearer" = [])),
    request_body = pb::CreateRegionRequest,
    responses(
        (status = 201, description = "Created", body = pb::Region),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "Code taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn create_region(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateRegionRequest>,
) -> Result<(StatusCode, Json<pb::Region>), ApiError> {
    let r = s
        .send::<identity_ops::CreateRegion>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// List regions.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", security(("bearer" = [])),
    responses((status = 200, description = "Regions", body = pb::RegionList)))]
async fn list_regions(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<pb::RegionList>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::ListRegions>(&caller.ctx, &Empty {})
            .await?,
    ))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{id}", tag = "regions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    responses(
        (status = 200, description = "The region", body = pb::Region),
        (status = 404, description = "Unknown", body = Problem),
    ))]
async fn get_region(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Region>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::GetRegion>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct NewMunicipality {
    name: String,
    /// OKTMO code, 8 or 11 digits (optional; region-wide files may name the municipality by it).
    code: String,
}

/// Add a municipality to a region (admin, regional operator).
#[utoipa::path(post, path = "/api/v1/regions/{id}/municipalities", tag = "regions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    request_body = NewMunicipality,
    responses(
        (status = 201, description = "Created", body = pb::Municipality),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "Name or code taken in the region", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn create_municipality(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMunicipality>,
) -> Result<(StatusCode, Json<pb::Municipality>), ApiError> {
    let req = pb::CreateMunicipalityRequest {
        region_id: id,
        name: body.name,
        code: body.code,
    };
    let m = s
        .send::<identity_ops::CreateMunicipality>(&caller.ctx, &req)
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// Municipalities of a region.
#[utoipa::path(get, path = "/api/v1/regions/{id}/municipalities", tag = "regions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    responses((status = 200, description = "Municipalities", body = pb::MunicipalityList)))]
async fn list_municipalities(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::MunicipalityList>, ApiError> {
    let req = pb::ListMunicipalitiesRequest { region_id: id };
    Ok(Json(
        s.send::<identity_ops::ListMunicipalities>(&caller.ctx, &req)
            .await?,
    ))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct RegionPatch {
    #[schema(max_length = 300)]
    name: Option<String>,
    /// An IANA time zone, e.g. Europe/Samara.
    time_zone: Option<String>,
    /// Years between PD courses (1–10).
    #[schema(minimum = 1, maximum = 10)]
    pd_interval_years: Option<i32>,
}

/// Rename a region or correct its time zone or PD interval (admins).
#[utoipa::path(patch, path = "/api/v1/regions/{id}", tag = "regions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Region id")),
    request_body = RegionPatch,
    responses(
        (status = 200, description = "The region", body = pb::Region),
        (status = 404, description = "Unknown region", body = Problem),
    ))]
async fn update_region(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RegionPatch>,
) -> Result<Json<pb::Region>, ApiError> {
    let req = pb::UpdateRegionRequest {
        id,
        name: body.name,
        time_zone: body.time_zone,
        pd_interval_years: body.pd_interval_years,
    };
    Ok(Json(
        s.send::<identity_ops::UpdateRegion>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct MunicipalityChange {
    /// A new name; empty keeps it.
    name: String,
    /// OKTMO code, 8 or 11 digits; empty keeps it.
    code: String,
}

/// Rename a municipality or give it its OKTMO code (admin, regional operator).
#[utoipa::path(patch, path = "/api/v1/municipalities/{id}", tag = "regions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Municipality id")),
    request_body = MunicipalityChange,
    responses(
        (status = 200, description = "The municipality", body = pb::Municipality),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "Unknown municipality", body = Problem),
        (status = 409, description = "Name or code taken in the region", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn update_municipality(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MunicipalityChange>,
) -> Result<Json<pb::Municipality>, ApiError> {
    let req = pb::UpdateMunicipalityRequest {
        id,
        name: body.name,
        code: body.code,
    };
    Ok(Json(
        s.send::<identity_ops::UpdateMunicipality>(&caller.ctx, &req)
            .await?,
    ))
}
