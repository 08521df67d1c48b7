//! The OpenAPI 3 document. Routes add themselves through
//! `utoipa_axum::routes!`, so a route cannot exist without its entry.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PD Platform API",
        version = "1",
        description = "Personalized professional development of educators: the region's yearly cycle.\n\nErrors are `application/problem+json` (RFC 9457). Sign in with `POST /api/v1/auth/login` and send `Authorization: Bearer <access_token>`."
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::http::Problem)),
    tags(
        (name = "auth", description = "Signing in and the current user"),
        (name = "regions", description = "Regions and municipalities"),
        (name = "organizations", description = "Organizations and providers"),
        (name = "educators", description = "Educators and their bulk import"),
        (name = "users", description = "Users and role grants"),
        (name = "campaigns", description = "The yearly campaign and its phases"),
        (name = "programs", description = "Programs of providers"),
        (name = "review", description = "Technical and content review"),
        (name = "council", description = "The expert council, its protocol and approval"),
        (name = "catalog", description = "The published registry (public)"),
        (name = "schedule", description = "Groups of the schedule"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The complete document as JSON (for `pd openapi` and tests).
pub fn openapi_json() -> String {
    let (_, doc) = crate::http::api().split_for_parts();
    doc.to_pretty_json().unwrap_or_default()
}
