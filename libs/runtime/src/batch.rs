//! Many callers' small statements run as one (group commit).
//!
//! Under load most of PostgreSQL's time per request is not in the
//! statement but around it: the round trip, parse and bind, the executor's
//! start, the commit (BENCHMARKS.md, the December window). A [`Batcher`]
//! takes the requests that are waiting when it is free and runs them as
//! one statement; the next batch gathers while it runs. Nothing waits for a
//! timer: alone, a request runs at once; under load batches grow with it.

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

type Job<I, O> = (I, oneshot::Sender<O>);

/// A queue of inputs run in batches by `run`, which answers one output per
/// input, in order.
pub struct Batcher<I, O> {
    queue: mpsc::Sender<Job<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts `workers` tasks (batches that may run at once), each taking up
    /// to `max` waiting inputs per batch. They stop when every clone of the
    /// batcher is dropped.
    pub fn start<F, Fut>(workers: usize, max: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<O>> + Send + 'static,
    {
        let (workers, max) = (workers.max(1), max.max(1));
        let (queue, rx) = mpsc::channel::<Job<I, O>>(workers * max * 4);
        let rx = Arc::new(Mutex::new(rx));
        let run = Arc::new(run);
        for _ in 0..workers {
            let (rx, run) = (rx.clone(), run.clone());
            tokio::spawn(async move {
                let mut jobs = Vec::with_capacity(max);
                loop {
                    // One worker gathers while the others run their batches.
                    if rx.lock().await.recv_many(&mut jobs, max).await == 0 {
                        break;
                    }
                    let (inputs, replies): (Vec<I>, Vec<_>) = jobs.drain(..).unzip();
                    // A batch that panics fails its own callers (no answer),
                    // not the worker: the next batch runs as usual.
                    let Ok(outputs) = AssertUnwindSafe(run(inputs)).catch_unwind().await else {
                        tracing::error!("a batch panicked; its requests get no answer");
                        continue;
                    };
                    // A caller that gave up has dropped its receiver: fine.
                    for (output, reply) in outputs.into_iter().zip(replies) {
                        let _ = reply.send(output);
                    }
                }
            });
        }
        Batcher { queue }
    }

    /// Runs `input` in the next batch; `None` when its batch gave no output
    /// for it (it panicked, or answered too few): a bug, not a state to
    /// retry.
    pub async fn run(&self, input: I) -> Option<O> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((input, reply)).await.ok()?;
        answer.await.ok()
    }
}

/// The answers of a batched read to its `n` requests: each row goes to
/// the request at its `place` (counted from 1, as `WITH ORDINALITY`
/// numbers an `unnest`), a request without a row gets `None`, and a failed
/// statement is every request's error.
pub fn by_place<T, E: Clone>(
    n: usize,
    rows: Result<Vec<T>, E>,
    place: impl Fn(&T) -> i64,
) -> Vec<Result<Option<T>, E>> {
    match rows {
        Ok(rows) => {
            let mut answers: Vec<Result<Option<T>, E>> = (0..n).map(|_| Ok(None)).collect();
            for row in rows {
                let slot = usize::try_from(place(&row) - 1)
                    .ok()
                    .and_then(|i| answers.get_mut(i));
                if let Some(slot) = slot {
                    *slot = Ok(Some(row));
                }
            }
            answers
        }
        Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn every_caller_gets_its_own_answer_and_waiting_callers_share_a_batch() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let doubler = Batcher::start(1, 64, move |inputs: Vec<u32>| {
            counted.fetch_add(1, Ordering::Relaxed);
            async move {
                // Long enough for the other callers to queue up behind it.
                tokio::task::yield_now().await;
                inputs.into_iter().map(|i| i * 2).collect::<Vec<_>>()
            }
        });
        let calls = (0..200u32).map(|i| {
            let d = doubler.clone();
            tokio::spawn(async move { (i, d.run(i).await) })
        });
        for call in calls.collect::<Vec<_>>() {
            let (i, doubled) = call.await.expect("caller task");
            assert_eq!(doubled, Some(i * 2));
        }
        let n = batches.load(Ordering::Relaxed);
        assert!(n < 200, "200 callers at once ran in {n} batches");
    }

    #[tokio::test]
    async fn a_panicking_batch_fails_its_callers_and_the_workers_go_on() {
        let picky = Batcher::start(2, 8, |inputs: Vec<u32>| async move {
            assert!(!inputs.contains(&13), "unlucky");
            inputs
        });
        assert_eq!(picky.run(13).await, None);
        assert_eq!(picky.run(13).await, None);
        assert_eq!(picky.run(7).await, Some(7), "both workers are still there");
    }

    #[test]
    fn rows_go_to_their_places_and_an_error_to_every_request() {
        let rows: Result<Vec<(i64, &str)>, String> = Ok(vec![(3, "c"), (1, "a")]);
        let answers = by_place(3, rows, |r| r.0);
        let got: Vec<Option<&str>> = answers
            .into_iter()
            .map(|a| a.unwrap().map(|r| r.1))
            .collect();
        assert_eq!(got, [Some("a"), None, Some("c")]);
        let failed = by_place(2, Err::<Vec<(i64, &str)>, _>("down".to_owned()), |r| r.0);
        assert_eq!(failed, [Err("down".to_owned()), Err("down".to_owned())]);
    }

    #[tokio::test]
    async fn a_batch_that_answers_too_few_outputs_leaves_the_rest_without_one() {
        let short = Batcher::start(2, 8, |_: Vec<u32>| async { Vec::<u32>::new() });
        assert_eq!(short.run(1).await, None);
    }
}
