//! The CMF releases Tandem reads and writes, and the limits and value lists of each.
//!
//! CMF 3.2 (`testdata/cmf/cmf-3.2.xsd`, FBI CODIS Interface Specification, Appendix B) and the
//! schema as later CODIS releases relaxed it (`testdata/cmf/cmf-2017.xsd`, 2017 on: the CODIS 20
//! loci, Y markers, 64 loci per specimen, longer categories). Both carry `HEADERVERSION` 3.2, so
//! the release cannot be read from a file: the caller says which rules apply.

use std::fmt;
use std::str::FromStr;

use tandem_core::{Locus, SpecimenCategory};

/// A CMF release: which limits and value lists apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Release {
    /// CMF 3.2 as specified (`cmf-3.2.xsd`): at most 32 loci per specimen, categories of at most
    /// 21 characters, the 21 locus names and 16 kits of the original lists.
    V3_2,
    /// CMF as relaxed by later CODIS releases (`cmf-2017.xsd`): at most 64 loci per specimen,
    /// categories of at most 32 characters, the CODIS 20 loci, SE33 and Y markers, current kits.
    #[default]
    Later,
}

/// CMF 3.2 section 3 (`SpecimenType`): at most 32 `LOCUS` elements per specimen.
pub const MAX_LOCI_3_2: usize = 32;
/// `cmf-2017.xsd` (`SpecimenType`): at most 64 `LOCUS` elements per specimen.
pub const MAX_LOCI_LATER: usize = 64;
/// `AlleleValueType`: at most 10 characters.
pub const MAX_ALLELE_VALUE: usize = 10;
/// `CODISLabType` (`DESTINATIONORI`, `SOURCELAB`): 1 to 10 characters.
pub const MAX_LAB: usize = 10;
/// `CODISUserType` (`SUBMITBYUSERID`, `READINGBY`): 1 to 20 characters.
pub const MAX_USER: usize = 20;
/// `BatchIDType` (`BATCHID` element and attribute): at most 32 characters.
pub const MAX_BATCH_ID: usize = 32;
/// `KitType`: at most 32 characters.
pub const MAX_KIT: usize = 32;
/// `SpecimenIDType`: 1 to 24 characters.
pub const MAX_SPECIMEN_ID: usize = 24;
/// `CaseIDType` (`CASEID` attribute): at most 32 characters.
pub const MAX_CASE_ID: usize = 32;
/// `SpecimenCommentType`: at most 255 characters.
pub const MAX_COMMENT: usize = 255;
/// `LocusNameType`: 1 to 10 characters.
pub const MAX_LOCUS_NAME: usize = 10;

const LOCI_3_2: &[&str] = &[
    "AMEL",
    "Amelogenin",
    "CSF1PO",
    "D13S317",
    "D16S539",
    "D18S51",
    "D19S433",
    "D21S11",
    "D2S1338",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "FGA",
    "Penta D",
    "Penta E",
    "TH01",
    "THO1",
    "TP0X",
    "TPOX",
    "vWA",
];
const LOCI_LATER: &[&str] = &[
    "AMEL",
    "Amelogenin",
    "CSF1PO",
    "D10S1248",
    "D12S391",
    "D13S317",
    "D16S539",
    "D18S51",
    "D19S433",
    "D1S1656",
    "D21S11",
    "D22S1045",
    "D2S1338",
    "D2S441",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "FGA",
    "Penta D",
    "Penta E",
    "SE33",
    "TH01",
    "THO1",
    "TP0X",
    "TPOX",
    "vWA",
    "DYF387S1",
    "DYS19",
    "DYS385",
    "DYS389 I",
    "DYS389 II",
    "DYS390",
    "DYS391",
    "DYS392",
    "DYS393",
    "DYS437",
    "DYS438",
    "DYS439",
    "DYS448",
    "DYS449",
    "DYS456",
    "DYS458",
    "DYS460",
    "DYS481",
    "DYS518",
    "DYS533",
    "DYS549",
    "DYS570",
    "DYS576",
    "DYS627",
    "DYS635",
    "DYS643",
    "YGATAH4",
    "Yindel",
];
const KITS_3_2: &[&str] = &[
    "COfiler",
    "Identifiler",
    "Profiler Plus",
    "PowerPlex 1.1",
    "PowerPlex 1.2",
    "PowerPlex 2.1",
    "PowerPlex 16",
    "Monoplex D5S818",
    "Monoplex D7S820",
    "Monoplex D13S317",
    "Monoplex D16S539",
    "Monoplex TH01",
    "Monoplex TPOX",
    "Monoplex CSF1PO",
    "Monoplex vWA",
    "SGM Plus",
];
const KITS_LATER: &[&str] = &[
    "AmpFLSTR NGM",
    "AmpFLSTR NGM SElect",
    "AmpFlSTR Yfiler Plus",
    "COfiler",
    "GlobalFiler",
    "GlobalFiler Express",
    "Identifiler",
    "Identifiler Direct",
    "Identifiler Plus",
    "Investigator 24plex GO! Kit",
    "Investigator 24plex QS Kit",
    "MiniFiler",
    "Monoplex CSF1PO",
    "Monoplex D13S317",
    "Monoplex D16S539",
    "Monoplex D5S818",
    "Monoplex D7S820",
    "Monoplex TH01",
    "Monoplex TPOX",
    "Monoplex vWA",
    "PowerPlex 1.1",
    "PowerPlex 1.2",
    "PowerPlex 16",
    "PowerPlex 16 HS",
    "PowerPlex 2.1",
    "PowerPlex ESI 16",
    "PowerPlex ESI 17 Pro",
    "PowerPlex ESX 16",
    "PowerPlex ESX 17",
    "PowerPlex Fusion",
    "PowerPlex Fusion 6C",
    "Powerplex Y",
    "Powerplex Y23",
    "Profiler Plus",
    "SGM Plus",
    "Y-PLEX 5",
    "Y-PLEX 6",
    "Yfiler",
];
/// `cmf-3.2.xsd` also lists "Deduced Victim Known", which tandem-core has no category for.
const CATEGORIES_3_2: &[&str] = &[
    "Convicted Offender",
    "Forensic, Unknown",
    "Population",
    "Suspect, Known",
    "Unidentified Person",
    "Victim, Known",
    "Elimination, Known",
    "Biological Mother",
    "Biological Father",
    "Biological Sibling",
    "Alleged Mother",
    "Alleged Father",
    "Biological Child",
    "Proficiency",
    "Other",
    "Missing Person",
    "Forensic Mixture",
    "Maternal Relative",
    "Paternal Relative",
    "Arrestee",
    "Deceased",
    "Deduced Suspect",
    "Staff",
    "Juvenile",
    "CO Duplicate",
    "Volunteer",
    "Spouse",
    "Legal",
];

impl Release {
    /// The schema's name, for messages (`CMF 3.2`, `CMF (later releases)`).
    pub fn name(self) -> &'static str {
        match self {
            Release::V3_2 => "CMF 3.2",
            Release::Later => "CMF (later releases)",
        }
    }

    /// The most `LOCUS` elements a specimen may have.
    pub fn max_loci(self) -> usize {
        match self {
            Release::V3_2 => MAX_LOCI_3_2,
            Release::Later => MAX_LOCI_LATER,
        }
    }

    /// The longest `SPECIMENCATEGORY` (21 characters in 3.2, 32 later).
    pub fn max_category(self) -> usize {
        match self {
            Release::V3_2 => 21,
            Release::Later => 32,
        }
    }

    /// The `LOCUSNAME` values of the release's schema.
    pub fn locus_names(self) -> &'static [&'static str] {
        match self {
            Release::V3_2 => LOCI_3_2,
            Release::Later => LOCI_LATER,
        }
    }

    /// The `KIT` values of the release's schema.
    pub fn kits(self) -> &'static [&'static str] {
        match self {
            Release::V3_2 => KITS_3_2,
            Release::Later => KITS_LATER,
        }
    }

    /// True when the release's schema lists the category.
    pub fn allows_category(self, c: SpecimenCategory) -> bool {
        match self {
            Release::V3_2 => CATEGORIES_3_2.contains(&c.as_str()),
            Release::Later => c.as_str().chars().count() <= self.max_category(),
        }
    }

    /// True when the release's schema lists the kit name (exact spelling).
    pub fn allows_kit(self, kit: &str) -> bool {
        self.kits().contains(&kit)
    }

    /// The spelling to write `locus` with: `preferred` when the release lists it and it names the
    /// locus, else the first listed spelling of the locus; `None` when the release has no name
    /// for the locus.
    pub fn locus_spelling(self, locus: Locus, preferred: &str) -> Option<&'static str> {
        let names = self.locus_names();
        if let Some(&n) = names.iter().find(|&&n| n == preferred)
            && Locus::lookup(n) == Ok(locus)
        {
            return Some(n);
        }
        if let Some(&n) = names.iter().find(|&&n| n == locus.name()) {
            return Some(n);
        }
        names
            .iter()
            .copied()
            .find(|n| Locus::lookup(n) == Ok(locus))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Release::V3_2 => "3.2",
            Release::Later => "later",
        })
    }
}

/// The error of parsing a release name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CMF release '{0}' (expected 3.2 or later)")]
pub struct ReleaseError(pub String);

impl FromStr for Release {
    type Err = ReleaseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "3.2" | "32" | "v3.2" => Ok(Release::V3_2),
            "later" | "2017" | "latest" => Ok(Release::Later),
            _ => Err(ReleaseError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lists_name_known_loci() {
        for r in [Release::V3_2, Release::Later] {
            for n in r.locus_names() {
                assert!(Locus::lookup(n).is_ok(), "{n}");
                assert!(n.len() <= MAX_LOCUS_NAME, "{n}");
            }
            for k in r.kits() {
                assert!(k.len() <= MAX_KIT, "{k}");
            }
        }
        for c in CATEGORIES_3_2 {
            assert!(c.parse::<SpecimenCategory>().is_ok(), "{c}");
            assert!(c.len() <= 21, "{c}");
        }
    }

    #[test]
    fn test_locus_spelling_with_release() {
        let th01 = Locus::lookup("TH01").unwrap();
        assert_eq!(Release::V3_2.locus_spelling(th01, "THO1"), Some("THO1"));
        assert_eq!(Release::V3_2.locus_spelling(th01, "th01"), Some("TH01"));
        let d1 = Locus::lookup("D1S1656").unwrap();
        assert_eq!(Release::V3_2.locus_spelling(d1, "D1S1656"), None);
        assert_eq!(
            Release::Later.locus_spelling(d1, "D1S1656"),
            Some("D1S1656")
        );
        let y = Locus::lookup("DYS389I").unwrap();
        assert_eq!(
            Release::Later.locus_spelling(y, "DYS389I"),
            Some("DYS389 I")
        );
        let amel = Locus::lookup("AMEL").unwrap();
        assert_eq!(
            Release::V3_2.locus_spelling(amel, "Amelogenin"),
            Some("Amelogenin")
        );
        assert_eq!(Release::V3_2.locus_spelling(amel, "Am"), Some("AMEL"));
    }
}
