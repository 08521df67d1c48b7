//! The dead-letter stream, for operators (`pd admin dlq list|replay`).
//!
//! A consumer dead-letters an event it could not apply after
//! `nats.max_deliver` attempts, or one it can never apply (undecodable).
//! Once the cause is fixed (a bug deployed away, a missing row created),
//! replaying publishes the original envelope to its original subject again
//! under a fresh message id: every consumer of the stream sees it, the ones
//! that applied it already recognise its event id and skip it, the one that
//! failed applies it now. The letter is removed once the replay is stored.

use async_nats::HeaderMap;
use pd_proto::common::v1::EventEnvelope;
use prost::Message;

use crate::{Bus, headers};

/// One dead-lettered event.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream: what `replay` takes.
    pub sequence: u64,
    pub consumer: String,
    pub original_subject: String,
    pub reason: String,
    pub dead_lettered_at: chrono::DateTime<chrono::Utc>,
    pub event_id: String,
    pub event_type: String,
    pub aggregate_id: String,
    pub occurred_at: String,
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

impl Bus {
    fn dead_letter_stream(&self) -> String {
        format!("{}_DLQ", self.settings().stream_prefix)
    }

    /// Every stored dead letter, oldest first; `consumer` narrows to one.
    pub async fn dead_letters(&self, consumer: Option<&str>) -> anyhow::Result<Vec<DeadLetter>> {
        self.ensure_dead_letter_stream().await?;
        let mut stream = self
            .jetstream()
            .get_stream(self.dead_letter_stream())
            .await
            .map_err(|e| anyhow::anyhow!("dead-letter stream: {e}"))?;
        let state = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("dead-letter stream: {e}"))?
            .state
            .clone();
        let mut letters = Vec::new();
        if state.messages == 0 {
            return Ok(letters);
        }
        for sequence in state.first_sequence..=state.last_sequence {
            let m = match stream.get_raw_message(sequence).await {
                Ok(m) => m,
                // Replayed letters leave gaps.
                Err(e)
                    if matches!(
                        e.kind(),
                        async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound
                    ) =>
                {
                    continue;
                }
                Err(e) => anyhow::bail!("reading dead letter {sequence}: {e}"),
            };
            let letter = read_letter(sequence, &m.headers, &m.payload, m.time);
            if consumer.is_none_or(|c| c == letter.consumer) {
                letters.push(letter);
            }
        }
        Ok(letters)
    }

    /// Publishes dead letter `sequence` to its original subject again and
    /// removes it; returns what was replayed.
    pub async fn replay_dead_letter(&self, sequence: u64) -> anyhow::Result<DeadLetter> {
        let stream = self
            .jetstream()
            .get_stream(self.dead_letter_stream())
            .await
            .map_err(|e| anyhow::anyhow!("dead-letter stream: {e}"))?;
        let m = stream
            .get_raw_message(sequence)
            .await
            .map_err(|e| anyhow::anyhow!("dead letter {sequence}: {e}"))?;
        let letter = read_letter(sequence, &m.headers, &m.payload, m.time);
        anyhow::ensure!(
            !letter.original_subject.is_empty(),
            "dead letter {sequence} names no original subject"
        );
        let mut h = HeaderMap::new();
        // A fresh id: JetStream would drop the original id as a duplicate
        // within its window. Consumers still de-duplicate by the event id.
        // The event and the moment it was dead-lettered: unique even if the
        // dead-letter stream was recreated and its sequences restarted.
        let msg_id = format!(
            "replay-{}-{}",
            letter.event_id,
            letter
                .dead_lettered_at
                .timestamp_nanos_opt()
                .unwrap_or_default()
        );
        h.insert(headers::MSG_ID, msg_id.as_str());
        let ack = self
            .jetstream()
            .publish_with_headers(letter.original_subject.clone(), h, m.payload.clone())
            .await
            .map_err(|e| anyhow::anyhow!("replaying to {}: {e}", letter.original_subject))?
            .await
            .map_err(|e| anyhow::anyhow!("replaying to {}: {e}", letter.original_subject))?;
        // Kept unless the stream really took the replay.
        anyhow::ensure!(
            !ack.duplicate,
            "dead letter {sequence} was replayed moments ago; it is kept, try again later"
        );
        stream
            .delete_message(sequence)
            .await
            .map_err(|e| anyhow::anyhow!("removing dead letter {sequence}: {e}"))?;
        tracing::info!(sequence, consumer = %letter.consumer, event_id = %letter.event_id, "dead letter replayed");
        Ok(letter)
    }
}

fn read_letter(
    sequence: u64,
    h: &HeaderMap,
    payload: &[u8],
    time: chrono::DateTime<chrono::Utc>,
) -> DeadLetter {
    // A letter whose envelope cannot be read is listed all the same.
    let envelope = EventEnvelope::decode(payload).unwrap_or_default();
    DeadLetter {
        sequence,
        consumer: header(h, headers::CONSUMER),
        original_subject: header(h, headers::ORIGINAL_SUBJECT),
        reason: header(h, headers::DEAD_LETTER_REASON),
        dead_lettered_at: time,
        event_id: envelope.event_id,
        event_type: envelope.event_type,
        aggregate_id: envelope.aggregate_id,
        occurred_at: envelope.occurred_at,
    }
}
