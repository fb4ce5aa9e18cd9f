//! On-time and late dossiers, by the DVCQG rule: a dossier is resolved on time
//! when it finished no later than its due date (`NgayKetThucXuLy <= NgayHenTra`).
//!
//! # Rules
//!
//! - Comparison is on instants, to the nanosecond, never on calendar days: a
//!   dossier due `2026-11-25 17:00:00` (Vietnam time) and finished
//!   `2026-11-25T10:00:00Z` (17:00 in Vietnam) is on time; finished one second
//!   later it is late. Dates without an offset are Vietnam time
//!   ([`VnDateTime::parse`]), so the zone a system writes its dates in never
//!   changes the verdict. A due date given as a bare date (`2026-11-25`) means
//!   local midnight at the start of that day, as everywhere in Lienthong.
//! - Finished at the due instant exactly is on time (`<=`); an open dossier
//!   looked at exactly at its due instant is still within time.
//! - The finish time is the time of the event that finished processing: the
//!   first 9 (đã xử lý xong), or the first 3, 7 or 8 if the dossier ended that
//!   way. A 10 (đã trả kết quả) after a 9 does not move it: returning the result
//!   is not processing. A 10 with no 9 before it (a history that skipped 9)
//!   finishes at the 10's time. Events after the finishing event are ignored.
//! - The effective due date is the dossier's `NgayHenTra`, replaced by each
//!   `NgayHenTraMoi` ([`StatusEvent::new_due_at`]) in event order: the most
//!   recently announced due date wins, even if it is earlier than a previous
//!   one (the agency corrected it). Only events in open states (1, 2, 4, 5, 6)
//!   before the finishing event may move it: a due date cannot be moved by the
//!   very event that finishes, or once the dossier is finished.
//! - Events are taken in the order given, which is the order they were accepted
//!   ([`crate::lifecycle::check`] keeps their times non-decreasing); they are
//!   all assumed to belong to the one dossier.

use crate::{StatusEvent, TrangThaiHoSo, VnDateTime};

/// Where a dossier stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeliness {
    /// Finished no later than the due date.
    OnTime,
    /// Finished after the due date.
    Late,
    /// Still open, and the due date has not passed.
    WithinTime,
    /// Still open, and the due date has passed.
    Overdue,
}

impl Timeliness {
    /// Whether the dossier is finished (on time or late).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::OnTime | Self::Late)
    }

    /// Whether the due date was (or, for an open dossier, has been) missed.
    pub fn is_late(self) -> bool {
        matches!(self, Self::Late | Self::Overdue)
    }

    /// A short label, stable enough for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::OnTime => "on_time",
            Self::Late => "late",
            Self::WithinTime => "within_time",
            Self::Overdue => "overdue",
        }
    }
}

/// Classifies a dossier due at `due`: finished at `finished_at`, or open at `now`
/// (`now` is ignored once the dossier is finished).
pub fn classify(due: &VnDateTime, finished_at: Option<&VnDateTime>, now: &VnDateTime) -> Timeliness {
    match finished_at {
        Some(f) if f <= due => Timeliness::OnTime,
        Some(_) => Timeliness::Late,
        None if now <= due => Timeliness::WithinTime,
        None => Timeliness::Overdue,
    }
}

/// A dossier's effective due date and finish, derived from its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// The effective due date: `NgayHenTra`, or the latest `NgayHenTraMoi`.
    pub due: VnDateTime,
    /// When processing finished, if it has.
    pub finished_at: Option<VnDateTime>,
    /// The status that finished it (3, 7, 8, 9, or 10 when no 9 came first).
    pub finished_with: Option<TrangThaiHoSo>,
}

impl Schedule {
    /// [`classify`] with this schedule's due date and finish.
    pub fn classify(&self, now: &VnDateTime) -> Timeliness {
        classify(&self.due, self.finished_at.as_ref(), now)
    }
}

/// Derives the effective due date and the finish from the dossier's due date
/// (`NgayHenTra`) and its events in accepted order (see the module rules).
pub fn schedule(due: &VnDateTime, events: &[StatusEvent]) -> Schedule {
    let mut out = Schedule { due: *due, finished_at: None, finished_with: None };
    for e in events {
        if e.status.is_final() {
            out.finished_at = Some(e.at);
            out.finished_with = Some(e.status);
            break;
        }
        if let Some(moved) = e.new_due_at {
            out.due = moved;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MaHoSo;
    use Timeliness::*;

    fn t(s: &str) -> VnDateTime {
        VnDateTime::parse(s).unwrap()
    }

    fn ev(code: u8, at: &str) -> StatusEvent {
        StatusEvent::new(
            MaHoSo::parse("000.00.31.H29-261122-0001").unwrap(),
            TrangThaiHoSo::from_code(code).unwrap(),
            t(at),
        )
    }

    fn moving(code: u8, at: &str, due: &str) -> StatusEvent {
        StatusEvent { new_due_at: Some(t(due)), ..ev(code, at) }
    }

    fn finished(due: &str, at: &str) -> Timeliness {
        classify(&t(due), Some(&t(at)), &t("2100-01-01 00:00:00"))
    }

    fn open(due: &str, now: &str) -> Timeliness {
        classify(&t(due), None, &t(now))
    }

    #[test]
    fn the_documented_example() {
        let due = "2026-11-25 17:00:00";
        assert_eq!(finished(due, "2026-11-25T10:00:00Z"), OnTime);
        assert_eq!(finished(due, "2026-11-25T10:00:01Z"), Late);
        assert_eq!(finished(due, "2026-11-25T09:59:59.999Z"), OnTime);
        assert_eq!(finished(due, "2026-11-25T10:00:00.001Z"), Late);
        assert_eq!(finished(due, "20261125170000"), OnTime);
        assert_eq!(finished(due, "20261125170001"), Late);
    }

    #[test]
    fn open_dossiers_against_now() {
        let due = "2026-11-25 17:00:00";
        assert_eq!(open(due, "2026-11-25T10:00:00Z"), WithinTime);
        assert_eq!(open(due, "2026-11-25T10:00:01Z"), Overdue);
        assert_eq!(open(due, "2026-11-01 00:00:00"), WithinTime);
        assert_eq!(open(due, "2027-01-01 00:00:00"), Overdue);
        // `now` does not matter once finished.
        assert_eq!(classify(&t(due), Some(&t("20261124000000")), &t("20301231000000")), OnTime);
        assert_eq!(classify(&t(due), Some(&t("20261126000000")), &t("20261101000000")), Late);
    }

    #[test]
    fn offsets_are_instants_not_wall_clocks() {
        let due = "2026-11-25T17:00:00+07:00";
        for same in ["2026-11-25 17:00:00", "20261125170000", "2026-11-25T10:00:00Z", "2026-11-25T05:00:00-05:00"] {
            assert_eq!(finished(due, same), OnTime, "{same}");
        }
        // 17:00 written with a Z is 00:00 the next day in Vietnam: late.
        assert_eq!(finished(due, "2026-11-25T17:00:00Z"), Late);
        // 17:00 at +09:00 is 15:00 in Vietnam: on time.
        assert_eq!(finished(due, "2026-11-25T17:00:00+09:00"), OnTime);
        // A due date written in UTC compares the same way.
        assert_eq!(finished("2026-11-25T10:00:00Z", "20261125170000"), OnTime);
        assert_eq!(finished("2026-11-25T10:00:00Z", "20261125170001"), Late);
    }

    #[test]
    fn due_at_local_midnight_with_utc_events_on_the_previous_date() {
        // Due 1 December, 00:00 in Vietnam = 30 November, 17:00 UTC.
        for due in ["2026-12-01", "20261201000000", "2026-11-30T17:00:00Z"] {
            assert_eq!(finished(due, "2026-11-30T17:00:00Z"), OnTime, "{due}");
            assert_eq!(finished(due, "2026-11-30T17:00:01Z"), Late, "{due}");
            assert_eq!(finished(due, "2026-11-30 23:59:59"), OnTime, "{due}");
            // The UTC date is still 30 November, yet this is after the due instant.
            assert_eq!(finished(due, "2026-11-30T20:00:00Z"), Late, "{due}");
            // The Vietnam date is 1 December, yet this is before it by the clock in UTC-10.
            assert_eq!(finished(due, "2026-11-30T06:59:59-10:00"), OnTime, "{due}");
            assert_eq!(open(due, "2026-11-30T16:59:59Z"), WithinTime);
            assert_eq!(open(due, "2026-12-01T00:00:01+07:00"), Overdue);
        }
    }

    #[test]
    fn end_of_month_and_year() {
        assert_eq!(finished("2026-04-30 17:00:00", "2026-04-30T23:59:59+07:00"), Late);
        assert_eq!(finished("2026-04-30 17:00:00", "2026-04-30T09:00:00Z"), OnTime);
        assert_eq!(finished("2026-05-01", "2026-04-30T16:59:59Z"), OnTime);
        assert_eq!(finished("2026-05-01", "2026-04-30T17:00:01Z"), Late);
        // New Year's Eve: 18:00 UTC on 31 December is 01:00 on 1 January in Vietnam.
        assert_eq!(finished("2026-12-31 23:59:59", "2026-12-31T16:59:59Z"), OnTime);
        assert_eq!(finished("2026-12-31 23:59:59", "2026-12-31T18:00:00Z"), Late);
        assert_eq!(finished("20270101000000", "2026-12-31T17:00:00Z"), OnTime);
        assert_eq!(open("20270101000000", "2026-12-31T17:00:01Z"), Overdue);
    }

    #[test]
    fn leap_day() {
        let due = "2028-02-29 17:00:00";
        assert_eq!(finished(due, "2028-02-29T10:00:00Z"), OnTime);
        assert_eq!(finished(due, "20280229170001"), Late);
        // 22:00 in Vietnam, written as 10:00 in UTC-5.
        assert_eq!(finished(due, "2028-02-29T10:00:00-05:00"), Late);
        // Midnight starting the leap day, from UTC on the 28th.
        assert_eq!(finished("2028-02-29", "2028-02-28T17:00:00Z"), OnTime);
        assert_eq!(finished("2028-02-29", "2028-02-28T17:00:01Z"), Late);
        // Due the day after the leap day.
        assert_eq!(finished("2028-03-01", "2028-02-29T16:59:59Z"), OnTime);
        assert_eq!(open("2028-03-01", "2028-02-29T17:00:01Z"), Overdue);
    }

    #[test]
    fn normal_completion_finishes_at_the_9_not_the_10() {
        let due = t("2026-11-25 17:00:00");
        let h = [ev(2, "20261122083000"), ev(4, "20261123090000"), ev(9, "20261125160000"), ev(10, "20261127090000")];
        let s = schedule(&due, &h);
        assert_eq!(s.finished_at, Some(t("20261125160000")));
        assert_eq!(s.finished_with, Some(TrangThaiHoSo::DaXuLyXong));
        assert_eq!(s.due, due);
        assert_eq!(s.classify(&t("20261201000000")), OnTime);
        // Finished late, returned whenever.
        let h = [ev(2, "20261122083000"), ev(9, "2026-11-25T10:00:01Z"), ev(10, "20261125170500")];
        assert_eq!(schedule(&due, &h).classify(&t("20261201000000")), Late);
    }

    #[test]
    fn ended_by_3_7_or_8_finishes_at_that_event() {
        let due = t("2026-11-25 17:00:00");
        for code in [3, 7, 8] {
            let first = if code == 3 { 1 } else { 2 };
            let h = [ev(first, "20261122083000"), ev(code, "20261126090000")];
            let s = schedule(&due, &h);
            assert_eq!(s.finished_at, Some(t("20261126090000")), "{code}");
            assert_eq!(s.finished_with.map(TrangThaiHoSo::code), Some(code));
            assert_eq!(s.classify(&t("20261101000000")), Late);
            let h = [ev(first, "20261122083000"), ev(code, "20261124090000")];
            assert_eq!(schedule(&due, &h).classify(&t("20300101000000")), OnTime);
        }
    }

    #[test]
    fn a_10_without_a_9_finishes_at_the_10() {
        let due = t("2026-11-25 17:00:00");
        let s = schedule(&due, &[ev(2, "20261122083000"), ev(10, "20261125180000")]);
        assert_eq!(s.finished_at, Some(t("20261125180000")));
        assert_eq!(s.finished_with, Some(TrangThaiHoSo::DaTraKetQua));
        assert_eq!(s.classify(&t("20261101000000")), Late);
    }

    #[test]
    fn open_dossiers_have_no_finish() {
        let due = t("2026-11-25 17:00:00");
        let s = schedule(&due, &[ev(2, "20261122083000"), ev(4, "20261123090000"), ev(5, "20261124090000")]);
        assert_eq!((s.finished_at, s.finished_with), (None, None));
        assert_eq!(s.classify(&t("2026-11-25T10:00:00Z")), WithinTime);
        assert_eq!(s.classify(&t("2026-11-25T10:00:01Z")), Overdue);
        assert_eq!(schedule(&due, &[]), Schedule { due, finished_at: None, finished_with: None });
    }

    #[test]
    fn a_supplement_request_moves_the_due_date() {
        let due = t("2026-11-25 17:00:00");
        let h = [
            ev(2, "20261122083000"),
            moving(5, "20261123090000", "2026-11-30 17:00:00"),
            ev(4, "20261127090000"),
            ev(9, "20261129100000"),
        ];
        let s = schedule(&due, &h);
        assert_eq!(s.due, t("20261130170000"));
        assert_eq!(s.classify(&t("20301231000000")), OnTime, "late by the first due date, on time by the new one");
        // Open, past the original due date but within the new one.
        assert_eq!(schedule(&due, &h[..3]).classify(&t("20261128000000")), WithinTime);
        assert_eq!(schedule(&due, &h[..3]).classify(&t("2026-11-30T10:00:01Z")), Overdue);
    }

    #[test]
    fn the_most_recent_announced_due_date_wins() {
        let due = t("2026-11-25 17:00:00");
        let h = [
            ev(2, "20261122083000"),
            moving(5, "20261123090000", "2026-12-05 17:00:00"),
            ev(4, "20261124090000"),
            moving(6, "20261124100000", "2026-12-10 17:00:00"),
            ev(4, "20261125090000"),
            moving(5, "20261126090000", "2026-12-02 17:00:00"),
        ];
        assert_eq!(schedule(&due, &h).due, t("20261202170000"));
        assert_eq!(schedule(&due, &h[..5]).due, t("20261210170000"));
        assert_eq!(schedule(&due, &h[..3]).due, t("20261205170000"));
    }

    #[test]
    fn finishing_events_and_later_events_cannot_move_the_due_date() {
        let due = t("2026-11-25 17:00:00");
        let h = [
            ev(2, "20261122083000"),
            moving(9, "20261126090000", "2026-11-30 17:00:00"),
            moving(10, "20261126100000", "2026-11-30 17:00:00"),
        ];
        let s = schedule(&due, &h);
        assert_eq!(s.due, due);
        assert_eq!(s.classify(&t("20261127000000")), Late);
        for code in [3, 7, 8] {
            let s = schedule(&due, &[ev(2, "20261122083000"), moving(code, "20261126090000", "20261130170000")]);
            assert_eq!((s.due, s.classify(&t("20261127000000"))), (due, Late), "{code}");
        }
    }

    #[test]
    fn labels_and_predicates() {
        let all = [OnTime, Late, WithinTime, Overdue];
        let labels: Vec<&str> = all.iter().map(|t| t.label()).collect();
        assert_eq!(labels, vec!["on_time", "late", "within_time", "overdue"]);
        let finished: Vec<bool> = all.iter().map(|t| t.is_finished()).collect();
        assert_eq!(finished, vec![true, true, false, false]);
        let late: Vec<bool> = all.iter().map(|t| t.is_late()).collect();
        assert_eq!(late, vec![false, true, false, true]);
    }
}
