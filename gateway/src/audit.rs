//! The tamper-evident message log: every accepted dossier, receipt, delivery
//! attempt, status event and operator replay is one record, written in the same
//! transaction as the change it proves. Each record holds the SHA-256 of the
//! exact bytes it is about and commits, by its chain hash, to every record
//! before it. The gateway signs the chain's head periodically ([`HeadSigner`]),
//! off the request path; [`Verifier`] walks the log and names the first broken
//! link.
//!
//! A record's chain hash is
//! `SHA-256("lienthong-audit-v1" ‖ previous chain ‖ seq ‖ at ‖ ref ‖ kind ‖ 0 ‖ dossier ‖ 0 ‖ digest ‖ SHA-256(meta))`
//! with the integers as 8-byte big-endian, `ref` as 0 (none) or 1 and the id
//! of the event or delivery the record names, and 32 zero bytes before the
//! first record. The metadata enters only by its hash, so metadata past its retention
//! can be removed and the chain still verifies; message bodies enter by their
//! digest, so the same holds for bodies.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::store::{AuditHead, AuditRecord, Store, StoreError};

/// What a record is about.
pub mod kind {
    /// A dossier accepted: the digest is of the exact bytes received.
    pub const DOSSIER: &str = "dossier";
    /// The receipt given for it: the digest is of the receipt as stored.
    pub const RECEIPT: &str = "receipt";
    /// One delivery attempt: the digest is of the canonical content delivered.
    pub const ATTEMPT: &str = "attempt";
    /// A status event accepted: the digest is of the event in canonical form.
    pub const STATUS: &str = "status";
    /// An operator queued a dead letter again: the digest is of the metadata.
    pub const REPLAY: &str = "replay";
}

const DOMAIN: &[u8] = b"lienthong-audit-v1";

/// What a record's chain hash covers besides the one before it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Its position.
    pub seq: i64,
    /// When it was written, nanoseconds since the epoch.
    pub at_ns: i64,
    /// What it is about ([`kind`]).
    pub kind: &'a str,
    /// The dossier it concerns.
    pub dossier: &'a str,
    /// The event or delivery it names.
    pub ref_id: Option<i64>,
    /// SHA-256 of the bytes it is about.
    pub digest: &'a [u8],
    /// SHA-256 of its metadata.
    pub meta_sha: &'a [u8],
}

impl<'a> From<&'a AuditRecord> for Entry<'a> {
    fn from(r: &'a AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at_ns: r.at_ns,
            kind: &r.kind,
            dossier: &r.dossier,
            ref_id: r.ref_id,
            digest: &r.digest,
            meta_sha: &r.meta_sha,
        }
    }
}

/// The chain hash of a record, from the one before it (see the module docs).
pub fn link(prev: &[u8; 32], e: &Entry<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev);
    h.update(e.seq.to_be_bytes());
    h.update(e.at_ns.to_be_bytes());
    // The row the record names (an event, a delivery), so it cannot be repointed.
    match e.ref_id {
        Some(id) => {
            h.update([1]);
            h.update(id.to_be_bytes());
        }
        None => h.update([0]),
    }
    h.update(e.kind.as_bytes());
    h.update([0]);
    h.update(e.dossier.as_bytes());
    h.update([0]);
    h.update(e.digest);
    h.update(e.meta_sha);
    h.finalize().into()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The exact bytes the gateway signs for a head: the record it ends at, its chain
/// hash and when it was signed.
pub fn head_payload(seq: i64, chain: &[u8; 32], signed_at_ns: i64) -> Vec<u8> {
    format!("lienthong-audit-head-v1 {seq} {} {signed_at_ns}", hex::encode(chain)).into_bytes()
}

/// A signed head as written to `audit.heads_file`, one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadLine {
    /// The record the head ends at.
    pub seq: i64,
    /// That record's chain hash (hex).
    pub chain: String,
    /// When it was signed, nanoseconds since the epoch.
    pub signed_at_ns: i64,
    /// The gateway's detached JWS over [`head_payload`].
    pub jws: String,
}

impl From<&AuditHead> for HeadLine {
    fn from(h: &AuditHead) -> Self {
        Self { seq: h.seq, chain: hex::encode(h.chain), signed_at_ns: h.signed_at_ns, jws: h.jws.clone() }
    }
}

impl HeadLine {
    /// The head this line holds, if its chain hash is well-formed.
    pub fn head(&self) -> Option<AuditHead> {
        let chain = <[u8; 32]>::try_from(hex::decode(&self.chain).ok()?).ok()?;
        Some(AuditHead { seq: self.seq, chain, signed_at_ns: self.signed_at_ns, jws: self.jws.clone() })
    }
}

/// Checks a head's signature: the gateway's JWS over [`head_payload`], by one of
/// the pinned keys (SPKI SHA-256, hex).
pub type HeadCheck = dyn Fn(&AuditHead) -> Result<(), String>;

/// The first broken link the verifier found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The record (or head) where the log stops being provable.
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

/// What a walk of the log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records checked.
    pub records: u64,
    /// Records whose metadata was removed by retention (their chain still checked).
    pub pruned_metadata: u64,
    /// Bodies and stored contents compared with their digests.
    pub contents: u64,
    /// Signed heads checked.
    pub heads: u64,
    /// The last record covered by a valid signed head.
    pub signed_up_to: i64,
    /// The last record.
    pub last: i64,
    /// The first broken link, if any.
    pub broken: Option<Broken>,
}

impl Report {
    /// Records after the last signed head: consistent, but not yet signed.
    pub fn unsigned(&self) -> i64 {
        self.last - self.signed_up_to
    }
}

/// Walks the records in order, checking each signed head as the walk reaches
/// its record, and keeps the first broken link.
pub struct Verifier<'a> {
    prev: [u8; 32],
    next_seq: i64,
    /// Heads not reached yet, by position, last first.
    heads: Vec<AuditHead>,
    check: &'a HeadCheck,
    /// Bodies of dossiers logged before this instant (ns) may have been removed
    /// by retention.
    bodies_before_ns: i64,
    report: Report,
}

impl<'a> Verifier<'a> {
    /// A verifier of the log against `heads` (from the store, a heads file, or
    /// both), checking their signatures with `check`.
    /// A dossier's body may be missing only if the log says it was not kept,
    /// or it was logged before `bodies_before_ns` (retention).
    pub fn new(check: &'a HeadCheck, mut heads: Vec<AuditHead>, bodies_before_ns: i64) -> Self {
        heads.sort_by_key(|h| std::cmp::Reverse(h.seq));
        Self { prev: [0; 32], next_seq: 1, heads, check, bodies_before_ns, report: Report::default() }
    }

    /// Why `r`'s content may be absent, or `None` when its absence is a break.
    fn may_lack_content(&self, r: &AuditRecord) -> bool {
        match r.kind.as_str() {
            kind::DOSSIER => {
                let not_kept = r
                    .meta
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
                    .is_some_and(|m| m["body_kept"] == false);
                not_kept || r.at_ns < self.bodies_before_ns
            }
            kind::REPLAY => true,
            _ => false,
        }
    }

    fn fail(&mut self, seq: i64, reason: String) {
        if self.report.broken.is_none() {
            self.report.broken = Some(Broken { seq, reason });
        }
    }

    /// Whether a break was found (the rest is not worth checking).
    pub fn is_broken(&self) -> bool {
        self.report.broken.is_some()
    }

    /// Checks the next record; `content` is the stored body or content its digest
    /// is of, when the store still has it.
    pub fn record(&mut self, r: &AuditRecord, content: Option<&[u8]>) {
        if self.is_broken() {
            return;
        }
        if r.seq != self.next_seq {
            let what = if r.seq > self.next_seq { "missing" } else { "repeated or out of order" };
            return self.fail(self.next_seq, format!("record {} is {what} (found {} next)", self.next_seq, r.seq));
        }
        match &r.meta {
            Some(meta) if sha256(meta.as_bytes()) != r.meta_sha => {
                return self.fail(r.seq, format!("record {}: its metadata does not match its hash", r.seq));
            }
            Some(_) => {}
            None => self.report.pruned_metadata += 1,
        }
        match content {
            Some(content) if sha256(content) != r.digest => {
                return self.fail(r.seq, format!("record {}: the stored {} does not match its digest", r.seq, r.kind));
            }
            Some(_) => self.report.contents += 1,
            None if !self.may_lack_content(r) => {
                return self.fail(r.seq, format!("record {}: the stored {} it proves is missing", r.seq, r.kind));
            }
            None => {}
        }
        // A replay's digest is of its own metadata.
        if r.kind == kind::REPLAY && r.digest != r.meta_sha {
            return self.fail(r.seq, format!("record {}: the replay's digest is not of its metadata", r.seq));
        }
        let chain = link(&self.prev, &Entry::from(r));
        if chain != r.chain {
            let why = format!(
                "record {}: its chain hash does not follow from record {} (a record was changed)",
                r.seq,
                r.seq - 1
            );
            return self.fail(r.seq, why);
        }
        self.prev = chain;
        self.report.last = r.seq;
        self.next_seq += 1;
        self.report.records += 1;
        while self.heads.last().is_some_and(|h| h.seq <= r.seq) {
            let h = self.heads.pop().expect("a head is there");
            self.head(&h, &chain);
        }
    }

    fn head(&mut self, h: &AuditHead, chain: &[u8; 32]) {
        if self.is_broken() {
            return;
        }
        if h.seq != self.report.last || h.chain != *chain {
            return self.fail(h.seq, format!("signed head {}: the log's records up to it were changed", h.seq));
        }
        if let Err(e) = (self.check)(h) {
            return self.fail(h.seq, format!("signed head {}: {e}", h.seq));
        }
        self.report.heads += 1;
        self.report.signed_up_to = self.report.signed_up_to.max(h.seq);
    }

    /// The report, once every record was walked.
    pub fn finish(mut self) -> Report {
        if let Some(h) = self.heads.last().cloned() {
            self.fail(
                h.seq,
                format!("signed head {}: the log ends at record {}: records were removed", h.seq, self.report.last),
            );
        }
        self.report
    }
}

/// Walks the whole log of `store` against its signed heads and `extra` heads
/// (from a heads file).
pub async fn verify(
    store: &dyn Store,
    check: &HeadCheck,
    extra: Vec<AuditHead>,
    bodies_before_ns: i64,
) -> Result<Report, crate::store::StoreError> {
    const PAGE: usize = 1000;
    let mut heads = extra;
    let mut after = 0;
    loop {
        let page = store.audit_heads(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        heads.extend(page);
    }
    let mut v = Verifier::new(check, heads, bodies_before_ns);
    let mut after = 0;
    while !v.is_broken() {
        let page = store.audit_records(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.seq;
        for (r, content) in &page {
            v.record(r, content.as_deref());
        }
    }
    Ok(v.finish())
}

/// Reads a heads file: one [`HeadLine`] per line.
pub fn read_heads_file(path: &std::path::Path) -> Result<Vec<AuditHead>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    let mut heads = Vec::with_capacity(lines.len());
    for (n, (i, l)) in lines.iter().enumerate() {
        match serde_json::from_str::<HeadLine>(l).ok().and_then(|h| h.head()) {
            Some(h) => heads.push(h),
            // The last line may have been cut short by a crash while appending.
            None if n + 1 == lines.len() && !text.ends_with('\n') => {}
            None => return Err(format!("{} line {}: not a signed head", path.display(), i + 1)),
        }
    }
    Ok(heads)
}

/// The signature check of heads: the gateway's JWS over [`head_payload`] by one
/// of `pins` (SPKI SHA-256, hex).
pub fn pinned_check(pins: Vec<String>) -> Box<HeadCheck> {
    Box::new(move |h: &AuditHead| {
        schemas::jws::verify_detached_pinned(&h.jws, &head_payload(h.seq, &h.chain, h.signed_at_ns), &pins)
            .map_err(|e| format!("its signature does not verify: {e}"))
    })
}

/// The `[audit]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// How often the chain's head is signed with the gateway's key (when it has
    /// one, `signatures.key`).
    #[serde(with = "humantime_serde")]
    pub sign_every: Duration,
    /// How long signing may keep failing before the gateway refuses new dossiers
    /// and status events with 503 `evidence_unavailable`, rather than accept what
    /// it cannot prove.
    #[serde(with = "humantime_serde")]
    pub max_unsigned_age: Duration,
    /// Keep the exact bytes of each dossier (which hold citizens' personal data).
    /// `false`: the log keeps only their digests, which still prove what passed
    /// to whoever holds the message.
    pub bodies: bool,
    /// How long message bodies are kept; their digests stay in the log.
    #[serde(with = "humantime_serde")]
    pub body_retention: Duration,
    /// How long records' metadata is kept; unset, for ever. The chain still
    /// verifies without it.
    #[serde(with = "humantime_serde")]
    pub metadata_retention: Option<Duration>,
    /// Each signed head is also appended to this file (one JSON line), to be
    /// shipped off the machine; `lienthong audit verify --heads` checks the log
    /// against it. A head that cannot be written there counts as not signed.
    pub heads_file: Option<PathBuf>,
    /// SPKI SHA-256 (hex) of the gateway's former signing keys, whose heads
    /// still verify after a key rotation.
    pub previous_keys: Vec<String>,
    /// How often bodies and metadata past their retention are removed.
    #[serde(with = "humantime_serde")]
    pub prune_interval: Duration,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            sign_every: Duration::from_secs(10),
            max_unsigned_age: Duration::from_secs(120),
            bodies: true,
            body_retention: Duration::from_secs(90 * 24 * 3600),
            metadata_retention: None,
            heads_file: None,
            previous_keys: Vec::new(),
            prune_interval: Duration::from_secs(3600),
        }
    }
}

/// Whether the gateway can still prove what it accepts; shared by the handlers
/// (which refuse new work when it cannot) and [`HeadSigner`].
///
/// It fails closed: once a signer is running, new work is refused whenever its
/// last good round is older than `max_unsigned_age`, so a signer that hangs or
/// dies stops the intake as surely as one that reports errors.
#[derive(Debug)]
pub struct Evidence {
    born: Instant,
    /// `max_unsigned_age` in milliseconds; 0 while no signer runs (no key).
    max_age_ms: AtomicI64,
    /// When the signer last completed a round without error, in milliseconds
    /// since `born`.
    last_ok_ms: AtomicI64,
    /// The last record covered by a signed head.
    signed_up_to: AtomicI64,
    why: Mutex<Option<String>>,
}

impl Default for Evidence {
    fn default() -> Self {
        Self {
            born: Instant::now(),
            max_age_ms: AtomicI64::new(0),
            last_ok_ms: AtomicI64::new(0),
            signed_up_to: AtomicI64::new(0),
            why: Mutex::new(None),
        }
    }
}

impl Evidence {
    fn now_ms(&self) -> i64 {
        i64::try_from(self.born.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn refusing(&self) -> bool {
        let max = self.max_age_ms.load(Ordering::Relaxed);
        max > 0 && self.now_ms() - self.last_ok_ms.load(Ordering::Relaxed) > max
    }

    fn round_ok(&self) {
        self.last_ok_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn set_why(&self, why: String) {
        if let Ok(mut w) = self.why.lock() {
            *w = Some(why);
        }
    }

    /// Refuses new work while the log's head cannot be signed.
    pub fn admit(&self) -> Result<(), ApiError> {
        if !self.refusing() {
            return Ok(());
        }
        Err(ApiError::new(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "evidence_unavailable",
            "the gateway cannot sign its message log, so it accepts nothing it could not prove; retry later",
        )
        .with_header(http::header::RETRY_AFTER, "30"))
    }

    /// Why new work is refused, for `/readyz`.
    pub fn problem(&self) -> Option<String> {
        if self.refusing() {
            self.why.lock().ok().and_then(|w| w.clone()).or_else(|| Some("the message log cannot be signed".into()))
        } else {
            None
        }
    }

    /// The last record covered by a signed head.
    pub fn signed_up_to(&self) -> i64 {
        self.signed_up_to.load(Ordering::Relaxed)
    }
}

/// Signs the log's head every `sign_every`, off the request path.
pub struct HeadSigner {
    /// The store holding the log.
    pub store: Arc<dyn Store>,
    /// The gateway's key.
    pub signatures: Arc<crate::signatures::Signatures>,
    /// The settings.
    pub config: AuditConfig,
    /// Shared with the handlers.
    pub evidence: Arc<Evidence>,
    /// Where outcomes are counted.
    pub metrics: Metrics,
}

/// The head the signer last vouched for: new records must link to it.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    seq: i64,
    chain: [u8; 32],
}

impl HeadSigner {
    /// Signs until shutdown, then once more so the last records are covered.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let max = i64::try_from(self.config.max_unsigned_age.as_millis()).unwrap_or(i64::MAX).max(1);
        self.evidence.round_ok();
        self.evidence.max_age_ms.store(max, Ordering::Relaxed);
        let mut anchor = match self.starting_anchor().await {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::error!(error = %e, "the message log does not match its signed heads; refusing new work");
                self.evidence.set_why(e);
                None
            }
        };
        let mut failing = false;
        let mut tick = tokio::time::interval(self.config.sign_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stop = tokio::select! {
                _ = tick.tick() => false,
                _ = shutdown.changed() => true,
            };
            // A log that no longer matches what was signed is never signed again.
            let Some(a) = anchor else {
                self.metrics.audit_heads.with_label_values(&["error"]).inc();
                if stop {
                    return;
                }
                continue;
            };
            let round = tokio::time::timeout(self.config.max_unsigned_age, self.sign_once(a)).await;
            match round
                .unwrap_or_else(|_| Err(SignError::Failed("signing took longer than audit.max_unsigned_age".into())))
            {
                Ok((outcome, next)) => {
                    anchor = Some(next);
                    self.metrics.audit_heads.with_label_values(&[outcome]).inc();
                    if std::mem::take(&mut failing) {
                        tracing::info!("the message log is signed again; new work is accepted");
                    }
                    self.evidence.round_ok();
                }
                Err(SignError::Tampered(e)) => {
                    self.metrics.audit_heads.with_label_values(&["error"]).inc();
                    tracing::error!(error = %e, "the message log was changed after it was signed; it is not signed again");
                    self.evidence.set_why(format!("the message log was changed after it was signed: {e}"));
                    anchor = None;
                }
                Err(SignError::Failed(e)) => {
                    self.metrics.audit_heads.with_label_values(&["error"]).inc();
                    failing = true;
                    tracing::warn!(error = %e, "cannot sign the message log's head; will try again");
                    self.evidence.set_why(format!("the message log cannot be signed: {e}"));
                }
            }
            if stop {
                return;
            }
        }
    }

    /// The newest signed head, from the store and the heads file: the store's
    /// chain must hold the file's last head (the file is the copy kept apart).
    async fn starting_anchor(&self) -> Result<Anchor, String> {
        let mut head = self.store.last_audit_head().await.map_err(|e| e.to_string())?;
        if let Some(path) = self.config.heads_file.clone() {
            let from_file =
                tokio::task::spawn_blocking(move || last_head_in_file(&path)).await.map_err(|e| e.to_string())?;
            if let Some(f) = from_file {
                let stored = self.store.audit_chain(f.seq - 1, 1).await.map_err(|e| e.to_string())?;
                match stored.first() {
                    Some(r) if r.seq == f.seq && r.chain == f.chain => {}
                    _ => {
                        return Err(format!("the heads file's last head (record {}) is not in the store's log", f.seq))
                    }
                }
                if head.as_ref().is_none_or(|h| h.seq < f.seq) {
                    head = Some(f);
                }
            }
        }
        let a = head.map_or(Anchor { seq: 0, chain: [0; 32] }, |h| Anchor { seq: h.seq, chain: h.chain });
        self.evidence.signed_up_to.store(a.seq, Ordering::Relaxed);
        Ok(a)
    }

    /// Checks that every record after `from` links to it, then signs the new
    /// tip: the outcome's label and the new anchor.
    async fn sign_once(&self, from: Anchor) -> Result<(&'static str, Anchor), SignError> {
        let failed = |e: crate::store::StoreError| SignError::Failed(e.to_string());
        let Some((seq, _)) = self.store.audit_tip().await.map_err(failed)? else { return Ok(("idle", from)) };
        self.metrics.audit_unsigned.set((seq - from.seq).max(0));
        if seq < from.seq {
            return Err(SignError::Tampered(format!(
                "the log ends at record {seq}, before the signed record {}",
                from.seq
            )));
        }
        if seq == from.seq {
            return Ok(("idle", from));
        }
        let (mut at, mut chain) = (from.seq, from.chain);
        while at < seq {
            // The links alone: the signer reads none of the round's bodies
            // (dossiers, receipts, delivered payloads); their digests are linked.
            let page = self.store.audit_chain(at, 1000).await.map_err(failed)?;
            if page.is_empty() {
                break;
            }
            for r in page.iter().take_while(|r| r.seq <= seq) {
                let linked = link(&chain, &Entry::from(r));
                if r.seq != at + 1 || linked != r.chain {
                    return Err(SignError::Tampered(format!("record {} does not follow from record {at}", r.seq)));
                }
                (at, chain) = (r.seq, linked);
            }
        }
        if at != seq {
            return Err(SignError::Tampered(format!("records {}..={seq} are missing", at + 1)));
        }
        let signed_at_ns = crate::store::status::to_ns(&chrono::Utc::now());
        let payload = head_payload(seq, &chain, signed_at_ns);
        let jws = self.signatures.sign(&payload).ok_or(SignError::Failed("the gateway's key cannot sign".into()))?;
        let head = AuditHead { seq, chain, signed_at_ns, jws };
        if let Some(path) = &self.config.heads_file {
            append_line(path, &HeadLine::from(&head)).await.map_err(SignError::Failed)?;
        }
        self.store.add_audit_head(head).await.map_err(failed)?;
        self.evidence.signed_up_to.store(seq, Ordering::Relaxed);
        self.metrics.audit_unsigned.set(0);
        Ok(("signed", Anchor { seq, chain }))
    }
}

/// Why a signing round failed.
enum SignError {
    /// It may pass: the key, the heads file or the store failed.
    Failed(String),
    /// The log no longer matches what was signed.
    Tampered(String),
}

/// The last well-formed head of a heads file, if it has one.
fn last_head_in_file(path: &std::path::Path) -> Option<AuditHead> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find_map(|l| serde_json::from_str::<HeadLine>(l).ok().and_then(|h| h.head()))
}

/// Appends one head to the heads file and syncs it to disk.
async fn append_line(path: &std::path::Path, line: &HeadLine) -> Result<(), String> {
    let mut text = serde_json::to_string(line).map_err(|e| e.to_string())?;
    text.push('\n');
    let shown = path.display().to_string();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).read(true).open(&path)?;
        // A line cut short by a crash is ended, so this head starts a line of its own.
        let len = f.metadata()?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                f.write_all(b"\n")?;
            }
        }
        f.write_all(text.as_bytes())?;
        f.sync_data()
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{shown}: {e}"))
}

/// Removes bodies and metadata past their retention, every `prune_interval`.
pub async fn prune(store: Arc<dyn Store>, config: AuditConfig, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(config.prune_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        match prune_once(store.as_ref(), &config, chrono::Utc::now(), crate::store::PRUNE_BATCH).await {
            Ok((0, 0)) => {}
            Ok((b, m)) => tracing::info!(bodies = b, metadata = m, "removed message-log contents past their retention"),
            Err(e) => tracing::warn!(error = %e, "cannot prune the message log; will try again"),
        }
    }
}

/// Removes everything past its retention at `now`, `batch` rows of each kind
/// per call of the store, so that submissions are written between the calls;
/// returns how many bodies and records' metadata were removed.
pub async fn prune_once(
    store: &dyn Store,
    config: &AuditConfig,
    now: chrono::DateTime<chrono::Utc>,
    batch: u64,
) -> Result<(u64, u64), StoreError> {
    let before = |d: Duration| chrono::Duration::from_std(d).ok().map(|d| now - d);
    let bodies = before(config.body_retention);
    let meta = config.metadata_retention.and_then(before);
    let batch = batch.max(1);
    let mut removed = (0, 0);
    loop {
        let (b, m) = store.prune_audit(bodies, meta, batch).await?;
        removed = (removed.0 + b, removed.1 + m);
        if b < batch && m < batch {
            return Ok(removed);
        }
    }
}

/// Checks what serde cannot of the `[audit]` section.
pub fn validate(c: &AuditConfig, push: &mut impl FnMut(String, String)) {
    if c.sign_every.is_zero() {
        push("audit.sign_every".into(), "must be greater than 0".into());
    }
    if c.max_unsigned_age < c.sign_every {
        push("audit.max_unsigned_age".into(), "must be at least audit.sign_every".into());
    }
    if c.prune_interval.is_zero() {
        push("audit.prune_interval".into(), "must be greater than 0".into());
    }
    for (i, k) in c.previous_keys.iter().enumerate() {
        if k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()) {
            push(format!("audit.previous_keys[{i}]"), "must be a SHA-256 in hex (64 digits)".into());
        }
    }
}

/// `lienthong audit ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the message log of a gateway's store, check every record's link, the
    /// stored contents against their digests and every signed head's signature,
    /// and report the first broken link (exit code 1). Safe beside a running
    /// gateway: the store is opened read-only.
    Verify {
        /// The gateway's configuration file (store, key, `audit.previous_keys`).
        #[arg(long, short)]
        config: PathBuf,
        /// A heads file (`audit.heads_file`, or a copy shipped elsewhere) to check
        /// the log against as well.
        #[arg(long)]
        heads: Option<PathBuf>,
    },
}

/// Runs an audit command; whether the log verified.
pub async fn run(command: AuditCommand) -> anyhow::Result<bool> {
    let AuditCommand::Verify { config, heads } = command;
    let config = crate::Config::load(&config).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    let mut pins = config.audit.previous_keys.clone();
    if let Some(id) = crate::signatures::Signatures::from_config(&config)?.identity() {
        pins.push(id.certificate().spki_sha256.clone());
    }
    // The configured heads file is the copy kept apart from the database: it is
    // checked whenever it is there, not only when named.
    let heads = heads.or_else(|| config.audit.heads_file.clone().filter(|p| p.exists()));
    let extra = match &heads {
        Some(path) => read_heads_file(path).map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    };
    let retention = chrono::Duration::from_std(config.audit.body_retention).unwrap_or(chrono::Duration::MAX);
    let bodies_before_ns = crate::store::status::to_ns(&(chrono::Utc::now() - retention));
    let store: Box<dyn Store> = if config.store.is_postgres() {
        Box::new(crate::store::PostgresStore::open_read_only(&config.store).await?)
    } else {
        let path = config.database_path();
        anyhow::ensure!(path.exists(), "{}: no such database", path.display());
        Box::new(crate::store::SqliteStore::open_read_only(&path)?)
    };
    let signing = !pins.is_empty();
    let check = pinned_check(pins);
    let r = verify(store.as_ref(), check.as_ref(), extra, bodies_before_ns).await?;
    println!(
        "message log: {} records ({} contents checked against their digests, {} with metadata past retention); \
         {} signed heads, signed up to record {} ({} records not signed yet)",
        r.records,
        r.contents,
        r.pruned_metadata,
        r.heads,
        r.signed_up_to,
        r.unsigned()
    );
    match &r.broken {
        None if !signing => {
            println!("UNPROVEN: the gateway has no signing key, so nothing vouches for the log beyond the store");
            Ok(false)
        }
        None if r.records > 0 && r.heads == 0 => {
            println!("UNPROVEN: no signed head covers any record (heads deleted, or never signed)");
            Ok(false)
        }
        None if r.unsigned() > 0 => {
            println!(
                "ok: every link holds; the last {} records are not covered by a signed head yet, so only the \
                 store vouches for them (a later head, or --heads with a shipped heads file, proves the rest)",
                r.unsigned()
            );
            Ok(true)
        }
        None => {
            println!("ok: every link holds");
            Ok(true)
        }
        Some(b) => {
            println!("BROKEN at record {}: {}", b.seq, b.reason);
            Ok(false)
        }
    }
}
