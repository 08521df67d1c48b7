//! `pd bench december --polls-per-second R`: the open program screens of
//! the window's opening. Each asks for its program's seats left every 5
//! seconds (the portal's apply screen, one read for all the program's
//! groups), so thousands of educators waiting on a popular program send
//! a thousand reads a second beside their applications. The poller sends
//! R such reads a second, as signed-in educators, until the window ends,
//! and records what they were answered.

use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::december::{by_status, percentile};

/// What the polls were answered.
#[derive(Default)]
pub(super) struct Polls {
    answers: HashMap<String, u64>,
    /// Of those answered 200.
    latencies: Vec<Duration>,
}

impl Polls {
    pub(super) fn print(&self, secs: f64) {
        let sent: u64 = self.answers.values().sum();
        let answered = match self.latencies.is_empty() {
            true => "none answered 200".to_owned(),
            false => format!(
                "answered 200 in p50 {:.1} ms, p99 {:.1} ms",
                percentile(&self.latencies, 0.50),
                percentile(&self.latencies, 0.99)
            ),
        };
        println!(
            "  seat polls: {sent} due ({:.0}/s); answers: {}; {answered}",
            sent as f64 / secs.max(0.001),
            by_status(&self.answers),
        );
    }
}

/// Polls `rate` times a second, spread over 10 ms ticks, until `stop`.
/// A poll that finds the gateway full is not retried: the screen asks
/// again at its next tick anyway.
/// Polls the bench keeps in flight at most.
const MAX_IN_FLIGHT: usize = 2048;

pub(super) fn start(
    http: reqwest::Client,
    base: String,
    programs: Vec<Uuid>,
    tokens: Vec<String>,
    rate: u32,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Polls> {
    tokio::spawn(async move {
        let polls = Arc::new(Mutex::new(Polls::default()));
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut owed = 0.0;
        let mut running = Vec::new();
        // Polls in flight at most: beyond, a poll is counted as not sent
        // rather than piling up tasks while the gateway is slow.
        let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        while !stop.load(Ordering::Relaxed) && !programs.is_empty() && !tokens.is_empty() {
            tick.tick().await;
            owed += f64::from(rate) / 100.0;
            while owed >= 1.0 {
                owed -= 1.0;
                let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                    if let Ok(mut p) = polls.lock() {
                        *p.answers
                            .entry("not sent (bench cap)".to_owned())
                            .or_default() += 1;
                    }
                    continue;
                };
                let (program, token) = {
                    let mut rng = rand::thread_rng();
                    (
                        programs[rng.gen_range(0..programs.len())],
                        tokens[rng.gen_range(0..tokens.len())].clone(),
                    )
                };
                let (http, url, polls) = (
                    http.clone(),
                    format!("{base}/api/v1/programs/{program}/availability"),
                    polls.clone(),
                );
                running.push(tokio::spawn(async move {
                    let _permit = permit;
                    let started = Instant::now();
                    let status = match http.get(url).bearer_auth(token).send().await {
                        Ok(r) => r.status().as_u16().to_string(),
                        Err(_) => "no answer".to_owned(),
                    };
                    if let Ok(mut p) = polls.lock() {
                        if status == "200" {
                            p.latencies.push(started.elapsed());
                        }
                        *p.answers.entry(status).or_default() += 1;
                    }
                }));
            }
            running.retain(|t| !t.is_finished());
        }
        for t in running {
            let _ = t.await;
        }
        Arc::try_unwrap(polls)
            .ok()
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default()
    })
}
