//! `Idempotency-Key` for every service (DESIGN.md, Conventions): a request
//! that carries a key is run once per caller and key; a retry with the same
//! body within 24 hours gets the first answer again without a second
//! effect; the same key with another body is a 422.
//!
//! Nothing of the request is written before the handler runs (the lookup
//! only removes a stale row of its key): a creating handler commits
//! through `RpcContext::commit`, which inserts the answer's row in the
//! handler's own transaction, so effect and answer are stored together or
//! not at all. Two runs of one key at once (a retry while the first still
//! runs) both reach that insert; the second waits on the key's row until
//! the first commits, then finds the key taken, rolls back its effect and
//! answers the first's answer. A run that died left nothing behind, so its
//! retry simply runs. Answers without an effect (errors) are recorded
//! after the handler (many in one statement, [`Keys`]), and the same way
//! give way to an answer already there. Lookups are batched the same way.
//! A batched insert that meets a key another run is still writing waits
//! for that run, and the batch's other answers wait with it (a retry
//! racing its first run: rare).
//!
//! The busiest creating writes put effect, event and answer in one
//! statement instead ([`push_answer`], `RpcContext::push_answer`): the
//! answer's row is a plain insert there, so a run whose key another run
//! answered first fails on the key's constraint and its whole statement
//! rolls back. Stale rows (expired, or an earlier version's `pending`
//! claim) are removed by [`Keys::lookup`] before such a run.

use pd_domain::{AppError, ErrorKind};
use pd_runtime::batch::{Batcher, by_place};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// How long an answer is replayed.
pub const KEEP_FOR: &str = "24 hours";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A request's key as the handler's run carries it.
#[derive(Debug, Clone)]
pub struct Key {
    pub caller: String,
    pub key: String,
    pub operation: String,
    request_hash: Vec<u8>,
}

/// What to do with a request that carries a key.
pub enum Lookup {
    /// Not answered yet (or the answer expired): run it.
    Run(Key),
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

/// A key's row as [`find_many`] reads it: the request's place in its batch
/// (from 1), the request's hash, the outcome, the answer, and whether it
/// has expired.
type StoredKey = (i64, Vec<u8>, String, Option<Vec<u8>>, bool);

/// The service's `idempotency_keys`, read and written in batches: under
/// load the keys of many requests are looked up in one statement, and the
/// answers of many (errors, mostly) recorded in one.
#[derive(Clone)]
pub struct Keys {
    pool: PgPool,
    found: Batcher<(String, String), Result<Option<StoredKey>, AppError>>,
    answers: Batcher<Answer, Result<bool, String>>,
}

/// An answer to record under its key.
struct Answer {
    caller: String,
    key: String,
    operation: String,
    request_hash: Vec<u8>,
    outcome: &'static str,
    body: Vec<u8>,
}

/// Batches that may run at once, and the most requests in one.
const WORKERS: usize = 2;
const MAX_BATCH: usize = 128;

impl Keys {
    /// Starts the batches (inside the runtime: they are tasks).
    pub fn new(pool: PgPool) -> Keys {
        let found = {
            let pool = pool.clone();
            Batcher::start(WORKERS, MAX_BATCH, move |keys| {
                find_many(pool.clone(), keys)
            })
        };
        let answers = {
            let pool = pool.clone();
            Batcher::start(WORKERS, MAX_BATCH, move |answers| {
                store_many(pool.clone(), answers)
            })
        };
        Keys {
            pool,
            found,
            answers,
        }
    }

    /// Finds the stored answer to `key`, or says to run the request: 422
    /// when the key was used for another request. Nothing is written, but
    /// a stale row of the key (expired, or an earlier version's claim) is
    /// removed, so that the run can insert its answer.
    pub async fn lookup(
        &self,
        caller: &str,
        key: &str,
        operation: &str,
        body: &[u8],
    ) -> Result<Lookup, AppError> {
        check_key(key)?;
        let hash = request_hash(operation, body);
        let row = self
            .found
            .run((caller.to_owned(), key.to_owned()))
            .await
            .ok_or_else(|| crate::rpc::internal("idempotency key", "its batch gave no answer"))??;
        match row {
            // A row `pending` is an earlier version's claim: its run is over.
            Some((_, _, outcome, _, expired)) if expired || outcome == "pending" => {
                forget_stale(&self.pool, caller, key).await?;
            }
            Some((_, h, _, _, _)) if h != hash => {
                return Err(AppError::invalid(
                    "Idempotency-Key",
                    "этот ключ уже использован для другого запроса",
                )
                .with("reason", "idempotency_key_reused"));
            }
            Some((_, _, outcome, Some(body), _)) => {
                return Ok(Lookup::Replay {
                    ok: outcome == "ok",
                    body,
                });
            }
            _ => {}
        }
        Ok(Lookup::Run(Key {
            caller: caller.to_owned(),
            key: key.to_owned(),
            operation: operation.to_owned(),
            request_hash: hash,
        }))
    }

    /// Records the answer of a run that did not record it with an effect
    /// (errors, answers without a transaction). Failures worth retrying
    /// (the service or its database was unavailable) are not recorded, so
    /// that a retry runs again. `false` when another run's answer is there.
    pub async fn complete(
        &self,
        k: &Key,
        result: &Result<Vec<u8>, AppError>,
        error_body: impl FnOnce(&AppError) -> Vec<u8>,
    ) -> bool {
        let (outcome, body) = match result {
            Ok(body) => ("ok", body.clone()),
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::Internal | ErrorKind::Unavailable | ErrorKind::Timeout
                ) =>
            {
                return true;
            }
            Err(e) => ("error", error_body(e)),
        };
        let answer = Answer {
            caller: k.caller.clone(),
            key: k.key.clone(),
            operation: k.operation.clone(),
            request_hash: k.request_hash.clone(),
            outcome,
            body,
        };
        match self.answers.run(answer).await {
            Some(Ok(stored)) => stored,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "cannot record the answer to an idempotency key");
                true
            }
            None => {
                tracing::warn!("cannot record the answer to an idempotency key: its batch failed");
                true
            }
        }
    }

    /// The answer stored under the key (after another run answered first).
    pub async fn stored(&self, k: &Key) -> Result<(bool, Vec<u8>), AppError> {
        stored(&self.pool, k).await
    }
}

/// The rows of many keys in one statement, in the order asked (`None`:
/// no row). Each key is one probe of the primary key (the `LIMIT` keeps
/// the planner from choosing another join while the table is small). The
/// arrays are read through `(SELECT $n)`: the planner cannot count them,
/// so every batch size costs alike and, after its first five runs on a
/// connection, the statement keeps one generic plan. An array it can see
/// gets a fresh plan every time (that planning cost more than the lookups
/// did).
async fn find_many(
    pool: PgPool,
    keys: Vec<(String, String)>,
) -> Vec<Result<Option<StoredKey>, AppError>> {
    let n = keys.len();
    let (callers, names): (Vec<String>, Vec<String>) = keys.into_iter().unzip();
    let sql = format!(
        "SELECT r.i, k.request_hash, k.outcome, k.response, k.expired
         FROM unnest((SELECT $1::text[]), (SELECT $2::text[])) WITH ORDINALITY AS r(caller, key, i)
         CROSS JOIN LATERAL (
             SELECT request_hash, outcome, response,
                    created_at < now() - interval '{KEEP_FOR}' AS expired
             FROM idempotency_keys WHERE caller = r.caller AND key = r.key LIMIT 1) k"
    );
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&callers)
        .bind(&names)
        .fetch_all(&pool)
        .await
        .map_err(crate::rpc::database_error);
    by_place(n, rows, |r: &StoredKey| r.0)
}

/// Removes the key's row if it is stale (expired, or an earlier version's
/// `pending` claim), so that a new run may insert its answer.
async fn forget_stale(pool: &PgPool, caller: &str, key: &str) -> Result<(), AppError> {
    let sql = format!(
        "DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2
           AND (outcome = 'pending' OR created_at < now() - interval '{KEEP_FOR}')"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(caller)
        .bind(key)
        .execute(pool)
        .await
        .map_err(crate::rpc::database_error)?;
    Ok(())
}

/// The key's constraint: a one-statement write that violates it was
/// answered first by another run of the same key.
pub const KEY_CONSTRAINT: &str = "idempotency_keys_pkey";

/// Appends to a one-statement write (a `WITH` list) the CTE `pd_answer`
/// that records `body` as the key's answer when the CTE `after` yields a
/// row: the effect and its answer commit together or not at all.
pub fn push_answer(
    q: &mut sqlx::QueryBuilder<sqlx::Postgres>,
    k: &Key,
    after: &str,
    body: Vec<u8>,
) {
    q.push(
        ", pd_answer AS (INSERT INTO idempotency_keys (caller, key, operation, request_hash, outcome, response) SELECT ",
    );
    q.push_bind(k.caller.clone())
        .push(", ")
        .push_bind(k.key.clone())
        .push(", ")
        .push_bind(k.operation.clone())
        .push(", ")
        .push_bind(k.request_hash.clone())
        .push(", 'ok', ")
        .push_bind(body)
        .push(format_args!(" WHERE EXISTS (SELECT 1 FROM {after}))"));
}

/// The conflict clause of an answer's insert: a stale row of the key (an
/// earlier version's `pending` claim, or expired) gives way; another run's
/// answer does not, and the insert returns no row for that key.
fn replacing_stale() -> String {
    format!(
        "ON CONFLICT (caller, key) DO UPDATE
            SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash,
                outcome = EXCLUDED.outcome, response = EXCLUDED.response, created_at = now(),
                claim = NULL
            WHERE idempotency_keys.outcome = 'pending'
               OR idempotency_keys.created_at < now() - interval '{KEEP_FOR}'"
    )
}

/// Stores an answer under the key unless another run's answer is there
/// already (waiting for that run to end first); `false` then.
async fn store<'e, E: sqlx::PgExecutor<'e>>(
    conn: E,
    k: &Key,
    outcome: &str,
    body: &[u8],
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO idempotency_keys (caller, key, operation, request_hash, outcome, response)
         VALUES ($1, $2, $3, $4, $5, $6)
         {}
         RETURNING 1",
        replacing_stale()
    );
    let stored: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(&k.caller)
        .bind(&k.key)
        .bind(&k.operation)
        .bind(&k.request_hash)
        .bind(outcome)
        .bind(body)
        .fetch_optional(conn)
        .await?;
    Ok(stored.is_some())
}

/// The reason of the error a run gets when another run of its key
/// answered first: its effect is rolled back and the other's answer sent.
pub const ANSWERED_BY_ANOTHER_RUN: &str = "idempotency_answered";

/// Records a successful answer inside the handler's transaction; an
/// [`ANSWERED_BY_ANOTHER_RUN`] conflict when another run of the key
/// committed its answer first (the caller rolls back).
pub async fn record_answer(
    tx: &mut sqlx::PgConnection,
    k: &Key,
    body: &[u8],
) -> Result<(), AppError> {
    let stored = store(tx, k, "ok", body)
        .await
        .map_err(|e| crate::rpc::internal("idempotency answer", e))?;
    if stored {
        Ok(())
    } else {
        Err(answered_by_another_run())
    }
}

/// The error of a run whose key another run answered first.
pub(crate) fn answered_by_another_run() -> AppError {
    AppError::conflict("запрос с этим ключом уже выполнен другим обращением")
        .with("reason", ANSWERED_BY_ANOTHER_RUN)
}

/// Stores many answers in one statement, each unless another run's answer
/// is there already (waiting for that run to end first): `true` for each
/// one stored. Of two runs of one key in the batch the first is stored.
/// Rows are written in key order, so that two batches never wait for each
/// other's rows in a cycle.
async fn store_many(pool: PgPool, answers: Vec<Answer>) -> Vec<Result<bool, String>> {
    let n = answers.len();
    let id = |i: usize| (answers[i].caller.as_str(), answers[i].key.as_str());
    let mut order: Vec<usize> = (0..n).collect();
    // Stable: of equal keys the first asked stays first, and is kept.
    order.sort_by(|&a, &b| id(a).cmp(&id(b)));
    order.dedup_by(|b, a| id(*a) == id(*b));
    let texts =
        |f: fn(&Answer) -> &str| -> Vec<&str> { order.iter().map(|&i| f(&answers[i])).collect() };
    let bytes =
        |f: fn(&Answer) -> &[u8]| -> Vec<&[u8]> { order.iter().map(|&i| f(&answers[i])).collect() };
    let sql = format!(
        "INSERT INTO idempotency_keys (caller, key, operation, request_hash, outcome, response)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::bytea[])
         {}
         RETURNING caller, key",
        replacing_stale()
    );
    let stored: Result<Vec<(String, String)>, _> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(texts(|a| &a.caller))
        .bind(texts(|a| &a.key))
        .bind(texts(|a| &a.operation))
        .bind(bytes(|a| &a.request_hash))
        .bind(texts(|a| a.outcome))
        .bind(bytes(|a| &a.body))
        .fetch_all(&pool)
        .await;
    match stored {
        Ok(stored) => {
            let stored: std::collections::HashSet<(&str, &str)> = stored
                .iter()
                .map(|(c, k)| (c.as_str(), k.as_str()))
                .collect();
            let mut ok = vec![false; n];
            for i in order {
                ok[i] = stored.contains(&id(i));
            }
            ok.into_iter().map(Ok).collect()
        }
        Err(e) => (0..n).map(|_| Err(e.to_string())).collect(),
    }
}

/// The answer stored under the key (after another run answered first).
pub async fn stored(pool: &PgPool, k: &Key) -> Result<(bool, Vec<u8>), AppError> {
    let row: Option<(String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT outcome, response FROM idempotency_keys WHERE caller = $1 AND key = $2",
    )
    .bind(&k.caller)
    .bind(&k.key)
    .fetch_optional(pool)
    .await
    .map_err(crate::rpc::database_error)?;
    match row {
        Some((outcome, Some(body))) if outcome != "pending" => Ok((outcome == "ok", body)),
        _ => Err(AppError::new(
            ErrorKind::Unavailable,
            "ответ на запрос с этим ключом ещё не записан; повторите позже",
        )),
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

#[cfg(test)]
mod tests {
    use super::*;
    use pd_testkit::TestEnv;

    fn answer(key: &str, body: &[u8]) -> Answer {
        Answer {
            caller: "educator-1".into(),
            key: key.into(),
            operation: "apply".into(),
            request_hash: vec![7],
            outcome: "error",
            body: body.to_vec(),
        }
    }

    async fn body(pool: &PgPool, key: &str) -> Vec<u8> {
        sqlx::query_scalar("SELECT response FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// Two runs of one key answered in the same batch: the first asked is
    /// stored, the second is told so (and replays it); a key another run
    /// answered before the batch keeps that answer.
    #[tokio::test]
    async fn of_two_runs_of_a_key_in_one_batch_the_first_is_stored() {
        let env = TestEnv::new().unwrap();
        let pool = env.database("idempotency", &[]).await.unwrap();
        let earlier = store_many(pool.clone(), vec![answer("k0", b"earlier")]).await;
        assert_eq!(earlier, [Ok(true)]);
        let stored = store_many(
            pool.clone(),
            vec![
                answer("k2", b"second run"),
                answer("k1", b"only run"),
                answer("k0", b"late run"),
                answer("k2", b"third run"),
            ],
        )
        .await;
        // k2's first run in the batch is the one asked first (place 0).
        assert_eq!(stored, [Ok(true), Ok(true), Ok(false), Ok(false)]);
        assert_eq!(body(&pool, "k2").await, b"second run");
        assert_eq!(body(&pool, "k1").await, b"only run");
        assert_eq!(body(&pool, "k0").await, b"earlier");
        env.cleanup().await;
    }
}
