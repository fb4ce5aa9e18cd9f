//! The dossier status lifecycle: which DVCQG status may follow which, as a pure
//! function of the latest accepted state and the next event.
//!
//! # Rules
//!
//! Codes are DVCQG's `TrangThaiHoSo` (see [`TrangThaiHoSo`]):
//!
//! | from \ may go to | allowed next statuses |
//! |---|---|
//! | (none: first event) | 1, 2, 3 |
//! | 1 mới đăng ký | 2, 3, 7, 8 |
//! | 2 được tiếp nhận | 4, 5, 6, 7, 8, 9 |
//! | 4 đang xử lý | 4, 5, 6, 7, 8, 9 |
//! | 5 yêu cầu bổ sung giấy tờ | 4, 6, 7, 8, 9 |
//! | 6 yêu cầu thực hiện nghĩa vụ tài chính | 4, 5, 7, 8, 9 |
//! | 9 đã xử lý xong | 10 only |
//! | 3, 7, 8, 10 | nothing |
//!
//! In words:
//! - the first event may be 1 (registered), 2 (received) or 3 (not received);
//! - 2 follows 1 only; 3 (the reception was refused) follows 1 only, or is first;
//! - 4 follows 2, 4, 5 or 6: repeated 4s are successive processing steps, for
//!   example by different departments; 4 after 5 or 6 means processing resumed
//!   once the citizen supplemented the dossier or paid;
//! - 5 and 6 follow 2 or 4, and each other; neither repeats directly (a second
//!   request after a supplement was received is 5, 4, 5);
//! - 7 (withdrawn) and 8 (stopped) follow any state that is not final;
//! - 9 (finished) follows 2, 4, 5 or 6;
//! - 10 (result returned) follows 9 only;
//! - 3, 7, 8 and 10 close the dossier; 9 is an end state for on-time purposes
//!   ([`crate::timeliness`]) but the result can still be returned after it, so 10
//!   (and only 10) may follow 9.
//!
//! Time: an event whose `ThoiDiemXuLy` is before the latest accepted event's is
//! refused; an equal time is accepted (DVCQG times have one-second resolution and
//! two steps often share a second).
//!
//! Idempotency: an event exactly equal to the latest accepted one (same status,
//! same time, same content: every field of [`StatusEvent`]) is a
//! [`Transition::Duplicate`], which the caller acknowledges without applying it
//! again. The same status at the same time with different content is refused as
//! [`LifecycleError::ConflictingDuplicate`], except for 4, whose repetition is a
//! new step. Only the latest accepted event is remembered: a re-sent older event
//! is refused by the time rule, so callers that retry must deduplicate older
//! events themselves (by their idempotency key).
//!
//! The checks run in this order: duplicate, then time, then the transition table,
//! so an event that is both stale and impossible is reported as stale (it most
//! likely arrived out of order).
//!
//! # Who reports what
//!
//! [`may_post`] splits the statuses between the two parties of a cross-agency
//! dossier. The sender is the one-stop shop (the provincial portal): it registers
//! the dossier, decides whether to receive it, takes the citizen's withdrawal
//! request and hands the result back, so it reports 1, 2, 3, 7 and 10. The target
//! agency (the ministry system) decides: it processes, asks for supplements or
//! for financial obligations, stops processing and finishes, so it reports
//! 4, 5, 6, 8 and 9. Every status belongs to exactly one of them.

use std::fmt;

use crate::{StatusEvent, TrangThaiHoSo, VnDateTime};

impl TrangThaiHoSo {
    /// The Vietnamese name DVCQG gives the status, such as `"đã xử lý xong"`.
    pub fn name_vi(self) -> &'static str {
        match self {
            Self::MoiDangKy => "mới đăng ký",
            Self::DuocTiepNhan => "được tiếp nhận",
            Self::KhongDuocTiepNhan => "không được tiếp nhận",
            Self::DangXuLy => "đang xử lý",
            Self::YeuCauBoSung => "yêu cầu bổ sung giấy tờ",
            Self::YeuCauNghiaVuTaiChinh => "yêu cầu thực hiện nghĩa vụ tài chính",
            Self::RutHoSo => "công dân yêu cầu rút hồ sơ",
            Self::DungXuLy => "dừng xử lý",
            Self::DaXuLyXong => "đã xử lý xong",
            Self::DaTraKetQua => "đã trả kết quả",
        }
    }
}

/// A status shown as its code and Vietnamese name: `9 (đã xử lý xong)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named(pub TrangThaiHoSo);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0.code(), self.0.name_vi())
    }
}

/// A dossier's latest accepted state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Progress {
    /// The status the latest accepted event entered.
    pub status: TrangThaiHoSo,
    /// That event's time (`ThoiDiemXuLy`).
    pub at: VnDateTime,
    /// That event's [`StatusEvent::content_hash`], to recognise an exact re-send.
    pub content_hash: [u8; 32],
}

impl Progress {
    /// The state a dossier is in once `event` is accepted.
    pub fn of(event: &StatusEvent) -> Self {
        Self { status: event.status, at: event.at, content_hash: event.content_hash() }
    }

    /// Whether the status is a DVCQG end state (3, 7, 8, 9, 10).
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// Whether nothing at all may follow (3, 7, 8, 10; after 9, 10 still may).
    pub fn is_closed(&self) -> bool {
        is_closed(self.status)
    }

    /// Whether `event` is exactly the event this state was built from.
    pub fn is_same_event(&self, event: &StatusEvent) -> bool {
        self.status == event.status && self.at == event.at && self.content_hash == event.content_hash()
    }
}

/// What accepting an event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The event moves the dossier on; its [`Progress::of`] is the new state.
    Applied,
    /// The event is the latest accepted one again: acknowledge, change nothing.
    Duplicate,
}

/// Why an event cannot be accepted. Messages name statuses and times, never the
/// event's free text (it may hold personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The dossier has no accepted event and this one cannot start its history.
    #[error(
        "a dossier's first status must be {}, {} or {}, not {}",
        Named(TrangThaiHoSo::MoiDangKy),
        Named(TrangThaiHoSo::DuocTiepNhan),
        Named(TrangThaiHoSo::KhongDuocTiepNhan),
        Named(*.to)
    )]
    FirstStatusInvalid {
        /// The refused status.
        to: TrangThaiHoSo,
    },
    /// The table does not allow this step between two open states.
    #[error("cannot go from {} to {}", Named(*.from), Named(*.to))]
    TransitionImpossible {
        /// The latest accepted status.
        from: TrangThaiHoSo,
        /// The refused status.
        to: TrangThaiHoSo,
    },
    /// The dossier is in an end state that this status may not follow.
    #[error("cannot go from {} to {}: {}", Named(*.from), Named(*.to), final_note(*.from))]
    AfterFinal {
        /// The latest accepted (final) status.
        from: TrangThaiHoSo,
        /// The refused status.
        to: TrangThaiHoSo,
    },
    /// The event is dated before the latest accepted one.
    #[error(
        "cannot go from {} at {} to {} at {}: the event is dated before the last accepted one",
        Named(*.from),
        .from_at,
        Named(*.to),
        .at
    )]
    TimeBeforePrevious {
        /// The latest accepted status.
        from: TrangThaiHoSo,
        /// Its time.
        from_at: VnDateTime,
        /// The refused status.
        to: TrangThaiHoSo,
        /// The refused event's time.
        at: VnDateTime,
    },
    /// Same status and time as the latest accepted event, but different content.
    #[error(
        "cannot go from {} to {} at the same time with different content: \
         it conflicts with the last accepted event",
        Named(*.status),
        Named(*.status)
    )]
    ConflictingDuplicate {
        /// The status both events carry.
        status: TrangThaiHoSo,
        /// The time both events carry.
        at: VnDateTime,
    },
}

impl LifecycleError {
    /// The stable error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FirstStatusInvalid { .. } => "status_first_invalid",
            Self::TransitionImpossible { .. } => "status_transition_impossible",
            Self::AfterFinal { .. } => "status_after_final",
            Self::TimeBeforePrevious { .. } => "status_time_before_previous",
            Self::ConflictingDuplicate { .. } => "status_conflicting_duplicate",
        }
    }
}

fn final_note(from: TrangThaiHoSo) -> String {
    if from == TrangThaiHoSo::DaXuLyXong {
        format!("after {} only {} may follow", from.code(), Named(TrangThaiHoSo::DaTraKetQua))
    } else {
        format!("{} is a final state", from.code())
    }
}

/// Whether nothing may follow `s` (3, 7, 8, 10).
fn is_closed(s: TrangThaiHoSo) -> bool {
    s.is_final() && s != TrangThaiHoSo::DaXuLyXong
}

/// Whether `to` may be a dossier's first status.
pub fn may_start(to: TrangThaiHoSo) -> bool {
    use TrangThaiHoSo::*;
    matches!(to, MoiDangKy | DuocTiepNhan | KhongDuocTiepNhan)
}

/// Whether the table of the module documentation allows `from` → `to`.
pub fn may_follow(from: TrangThaiHoSo, to: TrangThaiHoSo) -> bool {
    use TrangThaiHoSo::*;
    match to {
        MoiDangKy => false,
        DuocTiepNhan | KhongDuocTiepNhan => from == MoiDangKy,
        DangXuLy => matches!(from, DuocTiepNhan | DangXuLy | YeuCauBoSung | YeuCauNghiaVuTaiChinh),
        YeuCauBoSung => matches!(from, DuocTiepNhan | DangXuLy | YeuCauNghiaVuTaiChinh),
        YeuCauNghiaVuTaiChinh => matches!(from, DuocTiepNhan | DangXuLy | YeuCauBoSung),
        RutHoSo | DungXuLy => !from.is_final(),
        DaXuLyXong => matches!(from, DuocTiepNhan | DangXuLy | YeuCauBoSung | YeuCauNghiaVuTaiChinh),
        DaTraKetQua => from == DaXuLyXong,
    }
}

/// Checks whether `next` may follow the dossier's latest accepted state
/// (`None` when the dossier has none yet). Pure: the caller stores
/// [`Progress::of`]`(next)` after [`Transition::Applied`].
pub fn check(current: Option<&Progress>, next: &StatusEvent) -> Result<Transition, LifecycleError> {
    let Some(cur) = current else {
        return if may_start(next.status) {
            Ok(Transition::Applied)
        } else {
            Err(LifecycleError::FirstStatusInvalid { to: next.status })
        };
    };
    let (from, to) = (cur.status, next.status);
    if cur.is_same_event(next) {
        return Ok(Transition::Duplicate);
    }
    if next.at < cur.at {
        return Err(LifecycleError::TimeBeforePrevious { from, from_at: cur.at, to, at: next.at });
    }
    if from == to && next.at == cur.at && to != TrangThaiHoSo::DangXuLy {
        return Err(LifecycleError::ConflictingDuplicate { status: to, at: next.at });
    }
    if may_follow(from, to) {
        Ok(Transition::Applied)
    } else if from.is_final() {
        Err(LifecycleError::AfterFinal { from, to })
    } else {
        Err(LifecycleError::TransitionImpossible { from, to })
    }
}

/// Checks a whole history in order, skipping exact duplicates of the event before.
/// Returns the final state (`None` for no events), or the index of the first
/// refused event with the reason.
pub fn replay(events: &[StatusEvent]) -> Result<Option<Progress>, (usize, LifecycleError)> {
    let mut current = None;
    for (i, e) in events.iter().enumerate() {
        match check(current.as_ref(), e).map_err(|err| (i, err))? {
            Transition::Applied => current = Some(Progress::of(e)),
            Transition::Duplicate => {}
        }
    }
    Ok(current)
}

/// Which party of a cross-agency dossier reports a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reporter {
    /// The portal that sent the dossier (the one-stop shop facing the citizen).
    Sender,
    /// The agency that decides the dossier (a ministry system).
    TargetAgency,
}

impl Reporter {
    /// Who reports `status` (see the module documentation).
    pub fn of(status: TrangThaiHoSo) -> Self {
        use TrangThaiHoSo::*;
        match status {
            MoiDangKy | DuocTiepNhan | KhongDuocTiepNhan | RutHoSo | DaTraKetQua => Self::Sender,
            DangXuLy | YeuCauBoSung | YeuCauNghiaVuTaiChinh | DungXuLy | DaXuLyXong => Self::TargetAgency,
        }
    }

    /// A short label, stable enough for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sender => "sender",
            Self::TargetAgency => "target_agency",
        }
    }
}

/// Whether `role` may post `status`: the sender reports 1, 2, 3, 7 and 10, the
/// target agency 4, 5, 6, 8 and 9.
pub fn may_post(role: Reporter, status: TrangThaiHoSo) -> bool {
    Reporter::of(status) == role
}

#[cfg(test)]
mod tests;
