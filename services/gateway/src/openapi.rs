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
        (name = "surveys", description = "Competence catalog, questionnaires and tests, the needs survey, priorities and coverage"),
        (name = "allocation", description = "Candidates and their lists, funding and quotas, unique numbers and vouchers, refusals and redistribution"),
        (name = "enrollment", description = "Applications in the December window: seats, waitlists, withdrawals, the operators' lists"),
        (name = "monitoring", description = "Completions pushed by providers, post-course windows and scores, certificates and transcripts with public verification, PD records"),
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
        // Providers' systems push completions with an API key an admin issued.
        components.add_security_scheme(
            "provider_key",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::new("X-Api-Key"),
            )),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The complete document as JSON (for `pd openapi` and tests).
pub fn openapi_json() -> String {
    let (_, doc) = crate::http::api().split_for_parts();
    complete(doc).to_pretty_json().unwrap_or_default()
}

/// Adds, in one place for every operation, the answers the plumbing gives
/// whatever the handler: problems as `application/problem+json`, 401/403
/// where a token is needed, 400/413/422 where a body or query is read, 404
/// where the path names a resource, 503/504 when the owning service is
/// down or slow. A route cannot forget them.
pub fn complete(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (name, schema) in schemas.iter_mut() {
            declare_bounds(name, schema);
        }
    }
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    complete_operation(path, op);
                }
            }
        }
    }
    serde_json::from_value(value).unwrap_or(doc)
}

fn problem(description: &str) -> serde_json::Value {
    serde_json::json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn complete_operation(path: &str, op: &mut serde_json::Value) {
    let secured = op
        .get("security")
        .and_then(|s| s.as_array())
        .is_some_and(|s| !s.is_empty());
    let has_body = op.get("requestBody").is_some();
    let has_query = op
        .get("parameters")
        .and_then(|p| p.as_array())
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let creates = op.get("responses").and_then(|r| r.get("201")).is_some();
    if creates && let Some(op) = op.as_object_mut() {
        let params = op
            .entry("parameters")
            .or_insert_with(|| serde_json::json!([]));
        if let Some(params) = params.as_array_mut() {
            params.push(serde_json::json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Any unique string (a UUID): a retry with the same key and body within 24 hours gets the first answer again, without a second effect; the same key with another body is a 422.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}
            }));
        }
    }
    let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
        return;
    };
    // Errors are sent as problem+json: say so where a handler wrote JSON.
    for r in responses.values_mut() {
        if let Some(content) = r.get_mut("content").and_then(|c| c.as_object_mut())
            && let Some(json) = content.get("application/json").cloned()
            && json["schema"]["$ref"] == "#/components/schemas/Problem"
        {
            content.remove("application/json");
            content.insert("application/problem+json".to_owned(), json);
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    // Any request may be shed when the platform is at its bounds.
    add(
        "503",
        "Overloaded: the request was not run; retry after the Retry-After seconds",
    );
    if secured {
        add("401", "Not signed in, or the token expired or was revoked");
        add("403", "The caller's roles do not allow this");
    }
    if creates {
        add(
            "409",
            "A request with this Idempotency-Key is still running",
        );
    }
    if has_body {
        add("400", "The body is not a JSON object");
        add("413", "The body is too large");
        add("422", "Invalid or unknown fields, named in `errors`");
    }
    if has_query {
        add("400", "Malformed query parameters");
        add("422", "Query parameters out of range, named in `errors`");
    }
    if path.contains('{') {
        add("404", "Unknown, or outside the caller's scope");
    }
    add("503", "The owning service is unavailable");
    add("504", "The owning service did not answer in time");
}

/// Fields each request needs (the services answer 422 without them).
const REQUIRED: &[(&str, &[&str])] = &[
    ("CompletionsBody", &["learners"]),
    ("LearnerCompletion", &["educator_id", "status"]),
    ("RecordDecisionBody", &["decision"]),
    ("RevokeBody", &["reason"]),
    ("SettingsBody", &["window_days", "test_attempts"]),
    ("LoginRequest", &["login", "password"]),
    ("RefreshRequest", &["refresh_token"]),
    ("LogoutRequest", &["refresh_token"]),
    (
        "ChangePasswordRequest",
        &["current_password", "new_password"],
    ),
    (
        "CreateRegionRequest",
        &["code", "name", "time_zone", "pd_model"],
    ),
    ("NewMunicipality", &["name"]),
    (
        "CreateOrganizationRequest",
        &["municipality_id", "name", "kind", "inn"],
    ),
    (
        "CreateProviderRequest",
        &["region_id", "name", "inn", "licence_number"],
    ),
    (
        "CreateEducatorRequest",
        &[
            "snils",
            "last_name",
            "first_name",
            "position",
            "organization_id",
        ],
    ),
    ("CreateUserRequest", &["login", "password"]),
    ("NewGrant", &["role"]),
    ("Deactivation", &["reason"]),
    ("Leaving", &["reason", "left_on"]),
    (
        "CreateCampaignRequest",
        &["region_id", "year", "title", "phases"],
    ),
    (
        "CreateProgramRequest",
        &["provider_id", "campaign_id", "fields"],
    ),
    ("VoteBody", &["program_id", "vote"]),
    ("ReviewBody", &["conclusion", "scores"]),
    ("TechnicalDecision", &["decision"]),
    ("ExpertBody", &["user_id"]),
    ("CompetenceBody", &["name"]),
    ("InstrumentBody", &["kind", "purpose", "title", "questions"]),
    ("Question", &["id", "kind", "text"]),
    ("Section", &["competence", "threshold_percent"]),
    ("WindowBody", &["educator_ids", "closes_at"]),
    ("AnswersBody", &["answers"]),
    ("Answer", &["question_id"]),
    ("AttemptBody", &["answers"]),
    ("PrioritiesBody", &["directions"]),
];

/// Values a field of a request takes (the services answer 422 otherwise).
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "LearnerCompletion",
        "status",
        &["completed", "not_completed"],
    ),
    (
        "LearnerCompletion",
        "document_type",
        &["pk_certificate", "pp_diploma", "training_certificate"],
    ),
    ("RecordDecisionBody", "decision", &["verify", "reject"]),
    (
        "CreateRegionRequest",
        "pd_model",
        &["un_quota", "voucher_hours", "cumulative_route"],
    ),
    (
        "CreateOrganizationRequest",
        "kind",
        &[
            "school",
            "preschool",
            "college",
            "additional_education",
            "provider",
        ],
    ),
    (
        "NewGrant",
        "role",
        &[
            "educator",
            "org_operator",
            "municipal_operator",
            "regional_operator",
            "ministry",
            "expert",
            "council_member",
            "provider_admin",
            "admin",
        ],
    ),
    ("VoteBody", "vote", &["for", "against", "abstain"]),
    ("ReviewBody", "conclusion", &["include", "exclude"]),
    ("TechnicalDecision", "decision", &["accept", "return"]),
    (
        "Leaving",
        "reason",
        &["dismissal", "retirement", "transfer", "other"],
    ),
    ("InstrumentBody", "kind", &["questionnaire", "test"]),
    (
        "InstrumentBody",
        "purpose",
        &[
            "needs_survey",
            "diagnostic",
            "post_course_survey",
            "post_course_test",
            "other",
        ],
    ),
    (
        "Question",
        "kind",
        &[
            "single_choice",
            "multiple_choice",
            "scale",
            "short_text",
            "long_text",
        ],
    ),
];

/// The longest text a field of this name takes (`pd_domain::bounds`);
/// organizations and providers have long official names.
fn max_length(schema: &str, field: &str) -> Option<usize> {
    use pd_domain::bounds::{CODE, NAME, PERSON_NAME, TEXT, TITLE};
    let official = schema.contains("Organization") || schema.contains("Provider");
    match field {
        "name" if official => Some(TITLE),
        "last_name" | "first_name" | "middle_name" => Some(PERSON_NAME),
        "annotation" | "comment" | "remarks" | "reason" => Some(TEXT),
        "title" | "topic" | "direction" | "address" | "internship_site" => Some(TITLE),
        "code" | "licence_number" => Some(CODE),
        "name" | "position" | "display_name" | "assessment_form" => Some(NAME),
        "password" | "new_password" | "current_password" => Some(256),
        "login" => Some(64),
        _ => None,
    }
}

/// Writes the services' rules for a schema into the document: required
/// fields, allowed values and text lengths, so that a client (or a
/// contract fuzzer) knows them before it is refused.
fn declare_bounds(name: &str, schema: &mut serde_json::Value) {
    let required: &[&str] = REQUIRED
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, r)| r);
    if !required.is_empty() {
        schema["required"] = serde_json::json!(required);
    }
    let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for (field, prop) in props.iter_mut() {
        if let Some((_, _, values)) = ENUMS.iter().find(|(n, f, _)| *n == name && f == field) {
            prop["enum"] = serde_json::json!(values);
        }
        // The generated `default: ""` would contradict both.
        let enumerated = prop.get("enum").is_some();
        if (enumerated || required.contains(&field.as_str()))
            && let Some(p) = prop.as_object_mut()
        {
            p.remove("default");
        }
        let is_string = prop["type"] == "string"
            || prop["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "string"));
        if is_string
            && let Some(max) = max_length(name, field)
            && prop.get("maxLength").is_none()
        {
            prop["maxLength"] = serde_json::json!(max);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    /// The names of `struct`s deriving `ToSchema` in a gateway source file.
    fn schema_structs(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        // Inside a `#[derive(` that rustfmt may have split over lines.
        let mut in_derive = false;
        let mut derives_schema = false;
        for line in source.lines().map(str::trim) {
            if in_derive || line.starts_with("#[derive(") {
                derives_schema |= line.contains("ToSchema");
                in_derive = !line.ends_with(")]");
                continue;
            }
            let item = ["pub(crate) ", "pub(super) ", "pub ", ""]
                .iter()
                .find_map(|vis| line.strip_prefix(vis))
                .and_then(|l| {
                    l.strip_prefix("struct ")
                        .or_else(|| l.strip_prefix("enum "))
                });
            if let Some(rest) = item {
                if derives_schema {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                }
                derives_schema = false;
            } else if !line.starts_with("#[") && !line.starts_with("///") {
                derives_schema = false;
            }
        }
        out
    }

    #[test]
    fn schema_structs_are_found_however_their_derive_is_written() {
        let source = "#[derive(Deserialize, ToSchema)]\nstruct One {}\n\
                      #[derive(\n    Debug,\n    ToSchema,\n)]\n#[serde(default)]\npub(crate) enum Two {}\n\
                      #[derive(Debug)]\nstruct NotASchema {}\n";
        assert_eq!(schema_structs(source), ["One", "Two"]);
    }

    /// The document names each schema once: two request bodies of the same
    /// name (each module has its own `DecisionBody`, say) would silently
    /// become one, and the clients generated from it would send the wrong
    /// fields. The protobuf messages share the namespace.
    #[test]
    fn every_schema_name_is_used_once() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut clashes = Vec::new();
        let mut note = |name: String, place: String| {
            if let Some(first) = seen.insert(name.clone(), place.clone()) {
                clashes.push(format!("{name}: {first} and {place}"));
            }
        };
        let http = root.join("src/http");
        let mut files: Vec<_> = std::fs::read_dir(&http)
            .expect("src/http")
            .map(|e| e.expect("an entry").path())
            .collect();
        files.push(root.join("src/openapi.rs"));
        files.push(root.join("src/documents.rs"));
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a source file");
            for name in schema_structs(&source) {
                note(name, file.display().to_string());
            }
        }
        // The protobuf messages the API shows are schemas under their bare
        // names too: a gateway struct must not take one of them.
        let protos = root.join("../../proto/pd");
        for package in std::fs::read_dir(protos).expect("proto/pd") {
            for f in std::fs::read_dir(package.expect("a package").path().join("v1")).expect("v1") {
                let file = f.expect("a proto file").path();
                let source = std::fs::read_to_string(&file).expect("a proto file");
                for rest in source
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("message "))
                {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if let Some(first) = seen.get(&name) {
                        clashes.push(format!("{name}: {first} and {}", file.display()));
                    }
                }
            }
        }
        assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
    }
}
