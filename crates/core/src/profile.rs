//! Specimen ids, CODIS specimen categories and the owned [`Profile`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::genotype::Genotype;
use crate::locus::Locus;

/// The longest specimen id accepted. CMF 3.2 allows 24 characters; lab tables and other systems
/// use longer ids, so the core model allows up to 128.
pub const MAX_ID_LEN: usize = 128;

/// A specimen id: non-empty, at most [`MAX_ID_LEN`] characters, no control characters, no leading
/// or trailing spaces.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ProfileId(Box<str>);

/// The error of building a specimen id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid specimen id '{id}': {reason}")]
pub struct ProfileIdError {
    /// The id as given.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ProfileId {
    /// Checks and wraps a specimen id.
    pub fn new(id: &str) -> Result<ProfileId, ProfileIdError> {
        let err = |reason| ProfileIdError {
            id: id.to_string(),
            reason,
        };
        if id.is_empty() {
            return Err(err("empty"));
        }
        if id.trim() != id {
            return Err(err("leading or trailing white space"));
        }
        if id.chars().count() > MAX_ID_LEN {
            return Err(err("longer than 128 characters"));
        }
        if id.chars().any(char::is_control) {
            return Err(err("control characters"));
        }
        Ok(ProfileId(id.into()))
    }

    /// Wraps an id read from a trusted source (an index file written by Tandem); a corrupt file
    /// may yield an odd id here, never a panic (`verify` checks every id).
    pub(crate) fn trusted(id: &str) -> ProfileId {
        ProfileId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl FromStr for ProfileId {
    type Err = ProfileIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProfileId::new(s)
    }
}

impl<'de> serde::Deserialize<'de> for ProfileId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProfileId::new(&s).map_err(serde::de::Error::custom)
    }
}

macro_rules! categories {
    ($($(#[$m:meta])* $v:ident => $s:literal,)*) => {
        /// A CODIS specimen category (`SpecimenCategoryType` of `cmf-lists.xml`, plus "Deduced
        /// Victim Known" of the CMF 3.2 schema), spelled and compared exactly as CODIS does
        /// (case-sensitive). New categories are only ever appended: index files store a
        /// category as its position in [`SpecimenCategory::ALL`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum SpecimenCategory {
            $($(#[$m])* #[doc = $s] $v,)*
        }

        impl SpecimenCategory {
            /// Every category, in the order of `cmf-lists.xml`.
            pub const ALL: &'static [SpecimenCategory] = &[$(SpecimenCategory::$v,)*];

            /// The CODIS spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(SpecimenCategory::$v => $s,)* }
            }
        }
    };
}

categories! {
    AllegedFather => "Alleged Father",
    AllegedMother => "Alleged Mother",
    Arrestee => "Arrestee",
    BiologicalChild => "Biological Child",
    BiologicalFather => "Biological Father",
    BiologicalMother => "Biological Mother",
    BiologicalSibling => "Biological Sibling",
    CoDuplicate => "CO Duplicate",
    ConvictedOffender => "Convicted Offender",
    Deceased => "Deceased",
    DeducedMissingPerson => "Deduced Missing Person",
    DeducedSuspect => "Deduced Suspect",
    Detainee => "Detainee",
    EliminationKnown => "Elimination, Known",
    ForensicMixture => "Forensic Mixture",
    ForensicPartial => "Forensic Partial",
    ForensicTargeted => "Forensic Targeted",
    ForensicUnknown => "Forensic, Unknown",
    Juvenile => "Juvenile",
    Legal => "Legal",
    MaternalRelative => "Maternal Relative",
    MissingPerson => "Missing Person",
    MultiAllelicOffender => "Multi-allelic Offender",
    Other => "Other",
    PaternalRelative => "Paternal Relative",
    Population => "Population",
    Proficiency => "Proficiency",
    Spouse => "Spouse",
    Staff => "Staff",
    SuspectKnown => "Suspect, Known",
    UnidentifiedPerson => "Unidentified Person",
    UnreviewedOffender => "Unreviewed Offender",
    VictimKnown => "Victim, Known",
    Volunteer => "Volunteer",
    // in the CMF 3.2 schema but not in cmf-lists.xml; appended so that index files, which store a
    // category as its position in this list, keep their meaning
    DeducedVictimKnown => "Deduced Victim Known",
}

/// The error of parsing a specimen category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown specimen category '{found}'{}", closest.map(|c| format!("; did you mean '{c}'?")).unwrap_or_default())]
pub struct CategoryError {
    /// The category as given.
    pub found: String,
    /// The closest CODIS category, if any is close.
    pub closest: Option<&'static str>,
}

impl SpecimenCategory {
    /// Parses a category, accepting a case-insensitive spelling (CODIS itself is case-sensitive:
    /// use [`FromStr`] for the strict form).
    pub fn parse_lenient(s: &str) -> Result<SpecimenCategory, CategoryError> {
        let t = s.trim();
        SpecimenCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| category_error(s))
    }

    /// Forensic (crime-scene) categories: searched against the database.
    pub fn is_forensic(self) -> bool {
        use SpecimenCategory::*;
        matches!(
            self,
            ForensicMixture | ForensicPartial | ForensicTargeted | ForensicUnknown
        )
    }

    /// Mixture categories.
    pub fn is_mixture(self) -> bool {
        matches!(self, SpecimenCategory::ForensicMixture)
    }

    /// Relatives of missing persons (reference samples for kinship searches).
    pub fn is_relative(self) -> bool {
        use SpecimenCategory::*;
        matches!(
            self,
            AllegedFather
                | AllegedMother
                | BiologicalChild
                | BiologicalFather
                | BiologicalMother
                | BiologicalSibling
                | MaternalRelative
                | PaternalRelative
                | Spouse
        )
    }
}

fn category_error(s: &str) -> CategoryError {
    let closest = SpecimenCategory::ALL
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&s.to_lowercase(), &c.as_str().to_lowercase()),
                c.as_str(),
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    CategoryError {
        found: s.to_string(),
        closest,
    }
}

impl FromStr for SpecimenCategory {
    type Err = CategoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpecimenCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| category_error(s))
    }
}

impl fmt::Display for SpecimenCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for SpecimenCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SpecimenCategory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An ISO 3166-1 alpha-2 country code (`GT`, `SV`, `HN`...), stored upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

/// The error of parsing a country code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid country code '{0}': expected an officially assigned ISO 3166-1 alpha-2 code (GT, SV, HN...)"
)]
pub struct CountryError(pub String);

/// The 249 officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency, as
/// distributed in Debian's iso-codes 4.15 `iso_3166-1.json`), sorted. User-assigned codes (`AA`,
/// `QM`-`QZ`, `XA`-`XZ`, `ZZ`) and reserved ones are not countries.
const ISO_3166_ALPHA2: [[u8; 2]; 249] = [
    *b"AD", *b"AE", *b"AF", *b"AG", *b"AI", *b"AL", *b"AM", *b"AO", *b"AQ", *b"AR", *b"AS", *b"AT",
    *b"AU", *b"AW", *b"AX", *b"AZ", *b"BA", *b"BB", *b"BD", *b"BE", *b"BF", *b"BG", *b"BH", *b"BI",
    *b"BJ", *b"BL", *b"BM", *b"BN", *b"BO", *b"BQ", *b"BR", *b"BS", *b"BT", *b"BV", *b"BW", *b"BY",
    *b"BZ", *b"CA", *b"CC", *b"CD", *b"CF", *b"CG", *b"CH", *b"CI", *b"CK", *b"CL", *b"CM", *b"CN",
    *b"CO", *b"CR", *b"CU", *b"CV", *b"CW", *b"CX", *b"CY", *b"CZ", *b"DE", *b"DJ", *b"DK", *b"DM",
    *b"DO", *b"DZ", *b"EC", *b"EE", *b"EG", *b"EH", *b"ER", *b"ES", *b"ET", *b"FI", *b"FJ", *b"FK",
    *b"FM", *b"FO", *b"FR", *b"GA", *b"GB", *b"GD", *b"GE", *b"GF", *b"GG", *b"GH", *b"GI", *b"GL",
    *b"GM", *b"GN", *b"GP", *b"GQ", *b"GR", *b"GS", *b"GT", *b"GU", *b"GW", *b"GY", *b"HK", *b"HM",
    *b"HN", *b"HR", *b"HT", *b"HU", *b"ID", *b"IE", *b"IL", *b"IM", *b"IN", *b"IO", *b"IQ", *b"IR",
    *b"IS", *b"IT", *b"JE", *b"JM", *b"JO", *b"JP", *b"KE", *b"KG", *b"KH", *b"KI", *b"KM", *b"KN",
    *b"KP", *b"KR", *b"KW", *b"KY", *b"KZ", *b"LA", *b"LB", *b"LC", *b"LI", *b"LK", *b"LR", *b"LS",
    *b"LT", *b"LU", *b"LV", *b"LY", *b"MA", *b"MC", *b"MD", *b"ME", *b"MF", *b"MG", *b"MH", *b"MK",
    *b"ML", *b"MM", *b"MN", *b"MO", *b"MP", *b"MQ", *b"MR", *b"MS", *b"MT", *b"MU", *b"MV", *b"MW",
    *b"MX", *b"MY", *b"MZ", *b"NA", *b"NC", *b"NE", *b"NF", *b"NG", *b"NI", *b"NL", *b"NO", *b"NP",
    *b"NR", *b"NU", *b"NZ", *b"OM", *b"PA", *b"PE", *b"PF", *b"PG", *b"PH", *b"PK", *b"PL", *b"PM",
    *b"PN", *b"PR", *b"PS", *b"PT", *b"PW", *b"PY", *b"QA", *b"RE", *b"RO", *b"RS", *b"RU", *b"RW",
    *b"SA", *b"SB", *b"SC", *b"SD", *b"SE", *b"SG", *b"SH", *b"SI", *b"SJ", *b"SK", *b"SL", *b"SM",
    *b"SN", *b"SO", *b"SR", *b"SS", *b"ST", *b"SV", *b"SX", *b"SY", *b"SZ", *b"TC", *b"TD", *b"TF",
    *b"TG", *b"TH", *b"TJ", *b"TK", *b"TL", *b"TM", *b"TN", *b"TO", *b"TR", *b"TT", *b"TV", *b"TW",
    *b"TZ", *b"UA", *b"UG", *b"UM", *b"US", *b"UY", *b"UZ", *b"VA", *b"VC", *b"VE", *b"VG", *b"VI",
    *b"VN", *b"VU", *b"WF", *b"WS", *b"YE", *b"YT", *b"ZA", *b"ZM", *b"ZW",
];

impl Country {
    /// `ZZ`, the user-assigned code conventionally used for "unknown or unspecified": a
    /// placeholder in reports, never parsed from input.
    pub const UNKNOWN: Country = Country(*b"ZZ");

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // two ASCII letters by construction
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Country {
    type Err = CountryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.trim().as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(CountryError(s.to_string()));
        }
        let code = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
        if ISO_3166_ALPHA2.binary_search(&code).is_err() {
            return Err(CountryError(s.to_string()));
        }
        Ok(Country(code))
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

impl serde::Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A calendar date (typing or submission date), without time of day.
pub type Date = time::Date;

/// Parses an ISO 8601 date (`2026-11-28`).
pub fn parse_date(s: &str) -> Result<Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt)
        .map_err(|e| format!("invalid date '{s}' (expected YYYY-MM-DD): {e}"))
}

/// Formats a date as ISO 8601 (`2026-11-28`).
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

mod date_serde {
    use super::{Date, format_date, parse_date};
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse_date(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// An owned STR profile: a specimen id, its metadata and a genotype per typed locus.
///
/// Loci are kept in canonical order. The original spelling of a locus name (e.g. `THO1`,
/// `FESFPS`) can be kept for export with [`Profile::set_spelling`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawProfile")]
pub struct Profile {
    id: ProfileId,
    category: Option<SpecimenCategory>,
    lab: Option<String>,
    partial: bool,
    country: Option<Country>,
    kit: Option<String>,
    #[serde(with = "date_serde")]
    date: Option<Date>,
    /// Sorted by locus, one entry per locus (a sorted vector: a profile has a few dozen loci).
    genotypes: Vec<(Locus, Genotype)>,
    spellings: BTreeMap<Locus, String>,
}

/// The serialised form, checked on the way in (sorted, one genotype per locus).
#[derive(serde::Deserialize)]
struct RawProfile {
    id: ProfileId,
    category: Option<SpecimenCategory>,
    lab: Option<String>,
    partial: bool,
    #[serde(default)]
    country: Option<Country>,
    #[serde(default)]
    kit: Option<String>,
    #[serde(default, with = "date_serde")]
    date: Option<Date>,
    genotypes: Vec<(Locus, Genotype)>,
    spellings: BTreeMap<Locus, String>,
}

impl TryFrom<RawProfile> for Profile {
    type Error = String;
    fn try_from(raw: RawProfile) -> Result<Profile, String> {
        let mut p = Profile::new(raw.id);
        p.category = raw.category;
        p.lab = raw.lab;
        p.partial = raw.partial;
        p.country = raw.country;
        p.kit = raw.kit;
        p.date = raw.date;
        for (l, g) in raw.genotypes {
            if p.set_genotype(l, g).is_some() {
                return Err(format!("specimen {}: locus {l} given twice", p.id));
            }
        }
        p.spellings = raw.spellings;
        Ok(p)
    }
}

impl Profile {
    /// A profile with no loci typed yet.
    pub fn new(id: ProfileId) -> Profile {
        Profile {
            id,
            category: None,
            lab: None,
            partial: false,
            country: None,
            kit: None,
            date: None,
            genotypes: Vec::new(),
            spellings: BTreeMap::new(),
        }
    }

    /// Builder: sets the specimen category.
    pub fn with_category(mut self, c: SpecimenCategory) -> Profile {
        self.category = Some(c);
        self
    }

    /// Builder: marks the profile partial (possible allele dropout).
    pub fn with_partial(mut self, partial: bool) -> Profile {
        self.partial = partial;
        self
    }

    /// Builder: sets the genotype at a locus.
    pub fn with(mut self, locus: Locus, g: Genotype) -> Profile {
        self.set_genotype(locus, g);
        self
    }

    /// The specimen id.
    pub fn id(&self) -> &ProfileId {
        &self.id
    }

    /// The specimen category, if known.
    pub fn category(&self) -> Option<SpecimenCategory> {
        self.category
    }

    /// Sets the specimen category.
    pub fn set_category(&mut self, c: Option<SpecimenCategory>) {
        self.category = c;
    }

    /// The submitting lab, if known.
    pub fn lab(&self) -> Option<&str> {
        self.lab.as_deref()
    }

    /// Sets the submitting lab.
    pub fn set_lab(&mut self, lab: Option<String>) {
        self.lab = lab;
    }

    /// The country whose national index holds the profile (provenance).
    pub fn country(&self) -> Option<Country> {
        self.country
    }

    /// Sets the country.
    pub fn set_country(&mut self, c: Option<Country>) {
        self.country = c;
    }

    /// The kit (locus panel) the profile was typed with, as the lab names it (provenance).
    pub fn kit(&self) -> Option<&str> {
        self.kit.as_deref()
    }

    /// Sets the kit.
    pub fn set_kit(&mut self, kit: Option<String>) {
        self.kit = kit;
    }

    /// The typing or submission date (provenance).
    pub fn date(&self) -> Option<Date> {
        self.date
    }

    /// Sets the date.
    pub fn set_date(&mut self, d: Option<Date>) {
        self.date = d;
    }

    /// True when the profile is flagged partial: a single allele may be a homozygote or a
    /// heterozygote whose second allele dropped out.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Sets the partial flag.
    pub fn set_partial(&mut self, partial: bool) {
        self.partial = partial;
    }

    /// Sets (or replaces) the genotype at a locus; returns the old one.
    pub fn set_genotype(&mut self, locus: Locus, g: Genotype) -> Option<Genotype> {
        // files list loci in a fixed order, so appending is the common case
        if self.genotypes.last().is_none_or(|(l, _)| *l < locus) {
            self.genotypes.push((locus, g));
            return None;
        }
        match self.genotypes.binary_search_by_key(&locus, |e| e.0) {
            Ok(i) => Some(std::mem::replace(&mut self.genotypes[i].1, g)),
            Err(i) => {
                self.genotypes.insert(i, (locus, g));
                None
            }
        }
    }

    /// Removes a locus; returns its genotype.
    pub fn remove_locus(&mut self, locus: Locus) -> Option<Genotype> {
        self.spellings.remove(&locus);
        let i = self.genotypes.binary_search_by_key(&locus, |e| e.0).ok()?;
        Some(self.genotypes.remove(i).1)
    }

    /// The genotype at a locus, if typed.
    pub fn genotype(&self, locus: Locus) -> Option<&Genotype> {
        let i = self.genotypes.binary_search_by_key(&locus, |e| e.0).ok()?;
        Some(&self.genotypes[i].1)
    }

    /// Every typed locus with its genotype, in canonical locus order.
    pub fn genotypes(&self) -> impl ExactSizeIterator<Item = (Locus, &Genotype)> + '_ {
        self.genotypes.iter().map(|(l, g)| (*l, g))
    }

    /// Number of typed loci (all kinds).
    pub fn locus_count(&self) -> usize {
        self.genotypes.len()
    }

    /// Number of typed autosomal loci: the loci that count in matching.
    pub fn counted_locus_count(&self) -> usize {
        self.genotypes
            .iter()
            .filter(|(l, _)| l.is_counted())
            .count()
    }

    /// The most alleles at any autosomal locus (more than 2 suggests a mixture, 3 may be a
    /// tri-allelic reference).
    pub fn max_alleles(&self) -> usize {
        self.genotypes
            .iter()
            .filter(|(l, _)| l.is_counted())
            .map(|(_, g)| g.len())
            .max()
            .unwrap_or(0)
    }

    /// Keeps the spelling a file used for a locus, for export.
    pub fn set_spelling(&mut self, locus: Locus, spelling: &str) {
        if spelling != locus.name() {
            self.spellings.insert(locus, spelling.to_string());
        }
    }

    /// Forgets every kept spelling (the index stores canonical names only).
    pub fn clear_spellings(&mut self) {
        self.spellings.clear();
    }

    /// The spelling to export a locus name with: the original one if kept, else the canonical.
    pub fn spelling(&self, locus: Locus) -> &str {
        self.spellings
            .get(&locus)
            .map_or(locus.name(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_country_parse_with_iso_codes_only() {
        assert!(
            ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]),
            "sorted, distinct"
        );
        for ok in ["GT", "sv", " HN "] {
            assert!(ok.parse::<Country>().is_ok(), "{ok}");
        }
        for bad in ["XX", "ZZ", "AA", "QZ", "G", "GTM", "G1"] {
            assert!(bad.parse::<Country>().is_err(), "{bad}");
        }
        assert_eq!(Country::UNKNOWN.as_str(), "ZZ");
    }

    #[test]
    fn test_profile_id_rules() {
        assert!(ProfileId::new("GT37019").is_ok());
        assert!(ProfileId::new("").is_err());
        assert!(ProfileId::new(" x").is_err());
        assert!(ProfileId::new("a\nb").is_err());
        assert!(ProfileId::new(&"x".repeat(129)).is_err());
    }

    #[test]
    fn test_category_parse() {
        assert_eq!(
            "Forensic, Unknown".parse(),
            Ok(SpecimenCategory::ForensicUnknown)
        );
        assert!("forensic, unknown".parse::<SpecimenCategory>().is_err());
        assert_eq!(
            SpecimenCategory::parse_lenient("forensic, unknown"),
            Ok(SpecimenCategory::ForensicUnknown)
        );
        let e = "Convicted Ofender".parse::<SpecimenCategory>().unwrap_err();
        assert_eq!(e.closest, Some("Convicted Offender"));
        assert_eq!(SpecimenCategory::ALL.len(), 35);
        for c in SpecimenCategory::ALL {
            assert!(c.as_str().len() <= 32);
        }
    }
}
