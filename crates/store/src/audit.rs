//! The hash chain of the audit log, computed the same way by both backends.
//!
//! Each record's hash is SHA-256 over the previous record's hash and the
//! record's own fields, each length-prefixed, so that changing, removing or
//! reordering any record breaks every hash after it.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use wangge_core::org::Id;
use wangge_core::time;

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// What happened, as the caller describes it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor_id: Option<Id>,
    /// A dotted verb, e.g. `resident.create`, `resident.reveal`, `user.login_failed`.
    pub action: String,
    pub record_kind: String,
    pub record_id: Option<Id>,
    /// Details as JSON text (never a full ID or phone number).
    pub detail: String,
}

impl AuditEntry {
    pub fn new(at: Timestamp, actor_id: Option<Id>, action: &str, record_kind: &str) -> Self {
        Self {
            at,
            actor_id,
            action: action.to_owned(),
            record_kind: record_kind.to_owned(),
            record_id: None,
            detail: "{}".to_owned(),
        }
    }

    pub fn record(mut self, id: Id) -> Self {
        self.record_id = Some(id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail.to_string();
        self
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<Id>,
    pub action: String,
    pub record_kind: String,
    pub record_id: Option<Id>,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The hash of record `seq` following `prev`.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev: &[u8],
    seq: i64,
    at: i64,
    actor_id: Option<Id>,
    action: &str,
    record_kind: &str,
    record_id: Option<Id>,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    field(&mut h, prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    field(
        &mut h,
        &actor_id
            .map(|a| a.to_be_bytes().to_vec())
            .unwrap_or_default(),
    );
    field(&mut h, action.as_bytes());
    field(&mut h, record_kind.as_bytes());
    field(
        &mut h,
        &record_id
            .map(|a| a.to_be_bytes().to_vec())
            .unwrap_or_default(),
    );
    field(&mut h, detail.as_bytes());
    h.finalize().into()
}

/// The hash an entry gets as record `seq`.
pub fn entry_hash(prev: &[u8], seq: i64, e: &AuditEntry) -> [u8; 32] {
    chain_hash(
        prev,
        seq,
        time::to_micros(e.at),
        e.actor_id,
        &e.action,
        &e.record_kind,
        e.record_id,
        &e.detail,
    )
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: &'static str,
}

/// Checks a chain record by record, so that a long log streams through.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: Vec<u8>,
    next_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev: GENESIS.to_vec(),
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// Checks the next record of the chain.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        if r.seq != self.next_seq {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "a record is missing before this one",
            });
        }
        if r.prev_hash != self.prev {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "its link to the previous record is broken",
            });
        }
        let hash = chain_hash(
            &r.prev_hash,
            r.seq,
            r.at,
            r.actor_id,
            &r.action,
            &r.record_kind,
            r.record_id,
            &r.detail,
        );
        if hash.as_slice() != r.hash {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "its content was changed after it was written",
            });
        }
        self.prev.clone_from(&r.hash);
        self.next_seq += 1;
        Ok(())
    }

    /// Records checked so far.
    pub fn count(&self) -> i64 {
        self.next_seq - 1
    }
}
