//! The CMF model: the batch [`Header`] and the [`CmfSpecimen`], which wraps a
//! [`tandem_core::Profile`] with the fields only CMF carries.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use tandem_core::{Locus, Profile};

/// A CMF date and time, `CCYY-MM-DDThh:mm:ss` (`CODISImportDate`: after 1900-01-01T00:00:00 and
/// before 2079-06-06T00:00:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CmfDateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

/// The error of parsing a [`CmfDateTime`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("date and time '{value}': {reason}")]
pub struct DateTimeError {
    /// The value as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

impl CmfDateTime {
    /// A checked date and time.
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<CmfDateTime, DateTimeError> {
        let t = CmfDateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        let err = |reason| DateTimeError {
            value: t.to_string(),
            reason,
        };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(err("not a calendar date"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err("not a time of day"));
        }
        // CODISImportDate: minExclusive 1900-01-01T00:00:00, maxExclusive 2079-06-06T00:00:00
        let low = CmfDateTime {
            year: 1900,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
        let high = CmfDateTime {
            year: 2079,
            month: 6,
            day: 6,
            hour: 0,
            minute: 0,
            second: 0,
        };
        if t <= low || t >= high {
            return Err(err(
                "outside the range CMF allows (1900-01-01T00:00:00 to 2079-06-06T00:00:00)",
            ));
        }
        Ok(t)
    }

    /// The current time (UTC), to the second.
    pub fn now() -> CmfDateTime {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        // civil-from-days (H. Hinnant, chrono-compatible algorithms)
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        let t = CmfDateTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
        };
        CmfDateTime::new(t.year, t.month, t.day, t.hour, t.minute, t.second).unwrap_or(
            CmfDateTime {
                year: 2000,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
            },
        )
    }
}

impl fmt::Display for CmfDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl FromStr for CmfDateTime {
    type Err = DateTimeError;
    /// Parses `CCYY-MM-DDThh:mm:ss` (surrounding white space ignored, as XML Schema does).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let s = value.trim().as_bytes();
        let err = |reason| DateTimeError {
            value: value.to_string(),
            reason,
        };
        let shape = s.len() == 19
            && s.iter().enumerate().all(|(i, &b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                _ => b.is_ascii_digit(),
            });
        if !shape {
            return Err(err("not of the form CCYY-MM-DDThh:mm:ss"));
        }
        let num = |a: usize, b: usize| {
            s[a..b]
                .iter()
                .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'))
        };
        CmfDateTime::new(
            num(0, 4),
            num(5, 7) as u8,
            num(8, 10) as u8,
            num(11, 13) as u8,
            num(14, 16) as u8,
            num(17, 19) as u8,
        )
        .map_err(|e| err(e.reason))
    }
}

/// The `SOURCEID` attribute of a specimen: whether the specimen is attributable to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceId {
    /// `Yes`.
    Yes,
    /// `No`.
    No,
    /// `N/A`.
    NotApplicable,
}

impl SourceId {
    /// The CMF spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceId::Yes => "Yes",
            SourceId::No => "No",
            SourceId::NotApplicable => "N/A",
        }
    }
}

impl FromStr for SourceId {
    type Err = ();
    /// Parses the exact CMF spellings `Yes`, `No` and `N/A` (the schema is case-sensitive).
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "Yes" => Ok(SourceId::Yes),
            "No" => Ok(SourceId::No),
            "N/A" => Ok(SourceId::NotApplicable),
            _ => Err(()),
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The batch header of a CMF file (the elements before the first `SPECIMEN`, in this order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `HEADERVERSION`, a decimal of at most two digits with one after the point (`3.2`).
    pub version: String,
    /// `DESTINATIONORI`: the ORI of the receiving CODIS lab (1-10 characters).
    pub destination_ori: String,
    /// `SOURCELAB`: the ORI of the submitting lab (1-10 characters).
    pub source_lab: String,
    /// `SUBMITBYUSERID` (1-20 characters).
    pub submit_by: String,
    /// `SUBMITDATETIME`.
    pub submit_datetime: CmfDateTime,
    /// `BATCHID` (at most 32 characters), optional.
    pub batch_id: Option<String>,
    /// `KIT`, optional: a kit name of the release's list.
    pub kit: Option<String>,
}

impl Header {
    /// A header for a new batch: version 3.2, submitted now.
    pub fn new(destination_ori: &str, source_lab: &str, submit_by: &str) -> Header {
        Header {
            version: "3.2".to_string(),
            destination_ori: destination_ori.to_string(),
            source_lab: source_lab.to_string(),
            submit_by: submit_by.to_string(),
            submit_datetime: CmfDateTime::now(),
            batch_id: None,
            kit: None,
        }
    }
}

/// The CMF fields of one `LOCUS` element beyond its name and alleles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocusInfo {
    /// `BATCHID` attribute (at most 32 characters).
    pub batch_id: Option<String>,
    /// `KIT` attribute: a kit name of the release's list.
    pub kit: Option<String>,
    /// `READINGBY` (1-20 characters); the writer uses the header's user when absent.
    pub reading_by: Option<String>,
    /// `READINGDATETIME`; the writer uses the header's submit time when absent.
    pub reading_datetime: Option<CmfDateTime>,
}

/// A specimen as CMF carries it: the [`Profile`] (id, category, partial flag, genotypes with
/// their required alleles, the file's spelling of each locus) plus the fields only CMF has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmfSpecimen {
    /// The profile. Its category is required to write CMF; its lab is not part of CMF.
    pub profile: Profile,
    /// `SOURCEID` attribute.
    pub source_id: Option<SourceId>,
    /// `CASEID` attribute (at most 32 characters).
    pub case_id: Option<String>,
    /// `SPECIMENCOMMENT` (at most 255 characters).
    pub comment: Option<String>,
    /// The CMF fields of each locus, in the order the loci are written. A typed locus of the
    /// profile without an entry here is written after these, in canonical order, with the
    /// writer's defaults; an entry for a locus the profile does not type is an error on write.
    pub loci: Vec<(Locus, LocusInfo)>,
}

impl CmfSpecimen {
    /// A specimen with no CMF-only fields.
    pub fn new(profile: Profile) -> CmfSpecimen {
        CmfSpecimen {
            profile,
            source_id: None,
            case_id: None,
            comment: None,
            loci: Vec::new(),
        }
    }

    /// The CMF fields of a locus, if any were given.
    pub fn locus_info(&self, locus: Locus) -> Option<&LocusInfo> {
        self.loci.iter().find(|(l, _)| *l == locus).map(|(_, i)| i)
    }

    /// The loci in the order they are written: those of [`CmfSpecimen::loci`] first, then the
    /// other typed loci in canonical order.
    pub fn write_order(&self) -> impl Iterator<Item = Locus> + '_ {
        let listed = self.loci.iter().map(|(l, _)| *l);
        let rest = self
            .profile
            .genotypes()
            .map(|(l, _)| l)
            .filter(move |l| !self.loci.iter().any(|(m, _)| m == l));
        listed.chain(rest)
    }
}

impl From<Profile> for CmfSpecimen {
    fn from(p: Profile) -> CmfSpecimen {
        CmfSpecimen::new(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_datetime_parse_with_valid_and_invalid() {
        let t: CmfDateTime = "2002-02-14T21:51:44".parse().unwrap();
        assert_eq!(t.to_string(), "2002-02-14T21:51:44");
        assert!(" 2002-02-14T21:51:44\n".parse::<CmfDateTime>().is_ok());
        for bad in [
            "2002-02-30T00:00:00",
            "2002-13-01T00:00:00",
            "2002-02-14 21:51:44",
            "2002-02-14T24:00:00",
            "1900-01-01T00:00:00",
            "2079-06-06T00:00:00",
            "2002-02-14T21:51",
            "２002-02-14T21:51:44",
            "",
        ] {
            assert!(bad.parse::<CmfDateTime>().is_err(), "{bad}");
        }
        assert!("2000-02-29T00:00:00".parse::<CmfDateTime>().is_ok());
        assert!("1900-02-29T00:00:00".parse::<CmfDateTime>().is_err());
    }

    #[test]
    fn test_now_is_valid() {
        let now = CmfDateTime::now();
        assert_eq!(now.to_string().parse::<CmfDateTime>(), Ok(now));
        assert!(now.year >= 2024);
    }
}
