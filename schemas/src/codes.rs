//! Identifier newtypes: constructed only from valid values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid identifier of some kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct CodeError {
    /// Which kind of identifier was expected.
    pub kind: &'static str,
    /// What is wrong with the value (never echoes the value itself).
    pub reason: &'static str,
}

fn err(kind: &'static str, reason: &'static str) -> CodeError {
    CodeError { kind, reason }
}

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident, $kind:literal, $check:path) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a value, refusing anything that is not a valid identifier.
            pub fn parse(value: &str) -> Result<Self, CodeError> {
                $check(value).map_err(|reason| err($kind, reason))?;
                Ok(Self(value.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_newtype!(
    /// A dossier code (`MaHoSo`): `<agency code>-<date>-<sequence>`.
    ///
    /// Circular 01/2018/TT-VPCP gives `000.00.31.H29-261122-0001` (six-digit date,
    /// four-digit sequence); newer systems use `G09.20-20260609-0092637` (eight-digit
    /// date, seven-digit sequence). Both are accepted: the agency part is dotted
    /// alphanumerics, the date a real calendar date, the sequence 4 to 7 digits.
    MaHoSo,
    "dossier code",
    check_ma_ho_so
);

string_newtype!(
    /// A procedure code (`MaTTHC`) such as `1.005129`, optionally followed by an
    /// agency code as some local systems append (`3.000181.000.00.00.H22`).
    MaTTHC,
    "procedure code",
    check_ma_tthc
);

string_newtype!(
    /// An agency known to the gateway (`dvcqg`, `mpi`, `moit`, `moj`, ...).
    AgencyId,
    "agency id",
    check_slug
);

string_newtype!(
    /// A member of the gateway: a provincial portal, a ministry or an operator.
    MemberId,
    "member id",
    check_slug
);

fn is_agency_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

fn check_agency_code(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 40 {
        return Err("agency part must have 1 to 40 characters");
    }
    if !s.chars().all(is_agency_code_char) {
        return Err("agency part may hold only letters, digits, '.' and '-'");
    }
    if s.starts_with(['.', '-']) || s.ends_with(['.', '-']) || s.contains("..") {
        return Err("agency part has an empty segment");
    }
    Ok(())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_date_digits(s: &str) -> Result<(), &'static str> {
    if !all_digits(s) {
        return Err("date part must be digits");
    }
    let (y, rest) = match s.len() {
        6 => (2000 + s[..2].parse::<i32>().map_err(|_| "bad date")?, &s[2..]),
        8 => (s[..4].parse::<i32>().map_err(|_| "bad date")?, &s[4..]),
        _ => return Err("date part must have 6 (YYMMDD) or 8 (YYYYMMDD) digits"),
    };
    let m: u32 = rest[..2].parse().map_err(|_| "bad date")?;
    let d: u32 = rest[2..].parse().map_err(|_| "bad date")?;
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|_| ()).ok_or("date part is not a calendar date")
}

fn check_ma_ho_so(s: &str) -> Result<(), &'static str> {
    if !s.is_ascii() {
        return Err("may hold only ASCII letters, digits, '.' and '-'");
    }
    if s.len() > 64 {
        return Err("longer than 64 characters");
    }
    let mut parts = s.rsplitn(3, '-');
    let seq = parts.next().unwrap_or_default();
    let date = parts.next().ok_or("expected <agency>-<date>-<sequence>")?;
    let agency = parts.next().ok_or("expected <agency>-<date>-<sequence>")?;
    if !(4..=7).contains(&seq.len()) || !all_digits(seq) {
        return Err("sequence part must have 4 to 7 digits");
    }
    check_date_digits(date)?;
    check_agency_code(agency)
}

fn check_ma_tthc(s: &str) -> Result<(), &'static str> {
    if !s.is_ascii() {
        return Err("may hold only ASCII letters, digits and '.'");
    }
    if s.len() > 48 {
        return Err("longer than 48 characters");
    }
    let b = s.as_bytes();
    if b.len() < 8 || !b[0].is_ascii_digit() || b[1] != b'.' || !all_digits(&s[2..8]) {
        return Err("expected <digit>.<six digits>, as in 1.005129");
    }
    match &s[8..] {
        "" => Ok(()),
        rest => match rest.strip_prefix('.') {
            Some(agency) => check_agency_code(agency),
            None => Err("expected <digit>.<six digits>, as in 1.005129"),
        },
    }
}

fn check_slug(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 64 {
        return Err("must have 1 to 64 characters");
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err("must start with a lowercase letter or digit");
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("may hold only lowercase letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossier_codes_of_both_generations_are_accepted() {
        for ok in [
            "000.00.31.H29-261122-0001",
            "G09.20-20260609-0092637",
            "000.00.01.H22-240229-1234",
            "H22.1-20240101-0000001",
        ] {
            assert!(MaHoSo::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_dossier_codes_are_refused() {
        for bad in [
            "",
            "000.00.31.H29",
            "000.00.31.H29-261122",
            "000.00.31.H29-261122-01",
            "000.00.31.H29-261122-00000001",
            "000.00.31.H29-261322-0001",
            "000.00.31.H29-230229-0001",
            "000.00.31.H29-2611220-0001",
            "-261122-0001",
            "000..31.H29-261122-0001",
            "000.00.31.H29 -261122-0001",
            "000.00.31.H29-261122-00a1",
            "mã-261122-0001",
            "X-ảabc-0001",
            "X-ảảab-0001",
        ] {
            assert!(MaHoSo::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn procedure_codes() {
        for ok in ["1.005129", "2.002492", "3.000181", "3.000181.000.00.00.H22"] {
            assert!(MaTTHC::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1.00512", "1005129", "a.005129", "1.005129x", "1.005129.", "1.0051299"] {
            assert!(MaTTHC::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn slugs() {
        assert!(AgencyId::parse("dvcqg").is_ok());
        assert!(MemberId::parse("portal-h29").is_ok());
        for bad in ["", "DVCQG", "-x", "a b", "ả"] {
            assert!(AgencyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_never_echo_the_value() {
        let e = MaHoSo::parse("079123456789").unwrap_err();
        assert!(!e.to_string().contains("079123456789"));
    }
}
