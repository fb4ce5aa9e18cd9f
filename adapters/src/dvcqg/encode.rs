//! Canonical to wire: the dossier object, the sync request and progress items.
//!
//! Pure functions, golden-tested. Every field is always emitted, in the fixed
//! order of [`DOSSIER_FIELDS`](super::wire::DOSSIER_FIELDS); absent values are "".

use schemas::{Dossier, MaHoSo, StatusEvent, TrangThaiHoSo, VnDateTime};

use super::wire::{LookupRequest, ProgressItem, ProgressRequest, SyncRequest, WireDossier, WireFee, WireFile};
use crate::EncodeError;

/// The status sent when the dossier carries none: the portal has received it
/// (`NgayTiepNhan` is required), so "2" (được tiếp nhận) rather than "1".
pub const DEFAULT_STATUS: TrangThaiHoSo = TrangThaiHoSo::DuocTiepNhan;

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn date(v: &Option<VnDateTime>) -> String {
    v.as_ref().map(VnDateTime::to_dvcqg).unwrap_or_default()
}

fn error(reason: impl Into<String>) -> EncodeError {
    EncodeError { agency: "dvcqg".into(), reason: reason.into() }
}

/// The DVCQG dossier object of a canonical dossier.
pub fn wire_dossier(d: &Dossier) -> WireDossier {
    WireDossier {
        ma_ho_so: d.code.to_string(),
        ma_tthc: d.procedure_code.to_string(),
        ten_tthc: d.procedure_name.clone(),
        ma_linh_vuc: text(&d.field_code),
        ten_linh_vuc: text(&d.field_name),
        so_bien_nhan: text(&d.receipt_number),
        kenh_thuc_hien: d.channel.code().to_string(),
        chu_ho_so: d.owner.name.clone(),
        so_giay_to_chu_ho_so: text(&d.owner.id_number),
        loai_doi_tuong: d.owner.kind.code().to_string(),
        ma_doi_tuong: text(&d.owner.subject_code),
        email: text(&d.owner.email),
        fax: text(&d.owner.fax),
        so_dien_thoai: text(&d.owner.phone),
        thong_tin_khac: text(&d.owner.other),
        trich_yeu_ho_so: text(&d.summary),
        ngay_nop_ho_so: date(&d.submitted_at),
        ngay_tiep_nhan: d.received_at.to_dvcqg(),
        ngay_hen_tra: d.due_at.to_dvcqg(),
        ngay_tra: date(&d.returned_at),
        ngay_ket_thuc_xu_ly: date(&d.finished_at),
        ngay_tu_choi: date(&d.rejected_at),
        trang_thai_ho_so: d.status.unwrap_or(DEFAULT_STATUS).code().to_string(),
        don_vi_xu_ly: text(&d.handling_unit),
        ghi_chu: text(&d.note),
        thong_tin_tra: text(&d.result_info),
        hinh_thuc: text(&d.return_form),
        tai_lieu_nop: d
            .files
            .iter()
            .map(|f| WireFile {
                tep_dinh_kem_id: text(&f.id),
                ten_tep_dinh_kem: f.name.clone(),
                ma_thanh_phan_ho_so: text(&f.component_code),
                duong_dan_tai_tep_tin: text(&f.url),
            })
            .collect(),
        danh_sach_le_phi: d
            .fees
            .iter()
            .map(|f| WireFee {
                ten_phi_le_phi: f.name.clone(),
                ma_phi_le_phi: text(&f.code),
                hinh_thuc_thu: text(&f.collection),
                gia: f.amount_vnd.to_string(),
                loai_phi_le_phi: text(&f.kind),
            })
            .collect(),
    }
}

/// The `DongBoHoSoMC` request for a new dossier (`isUpdating` "false").
pub fn sync_request(d: &Dossier, unit_code: &str, session: &str) -> SyncRequest {
    SyncRequest {
        session: session.to_owned(),
        madonvi: unit_code.to_owned(),
        is_updating: "false".into(),
        data: vec![wire_dossier(d)],
    }
}

/// The exact `DongBoHoSoMC` body; `session` is "" until the client adds one.
pub fn encode_sync(d: &Dossier, unit_code: &str, session: &str) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(&sync_request(d, unit_code, session)).map_err(|e| error(e.to_string()))
}

/// The processing-history item of a canonical event. DVCQG items have no field
/// for a moved due date, so `new_due_at` is not sent.
pub fn progress_item(e: &StatusEvent) -> ProgressItem {
    ProgressItem {
        ma_ho_so: e.dossier.to_string(),
        nguoi_xu_ly: text(&e.handler),
        chuc_danh: text(&e.handler_title),
        thoi_diem_xu_ly: e.at.to_dvcqg(),
        phong_ban_xu_ly: text(&e.department),
        noi_dung_xu_ly: text(&e.content),
        trang_thai: e.status.code().to_string(),
        ngay_bat_dau: date(&e.started_at),
        ngay_ket_thuc_theo_quy_dinh: date(&e.step_due_at),
    }
}

/// The exact `CapNhatTienDoHoSoMC` body for some events; refuses an empty list.
pub fn encode_progress(events: &[StatusEvent], unit_code: &str, session: &str) -> Result<Vec<u8>, EncodeError> {
    if events.is_empty() {
        return Err(error("no status events to send"));
    }
    let body = ProgressRequest {
        session: session.to_owned(),
        madonvi: unit_code.to_owned(),
        data: events.iter().map(progress_item).collect(),
    };
    serde_json::to_vec(&body).map_err(|e| error(e.to_string()))
}

/// The exact `TraCuuHoSo` body.
pub fn encode_lookup(code: &MaHoSo, unit_code: &str, session: &str) -> Result<Vec<u8>, EncodeError> {
    let body = LookupRequest { session: session.to_owned(), madonvi: unit_code.to_owned(), ma_ho_so: code.to_string() };
    serde_json::to_vec(&body).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dossier(extra: &str) -> Dossier {
        let body = format!(
            r#"{{"MaHoSo":"000.00.31.H29-261122-0001","MaTTHC":"1.001193","TenTTHC":"Đăng ký khai sinh",
               "KenhThucHien":"2","ChuHoSo":"Nguyễn Thị A","LoaiDoiTuong":"1",
               "NgayTiepNhan":"2026-11-22T01:30:00Z","NgayHenTra":"20261125170000"{extra}}}"#
        );
        schemas::dossier_from_json(body.as_bytes()).unwrap()
    }

    #[test]
    fn dates_are_local_vietnam_time_and_absent_values_empty() {
        let w = wire_dossier(&dossier(""));
        assert_eq!(w.ngay_tiep_nhan, "20261122083000");
        assert_eq!(w.ngay_hen_tra, "20261125170000");
        assert_eq!(w.email, "");
        assert_eq!(w.ngay_tra, "");
        assert_eq!(w.trang_thai_ho_so, "2", "the default status is received");
    }

    #[test]
    fn the_dossier_status_wins_over_the_default() {
        assert_eq!(wire_dossier(&dossier(r#","TrangThaiHoSo":"4""#)).trang_thai_ho_so, "4");
    }

    #[test]
    fn sync_body_starts_with_the_session() {
        let body = encode_sync(&dossier(""), "000.00.00.G22", "").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(r#"{"session":"","madonvi":"000.00.00.G22","isUpdating":"false","data":[{"MaHoSo":"#));
    }

    #[test]
    fn empty_progress_is_refused() {
        assert!(encode_progress(&[], "X", "").is_err());
    }
}
