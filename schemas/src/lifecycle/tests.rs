//! Tests of the status lifecycle: every allowed and refused transition, duplicates, times, reporters.

use super::*;
use crate::MaHoSo;
use TrangThaiHoSo as S;

const T0: &str = "20261122083000";

fn at(s: &str) -> VnDateTime {
    VnDateTime::parse(s).unwrap()
}

fn ev(code: u8, when: &str) -> StatusEvent {
    StatusEvent {
        handler: Some("Nguyễn Văn Bình".into()),
        department: Some("Phòng Tư pháp".into()),
        content: Some(format!("bước {code}")),
        ..StatusEvent::new(MaHoSo::parse("000.00.31.H29-261122-0001").unwrap(), S::from_code(code).unwrap(), at(when))
    }
}

fn state(code: u8, when: &str) -> Progress {
    Progress::of(&ev(code, when))
}

fn s(code: u8) -> TrangThaiHoSo {
    S::from_code(code).unwrap()
}

/// The allowed table, written out independently of `may_follow`.
fn allowed(from: u8) -> &'static [u8] {
    match from {
        1 => &[2, 3, 7, 8],
        2 => &[4, 5, 6, 7, 8, 9],
        4 => &[4, 5, 6, 7, 8, 9],
        5 => &[4, 6, 7, 8, 9],
        6 => &[4, 5, 7, 8, 9],
        9 => &[10],
        _ => &[],
    }
}

#[test]
fn first_event_may_be_1_2_or_3_only() {
    for code in 1..=10 {
        let got = check(None, &ev(code, T0));
        if [1, 2, 3].contains(&code) {
            assert_eq!(got, Ok(Transition::Applied), "{code}");
        } else {
            let e = got.unwrap_err();
            assert_eq!(e, LifecycleError::FirstStatusInvalid { to: s(code) });
            assert_eq!(e.code(), "status_first_invalid");
        }
    }
}

#[test]
fn full_table_matches_the_documented_rules() {
    for from in 1..=10u8 {
        for to in 1..=10u8 {
            let got = check(Some(&state(from, T0)), &ev(to, "20261123090000"));
            let want_ok = allowed(from).contains(&to);
            assert_eq!(got.is_ok(), want_ok, "{from} -> {to}: {got:?}");
            assert_eq!(may_follow(s(from), s(to)), want_ok, "{from} -> {to}");
            match got {
                Ok(t) => assert_eq!(t, Transition::Applied),
                Err(e) if s(from).is_final() => {
                    assert_eq!(e, LifecycleError::AfterFinal { from: s(from), to: s(to) }, "{from} -> {to}");
                    assert_eq!(e.code(), "status_after_final");
                }
                Err(e) => {
                    assert_eq!(e, LifecycleError::TransitionImpossible { from: s(from), to: s(to) });
                    assert_eq!(e.code(), "status_transition_impossible");
                }
            }
        }
    }
}

#[test]
fn closed_states_accept_nothing_and_9_only_10() {
    for from in [3, 7, 8, 10] {
        let p = state(from, T0);
        assert!(p.is_final() && p.is_closed(), "{from}");
        for to in 1..=10 {
            assert_eq!(check(Some(&p), &ev(to, "20261201000000")).unwrap_err().code(), "status_after_final");
        }
    }
    let nine = state(9, T0);
    assert!(nine.is_final() && !nine.is_closed());
    assert_eq!(check(Some(&nine), &ev(10, "20261122083001")), Ok(Transition::Applied));
    for to in 1..=9 {
        assert_eq!(check(Some(&nine), &ev(to, "20261122083001")).unwrap_err().code(), "status_after_final");
    }
    for open in [1, 2, 4, 5, 6] {
        assert!(!state(open, T0).is_final() && !state(open, T0).is_closed());
    }
}

#[test]
fn withdrawn_and_stopped_from_every_open_state() {
    for from in [1, 2, 4, 5, 6] {
        for to in [7, 8] {
            assert_eq!(check(Some(&state(from, T0)), &ev(to, "20261122090000")), Ok(Transition::Applied));
        }
    }
    assert_eq!(check(Some(&state(9, T0)), &ev(7, "20261122090000")).unwrap_err().code(), "status_after_final");
}

#[test]
fn repeated_processing_steps_are_allowed() {
    let history = vec![
        ev(1, "20261122080000"),
        ev(2, "20261122083000"),
        StatusEvent { department: Some("Phòng A".into()), ..ev(4, "20261122090000") },
        StatusEvent { department: Some("Phòng B".into()), ..ev(4, "20261123090000") },
        StatusEvent { department: Some("Phòng C".into()), ..ev(4, "20261123090000") },
        ev(5, "20261123100000"),
        ev(4, "20261124090000"),
        ev(6, "20261124100000"),
        ev(5, "20261124110000"),
        ev(9, "20261125160000"),
        ev(10, "20261125170000"),
    ];
    let last = replay(&history).unwrap().unwrap();
    assert_eq!(last, Progress::of(&history[10]));
    assert!(last.is_closed());
}

#[test]
fn supplement_and_payment_do_not_repeat_directly() {
    assert_eq!(
        check(Some(&state(5, T0)), &ev(5, "20261123000000")),
        Err(LifecycleError::TransitionImpossible { from: S::YeuCauBoSung, to: S::YeuCauBoSung })
    );
    assert!(check(Some(&state(6, T0)), &ev(6, "20261123000000")).is_err());
}

#[test]
fn exact_resend_is_a_duplicate() {
    let e = ev(4, T0);
    let p = Progress::of(&e);
    assert_eq!(check(Some(&p), &e.clone()), Ok(Transition::Duplicate));
    // Even for final states, where nothing else may follow.
    for code in [3, 7, 8, 9, 10] {
        let e = ev(code, T0);
        assert_eq!(check(Some(&Progress::of(&e)), &e), Ok(Transition::Duplicate), "{code}");
    }
    // A history with a re-sent event replays to the same state.
    let h = vec![ev(2, T0), ev(4, "20261122090000"), ev(4, "20261122090000"), ev(9, "20261122100000")];
    assert_eq!(replay(&h).unwrap(), Some(Progress::of(&h[3])));
}

#[test]
fn same_status_and_time_with_other_content_conflicts() {
    let p = state(2, T0);
    let other = StatusEvent { content: Some("sửa".into()), ..ev(2, T0) };
    let e = check(Some(&p), &other).unwrap_err();
    assert_eq!(e, LifecycleError::ConflictingDuplicate { status: S::DuocTiepNhan, at: at(T0) });
    assert_eq!(e.code(), "status_conflicting_duplicate");
    assert!(!e.to_string().contains("sửa"));
    // Every field counts as content.
    let fields: Vec<StatusEvent> = vec![
        StatusEvent { handler: None, ..ev(9, T0) },
        StatusEvent { handler_title: Some("Chuyên viên".into()), ..ev(9, T0) },
        StatusEvent { department: None, ..ev(9, T0) },
        StatusEvent { started_at: Some(at(T0)), ..ev(9, T0) },
        StatusEvent { step_due_at: Some(at(T0)), ..ev(9, T0) },
        StatusEvent { new_due_at: Some(at(T0)), ..ev(9, T0) },
        StatusEvent { dossier: MaHoSo::parse("000.00.31.H29-261122-0002").unwrap(), ..ev(9, T0) },
    ];
    for f in &fields {
        assert_eq!(check(Some(&state(9, T0)), f).unwrap_err().code(), "status_conflicting_duplicate");
    }
    // 4 repeats: another department's step in the same second is new.
    let other4 = StatusEvent { department: Some("Phòng khác".into()), ..ev(4, T0) };
    assert_eq!(check(Some(&state(4, T0)), &other4), Ok(Transition::Applied));
}

#[test]
fn earlier_time_is_refused_equal_time_is_accepted() {
    let p = state(2, "20261122083000");
    let e = check(Some(&p), &ev(4, "20261122082959")).unwrap_err();
    assert_eq!(
        e,
        LifecycleError::TimeBeforePrevious {
            from: S::DuocTiepNhan,
            from_at: at("20261122083000"),
            to: S::DangXuLy,
            at: at("20261122082959")
        }
    );
    assert_eq!(e.code(), "status_time_before_previous");
    assert_eq!(check(Some(&p), &ev(4, "20261122083000")), Ok(Transition::Applied));
    // Instants, not wall-clock text: 01:29:59Z is 08:29:59 in Vietnam.
    assert!(check(Some(&p), &ev(4, "2026-11-22T01:29:59Z")).is_err());
    assert!(check(Some(&p), &ev(4, "2026-11-22T01:30:00Z")).is_ok());
    // Stale wins over impossible: an out-of-order arrival is reported as such.
    let e = check(Some(&state(10, T0)), &ev(4, "20261101000000")).unwrap_err();
    assert_eq!(e.code(), "status_time_before_previous");
}

#[test]
fn replay_reports_the_first_refused_index() {
    let h = vec![ev(2, T0), ev(4, "20261122090000"), ev(10, "20261122100000"), ev(9, "20261122110000")];
    let (i, e) = replay(&h).unwrap_err();
    assert_eq!(i, 2);
    assert_eq!(e, LifecycleError::TransitionImpossible { from: S::DangXuLy, to: S::DaTraKetQua });
    assert_eq!(replay(&[]).unwrap(), None);
    assert_eq!(replay(&[ev(4, T0)]).unwrap_err().0, 0);
}

#[test]
fn messages_name_both_states_in_vietnamese_with_codes() {
    let e = check(Some(&state(2, T0)), &ev(10, "20261123000000")).unwrap_err();
    assert_eq!(e.to_string(), "cannot go from 2 (được tiếp nhận) to 10 (đã trả kết quả)");
    let e = check(Some(&state(9, T0)), &ev(4, "20261123000000")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot go from 9 (đã xử lý xong) to 4 (đang xử lý): after 9 only 10 (đã trả kết quả) may follow"
    );
    let e = check(Some(&state(3, T0)), &ev(2, "20261123000000")).unwrap_err();
    assert_eq!(e.to_string(), "cannot go from 3 (không được tiếp nhận) to 2 (được tiếp nhận): 3 is a final state");
    let e = check(None, &ev(9, T0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a dossier's first status must be 1 (mới đăng ký), 2 (được tiếp nhận) or 3 (không được tiếp nhận), \
         not 9 (đã xử lý xong)"
    );
    let e = check(Some(&state(9, T0)), &ev(10, "20261122000000")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot go from 9 (đã xử lý xong) at 2026-11-22T08:30:00+07:00 to 10 (đã trả kết quả) at \
         2026-11-22T00:00:00+07:00: the event is dated before the last accepted one"
    );
    // No free text (handler names, content) ever appears.
    let other = StatusEvent { content: Some("bước khác".into()), ..ev(2, T0) };
    let msgs = [e.to_string(), check(Some(&state(2, T0)), &other).unwrap_err().to_string()];
    for msg in msgs {
        assert!(!msg.contains("Bình") && !msg.contains("Phòng") && !msg.contains("bước"), "{msg}");
    }
}

#[test]
fn every_status_has_a_vietnamese_name() {
    let names: Vec<&str> = S::ALL.iter().map(|s| s.name_vi()).collect();
    assert_eq!(names[8], "đã xử lý xong");
    assert_eq!(names[6], "công dân yêu cầu rút hồ sơ");
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    assert_eq!(Named(S::YeuCauBoSung).to_string(), "5 (yêu cầu bổ sung giấy tờ)");
}

#[test]
fn reporters_split_the_statuses() {
    let of = |r: Reporter| -> Vec<u8> { S::ALL.iter().filter(|s| may_post(r, **s)).map(|s| s.code()).collect() };
    assert_eq!(of(Reporter::Sender), vec![1, 2, 3, 7, 10]);
    assert_eq!(of(Reporter::TargetAgency), vec![4, 5, 6, 8, 9]);
    for st in S::ALL {
        assert_ne!(may_post(Reporter::Sender, st), may_post(Reporter::TargetAgency, st), "{st:?}");
        assert!(may_post(Reporter::of(st), st));
    }
    assert_eq!(Reporter::Sender.label(), "sender");
    assert_eq!(Reporter::TargetAgency.label(), "target_agency");
}

#[test]
fn a_normal_history_alternates_reporters_as_expected() {
    // Sender registers and receives; the ministry processes and finishes; the
    // sender returns the result.
    let h = [1, 2, 4, 5, 4, 9, 10];
    let who: Vec<Reporter> = h.iter().map(|c| Reporter::of(s(*c))).collect();
    use Reporter::{Sender as P, TargetAgency as M};
    assert_eq!(who, vec![P, P, M, M, M, M, P]);
}
