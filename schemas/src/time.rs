//! Timestamps in Vietnam's time zone, parsed from every date form DVCQG systems use.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The zone every DVCQG date without an offset is in.
pub const VN_TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Why a date string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// The text matches none of the accepted forms.
    #[error("not a date in yyyyMMddHHmmss, yyyy-MM-dd HH:mm:ss or ISO 8601 form")]
    Format,
    /// The text has the right form but names no real instant (such as 30 February).
    #[error("not a real calendar date or time")]
    Impossible,
    /// The year is outside 1900..=2199.
    #[error("year out of range")]
    OutOfRange,
}

/// An instant, carried in the Asia/Ho_Chi_Minh zone.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VnDateTime(DateTime<Tz>);

impl VnDateTime {
    /// Reads `yyyyMMddHHmmss`, `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd`, or ISO 8601 /
    /// RFC 3339 with or without an offset. Forms without an offset are local time in
    /// Vietnam; forms with one are converted.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let s = text.trim();
        let b = s.as_bytes();
        let naive = if b.len() == 14 && b.iter().all(u8::is_ascii_digit) {
            NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").map_err(|_| DateError::Impossible)?
        } else if b.len() == 10 {
            shape(b, "dddd-dd-dd")?;
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| DateError::Impossible)?
                .and_hms_opt(0, 0, 0)
                .ok_or(DateError::Impossible)?
        } else if b.len() >= 19 && (b[10] == b' ' || b[10] == b'T') {
            shape(&b[..19], if b[10] == b' ' { "dddd-dd-dd dd:dd:dd" } else { "dddd-dd-ddTdd:dd:dd" })?;
            let tail = &s[19..];
            let (frac, offset) = split_fraction(tail)?;
            if !offset.is_empty() {
                let dt = DateTime::parse_from_rfc3339(&format!("{}T{}{}{}", &s[..10], &s[11..19], frac, offset))
                    .map_err(|_| DateError::Impossible)?;
                return Self::checked(dt.with_timezone(&VN_TZ));
            }
            NaiveDateTime::parse_from_str(&format!("{}T{}{}", &s[..10], &s[11..19], frac), "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| DateError::Impossible)?
        } else {
            return Err(DateError::Format);
        };
        let local = VN_TZ.from_local_datetime(&naive).single().ok_or(DateError::Impossible)?;
        Self::checked(local)
    }

    fn checked(dt: DateTime<Tz>) -> Result<Self, DateError> {
        use chrono::{Datelike, Timelike};
        // chrono reads second 60 as a leap second; no DVCQG system means one.
        if dt.nanosecond() >= 1_000_000_000 {
            return Err(DateError::Impossible);
        }
        if !(1900..=2199).contains(&dt.year()) {
            return Err(DateError::OutOfRange);
        }
        Ok(Self(dt))
    }

    /// The instant `dt`, expressed in Vietnam's zone.
    pub fn from_utc(dt: DateTime<Utc>) -> Self {
        Self(dt.with_timezone(&VN_TZ))
    }

    /// Now, in Vietnam's zone.
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// The instant in UTC.
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// The zoned value.
    pub fn inner(&self) -> &DateTime<Tz> {
        &self.0
    }

    /// The DVCQG wire form, `yyyyMMddHHmmss` in local time.
    pub fn to_dvcqg(&self) -> String {
        self.0.format("%Y%m%d%H%M%S").to_string()
    }

    /// RFC 3339 with the +07:00 offset, to the second (or finer when present).
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }
}

/// Checks `b` against a pattern where `d` is a digit and anything else is literal.
fn shape(b: &[u8], pattern: &str) -> Result<(), DateError> {
    let p = pattern.as_bytes();
    if b.len() != p.len() {
        return Err(DateError::Format);
    }
    for (c, want) in b.iter().zip(p) {
        let ok = if *want == b'd' { c.is_ascii_digit() } else { c == want };
        if !ok {
            return Err(DateError::Format);
        }
    }
    Ok(())
}

/// Splits what follows `HH:mm:ss` into an optional `.fff` fraction and an offset.
fn split_fraction(tail: &str) -> Result<(&str, &str), DateError> {
    let (frac, rest) = match tail.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(DateError::Format);
            }
            (&tail[..n + 1], &r[n..])
        }
        None => ("", tail),
    };
    let ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && shape(&rest.as_bytes()[1..], "dd:dd").is_ok());
    if ok {
        Ok((frac, rest))
    } else {
        Err(DateError::Format)
    }
}

impl fmt::Display for VnDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for VnDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VnDateTime({})", self.to_rfc3339())
    }
}

impl Serialize for VnDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for VnDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_form_means_the_same_instant() {
        let want = VnDateTime::parse("20261122083015").unwrap();
        for form in [
            "2026-11-22 08:30:15",
            "2026-11-22T08:30:15",
            "2026-11-22T08:30:15+07:00",
            "2026-11-22T01:30:15Z",
            "2026-11-22T01:30:15.000Z",
            "2026-11-21T20:30:15-05:00",
        ] {
            assert_eq!(VnDateTime::parse(form).unwrap(), want, "{form}");
        }
        assert_eq!(want.to_dvcqg(), "20261122083015");
        assert_eq!(want.to_rfc3339(), "2026-11-22T08:30:15+07:00");
        assert_eq!(want.to_utc().to_rfc3339(), "2026-11-22T01:30:15+00:00");
    }

    #[test]
    fn utc_evening_is_next_day_in_vietnam() {
        let d = VnDateTime::parse("2026-12-31T18:00:00Z").unwrap();
        assert_eq!(d.to_dvcqg(), "20270101010000");
    }

    #[test]
    fn date_only_is_local_midnight() {
        assert_eq!(VnDateTime::parse("2026-02-28").unwrap().to_dvcqg(), "20260228000000");
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        assert_eq!(VnDateTime::parse("20260230083015"), Err(DateError::Impossible));
        assert_eq!(VnDateTime::parse("2026-02-30 08:30:15"), Err(DateError::Impossible));
        assert_eq!(VnDateTime::parse("20261122253015"), Err(DateError::Impossible));
        for bad in [
            "",
            "yesterday",
            "2026/11/22",
            "22-11-2026",
            "2026-11-22T08:30:15+7",
            "2026112208301",
            "2026-11-22 8:30:15",
        ] {
            assert_eq!(VnDateTime::parse(bad), Err(DateError::Format), "{bad:?}");
        }
        assert_eq!(VnDateTime::parse("18991231000000"), Err(DateError::OutOfRange));
    }

    #[test]
    fn serde_round_trip() {
        let d = VnDateTime::parse("20261122083015").unwrap();
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j, "\"2026-11-22T08:30:15+07:00\"");
        assert_eq!(serde_json::from_str::<VnDateTime>(&j).unwrap(), d);
    }
}
