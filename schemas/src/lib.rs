//! The canonical dossier model of Lienthong.
//!
//! Provincial portals send dossiers in one of two wire dialects: the DVCQG JSON
//! object or the `HoSo` XML element in namespace [`XML_NAMESPACE`]. Both are parsed
//! into one [`RawDossier`] (every field a string, as DVCQG sends them), then
//! normalised and validated into a [`Dossier`], the only form the rest of the
//! gateway sees. Identifiers are newtypes that refuse bad values on construction.
//!
//! The schema files that describe the dialects for integrators live beside this
//! crate (`json/`, `xml/`, `examples/`); tests prove they agree with [`FIELDS`].

mod build;
pub mod c14n;
mod codes;
mod dossier;
pub mod dsig;
mod error;
mod event;
mod fields;
mod json;
pub mod jws;
pub mod lifecycle;
mod normalize;
mod payload;
pub mod pki;
mod raw;
mod status;
mod time;
pub mod timeliness;
mod xml;

pub use c14n::C14nError;
pub use codes::{AgencyId, CodeError, MaHoSo, MaTTHC, MemberId};
pub use dossier::{mask, Attachment, Channel, Dossier, Fee, Owner, SubjectKind};
pub use error::{FieldError, FieldErrorKind, ParseError, ValidationErrors};
pub use event::StatusEvent;
pub use event::{EventError, EVENT_FIELDS};
pub use fields::{table, FieldKind, FieldSpec, FEE_FIELDS, FIELDS, FILE_FIELDS, PAYLOAD_FIELDS, TABLES};
pub use json::parse_json;
pub use lifecycle::{LifecycleError, Progress, Reporter, Transition};
pub use normalize::normalize;
pub use payload::{
    Address, BirthRegistration, BusinessLine, BusinessRegistration, CivilStatus, DeathRegistration, EnterpriseType,
    JudicialRecordRequest, Payload, PayloadKind, Representative, ResidencePeriod, Sex, TradeLicence, TradeLicenceKind,
};
pub use raw::{RawDossier, RawItem, RawObject, RawValue};
pub use status::TrangThaiHoSo;
pub use time::{DateError, VnDateTime, VN_TZ};
pub use timeliness::{Schedule, Timeliness};
pub use xml::{parse_xml, raw_from_tree, XML_NAMESPACE};

/// Parses a JSON dossier and normalises it into the canonical model.
pub fn dossier_from_json(body: &[u8]) -> Result<Dossier, DossierError> {
    let raw = parse_json(body)?;
    Ok(normalize(&raw)?)
}

/// Parses an XML dossier and normalises it into the canonical model.
pub fn dossier_from_xml(body: &[u8]) -> Result<Dossier, DossierError> {
    let raw = parse_xml(body)?;
    Ok(normalize(&raw)?)
}

/// Reads the XML dossier at `apex` of a parsed document, without `exclude`
/// (see [`raw_from_tree`]), and normalises it: the same as
/// [`dossier_from_xml`] over the canonical form of that node set, which is
/// what a verified signature covers.
pub fn dossier_from_tree(
    doc: &c14n::Document<'_>,
    apex: c14n::NodeId,
    exclude: Option<c14n::NodeId>,
) -> Result<Dossier, DossierError> {
    let raw = raw_from_tree(doc, apex, exclude)?;
    Ok(normalize(&raw)?)
}

/// Why a dossier body could not become a canonical dossier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DossierError {
    /// The body is not well-formed in its dialect.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The body is well-formed but its content is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}
