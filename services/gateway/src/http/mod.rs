//! HTTP plumbing shared by the resources: state, the problem+json error,
//! extractors for the caller and JSON bodies, the observing middleware.

mod admission;
mod allocation;
mod auth;
mod campaigns;
mod client_ip;
mod council;
mod educators;
mod enrollment;
mod monitoring;
mod organizations;
mod problem;
mod programs;
mod regions;
mod surveys;
mod tables;
mod users;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, Method, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pd_bus::{Bus, CallContext};
use pd_domain::{AppError, ErrorKind, FieldError, Principal};
use pd_proto::Operation;
use pd_runtime::Settings;
use pd_runtime::metrics::{HttpLabels, metrics};
use pd_runtime::tokens::TokenVerifier;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;
use utoipa_axum::router::OpenApiRouter;

pub use admission::Admission;
pub use problem::{ApiError, Problem};

/// What every handler shares. axum clones the state for every request,
/// so it is one `Arc` (a clone of the fields themselves showed in the
/// December window's profile: the NATS client, the token checker's sets).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub bus: Bus,
    pub verifier: TokenVerifier,
    per_login: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<String>,
    /// Public (anonymous) reads per client IP.
    public_per_ip: DefaultKeyedRateLimiter<String>,
    pub body_limit: usize,
    pub import_limit: usize,
    pub cors_origins: Vec<String>,
    trusted_proxies: client_ip::TrustedProxies,
    /// The built portal, when there is one.
    pub portal_dir: Option<std::path::PathBuf>,
    /// `gateway.public_url`, without a trailing slash.
    pub public_url: String,
}

impl AppState {
    pub fn new(bus: Bus, verifier: TokenVerifier, settings: &Settings) -> anyhow::Result<AppState> {
        let trusted_proxies = client_ip::TrustedProxies::parse(&settings.gateway.trusted_proxies)?;
        let n = NonZeroU32::new(settings.gateway.login_attempts_per_minute.max(1))
            .unwrap_or(NonZeroU32::MIN);
        let ip_n = n.saturating_mul(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        let public_n = NonZeroU32::new(settings.gateway.public_requests_per_minute.max(1))
            .unwrap_or(NonZeroU32::MIN);
        Ok(AppState(Arc::new(Shared {
            bus,
            verifier,
            per_login: RateLimiter::keyed(Quota::per_minute(n)),
            per_ip: RateLimiter::keyed(Quota::per_minute(ip_n)),
            public_per_ip: RateLimiter::keyed(Quota::per_minute(public_n)),
            body_limit: settings.gateway.body_limit_bytes,
            import_limit: settings.gateway.import_limit_bytes,
            cors_origins: settings.gateway.cors_origins.clone(),
            trusted_proxies,
            public_url: settings.gateway.public_url.trim_end_matches('/').to_owned(),
            portal_dir: Some(std::path::PathBuf::from(&settings.gateway.portal_dir)).filter(|d| {
                !settings.gateway.portal_dir.is_empty() && d.join("index.html").is_file()
            }),
        })))
    }
}

impl Shared {
    /// Forgets limiter keys that have recovered, so memory stays bounded.
    pub fn prune_rate_limits(&self) {
        self.per_login.retain_recent();
        self.per_ip.retain_recent();
        self.public_per_ip.retain_recent();
    }

    /// One request to a service, answered by its typed reply or its error.
    pub async fn send<O: Operation>(
        &self,
        ctx: &CallContext,
        req: &O::Request,
    ) -> Result<O::Response, ApiError> {
        self.bus.call::<O>(req, ctx).await.map_err(ApiError)
    }

    /// Public reads (the catalog) per client IP: one client cannot take
    /// the registry's capacity from everyone else.
    pub fn check_public_rate(&self, ip: Option<&str>) -> Result<(), ApiError> {
        if ip.is_some_and(|ip| self.public_per_ip.check_key(&ip.to_owned()).is_err()) {
            return Err(ApiError(AppError::new(
                ErrorKind::RateLimited,
                "слишком много запросов; повторите через минуту",
            )));
        }
        Ok(())
    }

    /// Login attempts per login name and per client IP.
    pub fn check_login_rate(&self, login: &str, ip: Option<&str>) -> Result<(), ApiError> {
        // Keys are bounded: a login is at most 64 characters anyway.
        let key: String = login.trim().to_lowercase().chars().take(64).collect();
        let limited = self.per_login.check_key(&key).is_err()
            || ip.is_some_and(|ip| self.per_ip.check_key(&ip.to_owned()).is_err());
        if limited {
            return Err(ApiError(AppError::new(
                ErrorKind::RateLimited,
                "слишком много попыток входа; повторите через минуту",
            )));
        }
        Ok(())
    }
}

tokio::task_local! {
    /// The id of the request being served, for problem bodies.
    pub static REQUEST_ID: String;
}

/// A signed-in caller: the bearer token is verified here and passed on to
/// the services, which verify it again.
pub struct Caller {
    pub ctx: CallContext,
    #[allow(dead_code)]
    pub principal: Principal,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let principal = state.verifier.verify_header(header).map_err(ApiError)?;
        let mut ctx = anonymous_context(parts, state);
        ctx.authorization = header.map(str::to_owned);
        Ok(Caller { ctx, principal })
    }
}

/// A caller that need not be signed in (login, refresh).
pub struct Anonymous(pub CallContext);

impl FromRequestParts<AppState> for Anonymous {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Anonymous(anonymous_context(parts, state)))
    }
}

fn anonymous_context(parts: &Parts, state: &AppState) -> CallContext {
    // Every X-Forwarded-For line, in order: a proxy may add its own line
    // rather than append to the client's, which must not come last.
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = forwarded.join(",");
    let forwarded_for = (!forwarded.is_empty()).then_some(forwarded.as_str());
    CallContext {
        authorization: None,
        idempotency_key: parts
            .headers
            .get("idempotency-key")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        client_ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| {
            state
                .trusted_proxies
                .client(c.0.ip(), forwarded_for)
                .to_string()
        }),
    }
}

/// A 400 that names what was malformed (`body`, `query`, a header) in
/// `errors`, like a 422 names its fields.
fn bad_input(part: &str, detail: impl Into<String>) -> AppError {
    let detail = detail.into();
    let mut e = AppError::bad_request(detail.clone());
    e.fields.push(FieldError {
        field: part.to_owned(),
        message: detail,
    });
    e
}

/// A JSON body whose errors are problems: 415 without a JSON content type,
/// 400 for malformed JSON, 422 naming the field for a wrong value.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        if !is_json {
            return Err(ApiError(bad_input(
                "Content-Type",
                "ожидается тело application/json (заголовок Content-Type)",
            )));
        }
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(AppError::new(
                    ErrorKind::PayloadTooLarge,
                    "тело запроса слишком велико",
                ))
            } else {
                ApiError(bad_input("body", e.body_text()))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail later.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(ApiError(bad_input(
            "body",
            "символ NUL (\\u0000) в тексте недопустим",
        )));
    }
    // Every body of the API is an object; serde would also read a struct
    // from an array, position by position.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError(bad_input(
            "body",
            "тело запроса: ожидается объект JSON ({…})",
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError(json_problem(&path, &inner))
    })
}

/// A JSON body's error as the client should see it: a 422 naming the field
/// for a wrong, missing or unknown member, a 400 for text that is not
/// JSON; in Russian, without the server's internal type names.
pub fn json_problem(path: &str, e: &serde_json::Error) -> AppError {
    let raw = e.to_string();
    let quoted = || raw.split('`').nth(1).unwrap_or("").to_owned();
    let join = |field: &str| {
        if path == "." || path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    let (field, message) = if raw.starts_with("unknown field") {
        // The path already ends at the unknown key.
        let key = quoted();
        let field = if path.ends_with(&key) {
            path.to_owned()
        } else {
            join(&key)
        };
        (field, "неизвестное поле".to_owned())
    } else if raw.starts_with("missing field") {
        (join(&quoted()), "обязательное поле".to_owned())
    } else if e.is_data() {
        let expected = raw
            .split(", expected ")
            .nth(1)
            .map(|x| x.split(" at line").next().unwrap_or(x))
            .unwrap_or("");
        let message = if raw.starts_with("invalid type") {
            format!(
                "неверный тип значения: ожидается {}",
                expected_kind(expected)
            )
        } else {
            format!(
                "недопустимое значение: ожидается {}",
                expected_kind(expected)
            )
        };
        (path.to_owned(), message)
    } else {
        return bad_input(
            "body",
            format!(
                "некорректный JSON (строка {}, позиция {})",
                e.line(),
                e.column()
            ),
        );
    };
    if field == "." || field.is_empty() {
        // The body as a whole has the wrong shape (an array for an object).
        return bad_input("body", format!("тело запроса: {message}"));
    }
    AppError {
        kind: ErrorKind::Invalid,
        detail: format!("{field}: {message}"),
        fields: vec![FieldError { field, message }],
        extensions: Default::default(),
    }
}

/// What serde expected, in words a user reads.
fn expected_kind(expected: &str) -> &'static str {
    let e = expected.to_ascii_lowercase();
    if e.contains("struct") || e.contains("map") {
        "объект"
    } else if e.contains("sequence") || e.contains("tuple") {
        "массив"
    } else if e.contains("bool") {
        "логическое значение (true или false)"
    } else if e.contains("f32") || e.contains("f64") || e.contains("float") {
        "число"
    } else if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "integer",
    ]
    .iter()
    .any(|t| e.contains(t))
    {
        "целое число в допустимых пределах"
    } else if e.contains("string") || e.contains("char") {
        "строка"
    } else if e.contains("variant") {
        "одно из допустимых значений"
    } else {
        "значение другого вида"
    }
}

/// The longest address the API reads; longer ones are a 414 problem (the
/// HTTP server itself refuses far longer ones before we see them).
const MAX_URI_BYTES: usize = 8 * 1024;

/// Request id, span, metrics and the ids in every response.
async fn observe(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let span = tracing::info_span!("http", method = %method, path = %req.uri().path(), request_id = %request_id);
    let started = Instant::now();
    let id = request_id.clone();
    let mut response = REQUEST_ID
        .scope(id, async move {
            let mut r = if req.uri().to_string().len() > MAX_URI_BYTES {
                axum::response::IntoResponse::into_response(ApiError(AppError::new(
                    ErrorKind::UriTooLong,
                    "адрес запроса слишком длинный; уточните фильтры",
                )))
            } else {
                next.run(req).await
            };
            if let Some(v) = pd_runtime::telemetry::current_trace_id()
                .and_then(|t| HeaderValue::from_str(&t).ok())
            {
                r.headers_mut().insert("x-trace-id", v);
            }
            r
        })
        .instrument(span)
        .await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let labels = HttpLabels {
        method: method.to_string(),
        status: response.status().as_u16(),
    };
    metrics().http_requests.get_or_create(&labels).inc();
    metrics()
        .http_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn method_not_allowed() -> ApiError {
    ApiError(AppError::new(
        ErrorKind::MethodNotAllowed,
        "этот метод не поддерживается для этого адреса",
    ))
}

async fn not_found() -> ApiError {
    ApiError(AppError::not_found("нет такого адреса API"))
}

/// Outside the API, the portal's files; a path it does not have (a
/// screen's address) gets its index.html, the single-page application.
async fn portal_or_not_found(dir: Option<std::path::PathBuf>, req: Request) -> Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let Some(dir) = dir.filter(|_| !req.uri().path().starts_with("/api/")) else {
        return not_found().await.into_response();
    };
    let index = tower_http::services::ServeFile::new(dir.join("index.html"));
    match tower_http::services::ServeDir::new(&dir)
        .fallback(index)
        .oneshot(req)
        .await
    {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    }
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(auth::routes())
        .merge(regions::routes())
        .merge(organizations::routes())
        .merge(educators::routes())
        .merge(users::routes())
        .merge(campaigns::routes())
        .merge(programs::routes())
        .merge(council::routes())
        .merge(surveys::routes())
        .merge(allocation::routes())
        .merge(enrollment::routes())
        .merge(monitoring::routes())
}

pub fn router(state: AppState, admission: Arc<admission::Admission>) -> Router {
    let (api, doc) = api().split_for_parts();
    let doc = crate::openapi::complete(doc);
    let cors = cors(&state.cors_origins);
    let body_limit = state.body_limit;
    let portal = state.portal_dir.clone();
    Router::new()
        .merge(api)
        .merge(monitoring::pages())
        // Swagger UI from the crate's vendored copy: the page works without
        // internet access (a region's intranet), and it serves the document.
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", doc))
        .fallback(move |req: Request| portal_or_not_found(portal.clone(), req))
        .method_not_allowed_fallback(method_not_allowed)
        // Imports read their (larger) body themselves, up to import_limit.
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(admission, admission::admit))
        .layer(cors)
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            "idempotency-key".parse().unwrap_or(header::ACCEPT),
            "x-api-key".parse().unwrap_or(header::ACCEPT),
        ])
        .expose_headers([
            "x-request-id".parse().unwrap_or(header::ACCEPT),
            "x-trace-id".parse().unwrap_or(header::ACCEPT),
        ])
        .max_age(Duration::from_secs(3600))
}

/// A cell, quoted (its quotes doubled) when it holds a separator, a quote
/// or a line break.
pub(crate) fn csv_cell(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Query parameters whose errors are problems (400 naming the problem).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError(bad_input(
                "query",
                "символ NUL (%00) в параметрах недопустим",
            )));
        }
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                if field.is_empty() || field == "." {
                    return ApiError(bad_input("query", "некорректные параметры запроса"));
                }
                let message = "недопустимое значение параметра".to_owned();
                ApiError(AppError {
                    kind: ErrorKind::Invalid,
                    detail: format!("{field}: {message}"),
                    fields: vec![FieldError { field, message }],
                    extensions: Default::default(),
                })
            })
    }
}
