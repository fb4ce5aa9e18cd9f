//! The look-ups the Justice adapter offers, answered from the status polls and
//! normalised into one JSON shape whatever the service.

use schemas::{MaHoSo, StatusEvent};
use serde_json::{json, Value};

use super::encode::Service;
use super::MojAdapter;
use crate::{Adapter, LookupError, LookupRequest, LookupSpec};

/// The look-ups, each keyed by a dossier code (`MaHoSo`).
pub(crate) const LOOKUPS: &[LookupSpec] = &[
    LookupSpec {
        name: "civil-status",
        required: &["code"],
        description: "a civil-status (hộ tịch) dossier's state and history at the Ministry of Justice",
    },
    LookupSpec {
        name: "judicial-record",
        required: &["code"],
        description: "a judicial-record (lý lịch tư pháp) request's state and history at the Ministry of Justice",
    },
    LookupSpec {
        name: "dossier",
        required: &["code"],
        description: "a dossier's state and history in whichever Justice service holds it",
    },
];

/// The dossier code parameter; the error names the parameter, never its value.
fn code_param(params: &[(String, String)]) -> Result<MaHoSo, LookupError> {
    let value = params.iter().find(|(k, _)| k == "code").map(|(_, v)| v.trim());
    value.and_then(|v| MaHoSo::parse(v).ok()).ok_or_else(|| LookupError::BadRequest("code".into()))
}

/// Answers a look-up: the first service (in [`Service::ALL`] order) that holds the
/// dossier, or [`LookupError::NotFound`] when none does.
pub(crate) async fn answer(adapter: &MojAdapter, request: &LookupRequest<'_>) -> Result<Value, LookupError> {
    let services: &[Service] = match request.name {
        "civil-status" => &[Service::CivilStatus],
        "judicial-record" => &[Service::JudicialRecord],
        "dossier" => &Service::ALL,
        _ => return Err(LookupError::UnknownLookup),
    };
    let code = code_param(request.params)?;
    let codes = std::slice::from_ref(&code);
    let ask = |service: Service| async move {
        let events = adapter.poll_service(service, codes, request.correlation_id).await;
        (service, events)
    };
    let answers = match services {
        [one] => vec![ask(*one).await],
        _ => {
            let (a, b) = tokio::join!(ask(Service::CivilStatus), ask(Service::JudicialRecord));
            vec![a, b]
        }
    };
    let mut failure = None;
    for (service, result) in answers {
        match result {
            Ok(events) => {
                let events: Vec<StatusEvent> = events.into_iter().filter(|e| e.dossier == code).collect();
                if !events.is_empty() {
                    return Ok(normalise(adapter.agency().as_str(), service, &code, &events));
                }
            }
            Err(e) => failure = failure.or(Some(e.lookup_error())),
        }
    }
    Err(failure.unwrap_or(LookupError::NotFound))
}

/// The normalised answer: the latest state, the latest moved due date, and the
/// whole history as canonical events. `events` must not be empty.
pub fn normalise(agency: &str, service: Service, code: &MaHoSo, events: &[StatusEvent]) -> Value {
    let latest = events.iter().max_by_key(|e| e.at);
    let due = events.iter().filter(|e| e.new_due_at.is_some()).max_by_key(|e| e.at).and_then(|e| e.new_due_at);
    json!({
        "agency": agency,
        "service": service.label(),
        "code": code,
        "status": latest.map(|e| e.status.code()),
        "status_label": latest.map(|e| e.status.label()),
        "final": latest.is_some_and(|e| e.status.is_final()),
        "updated_at": latest.map(|e| e.at),
        "due_at": due,
        "history": events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{TrangThaiHoSo, VnDateTime};

    fn event(status: TrangThaiHoSo, at: &str, due: Option<&str>) -> StatusEvent {
        StatusEvent {
            new_due_at: due.map(|d| VnDateTime::parse(d).unwrap()),
            ..StatusEvent::new(
                MaHoSo::parse("000.00.31.H29-261122-0001").unwrap(),
                status,
                VnDateTime::parse(at).unwrap(),
            )
        }
    }

    #[test]
    fn the_latest_state_and_due_date_win() {
        let events = [
            event(TrangThaiHoSo::DuocTiepNhan, "20261122083000", None),
            event(TrangThaiHoSo::YeuCauBoSung, "20261123090000", Some("20261130170000")),
            event(TrangThaiHoSo::DaXuLyXong, "20261125100000", None),
        ];
        let v = normalise("moj", Service::CivilStatus, &events[0].dossier, &events);
        assert_eq!(v["status"], 9);
        assert_eq!(v["status_label"], "finished");
        assert_eq!(v["final"], true);
        assert_eq!(v["updated_at"], "2026-11-25T10:00:00+07:00");
        assert_eq!(v["due_at"], "2026-11-30T17:00:00+07:00");
        assert_eq!(v["history"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn the_code_parameter_is_required_and_checked() {
        assert_eq!(code_param(&[]), Err(LookupError::BadRequest("code".into())));
        let bad = [("code".to_owned(), "not a code".to_owned())];
        assert_eq!(code_param(&bad), Err(LookupError::BadRequest("code".into())));
        let good = [("code".to_owned(), " 000.00.31.H29-261122-0001 ".to_owned())];
        assert_eq!(code_param(&good).unwrap().as_str(), "000.00.31.H29-261122-0001");
    }
}
