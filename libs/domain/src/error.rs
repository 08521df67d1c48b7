//! The one error type services answer with. It travels over NATS as a typed
//! reply and the gateway maps it to an RFC 9457 problem+json body.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Malformed request (unparseable body): 400.
    BadRequest,
    /// Well-formed but invalid values: 422, with the fields named.
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    /// The request's address is longer than the API reads: 414.
    UriTooLong,
    RateLimited,
    /// The owning service did not answer at all: 503.
    Unavailable,
    /// The owning service did not answer in time: 504.
    Timeout,
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UriTooLong => "uri_too_long",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> ErrorKind {
        match s {
            "bad_request" => ErrorKind::BadRequest,
            "invalid" => ErrorKind::Invalid,
            "unauthenticated" => ErrorKind::Unauthenticated,
            "forbidden" => ErrorKind::Forbidden,
            "not_found" => ErrorKind::NotFound,
            "method_not_allowed" => ErrorKind::MethodNotAllowed,
            "conflict" => ErrorKind::Conflict,
            "payload_too_large" => ErrorKind::PayloadTooLarge,
            "uri_too_long" => ErrorKind::UriTooLong,
            "rate_limited" => ErrorKind::RateLimited,
            "unavailable" => ErrorKind::Unavailable,
            "timeout" => ErrorKind::Timeout,
            _ => ErrorKind::Internal,
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Invalid => 422,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UriTooLong => 414,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::Internal => 500,
        }
    }

    /// The problem `title`: short, stable, English (RFC 9457 §3.1.4).
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "Malformed request",
            ErrorKind::Invalid => "Validation failed",
            ErrorKind::Unauthenticated => "Authentication required",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "Not found",
            ErrorKind::MethodNotAllowed => "Method not allowed",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::PayloadTooLarge => "Payload too large",
            ErrorKind::UriTooLong => "URI too long",
            ErrorKind::RateLimited => "Too many requests",
            ErrorKind::Unavailable => "Service unavailable",
            ErrorKind::Timeout => "Service timed out",
            ErrorKind::Internal => "Internal error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct AppError {
    pub kind: ErrorKind,
    /// Human-readable explanation shown to the user.
    pub detail: String,
    pub fields: Vec<FieldError>,
    /// Extra members of the problem body (RFC 9457 §3.2), e.g. `phase`.
    pub extensions: std::collections::BTreeMap<String, String>,
}

impl AppError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        AppError {
            kind,
            detail: detail.into(),
            fields: Vec::new(),
            extensions: Default::default(),
        }
    }

    /// Adds a member to the problem body.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, detail)
    }
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, detail)
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }
    /// A 422 naming one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError {
            kind: ErrorKind::Invalid,
            detail: message.clone(),
            fields: vec![FieldError {
                field: field.into(),
                message,
            }],
            extensions: Default::default(),
        }
    }
    /// A 422 naming several fields at once.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let detail = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError {
            kind: ErrorKind::Invalid,
            detail,
            fields,
            extensions: Default::default(),
        }
    }
}

/// Collects field errors so a request reports all of them at once.
#[derive(Default)]
pub struct Validator {
    pub(crate) fields: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.fields.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    /// Records the error of a parse and returns its value, if any.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }
    pub fn require(&mut self, field: &str, value: &str) -> Option<String> {
        let v = value.trim();
        if v.is_empty() {
            self.add(field, "обязательное поле");
            None
        } else {
            Some(v.to_owned())
        }
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(self.fields))
        }
    }
}
