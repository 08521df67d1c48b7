//! Typed request/reply. A request goes to `<prefix>.<service>.rpc.<op>.v1`
//! with a protobuf body and the caller's token in a header; a service
//! answers from a queue group named after itself. A reply with header
//! `Pd-Status: error` carries a `pd.common.v1.Error`.

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use pd_domain::{AppError, ErrorKind, FieldError, Principal};
use pd_proto::Operation;
use pd_proto::common::v1 as common;
use pd_runtime::Shutdown;
use pd_runtime::admission::Admission;
use pd_runtime::metrics::{RpcLabels, metrics};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::idempotency::{self, Lookup};
use crate::{Bus, headers};

/// What the caller passes along with a request.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The raw `Authorization` header value (`Bearer ...`).
    pub authorization: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
}

/// What a handler knows about the request it serves.
#[derive(Debug, Clone)]
pub struct RpcContext {
    pub principal: Option<Principal>,
    pub request_id: String,
    pub client_ip: Option<String>,
    /// The caller's `Authorization` header, verified: passed on when the
    /// service asks another on the caller's behalf ([`RpcContext::on_behalf`]).
    authorization: Option<String>,
    /// The `Idempotency-Key` of a creating request, while it runs.
    idempotency: Option<idempotency::Key>,
    /// Set once [`RpcContext::commit`] stored the answer with the effect:
    /// nothing is left to record afterwards.
    recorded: Arc<std::sync::atomic::AtomicBool>,
}

impl RpcContext {
    /// A request that did not come through the RPC server (a provider's
    /// message on its own subject): the principal is whoever the
    /// transport proved the sender to be; no `Idempotency-Key`.
    pub fn internal(principal: Principal, request_id: String) -> RpcContext {
        RpcContext {
            principal: Some(principal),
            request_id,
            client_ip: None,
            authorization: None,
            idempotency: None,
            recorded: Default::default(),
        }
    }

    /// A call to another service as the same caller, under the caller's
    /// own scope (a service that prints a SNILS asks identity for it so).
    pub fn on_behalf(&self) -> CallContext {
        CallContext {
            authorization: self.authorization.clone(),
            request_id: Some(self.request_id.clone()),
            client_ip: self.client_ip.clone(),
            idempotency_key: None,
        }
    }

    /// Commits a creating handler's transaction together with the answer
    /// its `Idempotency-Key` will replay: a crash between the commit and
    /// the recording can then never let a retry run the effect twice, and
    /// of two runs of one key only the first to commit keeps its effect.
    pub async fn commit<M: Message>(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        answer: &M,
    ) -> Result<(), AppError> {
        if let Some(k) = &self.idempotency {
            idempotency::record_answer(&mut tx, k, &answer.encode_to_vec()).await?;
        }
        tx.commit()
            .await
            .map_err(|e| internal("committing the request", e))?;
        self.recorded
            .store(self.idempotency.is_some(), Ordering::Release);
        Ok(())
    }

    /// For a creating handler whose whole effect is one statement (a `WITH`
    /// list: no `BEGIN`/`COMMIT` round trips on the busiest writes):
    /// appends the CTE recording `answer` under the request's key (if it
    /// carries one), written only when the CTE `after` yields a row. Run
    /// the statement through [`RpcContext::settle`].
    pub fn push_answer<M: Message>(
        &self,
        q: &mut sqlx::QueryBuilder<sqlx::Postgres>,
        after: &str,
        answer: &M,
    ) {
        if let Some(k) = &self.idempotency {
            idempotency::push_answer(q, k, after, answer.encode_to_vec());
        }
    }

    /// Reads the outcome of a statement built with
    /// [`RpcContext::push_answer`] whose final `SELECT` yields a row
    /// exactly when `after` did: `Some` means the effect and its answer
    /// are committed. The key's constraint violated means another run of
    /// the key answered first (nothing of this run stays): the
    /// [`idempotency::ANSWERED_BY_ANOTHER_RUN`] conflict, after which that
    /// run's answer is sent. Any other error is the handler's to name.
    pub fn settle<T>(
        &self,
        r: Result<Option<T>, sqlx::Error>,
    ) -> Result<Result<Option<T>, sqlx::Error>, AppError> {
        let key_taken = matches!(&r, Err(sqlx::Error::Database(e))
            if e.constraint() == Some(idempotency::KEY_CONSTRAINT));
        if key_taken {
            return Err(idempotency::answered_by_another_run());
        }
        if matches!(&r, Ok(Some(_))) {
            self.recorded
                .store(self.idempotency.is_some(), Ordering::Release);
        }
        Ok(r)
    }

    /// The verified caller, or 401.
    pub fn principal(&self) -> Result<&Principal, AppError> {
        self.principal
            .as_ref()
            .ok_or_else(|| AppError::unauthenticated(pd_runtime::tokens::msg::SIGN_IN))
    }

    /// Who to record as the actor of an event.
    pub fn actor(&self) -> String {
        self.principal
            .as_ref()
            .map(|p| p.user_id.to_string())
            .unwrap_or_else(|| "anonymous".to_owned())
    }
}

/// A stored answer sent again: the reply's bytes, or the error it was.
fn replay(ok: bool, body: Vec<u8>) -> Result<Vec<u8>, AppError> {
    if ok {
        Ok(body)
    } else {
        Err(common::Error::decode(body.as_slice())
            .map(error_from_proto)
            .unwrap_or_else(|e| internal("stored idempotent answer", e)))
    }
}

pub fn error_to_proto(e: &AppError) -> common::Error {
    common::Error {
        kind: e.kind.as_str().to_owned(),
        detail: e.detail.clone(),
        fields: e
            .fields
            .iter()
            .map(|f| common::FieldError {
                field: f.field.clone(),
                message: f.message.clone(),
            })
            .collect(),
        extensions: e.extensions.clone().into_iter().collect(),
    }
}

pub fn error_from_proto(e: common::Error) -> AppError {
    AppError {
        kind: ErrorKind::parse(&e.kind),
        detail: e.detail,
        fields: e
            .fields
            .into_iter()
            .map(|f| FieldError {
                field: f.field,
                message: f.message,
            })
            .collect(),
        extensions: e.extensions.into_iter().collect(),
    }
}

/// The answer to a request whose reply outgrew the bus: the client narrows
/// the query (a smaller `limit`, a filter) instead of waiting for a timeout.
pub fn reply_too_large(bytes: usize, max: usize) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        format!(
            "ответ слишком велик ({} КБ при пределе {} КБ): уменьшите limit или уточните фильтр",
            bytes / 1024,
            max / 1024
        ),
    )
    .with("reason", "reply_too_large")
}

/// A database error no rule of the service names: a 503 with
/// `Retry-After` when the database is restarting or the connection was
/// lost (a retry will find a fresh one), a 500 otherwise; the log gets
/// the cause either way.
pub fn database_error(e: sqlx::Error) -> AppError {
    let lost = match &e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    };
    if !lost {
        return internal("database error", e);
    }
    tracing::warn!(error = %e, "database unavailable");
    AppError::new(
        ErrorKind::Unavailable,
        "база данных сервиса недоступна; повторите запрос через секунду",
    )
    .with("retry_after", "1")
}

/// Logs the cause and gives the client a 500 without internals.
pub fn internal(context: &str, cause: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %cause, "{context}");
    AppError::internal("внутренняя ошибка сервиса; попробуйте позже")
}

impl Bus {
    /// Calls a declared operation: the request and reply types are the
    /// operation's. No responder: 503; no reply within the deadline: 504.
    pub async fn call<O: Operation>(
        &self,
        req: &O::Request,
        ctx: &CallContext,
    ) -> Result<O::Response, AppError> {
        self.request(O::SERVICE, O::NAME, req, ctx).await
    }

    /// [`Bus::call`] for work known to take longer than the default deadline.
    pub async fn call_with_deadline<O: Operation>(
        &self,
        req: &O::Request,
        ctx: &CallContext,
        deadline: std::time::Duration,
    ) -> Result<O::Response, AppError> {
        self.request_with_deadline(O::SERVICE, O::NAME, req, ctx, deadline)
            .await
    }

    /// Sends `req` to `service`'s `operation` and decodes the typed reply.
    /// No responder: 503; no reply within the deadline: 504.
    pub async fn request<Req: Message, Resp: Message + Default>(
        &self,
        service: &str,
        operation: &str,
        req: &Req,
        ctx: &CallContext,
    ) -> Result<Resp, AppError> {
        self.request_with_deadline(service, operation, req, ctx, self.request_timeout())
            .await
    }

    /// A request whose work is known to take longer than the default deadline.
    pub async fn request_with_deadline<Req: Message, Resp: Message + Default>(
        &self,
        service: &str,
        operation: &str,
        req: &Req,
        ctx: &CallContext,
        deadline: std::time::Duration,
    ) -> Result<Resp, AppError> {
        let subject = self.rpc_subject(service, operation);
        let mut h = HeaderMap::new();
        if let Some(a) = &ctx.authorization {
            h.insert(headers::AUTHORIZATION, a.as_str());
        }
        if let Some(r) = &ctx.request_id {
            h.insert(headers::REQUEST_ID, r.as_str());
        }
        if let Some(ip) = &ctx.client_ip {
            h.insert(headers::CLIENT_IP, ip.as_str());
        }
        if let Some(k) = &ctx.idempotency_key {
            h.insert(headers::IDEMPOTENCY_KEY, k.as_str());
        }
        if let Some(tp) = pd_runtime::telemetry::current_traceparent() {
            h.insert(headers::TRACEPARENT, tp.as_str());
        }
        let request = async_nats::Request::new()
            .payload(Bytes::from(req.encode_to_vec()))
            .headers(h)
            .timeout(Some(deadline));
        let reply = self
            .client
            .send_request(subject, request)
            .await
            .map_err(|e| match e.kind() {
                async_nats::RequestErrorKind::NoResponders => AppError::new(
                    ErrorKind::Unavailable,
                    format!("сервис {service} недоступен"),
                ),
                async_nats::RequestErrorKind::TimedOut => AppError::new(
                    ErrorKind::Timeout,
                    format!("сервис {service} не ответил вовремя"),
                ),
                _ => {
                    tracing::error!(service, operation, error = %e, "request failed");
                    AppError::new(
                        ErrorKind::Unavailable,
                        format!("сервис {service} недоступен"),
                    )
                }
            })?;
        let is_error = reply
            .headers
            .as_ref()
            .and_then(|h| h.get(headers::STATUS))
            .is_some_and(|v| v.as_str() == "error");
        if is_error {
            let e = common::Error::decode(reply.payload)
                .map_err(|e| internal("undecodable error reply", e))?;
            return Err(error_from_proto(e));
        }
        Resp::decode(reply.payload).map_err(|e| internal("undecodable reply", e))
    }
}

/// The operation a request names: `<prefix><operation>.v1` (empty for
/// anything else, which no handler answers).
fn operation_of<'a>(subject: &'a str, prefix: &str) -> &'a str {
    subject
        .strip_prefix(prefix)
        .and_then(|s| s.strip_suffix(".v1"))
        .unwrap_or("")
}

type Handler<S> = Arc<
    dyn Fn(S, RpcContext, Bytes) -> BoxFuture<'static, Result<Vec<u8>, AppError>> + Send + Sync,
>;

/// The request handlers of one service.
pub struct RpcServer<S> {
    service: &'static str,
    state: S,
    handlers: HashMap<String, Handler<S>>,
    /// Where `Idempotency-Key` answers are kept (the service's database).
    idempotency: Option<sqlx::PgPool>,
    /// Their batched reads and writes, started by [`RpcServer::serve`].
    keys: Option<idempotency::Keys>,
    /// The operations that honour it (`Operation::CREATES`).
    creates: HashSet<&'static str>,
    /// The operations run only with slots to spare (`Operation::BACKGROUND`).
    background: HashSet<&'static str>,
    #[doc(hidden)]
    pub crash_after_handler: bool,
}

impl<S: Clone + Send + Sync + 'static> RpcServer<S> {
    pub fn new(service: &'static str, state: S) -> Self {
        RpcServer {
            service,
            state,
            handlers: HashMap::new(),
            idempotency: None,
            keys: None,
            creates: HashSet::new(),
            background: HashSet::new(),
            crash_after_handler: false,
        }
    }

    /// Honours `Idempotency-Key` on the operations declared `creates`,
    /// keeping the answers in the service's own database (the bus
    /// migrations' `idempotency_keys`).
    pub fn with_idempotency(mut self, pool: sqlx::PgPool) -> Self {
        self.idempotency = Some(pool);
        self
    }

    /// Registers the handler of a declared operation: the handler's request
    /// and reply types must be the operation's, and an operation of another
    /// service is refused (a programming error, found when the service
    /// starts in any test).
    pub fn op<O, F, Fut>(mut self, _op: O, f: F) -> Self
    where
        O: Operation,
        F: Fn(S, RpcContext, O::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O::Response, AppError>> + Send + 'static,
    {
        assert_eq!(
            O::SERVICE,
            self.service,
            "operation {} belongs to {}",
            O::NAME,
            O::SERVICE
        );
        if O::CREATES {
            self.creates.insert(O::NAME);
        }
        if O::BACKGROUND {
            self.background.insert(O::NAME);
        }
        self.route(O::NAME, f)
    }

    /// Registers the handler of an ad-hoc `operation` (tests); services
    /// declare theirs with [`RpcServer::op`].
    pub fn route<Req, Resp, F, Fut>(mut self, operation: &str, f: F) -> Self
    where
        Req: Message + Default + 'static,
        Resp: Message + 'static,
        F: Fn(S, RpcContext, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, AppError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let handler: Handler<S> = Arc::new(move |state, ctx, body| {
            let f = f.clone();
            Box::pin(async move {
                let req = Req::decode(body)
                    .map_err(|e| AppError::bad_request(format!("undecodable request: {e}")))?;
                f(state, ctx, req).await.map(|r| r.encode_to_vec())
            })
        });
        self.handlers.insert(operation.to_owned(), handler);
        self
    }

    /// Subscribes in the service's queue group and serves until `shutdown`;
    /// then stops taking requests, drains those already received and waits
    /// for the handlers in flight.
    pub async fn serve(
        mut self,
        bus: Bus,
        shutdown: Shutdown,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let wildcard = format!("{}.{}.rpc.>", bus.settings().subject_prefix, self.service);
        let mut sub = bus
            .client()
            .queue_subscribe(wildcard, self.service.to_owned())
            .await
            .map_err(|e| anyhow::anyhow!("subscribing {}: {e}", self.service))?;
        // Make sure the server knows the subscription before callers rely on it.
        bus.client().flush().await.ok();
        let prefix = format!("{}.{}.rpc.", bus.settings().subject_prefix, self.service);
        self.keys = self.idempotency.clone().map(idempotency::Keys::new);
        if let Some(pool) = self.idempotency.clone() {
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    tokio::select! {
                        _ = hourly.tick() => {
                            if let Err(e) = crate::idempotency::prune(&pool).await {
                                tracing::warn!(error = %e, "pruning idempotency keys");
                            }
                        }
                        _ = stop.cancelled() => break,
                    }
                }
            });
        }
        // Read once: `server_info()` clones the whole server description.
        let max_payload = bus.client().server_info().max_payload;
        let this = Arc::new(self);
        let admission = {
            let s = bus.settings();
            Admission::new(
                this.service,
                s.max_in_flight,
                s.max_queued,
                Duration::from_millis(s.request_timeout_ms.max(1)),
            )
        };
        let handle = tokio::spawn(async move {
            let tracker = TaskTracker::new();
            let mut draining = false;
            loop {
                let msg = tokio::select! {
                    m = sub.next() => m,
                    _ = shutdown.cancelled(), if !draining => {
                        draining = true;
                        if let Err(e) = sub.drain().await {
                            tracing::warn!(error = %e, "draining subscription");
                            break;
                        }
                        continue;
                    }
                };
                let Some(msg) = msg else { break };
                let background = this
                    .background
                    .contains(operation_of(&msg.subject, &prefix));
                let Some(ticket) = admission.admit_as(background) else {
                    this.shed(&bus, msg, background).await;
                    continue;
                };
                let this = this.clone();
                let bus = bus.clone();
                let prefix = prefix.clone();
                tracker.spawn(async move {
                    // A request that waited longer than callers wait is
                    // left: its caller has had its timeout already.
                    if let Some(_slot) = ticket.wait().await {
                        this.handle(&bus, &prefix, max_payload, msg).await;
                    }
                });
            }
            tracker.close();
            tracker.wait().await;
            tracing::info!(service = this.service, "request handling stopped");
        });
        Ok(handle)
    }

    /// Answers at once that the service is full: the caller retries after
    /// the Retry-After seconds instead of waiting for its deadline (a
    /// background read later, so that the polls refused do not return
    /// together while the service is still busy).
    async fn shed(&self, bus: &Bus, msg: async_nats::Message, background: bool) {
        let Some(reply_to) = msg.reply else { return };
        let e = match background {
            false => AppError::new(
                ErrorKind::Unavailable,
                "сервис перегружен; повторите запрос через секунду",
            )
            .with("retry_after", "1"),
            true => AppError::new(
                ErrorKind::Unavailable,
                "сервис занят заявлениями; данные обновятся позже",
            )
            .with("retry_after", "5"),
        };
        let mut h = HeaderMap::new();
        h.insert(headers::STATUS, "error");
        let body = Bytes::from(error_to_proto(&e).encode_to_vec());
        if let Err(e) = bus.client().publish_with_headers(reply_to, h, body).await {
            tracing::warn!(error = %e, "cannot send reply");
        }
    }

    async fn handle(&self, bus: &Bus, prefix: &str, max: usize, msg: async_nats::Message) {
        let Some(reply_to) = msg.reply.clone() else {
            return;
        };
        let operation = operation_of(&msg.subject, prefix).to_owned();
        let header = |name: &str| {
            msg.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        let request_id =
            header(headers::REQUEST_ID).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let span = tracing::info_span!("rpc", service = self.service, operation = %operation, request_id = %request_id);
        if let Some(tp) = header(headers::TRACEPARENT) {
            pd_runtime::telemetry::set_remote_parent(&span, &tp);
        }
        let started = Instant::now();
        let writes_before = bus.outbox_write_count();
        let result = async {
            // Every service verifies the token itself: a client on NATS
            // cannot claim to be someone by writing a header.
            let authorization = header(headers::AUTHORIZATION);
            let principal = match &authorization {
                Some(h) => Some(bus.verifier().verify_header(Some(h))?),
                None => None,
            };
            let handler = self
                .handlers
                .get(&operation)
                .ok_or_else(|| AppError::not_found(format!("unknown operation {operation}")))?;
            let caller = principal
                .as_ref()
                .map(|p| p.user_id.to_string())
                .unwrap_or_else(|| "anonymous".to_owned());
            let mut ctx = RpcContext {
                principal,
                request_id: request_id.clone(),
                client_ip: header(headers::CLIENT_IP),
                authorization,
                idempotency: None,
                recorded: Default::default(),
            };
            let key = header(headers::IDEMPOTENCY_KEY);
            let keys = match (&self.keys, &key) {
                (Some(keys), Some(_)) if self.creates.contains(operation.as_str()) => keys,
                _ => return handler(self.state.clone(), ctx, msg.payload.clone()).await,
            };
            let key = key.unwrap_or_default();
            let k = match keys.lookup(&caller, &key, &operation, &msg.payload).await? {
                Lookup::Replay { ok, body } => return replay(ok, body),
                Lookup::Run(k) => k,
            };
            ctx.idempotency = Some(k.clone());
            let recorded = ctx.recorded.clone();
            let r = handler(self.state.clone(), ctx, msg.payload.clone()).await;
            if self.crash_after_handler {
                // Test hook: the process "dies" after its handler.
                return Err(AppError::new(ErrorKind::Unavailable, "simulated crash"));
            }
            let answered_by_another = matches!(&r, Err(e)
                if e.extensions.get("reason").map(String::as_str)
                    == Some(idempotency::ANSWERED_BY_ANOTHER_RUN));
            if r.is_ok() && recorded.load(Ordering::Acquire) {
                return r;
            }
            if answered_by_another
                || !keys
                    .complete(&k, &r, |e| error_to_proto(e).encode_to_vec())
                    .await
            {
                // Another run of the key answered first: its answer is the one.
                let (ok, body) = keys.stored(&k).await?;
                return replay(ok, body);
            }
            r
        }
        .instrument(span.clone())
        .await;
        bus.wake_relays_if_written_since(writes_before);
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        let labels = RpcLabels {
            service: self.service.to_owned(),
            operation: operation.clone(),
            outcome: outcome.to_owned(),
        };
        metrics().rpc_handled.get_or_create(&labels).inc();
        metrics()
            .rpc_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        // A reply above the server's payload limit would never arrive and
        // the caller would wait for its deadline: answer a clear error now.
        let result = match result {
            Ok(body) if max > 0 && body.len() + 1024 > max => {
                tracing::warn!(
                    operation,
                    bytes = body.len(),
                    max,
                    "reply too large for the bus"
                );
                Err(reply_too_large(body.len(), max))
            }
            other => other,
        };
        let (h, body) = match result {
            Ok(body) => {
                let mut h = HeaderMap::new();
                h.insert(headers::STATUS, "ok");
                (h, body)
            }
            Err(e) => {
                if e.kind == ErrorKind::Internal {
                    span.in_scope(|| tracing::warn!(operation, "request failed internally"));
                }
                let mut h = HeaderMap::new();
                h.insert(headers::STATUS, "error");
                (h, error_to_proto(&e).encode_to_vec())
            }
        };
        if let Err(e) = bus
            .client()
            .publish_with_headers(reply_to, h, Bytes::from(body))
            .await
        {
            tracing::warn!(error = %e, "cannot send reply");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_database_is_a_503_to_retry_and_anything_else_a_500() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for lost in [sqlx::Error::Io(reset), sqlx::Error::PoolTimedOut] {
            let e = database_error(lost);
            assert_eq!(e.kind, ErrorKind::Unavailable);
            assert_eq!(e.extensions["retry_after"], "1");
        }
        assert_eq!(
            database_error(sqlx::Error::RowNotFound).kind,
            ErrorKind::Internal
        );
    }
}
