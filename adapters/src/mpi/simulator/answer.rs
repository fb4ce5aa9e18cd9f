//! The simulated MPI's answers as SOAP 1.1 envelopes: responses with HTTP 200,
//! faults with HTTP 500 (as SOAP 1.1 and the WS-I Basic Profile require).

use http::StatusCode;
use schemas::VnDateTime;

use super::seed::Enterprise;
use super::state::Stored;
use crate::mpi::encode::mpi_date;
use crate::mpi::wire::{code, mpi_dossier_status, Operation, CONTENT_TYPE, MPI_NS, SOAP_NS};
use crate::mpi::xml::{WriteError, XmlWriter};
use crate::sim::SimResponse;

/// A refusal: MPI's code, a message naming fields (never values), and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) code: String,
    pub(super) message: String,
    pub(super) field: Option<String>,
}

impl Refusal {
    pub(super) fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), field: None }
    }

    /// The usual message of a code, for refusals injected by tests.
    pub(super) fn injected(code: &str) -> Self {
        let message = match code {
            code::INVALID_CREDENTIALS => "Tên đăng nhập hoặc mật khẩu không đúng",
            code::STALE_TOKEN => "Thẻ bảo mật đã hết hạn",
            code::NAME_TAKEN => "Tên doanh nghiệp đã được sử dụng",
            code::INVALID_VSIC => "Mã ngành không có trong Hệ thống ngành kinh tế Việt Nam",
            code::DUPLICATE => "Hồ sơ đã được nộp trước đó",
            code::INTERNAL => "Lỗi hệ thống",
            code::BUSY => "Hệ thống đang bận, vui lòng thử lại sau",
            _ => "Yêu cầu không được chấp nhận",
        };
        Self::new(code, message)
    }
}

fn envelope(body: impl FnOnce(&mut XmlWriter) -> Result<(), WriteError>) -> Result<Vec<u8>, WriteError> {
    let mut w = XmlWriter::new();
    w.open("soap:Envelope", &[("xmlns:soap", SOAP_NS)]);
    w.open("soap:Body", &[]);
    body(&mut w)?;
    w.close("soap:Body");
    w.close("soap:Envelope");
    Ok(w.finish())
}

fn respond(status: StatusCode, body: Result<Vec<u8>, WriteError>) -> SimResponse {
    match body {
        Ok(b) => SimResponse::bytes(status, CONTENT_TYPE, b),
        Err(_) => fault(&Refusal::new(code::INTERNAL, "Không tạo được câu trả lời")),
    }
}

/// A fault: `soap:Server` for MPI-500 and MPI-503, `soap:Client` otherwise.
pub(super) fn fault(r: &Refusal) -> SimResponse {
    let faultcode = if code::is_server(&r.code) { "soap:Server" } else { "soap:Client" };
    let body = envelope(|w| {
        w.open("soap:Fault", &[]);
        w.leaf("faultcode", faultcode)?;
        w.leaf("faultstring", &r.message)?;
        w.open("detail", &[]);
        w.open("LoiMPI", &[("xmlns", MPI_NS)]);
        w.leaf("MaLoi", &r.code)?;
        w.leaf("MoTa", &r.message)?;
        w.leaf_opt("TruongLoi", r.field.as_deref())?;
        w.close("LoiMPI");
        w.close("detail");
        w.close("soap:Fault");
        Ok(())
    });
    match body {
        Ok(b) => SimResponse::bytes(StatusCode::INTERNAL_SERVER_ERROR, CONTENT_TYPE, b),
        Err(_) => SimResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "fault"),
    }
}

/// A fault for a SOAP 1.2 (or other) envelope.
pub(super) fn version_mismatch() -> SimResponse {
    let body = envelope(|w| {
        w.open("soap:Fault", &[]);
        w.leaf("faultcode", "soap:VersionMismatch")?;
        w.leaf("faultstring", "Chỉ hỗ trợ SOAP 1.1")?;
        w.close("soap:Fault");
        Ok(())
    });
    match body {
        Ok(b) => SimResponse::bytes(StatusCode::INTERNAL_SERVER_ERROR, CONTENT_TYPE, b),
        Err(_) => SimResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "fault"),
    }
}

fn response(op: Operation, inner: impl FnOnce(&mut XmlWriter) -> Result<(), WriteError>) -> SimResponse {
    respond(
        StatusCode::OK,
        envelope(|w| {
            w.open(op.response_element(), &[("xmlns", MPI_NS)]);
            inner(w)?;
            w.close(op.response_element());
            Ok(())
        }),
    )
}

/// The answer to an accepted submission.
pub(super) fn submitted(ma_ho_so: &str, receipt: &str, at: &VnDateTime) -> SimResponse {
    response(Operation::Submit, |w| {
        w.leaf("MaHoSo", ma_ho_so)?;
        w.leaf("SoBienNhanDKKD", receipt)?;
        w.leaf("ThoiDiemTiepNhan", &mpi_date(at))?;
        w.leaf("TrangThai", mpi_dossier_status(schemas::TrangThaiHoSo::DuocTiepNhan))
    })
}

/// The answer to `TraCuuDoanhNghiep`.
pub(super) fn enterprise(e: &Enterprise) -> SimResponse {
    response(Operation::LookupEnterprise, |w| {
        w.open("DoanhNghiep", &[]);
        w.leaf("MaSoDoanhNghiep", e.tax_code)?;
        w.leaf("TenDoanhNghiep", e.name)?;
        w.leaf_opt("TenTiengNuocNgoai", e.foreign_name)?;
        w.leaf("LoaiHinhDoanhNghiep", e.kind)?;
        w.leaf("TinhTrang", e.state)?;
        w.leaf("NgayDangKyLanDau", e.registered)?;
        w.open("DiaChiTruSo", &[]);
        w.leaf("SoNhaDuong", e.street)?;
        w.leaf("PhuongXa", e.ward)?;
        w.leaf("TinhThanhPho", e.province)?;
        w.close("DiaChiTruSo");
        w.close("DoanhNghiep");
        Ok(())
    })
}

/// The answer to `TraCuuHoSo`.
pub(super) fn dossier(ma_ho_so: &str, d: &Stored) -> SimResponse {
    response(Operation::LookupDossier, |w| {
        w.open("HoSo", &[]);
        w.leaf("MaHoSo", ma_ho_so)?;
        w.leaf("SoBienNhanDKKD", &d.receipt)?;
        w.leaf("TrangThai", mpi_dossier_status(d.status()))?;
        w.open("QuaTrinhXuLy", &[]);
        for s in &d.history {
            w.open("BuocXuLy", &[]);
            w.leaf("ThoiDiem", &mpi_date(&s.at))?;
            w.leaf("TrangThai", mpi_dossier_status(s.status))?;
            w.leaf_opt("NguoiXuLy", s.handler.as_deref())?;
            w.leaf_opt("ChucDanh", s.title.as_deref())?;
            w.leaf_opt("PhongBan", s.department.as_deref())?;
            w.leaf_opt("NoiDung", s.content.as_deref())?;
            w.leaf_opt("HanXuLy", s.step_due_at.as_ref().map(mpi_date).as_deref())?;
            w.leaf_opt("NgayHenTraMoi", s.new_due_at.as_ref().map(mpi_date).as_deref())?;
            w.close("BuocXuLy");
        }
        w.close("QuaTrinhXuLy");
        w.close("HoSo");
        Ok(())
    })
}
