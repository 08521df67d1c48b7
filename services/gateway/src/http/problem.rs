//! RFC 9457 problem details: every error the API returns.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pd_domain::{AppError, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of problem, e.g. `/problems/invalid`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What went wrong, for the user.
    pub detail: String,
    /// Machine-readable kind: invalid, not_found, conflict, ...
    pub code: String,
    /// The fields that failed validation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Members particular to the problem, e.g. `phase`, `phase_starts_on`,
    /// `phase_ends_on` of an action outside its phase.
    #[serde(flatten)]
    pub extensions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request, e.g. `snils` or `modules[2].hours`.
    pub field: String,
    pub message: String,
}

/// Any error a handler returns.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status =
            StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if e.kind == ErrorKind::Internal {
            tracing::error!(detail = %e.detail, "internal error answered");
        }
        let problem = Problem {
            type_: format!("/problems/{}", e.kind.as_str()),
            title: e.kind.title().to_owned(),
            status: status.as_u16(),
            detail: e.detail,
            code: e.kind.as_str().to_owned(),
            errors: e
                .fields
                .into_iter()
                .map(|f| ProblemField {
                    field: f.field,
                    message: f.message,
                })
                .collect(),
            request_id: super::REQUEST_ID.try_with(Clone::clone).ok(),
            trace_id: pd_runtime::telemetry::current_trace_id(),
            // Members of the problem itself are never overwritten.
            extensions: e
                .extensions
                .into_iter()
                .filter(|(k, _)| {
                    ![
                        "type",
                        "title",
                        "status",
                        "detail",
                        "code",
                        "errors",
                        "request_id",
                        "trace_id",
                    ]
                    .contains(&k.as_str())
                })
                .collect(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // Refused before running: say when to come back (seconds).
        let retry_after = match e.kind {
            ErrorKind::RateLimited => Some("60"),
            ErrorKind::Unavailable => Some("1"),
            _ => None,
        };
        if let Some(default) = retry_after {
            let seconds = problem
                .extensions
                .get("retry_after")
                .map(String::as_str)
                .unwrap_or(default);
            if let Ok(v) = HeaderValue::from_str(seconds) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if e.kind == ErrorKind::Unauthenticated {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
