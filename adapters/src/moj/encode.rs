//! Canonical to wire: the civil-status push, the judicial-record push and the
//! status polls of both services.
//!
//! Pure functions, golden-tested. Optional values are written as "". Files travel
//! inline only: the ministry stores them and cannot fetch a portal's download URL,
//! so an attachment without `content_base64` cannot be expressed and is refused.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use schemas::{Attachment, CivilStatus, Dossier, JudicialRecordRequest, MaHoSo, Payload, PayloadKind};
use serde::{Deserialize, Serialize};

use super::wire::{
    wire_date, wire_date_time, CuTru, FileDinhKem, FileHoSo, HoTichRequest, HoTichStatusRequest, KhaiSinh, KhaiTu,
    LltpRequest, LltpStatusRequest, ToKhai, HOTICH_PUSH_PATH, HOTICH_STATUS_PATH, LLTP_PUSH_PATH, LLTP_STATUS_PATH,
    MODULE_BIRTH, MODULE_DEATH,
};
use crate::EncodeError;

/// The two services behind the Justice adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Civil status (hộ tịch): birth and death registration.
    CivilStatus,
    /// Judicial records (lý lịch tư pháp): certificate requests.
    JudicialRecord,
}

impl Service {
    /// Both services, in the order status polls ask them.
    pub const ALL: [Service; 2] = [Self::CivilStatus, Self::JudicialRecord];

    /// A short name for logs and look-up answers: `civil_status` or `judicial_record`.
    pub fn label(self) -> &'static str {
        match self {
            Self::CivilStatus => "civil_status",
            Self::JudicialRecord => "judicial_record",
        }
    }

    /// Where dossiers of this service are pushed.
    pub fn push_path(self) -> &'static str {
        match self {
            Self::CivilStatus => HOTICH_PUSH_PATH,
            Self::JudicialRecord => LLTP_PUSH_PATH,
        }
    }

    /// Where status updates of this service are polled.
    pub fn status_path(self) -> &'static str {
        match self {
            Self::CivilStatus => HOTICH_STATUS_PATH,
            Self::JudicialRecord => LLTP_STATUS_PATH,
        }
    }
}

fn error(reason: impl Into<String>) -> EncodeError {
    EncodeError { agency: "moj".into(), reason: reason.into() }
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_owned()
}

/// The service that decides a dossier, from its payload.
pub fn service_of(d: &Dossier) -> Result<Service, EncodeError> {
    match &d.payload {
        Some(Payload::CivilStatus(_)) => Ok(Service::CivilStatus),
        Some(Payload::JudicialRecord(_)) => Ok(Service::JudicialRecord),
        Some(other) => Err(error(format!(
            "payload {} is not decided by the ministry of justice (civil_status or judicial_record)",
            other.kind().config_name()
        ))),
        None => Err(error(format!(
            "the dossier carries no payload; the ministry of justice needs {} or {}",
            PayloadKind::CivilStatus.config_name(),
            PayloadKind::JudicialRecord.config_name()
        ))),
    }
}

/// An attachment's content as sent: standard base64, whitespace removed, checked.
/// Reasons give the attachment's position, never its name (names can hold personal data).
fn inline_content(position: usize, a: &Attachment) -> Result<String, EncodeError> {
    let content: String = a.content_base64.as_deref().unwrap_or_default().split_ascii_whitespace().collect();
    check_content(position, &content)?;
    Ok(content)
}

/// The check of [`inline_content`] on content without whitespace.
fn check_content(position: usize, content: &str) -> Result<(), EncodeError> {
    if content.is_empty() {
        return Err(error(format!(
            "attachment {position} has no inline content (content_base64); \
             the ministry of justice takes files only inline"
        )));
    }
    STANDARD
        .decode(content)
        .map_err(|_| error(format!("attachment {position}: content_base64 is not standard base64")))?;
    Ok(())
}

/// The check of [`inline_content`], copying the content only when it holds
/// whitespace (canonical dossiers hold none).
fn check_attachment(position: usize, a: &Attachment) -> Result<(), EncodeError> {
    let content = a.content_base64.as_deref().unwrap_or_default();
    if content.bytes().any(|b| b.is_ascii_whitespace()) {
        inline_content(position, a).map(drop)
    } else {
        check_content(position, content)
    }
}

/// Whether the dossier's push can be encoded: `Err`, with the same reason,
/// exactly when [`encode_civil_status`] or [`encode_judicial_record`] would
/// fail, without building the body. Only the service and the attachments can
/// make them fail.
pub fn check(d: &Dossier) -> Result<Service, EncodeError> {
    let service = service_of(d)?;
    d.files.iter().enumerate().try_for_each(|(i, a)| check_attachment(i + 1, a))?;
    Ok(service)
}

/// The document's title: the file name without its extension.
fn title(name: &str) -> String {
    let name = name.trim();
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.trim().is_empty() => stem.trim().to_owned(),
        _ => name.to_owned(),
    }
}

fn civil_files(d: &Dossier) -> Result<Vec<FileDinhKem>, EncodeError> {
    let file = |(i, a): (usize, &Attachment)| -> Result<FileDinhKem, EncodeError> {
        Ok(FileDinhKem {
            id: a
                .id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map_or_else(|| (i + 1).to_string(), str::to_owned),
            loai_giay_to: text(&a.component_code),
            ten_giay_to: title(&a.name),
            ten_tep_dinh_kem: a.name.trim().to_owned(),
            du_lieu_tep_dinh_kem: inline_content(i + 1, a)?,
        })
    };
    d.files.iter().enumerate().map(file).collect()
}

/// The JSON string carried in `data`, and its module.
fn record(d: &Dossier, civil: &CivilStatus) -> Result<(&'static str, String), EncodeError> {
    let o = &d.owner;
    let json = match civil {
        CivilStatus::Birth(b) => serde_json::to_string(&KhaiSinh {
            ho_ten: b.full_name.clone(),
            ngay_sinh: wire_date(&b.birth_date),
            gioi_tinh: b.sex.code(),
            noi_sinh: b.birth_place.clone(),
            dan_toc: text(&b.ethnicity),
            quoc_tich: b.nationality.clone(),
            ho_ten_cha: text(&b.father_name),
            ho_ten_me: text(&b.mother_name),
            nyc_ho_ten: o.name.clone(),
            nyc_so_giay_to: text(&o.id_number),
            nyc_so_dien_thoai: text(&o.phone),
            nyc_email: text(&o.email),
        }),
        CivilStatus::Death(x) => serde_json::to_string(&KhaiTu {
            ho_ten: x.full_name.clone(),
            so_giay_to: text(&x.id_number),
            ngay_chet: wire_date_time(&x.death_date),
            noi_chet: x.death_place.clone(),
            nguyen_nhan: text(&x.cause),
            nyc_ho_ten: o.name.clone(),
            nyc_so_giay_to: text(&o.id_number),
            nyc_so_dien_thoai: text(&o.phone),
            nyc_email: text(&o.email),
        }),
    };
    let module = if matches!(civil, CivilStatus::Birth(_)) { MODULE_BIRTH } else { MODULE_DEATH };
    Ok((module, json.map_err(|e| error(e.to_string()))?))
}

/// The civil-status push of a dossier; `reference` is the gateway's delivery
/// reference (`maHoSoLT`, the idempotency key).
pub fn civil_status_request(d: &Dossier, unit_code: &str, reference: &str) -> Result<HoTichRequest, EncodeError> {
    let Some(Payload::CivilStatus(civil)) = &d.payload else {
        return Err(error("the dossier carries no civil_status payload"));
    };
    let (module, data) = record(d, civil)?;
    Ok(HoTichRequest {
        ma_don_vi: unit_code.to_owned(),
        module: module.to_owned(),
        ma_ho_so_lt: reference.to_owned(),
        ma_ho_so_mcdt: d.code.to_string(),
        ngay_tiep_nhan: wire_date_time(&d.received_at),
        data,
        file_dinh_kem: civil_files(d)?,
    })
}

/// The exact `POST /api/hotich/tiepnhan` body.
pub fn encode_civil_status(d: &Dossier, unit_code: &str, reference: &str) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(&civil_status_request(d, unit_code, reference)?).map_err(|e| error(e.to_string()))
}

fn to_khai(d: &Dossier, r: &JudicialRecordRequest) -> Result<ToKhai, EncodeError> {
    let files =
        d.files.iter().enumerate().map(|(i, a)| {
            Ok(FileHoSo { ten_file: a.name.trim().to_owned(), noi_dung_file: inline_content(i + 1, a)? })
        });
    Ok(ToKhai {
        ho_ten: r.full_name.clone(),
        ngay_sinh: wire_date(&r.birth_date),
        gioi_tinh: r.sex.code(),
        noi_sinh: r.birth_place.clone(),
        quoc_tich: r.nationality.clone(),
        so_giay_to: r.id_number.clone(),
        noi_thuong_tru: r.permanent_residence.clone(),
        muc_dich_su_dung: r.purpose.clone(),
        loai_phieu: r.form,
        qua_trinh_cu_tru: r
            .residence_history
            .iter()
            .map(|p| CuTru {
                tu_ngay: wire_date(&p.from),
                den_ngay: p.to.as_ref().map(wire_date).unwrap_or_default(),
                noi_cu_tru: p.place.clone(),
            })
            .collect(),
        file_ho_so: files.collect::<Result<_, EncodeError>>()?,
    })
}

/// The judicial-record push of a dossier; `auth_key` is "" until the client sends it.
pub fn judicial_record_request(d: &Dossier, province_code: &str, auth_key: &str) -> Result<LltpRequest, EncodeError> {
    let Some(Payload::JudicialRecord(r)) = &d.payload else {
        return Err(error("the dossier carries no judicial_record payload"));
    };
    Ok(LltpRequest {
        auth_key: auth_key.to_owned(),
        ma_tinh: province_code.to_owned(),
        ma_ho_so_mcdt: d.code.to_string(),
        ngay_tiep_nhan: wire_date_time(&d.received_at),
        to_khai: to_khai(d, r)?,
    })
}

/// The exact `POST /api/lltp/tiepnhan` body.
pub fn encode_judicial_record(d: &Dossier, province_code: &str, auth_key: &str) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(&judicial_record_request(d, province_code, auth_key)?).map_err(|e| error(e.to_string()))
}

/// The exact `POST /api/hotich/trangthai` body for some codes (at most
/// [`MAX_CODES_PER_POLL`](super::wire::MAX_CODES_PER_POLL); the client splits longer lists).
pub fn encode_civil_status_poll(codes: &[MaHoSo], unit_code: &str) -> Result<Vec<u8>, EncodeError> {
    let body = HoTichStatusRequest {
        ma_don_vi: unit_code.to_owned(),
        ds_ma_ho_so: codes.iter().map(ToString::to_string).collect(),
    };
    serde_json::to_vec(&body).map_err(|e| error(e.to_string()))
}

/// The exact `POST /api/lltp/trangthai` body for some codes.
pub fn encode_judicial_record_poll(
    codes: &[MaHoSo],
    province_code: &str,
    auth_key: &str,
) -> Result<Vec<u8>, EncodeError> {
    let body = LltpStatusRequest {
        auth_key: auth_key.to_owned(),
        ma_tinh: province_code.to_owned(),
        ds_ma_ho_so: codes.iter().map(ToString::to_string).collect(),
    };
    serde_json::to_vec(&body).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(content: Option<&str>) -> Attachment {
        Attachment {
            id: None,
            name: "Giấy chứng sinh.pdf".into(),
            component_code: None,
            url: Some("https://portal.example.vn/f/1".into()),
            content_base64: content.map(str::to_owned),
        }
    }

    #[test]
    fn content_is_required_checked_and_unwrapped() {
        assert_eq!(inline_content(1, &attachment(Some("JVBE\nRi0x"))).unwrap(), "JVBERi0x");
        let e = inline_content(2, &attachment(None)).unwrap_err();
        assert!(e.reason.starts_with("attachment 2 has no inline content"), "{e}");
        assert!(!e.reason.contains("chứng"), "the reason never names the file");
        assert!(inline_content(1, &attachment(Some("   "))).is_err());
        assert!(inline_content(1, &attachment(Some("JVBER*"))).is_err());
        assert!(inline_content(1, &attachment(Some("JVBERi0"))).is_err(), "padding is required");
    }

    #[test]
    fn titles_drop_the_extension() {
        assert_eq!(title("Giấy chứng sinh.pdf"), "Giấy chứng sinh");
        assert_eq!(title("a.b.jpg"), "a.b");
        assert_eq!(title(".hidden"), ".hidden");
        assert_eq!(title("no-extension"), "no-extension");
    }

    #[test]
    fn services_have_their_paths() {
        assert_eq!(Service::CivilStatus.push_path(), "/api/hotich/tiepnhan");
        assert_eq!(Service::JudicialRecord.status_path(), "/api/lltp/trangthai");
        assert_eq!(serde_json::to_value(Service::JudicialRecord).unwrap(), "judicial_record");
    }
}
