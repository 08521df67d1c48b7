//! `/api/v1/organizations` and `/api/v1/providers`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pd_proto::common::v1::IdRequest;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::identity as identity_ops;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiQuery, AppState, Caller, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, update_organization))
        .routes(routes!(issue_educator_logins))
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(import_organizations))
        .routes(routes!(list_provider_keys, issue_provider_key))
        .routes(routes!(revoke_provider_key))
}

/// Largest organizations file: a region's few thousand rows take well
/// under a megabyte or two.
const ORGANIZATIONS_FILE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct OrganizationImportQuery {
    /// The region whose organizations the file lists.
    region_id: String,
    /// Check the file and report every bad row without changing anything.
    dry_run: bool,
}

/// Import a region's organizations from a CSV file (admin, the region's
/// regional operator; a municipal operator for rows of their municipality).
///
/// Columns: name, inn, municipality (its name, matched case-insensitively
/// within the region, or its id), kind (school, preschool, college,
/// additional_education, provider, or the Russian names: школа, детский
/// сад, колледж, …), or their Russian headings (наименование, ИНН,
/// муниципальный район, тип). Separated by `;` or `,`; UTF-8 (with or
/// without BOM) or Windows-1251 as Excel saves it. A known INN of the
/// region updates that organization's name and kind (`organization_updated`;
/// an empty kind keeps it), a new INN creates one (`organization_created`,
/// kind required). All-or-nothing: any bad row and nothing changes; a 422
/// then lists every bad cell as a field `rows[N].column` (N the file's
/// line, the header being line 1). `dry_run=true` only checks the file.
#[utoipa::path(post, path = "/api/v1/organizations/imports", tag = "organizations", security(("bearer" = [])),
    params(OrganizationImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 200, description = "Imported, or checked (dry run)", body = pb::OrganizationImport),
        (status = 403, description = "Not adding organizations in the region", body = Problem),
        (status = 413, description = "File too large", body = Problem),
        (status = 422, description = "An unreadable file, an unknown region, or bad rows named `rows[N].column`", body = Problem),
    ))]
async fn import_organizations(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrganizationImportQuery>,
    body: Body,
) -> Result<Json<pb::OrganizationImport>, ApiError> {
    let bytes =
        super::educators::read_file(body, s.import_limit.min(ORGANIZATIONS_FILE_BYTES)).await?;
    let begin = pb::ImportBeginRequest {
        kind: "organizations".into(),
        region_id: q.region_id,
        dry_run: q.dry_run,
        ..Default::default()
    };
    let job: pb::ImportJob = s
        .send::<identity_ops::ImportBegin>(&caller.ctx, &begin)
        .await?;
    let chunks = super::educators::upload(&s, &caller, &job.id, &bytes).await?;
    let req = pb::ImportOrganizationsRequest {
        import_id: job.id,
        chunks,
    };
    // Thousands of rows in one transaction: a longer deadline.
    let done = s
        .bus
        .call_with_deadline::<identity_ops::ImportOrganizations>(
            &req,
            &caller.ctx,
            std::time::Duration::from_secs(120),
        )
        .await?;
    Ok(Json(done))
}

/// Create an organization in a municipality (admin, regional or municipal operator).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])),
    request_body = pb::CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = pb::Organization),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "INN taken", body = Problem),
        (status = 422, description = "Invalid fields (INN checksum, kind, ...)", body = Problem),
    ))]
async fn create_organization(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateOrganizationRequest>,
) -> Result<(StatusCode, Json<pb::Organization>), ApiError> {
    let o = s
        .send::<identity_ops::CreateOrganization>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct OrganizationQuery {
    region_id: String,
    municipality_id: String,
    /// An INN (or its start), or part of the name.
    q: String,
    /// Page size, at most 500 (default 50).
    #[param(minimum = 0, maximum = 500)]
    limit: i32,
    #[param(minimum = 0, maximum = 1000000)]
    offset: i32,
}

/// List organizations, optionally of one region or municipality.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])),
    params(OrganizationQuery),
    responses((status = 200, description = "A page of organizations", body = pb::OrganizationList)))]
async fn list_organizations(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrganizationQuery>,
) -> Result<Json<pb::OrganizationList>, ApiError> {
    let req = pb::ListOrganizationsRequest {
        region_id: q.region_id,
        municipality_id: q.municipality_id,
        limit: q.limit,
        offset: q.offset,
        q: q.q,
    };
    Ok(Json(
        s.send::<identity_ops::ListOrganizations>(&caller.ctx, &req)
            .await?,
    ))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = pb::Organization),
        (status = 404, description = "Unknown", body = Problem),
    ))]
async fn get_organization(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Organization>, ApiError> {
    Ok(Json(
        s.send::<identity_ops::GetOrganization>(&caller.ctx, &IdRequest { id })
            .await?,
    ))
}

/// Issue a login and one-time password to educators of the organization
/// who have none, up to 100 per call (`remaining` tells how many are left:
/// call again). The passwords are shown only in this answer.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/educator-logins", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Issued logins", body = pb::IssuedLogins),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "Unknown organization", body = Problem),
    ))]
async fn issue_educator_logins(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<pb::IssuedLogins>), ApiError> {
    let req = pb::IssueEducatorLoginsRequest {
        organization_id: id,
    };
    // Hashing passwords takes time by design: a longer deadline.
    let issued = s
        .bus
        .call_with_deadline::<identity_ops::IssueEducatorLogins>(
            &req,
            &caller.ctx,
            std::time::Duration::from_secs(60),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Register a provider of PD programs (admin, regional operator).
#[utoipa::path(post, path = "/api/v1/providers", tag = "organizations", security(("bearer" = [])),
    request_body = pb::CreateProviderRequest,
    responses(
        (status = 201, description = "Created", body = pb::Provider),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 409, description = "INN taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
async fn create_provider(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<pb::CreateProviderRequest>,
) -> Result<(StatusCode, Json<pb::Provider>), ApiError> {
    let p = s
        .send::<identity_ops::CreateProvider>(&caller.ctx, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
struct ProviderQuery {
    region_id: String,
}

/// List providers.
#[utoipa::path(get, path = "/api/v1/providers", tag = "organizations", security(("bearer" = [])),
    params(ProviderQuery),
    responses((status = 200, description = "Providers", body = pb::ProviderList)))]
async fn list_providers(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ProviderQuery>,
) -> Result<Json<pb::ProviderList>, ApiError> {
    let req = pb::ListProvidersRequest {
        region_id: q.region_id,
    };
    Ok(Json(
        s.send::<identity_ops::ListProviders>(&caller.ctx, &req)
            .await?,
    ))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct OrganizationPatch {
    #[schema(max_length = 500)]
    name: Option<String>,
    /// school, preschool, college, additional_education, provider
    kind: Option<String>,
}

/// Rename an organization or change its kind (regional or municipal
/// operators of its place, admins).
#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    request_body = OrganizationPatch,
    responses(
        (status = 200, description = "The organization", body = pb::Organization),
        (status = 404, description = "Unknown organization", body = Problem),
    ))]
async fn update_organization(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OrganizationPatch>,
) -> Result<Json<pb::Organization>, ApiError> {
    let req = pb::UpdateOrganizationRequest {
        id,
        name: body.name,
        kind: body.kind,
    };
    Ok(Json(
        s.send::<identity_ops::UpdateOrganization>(&caller.ctx, &req)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct ProviderKeyBody {
    /// What the key is for, e.g. the provider's LMS.
    label: String,
}

/// Issue an API key for a provider's system (admin). The answer is the
/// only place the key (`secret`) is ever shown; only its hash is kept
/// (so no Idempotency-Key: a lost answer means issuing another and
/// revoking the first). The provider sends it as `X-Api-Key`.
#[utoipa::path(post, path = "/api/v1/providers/{id}/api-keys", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Provider id")),
    request_body = ProviderKeyBody,
    responses(
        (status = 200, description = "The key, with its secret (shown once)", body = pb::ProviderKey),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "Unknown provider", body = Problem),
    ))]
async fn issue_provider_key(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProviderKeyBody>,
) -> Result<Json<pb::ProviderKey>, ApiError> {
    let req = pb::IssueProviderKeyRequest {
        provider_id: id,
        label: body.label,
    };
    let key = s
        .send::<identity_ops::IssueProviderKey>(&caller.ctx, &req)
        .await?;
    Ok(Json(key))
}

/// A provider's API keys (admin): label, first characters, issued and
/// revoked dates; never the key itself.
#[utoipa::path(get, path = "/api/v1/providers/{id}/api-keys", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 200, description = "The provider's keys", body = pb::ProviderKeyList),
        (status = 403, description = "Not an admin", body = Problem),
    ))]
async fn list_provider_keys(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::ProviderKeyList>, ApiError> {
    let req = pb::ProviderKeysRequest { provider_id: id };
    Ok(Json(
        s.send::<identity_ops::ListProviderKeys>(&caller.ctx, &req)
            .await?,
    ))
}

/// Revoke a provider's API key (admin): the next push with it is a 401.
#[utoipa::path(post, path = "/api/v1/providers/{id}/api-keys/{key_id}/revoke", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Provider id"), ("key_id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key, revoked", body = pb::ProviderKey),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "Unknown provider or key", body = Problem),
    ))]
async fn revoke_provider_key(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Json<pb::ProviderKey>, ApiError> {
    let req = pb::RevokeProviderKeyRequest {
        provider_id: id,
        key_id,
    };
    Ok(Json(
        s.send::<identity_ops::RevokeProviderKey>(&caller.ctx, &req)
            .await?,
    ))
}
