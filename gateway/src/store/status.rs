//! What the store keeps of a dossier's status: the events, each member's feed of
//! them, and the figures of on-time and late processing.

use chrono::{DateTime, Utc};
use schemas::lifecycle::LifecycleError;
use schemas::{AgencyId, StatusEvent, TrangThaiHoSo, VnDateTime};
use serde::Serialize;

/// A status event to record, with everyone it goes to.
#[derive(Debug, Clone)]
pub struct NewStatus {
    /// The event, already checked to be one its reporter may post.
    pub event: StatusEvent,
    /// Who reported it: a member id, or `poll:<agency>` for an event learned by
    /// polling an agency.
    pub reported_by: String,
    /// Whether the event came from an agency's status poll: then an event with the
    /// same state and time as one already recorded is the same event, even if the
    /// agency's wire format dropped some of its fields.
    pub polled: bool,
    /// The members whose feeds get the event (duplicates are ignored).
    pub recipients: Vec<String>,
    /// The agency whose adapter is sent the event too (DVCQG's progress update), as
    /// one more delivery in the outbox.
    pub sync_to: Option<AgencyId>,
    /// The correlation id of the request (or poll) that brought it.
    pub correlation_id: String,
}

/// Where a dossier's status stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CurrentStatus {
    /// The state of the last accepted event.
    pub status: TrangThaiHoSo,
    /// That event's time.
    pub at: VnDateTime,
}

/// An event the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedStatus {
    /// Its id: increasing in the order events were accepted.
    pub event_id: i64,
    /// When the gateway stored it.
    pub recorded_at: DateTime<Utc>,
    /// The members whose feeds it was added to.
    pub recipients: Vec<String>,
    /// Whether a delivery to [`NewStatus::sync_to`] was queued.
    pub queued_sync: bool,
}

/// What recording a status event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusOutcome {
    /// Stored, appended to the history, added to the feeds.
    Accepted(RecordedStatus),
    /// The same event was recorded before; nothing changed.
    Duplicate(RecordedStatus),
    /// The lifecycle does not allow it from where the dossier stands.
    Refused {
        /// Why.
        error: LifecycleError,
        /// Where the dossier stands.
        current: Option<CurrentStatus>,
    },
    /// The store holds no dossier with this code.
    UnknownDossier,
}

/// Who a dossier concerns, for deciding who may report its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierParties {
    /// The member that sent it.
    pub sender: String,
    /// The agency that decides it.
    pub agency: String,
    /// Its procedure code.
    pub procedure: String,
}

/// One event in a member's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Its position in this member's feed: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    /// The event's id (see [`RecordedStatus::event_id`]); for a notice, the
    /// notice's own id.
    pub event_id: i64,
    /// The dossier code; `None` for a notice about an agency.
    pub dossier_code: Option<String>,
    /// The event in canonical form, as JSON text; for a notice, the notice.
    pub event_json: String,
    /// Whether the entry is a notice (a delivery that failed for good, an agency
    /// unreachable or back) rather than a status event.
    pub notice: bool,
    /// Who reported it.
    pub reported_by: String,
    /// When the gateway stored it.
    pub recorded_at: DateTime<Utc>,
}

/// A page of a member's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedPage {
    /// The entries after the position asked for, oldest first.
    Entries(Vec<FeedEntry>),
    /// The position asked for is older than the oldest event kept: events after
    /// it were removed by retention.
    Expired {
        /// The last position removed; reading may resume after it.
        floor: u64,
    },
}

/// The time window of [`crate::store::Store::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsWindow {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive; also the instant open dossiers are judged at.
    pub to: DateTime<Utc>,
}

/// Figures of one agency and procedure over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Figures {
    /// Dossiers received (`NgayTiepNhan`) in the window.
    pub received: u64,
    /// Dossiers whose processing finished in the window, no later than their due date.
    pub finished_on_time: u64,
    /// Dossiers whose processing finished in the window, after their due date.
    pub finished_late: u64,
    /// Dossiers received before the end of the window and not finished by then.
    pub open: u64,
    /// The part of `open` whose due date had passed at the end of the window.
    pub overdue: u64,
}

impl Figures {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Figures) {
        self.received += other.received;
        self.finished_on_time += other.finished_on_time;
        self.finished_late += other.finished_late;
        self.open += other.open;
        self.overdue += other.overdue;
    }
}

/// One row of statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRow {
    /// The agency that decides the dossiers.
    pub agency: String,
    /// The procedure code.
    pub procedure: String,
    /// The figures.
    pub figures: Figures,
}

/// Nanoseconds since the Unix epoch, as stored; instants outside 1677..2262
/// (which no dossier date reaches) saturate.
pub fn to_ns(t: &DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

/// The instant of stored nanoseconds.
pub fn from_ns(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}
