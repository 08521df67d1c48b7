//! `Idempotency-Key` for every service (DESIGN.md, Conventions): a request
//! that carries a key is run once per caller and key; a retry with the same
//! body within 24 hours gets the first answer again without a second
//! effect; the same key with another body is a 422; a retry while the
//! first is still running is a 409.
//!
//! The key row is claimed before the handler runs, with a claim id. A
//! creating handler commits through `RpcContext::commit`, which records
//! the answer in the handler's own transaction, only while its claim still
//! holds the key: effect and answer are stored together or not at all. A
//! row still `pending` once its caller has stopped waiting (the request
//! timeout: the process running it died, or it is stuck) is taken over by
//! a retry with a new claim; should the first run still finish, its answer
//! is refused and its effect rolls back, so the effect happens once.

use pd_domain::{AppError, ErrorKind};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// How long an answer is replayed.
pub const KEEP_FOR: &str = "24 hours";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// What to do with a request that carries a key.
pub enum Claim {
    /// First time (or a claim taken over): run it, then [`complete`].
    Run(uuid::Uuid),
    /// Seen before: send this reply (`ok` or not) again.
    Replay { ok: bool, body: Vec<u8> },
}

/// Checks a key's shape: 1..=255 visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), AppError> {
    let ok =
        !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "заголовок Idempotency-Key: от 1 до 255 видимых символов ASCII",
        ))
    }
}

fn request_hash(operation: &str, body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(operation.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().to_vec()
}

/// Claims `key` for this request, or finds the earlier answer. A pending
/// claim older than `abandoned` (how long callers wait) is taken over.
pub async fn claim(
    pool: &PgPool,
    caller: &str,
    key: &str,
    operation: &str,
    body: &[u8],
    abandoned: std::time::Duration,
) -> Result<Claim, AppError> {
    check_key(key)?;
    let hash = request_hash(operation, body);
    let db = |e: sqlx::Error| crate::rpc::internal("idempotency key", e);
    let id = uuid::Uuid::now_v7();
    // A fresh claim, or taking over one that expired or was abandoned.
    let sql = format!(
        "INSERT INTO idempotency_keys (caller, key, operation, request_hash, outcome, claim)
         VALUES ($1, $2, $3, $4, 'pending', $5)
         ON CONFLICT (caller, key) DO UPDATE
            SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash,
                outcome = 'pending', response = NULL, created_at = now(), claim = EXCLUDED.claim
            WHERE idempotency_keys.created_at < now() - interval '{KEEP_FOR}'
               OR (idempotency_keys.outcome = 'pending'
                   AND idempotency_keys.request_hash = EXCLUDED.request_hash
                   AND idempotency_keys.created_at < now() - make_interval(secs => $6))"
    );
    let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(caller)
        .bind(key)
        .bind(operation)
        .bind(&hash)
        .bind(id)
        .bind(abandoned.as_secs_f64())
        .execute(pool)
        .await
        .map_err(db)?
        .rows_affected();
    if claimed == 1 {
        return Ok(Claim::Run(id));
    }
    let row: Option<(Vec<u8>, String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT request_hash, outcome, response FROM idempotency_keys WHERE caller = $1 AND key = $2",
    )
    .bind(caller)
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    match row {
        // Deleted in between (a failed first attempt): run it.
        None => Box::pin(claim(pool, caller, key, operation, body, abandoned)).await,
        Some((h, _, _)) if h != hash => Err(AppError::invalid(
            "Idempotency-Key",
            "этот ключ уже использован для другого запроса",
        )
        .with("reason", "idempotency_key_reused")),
        Some((_, outcome, Some(body))) if outcome != "pending" => Ok(Claim::Replay {
            ok: outcome == "ok",
            body,
        }),
        Some(_) => Err(
            AppError::conflict("запрос с этим ключом ещё выполняется; повторите позже")
                .with("reason", "idempotency_key_in_progress"),
        ),
    }
}

/// Records a successful answer inside the handler's transaction, while
/// this run's claim still holds the key.
pub async fn record_answer(
    tx: &mut sqlx::PgConnection,
    caller: &str,
    key: &str,
    claim: uuid::Uuid,
    body: &[u8],
) -> Result<(), AppError> {
    let recorded = sqlx::query(
        "UPDATE idempotency_keys SET outcome = 'ok', response = $3
         WHERE caller = $1 AND key = $2 AND outcome = 'pending' AND claim = $4",
    )
    .bind(caller)
    .bind(key)
    .bind(body)
    .bind(claim)
    .execute(tx)
    .await
    .map_err(|e| crate::rpc::internal("idempotency answer", e))?
    .rows_affected();
    // Another run took the key over (this one outlived its caller's
    // patience): this one's effect is rolled back, not doubled.
    if recorded != 1 {
        return Err(
            AppError::conflict("запрос с этим ключом уже выполнен другим обращением")
                .with("reason", "idempotency_key_in_progress"),
        );
    }
    Ok(())
}

/// Records the answer to replay. Failures worth retrying (the service or
/// its database was unavailable) release the key instead, so that a retry
/// runs again.
pub async fn complete(
    pool: &PgPool,
    caller: &str,
    key: &str,
    claim: uuid::Uuid,
    result: &Result<Vec<u8>, AppError>,
    error_body: impl FnOnce(&AppError) -> Vec<u8>,
) {
    let outcome = match result {
        Ok(body) => Some(("ok", body.clone())),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Internal | ErrorKind::Unavailable | ErrorKind::Timeout
            ) =>
        {
            None
        }
        Err(e) => Some(("error", error_body(e))),
    };
    let done = match outcome {
        Some((outcome, body)) => {
            sqlx::query(
                "UPDATE idempotency_keys SET outcome = $3, response = $4
                 WHERE caller = $1 AND key = $2 AND outcome = 'pending' AND claim = $5",
            )
            .bind(caller)
            .bind(key)
            .bind(outcome)
            .bind(body)
            .bind(claim)
            .execute(pool)
            .await
        }
        None => {
            // Never an answer recorded with its effect.
            sqlx::query(
                "DELETE FROM idempotency_keys
                 WHERE caller = $1 AND key = $2 AND outcome = 'pending' AND claim = $3",
            )
            .bind(caller)
            .bind(key)
            .bind(claim)
            .execute(pool)
            .await
        }
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "cannot record the answer to an idempotency key");
    }
}

/// Forgets answers older than [`KEEP_FOR`].
pub async fn prune(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let sql =
        format!("DELETE FROM idempotency_keys WHERE created_at < now() - interval '{KEEP_FOR}'");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await?
        .rows_affected())
}
