//! The genotype at one locus: 1 to 8 alleles in ladder order, with an optional required allele.

use std::fmt;

use crate::allele::{Allele, AlleleError};
use crate::locus::Locus;

/// CMF 3.2 section 3: at most 8 alleles per locus.
pub const MAX_ALLELES: usize = 8;

/// Filler for unused slots, so that derived equality and hashing see only the used alleles.
const FILLER: Allele = Allele::Repeat(0);

/// The alleles typed at one locus: 1 to [`MAX_ALLELES`] distinct designations in ladder order.
///
/// A homozygote is one allele (`13` means 13,13, as CODIS writes it). References carry 1-3 alleles
/// (tri-allelic patterns), mixtures more. At most one allele may be flagged *required*
/// (CMF `ALLELEREQUIRED`): a candidate must then carry it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Genotype {
    len: u8,
    required: u8, // index into alleles, or u8::MAX for none
    alleles: [Allele; MAX_ALLELES],
}

/// The error of building or parsing a genotype.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenotypeError {
    /// No allele at all.
    #[error("no allele given")]
    Empty,
    /// More alleles than CMF allows.
    #[error("{found} alleles given; at most {MAX_ALLELES} are allowed per locus")]
    TooMany {
        /// How many distinct alleles were given.
        found: usize,
    },
    /// The required allele is not one of the genotype's alleles.
    #[error("required allele {0} is not one of the alleles typed")]
    RequiredNotPresent(Allele),
    /// An allele did not parse.
    #[error(transparent)]
    Allele(#[from] AlleleError),
}

impl Genotype {
    /// Builds a genotype from alleles in any order; duplicates collapse (`13,13` is `13`).
    pub fn new(alleles: &[Allele]) -> Result<Genotype, GenotypeError> {
        if alleles.is_empty() {
            return Err(GenotypeError::Empty);
        }
        let mut arr = [FILLER; MAX_ALLELES];
        let mut len = 0usize;
        for &a in alleles {
            // insertion into the sorted prefix, skipping duplicates (no allocation)
            let pos = arr[..len].partition_point(|&x| x < a);
            if pos < len && arr[pos] == a {
                continue;
            }
            if len == MAX_ALLELES {
                let mut distinct: Vec<Allele> = alleles.to_vec();
                distinct.sort();
                distinct.dedup();
                return Err(GenotypeError::TooMany {
                    found: distinct.len(),
                });
            }
            arr.copy_within(pos..len, pos + 1);
            arr[pos] = a;
            len += 1;
        }
        Ok(Genotype {
            len: len as u8,
            required: u8::MAX,
            alleles: arr,
        })
    }

    /// A homozygote or single observed allele.
    pub fn single(a: Allele) -> Genotype {
        let mut arr = [FILLER; MAX_ALLELES];
        arr[0] = a;
        Genotype {
            len: 1,
            required: u8::MAX,
            alleles: arr,
        }
    }

    /// Flags `allele` as required (replacing any earlier flag): it must be one of the alleles.
    pub fn with_required(mut self, allele: Allele) -> Result<Genotype, GenotypeError> {
        match self.alleles().iter().position(|&a| a == allele) {
            Some(i) => {
                self.required = i as u8;
                Ok(self)
            }
            None => Err(GenotypeError::RequiredNotPresent(allele)),
        }
    }

    /// Removes the required flag.
    pub fn without_required(mut self) -> Genotype {
        self.required = u8::MAX;
        self
    }

    /// Parses a table cell: alleles separated by `,`, `/` or spaces (`13,14`, `9.3/10`, `X,Y`).
    /// At Amelogenin, `1` = X and `2` = Y.
    pub fn parse_at(locus: Locus, cell: &str) -> Result<Genotype, GenotypeError> {
        let mut alleles = Vec::new();
        for part in cell.split([',', '/', ' ', '\t']).filter(|p| !p.is_empty()) {
            let a = if locus.is_amelogenin() {
                Allele::parse_amelogenin(part)?
            } else {
                part.parse::<Allele>()?
            };
            alleles.push(a);
        }
        Genotype::new(&alleles)
    }

    /// The alleles in ladder order.
    pub fn alleles(&self) -> &[Allele] {
        &self.alleles[..self.len as usize]
    }

    /// The required allele, if one is flagged.
    pub fn required(&self) -> Option<Allele> {
        (self.required != u8::MAX).then(|| self.alleles[self.required as usize])
    }

    /// Number of distinct alleles.
    #[allow(clippy::len_without_is_empty)] // a genotype is never empty
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// One allele: a homozygote, or a heterozygote with a dropped-out allele in a partial profile.
    pub fn is_single(&self) -> bool {
        self.len == 1
    }

    /// True when every allele is an exact value (no wildcard, off-ladder or `8.x`).
    pub fn is_exact(&self) -> bool {
        self.alleles().iter().all(|a| a.is_exact())
    }

    /// True for at most two exact alleles and no required flag: the genotypes the packed index
    /// stores inline. Everything else lives in the index's side table.
    pub fn is_simple(&self) -> bool {
        self.len <= 2 && self.required == u8::MAX && self.is_exact()
    }
}

impl fmt::Display for Genotype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.alleles().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Genotype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Genotype({self}")?;
        if let Some(r) = self.required() {
            write!(f, "; required {r}")?;
        }
        f.write_str(")")
    }
}

impl serde::Serialize for Genotype {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Genotype", 2)?;
        st.serialize_field("alleles", self.alleles())?;
        st.serialize_field("required", &self.required())?;
        st.end()
    }
}

impl<'de> serde::Deserialize<'de> for Genotype {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            alleles: Vec<Allele>,
            required: Option<Allele>,
        }
        let raw = Raw::deserialize(d)?;
        let g = Genotype::new(&raw.alleles).map_err(serde::de::Error::custom)?;
        match raw.required {
            Some(r) => g.with_required(r).map_err(serde::de::Error::custom),
            None => Ok(g),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_at_with_cells() {
        let l = Locus::lookup("D8S1179").unwrap();
        let g = Genotype::parse_at(l, "14,13").unwrap();
        assert_eq!(g.to_string(), "13,14");
        assert_eq!(Genotype::parse_at(l, "13,13").unwrap().len(), 1);
        assert_eq!(
            Genotype::parse_at(l, "9.3/10").unwrap().to_string(),
            "9.3,10"
        );
        assert!(Genotype::parse_at(l, "").is_err());
        assert!(Genotype::parse_at(l, "1,2,3,4,5,6,7,8,9").is_err());
        let amel = Locus::lookup("AMEL").unwrap();
        assert_eq!(Genotype::parse_at(amel, "1,2").unwrap().to_string(), "X,Y");
    }

    #[test]
    fn test_required_flag() {
        let g = Genotype::new(&[Allele::Repeat(130), Allele::Repeat(140)]).unwrap();
        let r = g.with_required(Allele::Repeat(140)).unwrap();
        assert_eq!(r.required(), Some(Allele::Repeat(140)));
        assert!(!r.is_simple());
        assert!(g.with_required(Allele::Repeat(150)).is_err());
    }
}
