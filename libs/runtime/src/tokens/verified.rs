//! Tokens whose signature was already checked. An educator's token comes
//! back with every request of their session, and the Ed25519 check is the
//! dearest step of a request's admission, paid twice (gateway and
//! service): in the December window it was about a tenth of the machine.
//! A token seen before skips it; its expiry and its session's revocation
//! are still checked on every use.
//!
//! Bounded without a clock or a sweeper: two generations of at most
//! `capacity` entries each. When the current one is full it becomes the
//! previous and the old previous is dropped; a hit in the previous moves
//! back to the current, so tokens in use stay.

use pd_domain::Principal;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a verified token says, kept for its next use.
#[derive(Debug)]
pub(super) struct Checked {
    pub principal: Principal,
    /// `exp`, in seconds.
    pub expires: i64,
    /// When it was issued, in milliseconds (for revocations).
    pub issued_ms: i64,
}

/// A token's key: its SHA-256, so an entry never answers for another
/// token (a tampered one hashes elsewhere) and keys stay small.
pub(super) type Key = [u8; 32];

pub(super) fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

pub(super) struct Verified {
    capacity: usize,
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<Key, Arc<Checked>>,
    previous: HashMap<Key, Arc<Checked>>,
}

impl Generations {
    fn insert(&mut self, capacity: usize, key: Key, checked: Arc<Checked>) {
        // A token two requests checked at once is stored once: no early turn.
        if !self.current.contains_key(&key) && self.current.len() >= capacity {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, checked);
    }
}

impl Verified {
    pub fn new(capacity: usize) -> Self {
        Verified {
            capacity: capacity.max(1),
            generations: Mutex::default(),
        }
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Checked>> {
        let mut g = self.generations.lock().ok()?;
        if let Some(c) = g.current.get(key) {
            return Some(c.clone());
        }
        let c = g.previous.remove(key)?;
        g.insert(self.capacity, *key, c.clone());
        Some(c)
    }

    pub fn insert(&self, key: Key, checked: Arc<Checked>) {
        if let Ok(mut g) = self.generations.lock() {
            g.insert(self.capacity, key, checked);
        }
    }

    /// Entries held (at most twice the capacity).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.generations
            .lock()
            .map(|g| g.current.len() + g.previous.len())
            .unwrap_or(0)
    }
}
