//! Members' feeds: the opaque cursors that mark a position in one, and the hub
//! that wakes long-polls when an event is added.
//!
//! A cursor is `c1.<position in hex>.<tag>`, where the tag is derived from the
//! member id: positions are gap-free per member and stored, so a cursor means the
//! same after a restart, and one member's cursor is refused on another's feed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// Why a cursor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this gateway issued.
    #[error("the cursor is not valid")]
    Invalid,
    /// A cursor of another member's feed.
    #[error("the cursor belongs to another member's feed")]
    OtherMember,
}

fn tag(member: &str) -> String {
    hex::encode(&Sha256::digest(member.as_bytes())[..4])
}

/// The cursor of position `seq` in `member`'s feed (0: before the first event).
pub fn encode_cursor(member: &str, seq: u64) -> String {
    format!("c1.{seq:x}.{}", tag(member))
}

/// The position a cursor marks in `member`'s feed.
pub fn decode_cursor(member: &str, cursor: &str) -> Result<u64, CursorError> {
    let mut parts = cursor.split('.');
    let (Some("c1"), Some(seq), Some(t), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(CursorError::Invalid);
    };
    if seq.is_empty() || seq.len() > 16 || !seq.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Err(CursorError::Invalid);
    }
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CursorError::Invalid);
    }
    let seq = u64::from_str_radix(seq, 16).map_err(|_| CursorError::Invalid)?;
    if t != tag(member) {
        return Err(CursorError::OtherMember);
    }
    Ok(seq)
}

/// Wakes the long-polls of members whose feeds grew.
#[derive(Debug, Default)]
pub struct FeedHub {
    members: Mutex<HashMap<String, watch::Sender<u64>>>,
    closed: AtomicBool,
    /// The furthest position each member has read from, since start.
    read: Mutex<HashMap<String, u64>>,
}

impl FeedHub {
    /// Notes that `member` read its feed after position `seq`: whether that is
    /// further than it had read, so worth storing.
    pub fn read_up_to(&self, member: &str, seq: u64) -> bool {
        let mut map = self.read.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(member) {
            Some(v) if *v >= seq => false,
            Some(v) => {
                *v = seq;
                true
            }
            None => {
                map.insert(member.to_owned(), seq);
                true
            }
        }
    }

    /// A receiver that changes whenever `member`'s feed may have grown (or the
    /// hub closes). Subscribe before reading the feed, so nothing added between
    /// the read and the wait is missed.
    pub fn subscribe(&self, member: &str) -> watch::Receiver<u64> {
        let mut map = self.members.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(member.to_owned()).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    /// Tells the waiting long-polls of `members` to read again.
    pub fn notify<'a>(&self, members: impl IntoIterator<Item = &'a String>) {
        let mut map = self.members.lock().unwrap_or_else(|p| p.into_inner());
        for m in members {
            if let Some(tx) = map.get(m.as_str()) {
                if tx.receiver_count() == 0 {
                    map.remove(m.as_str());
                } else {
                    tx.send_modify(|v| *v = v.wrapping_add(1));
                }
            }
        }
    }

    /// Tells every waiting long-poll to read again (wake-ups may have been missed).
    pub fn wake_all(&self) {
        let map = self.members.lock().unwrap_or_else(|p| p.into_inner());
        for tx in map.values() {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Wakes every long-poll for good: the gateway is shutting down.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    /// Whether [`FeedHub::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Removes every feed entry stored before `before`, `batch` entries per call of
/// the store, so that submissions are written between the calls; returns how
/// many were removed.
pub async fn prune_once(
    store: &dyn crate::store::Store,
    before: chrono::DateTime<chrono::Utc>,
    batch: u64,
) -> Result<u64, crate::store::StoreError> {
    let batch = batch.max(1);
    let mut removed = 0;
    loop {
        let n = store.prune_feeds(before, batch).await?;
        removed += n;
        if n < batch {
            return Ok(removed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_member() {
        for seq in [0, 1, 255, u64::MAX] {
            let c = encode_cursor("portal-h29", seq);
            assert_eq!(decode_cursor("portal-h29", &c), Ok(seq));
            assert_eq!(decode_cursor("portal-h49", &c), Err(CursorError::OtherMember));
        }
    }

    #[test]
    fn malformed_cursors_are_invalid() {
        let good = encode_cursor("m", 10);
        let tag = good.rsplit('.').next().unwrap().to_owned();
        for bad in [
            String::new(),
            "c1".into(),
            "c1.a".into(),
            format!("c2.a.{tag}"),
            format!("c1..{tag}"),
            format!("c1.A.{tag}"),
            format!("c1.-1.{tag}"),
            format!("c1.10000000000000000.{tag}"),
            format!("c1.a.{tag}.x"),
            "c1.a.zzzzzzzz".into(),
            "c1.a.1234".into(),
            format!(" c1.a.{tag}"),
        ] {
            assert_eq!(decode_cursor("m", &bad), Err(CursorError::Invalid), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn notify_wakes_a_subscriber_and_close_wakes_everyone() {
        let hub = FeedHub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        hub.notify([&"a".to_owned()]);
        assert!(a.has_changed().unwrap());
        assert!(!b.has_changed().unwrap());
        a.mark_unchanged();
        hub.close();
        assert!(hub.is_closed());
        b.changed().await.unwrap();
        a.changed().await.unwrap();
    }
}
